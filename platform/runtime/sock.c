/* sock.c: the socket system calls that do not depend on the protocol
 * (socket, bind, connect, listen, accept4, names, shutdown, the send and
 * receive families, socket options) and the socket descriptor object.
 * UDP and TCP behind them are sockudp.c and socktcp.c; see net.h.
 *
 * Socket options: what is honoured, and what is refused with
 * ENOPROTOOPT (callers treat it as "not supported") is listed at
 * sock_setopt(); nothing is accepted and then ignored where it would
 * change behaviour. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "platform/include/plat.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

/* Linux's 64-bit time variants (same struct timeval on x86_64), which
 * musl 1.2.3's headers do not name. */
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif

#define RT_RCVBUF_DEFAULT 212992 /* Linux's net.core.rmem_default */
#define RT_RCVBUF_MAX (4 << 20)

/* ---- the object ---- */

static long sock_rw(struct rt_obj *o, const struct iovec *iov, int cnt, int writing, int flags)
{
    struct rt_sock *s = (struct rt_sock *)o;
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = cnt};

    if (s->type == SOCK_STREAM)
        return writing ? rt_tcp_send(s, iov, cnt, 0, flags) : rt_tcp_recv(s, iov, cnt, 0, flags);
    return writing ? rt_udp_sendmsg(s, &m, 0, flags) : rt_udp_recvmsg(s, &m, 0, flags);
}

static uint32_t sock_poll(struct rt_obj *o)
{
    struct rt_sock *s = (struct rt_sock *)o;
    return s->type == SOCK_STREAM ? rt_tcp_poll(s) : rt_udp_poll(s);
}

static long sock_ioctl(struct rt_obj *o, unsigned long req, void *arg)
{
    struct rt_sock *s = (struct rt_sock *)o;

    if (req == FIONREAD) {
        size_t n = s->type == SOCK_STREAM ? rt_tcp_readable(s)
                   : s->q_len ? s->q[s->q_head % s->q_cap].p->tot_len : 0;
        *(int *)arg = n > INT_MAX ? INT_MAX : (int)n;
        return 0;
    }
    return -ENOTTY;
}

static void sock_close(struct rt_obj *o)
{
    struct rt_sock *s = (struct rt_sock *)o;

    if (s->type == SOCK_STREAM)
        rt_tcp_close(s);
    else
        rt_udp_close(s);
}

const struct rt_obj_ops rt_sock_ops = {
    .rw = sock_rw, .poll = sock_poll, .ioctl = sock_ioctl, .close = sock_close,
    .mode = S_IFSOCK | 0777,
};

struct rt_sock *rt_sock_alloc(int family, int type)
{
    struct rt_sock *s = calloc(1, sizeof *s);

    if (s) {
        s->obj.ops = &rt_sock_ops;
        s->family = family;
        s->type = type;
        s->rcvbuf = RT_RCVBUF_DEFAULT;
        s->sndbuf = type == SOCK_STREAM ? TCP_SND_BUF : RT_RCVBUF_DEFAULT;
        if (type == SOCK_STREAM)
            s->rcvbuf = TCP_WND;
    }
    return s;
}

int rt_sock_get(int fd, struct rt_sock **s, int *flags)
{
    struct rt_obj *o;
    int r = rt_fd_obj(fd, &o, flags);

    rt_net_tick();
    if (r < 0)
        return r;
    if (o->ops != &rt_sock_ops)
        return -ENOTSOCK;
    *s = (struct rt_sock *)o;
    return 0;
}

uint64_t rt_sock_deadline(uint64_t timeout_ns)
{
    return timeout_ns ? plat_clock_monotonic_ns() + timeout_ns : UINT64_MAX;
}

