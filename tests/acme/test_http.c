/* acme/http_parse.c and acme/http.c: the response reader on edge cases
 * (every input is also fed one byte at a time and must give the same
 * result), URLs, Retry-After, and the client against a small server
 * that runs in a thread of this test (keep-alive, a server that closes
 * a kept-alive connection, timeouts, refused connections, bounds). TLS is
 * tested against Pebble (tests/acme/test_pebble.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acme/http.h"

/* ---- the reader ---- */

typedef struct result {
    int rc;             /* of the last feed, or of eof when asked */
    size_t used;
    acme_http_resp_t r;
} result_t;

static void feed(result_t *out, const char *raw, size_t len, bool head, bool eof, size_t step,
                 size_t max_body)
{
    acme_http_parser_t p;
    acme_http_resp_init(&out->r, max_body);
    acme_http_parser_init(&p, &out->r, head);
    out->used = 0;
    out->rc = ZL_OK;
    for (size_t i = 0; i < len && out->rc == ZL_OK;) {
        size_t n = len - i < step ? len - i : step, used;
        out->rc = acme_http_parser_feed(&p, (const uint8_t *)raw + i, n, &used);
        out->used += used;
        i += n;
    }
    if (eof && out->rc == ZL_OK)
        out->rc = acme_http_parser_eof(&p);
    acme_http_parser_free(&p);
}

/* Reads raw whole and byte by byte; both must agree. The whole-read
 * result stays in *res (free res->r). */
static int run_max(result_t *res, const char *raw, size_t len, bool head, bool eof, size_t max_body)
{
    result_t one;
    feed(res, raw, len, head, eof, len ? len : 1, max_body);
    feed(&one, raw, len, head, eof, 1, max_body);
    assert_int_equal(res->rc, one.rc);
    if (res->rc == 1) {
        assert_int_equal(res->used, one.used);
        assert_int_equal(res->r.status, one.r.status);
        assert_int_equal(res->r.body.len, one.r.body.len);
        assert_memory_equal(res->r.body.p ? res->r.body.p : "", one.r.body.p ? one.r.body.p : "",
                            res->r.body.len);
        assert_int_equal(res->r.nfield, one.r.nfield);
        assert_int_equal(res->r.close, one.r.close);
    }
    acme_http_resp_free(&one.r);
    return res->rc;
}

static int run(result_t *res, const char *raw, bool head, bool eof)
{
    return run_max(res, raw, strlen(raw), head, eof, 0);
}

/* The rc of raw, freeing the response. */
static int rc_of(const char *raw, bool eof)
{
    result_t res;
    int rc = run(&res, raw, false, eof);
    acme_http_resp_free(&res.r);
    return rc;
}

static void test_content_length(void **state)
{
    (void)state;
    result_t res;
    const char *raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nReplay-Nonce:  abc-_1 \r\n"
                      "Link: <a>;rel=\"up\"\r\nLink: <b>;rel=\"index\"\r\nEmpty:\r\n\r\nhelloEXTRA";
    assert_int_equal(run(&res, raw, false, false), 1);
    assert_int_equal(res.r.status, 200);
    assert_int_equal(res.r.minor, 1);
    assert_false(res.r.close);
    assert_string_equal(res.r.body.p, "hello");
    assert_int_equal(res.used, strlen(raw) - 5); /* EXTRA is not the response's */
    assert_string_equal(acme_http_header(&res.r, "replay-NONCE"), "abc-_1");
    assert_string_equal(acme_http_header_at(&res.r, "Link", 1), "<b>;rel=\"index\"");
    assert_null(acme_http_header_at(&res.r, "Link", 2));
    assert_string_equal(acme_http_header(&res.r, "Empty"), "");
    assert_null(acme_http_header(&res.r, "Location"));
    acme_http_resp_free(&res.r);
    /* Equal duplicates are one length (RFC 9112 §6.3). */
    assert_int_equal(rc_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", false), 1);
    assert_int_equal(rc_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false), 1);
}

