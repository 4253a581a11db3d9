/* The RFC 8555 flow. Long for one file, but it reads top to bottom as
 * the protocol runs: plumbing (log, errors, requests, nonces, problem
 * documents), directory, account, order, authorizations, finalization. */
#include "acme/acme.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme/http.h"
#include "acme/json.h"
#include "acme/jws.h"
#include "acme/key.h"

#define ACME_ERR_PREFIX "urn:ietf:params:acme:error:"

struct acme_client {
    acme_opts_t o;
    char *directory, *email;   /* owned copies */
    acme_cb_t cb;
    acme_http_t *http;
    acme_rng_t rng;
    acme_key_t key;
    bool generated;
    char thumb[ACME_B64_SHA256_LEN + 1];
    char *new_nonce, *new_account, *new_order; /* from the directory */
    char *kid;                 /* the account URL */
    char *nonce;               /* the next nonce to use, or NULL */
    char *order_url;
    int64_t deadline;          /* of the order under way (monotonic ms) */
    acme_stats_t st;
    char err[768];
};

/* One response: HTTP and, when it carries one, its JSON object. */
typedef struct reply {
    acme_http_resp_t http;
    acme_json_doc_t doc;
} reply_t;

/* What an authorization needs between the steps. */
typedef struct authz {
    char *url, *name, *chall;  /* owned */
    char txt_name[300];
    char txt[ACME_B64_SHA256_LEN + 1];
    bool set, done;
} authz_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Text from a server, made safe for one log line. */
static void put_clean(acme_buf_t *b, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++)
        acme_buf_putc(b, (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i]);
}

