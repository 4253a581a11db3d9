/* The virtio PCI transport, both register layouts QEMU offers
 * (disable-legacy=on / disable-modern=on; by default a device has both):
 *  - modern (virtio 1.x): vendor capabilities point at the common,
 *    notification and device configuration structures in memory BARs;
 *  - legacy (0.9.5): one I/O BAR with fixed offsets.
 * A device with modern capabilities is driven as modern. Queues are split
 * rings laid out as the legacy interface requires (descriptors, available
 * ring, then the used ring on the next 4 KiB boundary), which modern
 * devices accept too. All device interrupts are MSI-X entry 0, vector
 * IRQ_DEVICE: they only wake the CPU, the drivers look at their rings. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_FAILED 128
#define NO_VECTOR 0xffff
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

/* Legacy I/O registers. */
#define L_HOST_FEATURES 0x00
#define L_GUEST_FEATURES 0x04
#define L_QUEUE_PFN 0x08
#define L_QUEUE_SIZE 0x0c
#define L_QUEUE_SEL 0x0e
#define L_QUEUE_NOTIFY 0x10
#define L_STATUS 0x12
#define L_CONFIG_VECTOR 0x14 /* with MSI-X on */
#define L_QUEUE_VECTOR 0x16

/* Modern common configuration. */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX_CONFIG 0x10
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOTIFY_OFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30

#define CAP_VENDOR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

#define QUEUE_MAX 1024
#define REQUEST_TIMEOUT_NS (30ull * 1000000000ull)

int virtio_polled_devices;

static void set_status(struct vdev *d, uint8_t s)
{
    if (d->modern)
        mmio_w8(d->common + C_STATUS, s);
    else
        outb((uint16_t)(d->io + L_STATUS), s);
}

static uint8_t get_status(const struct vdev *d)
{
    return d->modern ? mmio_r8(d->common + C_STATUS) : inb((uint16_t)(d->io + L_STATUS));
}

/* Modern devices describe their structures with vendor capabilities. */
static int find_modern(struct vdev *d)
{
    const struct pci_dev *p = &d->pci;
    for (uint8_t c = virtio_pci_cap(p, CAP_VENDOR, 0); c; c = virtio_pci_cap(p, CAP_VENDOR, c)) {
        uint8_t type = virtio_pci_read8(p, (uint8_t)(c + 3)), bar = virtio_pci_read8(p, (uint8_t)(c + 4));
        uint32_t off = virtio_pci_read32(p, (uint8_t)(c + 8));
        uint32_t len = virtio_pci_read32(p, (uint8_t)(c + 12));
        if (bar > 5 || p->bar_io[bar] || !p->bar[bar] || len == 0)
            continue;
        uint64_t at = p->bar[bar] + off;
        if (type == CFG_COMMON && !d->common) {
            d->common = virtio_map_mmio(at, len);
        } else if (type == CFG_NOTIFY && !d->notify_base) {
            d->notify_base = virtio_map_mmio(at, len);
            d->notify_mult = virtio_pci_read32(p, (uint8_t)(c + 16));
        } else if (type == CFG_DEVICE && !d->devcfg) {
            d->devcfg = virtio_map_mmio(at, len);
        }
    }
    return d->common && d->notify_base ? 0 : -1;
}

int virtio_dev_init(struct vdev *d, struct pci_dev *p, uint64_t wanted)
{
    *d = (struct vdev){ .pci = *p };
    virtio_pci_enable(p);
    if (find_modern(d) == 0) {
        d->modern = 1;
    } else if (p->bar_io[0] && p->bar[0]) {
        d->io = (uint16_t)p->bar[0];
    } else {
        return -1;
    }
    /* MSI-X first: on legacy devices it moves the device configuration. */
    d->msix = virtio_pci_msix(p) == 0;
    if (!d->msix)
        virtio_polled_devices++;
    set_status(d, 0);
    for (int i = 0; i < 1000000 && get_status(d) != 0; i++)
        __builtin_ia32_pause();
    set_status(d, ST_ACK);
    set_status(d, ST_ACK | ST_DRIVER);
    if (d->modern) {
        mmio_w32(d->common + C_DFSELECT, 0);
        uint64_t f = mmio_r32(d->common + C_DF);
        mmio_w32(d->common + C_DFSELECT, 1);
        f |= (uint64_t)mmio_r32(d->common + C_DF) << 32;
        if (!(f & VIRTIO_F_VERSION_1))
            goto failed;
        d->features = f & (wanted | VIRTIO_F_VERSION_1);
        mmio_w32(d->common + C_GFSELECT, 0);
        mmio_w32(d->common + C_GF, (uint32_t)d->features);
        mmio_w32(d->common + C_GFSELECT, 1);
        mmio_w32(d->common + C_GF, (uint32_t)(d->features >> 32));
        set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
        if (!(get_status(d) & ST_FEATURES_OK))
            goto failed;
        mmio_w16(d->common + C_MSIX_CONFIG, NO_VECTOR);
    } else {
        d->features = inl((uint16_t)(d->io + L_HOST_FEATURES)) & wanted & 0xffffffffu;
        outl((uint16_t)(d->io + L_GUEST_FEATURES), (uint32_t)d->features);
        if (d->msix)
            outw((uint16_t)(d->io + L_CONFIG_VECTOR), NO_VECTOR);
    }
    return 0;
failed:
    set_status(d, ST_FAILED);
    return -1;
}

void virtio_dev_ready(struct vdev *d)
{
    set_status(d, ST_ACK | ST_DRIVER | (d->modern ? ST_FEATURES_OK : 0) | ST_DRIVER_OK);
}

