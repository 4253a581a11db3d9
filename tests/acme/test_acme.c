/* acme/acme.c: the flow against a scripted ACME server
 * (tests/acme/fake_acme.py, HTTPS on 127.0.0.1, every JWS verified with
 * jwcrypto), one scenario per test: the TXT values and their clean-up,
 * the waits asked of the sleep callback (Retry-After honoured, bounded,
 * as an HTTP date, doubling without it, the deadline), badNonce retried
 * and its bound, and the refusals (external account binding, a
 * deactivated account, badCSR with subproblems, an identifier we did
 * not ask for, an invalid authorization). The real thing is Pebble
 * (tests/acme/test_pebble.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/jws.h"

static struct fixture {
    char dir[32];
    int port, pid;
    FILE *srv;
} fx;

/* Starts fake_acme.py with the scenario cmocka passes as the state. */
static int server_up(void **state)
{
    char cmd[1024];
    strcpy(fx.dir, "/tmp/zl-acme.XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
             "-out ca.pem -days 2 -subj /CN=ca >/dev/null 2>&1 && openssl req -new -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout srv.key -subj /CN=localhost -out srv.csr >/dev/null 2>&1 && "
             "printf 'subjectAltName=DNS:localhost\\n' >ext && openssl x509 -req -in srv.csr -CA ca.pem "
             "-CAkey ca.key -CAcreateserial -days 2 -extfile ext -out srv.pem >/dev/null 2>&1 && "
             "cat srv.pem ca.pem >chain.pem", fx.dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "exec /usr/bin/python3 tests/acme/fake_acme.py %s/srv.pem %s/srv.key "
             "%s/chain.pem %s 2>%s/server.err", fx.dir, fx.dir, fx.dir, (const char *)*state, fx.dir);
    if (!(fx.srv = popen(cmd, "r")))
        return -1;
    return fscanf(fx.srv, "%d %d", &fx.port, &fx.pid) == 2 ? 0 : -1;
}

