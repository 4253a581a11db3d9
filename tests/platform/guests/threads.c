/* threads: pthread create/join with return values, a mutex under
 * contention with yields, a condition variable queue, timed waits,
 * sleep ordering, thread-local storage, detached threads and cancellation,
 * barrier, semaphore and rwlock. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static __thread int tls_value;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *adder(void *arg)
{
    tls_value = (int)(intptr_t)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&mu);
        long v = counter;
        sched_yield(); /* others run while we hold the lock */
        counter = v + 1;
        pthread_mutex_unlock(&mu);
    }
    CHECK(tls_value == (int)(intptr_t)arg);
    return (void *)((intptr_t)arg * 10);
}

static void join_and_mutex(void)
{
    pthread_t t[8];
    for (intptr_t i = 0; i < 8; i++)
        CHECK(pthread_create(&t[i], NULL, adder, (void *)i) == 0);
    for (intptr_t i = 0; i < 8; i++) {
        void *ret;
        CHECK(pthread_join(t[i], &ret) == 0);
        CHECK((intptr_t)ret == i * 10);
    }
    CHECK(counter == 8000);
}

/* Producer/consumer over a small ring guarded by mu and cv. */
static int ring[4], head, tail, done;
static long consumed_sum;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= 200; i++) {
        pthread_mutex_lock(&mu);
        while (head - tail == 4)
            pthread_cond_wait(&cv, &mu);
        ring[head++ % 4] = i;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (head == tail && !done)
            pthread_cond_wait(&cv, &mu);
        if (head == tail && done)
            break;
        consumed_sum += ring[tail++ % 4];
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void condvar(void)
{
    pthread_t p, c1, c2;
    CHECK(pthread_create(&c1, NULL, consumer, NULL) == 0);
    CHECK(pthread_create(&c2, NULL, consumer, NULL) == 0);
    CHECK(pthread_create(&p, NULL, producer, NULL) == 0);
    pthread_join(p, NULL);
    pthread_join(c1, NULL);
    pthread_join(c2, NULL);
    CHECK(consumed_sum == 200 * 201 / 2);
}

static void timedwait(void)
{
    struct timespec ts;
    uint64_t t0 = now_ms();
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 30 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&mu);
    CHECK(pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT);
    pthread_mutex_unlock(&mu);
    uint64_t dt = now_ms() - t0;
    /* not before its deadline; how long after is the host's business */
    CHECK(dt >= 29);
    printf("timedwait(30 ms): %llu ms\n", (unsigned long long)dt);
}

/* Threads that sleep until 30, 10 and 20 ms after a common start finish in
 * order of their deadlines. Absolute deadlines keep the order fixed even
 * when a busy host delays the creation of one thread past another's. */
static int order[3], norder;
static struct timespec sleep_base;

static void *sleeper(void *arg)
{
    int ms = (int)(intptr_t)arg;
    struct timespec ts = sleep_base;
    ts.tv_nsec += ms * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == 0);
    pthread_mutex_lock(&mu);
    order[norder++] = ms;
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void sleep_order(void)
{
    pthread_t t[3];
    int ms[3] = {30, 10, 20};
    uint64_t t0 = now_ms();
    CHECK(clock_gettime(CLOCK_MONOTONIC, &sleep_base) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&t[i], NULL, sleeper, (void *)(intptr_t)ms[i]) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    uint64_t dt = now_ms() - t0;
    /* The order shows they slept at the same time: one after the other,
     * the thread created first (30 ms) would have woken first. */
    CHECK(norder == 3 && order[0] == 10 && order[1] == 20 && order[2] == 30);
    CHECK(dt >= 29);
    printf("sleep order: 3 threads sleeping 30, 10, 20 ms took %llu ms\n",
           (unsigned long long)dt);
    t0 = now_ms();
    usleep(15000);
    CHECK(now_ms() - t0 >= 14);
}

/* A thread that only ever yields must not starve a sleeper: the sleeper's
 * deadline comes first at the next switch. The spinner gives up after 5 s
 * so a regression fails (spin_gave_up) instead of hanging. */
static volatile int spin_stop, spin_gave_up;
static void *spinner(void *arg)
{
    uint64_t t0 = now_ms();
    (void)arg;
    while (!spin_stop && now_ms() - t0 < 5000)
        sched_yield();
    spin_gave_up = !spin_stop;
    return NULL;
}

static void no_starvation(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
    uint64_t t0 = now_ms();
    usleep(20000);
    uint64_t dt = now_ms() - t0;
    spin_stop = 1;
    pthread_join(t, NULL);
    CHECK(dt >= 19 && !spin_gave_up);
    printf("usleep(20 ms) beside a yielding thread: %llu ms\n", (unsigned long long)dt);
}

static volatile int detached_ran;
static void *detached(void *arg)
{
    (void)arg;
    detached_ran = 1;
    return NULL;
}

