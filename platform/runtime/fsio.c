/* fsio.c: descriptor calls of the in-memory file system: open, close,
 * read/write and their vector/positional forms, lseek, the stat family,
 * getdents64, ftruncate, fcntl, dup, ioctl. Names are in fs.c. Sockets,
 * epoll instances and eventfds (net.h) are descriptors here too: their
 * reads, writes, ioctls and last close go to the object's operations. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "platform/include/plat.h"
#include "platform/runtime/fs.h"
#include "platform/runtime/obj.h"
#include "platform/runtime/rt.h"

#define RT_FD_MAX 1024

static struct {
    struct rt_ofd *f;
    int cloexec;
} rt_fds[RT_FD_MAX];
static mode_t rt_umask = 022;

mode_t rt_fs_umask(void)
{
    return rt_umask;
}

struct rt_ofd *rt_fs_fd(int fd)
{
    rt_fs_ready();
    return fd >= 0 && fd < RT_FD_MAX ? rt_fds[fd].f : NULL;
}

/* Lowest free descriptor >= min, or -EMFILE. */
static int fd_alloc(int min, struct rt_ofd *f, int cloexec)
{
    for (int fd = min; fd < RT_FD_MAX; fd++) {
        if (!rt_fds[fd].f) {
            rt_fds[fd].f = f;
            rt_fds[fd].cloexec = cloexec;
            f->refs++;
            return fd;
        }
    }
    return -EMFILE;
}

static struct rt_ofd *ofd_new(struct rt_node *n, int flags)
{
    struct rt_ofd *f = calloc(1, sizeof *f);

    if (f) {
        f->node = n;
        f->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        n->refs++;
    }
    return f;
}

static void fd_close(int fd)
{
    struct rt_ofd *f = rt_fds[fd].f;

    rt_fds[fd].f = NULL;
    if (--f->refs == 0) {
        struct rt_node *n = f->node;
        free(f);
        if (--n->refs == 0 && n->obj) {
            struct rt_obj *o = n->obj;
            n->obj = NULL;
            rt_obj_release(o);
        }
        rt_fs_unref(n);
    }
}

int rt_fd_obj_open(struct rt_obj *o, int flags)
{
    struct rt_node *n;
    struct rt_ofd *f;
    int fd;

    rt_fs_ready();
    if (!(n = rt_fs_node_new(o->ops->mode)))
        return -ENOMEM;
    n->dev = RT_DEV_OBJ;
    if (!(f = ofd_new(n, (flags & ~O_ACCMODE) | O_RDWR))) {
        free(n);
        return -ENOMEM;
    }
    if ((fd = fd_alloc(0, f, (flags & O_CLOEXEC) != 0)) < 0) {
        free(f);
        free(n);
        return fd;
    }
    n->obj = o;
    return fd;
}

int rt_fd_obj(int fd, struct rt_obj **o, int *flags)
{
    struct rt_ofd *f = rt_fs_fd(fd);

    if (!f)
        return -EBADF;
    if (!f->node->obj)
        return -ENOTSOCK;
    if (o)
        *o = f->node->obj;
    if (flags)
        *flags = f->flags;
    return 0;
}

void rt_fs_stdio_init(void)
{
    struct rt_node *con;

    if (rt_fs_lookup(AT_FDCWD, "/dev/console", 1, NULL, NULL, &con) < 0)
        plat_abort("zonelet-rt: no /dev/console");
    for (int fd = 0; fd < 3; fd++) {
        struct rt_ofd *f = ofd_new(con, O_RDWR);
        if (!f || fd_alloc(fd, f, 0) != fd)
            plat_abort("zonelet-rt: cannot open the console descriptors");
    }
}

int rt_fs_resize(struct rt_node *n, size_t size)
{
    if (size > n->cap) {
        size_t cap = n->cap ? n->cap : 256;
        while (cap < size)
            cap = cap > SIZE_MAX / 2 ? size : 2 * cap;
        char *d = realloc(n->data, cap);
        if (!d) /* near the end of memory: no room to double, try exact */
            d = realloc(n->data, cap = size);
        if (!d)
            return -ENOSPC;
        n->data = d;
        n->cap = cap;
    }
    if (size > n->size)
        memset(n->data + n->size, 0, size - n->size);
    n->size = size;
    return 0;
}

