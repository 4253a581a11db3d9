/* test_rt: the runtime's file system and page allocator as hosted code
 * under ASan/UBSan, calling the rt_sys_* handlers directly (as musl would
 * through __zl_syscall) over a fake plat.h: memory is a heap block, the
 * clocks and randomness come from Linux. The guests exercise the same
 * code on the real monitor; this adds sanitizers and edge cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform/include/plat.h"
#include "platform/runtime/obj.h"
#include "platform/runtime/rt.h"

/* ---- fake platform ---- */
#define MEM (64u << 20)
static unsigned char *mem;
static char console[4096];
static size_t console_len;

uintptr_t plat_mem_start(void) { return (uintptr_t)mem; }
uintptr_t plat_mem_end(void) { return (uintptr_t)mem + MEM; }
void plat_console_write(const char *b, size_t n)
{
    if (n > sizeof console - console_len)
        n = sizeof console - console_len;
    memcpy(console + console_len, b, n);
    console_len += n;
}
uint64_t plat_clock_monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
uint64_t plat_clock_wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
plat_result_t plat_random(void *b, size_t n)
{
    return getrandom(b, n, 0) == (ssize_t)n ? PLAT_OK : PLAT_EUNSPEC;
}
void plat_abort(const char *msg) { fail_msg("plat_abort: %s", msg ? msg : ""); abort(); }
/* The block device: an image in memory (tarfs.c reads it). */
static unsigned char *blk;
static size_t blk_len, blk_reads;
plat_result_t plat_block_info(struct plat_block_info *bi)
{
    bi->capacity = blk_len;
    bi->block_size = blk_len ? 512 : 0;
    return blk_len ? PLAT_OK : PLAT_EINVAL;
}
plat_result_t plat_block_read(uint64_t off, void *buf, size_t len)
{
    if (off % 512 || len % 512 || off + len > blk_len)
        return PLAT_EINVAL;
    memcpy(buf, blk + off, len);
    blk_reads++;
    return PLAT_OK;
}
_Noreturn void plat_exit(int status)
{
    fail_msg("plat_exit(%d)", status);
    abort();
}
/* No sockets here (test_net tests them): nothing is ever released. */
void rt_obj_release(struct rt_obj *o)
{
    (void)o;
    fail_msg("rt_obj_release without objects");
}
void rt_log(const char *what, const char *detail)
{
    plat_console_write(what, strlen(what));
    if (detail)
        plat_console_write(detail, strlen(detail));
}

/* Call a handler with up to six arguments, like __zl_syscall does. */
#define SYS(fn, ...) fn((const long[6]){__VA_ARGS__})
#define L(x) ((long)(x))

static int setup_all(void **state)
{
    (void)state;
    mem = aligned_alloc(4096, MEM);
    memset(mem, 0, MEM); /* plat.h: the region starts zeroed */
    rt_mem_init();
    return 0;
}

/* ---- file system ---- */

static long openf(const char *p, int flags)
{
    return SYS(rt_sys_open, L(p), flags, 0644);
}