static void detach(void)
{
    for (int i = 0; i < 50; i++) { /* stacks of exited detached threads are reused */
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        CHECK(pthread_create(&t, &at, detached, NULL) == 0);
        pthread_attr_destroy(&at);
        usleep(100); /* a sleep lets the new thread run */
        for (int k = 0; k < 100 && !detached_ran; k++)
            sched_yield();
        CHECK(detached_ran);
        detached_ran = 0;
    }
}

/* pthread_cancel reaches a thread blocked in a condition wait and one in
 * a long sleep; both end with PTHREAD_CANCELED. */
static int cancel_ready;
static void unlock_mu(void *arg)
{
    (void)arg;
    pthread_mutex_unlock(&mu);
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(unlock_mu, NULL);
    cancel_ready++;
    for (;;)
        pthread_cond_wait(&cv, &mu);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *long_sleeper(void *arg)
{
    (void)arg;
    cancel_ready++;
    sleep(3600);
    return NULL;
}

static void cancel(void)
{
    pthread_t a, b;
    void *ra, *rb;
    uint64_t t0 = now_ms();
    CHECK(pthread_create(&a, NULL, cond_waiter, NULL) == 0);
    CHECK(pthread_create(&b, NULL, long_sleeper, NULL) == 0);
    while (cancel_ready < 2)
        sched_yield();
    CHECK(pthread_cancel(a) == 0 && pthread_cancel(b) == 0);
    CHECK(pthread_join(a, &ra) == 0 && pthread_join(b, &rb) == 0);
    CHECK(ra == PTHREAD_CANCELED && rb == PTHREAD_CANCELED);
    /* the sleeper was cut short: far below its hour, whatever the load */
    uint64_t dt = now_ms() - t0;
    CHECK(dt < 60000);
    printf("cancel: two threads cancelled and joined in %llu ms\n", (unsigned long long)dt);
    CHECK(pthread_mutex_trylock(&mu) == 0); /* the cleanup handler unlocked */
    pthread_mutex_unlock(&mu);
}

/* The other futex users in musl: barrier, semaphore, rwlock. */
static pthread_barrier_t bar;
static sem_t sem;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int phase_count[3], readers_in, max_readers;

static void *syncer(void *arg)
{
    (void)arg;
    for (int ph = 0; ph < 3; ph++) {
        __atomic_fetch_add(&phase_count[ph], 1, __ATOMIC_SEQ_CST);
        pthread_barrier_wait(&bar);
        CHECK(phase_count[ph] == 4); /* nobody passed before all arrived */
    }
    CHECK(sem_wait(&sem) == 0);
    pthread_rwlock_rdlock(&rw);
    readers_in++;
    if (readers_in > max_readers)
        max_readers = readers_in;
    usleep(2000); /* the other readers get in meanwhile */
    readers_in--;
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void primitives(void)
{
    pthread_t t[4];
    CHECK(pthread_barrier_init(&bar, NULL, 4) == 0);
    CHECK(sem_init(&sem, 0, 0) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, syncer, NULL) == 0);
    pthread_rwlock_wrlock(&rw); /* readers queue behind the writer */
    for (int i = 0; i < 4; i++)
        CHECK(sem_post(&sem) == 0);
    usleep(5000);
    CHECK(readers_in == 0);
    pthread_rwlock_unlock(&rw);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(max_readers >= 2);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    CHECK(sem_timedwait(&sem, &ts) == -1 && errno == ETIMEDOUT);
    pthread_barrier_destroy(&bar);
    sem_destroy(&sem);
}

static volatile int stop_forever;
static void *sleeper_forever(void *arg)
{
    while (!stop_forever)
        usleep(1000);
    return arg;
}

/* Many threads alive at once (each on its own musl-allocated stack), all
 * released together; then more than the runtime's 256 slots fail cleanly. */
static pthread_barrier_t many_bar;
static void *many_fn(void *arg)
{
    pthread_barrier_wait(&many_bar);
    return arg;
}

static void many(void)
{
    enum { N = 100 };
    static pthread_t t[N];
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 32 * 1024);
    CHECK(pthread_barrier_init(&many_bar, NULL, N + 1) == 0);
    for (intptr_t i = 0; i < N; i++)
        CHECK(pthread_create(&t[i], &at, many_fn, (void *)i) == 0);
    pthread_barrier_wait(&many_bar);
    for (intptr_t i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0 && r == (void *)i);
    }
    pthread_barrier_destroy(&many_bar);

    static pthread_t u[300];
    int made = 0, err = 0;
    CHECK(pthread_barrier_init(&many_bar, NULL, 1) == 0); /* no waiting */
    while (made < 300 && !(err = pthread_create(&u[made], &at, sleeper_forever, NULL)))
        made++;
    CHECK(err == EAGAIN && made >= 200 && made < 300);
    stop_forever = 1;
    for (int i = 0; i < made; i++)
        pthread_join(u[i], NULL);
    pthread_barrier_destroy(&many_bar);
    pthread_attr_destroy(&at);
}

int main(void)
{
    tls_value = -1;
    join_and_mutex();
    CHECK(tls_value == -1);
    condvar();
    timedwait();
    sleep_order();
    no_starvation();
    primitives();
    many();
    detach();
    cancel();
    printf("SUCCESS\n");
    return 0;
}
