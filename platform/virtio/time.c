/* virtio clocks and waiting (plat.h).
 *
 * Monotonic time is the TSC (platform/x86_64/tsc.h) since the guest's
 * first instruction (boot.S reads it there), whose rate comes
 * from KVM's paravirtual clock (kvmclock) when there is one, else from a
 * 10 ms count of the PIT's channel 2 at boot; the local APIC timer's rate
 * is measured in the same window (against the TSC under KVM). The wall
 * clock starts from kvmclock's (nanoseconds) or the CMOS RTC's (whole
 * seconds, so up to 1 s behind the host); with the RTC it is compared
 * again once a minute and stepped when they differ by more than 2 s,
 * which follows host clock steps and bounds the drift of a TSC rate
 * measured in 10 ms.
 *
 * plat_wait() sleeps in hlt until the APIC timer (one-shot, at the
 * deadline) or a device interrupt; interrupts are enabled only there. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"
#include "platform/x86_64/tsc.h"

#define PIT_HZ 1193182u
#define CAL_PIT_TICKS 11932u   /* 10 ms */
#define CAL_TSC_NS 1000000u    /* APIC against a known TSC: 1 ms */
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_COUNT 0x390
#define APIC_TIMER_DIV 0x3e0
#define RTC_CHECK_NS (60ull * 1000000000ull)
#define RTC_STEP_NS (2ull * 1000000000ull)

extern uint64_t virtio_tsc_start; /* boot.S: the TSC at the first instruction */
static struct x86_tsc_clock clock;
static uint64_t tsc_hz, apic_mult; /* APIC ticks per ns, 32.32 */
static uint64_t wall_offset, next_rtc_check;
static int wall_from_rtc;

/* ---- rates ---- */

static void apic_count_start(void)
{
    mmio_w32(virtio_lapic + APIC_TIMER_DIV, 0x3); /* divide by 16 */
    mmio_w32(virtio_lapic + APIC_LVT_TIMER, (1u << 16) | IRQ_TIMER);
    mmio_w32(virtio_lapic + APIC_TIMER_INIT, 0xffffffffu);
}

static uint64_t apic_counted(void)
{
    uint64_t n = 0xffffffffu - mmio_r32(virtio_lapic + APIC_TIMER_COUNT);
    mmio_w32(virtio_lapic + APIC_TIMER_INIT, 0);
    return n;
}

/* One reading of the TSC, PIT channel 2 and the APIC timer together.
 * Under a hypervisor each port or register access is an exit, and the
 * vCPU may be descheduled between any two instructions: of 8 tries, the
 * one whose TSC bracket is narrowest is kept, its TSC midpoint paired
 * with the counters. */
struct sample {
    uint64_t tsc;
    uint16_t pit;
    uint32_t apic;
};

static struct sample sample(void)
{
    struct sample s = { 0, 0, 0 };
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 8; i++) {
        uint64_t a = x86_rdtsc();
        outb(0x43, 0x80); /* latch channel 2 */
        uint8_t lo = inb(0x42), hi = inb(0x42);
        uint32_t ap = mmio_r32(virtio_lapic + APIC_TIMER_COUNT);
        uint64_t b = x86_rdtsc();
        if (b - a < best) {
            best = b - a;
            s = (struct sample){ a + (b - a) / 2, (uint16_t)(lo | hi << 8), ap };
        }
    }
    return s;
}

/* Channel 2 counts down from 0xffff (mode 0, 55 ms to zero, when its
 * output, port 0x61 bit 5, goes high). The rates come from two samples
 * CAL_PIT_TICKS apart; a window that ran past zero (the vCPU stalled for
 * 45 ms) is measured again. */
