/* hvt clocks and waiting (plat.h). Time is read from the TSC without a VM
 * exit: mono_ns = (tsc - tsc_boot) * 1e9 / tsc_hz, computed as a 128-bit
 * multiply by a 32.32 fixed-point factor (no division on the hot path, and
 * no libgcc helper). */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

static uint64_t tsc_boot, ns_per_tick_32; /* 2^32 * 1e9 / tsc_hz */
static uint64_t wall_offset, last_mono, next_wall_sync;

/* The host's wall clock may be stepped or slewed (NTP) after boot: the
 * offset from the monotonic clock is refreshed once a second at most, one
 * hypercall then. */
#define WALL_SYNC_NS 1000000000ull

void hvt_time_init(const struct hvt_boot_info *bi)
{
    tsc_boot = bi->tsc_boot;
    ns_per_tick_32 = (1000000000ull << 32) / bi->tsc_hz;
    wall_offset = bi->wall_boot_ns;
    next_wall_sync = WALL_SYNC_NS;
}

uint64_t plat_clock_monotonic_ns(void)
{
    uint64_t tsc = __builtin_ia32_rdtsc();
    uint64_t ticks = tsc > tsc_boot ? tsc - tsc_boot : 0;
    uint64_t ns = (uint64_t)(((unsigned __int128)ticks * ns_per_tick_32) >> 32);
    if (ns < last_mono) /* never go back, whatever the TSC does */
        ns = last_mono;
    last_mono = ns;
    return ns;
}

uint64_t plat_clock_wall_ns(void)
{
    uint64_t mono = plat_clock_monotonic_ns();
    if (mono >= next_wall_sync) {
        struct hvt_hc_clock c;
        hvt_hypercall(HVT_HC_CLOCK, &c);
        wall_offset = c.wall_ns - c.mono_ns;
        next_wall_sync = mono + WALL_SYNC_NS;
        return wall_offset + c.mono_ns;
    }
    return wall_offset + mono;
}

uint32_t plat_wait(uint64_t deadline_ns)
{
    struct hvt_hc_wait a = { deadline_ns, 0 };
    hvt_hypercall(HVT_HC_WAIT, &a);
    return (a.events & HVT_EV_NET_RX) ? PLAT_EV_NET_RX : 0;
}
