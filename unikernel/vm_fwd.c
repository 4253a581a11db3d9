/* The forwarder (vm_fwd.h). One poll() loop over a set rebuilt every
 * round: a few thousand sockets at most, for tests and development use,
 * not a data path that needs epoll. */
#include "unikernel/vm_fwd.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unikernel/clock.h"

#define FWD_LISTEN_MAX 16
#define FWD_BUF (16u << 10)
#define FWD_UDP_IDLE_MS 30000
#define FWD_BATCH 64

typedef struct fwd_listener {
    int udp, tcp;
    int family;
    struct sockaddr_storage to;
    socklen_t tolen;
} fwd_listener_t;

/* The local address a client's datagram was sent to (the reply's source). */
typedef union fwd_local {
    struct in_pktinfo v4;
    struct in6_pktinfo v6;
} fwd_local_t;

typedef struct fwd_udp {
    int fd;                      /* connected to the listener's target; -1: free */
    int lst;                     /* index of its listener */
    struct sockaddr_storage client;
    socklen_t clen;
    fwd_local_t local;
    uint64_t last_ms;
} fwd_udp_t;

typedef struct fwd_dir {          /* bytes read from one side, not yet written to the other */
    unsigned char *buf;           /* FWD_BUF */
    size_t start, end;
    bool eof;                     /* the reading side closed its write half */
    bool shut;                    /* passed on: the writing side's write half shut */
} fwd_dir_t;

typedef struct fwd_tcp {
    int a, b;                    /* the client; the target (-1: free) */
    bool connecting;             /* b's connect not finished */
    fwd_dir_t ab, ba;
} fwd_tcp_t;

struct srv_vm_fwd {
    fwd_listener_t lst[FWD_LISTEN_MAX];
    size_t nlst;
    fwd_udp_t udp[SRV_VM_FWD_UDP];
    fwd_tcp_t tcp[SRV_VM_FWD_TCP];
    int stop[2];                  /* a pipe: a byte ends the thread */
    pthread_t thread;
    bool started;
    unsigned char dgram[65536];
};

srv_vm_fwd_t *srv_vm_fwd_new(void)
{
    srv_vm_fwd_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (pipe2(f->stop, O_CLOEXEC | O_NONBLOCK)) {
        free(f);
        return NULL;
    }
    for (size_t i = 0; i < SRV_VM_FWD_UDP; i++)
        f->udp[i].fd = -1;
    for (size_t i = 0; i < SRV_VM_FWD_TCP; i++)
        f->tcp[i].a = f->tcp[i].b = -1;
    return f;
}