static void test_chunked(void **state)
{
    (void)state;
    result_t res;
    assert_int_equal(run(&res, "HTTP/1.1 201 Created\r\nTransfer-Encoding: Chunked\r\n\r\n"
                               "5\r\nhello\r\n6;name=value\r\n world\r\nA \r\n0123456789\r\n"
                               "0\r\nX-Trailer: yes\r\n\r\n", false, false), 1);
    assert_int_equal(res.r.status, 201);
    assert_string_equal(res.r.body.p, "hello world0123456789");
    assert_null(acme_http_header(&res.r, "X-Trailer")); /* trailers are dropped */
    acme_http_resp_free(&res.r);
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (rc_of(bad[i], false) != ZL_EPROTO)
            fail_msg("accepted: %s", bad[i]);
    /* Truncated in a chunk: the end of the stream does not complete it. */
    assert_int_equal(rc_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true), ZL_EPROTO);
}

static void test_no_body(void **state)
{
    (void)state;
    result_t res;
    /* HEAD: the length is the resource's, not this response's. */
    assert_int_equal(run(&res, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nReplay-Nonce: n1\r\n\r\n",
                         true, false), 1);
    assert_int_equal(res.r.body.len, 0);
    assert_string_equal(acme_http_header(&res.r, "Replay-Nonce"), "n1");
    acme_http_resp_free(&res.r);
    assert_int_equal(rc_of("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false), 1);
    assert_int_equal(rc_of("HTTP/1.1 304 Not Modified\r\n\r\n", false), 1);
}

static void test_until_eof(void **state)
{
    (void)state;
    result_t res;
    assert_int_equal(run(&res, "HTTP/1.1 200 OK\r\n\r\nall of it", false, false), ZL_OK);
    acme_http_resp_free(&res.r);
    assert_int_equal(run(&res, "HTTP/1.1 200 OK\r\n\r\nall of it", false, true), 1);
    assert_string_equal(res.r.body.p, "all of it");
    assert_true(res.r.close);
    acme_http_resp_free(&res.r);
    assert_int_equal(rc_of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", true), ZL_EPROTO);
    assert_int_equal(rc_of("HTTP/1.1 200 OK\r\nContent-", true), ZL_EPROTO);
    assert_int_equal(rc_of("", true), ZL_EPROTO);
}

static void test_interim_and_close(void **state)
{
    (void)state;
    result_t res;
    assert_int_equal(run(&res, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                               "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false), 1);
    assert_int_equal(res.r.status, 200);
    assert_null(acme_http_header(&res.r, "X-Interim"));
    assert_null(acme_http_header(&res.r, "Link"));
    assert_string_equal(res.r.body.p, "ok");
    acme_http_resp_free(&res.r);
    assert_int_equal(run(&res, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
                         false, false), 1);
    assert_true(res.r.close);
    acme_http_resp_free(&res.r);
    assert_int_equal(run(&res, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, false), 1);
    assert_true(res.r.close);
    assert_int_equal(res.r.minor, 0);
    acme_http_resp_free(&res.r);
    /* No reason phrase at all is taken; an empty one too. */
    assert_int_equal(rc_of("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", false), 1);
    assert_int_equal(rc_of("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", false), 1);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n", " HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: a\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\x01" "b\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX(y): a\r\n\r\n", "HTTP/1.1 200 O\x7fK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12345678901234567890\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (rc_of(bad[i], false) != ZL_EPROTO)
            fail_msg("accepted: %s", bad[i]);
    /* A NUL inside a line. */
    result_t res;
    static const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";
    assert_int_equal(run_max(&res, nul, sizeof(nul) - 1, false, false, 0), ZL_EPROTO);
    acme_http_resp_free(&res.r);
}

static void test_bounds(void **state)
{
    (void)state;
    result_t res;
    acme_buf_t b;
    acme_buf_init(&b, 0);
    /* A body over the bound, by length and by chunks. */
    assert_int_equal(run_max(&res, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789a", 49, false,
                             false, 10), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n";
    assert_int_equal(run_max(&res, ch, strlen(ch), false, false, 10), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    assert_int_equal(run_max(&res, ch, strlen(ch), false, false, 11), 1);
    acme_http_resp_free(&res.r);
    const char *eof = "HTTP/1.1 200 OK\r\n\r\n0123456789a";
    assert_int_equal(run_max(&res, eof, strlen(eof), false, true, 10), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    /* One line too long. */
    acme_buf_puts(&b, "HTTP/1.1 200 OK\r\nX: ");
    for (int i = 0; i < ACME_HTTP_MAX_LINE; i++)
        acme_buf_putc(&b, 'a');
    acme_buf_puts(&b, "\r\n\r\n");
    assert_int_equal(run_max(&res, b.p, b.len, false, false, 0), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    /* Too many fields. */
    acme_buf_reset(&b);
    acme_buf_puts(&b, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= ACME_HTTP_MAX_HEADERS; i++)
        acme_buf_printf(&b, "X-%d: %d\r\n", i, i);
    acme_buf_puts(&b, "\r\n");
    assert_int_equal(run_max(&res, b.p, b.len, false, false, 0), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    /* A header too large in all, each line short: trailers count too. */
    acme_buf_reset(&b);
    acme_buf_puts(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (int i = 0; i < ACME_HTTP_MAX_HEAD / 1000 + 1; i++) {
        acme_buf_printf(&b, "T%d: ", i);
        for (int k = 0; k < 1000; k++)
            acme_buf_putc(&b, 'v');
        acme_buf_puts(&b, "\r\n");
    }
    acme_buf_puts(&b, "\r\n");
    assert_int_equal(run_max(&res, b.p, b.len, false, false, 0), ZL_ESPACE);
    acme_http_resp_free(&res.r);
    acme_buf_free(&b);
}

static void test_sticky(void **state)
{
    (void)state;
    acme_http_resp_t r;
    acme_http_parser_t p;
    acme_http_resp_init(&r, 0);
    acme_http_parser_init(&p, &r, false);
    size_t used;
    assert_int_equal(acme_http_parser_feed(&p, (const uint8_t *)"HTTP/9", 6, &used), ZL_OK);
    assert_int_equal(acme_http_parser_feed(&p, (const uint8_t *)"\r\n", 2, &used), ZL_EPROTO);
    assert_int_equal(acme_http_parser_feed(&p, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, &used), ZL_EPROTO);
    assert_int_equal(used, 0);
    assert_int_equal(acme_http_parser_eof(&p), ZL_EPROTO);
    acme_http_parser_free(&p);
    acme_http_resp_free(&r);
}

/* ---- URLs and Retry-After ---- */

static void test_url(void **state)
{
    (void)state;
    acme_url_t u;
    assert_int_equal(acme_url_parse("https://acme-v02.api.letsencrypt.org/directory", &u), ZL_OK);
    assert_true(u.tls);
    assert_string_equal(u.host, "acme-v02.api.letsencrypt.org");
    assert_string_equal(u.port, "443");
    assert_false(u.port_given);
    assert_string_equal(u.path, "/directory");
    assert_int_equal(acme_url_parse("HTTP://127.0.0.1:8055", &u), ZL_OK);
    assert_false(u.tls);
    assert_string_equal(u.port, "8055");
    assert_string_equal(u.path, "/");
    assert_int_equal(acme_url_parse("https://[::1]:14000/dir?x=1&y=%20", &u), ZL_OK);
    assert_true(u.v6);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "14000");
    assert_string_equal(u.path, "/dir?x=1&y=%20");
    static const char *const bad[] = {
        "ftp://h/", "https://", "https:///x", "https://u@h/", "https://h:0/", "https://h:65536/",
        "https://h:123456/", "https://h:/", "https://h:x/", "https://h/a b", "https://h/#f",
        "https://h?x", "https://h\\x/", "https://[::1/", "https://[]/", "//h/", "https://h/\x7f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (acme_url_parse(bad[i], &u) != ZL_EINVAL)
            fail_msg("accepted: %s", bad[i]);
}

static void test_retry_after(void **state)
{
    (void)state;
    int64_t s;
    assert_int_equal(acme_http_retry_after("120", 0, &s), ZL_OK);
    assert_int_equal(s, 120);
    assert_int_equal(acme_http_retry_after("0", 0, &s), ZL_OK);
    assert_int_equal(s, 0);
    /* RFC 9110 §5.6.7's example date is 784111777 seconds after the Epoch. */
    assert_int_equal(acme_http_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111767, &s), ZL_OK);
    assert_int_equal(s, 10);
    assert_int_equal(acme_http_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111787, &s), ZL_OK);
    assert_int_equal(s, 0);
    assert_int_equal(acme_http_retry_after("Mon, 29 Feb 2044 23:59:60 GMT", 2340403200 - 5, &s), ZL_OK);
    assert_int_equal(s, 5);
    assert_int_equal(acme_http_retry_after("99999999999", 0, &s), ZL_ERANGE);
    static const char *const bad[] = {
        "", "-5", "1.5", " 5", "5 ", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (acme_http_retry_after(bad[i], 0, &s) != ZL_ESYNTAX)
            fail_msg("accepted: [%s]", bad[i]);
}

/* ---- the client against a server in a thread ---- */

typedef struct server {
    int lfd;
    int port;
    int mode;            /* what it does, below */
    char request[4096];  /* the first request it read */
    size_t request_len;
    int accepted;
    pthread_t th;
} server_t;

enum { SRV_KEEPALIVE, SRV_CLOSE_AFTER_EACH, SRV_SILENT, SRV_BIG };

/* Reads one request head (and a body of Content-Length) from fd. */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k <= 0)
            return n ? (ssize_t)n : k;
        n += (size_t)k;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strstr(buf, "Content-Length: ");
        size_t body = cl && cl < end ? (size_t)atoi(cl + 16) : 0;
        if (n >= (size_t)(end + 4 - buf) + body)
            return (ssize_t)n;
    }
}

static void *serve(void *arg)
{
    server_t *s = arg;
    char buf[4096];
    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        s->accepted++;
        for (;;) {
            ssize_t n = read_request(fd, buf, sizeof(buf));
            if (n <= 0)
                break;
            if (s->request_len == 0) {
                memcpy(s->request, buf, (size_t)n);
                s->request_len = (size_t)n;
            }
            if (s->mode == SRV_SILENT)
                continue;
            if (s->mode == SRV_BIG) {
                const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n";
                (void)!write(fd, h, strlen(h));
                continue;
            }
            const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nReplay-Nonce: abc\r\n\r\nok";
            (void)!write(fd, r, strlen(r));
            if (s->mode == SRV_CLOSE_AFTER_EACH)
                break; /* without saying so */
        }
        close(fd);
    }
}

static void server_start(server_t *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 8), 0);
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(server_t *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    close(s->lfd);
    pthread_join(s->th, NULL);
}

static int get(acme_http_t *c, int port, const char *method, const char *body, acme_http_resp_t *r)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a/b?c", port);
    static const char *const hdrs[] = { "Content-Type: application/jose+json", NULL };
    acme_http_req_t req = { .method = method, .url = url, .headers = hdrs, .body = body,
                            .body_len = body ? strlen(body) : 0 };
    return acme_http_request(c, &req, r);
}

static void test_client_keepalive(void **state)
{
    (void)state;
    server_t s;
    server_start(&s, SRV_KEEPALIVE);
    acme_http_t *c;
    assert_int_equal(acme_http_new(&c, NULL, NULL, 0), ZL_OK);
    acme_http_resp_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(c, s.port, "POST", "abc", &r), ZL_OK);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body.p, "ok");
        acme_http_resp_free(&r);
    }
    assert_int_equal(acme_http_connections(c), 1);
    char want[512];
    snprintf(want, sizeof(want), "POST /a/b?c HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: zonelet-acme\r\n"
             "Content-Type: application/jose+json\r\nContent-Length: 3\r\n\r\nabc", s.port);
    assert_string_equal(s.request, want);
    acme_http_free(c);
    server_stop(&s);
}

static void test_client_reconnects(void **state)
{
    (void)state;
    server_t s;
    server_start(&s, SRV_CLOSE_AFTER_EACH);
    acme_http_t *c;
    assert_int_equal(acme_http_new(&c, NULL, NULL, 0), ZL_OK);
    acme_http_resp_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(c, s.port, "GET", NULL, &r), ZL_OK);
        assert_string_equal(r.body.p, "ok");
        acme_http_resp_free(&r);
        usleep(20000); /* let the close arrive */
    }
    assert_int_equal(acme_http_connections(c), 3);
    acme_http_free(c);
    server_stop(&s);
}

