/* fs.c: the in-memory file system's name space: nodes, path lookup and
 * the calls that change names (mkdir, rmdir, unlink, link, rename,
 * symlink) or attributes (chmod, utimensat), plus access, chdir, getcwd.
 * Descriptor calls are in fsio.c. Long because POSIX path semantics are
 * one piece: every call shares rt_fs_lookup(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/include/plat.h"
#include "platform/runtime/fs.h"
#include "platform/runtime/rt.h"

#define RT_SYMLOOP 8

static struct rt_node *rt_root, *rt_cwd;
static unsigned long rt_next_ino = 1;

void rt_fs_touch(struct rt_node *n, int which)
{
    uint64_t ns = plat_clock_wall_ns();
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};

    if (which & 1)
        n->atime = ts;
    if (which & 2)
        n->mtime = ts;
    if (which & 4)
        n->ctime = ts;
}

struct rt_node *rt_fs_node_new(mode_t mode)
{
    struct rt_node *n = calloc(1, sizeof *n);

    if (!n)
        return NULL;
    n->mode = mode;
    n->ino = rt_next_ino++;
    rt_fs_touch(n, 7);
    return n;
}

void rt_fs_unref(struct rt_node *n)
{
    if (n->nlink || n->refs)
        return;
    for (size_t i = 0; i < n->nents; i++)
        free(n->ents[i].name);
    free(n->ents);
    free(n->data);
    free(n);
}

static struct rt_dent *dir_find(struct rt_node *d, const char *name)
{
    for (size_t i = 0; i < d->nents; i++)
        if (!strcmp(d->ents[i].name, name))
            return &d->ents[i];
    return NULL;
}

static int dir_add(struct rt_node *d, const char *name, struct rt_node *n)
{
    if (!d->nlink)
        return -ENOENT; /* a removed directory takes no new names */
    if (d->nents == d->cents) {
        size_t c = d->cents ? 2 * d->cents : 8;
        struct rt_dent *e = realloc(d->ents, c * sizeof *e);
        if (!e)
            return -ENOMEM;
        d->ents = e;
        d->cents = c;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    d->ents[d->nents++] = (struct rt_dent){copy, n};
    n->nlink += S_ISDIR(n->mode) ? 2 : 1;
    if (S_ISDIR(n->mode))
        n->parent = d;
    rt_fs_touch(d, 6);
    return 0;
}

/* Remove the entry; the node is freed if nothing else holds it. */
static void dir_remove(struct rt_node *d, struct rt_dent *e)
{
    struct rt_node *n = e->node;

    free(e->name);
    memmove(e, e + 1, (size_t)(d->ents + d->nents - e - 1) * sizeof *e);
    d->nents--;
    n->nlink -= S_ISDIR(n->mode) ? 2 : 1;
    if (S_ISDIR(n->mode) && !n->nlink)
        n->parent = n; /* still open somewhere: its parent may go away */
    rt_fs_touch(d, 6);
    rt_fs_touch(n, 4);
    rt_fs_unref(n);
}

int rt_fs_create(struct rt_node *dir, const char *name, mode_t mode,
                 struct rt_node **out)
{
    struct rt_node *n = rt_fs_node_new(mode);
    int r;

    if (!n)
        return -ENOMEM;
    if ((r = dir_add(dir, name, n)) < 0) {
        free(n);
        return r;
    }
    *out = n;
    return 0;
}

static struct rt_node *base_dir(int dirfd, const char *path, int *err)
{
    if (path[0] == '/')
        return rt_root;
    if (dirfd == AT_FDCWD)
        return rt_cwd;
    struct rt_ofd *f = rt_fs_fd(dirfd);
    if (!f) {
        *err = -EBADF;
        return NULL;
    }
    if (!S_ISDIR(f->node->mode)) {
        *err = -ENOTDIR;
        return NULL;
    }
    return f->node;
}

static int walk(struct rt_node *cur, const char *path, int follow, int depth,
                struct rt_node **dir, char *last, struct rt_node **out);

/* Step from directory cur to the entry name (symlinks followed when
 * asked); *out NULL if it does not exist. */
