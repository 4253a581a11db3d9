/* hello: printf with floats, argv from the boot arguments, and the exit
 * status passed back through the monitor ("exit=N" asks for status N). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char buf[64];
    int status = 0, fail = 0;
    struct timespec ts;

    /* The monotonic clock counts from the guest's first instruction. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("guest start to main: %ld us\n", ts.tv_sec * 1000000L + ts.tv_nsec / 1000);

    snprintf(buf, sizeof buf, "%.3f %g %e", 3.14159, 0.5, 12345.678);
    if (strcmp(buf, "3.142 0.5 1.234568e+04")) {
        printf("FAILURE: float formatting gave '%s'\n", buf);
        fail = 1;
    }
    printf("hello from the unikernel: argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=%s\n", i, argv[i]);
        if (!strncmp(argv[i], "exit=", 5))
            status = atoi(argv[i] + 5);
    }
    if (getenv("TZ") == NULL || strcmp(getenv("TZ"), "UTC0")) {
        printf("FAILURE: TZ not in the environment\n");
        fail = 1;
    }
    /* What programs ask about their machine. */
    struct utsname u;
    struct rlimit rl;
    if (sysconf(_SC_NPROCESSORS_ONLN) != 1 || uname(&u) || strcmp(u.sysname, "zonelet") ||
        getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur != 1024 || getuid() != 0 || getpid() != 1) {
        printf("FAILURE: machine facts\n");
        fail = 1;
    }
    if (fail)
        return 1;
    printf("SUCCESS\n");
    return status;
}