static int bound_socket(const struct sockaddr *sa, socklen_t len, int type)
{
    int one = 1, fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (type == SOCK_DGRAM) {
        if (sa->sa_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
        else
            setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    }
    if (bind(fd, sa, len) || (type == SOCK_STREAM && listen(fd, 128))) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int srv_vm_fwd_add(srv_vm_fwd_t *f, const struct sockaddr *from, socklen_t fromlen,
                   const struct sockaddr *to, socklen_t tolen)
{
    if (f->nlst == FWD_LISTEN_MAX || tolen > sizeof(struct sockaddr_storage))
        return -ENOSPC;
    fwd_listener_t *l = &f->lst[f->nlst];
    l->udp = bound_socket(from, fromlen, SOCK_DGRAM);
    if (l->udp < 0)
        return l->udp;
    l->tcp = bound_socket(from, fromlen, SOCK_STREAM);
    if (l->tcp < 0) {
        int e = l->tcp;
        close(l->udp);
        return e;
    }
    l->family = from->sa_family;
    memcpy(&l->to, to, tolen);
    l->tolen = tolen;
    f->nlst++;
    return 0;
}

/* ---- UDP ---- */

static void udp_close(fwd_udp_t *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

static bool same_client(const fwd_udp_t *u, size_t lst, const struct sockaddr_storage *c,
                        socklen_t clen, const fwd_local_t *local)
{
    return u->fd >= 0 && u->lst == (int)lst && u->clen == clen && memcmp(&u->client, c, clen) == 0 &&
           memcmp(&u->local, local, sizeof *local) == 0;
}

/* The session of this client, made if new (the one idle longest makes room). */
static fwd_udp_t *udp_session(srv_vm_fwd_t *f, size_t lst, const struct sockaddr_storage *c,
                              socklen_t clen, const fwd_local_t *local)
{
    fwd_udp_t *victim = &f->udp[0];
    for (size_t i = 0; i < SRV_VM_FWD_UDP; i++) {
        fwd_udp_t *u = &f->udp[i];
        if (same_client(u, lst, c, clen, local))
            return u;
        if (victim->fd >= 0 && (u->fd < 0 || u->last_ms < victim->last_ms))
            victim = u;
    }
    udp_close(victim);
    const fwd_listener_t *l = &f->lst[lst];
    int fd = socket(l->to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (connect(fd, (const struct sockaddr *)&l->to, l->tolen)) {
        close(fd);
        return NULL;
    }
    victim->fd = fd;
    victim->lst = (int)lst;
    memcpy(&victim->client, c, clen);
    victim->clen = clen;
    victim->local = *local;
    return victim;
}

/* Datagrams from clients on listener lst, each sent on to the target. */
static void udp_from_clients(srv_vm_fwd_t *f, size_t lst)
{
    const fwd_listener_t *l = &f->lst[lst];
    for (int n = 0; n < FWD_BATCH; n++) {
        struct sockaddr_storage c;
        union { struct cmsghdr h; unsigned char b[CMSG_SPACE(sizeof(fwd_local_t))]; } ctl;
        struct iovec iov = {f->dgram, sizeof f->dgram};
        struct msghdr m = {.msg_name = &c, .msg_namelen = sizeof c, .msg_iov = &iov,
                           .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
        fwd_local_t local;
        ssize_t r = recvmsg(l->udp, &m, MSG_DONTWAIT);
        if (r < 0)
            return;
        memset(&local, 0, sizeof local);
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
            if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO)
                memcpy(&local.v4, CMSG_DATA(h), sizeof local.v4);
            else if (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_PKTINFO)
                memcpy(&local.v6, CMSG_DATA(h), sizeof local.v6);
        }
        if (l->family == AF_INET) { /* only the destination matters */
            local.v4.ipi_spec_dst = local.v4.ipi_addr;
            local.v4.ipi_ifindex = 0;
            memset(&local.v4.ipi_addr, 0, sizeof local.v4.ipi_addr);
        } else {
            local.v6.ipi6_ifindex = 0;
        }
        fwd_udp_t *u = udp_session(f, lst, &c, m.msg_namelen, &local);
        if (!u)
            continue;
        u->last_ms = srv_mono_ms();
        (void)send(u->fd, f->dgram, (size_t)r, MSG_DONTWAIT);
    }
}

/* Replies from the target, back to the client from the address it asked. */
static void udp_to_client(srv_vm_fwd_t *f, fwd_udp_t *u)
{
    const fwd_listener_t *l = &f->lst[u->lst];
    for (int n = 0; n < FWD_BATCH; n++) {
        ssize_t r = recv(u->fd, f->dgram, sizeof f->dgram, MSG_DONTWAIT);
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                udp_close(u); /* ICMP unreachable: the next query makes a new one */
            return;
        }
        union { struct cmsghdr h; unsigned char b[CMSG_SPACE(sizeof(fwd_local_t))]; } ctl;
        struct iovec iov = {f->dgram, (size_t)r};
        struct msghdr m = {.msg_name = &u->client, .msg_namelen = u->clen, .msg_iov = &iov,
                           .msg_iovlen = 1, .msg_control = ctl.b};
        struct cmsghdr *h = (struct cmsghdr *)ctl.b;
        memset(&ctl, 0, sizeof ctl);
        if (l->family == AF_INET) {
            m.msg_controllen = CMSG_SPACE(sizeof u->local.v4);
            h->cmsg_level = IPPROTO_IP;
            h->cmsg_type = IP_PKTINFO;
            h->cmsg_len = CMSG_LEN(sizeof u->local.v4);
            memcpy(CMSG_DATA(h), &u->local.v4, sizeof u->local.v4);
        } else {
            m.msg_controllen = CMSG_SPACE(sizeof u->local.v6);
            h->cmsg_level = IPPROTO_IPV6;
            h->cmsg_type = IPV6_PKTINFO;
            h->cmsg_len = CMSG_LEN(sizeof u->local.v6);
            memcpy(CMSG_DATA(h), &u->local.v6, sizeof u->local.v6);
        }
        (void)sendmsg(l->udp, &m, MSG_DONTWAIT);
        u->last_ms = srv_mono_ms();
    }
}

/* ---- TCP ---- */

static void tcp_close(fwd_tcp_t *t, bool reset)
{
    static const struct linger rst = {1, 0};
    for (int *fd = &t->a; fd <= &t->b; fd++) {
        if (*fd < 0)
            continue;
        if (reset)
            setsockopt(*fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
        close(*fd);
        *fd = -1;
    }
    free(t->ab.buf);
    free(t->ba.buf);
    memset(t, 0, sizeof *t);
    t->a = t->b = -1;
}

static void tcp_accept(srv_vm_fwd_t *f, const fwd_listener_t *l)
{
    for (int n = 0; n < FWD_BATCH; n++) {
        int a = accept4(l->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (a < 0)
            return;
        fwd_tcp_t *t = NULL;
        for (size_t i = 0; i < SRV_VM_FWD_TCP && !t; i++)
            if (f->tcp[i].a < 0)
                t = &f->tcp[i];
        int b = t ? socket(l->to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
        unsigned char *x = b >= 0 ? malloc(FWD_BUF) : NULL, *y = x ? malloc(FWD_BUF) : NULL;
        int rc = y ? connect(b, (const struct sockaddr *)&l->to, l->tolen) : -1;
        if (!y || (rc < 0 && errno != EINPROGRESS)) {
            static const struct linger rst = {1, 0};
            setsockopt(a, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
            close(a);
            if (b >= 0)
                close(b);
            free(x);
            free(y);
            continue;
        }
        t->a = a;
        t->b = b;
        t->connecting = rc < 0;
        t->ab.buf = x;
        t->ba.buf = y;
    }
}

/* Moves bytes src -> d -> dst as far as the sockets allow. Returns false
 * when the pair must be reset. */
static bool tcp_pump(int src, int dst, fwd_dir_t *d, bool can_write)
{
    if (!d->eof && d->end < FWD_BUF) {
        ssize_t r = recv(src, d->buf + d->end, FWD_BUF - d->end, MSG_DONTWAIT);
        if (r == 0)
            d->eof = true;
        else if (r > 0)
            d->end += (size_t)r;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
    }
    if (can_write && d->end > d->start) {
        ssize_t w = send(dst, d->buf + d->start, d->end - d->start, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0)
            d->start += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
    }
    if (d->start == d->end)
        d->start = d->end = 0;
    else if (d->end == FWD_BUF && d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
    }
    if (can_write && d->eof && d->start == d->end && !d->shut) {
        shutdown(dst, SHUT_WR);
        d->shut = true;
    }
    return true;
}

static void tcp_step(fwd_tcp_t *t, short ra, short rb)
{
    if ((ra | rb) & POLLNVAL) {
        tcp_close(t, true);
        return;
    }
    if (t->connecting && (rb & (POLLOUT | POLLERR | POLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(t->b, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            tcp_close(t, true);
            return;
        }
        t->connecting = false;
    }
    if (!tcp_pump(t->a, t->b, &t->ab, !t->connecting) ||
        (!t->connecting && !tcp_pump(t->b, t->a, &t->ba, true))) {
        tcp_close(t, true);
        return;
    }
    if (t->ab.shut && t->ba.shut)
        tcp_close(t, false);
}

/* ---- the loop ---- */

/* What each slot of the poll set stands for. */
enum { P_STOP, P_UDP_LST, P_TCP_LST, P_UDP, P_TCP_A, P_TCP_B };
typedef struct pref { int kind; size_t i; } pref_t;

static size_t add(struct pollfd *p, pref_t *r, size_t n, int fd, short ev, int kind, size_t i)
{
    p[n] = (struct pollfd){.fd = fd, .events = ev};
    r[n] = (pref_t){kind, i};
    return n + 1;
}

static void tcp_events(const fwd_tcp_t *t, short *ea, short *eb)
{
    *ea = *eb = 0;
    if (!t->ab.eof && t->ab.end < FWD_BUF)
        *ea |= POLLIN;
    if (t->ba.end > t->ba.start)
        *ea |= POLLOUT;
    if (t->connecting) {
        *eb = POLLOUT;
        return;
    }
    if (!t->ba.eof && t->ba.end < FWD_BUF)
        *eb |= POLLIN;
    if (t->ab.end > t->ab.start)
        *eb |= POLLOUT;
}

static void *fwd_main(void *arg)
{
    srv_vm_fwd_t *f = arg;
    enum { MAXFD = 1 + 2 * FWD_LISTEN_MAX + SRV_VM_FWD_UDP + 2 * SRV_VM_FWD_TCP };
    struct pollfd *p = calloc(MAXFD, sizeof *p);
    pref_t *r = calloc(MAXFD, sizeof *r);
    if (!p || !r) {
        free(p);
        free(r);
        return NULL;
    }
    for (;;) {
        size_t n = add(p, r, 0, f->stop[0], POLLIN, P_STOP, 0);
        for (size_t i = 0; i < f->nlst; i++) {
            n = add(p, r, n, f->lst[i].udp, POLLIN, P_UDP_LST, i);
            n = add(p, r, n, f->lst[i].tcp, POLLIN, P_TCP_LST, i);
        }
        uint64_t now = srv_mono_ms();
        for (size_t i = 0; i < SRV_VM_FWD_UDP; i++) {
            if (f->udp[i].fd >= 0 && now - f->udp[i].last_ms > FWD_UDP_IDLE_MS)
                udp_close(&f->udp[i]);
            if (f->udp[i].fd >= 0)
                n = add(p, r, n, f->udp[i].fd, POLLIN, P_UDP, i);
        }
        for (size_t i = 0; i < SRV_VM_FWD_TCP; i++) {
            short ea, eb;
            if (f->tcp[i].a < 0)
                continue;
            tcp_events(&f->tcp[i], &ea, &eb);
            n = add(p, r, n, f->tcp[i].a, ea, P_TCP_A, i);
            n = add(p, r, n, f->tcp[i].b, eb, P_TCP_B, i);
        }
        if (poll(p, n, 1000) < 0 && errno != EINTR)
            break;
        if (p[0].revents)
            break;
        for (size_t k = 1; k < n; k++) {
            short re = p[k].revents;
            size_t i = r[k].i;
            if (!re && r[k].kind != P_TCP_A)
                continue;
            switch (r[k].kind) {
            case P_UDP_LST: udp_from_clients(f, i); break;
            case P_TCP_LST: tcp_accept(f, &f->lst[i]); break;
            case P_UDP: if (f->udp[i].fd == p[k].fd) udp_to_client(f, &f->udp[i]); break;
            case P_TCP_A: /* a pair's two slots are adjacent: handled once, here */
                if (f->tcp[i].a == p[k].fd && (re || p[k + 1].revents))
                    tcp_step(&f->tcp[i], re, p[k + 1].revents);
                break;
            default: break;
            }
        }
    }
    free(p);
    free(r);
    return NULL;
}

int srv_vm_fwd_start(srv_vm_fwd_t *f)
{
    int rc = pthread_create(&f->thread, NULL, fwd_main, f);
    f->started = rc == 0;
    return rc;
}

void srv_vm_fwd_free(srv_vm_fwd_t *f)
{
    if (!f)
        return;
    if (f->started) {
        ssize_t w = write(f->stop[1], "x", 1);
        (void)w;
        pthread_join(f->thread, NULL);
    }
    for (size_t i = 0; i < f->nlst; i++) {
        close(f->lst[i].udp);
        close(f->lst[i].tcp);
    }
    for (size_t i = 0; i < SRV_VM_FWD_UDP; i++)
        udp_close(&f->udp[i]);
    for (size_t i = 0; i < SRV_VM_FWD_TCP; i++)
        if (f->tcp[i].a >= 0)
            tcp_close(&f->tcp[i], false);
    close(f->stop[0]);
    close(f->stop[1]);
    free(f);
}
