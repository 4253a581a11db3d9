/* virtio CPU set-up: descriptor tables, page tables, the local APIC and
 * fault reports. The guest runs at CPL0 (a multiboot kernel); hvt guests
 * get all of this from their monitor instead.
 *
 * Interrupts stay masked (IF=0) except inside virtio_idle(), so they never
 * interrupt guest code; every vector uses an IST stack anyway (the red
 * zone below the interrupted rsp is left alone, and a fault on a full
 * stack still gets reported). Exceptions go to virtio_fault(), which prints
 * the shared report (platform/x86_64/fault.h) and ends the guest (139).
 *
 * RAM after the image is mapped on first touch, 2 MiB at a time (4 KiB
 * in the partial 2 MiB at either end, where the device queues and the
 * runtime's first pages are), and zeroed then: the firmware leaves data
 * in memory it used (SeaBIOS: about 120 KiB some 16 MiB below the top),
 * plat.h promises zero, and zeroing
 * all of it at boot would make the host commit every page (~380 ms for
 * 64 MiB under TCG). That #PF returns to the faulting instruction; this
 * file is compiled with -mgeneral-regs-only so the handler leaves the
 * interrupted code's SSE registers alone. Memory a device will write
 * (DMA) is mapped first: virtio_prepare_dma(). */
#include "platform/include/plat.h"
#include "platform/virtio/virtio_guest.h"
#include "platform/x86_64/fault.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define PAGE 4096ull
#define LARGE (2ull << 20)
#define PT_POOL 48 /* page-table pages: the image in 4 KiB pages, RAM in 2 MiB ones, devices */

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

struct cpu_info virtio_cpu;
volatile uint64_t virtio_irq_seen;
uintptr_t virtio_lapic;

/* boot.S: stacks (each with an unmapped page below), stubs. */
extern char virtio_boot_stack[], virtio_boot_stack_top[];
extern char virtio_ist_fault[], virtio_ist_fault_top[];
extern char virtio_ist_irq[], virtio_ist_irq_top[];
extern char virtio_ist_df[], virtio_ist_df_top[];
extern char virtio_exc_stubs[], virtio_irq_stubs[]; /* 16 bytes per vector */

#define CHUNK (2ull << 20)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t lazy_lo, lazy_hi; /* RAM mapped on first touch */
static uint8_t pt_pool[PT_POOL][4096] __attribute__((aligned(4096)));
static unsigned pt_used;
static uint64_t ram_top;

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss tss __attribute__((aligned(16)));
static uint64_t gdt[5] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0, 0 };

struct gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
};
static struct gate idt[256] __attribute__((aligned(16)));

struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* ---- page tables ---- */

static uint64_t *next_level(uint64_t *table, unsigned i)
{
    if (!(table[i] & PTE_P)) {
        if (pt_used == PT_POOL)
            plat_abort("virtio: out of page-table pages");
        table[i] = (uint64_t)(uintptr_t)pt_pool[pt_used++] | PTE_P | PTE_RW;
    } else if (table[i] & PTE_PS) {
        plat_abort("virtio: page mapping overlaps a 2 MiB page");
    }
    return (uint64_t *)(uintptr_t)(table[i] & PTE_ADDR);
}

static void map(uint64_t va, uint64_t flags, int large)
{
    uint64_t *pdpt = next_level(pml4, (va >> 39) & 511);
    uint64_t *pd = next_level(pdpt, (va >> 30) & 511);
    if (large) {
        pd[(va >> 21) & 511] = va | flags | PTE_PS;
        return;
    }
    uint64_t *pt = next_level(pd, (va >> 21) & 511);
    pt[(va >> 12) & 511] = va | flags;
    __asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

/* [lo, hi) rounded out to pages; 2 MiB pages where they fit if large. */
static void map_range(uint64_t lo, uint64_t hi, uint64_t flags, int large)
{
    lo &= ~(PAGE - 1);
    hi = (hi + PAGE - 1) & ~(PAGE - 1);
    while (lo < hi) {
        if (large && lo % LARGE == 0 && hi - lo >= LARGE) {
            map(lo, flags, 1);
            lo += LARGE;
        } else {
            map(lo, flags, 0);
            lo += PAGE;
        }
    }
}

uintptr_t virtio_map_mmio(uint64_t phys, uint64_t len)
{
    map_range(phys, phys + len, PTE_P | PTE_RW | PTE_PCD | PTE_PWT | PTE_NX, 0);
    return (uintptr_t)phys;
}

static void zero(uint64_t lo, uint64_t hi)
{
    uint64_t n = (hi - lo) / 8;
    __asm__ __volatile__("rep stosq" : "+D"(lo), "+c"(n) : "a"(0ull) : "memory");
}

/* The page-table entry mapping va (a 2 MiB one for a large page), or
 * NULL if a level above it is missing. */
static uint64_t *entry(uint64_t va)
{
    uint64_t *t = pml4;
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t *e = &t[(va >> shift) & 511];
        if (shift == 12 || (shift == 21 && (*e & PTE_PS)))
            return e;
        if (!(*e & PTE_P))
            return NULL;
        t = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
    }
    return NULL;
}

