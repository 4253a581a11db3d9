/* tarfs.c: the block device's ustar image unpacked into the in-memory
 * file system before main() (boot argument --block-tar=DIR, see rt.h).
 *
 * The device is read in windows of RT_TAR_WINDOW bytes, never whole: a
 * guest needs the memory of the files it unpacks, not of the image too.
 * Files are written through the same handlers musl reaches (rt_sys_*), so
 * they are ordinary files to the application and the code runs hosted in
 * tests/platform/rt/test_rt.c over a fake block device. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

#define RT_TAR_WINDOW (64u << 10)
#define RT_TAR_PATH 512

static const char *rt_tar_dir; /* borrowed from the boot arguments */
static const char *rt_tar_bad; /* --block-tar without a value */

int rt_tar_args(int argc, char **argv)
{
    static const char opt[] = "--block-tar";
    int out = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i > 0 && strncmp(a, opt, sizeof opt - 1) == 0 &&
            (a[sizeof opt - 1] == '=' || a[sizeof opt - 1] == '\0')) {
            if (a[sizeof opt - 1] == '=' && a[sizeof opt])
                rt_tar_dir = a + sizeof opt;
            else if (!a[sizeof opt - 1] && i + 1 < argc)
                rt_tar_dir = argv[++i];
            else
                rt_tar_bad = a;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

/* The device, read forward through one window. */
typedef struct tar_in {
    uint64_t cap, off;   /* device capacity; bytes consumed */
    uint64_t wbase;      /* device offset of win[0] */
    size_t wlen;         /* valid bytes in win */
    unsigned char *win;
} tar_in_t;

/* Makes [off, off + n) readable at *p (n <= RT_TAR_WINDOW), reading a
 * new window from off when the current one does not hold it all. Reads
 * start at multiples of 512 (headers and file data are aligned so, and
 * a window ends at one). Returns 0, -EIO (device error) or -ENODATA
 * (past the end). */
static int tar_need(tar_in_t *in, size_t n, const unsigned char **p)
{
    if (in->off + n > in->cap)
        return -ENODATA;
    if (in->off < in->wbase || in->off + n > in->wbase + in->wlen) {
        uint64_t len = in->cap - in->off;
        if (len > RT_TAR_WINDOW)
            len = RT_TAR_WINDOW;
        if (plat_block_read(in->off, in->win, (size_t)len) != PLAT_OK)
            return -EIO;
        in->wbase = in->off;
        in->wlen = (size_t)len;
    }
    *p = in->win + (in->off - in->wbase);
    return 0;
}

/* Up to max bytes at off: what the window still holds, or a new window. */
static size_t tar_chunk(const tar_in_t *in, uint64_t max)
{
    uint64_t n = max > RT_TAR_WINDOW ? RT_TAR_WINDOW : max;
    if (in->off >= in->wbase && in->off < in->wbase + in->wlen &&
        in->off + n > in->wbase + in->wlen)
        n = in->wbase + in->wlen - in->off;
    return (size_t)n;
}

static uint64_t octal(const unsigned char *p, size_t n, bool *ok)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60)
            *ok = false;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    if (i < n && p[i] != '\0' && p[i] != ' ')
        *ok = false;
    return v;
}

/* POSIX.1 ustar: the checksum is the sum of the header's bytes with the
 * checksum field itself counted as spaces. */
static bool header_ok(const unsigned char *h)
{
    bool ok = true;
    uint64_t want = octal(h + 148, 8, &ok), sum = 0;
    for (int i = 0; i < 512; i++)
        sum += i >= 148 && i < 156 ? ' ' : h[i];
    return ok && sum == want && memcmp(h + 257, "ustar", 5) == 0;
}

static bool all_zero(const unsigned char *h)
{
    for (int i = 0; i < 512; i++)
        if (h[i])
            return false;
    return true;
}

/* dir + "/" + the entry's name (pax, a path record before it, else
 * ustar's prefix + "/" + name), with leading "/" and "./" dropped;
 * refuses ".." components (the image stays under dir). */
