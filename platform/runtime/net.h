/* net.h: internals of the runtime's network layer, shared by netif.c (the
 * device, lwIP's timers, address configuration), sock.c / sockudp.c /
 * socktcp.c (POSIX sockets over lwIP's raw API), poll.c (poll, select,
 * epoll, eventfd) and fsio.c (descriptors).
 *
 * Model: lwIP runs only inside system-call handlers and inside the
 * scheduler's event hook (rt_sched_set_event_hook, thread.c), never
 * concurrently: threads are cooperative on one vCPU. lwIP's callbacks
 * (a datagram arrived, data was acknowledged, a connection was reset)
 * only queue data in the socket and call rt_obj_notify(); a thread that
 * must wait blocks in rt_obj_wait() and re-checks when woken.
 *
 * Frames move in batches: the hook reads every frame waiting on the
 * device (bounded per call), replies are queued with plat_net_write()
 * and leave when the scheduler next waits in plat_wait() (one exit each
 * way per batch on hvt); nothing here calls plat_net_flush() per packet.
 */
#ifndef ZL_RT_NET_H
#define ZL_RT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

#include "platform/runtime/obj.h"

/* ---- netif.c: the device and lwIP's clock ---- */

/* start.c, before libc runs: take the network boot arguments out of
 * argv[0..argc) (--ipv4=ADDR/LEN, --ipv4-gateway=ADDR, --ipv6=ADDR/LEN,
 * --ipv6-gateway=ADDR, --dns=ADDR[,ADDR...], also as two words); the
 * values stay borrowed from argv's strings. LEN defaults to 24 (IPv4)
 * and 64 (IPv6). Returns the new argc; argv[argc] is NULL. */
int rt_net_args(int argc, char **argv);
/* Before main(): lwIP up, the device's interface configured (static
 * addresses, or DHCP when --ipv4 is absent, waiting up to 3 s for a
 * lease; IPv6 link-local and SLAAC always), /etc/resolv.conf written from
 * --dns or DHCP's name servers, addresses logged on the console. Exits
 * the guest (status 2) for a malformed network argument. Without a
 * device only loopback works. */
void rt_net_start(void);
/* lwIP initialised and the event hook installed (idempotent): every
 * socket, epoll and eventfd creation calls it, so loopback works even
 * without a device and without rt_net_start(). */
void rt_net_ready(void);
/* Feed the frames waiting on the device to lwIP (at most a bounded
 * batch), deliver loopback packets, run due timers. The event hook does
 * this; non-blocking calls that found nothing do it too, so a thread that
 * never blocks still sees traffic. */
void rt_net_poll(void);
/* rt_net_poll() (after plat_net_flush()) if none ran for a millisecond:
 * every socket and poll call starts with it, so a thread that never
 * blocks cannot keep traffic from moving. Cheap otherwise (a clock read). */
void rt_net_tick(void);
/* IPv4 and IPv6 MTU of the route to dst (the device's, or loopback's). */
uint16_t rt_net_mtu(const ip_addr_t *dst);
/* The next IPv4 datagram output gets the DF bit (IP_MTU_DISCOVER): set
 * by the UDP send path around one udp_sendto call. */
extern bool rt_net_df_next;
/* Index of the device's interface (for IP_PKTINFO), 0 when none. */
unsigned rt_net_ifindex(void);

/* ---- sockets (sock.c, sockudp.c, socktcp.c) ---- */

enum rt_sock_state {
    RT_SS_NEW = 0,     /* TCP: no connect or listen yet */
    RT_SS_LISTEN,
    RT_SS_CONNECTING,
    RT_SS_CONNECTED,
    RT_SS_CLOSED       /* TCP: reset, failed or fully closed; pcb gone */
};

#define RT_SHUT_RD 1u
#define RT_SHUT_WR 2u

/* One queued datagram (UDP receive queue). */
struct rt_dgram {
    struct pbuf *p;    /* payload only (headers hidden); owned */
    ip_addr_t src, dst;
    uint16_t sport;
    uint8_t ifindex;
};

