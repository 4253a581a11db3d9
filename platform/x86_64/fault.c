/* Fault reports (fault.h). Formats numbers itself, as printf's %#lx,
 * %016lx and %#018lx would (the monitor's reports kept their look when
 * they moved here; tests/platform/test_x86_fault.c compares with printf). */
#include "platform/x86_64/fault.h"

#include <stddef.h>

#define BACKTRACE_MAX 16
#define LINE_MAX 200

struct buf {
    char s[LINE_MAX];
    size_t n;
};

static void put(struct buf *b, const char *s)
{
    while (*s && b->n < LINE_MAX - 1)
        b->s[b->n++] = *s++;
    b->s[b->n] = '\0';
}

/* Hex digits of v, zero-padded to width digits. */
static void hex(struct buf *b, uint64_t v, int width)
{
    char d[17];
    int n = 0;
    do {
        d[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n < width && n < 16)
        d[n++] = '0';
    char out[17];
    for (int i = 0; i < n; i++)
        out[i] = d[n - 1 - i];
    out[n] = '\0';
    put(b, out);
}

/* printf's %#lx: "0" for zero, else 0x and the digits. */
static void hex_alt(struct buf *b, uint64_t v)
{
    if (v)
        put(b, "0x");
    hex(b, v, 1);
}

/* printf's %#018lx: 18 characters, 0x included (none for zero). */
static void hex_alt18(struct buf *b, uint64_t v)
{
    if (v) {
        put(b, "0x");
        hex(b, v, 16);
    } else {
        put(b, "000000000000000000");
    }
}

static void dec(struct buf *b, uint64_t v)
{
    char d[21];
    int n = 20;
    d[n] = '\0';
    do {
        d[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, d + n);
}

static void emit(const struct x86_report *o, struct buf *b)
{
    o->line(o->ctx, b->s);
    b->n = 0;
    b->s[0] = '\0';
}

const char *x86_vector_name(uint64_t v)
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

void x86_regs_from_frame(struct x86_regs *r, const struct x86_fault_frame *f)
{
    r->rax = f->rax, r->rbx = f->rbx, r->rcx = f->rcx, r->rdx = f->rdx;
    r->rsi = f->rsi, r->rdi = f->rdi, r->rsp = f->rsp, r->rbp = f->rbp;
    r->r8 = f->r8, r->r9 = f->r9, r->r10 = f->r10, r->r11 = f->r11;
    r->r12 = f->r12, r->r13 = f->r13, r->r14 = f->r14, r->r15 = f->r15;
    r->rip = f->rip, r->rflags = f->rflags;
}

void x86_report_exception(const struct x86_report *o, uint64_t vector, uint64_t err, uint64_t cr2)
{
    struct buf b = { .n = 0 };
    put(&b, "guest fault: exception ");
    dec(&b, vector);
    put(&b, " (");
    put(&b, x86_vector_name(vector));
    put(&b, "), error code ");
    hex_alt(&b, err);
    emit(o, &b);
    if (vector != 14)
        return;
    put(&b, "page fault at ");
    hex_alt(&b, cr2);
    put(&b, (err & 1) ? ": protection violation " : ": page not present ");
    put(&b, (err & 16) ? "on instruction fetch" : (err & 2) ? "on write" : "on read");
    put(&b, (err & 4) ? ", user mode" : ", supervisor mode");
    put(&b, o->where ? o->where(o->ctx, cr2) : "");
    emit(o, &b);
}

static void reg(struct buf *b, const char *name, uint64_t v, int width)
{
    put(b, name);
    put(b, " ");
    hex(b, v, width);
}

void x86_report_regs(const struct x86_report *o, const struct x86_regs *r)
{
    struct buf b = { .n = 0 };
    reg(&b, "rip", r->rip, 16), reg(&b, " rsp", r->rsp, 16), reg(&b, " rbp", r->rbp, 16);
    reg(&b, " rflags", r->rflags, 8);
    emit(o, &b);
    reg(&b, "rax", r->rax, 16), reg(&b, " rbx", r->rbx, 16), reg(&b, " rcx", r->rcx, 16);
    reg(&b, " rdx", r->rdx, 16);
    emit(o, &b);
    reg(&b, "rsi", r->rsi, 16), reg(&b, " rdi", r->rdi, 16), reg(&b, " r8 ", r->r8, 16);
    reg(&b, " r9 ", r->r9, 16);
    emit(o, &b);
    reg(&b, "r10", r->r10, 16), reg(&b, " r11", r->r11, 16), reg(&b, " r12", r->r12, 16);
    reg(&b, " r13", r->r13, 16);
    emit(o, &b);
    reg(&b, "r14", r->r14, 16), reg(&b, " r15", r->r15, 16), reg(&b, " cr2", r->cr2, 16);
    reg(&b, " fsbase", r->fs_base, 16);
    emit(o, &b);
}

static void frame_line(const struct x86_report *o, int i, uint64_t addr)
{
    struct buf b = { .n = 0 };
    put(&b, "  #");
    dec(&b, (uint64_t)i);
    put(&b, i < 10 ? "  " : " ");
    hex_alt18(&b, addr);
    uint64_t off = 0;
    const char *name = o->symbol ? o->symbol(o->ctx, addr, &off) : NULL;
    if (name) {
        put(&b, " <");
        put(&b, name);
        put(&b, "+");
        hex_alt(&b, off);
        put(&b, ">");
    }
    emit(o, &b);
}

void x86_report_backtrace(const struct x86_report *o, const char *image, uint64_t rip,
                          uint64_t rbp)
{
    struct buf b = { .n = 0 };
    put(&b, "backtrace (");
    put(&b, image);
    put(&b, "):");
    emit(o, &b);
    frame_line(o, 0, rip);
    for (int i = 1; i < BACKTRACE_MAX && rbp; i++) {
        uint64_t fp[2];
        if (rbp % 8 || o->read_frame(o->ctx, rbp, fp) < 0 || fp[1] == 0)
            break;
        frame_line(o, i, fp[1]);
        if (fp[0] <= rbp)
            break;
        rbp = fp[0];
    }
}
