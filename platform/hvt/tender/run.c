/* The vCPU run loop and the hypercalls. Each hypercall handler gets the
 * argument struct already bounds-checked and checks every address inside
 * it with hvt_gpa() before touching guest memory. */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

/* The ABI's layout, checked where the compiler can (hvt_abi.h is C99). */
_Static_assert(HVT_HC_ADDR(HVT_HC_FAULT) == 0xC0000068, "HVT_HC_FAULT_ADDR in stubs.S");
_Static_assert(offsetof(struct hvt_fault_frame, vector) == 15 * 8, "stubs.S push order");
_Static_assert(sizeof(struct hvt_fault_frame) == 22 * 8, "frame pushed by stubs and CPU");
_Static_assert(sizeof(struct hvt_boot_info) <= HVT_PAGE_SIZE, "boot info fits its page");
_Static_assert(sizeof(struct hvt_net_slot) == HVT_NET_SLOT_SIZE, "net slot size");
_Static_assert(sizeof(struct hvt_net_ring) % 64 == 0, "net slots 64-byte aligned");
_Static_assert(HVT_HC_ADDR(HVT_HC_MAX) == HVT_HC_BASE + HVT_PAGE_SIZE, "one hypercall page");
_Static_assert(sizeof(struct hvt_hc_console) <= 64 && sizeof(struct hvt_hc_block) <= 64 &&
                   sizeof(struct hvt_hc_net_setup) <= 64 && sizeof(struct hvt_hc_random) <= 64,
               "argument structs fit HC_ARG_MAX");

/* A handler returns HC_CONTINUE to resume the guest, HC_BAD_BUFFER when
 * an address in its struct lies outside guest memory (the guest is then
 * stopped with a report), or the monitor's exit status. */
#define HC_CONTINUE (-1)
#define HC_BAD_BUFFER (-2)
typedef int (*hc_fn)(struct hvt *h, void *arg);
#define HC_ARG_MAX 64 /* largest argument struct */

static int write_all(int fd, const uint8_t *p, uint64_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return HC_CONTINUE;
        p += n;
        len -= (uint64_t)n;
    }
    return 0;
}

static int hc_console(struct hvt *h, void *arg)
{
    struct hvt_hc_console *a = arg;
    const uint8_t *p = hvt_gpa(h, a->data, a->len, false);
    if (!p)
        return HC_BAD_BUFFER;
    a->ret = write_all(STDOUT_FILENO, p, a->len) == 0 ? HVT_OK : HVT_EUNSPEC;
    return HC_CONTINUE;
}

static int hc_clock(struct hvt *h, void *arg)
{
    struct hvt_hc_clock *a = arg;
    a->mono_ns = hvt_guest_mono(h);
    a->wall_ns = hvt_now_wall();
    return HC_CONTINUE;
}

static int net_broken(struct hvt *h)
{
    hvt_report(h, "guest corrupted its network ring (index or frame length)", NULL);
    return HVT_EXIT_FAULT;
}

/* Level-triggered: frames already in the rx ring are an event at once. */
static int hc_wait(struct hvt *h, void *arg)
{
    struct hvt_hc_wait *a = arg;
    a->events = 0;
    int64_t pending = hvt_net_pump(h);
    if (pending < 0)
        return net_broken(h);
    uint64_t now = hvt_guest_mono(h);
    if (pending > 0 || a->deadline_ns <= now) {
        a->events = pending > 0 ? HVT_EV_NET_RX : 0;
        return HC_CONTINUE;
    }
    uint64_t d = a->deadline_ns - now;
    struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
    if (d / 1000000000u > (uint64_t)1 << 40) /* "forever" stays representable */
        ts.tv_sec = (time_t)1 << 40;
    struct pollfd p = { h->net_fd, POLLIN, 0 };
    nfds_t n = h->net_rx ? 1 : 0; /* without rings, frames wait in the TAP queue */
    if (ppoll(n ? &p : NULL, n, &ts, NULL) > 0) {
        if ((pending = hvt_net_pump(h)) < 0)
            return net_broken(h);
        a->events = pending > 0 ? HVT_EV_NET_RX : 0;
    }
    return HC_CONTINUE;
}

static int hc_random(struct hvt *h, void *arg)
{
    struct hvt_hc_random *a = arg;
    uint8_t *p = hvt_gpa(h, a->data, a->len, true);
    if (!p)
        return HC_BAD_BUFFER;
    if (a->len > HVT_RANDOM_MAX) {
        a->ret = HVT_EINVAL;
        return HC_CONTINUE;
    }
    a->ret = HVT_OK;
    for (uint64_t got = 0; got < a->len;) {
        ssize_t n = getrandom(p + got, a->len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            a->ret = HVT_EUNSPEC;
            break;
        }
        got += (uint64_t)n;
    }
    return HC_CONTINUE;
}