static int partial(uint64_t chunk)
{
    return chunk < lazy_lo || chunk + CHUNK > lazy_hi;
}

static int mapped(uint64_t a)
{
    if (a < lazy_lo || a >= lazy_hi)
        return 0;
    uint64_t *e = entry(a);
    return e && (*e & PTE_P);
}

/* Map and zero what holds a (inside [lazy_lo, lazy_hi)): its 2 MiB
 * chunk, or only its 4 KiB page in a partial chunk at either end. 0 if
 * it was mapped now, -1 if a is outside or already mapped (a real
 * fault). */
static int materialize(uint64_t a)
{
    if (a < lazy_lo || a >= lazy_hi || mapped(a))
        return -1;
    uint64_t c = a & ~(CHUNK - 1);
    if (partial(c)) {
        uint64_t p = a & ~(PAGE - 1);
        map(p, PTE_P | PTE_RW | PTE_NX, 0);
        zero(p, p + PAGE);
    } else {
        map(c, PTE_P | PTE_RW | PTE_NX, 1);
        zero(c, c + CHUNK);
    }
    return 0;
}

void virtio_prepare_dma(uintptr_t a, size_t len)
{
    uint64_t p = a, end = (uint64_t)a + len;
    while (p < end) {
        (void)materialize(p);
        uint64_t c = p & ~(CHUNK - 1);
        p = partial(c) ? (p & ~(PAGE - 1)) + PAGE : c + CHUNK;
    }
}

/* The image W^X with every gap unmapped (page 0 and low memory too), the
 * stacks with guard pages below them. RAM comes on first touch. */
static void setup_paging(uint64_t ram_end)
{
    const uint64_t ro = PTE_P | PTE_NX, rw = PTE_P | PTE_RW | PTE_NX;
    map_range((uintptr_t)__ehdr_start, (uintptr_t)__etext, PTE_P, 0);
    map_range((uintptr_t)__rodata_start, (uintptr_t)__rodata_end, ro, 0);
    map_range((uintptr_t)__data_start, (uintptr_t)__bss_end, rw, 0);
    map_range((uintptr_t)virtio_boot_stack, (uintptr_t)virtio_boot_stack_top, rw, 0);
    map_range((uintptr_t)virtio_ist_fault, (uintptr_t)virtio_ist_fault_top, rw, 0);
    map_range((uintptr_t)virtio_ist_irq, (uintptr_t)virtio_ist_irq_top, rw, 0);
    map_range((uintptr_t)virtio_ist_df, (uintptr_t)virtio_ist_df_top, rw, 0);
    lazy_lo = ((uintptr_t)_end + PAGE - 1) & ~(PAGE - 1);
    lazy_hi = ram_end;
    ram_top = ram_end;
    __asm__ __volatile__("movq %0, %%cr3" : : "r"((uint64_t)(uintptr_t)pml4) : "memory");
}

/* ---- descriptor tables ---- */

static void set_gate(unsigned v, uintptr_t handler, uint8_t ist)
{
    idt[v] = (struct gate){ (uint16_t)handler, SEL_CODE, ist, 0x8e, (uint16_t)(handler >> 16),
                            (uint32_t)(handler >> 32), 0 };
}

