/* virtio boot: from the multiboot hand-over (boot.S) to the runtime; boot
 * arguments, memory, TLS base, exit and abort (plat.h).
 *
 * Exit status. QEMU's isa-debug-exit device (port 0xf4) ends QEMU with
 * status (value << 1) | 1: seven bits, always odd, and 1 is also what QEMU
 * itself exits with on its own errors. So the guest writes status + 1 for
 * statuses 0..123, 126 for an abort (plat_abort, 134) and 127 for a fault
 * (139); any other status is printed as "zonelet-virtio: exit status N"
 * and written as 125. The launcher (zonelet-virtio) maps QEMU's status
 * back. Without the device (another hypervisor) the guest prints the
 * status line and powers off through ACPI. */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"

#define MB_MAGIC 0x2badb002u
#define MB_FLAG_CMDLINE (1u << 2)
#define MB_FLAG_MMAP (1u << 6)
#define DEBUG_EXIT_PORT 0xf4
#define CMDLINE_MAX 8192

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb_mmap {
    uint32_t size; /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type; /* 1: available RAM */
} __attribute__((packed));

static char cmdline[CMDLINE_MAX];
static char image_path[256];
static uintptr_t mem_start, mem_end, alloc_next;
static uintptr_t tls_base;
static int running; /* the runtime started: no more virtio_alloc() */

void virtio_boot(uint32_t magic, uint32_t mbi);

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void virtio_log(const char *a, const char *b, const char *c)
{
    plat_console_write("zonelet-virtio: ", 16);
    plat_console_write(a, slen(a));
    if (b)
        plat_console_write(b, slen(b));
    if (c)
        plat_console_write(c, slen(c));
    plat_console_write("\n", 1);
}

/* QEMU passes "IMAGE-PATH ARGS": the launcher refuses whitespace in the
 * path, so the boot arguments start after the first space. */
static void copy_cmdline(const struct mb_info *mb)
{
    if (!(mb->flags & MB_FLAG_CMDLINE) || !mb->cmdline)
        return;
    const char *s = (const char *)(uintptr_t)mb->cmdline;
    size_t n = 0;
    while (*s && *s != ' ') {
        if (n < sizeof(image_path) - 1)
            image_path[n++] = *s;
        s++;
    }
    if (n)
        virtio_set_image_name(image_path);
    while (*s == ' ')
        s++;
    n = 0;
    while (s[n] && n < CMDLINE_MAX - 1) {
        cmdline[n] = s[n];
        n++;
    }
    while (n > 0 && cmdline[n - 1] == ' ')
        n--;
    cmdline[n] = '\0';
}

/* End of the RAM region the image is in (the memory map's available
 * entry holding 1 MiB), below 4 GiB. */
static uint64_t ram_end_from(const struct mb_info *mb)
{
    uint64_t end = 0x100000ull + (uint64_t)mb->mem_upper * 1024;
    if (mb->flags & MB_FLAG_MMAP) {
        uintptr_t p = mb->mmap_addr, stop = p + mb->mmap_length;
        while (p + sizeof(struct mb_mmap) <= stop) {
            const struct mb_mmap *e = (const struct mb_mmap *)p;
            if (e->type == 1 && e->addr <= 0x100000 && e->addr + e->len > 0x100000)
                end = e->addr + e->len;
            p += e->size + 4;
        }
    }
    if (end > 0xfec00000ull) /* where the APICs begin */
        end = 0xfec00000ull;
    return end & ~0xfffull;
}

static int probe(struct pci_dev *d)
{
    if (d->vendor != 0x1af4)
        return 0;
    switch (d->device) { /* transitional (0x1000 + n) and modern (0x1040 + type) ids */
    case 0x1000: case 0x1041: return virtio_net_probe(d);
    case 0x1001: case 0x1042: return virtio_block_probe(d);
    case 0x1005: case 0x1044: return virtio_rng_probe(d);
    }
    return 0;
}

static void found(struct pci_dev *d)
{
    (void)probe(d);
}

void virtio_boot(uint32_t magic, uint32_t mbi)
{
    virtio_console_init();
    if (magic != MB_MAGIC)
        plat_abort("not started by a multiboot loader (QEMU -kernel)");
    const struct mb_info *mb = (const struct mb_info *)(uintptr_t)mbi;
    copy_cmdline(mb);
    mem_start = alloc_next = ((uintptr_t)_end + 4095) & ~(uintptr_t)4095;
    mem_end = ram_end_from(mb);
    if (mem_end < mem_start + (2u << 20))
        plat_abort("less than 2 MiB of RAM after the image");
    virtio_acpi_init();
    virtio_cpu_init(mem_end);
    virtio_time_init();
    virtio_pci_scan(found);
    mem_start = alloc_next;
    running = 1;
    plat_runtime_start();
    plat_abort("plat_runtime_start returned");
}

void *virtio_alloc(size_t size)
{
    size = (size + 4095) & ~(size_t)4095;
    if (running || mem_end - alloc_next < size + (1u << 20))
        plat_abort("virtio: no memory for the device queues");
    void *p = (void *)alloc_next;
    alloc_next += size;
    virtio_prepare_dma((uintptr_t)p, size);
    return p;
}

const char *plat_cmdline(void)
{
    return cmdline;
}

uintptr_t plat_mem_start(void)
{
    return mem_start;
}

uintptr_t plat_mem_end(void)
{
    return mem_end;
}

void plat_set_tls_base(uintptr_t base)
{
    tls_base = base;
    if (virtio_cpu.fsgsbase)
        __asm__ __volatile__("wrfsbase %0" : : "r"((uint64_t)base) : "memory");
    else
        wrmsr(0xc0000100, base); /* IA32_FS_BASE */
}

uintptr_t plat_get_tls_base(void)
{
    return tls_base;
}

static void put_status(int status)
{
    char d[4] = { 0 };
    unsigned v = (unsigned)status & 0xff;
    int n = 0;
    do {
        d[2 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    virtio_log("exit status ", d + 3 - n, NULL);
}

void virtio_exit(int status)
{
    status &= 0xff;
    uint8_t code = status <= 123 ? (uint8_t)(status + 1)
                   : status == VIRTIO_EXIT_ABORT ? 126
                   : status == VIRTIO_EXIT_FAULT ? 127 : 125;
    if (code == 125)
        put_status(status);
    outb(DEBUG_EXIT_PORT, code);
    /* Still here: no isa-debug-exit device. */
    if (code != 125)
        put_status(status);
    virtio_acpi_poweroff();
    for (;;)
        __asm__ __volatile__("cli; hlt");
}

void plat_exit(int status)
{
    virtio_exit(status);
}

void plat_abort(const char *msg)
{
    uint64_t rip;
    __asm__ __volatile__("leaq 0(%%rip), %0" : "=r"(rip));
    virtio_report_here(msg, rip, (uint64_t)(uintptr_t)__builtin_frame_address(0));
    virtio_exit(VIRTIO_EXIT_ABORT);
}
