#include "unikernel/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "unikernel/log.h"
#include "unikernel/process.h"

#define SRV_UDP_COALESCE_BELOW 8   /* batches this small wait for company */

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
typedef union udp_ctl {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
} udp_ctl_t;

struct srv_udp {
    int fd;
    bool pktinfo;       /* wildcard bind: answer from the address asked */
    unsigned slot;
    srv_publish_t *pub;
    const srv_changes_t *changes;
    const srv_config_t *cfg;
    const atomic_bool *stop;
    pthread_t thread;
    bool started;
    size_t reply_cap;
    struct mmsghdr rx[SRV_UDP_BATCH], tx[SRV_UDP_BATCH];
    struct iovec rx_iov[SRV_UDP_BATCH], tx_iov[SRV_UDP_BATCH];
    struct sockaddr_storage peer[SRV_UDP_BATCH];
    udp_ctl_t rx_ctl[SRV_UDP_BATCH], tx_ctl[SRV_UDP_BATCH];
    uint8_t *rx_buf;    /* SRV_UDP_BATCH * SRV_UDP_RXMAX */
    uint8_t *tx_buf;    /* SRV_UDP_BATCH * reply_cap */
};

/* RFC 9715 §3.1: DF on IPv4, no fragmentation on IPv6. IPv4 replies
 * with DF also skip the kernel's IP ID generation on the hot path. */
static int set_dontfrag(int fd, int family)
{
    int probe = IP_PMTUDISC_PROBE, one = 1;
    if (family == AF_INET)
        return setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
    return setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
}

int srv_udp_open(const struct sockaddr *sa, socklen_t len, bool dontfrag)
{
    int one = 1, fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* A periodic wake-up so a worker notices the stop flag even where
     * shutdown() does not interrupt a blocked receive. */
    struct timeval tv = {0, 250000};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
        (dontfrag && set_dontfrag(fd, sa->sa_family)) ||
        bind(fd, sa, len)) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* On a wildcard address (0.0.0.0, ::) a host with several addresses
 * must answer from the address the query was sent to, or the client
 * drops the reply: ask the kernel for the destination of each datagram
 * (IP_PKTINFO / IPV6_RECVPKTINFO) and send the reply from it. */
static bool want_pktinfo(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int one = 1;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        return a->sin_addr.s_addr == htonl(INADDR_ANY) &&
               setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0;
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
    return ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) &&
           setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0;
}

static void set_cmsg(struct msghdr *m, udp_ctl_t *ctl, int level, int type,
                     const void *data, size_t len)
{
    m->msg_control = ctl->buf;
    m->msg_controllen = CMSG_SPACE(len);
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
}

/* Copies the query's destination address into the reply's source. */
static void reply_from(struct msghdr *rx, struct msghdr *tx, udp_ctl_t *ctl)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(rx); c; c = CMSG_NXTHDR(rx, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            pi.ipi_spec_dst = pi.ipi_addr;
            pi.ipi_ifindex = 0;
            set_cmsg(tx, ctl, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
            return;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            set_cmsg(tx, ctl, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
            return;
        }
    }
}

/* Resets the first n receive headers (the kernel wrote their lengths). */
static void rx_arm(srv_udp_t *u, int n)
{
    for (int i = 0; i < n; i++) {
        struct msghdr *h = &u->rx[i].msg_hdr;
        h->msg_name = &u->peer[i];
        h->msg_namelen = sizeof u->peer[i];
        h->msg_iov = &u->rx_iov[i];
        h->msg_iovlen = 1;
        h->msg_control = u->pktinfo ? u->rx_ctl[i].buf : NULL;
        h->msg_controllen = u->pktinfo ? sizeof u->rx_ctl[i].buf : 0;
        h->msg_flags = 0;
    }
}

