/* time.c: clocks from plat. CLOCK_REALTIME is the host's wall clock at
 * boot advanced by the monotonic clock; everything else is monotonic
 * (there is one vCPU and no suspend, so CPU-time clocks track it too). */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

static int is_realtime(int clk)
{
    return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE ||
           clk == CLOCK_TAI;
}

static int known_clock(int clk)
{
    return clk >= CLOCK_REALTIME && clk <= CLOCK_TAI && clk != 8 && clk != 9 &&
           clk != 10;
}

uint64_t rt_clock_to_mono(int clk, int64_t sec, long nsec)
{
    uint64_t t;

    if (sec < 0)
        return 0;
    t = (uint64_t)sec * 1000000000ull + (uint64_t)nsec;
    if (!is_realtime(clk))
        return t;
    uint64_t wall = plat_clock_wall_ns(), mono = plat_clock_monotonic_ns();
    return t <= wall ? mono - (wall - t < mono ? wall - t : mono) : mono + (t - wall);
}

long rt_sys_clock_gettime(const long *a)
{
    int clk = (int)a[0];
    struct timespec *ts = (struct timespec *)a[1];
    uint64_t ns;

    if (!known_clock(clk))
        return -EINVAL;
    ns = is_realtime(clk) ? plat_clock_wall_ns() : plat_clock_monotonic_ns();
    ts->tv_sec = (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
    return 0;
}

long rt_sys_clock_getres(const long *a)
{
    struct timespec *ts = (struct timespec *)a[1];

    if (!known_clock((int)a[0]))
        return -EINVAL;
    if (ts)
        *ts = (struct timespec){0, 1};
    return 0;
}

long rt_sys_gettimeofday(const long *a)
{
    struct timeval *tv = (struct timeval *)a[0];
    uint64_t ns = plat_clock_wall_ns();

    if (tv) {
        tv->tv_sec = (time_t)(ns / 1000000000ull);
        tv->tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
    }
    return 0;
}

long rt_sys_time(const long *a)
{
    time_t t = (time_t)(plat_clock_wall_ns() / 1000000000ull);

    if (a[0])
        *(time_t *)a[0] = t;
    return (long)t;
}
