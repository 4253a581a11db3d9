/* virtio-net (plat.h network device). One receive and one transmit queue
 * of 2 KiB buffers, each holding the virtio-net header and one frame (no
 * offloads, no merged buffers). Receive buffers are all posted at boot
 * and posted again once read; frames to send are copied into a free
 * transmit buffer. The device is notified only in plat_wait() and
 * plat_net_flush() (one exit per batch), or when the transmit queue is
 * full. Transmit completions are collected when buffers run short, with
 * their interrupt suppressed except while a refused plat_net_write()
 * waits for room (PLAT_EV_NET_TX). */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"
#include "platform/x86_64/tsc.h"

#define BUF_SIZE 2048u
#define MAX_SLOTS 256u
#define F_MAC (1ull << 5)
#define MTU 1500u

static struct vdev dev;
static struct vq rxq, txq;
static int ready;
static unsigned hdr_len;   /* 12 (modern) or 10 (legacy) */
static unsigned per_frame; /* descriptors per buffer: 1, or 2 (header apart) */
static unsigned rx_slots, tx_slots;
static uint8_t *rx_buf, *tx_buf;
static uint16_t tx_free[MAX_SLOTS];
static unsigned tx_nfree;
static int tx_was_full;
static uint8_t mac[6];

/* Descriptors of buffer slot s: [s * per_frame, + per_frame). */
static void fill(struct vq *q, unsigned s, uint8_t *buf, uint32_t frame_len, uint16_t write)
{
    struct vq_desc *d = &q->desc[s * per_frame];
    if (per_frame == 1) {
        *d = (struct vq_desc){ (uintptr_t)buf, hdr_len + frame_len, write, 0 };
        return;
    }
    d[0] = (struct vq_desc){ (uintptr_t)buf, hdr_len, (uint16_t)(write | VQ_DESC_F_NEXT),
                             (uint16_t)(s * 2 + 1) };
    d[1] = (struct vq_desc){ (uintptr_t)buf + hdr_len, frame_len, write, 0 };
}

static void rx_post(unsigned s)
{
    fill(&rxq, s, rx_buf + s * BUF_SIZE, BUF_SIZE - hdr_len, VQ_DESC_F_WRITE);
    virtio_vq_push(&rxq, (uint16_t)(s * per_frame));
}

int virtio_net_probe(struct pci_dev *p)
{
    if (ready)
        return 0; /* one network device */
    if (virtio_dev_init(&dev, p, F_MAC | VIRTIO_F_ANY_LAYOUT) < 0)
        return 0;
    hdr_len = dev.modern ? 12 : 10;
    per_frame = (dev.modern || (dev.features & VIRTIO_F_ANY_LAYOUT)) ? 1 : 2;
    if (virtio_vq_setup(&dev, &rxq, 0, MAX_SLOTS) < 0 || virtio_vq_setup(&dev, &txq, 1, MAX_SLOTS) < 0)
        return 0;
    rx_slots = rxq.size / per_frame;
    tx_slots = txq.size / per_frame;
    if (rx_slots > MAX_SLOTS)
        rx_slots = MAX_SLOTS;
    if (tx_slots > MAX_SLOTS)
        tx_slots = MAX_SLOTS;
    rx_buf = virtio_alloc(rx_slots * BUF_SIZE);
    tx_buf = virtio_alloc(tx_slots * BUF_SIZE);
    __builtin_memset(tx_buf, 0, tx_slots * BUF_SIZE); /* the headers stay zero */
    for (unsigned s = 0; s < tx_slots; s++)
        tx_free[s] = (uint16_t)(tx_slots - 1 - s);
    tx_nfree = tx_slots;
    if (dev.features & F_MAC) {
        for (uint32_t i = 0; i < 6; i++)
            mac[i] = virtio_cfg8(&dev, i);
    } else { /* a locally administered address of our own */
        uint64_t r = x86_rdtsc();
        mac[0] = 0x02;
        for (int i = 1; i < 6; i++)
            mac[i] = (uint8_t)(r >> (8 * i));
    }
    virtio_vq_interrupts(&txq, 0);
    for (unsigned s = 0; s < rx_slots; s++)
        rx_post(s);
    virtio_dev_ready(&dev);
    virtio_vq_kick(&rxq);
    ready = 1;
    return 1;
}

plat_result_t plat_net_info(struct plat_net_info *info)
{
    if (!ready)
        return PLAT_EINVAL;
    for (int i = 0; i < 6; i++)
        info->mac[i] = mac[i];
    info->mtu = MTU;
    return PLAT_OK;
}

static void tx_reclaim(void)
{
    uint16_t id;
    uint32_t len;
    while (virtio_vq_pop(&txq, &id, &len))
        if (id / per_frame < tx_slots && tx_nfree < tx_slots)
            tx_free[tx_nfree++] = (uint16_t)(id / per_frame);
}

plat_result_t plat_net_write(const void *buf, size_t len)
{
    if (!ready || len < 14 || len > MTU + 18)
        return PLAT_EINVAL;
    if (tx_nfree == 0) {
        tx_reclaim();
        if (tx_nfree == 0) {
            virtio_vq_kick(&txq); /* the device may not have seen them yet */
            tx_reclaim();
        }
        if (tx_nfree == 0) {
            tx_was_full = 1;
            return PLAT_EAGAIN;
        }
    }
    unsigned s = tx_free[--tx_nfree];
    uint8_t *b = tx_buf + s * BUF_SIZE;
    __builtin_memcpy(b + hdr_len, buf, len); /* the runtime (musl) provides memcpy */
    fill(&txq, s, b, (uint32_t)len, 0);
    virtio_vq_push(&txq, (uint16_t)(s * per_frame));
    return PLAT_OK;
}

plat_result_t plat_net_read(void *buf, size_t size, size_t *len)
{
    uint16_t id;
    uint32_t n;
    if (!ready)
        return PLAT_EINVAL;
    if (!virtio_vq_pop(&rxq, &id, &n))
        return PLAT_EAGAIN;
    unsigned s = id / per_frame;
    if (s >= rx_slots) /* a device bug: ignore the entry */
        return PLAT_EAGAIN;
    plat_result_t r = PLAT_EINVAL;
    if (n >= hdr_len && n - hdr_len <= size) {
        __builtin_memcpy(buf, rx_buf + s * BUF_SIZE + hdr_len, n - hdr_len);
        *len = n - hdr_len;
        r = PLAT_OK;
    }
    rx_post(s);
    return r;
}

void plat_net_flush(void)
{
    if (!ready)
        return;
    virtio_vq_kick(&txq);
    virtio_vq_kick(&rxq);
}

uint32_t virtio_net_events(void)
{
    if (!ready)
        return 0;
    plat_net_flush();
    uint32_t ev = virtio_vq_pending(&rxq) ? PLAT_EV_NET_RX : 0;
    if (tx_was_full) {
        tx_reclaim();
        if (tx_nfree) {
            tx_was_full = 0;
            virtio_vq_interrupts(&txq, 0);
            ev |= PLAT_EV_NET_TX;
        } else {
            virtio_vq_interrupts(&txq, 1); /* wake plat_wait() when room comes */
            tx_reclaim();
            if (tx_nfree) {
                tx_was_full = 0;
                virtio_vq_interrupts(&txq, 0);
                ev |= PLAT_EV_NET_TX;
            }
        }
    }
    return ev;
}
