/* fault.h: the one format of x86-64 fault reports. The hvt monitor prints
 * it for its guests (platform/hvt/tender/report.c), a virtio guest prints
 * it itself (platform/virtio/cpu.c). Freestanding C: no libc, no
 * allocation; every line goes out through a callback.
 *
 * A report is, one line each:
 *   guest fault: exception 14 (#PF page fault), error code 0x6
 *   page fault at 0x8: page not present on write, supervisor mode (NULL pointer dereference)
 *   rip ... rsp ... rbp ... rflags ...        (four register lines follow)
 *   backtrace (IMAGE):
 *     #0  0x0000000000101234 <main+0x14>      (one line per frame)
 */
#ifndef ZL_X86_FAULT_H
#define ZL_X86_FAULT_H

#include <stdint.h>

/* What an exception stub saves, lowest address first: the general
 * registers it pushes, the vector, the error code (0 for vectors without
 * one) and the frame the CPU pushed. hvt_abi.h has the same layout as
 * struct hvt_fault_frame (the monitor checks they agree). */
struct x86_fault_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* The registers a report shows. */
struct x86_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags, cr2, fs_base;
};

/* Where a report goes and how it reads the guest. ctx is passed back to
 * every callback. */
struct x86_report {
    /* Print one line (NUL-terminated, without its newline). */
    void (*line)(void *ctx, const char *text);
    /* The symbol containing addr and addr's offset in it, or NULL. May be
     * NULL itself (no symbols). */
    const char *(*symbol)(void *ctx, uint64_t addr, uint64_t *off);
    /* Read the two words at addr (a frame: saved rbp, return address) into
     * out; 0 if they are readable guest memory, -1 if not. */
    int (*read_frame)(void *ctx, uint64_t addr, uint64_t out[2]);
    /* A remark on a faulting address, " (NULL pointer dereference)", or
     * "" (never NULL). May be NULL itself (no remarks). */
    const char *(*where)(void *ctx, uint64_t addr);
    void *ctx;
};

/* "#PF page fault" for 14; "reserved vector" for unknown ones. */
const char *x86_vector_name(uint64_t vector);

/* The registers in a stub's frame (cr2 and fs_base are left as they are). */
void x86_regs_from_frame(struct x86_regs *r, const struct x86_fault_frame *f);

/* The exception line, and for a page fault (14) the line decoding its
 * error code and address cr2. */
void x86_report_exception(const struct x86_report *o, uint64_t vector, uint64_t error_code,
                          uint64_t cr2);

/* The four register lines. */
void x86_report_regs(const struct x86_report *o, const struct x86_regs *r);

/* "backtrace (image):" and the frames: rip, then the return addresses
 * along the rbp chain (at most 16 lines). A frame that cannot be read,
 * is misaligned or does not move up the stack ends the walk. */
void x86_report_backtrace(const struct x86_report *o, const char *image, uint64_t rip,
                          uint64_t rbp);

#endif
