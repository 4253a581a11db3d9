/* Bare hvt guest that throws random hypercalls at the monitor: random
 * numbers, argument structs at random (often bad) addresses, random
 * buffers and lengths around the edges of guest memory. The monitor must
 * either serve each call or stop the guest with a report; it must never
 * crash. Boot argument: a decimal seed (runs are reproducible). Exits 0
 * after CALLS calls that the monitor accepted. */
#include "tests/platform/bare/bare.h"
#include "platform/hvt/hvt_guest.h"

#define CALLS 300

static uint64_t rng;

static uint64_t next(void) /* xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

/* One value in rare is an edge case; the rest are valid, so a run gets
 * through many calls before a bad one stops it. Odd seeds make edge cases
 * very rare (most runs serve every call), even seeds common. */
static uint64_t rare;

/* An address: mostly inside free memory, rarely at or across an edge
 * (memory end, image start, boot info, page 0, the hypercall page, huge). */
static uint64_t addr(void)
{
    uint64_t lo = plat_mem_start(), hi = plat_mem_end();
    if (next() % rare)
        return lo + (next() % (hi - lo - 8192)) / 8 * 8;
    switch (next() % 7) {
    case 0: return hi - (next() % 64);
    case 1: return HVT_IMAGE_MIN - (next() % 64);
    case 2: return HVT_BOOT_INFO_GPA + (next() % 0x3000);
    case 3: return next() % 0x100;
    case 4: return HVT_HC_BASE + (next() % 0x1000);
    case 5: return next();
    default: return UINT64_MAX - (next() % 4096);
    }
}

static uint64_t length(void)
{
    if (next() % rare == 0)
        return next();
    return (next() % 2) ? 512 * (next() % 9) : next() % 4096;
}

static const unsigned calls[] = { HVT_HC_CONSOLE_WRITE, HVT_HC_CLOCK, HVT_HC_WAIT,
                                  HVT_HC_RANDOM, HVT_HC_BLOCK_READ, HVT_HC_BLOCK_WRITE,
                                  HVT_HC_SET_FSBASE, HVT_HC_NET_SETUP, HVT_HC_NET_NOTIFY,
                                  HVT_HC_NOP, HVT_HC_BLOCK_FLUSH };
static const unsigned bad_calls[] = { HVT_HC_FAULT, 0, 15, 200, 511 };

/* One call: an argument struct of random words, its pointer and length
 * fields mostly valid, itself mostly at a valid address. */
static void one(void)
{
    unsigned nr = calls[next() % (sizeof(calls) / sizeof(calls[0]))];
    if (next() % rare == 0)
        nr = bad_calls[next() % (sizeof(bad_calls) / sizeof(bad_calls[0]))];
    uint64_t at = (next() % rare) ? plat_mem_start() + (next() % 4096) / 8 * 8 : addr();
    uint64_t w[4] = { addr(), length(), next(), next() };
    if (nr == HVT_HC_WAIT) /* keep the run short: deadlines within 1 ms */
        w[0] = plat_clock_monotonic_ns() + next() % 1000000;
    if (nr == HVT_HC_BLOCK_READ || nr == HVT_HC_BLOCK_WRITE)
        w[0] = 512 * (next() % 160), w[1] = addr(), w[2] = length();
    if (nr == HVT_HC_SET_FSBASE && next() % rare)
        w[0] = plat_mem_start(); /* canonical */
    if (nr == HVT_HC_CONSOLE_WRITE)
        w[1] %= 64; /* keep the log small */
    if (at >= plat_mem_start() && at + sizeof(w) <= plat_mem_end())
        memcpy((void *)(uintptr_t)at, w, sizeof(w));
    hvt_hypercall(nr, (void *)(uintptr_t)at);
}

void plat_runtime_start(void)
{
    const char *c = plat_cmdline();
    while (*c >= '0' && *c <= '9')
        rng = rng * 10 + (uint64_t)(*c++ - '0');
    rare = (rng % 2) ? 3000 : 64;
    rng = rng * 0x9e3779b97f4a7c15ull + 1;
    for (unsigned i = 0; i < CALLS; i++)
        one();
    put("\nchaos: all calls served\n");
    plat_exit(0);
}