static void calibrate_pit(uint64_t *apic_hz)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
        outb(0x43, 0xb0);                                  /* channel 2, lo/hi, mode 0 */
        outb(0x42, 0xff);
        outb(0x42, 0xff);
        apic_count_start();
        struct sample a = sample(), b;
        do {
            b = sample();
        } while ((uint16_t)(a.pit - b.pit) < CAL_PIT_TICKS && !(inb(0x61) & 0x20));
        if (inb(0x61) & 0x20)
            continue;
        uint16_t ticks = (uint16_t)(a.pit - b.pit);
        tsc_hz = (b.tsc - a.tsc) * PIT_HZ / ticks;
        *apic_hz = (uint64_t)(a.apic - b.apic) * PIT_HZ / ticks;
        apic_counted();
        return;
    }
    plat_abort("virtio: PIT calibration kept failing (vCPU stalled for 45 ms each time)");
}

/* ---- kvmclock (KVM's pvclock ABI) ---- */

struct pvclock_time {
    volatile uint32_t version;
    uint32_t pad0;
    volatile uint64_t tsc_timestamp, system_time;
    volatile uint32_t mul;
    volatile int8_t shift;
    volatile uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall {
    volatile uint32_t version, sec, nsec;
} __attribute__((packed));

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

static struct pvclock_time pv_time __attribute__((aligned(64)));
static struct pvclock_wall pv_wall __attribute__((aligned(64)));

/* kvmclock ns at tsc (system_time + scaled ticks since tsc_timestamp). */
static uint64_t pv_ns(uint64_t tsc, uint64_t *mul_out, int *shift_out)
{
    uint32_t v;
    uint64_t ns;
    do {
        v = pv_time.version;
        barrier();
        uint64_t d = tsc - pv_time.tsc_timestamp;
        int s = pv_time.shift;
        d = s >= 0 ? d << s : d >> -s;
        ns = pv_time.system_time + (uint64_t)(((unsigned __int128)d * pv_time.mul) >> 32);
        *mul_out = pv_time.mul;
        *shift_out = s;
        barrier();
    } while ((v & 1) || v != pv_time.version);
    return ns;
}

/* TSC rate and wall clock from KVM; 0 on success. */
static int kvmclock_init(uint64_t *wall_ns_at_tsc, uint64_t *tsc)
{
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pv_time | 1);
    wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)(uintptr_t)&pv_wall);
    uint32_t v;
    uint64_t wall0;
    do {
        v = pv_wall.version;
        barrier();
        wall0 = pv_wall.sec * 1000000000ull + pv_wall.nsec;
        barrier();
    } while ((v & 1) || v != pv_wall.version);
    uint64_t mul;
    int shift;
    *tsc = x86_rdtsc();
    uint64_t ns = pv_ns(*tsc, &mul, &shift);
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0); /* KVM stops writing our memory */
    if (!mul)
        return -1;
    uint64_t hz = (1000000000ull << 32) / mul;
    tsc_hz = shift >= 0 ? hz >> shift : hz << -shift;
    *wall_ns_at_tsc = wall0 + ns;
    return 0;
}

/* ---- CMOS real-time clock ---- */

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, int binary)
{
    return binary ? v : (v >> 4) * 10u + (v & 15u);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    y -= m <= 2;
    unsigned era = y / 400, yoe = y - era * 400;
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (uint64_t)era * 146097 + doe - 719468;
}

/* UNIX seconds from the RTC, read twice (no update in between). */
static uint64_t rtc_seconds(void)
{
    uint8_t r[7], again[7];
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    do {
        while (cmos(0x0a) & 0x80) /* update in progress */
            __builtin_ia32_pause();
        for (int i = 0; i < 7; i++)
            r[i] = cmos(regs[i]);
        for (int i = 0; i < 7; i++)
            again[i] = cmos(regs[i]);
    } while (__builtin_memcmp(r, again, 7) != 0);
    uint8_t b = cmos(0x0b);
    int bin = (b >> 2) & 1;
    unsigned hour = bcd(r[2] & 0x7f, bin);
    if (!(b & 2) && (r[2] & 0x80)) /* 12-hour clock, PM */
        hour = (hour % 12) + 12;
    unsigned year = bcd(r[5], bin) + 100 * bcd(r[6], bin);
    if (year < 1970)
        year = 2000 + year % 100;
    return days_from_civil(year, bcd(r[4], bin), bcd(r[3], bin)) * 86400 + hour * 3600 +
           bcd(r[1], bin) * 60 + bcd(r[0], bin);
}

