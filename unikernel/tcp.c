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

#include "unikernel/log.h"
#include "unikernel/process.h"

#define TCP_FRAME_MAX (2 + 65535)
#define TCP_OUT_MAX (64 * 1024)  /* stop reading a client past this much unsent output */
#define TCP_IN_INIT 512
#define TCP_SWEEP_MS 50
#define TCP_EVENTS 64

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
    uint32_t events;          /* epoll mask registered */
    bool eof;                 /* the client closed its side */
} tcp_conn_t;

typedef struct tcp_listener {
    int kind;                 /* EV_LISTEN */
    int fd;
} tcp_listener_t;

struct srv_tcp {
    const srv_config_t *cfg;
    srv_zones_t *zones;
    unsigned slot;
    int ep, wake_fd;
    int wake_kind;            /* EV_WAKE: the tag of wake_fd */
    tcp_listener_t lis[SRV_LISTEN_MAX];
    size_t nlis;
    tcp_conn_t **conns;       /* cfg->tcp_max_conns slots */
    size_t nconns;
    uint8_t *scratch;         /* one reply, TCP_FRAME_MAX */
    uint64_t last_sweep;
    pthread_t thread;
    bool started;
    atomic_bool stop;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

srv_tcp_t *srv_tcp_new(const srv_config_t *cfg, srv_zones_t *zones, unsigned slot)
{
    srv_tcp_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = cfg;
    t->zones = zones;
    t->slot = slot;
    t->wake_kind = EV_WAKE;
    t->ep = epoll_create1(EPOLL_CLOEXEC);
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    t->conns = calloc(cfg->tcp_max_conns, sizeof *t->conns);
    t->scratch = malloc(TCP_FRAME_MAX);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->wake_kind};
    if (t->ep < 0 || t->wake_fd < 0 || !t->conns || !t->scratch ||
        epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake_fd, &ev)) {
        srv_tcp_free(t);
        return NULL;
    }
    atomic_init(&t->stop, false);
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

static void conn_close(srv_tcp_t *t, tcp_conn_t *c)
{
    close(c->fd);   /* also removes it from the epoll set */
    t->conns[c->idx] = t->conns[--t->nconns];
    t->conns[c->idx]->idx = c->idx;
    free(c->in);
    free(c->out);
    free(c);
}

static size_t conns_from(const srv_tcp_t *t, const srv_client_t *cl)
{
    size_t n = 0, alen = cl->family == 4 ? 4 : 16;
    for (size_t i = 0; i < t->nconns; i++) {
        const srv_client_t *o = &t->conns[i]->client;
        n += o->family == cl->family && memcmp(o->addr, cl->addr, alen) == 0;
    }
    return n;
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
    if (t->nconns >= t->cfg->tcp_max_conns || conns_from(t, &cl) >= t->cfg->tcp_max_per_ip) {
        close(fd);
        return 0;
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
    c->client = cl;
    c->peer = peer;
    c->in_cap = TCP_IN_INIT;
    c->last_ms = now;
    c->events = EPOLLIN;
    c->idx = t->nconns;
    t->conns[t->nconns++] = c;
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

/* Answers every complete query in the input (RFC 7766 §6.2.1.1
 * pipelining), in order, until the output bound. Returns 0, or -1 to
 * close (an empty frame, or no memory). */
static int conn_process(srv_tcp_t *t, tcp_conn_t *c, const zone_set_t *set, uint64_t now)
{
    size_t off = 0;
    int rc = 0;
    while (c->out_len - c->out_pos < TCP_OUT_MAX && frame_ready(c, off)) {
        size_t qlen = (size_t)(c->in[off] << 8 | c->in[off + 1]);
        const uint8_t *q = c->in + off + 2;
        if (qlen == 0) {
            rc = -1;
            break;
        }
        if (t->cfg->log_queries)
            srv_log_query((const struct sockaddr *)&c->peer, 1, q, qlen);
        srv_ctx_t ctx = { .zones = set, .cfg = &t->cfg->msg };
        srv_out_t o = { .buf = t->scratch, .cap = 65535 };
        srv_result_t res = srv_process(&ctx, q, qlen, &c->client, (uint64_t)time(NULL), &o);
        off += 2 + qlen;
        c->last_ms = now;
        if (res != SRV_REPLY)
            continue;
        size_t rlen = o.len;
        if (out_reserve(c, 2 + rlen)) {
            rc = -1;
            break;
        }
        c->out[c->out_len] = (uint8_t)(rlen >> 8);
        c->out[c->out_len + 1] = (uint8_t)rlen;
        memcpy(c->out + c->out_len + 2, t->scratch, rlen);
        c->out_len += 2 + rlen;
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
static int conn_flush(tcp_conn_t *c, uint64_t now)
{
    while (c->out_pos < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_pos += (size_t)w;
            c->last_ms = now;
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
    /* Writable also wakes us for queries left waiting in the input. */
    if (pending || frame_ready(c, 0))
        want |= EPOLLOUT;
    if (want == c->events)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    c->events = want;
    return epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_event(srv_tcp_t *t, tcp_conn_t *c, uint32_t ev, const zone_set_t *set,
                       uint64_t now)
{
    if ((ev & EPOLLERR) || ((ev & EPOLLIN) && conn_read(c))) {
        conn_close(t, c);
        return;
    }
    /* A bounded number of rounds keeps one busy client from starving the
     * others; what is left is picked up on the next EPOLLOUT. */
    for (int round = 0; round < 4; round++) {
        if (conn_process(t, c, set, now) || conn_flush(c, now)) {
            conn_close(t, c);
            return;
        }
        if (c->out_len > 0 || !frame_ready(c, 0))
            break;
    }
    if (((ev & EPOLLHUP) || c->eof) && c->out_len == 0 && !frame_ready(c, 0)) {
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

/* RFC 7766 §6.2.3: close connections idle longer than the timeout. */
static void conns_sweep(srv_tcp_t *t, uint64_t now)
{
    if (now - t->last_sweep < TCP_SWEEP_MS)
        return;
    t->last_sweep = now;
    for (size_t i = t->nconns; i-- > 0;) {
        tcp_conn_t *c = t->conns[i];
        if (now - c->last_ms >= t->cfg->tcp_idle_ms)
            conn_close(t, c);
    }
}

static void *tcp_main(void *arg)
{
    srv_tcp_t *t = arg;
    struct epoll_event evs[TCP_EVENTS];
    while (!atomic_load(&t->stop)) {
        int n = epoll_wait(t->ep, evs, TCP_EVENTS, t->nconns ? TCP_SWEEP_MS : -1);
        uint64_t now = now_ms();
        const zone_set_t *set = srv_zones_enter(t->zones, t->slot);
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == EV_LISTEN) {
                const tcp_listener_t *l = evs[i].data.ptr;
                for (int k = 0; k < TCP_EVENTS && conn_accept(t, l->fd, now) == 0; k++)
                    ;
            } else if (kind == EV_CONN) {
                conn_event(t, evs[i].data.ptr, evs[i].events, set, now);
            }
        }
        srv_zones_leave(t->zones, t->slot);
        conns_sweep(t, now);
    }
    return NULL;
}

int srv_tcp_start(srv_tcp_t *t)
{
    int rc = pthread_create(&t->thread, NULL, tcp_main, t);
    t->started = rc == 0;
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
    free(t->conns);
    free(t->scratch);
    free(t);
}