static void test_client_timeout_and_bounds(void **state)
{
    (void)state;
    server_t s;
    server_start(&s, SRV_SILENT);
    acme_http_opts_t o = { .read_ms = 200, .request_ms = 1000 };
    acme_http_t *c;
    assert_int_equal(acme_http_new(&c, &o, NULL, 0), ZL_OK);
    acme_http_resp_t r;
    assert_int_equal(get(c, s.port, "HEAD", NULL, &r), ZL_ETIMEOUT);
    assert_non_null(strstr(acme_http_errmsg(c), "timed out"));
    acme_http_resp_free(&r);
    acme_http_free(c);
    server_stop(&s);

    server_start(&s, SRV_BIG);
    acme_http_opts_t small = { .max_body = 1024 };
    assert_int_equal(acme_http_new(&c, &small, NULL, 0), ZL_OK);
    assert_int_equal(get(c, s.port, "GET", NULL, &r), ZL_ESPACE);
    acme_http_resp_free(&r);
    /* Nothing listens there any more. */
    int port = s.port;
    server_stop(&s);
    assert_int_equal(get(c, port, "GET", NULL, &r), ZL_EIO);
    assert_non_null(strstr(acme_http_errmsg(c), "refused"));
    acme_http_resp_free(&r);
    acme_http_free(c);
}

