/* JSON Web Signatures for ACME (RFC 8555 §6.2): ES256 only (RFC 7518
 * §3.4: ECDSA P-256 with SHA-256, signature r||s), flattened JSON
 * serialization (RFC 7515 §7.2.2), JWKs (RFC 7517) and their thumbprints
 * (RFC 7638), base64url without padding (RFC 7515 §2), and the DNS-01
 * TXT value (RFC 8555 §8.4).
 */
#ifndef ZL_ACME_JWS_H
#define ZL_ACME_JWS_H

#include <stddef.h>
#include <stdint.h>

#include "acme/buf.h"
#include "acme/json.h"
#include "acme/key.h"
#include "dns/err.h"

#define ACME_B64_SHA256_LEN 43 /* base64url of a SHA-256 digest */

/* Appends data[0..len) (borrowed) to out as base64url without padding. */
void acme_b64u_put(acme_buf_t *out, const void *data, size_t len);

/* Appends the octets that base64url text s[0..len) (borrowed) stands for
 * to out. Strict: only the 64 URL-safe characters, no padding, no
 * whitespace, no length of the form 4k+1, and the unused low bits of the
 * last character zero (so each octet string has exactly one text).
 * Errors: ZL_ESYNTAX, or out's error. */
int acme_b64u_decode(const char *s, size_t len, acme_buf_t *out);

/* Appends k's public key as a JWK (RFC 7518 §6.2) to out, in the form
 * RFC 7638 §3 hashes: {"crv":"P-256","kty":"EC","x":"...","y":"..."}.
 * Errors: ZL_EINVAL (k holds no key), ZL_ECRYPTO, or out's error. */
int acme_jwk_write(acme_buf_t *out, const acme_key_t *k);

/* Reads a public P-256 key from a JWK object (kty "EC", crv "P-256", x
 * and y of 32 octets each, a point on the curve) into k (initialised,
 * empty). Other members are ignored. Errors: ZL_ESYNTAX (not such a
 * JWK), ZL_ETYPE (another kty or curve), ZL_EINVAL (not on the curve). */
int acme_jwk_parse(acme_key_t *k, const acme_json_t *jwk);

/* The RFC 7638 thumbprint (base64url of SHA-256 over the required
 * members in lexicographic order, no whitespace) of a JWK object of kty
 * "EC" (crv, kty, x, y), "RSA" (e, kty, n) or "oct" (k, kty), into out
 * (ACME_B64_SHA256_LEN characters and a NUL). Errors: ZL_ESYNTAX (a
 * required member missing or not a string), ZL_ETYPE (another kty). */
int acme_jwk_thumbprint(const acme_json_t *jwk, char out[ACME_B64_SHA256_LEN + 1]);

/* The thumbprint of k's public key. Errors as acme_jwk_write. */
int acme_key_thumbprint(const acme_key_t *k, char out[ACME_B64_SHA256_LEN + 1]);

/* Appends a flattened JWS to out: {"protected":...,"payload":...,
 * "signature":...}. The protected header is {"alg":"ES256", then "jwk"
 * (k's public key) when kid is NULL or "kid":kid, then "nonce" when nonce
 * is not NULL, then "url"}. payload[0..len) is signed as it is (len 0:
 * the empty payload of POST-as-GET). Signatures are deterministic (RFC
 * 6979); rng only blinds the computation. Every argument is borrowed.
 * Errors: ZL_EINVAL (k without a private half, url NULL), ZL_ECRYPTO, or
 * out's error. */
int acme_jws_sign(acme_buf_t *out, const acme_key_t *k, acme_rng_t *rng, const char *url,
                  const char *nonce, const char *kid, const void *payload, size_t len);

/* Checks a flattened JWS in jws[0..len) (borrowed) against the public key
 * pub: the protected header must be a JSON object with "alg":"ES256" and
 * no "crit"; the signature must verify. On success the decoded protected
 * header (JSON text) is appended to hdr and the payload to payload (either
 * may be NULL). Errors: ZL_ESYNTAX (not a flattened JWS), ZL_ETYPE
 * (another algorithm, or "crit"), ZL_EBADSIG (the signature does not
 * verify), ZL_ECRYPTO, ZL_ENOMEM. */
int acme_jws_verify(const char *jws, size_t len, const acme_key_t *pub, acme_buf_t *hdr,
                    acme_buf_t *payload);

/* The DNS-01 TXT value for a challenge (RFC 8555 §8.4):
 * base64url(SHA-256(token "." thumbprint)) into out. token must be
 * base64url characters only (§8.1), at most 256 of them. Errors:
 * ZL_EINVAL (a bad token), ZL_ECRYPTO. */
int acme_dns01_txt(const char *token, const char *thumbprint, char out[ACME_B64_SHA256_LEN + 1]);

#endif
