/* The socket-free half of acme/http.h: URLs, the response reader,
 * Retry-After. */
#include "acme/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- URLs ---- */

int acme_url_parse(const char *url, acme_url_t *u)
{
    memset(u, 0, sizeof(*u));
    const char *s;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->tls = true;
        s = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0)
        s = url + 7;
    else
        return ZL_EINVAL;
    const char *h = s, *he;
    if (*s == '[') {
        h = ++s;
        while (*s && (*s == ':' || *s == '.' || strchr("0123456789abcdefABCDEF", *s)))
            s++;
        if (*s != ']')
            return ZL_EINVAL;
        he = s++;
        u->v6 = true;
    } else {
        while (*s && (strchr("-._~", *s) || (*s >= '0' && *s <= '9') ||
                      ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
            s++;
        he = s;
    }
    if (he == h || (size_t)(he - h) >= sizeof(u->host))
        return ZL_EINVAL;
    memcpy(u->host, h, (size_t)(he - h));
    if (*s == ':') {
        unsigned port = 0;
        size_t n = 0;
        for (s++; *s >= '0' && *s <= '9' && n < 5; s++, n++)
            port = port * 10 + (unsigned)(*s - '0');
        if (n == 0 || port == 0 || port > 65535)
            return ZL_EINVAL;
        u->port_given = true;
        snprintf(u->port, sizeof(u->port), "%u", port);
    } else
        strcpy(u->port, u->tls ? "443" : "80");
    if (*s != '\0' && *s != '/' && *s != '?')
        return ZL_EINVAL; /* user info, a bad host character, a long port */
    for (const char *t = s; *t; t++)
        if ((unsigned char)*t <= ' ' || *t == 0x7f || *t == '#')
            return ZL_EINVAL;
    u->path = *s == '/' ? s : *s ? NULL : "/";
    if (!u->path)
        return ZL_EINVAL; /* "?query" without a path: keep it simple */
    return ZL_OK;
}

/* ---- responses ---- */

void acme_http_resp_init(acme_http_resp_t *r, size_t max_body)
{
    memset(r, 0, sizeof(*r));
    acme_buf_init(&r->head, ACME_HTTP_MAX_HEAD + 2 * ACME_HTTP_MAX_HEADERS);
    acme_buf_init(&r->body, max_body ? max_body : ACME_HTTP_MAX_BODY);
}

void acme_http_resp_free(acme_http_resp_t *r)
{
    acme_buf_free(&r->head);
    acme_buf_free(&r->body);
    r->nfield = 0;
}

const char *acme_http_header_at(const acme_http_resp_t *r, const char *name, size_t idx)
{
    for (size_t i = 0; i < r->nfield; i++)
        if (strcasecmp(r->head.p + r->field[i].name, name) == 0 && idx-- == 0)
            return r->head.p + r->field[i].value;
    return NULL;
}

const char *acme_http_header(const acme_http_resp_t *r, const char *name)
{
    return acme_http_header_at(r, name, 0);
}

void acme_http_parser_init(acme_http_parser_t *p, acme_http_resp_t *resp, bool head_request)
{
    memset(p, 0, sizeof(*p));
    p->resp = resp;
    p->head_request = head_request;
    p->state = ACME_HP_STATUS;
    acme_buf_init(&p->line, ACME_HTTP_MAX_LINE);
}

void acme_http_parser_free(acme_http_parser_t *p)
{
    acme_buf_free(&p->line);
}

static int perr(acme_http_parser_t *p, int err)
{
    p->state = ACME_HP_ERROR;
    p->err = err;
    return err;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 9112 §4: HTTP-version SP 3DIGIT SP reason-phrase. A missing reason
 * (no second space) is taken too: common, and harmless. */
static int status_line(acme_http_parser_t *p, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return perr(p, ZL_EPROTO);
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return perr(p, ZL_EPROTO);
    if (n > 12 && s[12] != ' ')
        return perr(p, ZL_EPROTO);
    for (size_t i = 13; i < n; i++)
        if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
            return perr(p, ZL_EPROTO);
    p->resp->minor = s[7] - '0';
    p->resp->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->resp->status < 100 || p->resp->status == 101)
        return perr(p, ZL_EPROTO); /* we never ask to switch protocols */
    return ZL_OK;
}

/* RFC 9112 §5: field-name ":" OWS field-value OWS. Trailer fields are
 * checked the same way and dropped. */
static int field_line(acme_http_parser_t *p, const char *s, size_t n, bool keep)
{
    size_t c = 0;
    while (c < n && is_tchar((unsigned char)s[c]))
        c++;
    if (c == 0 || c == n || s[c] != ':')
        return perr(p, ZL_EPROTO); /* no name, obs-fold, space before the colon */
    size_t v = c + 1, e = n;
    while (v < e && (s[v] == ' ' || s[v] == '\t'))
        v++;
    while (e > v && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    for (size_t i = v; i < e; i++)
        if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
            return perr(p, ZL_EPROTO);
    if (!keep)
        return ZL_OK;
    acme_http_resp_t *r = p->resp;
    if (r->nfield == ACME_HTTP_MAX_HEADERS)
        return perr(p, ZL_ESPACE);
    acme_http_field_t *f = &r->field[r->nfield];
    f->name = r->head.len;
    acme_buf_put(&r->head, s, c);
    acme_buf_putc(&r->head, '\0');
    f->value = r->head.len;
    acme_buf_put(&r->head, s + v, e - v);
    acme_buf_putc(&r->head, '\0');
    if (r->head.err)
        return perr(p, r->head.err);
    r->nfield++;
    return ZL_OK;
}

static bool has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == n && strncasecmp(s, tok, n) == 0)
            return true;
        s = e;
    }
    return false;
}