static void test_client_refuses(void **state)
{
    (void)state;
    acme_http_t *c;
    char err[128];
    assert_int_equal(acme_http_new(&c, NULL, NULL, 0), ZL_OK);
    acme_http_resp_t r;
    acme_http_req_t req = { .method = "GET", .url = "https://localhost:1/" };
    assert_int_equal(acme_http_request(c, &req, &r), ZL_EINVAL); /* https without a CA file */
    acme_http_resp_free(&r);
    req.url = "http://localhost:1/";
    req.method = "DELETE";
    assert_int_equal(acme_http_request(c, &req, &r), ZL_EINVAL);
    acme_http_resp_free(&r);
    static const char *const inject[] = { "X: a\r\nEvil: b", NULL };
    req.method = "GET";
    req.headers = inject;
    assert_int_equal(acme_http_request(c, &req, &r), ZL_EINVAL);
    acme_http_resp_free(&r);
    acme_http_free(c);
    acme_http_opts_t o = { .ca_file = "/nonexistent/ca.pem" };
    assert_int_equal(acme_http_new(&c, &o, err, sizeof(err)), ZL_EIO);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

/* ---- TLS: a Python server that answers one request per connection,
 * keeps quiet about closing, and waits 300 ms before each handshake ---- */

static const char tls_py[] =
    "import os, socket, ssl, sys, time\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.listen(8)\n"
    "print(s.getsockname()[1], os.getpid(), flush=True)\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    try:\n"
    "        time.sleep(0.3)\n"
    "        t = ctx.wrap_socket(c, server_side=True)\n"
    "        data = b''\n"
    "        while b'\\r\\n\\r\\n' not in data:\n"
    "            d = t.recv(4096)\n"
    "            if not d:\n"
    "                break\n"
    "            data += d\n"
    "        t.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')\n"
    "        t.close()\n"
    "    except Exception:\n"
    "        c.close()\n";

/* The server runs from setup to teardown (which cmocka runs even when
 * the test fails), so it never outlives the test. */
static struct tls_fixture {
    char dir[32];
    int port, pid;
    FILE *srv;
} tls;

static int tls_setup(void **state)
{
    (void)state;
    char cmd[1024];
    strcpy(tls.dir, "/tmp/zl-http.XXXXXX");
    if (!mkdtemp(tls.dir))
        return -1;
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
             "-out ca.pem -days 2 -subj /CN=ca >/dev/null 2>&1 && openssl req -new -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout srv.key -subj /CN=localhost -out srv.csr >/dev/null 2>&1 && "
             "printf 'subjectAltName=DNS:localhost\\n' >ext && openssl x509 -req -in srv.csr -CA ca.pem "
             "-CAkey ca.key -CAcreateserial -days 2 -extfile ext -out srv.pem >/dev/null 2>&1", tls.dir);
    if (system(cmd) != 0)
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/server.py", tls.dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(tls_py, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "exec /usr/bin/python3 %s/server.py %s/srv.pem %s/srv.key 2>/dev/null",
             tls.dir, tls.dir, tls.dir);
    if (!(tls.srv = popen(cmd, "r")))
        return -1;
    return fscanf(tls.srv, "%d %d", &tls.port, &tls.pid) == 2 ? 0 : -1;
}

