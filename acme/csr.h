/* Certificate keys, signing requests and certificate chains: what
 * `zonelet certify` makes and writes, and what the server reads.
 *
 *  - A CSR (RFC 2986) for ECDSA P-256 keys, signed with SHA-256: subject
 *    CN = the first name, every name in a subjectAltName extension
 *    (RFC 5280 §4.2.1.6) as dNSName.
 *  - The names a DER CSR asks for, after checking its self-signature.
 *  - PEM (RFC 7468) writers for certificates and chains, and the reader
 *    for the chain an ACME server returns (application/pem-certificate-
 *    chain, RFC 8555 §9.1).
 */
#ifndef ZL_ACME_CSR_H
#define ZL_ACME_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/buf.h"
#include "acme/key.h"
#include "dns/err.h"

#define ACME_MAX_NAMES 100 /* names in one CSR or order (Let's Encrypt's limit) */
#define ACME_CHAIN_MAX 8   /* certificates in one chain */

/* True when name is a host name a certificate can carry: LDH labels of
 * 1..63 characters not starting or ending with '-', at most 253
 * characters, no trailing dot, optionally one leading "*." label. */
bool acme_name_ok(const char *name);

/* Makes a DER CSR for names[0..n) (borrowed; each acme_name_ok, 1 <= n
 * <= ACME_MAX_NAMES) signed by k (a private key) and appends it to der.
 * Errors: ZL_EINVAL (no names, too many, a bad name, k not private),
 * ZL_ECRYPTO, or der's error. */
int acme_csr_make(acme_buf_t *der, const acme_key_t *k, acme_rng_t *rng, const char *const *names,
                  size_t n);

/* The DNS names the DER CSR der[0..len) (borrowed) asks for: the subject
 * CN (when there is one) first, then each subjectAltName dNSName not
 * already listed (compared case-insensitively). The CSR's signature must
 * verify with its own key. *names is one heap block holding the pointer
 * array and the strings: the caller frees it with free(*names); *n gets
 * the count (at least 1). Errors: ZL_ESYNTAX (not a CSR, or a name that
 * is not acme_name_ok), ZL_EBADSIG (the signature does not verify),
 * ZL_ETYPE (a subjectAltName other than dNSName), ZL_ENOTFOUND (no
 * name), ZL_ERANGE (more than ACME_MAX_NAMES), ZL_ENOMEM. */
int acme_csr_names(const uint8_t *der, size_t len, char ***names, size_t *n);

/* One DER object, owned by whatever holds it. */
typedef struct acme_der {
    uint8_t *p;
    size_t len;
} acme_der_t;

/* A certificate chain: the end-entity certificate first, then the CA
 * certificates in the order the server gave them. Owns each DER. */
typedef struct acme_chain {
    size_t n;
    acme_der_t cert[ACME_CHAIN_MAX];
} acme_chain_t;

/* Reads every "CERTIFICATE" block of pem[0..len) (borrowed) into c
 * (caller's storage, uninitialised); each must be an X.509 certificate
 * mbedTLS parses. Only whitespace may stand outside the blocks (RFC 7468
 * §3 strict form, as RFC 8555 §9.1 asks). Errors: ZL_ESYNTAX,
 * ZL_ENOTFOUND (no certificate), ZL_ESPACE (more than ACME_CHAIN_MAX),
 * ZL_ENOMEM. acme_chain_free must be called in every case. */
int acme_chain_parse_pem(acme_chain_t *c, const char *pem, size_t len);

/* Frees every certificate of c; c is empty afterwards. */
void acme_chain_free(acme_chain_t *c);

/* Appends der[0..len) (borrowed) as a PEM block "-----BEGIN <label>-----"
 * with 64-character lines. Errors: out's error. */
int acme_pem_write(acme_buf_t *out, const char *label, const uint8_t *der, size_t len);

/* Appends the certificates c->cert[from..n) as PEM: from 0 is the full
 * chain, from 1 the CA certificates only. Errors: out's error. */
int acme_chain_write_pem(acme_buf_t *out, const acme_chain_t *c, size_t from);

/* The validity of the DER certificate der[0..len) as seconds since the
 * Epoch (UTC). Errors: ZL_ESYNTAX (not a certificate). */
int acme_cert_validity(const uint8_t *der, size_t len, int64_t *not_before, int64_t *not_after);

/* True when the DER certificate cert[0..clen) answers the DER request
 * csr[0..len) (both borrowed): the same public key, and its
 * subjectAltName dNSNames are exactly the names acme_csr_names reads
 * from the request (as sets, case-insensitively). False when either
 * does not parse or the request's signature does not verify. */
bool acme_cert_matches_csr(const uint8_t *cert, size_t clen, const uint8_t *csr, size_t len);

/* True when the DER requests a[0..alen) and b[0..blen) ask for the same
 * thing: both verify, the same public key, the same set of names
 * (case-insensitively). Two requests made one after the other with one
 * key and one list of names differ in octets (ECDSA signatures are
 * randomised) but are the same. */
bool acme_csr_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* True when the DER certificate child names the DER certificate parent
 * as its issuer (issuer and subject names equal as DER; the signature is
 * not checked: this orders a chain, openssl verify judges it). */
bool acme_cert_issued_by(const uint8_t *child, size_t clen, const uint8_t *parent, size_t plen);

#endif