static uintptr_t cfg_io(const struct vdev *d, uint32_t off)
{
    return d->io + (d->msix ? 0x18u : 0x14u) + off;
}

uint8_t virtio_cfg8(const struct vdev *d, uint32_t off)
{
    return d->modern ? mmio_r8(d->devcfg + off) : inb((uint16_t)cfg_io(d, off));
}

uint32_t virtio_cfg32(const struct vdev *d, uint32_t off)
{
    return d->modern ? mmio_r32(d->devcfg + off) : inl((uint16_t)cfg_io(d, off));
}

uint64_t virtio_cfg64(const struct vdev *d, uint32_t off)
{
    return virtio_cfg32(d, off) | ((uint64_t)virtio_cfg32(d, off + 4) << 32);
}

static size_t ring_bytes(uint16_t n)
{
    size_t first = 16u * n + 2u * (3u + n);
    return ((first + 4095) & ~(size_t)4095) + 2u * 3u + 8u * n;
}

int virtio_vq_setup(struct vdev *d, struct vq *q, uint16_t index, uint16_t max)
{
    uint16_t n;
    if (d->modern) {
        mmio_w16(d->common + C_Q_SELECT, index);
        n = mmio_r16(d->common + C_Q_SIZE);
        while (n > max)
            n /= 2;
    } else {
        outw((uint16_t)(d->io + L_QUEUE_SEL), index);
        n = inw((uint16_t)(d->io + L_QUEUE_SIZE)); /* fixed by a legacy device */
    }
    if (n == 0 || n > QUEUE_MAX || (n & (n - 1)))
        return -1;
    uint8_t *mem = virtio_alloc(ring_bytes(n));
    __builtin_memset(mem, 0, ring_bytes(n));
    *q = (struct vq){ .size = n, .index = index, .dev = d };
    q->desc = (struct vq_desc *)mem;
    q->avail = (volatile uint16_t *)(mem + 16u * n);
    q->used = mem + ((16u * n + 2u * (3u + n) + 4095) & ~4095u);
    if (d->modern) {
        mmio_w16(d->common + C_Q_SIZE, n);
        if (d->msix) {
            mmio_w16(d->common + C_Q_MSIX, 0);
            if (mmio_r16(d->common + C_Q_MSIX) != 0)
                return -1;
        }
        uint64_t a[3] = { (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used };
        for (int i = 0; i < 3; i++) {
            mmio_w32(d->common + C_Q_DESC + 8u * (unsigned)i, (uint32_t)a[i]);
            mmio_w32(d->common + C_Q_DESC + 8u * (unsigned)i + 4, (uint32_t)(a[i] >> 32));
        }
        q->notify = d->notify_base + (uintptr_t)mmio_r16(d->common + C_Q_NOTIFY_OFF) * d->notify_mult;
        mmio_w16(d->common + C_Q_ENABLE, 1);
    } else {
        if (d->msix) {
            outw((uint16_t)(d->io + L_QUEUE_VECTOR), 0);
            if (inw((uint16_t)(d->io + L_QUEUE_VECTOR)) != 0)
                return -1;
        }
        outl((uint16_t)(d->io + L_QUEUE_PFN), (uint32_t)((uintptr_t)mem >> 12));
    }
    return 0;
}

void virtio_vq_push(struct vq *q, uint16_t head)
{
    q->avail[2 + (q->avail_idx & (q->size - 1))] = head;
    barrier(); /* the entry before the index */
    q->avail[1] = ++q->avail_idx;
}

void virtio_vq_kick(struct vq *q)
{
    if (q->kicked_idx == q->avail_idx)
        return;
    mb(); /* the index store before the flags load */
    q->kicked_idx = q->avail_idx;
    if (*(volatile uint16_t *)q->used & USED_F_NO_NOTIFY)
        return;
    if (q->notify)
        mmio_w16(q->notify, q->index);
    else
        outw((uint16_t)(q->dev->io + L_QUEUE_NOTIFY), q->index);
}

int virtio_vq_pending(const struct vq *q)
{
    return *(volatile uint16_t *)(q->used + 2) != q->used_seen;
}

int virtio_vq_pop(struct vq *q, uint16_t *id, uint32_t *len)
{
    if (!virtio_vq_pending(q))
        return 0;
    barrier(); /* the index before the entry */
    uint32_t slot = q->used_seen & (q->size - 1u);
    volatile const uint32_t *e = (volatile const uint32_t *)(q->used + 4 + 8u * slot);
    *id = (uint16_t)e[0];
    *len = e[1];
    q->used_seen++;
    return 1;
}

void virtio_vq_interrupts(struct vq *q, int on)
{
    q->avail[0] = on ? 0 : AVAIL_F_NO_INTERRUPT;
    mb();
}

uint32_t virtio_vq_run(struct vq *q, uint16_t head)
{
    uint16_t id;
    uint32_t len = 0;
    virtio_vq_push(q, head);
    virtio_vq_kick(q);
    uint64_t give_up = plat_clock_monotonic_ns() + REQUEST_TIMEOUT_NS;
    while (!virtio_vq_pending(q)) {
        uint64_t now = plat_clock_monotonic_ns();
        if (now >= give_up)
            plat_abort("virtio: a device did not complete a request within 30 s");
        virtio_time_arm(q->dev->msix ? give_up - now : 1000000);
        virtio_idle();
    }
    while (virtio_vq_pop(q, &id, &len) && id != head)
        ;
    return len;
}