/* RFC 9112 §6.3: how the body is framed, once the header is complete. */
static int header_done(acme_http_parser_t *p)
{
    acme_http_resp_t *r = p->resp;
    if (r->status < 200) { /* interim: the final response follows */
        r->nfield = 0;
        acme_buf_reset(&r->head);
        p->state = ACME_HP_STATUS;
        return ZL_OK;
    }
    const char *conn = acme_http_header(r, "Connection");
    if (r->minor == 0 || (conn && has_token(conn, "close")))
        r->close = true;
    const char *te = acme_http_header(r, "Transfer-Encoding");
    const char *cl = acme_http_header(r, "Content-Length");
    if (te && (cl || acme_http_header_at(r, "Transfer-Encoding", 1) || strcasecmp(te, "chunked") != 0))
        return perr(p, ZL_EPROTO); /* §6.1: smuggling shapes, and codings we did not ask for */
    for (size_t i = 0; (cl = acme_http_header_at(r, "Content-Length", i)); i++) {
        uint64_t v = 0;
        size_t k = 0;
        for (; cl[k] >= '0' && cl[k] <= '9' && k < 19; k++)
            v = v * 10 + (uint64_t)(cl[k] - '0');
        if (k == 0 || cl[k] || (p->have_len && v != p->len))
            return perr(p, ZL_EPROTO); /* §6.3: invalid or conflicting lengths */
        p->have_len = true;
        p->len = v;
    }
    if (p->head_request || r->status == 204 || r->status == 304) {
        p->state = ACME_HP_DONE;
        return ZL_OK;
    }
    if (te) {
        p->chunked = true;
        p->state = ACME_HP_CHUNK_SIZE;
    } else if (p->have_len) {
        if (p->len > r->body.max)
            return perr(p, ZL_ESPACE);
        p->remain = p->len;
        p->state = p->len ? ACME_HP_BODY_LEN : ACME_HP_DONE;
    } else {
        r->close = true;
        p->state = ACME_HP_BODY_EOF;
    }
    return ZL_OK;
}

/* RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; extensions are ignored. */
static int chunk_size(acme_http_parser_t *p, const char *s, size_t n)
{
    uint64_t v = 0;
    size_t k = 0;
    for (; k < n && k < 16 && s[k] && strchr("0123456789abcdefABCDEF", s[k]); k++)
        v = v << 4 | (uint64_t)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10);
    size_t e = k;
    while (e < n && (s[e] == ' ' || s[e] == '\t'))
        e++;
    if (k == 0 || (e < n && s[e] != ';'))
        return perr(p, ZL_EPROTO);
    for (; e < n; e++)
        if (((unsigned char)s[e] < ' ' && s[e] != '\t') || s[e] == 0x7f)
            return perr(p, ZL_EPROTO);
    if (v == 0) {
        p->state = ACME_HP_TRAILER;
        return ZL_OK;
    }
    if (v > p->resp->body.max - p->resp->body.len)
        return perr(p, ZL_ESPACE);
    p->remain = v;
    p->state = ACME_HP_CHUNK_DATA;
    return ZL_OK;
}

