/* socktcp.c: TCP sockets over lwIP's raw tcp_pcb. Received segments wait
 * as a pbuf chain and open the window (tcp_recved) as they are read, so
 * lwIP's TCP_WND bounds what a connection holds; sends copy into lwIP's
 * send buffer (TCP_SND_BUF) and wait for acknowledgements when it is
 * full. lwIP's callbacks only record what happened and notify; errors
 * (a reset, a timeout) free the pcb in lwIP and leave the error for the
 * next call. See net.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "platform/include/plat.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

/* Connections this side closed first linger in TIME-WAIT for 2 MSL (two
 * minutes). lwIP takes their memory from malloc without a bound, so a
 * client that makes the server close many connections could fill the
 * guest: beyond this many, the oldest are dropped (Linux's
 * tcp_max_tw_buckets does the same). */
#define RT_TW_MAX 1024
#define RT_TW_REAP_MS 1000

static unsigned rt_tw_max = RT_TW_MAX;

/* lwipopts.h's LWIP_HOOK_TCP_INPACKET_PCB, called for each segment
 * before lwIP handles it. A SYN (no ACK, no RST) to a listener whose
 * backlog is full: when half-open connections (SYN-RCVD, never
 * acknowledged) hold part of it, the oldest of them is reset so that
 * the new one gets its place (a SYN flood cannot shut clients out for
 * lwIP's fixed 20 s). Connections that completed their handshake and
 * wait for accept() keep theirs. Always lets the segment through. */
err_t rt_net_tcp_syn_room(struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
    if (pcb->state != LISTEN || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return ERR_OK;
    struct tcp_pcb_listen *l = (struct tcp_pcb_listen *)pcb;
    if (l->accepts_pending < l->backlog)
        return ERR_OK;
    struct tcp_pcb *oldest = NULL;
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        if (p->state == SYN_RCVD && p->listener == l &&
            (!oldest || (u32_t)(tcp_ticks - p->tmr) > (u32_t)(tcp_ticks - oldest->tmr)))
            oldest = p;
    if (oldest)
        tcp_abort(oldest); /* no socket has it yet: accept() comes after the handshake */
    return ERR_OK;
}

static err_t tcp_in(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len);
static void tcp_err_cb(void *arg, err_t err);

static void attach(struct rt_sock *s, struct tcp_pcb *pcb)
{
    s->pcb.tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, tcp_in);
    tcp_sent(pcb, tcp_sent_cb);
    tcp_err(pcb, tcp_err_cb);
}

static void detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    if (pcb->state == LISTEN) { /* lwIP asserts on the others for a listener */
        tcp_accept(pcb, NULL);
        return;
    }
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

static void remember_addrs(struct rt_sock *s)
{
    ip_addr_copy(s->lip, s->pcb.tcp->local_ip);
    ip_addr_copy(s->rip, s->pcb.tcp->remote_ip);
    s->lport = s->pcb.tcp->local_port;
    s->rport = s->pcb.tcp->remote_port;
}

void rt_tcp_apply_opts(struct rt_sock *s)
{
    struct tcp_pcb *p = s->pcb.tcp;

    if (!p || s->state == RT_SS_LISTEN)
        return;
    if (s->nodelay)
        tcp_nagle_disable(p);
    else
        tcp_nagle_enable(p);
    if (s->keepalive)
        ip_set_option(p, SOF_KEEPALIVE);
    else
        ip_reset_option(p, SOF_KEEPALIVE);
    if (s->keepidle)
        p->keep_idle = s->keepidle * 1000u;
    if (s->keepintvl)
        p->keep_intvl = s->keepintvl * 1000u;
    if (s->keepcnt)
        p->keep_cnt = s->keepcnt;
}

/* ---- lwIP callbacks ---- */

static err_t tcp_in(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct rt_sock *s = arg;
    (void)pcb;
    (void)err;

    if (!p) {
        s->rx_fin = true;
    } else if (s->rx) {
        pbuf_cat(s->rx, p);
    } else {
        s->rx = p;
    }
    rt_obj_notify(&s->obj);
    return ERR_OK;
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    rt_obj_notify(&((struct rt_sock *)arg)->obj);
    return ERR_OK;
}

/* lwIP freed the pcb: a reset, or a timeout (retransmissions, keepalive,
 * SYN) which lwIP reports as ERR_ABRT. */
