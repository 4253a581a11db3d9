/* PCI configuration space (mechanism #1, ports 0xcf8/0xcfc), the bus
 * scan, and MSI-X. The firmware (SeaBIOS under QEMU) has assigned the
 * BARs; this code reads them and maps what a driver needs. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define CFG_ADDR 0xcf8
#define CFG_DATA 0xcfc
#define PCI_CAP_MSIX 0x11

static uint32_t addr(const struct pci_dev *d, uint8_t off)
{
    return 0x80000000u | ((uint32_t)d->bus << 16) | ((uint32_t)d->dev << 11) |
           ((uint32_t)d->fn << 8) | (off & 0xfc);
}

uint32_t virtio_pci_read32(const struct pci_dev *d, uint8_t off)
{
    outl(CFG_ADDR, addr(d, off));
    return inl(CFG_DATA);
}

uint16_t virtio_pci_read16(const struct pci_dev *d, uint8_t off)
{
    return (uint16_t)(virtio_pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t virtio_pci_read8(const struct pci_dev *d, uint8_t off)
{
    return (uint8_t)(virtio_pci_read32(d, off) >> ((off & 3) * 8));
}

void virtio_pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
    outl(CFG_ADDR, addr(d, off));
    outw((uint16_t)(CFG_DATA + (off & 2)), v);
}

static void read_bars(struct pci_dev *d)
{
    for (int i = 0; i < 6; i++) {
        uint32_t b = virtio_pci_read32(d, (uint8_t)(0x10 + 4 * i));
        d->bar[i] = 0;
        d->bar_io[i] = b & 1;
        if (b & 1) {
            d->bar[i] = b & ~3u;
        } else if (((b >> 1) & 3) == 2 && i < 5) { /* 64-bit memory BAR */
            d->bar[i] = (b & ~15u) | ((uint64_t)virtio_pci_read32(d, (uint8_t)(0x14 + 4 * i)) << 32);
            i++;
        } else {
            d->bar[i] = b & ~15u;
        }
    }
}

static void scan_bus(uint8_t bus, void (*found)(struct pci_dev *d), int depth);

static void scan_fn(struct pci_dev *d, void (*found)(struct pci_dev *d), int depth)
{
    uint32_t class = virtio_pci_read32(d, 0x08) >> 8;
    if ((class >> 8) == 0x0604 && depth < 8) { /* PCI-to-PCI bridge: the bus behind it */
        uint8_t secondary = virtio_pci_read8(d, 0x19);
        if (secondary > d->bus)
            scan_bus(secondary, found, depth + 1);
        return;
    }
    read_bars(d);
    found(d);
}

static void scan_bus(uint8_t bus, void (*found)(struct pci_dev *d), int depth)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t fn = 0; fn < 8; fn++) {
            struct pci_dev d = { .bus = bus, .dev = dev, .fn = fn };
            uint32_t id = virtio_pci_read32(&d, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;
                continue;
            }
            d.vendor = (uint16_t)id;
            d.device = (uint16_t)(id >> 16);
            scan_fn(&d, found, depth);
            if (fn == 0 && !(virtio_pci_read8(&d, 0x0e) & 0x80)) /* not multi-function */
                break;
        }
    }
}

void virtio_pci_scan(void (*found)(struct pci_dev *d))
{
    scan_bus(0, found, 0);
}

uint8_t virtio_pci_cap(const struct pci_dev *d, uint8_t id, uint8_t start)
{
    if (!(virtio_pci_read16(d, 0x06) & 0x10)) /* no capability list */
        return 0;
    uint8_t p = start ? virtio_pci_read8(d, (uint8_t)(start + 1)) : virtio_pci_read8(d, 0x34);
    for (int n = 0; p >= 0x40 && n < 48; n++) { /* bounded: a loop in the list ends it */
        if (virtio_pci_read8(d, p) == id)
            return p;
        p = virtio_pci_read8(d, (uint8_t)(p + 1));
    }
    return 0;
}

int virtio_pci_msix(const struct pci_dev *d)
{
    uint8_t cap = virtio_pci_cap(d, PCI_CAP_MSIX, 0);
    if (!cap)
        return -1;
    uint32_t table = virtio_pci_read32(d, (uint8_t)(cap + 4));
    unsigned bir = table & 7;
    if (bir > 5 || d->bar_io[bir] || !d->bar[bir])
        return -1;
    uintptr_t t = virtio_map_mmio(d->bar[bir] + (table & ~7u), 16);
    uint32_t apic_id = mmio_r32(virtio_lapic + 0x20) >> 24;
    mmio_w32(t + 0, 0xfee00000u | (apic_id << 12)); /* message address: this CPU */
    mmio_w32(t + 4, 0);
    mmio_w32(t + 8, IRQ_DEVICE); /* fixed delivery, edge */
    mmio_w32(t + 12, 0);         /* unmasked */
    uint16_t ctl = virtio_pci_read16(d, (uint8_t)(cap + 2));
    /* enable, no function mask */
    virtio_pci_write16(d, (uint8_t)(cap + 2), (uint16_t)((ctl | 0x8000) & ~0x4000));
    uint16_t cmd = virtio_pci_read16(d, 0x04);
    virtio_pci_write16(d, 0x04, (uint16_t)(cmd | 0x0400)); /* INTx off */
    return 0;
}

void virtio_pci_enable(const struct pci_dev *d)
{
    uint16_t cmd = virtio_pci_read16(d, 0x04);
    virtio_pci_write16(d, 0x04, (uint16_t)(cmd | 0x0007)); /* I/O, memory, bus master */
}
