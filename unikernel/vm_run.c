#include "unikernel/vm_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unikernel/clock.h"
#include "unikernel/log.h"

#define PROBE_EVERY_MS 200
#define STOP_WAIT_MS 5000
#define LINE_MAX_BYTES 4096

typedef struct run {
    const srv_vm_run_t *r;
    pid_t child;                 /* also its process group; 0 once reaped */
    int status;                  /* its wait status once reaped */
    int console;                 /* the read end of its standard output; -1 at EOF */
    int sig;                     /* signalfd */
    char line[LINE_MAX_BYTES];
    size_t len;
    bool guest_ready;            /* the guest printed "zonelet: ready" */
    bool ready;                  /* every probe address answered */
    int *probe_fd;               /* one UDP socket per probe address */
    bool *answered;
    uint16_t probe_id;
} run_t;

void srv_vm_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    srv_log_raw("zonelet vm: %s", line);
}

static void out(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* One console line (without its newline): copied, but for the guest's
 * "zonelet: ready", which this process says itself once it is true
 * from the outside too. */
static void console_line(run_t *x, char *s, size_t n)
{
    while (n && s[n - 1] == '\r')
        n--;
    if (n == 14 && memcmp(s, "zonelet: ready", 14) == 0) {
        x->guest_ready = true;
        return;
    }
    s[n] = '\n';
    out(s, n + 1);
}

/* Reads what the console has; returns false at EOF. */
static bool console_read(run_t *x)
{
    ssize_t r = read(x->console, x->line + x->len, sizeof x->line - 1 - x->len);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN;
    if (r == 0) {
        if (x->len)
            out(x->line, x->len);
        x->len = 0;
        return false;
    }
    x->len += (size_t)r;
    char *start = x->line, *nl;
    while ((nl = memchr(start, '\n', x->len - (size_t)(start - x->line))) != NULL) {
        console_line(x, start, (size_t)(nl - start));
        start = nl + 1;
    }
    x->len -= (size_t)(start - x->line);
    memmove(x->line, start, x->len);
    if (x->len == sizeof x->line - 1) { /* a line longer than the buffer: as it is */
        out(x->line, x->len);
        x->len = 0;
    }
    return true;
}

/* ---- probes: ". IN SOA" over UDP; any answer with our id will do ---- */

static int probe_open(run_t *x)
{
    const srv_vm_run_t *r = x->r;
    x->probe_fd = calloc(r->nprobe ? r->nprobe : 1, sizeof *x->probe_fd);
    x->answered = calloc(r->nprobe ? r->nprobe : 1, sizeof *x->answered);
    if (!x->probe_fd || !x->answered)
        return -1;
    for (size_t i = 0; i < r->nprobe; i++)
        x->probe_fd[i] = -1;
    if (getrandom(&x->probe_id, sizeof x->probe_id, 0) != (ssize_t)sizeof x->probe_id)
        x->probe_id = (uint16_t)getpid();
    for (size_t i = 0; i < r->nprobe; i++) {
        x->probe_fd[i] = socket(r->probe[i].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (x->probe_fd[i] < 0 ||
            connect(x->probe_fd[i], (const struct sockaddr *)&r->probe[i], r->probe_len[i]))
            return -1;
    }
    return 0;
}

static void probe_send(run_t *x)
{
    unsigned char q[17] = {(unsigned char)(x->probe_id >> 8), (unsigned char)x->probe_id,
                           0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
    for (size_t i = 0; i < x->r->nprobe; i++)
        if (!x->answered[i])
            (void)send(x->probe_fd[i], q, sizeof q, MSG_DONTWAIT);
}

static void probe_read(run_t *x, size_t i)
{
    unsigned char a[512];
    ssize_t n;
    while ((n = recv(x->probe_fd[i], a, sizeof a, MSG_DONTWAIT)) >= 0)
        if (n >= 12 && ((a[0] << 8) | a[1]) == x->probe_id && (a[2] & 0x80))
            x->answered[i] = true;
}

static bool probes_done(const run_t *x)
{
    for (size_t i = 0; i < x->r->nprobe; i++)
        if (!x->answered[i])
            return false;
    return true;
}

static void probe_close(run_t *x)
{
    for (size_t i = 0; x->probe_fd && i < x->r->nprobe; i++)
        if (x->probe_fd[i] >= 0)
            close(x->probe_fd[i]);
    free(x->probe_fd);
    free(x->answered);
}

/* ---- the child ---- */

static int spawn(run_t *x, const sigset_t *blocked)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return -1;
    x->child = fork();
    if (x->child < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (x->child == 0) {
        /* Only async-signal-safe calls here: the forwarder's thread runs. */
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
            _exit(125);
        sigprocmask(SIG_UNBLOCK, blocked, NULL);
        execv(x->r->argv[0], x->r->argv);
        _exit(125);
    }
    setpgid(x->child, x->child); /* also here: no race with the kill below */
    close(p[1]);
    x->console = p[0];
    return 0;
}

static bool reap(run_t *x, int flags)
{
    if (!x->child)
        return true;
    pid_t w = waitpid(x->child, &x->status, flags);
    if (w == x->child) {
        x->child = 0;
        return true;
    }
    return false;
}

/* SIGTERM to the group, SIGKILL after STOP_WAIT_MS; then what the
 * console still had. */
static void stop(run_t *x)
{
    uint64_t end = srv_mono_ms() + STOP_WAIT_MS;
    if (x->child)
        kill(-x->child, SIGTERM);
    while (!reap(x, WNOHANG) && srv_mono_ms() < end)
        poll(NULL, 0, 20);
    if (x->child) {
        srv_vm_log("the monitor did not stop within %d s: SIGKILL", STOP_WAIT_MS / 1000);
        kill(-x->child, SIGKILL);
        reap(x, 0);
    }
    end = srv_mono_ms() + 500;
    fcntl(x->console, F_SETFL, O_NONBLOCK);
    while (x->console >= 0 && srv_mono_ms() < end && console_read(x) &&
           poll(&(struct pollfd){.fd = x->console, .events = POLLIN}, 1, 50) > 0)
        ;
}

static int status_of(const run_t *x)
{
    if (WIFEXITED(x->status))
        return WEXITSTATUS(x->status);
    return 128 + (WIFSIGNALED(x->status) ? WTERMSIG(x->status) : 0);
}

/* What a signal asks. Returns -1 to go on, else the exit status. */
static int on_signal(run_t *x)
{
    struct signalfd_siginfo si;
    while (read(x->sig, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            srv_vm_log("SIGHUP not passed on: the guest takes no signals (restart it to "
                    "serve changed files)");
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            srv_vm_log("%s: stopping the guest", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            stop(x);
            return 0;
        } else if (si.ssi_signo == SIGCHLD && reap(x, WNOHANG)) {
            stop(x); /* nothing to stop: drains the console */
            srv_vm_log("the guest stopped by itself (monitor exit status %d)", status_of(x));
            return status_of(x);
        }
    }
    return -1;
}

static int loop(run_t *x)
{
    uint64_t deadline = srv_mono_ms() + (uint64_t)x->r->boot_timeout_s * 1000, next_probe = 0;
    size_t n = x->r->nprobe;
    struct pollfd *p = calloc(n + 2, sizeof *p);
    int rc = -1;
    if (!p)
        return 1;
    while (rc < 0) {
        p[0] = (struct pollfd){.fd = x->sig, .events = POLLIN};
        p[1] = (struct pollfd){.fd = x->console, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            p[2 + i] = (struct pollfd){.fd = x->ready ? -1 : x->probe_fd[i], .events = POLLIN};
        uint64_t now = srv_mono_ms();
        int wait = x->ready ? 1000 : PROBE_EVERY_MS;
        if (poll(p, n + 2, wait) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            rc = on_signal(x);
        if (rc >= 0)
            break;
        if (p[1].revents && !console_read(x)) {
            close(x->console);
            x->console = -1; /* the monitor ends: SIGCHLD follows, bounded below */
        }
        for (size_t i = 0; i < n && !x->ready; i++)
            if (p[2 + i].revents)
                probe_read(x, i);
        now = srv_mono_ms();
        if (!x->ready && x->guest_ready && probes_done(x)) {
            x->ready = true;
            out("zonelet: ready\n", 15);
        }
        if (!x->ready && x->guest_ready && now >= next_probe) {
            probe_send(x);
            next_probe = now + PROBE_EVERY_MS;
        }
        if (!x->ready && now >= deadline) {
            srv_vm_log("the guest did not %s within %u s (--boot-timeout): stopping it",
                    x->guest_ready ? "answer on every --listen address" : "become ready",
                    x->r->boot_timeout_s);
            stop(x);
            rc = 1;
        }
        if (rc < 0 && x->console < 0 && x->child && !reap(x, WNOHANG)) {
            /* console closed but the monitor lives on: give it a second */
            uint64_t end = srv_mono_ms() + 1000;
            while (!reap(x, WNOHANG) && srv_mono_ms() < end)
                poll(NULL, 0, 20);
            if (x->child)
                stop(x);
            srv_vm_log("the guest's console closed (monitor exit status %d)", status_of(x));
            rc = status_of(x);
        }
        if (rc < 0 && !x->child) {
            srv_vm_log("the guest stopped by itself (monitor exit status %d)", status_of(x));
            rc = status_of(x);
        }
    }
    free(p);
    return rc < 0 ? 1 : rc;
}

int srv_vm_run(const srv_vm_run_t *r)
{
    run_t x = {.r = r, .console = -1, .sig = -1};
    sigset_t set, old;
    int rc = 1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    x.sig = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (x.sig < 0 || probe_open(&x)) {
        srv_vm_log("cannot set up: %s", strerror(errno));
    } else if (spawn(&x, &set)) {
        srv_vm_log("cannot start %s: %s", r->argv[0], strerror(errno));
    } else {
        rc = loop(&x);
        if (x.child)
            stop(&x);
    }
    if (x.console >= 0)
        close(x.console);
    if (x.sig >= 0)
        close(x.sig);
    probe_close(&x);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