static void tcp_err_cb(void *arg, err_t err)
{
    struct rt_sock *s = arg;

    if (!s)
        return;
    s->pcb.tcp = NULL;
    if (err == ERR_RST)
        s->err = s->state == RT_SS_CONNECTING ? ECONNREFUSED : ECONNRESET;
    else if (err == ERR_ABRT)
        s->err = ETIMEDOUT;
    else
        s->err = -rt_err_to_errno(err);
    s->state = RT_SS_CLOSED;
    rt_obj_notify(&s->obj);
}

static err_t tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct rt_sock *s = arg;
    (void)pcb;
    (void)err;

    s->state = RT_SS_CONNECTED;
    remember_addrs(s);
    rt_tcp_apply_opts(s);
    rt_obj_notify(&s->obj);
    return ERR_OK;
}

/* A connection completed its handshake on listener arg: it becomes a
 * socket at once (so data and resets are caught) and waits for accept().
 * Its slot in lwIP's backlog stays taken until then. */
static err_t tcp_accept_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct rt_sock *l = arg, *c;

    if (err != ERR_OK || !pcb || !l)
        return ERR_VAL;
    if (l->acq_len == l->acq_cap) {
        unsigned cap = l->acq_cap ? 2 * l->acq_cap : 16;
        struct rt_sock **q = malloc(cap * sizeof *q);
        if (!q)
            return ERR_MEM;
        for (unsigned i = 0; i < l->acq_len; i++)
            q[i] = l->acq[(l->acq_head + i) % l->acq_cap];
        free(l->acq);
        l->acq = q;
        l->acq_cap = cap;
        l->acq_head = 0;
    }
    if (!(c = rt_sock_alloc(l->family, SOCK_STREAM)))
        return ERR_MEM; /* lwIP aborts the connection */
    c->state = RT_SS_CONNECTED;
    c->v6only = l->v6only;
    c->nodelay = l->nodelay;
    c->keepalive = l->keepalive;
    c->keepidle = l->keepidle;
    c->keepintvl = l->keepintvl;
    c->keepcnt = l->keepcnt;
    c->rcvtimeo = l->rcvtimeo;
    c->sndtimeo = l->sndtimeo;
    attach(c, pcb);
    remember_addrs(c);
    rt_tcp_apply_opts(c);
    tcp_backlog_delayed(pcb);
    l->acq[(l->acq_head + l->acq_len++) % l->acq_cap] = c;
    rt_obj_notify(&l->obj);
    return ERR_OK;
}

/* ---- TIME-WAIT bound ---- */

/* lwIP puts a connection entering TIME-WAIT at the head of tcp_tw_pcbs:
 * past the first rt_tw_max entries are the oldest. */
static void tw_reap(void *arg)
{
    struct tcp_pcb *p = tcp_tw_pcbs;
    (void)arg;
    for (unsigned n = 1; p && n < rt_tw_max; n++)
        p = p->next;
    while (p && p->next)
        tcp_abort(p->next); /* no reset for TIME-WAIT: just forgotten */
    if (p && rt_tw_max == 0)
        tcp_abort(p);
    sys_timeout(RT_TW_REAP_MS, tw_reap, NULL);
}

void rt_tcp_start(void)
{
    sys_timeout(RT_TW_REAP_MS, tw_reap, NULL);
}

void rt_tcp_set_timewait_max(unsigned n)
{
    rt_tw_max = n;
}

unsigned rt_tcp_timewait_count(void)
{
    unsigned n = 0;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
        n++;
    return n;
}

/* ---- calls ---- */

int rt_tcp_open(struct rt_sock *s)
{
    struct tcp_pcb *p = tcp_new_ip_type(s->family == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);

    if (!p)
        return -ENOMEM;
    attach(s, p);
    return 0;
}

/* A pcb for a socket whose last connection attempt failed (lwIP freed
 * its pcb), so connect() can be tried again as on Linux. */
static int reopen(struct rt_sock *s)
{
    int r;

    if (s->pcb.tcp)
        return 0;
    if ((r = rt_tcp_open(s)) < 0)
        return r;
    if (s->family == AF_INET6 && s->v6only)
        IP_SET_TYPE_VAL(s->pcb.tcp->local_ip, IPADDR_TYPE_V6);
    if (s->reuseaddr || s->reuseport)
        ip_set_option(s->pcb.tcp, SOF_REUSEADDR);
    if (s->rx)
        pbuf_free(s->rx);
    s->rx = NULL;
    s->rx_fin = false;
    s->shut = 0;
    s->state = RT_SS_NEW;
    return 0;
}

