/* poll.c: waiting on descriptors: poll, ppoll, select, pselect6, epoll
 * (level-triggered, EPOLLONESHOT, EPOLLET), eventfd, and the object
 * wake-ups they all rest on (net.h). A regular file or device is always
 * ready, as on Linux.
 *
 * Wake-ups: a thread blocked on one object waits on the object's address;
 * epoll_wait waits on its epoll instance, which objects reach through the
 * entries watching them (each entry goes on its instance's ready list when
 * its object changes, and is re-checked there); poll() and select() wait
 * on one shared key that every change wakes while any of them is
 * waiting. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "platform/include/plat.h"
#include "platform/runtime/fs.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

#define RT_FD_LIMIT 1024 /* fsio.c's descriptor table size */

struct rt_ep;

struct rt_epitem {
    struct rt_ep *ep;
    struct rt_obj *obj;
    int fd;
    uint32_t events;            /* as registered; 0 after a EPOLLONESHOT report */
    epoll_data_t data;
    struct rt_epitem *next_watch; /* the object's watcher list */
    struct rt_epitem *rnext;    /* the instance's ready list */
    bool ready;
};

struct rt_ep {
    struct rt_obj obj;
    struct rt_epitem **byfd;    /* RT_FD_LIMIT entries */
    struct rt_epitem *rhead, *rtail;
    int nitems, nready;
};

static int rt_pollers;          /* threads inside poll/select */
static int rt_poll_key;

/* ---- wake-ups ---- */

static void ep_mark(struct rt_epitem *e)
{
    struct rt_ep *ep = e->ep;
    bool was_empty = !ep->rhead;

    if (e->ready)
        return;
    e->ready = true;
    e->rnext = NULL;
    if (ep->rtail)
        ep->rtail->rnext = e;
    else
        ep->rhead = e;
    ep->rtail = e;
    ep->nready++;
    if (was_empty) /* else its waiters were woken already */
        rt_obj_notify(&ep->obj);
}

void rt_obj_notify(struct rt_obj *o)
{
    rt_sched_wake((uintptr_t)o, INT_MAX);
    for (struct rt_epitem *e = o->watchers; e; e = e->next_watch)
        ep_mark(e);
    if (rt_pollers)
        rt_sched_wake((uintptr_t)&rt_poll_key, INT_MAX);
}

int rt_obj_wait(struct rt_obj *o, uint64_t deadline_ns)
{
    if (plat_clock_monotonic_ns() >= deadline_ns)
        return -EAGAIN;
    o->waiters++;
    int r = rt_sched_block((uintptr_t)o, deadline_ns);
    bool gone = o->closed;
    if (--o->waiters == 0 && gone)
        o->ops->close(o);
    if (gone)
        return -EBADF;
    return r == -ETIMEDOUT ? -EAGAIN : r;
}

static uint64_t ms_deadline(int ms)
{
    return ms < 0 ? UINT64_MAX : plat_clock_monotonic_ns() + (uint64_t)ms * 1000000u;
}

static uint64_t ts_deadline(const struct timespec *ts)
{
    if (!ts)
        return UINT64_MAX;
    if (ts->tv_sec > (time_t)(UINT64_MAX / 2000000000u))
        return UINT64_MAX;
    return plat_clock_monotonic_ns() + (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static bool bad_ts(const struct timespec *ts)
{
    return ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L);
}

/* ---- poll and select ---- */

/* POLL* events of fd now: an object asks its operations, a file is
 * always ready; POLLNVAL when fd is not open. */
static short fd_events(int fd)
{
    struct rt_ofd *f = rt_fs_fd(fd);
    uint32_t ev;

    if (!f)
        return POLLNVAL;
    if (!f->node->obj)
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    ev = f->node->obj->ops->poll(f->node->obj);
    if (ev & EPOLLIN)
        ev |= POLLRDNORM;
    if (ev & EPOLLOUT)
        ev |= POLLWRNORM;
    return (short)ev;
}

static int poll_scan(struct pollfd *fds, nfds_t n)
{
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        fds[i].revents = fd_events(fds[i].fd) & (fds[i].events | POLLERR | POLLHUP | POLLNVAL);
        ready += fds[i].revents != 0;
    }
    return ready;
}

/* Waits until scan() finds something or the deadline; scan is
 * re-run after every wake-up. */
static int wait_any(int (*scan)(void *), void *arg, uint64_t deadline)
{
    for (;;) {
        int n = scan(arg);
        if (n)
            return n;
        if (plat_clock_monotonic_ns() >= deadline) {
            rt_net_poll(); /* a zero timeout still sees what has arrived */
            return scan(arg);
        }
        rt_pollers++;
        int r = rt_sched_block((uintptr_t)&rt_poll_key, deadline);
        rt_pollers--;
        if (r == -EINTR)
            return -EINTR;
    }
}

