/* tsc.h: the x86 time-stamp counter as a nanosecond clock, shared by the
 * hvt guest, the hvt monitor (which evaluates its guest's deadlines with
 * the same formula) and the virtio guest.
 *
 *   ns = (tsc - tsc_boot) * 1e9 / tsc_hz
 *
 * computed as a 128-bit multiply by a 32.32 fixed-point factor: no
 * division on the hot path and no libgcc helper, so freestanding guests
 * can use it. Plain integer code: no I/O, no globals. */
#ifndef ZL_X86_TSC_H
#define ZL_X86_TSC_H

#include <stdint.h>

/* The 32.32 factor 2^32 * 1e9 / tsc_hz. tsc_hz must be at least 1 MHz
 * (the callers check: a lower rate means the measurement failed). */
uint64_t x86_tsc_mult(uint64_t tsc_hz);

/* ticks converted to nanoseconds with a factor from x86_tsc_mult(). */
static inline uint64_t x86_tsc_to_ns(uint64_t ticks, uint64_t mult)
{
    return (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
}

static inline uint64_t x86_rdtsc(void)
{
    return __builtin_ia32_rdtsc();
}

/* A monotonic clock on the TSC: zero at tsc_boot, never decreasing even
 * if the TSC does (a migrated or badly synchronised vCPU). Owned by its
 * caller, one per guest; not thread-safe (one vCPU). */
struct x86_tsc_clock {
    uint64_t tsc_boot; /* TSC value at ns 0 */
    uint64_t mult;     /* x86_tsc_mult(tsc_hz) */
    uint64_t last_ns;  /* the highest value returned so far */
};

void x86_tsc_clock_init(struct x86_tsc_clock *c, uint64_t tsc_boot, uint64_t tsc_hz);

/* Nanoseconds since tsc_boot, read from the TSC now (about 10 ns). */
uint64_t x86_tsc_clock_ns(struct x86_tsc_clock *c);

#endif
