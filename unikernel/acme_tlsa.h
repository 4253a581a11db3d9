/* ACME in the zone, primary-git's convention (DESIGN.md "Storage in
 * git"): what the TLSA records at `_letsencrypt._tcp.<name>` mean, and
 * the diffs the ACME agent hands to the change path.
 *
 *   usage 3, selector 255, matching 0: a DER CSR (RFC 2986) asking for a
 *       certificate for the names it carries;
 *   usage 3, selector 0, matching 0: the end-entity certificate (DER);
 *   usage 2, selector 0, matching 0: each CA certificate of its chain.
 *
 * Pure functions over zone versions and byte strings: no clock, no
 * logging, no I/O (the agent, `zonelet certify` and the unit tests call
 * them). Every diff raises the SOA serial by one (RFC 1982).
 */
#ifndef ZL_UNIKERNEL_ACME_TLSA_H
#define ZL_UNIKERNEL_ACME_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/csr.h"
#include "zone/diff.h"
#include "zone/zone.h"

/* The first two labels of an owner that asks for a certificate. */
#define SRV_ACME_PREFIX "\014_letsencrypt\004_tcp"
#define SRV_ACME_PREFIX_LEN 18
/* The TTL of the challenge TXT records when their name has none yet. */
#define SRV_ACME_TXT_TTL 60

enum {
    SRV_TLSA_CSR,     /* 3 255 0 */
    SRV_TLSA_CERT,    /* 3 0 0 */
    SRV_TLSA_CA,      /* 2 0 0 */
    SRV_TLSA_OTHER
};

/* The kind of one TLSA RDATA (rd[0..len), borrowed): SRV_TLSA_*; a
 * record shorter than 4 octets is SRV_TLSA_OTHER. */
int srv_tlsa_kind(const uint8_t *rd, size_t len);

/* The TLSA records of one owner as ACME reads them. Pointers are
 * borrowed from where the records live (a zone version, a message). */
typedef struct srv_tlsa_set {
    const uint8_t *csr;              /* the first CSR's DER, or NULL */
    size_t csr_len;
    unsigned ncsr;                   /* CSR records seen */
    const uint8_t *cert;             /* the first end-entity certificate, or NULL */
    size_t cert_len;
    unsigned ncert;
    const uint8_t *ca[ACME_CHAIN_MAX];   /* CA certificates (RRset order) */
    size_t ca_len[ACME_CHAIN_MAX];
    unsigned nca;                    /* kept: at most ACME_CHAIN_MAX */
} srv_tlsa_set_t;

/* Empties s. */
void srv_tlsa_init(srv_tlsa_set_t *s);

/* Adds one TLSA RDATA (rd[0..len), borrowed for s's life) to s. */
void srv_tlsa_add(srv_tlsa_set_t *s, const uint8_t *rd, size_t len);

/* s gets the TLSA records of node (NULL: none), borrowed from its zone. */
void srv_tlsa_read(srv_tlsa_set_t *s, const zone_node_t *node);

/* Writes the TLSA RDATA usage/selector/matching + data[0..len) into
 * out[0..cap). Returns its length, or 0 when it does not fit (or is
 * longer than an RDATA may be). */
size_t srv_tlsa_rdata(uint8_t usage, uint8_t selector, uint8_t matching, const uint8_t *data,
                      size_t len, uint8_t *out, size_t cap);

/* True when owner (wire form) is `_letsencrypt._tcp.<name>` with a
 * non-empty name; *name then points at that name inside owner. */
bool srv_acme_owner(const uint8_t *owner, const uint8_t **name);

/* The diff that stores chain c (end-entity first) at owner in z, the
 * latest version of the owner's zone: every 3 0 0 and 2 0 0 record that
 * is not c's is removed, each of c's that is missing added (with the
 * RRset's TTL), the other TLSA records left alone. The request must
 * still be there: the
 * CSR csr[0..csr_len) among the owner's records, else ZL_ENOTFOUND (it
 * changed while the order ran: the chain is not stored). *out gets a
 * sealed diff (one reference), or NULL when the zone holds exactly that
 * chain already. ZL_OK, ZL_ENOTFOUND, ZL_ESPACE (a certificate too long
 * for an RDATA), ZL_ENOMEM. */
int srv_acme_chain_diff(const zone_t *z, const uint8_t *owner, const uint8_t *csr, size_t csr_len,
                        const acme_chain_t *c, zone_diff_t **out);

/* The diff that adds (add) or removes the TXT record holding value (one
 * character-string) at name in z, the latest version of name's zone;
 * the other TXT records at name stay (two authorizations may share one
 * name). A new record takes the TTL of the TXT RRset there, else
 * SRV_ACME_TXT_TTL. *out gets a sealed diff, or NULL when there is
 * nothing to do (already there, already gone). ZL_OK, ZL_EINVAL (name
 * not in z, value longer than 255), ZL_ENOMEM. */
int srv_acme_txt_diff(const zone_t *z, const uint8_t *name, const char *value, bool add,
                      zone_diff_t **out);

#endif
