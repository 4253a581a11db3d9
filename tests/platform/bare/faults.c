/* Bare hvt guest that misbehaves on purpose; the boot argument picks how.
 * Each must end the monitor with a report and a non-zero status. */
#include "tests/platform/bare/bare.h"
#include "platform/hvt/hvt_guest.h"

static void __attribute__((noinline)) null_deref(void)
{
    volatile uintptr_t addr = 8; /* volatile: the compiler must not see NULL */
    *(volatile uint64_t *)addr = 1;
}

static void __attribute__((noinline)) beyond_memory(void)
{
    volatile uint64_t *p = (volatile uint64_t *)(plat_mem_end() + 0x10000);
    *p = 0xdead;
}

static void __attribute__((noinline)) write_text(void)
{
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)&write_text;
    *p = 0xc3;
}

static uint8_t data_code[16] = { 0xc3 }; /* ret, in a no-execute page */

static void __attribute__((noinline)) exec_data(void)
{
    ((void (*)(void))(uintptr_t)data_code)();
}

static volatile unsigned depth_limit = 0xffffffffu; /* far beyond the stack */

static unsigned __attribute__((noinline)) recurse(unsigned n)
{
    volatile uint8_t pad[512];
    pad[0] = (uint8_t)n;
    if (n >= depth_limit)
        return 0;
    return recurse(n + 1) + pad[0];
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
    put("faults guest: ");
    put(c);
    put("\n");
    if (bare_streq(c, "null"))
        null_deref();
    else if (bare_streq(c, "oob"))
        beyond_memory();
    else if (bare_streq(c, "wtext"))
        write_text();
    else if (bare_streq(c, "xdata"))
        exec_data();
    else if (bare_streq(c, "stack"))
        recurse(0);
    else if (bare_streq(c, "ud"))
        __builtin_trap();
    else if (bare_streq(c, "hcbad"))
        bad_hypercall();
    else if (bare_streq(c, "hcnum"))
        unknown_hypercall();
    else if (bare_streq(c, "hcread"))
        read_hypercall_page();
    else if (bare_streq(c, "alias"))
        aliased_buffers();
    else if (bare_streq(c, "netring"))
        bad_net_ring();
    else if (bare_streq(c, "abort"))
        plat_abort("guest gave up on purpose");
    put("no fault happened\n");
    plat_exit(0);
}