static int64_t block_check(const struct hvt *h, const struct hvt_hc_block *a)
{
    const struct hvt_boot_info *bi = h->bi;
    if (h->block_fd < 0 || a->len > HVT_BLOCK_MAX || a->offset % bi->block_size ||
        a->len % bi->block_size || a->offset > bi->block_capacity ||
        a->len > bi->block_capacity - a->offset)
        return HVT_EINVAL;
    return HVT_OK;
}

static int hc_block(struct hvt *h, void *arg, bool write)
{
    struct hvt_hc_block *a = arg;
    uint8_t *p = hvt_gpa(h, a->data, a->len, !write);
    if (!p)
        return HC_BAD_BUFFER;
    if ((a->ret = block_check(h, a)) != HVT_OK)
        return HC_CONTINUE;
    if (write && h->block_ro) {
        a->ret = HVT_EUNSPEC;
        return HC_CONTINUE;
    }
    for (uint64_t done = 0; done < a->len;) {
        off_t off = (off_t)(a->offset + done);
        ssize_t n = write ? pwrite(h->block_fd, p + done, a->len - done, off)
                          : pread(h->block_fd, p + done, a->len - done, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            a->ret = HVT_EUNSPEC;
            break;
        }
        done += (uint64_t)n;
    }
    return HC_CONTINUE;
}

static int hc_block_read(struct hvt *h, void *arg) { return hc_block(h, arg, false); }
static int hc_block_write(struct hvt *h, void *arg) { return hc_block(h, arg, true); }

static int hc_block_flush(struct hvt *h, void *arg)
{
    struct hvt_hc_block_flush *a = arg;
    if (h->block_fd < 0)
        a->ret = HVT_EINVAL;
    else if (h->block_ro)
        a->ret = HVT_OK; /* nothing was written */
    else
        a->ret = fdatasync(h->block_fd) == 0 ? HVT_OK : HVT_EUNSPEC;
    return HC_CONTINUE;
}

static int hc_exit(struct hvt *h, void *arg)
{
    (void)h;
    return (int)(((struct hvt_hc_exit *)arg)->status & 0xff);
}

static int hc_abort(struct hvt *h, void *arg)
{
    struct hvt_hc_abort *a = arg;
    uint64_t len = a->len < HVT_ABORT_MSG_MAX ? a->len : HVT_ABORT_MSG_MAX;
    const char *msg = a->msg ? hvt_gpa(h, a->msg, len, false) : NULL;
    char text[HVT_ABORT_MSG_MAX + 1];
    size_t n = 0;
    for (uint64_t i = 0; msg && i < len && msg[i]; i++) /* keep the report one line */
        text[n++] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?';
    text[n] = '\0';
    char line[HVT_ABORT_MSG_MAX + 32];
    snprintf(line, sizeof(line), "guest abort: %s", n ? text : "(no message)");
    hvt_report(h, line, NULL);
    return HVT_EXIT_ABORT;
}

static int hc_fsbase(struct hvt *h, void *arg)
{
    uint64_t base = ((struct hvt_hc_fsbase *)arg)->base;
    if ((uint64_t)((int64_t)(base << 16) >> 16) != base) { /* KVM would refuse it */
        hvt_report(h, "guest set a non-canonical FS base", NULL);
        return HVT_EXIT_FAULT;
    }
    struct kvm_sregs s;
    if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        hvt_die("KVM_GET_SREGS: %s", strerror(errno));
    s.fs.base = base;
    if (ioctl(h->vcpu_fd, KVM_SET_SREGS, &s) < 0)
        hvt_die("KVM_SET_SREGS: %s", strerror(errno));
    return HC_CONTINUE;
}

static int hc_net_setup(struct hvt *h, void *arg)
{
    struct hvt_hc_net_setup *a = arg;
    a->ret = hvt_net_setup(h, a);
    return HC_CONTINUE;
}

static int hc_net_notify(struct hvt *h, void *arg)
{
    (void)arg;
    return hvt_net_pump(h) < 0 ? net_broken(h) : HC_CONTINUE;
}

static int hc_nop(struct hvt *h, void *arg)
{
    (void)h;
    struct hvt_hc_nop *a = arg;
    a->out_seq = a->seq;
    return HC_CONTINUE;
}

static const struct {
    hc_fn fn;
    uint64_t size; /* at most HC_ARG_MAX */
} hc_table[] = {
    [HVT_HC_CONSOLE_WRITE] = { hc_console, sizeof(struct hvt_hc_console) },
    [HVT_HC_CLOCK] = { hc_clock, sizeof(struct hvt_hc_clock) },
    [HVT_HC_WAIT] = { hc_wait, sizeof(struct hvt_hc_wait) },
    [HVT_HC_RANDOM] = { hc_random, sizeof(struct hvt_hc_random) },
    [HVT_HC_BLOCK_READ] = { hc_block_read, sizeof(struct hvt_hc_block) },
    [HVT_HC_BLOCK_WRITE] = { hc_block_write, sizeof(struct hvt_hc_block) },
    [HVT_HC_EXIT] = { hc_exit, sizeof(struct hvt_hc_exit) },
    [HVT_HC_ABORT] = { hc_abort, sizeof(struct hvt_hc_abort) },
    [HVT_HC_SET_FSBASE] = { hc_fsbase, sizeof(struct hvt_hc_fsbase) },
    [HVT_HC_NET_SETUP] = { hc_net_setup, sizeof(struct hvt_hc_net_setup) },
    [HVT_HC_NET_NOTIFY] = { hc_net_notify, sizeof(struct hvt_hc_net_notify) },
    [HVT_HC_NOP] = { hc_nop, sizeof(struct hvt_hc_nop) },
    [HVT_HC_BLOCK_FLUSH] = { hc_block_flush, sizeof(struct hvt_hc_block_flush) },
};