static long do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    struct rt_node *dir, *n;
    char last[NAME_MAX + 1];
    int acc = flags & O_ACCMODE, r;

    if (flags & O_CREAT) {
        if ((r = rt_fs_lookup(dirfd, path, 0, &dir, last, &n)) < 0)
            return r;
        if (n && (flags & O_EXCL))
            return -EEXIST;
        if (n && S_ISLNK(n->mode)) {
            if (flags & O_NOFOLLOW)
                return -ELOOP;
            if ((r = rt_fs_lookup(dirfd, path, 1, NULL, NULL, &n)) < 0)
                return r == -ENOENT ? -ENOENT : r; /* dangling: not created */
        }
        if (!n && (r = rt_fs_create(dir, last, S_IFREG | (mode & 07777 & ~rt_umask), &n)) < 0)
            return r;
    } else if ((r = rt_fs_lookup(dirfd, path, !(flags & O_NOFOLLOW), NULL, NULL, &n)) < 0) {
        return r;
    }
    if (S_ISLNK(n->mode) && !(flags & O_PATH))
        return -ELOOP;
    if ((flags & O_DIRECTORY) && !S_ISDIR(n->mode))
        return -ENOTDIR;
    if (S_ISDIR(n->mode) && acc != O_RDONLY)
        return -EISDIR;
    if ((flags & O_TRUNC) && S_ISREG(n->mode) && acc != O_RDONLY) {
        rt_fs_resize(n, 0);
        rt_fs_touch(n, 6);
    }
    struct rt_ofd *f = ofd_new(n, flags);
    if (!f)
        return -ENOMEM;
    if ((r = fd_alloc(0, f, (flags & O_CLOEXEC) != 0)) < 0) {
        n->refs--;
        free(f);
    }
    return r;
}

long rt_sys_open(const long *a) { return do_openat(AT_FDCWD, (const char *)a[0], (int)a[1], (mode_t)a[2]); }
long rt_sys_openat(const long *a) { return do_openat((int)a[0], (const char *)a[1], (int)a[2], (mode_t)a[3]); }

long rt_sys_close(const long *a)
{
    if (!rt_fs_fd((int)a[0]))
        return -EBADF;
    fd_close((int)a[0]);
    return 0;
}

/* ---- data ---- */

static long node_read(struct rt_node *n, char *buf, size_t len, int64_t off)
{
    switch (n->dev) {
    case RT_DEV_CONSOLE:
    case RT_DEV_NULL:
        return 0; /* no console input: end of file */
    case RT_DEV_ZERO:
        memset(buf, 0, len);
        return (long)len;
    case RT_DEV_RANDOM:
        return plat_random(buf, len) == PLAT_OK ? (long)len : -EIO;
    case RT_DEV_OBJ: /* fd_iov dispatches these */
        return -EINVAL;
    case RT_DEV_NONE:
        break;
    }
    if (S_ISDIR(n->mode))
        return -EISDIR;
    if (off < 0)
        return -EINVAL;
    if ((uint64_t)off >= n->size)
        return 0;
    if (len > n->size - (size_t)off)
        len = n->size - (size_t)off;
    memcpy(buf, n->data + off, len);
    return (long)len;
}

static long node_write(struct rt_node *n, const char *buf, size_t len, int64_t off)
{
    switch (n->dev) {
    case RT_DEV_CONSOLE:
        plat_console_write(buf, len);
        return (long)len;
    case RT_DEV_NULL:
    case RT_DEV_ZERO:
    case RT_DEV_RANDOM:
        return (long)len;
    case RT_DEV_OBJ:
        return -EINVAL;
    case RT_DEV_NONE:
        break;
    }
    if (off < 0 || (uint64_t)off > (uint64_t)INT64_MAX - len)
        return -EINVAL;
    if ((size_t)off + len > n->size) {
        int r = rt_fs_resize(n, (size_t)off + len);
        if (r < 0)
            return r;
    }
    memcpy(n->data + off, buf, len);
    rt_fs_touch(n, 6);
    return (long)len;
}

