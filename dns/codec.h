/* Binary-to-text codecs used by presentation formats: hex (RFC 4648 §8),
 * base64 (RFC 4648 §4, with padding) and base32hex (RFC 4648 §7, without
 * padding, as NSEC3 uses it, RFC 5155 §3.3). Buffers are borrowed.
 *
 * Decoders append to out[0..cap) and return the number of octets written,
 * ZL_ESYNTAX on a bad digit or bad length, ZL_ESPACE when out is too small.
 * Encoders write text without a NUL and return its length or ZL_ESPACE.
 */
#ifndef ZL_DNS_CODEC_H
#define ZL_DNS_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Hex digits, either case; an odd number of digits is an error. */
int dns_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap);
/* Upper-case hex, two digits per octet. */
int dns_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Base64 with '=' padding; the length must be a multiple of 4. */
int dns_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap);
int dns_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Base32hex without padding, either case on input, lower case on output. */
int dns_b32hex_decode(const char *s, size_t len, uint8_t *out, size_t cap);
int dns_b32hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif
