/* rt.h: internals of the unikernel runtime (platform/runtime), the layer
 * between musl and plat.h shared by the hvt and virtio targets.
 *
 * musl is built with its system-call instruction replaced by a call to
 * __zl_syscall() (platform/runtime/musl.patch); syscall.c dispatches that
 * call by number to the rt_sys_* handlers declared here. Every handler
 * takes the six raw arguments and returns a result or a negative errno, as
 * the Linux kernel does, so musl's own wrappers work unchanged.
 *
 * Threads are cooperative on the single vCPU: a handler runs to completion
 * unless it blocks through rt_sched_block(), so no locking is needed here.
 * Pointers passed in by the caller are borrowed for the call only.
 */
#ifndef ZL_RT_H
#define ZL_RT_H

#include <stddef.h>
#include <stdint.h>

/* One system call handler: a[0..5] are the raw arguments. */
typedef long (*rt_sys_fn)(const long *a);

/* ---- syscall.c ---- */

/* The entry point the patched musl calls instead of `syscall`. */
long __zl_syscall(long n, long a1, long a2, long a3, long a4, long a5,
                  long a6);

/* Write a line "zonelet-rt: <what><detail>\n" to the console without
 * touching libc (usable before TLS exists). detail may be NULL. */
void rt_log(const char *what, const char *detail);

/* ---- mem.c: page allocator over [plat_mem_start, plat_mem_end) ---- */

/* Start-up, before musl runs (start.c): the free region from plat. */
void rt_mem_init(void);
/* Take len bytes (rounded up to pages) of zeroed memory, highest free
 * range first; NULL when no free range is large enough. */
void *rt_pages_alloc(size_t len);
/* Give [addr, addr+len) back; zeroes it. Pages already free are fine. */
void rt_pages_free(uintptr_t addr, size_t len);
/* Pages currently free (for tests and diagnostics). */
size_t rt_mem_free_bytes(void);

/* If inside lies in the range the last mprotect(PROT_READ|PROT_WRITE)
 * opened (and a page below it is in the region), store its start and
 * return 1: for a new thread's stack that start is the top of musl's guard
 * pages. Forgets the range either way. */
int rt_mem_last_opened(uintptr_t inside, uintptr_t *start);

long rt_sys_mmap(const long *a);
long rt_sys_munmap(const long *a);
long rt_sys_mremap(const long *a);
long rt_sys_madvise(const long *a);
long rt_sys_brk(const long *a);
long rt_sys_mprotect(const long *a);

/* ---- thread.c: cooperative threads ---- */

/* Start-up (start.c): the running code becomes thread 1. */
void rt_thread_init(void);
/* Block the calling thread until rt_sched_wake() or, when deadline_ns is
 * not UINT64_MAX, until plat_clock_monotonic_ns() >= deadline_ns. key is
 * the futex address it waits on (0 for a plain sleep). Returns 0 when
 * woken, -ETIMEDOUT at the deadline, -EINTR when pthread_cancel's
 * SIGCANCEL interrupted it. */
int rt_sched_block(uintptr_t key, uint64_t deadline_ns);
/* Wake up to n threads blocked on key; returns how many were woken. */
int rt_sched_wake(uintptr_t key, int n);
/* The event source (the network layer, netif.c): when no thread can run,
 * the scheduler waits once in plat_wait() until the earliest of the
 * threads' deadlines and deadline() (the source's own next timer, in
 * plat_clock_monotonic_ns() time; UINT64_MAX for none; deadline may be
 * NULL), then calls hook with the PLAT_EV_* mask plat_wait returned (0
 * when a deadline passed); hook wakes the threads blocked on its keys
 * with rt_sched_wake(). With a hook set, every thread blocked without a
 * deadline is a wait for events, not a deadlock. hook NULL removes it. */
void rt_sched_set_event_hook(void (*hook)(uint32_t events), uint64_t (*deadline)(void));

long rt_sys_clone(const long *a);
long rt_sys_futex(const long *a);
long rt_sys_set_tid_address(const long *a);
long rt_sys_exit(const long *a);
long rt_sys_exit_group(const long *a);
long rt_sys_sched_yield(const long *a);
long rt_sys_nanosleep(const long *a);
long rt_sys_clock_nanosleep(const long *a);
long rt_sys_arch_prctl(const long *a);
long rt_sys_gettid(const long *a);
long rt_sys_tkill(const long *a);
long rt_sys_tgkill(const long *a);
long rt_sys_rt_sigtimedwait(const long *a);

/* ---- time.c ---- */

/* Monotonic ns for a clockid's absolute time ts (CLOCK_REALTIME is
 * converted); used for absolute sleeps and futex deadlines. */
uint64_t rt_clock_to_mono(int clk, int64_t sec, long nsec);

long rt_sys_clock_gettime(const long *a);
long rt_sys_clock_getres(const long *a);
long rt_sys_gettimeofday(const long *a);
long rt_sys_time(const long *a);

/* ---- fs.c / fsio.c: the in-memory file system (fs.h: its internals) ----
 * Set up on first use (rt_fs_ready), after libc is running, because it
 * allocates with malloc. */

