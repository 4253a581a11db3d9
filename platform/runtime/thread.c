/* thread.c: cooperative threads on the single vCPU, as musl's pthreads
 * see them through clone, futex, set_tid_address and exit.
 *
 * A thread runs until it blocks (futex wait, sleep, yield, exit); then the
 * scheduler picks a thread whose deadline passed (earliest first), else the
 * next runnable one round-robin; with none, it waits in plat_wait() for the
 * earliest deadline. There is no preemption: a thread that never makes a
 * system call that blocks or yields keeps the vCPU. A switch
 * saves the callee-saved registers, the SSE/x87 control words and rsp on
 * the old stack, and sets the TLS base of the new thread. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

#define RT_MAX_THREADS 256

/* Linux futex operations (linux/futex.h, which musl does not ship). */
enum {
    FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4,
    FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10,
    FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256
};

enum rt_state { RT_FREE = 0, RT_RUNNABLE, RT_BLOCKED };

struct rt_thread {
    enum rt_state state;
    int tid;
    uint64_t rsp;        /* saved stack pointer while switched out */
    uintptr_t tls;       /* FS base */
    int *clear_tid;      /* CLONE_CHILD_CLEARTID / set_tid_address */
    uintptr_t wait_key;  /* futex address blocked on, 0 for a sleep */
    uint64_t deadline;   /* UINT64_MAX: none */
    int wait_result;     /* 0 woken, -ETIMEDOUT, -EINTR (cancel) */
    uint64_t *canary;    /* top of the stack guard, or NULL (see below) */
};

/* Stack overflow check. No page protection exists, so musl's guard pages
 * below a thread stack are ordinary memory: their top RT_CANARY_WORDS
 * words get a pattern at clone and are checked whenever the thread
 * switches out. A thread that runs past its stack end is caught at its
 * next switch (best effort: until then it may have written below, and an
 * overflow right before exiting goes unseen). */
#define RT_CANARY_WORDS 8
#define RT_CANARY 0x7a6f6e656c657421ull /* "zonelet!" */

static void canary_check(const struct rt_thread *t)
{
    for (int i = 0; t->canary && i < RT_CANARY_WORDS; i++)
        if (t->canary[i] != RT_CANARY)
            plat_abort("zonelet-rt: thread stack overflow (the guard below its stack was written)");
}

static struct rt_thread rt_threads[RT_MAX_THREADS];
static struct rt_thread *rt_cur;
static int rt_next_tid = 2; /* tid 1 is the first thread (== pid) */
static int rt_live;         /* threads not yet exited */
static int rt_hw = 1;       /* slots [0, rt_hw) have been used: scans stop there */
static void (*rt_event_hook)(uint32_t events);
static uint64_t (*rt_event_deadline)(void);

/* rt_switch(save, next_rsp): save the current context on its stack and
 * store rsp in *save; resume the context saved at next_rsp. */
void rt_switch(uint64_t *save, uint64_t next_rsp);
__asm__(".text\n"
        ".globl rt_switch\n"
        ".type rt_switch,@function\n"
        "rt_switch:\n"
        "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  sub $8,%rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
        "  mov %rsp,(%rdi)\n"
        "  mov %rsi,%rsp\n"
        "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  add $8,%rsp\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
        "  ret\n"
        /* A new thread starts here with fn in r12 and arg in r13, rsp
         * 16-byte aligned; clone's contract is exit(fn(arg)). */
        ".globl rt_thread_trampoline\n"
        "rt_thread_trampoline:\n"
        "  xor %ebp,%ebp\n"
        "  mov %r13,%rdi\n"
        "  call *%r12\n"
        "  mov %eax,%edi\n"
        "  call rt_thread_exit_self\n"
        "  ud2\n");
void rt_thread_trampoline(void);
_Noreturn void rt_thread_exit_self(int status);

void rt_thread_init(void)
{
    rt_cur = &rt_threads[0];
    rt_cur->state = RT_RUNNABLE;
    rt_cur->tid = 1;
    rt_cur->deadline = UINT64_MAX;
    rt_live = 1;
}

/* The thread to run after rt_cur. A blocked thread whose deadline passed
 * comes first, earliest deadline first, so sleepers wake in order and a
 * thread that keeps yielding cannot starve them; then the next runnable
 * thread round-robin (rt_cur itself last). With none, wait in plat_wait()
 * for the earliest deadline, the event source's own included. */