struct rt_sock {
    struct rt_obj obj;   /* first: the socket is its object */
    int family;          /* AF_INET, AF_INET6 */
    int type;            /* SOCK_DGRAM, SOCK_STREAM */
    enum rt_sock_state state;
    union {
        struct udp_pcb *udp;
        struct tcp_pcb *tcp;
    } pcb;               /* NULL once lwIP freed it (TCP reset) */
    int err;             /* pending error for SO_ERROR / the next call (errno) */
    unsigned shut;       /* RT_SHUT_* done locally */
    bool v6only, reuseaddr, reuseport, keepalive, nodelay, linger0;
    bool pktinfo4, pktinfo6; /* IP_PKTINFO, IPV6_RECVPKTINFO */
    bool df4, df6;       /* IP_MTU_DISCOVER DO/PROBE, IPV6_DONTFRAG */
    int pmtudisc;        /* IP_MTU_DISCOVER value as set */
    uint32_t keepidle, keepintvl, keepcnt; /* TCP_KEEP*, 0: lwIP's default */
    /* TCP: the connection's addresses, kept for after lwIP freed the pcb */
    ip_addr_t lip, rip;
    uint16_t lport, rport;
    uint64_t rcvtimeo, sndtimeo; /* ns; 0: wait forever */
    int rcvbuf, sndbuf;  /* SO_RCVBUF / SO_SNDBUF as reported */
    /* UDP: receive queue, a ring of q_cap entries */
    struct rt_dgram *q;
    unsigned q_cap, q_head, q_len;
    size_t q_bytes;
    /* TCP connection: received data not yet read, and the peer's FIN */
    struct pbuf *rx;
    bool rx_fin;
    /* TCP listener: accepted connections not yet taken by accept() */
    struct rt_sock **acq;
    unsigned acq_cap, acq_head, acq_len;
};

extern const struct rt_obj_ops rt_sock_ops;

/* Socket of fd: 0 and *s (and *flags: O_NONBLOCK...), or -EBADF /
 * -ENOTSOCK. */
int rt_sock_get(int fd, struct rt_sock **s, int *flags);
/* A new socket object (no descriptor, no pcb): NULL when out of memory. */
struct rt_sock *rt_sock_alloc(int family, int type);
/* The deadline for a wait of timeout ns from now (0: none). */
uint64_t rt_sock_deadline(uint64_t timeout_ns);

/* Address conversion. sockaddr -> lwIP address and port for socket s
 * (v4-mapped IPv6 becomes IPv4 on a dual-stack socket; a link-local
 * address without scope gets the device's zone). 0 or -EINVAL,
 * -EAFNOSUPPORT. */
int rt_sa_to_ip(const struct rt_sock *s, const struct sockaddr *sa, socklen_t len,
                ip_addr_t *ip, uint16_t *port);
/* lwIP address -> sockaddr of s's family (IPv4 mapped into IPv6 on an
 * AF_INET6 socket); copies at most *len bytes and sets *len to the full
 * size, as getsockname does. */
void rt_ip_to_sa(const struct rt_sock *s, const ip_addr_t *ip, uint16_t port,
                 struct sockaddr *sa, socklen_t *len);
/* lwIP err_t -> negative errno. */
int rt_err_to_errno(int err);

/* sockudp.c: UDP behind the generic calls. */
int rt_udp_open(struct rt_sock *s);
int rt_udp_bind(struct rt_sock *s, const ip_addr_t *ip, uint16_t port);
int rt_udp_connect(struct rt_sock *s, const struct sockaddr *sa, socklen_t len);
long rt_udp_sendmsg(struct rt_sock *s, const struct msghdr *m, int flags, int fflags);
long rt_udp_recvmsg(struct rt_sock *s, struct msghdr *m, int flags, int fflags);
uint32_t rt_udp_poll(struct rt_sock *s);
void rt_udp_close(struct rt_sock *s);
int rt_udp_shutdown(struct rt_sock *s, unsigned how);

/* socktcp.c: TCP behind the generic calls. */
int rt_tcp_open(struct rt_sock *s);
int rt_tcp_bind(struct rt_sock *s, const ip_addr_t *ip, uint16_t port);
int rt_tcp_listen(struct rt_sock *s, int backlog);
int rt_tcp_accept(struct rt_sock *s, int fflags, struct rt_sock **out);
int rt_tcp_connect(struct rt_sock *s, const struct sockaddr *sa, socklen_t len, int fflags);
long rt_tcp_send(struct rt_sock *s, const struct iovec *iov, int cnt, int flags, int fflags);
long rt_tcp_recv(struct rt_sock *s, const struct iovec *iov, int cnt, int flags, int fflags);
uint32_t rt_tcp_poll(struct rt_sock *s);
void rt_tcp_close(struct rt_sock *s);
int rt_tcp_shutdown(struct rt_sock *s, unsigned how);
/* Bytes readable now (FIONREAD). */
size_t rt_tcp_readable(const struct rt_sock *s);
/* Apply the keepalive / nodelay options to the pcb (setsockopt). */
void rt_tcp_apply_opts(struct rt_sock *s);
/* With lwIP up (rt_net_ready): start bounding TIME-WAIT connections to
 * 1024, the oldest dropped first, checked every second. */
void rt_tcp_start(void);
/* Tests and tuning: the bound, and how many there are now. */
void rt_tcp_set_timewait_max(unsigned n);
unsigned rt_tcp_timewait_count(void);

#endif
