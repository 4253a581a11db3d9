/* The socket half of acme/http.h: connections, TLS, requests. */
#include "acme/http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "acme/key.h"

struct acme_http {
    acme_http_opts_t o;
    char ua[64];
    char err[256];
    acme_rng_t rng;
    mbedtls_x509_crt ca;
    bool have_ca;
    mbedtls_ssl_config conf;
    /* The one connection. */
    int fd;             /* -1 when there is none */
    bool tls;
    char host[256], port[6];
    mbedtls_ssl_context ssl;
    bool ssl_on;
    int64_t deadline;   /* of the request under way, monotonic ms */
    int io_err;         /* the error the socket calls under mbedTLS met */
    unsigned nconn;
    uint8_t rbuf[16384]; /* response bytes as they arrive */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int herr(acme_http_t *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int herr(acme_http_t *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return err;
}

static const char *tls_text(int rc, char *buf, size_t n)
{
    mbedtls_strerror(rc, buf, n);
    return buf;
}

int acme_http_new(acme_http_t **out, const acme_http_opts_t *o, char *errmsg, size_t errlen)
{
    acme_http_t *c = calloc(1, sizeof(*c));
    if (!c)
        return ZL_ENOMEM;
    if (o)
        c->o = *o;
    c->o.ca_file = NULL;
    if (!c->o.connect_ms)
        c->o.connect_ms = 10000;
    if (!c->o.read_ms)
        c->o.read_ms = 30000;
    if (!c->o.request_ms)
        c->o.request_ms = 60000;
    if (!c->o.max_body)
        c->o.max_body = ACME_HTTP_MAX_BODY;
    snprintf(c->ua, sizeof(c->ua), "%s", o && o->user_agent ? o->user_agent : "zonelet-acme");
    c->o.user_agent = c->ua;
    c->fd = -1;
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_ssl_init(&c->ssl);
    int rc = acme_rng_init(&c->rng);
    if (rc) {
        snprintf(errmsg ? errmsg : c->err, errmsg ? errlen : sizeof(c->err), "random generator");
        acme_http_free(c);
        return rc;
    }
    if (o && o->ca_file) {
        char t[128];
        int r = mbedtls_x509_crt_parse_file(&c->ca, o->ca_file);
        /* A positive count: some certificates of a bundle were skipped. */
        if (r < 0 || c->ca.version == 0) {
            if (errmsg)
                snprintf(errmsg, errlen, "CA file %s: %s", o->ca_file,
                         r < 0 ? tls_text(r, t, sizeof(t)) : "no certificate");
            acme_http_free(c);
            return ZL_EIO;
        }
        c->have_ca = true;
    }
    if (mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT)) {
        acme_http_free(c);
        return ZL_ECRYPTO;
    }
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    mbedtls_ssl_conf_rng(&c->conf, acme_rng_fill, &c->rng);
    *out = c;
    return ZL_OK;
}

static void conn_close(acme_http_t *c)
{
    if (c->ssl_on) {
        if (c->fd >= 0) {
            /* Best effort, and never a long wait; the request's own
             * deadline still holds for what follows (a reconnection). */
            int64_t deadline = c->deadline;
            c->deadline = now_ms() + 100;
            mbedtls_ssl_close_notify(&c->ssl);
            c->deadline = deadline;
        }
        mbedtls_ssl_free(&c->ssl);
        mbedtls_ssl_init(&c->ssl);
        c->ssl_on = false;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void acme_http_free(acme_http_t *c)
{
    if (!c)
        return;
    conn_close(c);
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    acme_rng_free(&c->rng);
    free(c);
}

const char *acme_http_errmsg(const acme_http_t *c)
{
    return c->err;
}

unsigned acme_http_connections(const acme_http_t *c)
{
    return c->nconn;
}

/* Waits until fd is ready for events, at most read_ms and never past the
 * request's deadline. */
static int wait_fd(acme_http_t *c, int fd, short events, int limit_ms)
{
    for (;;) {
        int64_t left = c->deadline - now_ms();
        if (left > limit_ms)
            left = limit_ms;
        if (left <= 0)
            return ZL_ETIMEOUT;
        struct pollfd pfd = { .fd = fd, .events = events };
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return ZL_OK;
        if (n == 0)
            return ZL_ETIMEOUT;
        if (errno != EINTR)
            return ZL_EIO;
    }
}

/* One send: the count sent, or a negative ZL_* error. */
static ssize_t sock_send(acme_http_t *c, const void *p, size_t n)
{
    for (;;) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        if (k >= 0)
            return k;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return ZL_EIO;
        int rc = wait_fd(c, c->fd, POLLOUT, c->o.read_ms);
        if (rc)
            return rc;
    }
}

/* One receive: the count (0 at the end of the stream), or a negative error. */
static ssize_t sock_recv(acme_http_t *c, void *p, size_t n)
{
    for (;;) {
        ssize_t k = recv(c->fd, p, n, 0);
        if (k >= 0)
            return k;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return ZL_EIO;
        int rc = wait_fd(c, c->fd, POLLIN, c->o.read_ms);
        if (rc)
            return rc;
    }
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
    acme_http_t *c = ctx;
    ssize_t k = sock_send(c, p, n);
    if (k >= 0)
        return (int)k;
    c->io_err = (int)k;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
    acme_http_t *c = ctx;
    ssize_t k = sock_recv(c, p, n);
    if (k >= 0)
        return (int)k;
    c->io_err = (int)k;
    return k == ZL_ETIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* A failed mbedTLS call as a ZL_* error with its message. */
static int tls_err(acme_http_t *c, int rc, const char *what)
{
    char t[128];
    if (c->io_err == ZL_ETIMEOUT || rc == MBEDTLS_ERR_SSL_TIMEOUT)
        return herr(c, ZL_ETIMEOUT, "%s %s:%s: timed out", what, c->host, c->port);
    if (c->io_err)
        return herr(c, ZL_EIO, "%s %s:%s: %s", what, c->host, c->port, zl_strerror(c->io_err));
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char info[256];
        uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
        if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
            info[0] = '\0';
        for (char *s = info; *s; s++)
            if (*s == '\n')
                *s = s[1] ? ';' : '\0';
        return herr(c, ZL_EBADSIG, "%s %s:%s: server certificate: %s", what, c->host, c->port, info);
    }
    return herr(c, ZL_ECRYPTO, "%s %s:%s: %s", what, c->host, c->port, tls_text(rc, t, sizeof(t)));
}

static int tcp_connect(acme_http_t *c, const acme_url_t *u)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *res;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g)
        return herr(c, ZL_ENOTFOUND, "%s: %s", u->host, gai_strerror(g));
    int rc = ZL_EIO;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int e = 0;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            e = errno;
            if (e == EINPROGRESS) {
                rc = wait_fd(c, fd, POLLOUT, c->o.connect_ms);
                socklen_t len = sizeof(e);
                if (rc == ZL_OK && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                    e = errno;
                if (rc)
                    e = ETIMEDOUT;
            }
        }
        if (e == 0) {
            c->fd = fd;
            freeaddrinfo(res);
            return ZL_OK;
        }
        close(fd);
        rc = e == ETIMEDOUT ? ZL_ETIMEOUT : ZL_EIO;
        herr(c, rc, "connect %s:%s: %s", u->host, u->port, strerror(e));
    }
    freeaddrinfo(res);
    return rc;
}