static struct rt_thread *pick_next(void)
{
    for (;;) {
        int base = (int)(rt_cur - rt_threads);
        uint64_t now = plat_clock_monotonic_ns(), soonest = UINT64_MAX;
        struct rt_thread *run = NULL, *due = NULL;
        for (int k = 1; k <= rt_hw; k++) {
            struct rt_thread *t = &rt_threads[(base + k) % rt_hw];
            if (t->state == RT_RUNNABLE && !run)
                run = t;
            if (t->state == RT_BLOCKED && t->deadline < soonest) {
                soonest = t->deadline;
                due = t;
            }
        }
        if (due && soonest <= now) {
            due->state = RT_RUNNABLE;
            due->wait_result = -ETIMEDOUT;
            return due;
        }
        if (run)
            return run;
        if (soonest == UINT64_MAX && !rt_event_hook)
            plat_abort("zonelet-rt: deadlock: every thread is blocked without a deadline");
        if (rt_event_hook) {
            /* One wait (a deadline already due only polls), then the hook,
             * which may have woken threads: rescan. */
            uint64_t ev_due = rt_event_deadline ? rt_event_deadline() : UINT64_MAX;
            rt_event_hook(plat_wait(ev_due < soonest ? ev_due : soonest));
            continue;
        }
        while (plat_clock_monotonic_ns() < soonest)
            plat_wait(soonest);
    }
}

void rt_sched_set_event_hook(void (*hook)(uint32_t events), uint64_t (*deadline)(void))
{
    rt_event_hook = hook;
    rt_event_deadline = hook ? deadline : NULL;
}

/* Switch away from rt_cur (already marked blocked, runnable or free). */
static void schedule(void)
{
    struct rt_thread *prev = rt_cur, *next;
    static uint64_t dead_rsp;

    if (prev->state != RT_FREE) /* an exited thread's stack may be gone */
        canary_check(prev);
    next = pick_next();
    if (next == prev)
        return;
    rt_cur = next;
    if (next->tls != prev->tls || prev->state == RT_FREE)
        plat_set_tls_base(next->tls);
    rt_switch(prev->state == RT_FREE ? &dead_rsp : &prev->rsp, next->rsp);
}

int rt_sched_block(uintptr_t key, uint64_t deadline_ns)
{
    rt_cur->state = RT_BLOCKED;
    rt_cur->wait_key = key;
    rt_cur->deadline = deadline_ns;
    rt_cur->wait_result = 0;
    schedule();
    rt_cur->deadline = UINT64_MAX;
    rt_cur->wait_key = 0;
    return rt_cur->wait_result;
}

int rt_sched_wake(uintptr_t key, int n)
{
    int woken = 0;
    /* Start after the current thread so wake order follows run order. */
    int base = (int)(rt_cur - rt_threads);
    for (int k = 1; k <= rt_hw && woken < n; k++) {
        struct rt_thread *t = &rt_threads[(base + k) % rt_hw];
        if (t->state == RT_BLOCKED && t->wait_key == key && key) {
            t->state = RT_RUNNABLE;
            t->wait_result = 0;
            woken++;
        }
    }
    return woken;
}

/* Move up to n waiters on key to key2 (FUTEX_REQUEUE). */
static int requeue(uintptr_t key, uintptr_t key2, int n)
{
    int moved = 0;
    for (int i = 0; i < rt_hw && moved < n; i++) {
        struct rt_thread *t = &rt_threads[i];
        if (t->state == RT_BLOCKED && t->wait_key == key) {
            t->wait_key = key2;
            moved++;
        }
    }
    return moved;
}

/* Called by the patched musl's __clone (src/thread/x86_64/clone.c): it
 * has seven arguments, one more than a system call carries. */
