#include "dns/serial.h"

#define SERIAL_HALF 0x80000000u

int dns_serial_cmp(uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    uint32_t d = b - a;  /* modulo 2^32, as RFC 1982 §3.2 defines it */
    if (d == SERIAL_HALF)
        return 2;
    return d < SERIAL_HALF ? -1 : 1;
}

uint32_t dns_serial_add(uint32_t a, uint32_t n)
{
    if (n > SERIAL_HALF - 1)
        n = SERIAL_HALF - 1;
    return a + n;
}
