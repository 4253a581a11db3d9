#include "unikernel/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "unikernel/clock.h"
#include "unikernel/log.h"
#include "unikernel/process.h"

#define TCP_FRAME_MAX (2 + 65535)
#define TCP_OUT_MAX (64 * 1024)  /* stop reading a client past this much unsent output */
#define TCP_IN_INIT 512
#define TCP_SWEEP_MS 50
#define TCP_EVENTS 64
#define TCP_PRESSURE_IDLE_MS 1000  /* the idle timeout while connections run short */
#define TCP_EVICT_SCAN 64          /* connections looked at to find one to close */

enum { EV_LISTEN, EV_CONN, EV_WAKE };

typedef struct tcp_conn {
    int kind;                 /* EV_CONN; first, as in every epoll tag */
    int fd;
    size_t idx;               /* position in srv_tcp.conns */
    srv_client_t client;
    struct sockaddr_storage peer;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_pos, out_len, out_cap;
    uint64_t last_ms;         /* last complete query or write progress */
    struct tcp_conn *older, *newer; /* the activity list: oldest first */
    uint64_t id;              /* deferred replies find their connection by it */
    srv_stream_t *stream;     /* a transfer in progress: later queries wait */
    unsigned deferred;        /* replies the change path still owes */
    uint32_t events;          /* epoll mask registered */
    bool eof;                 /* the client closed its side */
} tcp_conn_t;

/* A reply the change path delivered for a connection (srv_route_t). */
typedef struct tcp_done {
    struct tcp_done *next;
    uint64_t conn;
    size_t len;
    uint8_t msg[];
} tcp_done_t;

/* Open connections per client address: open addressing over
 * 2 * tcp_max_conns slots, so a count costs one probe, not a scan. */
typedef struct addr_slot {
    uint8_t family;           /* 0: empty */
    uint8_t addr[16];
    uint32_t count;
} addr_slot_t;

typedef struct tcp_listener {
    int kind;                 /* EV_LISTEN */
    int fd;
} tcp_listener_t;

struct srv_tcp {
    const srv_config_t *cfg;
    srv_publish_t *pub;
    const srv_changes_t *changes;
    unsigned slot;
    int ep, wake_fd;
    int wake_kind;            /* EV_WAKE: the tag of wake_fd */
    tcp_listener_t lis[SRV_LISTEN_MAX];
    size_t nlis;
    tcp_conn_t **conns;       /* cfg->tcp_max_conns slots */
    size_t nconns;
    tcp_conn_t *oldest, *newest; /* the activity list */
    addr_slot_t *addrs;       /* per-address counts */
    size_t addr_mask;         /* number of slots - 1 */
    uint8_t *scratch;         /* one reply, TCP_FRAME_MAX */
    uint64_t next_id;
    pthread_mutex_t done_lock;
    tcp_done_t *done;         /* delivered replies, newest first, under done_lock */
    uint64_t last_sweep;
    pthread_t thread;
    bool started, mutex_ready;
    atomic_bool stop;
};

srv_tcp_t *srv_tcp_new(const srv_config_t *cfg, srv_publish_t *pub, const srv_changes_t *changes,
                       unsigned slot)
{
    srv_tcp_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = cfg;
    t->pub = pub;
    t->changes = changes;
    t->slot = slot;
    t->wake_kind = EV_WAKE;
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    t->conns = calloc(cfg->tcp_max_conns, sizeof *t->conns);
    size_t slots = 16;
    while (slots < 2 * (size_t)cfg->tcp_max_conns)
        slots *= 2;
    t->addrs = calloc(slots, sizeof *t->addrs);
    t->addr_mask = slots - 1;
    t->scratch = malloc(TCP_FRAME_MAX);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->wake_kind};
    if (t->ep < 0 || t->wake_fd < 0 || !t->conns || !t->addrs || !t->scratch ||
        epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake_fd, &ev)) {
        srv_tcp_free(t);
        return NULL;
    }
    atomic_init(&t->stop, false);
    pthread_mutex_init(&t->done_lock, NULL);
    t->mutex_ready = true;
    return t;
}

