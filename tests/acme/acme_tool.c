/* A driver for the ACME client (tests/acme/test_pebble.sh): obtains a
 * certificate for the --name arguments, publishing the DNS-01 records
 * through pebble-challtestsrv's management API, and writes key.pem,
 * cert.pem, chain.pem and fullchain.pem into --out.
 *
 *   acme_tool --directory URL --ca FILE --challtestsrv URL --out DIR
 *             --name HOST [--name HOST...] [--account-key FILE]
 *             [--email ADDR] [--skip-txt HOST] [--poll-ms N]
 *
 * --account-key FILE is read when it exists, else the generated key is
 * written there. --skip-txt HOST publishes nothing for HOST, so its
 * validation fails. Exit status 0 on success, 1 on failure (the error on
 * stderr), 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme/acme.h"
#include "acme/csr.h"
#include "acme/http.h"
#include "acme/json.h"

typedef struct tool {
    acme_http_t *http;      /* plain http to challtestsrv */
    const char *challtestsrv;
    const char *skip[8];
    size_t nskip;
} tool_t;

/* POST {"host":"<name>.","value":...} to challtestsrv's path. */
static int challtest(tool_t *t, const char *path, const char *name, const char *value)
{
    acme_buf_t body, url;
    acme_buf_init(&body, 0);
    acme_buf_init(&url, 0);
    char host[300];
    snprintf(host, sizeof(host), "%s.", name);
    acme_buf_puts(&body, "{\"host\":");
    acme_json_put_str(&body, host, strlen(host));
    if (value) {
        acme_buf_puts(&body, ",\"value\":");
        acme_json_put_str(&body, value, strlen(value));
    }
    acme_buf_puts(&body, "}");
    acme_buf_printf(&url, "%s%s", t->challtestsrv, path);
    static const char *const hdrs[] = { "Content-Type: application/json", NULL };
    acme_http_req_t req = { .method = "POST", .url = url.p, .headers = hdrs, .body = body.p,
                            .body_len = body.len };
    acme_http_resp_t r;
    int rc = acme_http_request(t->http, &req, &r);
    if (rc)
        fprintf(stderr, "acme_tool: %s: %s\n", url.p, acme_http_errmsg(t->http));
    else if (r.status != 200) {
        fprintf(stderr, "acme_tool: %s: HTTP %d\n", url.p, r.status);
        rc = ZL_EPROTO;
    }
    acme_http_resp_free(&r);
    acme_buf_free(&body);
    acme_buf_free(&url);
    return rc;
}

static bool skipped(tool_t *t, const char *txt_name)
{
    const char *name = txt_name + strlen("_acme-challenge.");
    for (size_t i = 0; i < t->nskip; i++)
        if (strcasecmp(t->skip[i], name) == 0)
            return true;
    return false;
}

static int set_txt(void *ctx, const char *name, const char *value)
{
    tool_t *t = ctx;
    return skipped(t, name) ? ZL_OK : challtest(t, "/set-txt", name, value);
}

static int clear_txt(void *ctx, const char *name, const char *value)
{
    tool_t *t = ctx;
    (void)value;
    return skipped(t, name) ? ZL_OK : challtest(t, "/clear-txt", name, NULL);
}

static void log_line(void *ctx, const char *order, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "acme: %s%s%s\n", order ? order : "", order ? ": " : "", msg);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    acme_buf_t b;
    acme_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        acme_buf_put(&b, chunk, n);
    fclose(f);
    return acme_buf_take(&b, len);
}