/* One read or write through descriptor fd; pos < 0: at the file offset. */
static long fd_io(int fd, char *buf, size_t len, int64_t pos, int writing)
{
    struct rt_ofd *f = rt_fs_fd(fd);
    int acc;
    long r;

    if (!f)
        return -EBADF;
    if (f->node->obj) {
        struct iovec v = {buf, len};
        return pos >= 0 ? -ESPIPE : f->node->obj->ops->rw(f->node->obj, &v, 1, writing, f->flags);
    }
    acc = f->flags & O_ACCMODE;
    if ((f->flags & O_PATH) || (writing ? acc == O_RDONLY : acc == O_WRONLY))
        return -EBADF;
    if (len > (size_t)SSIZE_MAX)
        len = SSIZE_MAX;
    int64_t off = pos >= 0 ? pos : f->off;
    if (writing && pos < 0 && (f->flags & O_APPEND))
        off = (int64_t)f->node->size;
    r = writing ? node_write(f->node, buf, len, off) : node_read(f->node, buf, len, off);
    if (r > 0 && pos < 0 && f->node->dev == RT_DEV_NONE)
        f->off = off + r;
    return r;
}

/* stdio flushes with writev(buffer, new data): on the console that would
 * be one hypercall (a VM exit) per piece, so small vectors go out as one. */
static long console_gather(struct rt_ofd *f, const struct iovec *iov, int cnt)
{
    char buf[4096];
    size_t len = 0;

    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_len > sizeof buf - len)
            return -1;
        memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    return node_write(f->node, buf, len, 0);
}

static long fd_iov(int fd, const struct iovec *iov, int cnt, int64_t pos, int writing)
{
    struct rt_ofd *f = rt_fs_fd(fd);
    long total = 0;

    if (cnt < 0 || cnt > IOV_MAX)
        return -EINVAL;
    if (f && f->node->obj) /* one operation: a socket read must not block per piece */
        return pos >= 0 ? -ESPIPE : f->node->obj->ops->rw(f->node->obj, iov, cnt, writing, f->flags);
    if (writing && f && f->node->dev == RT_DEV_CONSOLE && (f->flags & O_ACCMODE) != O_RDONLY) {
        long r = console_gather(f, iov, cnt);
        if (r >= 0)
            return r;
    }
    for (int i = 0; i < cnt; i++) {
        long r = fd_io(fd, iov[i].iov_base, iov[i].iov_len, pos, writing);
        if (r < 0)
            return total ? total : r;
        total += r;
        if (pos >= 0)
            pos += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

long rt_sys_read(const long *a) { return fd_io((int)a[0], (char *)a[1], (size_t)a[2], -1, 0); }
long rt_sys_write(const long *a) { return fd_io((int)a[0], (char *)a[1], (size_t)a[2], -1, 1); }
long rt_sys_readv(const long *a) { return fd_iov((int)a[0], (const struct iovec *)a[1], (int)a[2], -1, 0); }
long rt_sys_writev(const long *a) { return fd_iov((int)a[0], (const struct iovec *)a[1], (int)a[2], -1, 1); }

static long positional(const long *a, int vec, int writing)
{
    int64_t pos = (int64_t)a[3];

    if (pos < 0)
        return -EINVAL;
    if (vec)
        return fd_iov((int)a[0], (const struct iovec *)a[1], (int)a[2], pos, writing);
    return fd_io((int)a[0], (char *)a[1], (size_t)a[2], pos, writing);
}

long rt_sys_pread64(const long *a) { return positional(a, 0, 0); }
long rt_sys_pwrite64(const long *a) { return positional(a, 0, 1); }
long rt_sys_preadv(const long *a) { return positional(a, 1, 0); }
long rt_sys_pwritev(const long *a) { return positional(a, 1, 1); }

long rt_fs_copy_out(int fd, void *dst, size_t len, int64_t off)
{
    struct rt_ofd *f = rt_fs_fd(fd);

    if (!f)
        return -EBADF;
    if (!S_ISREG(f->node->mode))
        return -ENODEV;
    return node_read(f->node, dst, len, off);
}

long rt_sys_lseek(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    int64_t off = (int64_t)a[1], base;

    if (!f)
        return -EBADF;
    if (f->node->obj)
        return -ESPIPE;
    switch ((int)a[2]) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = f->off; break;
    case SEEK_END: base = (int64_t)f->node->size; break;
    default: return -EINVAL;
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -EINVAL;
    f->off = base + off;
    return (long)f->off;
}

/* ---- attributes ---- */

static long fill_stat(struct rt_node *n, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_dev = 1;
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = n->nlink ? n->nlink : (S_ISDIR(n->mode) ? 2 : 0);
    st->st_rdev = n->dev && n->dev != RT_DEV_OBJ ? makedev(1, n->dev) : 0;
    st->st_size = S_ISDIR(n->mode) ? 4096 : (off_t)n->size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    st->st_atim = n->atime;
    st->st_mtim = n->mtime;
    st->st_ctim = n->ctime;
    return 0;
}

static long do_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    struct rt_node *n;
    int r;

    if ((flags & AT_EMPTY_PATH) && path && !*path) {
        struct rt_ofd *f = rt_fs_fd(dirfd);
        if (dirfd == AT_FDCWD)
            return do_fstatat(AT_FDCWD, ".", st, 0);
        return f ? fill_stat(f->node, st) : -EBADF;
    }
    if ((r = rt_fs_lookup(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), NULL, NULL, &n)) < 0)
        return r;
    return fill_stat(n, st);
}

