/* An HTTP/1.1 client (RFC 9110, RFC 9112) over TCP sockets, with TLS
 * through mbedTLS for https URLs.
 *
 * It does what the ACME client needs and no more: one request at a time
 * (GET, HEAD, POST) with a few header lines and a body, one kept-alive
 * connection reused while the scheme, host and port stay the same,
 * responses framed by Content-Length, chunked transfer coding or the
 * connection's end, every size bounded, every wait bounded. No redirects,
 * no content codings, no proxies, no cookies. The server certificate must
 * chain to the CA file given and name the URL's host (mbedTLS 2.28 checks
 * DNS names in subjectAltName, or the CN when there are none; it does not
 * match IP addresses, so https URLs name their host by DNS name).
 *
 * Calls block (connect, TLS, reads), so the client belongs on a thread of
 * its own, never a query worker. A client is not shared between threads.
 *
 * The response reader (acme_http_parser_*) is separate from the sockets:
 * bytes in, a response out. It is what the client uses, what the unit
 * tests drive, and what tests/fuzz/fuzz_http.c fuzzes.
 */
#ifndef ZL_ACME_HTTP_H
#define ZL_ACME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/buf.h"
#include "dns/err.h"

#define ACME_HTTP_MAX_HEADERS 64         /* header fields kept per response */
#define ACME_HTTP_MAX_LINE 8192          /* status line, header line, chunk-size line */
#define ACME_HTTP_MAX_HEAD 65536         /* all header lines of one response */
#define ACME_HTTP_MAX_BODY ((size_t)1 << 20) /* default response body bound */

/* ---- URLs ---- */

typedef struct acme_url {
    bool tls;          /* https */
    char host[256];    /* DNS name or IP address, without brackets */
    char port[6];      /* decimal, the scheme's default when absent */
    bool v6;           /* host is an IPv6 literal (written in brackets) */
    bool port_given;   /* the URL names the port */
    const char *path;  /* path and query ("/" when absent): borrowed from the URL */
} acme_url_t;

/* Splits an absolute http or https URL (RFC 3986: scheme "://" host
 * [":" port] [path-abempty ["?" query]]; no user info, no fragment, no
 * spaces or control characters). Errors: ZL_EINVAL. */
int acme_url_parse(const char *url, acme_url_t *u);

/* ---- responses and their reader ---- */

typedef struct acme_http_field {
    size_t name, value; /* offsets of NUL-terminated strings in the response's head */
} acme_http_field_t;

typedef struct acme_http_resp {
    int status;         /* 100..999 (the final response; 1xx ones are skipped) */
    int minor;          /* HTTP/1.minor */
    bool close;         /* the connection cannot carry another request */
    size_t nfield;
    acme_http_field_t field[ACME_HTTP_MAX_HEADERS];
    acme_buf_t head;    /* field names and values (values without surrounding whitespace) */
    acme_buf_t body;    /* the body, de-chunked, NUL-terminated */
} acme_http_resp_t;

/* An empty response whose body may grow to max_body (0: ACME_HTTP_MAX_BODY). */
void acme_http_resp_init(acme_http_resp_t *r, size_t max_body);

/* Frees what r holds; r may be initialised again. */
void acme_http_resp_free(acme_http_resp_t *r);

/* The value of the first field called name (case-insensitive), or NULL.
 * Borrowed from r. */
const char *acme_http_header(const acme_http_resp_t *r, const char *name);

/* The value of the idx-th field called name (0 first), or NULL. */
const char *acme_http_header_at(const acme_http_resp_t *r, const char *name, size_t idx);

enum acme_http_pstate {
    ACME_HP_STATUS, ACME_HP_HEADER, ACME_HP_BODY_LEN, ACME_HP_BODY_EOF,
    ACME_HP_CHUNK_SIZE, ACME_HP_CHUNK_DATA, ACME_HP_CHUNK_END, ACME_HP_TRAILER,
    ACME_HP_DONE, ACME_HP_ERROR
};

typedef struct acme_http_parser {
    acme_http_resp_t *resp; /* borrowed: filled as bytes arrive */
    enum acme_http_pstate state;
    int err;                /* the error once in ACME_HP_ERROR */
    bool head_request;      /* the request was HEAD: no body follows */
    bool have_len, chunked;
    uint64_t len;           /* Content-Length */
    uint64_t remain;        /* bytes left of the body or the chunk */
    size_t head_bytes;      /* header bytes seen, against ACME_HTTP_MAX_HEAD */
    acme_buf_t line;        /* the line being collected */
} acme_http_parser_t;

