/* virtio-blk (plat.h block device). One request at a time: a header, the
 * caller's buffer itself (no copy: memory is identity-mapped, so a
 * virtual address is the physical one the device needs) and a status
 * byte, three descriptors; the call sleeps in hlt until the device has
 * used them. Transfers are split into requests of at most 1 MiB. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define F_RO (1ull << 5)
#define F_FLUSH (1ull << 9)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define S_OK 0
#define SECTOR 512u
#define CHUNK (1u << 20)

struct req_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

static struct vdev dev;
static struct vq q;
static int ready;
static uint64_t capacity; /* bytes */
static struct req_hdr hdr;
static volatile uint8_t status;

int virtio_block_probe(struct pci_dev *p)
{
    if (ready)
        return 0; /* one block device */
    if (virtio_dev_init(&dev, p, F_RO | F_FLUSH) < 0 || virtio_vq_setup(&dev, &q, 0, 16) < 0)
        return 0;
    capacity = virtio_cfg64(&dev, 0) * SECTOR;
    virtio_dev_ready(&dev);
    ready = 1;
    return 1;
}

plat_result_t plat_block_info(struct plat_block_info *info)
{
    if (!ready) {
        info->capacity = info->block_size = 0;
        return PLAT_EINVAL;
    }
    info->capacity = capacity;
    info->block_size = SECTOR;
    return PLAT_OK;
}

/* One request: type, sector, data (NULL for a flush), data length. */
static plat_result_t request(uint32_t type, uint64_t sector, uintptr_t data, uint32_t len)
{
    hdr = (struct req_hdr){ type, 0, sector };
    status = 0xff;
    unsigned n = 0;
    q.desc[n] = (struct vq_desc){ (uintptr_t)&hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1 };
    n++;
    if (data) {
        uint16_t w = type == T_IN ? VQ_DESC_F_WRITE : 0;
        q.desc[n] = (struct vq_desc){ data, len, (uint16_t)(w | VQ_DESC_F_NEXT), 2 };
        n++;
    }
    q.desc[n] = (struct vq_desc){ (uintptr_t)&status, 1, VQ_DESC_F_WRITE, 0 };
    q.desc[n - 1].next = (uint16_t)n;
    virtio_vq_run(&q, 0);
    barrier();
    return status == S_OK ? PLAT_OK : PLAT_EUNSPEC;
}

static plat_result_t transfer(uint32_t type, uint64_t offset, uintptr_t buf, size_t len)
{
    if (!ready || offset % SECTOR || len % SECTOR || offset > capacity || len > capacity - offset)
        return PLAT_EINVAL;
    if (type == T_OUT && (dev.features & F_RO))
        return PLAT_EUNSPEC;
    virtio_prepare_dma(buf, len);
    while (len > 0) {
        uint32_t n = len < CHUNK ? (uint32_t)len : CHUNK;
        plat_result_t r = request(type, offset / SECTOR, buf, n);
        if (r != PLAT_OK)
            return r;
        offset += n;
        buf += n;
        len -= n;
    }
    return PLAT_OK;
}

plat_result_t plat_block_read(uint64_t offset, void *buf, size_t len)
{
    return transfer(T_IN, offset, (uintptr_t)buf, len);
}

plat_result_t plat_block_write(uint64_t offset, const void *buf, size_t len)
{
    return transfer(T_OUT, offset, (uintptr_t)buf, len);
}

/* Without VIRTIO_BLK_F_FLUSH the device writes through: nothing to do.
 * A read-only device has nothing to flush either. */
plat_result_t plat_block_flush(void)
{
    if (!ready)
        return PLAT_EINVAL;
    if (!(dev.features & F_FLUSH) || (dev.features & F_RO))
        return PLAT_OK;
    return request(T_FLUSH, 0, 0, 0);
}
