/* VM set-up: guest memory, page tables, GDT/IDT/TSS, CPUID, long mode at
 * CPL3 and the boot info. The layout is documented in hvt_abi.h; the
 * monitor-private part of it is here. */
#include <errno.h>
#include <cpuid.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>

#include "platform/hvt/tender/tender.h"
#include "platform/x86_64/tsc.h"

/* Monitor-private pages, in [HVT_PRIVATE_GPA, HVT_IMAGE_MIN). */
#define GDT_GPA 0x4000ull
#define IDT_GPA 0x5000ull
#define TSS_GPA 0x6000ull
#define STUBS_GPA 0x7000ull
#define RSP0_TOP 0xC000ull /* exception stack [0x8000, 0xC000) */
#define IST1_TOP 0x10000ull /* #DF/NMI/#MC stack [0xC000, 0x10000) */
#define PML4_GPA 0x10000ull
#define PDPT_GPA 0x11000ull
#define PD_GPA 0x12000ull /* 4 page directories: 4 GiB */
#define PT_GPA 0x16000ull /* 4 KiB page tables for the image region */
#define HC_PT_GPA 0xff000ull /* page table of the hypercall page */

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define CR4_OSFXSR 0x200ull
#define CR4_OSXMMEXCPT 0x400ull
#define CR4_FSGSBASE 0x10000ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define EFER_NXE 0x800ull
#define MSR_IA32_TSC 0x10u

extern const uint8_t hvt_stubs_start[], hvt_stubs_end[];

