/* sockets: the runtime's network stack seen through musl's own socket
 * calls. First self-checks that need no peer (loopback TCP and UDP over
 * 127.0.0.1 and ::1, getaddrinfo for numeric addresses, poll/select,
 * a receive interrupted by close, what a name lookup does), then a UDP
 * and TCP echo server on every address (0.0.0.0 and ::) at port=N (7 by
 * default), shaped like the DNS server's loops: UDP with recvmmsg
 * MSG_WAITFORONE / sendmmsg and IP_PKTINFO / IPV6_PKTINFO on a wildcard
 * bind, one thread per family; TCP in one epoll loop with non-blocking
 * accept4 and an eventfd; the main thread parks in sigwaitinfo() as the
 * server's control loop does. A UDP datagram "quit" ends the guest with
 * SUCCESS and the counts. Network configuration comes from the runtime's
 * boot arguments (--ipv4=..., DHCP otherwise). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BATCH 32

static int port = 7;
static atomic_bool stop;
static atomic_long udp_in, udp_out, tcp_conns, tcp_bytes;
static int wake_fd;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- self-checks ---- */

static void loopback_tcp(const char *ip)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    CHECK(getaddrinfo(ip, "0", &hints, &ai) == 0);
    int l = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    CHECK(l >= 0);
    CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    CHECK(bind(l, ai->ai_addr, ai->ai_addrlen) == 0);
    CHECK(listen(l, 4) == 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    CHECK(getsockname(l, (struct sockaddr *)&ss, &len) == 0);
    int c = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(connect(c, (struct sockaddr *)&ss, len) < 0 && errno == EINPROGRESS);
    struct pollfd pf = {l, POLLIN, 0};
    CHECK(poll(&pf, 1, 2000) == 1);
    int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    CHECK(a >= 0);
    fd_set ws;
    FD_ZERO(&ws);
    FD_SET(c, &ws);
    struct timeval tv = {2, 0};
    CHECK(select(c + 1, NULL, &ws, NULL, &tv) == 1 && FD_ISSET(c, &ws));
    int err = -1;
    socklen_t el = sizeof err;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
    CHECK(fcntl(c, F_SETFL, 0) == 0);
    CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
    CHECK(send(c, "ping", 4, MSG_NOSIGNAL) == 4);
    char b[8] = {0};
    CHECK(recv(a, b, 4, MSG_WAITALL) == 4 && memcmp(b, "ping", 4) == 0);
    CHECK(write(a, "pong", 4) == 4);
    CHECK(shutdown(a, SHUT_WR) == 0);
    CHECK(read(c, b, sizeof b) == 4 && memcmp(b, "pong", 4) == 0);
    CHECK(read(c, b, sizeof b) == 0);
    close(a);
    close(c);
    close(l);
    freeaddrinfo(ai);
    printf("loopback tcp %s ok\n", ip);
}

static void loopback_udp(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(a, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(a, (struct sockaddr *)&sa, &len) == 0 && sa.sin_port != 0);
    CHECK(sendto(b, "hello", 5, 0, (struct sockaddr *)&sa, sizeof sa) == 5);
    char buf[16];
    struct timeval tv = {2, 0};
    CHECK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    CHECK(recv(a, buf, sizeof buf, 0) == 5 && memcmp(buf, "hello", 5) == 0);
    close(a);
    close(b);
    printf("loopback udp ok\n");
}

/* A thread blocked in recv() whose socket another thread closes comes
 * back with EBADF instead of sleeping on a freed socket. */
static void *blocked_recv(void *arg)
{
    char b[4];
    long r = recv(*(int *)arg, b, sizeof b, 0);
    return (void *)(r < 0 ? (long)errno : 0);
}

static void close_while_blocked(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    pthread_t t;
    void *res;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(pthread_create(&t, NULL, blocked_recv, &fd) == 0);
    usleep(10000); /* it blocks */
    close(fd);
    CHECK(pthread_join(t, &res) == 0);
    CHECK((long)res == EBADF);
    printf("close while blocked: EBADF\n");
}

