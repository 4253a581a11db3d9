/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, used
 * for the server cookies of RFC 9018. Pure function, no state. */
#ifndef ZL_DNS_SIPHASH_H
#define ZL_DNS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The SipHash-2-4 of in[0..len) under the 16-octet key (both borrowed).
 * The 64-bit result is returned as a number; the reference
 * implementation writes it little-endian. */
uint64_t dns_siphash24(const uint8_t key[16], const uint8_t *in, size_t len);

#endif