struct poll_args {
    struct pollfd *fds;
    nfds_t n;
};

static int poll_scan_cb(void *arg)
{
    struct poll_args *p = arg;
    return poll_scan(p->fds, p->n);
}

static long do_poll(struct pollfd *fds, nfds_t n, uint64_t deadline)
{
    struct poll_args p = {fds, n};

    if (n > RT_FD_LIMIT)
        return -EINVAL;
    rt_net_tick();
    return wait_any(poll_scan_cb, &p, deadline);
}

long rt_sys_poll(const long *a)
{
    return do_poll((struct pollfd *)a[0], (nfds_t)a[1], ms_deadline((int)a[2]));
}

long rt_sys_ppoll(const long *a)
{
    const struct timespec *ts = (const struct timespec *)a[2];

    if (bad_ts(ts))
        return -EINVAL;
    return do_poll((struct pollfd *)a[0], (nfds_t)a[1], ts_deadline(ts)); /* no signals: mask unused */
}

struct select_args {
    int n;
    fd_set *r, *w, *e;
    fd_set in_r, in_w, in_e;
};

static int select_scan(void *arg)
{
    struct select_args *s = arg;
    int ready = 0;

    for (int fd = 0; fd < s->n; fd++) {
        bool want_r = s->r && FD_ISSET(fd, &s->in_r), want_w = s->w && FD_ISSET(fd, &s->in_w);
        bool want_e = s->e && FD_ISSET(fd, &s->in_e);
        if (!want_r && !want_w && !want_e)
            continue;
        short ev = fd_events(fd);
        if (ev & POLLNVAL)
            return -EBADF;
        if (want_r && (ev & (POLLIN | POLLHUP | POLLERR)))
            ready++;
        if (want_w && (ev & (POLLOUT | POLLERR)))
            ready++;
        if (want_e && (ev & POLLPRI))
            ready++;
    }
    if (!ready)
        return 0;
    for (int fd = 0; fd < s->n; fd++) {
        short ev = fd_events(fd);
        if (s->r && FD_ISSET(fd, &s->in_r) && !(ev & (POLLIN | POLLHUP | POLLERR)))
            FD_CLR(fd, s->r);
        if (s->w && FD_ISSET(fd, &s->in_w) && !(ev & (POLLOUT | POLLERR)))
            FD_CLR(fd, s->w);
        if (s->e && FD_ISSET(fd, &s->in_e) && !(ev & POLLPRI))
            FD_CLR(fd, s->e);
    }
    return ready;
}

static long do_select(int n, fd_set *r, fd_set *w, fd_set *e, uint64_t deadline)
{
    struct select_args s = {.n = n, .r = r, .w = w, .e = e};

    if (n < 0 || n > FD_SETSIZE)
        return -EINVAL;
    rt_net_tick();
    if (r)
        s.in_r = *r;
    if (w)
        s.in_w = *w;
    if (e)
        s.in_e = *e;
    long res = wait_any(select_scan, &s, deadline);
    if (res == 0) {
        if (r)
            FD_ZERO(r);
        if (w)
            FD_ZERO(w);
        if (e)
            FD_ZERO(e);
    }
    return res;
}

long rt_sys_select(const long *a)
{
    const struct timeval *tv = (const struct timeval *)a[4];
    uint64_t deadline = UINT64_MAX;

    if (tv) {
        if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
            return -EINVAL;
        struct timespec ts = {tv->tv_sec, tv->tv_usec * 1000};
        deadline = ts_deadline(&ts);
    }
    return do_select((int)a[0], (fd_set *)a[1], (fd_set *)a[2], (fd_set *)a[3], deadline);
}

long rt_sys_pselect6(const long *a)
{
    const struct timespec *ts = (const struct timespec *)a[4];

    if (bad_ts(ts))
        return -EINVAL;
    return do_select((int)a[0], (fd_set *)a[1], (fd_set *)a[2], (fd_set *)a[3], ts_deadline(ts));
}

/* ---- epoll ---- */

static void watch_remove(struct rt_epitem *e)
{
    for (struct rt_epitem **pp = &e->obj->watchers; *pp; pp = &(*pp)->next_watch) {
        if (*pp == e) {
            *pp = e->next_watch;
            return;
        }
    }
}

static void ready_remove(struct rt_epitem *e)
{
    struct rt_ep *ep = e->ep;
    struct rt_epitem *prev = NULL;

    if (!e->ready)
        return;
    for (struct rt_epitem *i = ep->rhead; i; prev = i, i = i->rnext) {
        if (i == e) {
            if (prev)
                prev->rnext = e->rnext;
            else
                ep->rhead = e->rnext;
            if (ep->rtail == e)
                ep->rtail = prev;
            ep->nready--;
            break;
        }
    }
    e->ready = false;
}