long rt_sys_stat(const long *a) { return do_fstatat(AT_FDCWD, (const char *)a[0], (struct stat *)a[1], 0); }
long rt_sys_lstat(const long *a) { return do_fstatat(AT_FDCWD, (const char *)a[0], (struct stat *)a[1], AT_SYMLINK_NOFOLLOW); }
long rt_sys_newfstatat(const long *a) { return do_fstatat((int)a[0], (const char *)a[1], (struct stat *)a[2], (int)a[3]); }
long rt_sys_fstat(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    return f ? fill_stat(f->node, (struct stat *)a[1]) : -EBADF;
}

/* linux_dirent64, as musl's struct dirent is laid out on x86_64. */
static size_t put_dirent(char *buf, size_t room, unsigned long ino, int64_t next,
                         unsigned char type, const char *name)
{
    size_t nlen = strlen(name), reclen = (offsetof(struct dirent, d_name) + nlen + 1 + 7) & ~(size_t)7;
    struct dirent *d = (struct dirent *)buf;

    if (reclen > room)
        return 0;
    d->d_ino = ino;
    d->d_off = next;
    d->d_reclen = (unsigned short)reclen;
    d->d_type = type;
    memcpy(d->d_name, name, nlen + 1);
    return reclen;
}

static unsigned char dtype(mode_t m)
{
    return S_ISDIR(m) ? DT_DIR : S_ISLNK(m) ? DT_LNK : S_ISCHR(m) ? DT_CHR : DT_REG;
}

/* The offset of a directory is an index: 0 ".", 1 "..", k+2 entry k. */
long rt_sys_getdents64(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    char *buf = (char *)a[1];
    size_t room = (size_t)a[2], used = 0;

    if (!f)
        return -EBADF;
    struct rt_node *d = f->node;
    if (!S_ISDIR(d->mode))
        return -ENOTDIR;
    if (!d->nlink)
        return 0; /* removed: empty, as on Linux */
    for (;; f->off++) {
        size_t k = (size_t)f->off, w;
        if (k >= d->nents + 2)
            break;
        if (k < 2)
            w = put_dirent(buf + used, room - used, k ? d->parent->ino : d->ino,
                           f->off + 1, DT_DIR, k ? ".." : ".");
        else
            w = put_dirent(buf + used, room - used, d->ents[k - 2].node->ino, f->off + 1,
                           dtype(d->ents[k - 2].node->mode), d->ents[k - 2].name);
        if (!w)
            return used ? (long)used : -EINVAL;
        used += w;
    }
    return (long)used;
}

