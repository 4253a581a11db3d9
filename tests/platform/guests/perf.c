/* perf: what the runtime's basic operations cost inside the guest, printed
 * for the record: a system call (a function call here), clock_gettime, a
 * cooperative thread switch, a condition-variable round trip, a page
 * mmap/munmap pair. Checks only that each ran and the clock advanced. */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile int stop;
static void *yielder(void *arg)
{
    (void)arg;
    while (!stop)
        sched_yield();
    return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 20000;
static void *ponger(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < rounds; i++) {
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        turn = 0;
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    const int n = 1000000;
    double t0 = now_ns();
    for (int i = 0; i < n; i++)
        CHECK(syscall(SYS_getppid) == 0);
    double sys = (now_ns() - t0) / n;

    struct timespec ts;
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    double clk = (now_ns() - t0) / n;

    pthread_t t;
    CHECK(pthread_create(&t, NULL, yielder, NULL) == 0);
    t0 = now_ns();
    for (int i = 0; i < 100000; i++)
        sched_yield();
    double sw = (now_ns() - t0) / 200000; /* two switches per yield pair */
    stop = 1;
    pthread_join(t, NULL);

    CHECK(pthread_create(&t, NULL, ponger, NULL) == 0);
    t0 = now_ns();
    pthread_mutex_lock(&mu);
    for (int i = 0; i < rounds; i++) {
        turn = 1;
        pthread_cond_signal(&cv);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    double rt = (now_ns() - t0) / rounds;
    pthread_join(t, NULL);

    t0 = now_ns();
    for (int i = 0; i < 100000; i++) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED);
        munmap(p, 4096);
    }
    double mm = (now_ns() - t0) / 100000;

    printf("syscall (getppid) %.1f ns, clock_gettime %.1f ns, thread switch %.1f ns, "
           "condvar round trip %.1f ns, mmap+munmap 4K %.1f ns\n", sys, clk, sw, rt, mm);
    CHECK(sys > 0 && clk > 0 && sw > 0 && rt > 0 && mm > 0);
    printf("SUCCESS\n");
    return 0;
}
