/* Bounded network waits, and the TCP stream libgit2 uses for git:// and
 * https://. libgit2 1.5 has no server timeout: its own socket stream
 * blocks in connect() and recv() for as long as the kernel lets it, so a
 * remote that accepts and stays silent would hold the store thread
 * forever. This stream is non-blocking underneath and polls with the
 * deadline of the operation running on the calling thread. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <git2/sys/stream.h>

#include "gitstore/gs_int.h"

int64_t gs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gs_wait(gs_deadline_t *dl, int fd, short events)
{
    for (;;) {
        int ms = -1;
        int idle = 0;
        if (dl && dl->idle_ms)
            ms = (int)dl->idle_ms, idle = 1;
        if (dl && dl->end_ms) {
            int64_t left = dl->end_ms - gs_now_ms();
            if (left < 0)
                left = 0;
            if (ms < 0 || left < ms)
                ms = (int)left, idle = 0;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            git_error_set(GIT_ERROR_OS, "poll: %s", strerror(errno));
            return -1;
        }
        dl->timed_out = 1;
        if (idle)
            git_error_set(GIT_ERROR_NET, "the remote sent nothing for %u ms",
                          dl->idle_ms);
        else
            git_error_set(GIT_ERROR_NET, "not finished in time");
        return -1;
    }
}

static int connect_one(gs_deadline_t *dl, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        goto fail;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    if (gs_wait(dl, fd, POLLOUT) < 0)
        goto fail;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        errno = soerr ? soerr : errno;
        goto fail;
    }
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int gs_tcp_connect(gs_deadline_t *dl, const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        git_error_set(GIT_ERROR_NET, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, e = 0;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(dl, ai);
        e = errno;
        if (dl && dl->timed_out)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0 && !(dl && dl->timed_out))
        git_error_set(GIT_ERROR_NET, "cannot connect to %s port %s: %s", host, port,
                      strerror(e));
    return fd;
}

/* The first members mirror libgit2's private git_socket_stream, whose
 * descriptor its built-in ssh transport reads; the store never uses that
 * transport (gitstore/ssh.c replaces it), this only keeps it working for
 * anything else in the process that might. */
typedef struct tcp_stream {
    git_stream parent;
    char *host;
    char *port;
    int fd;
    gs_deadline_t *dl;
} tcp_stream_t;

static _Thread_local gs_deadline_t *bound_dl;

void gs_net_bind(gs_deadline_t *dl)
{
    bound_dl = dl;
}

static int tcp_connect(git_stream *stream)
{
    tcp_stream_t *st = (tcp_stream_t *)stream;
    st->fd = gs_tcp_connect(st->dl, st->host, st->port);
    return st->fd < 0 ? -1 : 0;
}

static ssize_t tcp_read(git_stream *stream, void *data, size_t len)
{
    tcp_stream_t *st = (tcp_stream_t *)stream;
    for (;;) {
        ssize_t n = recv(st->fd, data, len, 0);
        if (n >= 0) {
            if (st->dl)
                st->dl->bytes += (size_t)n;
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            git_error_set(GIT_ERROR_NET, "receive from %s: %s", st->host, strerror(errno));
            return -1;
        }
        if (gs_wait(st->dl, st->fd, POLLIN) < 0)
            return -1;
    }
}

static ssize_t tcp_write(git_stream *stream, const char *data, size_t len, int flags)
{
    tcp_stream_t *st = (tcp_stream_t *)stream;
    (void)flags;
    for (;;) {
        ssize_t n = send(st->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) {
            if (st->dl)
                st->dl->bytes += (size_t)n;
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            git_error_set(GIT_ERROR_NET, "send to %s: %s", st->host, strerror(errno));
            return -1;
        }
        if (gs_wait(st->dl, st->fd, POLLOUT) < 0)
            return -1;
    }
}

static int tcp_close(git_stream *stream)
{
    tcp_stream_t *st = (tcp_stream_t *)stream;
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    return 0;
}

static void tcp_free(git_stream *stream)
{
    tcp_stream_t *st = (tcp_stream_t *)stream;
    tcp_close(stream);
    free(st->host);
    free(st->port);
    free(st);
}

static int tcp_new(git_stream **out, const char *host, const char *port)
{
    tcp_stream_t *st = calloc(1, sizeof(*st));
    if (!st || !(st->host = strdup(host)) || !(st->port = strdup(port))) {
        if (st)
            free(st->host);
        free(st);
        git_error_set_oom();
        return -1;
    }
    st->fd = -1;
    st->dl = bound_dl;
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.connect = tcp_connect;
    st->parent.read = tcp_read;
    st->parent.write = tcp_write;
    st->parent.close = tcp_close;
    st->parent.free = tcp_free;
    *out = &st->parent;
    return 0;
}

int gs_net_register(void)
{
    git_stream_registration reg = {
        .version = GIT_STREAM_VERSION,
        .init = tcp_new,
    };
    return git_stream_register(GIT_STREAM_STANDARD, &reg);
}