int rt_tcp_bind(struct rt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    if (!s->pcb.tcp || s->state != RT_SS_NEW || s->pcb.tcp->local_port)
        return -EINVAL;
    int r = rt_err_to_errno(tcp_bind(s->pcb.tcp, ip, port));
    if (r == 0) {
        ip_addr_copy(s->lip, s->pcb.tcp->local_ip);
        s->lport = s->pcb.tcp->local_port;
    }
    return r;
}

int rt_tcp_listen(struct rt_sock *s, int backlog)
{
    err_t e;
    int r;

    if (s->state == RT_SS_LISTEN)
        return 0;
    if (s->state != RT_SS_NEW || !s->pcb.tcp)
        return -EINVAL;
    if (!s->pcb.tcp->local_port &&
        (r = rt_tcp_bind(s, s->family == AF_INET6 && !s->v6only ? IP_ANY_TYPE
                            : &s->pcb.tcp->local_ip, 0)) < 0)
        return r;
    backlog = backlog < 1 ? 1 : backlog > 255 ? 255 : backlog;
    struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->pcb.tcp, (u8_t)backlog, &e);
    if (!l)
        return rt_err_to_errno(e);
    s->pcb.tcp = l; /* lwIP freed the unconnected pcb */
    tcp_arg(l, s);
    tcp_accept(l, tcp_accept_cb);
    s->state = RT_SS_LISTEN;
    return 0;
}

int rt_tcp_accept(struct rt_sock *s, int fflags, struct rt_sock **out)
{
    uint64_t deadline = rt_sock_deadline(s->rcvtimeo);

    if (s->state != RT_SS_LISTEN)
        return -EINVAL;
    while (s->acq_len == 0) {
        if (fflags & O_NONBLOCK) {
            rt_net_poll();
            if (s->acq_len)
                break;
            return -EAGAIN;
        }
        int r = rt_obj_wait(&s->obj, deadline);
        if (r == -EINTR || r == -EBADF || (r < 0 && s->acq_len == 0))
            return r;
        if (s->state != RT_SS_LISTEN)
            return -EINVAL;
    }
    struct rt_sock *c = s->acq[s->acq_head];
    s->acq_head = (s->acq_head + 1) % s->acq_cap;
    s->acq_len--;
    if (c->pcb.tcp)
        tcp_backlog_accepted(c->pcb.tcp);
    *out = c;
    return 0;
}

int rt_tcp_connect(struct rt_sock *s, const struct sockaddr *sa, socklen_t len, int fflags)
{
    ip_addr_t ip;
    uint16_t port;
    int r;

    switch (s->state) {
    case RT_SS_CONNECTED: return -EISCONN;
    case RT_SS_CONNECTING: return -EALREADY;
    case RT_SS_LISTEN: return -EISCONN;
    case RT_SS_CLOSED:
        if (s->err) { /* the outcome of a non-blocking connect */
            r = -s->err;
            s->err = 0;
            return r;
        }
        break;
    case RT_SS_NEW:
        break;
    }
    if ((r = rt_sa_to_ip(s, sa, len, &ip, &port)) < 0)
        return r;
    if (s->family == AF_INET6 && s->v6only && IP_IS_V6(&ip) && ip6_addr_isipv4mappedipv6(ip_2_ip6(&ip)))
        return -ENETUNREACH;
    if (port == 0)
        return -ECONNREFUSED;
    if ((r = reopen(s)) < 0)
        return r;
    err_t e = tcp_connect(s->pcb.tcp, &ip, port, tcp_connected_cb);
    if (e != ERR_OK)
        return e == ERR_VAL ? -EAFNOSUPPORT : rt_err_to_errno(e);
    s->state = RT_SS_CONNECTING;
    ip_addr_copy(s->rip, ip);
    s->rport = port;
    if (fflags & O_NONBLOCK)
        return -EINPROGRESS;
    uint64_t deadline = rt_sock_deadline(s->sndtimeo);
    while (s->state == RT_SS_CONNECTING) {
        r = rt_obj_wait(&s->obj, deadline);
        if (r == -EINTR || r == -EBADF)
            return r;
        if (r == -EAGAIN && s->state == RT_SS_CONNECTING)
            return -EINPROGRESS; /* SO_SNDTIMEO ran out, as on Linux */
    }
    if (s->state == RT_SS_CONNECTED)
        return 0;
    r = -s->err;
    s->err = 0;
    return r ? r : -ECONNREFUSED;
}