int rt_err_to_errno(int err)
{
    switch (err) {
    case ERR_OK: return 0;
    case ERR_MEM: return -ENOBUFS;
    case ERR_BUF: return -ENOBUFS;
    case ERR_TIMEOUT: return -ETIMEDOUT;
    case ERR_RTE: return -ENETUNREACH;
    case ERR_INPROGRESS: return -EINPROGRESS;
    case ERR_VAL: return -EINVAL;
    case ERR_WOULDBLOCK: return -EAGAIN;
    case ERR_USE: return -EADDRINUSE;
    case ERR_ALREADY: return -EALREADY;
    case ERR_ISCONN: return -EISCONN;
    case ERR_CONN: return -ENOTCONN;
    case ERR_IF: return -EIO;
    case ERR_ABRT: return -ECONNABORTED;
    case ERR_RST: return -ECONNRESET;
    case ERR_CLSD: return -ENOTCONN;
    case ERR_ARG: return -EINVAL;
    default: return -EIO;
    }
}

/* ---- addresses ---- */

int rt_sa_to_ip(const struct rt_sock *s, const struct sockaddr *sa, socklen_t len,
                ip_addr_t *ip, uint16_t *port)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (sa->sa_family != s->family)
        return -EAFNOSUPPORT;
    if (s->family == AF_INET) {
        struct sockaddr_in a;
        if (len < (socklen_t)sizeof a)
            return -EINVAL;
        memcpy(&a, sa, sizeof a);
        ip_addr_set_ip4_u32_val(*ip, a.sin_addr.s_addr);
        *port = ntohs(a.sin_port);
        return 0;
    }
    struct sockaddr_in6 a = {0};
    if (len < 24) /* RFC 2133's size, without sin6_scope_id, is allowed */
        return -EINVAL;
    memcpy(&a, sa, len < (socklen_t)sizeof a ? (size_t)len : sizeof a);
    *port = ntohs(a.sin6_port);
    uint32_t w[4];
    memcpy(w, &a.sin6_addr, 16);
    if (!s->v6only && w[0] == 0 && w[1] == 0 && w[2] == PP_HTONL(0xffffu)) {
        ip_addr_set_ip4_u32_val(*ip, w[3]);
        return 0;
    }
    IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
    ip6_addr_clear_zone(ip_2_ip6(ip));
    if (ip6_addr_islinklocal(ip_2_ip6(ip)) || ip6_addr_ismulticast_linklocal(ip_2_ip6(ip))) {
        unsigned zone = a.sin6_scope_id ? a.sin6_scope_id : rt_net_ifindex();
        if (zone > 255)
            return -EINVAL;
        ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)zone);
    }
    return 0;
}

void rt_ip_to_sa(const struct rt_sock *s, const ip_addr_t *ip, uint16_t port,
                 struct sockaddr *sa, socklen_t *len)
{
    struct sockaddr_storage ss;
    socklen_t size;

    memset(&ss, 0, sizeof ss);
    if (s->family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (ip && IP_IS_V4(ip))
            a->sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(ip));
        size = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uint32_t w[4] = {0, 0, 0, 0};
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (ip && IP_IS_V4(ip) && !IP_IS_ANY_TYPE_VAL(*ip)) {
            w[2] = PP_HTONL(0xffffu);
            w[3] = ip4_addr_get_u32(ip_2_ip4(ip));
        } else if (ip && IP_IS_V6(ip)) {
            memcpy(w, ip_2_ip6(ip)->addr, 16);
            if (ip6_addr_has_zone(ip_2_ip6(ip)))
                a->sin6_scope_id = ip6_addr_zone(ip_2_ip6(ip));
        }
        memcpy(&a->sin6_addr, w, 16);
        size = sizeof *a;
    }
    if (sa)
        memcpy(sa, &ss, *len < size ? (size_t)*len : size);
    *len = size;
}

/* Whether ip is this host's (any, loopback, or an interface's). */
static bool ip_is_local(const ip_addr_t *ip)
{
    struct netif *n;

    if (ip_addr_isany(ip) || ip_addr_isloopback(ip))
        return true;
    NETIF_FOREACH(n) {
        if (IP_IS_V4(ip) && ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(n)))
            return true;
        for (int i = 0; IP_IS_V6(ip) && i < LWIP_IPV6_NUM_ADDRESSES; i++)
            if (!ip6_addr_isinvalid(netif_ip6_addr_state(n, i)) &&
                ip6_addr_cmp_zoneless(ip_2_ip6(ip), netif_ip6_addr(n, i)))
                return true;
    }
    return false;
}

/* ---- socket, bind, connect, listen, accept ---- */