static int write_file(const char *dir, const char *name, const acme_buf_t *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "acme_tool: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    acme_opts_t o = { 0 };
    tool_t t = { 0 };
    const char *names[ACME_MAX_NAMES], *out = NULL, *keyfile = NULL;
    size_t n = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--directory"))
            o.directory = v;
        else if (!strcmp(a, "--ca"))
            o.ca_file = v;
        else if (!strcmp(a, "--email"))
            o.email = v;
        else if (!strcmp(a, "--challtestsrv"))
            t.challtestsrv = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--account-key"))
            keyfile = v;
        else if (!strcmp(a, "--poll-ms"))
            o.poll_ms = atoi(v);
        else if (!strcmp(a, "--name") && n < ACME_MAX_NAMES)
            names[n++] = v;
        else if (!strcmp(a, "--skip-txt") && t.nskip < 8)
            t.skip[t.nskip++] = v;
        else {
            fprintf(stderr, "acme_tool: unknown option %s\n", a);
            return 2;
        }
    }
    if (!o.directory || !t.challtestsrv || !out || n == 0 || (argc - 1) % 2) {
        fprintf(stderr, "usage: acme_tool --directory URL --ca FILE --challtestsrv URL --out DIR "
                        "--name HOST... [--account-key FILE] [--email ADDR] [--skip-txt HOST]\n");
        return 2;
    }
    char *key = keyfile ? read_file(keyfile, &o.key_len) : NULL;
    o.key_pem = key;
    char err[256];
    if (acme_http_new(&t.http, NULL, err, sizeof(err))) {
        fprintf(stderr, "acme_tool: %s\n", err);
        return 1;
    }
    acme_cb_t cb = { .ctx = &t, .set_txt = set_txt, .clear_txt = clear_txt, .log = log_line };
    acme_client_t *c = NULL;
    int rc = acme_client_new(&c, &o, &cb, err, sizeof(err));
    free(key);
    if (rc) {
        fprintf(stderr, "acme_tool: %s (%s)\n", err, zl_strerror(rc));
        acme_http_free(t.http);
        return 1;
    }
    acme_buf_t kp, csr, pem;
    acme_buf_init(&kp, 0);
    acme_buf_init(&csr, 0);
    acme_buf_init(&pem, 0);
    if (keyfile && acme_client_key_generated(c) &&
        (acme_client_key_pem(c, &kp) || write_file(NULL, keyfile, &kp)))
        rc = ZL_EIO;
    /* The certificate's own key and CSR, as `zonelet certify` makes them. */
    acme_rng_t rng;
    acme_key_t ck;
    acme_key_init(&ck);
    if (!rc && !(rc = acme_rng_init(&rng))) {
        rc = acme_key_generate(&ck, &rng);
        if (!rc)
            rc = acme_csr_make(&csr, &ck, &rng, names, n);
    }
    acme_rng_free(&rng);
    acme_chain_t chain = { 0 };
    int64_t t0 = now_ms();
    if (!rc)
        rc = acme_client_order(c, names, n, (const uint8_t *)csr.p, csr.len, &chain);
    int64_t t1 = now_ms();
    if (rc)
        fprintf(stderr, "acme_tool: error: %s (%s)\n", acme_client_error(c), zl_strerror(rc));
    else {
        acme_stats_t st;
        acme_client_stats(c, &st);
        printf("issued in %lld ms: %zu certificates, %u requests, %u connections, %u badNonce retries, "
               "%u polls\n", (long long)(t1 - t0), chain.n, st.requests, st.connections, st.bad_nonces,
               st.polls);
        acme_buf_reset(&kp);
        if (acme_key_write_pem(&ck, &kp) || write_file(out, "key.pem", &kp))
            rc = ZL_EIO;
        acme_pem_write(&pem, "CERTIFICATE", chain.cert[0].p, chain.cert[0].len);
        if (!rc && write_file(out, "cert.pem", &pem))
            rc = ZL_EIO;
        acme_buf_reset(&pem);
        acme_chain_write_pem(&pem, &chain, 1);
        if (!rc && write_file(out, "chain.pem", &pem))
            rc = ZL_EIO;
        acme_buf_reset(&pem);
        acme_chain_write_pem(&pem, &chain, 0);
        if (!rc && write_file(out, "fullchain.pem", &pem))
            rc = ZL_EIO;
        if (acme_client_account_url(c))
            printf("account %s\n", acme_client_account_url(c));
    }
    acme_chain_free(&chain);
    acme_key_free(&ck);
    acme_buf_free(&kp);
    acme_buf_free(&csr);
    acme_buf_free(&pem);
    acme_client_free(c);
    acme_http_free(t.http);
    return rc ? 1 : 0;
}
