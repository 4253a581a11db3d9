/* hvt clocks and waiting (plat.h). Time is read from the TSC without a VM
 * exit, with the formula the monitor uses too (platform/x86_64/tsc.h). */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"
#include "platform/x86_64/tsc.h"

static struct x86_tsc_clock clock;
static uint64_t wall_offset, next_wall_sync;

/* The host's wall clock may be stepped or slewed (NTP) after boot: the
 * offset from the monotonic clock is refreshed once a second at most, one
 * hypercall then. */
#define WALL_SYNC_NS 1000000000ull

void hvt_time_init(const struct hvt_boot_info *bi)
{
    x86_tsc_clock_init(&clock, bi->tsc_boot, bi->tsc_hz);
    wall_offset = bi->wall_boot_ns;
    next_wall_sync = WALL_SYNC_NS;
}

uint64_t plat_clock_monotonic_ns(void)
{
    return x86_tsc_clock_ns(&clock);
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
    return ((a.events & HVT_EV_NET_RX) ? PLAT_EV_NET_RX : 0) | hvt_net_tx_event();
}