/* ---- set-up ---- */

void virtio_time_init(void)
{
    uint64_t apic_hz = 0, wall = 0, at = 0;
    if (virtio_cpu.kvm_clock && kvmclock_init(&wall, &at) == 0) {
        apic_count_start(); /* the APIC's rate against the now known TSC */
        struct sample a = sample(), b;
        uint64_t ticks = CAL_TSC_NS * (tsc_hz / 1000) / 1000000;
        do
            b = sample();
        while (b.tsc - a.tsc < ticks);
        apic_counted();
        uint64_t ns = x86_tsc_to_ns(b.tsc - a.tsc, x86_tsc_mult(tsc_hz));
        apic_hz = (uint64_t)(a.apic - b.apic) * 1000000000ull / ns;
    } else {
        calibrate_pit(&apic_hz);
        wall_from_rtc = 1;
    }
    if (tsc_hz < 1000000 || apic_hz < 1000)
        plat_abort("virtio: TSC or APIC timer rate not measurable");
    apic_mult = (apic_hz << 32) / 1000000000ull;
    x86_tsc_clock_init(&clock, virtio_tsc_start, tsc_hz);
    if (wall_from_rtc) {
        wall = rtc_seconds() * 1000000000ull;
        wall_offset = wall - plat_clock_monotonic_ns();
        next_rtc_check = RTC_CHECK_NS;
    } else {
        uint64_t now_tsc = x86_rdtsc();
        wall += x86_tsc_to_ns(now_tsc - at, clock.mult);
        wall_offset = wall - plat_clock_monotonic_ns();
    }
}

uint64_t plat_clock_monotonic_ns(void)
{
    return x86_tsc_clock_ns(&clock);
}

uint64_t plat_clock_wall_ns(void)
{
    uint64_t mono = plat_clock_monotonic_ns();
    if (wall_from_rtc && mono >= next_rtc_check) {
        next_rtc_check = mono + RTC_CHECK_NS;
        uint64_t rtc = rtc_seconds() * 1000000000ull, ours = wall_offset + mono;
        if (rtc > ours + RTC_STEP_NS || ours > rtc + RTC_STEP_NS)
            wall_offset = rtc - mono;
    }
    return wall_offset + mono;
}

void virtio_time_arm(uint64_t ns)
{
    if (ns == 0) {
        mmio_w32(virtio_lapic + APIC_TIMER_INIT, 0);
        return;
    }
    uint64_t n = ns > (1ull << 36) ? 0xffffffffu : x86_tsc_to_ns(ns, apic_mult);
    if (n == 0)
        n = 1;
    if (n > 0xffffffffu)
        n = 0xffffffffu;
    mmio_w32(virtio_lapic + APIC_LVT_TIMER, IRQ_TIMER); /* one-shot, unmasked */
    mmio_w32(virtio_lapic + APIC_TIMER_INIT, (uint32_t)n);
}

/* Devices without MSI-X cannot wake the CPU: they are polled this often. */
#define POLL_NS 1000000ull

uint32_t plat_wait(uint64_t deadline_ns)
{
    for (;;) {
        uint32_t ev = virtio_net_events();
        if (ev)
            return ev;
        uint64_t now = plat_clock_monotonic_ns();
        if (now >= deadline_ns)
            return 0;
        uint64_t d = deadline_ns - now;
        if (virtio_polled_devices && d > POLL_NS)
            d = POLL_NS;
        virtio_time_arm(d);
        virtio_idle();
        virtio_irq_seen = 0;
    }
}