static void item_free(struct rt_epitem *e)
{
    ready_remove(e);
    watch_remove(e);
    if (e->ep->byfd[e->fd] == e)
        e->ep->byfd[e->fd] = NULL;
    e->ep->nitems--;
    free(e);
}

void rt_obj_release(struct rt_obj *o)
{
    while (o->watchers)
        item_free(o->watchers);
    if (o->waiters) { /* they free it on their way out */
        o->closed = true;
        rt_sched_wake((uintptr_t)o, INT_MAX);
        return;
    }
    o->ops->close(o);
}

static uint32_t ep_poll(struct rt_obj *o)
{
    struct rt_ep *ep = (struct rt_ep *)o;
    /* Readable when an entry is on the ready list and still ready. */
    for (struct rt_epitem *e = ep->rhead; e; e = e->rnext)
        if (e->obj->ops->poll(e->obj) & (e->events | EPOLLERR | EPOLLHUP))
            return EPOLLIN;
    return 0;
}

static long ep_rw(struct rt_obj *o, const struct iovec *iov, int cnt, int writing, int flags)
{
    (void)o, (void)iov, (void)cnt, (void)writing, (void)flags;
    return -EINVAL;
}

static void ep_close(struct rt_obj *o)
{
    struct rt_ep *ep = (struct rt_ep *)o;

    for (int fd = 0; fd < RT_FD_LIMIT && ep->nitems; fd++)
        if (ep->byfd[fd])
            item_free(ep->byfd[fd]);
    free(ep->byfd);
    free(ep);
}

static const struct rt_obj_ops rt_ep_ops = {
    .rw = ep_rw, .poll = ep_poll, .close = ep_close, .mode = 0600,
};

static long ep_create(int flags)
{
    struct rt_ep *ep;
    int fd;

    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    rt_net_ready();
    if (!(ep = calloc(1, sizeof *ep)) || !(ep->byfd = calloc(RT_FD_LIMIT, sizeof *ep->byfd))) {
        free(ep);
        return -ENOMEM;
    }
    ep->obj.ops = &rt_ep_ops;
    if ((fd = rt_fd_obj_open(&ep->obj, O_RDWR | (flags & EPOLL_CLOEXEC ? O_CLOEXEC : 0))) < 0)
        ep_close(&ep->obj);
    return fd;
}

long rt_sys_epoll_create(const long *a)
{
    return a[0] <= 0 ? -EINVAL : ep_create(0);
}

long rt_sys_epoll_create1(const long *a)
{
    return ep_create((int)a[0]);
}

static int ep_get(int fd, struct rt_ep **ep)
{
    struct rt_obj *o;
    int r = rt_fd_obj(fd, &o, NULL);

    if (r < 0)
        return r == -ENOTSOCK ? -EINVAL : r;
    if (o->ops != &rt_ep_ops)
        return -EINVAL;
    *ep = (struct rt_ep *)o;
    return 0;
}

long rt_sys_epoll_ctl(const long *a)
{
    int epfd = (int)a[0], op = (int)a[1], fd = (int)a[2];
    const struct epoll_event *ev = (const struct epoll_event *)a[3];
    struct rt_ep *ep;
    struct rt_obj *o;
    struct rt_epitem *e;
    int r;

    if ((r = ep_get(epfd, &ep)) < 0)
        return r;
    if ((r = rt_fd_obj(fd, &o, NULL)) < 0)
        return r == -ENOTSOCK ? -EPERM : r; /* files are always ready: Linux refuses them */
    if (o == &ep->obj || o->ops == &rt_ep_ops)
        return -EINVAL; /* no nested epoll instances here */
    e = ep->byfd[fd];
    if (e && e->obj != o) { /* stale: the descriptor was reused */
        item_free(e);
        e = NULL;
    }
    switch (op) {
    case EPOLL_CTL_ADD:
        if (e)
            return -EEXIST;
        if (!ev)
            return -EFAULT;
        if (!(e = calloc(1, sizeof *e)))
            return -ENOMEM;
        e->ep = ep;
        e->obj = o;
        e->fd = fd;
        e->events = ev->events;
        e->data = ev->data;
        e->next_watch = o->watchers;
        o->watchers = e;
        ep->byfd[fd] = e;
        ep->nitems++;
        ep_mark(e); /* checked at the next epoll_wait */
        return 0;
    case EPOLL_CTL_MOD:
        if (!e)
            return -ENOENT;
        if (!ev)
            return -EFAULT;
        e->events = ev->events;
        e->data = ev->data;
        ep_mark(e);
        return 0;
    case EPOLL_CTL_DEL:
        if (!e)
            return -ENOENT;
        item_free(e);
        return 0;
    default:
        return -EINVAL;
    }
}