int __zl_clone(int (*fn)(void *), void *stack, int flags, void *arg,
               int *ptid, void *tls, int *ctid)
{
    const unsigned long need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    struct rt_thread *t = NULL;

    if (((unsigned long)flags & need) != need || !stack)
        return -EINVAL; /* no processes: only threads */
    for (int i = 0; i < RT_MAX_THREADS && !t; i++)
        if (rt_threads[i].state == RT_FREE && &rt_threads[i] != rt_cur)
            t = &rt_threads[i];
    if (!t)
        return -EAGAIN;
    if (t - rt_threads >= rt_hw)
        rt_hw = (int)(t - rt_threads) + 1;
    *t = (struct rt_thread){.state = RT_RUNNABLE, .tid = rt_next_tid++,
                            .deadline = UINT64_MAX, .tls = rt_cur->tls};
    if (flags & CLONE_SETTLS)
        t->tls = (uintptr_t)tls;
    if (flags & CLONE_PARENT_SETTID)
        *ptid = t->tid;
    if (flags & CLONE_CHILD_SETTID)
        *ctid = t->tid;
    if (flags & CLONE_CHILD_CLEARTID)
        t->clear_tid = ctid;
    uintptr_t bottom;
    if (rt_mem_last_opened((uintptr_t)stack, &bottom)) {
        t->canary = (uint64_t *)bottom - RT_CANARY_WORDS;
        for (int i = 0; i < RT_CANARY_WORDS; i++)
            t->canary[i] = RT_CANARY;
    }
    /* Initial frame popped by rt_switch: control words, r15..rbp, then
     * ret to the trampoline with rsp 16-byte aligned. */
    uint64_t *sp = (uint64_t *)((uintptr_t)stack & ~(uintptr_t)15);
    *--sp = (uint64_t)(uintptr_t)rt_thread_trampoline;
    *--sp = 0;                       /* rbp */
    *--sp = 0;                       /* rbx */
    *--sp = (uint64_t)(uintptr_t)fn; /* r12 */
    *--sp = (uint64_t)(uintptr_t)arg; /* r13 */
    *--sp = 0;                       /* r14 */
    *--sp = 0;                       /* r15 */
    *--sp = 0x0000037f00001f80ull;   /* x87 control word 0x37f, mxcsr 0x1f80 */
    t->rsp = (uint64_t)(uintptr_t)sp;
    rt_live++;
    return t->tid;
}

long rt_sys_clone(const long *a)
{
    (void)a;
    return -ENOSYS; /* fork/vfork: there is one process */
}

/* An exiting thread leaves its stack before anything else runs on it:
 * musl unmaps a detached thread's stack (and its TLS) before the exit
 * system call, and the scheduler may poll the network while it looks
 * for the next thread (lwIP's input and timers allocate), which would
 * hand that memory out again under the running code. Only one thread exits at a time, and an
 * exited context is never resumed, so one stack serves every exit. */
static _Alignas(16) uint8_t rt_exit_stack[64 * 1024];

static _Noreturn void exit_on_own_stack(void)
{
    if (rt_cur->clear_tid) {
        *rt_cur->clear_tid = 0;
        rt_sched_wake((uintptr_t)rt_cur->clear_tid, 1);
    }
    if (--rt_live == 0)
        plat_exit(0); /* the last thread left: Linux ends the process */
    /* Its thread block (musl's TLS, errno) went with the stack: the
     * scheduler's code (stdio locks, errno) runs on a live thread's, as
     * it does whenever that thread blocks. */
    for (int i = 0; i < rt_hw; i++)
        if (rt_threads[i].state != RT_FREE && &rt_threads[i] != rt_cur) {
            plat_set_tls_base(rt_threads[i].tls);
            break;
        }
    rt_cur->state = RT_FREE;
    schedule();
    plat_abort("zonelet-rt: exited thread resumed");
}

_Noreturn void rt_thread_exit_self(int status)
{
    (void)status;
    __asm__ volatile("mov %0,%%rsp\n"
                     "call *%1\n"
                     "ud2\n"
                     :
                     : "r"(rt_exit_stack + sizeof rt_exit_stack), "r"(exit_on_own_stack)
                     : "memory");
    __builtin_unreachable();
}

long rt_sys_exit(const long *a)
{
    rt_thread_exit_self((int)a[0]);
}

long rt_sys_exit_group(const long *a)
{
    plat_exit((int)a[0]);
}

long rt_sys_set_tid_address(const long *a)
{
    rt_cur->clear_tid = (int *)a[0];
    return rt_cur->tid;
}

long rt_sys_gettid(const long *a)
{
    (void)a;
    return rt_cur->tid;
}

long rt_sys_sched_yield(const long *a)
{
    (void)a;
    schedule();
    return 0;
}

long rt_sys_arch_prctl(const long *a)
{
    if (a[0] != 0x1002) /* ARCH_SET_FS is all musl uses */
        return -EINVAL;
    rt_cur->tls = (uintptr_t)a[1];
    plat_set_tls_base(rt_cur->tls);
    return 0;
}

/* Relative timespec -> monotonic deadline; UINT64_MAX when ts is NULL. */
static uint64_t rel_deadline(const struct timespec *ts)
{
    if (!ts)
        return UINT64_MAX;
    if (ts->tv_sec > (time_t)(UINT64_MAX / 2000000000ull))
        return UINT64_MAX;
    return plat_clock_monotonic_ns() + (uint64_t)ts->tv_sec * 1000000000ull +
           (uint64_t)ts->tv_nsec;
}

