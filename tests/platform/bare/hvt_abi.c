/* Bare hvt guest for the hvt ABI itself (platform/hvt/hvt_abi.h), below
 * plat.h: hypercalls made directly. Without a boot argument it checks
 * the monitor's clock against the guest's, TLS across VM exits and the
 * FS-base hypercall, prints SUCCESS and exits 7. "measure" also times nop
 * hypercalls. The other arguments misuse the ABI on purpose and must end
 * the monitor with a report (139), except "alias" (exits 0):
 *   hcbad    a console buffer running past guest memory
 *   hcnum    an unknown hypercall number
 *   hcread   a read of the hypercall page
 *   alias    buffers overlapping their own argument struct (needs --block)
 *   netring  ring set-up checks, then a corrupted ring (needs --net) */
#include "tests/platform/bare/bare.h"
#include "platform/hvt/hvt_guest.h"

static int failures;

static void check(int ok, const char *what)
{
    put(ok ? "ok " : "FAIL ");
    put(what);
    put("\n");
    if (!ok)
        failures++;
}

static void test_clock(void)
{
    struct hvt_hc_clock c;
    hvt_hypercall(HVT_HC_CLOCK, &c);
    uint64_t g = plat_clock_monotonic_ns();
    uint64_t diff = g > c.mono_ns ? g - c.mono_ns : c.mono_ns - g;
    put("clock skew guest tsc vs monitor: ");
    put_u64(diff / 1000);
    put(" us\n");
    check(diff < 100000000, "TSC clock agrees with the monitor's clock");
}

static void test_tls(void)
{
    static uint64_t tls_block[4];
    uint64_t self;
    tls_block[2] = (uint64_t)(uintptr_t)&tls_block[2];
    plat_set_tls_base((uintptr_t)&tls_block[2]);
    struct hvt_hc_nop nop = { 1, 0 };
    hvt_hypercall(HVT_HC_NOP, &nop); /* a VM exit must not lose FS */
    plat_wait(plat_clock_monotonic_ns() + 2000000);
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(self));
    check(self == (uint64_t)(uintptr_t)&tls_block[2], "TLS base survives VM exits and waits");
    /* The fallback for CPUs without FSGSBASE: the monitor sets FS. */
    static uint64_t tls_block2[2];
    tls_block2[0] = (uint64_t)(uintptr_t)&tls_block2[0];
    struct hvt_hc_fsbase fb = { (uint64_t)(uintptr_t)&tls_block2[0] };
    hvt_hypercall(HVT_HC_SET_FSBASE, &fb);
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(self));
    check(self == (uint64_t)(uintptr_t)&tls_block2[0], "fs base set by hypercall");
    put(hvt_bi->cpu_features & HVT_CPU_FSGSBASE ? "cpu: fsgsbase\n" : "cpu: no fsgsbase\n");
}

static void measure_hypercall(void)
{
    enum { N = 2000 };
    struct hvt_hc_nop a = { 0, 0 };
    uint64_t t0 = plat_clock_monotonic_ns();
    for (unsigned i = 0; i < N; i++) {
        a.seq = i;
        hvt_hypercall(HVT_HC_NOP, &a);
    }
    uint64_t t1 = plat_clock_monotonic_ns();
    check(a.out_seq == N - 1, "nop hypercall echoes its argument");
    put("measure: hypercall ");
    put_u64((t1 - t0) / N);
    put(" ns (");
    put_u64(N);
    put(" nop round trips)\n");
}

static void bad_hypercall(void)
{
    struct hvt_hc_console a = { plat_mem_end() - 16, 4096, 0 }; /* runs past RAM */
    hvt_hypercall(HVT_HC_CONSOLE_WRITE, &a);
}

static void unknown_hypercall(void)
{
    struct hvt_hc_nop a = { 0, 0 };
    hvt_hypercall(200, &a);
}

static void read_hypercall_page(void)
{
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)HVT_HC_ADDR(HVT_HC_NOP);
    (void)*p;
}

