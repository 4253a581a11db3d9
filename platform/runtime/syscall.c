/* syscall.c: the one dispatch table from Linux system call numbers to the
 * runtime's handlers. See rt.h. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

#define RT_NSYS 512

static const rt_sys_fn rt_sys_table[RT_NSYS] = {
    /* memory */
    [SYS_mmap] = rt_sys_mmap, [SYS_munmap] = rt_sys_munmap,
    [SYS_mremap] = rt_sys_mremap, [SYS_madvise] = rt_sys_madvise,
    [SYS_brk] = rt_sys_brk, [SYS_mprotect] = rt_sys_mprotect,
    /* threads, TLS, process */
    [SYS_clone] = rt_sys_clone, [SYS_futex] = rt_sys_futex,
    [SYS_set_tid_address] = rt_sys_set_tid_address,
    [SYS_exit] = rt_sys_exit, [SYS_exit_group] = rt_sys_exit_group,
    [SYS_sched_yield] = rt_sys_sched_yield,
    [SYS_nanosleep] = rt_sys_nanosleep,
    [SYS_clock_nanosleep] = rt_sys_clock_nanosleep,
    [SYS_arch_prctl] = rt_sys_arch_prctl, [SYS_gettid] = rt_sys_gettid,
    [SYS_tkill] = rt_sys_tkill, [SYS_tgkill] = rt_sys_tgkill,
    [SYS_rt_sigtimedwait] = rt_sys_rt_sigtimedwait,
    /* time */
    [SYS_clock_gettime] = rt_sys_clock_gettime,
    [SYS_clock_getres] = rt_sys_clock_getres,
    [SYS_gettimeofday] = rt_sys_gettimeofday, [SYS_time] = rt_sys_time,
    /* files */
    [SYS_open] = rt_sys_open, [SYS_openat] = rt_sys_openat,
    [SYS_close] = rt_sys_close, [SYS_read] = rt_sys_read,
    [SYS_write] = rt_sys_write, [SYS_readv] = rt_sys_readv,
    [SYS_writev] = rt_sys_writev, [SYS_pread64] = rt_sys_pread64,
    [SYS_pwrite64] = rt_sys_pwrite64, [SYS_preadv] = rt_sys_preadv,
    [SYS_pwritev] = rt_sys_pwritev, [SYS_lseek] = rt_sys_lseek,
    [SYS_stat] = rt_sys_stat, [SYS_lstat] = rt_sys_lstat,
    [SYS_fstat] = rt_sys_fstat, [SYS_newfstatat] = rt_sys_newfstatat,
    [SYS_access] = rt_sys_access, [SYS_faccessat] = rt_sys_faccessat,
    [SYS_faccessat2] = rt_sys_faccessat2,
    [SYS_mkdir] = rt_sys_mkdir, [SYS_mkdirat] = rt_sys_mkdirat,
    [SYS_rmdir] = rt_sys_rmdir, [SYS_rename] = rt_sys_rename,
    [SYS_renameat] = rt_sys_renameat, [SYS_renameat2] = rt_sys_renameat2,
    [SYS_link] = rt_sys_link, [SYS_linkat] = rt_sys_linkat,
    [SYS_unlink] = rt_sys_unlink, [SYS_unlinkat] = rt_sys_unlinkat,
    [SYS_symlink] = rt_sys_symlink, [SYS_symlinkat] = rt_sys_symlinkat,
    [SYS_readlink] = rt_sys_readlink, [SYS_readlinkat] = rt_sys_readlinkat,
    [SYS_getdents64] = rt_sys_getdents64,
    [SYS_fsync] = rt_sys_fsync, [SYS_fdatasync] = rt_sys_fsync,
    [SYS_ftruncate] = rt_sys_ftruncate, [SYS_truncate] = rt_sys_truncate,
    [SYS_fcntl] = rt_sys_fcntl, [SYS_dup] = rt_sys_dup,
    [SYS_dup2] = rt_sys_dup2, [SYS_dup3] = rt_sys_dup3,
    [SYS_getcwd] = rt_sys_getcwd, [SYS_chdir] = rt_sys_chdir,
    [SYS_fchdir] = rt_sys_fchdir, [SYS_chmod] = rt_sys_chmod,
    [SYS_fchmod] = rt_sys_fchmod, [SYS_fchmodat] = rt_sys_fchmodat,
    [SYS_chown] = rt_sys_chown, [SYS_fchown] = rt_sys_chown,
    [SYS_lchown] = rt_sys_chown, [SYS_fchownat] = rt_sys_chown,
    [SYS_utimensat] = rt_sys_utimensat, [SYS_ioctl] = rt_sys_ioctl,
    [SYS_umask] = rt_sys_umask,
    /* identity, randomness, signals */
    [SYS_getrandom] = rt_sys_getrandom, [SYS_uname] = rt_sys_uname,
    [SYS_getpid] = rt_sys_getid, [SYS_getppid] = rt_sys_zero,
    [SYS_getuid] = rt_sys_zero, [SYS_geteuid] = rt_sys_zero,
    [SYS_getgid] = rt_sys_zero, [SYS_getegid] = rt_sys_zero,
    [SYS_rt_sigprocmask] = rt_sys_rt_sigprocmask,
    [SYS_rt_sigaction] = rt_sys_rt_sigaction,
    [SYS_sigaltstack] = rt_sys_zero,
    [SYS_sched_getaffinity] = rt_sys_sched_getaffinity,
    [SYS_prlimit64] = rt_sys_prlimit64, [SYS_getrlimit] = rt_sys_getrlimit,
    [SYS_setrlimit] = rt_sys_zero,
    /* sockets over lwIP (sock.c), waiting on descriptors (poll.c) */
    [SYS_socket] = rt_sys_socket, [SYS_socketpair] = rt_sys_socketpair,
    [SYS_bind] = rt_sys_bind, [SYS_connect] = rt_sys_connect,
    [SYS_listen] = rt_sys_listen, [SYS_accept] = rt_sys_accept,
    [SYS_accept4] = rt_sys_accept4, [SYS_getsockname] = rt_sys_getsockname,
    [SYS_getpeername] = rt_sys_getpeername, [SYS_shutdown] = rt_sys_shutdown,
    [SYS_sendto] = rt_sys_sendto, [SYS_recvfrom] = rt_sys_recvfrom,
    [SYS_sendmsg] = rt_sys_sendmsg, [SYS_recvmsg] = rt_sys_recvmsg,
    [SYS_sendmmsg] = rt_sys_sendmmsg, [SYS_recvmmsg] = rt_sys_recvmmsg,
    [SYS_setsockopt] = rt_sys_setsockopt, [SYS_getsockopt] = rt_sys_getsockopt,
    [SYS_poll] = rt_sys_poll, [SYS_ppoll] = rt_sys_ppoll,
    [SYS_select] = rt_sys_select, [SYS_pselect6] = rt_sys_pselect6,
    [SYS_epoll_create] = rt_sys_epoll_create, [SYS_epoll_create1] = rt_sys_epoll_create1,
    [SYS_epoll_ctl] = rt_sys_epoll_ctl, [SYS_epoll_wait] = rt_sys_epoll_wait,
    [SYS_epoll_pwait] = rt_sys_epoll_pwait,
    [SYS_eventfd] = rt_sys_eventfd, [SYS_eventfd2] = rt_sys_eventfd2,
};

