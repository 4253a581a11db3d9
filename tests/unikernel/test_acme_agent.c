/* unikernel/acme_agent.c's decisions: when a CSR stored in a zone gets
 * an order, is left alone, or is refused (names outside the zones
 * served, below a delegation, a CSR that does not read, two CSRs), with
 * certificates made by OpenSSL (the oracle) from CSRs made by acme/:
 * the certificate answering the CSR, one for another key or other
 * names, renewal at a third of the validity or at --acme-renew-days;
 * and the back-off after failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/csr.h"
#include "acme/key.h"
#include "unikernel/acme_agent.h"
#include "zone/parse.h"

static char tmpdir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char buf[512];
    while (fread(buf, 1, sizeof buf, p) > 0)
        ;
    return pclose(p);
}

static const char *tmp(const char *name)
{
    static char path[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof path[i], "%s/%s", tmpdir, name);
    return path[i];
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static acme_der_t read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    acme_der_t d = {.p = malloc(65536), .len = 0};
    d.len = fread(d.p, 1, 65536, f);
    fclose(f);
    return d;
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/zl-acme-agent.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
              "-keyout ca.key -out ca.pem -days 3 -subj /CN=ca >/dev/null 2>&1", tmpdir);
}

static int teardown(void **state)
{
    (void)state;
    return sh("rm -rf %s", tmpdir);
}

/* A CSR (DER) for names[0..n) with a new key. */
static acme_der_t csr_for(const char *const *names, size_t n)
{
    acme_rng_t rng;
    acme_key_t k;
    acme_buf_t der;
    acme_key_init(&k);
    acme_buf_init(&der, 0);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    assert_int_equal(acme_csr_make(&der, &k, &rng, names, n), ZL_OK);
    acme_der_t d = {.p = malloc(der.len), .len = der.len};
    memcpy(d.p, der.p, der.len);
    acme_buf_free(&der);
    acme_key_free(&k);
    acme_rng_free(&rng);
    return d;
}

/* OpenSSL's certificate (DER) for csr, signed by the test CA, valid for
 * days days from now, with the subjectAltName san ("DNS:a,DNS:b"). */
static acme_der_t issue(const acme_der_t *csr, int days, const char *san)
{
    write_file(tmp("req.der"), csr->p, csr->len);
    char ext[256];
    snprintf(ext, sizeof ext, "subjectAltName=%s\n", san);
    write_file(tmp("ext"), ext, strlen(ext));
    assert_int_equal(sh("cd %s && openssl x509 -req -inform DER -in req.der -CA ca.pem -CAkey ca.key "
                        "-CAcreateserial -days %d -extfile ext -outform DER -out cert.der >/dev/null 2>&1",
                        tmpdir, days), 0);
    return read_file(tmp("cert.der"));
}

static int add_rec(void *ctx, const dns_rr_t *rr) { return zone_builder_add(ctx, rr, NULL); }

/* The zones served: t.test with a delegation at sub.t.test. */
static zone_set_t *zones(void)
{
    static const uint8_t origin[] = "\1t\4test";
    static const char text[] = "@ 3600 IN SOA ns hm 1 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n"
                               "sub 3600 IN NS ns.elsewhere.example.\n";
    zone_builder_t *b = zone_builder_new(origin);
    zone_parse_opts_t o = {.origin = origin};
    assert_int_equal(zone_parse_text(text, strlen(text), "t", &o, add_rec, b, NULL), ZL_OK);
    zone_t *z = NULL;
    assert_int_equal(zone_builder_finish(b, &z, NULL), ZL_OK);
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(&z, 1, &s), ZL_OK);
    zone_free(z);
    return s;
}

static srv_tlsa_set_t records(const acme_der_t *csr, const acme_der_t *cert)
{
    srv_tlsa_set_t s;
    srv_tlsa_init(&s);
    s.csr = csr->p;
    s.csr_len = csr->len;
    s.ncsr = 1;
    if (cert) {
        s.cert = cert->p;
        s.cert_len = cert->len;
        s.ncert = 1;
    }
    return s;
}

static const char *const NAMES[] = {"www.t.test", "*.w.t.test"};

static void expect(srv_acme_action_t want, const char *part, const zone_set_t *z,
                   const srv_tlsa_set_t *s, int64_t now, int renew_days, int64_t *renew_at)
{
    char why[512];
    int64_t r;
    srv_acme_action_t got = srv_acme_decide(z, s, now, renew_days, renew_at ? renew_at : &r, why, sizeof why);
    if (got != want || !strstr(why, part))
        fail_msg("action %d, wanted %d; \"%s\" wanted in \"%s\"", got, want, part, why);
}

