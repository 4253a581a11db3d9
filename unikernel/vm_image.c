#include "unikernel/vm_image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_DIR ".zonelet"   /* unikernel/store_dir.c's */
#define COPY_BUF (64u << 10)

typedef struct image {
    int fd;
    char *why;
    size_t cap;
    srv_vm_image_stats_t *stats;
    unsigned char *buf;          /* COPY_BUF bytes */
} image_t;

static int fail(image_t *im, const char *what, const char *name, int err)
{
    snprintf(im->why, im->cap, "%s%s%s%s%s", what, name ? " " : "", name ? name : "",
             err ? ": " : "", err ? strerror(err) : "");
    return -1;
}

static int put(image_t *im, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(im->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(im, "cannot write the image", NULL, w < 0 ? errno : ENOSPC);
        b += w;
        n -= (size_t)w;
        im->stats->bytes += (uint64_t)w;
    }
    return 0;
}

/* Zeroes up to the next multiple of 512 after n bytes of data. */
static int pad(image_t *im, uint64_t n)
{
    static const unsigned char zero[512];
    return n % 512 ? put(im, zero, 512 - n % 512) : 0;
}

/* One header block (POSIX.1-1988 ustar: numbers in octal, NUL-ended). */
static int header(image_t *im, const char *name, char type, uint64_t size, mode_t mode,
                  time_t mtime)
{
    unsigned char h[512] = {0};
    unsigned sum = 0;
    memcpy(h, name, strnlen(name, 100));
    snprintf((char *)h + 100, 8, "%07o", (unsigned)(mode & 07777));
    snprintf((char *)h + 108, 8, "%07o", 0u);
    snprintf((char *)h + 116, 8, "%07o", 0u);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
    snprintf((char *)h + 136, 12, "%011llo",
             (unsigned long long)(mtime > 0 && mtime < 077777777777 ? mtime : 0));
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    return put(im, h, sizeof h);
}

/* A name over 100 octets goes in a pax extended header first (POSIX.1-2001
 * "path" record); the ustar name then holds its first 100 octets. */
static int long_name(image_t *im, const char *name)
{
    char rec[600];
    /* The record's length counts its own digits: iterate to the fixed point. */
    size_t base = strlen(name) + 7, len = base + 1; /* " path=" and "\n" */
    for (int i = 0; i < 3; i++)
        len = base + (size_t)snprintf(NULL, 0, "%zu", len);
    int r = snprintf(rec, sizeof rec, "%zu path=%s\n", len, name);
    if (r < 0 || (size_t)r != len)
        return fail(im, "name too long for the image:", name, 0);
    if (header(im, "././@PaxHeader", 'x', len, 0644, 0) || put(im, rec, len) || pad(im, len))
        return -1;
    return 0;
}

/* Copies the regular file at dirfd/name as `path` in the archive. */
static int add_file(image_t *im, int dirfd, const char *name, const char *path)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(im, "cannot open", path, errno);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0; /* gone or replaced meanwhile: as if never there */
    }
    if ((uint64_t)st.st_size >= (1ull << 33)) {
        close(fd);
        return fail(im, "file over 8 GiB:", path, 0);
    }
    int rc = (strlen(path) > 100 ? long_name(im, path) : 0) ||
             header(im, path, '0', (uint64_t)st.st_size, st.st_mode, st.st_mtime);
    uint64_t left = (uint64_t)st.st_size;
    while (!rc && left) {
        ssize_t r = read(fd, im->buf, left < COPY_BUF ? (size_t)left : COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            rc = r < 0 ? fail(im, "cannot read", path, errno)
                       : fail(im, "file shrank while read:", path, 0);
        else
            rc = put(im, im->buf, (size_t)r), left -= (uint64_t)r;
    }
    close(fd);
    if (rc || pad(im, (uint64_t)st.st_size))
        return -1;
    im->stats->files++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd that keep(name) accepts, sorted (the image does not
 * depend on the order readdir gives). NULL-terminated, owned. */
static char **list(image_t *im, int dirfd, const char *what, bool (*keep)(const char *))
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    if (!d) {
        if (fd >= 0)
            close(fd);
        fail(im, "cannot read", what, errno);
        return NULL;
    }
    while ((e = readdir(d)) != NULL) {
        if (!keep(e->d_name))
            continue;
        if (n + 2 > cap) {
            char **more = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!more)
                break;
            v = more;
        }
        if (!(v[n] = strdup(e->d_name)))
            break;
        v[++n] = NULL;
    }
    closedir(d);
    if (e) { /* stopped early: out of memory */
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        fail(im, "out of memory listing", what, 0);
        return NULL;
    }
    if (!v && !(v = calloc(1, sizeof *v))) {
        fail(im, "out of memory listing", what, 0);
        return NULL;
    }
    qsort(v, n, sizeof *v, cmp_names);
    return v;
}

static void list_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static bool zone_name(const char *n)
{
    return n[0] != '.';
}

static bool journal_name(const char *n)
{
    size_t len = strlen(n);
    return n[0] != '.' && len > 8 && strcmp(n + len - 8, ".journal") == 0;
}

/* Regular files only (a symlink counts as its target). */
static int add_files(image_t *im, int dirfd, char **names, const char *prefix)
{
    char path[PATH_MAX];
    struct stat st;
    for (size_t i = 0; names[i]; i++) {
        if (fstatat(dirfd, names[i], &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        snprintf(path, sizeof path, "%s%s", prefix, names[i]);
        if (add_file(im, dirfd, names[i], path))
            return -1;
    }
    return 0;
}

/* The journals (.zonelet/NAME.journal), under a directory entry of their own. */
static int add_journals(image_t *im, int dirfd, const char *dir)
{
    struct stat st;
    int jfd = openat(dirfd, JOURNAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (jfd < 0)
        return 0; /* none: no pending changes */
    char **names = list(im, jfd, dir, journal_name);
    int rc = names ? 0 : -1;
    if (names && names[0] && fstat(jfd, &st) == 0) {
        rc = header(im, JOURNAL_DIR "/", '5', 0, st.st_mode, st.st_mtime);
        if (!rc)
            im->stats->files++;
        if (!rc)
            rc = add_files(im, jfd, names, JOURNAL_DIR "/");
    }
    list_free(names);
    close(jfd);
    return rc;
}

int srv_vm_image_write(const char *dir, int fd, srv_vm_image_stats_t *stats, char *why,
                       size_t cap)
{
    static const unsigned char end[1024];
    image_t im = {.fd = fd, .why = why, .cap = cap, .stats = stats};
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;
    memset(stats, 0, sizeof *stats);
    if (dirfd < 0)
        return fail(&im, "cannot open the zones directory", dir, errno);
    char **names = NULL;
    if (!(im.buf = malloc(COPY_BUF)))
        fail(&im, "out of memory", NULL, 0);
    else if ((names = list(&im, dirfd, dir, zone_name)) != NULL)
        rc = add_files(&im, dirfd, names, "");
    if (!rc)
        rc = add_journals(&im, dirfd, dir);
    if (!rc)
        rc = put(&im, end, sizeof end); /* two zero blocks end the archive */
    list_free(names);
    free(im.buf);
    close(dirfd);
    return rc;
}