/* Waits until the connection is established, for a send or receive
 * started while connecting. 0, or a negative errno. */
static int wait_connected(struct rt_sock *s, bool wait, uint64_t deadline)
{
    while (s->state == RT_SS_CONNECTING) {
        if (!wait)
            return -EAGAIN;
        int r = rt_obj_wait(&s->obj, deadline);
        if (r == -EINTR || r == -EBADF || (r < 0 && s->state == RT_SS_CONNECTING))
            return r;
    }
    return 0;
}

long rt_tcp_send(struct rt_sock *s, const struct iovec *iov, int cnt, int flags, int fflags)
{
    bool wait = !(flags & MSG_DONTWAIT) && !(fflags & O_NONBLOCK);
    uint64_t deadline = rt_sock_deadline(s->sndtimeo);
    size_t sent = 0, total = 0;
    int r;

    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    if ((r = wait_connected(s, wait, deadline)) < 0)
        return r;
    size_t off = 0;
    for (int i = 0; i < cnt;) {
        if (s->err) {
            r = -s->err;
            s->err = 0;
            return sent ? (long)sent : r;
        }
        if (s->state != RT_SS_CONNECTED || !s->pcb.tcp || (s->shut & RT_SHUT_WR))
            return sent ? (long)sent : s->state == RT_SS_NEW || s->state == RT_SS_LISTEN ?
                                       -ENOTCONN : -EPIPE;
        size_t left = iov[i].iov_len - off;
        if (left == 0) {
            i++;
            off = 0;
            continue;
        }
        u16_t room = tcp_sndbuf(s->pcb.tcp);
        err_t e = ERR_MEM;
        size_t n = left < room ? left : room;
        if (n > 0 && tcp_sndqueuelen(s->pcb.tcp) < TCP_SND_QUEUELEN) {
            u8_t wf = TCP_WRITE_FLAG_COPY;
            if (sent + n < total)
                wf |= TCP_WRITE_FLAG_MORE;
            e = tcp_write(s->pcb.tcp, (const uint8_t *)iov[i].iov_base + off, (u16_t)n, wf);
        }
        if (e == ERR_OK) {
            sent += n;
            off += n;
            continue;
        }
        if (e != ERR_MEM)
            return sent ? (long)sent : rt_err_to_errno(e);
        /* The send buffer is full: push what is queued, then wait for
         * acknowledgements (or return what was taken). */
        tcp_output(s->pcb.tcp);
        if (!wait) {
            rt_net_poll();
            if (s->pcb.tcp && tcp_sndbuf(s->pcb.tcp) > 0 &&
                tcp_sndqueuelen(s->pcb.tcp) < TCP_SND_QUEUELEN)
                continue;
            return sent ? (long)sent : -EAGAIN;
        }
        r = rt_obj_wait(&s->obj, deadline);
        if (r < 0)
            return sent ? (long)sent : r;
    }
    if (s->pcb.tcp)
        tcp_output(s->pcb.tcp);
    return (long)sent;
}

size_t rt_tcp_readable(const struct rt_sock *s)
{
    return s->rx ? s->rx->tot_len : 0;
}

/* Copies up to want bytes of the received data into iov from offset
 * done (in the vector's bytes); consumes them unless peeking. */
static size_t take(struct rt_sock *s, const struct iovec *iov, int cnt, size_t done, bool peek)
{
    size_t got = 0, pos = 0, avail = rt_tcp_readable(s);

    for (int i = 0; i < cnt && got < avail; i++) {
        size_t len = iov[i].iov_len;
        if (pos + len <= done) {
            pos += len;
            continue;
        }
        size_t skip = done > pos ? done - pos : 0;
        size_t n = len - skip;
        if (n > avail - got)
            n = avail - got;
        pbuf_copy_partial(s->rx, (uint8_t *)iov[i].iov_base + skip, (u16_t)n, (u16_t)got);
        got += n;
        pos += len;
    }
    if (!peek && got) {
        s->rx = pbuf_free_header(s->rx, (u16_t)got);
        if (s->pcb.tcp)
            tcp_recved(s->pcb.tcp, (u16_t)got);
    }
    return got;
}

