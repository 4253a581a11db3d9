/* virtio_guest.h: internals of the virtio guest bindings (libvirtio.a),
 * shared by the files of platform/virtio/ that implement plat.h. Not part
 * of plat.h. The guest runs at CPL0 on one CPU with interrupts masked
 * (IF=0) everywhere except inside virtio_idle(), so no code here is ever
 * interrupted: the interrupt stubs only acknowledge and record. */
#ifndef ZL_VIRTIO_GUEST_H
#define ZL_VIRTIO_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* ---- port and memory-mapped I/O ---- */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* Device registers: volatile accesses of exactly the given width. */
static inline uint8_t mmio_r8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t mmio_r16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t mmio_r32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_w8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_w16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void mmio_w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* Ordering against the device (another host thread): x86 keeps stores in
 * order and loads in order, so only the compiler must be stopped, except
 * for a store followed by a load (a full fence). */
#define barrier() __asm__ __volatile__("" ::: "memory")
#define mb() __asm__ __volatile__("mfence" ::: "memory")

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ __volatile__("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- start.c ---- */

/* Exit statuses (and their codes on QEMU's isa-debug-exit, see start.c). */
#define VIRTIO_EXIT_ABORT 134
#define VIRTIO_EXIT_FAULT 139

/* Memory for the drivers (queues, buffers), taken from the RAM right
 * after the image while the devices are set up, before the runtime
 * starts (plat_mem_start() is above it): page-aligned, not zeroed.
 * Aborts when RAM runs short or after the runtime started. */
void *virtio_alloc(size_t size);

/* End the guest with a status (plat_exit) without further output. */
_Noreturn void virtio_exit(int status);

/* Debug output during boot and in reports: one line, prefixed
 * "zonelet-virtio: ". */
void virtio_log(const char *a, const char *b, const char *c);

/* ---- console.c ---- */

void virtio_console_init(void);

/* ---- cpu.c ---- */

struct cpu_info {
    int fsgsbase, rdrand, x2apic, invariant_tsc;
    int kvm_clock; /* KVM's paravirtual clock (kvmclock) is there */
};
extern struct cpu_info virtio_cpu;

/* The image as the linker laid it out (virtio.ld). */
extern char __ehdr_start[], __etext[], __rodata_start[], __rodata_end[], __data_start[];
extern char _edata[], __bss_end[], _end[];

/* GDT with a TSS, IDT, SSE, CPU features, then the final page tables:
 * the image W^X with guard pages, RAM [_end, ram_end) read/write and
 * no-execute, page 0 and everything else unmapped. */
void virtio_cpu_init(uint64_t ram_end);

/* Map [phys, phys + len) for a device: read/write, uncached, no-execute,
 * identity (virtual == physical). Returns the address to use. */
uintptr_t virtio_map_mmio(uint64_t phys, uint64_t len);

/* Sleep until an interrupt: "sti; hlt; cli". An interrupt that became
 * pending before (while IF was 0) ends it at once, so a caller checks its
 * condition, then calls this, then checks again. */
static inline void virtio_idle(void)
{
    __asm__ __volatile__("sti; hlt; cli" ::: "memory");
}

/* Interrupt vectors. The stubs set a bit in virtio_irq_seen and acknowledge
 * the local APIC; nothing else happens in interrupt context. */
#define IRQ_TIMER 0x20
#define IRQ_DEVICE 0x21 /* every virtio queue (MSI-X) */
#define IRQ_SPURIOUS 0xff
extern volatile uint64_t virtio_irq_seen;
extern uintptr_t virtio_lapic; /* the local APIC's registers (xAPIC, mapped) */

/* A fault (called by the stubs): returns if it was the first touch of a
 * RAM chunk (now mapped and zero), else reports it and ends the guest. */
struct x86_fault_frame;
void virtio_fault(struct x86_fault_frame *f);

/* Map (and zero) the RAM in [a, a + len) that is not mapped yet, before a
 * device writes or reads it: DMA does not fault. */
void virtio_prepare_dma(uintptr_t a, size_t len);

/* Report msg, the registers at the caller and a backtrace, as for a fault
 * (plat_abort). */
void virtio_report_here(const char *msg, uint64_t rip, uint64_t rbp);

/* The image's file name for the reports' "backtrace (NAME):" line
 * (borrowed; must stay valid). */
void virtio_set_image_name(const char *name);

/* ---- time.c ---- */

/* TSC and local APIC timer calibrated (kvmclock, else the PIT), wall
 * clock read (kvmclock, else the CMOS RTC). Needs virtio_cpu_init(). */
void virtio_time_init(void);

/* Arm the local APIC timer to fire IRQ_TIMER after ns (capped; 0 stops
 * it). */
void virtio_time_arm(uint64_t ns);

/* ---- pci.c ---- */

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint64_t bar[6];     /* base addresses (I/O ports or memory), 0 if none */
    uint8_t bar_io[6];   /* 1 if the BAR is an I/O port range */
};

