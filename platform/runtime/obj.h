/* obj.h: descriptors that are not files: sockets (sock.c), epoll
 * instances and eventfds (poll.c). An object sits behind an anonymous
 * file-system node (fs.h: node->obj), so descriptors, dup, close, fcntl
 * and fstat are the file system's (fsio.c); reads, writes, ioctls,
 * readiness and the last close are the object's. Kept free of lwIP so the
 * file system builds without it. See net.h for the network layer. */
#ifndef ZL_RT_OBJ_H
#define ZL_RT_OBJ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct rt_obj;
struct rt_epitem;

struct rt_obj_ops {
    /* read (writing == 0) or write the vector iov[0..cnt); flags are the
     * open file description's O_* flags (O_NONBLOCK). Returns the bytes
     * moved or a negative errno. */
    long (*rw)(struct rt_obj *o, const struct iovec *iov, int cnt, int writing, int flags);
    /* The EPOLL* events true now (level): EPOLLIN, EPOLLOUT, EPOLLERR,
     * EPOLLHUP, EPOLLRDHUP. */
    uint32_t (*poll)(struct rt_obj *o);
    /* ioctl requests other than FIONBIO; -ENOTTY for unknown ones. May be
     * NULL (every request -ENOTTY). */
    long (*ioctl)(struct rt_obj *o, unsigned long req, void *arg);
    /* The last descriptor of the object was closed: release it (o
     * included); it is already out of every epoll set. */
    void (*close)(struct rt_obj *o);
    mode_t mode; /* st_mode reported by fstat */
};

struct rt_obj {
    const struct rt_obj_ops *ops;
    struct rt_epitem *watchers; /* epoll entries on this object (poll.c) */
    int waiters;                /* threads inside rt_obj_wait() on it */
    bool closed;                /* last descriptor gone while they waited */
};

/* fsio.c: a new descriptor for o (taken on success: closed through
 * ops->close with the last descriptor). flags: O_NONBLOCK, O_CLOEXEC, and
 * the access mode (O_RDWR). Returns the descriptor or -EMFILE / -ENOMEM,
 * in which case o is not taken. */
int rt_fd_obj_open(struct rt_obj *o, int flags);
/* The object behind fd and its description's flags (either out pointer
 * may be NULL). Returns 0, -EBADF (not open) or -ENOTSOCK (a file). */
int rt_fd_obj(int fd, struct rt_obj **o, int *flags);

/* poll.c: wake the threads waiting on o (rt_obj_wait), the epoll sets
 * that watch it and every poll()/select() in progress. Call after any
 * change of what o->ops->poll() would say. Cheap when nobody waits. */
void rt_obj_notify(struct rt_obj *o);
/* Block the calling thread until rt_obj_notify(o) or deadline_ns
 * (UINT64_MAX: none). Returns 0 when woken, -EAGAIN at the deadline,
 * -EINTR for pthread_cancel, -EBADF when another thread closed o's last
 * descriptor meanwhile: o is gone then, and the caller returns at once
 * without touching it (also for -EINTR). Otherwise it re-checks its
 * condition. */
int rt_obj_wait(struct rt_obj *o, uint64_t deadline_ns);
/* The last descriptor of o was closed (fsio.c): out of every epoll set,
 * then ops->close, at once or, if threads wait on o, when the last of
 * them has left with -EBADF. */
void rt_obj_release(struct rt_obj *o);

#endif
