/* sockudp.c: UDP sockets over lwIP's raw udp_pcb. Received datagrams wait
 * in a ring per socket, bounded by SO_RCVBUF (counted as Linux does,
 * payload plus a per-datagram overhead); beyond it they are dropped.
 * Sending is synchronous: the datagram is queued on the device (or on
 * ARP/NDP resolution) before sendmsg returns. See net.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/ip.h"
#include "lwip/udp.h"

#include "platform/include/plat.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

#define RT_DGRAM_OVERHEAD 256  /* per queued datagram, as Linux's skb truesize */
#define RT_UDP_MAX 65507       /* largest IPv4 UDP payload */
#define RT_EPHEMERAL_LO 49152

static size_t dgram_cost(const struct pbuf *p)
{
    return p->tot_len + RT_DGRAM_OVERHEAD;
}

static void udp_in(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    struct rt_sock *s = arg;
    (void)pcb;

    if ((s->shut & RT_SHUT_RD) || s->q_bytes + dgram_cost(p) > (size_t)s->rcvbuf) {
        pbuf_free(p);
        return;
    }
    if (s->q_len == s->q_cap) {
        unsigned cap = s->q_cap ? 2 * s->q_cap : 64;
        struct rt_dgram *q = malloc(cap * sizeof *q);
        if (!q) {
            pbuf_free(p);
            return;
        }
        for (unsigned i = 0; i < s->q_len; i++)
            q[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = q;
        s->q_cap = cap;
        s->q_head = 0;
    }
    struct rt_dgram *d = &s->q[(s->q_head + s->q_len) % s->q_cap];
    d->p = p;
    ip_addr_copy(d->src, *addr);
    ip_addr_copy(d->dst, *ip_current_dest_addr());
    d->sport = port;
    d->ifindex = netif_get_index(ip_current_input_netif());
    s->q_len++;
    s->q_bytes += dgram_cost(p);
    rt_obj_notify(&s->obj);
}

int rt_udp_open(struct rt_sock *s)
{
    s->pcb.udp = udp_new_ip_type(s->family == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
    if (!s->pcb.udp)
        return -ENOMEM;
    udp_recv(s->pcb.udp, udp_in, s);
    return 0;
}

int rt_udp_bind(struct rt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    if (s->pcb.udp->local_port)
        return -EINVAL;
    if (port)
        return rt_err_to_errno(udp_bind(s->pcb.udp, ip, port));
    /* Port 0: a random ephemeral port (RFC 6056 §3.3.1), not lwIP's
     * sequential one, so a resolver's queries are harder to spoof. */
    for (int i = 0; i < 64; i++) {
        port = (uint16_t)(RT_EPHEMERAL_LO + rt_net_rand() % (65536 - RT_EPHEMERAL_LO));
        err_t e = udp_bind(s->pcb.udp, ip, port);
        if (e != ERR_USE)
            return rt_err_to_errno(e);
    }
    return rt_err_to_errno(udp_bind(s->pcb.udp, ip, 0));
}

/* Binds an unbound socket to a random port, as the first send does. */
static int autobind(struct rt_sock *s)
{
    if (s->pcb.udp->local_port)
        return 0;
    return rt_udp_bind(s, &s->pcb.udp->local_ip, 0);
}

int rt_udp_connect(struct rt_sock *s, const struct sockaddr *sa, socklen_t len)
{
    ip_addr_t ip;
    uint16_t port;
    int r;

    if (sa && len >= (socklen_t)sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
        udp_disconnect(s->pcb.udp);
        return 0;
    }
    if ((r = rt_sa_to_ip(s, sa, len, &ip, &port)) < 0 || (r = autobind(s)) < 0)
        return r;
    return rt_err_to_errno(udp_connect(s->pcb.udp, &ip, port));
}

/* The source address a sendmsg asks for (IP_PKTINFO, IPV6_PKTINFO);
 * returns 1 and sets *src, 0 for none, or a negative errno. */
static int cmsg_source(const struct rt_sock *s, const struct msghdr *m, ip_addr_t *src)
{
    struct cmsghdr *c;

    if (!m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
        return 0;
    for (c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ip_addr_set_ip4_u32_val(*src, pi.ipi_spec_dst.s_addr ? pi.ipi_spec_dst.s_addr
                                                                : pi.ipi_addr.s_addr);
            return !ip_addr_isany(src);
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo)) && s->family == AF_INET6) {
            struct in6_pktinfo pi;
            struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            sa.sin6_addr = pi.ipi6_addr;
            sa.sin6_scope_id = pi.ipi6_ifindex;
            if (rt_sa_to_ip(s, (struct sockaddr *)&sa, sizeof sa, src, &(uint16_t){0}) < 0)
                return -EINVAL;
            return !ip_addr_isany(src);
        }
        /* Anything else would change the datagram in a way not done here. */
        return -EINVAL;
    }
    return 0;
}