uint32_t virtio_pci_read32(const struct pci_dev *d, uint8_t off);
uint16_t virtio_pci_read16(const struct pci_dev *d, uint8_t off);
uint8_t virtio_pci_read8(const struct pci_dev *d, uint8_t off);
void virtio_pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);

/* Call found() for every function on bus 0 and the buses behind its
 * bridges. */
void virtio_pci_scan(void (*found)(struct pci_dev *d));

/* Offset of the first capability with this id at or after the one at
 * start (0: from the list head), 0 if none. */
uint8_t virtio_pci_cap(const struct pci_dev *d, uint8_t id, uint8_t start);

/* Turn on I/O and memory decoding and bus mastering (DMA). */
void virtio_pci_enable(const struct pci_dev *d);

/* Route MSI-X table entry 0 of d to IRQ_DEVICE on this CPU and enable
 * MSI-X (INTx off). 0 on success, -1 without MSI-X. */
int virtio_pci_msix(const struct pci_dev *d);

/* ---- virtio.c: the transport (legacy and modern PCI) and split queues ---- */

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2

struct vq {
    uint16_t size;   /* entries, a power of two */
    uint16_t index;  /* queue number on the device */
    struct vq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint8_t *used;   /* flags, idx, ring[size] of {id, len}, avail_event */
    uint16_t avail_idx;       /* next free avail slot (free-running) */
    uint16_t used_seen;       /* next used entry to read (free-running) */
    uint16_t kicked_idx;      /* avail_idx when the device was last notified */
    uintptr_t notify;         /* modern: notification address; legacy: 0 */
    struct vdev *dev;
};

struct vdev {
    struct pci_dev pci;
    int modern;         /* virtio 1.x registers, else legacy (0.9.5) */
    int msix;           /* MSI-X routes its interrupts (else: polled) */
    uint16_t io;        /* legacy: I/O port base (BAR 0) */
    uintptr_t common;   /* modern: common configuration */
    uintptr_t notify_base;
    uint32_t notify_mult;
    uintptr_t devcfg;   /* modern: device-specific configuration */
    uint64_t features;  /* negotiated */
};

#define VIRTIO_F_ANY_LAYOUT (1ull << 27)
#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Reset d, acknowledge it and negotiate: the device's features AND
 * wanted (VIRTIO_F_VERSION_1 is added for modern devices). 0 on success
 * (d->features holds the result), -1 if the device refused. */
int virtio_dev_init(struct vdev *d, struct pci_dev *p, uint64_t wanted);

/* Set up queue index: at most max entries on a modern device; a legacy
 * device fixes its own size (up to 1024, memory from virtio_alloc). 0 on
 * success, -1 if the device has no such queue or refuses it. */
int virtio_vq_setup(struct vdev *d, struct vq *q, uint16_t index, uint16_t max);

/* Tell the device it may start (DRIVER_OK). */
void virtio_dev_ready(struct vdev *d);

/* Device configuration bytes at off (little-endian fields). */
uint8_t virtio_cfg8(const struct vdev *d, uint32_t off);
uint32_t virtio_cfg32(const struct vdev *d, uint32_t off);
uint64_t virtio_cfg64(const struct vdev *d, uint32_t off);

/* Publish descriptor chain head in the avail ring (not yet notified). */
void virtio_vq_push(struct vq *q, uint16_t head);

/* Notify the device if anything was pushed since the last notification
 * and it did not ask to be left alone. */
void virtio_vq_kick(struct vq *q);

/* The next used element: 1 and *id, *len set, or 0 if none. */
int virtio_vq_pop(struct vq *q, uint16_t *id, uint32_t *len);

/* 1 if a used element is waiting. */
int virtio_vq_pending(const struct vq *q);

/* Ask for (on = 1) or suppress (0) interrupts when the device uses
 * buffers of q. */
void virtio_vq_interrupts(struct vq *q, int on);

/* Submit one chain and wait (sleeping in virtio_idle) until the device used
 * it; the queue must have nothing else in flight. Returns the used
 * length. */
uint32_t virtio_vq_run(struct vq *q, uint16_t head);

/* Devices without MSI-X: they cannot wake the CPU, so waits poll them
 * (every 1 ms). */
extern int virtio_polled_devices;

/* ---- drivers (probe: the device was found; 1 if taken into use) ---- */

int virtio_net_probe(struct pci_dev *p);
int virtio_block_probe(struct pci_dev *p);
int virtio_rng_probe(struct pci_dev *p);

/* net.c, for plat_wait(): the pending PLAT_EV_* events (RX: frames wait;
 * TX: room after a refused write); hands new buffers and frames to the
 * device first. */
uint32_t virtio_net_events(void);

/* random.c: n bytes from virtio-rng; 0 on success, -1 without one. */
int virtio_rng_read(void *buf, size_t n);

/* ---- acpi.c ---- */

/* Find the power-off registers in the ACPI tables (RSDP, FADT, \_S5 in
 * the DSDT). Call while low memory is still mapped (before virtio_cpu_init). */
void virtio_acpi_init(void);

/* Power off through ACPI; returns if that is not possible. */
void virtio_acpi_poweroff(void);

#endif