static int step(struct rt_node *cur, const char *name, int follow, int depth,
                struct rt_node **out)
{
    struct rt_dent *e;

    if (!S_ISDIR(cur->mode))
        return -ENOTDIR;
    if (!strcmp(name, ".")) {
        *out = cur;
        return 0;
    }
    if (!strcmp(name, "..")) {
        *out = cur->parent;
        return 0;
    }
    e = dir_find(cur, name);
    *out = e ? e->node : NULL;
    if (e && follow && S_ISLNK(e->node->mode)) {
        if (depth >= RT_SYMLOOP)
            return -ELOOP;
        return walk(e->node->data[0] == '/' ? rt_root : cur, e->node->data, 1,
                    depth + 1, NULL, NULL, out);
    }
    return 0;
}

static int walk(struct rt_node *cur, const char *path, int follow, int depth,
                struct rt_node **dir, char *last, struct rt_node **out)
{
    char name[NAME_MAX + 1];
    const char *p = path;
    int r;

    if (!*path)
        return -ENOENT;
    for (;;) {
        while (*p == '/')
            p++;
        const char *q = p;
        while (*q && *q != '/')
            q++;
        if (q == p) { /* "/" or trailing slashes: cur itself */
            if (dir) {
                *dir = cur;
                strcpy(last, ".");
            }
            *out = cur;
            return 0;
        }
        if ((size_t)(q - p) > NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(name, p, (size_t)(q - p));
        name[q - p] = '\0';
        const char *rest = q;
        while (*rest == '/')
            rest++;
        int is_last = !*rest, slash = *q == '/';
        struct rt_node *next;
        if (is_last && dir) {
            if (!S_ISDIR(cur->mode))
                return -ENOTDIR;
            *dir = cur;
            strcpy(last, name);
            return step(cur, name, follow || slash, depth, out);
        }
        if ((r = step(cur, name, !is_last || follow || slash, depth, &next)) < 0)
            return r;
        if (!next)
            return -ENOENT;
        if (is_last) {
            if (slash && !S_ISDIR(next->mode))
                return -ENOTDIR;
            *out = next;
            return 0;
        }
        cur = next;
        p = q;
    }
}

int rt_fs_lookup(int dirfd, const char *path, int follow, struct rt_node **dir,
                 char *last, struct rt_node **node)
{
    int err = 0;
    struct rt_node *base;

    rt_fs_ready();
    if (!path)
        return -EFAULT;
    if (!(base = base_dir(dirfd, path, &err)))
        return err;
    if (strlen(path) >= PATH_MAX)
        return -ENAMETOOLONG;
    return walk(base, path, follow, 0, dir, last, node);
}

static void make_dev(struct rt_node *dev, const char *name, enum rt_dev kind)
{
    struct rt_node *n;

    if (rt_fs_create(dev, name, S_IFCHR | 0666, &n) == 0)
        n->dev = kind;
}

void rt_fs_ready(void)
{
    struct rt_node *n;

    if (rt_root)
        return;
    if (!(rt_root = rt_fs_node_new(S_IFDIR | 0755)))
        plat_abort("zonelet-rt: no memory for the file system");
    rt_root->parent = rt_root;
    rt_root->nlink = 2;
    rt_root->refs = 1; /* cwd */
    rt_cwd = rt_root;
    if (rt_fs_create(rt_root, "dev", S_IFDIR | 0755, &n) == 0) {
        make_dev(n, "console", RT_DEV_CONSOLE);
        make_dev(n, "tty", RT_DEV_CONSOLE);
        make_dev(n, "null", RT_DEV_NULL);
        make_dev(n, "zero", RT_DEV_ZERO);
        make_dev(n, "urandom", RT_DEV_RANDOM);
        make_dev(n, "random", RT_DEV_RANDOM);
    }
    rt_fs_create(rt_root, "tmp", S_IFDIR | 01777, &n);
    rt_fs_create(rt_root, "etc", S_IFDIR | 0755, &n);
    rt_fs_stdio_init();
}

/* ---- calls that change names ---- */

static long do_mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct rt_node *dir, *n;
    char last[NAME_MAX + 1];
    int r = rt_fs_lookup(dirfd, path, 0, &dir, last, &n);

