/* Fault and abort reports: registers, the exception by name, a backtrace
 * along the guest's frame pointers (every frame bounds-checked). */
#include <linux/kvm.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"
#include "platform/x86_64/fault.h"

/* The stubs (stubs.S) push the shared frame layout. */
_Static_assert(sizeof(struct hvt_fault_frame) == sizeof(struct x86_fault_frame), "fault frame");
_Static_assert(offsetof(struct hvt_fault_frame, vector) == offsetof(struct x86_fault_frame, vector) &&
                   offsetof(struct hvt_fault_frame, rip) == offsetof(struct x86_fault_frame, rip) &&
                   offsetof(struct hvt_fault_frame, ss) == offsetof(struct x86_fault_frame, ss),
               "fault frame fields");

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

/* The shared report format (platform/x86_64/fault.h) reads the guest
 * through these. */
static void report_line(void *ctx, const char *text)
{
    (void)ctx;
    hvt_log("%s", text);
}

static const char *report_symbol(void *ctx, uint64_t addr, uint64_t *off)
{
    return hvt_elf_symbol(&((const struct hvt *)ctx)->img, addr, off);
}

/* Frames must lie in guest RAM (every one bounds-checked). */
static int report_frame(void *ctx, uint64_t addr, uint64_t out[2])
{
    const uint64_t *fp = hvt_gpa(ctx, addr, 16, true);
    if (!fp)
        return -1;
    memcpy(out, fp, 16);
    return 0;
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

static const char *report_where(void *ctx, uint64_t addr)
{
    return where(ctx, addr);
}

void hvt_report(struct hvt *h, const char *what, const struct hvt_fault_frame *f)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    memset(&r, 0, sizeof(r));
    memset(&s, 0, sizeof(s));
    if (ioctl(h->vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(h->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        hvt_log("cannot read the guest's registers");
    const struct x86_report o = { report_line, report_symbol, report_frame, report_where, h };
    struct x86_regs x = { r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
                          r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
                          r.rip, r.rflags, s.cr2, s.fs.base };
    if (f) { /* the registers at the fault, as the stubs saved them */
        x86_regs_from_frame(&x, (const struct x86_fault_frame *)f);
        x86_report_exception(&o, f->vector, f->error_code, s.cr2);
    } else {
        hvt_log("%s", what);
    }
    x86_report_regs(&o, &x);
    x86_report_backtrace(&o, h->image_path, x.rip, x.rbp);
}