/* Names for the log of unimplemented calls, generated at build time from
 * musl's bits/syscall.h (mk/unikernel.mk). */
static const char *const rt_sys_names[RT_NSYS] = {
#include "sysnames.h"
};

static uint8_t rt_sys_logged[RT_NSYS / 8];

void rt_log(const char *what, const char *detail)
{
    plat_console_write("zonelet-rt: ", 12);
    plat_console_write(what, strlen(what));
    if (detail)
        plat_console_write(detail, strlen(detail));
    plat_console_write("\n", 1);
}

static long rt_sys_unimplemented(long n)
{
    if (n >= 0 && n < RT_NSYS && !(rt_sys_logged[n / 8] & (1u << (n % 8)))) {
        rt_sys_logged[n / 8] |= (uint8_t)(1u << (n % 8));
        rt_log("system call not implemented: ",
               rt_sys_names[n] ? rt_sys_names[n] : "(unknown number)");
    }
    return -ENOSYS;
}

long __zl_syscall(long n, long a1, long a2, long a3, long a4, long a5,
                  long a6)
{
    const long a[6] = {a1, a2, a3, a4, a5, a6};

    if (n < 0 || n >= RT_NSYS || !rt_sys_table[n])
        return rt_sys_unimplemented(n);
    return rt_sys_table[n](a);
}