static int bad_ts(const struct timespec *ts)
{
    return ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L);
}

long rt_sys_futex(const long *a)
{
    volatile int *uaddr = (volatile int *)a[0];
    int op = (int)a[1] & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    int val = (int)a[2];
    const struct timespec *ts = (const struct timespec *)a[3];
    uint64_t deadline;

    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
        if (bad_ts(ts))
            return -EINVAL;
        if (*uaddr != val)
            return -EAGAIN;
        if (op == FUTEX_WAIT)
            deadline = rel_deadline(ts);
        else
            deadline = ts ? rt_clock_to_mono((int)a[1] & FUTEX_CLOCK_REALTIME ?
                                             CLOCK_REALTIME : CLOCK_MONOTONIC,
                                             ts->tv_sec, ts->tv_nsec)
                          : UINT64_MAX;
        return rt_sched_block((uintptr_t)uaddr, deadline);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        return rt_sched_wake((uintptr_t)uaddr, val);
    case FUTEX_CMP_REQUEUE:
        if (*uaddr != (int)a[5])
            return -EAGAIN;
        /* fall through */
    case FUTEX_REQUEUE: {
        int n = rt_sched_wake((uintptr_t)uaddr, val);
        return n + requeue((uintptr_t)uaddr, (uintptr_t)a[4], (int)a[3]);
    }
    default:
        return -ENOSYS;
    }
}

static long sleep_until(uint64_t deadline)
{
    /* Sleepers block like futex waiters with no key, so nothing wakes
     * them early and other threads run meanwhile. */
    /* A sleep always lets the other threads run, even when its deadline
     * passed already (the host may have descheduled the vCPU meanwhile). */
    do {
        if (rt_sched_block(0, deadline) == -EINTR)
            return -EINTR; /* pthread_cancel */
    } while (plat_clock_monotonic_ns() < deadline);
    return 0;
}

long rt_sys_nanosleep(const long *a)
{
    const struct timespec *req = (const struct timespec *)a[0];

    if (!req || bad_ts(req))
        return -EINVAL;
    return sleep_until(rel_deadline(req));
}

long rt_sys_clock_nanosleep(const long *a)
{
    int clk = (int)a[0], flags = (int)a[1];
    const struct timespec *req = (const struct timespec *)a[2];

    if (!req || bad_ts(req))
        return -EINVAL;
    if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME)
        return -EINVAL;
    if (flags & TIMER_ABSTIME)
        return sleep_until(rt_clock_to_mono(clk, req->tv_sec, req->tv_nsec));
    return sleep_until(rel_deadline(req));
}

/* sigwaitinfo/sigtimedwait: no signal is ever delivered (see tkill), so
 * none is pending or will come: wait out the timeout, or for good (the
 * server's control thread parks here while the others serve). */
long rt_sys_rt_sigtimedwait(const long *a)
{
    const struct timespec *ts = (const struct timespec *)a[2];

    if (bad_ts(ts))
        return -EINVAL;
    if (ts)
        return sleep_until(rel_deadline(ts)) == -EINTR ? -EINTR : -EAGAIN;
    while (rt_sched_block(0, UINT64_MAX) != -EINTR)
        ;
    return -EINTR;
}

static struct rt_thread *find_tid(int tid)
{
    for (int i = 0; i < rt_hw; i++)
        if (rt_threads[i].state != RT_FREE && rt_threads[i].tid == tid)
            return &rt_threads[i];
    return NULL;
}

long rt_sys_tkill(const long *a)
{
    struct rt_thread *t = find_tid((int)a[0]);
    int sig = (int)a[1];

    if (!t)
        return -ESRCH;
    if (sig == 0)
        return 0;
    /* No signal is ever delivered. musl's pthread_cancel sends SIGCANCEL
     * (32 + 1) to make a blocked cancellation point return EINTR, after
     * which musl acts on the cancel flag: do that part. */
    if (sig == 33) {
        if (t->state == RT_BLOCKED) {
            t->state = RT_RUNNABLE;
            t->wait_result = -EINTR;
        }
        return 0;
    }
    /* Any other signal would run its default action: end the program. */
    if (sig == SIGABRT)
        plat_abort("abort()");
    plat_abort("zonelet-rt: fatal signal raised");
}

long rt_sys_tgkill(const long *a)
{
    const long b[2] = {a[1], a[2]};
    return rt_sys_tkill(b);
}