/* Ring set-up is checked, and a guest that breaks its ring is stopped
 * (needs --net). */
static uint8_t rings[2][3 * 4096] __attribute__((aligned(4096))); /* 4 slots + header */

static int64_t net_setup(uint64_t rx, uint64_t tx, uint64_t n)
{
    struct hvt_hc_net_setup a = { rx, tx, n, -1 };
    hvt_hypercall(HVT_HC_NET_SETUP, &a);
    return a.ret;
}

static void bad_net_ring(void)
{
    struct hvt_net_ring *rx = (struct hvt_net_ring *)rings[0], *tx = (struct hvt_net_ring *)rings[1];
    uint64_t r = (uint64_t)(uintptr_t)rx, t = (uint64_t)(uintptr_t)tx;
    rx->nslots = tx->nslots = 4;
    put(net_setup(r, t, 3) == HVT_EINVAL ? "ok setup: 3 slots refused\n" : "FAIL 3 slots\n");
    put(net_setup(r + 64, t, 4) == HVT_EINVAL ? "ok setup: unaligned refused\n" : "FAIL unaligned\n");
    put(net_setup(r, r, 4) == HVT_EINVAL ? "ok setup: overlap refused\n" : "FAIL overlap\n");
    put(net_setup(r, plat_mem_end() - 4096, 4) == HVT_EINVAL ? "ok setup: outside RAM refused\n"
                                                               : "FAIL outside\n");
    put(net_setup(r, t, 4) == HVT_OK ? "ok setup: accepted\n" : "FAIL setup\n");
    put(net_setup(r, t, 4) == HVT_EINVAL ? "ok setup: only once\n" : "FAIL twice\n");
    tx->head = 1000; /* 1000 frames in a 4-slot ring */
    plat_wait(0);
}

/* Buffers that overlap their own argument struct, at the very end of
 * guest memory: the monitor must not re-read a length the host just
 * overwrote (it would then write past guest memory). */
static void aliased_buffers(void)
{
    struct hvt_hc_random *r = (struct hvt_hc_random *)(plat_mem_end() - 4096);
    *r = (struct hvt_hc_random){ (uint64_t)(uintptr_t)r, 4096, -1 };
    hvt_hypercall(HVT_HC_RANDOM, r);
    put(r->ret == HVT_OK && r->len == 4096 ? "ok random over its own struct\n"
                                            : "FAIL random over its own struct\n");
    struct plat_block_info bi;
    if (plat_block_info(&bi) == PLAT_OK) {
        struct hvt_hc_block *b = (struct hvt_hc_block *)(plat_mem_end() - 4096);
        *b = (struct hvt_hc_block){ 0, (uint64_t)(uintptr_t)b, 4096, -1 };
        hvt_hypercall(HVT_HC_BLOCK_READ, b);
        put(b->ret == HVT_OK && b->len == 4096 ? "ok block read over its own struct\n"
                                                : "FAIL block read over its own struct\n");
    }
}

void plat_runtime_start(void)
{
    const char *c = plat_cmdline();
    put("hvt abi guest: ");
    put(c);
    put("\n");
    if (bare_streq(c, "hcbad"))
        bad_hypercall();
    else if (bare_streq(c, "hcnum"))
        unknown_hypercall();
    else if (bare_streq(c, "hcread"))
        read_hypercall_page();
    else if (bare_streq(c, "netring"))
        bad_net_ring();
    if (bare_streq(c, "alias")) {
        aliased_buffers();
        put("no fault happened\n");
        plat_exit(0);
    }
    if (*c && !bare_streq(c, "measure")) {
        put("no fault happened\n");
        plat_exit(0);
    }
    test_clock();
    test_tls();
    if (bare_has_arg("measure"))
        measure_hypercall();
    if (failures) {
        put("FAILED\n");
        plat_exit(1);
    }
    put("SUCCESS\n");
    plat_exit(7);
}