long rt_sys_fsync(const long *a)
{
    return rt_fs_fd((int)a[0]) ? 0 : -EBADF; /* memory is the medium */
}

static long do_truncate(struct rt_node *n, int64_t len)
{
    if (S_ISDIR(n->mode))
        return -EISDIR;
    if (!S_ISREG(n->mode) || len < 0)
        return -EINVAL;
    long r = rt_fs_resize(n, (size_t)len);
    rt_fs_touch(n, 6);
    return r;
}

long rt_sys_ftruncate(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);

    if (!f)
        return -EBADF;
    if ((f->flags & O_ACCMODE) == O_RDONLY)
        return -EINVAL;
    return do_truncate(f->node, (int64_t)a[1]);
}

long rt_sys_truncate(const long *a)
{
    struct rt_node *n;
    int r = rt_fs_lookup(AT_FDCWD, (const char *)a[0], 1, NULL, NULL, &n);
    return r < 0 ? r : do_truncate(n, (int64_t)a[1]);
}

/* ---- descriptors ---- */

long rt_sys_fcntl(const long *a)
{
    int fd = (int)a[0], cmd = (int)a[1];
    struct rt_ofd *f = rt_fs_fd(fd);

    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((int)a[2] < 0 || (int)a[2] >= RT_FD_MAX)
            return -EINVAL;
        return fd_alloc((int)a[2], f, cmd == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return rt_fds[fd].cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        rt_fds[fd].cloexec = ((int)a[2] & FD_CLOEXEC) != 0;
        return 0;
    case F_GETFL:
        return f->flags;
    case F_SETFL:
        f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) | ((int)a[2] & (O_APPEND | O_NONBLOCK));
        return 0;
    case F_GETLK: {
        struct flock *l = (struct flock *)a[2];
        l->l_type = F_UNLCK; /* one process: no other lock holder */
        return 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return 0;
    default:
        return -EINVAL;
    }
}

long rt_sys_dup(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);
    return f ? fd_alloc(0, f, 0) : -EBADF;
}

static long do_dup3(int old, int new, int flags)
{
    struct rt_ofd *f = rt_fs_fd(old);

    if (!f)
        return -EBADF;
    if (new < 0 || new >= RT_FD_MAX || (flags & ~O_CLOEXEC))
        return -EINVAL;
    if (rt_fds[new].f)
        fd_close(new);
    return fd_alloc(new, f, (flags & O_CLOEXEC) != 0);
}

long rt_sys_dup2(const long *a)
{
    if ((int)a[0] == (int)a[1])
        return rt_fs_fd((int)a[0]) ? a[1] : -EBADF;
    return do_dup3((int)a[0], (int)a[1], 0);
}

long rt_sys_dup3(const long *a)
{
    if ((int)a[0] == (int)a[1])
        return -EINVAL;
    return do_dup3((int)a[0], (int)a[1], (int)a[2]);
}

long rt_sys_ioctl(const long *a)
{
    struct rt_ofd *f = rt_fs_fd((int)a[0]);

    if (!f)
        return -EBADF;
    if ((unsigned long)a[1] == FIONBIO) {
        const int *on = (const int *)a[2];
        f->flags = *on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
        return 0;
    }
    if (f->node->obj)
        return f->node->obj->ops->ioctl ?
               f->node->obj->ops->ioctl(f->node->obj, (unsigned long)a[1], (void *)a[2]) : -ENOTTY;
    /* The console is no terminal: TIOCGWINSZ fails, so stdio buffers
     * stdout fully, as for a file; guests flush or use stderr. */
    return -ENOTTY;
}

long rt_sys_umask(const long *a)
{
    mode_t old = rt_umask;
    rt_umask = (mode_t)a[0] & 0777;
    return old;
}