    if (r < 0)
        return r;
    if (n)
        return -EEXIST;
    return rt_fs_create(dir, last, S_IFDIR | (mode & 07777 & ~rt_fs_umask()), &n);
}

long rt_sys_mkdir(const long *a) { return do_mkdirat(AT_FDCWD, (const char *)a[0], (mode_t)a[1]); }
long rt_sys_mkdirat(const long *a) { return do_mkdirat((int)a[0], (const char *)a[1], (mode_t)a[2]); }

static long do_unlinkat(int dirfd, const char *path, int flags)
{
    struct rt_node *dir, *n;
    char last[NAME_MAX + 1];
    int r = rt_fs_lookup(dirfd, path, 0, &dir, last, &n);

    if (r < 0)
        return r;
    if (!n)
        return -ENOENT;
    if (flags & AT_REMOVEDIR) {
        if (!strcmp(last, "."))
            return -EINVAL;
        if (!strcmp(last, "..") || n->nents)
            return -ENOTEMPTY;
        if (!S_ISDIR(n->mode))
            return -ENOTDIR;
        if (n == rt_root)
            return -EBUSY;
    } else if (S_ISDIR(n->mode)) {
        return -EISDIR;
    }
    struct rt_dent *e = dir_find(dir, last);
    if (!e || e->node != n)
        return -ENOTDIR; /* "link/": the name is a symlink, not the directory */
    dir_remove(dir, e);
    return 0;
}

long rt_sys_unlink(const long *a) { return do_unlinkat(AT_FDCWD, (const char *)a[0], 0); }
long rt_sys_rmdir(const long *a) { return do_unlinkat(AT_FDCWD, (const char *)a[0], AT_REMOVEDIR); }
long rt_sys_unlinkat(const long *a)
{
    if ((int)a[2] & ~AT_REMOVEDIR)
        return -EINVAL;
    return do_unlinkat((int)a[0], (const char *)a[1], (int)a[2]);
}

static long do_linkat(int ofd, const char *old, int nfd, const char *new, int follow)
{
    struct rt_node *src, *dir, *n;
    char last[NAME_MAX + 1];
    int r = rt_fs_lookup(ofd, old, follow, NULL, NULL, &src);

    if (r < 0)
        return r;
    if (S_ISDIR(src->mode))
        return -EPERM;
    if ((r = rt_fs_lookup(nfd, new, 0, &dir, last, &n)) < 0)
        return r;
    if (n)
        return -EEXIST;
    rt_fs_touch(src, 4);
    return dir_add(dir, last, src);
}

long rt_sys_link(const long *a) { return do_linkat(AT_FDCWD, (const char *)a[0], AT_FDCWD, (const char *)a[1], 0); }
long rt_sys_linkat(const long *a)
{
    return do_linkat((int)a[0], (const char *)a[1], (int)a[2], (const char *)a[3],
                     ((int)a[4] & AT_SYMLINK_FOLLOW) != 0);
}

/* Is d equal to or below n? (moving n there would detach it) */
static int is_within(struct rt_node *d, struct rt_node *n)
{
    for (;;) {
        if (d == n)
            return 1;
        if (d == rt_root)
            return 0;
        d = d->parent;
    }
}