srv_udp_t *srv_udp_new(int fd, unsigned slot, srv_publish_t *pub, const srv_changes_t *changes,
                       const srv_config_t *cfg,
                       const atomic_bool *stop)
{
    srv_udp_t *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->reply_cap = cfg->msg.udp_max < 512 ? 512 : cfg->msg.udp_max;
    u->rx_buf = malloc((size_t)SRV_UDP_BATCH * SRV_UDP_RXMAX);
    u->tx_buf = malloc((size_t)SRV_UDP_BATCH * u->reply_cap);
    if (!u->rx_buf || !u->tx_buf) {
        free(u->rx_buf);
        free(u->tx_buf);
        free(u);
        return NULL;
    }
    u->fd = fd;
    u->pktinfo = want_pktinfo(fd);
    u->slot = slot;
    u->pub = pub;
    u->changes = changes;
    u->cfg = cfg;
    u->stop = stop;
    for (int i = 0; i < SRV_UDP_BATCH; i++) {
        u->rx_iov[i].iov_base = u->rx_buf + (size_t)i * SRV_UDP_RXMAX;
        u->rx_iov[i].iov_len = SRV_UDP_RXMAX;
    }
    rx_arm(u, SRV_UDP_BATCH);
    return u;
}

static void client_from(const struct sockaddr_storage *ss, srv_client_t *c)
{
    memset(c, 0, sizeof *c);
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


/* A reply that came later (srv_route_t): sent from the caller's thread
 * (the change path), from the address the request was sent to. */
static void udp_deliver(void *transport, const srv_route_t *route, const uint8_t *msg,
                        size_t len)
{
    srv_udp_t *u = transport;
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
    struct msghdr rx = {.msg_control = (void *)route->ctl, .msg_controllen = route->ctl_len};
    struct msghdr tx = {.msg_name = (void *)route->peer, .msg_namelen = route->peer_len,
                        .msg_iov = &iov, .msg_iovlen = 1};
    udp_ctl_t ctl;
    if (!len || !route->peer)
        return;
    if (route->ctl_len)
        reply_from(&rx, &tx, &ctl);
    (void)sendmsg(u->fd, &tx, 0);
}

/* Answers the n received datagrams; returns how many replies to send. */
static int answer_batch(srv_udp_t *u, const srv_snapshot_t *snap, int n)
{
    srv_client_t client;
    srv_route_t route = {.deliver = udp_deliver, .transport = u};
    srv_ctx_t ctx = {.zones = snap->zones, .keys = snap->keys, .cfg = &u->cfg->msg,
                     .route = &route, .changes = u->changes};
    uint64_t now = (uint64_t)time(NULL);
    int out = 0;
    for (int i = 0; i < n; i++) {
        struct msghdr *h = &u->rx[i].msg_hdr;
        const uint8_t *q = u->rx_iov[i].iov_base;
        size_t qlen = u->rx[i].msg_len;
        if (u->cfg->log_queries)
            srv_log_query((const struct sockaddr *)&u->peer[i], 0, q, qlen);
        client_from(&u->peer[i], &client);
        route.peer = (const struct sockaddr *)&u->peer[i];
        route.peer_len = h->msg_namelen;
        route.ctl = u->pktinfo ? h->msg_control : NULL;
        route.ctl_len = u->pktinfo ? h->msg_controllen : 0;
        uint8_t *reply = u->tx_buf + (size_t)out * u->reply_cap;
        srv_out_t o = { .buf = reply, .cap = u->reply_cap };
        if (srv_process(&ctx, q, qlen, &client, now, &o) != SRV_REPLY)
            continue;
        size_t rlen = o.len;
        u->tx_iov[out].iov_base = reply;
        u->tx_iov[out].iov_len = rlen;
        struct msghdr *t = &u->tx[out].msg_hdr;
        memset(t, 0, sizeof *t);
        t->msg_name = h->msg_name;
        t->msg_namelen = h->msg_namelen;
        t->msg_iov = &u->tx_iov[out];
        t->msg_iovlen = 1;
        if (u->pktinfo)
            reply_from(h, t, &u->tx_ctl[out]);
        out++;
    }
    return out;
}

/* Sends tx[0..n); a reply the kernel refuses (e.g. an unreachable
 * address) is skipped so it cannot hold up the rest. */
static void send_batch(srv_udp_t *u, int n)
{
    int done = 0;
    while (done < n) {
        int r = sendmmsg(u->fd, u->tx + done, (unsigned)(n - done), 0);
        if (r > 0)
            done += r;
        else if (r < 0 && errno == EINTR)
            continue;
        else
            done++;
    }
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

typedef struct udp_pace {
    uint64_t ready_us;  /* when this thread last went to receive */
    int prev_n;         /* size of the previous batch */
} udp_pace_t;

/* Adaptive coalescing. At a moderate rate every datagram costs one
 * wake-up of this thread (and on a VM a VM exit pair), which is most of
 * the CPU per query. Sleeping `udp_coalesce_us` after a small batch and
 * then taking whatever queued (without blocking) replaces that by one
 * wake-up per interval, at the price of up to that long added latency
 * for the datagrams that arrive during the sleep. The sleep only pays
 * while datagrams come faster than one per interval, so it is taken
 * only when the first datagram of this batch came less than one
 * interval after the thread was last ready to receive (*ready_us): a
 * lone query on an idle server, or a trickle, is answered the moment it
 * arrives and the thread goes straight back to the blocking receive
 * (no added latency, no extra timer wake-up). A gathered receive that
 * found datagrams waited 0, so coalescing continues while it finds
 * some, and stops at the first blocking receive that waited longer.
 * Under saturation batches are large already, and sleeping then only
 * adds latency (measured: +10 % CPU per query when sleeping after
 * batches under 64), so only batches under SRV_UDP_COALESCE_BELOW
 * wait, and not the one right after a large batch: with a client that
 * keeps a fixed number of queries outstanding (dnsperf), a small batch
 * between large ones is the start of its next burst, and sleeping then
 * stalls it (measured with 200 us: -20 % max QPS without this rule).
 * Returns true if the thread slept and the next receive should not
 * block. */
static bool coalesce(unsigned co_us, int n, udp_pace_t *p)
{
    if (!co_us)
        return false;
    uint64_t now = mono_us();
    bool busy = now - p->ready_us < co_us;
    bool after_large = p->prev_n >= SRV_UDP_COALESCE_BELOW;
    p->ready_us = now;
    p->prev_n = n;
    if (!busy || after_large || n >= SRV_UDP_COALESCE_BELOW)
        return false;
    struct timespec gather = {0, (long)co_us * 1000};
    nanosleep(&gather, NULL);
    p->ready_us = mono_us();
    return true;
}

static void *udp_main(void *arg)
{
    srv_udp_t *u = arg;
    udp_pace_t pace = {0, 0};
    int flags = MSG_WAITFORONE;
    while (!atomic_load_explicit(u->stop, memory_order_relaxed)) {
        /* MSG_WAITFORONE: block for the first datagram, then take what is
         * queued without waiting: one system call per batch under load. */
        int n = recvmmsg(u->fd, u->rx, SRV_UDP_BATCH, flags, NULL);
        flags = MSG_WAITFORONE;
        if (n <= 0)
            continue;
        const srv_snapshot_t *snap = srv_publish_enter(u->pub, u->slot);
        int out = answer_batch(u, snap, n);
        srv_publish_leave(u->pub, u->slot);
        rx_arm(u, n);
        if (out > 0)
            send_batch(u, out);
        if (coalesce(u->cfg->udp_coalesce_us, n, &pace))
            flags |= MSG_DONTWAIT;
    }
    return NULL;
}

int srv_udp_start(srv_udp_t *u)
{
    int rc = pthread_create(&u->thread, NULL, udp_main, u);
    u->started = rc == 0;
    /* Named for top -H, perf and the benchmarks' per-thread CPU figures
     * (a failure, as in a unikernel without /proc, changes nothing). */
    if (u->started)
        (void)pthread_setname_np(u->thread, "zl-udp");
    return rc;
}

void srv_udp_join(srv_udp_t *u)
{
    if (!u->started)
        return;
    /* Linux wakes a receive blocked on an unconnected UDP socket on
     * shutdown(); SO_RCVTIMEO covers systems where it does not. */
    shutdown(u->fd, SHUT_RD);
    pthread_join(u->thread, NULL);
    u->started = false;
}

void srv_udp_free(srv_udp_t *u)
{
    if (!u)
        return;
    close(u->fd);
    free(u->rx_buf);
    free(u->tx_buf);
    free(u);
}
