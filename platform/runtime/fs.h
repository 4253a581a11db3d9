/* fs.h: internals shared by fs.c (names: the tree, path lookup, link,
 * rename...) and fsio.c (descriptors: open, read, write, stat...). The
 * in-memory file system holds directories, regular files, symlinks and a
 * few character devices (console, null, zero, urandom). Nodes and
 * entries are allocated with the C library's malloc: every fs call comes
 * from application code after libc is up, never from inside malloc. */
#ifndef ZL_RT_FS_H
#define ZL_RT_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* RT_DEV_OBJ: a socket, epoll instance or eventfd (net.h), reached only
 * through its descriptors; the node has no name. */
enum rt_dev { RT_DEV_NONE = 0, RT_DEV_CONSOLE, RT_DEV_NULL, RT_DEV_ZERO, RT_DEV_RANDOM,
              RT_DEV_OBJ };

struct rt_node;
struct rt_obj;

struct rt_dent {
    char *name;            /* owned */
    struct rt_node *node;  /* counted in node->nlink */
};

struct rt_node {
    mode_t mode;           /* S_IF* | permission bits */
    enum rt_dev dev;
    unsigned long ino;
    unsigned long nlink;   /* names pointing here (dirs: 2 while linked) */
    unsigned long refs;    /* open descriptions, cwd */
    char *data;            /* file contents or symlink target, owned */
    size_t size, cap;
    struct rt_dent *ents;  /* directory entries, owned, in creation order */
    size_t nents, cents;
    struct rt_node *parent; /* directories: the directory holding it */
    struct timespec atime, mtime, ctime;
    struct rt_obj *obj;    /* RT_DEV_OBJ: the object, closed with the node */
};

/* An open file description (shared by dup'ed descriptors). */
struct rt_ofd {
    struct rt_node *node;  /* holds one ref */
    int64_t off;
    int flags;             /* O_ACCMODE | O_APPEND | O_NONBLOCK ... */
    int refs;              /* descriptors using it */
};

/* Resolve path against dirfd (AT_FDCWD or a directory descriptor). With
 * dir != NULL only the directory part is required to exist: *dir gets
 * the directory, last the final name (NAME_MAX + 1 bytes) and *node the
 * node under that name or NULL. follow: follow a final symlink. Returns 0
 * or a negative errno. */
int rt_fs_lookup(int dirfd, const char *path, int follow, struct rt_node **dir,
                 char *last, struct rt_node **node);
/* Make a node of the given mode under name in dir (must not exist). */
int rt_fs_create(struct rt_node *dir, const char *name, mode_t mode,
                 struct rt_node **out);
/* A new node of mode with no name and no reference (calloc'ed; NULL when
 * out of memory): rt_fs_create names one, rt_fd_obj_open (fsio.c) puts
 * an object behind one. */
struct rt_node *rt_fs_node_new(mode_t mode);
/* Drop a reference / name; frees the node when neither is left. */
void rt_fs_unref(struct rt_node *n);
/* Descriptor -> description; NULL when fd is not open. */
struct rt_ofd *rt_fs_fd(int fd);
/* Set a node's times to now (which: 1 atime, 2 mtime, 4 ctime). */
void rt_fs_touch(struct rt_node *n, int which);
/* Grow or shrink a regular file to size, zero-filling. */
int rt_fs_resize(struct rt_node *n, size_t size);
/* The file mode creation mask (umask) applied to new files and dirs. */
mode_t rt_fs_umask(void);
/* Open descriptors 0, 1, 2 on the console (fsio.c). */
void rt_fs_stdio_init(void);
/* Start-up (idempotent): the root, /dev, /tmp and descriptors 0-2. */
void rt_fs_ready(void);

#endif