int srv_tcp_listen(srv_tcp_t *t, const struct sockaddr *sa, socklen_t len)
{
    int one = 1, fd;
    if (t->nlis == SRV_LISTEN_MAX)
        return -EINVAL;
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    tcp_listener_t *l = &t->lis[t->nlis];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
        bind(fd, sa, len) || listen(fd, 128) || epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev)) {
        int err = errno;
        close(fd);
        return -err;
    }
    l->kind = EV_LISTEN;
    l->fd = fd;
    t->nlis++;
    return 0;
}

/* The slot of address (family, addr), or the empty slot where it goes. */
static addr_slot_t *addr_find(const srv_tcp_t *t, const srv_client_t *cl)
{
    size_t alen = cl->family == 4 ? 4 : 16;
    uint64_t h = 1469598103934665603ull ^ (uint64_t)cl->family;
    for (size_t i = 0; i < alen; i++)
        h = (h ^ cl->addr[i]) * 1099511628211ull;
    for (size_t i = (size_t)(h ^ h >> 29) & t->addr_mask;; i = (i + 1) & t->addr_mask) {
        addr_slot_t *s = &t->addrs[i];
        if (!s->family || (s->family == cl->family && memcmp(s->addr, cl->addr, alen) == 0))
            return s;
    }
}

/* One connection less from cl's address; an emptied slot is removed by
 * shifting later entries of its probe run back (no tombstones). */
static void addr_release(srv_tcp_t *t, const srv_client_t *cl)
{
    addr_slot_t *s = addr_find(t, cl);
    if (!s->family || --s->count > 0)
        return;
    size_t j = (size_t)(s - t->addrs);
    s->family = 0;
    for (;;) {
        j = (j + 1) & t->addr_mask;
        addr_slot_t *n = &t->addrs[j];
        if (!n->family)
            return;
        srv_client_t k = { .family = n->family };
        memcpy(k.addr, n->addr, sizeof k.addr);
        addr_slot_t tmp = *n;
        n->family = 0;
        addr_slot_t *home = addr_find(t, &k);
        *home = tmp;
    }
}

/* The activity list: connections by last activity, oldest first. */
static void lru_unlink(srv_tcp_t *t, tcp_conn_t *c)
{
    if (c->older)
        c->older->newer = c->newer;
    else
        t->oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else
        t->newest = c->older;
    c->older = c->newer = NULL;
}

static void lru_touch(srv_tcp_t *t, tcp_conn_t *c, uint64_t now)
{
    c->last_ms = now;
    if (t->newest == c)
        return;
    if (c->older || c->newer || t->oldest == c)
        lru_unlink(t, c);
    c->older = t->newest;
    if (t->newest)
        t->newest->newer = c;
    else
        t->oldest = c;
    t->newest = c;
}

static void conn_close(srv_tcp_t *t, tcp_conn_t *c)
{
    close(c->fd);   /* also removes it from the epoll set */
    lru_unlink(t, c);
    addr_release(t, &c->client);
    t->conns[c->idx] = t->conns[--t->nconns];
    t->conns[c->idx]->idx = c->idx;
    srv_stream_free(c->stream);
    free(c->in);
    free(c->out);
    free(c);
}

/* RFC 7766 §6.2.3, §10: under pressure (three quarters of the
 * connections in use) idle connections are given a shorter timeout. */
static uint64_t idle_limit_ms(const srv_tcp_t *t)
{
    uint64_t idle = t->cfg->tcp_idle_ms;
    if (t->nconns * 4 >= (size_t)t->cfg->tcp_max_conns * 3 && idle > TCP_PRESSURE_IDLE_MS)
        idle = TCP_PRESSURE_IDLE_MS;
    return idle;
}

static void client_from(const struct sockaddr_storage *ss, srv_client_t *c)
{
    memset(c, 0, sizeof *c);
    c->tcp = true;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        c->family = 4;
        memcpy(c->addr, &a->sin_addr, 4);
        c->port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        c->family = 6;
        memcpy(c->addr, &a->sin6_addr, 16);
        c->port = ntohs(a->sin6_port);
    }
}