long rt_sys_socket(const long *a)
{
    int family = (int)a[0], type = (int)a[1] & 0xf, proto = (int)a[2];
    int flags = (int)a[1] & ~0xf;
    struct rt_sock *s;
    int r, fd;

    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    if (type != SOCK_DGRAM && type != SOCK_STREAM)
        return type == SOCK_RAW ? -EPROTONOSUPPORT : -EINVAL;
    if (proto && proto != (type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP))
        return -EPROTONOSUPPORT;
    rt_net_ready();
    if (!(s = rt_sock_alloc(family, type)))
        return -ENOMEM;
    r = type == SOCK_DGRAM ? rt_udp_open(s) : rt_tcp_open(s);
    if (r < 0) {
        free(s);
        return r;
    }
    fd = rt_fd_obj_open(&s->obj, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) |
                                     (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0));
    if (fd < 0)
        sock_close(&s->obj);
    return fd;
}

long rt_sys_socketpair(const long *a)
{
    (void)a;
    return -EAFNOSUPPORT; /* no AF_UNIX */
}

long rt_sys_bind(const long *a)
{
    struct rt_sock *s;
    ip_addr_t ip;
    uint16_t port;
    int r = rt_sock_get((int)a[0], &s, NULL);

    if (r < 0 || (r = rt_sa_to_ip(s, (const struct sockaddr *)a[1], (socklen_t)a[2], &ip, &port)) < 0)
        return r;
    if (!ip_is_local(&ip))
        return -EADDRNOTAVAIL;
    /* The unspecified address of a dual-stack socket takes IPv4 too. */
    if (s->family == AF_INET6 && !s->v6only && ip_addr_isany(&ip))
        ip_addr_copy(ip, *IP_ANY_TYPE);
    return s->type == SOCK_DGRAM ? rt_udp_bind(s, &ip, port) : rt_tcp_bind(s, &ip, port);
}

long rt_sys_connect(const long *a)
{
    struct rt_sock *s;
    int flags, r = rt_sock_get((int)a[0], &s, &flags);

    if (r < 0)
        return r;
    if (s->type == SOCK_DGRAM)
        return rt_udp_connect(s, (const struct sockaddr *)a[1], (socklen_t)a[2]);
    return rt_tcp_connect(s, (const struct sockaddr *)a[1], (socklen_t)a[2], flags);
}

long rt_sys_listen(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);

    if (r < 0)
        return r;
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    return rt_tcp_listen(s, (int)a[1]);
}

static long do_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    struct rt_sock *s, *c;
    int fflags, r = rt_sock_get(fd, &s, &fflags);

    if (r < 0)
        return r;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    if ((r = rt_tcp_accept(s, fflags, &c)) < 0)
        return r;
    int nfd = rt_fd_obj_open(&c->obj, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0) |
                                          (flags & SOCK_CLOEXEC ? O_CLOEXEC : 0));
    if (nfd < 0) {
        sock_close(&c->obj);
        return nfd;
    }
    if (sa && len)
        rt_ip_to_sa(c, &c->rip, c->rport, sa, len);
    return nfd;
}

long rt_sys_accept(const long *a)
{
    return do_accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0);
}

long rt_sys_accept4(const long *a)
{
    return do_accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3]);
}

/* ---- names ---- */

long rt_sys_getsockname(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);
    ip_addr_t ip;
    uint16_t port = 0;

    if (r < 0)
        return r;
    ip_addr_set_zero(&ip);
    if (s->type == SOCK_DGRAM && s->pcb.udp) {
        ip_addr_copy(ip, s->pcb.udp->local_ip);
        port = s->pcb.udp->local_port;
    } else if (s->type == SOCK_STREAM && s->pcb.tcp) {
        ip_addr_copy(ip, s->pcb.tcp->local_ip);
        port = s->pcb.tcp->local_port;
    } else {
        ip_addr_copy(ip, s->lip);
        port = s->lport;
    }
    rt_ip_to_sa(s, &ip, port, (struct sockaddr *)a[1], (socklen_t *)a[2]);
    return 0;
}