static int entry_path(const char *dir, const unsigned char *h, const char *pax, char *out)
{
    char rel[RT_TAR_PATH];
    int n = pax[0] ? snprintf(rel, sizeof rel, "%s", pax)
          : h[345] ? snprintf(rel, sizeof rel, "%.155s/%.100s", (const char *)h + 345,
                              (const char *)h)
                   : snprintf(rel, sizeof rel, "%.100s", (const char *)h);
    const char *r = rel;
    if (n < 0 || n >= (int)sizeof rel)
        return -ENAMETOOLONG;
    while (*r == '/' || (r[0] == '.' && r[1] == '/'))
        r += *r == '/' ? 1 : 2;
    for (const char *c = r; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c))
        if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
            return -EINVAL;
    n = snprintf(out, RT_TAR_PATH, "%s/%s", dir, r);
    return n < 0 || n >= RT_TAR_PATH ? -ENAMETOOLONG : 0;
}

/* mkdir -p path (the directories above and path itself). */
static int make_dirs(char *path, mode_t mode)
{
    for (char *s = strchr(path + 1, '/');; s = strchr(s + 1, '/')) {
        if (s)
            *s = '\0';
        long rc = rt_sys_mkdir((const long[6]){(long)path, (long)mode});
        if (s)
            *s = '/';
        if (rc < 0 && rc != -EEXIST)
            return (int)rc;
        if (!s || !s[1])
            return 0;
    }
}

static int parent_dirs(char *path)
{
    char *slash = strrchr(path, '/');
    int rc = 0;
    if (slash && slash != path) {
        *slash = '\0';
        rc = make_dirs(path, 0755);
        *slash = '/';
    }
    return rc;
}

/* A regular file: size bytes from the device into path. */
static int put_file(tar_in_t *in, const char *path, uint64_t size, mode_t mode)
{
    long fd = rt_sys_open((const long[6]){(long)path, O_CREAT | O_TRUNC | O_WRONLY, (long)mode});
    int rc = 0;
    if (fd < 0)
        return (int)fd;
    /* One allocation of the final size rather than a growth series. */
    long t = rt_sys_ftruncate((const long[6]){fd, (long)size});
    if (t < 0)
        rc = (int)t;
    for (uint64_t done = 0; rc == 0 && done < size;) {
        const unsigned char *p;
        size_t n = tar_chunk(in, size - done);
        rc = tar_need(in, n, &p);
        long w = rc ? 0 : rt_sys_write((const long[6]){fd, (long)p, (long)n});
        if (!rc && w != (long)n)
            rc = w < 0 ? (int)w : -ENOSPC;
        in->off += n;
        done += n;
    }
    rt_sys_close((const long[6]){fd});
    return rc;
}

static void set_why(char *why, size_t cap, const char *what, const char *name, int err)
{
    snprintf(why, cap, "%s%s%s%s%s", what, name ? " " : "", name ? name : "",
             err ? ": " : "", err ? strerror(-err) : "");
}

/* A pax extended header's records ("LEN key=value\n", POSIX.1-2001):
 * the path, if there is one, goes to pax (else pax stays ""). Other keys
 * (times, owners) do not matter here. */
static int pax_path(tar_in_t *in, uint64_t size, char *pax)
{
    const unsigned char *p;
    size_t n = (size_t)size;
    if (size > RT_TAR_PATH * 2)
        return -ENAMETOOLONG;
    int rc = tar_need(in, n, &p);
    while (!rc && n) {
        size_t len = 0, i = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            len = len * 10 + (size_t)(p[i++] - '0');
        if (len <= i || len > n || p[i] != ' ' || p[len - 1] != '\n')
            return -EINVAL;
        if (len - i - 2 > 5 && memcmp(p + i + 1, "path=", 5) == 0) {
            size_t vlen = len - i - 7;
            if (vlen >= RT_TAR_PATH)
                return -ENAMETOOLONG;
            memcpy(pax, p + i + 6, vlen);
            pax[vlen] = '\0';
        }
        p += len;
        n -= len;
    }
    return rc;
}