static void setup_descriptors(void)
{
    uintptr_t t = (uintptr_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    tss.ist[0] = (uintptr_t)virtio_ist_fault_top;
    tss.ist[1] = (uintptr_t)virtio_ist_irq_top;
    tss.ist[2] = (uintptr_t)virtio_ist_df_top;
    tss.iomap_base = sizeof(tss); /* no I/O bitmap */
    gdt[3] = (limit & 0xffff) | ((uint64_t)(t & 0xffffff) << 16) | (0x89ull << 40) |
             (((limit >> 16) & 0xf) << 48) | ((uint64_t)((t >> 24) & 0xff) << 56);
    gdt[4] = (uint64_t)t >> 32;
    struct dtr g = { sizeof(gdt) - 1, (uintptr_t)gdt };
    __asm__ __volatile__("lgdt %0\n\t"
                         "pushq %1\n\t"
                         "leaq 1f(%%rip), %%rax\n\t"
                         "pushq %%rax\n\t"
                         "lretq\n"
                         "1:\tmovl %2, %%eax\n\t"
                         "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\t"
                         "ltr %w3"
                         :
                         : "m"(g), "i"(SEL_CODE), "i"(SEL_DATA), "r"((uint16_t)SEL_TSS)
                         : "rax", "memory");
    for (unsigned v = 0; v < 32; v++) /* #DF and NMI on a stack of their own */
        set_gate(v, (uintptr_t)virtio_exc_stubs + 16 * v, (v == 8 || v == 2) ? 3 : 1);
    for (unsigned v = 32; v < 256; v++)
        set_gate(v, (uintptr_t)virtio_irq_stubs + 16 * (v - 32), 2);
    struct dtr i = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ __volatile__("lidt %0" : : "m"(i) : "memory");
}

static void detect_features(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max = r[0];
    cpuid(1, 0, r);
    virtio_cpu.rdrand = (r[2] >> 30) & 1;
    virtio_cpu.x2apic = (r[2] >> 21) & 1;
    if (max >= 7) {
        cpuid(7, 0, r);
        virtio_cpu.fsgsbase = r[1] & 1;
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000007u) {
        cpuid(0x80000007u, 0, r);
        virtio_cpu.invariant_tsc = (r[3] >> 8) & 1;
    }
    cpuid(0x40000000u, 0, r); /* KVM's paravirtual leaves */
    if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d && r[0] >= 0x40000001u) {
        cpuid(0x40000001u, 0, r);
        virtio_cpu.kvm_clock = (r[0] >> 3) & 1; /* KVM_FEATURE_CLOCKSOURCE2 */
    }
}

/* The local APIC in xAPIC mode, every local interrupt source masked until
 * time.c arms the timer; the legacy 8259 PICs masked for good. */
static void setup_apic(void)
{
    uint64_t base = rdmsr(0x1b);
    if (base & (1u << 10))
        plat_abort("virtio: the local APIC is in x2APIC mode (not supported)");
    wrmsr(0x1b, base | (1u << 11));
    virtio_lapic = virtio_map_mmio(base & PTE_ADDR, PAGE);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    mmio_w32(virtio_lapic + 0x80, 0);           /* task priority: everything */
    mmio_w32(virtio_lapic + 0x320, 1u << 16);   /* timer masked */
    mmio_w32(virtio_lapic + 0x350, 1u << 16);   /* LINT0 */
    mmio_w32(virtio_lapic + 0x360, 1u << 16);   /* LINT1 */
    mmio_w32(virtio_lapic + 0x370, 1u << 16);   /* error */
    mmio_w32(virtio_lapic + 0xf0, 0x100 | IRQ_SPURIOUS); /* software enable */
}

void virtio_cpu_init(uint64_t ram_end)
{
    detect_features();
    setup_descriptors();
    setup_paging(ram_end);
    if (virtio_cpu.fsgsbase) {
        uint64_t cr4;
        __asm__ __volatile__("movq %%cr4, %0" : "=r"(cr4));
        __asm__ __volatile__("movq %0, %%cr4" : : "r"(cr4 | (1u << 16)));
    }
    setup_apic();
}

/* ---- fault reports ---- */

/* The image's function symbols, generated at link time
 * (platform/virtio/symtab.sh) into a second link; absent (address 0) in
 * images linked without them. */
struct zl_sym {
    uint64_t addr;
    uint32_t size, name;
};
extern const struct zl_sym zl_syms[] __attribute__((weak));
extern const uint64_t zl_syms_count __attribute__((weak));
extern const char zl_sym_names[] __attribute__((weak));

