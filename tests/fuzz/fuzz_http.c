/* libFuzzer harness: the HTTP response reader (acme/http_parse.c). The
 * first octet chooses HEAD or not, a small body bound or not, and whether
 * the stream ends after the input; the rest is the response. It is read
 * in one piece and again in pieces cut where the input says: both reads
 * must agree on the result, the status, every field and the body. The
 * input also goes to the URL and Retry-After readers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/http.h"

typedef struct run {
    int rc;
    size_t used;
    acme_http_resp_t r;
} run_t;

static void read_in(run_t *o, const uint8_t *s, size_t n, bool head, bool eof, size_t max,
                    const uint8_t *cuts, size_t ncuts)
{
    acme_http_parser_t p;
    acme_http_resp_init(&o->r, max);
    acme_http_parser_init(&p, &o->r, head);
    o->rc = ZL_OK;
    o->used = 0;
    size_t i = 0, c = 0;
    while (i < n && o->rc == ZL_OK) {
        size_t k = ncuts ? (size_t)cuts[c++ % ncuts] % 17 + 1 : n;
        if (k > n - i)
            k = n - i;
        size_t used;
        o->rc = acme_http_parser_feed(&p, s + i, k, &used);
        o->used += used;
        if (used > k)
            abort();
        i += k;
    }
    if (eof && o->rc == ZL_OK)
        o->rc = acme_http_parser_eof(&p);
    acme_http_parser_free(&p);
}

static void same(const run_t *a, const run_t *b)
{
    if (a->rc != b->rc)
        abort();
    if (a->rc != 1)
        return;
    if (a->used != b->used || a->r.status != b->r.status || a->r.close != b->r.close ||
        a->r.nfield != b->r.nfield || a->r.body.len != b->r.body.len ||
        (a->r.body.len && memcmp(a->r.body.p, b->r.body.p, a->r.body.len)))
        abort();
    for (size_t i = 0; i < a->r.nfield; i++)
        if (strcmp(a->r.head.p + a->r.field[i].name, b->r.head.p + b->r.field[i].name) ||
            strcmp(a->r.head.p + a->r.field[i].value, b->r.head.p + b->r.field[i].value))
            abort();
    if (a->r.body.len > a->r.body.max)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *s = data + 1;
    size_t n = size - 1;
    bool head = mode & 1, eof = mode & 2;
    size_t max = mode & 4 ? 64 : 0;
    run_t whole, parts;
    read_in(&whole, s, n, head, eof, max, NULL, 0);
    read_in(&parts, s, n, head, eof, max, s, n < 32 ? n : 32);
    same(&whole, &parts);
    if (whole.rc == 1) {
        (void)acme_http_header(&whole.r, "Replay-Nonce");
        (void)acme_http_header_at(&whole.r, "Link", 1);
    }
    acme_http_resp_free(&whole.r);
    acme_http_resp_free(&parts.r);

    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    acme_url_t u;
    if (acme_url_parse(text, &u) == ZL_OK && (!u.path || strlen(u.host) == 0))
        abort();
    int64_t secs;
    if (acme_http_retry_after(text, 1700000000, &secs) == ZL_OK && (secs < 0 || secs > INT32_MAX))
        abort();
    free(text);
    return 0;
}