long rt_sys_getpeername(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);

    if (r < 0)
        return r;
    if (s->type == SOCK_DGRAM) {
        if (!s->pcb.udp || !(udp_flags(s->pcb.udp) & UDP_FLAGS_CONNECTED))
            return -ENOTCONN;
        rt_ip_to_sa(s, &s->pcb.udp->remote_ip, s->pcb.udp->remote_port,
                    (struct sockaddr *)a[1], (socklen_t *)a[2]);
        return 0;
    }
    if (s->state != RT_SS_CONNECTED)
        return -ENOTCONN;
    rt_ip_to_sa(s, &s->rip, s->rport, (struct sockaddr *)a[1], (socklen_t *)a[2]);
    return 0;
}

long rt_sys_shutdown(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);
    unsigned how;

    if (r < 0)
        return r;
    switch ((int)a[1]) {
    case SHUT_RD: how = RT_SHUT_RD; break;
    case SHUT_WR: how = RT_SHUT_WR; break;
    case SHUT_RDWR: how = RT_SHUT_RD | RT_SHUT_WR; break;
    default: return -EINVAL;
    }
    return s->type == SOCK_STREAM ? rt_tcp_shutdown(s, how) : rt_udp_shutdown(s, how);
}

/* ---- sending and receiving ---- */

static long do_sendmsg(int fd, const struct msghdr *m, int flags)
{
    struct rt_sock *s;
    int fflags, r = rt_sock_get(fd, &s, &fflags);

    if (r < 0)
        return r;
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    if (m->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    if (s->type == SOCK_STREAM)
        return rt_tcp_send(s, m->msg_iov, (int)m->msg_iovlen, flags, fflags);
    return rt_udp_sendmsg(s, m, flags, fflags);
}

static long do_recvmsg(int fd, struct msghdr *m, int flags)
{
    struct rt_sock *s;
    int fflags, r = rt_sock_get(fd, &s, &fflags);

    if (r < 0)
        return r;
    if (flags & (MSG_OOB | MSG_ERRQUEUE))
        return flags & MSG_OOB ? -EINVAL : -EAGAIN; /* no urgent data, no error queue */
    if (m->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    if (s->type == SOCK_STREAM) {
        m->msg_flags = 0;
        m->msg_controllen = 0;
        if (m->msg_name)
            m->msg_namelen = 0;
        return rt_tcp_recv(s, m->msg_iov, (int)m->msg_iovlen, flags, fflags);
    }
    return rt_udp_recvmsg(s, m, flags, fflags);
}

long rt_sys_sendto(const long *a)
{
    struct iovec v = {(void *)a[1], (size_t)a[2]};
    struct msghdr m = {.msg_name = (void *)a[4], .msg_namelen = (socklen_t)a[5],
                       .msg_iov = &v, .msg_iovlen = 1};
    return do_sendmsg((int)a[0], &m, (int)a[3]);
}

long rt_sys_recvfrom(const long *a)
{
    struct iovec v = {(void *)a[1], (size_t)a[2]};
    socklen_t *lenp = (socklen_t *)a[5];
    struct msghdr m = {.msg_name = lenp ? (void *)a[4] : NULL, .msg_namelen = lenp ? *lenp : 0,
                       .msg_iov = &v, .msg_iovlen = 1};
    long r = do_recvmsg((int)a[0], &m, (int)a[3]);
    if (r >= 0 && lenp && a[4])
        *lenp = m.msg_namelen;
    return r;
}

long rt_sys_sendmsg(const long *a)
{
    return do_sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
}

long rt_sys_recvmsg(const long *a)
{
    return do_recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
}

long rt_sys_sendmmsg(const long *a)
{
    struct mmsghdr *v = (struct mmsghdr *)a[1];
    unsigned n = (unsigned)a[2], i;

    if (n > UIO_MAXIOV)
        n = UIO_MAXIOV;
    for (i = 0; i < n; i++) {
        long r = do_sendmsg((int)a[0], &v[i].msg_hdr, (int)a[3]);
        if (r < 0)
            return i ? (long)i : r;
        v[i].msg_len = (unsigned)r;
    }
    return (long)i;
}

/* recvmmsg: the timeout bounds every wait of the call (Linux checks it
 * only between datagrams). MSG_WAITFORONE: after the first datagram, take
 * only what is queued. */
long rt_sys_recvmmsg(const long *a)
{
    struct mmsghdr *v = (struct mmsghdr *)a[1];
    unsigned n = (unsigned)a[2], i;
    int flags = (int)a[3];
    const struct timespec *ts = (const struct timespec *)a[4];
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);
    uint64_t saved = 0;

    if (r < 0)
        return r;
    if (ts) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
            return -EINVAL;
        uint64_t t = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
        saved = s->rcvtimeo;
        if (!t)
            flags |= MSG_DONTWAIT;
        else if (!s->rcvtimeo || t < s->rcvtimeo)
            s->rcvtimeo = t;
    }
    if (n > UIO_MAXIOV)
        n = UIO_MAXIOV;
    long res = 0;
    for (i = 0; i < n; i++) {
        long got = do_recvmsg((int)a[0], &v[i].msg_hdr, flags & ~MSG_WAITFORONE);
        if (got < 0) {
            res = i ? (long)i : got;
            break;
        }
        v[i].msg_len = (unsigned)got;
        res = i + 1;
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
        if (s->type == SOCK_STREAM && got == 0)
            break;
    }
    if (ts)
        s->rcvtimeo = saved;
    return res;
}