static int conn_open(acme_http_t *c, const acme_url_t *u)
{
    conn_close(c);
    int rc = tcp_connect(c, u);
    if (rc)
        return rc;
    c->nconn++;
    c->tls = u->tls;
    snprintf(c->host, sizeof(c->host), "%s", u->host);
    snprintf(c->port, sizeof(c->port), "%s", u->port);
    if (!u->tls)
        return ZL_OK;
    c->io_err = ZL_OK;
    c->ssl_on = true;
    int r = mbedtls_ssl_setup(&c->ssl, &c->conf);
    if (!r)
        r = mbedtls_ssl_set_hostname(&c->ssl, u->host);
    if (r)
        return tls_err(c, r, "TLS set-up");
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    while ((r = mbedtls_ssl_handshake(&c->ssl)) != 0)
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
            return tls_err(c, r, "TLS handshake with");
    return ZL_OK;
}

static int conn_write(acme_http_t *c, const char *p, size_t n)
{
    c->io_err = ZL_OK;
    while (n) {
        ssize_t k;
        if (c->ssl_on) {
            int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)p, n);
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
                continue;
            if (r < 0)
                return tls_err(c, r, "send to");
            k = r;
        } else if ((k = sock_send(c, p, n)) < 0)
            return herr(c, (int)k, "send to %s:%s: %s", c->host, c->port, zl_strerror((int)k));
        p += k;
        n -= (size_t)k;
    }
    return ZL_OK;
}

/* Bytes read into p (0 at the end of the stream) or a negative error. */
static ssize_t conn_read(acme_http_t *c, void *p, size_t n)
{
    c->io_err = ZL_OK;
    if (!c->ssl_on) {
        ssize_t k = sock_recv(c, p, n);
        if (k < 0)
            herr(c, (int)k, "receive from %s:%s: %s", c->host, c->port, zl_strerror((int)k));
        return k;
    }
    for (;;) {
        int r = mbedtls_ssl_read(&c->ssl, p, n);
        if (r >= 0)
            return r;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return 0;
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
            return tls_err(c, r, "receive from");
    }
}

