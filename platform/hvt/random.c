/* hvt randomness: the host's getrandom, in chunks the monitor accepts. */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

plat_result_t plat_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t n = len < HVT_RANDOM_MAX ? len : HVT_RANDOM_MAX;
        struct hvt_hc_random a = { (uint64_t)(uintptr_t)p, n, 0 };
        hvt_hypercall(HVT_HC_RANDOM, &a);
        if (a.ret != HVT_OK)
            return (plat_result_t)a.ret;
        p += n;
        len -= n;
    }
    return PLAT_OK;
}