static void test_refused(void **state)
{
    (void)state;
    zone_set_t *z = zones();
    acme_der_t csr = csr_for(NAMES, 2);
    srv_tlsa_set_t s = records(&csr, NULL);
    s.ncsr = 2;
    expect(SRV_ACME_REFUSE, "2 CSRs at one name", z, &s, 0, -1, NULL);
    static uint8_t junk[] = {0x30, 0x03, 1, 2, 3};
    acme_der_t bad = {.p = junk, .len = sizeof junk};
    s = records(&bad, NULL);
    expect(SRV_ACME_REFUSE, "the CSR does not read", z, &s, 0, -1, NULL);
    /* A signature that does not verify. */
    acme_der_t forged = {.p = malloc(csr.len), .len = csr.len};
    memcpy(forged.p, csr.p, csr.len);
    forged.p[csr.len - 5] ^= 0x40;
    s = records(&forged, NULL);
    expect(SRV_ACME_REFUSE, "the CSR does not read", z, &s, 0, -1, NULL);
    static const char *const outside[] = {"www.t.test", "www.other.test"};
    acme_der_t c2 = csr_for(outside, 2);
    s = records(&c2, NULL);
    expect(SRV_ACME_REFUSE, "www.other.test is in no zone served here", z, &s, 0, -1, NULL);
    expect(SRV_ACME_REFUSE, "is in no zone served here", NULL, &s, 0, -1, NULL);
    static const char *const delegated[] = {"x.sub.t.test"};
    acme_der_t c3 = csr_for(delegated, 1);
    s = records(&c3, NULL);
    expect(SRV_ACME_REFUSE, "x.sub.t.test lies below a delegation", z, &s, 0, -1, NULL);
    /* The delegation point itself: its challenge name is below the cut. */
    static const char *const cut[] = {"sub.t.test"};
    acme_der_t c4 = csr_for(cut, 1);
    s = records(&c4, NULL);
    expect(SRV_ACME_REFUSE, "sub.t.test lies below a delegation", z, &s, 0, -1, NULL);
    free(csr.p), free(forged.p), free(c2.p), free(c3.p), free(c4.p);
    zone_set_free(z);
}

static void test_order_and_keep(void **state)
{
    (void)state;
    zone_set_t *z = zones();
    acme_der_t csr = csr_for(NAMES, 2);
    srv_tlsa_set_t s = records(&csr, NULL);
    expect(SRV_ACME_ORDER, "no certificate yet", z, &s, 0, -1, NULL);   /* the wildcard's base is served */
    acme_der_t cert = issue(&csr, 90, "DNS:www.t.test,DNS:*.w.t.test");
    int64_t from, until, renew_at;
    assert_int_equal(acme_cert_validity(cert.p, cert.len, &from, &until), ZL_OK);
    assert_int_equal(until - from, 90 * 86400);
    s = records(&csr, &cert);
    /* Fresh: kept until a third of the validity is left. */
    expect(SRV_ACME_KEEP, "certificate valid until", z, &s, from + 1, -1, &renew_at);
    assert_int_equal(renew_at, until - 30 * 86400);
    expect(SRV_ACME_KEEP, "renewal from", z, &s, renew_at - 1, -1, NULL);
    expect(SRV_ACME_ORDER, "renewal due since", z, &s, renew_at, -1, NULL);
    expect(SRV_ACME_ORDER, "renewal due since", z, &s, until + 1, -1, NULL);
    /* --acme-renew-days: that many days before the end. */
    expect(SRV_ACME_KEEP, "valid until", z, &s, from + 1, 10, &renew_at);
    assert_int_equal(renew_at, until - 10 * 86400);
    expect(SRV_ACME_ORDER, "renewal due", z, &s, until - 10 * 86400, 10, NULL);
    expect(SRV_ACME_ORDER, "renewal due", z, &s, from + 1, 2000, NULL);   /* longer than the validity */
    expect(SRV_ACME_KEEP, "valid until", z, &s, until - 1, 0, &renew_at);
    assert_int_equal(renew_at, until);
    free(cert.p);

    /* A certificate that does not answer this CSR. */
    acme_der_t other_key = csr_for(NAMES, 2);
    cert = issue(&other_key, 90, "DNS:www.t.test,DNS:*.w.t.test");
    s = records(&csr, &cert);
    expect(SRV_ACME_ORDER, "does not answer the CSR", z, &s, from + 1, -1, NULL);
    free(cert.p);
    cert = issue(&csr, 90, "DNS:www.t.test");   /* a name missing */
    s = records(&csr, &cert);
    expect(SRV_ACME_ORDER, "does not answer the CSR", z, &s, from + 1, -1, NULL);
    free(cert.p);
    cert = issue(&csr, 90, "DNS:www.t.test,DNS:*.w.t.test,DNS:extra.t.test");   /* one too many */
    s = records(&csr, &cert);
    expect(SRV_ACME_ORDER, "does not answer the CSR", z, &s, from + 1, -1, NULL);
    free(cert.p);
    static uint8_t junk[] = {0x30, 0x03, 1, 2, 3};
    acme_der_t garbage = {.p = junk, .len = sizeof junk};
    s = records(&csr, &garbage);
    expect(SRV_ACME_ORDER, "does not answer the CSR", z, &s, from + 1, -1, NULL);
    /* Names in another order and case are the same request. */
    static const char *const again[] = {"*.W.t.test", "WWW.t.test"};
    acme_der_t csr2 = csr_for(again, 2);
    assert_false(acme_csr_same(csr.p, csr.len, csr2.p, csr2.len));   /* another key */
    cert = issue(&csr2, 90, "DNS:www.t.test,DNS:*.w.t.test");
    s = records(&csr2, &cert);
    expect(SRV_ACME_KEEP, "valid until", z, &s, from + 1, -1, NULL);
    free(cert.p), free(csr.p), free(csr2.p), free(other_key.p);
    zone_set_free(z);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(srv_acme_backoff(1), 60);
    assert_int_equal(srv_acme_backoff(2), 120);
    assert_int_equal(srv_acme_backoff(3), 240);
    assert_int_equal(srv_acme_backoff(11), 61440);
    assert_int_equal(srv_acme_backoff(12), 86400);
    assert_int_equal(srv_acme_backoff(1000), 86400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_order_and_keep),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
