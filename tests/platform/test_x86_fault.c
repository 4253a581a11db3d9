/* Unit tests for the code both unikernel targets share
 * (platform/x86_64, compiled in here): the fault report format, which the
 * hvt monitor printed with printf before it moved there (the expected
 * lines are built with the same printf formats), and the TSC clock's
 * 32.32 arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "platform/x86_64/fault.c"
#include "platform/x86_64/tsc.c"

#define LINES 40

struct capture {
    char line[LINES][256];
    int n;
    uint64_t stack[64]; /* a fake guest stack at STACK_BASE */
};
#define STACK_BASE 0x200000ull

static void cap_line(void *ctx, const char *text)
{
    struct capture *c = ctx;
    assert_true(c->n < LINES);
    snprintf(c->line[c->n++], sizeof c->line[0], "%s", text);
}

static const char *cap_symbol(void *ctx, uint64_t addr, uint64_t *off)
{
    (void)ctx;
    if (addr >= 0x101000 && addr < 0x101100) {
        *off = addr - 0x101000;
        return "main";
    }
    return NULL;
}

static int cap_frame(void *ctx, uint64_t addr, uint64_t out[2])
{
    struct capture *c = ctx;
    if (addr < STACK_BASE || addr + 16 > STACK_BASE + sizeof c->stack)
        return -1;
    memcpy(out, (const uint8_t *)c->stack + (addr - STACK_BASE), 16);
    return 0;
}

static const char *cap_where(void *ctx, uint64_t addr)
{
    (void)ctx;
    return addr < 4096 ? " (NULL pointer dereference)" : "";
}

static void expect(const struct capture *c, int i, const char *want)
{
    assert_true(i < c->n);
    assert_string_equal(c->line[i], want);
}

static void test_exception_lines(void **state)
{
    (void)state;
    struct capture c = { .n = 0 };
    const struct x86_report o = { cap_line, cap_symbol, cap_frame, cap_where, &c };
    char want[256];
    uint64_t errs[] = { 0, 2, 0x11, 0x7, 0x14 };
    for (size_t k = 0; k < sizeof errs / sizeof errs[0]; k++) {
        c.n = 0;
        x86_report_exception(&o, 14, errs[k], 8);
        assert_int_equal(c.n, 2);
        snprintf(want, sizeof want, "guest fault: exception %lu (%s), error code %#lx", 14ul,
                 "#PF page fault", (unsigned long)errs[k]);
        expect(&c, 0, want);
        uint64_t err = errs[k];
        snprintf(want, sizeof want, "page fault at %#lx: %s %s, %s%s", 8ul,
                 (err & 1) ? "protection violation" : "page not present",
                 (err & 16) ? "on instruction fetch" : (err & 2) ? "on write" : "on read",
                 (err & 4) ? "user mode" : "supervisor mode", " (NULL pointer dereference)");
        expect(&c, 1, want);
    }
    c.n = 0;
    x86_report_exception(&o, 6, 0, 0);
    assert_int_equal(c.n, 1);
    expect(&c, 0, "guest fault: exception 6 (#UD invalid opcode), error code 0");
    c.n = 0;
    x86_report_exception(&o, 0, 0, 0);
    expect(&c, 0, "guest fault: exception 0 (#DE divide error), error code 0");
    assert_string_equal(x86_vector_name(99), "reserved vector");
    assert_string_equal(x86_vector_name(31), "reserved vector");
}