/* The CPL0 stubs reported an exception: the frame is on the private
 * exception stacks, which the guest cannot reach but may have corrupted
 * through its registers, so it is checked like any guest address. */
static int fault(struct hvt *h, uint64_t gpa)
{
    if (gpa < HVT_PRIVATE_GPA || gpa > HVT_IMAGE_MIN - sizeof(struct hvt_fault_frame)) {
        hvt_report(h, "guest fault report with a bad frame address", NULL);
        return HVT_EXIT_FAULT;
    }
    hvt_report(h, NULL, (const struct hvt_fault_frame *)(h->mem + gpa));
    return HVT_EXIT_FAULT;
}

static int mmio(struct hvt *h)
{
    uint64_t addr = h->run->mmio.phys_addr, val;
    if (!h->run->mmio.is_write || h->run->mmio.len != 8 || addr < HVT_HC_BASE ||
        addr >= HVT_HC_ADDR(HVT_HC_MAX) || addr % 8) {
        hvt_report(h, "guest access to an unmapped or reserved address", NULL);
        hvt_log("access: %s of %u bytes at %#lx", h->run->mmio.is_write ? "write" : "read",
                h->run->mmio.len, addr);
        return HVT_EXIT_FAULT;
    }
    memcpy(&val, h->run->mmio.data, 8);
    uint64_t nr = (addr - HVT_HC_BASE) / 8;
    if (nr == HVT_HC_FAULT)
        return fault(h, val);
    void *arg = nr < sizeof(hc_table) / sizeof(hc_table[0]) && hc_table[nr].fn
                    ? hvt_gpa(h, val, hc_table[nr].size, true)
                    : NULL;
    if (!arg || val % 8) {
        hvt_report(h, "guest made a bad hypercall (unknown number or argument outside guest memory)", NULL);
        hvt_log("hypercall %lu, argument at %#lx", nr, val);
        return HVT_EXIT_FAULT;
    }
    h->hypercalls++;
    /* Handlers work on a copy: a guest buffer may overlap the struct (the
     * host writes into it), and a length re-read from guest memory after
     * that could point past the range that was checked. */
    uint64_t copy[HC_ARG_MAX / 8];
    memcpy(copy, arg, hc_table[nr].size);
    int rc = hc_table[nr].fn(h, copy);
    if (rc == HC_CONTINUE)
        memcpy(arg, copy, hc_table[nr].size);
    if (rc == HC_BAD_BUFFER) {
        hvt_report(h, "guest hypercall buffer outside guest memory", NULL);
        hvt_log("hypercall %lu, argument at %#lx", nr, val);
        return HVT_EXIT_FAULT;
    }
    return rc;
}

int hvt_run(struct hvt *h)
{
    for (;;) {
        if (ioctl(h->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            hvt_log("KVM_RUN: %s", strerror(errno));
            return HVT_EXIT_FAULT;
        }
        int rc = HC_CONTINUE;
        switch (h->run->exit_reason) {
        case KVM_EXIT_MMIO:
            rc = mmio(h);
            break;
        case KVM_EXIT_SHUTDOWN:
            hvt_report(h, "guest triple fault (KVM_EXIT_SHUTDOWN)", NULL);
            return HVT_EXIT_FAULT;
        case KVM_EXIT_HLT:
            hvt_report(h, "guest halted (hlt at CPL0)", NULL);
            return HVT_EXIT_FAULT;
        case KVM_EXIT_INTERNAL_ERROR:
            hvt_report(h, "guest stopped by a KVM internal error (on kvm-pvm: CPL0 code or an "
                          "instruction the emulator cannot run)", NULL);
            hvt_log("suberror %u", h->run->internal.suberror);
            return HVT_EXIT_FAULT;
        case KVM_EXIT_FAIL_ENTRY:
            hvt_log("KVM entry failed, reason %#llx",
                    h->run->fail_entry.hardware_entry_failure_reason);
            return HVT_EXIT_FAULT;
        default:
            hvt_report(h, "guest stopped by an unexpected VM exit", NULL);
            hvt_log("exit reason %u", h->run->exit_reason);
            return HVT_EXIT_FAULT;
        }
        if (rc >= 0)
            return rc;
    }
}
