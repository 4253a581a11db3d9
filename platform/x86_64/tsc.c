/* The TSC clock (tsc.h). */
#include "platform/x86_64/tsc.h"

uint64_t x86_tsc_mult(uint64_t tsc_hz)
{
    return (1000000000ull << 32) / tsc_hz;
}

void x86_tsc_clock_init(struct x86_tsc_clock *c, uint64_t tsc_boot, uint64_t tsc_hz)
{
    c->tsc_boot = tsc_boot;
    c->mult = x86_tsc_mult(tsc_hz);
    c->last_ns = 0;
}

uint64_t x86_tsc_clock_ns(struct x86_tsc_clock *c)
{
    uint64_t tsc = x86_rdtsc();
    uint64_t ns = x86_tsc_to_ns(tsc > c->tsc_boot ? tsc - c->tsc_boot : 0, c->mult);
    if (ns < c->last_ns) /* never go back, whatever the TSC does */
        ns = c->last_ns;
    c->last_ns = ns;
    return ns;
}
