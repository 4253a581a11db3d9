/* Bare guest for every target that misbehaves on purpose; the boot
 * argument picks how. Each must end the guest with a report (exception,
 * registers, backtrace) and a non-zero status: 139 for a fault, 134 for
 * plat_abort(). "none" exits 0. The hvt ABI's own misuse cases
 * (hypercalls) are in hvt_abi.c. */
#include "tests/platform/bare/bare.h"

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

static volatile int zero; /* volatile: the compiler must not see the division by 0 */

static int __attribute__((noinline)) divide(int x)
{
    return x / zero;
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
    else if (bare_streq(c, "div"))
        put_u64((uint64_t)divide(7));
    else if (bare_streq(c, "abort"))
        plat_abort("guest gave up on purpose");
    put("no fault happened\n");
    plat_exit(0);
}