/* Accepts one connection, or closes it at once when over a limit. */
static int conn_accept(srv_tcp_t *t, int lfd, uint64_t now)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    srv_client_t cl;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    client_from(&peer, &cl);
    addr_slot_t *as = addr_find(t, &cl);
    if (as->family && as->count >= t->cfg->tcp_max_per_ip) {
        close(fd);
        return 0;
    }
    /* RFC 7766 §10: when every connection is in use, the one silent for
     * longest makes room, so a flood of idle connections cannot lock
     * new clients out. */
    if (t->nconns >= t->cfg->tcp_max_conns) {
        tcp_conn_t *old = t->oldest;
        /* Not one waiting for an UPDATE's answer or in a transfer. */
        for (int k = 0; old && (old->deferred || old->stream) && k < TCP_EVICT_SCAN; k++)
            old = old->newer;
        if (!old || old->deferred || old->stream) {
            close(fd);
            return 0;
        }
        conn_close(t, old);
        as = addr_find(t, &cl); /* the close may have moved the slot */
    }
    tcp_conn_t *c = calloc(1, sizeof *c);
    if (c)
        c->in = malloc(TCP_IN_INIT);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (!c || !c->in || epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev)) {
        if (c)
            free(c->in);
        free(c);
        close(fd);
        return 0;
    }
    c->kind = EV_CONN;
    c->fd = fd;
    c->id = ++t->next_id;
    c->client = cl;
    c->peer = peer;
    c->in_cap = TCP_IN_INIT;
    c->events = EPOLLIN;
    c->idx = t->nconns;
    t->conns[t->nconns++] = c;
    lru_touch(t, c, now);
    if (!as->family) {
        as->family = (uint8_t)cl.family;
        memcpy(as->addr, cl.addr, sizeof as->addr);
        as->count = 0;
    }
    as->count++;
    return 0;
}

/* Room for n more output bytes. Returns 0 or -1 (ENOMEM). */
static int out_reserve(tcp_conn_t *c, size_t n)
{
    if (c->out_pos > 0) {
        memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
        c->out_len -= c->out_pos;
        c->out_pos = 0;
    }
    if (c->out_len + n <= c->out_cap)
        return 0;
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + n)
        cap *= 2;
    uint8_t *p = realloc(c->out, cap);
    if (!p)
        return -1;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

static bool frame_ready(const tcp_conn_t *c, size_t off)
{
    return c->in_len - off >= 2 &&
           c->in_len - off - 2 >= (size_t)(c->in[off] << 8 | c->in[off + 1]);
}

/* Appends one framed message (RFC 1035 §4.2.2). Returns 0 or -1. */
static int out_frame(tcp_conn_t *c, const uint8_t *msg, size_t len)
{
    if (out_reserve(c, 2 + len))
        return -1;
    c->out[c->out_len] = (uint8_t)(len >> 8);
    c->out[c->out_len + 1] = (uint8_t)len;
    memcpy(c->out + c->out_len + 2, msg, len);
    c->out_len += 2 + len;
    return 0;
}

/* Continues a transfer while there is output room. Returns 0 or -1. */
static int conn_stream(srv_tcp_t *t, tcp_conn_t *c, uint64_t now)
{
    while (c->stream && c->out_len - c->out_pos < TCP_OUT_MAX) {
        size_t len = srv_stream_next(c->stream, t->scratch, 65535);
        if (len == 0) {
            srv_stream_free(c->stream);
            c->stream = NULL;
            break;
        }
        if (out_frame(c, t->scratch, len))
            return -1;
        lru_touch(t, c, now);
    }
    return 0;
}

/* A reply the change path delivered (runs on the change path's thread):
 * queued for the event loop, which is woken. */
static void tcp_deliver(void *transport, const srv_route_t *route, const uint8_t *msg, size_t len)
{
    srv_tcp_t *t = transport;
    tcp_done_t *d = malloc(sizeof *d + len);
    if (d) {
        d->conn = route->conn;
        d->len = len;
        memcpy(d->msg, msg, len);
        pthread_mutex_lock(&t->done_lock);
        d->next = t->done;
        t->done = d;
        pthread_mutex_unlock(&t->done_lock);
    }
    uint64_t one = 1;
    ssize_t w = write(t->wake_fd, &one, sizeof one);
    (void)w;
}

/* Answers every complete query in the input (RFC 7766 §6.2.1.1
 * pipelining), in order, until the output bound or a transfer, which
 * runs to its end before the next query is read. Returns 0, or -1 to
 * close (an empty frame, or no memory). */
