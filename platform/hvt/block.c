/* hvt block device (plat.h): checks alignment and range here too, so
 * errors come back as PLAT_EINVAL rather than from the monitor, and splits
 * transfers into chunks of at most HVT_BLOCK_MAX. */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

plat_result_t plat_block_info(struct plat_block_info *info)
{
    if (!(hvt_bi->devices & HVT_DEV_BLOCK)) {
        info->capacity = info->block_size = 0;
        return PLAT_EINVAL;
    }
    info->capacity = hvt_bi->block_capacity;
    info->block_size = hvt_bi->block_size;
    return PLAT_OK;
}

static plat_result_t transfer(unsigned nr, uint64_t offset, uintptr_t buf, size_t len)
{
    uint64_t bs = hvt_bi->block_size, cap = hvt_bi->block_capacity;
    if (!(hvt_bi->devices & HVT_DEV_BLOCK) || offset % bs || len % bs || offset > cap ||
        len > cap - offset)
        return PLAT_EINVAL;
    while (len > 0) {
        uint64_t n = len < HVT_BLOCK_MAX ? len : HVT_BLOCK_MAX;
        struct hvt_hc_block a = { offset, (uint64_t)buf, n, 0 };
        hvt_hypercall(nr, &a);
        if (a.ret != HVT_OK)
            return (plat_result_t)a.ret;
        offset += n;
        buf += n;
        len -= n;
    }
    return PLAT_OK;
}

plat_result_t plat_block_read(uint64_t offset, void *buf, size_t len)
{
    return transfer(HVT_HC_BLOCK_READ, offset, (uintptr_t)buf, len);
}

plat_result_t plat_block_write(uint64_t offset, const void *buf, size_t len)
{
    return transfer(HVT_HC_BLOCK_WRITE, offset, (uintptr_t)buf, len);
}

plat_result_t plat_block_flush(void)
{
    struct hvt_hc_block_flush a = { 0 };
    if (!(hvt_bi->devices & HVT_DEV_BLOCK))
        return PLAT_EINVAL;
    hvt_hypercall(HVT_HC_BLOCK_FLUSH, &a);
    return (plat_result_t)a.ret;
}