/* Starts reading one response into resp (borrowed, initialised by the
 * caller with acme_http_resp_init). head_request: the request was HEAD,
 * so the response has no body whatever its fields say. */
void acme_http_parser_init(acme_http_parser_t *p, acme_http_resp_t *resp, bool head_request);

/* Feeds data[0..len) (borrowed). Returns 1 when the response is complete
 * (*used says how many bytes it took; the rest belongs to whatever
 * follows), ZL_OK when it needs more (all bytes used), or an error:
 * ZL_EPROTO (not an HTTP/1.x response, or one this reader refuses: a
 * field line without a name, whitespace before the colon, obsolete line
 * folding, control characters, a Transfer-Encoding other than chunked,
 * both Transfer-Encoding and Content-Length, conflicting Content-Length
 * values, bare LF line ends, 101 Switching Protocols), ZL_ESPACE (a line,
 * the header, the field count or the body beyond its bound), ZL_ENOMEM.
 * After an error or completion every call returns the same result. */
int acme_http_parser_feed(acme_http_parser_t *p, const uint8_t *data, size_t len, size_t *used);

/* The peer closed the connection. Returns 1 when that completes the
 * response (a body delimited by the close, or a response already
 * complete), else ZL_EPROTO (truncated) or the earlier error. */
int acme_http_parser_eof(acme_http_parser_t *p);

/* Frees the parser's line buffer (not the response). */
void acme_http_parser_free(acme_http_parser_t *p);

/* Reads a Retry-After value (RFC 9110 §10.2.3): delta-seconds, or an
 * IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") taken relative to now
 * (seconds since the Epoch). *secs gets the wait, 0 for a date in the
 * past. Errors: ZL_ESYNTAX (neither form; the obsolete date forms are not
 * read), ZL_ERANGE (more than 2^31 seconds). */
int acme_http_retry_after(const char *value, int64_t now, int64_t *secs);

/* ---- the client ---- */

typedef struct acme_http_opts {
    const char *ca_file;    /* PEM file of trusted CAs; NULL: https requests fail
                             * with ZL_EINVAL. Read by acme_http_new only. */
    int connect_ms;         /* TCP connect, per address (0: 10 s) */
    int read_ms;            /* longest wait for any one read or write (0: 30 s) */
    int request_ms;         /* one whole request, connect to last byte (0: 60 s) */
    size_t max_body;        /* response body bound (0: ACME_HTTP_MAX_BODY) */
    const char *user_agent; /* copied (NULL: "zonelet-acme") */
} acme_http_opts_t;

typedef struct acme_http acme_http_t;

/* A client with options o (borrowed for the call; o NULL: all defaults).
 * *out is owned by the caller (acme_http_free). Errors: ZL_EIO (the CA
 * file cannot be read or holds no certificate; see the message in errmsg
 * when errmsg is not NULL), ZL_ECRYPTO (the random generator or TLS set-up
 * failed), ZL_ENOMEM. */
int acme_http_new(acme_http_t **out, const acme_http_opts_t *o, char *errmsg, size_t errlen);

/* Closes the connection and frees c (NULL is fine). */
void acme_http_free(acme_http_t *c);

typedef struct acme_http_req {
    const char *method;          /* "GET", "HEAD" or "POST" */
    const char *url;             /* absolute http or https URL */
    const char *const *headers;  /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const void *body;            /* request body (POST); may be NULL when body_len is 0 */
    size_t body_len;
} acme_http_req_t;

/* Sends req and reads the response into resp, which the call initialises
 * (free it with acme_http_resp_free whatever the result). Every argument
 * is borrowed. Host, User-Agent, Content-Length (POST, or any body) are
 * added. A kept-alive connection that the server closed before answering
 * is opened again once. Any status is a success: the caller reads
 * resp->status. Errors: ZL_EINVAL (bad URL, method or header line, or an
 * https URL without a CA file), ZL_ENOTFOUND (the host does not resolve),
 * ZL_EIO (connection refused, reset or closed early), ZL_ETIMEOUT,
 * ZL_EBADSIG (the server certificate does not verify: chain, validity or
 * name), ZL_ECRYPTO (any other TLS failure), ZL_EPROTO or ZL_ESPACE (from
 * the response reader), ZL_ENOMEM. acme_http_errmsg says more. */
int acme_http_request(acme_http_t *c, const acme_http_req_t *req, acme_http_resp_t *resp);

/* One line about the last failure of c ("" when none). Borrowed from c. */
const char *acme_http_errmsg(const acme_http_t *c);

/* The number of TCP connections c has opened so far (for tests and
 * figures: keep-alive at work). */
unsigned acme_http_connections(const acme_http_t *c);

#endif