/* Reports ready entries into out[0..max): each entry on the ready list
 * is checked once; a level-triggered one that is reported goes back to
 * the tail, to be checked again next time (not in this call). */
static int ep_collect(struct rt_ep *ep, struct epoll_event *out, int max)
{
    int n = 0, budget = ep->nready;

    while (n < max && budget-- > 0 && ep->rhead) {
        struct rt_epitem *e = ep->rhead;
        ep->rhead = e->rnext;
        if (!ep->rhead)
            ep->rtail = NULL;
        ep->nready--;
        e->ready = false;
        uint32_t got = e->obj->ops->poll(e->obj) & (e->events | EPOLLERR | EPOLLHUP);
        if (!got || !(e->events & ~(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)))
            continue;
        out[n].events = got;
        out[n].data = e->data;
        n++;
        if (e->events & EPOLLONESHOT)
            e->events = 0;
        else if (!(e->events & EPOLLET))
            ep_mark(e);
    }
    return n;
}

static long do_epoll_wait(int epfd, struct epoll_event *out, int max, uint64_t deadline)
{
    struct rt_ep *ep;
    int r;

    if ((r = ep_get(epfd, &ep)) < 0)
        return r;
    if (max <= 0)
        return -EINVAL;
    rt_net_tick();
    for (;;) {
        int n = ep_collect(ep, out, max);
        if (n)
            return n;
        if (plat_clock_monotonic_ns() >= deadline) {
            rt_net_poll();
            return ep_collect(ep, out, max);
        }
        r = rt_obj_wait(&ep->obj, deadline);
        if (r == -EINTR || r == -EBADF)
            return r;
    }
}

long rt_sys_epoll_wait(const long *a)
{
    return do_epoll_wait((int)a[0], (struct epoll_event *)a[1], (int)a[2], ms_deadline((int)a[3]));
}

long rt_sys_epoll_pwait(const long *a)
{
    return rt_sys_epoll_wait(a); /* no signals: the mask changes nothing */
}

/* ---- eventfd ---- */

struct rt_evfd {
    struct rt_obj obj;
    uint64_t count;
    bool sem;
};

#define RT_EVFD_MAX 0xfffffffffffffffeull

static long evfd_rw(struct rt_obj *o, const struct iovec *iov, int cnt, int writing, int flags)
{
    struct rt_evfd *e = (struct rt_evfd *)o;
    uint64_t v;

    if (cnt < 1 || iov[0].iov_len < sizeof v)
        return -EINVAL;
    if (writing) {
        memcpy(&v, iov[0].iov_base, sizeof v);
        if (v == UINT64_MAX)
            return -EINVAL;
        while (RT_EVFD_MAX - e->count < v) {
            if (flags & O_NONBLOCK)
                return -EAGAIN;
            int r = rt_obj_wait(o, UINT64_MAX);
            if (r == -EINTR || r == -EBADF)
                return r;
        }
        e->count += v;
    } else {
        while (e->count == 0) {
            if (flags & O_NONBLOCK)
                return -EAGAIN;
            int r = rt_obj_wait(o, UINT64_MAX);
            if (r == -EINTR || r == -EBADF)
                return r;
        }
        v = e->sem ? 1 : e->count;
        e->count -= v;
        memcpy(iov[0].iov_base, &v, sizeof v);
    }
    rt_obj_notify(o);
    return sizeof v;
}

static uint32_t evfd_poll(struct rt_obj *o)
{
    struct rt_evfd *e = (struct rt_evfd *)o;
    return (e->count ? EPOLLIN : 0) | (e->count < RT_EVFD_MAX ? EPOLLOUT : 0);
}

static void evfd_close(struct rt_obj *o)
{
    free(o);
}

static const struct rt_obj_ops rt_evfd_ops = {
    .rw = evfd_rw, .poll = evfd_poll, .close = evfd_close, .mode = 0600,
};

static long evfd_create(unsigned initval, int flags)
{
    struct rt_evfd *e;
    int fd;

    if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return -EINVAL;
    rt_net_ready();
    if (!(e = calloc(1, sizeof *e)))
        return -ENOMEM;
    e->obj.ops = &rt_evfd_ops;
    e->count = initval;
    e->sem = flags & EFD_SEMAPHORE;
    fd = rt_fd_obj_open(&e->obj, O_RDWR | (flags & EFD_NONBLOCK ? O_NONBLOCK : 0) |
                                     (flags & EFD_CLOEXEC ? O_CLOEXEC : 0));
    if (fd < 0)
        free(e);
    return fd;
}

long rt_sys_eventfd(const long *a)
{
    return evfd_create((unsigned)a[0], 0);
}

long rt_sys_eventfd2(const long *a)
{
    return evfd_create((unsigned)a[0], (int)a[1]);
}