static void test_paths(void **state)
{
    struct stat st;
    char buf[PATH_MAX];
    (void)state;
    assert_int_equal(SYS(rt_sys_mkdir, L("/p"), 0777), 0);
    assert_int_equal(SYS(rt_sys_stat, L("/p"), L(&st)), 0);
    assert_int_equal(st.st_mode & 0777, 0755); /* umask 022 */
    assert_int_equal(SYS(rt_sys_mkdir, L("/p/q/"), 0755), 0); /* trailing slash */
    assert_int_equal(SYS(rt_sys_stat, L("//p///q//"), L(&st)), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(SYS(rt_sys_stat, L("/p/q/../../p/./q"), L(&st)), 0);
    assert_int_equal(SYS(rt_sys_stat, L("/.."), L(&st)), 0); /* root's parent is root */
    assert_int_equal(SYS(rt_sys_stat, L(""), L(&st)), -ENOENT);
    long fd = openf("/p/f", O_CREAT | O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(SYS(rt_sys_stat, L("/p/f/"), L(&st)), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_mkdir, L("/p/f/x"), 0755), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_mkdir, L("/missing/x"), 0755), -ENOENT);
    buf[0] = '/';
    memset(buf + 1, 'a', NAME_MAX);
    buf[NAME_MAX + 1] = '\0';
    assert_int_equal(SYS(rt_sys_mkdir, L(buf), 0755), 0); /* NAME_MAX fits */
    buf[NAME_MAX + 1] = 'a';
    buf[NAME_MAX + 2] = '\0';
    assert_int_equal(SYS(rt_sys_mkdir, L(buf), 0755), -ENAMETOOLONG);
    /* Symlink loops end with ELOOP; relative targets resolve from the link. */
    assert_int_equal(SYS(rt_sys_symlink, L("b"), L("/p/a")), 0);
    assert_int_equal(SYS(rt_sys_symlink, L("a"), L("/p/b")), 0);
    assert_int_equal(SYS(rt_sys_stat, L("/p/a"), L(&st)), -ELOOP);
    assert_int_equal(SYS(rt_sys_lstat, L("/p/a"), L(&st)), 0);
    assert_int_equal(SYS(rt_sys_symlink, L("../p/q"), L("/p/toq")), 0);
    assert_int_equal(SYS(rt_sys_stat, L("/p/toq/."), L(&st)), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(SYS(rt_sys_chdir, L("/p/toq")), 0);
    assert_int_equal(SYS(rt_sys_getcwd, L(buf), sizeof buf), 5); /* with the NUL */
    assert_string_equal(buf, "/p/q");
    assert_int_equal(SYS(rt_sys_getcwd, L(buf), 3), -ERANGE);
    /* The working directory can be removed; getcwd then fails. */
    assert_int_equal(SYS(rt_sys_rmdir, L("/p/q")), 0);
    assert_int_equal(SYS(rt_sys_getcwd, L(buf), sizeof buf), -ENOENT);
    assert_int_equal(SYS(rt_sys_chdir, L("/")), 0);
    assert_int_equal(SYS(rt_sys_close, fd), 0);
}

static void test_rename_rules(void **state)
{
    struct stat st;
    (void)state;
    assert_int_equal(SYS(rt_sys_mkdir, L("/r"), 0755), 0);
    assert_int_equal(SYS(rt_sys_mkdir, L("/r/d"), 0755), 0);
    assert_int_equal(SYS(rt_sys_mkdir, L("/r/e"), 0755), 0);
    assert_int_equal(SYS(rt_sys_close, openf("/r/f", O_CREAT | O_WRONLY)), 0);
    assert_int_equal(SYS(rt_sys_rename, L("/r/f"), L("/r/d")), -EISDIR);
    assert_int_equal(SYS(rt_sys_rename, L("/r/d"), L("/r/f")), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_rename, L("/r/d"), L("/r/d/sub")), -EINVAL);
    assert_int_equal(SYS(rt_sys_rename, L("/r/f"), L("/r/f")), 0);
    assert_int_equal(SYS(rt_sys_close, openf("/r/e/x", O_CREAT | O_WRONLY)), 0);
    assert_int_equal(SYS(rt_sys_rename, L("/r/d"), L("/r/e")), -ENOTEMPTY);
    assert_int_equal(SYS(rt_sys_unlink, L("/r/e/x")), 0);
    assert_int_equal(SYS(rt_sys_rename, L("/r/d"), L("/r/e")), 0); /* over an empty dir */
    assert_int_equal(SYS(rt_sys_stat, L("/r/d"), L(&st)), -ENOENT);
    assert_int_equal(SYS(rt_sys_renameat2, AT_FDCWD, L("/r/f"), AT_FDCWD, L("/r/g"), 1), 0);
    assert_int_equal(SYS(rt_sys_close, openf("/r/f", O_CREAT | O_WRONLY)), 0);
    assert_int_equal(SYS(rt_sys_renameat2, AT_FDCWD, L("/r/f"), AT_FDCWD, L("/r/g"), 1), -EEXIST);
    assert_int_equal(SYS(rt_sys_rename, L("/r/."), L("/r/z")), -EBUSY);
    /* "link/" names the directory behind the link: neither rmdir nor
     * rename may take the symlink itself for it. */
    assert_int_equal(SYS(rt_sys_symlink, L("e"), L("/r/le")), 0);
    assert_int_equal(SYS(rt_sys_rmdir, L("/r/le/")), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_rename, L("/r/le/"), L("/r/m")), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_stat, L("/r/e"), L(&st)), 0);
    assert_int_equal(SYS(rt_sys_unlink, L("/r/le")), 0);
}