uint64_t hvt_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t hvt_now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void open_kvm(struct hvt *h)
{
    h->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (h->kvm_fd < 0)
        hvt_die("/dev/kvm: %s", strerror(errno));
    if (ioctl(h->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        hvt_die("/dev/kvm: unsupported KVM API version");
    h->vm_fd = ioctl(h->kvm_fd, KVM_CREATE_VM, 0);
    if (h->vm_fd < 0)
        hvt_die("KVM_CREATE_VM: %s", strerror(errno));
}

void hvt_probe(void)
{
    struct hvt h = { .kvm_fd = -1 };
    open_kvm(&h);
    close(h.vm_fd);
    close(h.kvm_fd);
}

static void create_vm(struct hvt *h)
{
    open_kvm(h);
    /* Needed on Intel before the first KVM_RUN; outside RAM and the
     * hypercall page. kvm-pvm may not implement it, which is harmless. */
    (void)ioctl(h->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    h->mem = mmap(NULL, h->mem_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h->mem == MAP_FAILED)
        hvt_die("cannot map %lu MiB of guest memory", h->mem_size >> 20);
    struct kvm_userspace_memory_region r = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = h->mem_size,
        .userspace_addr = (uint64_t)(uintptr_t)h->mem };
    if (ioctl(h->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        hvt_die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    h->vcpu_fd = ioctl(h->vm_fd, KVM_CREATE_VCPU, 0);
    if (h->vcpu_fd < 0)
        hvt_die("KVM_CREATE_VCPU: %s", strerror(errno));
    int sz = ioctl(h->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run))
        hvt_die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
    h->run_size = (size_t)sz;
    h->run = mmap(NULL, h->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, h->vcpu_fd, 0);
    if (h->run == MAP_FAILED)
        hvt_die("mmap kvm_run: %s", strerror(errno));
}

/* Pass the host's CPUID through (as KVM supports it) and note the
 * features the guest can use. */
static void setup_cpuid(struct hvt *h)
{
    struct kvm_cpuid2 *c = NULL;
    for (unsigned n = 64;; n *= 2) { /* E2BIG: KVM has more leaves, retry */
        free(c);
        c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
        if (!c)
            hvt_die("out of memory");
        c->nent = n;
        if (ioctl(h->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            break;
        if (errno != E2BIG || n >= 4096)
            hvt_die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    }
    unsigned a, b, cx, d;
    bool host_fsgsbase = __get_cpuid_count(7, 0, &a, &b, &cx, &d) && (b & 1u);
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        /* kvm-pvm leaves FSGSBASE out of its supported list, yet ring-3
         * wrfsbase runs natively there (and FS survives exits); offering
         * it makes KVM accept CR4.FSGSBASE. setup_registers() drops it
         * again if KVM refuses. */
        if (e->function == 7 && e->index == 0 && host_fsgsbase)
            e->ebx |= 1u;
        if (e->function == 1 && (e->ecx & (1u << 30)))
            h->cpu_features |= HVT_CPU_RDRAND;
        if (e->function == 7 && e->index == 0 && (e->ebx & 1u))
            h->cpu_features |= HVT_CPU_FSGSBASE;
        if (e->function == 7 && e->index == 0 && (e->ebx & (1u << 18)))
            h->cpu_features |= HVT_CPU_RDSEED;
        if (e->function == 0x80000007 && (e->edx & (1u << 8)))
            h->cpu_features |= HVT_CPU_INVARIANT_TSC;
    }
    if (ioctl(h->vcpu_fd, KVM_SET_CPUID2, c) < 0)
        hvt_die("KVM_SET_CPUID2: %s", strerror(errno));
    free(c);
}

/* Flags of the 4 KiB page at va (see the layout in hvt_abi.h): W^X for
 * image pages from the segment flags, no-execute everywhere else. */
static uint64_t page_flags(const struct hvt *h, uint64_t va)
{
    if (va < HVT_BOOT_INFO_GPA)
        return 0;
    if (va < HVT_PRIVATE_GPA)
        return PTE_P | PTE_U | PTE_NX;
    if (va == STUBS_GPA)
        return PTE_P;
    if (va < HVT_IMAGE_MIN)
        return PTE_P | PTE_W | PTE_NX;
    bool in = false, w = false, x = false;
    for (unsigned i = 0; i < h->img.nsegs; i++) {
        const struct hvt_seg *s = &h->img.segs[i];
        if (va < s->vaddr + s->memsz && s->vaddr < va + HVT_PAGE_SIZE) {
            in = true;
            w |= (s->flags & 2) != 0; /* PF_W */
            x |= (s->flags & 1) != 0; /* PF_X */
        }
    }
    if (!in) /* holes inside the image are guard pages (hvt.ld) */
        return va >= h->img.start && va < h->img.end ? 0 : PTE_P | PTE_U | PTE_W | PTE_NX;
    return PTE_P | PTE_U | (w ? PTE_W : 0) | (x ? 0 : PTE_NX);
}

/* Identity map: 4 KiB pages below the 2 MiB boundary after the image,
 * 2 MiB pages above up to mem_size, nothing from mem_size to the
 * hypercall page, which gets one user-writable 2 MiB page of its own. */
static void setup_paging(struct hvt *h)
{
    uint64_t *pml4 = (uint64_t *)(h->mem + PML4_GPA);
    uint64_t *pdpt = (uint64_t *)(h->mem + PDPT_GPA);
    uint64_t *pd = (uint64_t *)(h->mem + PD_GPA);
    uint64_t small_end = (h->img.end + HVT_MEM_ALIGN - 1) & ~(HVT_MEM_ALIGN - 1);
    const uint64_t dir = PTE_P | PTE_W | PTE_U; /* leaves decide */

    if (small_end > h->mem_size)
        small_end = h->mem_size;
    pml4[0] = PDPT_GPA | dir;
    for (unsigned i = 0; i < 4; i++)
        pdpt[i] = (PD_GPA + i * HVT_PAGE_SIZE) | dir;
    for (uint64_t va = 0; va < small_end; va += HVT_PAGE_SIZE) {
        uint64_t *pt = (uint64_t *)(h->mem + PT_GPA) + va / HVT_PAGE_SIZE;
        uint64_t f = page_flags(h, va);
        *pt = f ? va | f : 0;
        if (va % HVT_MEM_ALIGN == 0)
            pd[va / HVT_MEM_ALIGN] = (PT_GPA + va / HVT_MEM_ALIGN * HVT_PAGE_SIZE) | dir;
    }
    for (uint64_t va = small_end; va < h->mem_size; va += HVT_MEM_ALIGN)
        pd[va / HVT_MEM_ALIGN] = va | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_NX;
    pd[HVT_HC_BASE / HVT_MEM_ALIGN] = HC_PT_GPA | dir;
    *(uint64_t *)(h->mem + HC_PT_GPA) = HVT_HC_BASE | PTE_P | PTE_W | PTE_U | PTE_NX;
}

static void set_gate(uint8_t *idt, unsigned vec, uint64_t handler, unsigned ist, unsigned dpl)
{
    uint64_t lo = (handler & 0xffff) | ((uint64_t)HVT_SEL_KERNEL_CS << 16) |
                  ((uint64_t)ist << 32) | ((uint64_t)(0x8e | dpl << 5) << 40) |
                  ((handler >> 16 & 0xffff) << 48);
    uint64_t hi = handler >> 32;
    memcpy(idt + 16 * vec, &lo, 8);
    memcpy(idt + 16 * vec + 8, &hi, 8);
}

/* GDT as Linux lays it out, a TSS whose RSP0/IST1 point at private
 * stacks, and an IDT whose vectors 0..31 enter the fault stubs. */
static void setup_descriptors(struct hvt *h)
{
    uint64_t *gdt = (uint64_t *)(h->mem + GDT_GPA);
    gdt[HVT_SEL_KERNEL_CS >> 3] = 0x00af9b000000ffffull;
    gdt[HVT_SEL_KERNEL_DS >> 3] = 0x00cf93000000ffffull;
    gdt[4] = 0x00cffb000000ffffull; /* 32-bit user code, unused */
    gdt[HVT_SEL_USER_DS >> 3] = 0x00cff3000000ffffull;
    gdt[HVT_SEL_USER_CS >> 3] = 0x00affb000000ffffull;
    gdt[HVT_SEL_TSS >> 3] = 0x67 | (TSS_GPA & 0xffffff) << 16 | 0x8bull << 40 |
                            (TSS_GPA >> 24 & 0xff) << 56;
    gdt[(HVT_SEL_TSS >> 3) + 1] = TSS_GPA >> 32;

    uint8_t *tss = h->mem + TSS_GPA;
    uint64_t rsp0 = RSP0_TOP, ist1 = IST1_TOP;
    uint16_t iomap = 104; /* no I/O bitmap: every port faults at CPL3 */
    memcpy(tss + 4, &rsp0, 8);
    memcpy(tss + 36, &ist1, 8);
    memcpy(tss + 102, &iomap, 2);

    size_t len = (size_t)(hvt_stubs_end - hvt_stubs_start);
    if (len > HVT_PAGE_SIZE)
        hvt_die("internal: fault stubs do not fit a page");
    memcpy(h->mem + STUBS_GPA, hvt_stubs_start, len);
    uint8_t *idt = h->mem + IDT_GPA;
    for (unsigned v = 0; v < 32; v++) {
        unsigned ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
        unsigned dpl = (v == 3 || v == 4) ? 3 : 0; /* int3, into from the guest */
        set_gate(idt, v, STUBS_GPA + 16 * v, ist, dpl);
    }
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t dpl, bool code)
{
    return (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
                                 .type = type, .present = 1, .dpl = dpl, .db = !code,
                                 .s = 1, .l = code, .g = 1 };
}

static void setup_registers(struct hvt *h)
{
    struct kvm_sregs s;
    if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        hvt_die("KVM_GET_SREGS: %s", strerror(errno));
    s.cs = seg(HVT_SEL_USER_CS, 11, 3, true);
    s.ds = s.es = s.fs = s.gs = s.ss = seg(HVT_SEL_USER_DS, 3, 3, false);
    s.tr = (struct kvm_segment){ .base = TSS_GPA, .limit = 0x67, .selector = HVT_SEL_TSS,
                                 .type = 11, .present = 1 };
    s.ldt = (struct kvm_segment){ .unusable = 1 };
    s.gdt = (struct kvm_dtable){ .base = GDT_GPA, .limit = 0x4f };
    s.idt = (struct kvm_dtable){ .base = IDT_GPA, .limit = 32 * 16 - 1 };
    s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    s.cr3 = PML4_GPA;
    s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (h->cpu_features & HVT_CPU_FSGSBASE)
        s.cr4 |= CR4_FSGSBASE;
    s.efer = EFER_LME | EFER_LMA | EFER_NXE;
    int rc = ioctl(h->vcpu_fd, KVM_SET_SREGS, &s);
    if (rc < 0 && (s.cr4 & CR4_FSGSBASE)) {
        h->cpu_features &= ~HVT_CPU_FSGSBASE; /* TLS base then by hypercall */
        s.cr4 &= ~CR4_FSGSBASE;
        rc = ioctl(h->vcpu_fd, KVM_SET_SREGS, &s);
    }
    if (rc < 0)
        hvt_die("KVM_SET_SREGS: %s", strerror(errno));
    struct kvm_regs r = { .rip = h->img.entry, .rsp = h->mem_size,
                          .rdi = HVT_BOOT_INFO_GPA, .rflags = 0x2 };
    if (ioctl(h->vcpu_fd, KVM_SET_REGS, &r) < 0)
        hvt_die("KVM_SET_REGS: %s", strerror(errno));
}

/* TSC rate from KVM, else measured against CLOCK_MONOTONIC (the guest's
 * TSC runs at the host rate unless KVM scales it, which KVM_GET_TSC_KHZ
 * would then report). */
static uint64_t tsc_hz(const struct hvt *h)
{
    int khz = ioctl(h->vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (khz > 0)
        return (uint64_t)khz * 1000;
    uint64_t t0 = hvt_now_mono(), c0 = __builtin_ia32_rdtsc();
    struct timespec ts = { 0, 20000000 };
    nanosleep(&ts, NULL);
    uint64_t t1 = hvt_now_mono(), c1 = __builtin_ia32_rdtsc();
    return (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / (t1 - t0));
}

static uint64_t guest_tsc(const struct hvt *h)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e;
    } m = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC };
    if (ioctl(h->vcpu_fd, KVM_GET_MSRS, &m) != 1)
        hvt_die("KVM_GET_MSRS(TSC): %s", strerror(errno));
    return m.e.data;
}

static void write_boot_info(struct hvt *h, const char *cmdline)
{
    struct hvt_boot_info *bi = (struct hvt_boot_info *)(h->mem + HVT_BOOT_INFO_GPA);
    size_t len = strlen(cmdline);
    if (len >= HVT_CMDLINE_MAX)
        hvt_die("boot arguments too long (%zu bytes, at most %llu)", len, HVT_CMDLINE_MAX - 1);
    memcpy(h->mem + HVT_CMDLINE_GPA, cmdline, len + 1);
    bi->magic = HVT_BOOT_MAGIC;
    bi->abi_version = HVT_ABI_VERSION;
    bi->size = sizeof(*bi);
    bi->mem_size = h->mem_size;
    bi->image_start = h->img.start;
    bi->image_end = h->img.end;
    bi->cmdline = HVT_CMDLINE_GPA;
    bi->cmdline_len = len;
    bi->tsc_hz = tsc_hz(h);
    if (bi->tsc_hz < 1000000)
        hvt_die("implausible TSC frequency %lu Hz", bi->tsc_hz);
    bi->cpu_features = h->cpu_features;
    h->bi = bi;
}

void hvt_vm_setup(struct hvt *h, const char *cmdline)
{
    create_vm(h);
    setup_cpuid(h);
    hvt_elf_copy(&h->img, h->mem);
    setup_paging(h);
    setup_descriptors(h);
    setup_registers(h);
    write_boot_info(h, cmdline);
}

void hvt_vm_start_clock(struct hvt *h)
{
    h->tsc_boot = h->bi->tsc_boot = guest_tsc(h);
    h->ns_per_tick_32 = x86_tsc_mult(h->bi->tsc_hz);
    h->bi->wall_boot_ns = hvt_now_wall();
}

/* The guest's formula (platform/x86_64/tsc.h) on the vCPU's own TSC: the
 * monitor and the guest agree exactly, whatever the TSC offset or scaling
 * and however far KVM's kHz rate is from the truth. */
uint64_t hvt_guest_mono(const struct hvt *h)
{
    uint64_t tsc = guest_tsc(h);
    uint64_t ticks = tsc > h->tsc_boot ? tsc - h->tsc_boot : 0;
    return x86_tsc_to_ns(ticks, h->ns_per_tick_32);
}