static int server_down(void **state)
{
    (void)state;
    char cmd[128];
    if (fx.pid > 0)
        kill(fx.pid, SIGTERM);
    if (fx.srv)
        pclose(fx.srv);
    fx.pid = 0;
    fx.srv = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* What the client asked of its callbacks. */
typedef struct rec {
    char set[8][128], clear[8][128];
    int nset, nclear;
    int64_t wait[32];
    int nwait;
    acme_buf_t log;
} rec_t;

static int set_txt(void *ctx, const char *name, const char *value)
{
    rec_t *r = ctx;
    if (r->nset < 8)
        snprintf(r->set[r->nset++], 128, "%s %s", name, value);
    return ZL_OK;
}

static int clear_txt(void *ctx, const char *name, const char *value)
{
    rec_t *r = ctx;
    if (r->nclear < 8)
        snprintf(r->clear[r->nclear++], 128, "%s %s", name, value);
    return ZL_OK;
}

static void on_log(void *ctx, const char *order, const char *msg)
{
    rec_t *r = ctx;
    acme_buf_printf(&r->log, "%s | %s\n", order ? order : "-", msg);
}

/* The wait (counted from 1) at which on_sleep says "stop"; 0: never. */
static int sleep_stop_at;

static int on_sleep(void *ctx, int64_t ms)
{
    rec_t *r = ctx;
    if (r->nwait < 32)
        r->wait[r->nwait++] = ms;
    return r->nwait == sleep_stop_at ? ZL_ETIMEOUT : ZL_OK;
}

typedef struct run {
    rec_t rec;
    acme_client_t *c;
    acme_chain_t chain;
    int rc;
    acme_stats_t st;
} run_t;

static const char *const names[] = { "a.example", "*.b.example" };

/* An order for names with options o (directory and CA filled in). */
static void order(run_t *r, acme_opts_t o)
{
    char dir[64], ca[64], err[256];
    memset(r, 0, sizeof(*r));
    acme_buf_init(&r->rec.log, 0);
    snprintf(dir, sizeof(dir), "https://localhost:%d/dir", fx.port);
    snprintf(ca, sizeof(ca), "%s/ca.pem", fx.dir);
    o.directory = dir;
    o.ca_file = ca;
    acme_cb_t cb = { .ctx = &r->rec, .set_txt = set_txt, .clear_txt = clear_txt, .log = on_log,
                     .sleep = on_sleep };
    assert_int_equal(acme_client_new(&r->c, &o, &cb, err, sizeof(err)), ZL_OK);
    acme_rng_t rng;
    acme_key_t k;
    acme_buf_t csr;
    acme_key_init(&k);
    acme_buf_init(&csr, 0);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    assert_int_equal(acme_csr_make(&csr, &k, &rng, names, 2), ZL_OK);
    r->rc = acme_client_order(r->c, names, 2, (const uint8_t *)csr.p, csr.len, &r->chain);
    acme_client_stats(r->c, &r->st);
    acme_buf_free(&csr);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

static void done(run_t *r)
{
    acme_chain_free(&r->chain);
    acme_client_free(r->c);
    acme_buf_free(&r->rec.log);
}

static void expect_waits(const run_t *r, const int64_t *want, int n)
{
    if (r->rec.nwait != n)
        fail_msg("%d waits, wanted %d; %s", r->rec.nwait, n, acme_client_error(r->c));
    for (int i = 0; i < n; i++)
        assert_int_equal(r->rec.wait[i], want[i]);
}

/* The TXT values are base64url(SHA-256(token "." thumbprint)) of our key
 * (the fake's tokens are "token-<k>_AbC"), at the base name of each
 * identifier, and each one set is cleared. */
static void expect_txt(const run_t *r, int n_set)
{
    acme_buf_t pem;
    acme_buf_init(&pem, 0);
    assert_int_equal(acme_client_key_pem(r->c, &pem), ZL_OK);
    acme_key_t k;
    acme_key_init(&k);
    assert_int_equal(acme_key_parse(&k, pem.p, pem.len), ZL_OK);
    char thumb[ACME_B64_SHA256_LEN + 1], v[ACME_B64_SHA256_LEN + 1], want[128];
    assert_int_equal(acme_key_thumbprint(&k, thumb), ZL_OK);
    assert_int_equal(r->rec.nset, n_set);
    static const char *const at[] = { "_acme-challenge.a.example", "_acme-challenge.b.example" };
    for (int i = 0; i < n_set; i++) {
        char tok[32];
        snprintf(tok, sizeof(tok), "token-%d_AbC", i);
        assert_int_equal(acme_dns01_txt(tok, thumb, v), ZL_OK);
        snprintf(want, sizeof(want), "%s %s", at[i], v);
        assert_string_equal(r->rec.set[i], want);
    }
    assert_int_equal(r->rec.nclear, n_set);
    for (int i = 0; i < n_set; i++)
        assert_string_equal(r->rec.clear[i], r->rec.set[i]);
    acme_key_free(&k);
    acme_buf_free(&pem);
}

static void expect_error(const run_t *r, int rc, const char *part)
{
    if (r->rc != rc || !strstr(acme_client_error(r->c), part))
        fail_msg("rc %d (%s), wanted %d with \"%s\"", r->rc, acme_client_error(r->c), rc, part);
    assert_int_equal(r->chain.n, 0);
}

static void test_retry_after(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    if (r.rc)
        fail_msg("%s", acme_client_error(r.c));
    assert_int_equal(r.chain.n, 2);
    expect_txt(&r, 2);
    /* Authorizations twice with "Retry-After: 2", the order once with 7. */
    static const int64_t want[] = { 2000, 2000, 7000 };
    expect_waits(&r, want, 3);
    /* Each step, with the order URL once there is one. */
    char url[64];
    snprintf(url, sizeof(url), "https://localhost:%d/order/1 | ", fx.port);
    const char *log = acme_buf_str(&r.rec.log);
    assert_non_null(strstr(log, "- | account https://localhost:"));
    static const char *const steps[] = {
        "order placed for a.example, *.b.example", "TXT record set at _acme-challenge.b.example",
        "challenge for a.example answered (status processing)", "authorization for b.example is valid",
        "TXT record removed at _acme-challenge.a.example", "order is ready; finalizing",
        "order is valid; downloading https://localhost:", "certificate chain of 2 certificates obtained",
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char line[160];
        snprintf(line, sizeof(line), "%s%s", url, steps[i]);
        if (!strstr(log, line))
            fail_msg("no \"%s\" in the log:\n%s", line, log);
    }
    done(&r);
}

/* A sleep callback that says stop (the appliance stopping) abandons the
 * order at once, and the TXT records set are still removed. */
static void test_sleep_stops(void **state)
{
    (void)state;
    run_t r;
    sleep_stop_at = 1;
    order(&r, (acme_opts_t){ 0 });
    sleep_stop_at = 0;
    expect_error(&r, ZL_ETIMEOUT, "stopped while waiting for authorizations");
    assert_int_equal(r.rec.nwait, 1);
    assert_int_equal(r.rec.nset, 2);
    assert_int_equal(r.rec.nclear, 2);
    done(&r);
}

static void test_retry_after_bounded(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ .poll_max_ms = 1500 });
    assert_int_equal(r.rc, ZL_OK);
    static const int64_t want[] = { 1500, 1500, 1500 }; /* "Retry-After: 3600" */
    expect_waits(&r, want, 3);
    done(&r);
}

