/* misc.c: identity, randomness and the signal calls that have nothing to
 * do in a single-process, signal-free guest. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

long rt_sys_getrandom(const long *a)
{
    size_t len = (size_t)a[1];

    if (len > 33554431) /* Linux returns at most this much per call */
        len = 33554431;
    if (plat_random((void *)a[0], len) != PLAT_OK)
        return -EIO;
    return (long)len;
}

/* mbedTLS's entropy source (MBEDTLS_ENTROPY_HARDWARE_ALT): the host's
 * random bytes, the only entropy the guest has. Declared here rather than
 * through mbedTLS's headers so the runtime builds without them. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    if (plat_random(out, len) != PLAT_OK) {
        *olen = 0;
        return -1;
    }
    *olen = len;
    return 0;
}

long rt_sys_uname(const long *a)
{
    struct utsname *u = (struct utsname *)a[0];

    memset(u, 0, sizeof *u);
    strcpy(u->sysname, "zonelet");
    strcpy(u->nodename, "zonelet");
    strcpy(u->release, "1.0");
    strcpy(u->version, "unikernel");
    strcpy(u->machine, "x86_64");
    return 0;
}

long rt_sys_getid(const long *a)
{
    (void)a;
    return 1; /* the one process */
}

long rt_sys_zero(const long *a)
{
    (void)a;
    return 0; /* root, no parent, no alternate signal stack */
}

long rt_sys_rt_sigprocmask(const long *a)
{
    sigset_t *old = (sigset_t *)a[2];

    /* Signals are never delivered, so every mask is as good as any. */
    if (old)
        memset(old, 0, (size_t)a[3] < sizeof *old ? (size_t)a[3] : sizeof *old);
    return 0;
}

long rt_sys_rt_sigaction(const long *a)
{
    void *old = (void *)a[2];

    if ((int)a[0] <= 0 || (int)a[0] >= 65)
        return -EINVAL;
    if (old)
        memset(old, 0, 32); /* struct k_sigaction: handler, flags, restorer, mask */
    return 0;
}

long rt_sys_sched_getaffinity(const long *a)
{
    size_t len = (size_t)a[1];
    unsigned char *mask = (unsigned char *)a[2];

    /* One vCPU: CPU 0 only (sysconf(_SC_NPROCESSORS_ONLN) reads this). */
    if (len < 8)
        return -EINVAL;
    memset(mask, 0, 8);
    mask[0] = 1;
    return 8;
}

/* Limits as a program sees them; nothing enforces them except the
 * descriptor table size. Setting them is accepted and ignored. */
long rt_sys_prlimit64(const long *a)
{
    struct rlimit *old = (struct rlimit *)a[3];

    if (a[0] != 0 && a[0] != 1)
        return -ESRCH;
    if (old) {
        old->rlim_cur = old->rlim_max = RLIM_INFINITY;
        if ((int)a[1] == RLIMIT_NOFILE)
            old->rlim_cur = old->rlim_max = 1024;
        else if ((int)a[1] == RLIMIT_STACK)
            old->rlim_cur = 8u << 20;
    }
    return 0;
}

long rt_sys_getrlimit(const long *a)
{
    const long b[4] = {0, a[0], 0, a[1]};
    return rt_sys_prlimit64(b);
}