static void names(void)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    CHECK(getaddrinfo("192.0.2.53", "53", &hints, &ai) == 0);
    CHECK(ai->ai_family == AF_INET);
    freeaddrinfo(ai);
    CHECK(getaddrinfo("2001:db8::53", "53", &hints, &ai) == 0);
    CHECK(ai->ai_family == AF_INET6);
    freeaddrinfo(ai);
    printf("getaddrinfo numeric ok\n");
    uint64_t t0 = now_ms();
    int r = getaddrinfo("example.invalid", "53", &hints, &ai);
    printf("getaddrinfo name: %s after %llu ms\n", r ? gai_strerror(r) : "resolved",
           (unsigned long long)(now_ms() - t0));
    if (r == 0)
        freeaddrinfo(ai);
}

/* ---- UDP echo (the server's loop shape) ---- */

typedef union {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
} ctl_t;

static int udp_open(int family)
{
    int one = 1, probe = IP_PMTUDISC_PROBE;
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {0, 250000};
    struct sockaddr_storage ss = {0};
    socklen_t len;
    CHECK(fd >= 0);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        len = sizeof *a;
        CHECK(setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe) == 0);
        CHECK(setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        len = sizeof *a;
        CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
        CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one) == 0);
        CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0);
    }
    CHECK(bind(fd, (struct sockaddr *)&ss, len) == 0);
    return fd;
}

struct udp_bufs {
    struct mmsghdr rx[BATCH], tx[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage peer[BATCH];
    ctl_t ctl[BATCH];
    char bufs[BATCH][2048];
};

static void *udp_main(void *arg)
{
    int fd = *(int *)arg;
    struct udp_bufs *u = calloc(1, sizeof *u);
    CHECK(u);
    struct mmsghdr *rx = u->rx, *tx = u->tx;
    struct iovec *iov = u->iov;
    struct sockaddr_storage *peer = u->peer;
    ctl_t *ctl = u->ctl;
    char (*bufs)[2048] = u->bufs;

    while (!atomic_load(&stop)) {
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
            rx[i].msg_hdr = (struct msghdr){.msg_name = &peer[i], .msg_namelen = sizeof peer[i],
                                            .msg_iov = &iov[i], .msg_iovlen = 1,
                                            .msg_control = ctl[i].buf,
                                            .msg_controllen = sizeof ctl[i].buf};
        }
        int n = recvmmsg(fd, rx, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0)
            continue;
        atomic_fetch_add(&udp_in, n);
        for (int i = 0; i < n; i++) {
            if (rx[i].msg_len == 4 && memcmp(bufs[i], "quit", 4) == 0) {
                atomic_store(&stop, true);
                uint64_t one = 1;
                if (write(wake_fd, &one, sizeof one) != sizeof one)
                    printf("FAILURE: eventfd write\n");
                usleep(300000); /* the other loops notice and leave */
                printf("udp %ld in %ld out, tcp %ld connections %ld bytes\n", atomic_load(&udp_in),
                       atomic_load(&udp_out), atomic_load(&tcp_conns), atomic_load(&tcp_bytes));
                printf("SUCCESS\n");
                exit(0);
            }
            iov[i].iov_len = rx[i].msg_len;
            /* answer from the address asked: the control message goes back */
            tx[i].msg_hdr = (struct msghdr){.msg_name = &peer[i], .msg_namelen = rx[i].msg_hdr.msg_namelen,
                                            .msg_iov = &iov[i], .msg_iovlen = 1,
                                            .msg_control = ctl[i].buf,
                                            .msg_controllen = rx[i].msg_hdr.msg_controllen};
            struct cmsghdr *c = CMSG_FIRSTHDR(&tx[i].msg_hdr);
            if (c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof pi);
                pi.ipi_spec_dst = pi.ipi_addr;
                pi.ipi_ifindex = 0;
                memcpy(CMSG_DATA(c), &pi, sizeof pi);
            }
        }
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, tx + done, (unsigned)(n - done), 0);
            done += r > 0 ? r : 1;
            if (r > 0)
                atomic_fetch_add(&udp_out, r);
        }
    }
    free(u);
    return NULL;
}

