/* Fault and abort reports: registers, the exception by name, a backtrace
 * along the guest's frame pointers (every frame bounds-checked). */
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

#define BACKTRACE_MAX 16

static void vlog(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "zonelet-hvt: ");
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof(buf) - (size_t)n - 1 ? (size_t)m
                                                                       : sizeof(buf) - (size_t)n - 2);
    buf[len++] = '\n';
    if (write(STDERR_FILENO, buf, len) < 0) { /* nowhere left to report to */
    }
}

void hvt_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void hvt_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    _exit(HVT_EXIT_SETUP);
}

static const char *vector_name(uint64_t v)
{
    static const char *const names[32] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
        "#BR bound range", "#UD invalid opcode", "#NM device not available",
        "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
        "#NP segment not present", "#SS stack fault", "#GP general protection",
        "#PF page fault", "reserved 15", "#MF x87 floating point", "#AC alignment check",
        "#MC machine check", "#XM SIMD floating point", "#VE virtualization",
        "#CP control protection" };
    return v < 32 && names[v] ? names[v] : "reserved vector";
}

static void print_addr(const struct hvt *h, const char *label, uint64_t addr)
{
    uint64_t off = 0;
    const char *name = hvt_elf_symbol(&h->img, addr, &off);
    if (name)
        hvt_log("%s %#018lx <%s+%#lx>", label, addr, name, off);
    else
        hvt_log("%s %#018lx", label, addr);
}

/* Walk rbp -> {saved rbp, return address}; frames must lie in guest RAM
 * and move strictly up the stack, so a corrupt chain ends the walk. */
static void backtrace(const struct hvt *h, uint64_t rip, uint64_t rbp)
{
    print_addr(h, "  #0 ", rip);
    for (int i = 1; i < BACKTRACE_MAX && rbp; i++) {
        const uint64_t *fp = hvt_gpa(h, rbp, 16, true);
        if (!fp || rbp % 8)
            break;
        char label[16];
        snprintf(label, sizeof(label), "  #%-2d", i);
        if (fp[1] == 0)
            break;
        print_addr(h, label, fp[1]);
        if (fp[0] <= rbp)
            break;
        rbp = fp[0];
    }
}

/* What the faulting address was, as far as the layout tells. */
static const char *where(const struct hvt *h, uint64_t a)
{
    if (a < HVT_PAGE_SIZE)
        return " (NULL pointer dereference)";
    if (a >= h->mem_size && a < HVT_HC_BASE)
        return " (beyond the end of guest memory)";
    if (a >= HVT_PRIVATE_GPA && a < HVT_IMAGE_MIN)
        return " (monitor-private memory)";
    if (a >= h->img.start && a < h->img.end) {
        for (unsigned i = 0; i < h->img.nsegs; i++)
            if (a >= h->img.segs[i].vaddr && a - h->img.segs[i].vaddr < h->img.segs[i].memsz)
                return "";
        return " (guard page between image segments: boot stack overflow?)";
    }
    return "";
}

static void print_page_fault(const struct hvt *h, uint64_t err, uint64_t cr2)
{
    hvt_log("page fault at %#lx: %s %s, %s%s", cr2, (err & 1) ? "protection violation"
                                                                : "page not present",
            (err & 16) ? "on instruction fetch" : (err & 2) ? "on write" : "on read",
            (err & 4) ? "user mode" : "supervisor mode", where(h, cr2));
}

void hvt_report(struct hvt *h, const char *what, const struct hvt_fault_frame *f)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    memset(&r, 0, sizeof(r));
    memset(&s, 0, sizeof(s));
    if (ioctl(h->vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(h->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        hvt_log("cannot read the guest's registers");
    if (f) { /* the registers at the fault, as the stubs saved them */
        r = (struct kvm_regs){ f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rsp, f->rbp,
                               f->r8, f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15,
                               f->rip, f->rflags };
        hvt_log("guest fault: exception %lu (%s), error code %#lx", f->vector,
                vector_name(f->vector), f->error_code);
        if (f->vector == 14)
            print_page_fault(h, f->error_code, s.cr2);
    } else {
        hvt_log("%s", what);
    }
    hvt_log("rip %016llx rsp %016llx rbp %016llx rflags %08llx", r.rip, r.rsp, r.rbp,
            r.rflags);
    hvt_log("rax %016llx rbx %016llx rcx %016llx rdx %016llx", r.rax, r.rbx, r.rcx, r.rdx);
    hvt_log("rsi %016llx rdi %016llx r8  %016llx r9  %016llx", r.rsi, r.rdi, r.r8, r.r9);
    hvt_log("r10 %016llx r11 %016llx r12 %016llx r13 %016llx", r.r10, r.r11, r.r12, r.r13);
    hvt_log("r14 %016llx r15 %016llx cr2 %016llx fsbase %016llx", r.r14, r.r15, s.cr2,
            s.fs.base);
    hvt_log("backtrace (%s):", h->image_path);
    backtrace(h, r.rip, r.rbp);
}