static int tls_teardown(void **state)
{
    (void)state;
    char cmd[128];
    if (tls.pid > 0)
        kill(tls.pid, SIGTERM);
    if (tls.srv)
        pclose(tls.srv);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tls.dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_client_tls(void **state)
{
    (void)state;
    char ca[128], url[128];
    snprintf(ca, sizeof(ca), "%s/ca.pem", tls.dir);
    acme_http_opts_t o = { .ca_file = ca, .request_ms = 5000 };
    acme_http_t *c;
    acme_http_resp_t r;
    assert_int_equal(acme_http_new(&c, &o, NULL, 0), ZL_OK);
    snprintf(url, sizeof(url), "https://localhost:%d/x", tls.port);
    acme_http_req_t req = { .method = "GET", .url = url };
    /* The second and third requests find the kept-alive connection closed
     * and connect again, with a slow handshake, inside their deadline. */
    for (int i = 0; i < 3; i++) {
        int rc = acme_http_request(c, &req, &r);
        if (rc)
            fail_msg("request %d: %s", i, acme_http_errmsg(c));
        assert_string_equal(r.body.p, "ok");
        acme_http_resp_free(&r);
        usleep(50000);
    }
    assert_int_equal(acme_http_connections(c), 3);
    /* The certificate names localhost, not 127.0.0.1. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", tls.port);
    assert_int_equal(acme_http_request(c, &req, &r), ZL_EBADSIG);
    assert_non_null(strstr(acme_http_errmsg(c), "server certificate"));
    acme_http_resp_free(&r);
    acme_http_free(c);
    /* A CA that did not sign it. */
    snprintf(ca, sizeof(ca), "%s/srv.pem", tls.dir);
    assert_int_equal(acme_http_new(&c, &o, NULL, 0), ZL_OK);
    snprintf(url, sizeof(url), "https://localhost:%d/x", tls.port);
    assert_int_equal(acme_http_request(c, &req, &r), ZL_EBADSIG);
    acme_http_resp_free(&r);
    acme_http_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_until_eof),
        cmocka_unit_test(test_interim_and_close),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_client_keepalive),
        cmocka_unit_test(test_client_reconnects),
        cmocka_unit_test(test_client_timeout_and_bounds),
        cmocka_unit_test(test_client_refuses),
        cmocka_unit_test_setup_teardown(test_client_tls, tls_setup, tls_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