/* ---- TCP echo (the server's event-loop shape) ---- */

enum { K_LISTEN = 1, K_WAKE = 2 };

static int tcp_listen(int ep, int family)
{
    int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    CHECK(fd >= 0);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        len = sizeof *a;
        CHECK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0);
    }
    CHECK(bind(fd, (struct sockaddr *)&ss, len) == 0);
    CHECK(listen(fd, 128) == 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = K_LISTEN | (uint64_t)fd << 8};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
    return fd;
}

/* One connection's event: echo what is readable; output that does not
 * fit waits for EPOLLOUT. Closes on EOF, reset or error. */
struct conn {
    int fd;
    char out[65536];
    size_t out_len;
};

static void conn_event(int ep, struct conn *c, uint32_t ev)
{
    if (!(ev & EPOLLERR) && c->out_len == 0 && (ev & EPOLLIN)) {
        ssize_t r = read(c->fd, c->out, sizeof c->out);
        if (r > 0) {
            c->out_len = (size_t)r;
            atomic_fetch_add(&tcp_bytes, r);
        } else if (r == 0 || errno != EAGAIN) {
            ev |= EPOLLERR;
        }
    }
    while (!(ev & EPOLLERR) && c->out_len) {
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN)
            break;
        if (w <= 0) {
            ev |= EPOLLERR;
            break;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
    if (ev & EPOLLERR) {
        close(c->fd); /* leaves the epoll set */
        free(c);
        return;
    }
    struct epoll_event e = {.events = c->out_len ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e)) {
        close(c->fd);
        free(c);
    }
}

static void *tcp_main(void *arg)
{
    int ep = *(int *)arg;
    struct epoll_event evs[64];
    while (!atomic_load(&stop)) {
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            if ((d & 0xff) == K_WAKE)
                continue;
            if ((d & 0xff) == K_LISTEN) {
                int fd;
                while ((fd = accept4((int)(d >> 8), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct conn *c = calloc(1, sizeof *c);
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    if (!c || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) {
                        close(fd);
                        free(c);
                        continue;
                    }
                    c->fd = fd;
                    atomic_fetch_add(&tcp_conns, 1);
                }
                continue;
            }
            conn_event(ep, evs[i].data.ptr, evs[i].events);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "port=", 5) == 0)
            port = atoi(argv[i] + 5);
        else if (strncmp(argv[i], "--", 2) == 0) /* the runtime takes its own */
            printf("FAILURE: boot argument %s reached main\n", argv[i]);
    setvbuf(stdout, NULL, _IONBF, 0);

    loopback_tcp("127.0.0.1");
    loopback_tcp("::1");
    loopback_udp();
    close_while_blocked();
    names();

    int ep = epoll_create1(EPOLL_CLOEXEC), fd4 = udp_open(AF_INET), fd6 = udp_open(AF_INET6);
    CHECK(ep >= 0);
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = K_WAKE};
    CHECK(wake_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &ev) == 0);
    tcp_listen(ep, AF_INET);
    tcp_listen(ep, AF_INET6);
    /* No signal ever comes: a timed wait times out, an untimed one parks
     * this thread for good while the others serve. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct timespec ts = {0, 20000000};
    CHECK(sigtimedwait(&set, NULL, &ts) < 0 && errno == EAGAIN);
    pthread_t t4, t6, tt;
    CHECK(pthread_create(&t4, NULL, udp_main, &fd4) == 0);
    CHECK(pthread_create(&t6, NULL, udp_main, &fd6) == 0);
    CHECK(pthread_create(&tt, NULL, tcp_main, &ep) == 0);
    CHECK(pthread_detach(t4) == 0 && pthread_detach(t6) == 0 && pthread_detach(tt) == 0);
    printf("serving on port %d\n", port);
    sigwaitinfo(&set, NULL);
    printf("FAILURE: sigwaitinfo returned\n");
    return 1;
}