static int conn_process(srv_tcp_t *t, tcp_conn_t *c, const srv_snapshot_t *snap, uint64_t now)
{
    size_t off = 0;
    int rc = conn_stream(t, c, now);
    srv_route_t route = {.deliver = tcp_deliver, .transport = t, .conn = c->id};
    srv_ctx_t ctx = {.zones = snap->zones, .keys = snap->keys, .cfg = &t->cfg->msg,
                     .route = &route, .changes = t->changes};
    while (!rc && !c->stream && c->out_len - c->out_pos < TCP_OUT_MAX && frame_ready(c, off)) {
        size_t qlen = (size_t)(c->in[off] << 8 | c->in[off + 1]);
        const uint8_t *q = c->in + off + 2;
        if (qlen == 0) {
            rc = -1;
            break;
        }
        if (t->cfg->log_queries)
            srv_log_query((const struct sockaddr *)&c->peer, 1, q, qlen);
        srv_out_t o = {.buf = t->scratch, .cap = 65535};
        srv_result_t res = srv_process(&ctx, q, qlen, &c->client, (uint64_t)time(NULL), &o);
        off += 2 + qlen;
        lru_touch(t, c, now);
        if (res == SRV_DEFER)
            c->deferred++;
        if (res == SRV_STREAM)
            c->stream = o.stream;
        if (res == SRV_REPLY && out_frame(c, t->scratch, o.len))
            rc = -1;
        if (!rc && c->stream)
            rc = conn_stream(t, c, now);
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return rc;
}

/* Reads once (level-triggered: the loop comes back if there is more).
 * Returns 0, or -1 on a socket error. */
static int conn_read(tcp_conn_t *c)
{
    if (c->in_len == c->in_cap) {
        if (c->in_cap >= TCP_FRAME_MAX)
            return 0;   /* a full frame is waiting for output room */
        size_t cap = c->in_cap * 2 < TCP_FRAME_MAX ? c->in_cap * 2 : TCP_FRAME_MAX;
        uint8_t *p = realloc(c->in, cap);
        if (!p)
            return -1;
        c->in = p;
        c->in_cap = cap;
    }
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r > 0)
        c->in_len += (size_t)r;
    else if (r == 0)
        c->eof = true;
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return -1;
    return 0;
}