static const char *symbol(void *ctx, uint64_t addr, uint64_t *off)
{
    (void)ctx;
    if (!&zl_syms_count || !zl_syms_count || addr < (uintptr_t)__ehdr_start ||
        addr >= (uintptr_t)__etext)
        return NULL;
    uint64_t lo = 0, hi = zl_syms_count; /* the last symbol at or below addr */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (zl_syms[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const struct zl_sym *s = &zl_syms[lo];
    if (s->addr > addr || (s->size && addr - s->addr >= s->size))
        return NULL;
    *off = addr - s->addr;
    return zl_sym_names + s->name;
}

static int inside(uint64_t a, uint64_t len, const void *lo, const void *hi)
{
    return a >= (uintptr_t)lo && a <= (uintptr_t)hi && len <= (uintptr_t)hi - a;
}

/* Mapped, writable memory that can hold a stack frame. */
static int readable(uint64_t a, uint64_t len)
{
    return inside(a, len, virtio_boot_stack, virtio_boot_stack_top) ||
           inside(a, len, __data_start, __bss_end) ||
           (mapped(a) && mapped(a + len - 1));
}

static int read_frame(void *ctx, uint64_t a, uint64_t out[2])
{
    (void)ctx;
    if (!readable(a, 16))
        return -1;
    out[0] = ((const uint64_t *)(uintptr_t)a)[0];
    out[1] = ((const uint64_t *)(uintptr_t)a)[1];
    return 0;
}

static const char *where(void *ctx, uint64_t a)
{
    (void)ctx;
    if (a < PAGE)
        return " (NULL pointer dereference)";
    if (a < (uintptr_t)__ehdr_start)
        return " (low memory, not mapped)";
    if (a < (uintptr_t)_end) {
        if (a < (uintptr_t)__etext || inside(a, 1, __rodata_start, __rodata_end) ||
            inside(a, 1, __data_start, __bss_end) ||
            inside(a, 1, virtio_boot_stack, virtio_boot_stack_top))
            return "";
        return " (guard page between image segments: boot stack overflow?)";
    }
    if (ram_top && a >= ram_top)
        return " (beyond the end of guest memory)";
    return "";
}

static void line(void *ctx, const char *text)
{
    (void)ctx;
    virtio_log(text, NULL, NULL);
}

static const struct x86_report report = { line, symbol, read_frame, where, NULL };
static const char *image_name = "image";
static int reporting;

static uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ __volatile__("movq %%cr2, %0" : "=r"(v));
    return v;
}

void virtio_fault(struct x86_fault_frame *f)
{
    if (f->vector == 14 && !(f->error_code & 1) && !reporting && materialize(read_cr2()) == 0)
        return; /* first touch of RAM */
    if (reporting++) /* a fault while reporting one */
        virtio_exit(VIRTIO_EXIT_FAULT);
    struct x86_regs r;
    r.cr2 = read_cr2();
    r.fs_base = plat_get_tls_base();
    x86_regs_from_frame(&r, f);
    if (f->vector >= 32)
        virtio_log("guest stopped by an unexpected interrupt", NULL, NULL);
    else
        x86_report_exception(&report, f->vector, f->error_code, r.cr2);
    x86_report_regs(&report, &r);
    x86_report_backtrace(&report, image_name, r.rip, r.rbp);
    virtio_exit(VIRTIO_EXIT_FAULT);
}

void virtio_report_here(const char *msg, uint64_t rip, uint64_t rbp)
{
    struct x86_regs r = { 0 };
    __asm__ __volatile__("movq %%rax, %0\n\tmovq %%rbx, %1\n\tmovq %%rcx, %2\n\tmovq %%rdx, %3\n\t"
                         "movq %%rsi, %4\n\tmovq %%rdi, %5\n\tmovq %%rsp, %6"
                         : "=m"(r.rax), "=m"(r.rbx), "=m"(r.rcx), "=m"(r.rdx), "=m"(r.rsi),
                           "=m"(r.rdi), "=m"(r.rsp));
    __asm__ __volatile__("movq %%r8, %0\n\tmovq %%r9, %1\n\tmovq %%r10, %2\n\tmovq %%r11, %3\n\t"
                         "movq %%r12, %4\n\tmovq %%r13, %5\n\tmovq %%r14, %6\n\tmovq %%r15, %7"
                         : "=m"(r.r8), "=m"(r.r9), "=m"(r.r10), "=m"(r.r11), "=m"(r.r12),
                           "=m"(r.r13), "=m"(r.r14), "=m"(r.r15));
    __asm__ __volatile__("pushfq\n\tpopq %0" : "=r"(r.rflags));
    r.rip = rip;
    r.rbp = rbp;
    r.cr2 = read_cr2();
    r.fs_base = plat_get_tls_base();
    reporting++;
    virtio_log("guest abort: ", msg ? msg : "(no message)", NULL);
    x86_report_regs(&report, &r);
    x86_report_backtrace(&report, image_name, r.rip, r.rbp);
}

void virtio_set_image_name(const char *name)
{
    image_name = name;
}