/* ---- options ---- */

static int opt_int(const void *val, socklen_t len, int *out)
{
    if (!val || len < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof *out);
    return 0;
}

static int opt_timeout(const void *val, socklen_t len, uint64_t *out)
{
    struct timeval tv;
    if (!val || len < (socklen_t)sizeof tv)
        return -EINVAL;
    memcpy(&tv, val, sizeof tv);
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0)
        *out = 0;
    else
        *out = (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
    return 0;
}

static struct ip_pcb *ip_pcb_of(struct rt_sock *s)
{
    if (s->type == SOCK_DGRAM)
        return (struct ip_pcb *)s->pcb.udp;
    return (struct ip_pcb *)s->pcb.tcp;
}

static void pcb_option(struct rt_sock *s, u8_t opt, bool on)
{
    struct ip_pcb *p = ip_pcb_of(s);
    if (!p)
        return;
    if (on)
        ip_set_option(p, opt);
    else
        ip_reset_option(p, opt);
}

/* Honoured: SO_REUSEADDR, SO_REUSEPORT (a second bind of the address;
 * datagrams go to one of the sockets, not spread over them),
 * SO_RCVTIMEO, SO_SNDTIMEO, SO_KEEPALIVE, SO_RCVBUF (UDP queue bound;
 * TCP's window is lwIP's fixed TCP_WND: the value is clamped to it),
 * SO_SNDBUF (clamped likewise), SO_BROADCAST, SO_LINGER (l_onoff with
 * l_linger 0: close resets; otherwise close is graceful and does not
 * wait), IP_PKTINFO, IP_MTU_DISCOVER (DO/PROBE: DF and EMSGSIZE past the
 * MTU), IP_TOS, IP_TTL, IPV6_V6ONLY (before bind), IPV6_RECVPKTINFO,
 * IPV6_DONTFRAG, IPV6_MTU_DISCOVER, IPV6_UNICAST_HOPS, IPV6_TCLASS,
 * TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. Everything else
 * is refused with ENOPROTOOPT. */
