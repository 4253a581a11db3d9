/* hvt_guest.h: internals of the hvt guest bindings (libhvt.a), shared by
 * the files of platform/hvt/ that implement plat.h. Not part of plat.h. */
#ifndef ZL_HVT_GUEST_H
#define ZL_HVT_GUEST_H

#include <stdint.h>

#include "platform/hvt/hvt_abi.h"

/* The boot info the monitor wrote (read-only page), set by hvt_boot(). */
extern const struct hvt_boot_info *hvt_bi;

/* Make hypercall nr with argument struct arg (borrowed; results are in it
 * when this returns). One 64-bit store to the hypercall page: the VM exits
 * on it, the monitor serves the call and resumes after the store. The
 * "memory" clobber keeps the compiler from moving struct accesses across. */
static inline void hvt_hypercall(unsigned nr, void *arg)
{
    __asm__ __volatile__("movq %0, (%1)"
                         :
                         : "r"((uint64_t)(uintptr_t)arg), "r"((uintptr_t)HVT_HC_ADDR(nr))
                         : "memory");
}

/* Called once from hvt_boot() before anything reads the clock. */
void hvt_time_init(const struct hvt_boot_info *bi);

/* PLAT_EV_NET_TX once the tx ring has room after a plat_net_write() was
 * refused with PLAT_EAGAIN, else 0 (net.c, for plat_wait()). */
uint32_t hvt_net_tx_event(void);

#endif