static void alog(acme_client_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void alog(acme_client_t *c, const char *fmt, ...)
{
    if (!c->cb.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->cb.log(c->cb.ctx, c->order_url, msg);
}

static int aerr(acme_client_t *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int aerr(acme_client_t *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return err;
}

/* A status from the server as it may appear in a message: RFC 8555
 * statuses are short lowercase words; anything else shows as "?". */
static const char *status_text(const char *st)
{
    if (!st)
        return "without status";
    size_t n = strlen(st);
    return n && n < 20 && strspn(st, "abcdefghijklmnopqrstuvwxyz") == n ? st : "?";
}

static bool https_url(const char *s)
{
    acme_url_t u;
    return s && acme_url_parse(s, &u) == ZL_OK && u.tls;
}

static void reply_init(reply_t *r)
{
    acme_http_resp_init(&r->http, 0);
    r->doc.root = NULL;
    dns_arena_init(&r->doc.arena, NULL, 0, 0);
}

static void reply_free(reply_t *r)
{
    acme_http_resp_free(&r->http);
    acme_json_free(&r->doc);
}

/* ---- set-up ---- */

int acme_client_new(acme_client_t **out, const acme_opts_t *o, const acme_cb_t *cb, char *err,
                    size_t errlen)
{
    snprintf(err, errlen, "%s", "");
    if (!o->directory || !https_url(o->directory) || !cb->set_txt || !cb->clear_txt) {
        snprintf(err, errlen, "ACME needs an https directory URL and TXT callbacks");
        return ZL_EINVAL;
    }
    if (o->email && (!*o->email || strpbrk(o->email, " \t\r\n\"\\<>,") || !strchr(o->email, '@'))) {
        snprintf(err, errlen, "bad contact email");
        return ZL_EINVAL;
    }
    acme_client_t *c = calloc(1, sizeof(*c));
    if (!c)
        return ZL_ENOMEM;
    c->o = *o;
    c->cb = *cb;
    if (!c->o.poll_ms)
        c->o.poll_ms = 250;
    if (!c->o.poll_max_ms)
        c->o.poll_max_ms = 30000;
    if (!c->o.deadline_ms)
        c->o.deadline_ms = 600000;
    if (!c->o.nonce_retries)
        c->o.nonce_retries = 20;
    c->directory = strdup(o->directory);
    c->email = o->email ? strdup(o->email) : NULL;
    c->o.directory = c->o.email = c->o.key_pem = c->o.ca_file = NULL;
    acme_key_init(&c->key);
    int rc = acme_rng_init(&c->rng);
    if (rc) {
        snprintf(err, errlen, "random generator");
        acme_client_free(c);
        return rc;
    }
    if (!c->directory || (o->email && !c->email)) {
        acme_client_free(c);
        return ZL_ENOMEM;
    }
    acme_http_opts_t ho = { .ca_file = o->ca_file, .connect_ms = o->connect_ms,
                            .read_ms = o->read_ms, .request_ms = o->request_ms };
    if ((rc = acme_http_new(&c->http, &ho, err, errlen))) {
        acme_client_free(c);
        return rc;
    }
    if (o->key_pem) {
        rc = acme_key_parse(&c->key, o->key_pem, o->key_len);
        if (rc)
            snprintf(err, errlen, "account key: %s", rc == ZL_ETYPE ? "not ECDSA P-256" : "unreadable");
    } else {
        rc = acme_key_generate(&c->key, &c->rng);
        c->generated = true;
    }
    if (!rc)
        rc = acme_key_thumbprint(&c->key, c->thumb);
    if (rc) {
        acme_client_free(c);
        return rc;
    }
    *out = c;
    return ZL_OK;
}

void acme_client_free(acme_client_t *c)
{
    if (!c)
        return;
    acme_http_free(c->http);
    acme_key_free(&c->key);
    acme_rng_free(&c->rng);
    free(c->directory);
    free(c->email);
    free(c->new_nonce);
    free(c->new_account);
    free(c->new_order);
    free(c->kid);
    free(c->nonce);
    free(c->order_url);
    free(c);
}

bool acme_client_key_generated(const acme_client_t *c)
{
    return c->generated;
}

int acme_client_key_pem(const acme_client_t *c, acme_buf_t *out)
{
    return acme_key_write_pem(&c->key, out);
}

const char *acme_client_account_url(const acme_client_t *c)
{
    return c->kid;
}

const char *acme_client_order_url(const acme_client_t *c)
{
    return c->order_url;
}

const char *acme_client_error(const acme_client_t *c)
{
    return c->err;
}

void acme_client_stats(const acme_client_t *c, acme_stats_t *s)
{
    *s = c->st;
    s->connections = acme_http_connections(c->http);
}

/* ---- requests, nonces, problems ---- */

/* §6.5.1: a nonce is base64url text; anything else is not kept. */
static void take_nonce(acme_client_t *c, const acme_http_resp_t *r)
{
    const char *n = acme_http_header(r, "Replay-Nonce");
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > 256 || strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789-_") != len)
        return;
    char *d = strdup(n);
    if (d) {
        free(c->nonce);
        c->nonce = d;
    }
}

static int fetch(acme_client_t *c, const char *method, const char *url, const char *const *hdrs,
                 const void *body, size_t len, acme_http_resp_t *r)
{
    acme_http_req_t req = { .method = method, .url = url, .headers = hdrs, .body = body,
                            .body_len = len };
    c->st.requests++;
    acme_http_resp_free(r);
    int rc = acme_http_request(c->http, &req, r);
    if (rc)
        return aerr(c, rc, "%s", acme_http_errmsg(c->http));
    take_nonce(c, r);
    return ZL_OK;
}

/* An RFC 7807 problem document (or any error status) as the error. */
static int problem(acme_client_t *c, const char *url, const acme_http_resp_t *r, bool *bad_nonce)
{
    acme_json_doc_t d;
    acme_buf_t m;
    acme_buf_init(&m, sizeof(c->err) - 1);
    acme_buf_printf(&m, "%s: HTTP %d", url, r->status);
    *bad_nonce = false;
    int rc = ZL_EPROTO;
    const acme_json_t *root = acme_json_parse(&d, r->body.p ? r->body.p : "", r->body.len)
                                  ? NULL : d.root;
    const char *type = acme_json_get_str(root, "type"), *detail = acme_json_get_str(root, "detail");
    if (type) {
        *bad_nonce = strcmp(type, ACME_ERR_PREFIX "badNonce") == 0;
        if (strcmp(type, ACME_ERR_PREFIX "accountDoesNotExist") == 0)
            rc = ZL_ENOTFOUND;
        acme_buf_puts(&m, ": ");
        put_clean(&m, type, 100);
    }
    if (detail) {
        acme_buf_puts(&m, ": ");
        put_clean(&m, detail, 300);
    }
    /* §6.7.1: subproblems name the identifier each one is about. */
    const acme_json_t *sub = acme_json_get(root, "subproblems");
    for (const acme_json_t *s = sub && sub->type == ACME_JSON_ARRAY ? sub->child : NULL; s; s = s->next) {
        const char *id = acme_json_str(acme_json_path(s, "/identifier/value"));
        const char *st = acme_json_get_str(s, "type"), *sd = acme_json_get_str(s, "detail");
        acme_buf_printf(&m, "; ");
        put_clean(&m, id ? id : "?", 100);
        acme_buf_puts(&m, ": ");
        put_clean(&m, st ? st : "", 100);
        acme_buf_puts(&m, sd ? " " : "");
        put_clean(&m, sd ? sd : "", 200);
    }
    snprintf(c->err, sizeof(c->err), "%s", m.p ? m.p : url);
    acme_buf_free(&m);
    acme_json_free(&d);
    return rc;
}

/* A fresh nonce from newNonce (§7.2). */
static int fresh_nonce(acme_client_t *c)
{
    acme_http_resp_t r;
    acme_http_resp_init(&r, 0);
    free(c->nonce);
    c->nonce = NULL;
    int rc = fetch(c, "HEAD", c->new_nonce, NULL, NULL, 0, &r);
    if (!rc && r.status != 200 && r.status != 204)
        rc = aerr(c, ZL_EPROTO, "%s: HTTP %d", c->new_nonce, r.status);
    if (!rc && !c->nonce)
        rc = aerr(c, ZL_EPROTO, "%s: no Replay-Nonce", c->new_nonce);
    acme_http_resp_free(&r);
    return rc;
}

/* A signed POST (§6.2): "jwk" for newAccount, "kid" otherwise; payload
 * NULL is POST-as-GET (§6.3). badNonce is retried (§6.5). A status of
 * 400 or more becomes the error. */
static int post(acme_client_t *c, const char *url, const char *payload, bool jwk, const char *accept,
                acme_http_resp_t *r)
{
    const char *hdrs[] = { "Content-Type: application/jose+json", accept, NULL };
    for (int attempt = 0;; attempt++) {
        int rc;
        if (!c->nonce && (rc = fresh_nonce(c)))
            return rc;
        acme_buf_t jws;
        acme_buf_init(&jws, 0);
        rc = acme_jws_sign(&jws, &c->key, &c->rng, url, c->nonce, jwk ? NULL : c->kid, payload,
                           payload ? strlen(payload) : 0);
        free(c->nonce);
        c->nonce = NULL;
        if (!rc)
            rc = fetch(c, "POST", url, hdrs, jws.p, jws.len, r);
        acme_buf_free(&jws);
        if (rc || r->status < 400)
            return rc;
        bool bad_nonce;
        rc = problem(c, url, r, &bad_nonce);
        if (!bad_nonce || attempt >= c->o.nonce_retries)
            return rc;
        c->st.bad_nonces++;
    }
}

/* post() whose response must be a JSON object. */
static int post_obj(acme_client_t *c, const char *url, const char *payload, bool jwk, reply_t *rp)
{
    acme_json_free(&rp->doc);
    int rc = post(c, url, payload, jwk, NULL, &rp->http);
    if (rc)
        return rc;
    const acme_buf_t *b = &rp->http.body;
    if (acme_json_parse(&rp->doc, b->p ? b->p : "", b->len) || rp->doc.root->type != ACME_JSON_OBJECT)
        return aerr(c, ZL_EPROTO, "%s: HTTP %d without a JSON object", url, rp->http.status);
    return ZL_OK;
}

/* A URL member of a server object, copied; NULL when it is not https. */
static char *url_member(const acme_json_t *obj, const char *name)
{
    const char *s = acme_json_get_str(obj, name);
    return https_url(s) ? strdup(s) : NULL;
}

/* ---- directory and account ---- */

static int directory(acme_client_t *c)
{
    if (c->new_order)
        return ZL_OK;
    reply_t rp;
    reply_init(&rp);
    static const char *const hdrs[] = { "Accept: application/json", NULL };
    int rc = fetch(c, "GET", c->directory, hdrs, NULL, 0, &rp.http);
    if (!rc && rp.http.status != 200)
        rc = aerr(c, ZL_EPROTO, "%s: HTTP %d", c->directory, rp.http.status);
    const acme_buf_t *b = &rp.http.body;
    if (!rc && (acme_json_parse(&rp.doc, b->p ? b->p : "", b->len) ||
                rp.doc.root->type != ACME_JSON_OBJECT))
        rc = aerr(c, ZL_EPROTO, "%s: not a JSON object", c->directory);
    const acme_json_t *d = rp.doc.root;
    if (!rc) {
        c->new_nonce = url_member(d, "newNonce");
        c->new_account = url_member(d, "newAccount");
        c->new_order = url_member(d, "newOrder");
        if (!c->new_nonce || !c->new_account || !c->new_order)
            rc = aerr(c, ZL_EPROTO, "%s: newNonce, newAccount or newOrder missing", c->directory);
    }
    if (!rc && acme_json_is_true(acme_json_path(d, "/meta/externalAccountRequired")))
        rc = aerr(c, ZL_EDENIED, "%s: the server wants external account binding", c->directory);
    if (!rc) {
        const char *tos = acme_json_str(acme_json_path(d, "/meta/termsOfService"));
        acme_buf_t m;
        acme_buf_init(&m, 0);
        if (tos) {
            acme_buf_puts(&m, "; terms of service ");
            put_clean(&m, tos, 200);
        }
        alog(c, "directory %s read%s", c->directory, acme_buf_str(&m));
        acme_buf_free(&m);
    } else {
        free(c->new_nonce), free(c->new_account), free(c->new_order);
        c->new_nonce = c->new_account = c->new_order = NULL;
    }
    reply_free(&rp);
    return rc;
}

static int account_req(acme_client_t *c, bool only_existing)
{
    acme_buf_t p;
    acme_buf_init(&p, 0);
    if (only_existing)
        acme_buf_puts(&p, "{\"onlyReturnExisting\":true}");
    else {
        acme_buf_puts(&p, "{\"termsOfServiceAgreed\":true");
        if (c->email) {
            acme_buf_printf(&p, ",\"contact\":[");
            char mailto[320];
            snprintf(mailto, sizeof(mailto), "mailto:%s", c->email);
            acme_json_put_str(&p, mailto, strlen(mailto));
            acme_buf_puts(&p, "]");
        }
        acme_buf_puts(&p, "}");
    }
    reply_t rp;
    reply_init(&rp);
    int rc = p.err ? p.err : post_obj(c, c->new_account, p.p, true, &rp);
    const char *loc = acme_http_header(&rp.http, "Location");
    const char *status = acme_json_get_str(rp.doc.root, "status");
    if (!rc && ((rp.http.status != 200 && rp.http.status != 201) || !https_url(loc) || !status))
        rc = aerr(c, ZL_EPROTO, "%s: HTTP %d without an account URL and status", c->new_account,
                  rp.http.status);
    if (!rc && strcmp(status, "valid") != 0)
        rc = aerr(c, ZL_EDENIED, "account %s is %s", loc, status_text(status));
    if (!rc) {
        free(c->kid);
        if (!(c->kid = strdup(loc)))
            rc = ZL_ENOMEM;
        else
            alog(c, "account %s %s", c->kid, rp.http.status == 201 ? "created" : "found");
    }
    reply_free(&rp);
    acme_buf_free(&p);
    return rc;
}

int acme_client_account(acme_client_t *c, enum acme_account_mode mode)
{
    c->err[0] = '\0';
    int rc = directory(c);
    if (rc)
        return rc;
    if (mode == ACME_ACCOUNT_AUTO && c->generated)
        mode = ACME_ACCOUNT_CREATE;
    if (mode == ACME_ACCOUNT_CREATE)
        return account_req(c, false);
    rc = account_req(c, true);
    if (rc == ZL_ENOTFOUND && mode == ACME_ACCOUNT_AUTO) {
        alog(c, "no account for this key yet");
        rc = account_req(c, false);
    }
    return rc;
}

/* ---- polling ---- */

/* Waits before the next poll: Retry-After from r when it has one (at
 * least 100 ms), else *delay, which doubles; never more than poll_max_ms,
 * never past the deadline. */
static int poll_wait(acme_client_t *c, const acme_http_resp_t *r, int64_t *delay, const char *what)
{
    const char *ra = acme_http_header(r, "Retry-After");
    int64_t secs, ms = *delay;
    if (ra && acme_http_retry_after(ra, (int64_t)time(NULL), &secs) == ZL_OK)
        ms = secs * 1000 < 100 ? 100 : secs * 1000;
    else
        *delay = *delay * 2 > c->o.poll_max_ms ? c->o.poll_max_ms : *delay * 2;
    if (ms > c->o.poll_max_ms)
        ms = c->o.poll_max_ms;
    if (now_ms() + ms > c->deadline)
        return aerr(c, ZL_ETIMEOUT, "deadline passed waiting for %s", what);
    c->st.polls++;
    if (!c->cb.sleep) {
        sleep_ms(ms);
        return ZL_OK;
    }
    int rc = c->cb.sleep(c->cb.ctx, ms);
    return rc ? aerr(c, rc, "stopped while waiting for %s", what) : ZL_OK;
}

/* ---- authorizations ---- */

/* The requested name an authorization's identifier stands for (§7.1.4:
 * a wildcard's identifier is the base name with "wildcard": true). */
static bool identifier_ok(const acme_json_t *az, const char *const *names, size_t n)
{
    const char *type = acme_json_str(acme_json_path(az, "/identifier/type"));
    const char *value = acme_json_str(acme_json_path(az, "/identifier/value"));
    bool wild = acme_json_is_true(acme_json_get(az, "wildcard"));
    if (!type || strcmp(type, "dns") || !value || !acme_name_ok(value) || value[0] == '*')
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *s = names[i];
        if (wild ? (s[0] == '*' && strcasecmp(s + 2, value) == 0) : strcasecmp(s, value) == 0)
            return true;
    }
    return false;
}

/* The error a dns-01 challenge carries, for the message. */
static void challenge_error(acme_client_t *c, const acme_json_t *az, const char *name)
{
    const acme_json_t *ch = acme_json_get(az, "challenges");
    const acme_json_t *e = NULL;
    for (const acme_json_t *x = ch && ch->type == ACME_JSON_ARRAY ? ch->child : NULL; x; x = x->next)
        if (acme_json_str_eq(acme_json_get(x, "type"), "dns-01"))
            e = acme_json_get(x, "error");
    acme_buf_t m;
    acme_buf_init(&m, sizeof(c->err) - 1);
    acme_buf_printf(&m, "authorization for %s is invalid", name);
    const char *t = acme_json_get_str(e, "type"), *d = acme_json_get_str(e, "detail");
    if (t) {
        acme_buf_puts(&m, ": ");
        put_clean(&m, t, 100);
    }
    if (d) {
        acme_buf_puts(&m, ": ");
        put_clean(&m, d, 400);
    }
    snprintf(c->err, sizeof(c->err), "%s", m.p ? m.p : "authorization invalid");
    acme_buf_free(&m);
}

/* Reads one authorization; for a pending one, publishes the TXT record. */
static int authz_prepare(acme_client_t *c, authz_t *a, const char *const *names, size_t n)
{
    reply_t rp;
    reply_init(&rp);
    int rc = post_obj(c, a->url, NULL, false, &rp);
    const acme_json_t *az = rp.doc.root;
    if (!rc && !identifier_ok(az, names, n))
        rc = aerr(c, ZL_EPROTO, "%s: an identifier we did not ask for", a->url);
    const char *value = rc ? NULL : acme_json_str(acme_json_path(az, "/identifier/value"));
    const char *status = rc ? NULL : acme_json_get_str(az, "status");
    if (!rc && !(a->name = strdup(value)))
        rc = ZL_ENOMEM;
    if (!rc && status && strcmp(status, "valid") == 0) {
        a->done = true;
        alog(c, "authorization for %s is already valid", a->name);
        goto out;
    }
    if (!rc && (!status || strcmp(status, "pending")))
        rc = aerr(c, ZL_EPROTO, "authorization for %s is %s", a->name, status_text(status));
    const acme_json_t *ch = rc ? NULL : acme_json_get(az, "challenges"), *dns = NULL;
    for (const acme_json_t *x = ch && ch->type == ACME_JSON_ARRAY ? ch->child : NULL; x; x = x->next)
        if (acme_json_str_eq(acme_json_get(x, "type"), "dns-01"))
            dns = x;
    if (!rc && !dns)
        rc = aerr(c, ZL_EPROTO, "authorization for %s offers no dns-01 challenge", a->name);
    const char *token = dns ? acme_json_get_str(dns, "token") : NULL;
    if (!rc && (!(a->chall = url_member(dns, "url")) || !token ||
                acme_dns01_txt(token, c->thumb, a->txt)))
        rc = aerr(c, ZL_EPROTO, "authorization for %s: dns-01 challenge without a URL or a good token",
                  a->name);
    if (!rc) {
        snprintf(a->txt_name, sizeof(a->txt_name), "_acme-challenge.%s", a->name);
        if ((rc = c->cb.set_txt(c->cb.ctx, a->txt_name, a->txt)))
            aerr(c, rc, "TXT at %s could not be set: %s", a->txt_name, zl_strerror(rc));
        else {
            a->set = true;
            alog(c, "TXT record set at %s", a->txt_name);
        }
    }
out:
    reply_free(&rp);
    return rc;
}

/* Answers every challenge, then polls the authorizations until each is
 * valid (or one is not). */
static int authz_settle(acme_client_t *c, authz_t *az, size_t n)
{
    reply_t rp;
    reply_init(&rp);
    int rc = ZL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (az[i].done)
            continue;
        /* §7.5.1: the client answers with an empty object. */
        if (!(rc = post_obj(c, az[i].chall, "{}", false, &rp))) {
            alog(c, "challenge for %s answered (status %s)", az[i].name,
                 status_text(acme_json_get_str(rp.doc.root, "status")));
        }
    }
    int64_t delay = c->o.poll_ms;
    while (!rc) {
        const char *left = NULL;
        for (size_t i = 0; i < n && !rc; i++) {
            if (az[i].done)
                continue;
            if ((rc = post_obj(c, az[i].url, NULL, false, &rp)))
                break;
            const char *st = acme_json_get_str(rp.doc.root, "status");
            if (st && strcmp(st, "valid") == 0) {
                az[i].done = true;
                alog(c, "authorization for %s is valid", az[i].name);
            } else if (st && strcmp(st, "invalid") == 0) {
                challenge_error(c, rp.doc.root, az[i].name);
                rc = ZL_EPROTO;
            } else if (!st || strcmp(st, "pending"))
                rc = aerr(c, ZL_EPROTO, "authorization for %s is %s", az[i].name, status_text(st));
            else
                left = az[i].name;
        }
        if (rc || !left)
            break;
        rc = poll_wait(c, &rp.http, &delay, "authorizations");
    }
    reply_free(&rp);
    return rc;
}

/* ---- the order ---- */

/* Polls the order until its status is not `from`; the object stays in rp. */
static int order_poll(acme_client_t *c, reply_t *rp, const char *from, const char *what,
                      const char **status)
{
    int64_t delay = c->o.poll_ms;
    for (;;) {
        *status = acme_json_get_str(rp->doc.root, "status");
        if (!*status)
            return aerr(c, ZL_EPROTO, "order without status");
        if (strcmp(*status, from) != 0)
            return ZL_OK;
        int rc = poll_wait(c, &rp->http, &delay, what);
        if (!rc)
            rc = post_obj(c, c->order_url, NULL, false, rp);
        if (rc)
            return rc;
    }
}

static int order_failed(acme_client_t *c, const acme_json_t *order, const char *status)
{
    const char *t = acme_json_str(acme_json_path(order, "/error/type"));
    const char *d = acme_json_str(acme_json_path(order, "/error/detail"));
    acme_buf_t m;
    acme_buf_init(&m, sizeof(c->err) - 1);
    acme_buf_printf(&m, "order is %s", status_text(status));
    if (t) {
        acme_buf_puts(&m, ": ");
        put_clean(&m, t, 100);
    }
    if (d) {
        acme_buf_puts(&m, ": ");
        put_clean(&m, d, 400);
    }
    snprintf(c->err, sizeof(c->err), "%s", m.p ? m.p : "order failed");
    acme_buf_free(&m);
    return ZL_EPROTO;
}

/* Finalizes (§7.4) and downloads the chain (§7.4.2). */
static int order_finish(acme_client_t *c, reply_t *rp, const char *finalize, const uint8_t *csr,
                        size_t csr_len, acme_chain_t *chain)
{
    const char *st;
    int rc = post_obj(c, c->order_url, NULL, false, rp);
    if (!rc)
        rc = order_poll(c, rp, "pending", "the order to be ready", &st);
    if (!rc && strcmp(st, "ready") == 0) {
        alog(c, "order is ready; finalizing");
        acme_buf_t p;
        acme_buf_init(&p, 0);
        acme_buf_puts(&p, "{\"csr\":\"");
        acme_b64u_put(&p, csr, csr_len);
        acme_buf_puts(&p, "\"}");
        rc = p.err ? p.err : post_obj(c, finalize, p.p, false, rp);
        acme_buf_free(&p);
    }
    /* §7.1.6: processing until the certificate is issued (also when the
     * order was finalized before). */
    if (!rc)
        rc = order_poll(c, rp, "processing", "the certificate", &st);
    if (!rc && strcmp(st, "valid"))
        return order_failed(c, rp->doc.root, st);
    char *cert = rc ? NULL : url_member(rp->doc.root, "certificate");
    if (!rc && !cert)
        rc = aerr(c, ZL_EPROTO, "valid order without a certificate URL");
    if (!rc) {
        alog(c, "order is valid; downloading %s", cert);
        rc = post(c, cert, NULL, false, "Accept: application/pem-certificate-chain", &rp->http);
    }
    if (!rc && rp->http.status != 200)
        rc = aerr(c, ZL_EPROTO, "%s: HTTP %d", cert, rp->http.status);
    if (!rc && (rc = acme_chain_parse_pem(chain, rp->http.body.p ? rp->http.body.p : "", rp->http.body.len)))
        aerr(c, rc, "%s: not a PEM certificate chain (%s)", cert, zl_strerror(rc));
    free(cert);
    return rc;
}

static int order_new(acme_client_t *c, const char *const *names, size_t n, reply_t *rp)
{
    acme_buf_t p;
    acme_buf_init(&p, 0);
    acme_buf_puts(&p, "{\"identifiers\":[");
    for (size_t i = 0; i < n; i++) {
        acme_buf_puts(&p, i ? ",{\"type\":\"dns\",\"value\":" : "{\"type\":\"dns\",\"value\":");
        acme_json_put_str(&p, names[i], strlen(names[i]));
        acme_buf_putc(&p, '}');
    }
    acme_buf_puts(&p, "]}");
    int rc = p.err ? p.err : post_obj(c, c->new_order, p.p, false, rp);
    acme_buf_free(&p);
    const char *loc = acme_http_header(&rp->http, "Location");
    if (!rc && (rp->http.status != 201 || !https_url(loc)))
        rc = aerr(c, ZL_EPROTO, "%s: HTTP %d without an order URL", c->new_order, rp->http.status);
    if (!rc && !(c->order_url = strdup(loc)))
        rc = ZL_ENOMEM;
    return rc;
}

int acme_client_order(acme_client_t *c, const char *const *names, size_t n, const uint8_t *csr,
                      size_t csr_len, acme_chain_t *chain)
{
    chain->n = 0;
    c->err[0] = '\0';
    free(c->order_url);
    c->order_url = NULL;
    if (n == 0 || n > ACME_MAX_NAMES || !csr || csr_len == 0)
        return aerr(c, ZL_EINVAL, "an order needs 1 to %d names and a CSR", ACME_MAX_NAMES);
    for (size_t i = 0; i < n; i++)
        if (!acme_name_ok(names[i]))
            return aerr(c, ZL_EINVAL, "not a host name: %.100s", names[i]);
    int rc = c->kid ? ZL_OK : acme_client_account(c, ACME_ACCOUNT_AUTO);
    if (rc)
        return rc;
    c->deadline = now_ms() + c->o.deadline_ms;
    int64_t start = now_ms();
    reply_t rp;
    reply_init(&rp);
    authz_t *az = NULL;
    size_t naz = 0;
    char *finalize = NULL;
    if (!(rc = order_new(c, names, n, &rp))) {
        acme_buf_t l;
        acme_buf_init(&l, 900);
        for (size_t i = 0; i < n; i++)
            acme_buf_printf(&l, "%s%s", i ? ", " : "", names[i]);
        alog(c, "order placed for %s", l.p ? l.p : "?");
        acme_buf_free(&l);
        const acme_json_t *list = acme_json_get(rp.doc.root, "authorizations");
        finalize = url_member(rp.doc.root, "finalize");
        if (!finalize || !list || list->type != ACME_JSON_ARRAY || list->len == 0 || list->len > n)
            rc = aerr(c, ZL_EPROTO, "order without finalize URL or authorizations");
        else if (!(az = calloc(list->len, sizeof(*az))))
            rc = ZL_ENOMEM;
        for (const acme_json_t *u = az ? list->child : NULL; u && !rc; u = u->next) {
            const char *url = acme_json_str(u);
            if (!https_url(url) || !(az[naz].url = strdup(url)))
                rc = aerr(c, ZL_EPROTO, "order with a bad authorization URL");
            else
                naz++;
        }
    }
    for (size_t i = 0; i < naz && !rc; i++)
        rc = authz_prepare(c, &az[i], names, n);
    if (!rc)
        rc = authz_settle(c, az, naz);
    for (size_t i = 0; i < naz; i++) {
        if (az[i].set) {
            int r = c->cb.clear_txt(c->cb.ctx, az[i].txt_name, az[i].txt);
            if (r)
                alog(c, "TXT at %s could not be removed: %s", az[i].txt_name, zl_strerror(r));
            else
                alog(c, "TXT record removed at %s", az[i].txt_name);
        }
        free(az[i].url), free(az[i].name), free(az[i].chall);
    }
    free(az);
    if (!rc)
        rc = order_finish(c, &rp, finalize, csr, csr_len, chain);
    free(finalize);
    reply_free(&rp);
    acme_stats_t st;
    acme_client_stats(c, &st);
    if (rc) {
        acme_chain_free(chain);
        alog(c, "failed: %s", c->err[0] ? c->err : zl_strerror(rc));
    } else
        alog(c, "certificate chain of %zu certificates obtained in %lld ms (%u requests, %u connections, "
             "%u badNonce retries, %u polls so far)", chain->n, (long long)(now_ms() - start),
             st.requests, st.connections, st.bad_nonces, st.polls);
    return rc;
}