static int unpack(tar_in_t *in, const char *dir, char *why, size_t cap, unsigned *nfiles)
{
    char path[RT_TAR_PATH], pax[RT_TAR_PATH] = "";
    const unsigned char *h;
    int rc;

    while ((rc = tar_need(in, 512, &h)) == 0 && !all_zero(h)) {
        bool ok = true;
        uint64_t size = octal(h + 124, 12, &ok), skip;
        mode_t mode = (mode_t)(octal(h + 100, 8, &ok) & 0777);
        char type = (char)h[156];
        if (!header_ok(h) || !ok) {
            snprintf(why, cap, "not a ustar header at offset %llu", (unsigned long long)in->off);
            return -EINVAL;
        }
        in->off += 512;
        if (size > in->cap - in->off) {
            set_why(why, cap, "truncated image at offset", NULL, 0);
            snprintf(why + strlen(why), cap - strlen(why), " %llu", (unsigned long long)in->off);
            return -ENODATA;
        }
        skip = (size + 511) / 512 * 512;
        if (type == 'x') { /* applies to the next entry */
            if ((rc = pax_path(in, size, pax)) < 0) {
                set_why(why, cap, "bad pax header", NULL, rc);
                return rc;
            }
            in->off += skip;
            continue;
        }
        rc = entry_path(dir, h, pax, path);
        pax[0] = '\0';
        if (rc < 0) {
            set_why(why, cap, "bad name", (const char *)h, rc);
            return rc;
        }
        if (type == 'g') {
            /* global pax records: nothing here needs them */
        } else if (type == '0' || type == '\0' || type == '7') {
            if ((rc = parent_dirs(path)) == 0)
                rc = put_file(in, path, size, mode);
            skip -= size;
            (*nfiles)++;
        } else if (type == '5') {
            rc = make_dirs(path, mode | 0700);
        } else if (type == '2') {
            char target[101];
            snprintf(target, sizeof target, "%.100s", (const char *)h + 157);
            if ((rc = parent_dirs(path)) == 0)
                rc = (int)rt_sys_symlink((const long[6]){(long)target, (long)path});
        } else {
            rt_log("--block-tar: skipped (not a file, directory or symlink): ", path);
        }
        if (rc < 0) {
            set_why(why, cap, "cannot write", path, rc);
            return rc;
        }
        in->off += skip;
    }
    if (rc == -EIO)
        set_why(why, cap, "block device read error", NULL, 0);
    return rc == -ENODATA ? 0 : rc; /* the end of the device ends the image too */
}

int rt_tar_unpack(const char *dir, char *why, size_t cap, unsigned *nfiles)
{
    struct plat_block_info bi;
    char root[RT_TAR_PATH];
    tar_in_t in = {0};
    int rc;

    *nfiles = 0;
    if (plat_block_info(&bi) != PLAT_OK || bi.capacity == 0) {
        snprintf(why, cap, "no block device");
        return -ENODEV;
    }
    /* "/" and "/zones/" both name a directory: no trailing slash kept. */
    rc = snprintf(root, sizeof root, "%s", dir);
    if (rc <= 0 || rc >= RT_TAR_PATH - 256 || dir[0] != '/') {
        snprintf(why, cap, "an absolute path of at most %d bytes is needed", RT_TAR_PATH - 257);
        return -EINVAL;
    }
    while (rc > 1 && root[rc - 1] == '/')
        root[--rc] = '\0';
    if ((rc = make_dirs(root, 0755)) < 0) {
        set_why(why, cap, "cannot make", root, rc);
        return rc;
    }
    in.cap = bi.capacity;
    if (!(in.win = malloc(RT_TAR_WINDOW))) {
        snprintf(why, cap, "out of memory");
        return -ENOMEM;
    }
    rc = unpack(&in, strcmp(root, "/") ? root : "", why, cap, nfiles);
    free(in.win);
    return rc;
}

void rt_tar_start(void)
{
    char why[RT_TAR_PATH + 64], msg[RT_TAR_PATH + 128];
    unsigned n;

    if (rt_tar_bad) {
        rt_log("bad boot argument --block-tar (no value)", NULL);
        plat_exit(2);
    }
    if (!rt_tar_dir)
        return;
    /* Silent when it worked: the program's output is its own. */
    if (rt_tar_unpack(rt_tar_dir, why, sizeof why, &n) < 0) {
        snprintf(msg, sizeof msg, "--block-tar=%s: %s", rt_tar_dir, why);
        rt_log(msg, NULL);
        plat_exit(1);
    }
}