/* The request's head and body, checked. */
static int build_request(acme_http_t *c, const acme_http_req_t *req, const acme_url_t *u,
                         acme_buf_t *out)
{
    const char *m = req->method;
    if (!m || (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "POST")))
        return herr(c, ZL_EINVAL, "method %s not supported", m ? m : "(none)");
    acme_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: %s\r\n", m, u->path,
                    u->v6 ? "[" : "", u->host, u->v6 ? "]" : "", u->port_given ? ":" : "",
                    u->port_given ? u->port : "", c->ua);
    for (const char *const *h = req->headers; h && *h; h++) {
        const char *colon = strchr(*h, ':');
        if (!colon || colon == *h || strpbrk(*h, "\r\n"))
            return herr(c, ZL_EINVAL, "bad header line");
        acme_buf_printf(out, "%s\r\n", *h);
    }
    if (req->body_len || strcmp(m, "POST") == 0)
        acme_buf_printf(out, "Content-Length: %zu\r\n", req->body_len);
    acme_buf_puts(out, "\r\n");
    if (req->body_len)
        acme_buf_put(out, req->body, req->body_len);
    return out->err;
}

/* Reads one response. *fresh_fail: the connection ended before the
 * first byte of it (a kept-alive connection the server had closed). */
static int read_response(acme_http_t *c, acme_http_resp_t *resp, bool head, bool *fresh_fail)
{
    uint8_t *buf = c->rbuf;
    acme_http_parser_t p;
    acme_http_parser_init(&p, resp, head);
    bool any = false;
    int rc;
    *fresh_fail = false;
    for (;;) {
        ssize_t k = conn_read(c, buf, sizeof(c->rbuf));
        if (k < 0) {
            *fresh_fail = !any && k == ZL_EIO;
            rc = (int)k;
            break;
        }
        if (k == 0) {
            rc = acme_http_parser_eof(&p);
            if (rc == 1) {
                resp->close = true;
                rc = ZL_OK;
            } else {
                *fresh_fail = !any;
                rc = herr(c, ZL_EIO, "%s:%s closed the connection before the response was complete",
                          c->host, c->port);
            }
            break;
        }
        any = true;
        size_t used;
        rc = acme_http_parser_feed(&p, buf, (size_t)k, &used);
        if (rc < 0) {
            herr(c, rc, "response from %s:%s: %s", c->host, c->port,
                 rc == ZL_ESPACE ? "too large" : "malformed HTTP");
            break;
        }
        if (rc == 1) {
            if (used < (size_t)k)
                resp->close = true; /* bytes we did not ask for */
            rc = ZL_OK;
            break;
        }
    }
    acme_http_parser_free(&p);
    return rc;
}

int acme_http_request(acme_http_t *c, const acme_http_req_t *req, acme_http_resp_t *resp)
{
    acme_http_resp_init(resp, c->o.max_body);
    c->err[0] = '\0';
    acme_url_t u;
    if (!req->url || acme_url_parse(req->url, &u))
        return herr(c, ZL_EINVAL, "bad URL %s", req->url ? req->url : "(none)");
    if (u.tls && !c->have_ca)
        return herr(c, ZL_EINVAL, "https needs a CA file");
    acme_buf_t out;
    acme_buf_init(&out, 0);
    int rc = build_request(c, req, &u, &out);
    bool head = rc == ZL_OK && strcmp(req->method, "HEAD") == 0;
    c->deadline = now_ms() + c->o.request_ms;
    for (int attempt = 0; rc == ZL_OK && attempt < 2; attempt++) {
        bool reused = c->fd >= 0 && c->tls == u.tls && strcmp(c->host, u.host) == 0 &&
                      strcmp(c->port, u.port) == 0;
        if (!reused && (rc = conn_open(c, &u)))
            break;
        bool fresh_fail = false;
        rc = conn_write(c, out.p, out.len);
        if (rc == ZL_EIO)
            fresh_fail = true;
        if (rc == ZL_OK)
            rc = read_response(c, resp, head, &fresh_fail);
        if (rc == ZL_OK && !resp->close)
            break;
        conn_close(c);
        if (rc == ZL_OK || !(reused && fresh_fail))
            break;
        /* The server closed a kept-alive connection: once more on a new one. */
        acme_http_resp_free(resp);
        acme_http_resp_init(resp, c->o.max_body);
        rc = ZL_OK;
    }
    acme_buf_free(&out);
    return rc;
}