static int sock_setopt(struct rt_sock *s, int level, int name, const void *val, socklen_t len)
{
    struct ip_pcb *pcb = ip_pcb_of(s);
    int v = 0, r;

    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
                                name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW))
        return opt_timeout(val, len, name == SO_RCVTIMEO || name == SO_RCVTIMEO_NEW ?
                                     &s->rcvtimeo : &s->sndtimeo);
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (!val || len < (socklen_t)sizeof l)
            return -EINVAL;
        memcpy(&l, val, sizeof l);
        s->linger0 = l.l_onoff && l.l_linger == 0;
        return 0;
    }
    if ((r = opt_int(val, len, &v)) < 0)
        return r;
    switch (level) {
    case SOL_SOCKET:
        switch (name) {
        case SO_REUSEADDR:
        case SO_REUSEPORT:
            *(name == SO_REUSEADDR ? &s->reuseaddr : &s->reuseport) = v != 0;
            pcb_option(s, SOF_REUSEADDR, s->reuseaddr || s->reuseport);
            return 0;
        case SO_KEEPALIVE:
            s->keepalive = v != 0;
            pcb_option(s, SOF_KEEPALIVE, s->keepalive);
            return 0;
        case SO_BROADCAST:
            pcb_option(s, SOF_BROADCAST, v != 0);
            return 0;
        case SO_RCVBUF:
        case SO_RCVBUFFORCE:
            v = v < 1024 ? 2048 : v > RT_RCVBUF_MAX / 2 ? RT_RCVBUF_MAX : 2 * v;
            s->rcvbuf = s->type == SOCK_STREAM ? TCP_WND : v;
            return 0;
        case SO_SNDBUF:
        case SO_SNDBUFFORCE:
            v = v < 1024 ? 2048 : v > RT_RCVBUF_MAX / 2 ? RT_RCVBUF_MAX : 2 * v;
            s->sndbuf = s->type == SOCK_STREAM ? TCP_SND_BUF : v;
            return 0;
        }
        break;
    case IPPROTO_IP:
        if (s->family != AF_INET && !(s->family == AF_INET6 && !s->v6only))
            break;
        switch (name) {
        case IP_PKTINFO:
            s->pktinfo4 = v != 0;
            return 0;
        case IP_MTU_DISCOVER:
            if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
                return -EINVAL;
            s->pmtudisc = v;
            s->df4 = v == IP_PMTUDISC_DO || v == IP_PMTUDISC_PROBE;
            return 0;
        case IP_TOS:
            if (pcb)
                pcb->tos = (u8_t)v;
            return 0;
        case IP_TTL:
            if (v < -1 || v == 0 || v > 255)
                return -EINVAL;
            if (pcb)
                pcb->ttl = (u8_t)(v < 0 ? IP_DEFAULT_TTL : v);
            return 0;
        }
        break;
    case IPPROTO_IPV6:
        if (s->family != AF_INET6)
            break;
        switch (name) {
        case IPV6_V6ONLY:
            if (pcb && (s->type == SOCK_DGRAM ? s->pcb.udp->local_port : s->pcb.tcp->local_port))
                return -EINVAL; /* already bound */
            s->v6only = v != 0;
            if (pcb)
                IP_SET_TYPE_VAL(pcb->local_ip, s->v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY);
            return 0;
        case IPV6_RECVPKTINFO:
            s->pktinfo6 = v != 0;
            return 0;
        case IPV6_DONTFRAG:
            s->df6 = v != 0;
            return 0;
        case IPV6_MTU_DISCOVER:
            if (v < IPV6_PMTUDISC_DONT || v > IPV6_PMTUDISC_OMIT)
                return -EINVAL;
            s->df6 = v == IPV6_PMTUDISC_DO || v == IPV6_PMTUDISC_PROBE;
            return 0;
        case IPV6_UNICAST_HOPS:
            if (v < -1 || v == 0 || v > 255)
                return -EINVAL;
            if (pcb)
                pcb->ttl = (u8_t)(v < 0 ? IP_DEFAULT_TTL : v);
            return 0;
        case IPV6_TCLASS:
            if (v < -1 || v > 255)
                return -EINVAL;
            if (pcb)
                pcb->tos = (u8_t)(v < 0 ? 0 : v);
            return 0;
        }
        break;
    case IPPROTO_TCP:
        if (s->type != SOCK_STREAM)
            break;
        switch (name) {
        case TCP_NODELAY:
            s->nodelay = v != 0;
            rt_tcp_apply_opts(s);
            return 0;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
            if (v < 1 || v > 32767)
                return -EINVAL;
            *(name == TCP_KEEPIDLE ? &s->keepidle : &s->keepintvl) = (uint32_t)v;
            rt_tcp_apply_opts(s);
            return 0;
        case TCP_KEEPCNT:
            if (v < 1 || v > 127)
                return -EINVAL;
            s->keepcnt = (uint32_t)v;
            rt_tcp_apply_opts(s);
            return 0;
        }
        break;
    }
    return -ENOPROTOOPT;
}