static long do_renameat(int ofd, const char *old, int nfd, const char *new, int noreplace)
{
    struct rt_node *odir, *ndir, *src, *dst;
    char olast[NAME_MAX + 1], nlast[NAME_MAX + 1];
    int r;

    if ((r = rt_fs_lookup(ofd, old, 0, &odir, olast, &src)) < 0)
        return r;
    if (!src)
        return -ENOENT;
    if ((r = rt_fs_lookup(nfd, new, 0, &ndir, nlast, &dst)) < 0)
        return r;
    if (!strcmp(olast, ".") || !strcmp(olast, "..") || !strcmp(nlast, ".") ||
        !strcmp(nlast, ".."))
        return -EBUSY;
    if (dst == src)
        return 0;
    struct rt_dent *oe = dir_find(odir, olast);
    if (!oe || oe->node != src)
        return -ENOTDIR; /* "link/": a symlink named with a trailing slash */
    if (dst && noreplace)
        return -EEXIST;
    if (S_ISDIR(src->mode) && is_within(ndir, src))
        return -EINVAL;
    if (dst) {
        if (S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
            return -ENOTDIR;
        if (!S_ISDIR(src->mode) && S_ISDIR(dst->mode))
            return -EISDIR;
        if (S_ISDIR(dst->mode) && dst->nents)
            return -ENOTEMPTY;
    }
    /* Link the new name first so src never drops to zero links. */
    if (dst)
        dir_remove(ndir, dir_find(ndir, nlast));
    if ((r = dir_add(ndir, nlast, src)) < 0)
        return r;
    dir_remove(odir, dir_find(odir, olast));
    return 0;
}

long rt_sys_rename(const long *a) { return do_renameat(AT_FDCWD, (const char *)a[0], AT_FDCWD, (const char *)a[1], 0); }
long rt_sys_renameat(const long *a) { return do_renameat((int)a[0], (const char *)a[1], (int)a[2], (const char *)a[3], 0); }
long rt_sys_renameat2(const long *a)
{
    if ((unsigned)a[4] & ~1u) /* only RENAME_NOREPLACE */
        return -EINVAL;
    return do_renameat((int)a[0], (const char *)a[1], (int)a[2], (const char *)a[3], (int)a[4] & 1);
}

static long do_symlinkat(const char *target, int dirfd, const char *path)
{
    struct rt_node *dir, *n;
    char last[NAME_MAX + 1];
    int r = rt_fs_lookup(dirfd, path, 0, &dir, last, &n);

    if (r < 0)
        return r;
    if (n)
        return -EEXIST;
    if (!*target)
        return -ENOENT;
    if ((r = rt_fs_create(dir, last, S_IFLNK | 0777, &n)) < 0)
        return r;
    if (!(n->data = strdup(target))) {
        dir_remove(dir, dir_find(dir, last));
        return -ENOMEM;
    }
    n->size = strlen(target);
    return 0;
}

long rt_sys_symlink(const long *a) { return do_symlinkat((const char *)a[0], AT_FDCWD, (const char *)a[1]); }
long rt_sys_symlinkat(const long *a) { return do_symlinkat((const char *)a[0], (int)a[1], (const char *)a[2]); }

static long do_readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
    struct rt_node *n;
    int r = rt_fs_lookup(dirfd, path, 0, NULL, NULL, &n);

    if (r < 0)
        return r;
    if (!S_ISLNK(n->mode))
        return -EINVAL;
    if (len > n->size)
        len = n->size;
    memcpy(buf, n->data, len);
    return (long)len;
}

long rt_sys_readlink(const long *a) { return do_readlinkat(AT_FDCWD, (const char *)a[0], (char *)a[1], (size_t)a[2]); }
long rt_sys_readlinkat(const long *a) { return do_readlinkat((int)a[0], (const char *)a[1], (char *)a[2], (size_t)a[3]); }

/* ---- attributes, access, working directory ---- */

static long do_chmod(struct rt_node *n, mode_t mode)
{
    n->mode = (n->mode & S_IFMT) | (mode & 07777);
    rt_fs_touch(n, 4);
    return 0;
}

static long do_fchmodat(int dirfd, const char *path, mode_t mode, int follow)
{
    struct rt_node *n;
    int r = rt_fs_lookup(dirfd, path, follow, NULL, NULL, &n);

    return r < 0 ? r : do_chmod(n, mode);
}

long rt_sys_chmod(const long *a) { return do_fchmodat(AT_FDCWD, (const char *)a[0], (mode_t)a[1], 1); }
long rt_sys_fchmodat(const long *a) { return do_fchmodat((int)a[0], (const char *)a[1], (mode_t)a[2], 1); }
long rt_sys_fchmod(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    return f ? do_chmod(f->node, (mode_t)a[1]) : -EBADF;
}