/* Writes what the socket takes. Returns 0, or -1 on a socket error. */
static int conn_flush(srv_tcp_t *t, tcp_conn_t *c, uint64_t now)
{
    while (c->out_pos < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_pos += (size_t)w;
            lru_touch(t, c, now);
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
    c->out_pos = c->out_len = 0;
    return 0;
}

static int conn_update_events(srv_tcp_t *t, tcp_conn_t *c)
{
    size_t pending = c->out_len - c->out_pos;
    uint32_t want = 0;
    if (!c->eof && pending < TCP_OUT_MAX)
        want |= EPOLLIN;
    /* Writable also wakes us for queries left waiting in the input and
     * for the rest of a transfer. */
    if (pending || frame_ready(c, 0) || c->stream)
        want |= EPOLLOUT;
    if (want == c->events)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    c->events = want;
    return epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_event(srv_tcp_t *t, tcp_conn_t *c, uint32_t ev, const srv_snapshot_t *set,
                       uint64_t now)
{
    if ((ev & EPOLLERR) || ((ev & EPOLLIN) && conn_read(c))) {
        conn_close(t, c);
        return;
    }
    /* A bounded number of rounds keeps one busy client from starving the
     * others; what is left is picked up on the next EPOLLOUT. */
    for (int round = 0; round < 4; round++) {
        if (conn_process(t, c, set, now) || conn_flush(t, c, now)) {
            conn_close(t, c);
            return;
        }
        if (c->out_len > 0 || (!frame_ready(c, 0) && !c->stream))
            break;
    }
    bool owed = c->deferred || c->stream || frame_ready(c, 0);
    if (((ev & EPOLLHUP) || c->eof) && c->out_len == 0 && !owed) {
        conn_close(t, c);
        return;
    }
    if ((ev & EPOLLHUP) && c->out_len > 0) {
        conn_close(t, c);   /* nobody left to read the answers */
        return;
    }
    if (conn_update_events(t, c))
        conn_close(t, c);
}

/* RFC 7766 §6.2.3: close connections idle longer than the timeout
 * (shorter under pressure), oldest first: the activity list is in
 * order, so the sweep stops at the first that is not. */
static void conns_sweep(srv_tcp_t *t, uint64_t now)
{
    if (now - t->last_sweep < TCP_SWEEP_MS)
        return;
    t->last_sweep = now;
    uint64_t idle = idle_limit_ms(t);
    for (size_t k = 0; t->oldest && now - t->oldest->last_ms >= idle && k < t->nconns; k++) {
        tcp_conn_t *c = t->oldest;
        if (c->deferred || c->stream)
            lru_touch(t, c, now);   /* waiting for the change path, not idle */
        else
            conn_close(t, c);
    }
}

/* Hands the replies the change path delivered to their connections
 * (gone ones drop theirs). */
static void take_delivered(srv_tcp_t *t, uint64_t now)
{
    pthread_mutex_lock(&t->done_lock);
    tcp_done_t *d = t->done;
    t->done = NULL;
    pthread_mutex_unlock(&t->done_lock);
    while (d) {
        tcp_done_t *next = d->next;
        for (size_t i = 0; i < t->nconns; i++) {
            tcp_conn_t *c = t->conns[i];
            if (c->id != d->conn)
                continue;
            c->deferred -= c->deferred > 0;
            lru_touch(t, c, now);
            if ((d->len && out_frame(c, d->msg, d->len)) || conn_flush(t, c, now) ||
                conn_update_events(t, c))
                conn_close(t, c);
            break;
        }
        free(d);
        d = next;
    }
}

static void *tcp_main(void *arg)
{
    srv_tcp_t *t = arg;
    struct epoll_event evs[TCP_EVENTS];
    while (!atomic_load(&t->stop)) {
        int n = epoll_wait(t->ep, evs, TCP_EVENTS, t->nconns ? TCP_SWEEP_MS : -1);
        uint64_t now = srv_mono_ms();
        const srv_snapshot_t *set = srv_publish_enter(t->pub, t->slot);
        const tcp_listener_t *ready[TCP_EVENTS];
        int nready = 0;
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == EV_LISTEN) {
                ready[nready++] = evs[i].data.ptr;
            } else if (kind == EV_CONN) {
                conn_event(t, evs[i].data.ptr, evs[i].events, set, now);
            } else if (kind == EV_WAKE) {
                uint64_t v;
                ssize_t r = read(t->wake_fd, &v, sizeof v);
                (void)r;
            }
        }
        srv_publish_leave(t->pub, t->slot);
        /* Accepts come after the batch's connection events: making room
         * may close a connection that has an event in this batch. */
        for (int i = 0; i < nready; i++)
            for (int k = 0; k < TCP_EVENTS && conn_accept(t, ready[i]->fd, now) == 0; k++)
                ;
        take_delivered(t, now);
        conns_sweep(t, now);
    }
    return NULL;
}

int srv_tcp_start(srv_tcp_t *t)
{
    int rc = pthread_create(&t->thread, NULL, tcp_main, t);
    t->started = rc == 0;
    if (t->started)
        (void)pthread_setname_np(t->thread, "zl-tcp");   /* as the UDP workers' */
    return rc;
}

void srv_tcp_stop(srv_tcp_t *t)
{
    uint64_t one = 1;
    if (!t->started)
        return;
    atomic_store(&t->stop, true);
    ssize_t w = write(t->wake_fd, &one, sizeof one);
    (void)w;
    pthread_join(t->thread, NULL);
    t->started = false;
}

void srv_tcp_free(srv_tcp_t *t)
{
    if (!t)
        return;
    while (t->nconns > 0)
        conn_close(t, t->conns[t->nconns - 1]);
    for (size_t i = 0; i < t->nlis; i++)
        close(t->lis[i].fd);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    if (t->ep >= 0)
        close(t->ep);
    while (t->done) {
        tcp_done_t *d = t->done;
        t->done = d->next;
        free(d);
    }
    if (t->mutex_ready)
        pthread_mutex_destroy(&t->done_lock);
    free(t->conns);
    free(t->addrs);
    free(t->scratch);
    free(t);
}