static int put_int(void *val, socklen_t *len, int v)
{
    if (!len || *len < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

static int sock_getopt(struct rt_sock *s, int level, int name, void *val, socklen_t *len)
{
    struct ip_pcb *pcb = ip_pcb_of(s);

    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
                                name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW)) {
        uint64_t t = name == SO_RCVTIMEO || name == SO_RCVTIMEO_NEW ? s->rcvtimeo : s->sndtimeo;
        struct timeval tv = {(time_t)(t / 1000000000u), (suseconds_t)(t % 1000000000u / 1000u)};
        if (!len || *len < (socklen_t)sizeof tv)
            return -EINVAL;
        memcpy(val, &tv, sizeof tv);
        *len = sizeof tv;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l = {s->linger0, 0};
        if (!len || *len < (socklen_t)sizeof l)
            return -EINVAL;
        memcpy(val, &l, sizeof l);
        *len = sizeof l;
        return 0;
    }
    switch (level) {
    case SOL_SOCKET:
        switch (name) {
        case SO_REUSEADDR: return put_int(val, len, s->reuseaddr);
        case SO_REUSEPORT: return put_int(val, len, s->reuseport);
        case SO_KEEPALIVE: return put_int(val, len, s->keepalive);
        case SO_BROADCAST: return put_int(val, len, pcb && ip_get_option(pcb, SOF_BROADCAST));
        case SO_RCVBUF: return put_int(val, len, s->rcvbuf);
        case SO_SNDBUF: return put_int(val, len, s->sndbuf);
        case SO_TYPE: return put_int(val, len, s->type);
        case SO_DOMAIN: return put_int(val, len, s->family);
        case SO_PROTOCOL: return put_int(val, len, s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
        case SO_ACCEPTCONN: return put_int(val, len, s->state == RT_SS_LISTEN);
        case SO_ERROR: {
            int e = s->err;
            s->err = 0;
            return put_int(val, len, e);
        }
        }
        break;
    case IPPROTO_IP:
        switch (name) {
        case IP_PKTINFO: return put_int(val, len, s->pktinfo4);
        case IP_MTU_DISCOVER: return put_int(val, len, s->pmtudisc);
        case IP_TOS: return put_int(val, len, pcb ? pcb->tos : 0);
        case IP_TTL: return put_int(val, len, pcb ? pcb->ttl : IP_DEFAULT_TTL);
        }
        break;
    case IPPROTO_IPV6:
        if (s->family != AF_INET6)
            break;
        switch (name) {
        case IPV6_V6ONLY: return put_int(val, len, s->v6only);
        case IPV6_RECVPKTINFO: return put_int(val, len, s->pktinfo6);
        case IPV6_DONTFRAG: return put_int(val, len, s->df6);
        case IPV6_UNICAST_HOPS: return put_int(val, len, pcb ? pcb->ttl : IP_DEFAULT_TTL);
        case IPV6_TCLASS: return put_int(val, len, pcb ? pcb->tos : 0);
        }
        break;
    case IPPROTO_TCP:
        if (s->type != SOCK_STREAM)
            break;
        switch (name) {
        case TCP_NODELAY: return put_int(val, len, s->nodelay);
        case TCP_MAXSEG: return put_int(val, len, s->pcb.tcp && s->state == RT_SS_CONNECTED ?
                                                      tcp_mss(s->pcb.tcp) : TCP_MSS);
        case TCP_KEEPIDLE: return put_int(val, len, s->keepidle ? (int)s->keepidle : 7200);
        case TCP_KEEPINTVL: return put_int(val, len, s->keepintvl ? (int)s->keepintvl : 75);
        case TCP_KEEPCNT: return put_int(val, len, s->keepcnt ? (int)s->keepcnt : 9);
        }
        break;
    }
    return -ENOPROTOOPT;
}

long rt_sys_setsockopt(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);
    return r < 0 ? r : sock_setopt(s, (int)a[1], (int)a[2], (const void *)a[3], (socklen_t)a[4]);
}

long rt_sys_getsockopt(const long *a)
{
    struct rt_sock *s;
    int r = rt_sock_get((int)a[0], &s, NULL);
    return r < 0 ? r : sock_getopt(s, (int)a[1], (int)a[2], (void *)a[3], (socklen_t *)a[4]);
}
