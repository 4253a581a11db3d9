/* Bare smoke guest for every target: exercises the whole of plat.h
 * (nothing target-specific: the hvt ABI has its own guest, hvt_abi.c),
 * prints what it measured and SUCCESS when all checks passed, then exits
 * with status 7 (the tests assert the launcher passes 7 on). Boot
 * arguments (any order): "measure" times clock reads; "blockro" expects
 * the block device to be read-only; "quick" prints the wall clock at its
 * first instruction and exits 0; "sleep" waits one second before exiting
 * (the hvt test checks the seccomp filter meanwhile). With a block
 * device, it must start with "ZLBLOCK0" (the tests write it). */
#include "tests/platform/bare/bare.h"

static int failures;
static __thread uint64_t tls_var = 42; /* %fs-relative: checks the TLS base */

static void check(int ok, const char *what)
{
    put(ok ? "ok " : "FAIL ");
    put(what);
    put("\n");
    if (!ok)
        failures++;
}

static void test_clocks(void)
{
    uint64_t m0 = plat_clock_monotonic_ns(), w = plat_clock_wall_ns();
    check(w > 1577836800ull * 1000000000ull, "wall clock after 2020");
    uint64_t t = plat_clock_monotonic_ns();
    uint32_t ev = plat_wait(t + 20000000);
    uint64_t m1 = plat_clock_monotonic_ns();
    check(ev == 0, "wait without events returns 0");
    /* Not before the deadline; how long after is the host's business. */
    check(m1 >= t + 19000000, "wait(20 ms) slept at least 20 ms");
    put("wait(20 ms) took ");
    put_u64((m1 - t) / 1000);
    put(" us\n");
    check(m1 > m0, "monotonic clock advances");
    /* A past deadline must not wait for an event: anything short of the
     * seconds a wait without events would block (none come here) is a
     * pass, however loaded the host. */
    t = plat_clock_monotonic_ns();
    ev = plat_wait(0);
    uint64_t d = plat_clock_monotonic_ns() - t;
    check(ev == 0 && d < 10000000000ull, "wait with a past deadline returns");
    put("wait(past deadline) took ");
    put_u64(d / 1000);
    put(" us\n");
}

static void test_random(void)
{
    uint8_t a[64], b[64];
    int same = 1, zero = 1;
    check(plat_random(a, sizeof(a)) == PLAT_OK && plat_random(b, sizeof(b)) == PLAT_OK,
          "random returns OK");
    for (size_t i = 0; i < sizeof(a); i++) {
        same &= a[i] == b[i];
        zero &= a[i] == 0;
    }
    check(!same && !zero, "random bytes differ and are not zero");
}

static uint8_t blk[4096];

static void test_block(void)
{
    struct plat_block_info bi;
    if (plat_block_info(&bi) != PLAT_OK) {
        check(bi.capacity == 0, "no block device: info says capacity 0");
        check(plat_block_read(0, blk, 512) == PLAT_EINVAL, "no block device: read EINVAL");
        check(plat_block_flush() == PLAT_EINVAL, "no block device: flush EINVAL");
        return;
    }
    check(bi.block_size == 512 && bi.capacity >= 8192, "block info 512-byte blocks, >= 8 KiB");
    check(plat_block_read(0, blk, 512) == PLAT_OK && blk[0] == 'Z' && blk[7] == '0',
          "block read sees what the host wrote");
    if (bare_has_arg("blockro")) { /* the host gave it read-only */
        check(plat_block_write(4096, blk, 512) == PLAT_EUNSPEC, "read-only block write fails");
        check(plat_block_flush() == PLAT_OK, "read-only block flush is OK");
        return;
    }
    for (int i = 0; i < 4096; i++)
        blk[i] = (uint8_t)(i * 7 + 1);
    check(plat_block_write(4096, blk, 4096) == PLAT_OK, "block write 4 KiB at 4096");
    check(plat_block_flush() == PLAT_OK, "block flush");
    memset(blk, 0, sizeof(blk));
    check(plat_block_read(4096, blk, 4096) == PLAT_OK && blk[0] == 1 && blk[4095] == (uint8_t)(4095 * 7 + 1),
          "block read back what was written");
    check(plat_block_write(100, blk, 512) == PLAT_EINVAL, "unaligned block write is EINVAL");
    check(plat_block_read(bi.capacity, blk, 512) == PLAT_EINVAL, "read past the end is EINVAL");
    check(plat_block_read(bi.capacity - 512, blk, 512) == PLAT_OK, "read the last block");
}

