/* edges: how the runtime ends or refuses things, one case per boot
 * argument: "abort" (abort() -> the monitor's abort status), "null" (a
 * NULL store faults), "deadlock" (every thread blocked without a deadline
 * is reported, not hung), "enosys" (an unimplemented call fails with
 * ENOSYS and is logged once by name), "exit-thread" (the last thread
 * leaving through pthread_exit ends the guest with status 0), "hook" (an
 * event hook registered with the scheduler runs when every thread is
 * blocked, and can wake them: the network layer's way in), "overflow" (a
 * thread that recurses past the end of its 64 KiB stack is reported at its
 * next switch). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* The runtime's scheduler API (platform/runtime/rt.h), linked in. */
void rt_sched_set_event_hook(void (*hook)(uint32_t events), uint64_t (*deadline)(void));
int rt_sched_wake(uintptr_t key, int n);

static volatile int event_word, hook_calls;
static void hook(uint32_t ev)
{
    (void)ev;
    hook_calls++;
    event_word = 1;
    rt_sched_wake((uintptr_t)&event_word, 1);
}

static void *event_waiter(void *arg)
{
    (void)arg;
    /* Blocks with no deadline, like a thread waiting for a packet. */
    while (!event_word)
        syscall(SYS_futex, &event_word, 128 /* FUTEX_WAIT_PRIVATE */, 0, NULL, NULL, 0);
    printf("woken by the event hook\n");
    fflush(stdout);
    return NULL;
}

/* Each level uses about 1 KiB of stack and yields, so the scheduler looks
 * at the guard right after it is reached. */
static int deep(int n)
{
    volatile char frame[1024];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (char)n;
    sched_yield();
    return n ? deep(n - 1) + frame[0] : 0;
}

static void *recurser(void *arg)
{
    (void)arg;
    printf("recursing\n");
    fflush(stdout);
    return (void *)(intptr_t)deep(200);
}

static void *worker(void *arg)
{
    (void)arg;
    printf("worker ran\n");
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    if (!strcmp(mode, "abort")) {
        printf("calling abort\n");
        fflush(stdout);
        abort();
    } else if (!strcmp(mode, "null")) {
        *(volatile int *)(uintptr_t)argc = 0; /* not mapped */
    } else if (!strcmp(mode, "deadlock")) {
        pthread_mutex_lock(&mu);
        pthread_cond_wait(&cv, &mu); /* nobody will signal */
    } else if (!strcmp(mode, "enosys")) {
        CHECK(syscall(SYS_acct, "/x") == -1 && errno == ENOSYS);
        CHECK(syscall(SYS_acct, "/x") == -1 && errno == ENOSYS);
        printf("SUCCESS\n");
        return 0;
    } else if (!strcmp(mode, "hook")) {
        pthread_t t;
        rt_sched_set_event_hook(hook, NULL);
        CHECK(pthread_create(&t, NULL, event_waiter, NULL) == 0);
        usleep(20000); /* both threads blocked: the scheduler waits, then calls the hook */
        CHECK(pthread_join(t, NULL) == 0);
        CHECK(hook_calls >= 1 && event_word == 1);
        rt_sched_set_event_hook(NULL, NULL);
        printf("SUCCESS\n");
        return 0;
    } else if (!strcmp(mode, "overflow")) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 64 * 1024);
        CHECK(pthread_create(&t, &at, recurser, NULL) == 0);
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "exit-thread")) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
        printf("main leaves first\n");
        fflush(stdout);
        pthread_exit(NULL);
    }
    printf("FAILURE: still running in mode '%s'\n", mode);
    return 1;
}
