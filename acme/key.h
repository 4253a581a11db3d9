/* Randomness and ECDSA P-256 keys for the ACME client (account keys,
 * certificate keys), on mbedTLS.
 *
 * One generator per thread of use: an acme_rng_t is not shared. Private
 * key material is only ever written out by acme_key_write_pem, into a
 * buffer the caller owns; nothing here logs.
 */
#ifndef ZL_ACME_KEY_H
#define ZL_ACME_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "acme/buf.h"
#include "dns/err.h"

typedef struct acme_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} acme_rng_t;

/* Seeds a CTR-DRBG from the platform's entropy. Errors: ZL_ECRYPTO.
 * acme_rng_free must be called in every case. */
int acme_rng_init(acme_rng_t *r);

/* Frees the generator's state. */
void acme_rng_free(acme_rng_t *r);

/* mbedTLS's f_rng shape: rng is an acme_rng_t. 0 or an mbedTLS error. */
int acme_rng_fill(void *rng, unsigned char *out, size_t n);

/* An ECDSA key on P-256 (secp256r1), with or without its private half. */
typedef struct acme_key {
    mbedtls_pk_context pk;
    bool priv; /* the private scalar is present */
} acme_key_t;

/* An empty key (acme_key_free is then always safe). */
void acme_key_init(acme_key_t *k);

/* Makes a new private key into k (initialised, empty). Errors:
 * ZL_ECRYPTO. */
int acme_key_generate(acme_key_t *k, acme_rng_t *rng);

/* Reads a private key from PEM (SEC1 "EC PRIVATE KEY" or PKCS#8 "PRIVATE
 * KEY", unencrypted) or DER in pem[0..len) (borrowed; need not be
 * NUL-terminated) into k (initialised, empty). The key must be ECDSA on
 * P-256. Errors: ZL_ESYNTAX (not a key), ZL_ETYPE (another algorithm or
 * curve), ZL_ENOMEM. */
int acme_key_parse(acme_key_t *k, const char *pem, size_t len);

/* A public key from its affine coordinates (32 octets each, big-endian),
 * checked to be on the curve. Errors: ZL_EINVAL (not a point of P-256),
 * ZL_ECRYPTO. */
int acme_key_from_xy(acme_key_t *k, const uint8_t x[32], const uint8_t y[32]);

/* The public coordinates of k (32 octets each, big-endian). */
int acme_key_xy(const acme_key_t *k, uint8_t x[32], uint8_t y[32]);

/* Appends k's private key as SEC1 PEM ("-----BEGIN EC PRIVATE KEY-----")
 * to out. Errors: ZL_EINVAL (no private half), ZL_ECRYPTO, or out's error. */
int acme_key_write_pem(const acme_key_t *k, acme_buf_t *out);

/* True when a and b hold the same public key. */
bool acme_key_equal(const acme_key_t *a, const acme_key_t *b);

/* Frees k; k is empty afterwards (and may be used again). */
void acme_key_free(acme_key_t *k);

#endif
