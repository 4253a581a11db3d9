/* Running a guest for `zonelet vm` (vm.c makes the plan, this runs it):
 * the monitor as a child in a process group of its own, its console
 * copied to standard output, "zonelet: ready" only once the guest
 * answers, and the guest stopped on SIGTERM or SIGINT.
 */
#ifndef ZL_UNIKERNEL_VM_RUN_H
#define ZL_UNIKERNEL_VM_RUN_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct srv_vm_run {
    char *const *argv;                    /* the monitor's command line (borrowed) */
    const struct sockaddr_storage *probe; /* where the guest must answer (borrowed) */
    const socklen_t *probe_len;
    size_t nprobe;
    unsigned boot_timeout_s;              /* boot to first answers, at most */
} srv_vm_run_t;

/* Runs the plan to its end and returns zonelet vm's exit status. Every
 * thread of the process must have SIGTERM, SIGINT, SIGHUP and SIGCHLD
 * blocked (they are read through a signalfd here):
 *  - the console is copied line by line to standard output, but for the
 *    guest's own "zonelet: ready": after it, a DNS query goes to every
 *    probe address every 200 ms, and "zonelet: ready" is printed once
 *    each has answered (any answer: the path works);
 *  - no answers within boot_timeout_s: the guest is stopped, status 1;
 *  - SIGTERM or SIGINT: the guest is stopped, status 0 (stopped as asked);
 *  - SIGHUP: logged, not passed on (the guest takes no signals);
 *  - the guest ends by itself: its monitor's exit status, with a line
 *    saying so.
 * Stopping sends SIGTERM to the monitor's process group and SIGKILL
 * after 5 s; the monitor also gets SIGTERM if this process dies
 * (PR_SET_PDEATHSIG). Every wait is bounded. */
int srv_vm_run(const srv_vm_run_t *r);

/* One line "zonelet vm: ..." on standard error. */
void srv_vm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
