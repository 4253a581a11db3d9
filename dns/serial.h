/* SOA serial number arithmetic (RFC 1982, SERIAL_BITS = 32). */
#ifndef ZL_DNS_SERIAL_H
#define ZL_DNS_SERIAL_H

#include <stdint.h>

/* Compares serials: -1 if a < b, 0 if equal, 1 if a > b, and 2 where
 * RFC 1982 §3.2 leaves the comparison undefined (distance exactly 2^31). */
int dns_serial_cmp(uint32_t a, uint32_t b);

/* a + n where n <= 2^31 - 1 (RFC 1982 §3.1); larger n is clamped to it. */
uint32_t dns_serial_add(uint32_t a, uint32_t n);

#endif