long rt_sys_chown(const long *a)
{
    (void)a; /* one user: ownership is always root's */
    return 0;
}

static void set_time(struct timespec *dst, const struct timespec *src, struct timespec now)
{
    if (!src || src->tv_nsec == UTIME_NOW)
        *dst = now;
    else if (src->tv_nsec != UTIME_OMIT)
        *dst = *src;
}

long rt_sys_utimensat(const long *a)
{
    const char *path = (const char *)a[1];
    const struct timespec *ts = (const struct timespec *)a[2];
    struct rt_node *n;
    int r;

    if (!path) {
        struct rt_ofd *f = rt_fs_fd((int)a[0]);
        if (!f)
            return -EBADF;
        n = f->node;
    } else if ((r = rt_fs_lookup((int)a[0], path, !((int)a[3] & AT_SYMLINK_NOFOLLOW),
                                 NULL, NULL, &n)) < 0) {
        return r;
    }
    rt_fs_touch(n, 4);
    set_time(&n->atime, ts ? &ts[0] : NULL, n->ctime);
    set_time(&n->mtime, ts ? &ts[1] : NULL, n->ctime);
    return 0;
}

static long do_faccessat(int dirfd, const char *path, int mode, int flags)
{
    struct rt_node *n;
    int r = rt_fs_lookup(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), NULL, NULL, &n);

    if (r < 0)
        return r;
    if (mode & ~(R_OK | W_OK | X_OK))
        return -EINVAL;
    /* Root may read and write anything; execute needs some x bit. */
    if ((mode & X_OK) && !S_ISDIR(n->mode) && !(n->mode & 0111))
        return -EACCES;
    return 0;
}

long rt_sys_access(const long *a) { return do_faccessat(AT_FDCWD, (const char *)a[0], (int)a[1], 0); }
long rt_sys_faccessat(const long *a) { return do_faccessat((int)a[0], (const char *)a[1], (int)a[2], 0); }
long rt_sys_faccessat2(const long *a) { return do_faccessat((int)a[0], (const char *)a[1], (int)a[2], (int)a[3]); }

static long set_cwd(struct rt_node *n)
{
    if (!S_ISDIR(n->mode))
        return -ENOTDIR;
    n->refs++;
    rt_cwd->refs--;
    rt_fs_unref(rt_cwd);
    rt_cwd = n;
    return 0;
}

long rt_sys_chdir(const long *a)
{
    struct rt_node *n;
    int r = rt_fs_lookup(AT_FDCWD, (const char *)a[0], 1, NULL, NULL, &n);

    return r < 0 ? r : set_cwd(n);
}

long rt_sys_fchdir(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    return f ? set_cwd(f->node) : -EBADF;
}

/* Name of directory n inside its parent. */
static const char *name_in_parent(struct rt_node *n)
{
    struct rt_node *p = n->parent;
    for (size_t i = 0; i < p->nents; i++)
        if (p->ents[i].node == n)
            return p->ents[i].name;
    return NULL;
}

long rt_sys_getcwd(const long *a)
{
    char *buf = (char *)a[0], tmp[PATH_MAX];
    size_t size = (size_t)a[1], pos = sizeof tmp - 1;

    rt_fs_ready();
    if (!rt_cwd->nlink)
        return -ENOENT; /* removed while we were in it */
    tmp[pos] = '\0';
    for (struct rt_node *n = rt_cwd; n != rt_root; n = n->parent) {
        const char *name = name_in_parent(n);
        size_t len = name ? strlen(name) : 0;
        if (!name || len + 1 > pos)
            return -ENAMETOOLONG;
        pos -= len;
        memcpy(tmp + pos, name, len);
        tmp[--pos] = '/';
    }
    if (pos == sizeof tmp - 1)
        tmp[--pos] = '/';
    if (sizeof tmp - pos > size)
        return -ERANGE;
    memcpy(buf, tmp + pos, sizeof tmp - pos);
    return (long)(sizeof tmp - pos);
}