static void test_cpu(void)
{
    volatile double x = 1.5; /* SSE arithmetic must work in the guest */
    double y = x * x + 0.25;
    check(y == 2.5, "SSE double arithmetic");
    plat_set_tls_base((uintptr_t)0); /* set a real TLS block below */
    static uint64_t tls_block[4];
    /* x86-64 variant II: the TLS block ends at the thread pointer, whose
     * first word points to itself. */
    tls_block[0] = 42;
    tls_block[2] = (uint64_t)(uintptr_t)&tls_block[2];
    plat_set_tls_base((uintptr_t)&tls_block[2]);
    check(plat_get_tls_base() == (uintptr_t)&tls_block[2], "get_tls_base returns what was set");
    uint64_t self;
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(self));
    check(self == (uint64_t)(uintptr_t)&tls_block[2], "fs:0 reads through the new TLS base");
    plat_wait(plat_clock_monotonic_ns() + 2000000);
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(self));
    check(self == (uint64_t)(uintptr_t)&tls_block[2], "TLS base survives a wait");
    enum { N = 1000 };
    uint64_t t0 = plat_clock_monotonic_ns();
    for (unsigned i = 0; i < N; i++)
        plat_set_tls_base((uintptr_t)&tls_block[2]);
    put("measure: plat_set_tls_base ");
    put_u64((plat_clock_monotonic_ns() - t0) / N);
    put(" ns\n");
    (void)tls_var;
}

static void measure_clock(void)
{
    enum { N = 2000 };
    uint64_t t0 = plat_clock_monotonic_ns();
    for (unsigned i = 0; i < N; i++)
        (void)plat_clock_monotonic_ns();
    uint64_t t1 = plat_clock_monotonic_ns();
    put("measure: clock read ");
    put_u64((t1 - t0) / N);
    put(" ns\n");
}

void plat_runtime_start(void)
{
    uint64_t first = plat_clock_monotonic_ns(), first_wall = plat_clock_wall_ns();
    if (bare_has_arg("quick")) { /* boot-time measurement: nothing else */
        put("measure: first instruction at wall ");
        put_u64(first_wall);
        put(" ns\n");
        plat_exit(0);
    }
    put("hello from the guest\n");
    put("measure: first instruction at guest time ");
    put_u64(first / 1000);
    put(" us\ncmdline: [");
    put(plat_cmdline());
    put("]\nmemory: ");
    put_hex(plat_mem_start());
    put(" - ");
    put_hex(plat_mem_end());
    put("\n");
    check(plat_mem_start() % 4096 == 0 && plat_mem_end() > plat_mem_start(), "free memory region");
    volatile uint64_t *top = (volatile uint64_t *)(plat_mem_end() - 8);
    *top = 0x5a5a;
    check(*top == 0x5a5a && *(volatile uint64_t *)plat_mem_start() == 0, "free memory is RW and zero");
    test_clocks();
    test_random();
    test_cpu();
    test_block();
    if (bare_has_arg("measure"))
        measure_clock();
    if (bare_has_arg("sleep"))
        plat_wait(plat_clock_monotonic_ns() + 1000000000ull);
    if (failures) {
        put("FAILED\n");
        plat_exit(1);
    }
    put("SUCCESS\n");
    plat_exit(7);
}