static void test_register_lines(void **state)
{
    (void)state;
    struct capture c = { .n = 0 };
    const struct x86_report o = { cap_line, NULL, cap_frame, NULL, &c };
    struct x86_fault_frame f;
    uint64_t *w = (uint64_t *)&f;
    for (size_t i = 0; i < sizeof f / 8; i++)
        w[i] = 0x1111111111111111ull * (i % 15 + 1) + i;
    struct x86_regs r = { .cr2 = 0xdead, .fs_base = 0 };
    x86_regs_from_frame(&r, &f);
    assert_int_equal(r.rip, f.rip);
    assert_int_equal(r.r15, f.r15);
    assert_int_equal(r.cr2, 0xdead); /* kept */
    x86_report_regs(&o, &r);
    assert_int_equal(c.n, 5);
    char want[256];
    snprintf(want, sizeof want, "rip %016llx rsp %016llx rbp %016llx rflags %08llx",
             (unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rbp,
             (unsigned long long)r.rflags);
    expect(&c, 0, want);
    snprintf(want, sizeof want, "rsi %016llx rdi %016llx r8  %016llx r9  %016llx",
             (unsigned long long)r.rsi, (unsigned long long)r.rdi, (unsigned long long)r.r8,
             (unsigned long long)r.r9);
    expect(&c, 2, want);
    snprintf(want, sizeof want, "r14 %016llx r15 %016llx cr2 %016llx fsbase %016llx",
             (unsigned long long)r.r14, (unsigned long long)r.r15, 0xdeadull, 0ull);
    expect(&c, 4, want);
}

/* A chain main <- main <- (no symbol), then a frame that points down the
 * stack: the walk stops there. */
static void test_backtrace(void **state)
{
    (void)state;
    struct capture c = { .n = 0 };
    const struct x86_report o = { cap_line, cap_symbol, cap_frame, cap_where, &c };
    c.stack[0] = STACK_BASE + 32, c.stack[1] = 0x101020;   /* frame at +0 */
    c.stack[4] = STACK_BASE + 64, c.stack[5] = 0x2000;     /* frame at +32 */
    c.stack[8] = STACK_BASE + 16, c.stack[9] = 0x101080;   /* frame at +64: goes down */
    x86_report_backtrace(&o, "img", 0x101010, STACK_BASE);
    assert_int_equal(c.n, 5);
    expect(&c, 0, "backtrace (img):");
    char want[256];
    snprintf(want, sizeof want, "%s %#018lx <%s+%#lx>", "  #0 ", 0x101010ul, "main", 0x10ul);
    expect(&c, 1, want);
    snprintf(want, sizeof want, "%s %#018lx <%s+%#lx>", "  #1 ", 0x101020ul, "main", 0x20ul);
    expect(&c, 2, want);
    snprintf(want, sizeof want, "%s %#018lx", "  #2 ", 0x2000ul);
    expect(&c, 3, want);
    expect(&c, 4, "  #3  0x0000000000101080 <main+0x80>");
    /* unreadable or misaligned rbp: only #0 */
    c.n = 0;
    x86_report_backtrace(&o, "img", 0x101000, STACK_BASE + 4);
    assert_int_equal(c.n, 2);
    snprintf(want, sizeof want, "%s %#018lx <%s+%#lx>", "  #0 ", 0x101000ul, "main", 0ul);
    expect(&c, 1, want);
    /* a long chain stops after 16 frames (#0 to #15) */
    c.n = 0;
    for (int i = 0; i < 31; i++) /* frames every 16 bytes, each pointing higher */
        c.stack[2 * i] = STACK_BASE + 16 * (uint64_t)(i + 1), c.stack[2 * i + 1] = 0x3000 + (uint64_t)i;
    x86_report_backtrace(&o, "img", 0, STACK_BASE);
    assert_int_equal(c.n, 17);
    expect(&c, 1, "  #0  000000000000000000"); /* printf's %#018lx of 0 */
    snprintf(want, sizeof want, "%s %#018lx", "  #1 ", 0x3000ul);
    expect(&c, 2, want);
    snprintf(want, sizeof want, "%s %#018lx", "  #15", 0x300eul);
    expect(&c, 16, want);
}

static void test_tsc_arithmetic(void **state)
{
    (void)state;
    uint64_t m = x86_tsc_mult(1000000000ull); /* 1 GHz: 1 tick = 1 ns */
    assert_int_equal(m, 1ull << 32);
    assert_int_equal(x86_tsc_to_ns(123456789ull, m), 123456789ull);
    m = x86_tsc_mult(3000000000ull); /* 3 GHz */
    uint64_t ns = x86_tsc_to_ns(3000000000ull * 3600, m); /* one hour of ticks */
    assert_true(ns <= 3600ull * 1000000000ull && 3600ull * 1000000000ull - ns < 2000);
    /* a long uptime does not overflow: 10 years at 4 GHz */
    m = x86_tsc_mult(4000000000ull);
    ns = x86_tsc_to_ns(4000000000ull * 86400 * 3650, m);
    assert_true(ns / 1000000000ull >= 86400ull * 3650 - 1 && ns / 1000000000ull <= 86400ull * 3650);
    struct x86_tsc_clock clk;
    x86_tsc_clock_init(&clk, x86_rdtsc(), 1000000000ull);
    uint64_t a = x86_tsc_clock_ns(&clk), b = x86_tsc_clock_ns(&clk);
    assert_true(b >= a);
    clk.tsc_boot = UINT64_MAX; /* a TSC behind the boot value reads 0... */
    clk.last_ns = 5000;        /* ...but the clock never goes back */
    assert_int_equal(x86_tsc_clock_ns(&clk), 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exception_lines),
        cmocka_unit_test(test_register_lines),
        cmocka_unit_test(test_backtrace),
        cmocka_unit_test(test_tsc_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