/* One complete line (CRLF removed) in the current state. */
static int line_done(acme_http_parser_t *p, const char *s, size_t n)
{
    switch (p->state) {
    case ACME_HP_STATUS:
        if (status_line(p, s, n))
            return p->err;
        p->state = ACME_HP_HEADER;
        return ZL_OK;
    case ACME_HP_HEADER:
        return n ? field_line(p, s, n, true) : header_done(p);
    case ACME_HP_CHUNK_SIZE:
        return chunk_size(p, s, n);
    case ACME_HP_CHUNK_END:
        if (n)
            return perr(p, ZL_EPROTO);
        p->state = ACME_HP_CHUNK_SIZE;
        return ZL_OK;
    case ACME_HP_TRAILER:
        if (n == 0) {
            p->state = ACME_HP_DONE;
            return ZL_OK;
        }
        return field_line(p, s, n, false);
    default:
        return perr(p, ZL_EPROTO);
    }
}

int acme_http_parser_feed(acme_http_parser_t *p, const uint8_t *data, size_t len, size_t *used)
{
    size_t i = 0;
    acme_buf_t *body = &p->resp->body;
    while (i < len && p->state != ACME_HP_DONE && p->state != ACME_HP_ERROR) {
        if (p->state == ACME_HP_BODY_LEN || p->state == ACME_HP_CHUNK_DATA ||
            p->state == ACME_HP_BODY_EOF) {
            size_t n = len - i;
            if (p->state != ACME_HP_BODY_EOF && n > p->remain)
                n = (size_t)p->remain;
            acme_buf_put(body, data + i, n);
            if (body->err) {
                perr(p, body->err);
                break;
            }
            i += n;
            if (p->state == ACME_HP_BODY_EOF)
                continue;
            p->remain -= n;
            if (p->remain == 0)
                p->state = p->state == ACME_HP_BODY_LEN ? ACME_HP_DONE : ACME_HP_CHUNK_END;
            continue;
        }
        /* Collect up to the next LF. */
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
        if (p->state == ACME_HP_STATUS || p->state == ACME_HP_HEADER || p->state == ACME_HP_TRAILER) {
            p->head_bytes += n;
            if (p->head_bytes > ACME_HTTP_MAX_HEAD) {
                perr(p, ZL_ESPACE);
                break;
            }
        }
        acme_buf_put(&p->line, data + i, n);
        i += n;
        if (p->line.err) {
            perr(p, p->line.err);
            break;
        }
        if (!nl)
            continue;
        const char *s = p->line.p;
        size_t ln = p->line.len;
        if (ln < 2 || s[ln - 2] != '\r') {
            perr(p, ZL_EPROTO); /* bare LF */
            break;
        }
        for (size_t k = 0; k + 2 < ln; k++)
            if (s[k] == '\r' || s[k] == '\0') {
                perr(p, ZL_EPROTO);
                break;
            }
        if (p->state != ACME_HP_ERROR)
            line_done(p, s, ln - 2);
        acme_buf_reset(&p->line);
    }
    if (used)
        *used = i;
    if (p->state == ACME_HP_ERROR)
        return p->err;
    return p->state == ACME_HP_DONE ? 1 : ZL_OK;
}

int acme_http_parser_eof(acme_http_parser_t *p)
{
    if (p->state == ACME_HP_ERROR)
        return p->err;
    if (p->state == ACME_HP_BODY_EOF)
        p->state = ACME_HP_DONE;
    if (p->state == ACME_HP_DONE)
        return 1;
    return perr(p, ZL_EPROTO);
}

/* ---- Retry-After ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int acme_http_retry_after(const char *value, int64_t now, int64_t *secs)
{
    static const char *const wday[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    size_t n = strlen(value);
    if (n > 0 && strspn(value, "0123456789") == n) {
        if (n > 10)
            return ZL_ERANGE;
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (value[i] - '0');
        if (v > INT32_MAX)
            return ZL_ERANGE;
        *secs = v;
        return ZL_OK;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters). */
    int d, y, hh, mm, ss, m = -1, w = -1;
    if (n != 29 || value[3] != ',' || value[4] != ' ' || value[7] != ' ' || value[11] != ' ' ||
        value[16] != ' ' || value[19] != ':' || value[22] != ':' || strcmp(value + 25, " GMT") != 0 ||
        num(value + 5, 2, &d) || num(value + 12, 4, &y) || num(value + 17, 2, &hh) ||
        num(value + 20, 2, &mm) || num(value + 23, 2, &ss))
        return ZL_ESYNTAX;
    for (int i = 0; i < 12; i++)
        if (memcmp(value + 8, mon[i], 3) == 0)
            m = i + 1;
    for (int i = 0; i < 7; i++)
        if (memcmp(value, wday[i], 3) == 0)
            w = i;
    if (m < 0 || w < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
        return ZL_ESYNTAX;
    int64_t t = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    int64_t delta = t - now;
    if (delta > INT32_MAX)
        return ZL_ERANGE;
    *secs = delta > 0 ? delta : 0;
    return ZL_OK;
}
