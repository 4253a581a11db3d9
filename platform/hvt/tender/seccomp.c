/* The seccomp filter installed after set-up, before the first KVM_RUN:
 * from then on the monitor can only run the vCPU (and read its registers
 * and TSC), write to its standard output and error, do block I/O on the
 * block file (and sync it), read and write frames on the TAP fd, poll it
 * or sleep, read clocks and randomness, and exit. Anything else is
 * reported and ends the monitor. */
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    hvt_log("seccomp: system call %d is not allowed in the monitor; stopping",
            si->si_syscall);
    _exit(HVT_EXIT_FAULT);
}

static void allow(scmp_filter_ctx c, int nr, unsigned n, const struct scmp_arg_cmp *args)
{
    int rc = seccomp_rule_add_array(c, SCMP_ACT_ALLOW, nr, n, args);
    if (rc < 0)
        hvt_die("seccomp_rule_add: %s", strerror(-rc));
}

/* What hvt_run() and its hypercalls use, on their own fds only. */
static void allow_run_loop(scmp_filter_ctx c, const struct hvt *h)
{
    static const unsigned long vcpu_ioctls[] = { KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS,
                                                 KVM_SET_SREGS, KVM_GET_MSRS };
    for (size_t i = 0; i < sizeof(vcpu_ioctls) / sizeof(vcpu_ioctls[0]); i++) {
        struct scmp_arg_cmp a[] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)h->vcpu_fd),
                                    SCMP_A1(SCMP_CMP_EQ, vcpu_ioctls[i]) };
        allow(c, SCMP_SYS(ioctl), 2, a);
    }
    for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
        struct scmp_arg_cmp a[] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd) };
        allow(c, SCMP_SYS(write), 1, a);
    }
    if (h->block_fd >= 0) {
        struct scmp_arg_cmp a[] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)h->block_fd) };
        allow(c, SCMP_SYS(pread64), 1, a);
        if (!h->block_ro) {
            allow(c, SCMP_SYS(pwrite64), 1, a);
            allow(c, SCMP_SYS(fdatasync), 1, a);
        }
    }
    if (h->net_fd >= 0) {
        struct scmp_arg_cmp a[] = { SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)h->net_fd) };
        allow(c, SCMP_SYS(read), 1, a);
        allow(c, SCMP_SYS(write), 1, a);
    }
    struct scmp_arg_cmp one_fd[] = { SCMP_A1(SCMP_CMP_LE, 1) }; /* the TAP fd or none */
    allow(c, SCMP_SYS(ppoll), 1, one_fd);
    allow(c, SCMP_SYS(getrandom), 0, NULL);
    allow(c, SCMP_SYS(clock_gettime), 0, NULL); /* when the vDSO falls back */
    allow(c, SCMP_SYS(exit_group), 0, NULL);
    allow(c, SCMP_SYS(exit), 0, NULL);
    allow(c, SCMP_SYS(rt_sigreturn), 0, NULL);
}

/* The sanitized test build (zonelet-hvt-asan): ASan maps shadow and
 * quarantine memory and sets up signal stacks while the guest runs. */
static void allow_sanitizer(scmp_filter_ctx c)
{
#ifdef __SANITIZE_ADDRESS__
    static const int san[] = { SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(madvise),
                               SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigprocmask),
                               SCMP_SYS(write), SCMP_SYS(getpid), SCMP_SYS(gettid),
                               SCMP_SYS(prctl), SCMP_SYS(sched_yield) };
    for (size_t i = 0; i < sizeof(san) / sizeof(san[0]); i++)
        allow(c, san[i], 0, NULL);
#else
    (void)c;
#endif
}

void hvt_seccomp_install(const struct hvt *h)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        hvt_die("sigaction: %s", strerror(errno));
    scmp_filter_ctx c = seccomp_init(SCMP_ACT_TRAP);
    if (!c)
        hvt_die("seccomp_init failed");
    allow_run_loop(c, h);
    allow_sanitizer(c);
    int rc = seccomp_load(c);
    if (rc < 0)
        hvt_die("seccomp_load: %s", strerror(-rc));
    /* The filter context is not released: freeing could call munmap,
     * which the filter now forbids. It is small and lives until exit. */
}
