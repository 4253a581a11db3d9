/* edges: how the runtime ends or refuses things, one case per boot
 * argument: "abort" (abort() -> the monitor's abort status), "null" (a
 * NULL store faults), "deadlock" (every thread blocked without a deadline
 * is reported, not hung), "enosys" (an unimplemented call fails with
 * ENOSYS and is logged once by name), "exit-thread" (the last thread
 * leaving through pthread_exit ends the guest with status 0). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

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