/* getdents64 with buffers too small for all entries resumes correctly. */
static void test_getdents(void **state)
{
    char name[32], buf[64];
    int seen[40] = {0}, total = 0;
    (void)state;
    assert_int_equal(SYS(rt_sys_mkdir, L("/g"), 0755), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "/g/entry-%02d", i);
        assert_int_equal(SYS(rt_sys_close, openf(name, O_CREAT | O_WRONLY)), 0);
    }
    long fd = SYS(rt_sys_open, L("/g"), O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    assert_int_equal(SYS(rt_sys_getdents64, fd, L(buf), 10), -EINVAL);
    for (;;) {
        long n = SYS(rt_sys_getdents64, fd, L(buf), sizeof buf);
        assert_true(n >= 0);
        if (n == 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent *d = (struct dirent *)(buf + off);
            int k;
            if (sscanf(d->d_name, "entry-%d", &k) == 1) {
                seen[k]++;
                assert_int_equal(d->d_type, DT_REG);
            }
            total++;
            off += d->d_reclen;
        }
    }
    assert_int_equal(total, 42);
    for (int i = 0; i < 40; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(SYS(rt_sys_lseek, fd, 0, SEEK_SET), 0); /* rewinddir */
    assert_true(SYS(rt_sys_getdents64, fd, L(buf), sizeof buf) > 0);
    SYS(rt_sys_close, fd);
}

/* A directory removed while open, and then its parent too: the open
 * descriptor reads as empty and ".." does not reach freed memory. */
static void test_removed_dir(void **state)
{
    char buf[256];
    struct stat st;
    (void)state;
    assert_int_equal(SYS(rt_sys_mkdir, L("/x"), 0755), 0);
    assert_int_equal(SYS(rt_sys_mkdir, L("/x/y"), 0755), 0);
    long fd = SYS(rt_sys_open, L("/x/y"), O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    assert_int_equal(SYS(rt_sys_rmdir, L("/x/y")), 0);
    assert_int_equal(SYS(rt_sys_rmdir, L("/x")), 0);
    assert_int_equal(SYS(rt_sys_getdents64, fd, L(buf), sizeof buf), 0);
    assert_int_equal(SYS(rt_sys_newfstatat, fd, L(".."), L(&st), 0), 0);
    assert_int_equal(SYS(rt_sys_openat, fd, L("new"), O_CREAT | O_WRONLY, 0644), -ENOENT);
    assert_int_equal(SYS(rt_sys_fchdir, fd), 0);
    assert_int_equal(SYS(rt_sys_getcwd, L(buf), sizeof buf), -ENOENT);
    assert_int_equal(SYS(rt_sys_chdir, L("/")), 0);
    SYS(rt_sys_close, fd);
}

static void test_descriptors(void **state)
{
    char b[8];
    struct stat st;
    (void)state;
    long fd = openf("/d1", O_CREAT | O_RDWR);
    assert_true(fd >= 3);
    long d = SYS(rt_sys_dup, fd);
    assert_true(d > fd);
    assert_int_equal(SYS(rt_sys_write, fd, L("abc"), 3), 3);
    assert_int_equal(SYS(rt_sys_lseek, d, 0, SEEK_CUR), 3); /* shared offset */
    assert_int_equal(SYS(rt_sys_close, fd), 0);
    assert_int_equal(SYS(rt_sys_pread64, d, L(b), 8, 0), 3);
    assert_int_equal(SYS(rt_sys_lseek, d, -1, SEEK_SET), -EINVAL);
    assert_int_equal(SYS(rt_sys_fcntl, d, F_DUPFD_CLOEXEC, 100), 100);
    assert_int_equal(SYS(rt_sys_fcntl, 100, F_GETFD), FD_CLOEXEC);
    assert_int_equal(SYS(rt_sys_dup3, d, d, 0), -EINVAL);
    assert_int_equal(SYS(rt_sys_dup2, d, d), d);
    assert_int_equal(SYS(rt_sys_read, 555, L(b), 1), -EBADF);
    assert_int_equal(SYS(rt_sys_ioctl, 1, TIOCGWINSZ, 0), -ENOTTY);
    assert_int_equal(SYS(rt_sys_write, 1, L("to console"), 10), 10);
    assert_memory_equal(console + console_len - 10, "to console", 10);
    assert_int_equal(SYS(rt_sys_read, 0, L(b), 8), 0);
    /* Unlinked while open: data lives until the last close. */
    assert_int_equal(SYS(rt_sys_unlink, L("/d1")), 0);
    assert_int_equal(SYS(rt_sys_fstat, 100, L(&st)), 0);
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal(st.st_size, 3);
    SYS(rt_sys_close, 100);
    SYS(rt_sys_close, d);
    /* O_EXCL, O_DIRECTORY, O_NOFOLLOW, writing a read-only descriptor. */
    assert_int_equal(SYS(rt_sys_close, openf("/d2", O_CREAT | O_WRONLY)), 0);
    assert_int_equal(openf("/d2", O_CREAT | O_EXCL | O_WRONLY), -EEXIST);
    assert_int_equal(openf("/d2", O_DIRECTORY), -ENOTDIR);
    assert_int_equal(SYS(rt_sys_symlink, L("/d2"), L("/d3")), 0);
    assert_int_equal(openf("/d3", O_RDONLY | O_NOFOLLOW), -ELOOP);
    fd = openf("/d3", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(SYS(rt_sys_write, fd, L("x"), 1), -EBADF);
    assert_int_equal(SYS(rt_sys_ftruncate, fd, 10), -EINVAL);
    SYS(rt_sys_close, fd);
}

/* ---- tarfs.c: a ustar image on the block device ---- */

/* Appends one ustar header (and data, padded) to blk; cap bytes there. */
static void tar_add(size_t cap, const char *prefix, const char *name, char type,
                    const char *link, const void *data, size_t size)
{
    unsigned char *h = blk + blk_len;
    unsigned sum = 0;
    assert_true(blk_len + 512 + (size + 511) / 512 * 512 <= cap);
    memset(h, 0, 512);
    strncpy((char *)h, name, 100);
    snprintf((char *)h + 100, 8, "%07o", 0640);
    snprintf((char *)h + 124, 12, "%011zo", size);
    h[156] = (unsigned char)type;
    if (link)
        strncpy((char *)h + 157, link, 100);
    memcpy(h + 257, "ustar\0" "00", 8);
    if (prefix)
        strncpy((char *)h + 345, prefix, 155);
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    blk_len += 512;
    if (size)
        memcpy(blk + blk_len, data, size);
    blk_len += (size + 511) / 512 * 512;
}

static void read_back(const char *path, char *buf, size_t cap, size_t *len)
{
    long fd = openf(path, O_RDONLY);
    assert_true(fd >= 0);
    long n = SYS(rt_sys_read, fd, L(buf), L(cap));
    assert_true(n >= 0);
    *len = (size_t)n;
    SYS(rt_sys_close, fd);
}

static void test_tar_unpack(void **state)
{
    enum { CAP = 1 << 20, BIG = 200000 };
    char why[256], buf[BIG + 16];
    unsigned n;
    size_t len;
    struct stat st;
    char *big = malloc(BIG);
    (void)state;
    blk = calloc(1, CAP);
    blk_len = 0;
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 23);
    tar_add(CAP, NULL, "example.test", '0', NULL, "@ SOA x\n", 8);
    tar_add(CAP, NULL, "./_keys", '0', NULL, "", 0);
    tar_add(CAP, NULL, "sub/", '5', NULL, NULL, 0);
    tar_add(CAP, "deep/er", "big.zone", '0', NULL, big, BIG); /* spans windows */
    tar_add(CAP, NULL, "link", '2', "example.test", NULL, 0);
    tar_add(CAP, NULL, "fifo", '6', NULL, NULL, 0);
    tar_add(CAP, NULL, "after", '0', NULL, "last", 4);
    /* A 250-octet zone name: a pax path record names the next entry. */
    char longname[251], rec[300], lpath[300];
    memset(longname, 'x', 250);
    longname[250] = '\0';
    int rl = snprintf(rec, sizeof rec, "260 path=%s\n", longname);
    assert_int_equal(rl, 260);
    tar_add(CAP, NULL, "././@PaxHeader", 'x', NULL, rec, (size_t)rl);
    tar_add(CAP, NULL, "xxxx-cut", '0', NULL, "long", 4);
    blk_len += 1024; /* the end: two zero blocks */
    blk_len += 512 * 3; /* and more zeros on the device */
    blk_reads = 0;
    assert_int_equal(rt_tar_unpack("/zones/", why, sizeof why, &n), 0);
    assert_int_equal(n, 5);
    assert_true(blk_reads >= 4); /* read in windows, not whole */
    read_back("/zones/example.test", buf, sizeof buf, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "@ SOA x\n", 8);
    assert_int_equal(SYS(rt_sys_stat, L("/zones/example.test"), L(&st)), 0);
    assert_int_equal(st.st_mode & 0777, 0640 & ~022);
    assert_int_equal(SYS(rt_sys_stat, L("/zones/_keys"), L(&st)), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(SYS(rt_sys_stat, L("/zones/sub"), L(&st)), 0);
    assert_true(S_ISDIR(st.st_mode));
    read_back("/zones/deep/er/big.zone", buf, sizeof buf, &len);
    assert_int_equal(len, BIG);
    assert_memory_equal(buf, big, BIG);
    assert_int_equal(SYS(rt_sys_readlink, L("/zones/link"), L(buf), 100), 12);
    assert_int_equal(SYS(rt_sys_lstat, L("/zones/fifo"), L(&st)), -ENOENT);
    read_back("/zones/after", buf, sizeof buf, &len);
    assert_int_equal(len, 4);
    snprintf(lpath, sizeof lpath, "/zones/%s", longname);
    read_back(lpath, buf, sizeof buf, &len);
    assert_int_equal(len, 4);
    assert_int_equal(SYS(rt_sys_stat, L("/zones/xxxx-cut"), L(&st)), -ENOENT);
    assert_true(strstr(console, "skipped (not a file, directory or symlink): /zones/fifo") != NULL);
    /* Into the root, and an image that ends with the device (no zero blocks). */
    blk_len = 0;
    tar_add(CAP, NULL, "rootfile", '0', NULL, "r", 1);
    assert_int_equal(rt_tar_unpack("/", why, sizeof why, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(SYS(rt_sys_stat, L("/rootfile"), L(&st)), 0);
    free(big);
}

static void test_tar_refused(void **state)
{
    enum { CAP = 1 << 16 };
    char why[256];
    unsigned n;
    struct stat st;
    (void)state;
    blk = realloc(blk, CAP);
    memset(blk, 0, CAP);
    blk_len = 0;
    tar_add(CAP, NULL, "ok", '0', NULL, "x", 1);
    tar_add(CAP, NULL, "a/../../escape", '0', NULL, "x", 1);
    blk_len += 1024;
    assert_int_equal(rt_tar_unpack("/r1", why, sizeof why, &n), -EINVAL);
    assert_non_null(strstr(why, "bad name a/../../escape"));
    assert_int_equal(SYS(rt_sys_stat, L("/escape"), L(&st)), -ENOENT);
    /* A corrupted header: its checksum no longer matches. */
    memset(blk, 0, CAP);
    blk_len = 0;
    tar_add(CAP, NULL, "ok", '0', NULL, "x", 1);
    blk[3] ^= 1;
    blk_len += 1024;
    assert_int_equal(rt_tar_unpack("/r2", why, sizeof why, &n), -EINVAL);
    assert_string_equal(why, "not a ustar header at offset 0");
    /* Not a tar at all. */
    memset(blk, 'z', 4096);
    blk_len = 4096;
    assert_int_equal(rt_tar_unpack("/r3", why, sizeof why, &n), -EINVAL);
    /* A file longer than the device. */
    memset(blk, 0, CAP);
    blk_len = 0;
    tar_add(CAP, NULL, "cut", '0', NULL, "0123456789", 10);
    snprintf((char *)blk + 124, 12, "%011o", 100000u);
    unsigned sum = 0;
    memset(blk + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += blk[i];
    snprintf((char *)blk + 148, 8, "%06o", sum);
    assert_int_equal(rt_tar_unpack("/r4", why, sizeof why, &n), -ENODATA);
    assert_non_null(strstr(why, "truncated image"));
    /* No device; a relative directory. */
    blk_len = 0;
    assert_int_equal(rt_tar_unpack("/r5", why, sizeof why, &n), -ENODEV);
    blk_len = 1024;
    assert_int_equal(rt_tar_unpack("rel", why, sizeof why, &n), -EINVAL);
    free(blk);
    blk = NULL;
    blk_len = 0;
}

static void test_tar_args(void **state)
{
    char a0[] = "zonelet", a1[] = "--block-tar=/zones", a2[] = "--zones", a3[] = "/zones",
         a4[] = "--block-tarx", a5[] = "--block-tar", a6[] = "/other";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
    (void)state;
    assert_int_equal(rt_tar_args(7, argv), 4);
    assert_string_equal(argv[1], "--zones");
    assert_string_equal(argv[2], "/zones");
    assert_string_equal(argv[3], "--block-tarx"); /* another option */
    assert_null(argv[4]);
}

/* ---- page allocator ---- */

/* Random mmap/munmap/mremap against a shadow map of which pages are ours:
 * no two live mappings overlap, new pages read zero, and everything
 * returns to the free pool. */
static void test_mem_model(void **state)
{
    enum { N = 64 };
    unsigned char *p[N] = {0};
    size_t n[N] = {0};
    size_t before = rt_mem_free_bytes();
    unsigned seed = 7;
    (void)state;
    for (int op = 0; op < 4000; op++) {
        int i = (int)(rand_r(&seed) % N);
        size_t len = (size_t)(rand_r(&seed) % 32 + 1) * 4096;
        if (!p[i]) {
            long r = SYS(rt_sys_mmap, 0, L(len), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            assert_true(r > 0);
            p[i] = (unsigned char *)r;
            n[i] = len;
            for (size_t k = 0; k < len; k += 512)
                assert_int_equal(p[i][k], 0);
            memset(p[i], i + 1, len);
        } else if (rand_r(&seed) % 3 == 0) {
            long r = SYS(rt_sys_mremap, L(p[i]), L(n[i]), L(len), MREMAP_MAYMOVE, 0);
            assert_true(r > 0);
            unsigned char *q = (unsigned char *)r;
            size_t keep = len < n[i] ? len : n[i];
            for (size_t k = 0; k < keep; k += 256)
                assert_int_equal(q[k], (unsigned char)(i + 1));
            for (size_t k = keep; k < len; k += 256)
                assert_int_equal(q[k], 0);
            memset(q, i + 1, len);
            p[i] = q;
            n[i] = len;
        } else {
            for (size_t k = 0; k < n[i]; k += 256) /* nobody else wrote here */
                assert_int_equal(p[i][k], (unsigned char)(i + 1));
            assert_int_equal(SYS(rt_sys_munmap, L(p[i]), L(n[i])), 0);
            p[i] = NULL;
        }
    }
    for (int i = 0; i < N; i++)
        if (p[i])
            assert_int_equal(SYS(rt_sys_munmap, L(p[i]), L(n[i])), 0);
    assert_int_equal(rt_mem_free_bytes(), before);
    assert_int_equal(SYS(rt_sys_munmap, L(mem + 4096), 4096), 0); /* unmapping free pages is fine */
    assert_int_equal(rt_mem_free_bytes(), before);
    assert_int_equal(SYS(rt_sys_mmap, 0, L(MEM) * 2, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM);
    assert_int_equal(SYS(rt_sys_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
}

static void test_brk(void **state)
{
    (void)state;
    uintptr_t b0 = (uintptr_t)SYS(rt_sys_brk, 0);
    size_t before = rt_mem_free_bytes();
    assert_int_equal(b0, (uintptr_t)mem);
    assert_int_equal(SYS(rt_sys_brk, L(b0 + 10000)), L(b0 + 10000));
    assert_int_equal(rt_mem_free_bytes(), before - 3 * 4096);
    ((unsigned char *)b0)[9999] = 1;
    /* mmap never hands out the break area. */
    long r = SYS(rt_sys_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true((uintptr_t)r >= b0 + 12288 || (uintptr_t)r + 4096 <= b0);
    SYS(rt_sys_munmap, r, 4096);
    assert_int_equal(SYS(rt_sys_brk, L(b0)), L(b0));
    assert_int_equal(rt_mem_free_bytes(), before);
    assert_int_equal(SYS(rt_sys_brk, L(b0 + MEM * 2)), L(b0)); /* refused: stays put */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),      cmocka_unit_test(test_rename_rules),
        cmocka_unit_test(test_getdents),   cmocka_unit_test(test_removed_dir),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_mem_model),  cmocka_unit_test(test_brk),
        cmocka_unit_test(test_tar_unpack), cmocka_unit_test(test_tar_refused),
        cmocka_unit_test(test_tar_args),
    };
    return cmocka_run_group_tests(tests, setup_all, NULL);
}