long rt_udp_sendmsg(struct rt_sock *s, const struct msghdr *m, int flags, int fflags)
{
    ip_addr_t dst, src;
    uint16_t port;
    size_t len = 0;
    int r, has_src;
    (void)flags;
    (void)fflags; /* a send never waits: the device queue or a drop */

    if (s->shut & RT_SHUT_WR)
        return -EPIPE;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
        len += m->msg_iov[i].iov_len;
        if (len > RT_UDP_MAX)
            return -EMSGSIZE;
    }
    if (m->msg_name) {
        if ((r = rt_sa_to_ip(s, m->msg_name, m->msg_namelen, &dst, &port)) < 0)
            return r;
        if (s->family == AF_INET6 && s->v6only && IP_IS_V6(&dst) &&
            ip6_addr_isipv4mappedipv6(ip_2_ip6(&dst)))
            return -ENETUNREACH;
    } else if (udp_flags(s->pcb.udp) & UDP_FLAGS_CONNECTED) {
        ip_addr_copy(dst, s->pcb.udp->remote_ip);
        port = s->pcb.udp->remote_port;
    } else {
        return -EDESTADDRREQ;
    }
    if (port == 0)
        return -EINVAL;
    if ((has_src = cmsg_source(s, m, &src)) < 0)
        return has_src;
    bool df = IP_IS_V4(&dst) ? s->df4 : s->df6;
    if (df && len + (IP_IS_V4(&dst) ? 28u : 48u) > rt_net_mtu(&dst))
        return -EMSGSIZE;
    if ((r = autobind(s)) < 0)
        return r;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return -ENOBUFS;
    size_t off = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
        if (m->msg_iov[i].iov_len)
            memcpy((uint8_t *)p->payload + off, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
        off += m->msg_iov[i].iov_len;
    }
    err_t e;
    rt_net_df_next = df && IP_IS_V4(&dst);
    if (has_src) {
        struct netif *n = ip_route(&src, &dst);
        e = n ? udp_sendto_if_src(s->pcb.udp, p, &dst, port, n, &src) : ERR_RTE;
    } else {
        e = udp_sendto(s->pcb.udp, p, &dst, port);
    }
    rt_net_df_next = false;
    pbuf_free(p);
    return e == ERR_OK ? (long)len : rt_err_to_errno(e);
}

/* Appends one control message; sets MSG_CTRUNC when it does not fit. */
static void put_cmsg(struct msghdr *m, size_t *used, int level, int type, const void *data,
                     size_t len)
{
    size_t need = CMSG_SPACE(len);
    if (!m->msg_control || m->msg_controllen < *used + need) {
        m->msg_flags |= MSG_CTRUNC;
        return;
    }
    struct cmsghdr *c = (struct cmsghdr *)((uint8_t *)m->msg_control + *used);
    memset(c, 0, need);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
    *used += need;
}

static void put_pktinfo(const struct rt_sock *s, const struct rt_dgram *d, struct msghdr *m)
{
    size_t used = 0;

    if (s->pktinfo4 && IP_IS_V4(&d->dst)) {
        struct in_pktinfo pi = {.ipi_ifindex = d->ifindex};
        pi.ipi_spec_dst.s_addr = pi.ipi_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&d->dst));
        put_cmsg(m, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    }
    if (s->pktinfo6 && s->family == AF_INET6) {
        struct in6_pktinfo pi = {.ipi6_ifindex = d->ifindex};
        struct sockaddr_in6 sa;
        socklen_t len = sizeof sa;
        rt_ip_to_sa(s, &d->dst, 0, (struct sockaddr *)&sa, &len);
        pi.ipi6_addr = sa.sin6_addr;
        put_cmsg(m, &used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
    }
    m->msg_controllen = used;
}

long rt_udp_recvmsg(struct rt_sock *s, struct msghdr *m, int flags, int fflags)
{
    bool wait = !(flags & MSG_DONTWAIT) && !(fflags & O_NONBLOCK);
    uint64_t deadline = rt_sock_deadline(s->rcvtimeo);

    while (s->q_len == 0) {
        if (s->shut & RT_SHUT_RD)
            return 0;
        if (!wait) {
            rt_net_poll();
            if (s->q_len)
                break;
            return -EAGAIN;
        }
        int r = rt_obj_wait(&s->obj, deadline);
        if (r == -EINTR || r == -EBADF || (r < 0 && s->q_len == 0))
            return r;
    }
    struct rt_dgram *d = &s->q[s->q_head];
    size_t got = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen && got < d->p->tot_len; i++) {
        size_t n = d->p->tot_len - got;
        if (n > m->msg_iov[i].iov_len)
            n = m->msg_iov[i].iov_len;
        pbuf_copy_partial(d->p, m->msg_iov[i].iov_base, (u16_t)n, (u16_t)got);
        got += n;
    }
    long ret = (flags & MSG_TRUNC) ? d->p->tot_len : (long)got;
    m->msg_flags = got < d->p->tot_len ? MSG_TRUNC : 0;
    if (m->msg_name)
        rt_ip_to_sa(s, &d->src, d->sport, m->msg_name, &m->msg_namelen);
    if (s->pktinfo4 || s->pktinfo6)
        put_pktinfo(s, d, m);
    else
        m->msg_controllen = 0;
    if (!(flags & MSG_PEEK)) {
        s->q_bytes -= dgram_cost(d->p);
        pbuf_free(d->p);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
    }
    return ret;
}

uint32_t rt_udp_poll(struct rt_sock *s)
{
    uint32_t ev = 0;

    if (!(s->shut & RT_SHUT_WR))
        ev |= EPOLLOUT;
    if (s->q_len)
        ev |= EPOLLIN;
    if (s->shut & RT_SHUT_RD)
        ev |= EPOLLIN | EPOLLRDHUP;
    if (s->shut == (RT_SHUT_RD | RT_SHUT_WR))
        ev |= EPOLLHUP;
    return ev;
}

int rt_udp_shutdown(struct rt_sock *s, unsigned how)
{
    /* As Linux: an unconnected socket answers ENOTCONN, but the shutdown
     * still takes effect and wakes a blocked receive. */
    s->shut |= how;
    rt_obj_notify(&s->obj);
    return udp_flags(s->pcb.udp) & UDP_FLAGS_CONNECTED ? 0 : -ENOTCONN;
}

void rt_udp_close(struct rt_sock *s)
{
    udp_remove(s->pcb.udp);
    for (unsigned i = 0; i < s->q_len; i++)
        pbuf_free(s->q[(s->q_head + i) % s->q_cap].p);
    free(s->q);
    free(s);
}