long rt_sys_open(const long *a);
long rt_sys_openat(const long *a);
long rt_sys_close(const long *a);
long rt_sys_read(const long *a);
long rt_sys_write(const long *a);
long rt_sys_readv(const long *a);
long rt_sys_writev(const long *a);
long rt_sys_pread64(const long *a);
long rt_sys_pwrite64(const long *a);
long rt_sys_preadv(const long *a);
long rt_sys_pwritev(const long *a);
long rt_sys_lseek(const long *a);
long rt_sys_stat(const long *a);
long rt_sys_lstat(const long *a);
long rt_sys_fstat(const long *a);
long rt_sys_newfstatat(const long *a);
long rt_sys_access(const long *a);
long rt_sys_faccessat(const long *a);
long rt_sys_faccessat2(const long *a);
long rt_sys_mkdir(const long *a);
long rt_sys_mkdirat(const long *a);
long rt_sys_rmdir(const long *a);
long rt_sys_rename(const long *a);
long rt_sys_renameat(const long *a);
long rt_sys_renameat2(const long *a);
long rt_sys_link(const long *a);
long rt_sys_linkat(const long *a);
long rt_sys_unlink(const long *a);
long rt_sys_unlinkat(const long *a);
long rt_sys_symlink(const long *a);
long rt_sys_symlinkat(const long *a);
long rt_sys_readlink(const long *a);
long rt_sys_readlinkat(const long *a);
long rt_sys_getdents64(const long *a);
long rt_sys_fsync(const long *a);
long rt_sys_ftruncate(const long *a);
long rt_sys_truncate(const long *a);
long rt_sys_fcntl(const long *a);
long rt_sys_dup(const long *a);
long rt_sys_dup2(const long *a);
long rt_sys_dup3(const long *a);
long rt_sys_getcwd(const long *a);
long rt_sys_chdir(const long *a);
long rt_sys_fchdir(const long *a);
long rt_sys_chmod(const long *a);
long rt_sys_fchmod(const long *a);
long rt_sys_fchmodat(const long *a);
long rt_sys_chown(const long *a);
long rt_sys_utimensat(const long *a);
long rt_sys_ioctl(const long *a);
long rt_sys_umask(const long *a);

/* For mmap of a file: copy up to len bytes at off of fd's file to dst.
 * Returns bytes copied or a negative errno. */
long rt_fs_copy_out(int fd, void *dst, size_t len, int64_t off);

/* ---- tarfs.c: the block device's ustar image as files ----
 * Boot argument --block-tar=DIR (or --block-tar DIR): before main(), the
 * ustar image on the block device is unpacked under DIR of the in-memory
 * file system (made if missing): regular files, directories, symlinks;
 * other entries are skipped with a log line. The image ends at two zero
 * blocks or at the end of the device. A bad header checksum, a name with
 * a ".." component, a truncated image, or a file that does not fit in
 * memory ends the guest with status 1 and one line saying which. */

/* Takes --block-tar out of argv[1..argc) (start.c, beside rt_net_args);
 * returns the new argc. Borrows the value from argv. */
int rt_tar_args(int argc, char **argv);
/* With libc up, before main(): unpack (silently), or end the guest as
 * above. No --block-tar: nothing. */
void rt_tar_start(void);
/* The work itself: unpack under dir (absolute). Returns 0 with *nfiles
 * set, or a negative errno with a message in why[0..cap). */
int rt_tar_unpack(const char *dir, char *why, size_t cap, unsigned *nfiles);

/* ---- sock.c, poll.c: sockets over lwIP (net.h: their internals) ---- */

long rt_sys_socket(const long *a);
long rt_sys_socketpair(const long *a);
long rt_sys_bind(const long *a);
long rt_sys_connect(const long *a);
long rt_sys_listen(const long *a);
long rt_sys_accept(const long *a);
long rt_sys_accept4(const long *a);
long rt_sys_getsockname(const long *a);
long rt_sys_getpeername(const long *a);
long rt_sys_shutdown(const long *a);
long rt_sys_sendto(const long *a);
long rt_sys_recvfrom(const long *a);
long rt_sys_sendmsg(const long *a);
long rt_sys_recvmsg(const long *a);
long rt_sys_sendmmsg(const long *a);
long rt_sys_recvmmsg(const long *a);
long rt_sys_setsockopt(const long *a);
long rt_sys_getsockopt(const long *a);
long rt_sys_poll(const long *a);
long rt_sys_ppoll(const long *a);
long rt_sys_select(const long *a);
long rt_sys_pselect6(const long *a);
long rt_sys_epoll_create(const long *a);
long rt_sys_epoll_create1(const long *a);
long rt_sys_epoll_ctl(const long *a);
long rt_sys_epoll_wait(const long *a);
long rt_sys_epoll_pwait(const long *a);
long rt_sys_eventfd(const long *a);
long rt_sys_eventfd2(const long *a);

/* ---- misc.c: identity, randomness, signals ---- */

long rt_sys_getrandom(const long *a);
long rt_sys_uname(const long *a);
long rt_sys_getid(const long *a);
long rt_sys_zero(const long *a);
long rt_sys_rt_sigprocmask(const long *a);
long rt_sys_rt_sigaction(const long *a);
long rt_sys_sched_getaffinity(const long *a);
long rt_sys_prlimit64(const long *a);
long rt_sys_getrlimit(const long *a);

#endif