long rt_tcp_recv(struct rt_sock *s, const struct iovec *iov, int cnt, int flags, int fflags)
{
    bool wait = !(flags & MSG_DONTWAIT) && !(fflags & O_NONBLOCK);
    bool peek = flags & MSG_PEEK;
    uint64_t deadline = rt_sock_deadline(s->rcvtimeo);
    size_t want = 0, done = 0;
    int r;

    if (s->state == RT_SS_NEW || s->state == RT_SS_LISTEN)
        return -ENOTCONN;
    for (int i = 0; i < cnt; i++)
        want += iov[i].iov_len;
    if ((r = wait_connected(s, wait, deadline)) < 0)
        return r;
    if (want == 0)
        return 0;
    for (;;) {
        /* pbufs hold at most 64 KiB - 1: take in pieces */
        while (rt_tcp_readable(s) && done < want) {
            size_t before = done;
            done += take(s, iov, cnt, done, peek);
            if (peek || done == before)
                break;
        }
        if (done == want || (done && !(flags & MSG_WAITALL)) || (done && peek))
            return (long)done;
        if (s->err) {
            r = -s->err;
            s->err = 0;
            return done ? (long)done : r;
        }
        if (s->rx_fin || (s->shut & RT_SHUT_RD) || s->state == RT_SS_CLOSED)
            return (long)done;
        if (!wait) {
            rt_net_poll();
            if (rt_tcp_readable(s) || s->rx_fin || s->err)
                continue;
            return done ? (long)done : -EAGAIN;
        }
        r = rt_obj_wait(&s->obj, deadline);
        if (r == -EINTR || r == -EBADF)
            return done ? (long)done : r;
        if (r < 0 && !rt_tcp_readable(s) && !s->rx_fin && !s->err)
            return done ? (long)done : r;
    }
}

uint32_t rt_tcp_poll(struct rt_sock *s)
{
    uint32_t ev = 0;

    switch (s->state) {
    case RT_SS_LISTEN:
        return s->acq_len ? EPOLLIN : 0;
    case RT_SS_NEW:
        return EPOLLOUT | EPOLLHUP; /* as Linux for an unconnected socket */
    case RT_SS_CONNECTING:
        return 0;
    case RT_SS_CLOSED:
        return EPOLLIN | EPOLLRDHUP | EPOLLHUP | (s->err ? EPOLLERR : 0);
    case RT_SS_CONNECTED:
        break;
    }
    if (s->rx)
        ev |= EPOLLIN;
    if (s->rx_fin || (s->shut & RT_SHUT_RD))
        ev |= EPOLLIN | EPOLLRDHUP;
    if (s->err)
        ev |= EPOLLERR;
    if (!(s->shut & RT_SHUT_WR) && s->pcb.tcp && tcp_sndbuf(s->pcb.tcp) >= TCP_SNDLOWAT &&
        tcp_sndqueuelen(s->pcb.tcp) < TCP_SNDQUEUELOWAT)
        ev |= EPOLLOUT;
    if (s->rx_fin && (s->shut & RT_SHUT_WR))
        ev |= EPOLLHUP;
    return ev;
}

int rt_tcp_shutdown(struct rt_sock *s, unsigned how)
{
    if (s->state != RT_SS_CONNECTED && s->state != RT_SS_CONNECTING)
        return -ENOTCONN;
    if ((how & RT_SHUT_WR) && !(s->shut & RT_SHUT_WR) && s->pcb.tcp) {
        err_t e = tcp_shutdown(s->pcb.tcp, 0, 1); /* FIN after the queued data */
        if (e != ERR_OK)
            return rt_err_to_errno(e);
    }
    s->shut |= how;
    rt_obj_notify(&s->obj);
    return 0;
}

void rt_tcp_close(struct rt_sock *s)
{
    struct tcp_pcb *p = s->pcb.tcp;

    if (s->state == RT_SS_LISTEN) {
        for (unsigned i = 0; i < s->acq_len; i++) {
            struct rt_sock *c = s->acq[(s->acq_head + i) % s->acq_cap];
            c->linger0 = true; /* never accepted: reset it */
            rt_tcp_close(c);
        }
        free(s->acq);
        detach(p);
        tcp_close(p); /* a listening pcb closes at once */
    } else if (p) {
        /* Unread data makes lwIP answer the close with a reset, as
         * Linux does: the window was not reopened for it. */
        detach(p);
        if (s->linger0 || tcp_close(p) != ERR_OK)
            tcp_abort(p);
    }
    if (s->rx)
        pbuf_free(s->rx);
    free(s);
}
