/* virtio randomness (plat.h): the CPU's RDRAND when it has one, else a
 * virtio-rng device (QEMU: -device virtio-rng-pci, fed by the host's
 * /dev/urandom). */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define RDRAND_TRIES 10 /* Intel's advice: retry a failed RDRAND 10 times */
#define RNG_CHUNK 4096u

static struct vdev dev;
static struct vq q;
static int ready;

int virtio_rng_probe(struct pci_dev *p)
{
    if (ready)
        return 0;
    if (virtio_dev_init(&dev, p, 0) < 0 || virtio_vq_setup(&dev, &q, 0, 4) < 0)
        return 0;
    virtio_dev_ready(&dev);
    ready = 1;
    return 1;
}

int virtio_rng_read(void *buf, size_t n)
{
    if (!ready)
        return -1;
    uint8_t *p = buf;
    virtio_prepare_dma((uintptr_t)buf, n);
    for (int empty = 0; n > 0;) {
        uint32_t want = n < RNG_CHUNK ? (uint32_t)n : RNG_CHUNK;
        q.desc[0] = (struct vq_desc){ (uintptr_t)p, want, VQ_DESC_F_WRITE, 0 };
        uint32_t got = virtio_vq_run(&q, 0);
        if (got > want || (got == 0 && ++empty == 100))
            return -1;
        p += got;
        n -= got;
    }
    return 0;
}

static int rdrand64(uint64_t *v)
{
    for (int i = 0; i < RDRAND_TRIES; i++) {
        unsigned char ok;
        __asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return 0;
    }
    return -1;
}

plat_result_t plat_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    if (!virtio_cpu.rdrand)
        return virtio_rng_read(buf, len) == 0 ? PLAT_OK : PLAT_EUNSPEC;
    while (len > 0) {
        uint64_t v;
        if (rdrand64(&v) < 0)
            return PLAT_EUNSPEC;
        size_t n = len < 8 ? len : 8;
        __builtin_memcpy(p, &v, n);
        p += n;
        len -= n;
    }
    return PLAT_OK;
}