static void test_retry_after_date(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    assert_int_equal(r.rc, ZL_OK);
    assert_int_equal(r.rec.nwait, 3);
    for (int i = 0; i < 3; i++) /* a date 5 s ahead, in whole seconds */
        if (r.rec.wait[i] < 3000 || r.rec.wait[i] > 5000 || r.rec.wait[i] % 1000)
            fail_msg("wait %d: %lld ms", i, (long long)r.rec.wait[i]);
    done(&r);
}

static void test_backoff(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ .poll_ms = 300 });
    assert_int_equal(r.rc, ZL_OK);
    static const int64_t want[] = { 300, 600, 300 }; /* doubling, anew for the order */
    expect_waits(&r, want, 3);
    done(&r);
}

static void test_deadline(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ .poll_max_ms = 60000, .deadline_ms = 5000 });
    expect_error(&r, ZL_ETIMEOUT, "deadline passed waiting for authorizations");
    assert_int_equal(r.rec.nwait, 0);
    expect_txt(&r, 2); /* and the records are cleared */
    done(&r);
}

static void test_bad_nonce(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    if (r.rc)
        fail_msg("%s", acme_client_error(r.c));
    /* The fake refuses the first nonce at each URL: account, order, 2
     * authorizations, 2 challenges, order, finalize, certificate. */
    assert_int_equal(r.st.bad_nonces, 9);
    assert_int_equal(r.chain.n, 2);
    done(&r);
}

static void test_bad_nonce_bounded(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ .nonce_retries = 3 });
    expect_error(&r, ZL_EPROTO, "/acct: HTTP 400: urn:ietf:params:acme:error:badNonce: JWS has an invalid");
    assert_int_equal(r.st.bad_nonces, 3);
    done(&r);
}

static void test_eab(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    expect_error(&r, ZL_EDENIED, "wants external account binding");
    assert_int_equal(r.rec.nset, 0);
    done(&r);
}

static void test_deactivated(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    expect_error(&r, ZL_EDENIED, " is deactivated");
    done(&r);
}

static void test_bad_csr(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    expect_error(&r, ZL_EPROTO, "/finalize/1: HTTP 400: urn:ietf:params:acme:error:badCSR: CSR is unacceptable; "
                                "a.example: urn:ietf:params:acme:error:rejectedIdentifier no certificates");
    assert_non_null(strstr(acme_buf_str(&r.rec.log), "/order/1 | failed: https://localhost:"));
    done(&r);
}

static void test_foreign_identifier(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    expect_error(&r, ZL_EPROTO, "/authz/1: an identifier we did not ask for");
    expect_txt(&r, 1); /* a.example's, set and cleared; nothing for evil.example */
    done(&r);
}

