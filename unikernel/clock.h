/* The monotonic clock in milliseconds, for the server's timers and
 * deadlines (TCP idle limits, NOTIFY retries, store compaction, the vm
 * launcher). */
#ifndef ZL_UNIKERNEL_CLOCK_H
#define ZL_UNIKERNEL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t srv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