static void test_invalid_authorization(void **state)
{
    (void)state;
    run_t r;
    order(&r, (acme_opts_t){ 0 });
    expect_error(&r, ZL_EPROTO, "authorization for b.example is invalid: urn:ietf:params:acme:error:unauthorized: "
                                "fake: wrong TXT at _acme-challenge");
    expect_txt(&r, 2);
    done(&r);
}

static void test_account_modes(void **state)
{
    (void)state;
    char dir[64], ca[64], err[256];
    snprintf(dir, sizeof(dir), "https://localhost:%d/dir", fx.port);
    snprintf(ca, sizeof(ca), "%s/ca.pem", fx.dir);
    rec_t rec = { .nset = 0 };
    acme_buf_init(&rec.log, 0);
    acme_cb_t cb = { .ctx = &rec, .set_txt = set_txt, .clear_txt = clear_txt, .log = on_log };
    acme_opts_t o = { .directory = dir, .ca_file = ca, .email = "hostmaster@example.org" };
    acme_client_t *c;
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_OK);
    assert_true(acme_client_key_generated(c));
    assert_int_equal(acme_client_account(c, ACME_ACCOUNT_FIND), ZL_ENOTFOUND);
    assert_null(acme_client_account_url(c));
    assert_int_equal(acme_client_account(c, ACME_ACCOUNT_CREATE), ZL_OK);
    char url[160];
    snprintf(url, sizeof(url), "%s", acme_client_account_url(c));
    assert_int_equal(acme_client_account(c, ACME_ACCOUNT_FIND), ZL_OK);
    assert_string_equal(acme_client_account_url(c), url);
    /* The same key, stored and given back: found. A new key: created. */
    acme_buf_t pem;
    acme_buf_init(&pem, 0);
    assert_int_equal(acme_client_key_pem(c, &pem), ZL_OK);
    acme_client_free(c);
    o.key_pem = pem.p;
    o.key_len = pem.len;
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_OK);
    assert_false(acme_client_key_generated(c));
    assert_int_equal(acme_client_account(c, ACME_ACCOUNT_AUTO), ZL_OK);
    assert_string_equal(acme_client_account_url(c), url);
    acme_client_free(c);
    o.key_pem = NULL;
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_OK);
    assert_int_equal(acme_client_account(c, ACME_ACCOUNT_AUTO), ZL_OK);
    assert_string_not_equal(acme_client_account_url(c), url);
    acme_client_free(c);
    const char *log = acme_buf_str(&rec.log);
    assert_non_null(strstr(log, "created"));
    assert_non_null(strstr(log, " found"));
    assert_null(strstr(log, "PRIVATE")); /* the key never reaches the log */
    /* What acme_client_new refuses. */
    o.directory = "http://localhost/dir";
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_EINVAL);
    o.directory = dir;
    o.email = "a b@example.org";
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_EINVAL);
    o.email = NULL;
    o.key_pem = "junk";
    o.key_len = 4;
    assert_int_equal(acme_client_new(&c, &o, &cb, err, sizeof(err)), ZL_ESYNTAX);
    assert_non_null(strstr(err, "account key"));
    acme_buf_free(&pem);
    acme_buf_free(&rec.log);
}

#define SCENARIO(test, name) cmocka_unit_test_prestate_setup_teardown(test, server_up, server_down, (void *)name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SCENARIO(test_retry_after, "ok"),
        SCENARIO(test_sleep_stops, "ok"),
        SCENARIO(test_retry_after_bounded, "clamp"),
        SCENARIO(test_retry_after_date, "httpdate"),
        SCENARIO(test_backoff, "noretry"),
        SCENARIO(test_deadline, "deadline"),
        SCENARIO(test_bad_nonce, "badnonce"),
        SCENARIO(test_bad_nonce_bounded, "alwaysbad"),
        SCENARIO(test_eab, "eab"),
        SCENARIO(test_deactivated, "deactivated"),
        SCENARIO(test_bad_csr, "badcsr"),
        SCENARIO(test_foreign_identifier, "foreign"),
        SCENARIO(test_invalid_authorization, "invalid"),
        SCENARIO(test_account_modes, "ok"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
