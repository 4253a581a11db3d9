/* acme/csr.c: CSRs we make, read by OpenSSL (`openssl req -text
 * -verify`, the oracle) and by acme_csr_names; CSRs OpenSSL makes, read
 * by acme_csr_names; host name rules; PEM chains both ways; validity. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/csr.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/zl-csr.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name)
{
    static char path[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
    return path[i];
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void read_bytes(const char *path, acme_buf_t *b)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        acme_buf_put(b, buf, n);
    fclose(f);
}

/* Output of a shell command (stdout and stderr). */
static int sh(acme_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(acme_buf_t *out, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        if (out)
            acme_buf_put(out, buf, n);
    return pclose(p);
}

static void test_name_ok(void **state)
{
    (void)state;
    static const char *const good[] = {
        "example.org", "www.example.org", "*.example.org", "a", "xn--bcher-kva.example", "a-b.c-d.e",
        "0.example", "A.EXAMPLE", "123", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123.x",
    };
    static const char *const bad[] = {
        "", ".", "example.org.", ".example.org", "a..b", "-a.b", "a-.b", "a_b.c", "*.*.a", "a.*.b",
        "*", "*.", "*a.b", "a b", "a/b", "\xc3\xa9.x", "@.x",
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234.x",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!acme_name_ok(good[i]))
            fail_msg("refused: %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (acme_name_ok(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    char longname[300] = "";
    while (strlen(longname) < 254)
        strcat(longname, "abcdefghi.");
    longname[254] = '\0';
    assert_false(acme_name_ok(longname));
    longname[253] = '\0';
    if (longname[252] == '.')
        longname[252] = 'x';
    assert_true(acme_name_ok(longname));
}

static void test_csr_make_read(void **state)
{
    (void)state;
    static const char *const names[] = { "example.org", "www.example.org", "*.example.org" };
    acme_rng_t rng;
    acme_key_t k;
    acme_key_init(&k);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    acme_buf_t der, out;
    acme_buf_init(&der, 0);
    acme_buf_init(&out, 0);
    assert_int_equal(acme_csr_make(&der, &k, &rng, names, 3), ZL_OK);
    /* OpenSSL, the oracle: the signature verifies, the names are there. */
    write_bytes(tmp("csr.der"), der.p, der.len);
    assert_int_equal(sh(&out, "openssl req -inform DER -in %s -noout -text -verify 2>&1", tmp("csr.der")), 0);
    if (!strstr(out.p, "verify OK") || !strstr(out.p, "Subject: CN = example.org") ||
        !strstr(out.p, "DNS:example.org, DNS:www.example.org, DNS:*.example.org") ||
        !strstr(out.p, "ecdsa-with-SHA256") || !strstr(out.p, "NIST CURVE: P-256"))
        fail_msg("openssl req says:\n%s", out.p);
    /* And we read back what we wrote. */
    char **got;
    size_t n;
    assert_int_equal(acme_csr_names((const uint8_t *)der.p, der.len, &got, &n), ZL_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(got[i], names[i]);
    free(got);
    /* A changed signature, or a changed name, no longer verifies. */
    der.p[der.len - 3] ^= 0x01;
    assert_int_equal(acme_csr_names((const uint8_t *)der.p, der.len, &got, &n), ZL_EBADSIG);
    der.p[der.len - 3] ^= 0x01;
    char *w = memmem(der.p, der.len, "www", 3);
    assert_non_null(w);
    w[0] = 'x';
    assert_int_equal(acme_csr_names((const uint8_t *)der.p, der.len, &got, &n), ZL_EBADSIG);
    assert_int_equal(acme_csr_names((const uint8_t *)der.p, der.len / 2, &got, &n), ZL_ESYNTAX);
    /* What acme_csr_make refuses. */
    static const char *const badname[] = { "ok.example", "bad_name.example" };
    acme_buf_reset(&der);
    assert_int_equal(acme_csr_make(&der, &k, &rng, badname, 2), ZL_EINVAL);
    assert_int_equal(acme_csr_make(&der, &k, &rng, names, 0), ZL_EINVAL);
    acme_key_t pub;
    acme_key_init(&pub);
    uint8_t x[32], y[32];
    assert_int_equal(acme_key_xy(&k, x, y), ZL_OK);
    assert_int_equal(acme_key_from_xy(&pub, x, y), ZL_OK);
    assert_int_equal(acme_csr_make(&der, &pub, &rng, names, 1), ZL_EINVAL);
    acme_key_free(&pub);
    acme_buf_free(&der);
    acme_buf_free(&out);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

/* CSRs made by OpenSSL: the names acme_csr_names reads, or its error. */
static void test_csr_from_openssl(void **state)
{
    (void)state;
    static const struct {
        const char *key, *subj, *ext, *names;
        int rc;
    } cases[] = {
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/CN=a.example",
          "-addext subjectAltName=DNS:b.example,DNS:A.example", "a.example b.example", ZL_OK },
        { "-newkey rsa:2048", "/CN=rsa.example", "-addext subjectAltName=DNS:rsa.example", "rsa.example", ZL_OK },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-384", "/O=No CN", "-addext subjectAltName=DNS:x.example,DNS:y.example",
          "x.example y.example", ZL_OK },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/CN=cn-only.example", "", "cn-only.example", ZL_OK },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/O=Nothing", "", "", ZL_ENOTFOUND },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/CN=ip.example",
          "-addext subjectAltName=DNS:ip.example,IP:192.0.2.1", "", ZL_ETYPE },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/CN=under_score.example", "", "", ZL_ESYNTAX },
        { "-newkey ec -pkeyopt ec_paramgen_curve:P-256", "/CN=ok.example",
          "-addext subjectAltName=email:a@ok.example", "", ZL_ETYPE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        acme_buf_t der, out;
        acme_buf_init(&der, 0);
        acme_buf_init(&out, 0);
        int rc = sh(&out, "openssl req -new %s -nodes -keyout %s -subj '%s' %s -outform DER -out %s 2>&1",
                    cases[i].key, tmp("k.pem"), cases[i].subj, cases[i].ext, tmp("o.der"));
        if (rc)
            fail_msg("openssl req: %s", acme_buf_str(&out));
        read_bytes(tmp("o.der"), &der);
        char **got = NULL;
        size_t n = 0;
        rc = acme_csr_names((const uint8_t *)der.p, der.len, &got, &n);
        if (rc != cases[i].rc)
            fail_msg("case %zu: %d, wanted %d", i, rc, cases[i].rc);
        if (rc == ZL_OK) {
            acme_buf_t all;
            acme_buf_init(&all, 0);
            for (size_t k = 0; k < n; k++)
                acme_buf_printf(&all, "%s%s", k ? " " : "", got[k]);
            assert_string_equal(all.p, cases[i].names);
            acme_buf_free(&all);
            free(got);
        }
        acme_buf_free(&der);
        acme_buf_free(&out);
    }
}

/* A CA and a leaf made by OpenSSL, as PEM files. */
static void make_chain(void)
{
    int rc = sh(NULL,
                "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
                "-out ca.pem -days 3 -subj /CN=ca >/dev/null 2>&1 && "
                "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key "
                "-subj /CN=leaf.example -out leaf.csr >/dev/null 2>&1 && "
                "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                "-out leaf.pem >/dev/null 2>&1 && cat leaf.pem ca.pem > chain.pem", tmpdir);
    assert_int_equal(rc, 0);
}

static void test_chain_pem(void **state)
{
    (void)state;
    make_chain();
    acme_buf_t pem, out, leaf, ca;
    acme_buf_init(&pem, 0);
    acme_buf_init(&out, 0);
    acme_buf_init(&leaf, 0);
    acme_buf_init(&ca, 0);
    read_bytes(tmp("chain.pem"), &pem);
    read_bytes(tmp("leaf.pem"), &leaf);
    read_bytes(tmp("ca.pem"), &ca);
    acme_chain_t c;
    assert_int_equal(acme_chain_parse_pem(&c, pem.p, pem.len), ZL_OK);
    assert_int_equal(c.n, 2);
    /* Written back, it is what OpenSSL wrote, octet for octet. */
    assert_int_equal(acme_chain_write_pem(&out, &c, 0), ZL_OK);
    assert_string_equal(out.p, pem.p);
    acme_buf_reset(&out);
    assert_int_equal(acme_chain_write_pem(&out, &c, 1), ZL_OK);
    assert_string_equal(out.p, ca.p);
    acme_buf_reset(&out);
    assert_int_equal(acme_pem_write(&out, "CERTIFICATE", c.cert[0].p, c.cert[0].len), ZL_OK);
    assert_string_equal(out.p, leaf.p);
    /* Validity, against what OpenSSL prints. */
    int64_t nb, na;
    assert_int_equal(acme_cert_validity(c.cert[0].p, c.cert[0].len, &nb, &na), ZL_OK);
    acme_buf_t dates;
    acme_buf_init(&dates, 0);
    assert_int_equal(sh(&dates, "for w in startdate enddate; do date -u -d \"$(openssl x509 -in %s -noout -$w | "
                                "cut -d= -f2)\" +%%s; done", tmp("leaf.pem")), 0);
    char want[64];
    snprintf(want, sizeof(want), "%lld\n%lld\n", (long long)nb, (long long)na);
    assert_string_equal(dates.p, want);
    assert_int_equal(na - nb, 2 * 86400);
    assert_int_equal(acme_cert_validity((const uint8_t *)"x", 1, &nb, &na), ZL_ESYNTAX);
    acme_buf_free(&dates);
    acme_chain_free(&c);
    assert_int_equal(c.n, 0);

    /* CRLF line ends and whitespace between blocks are fine. */
    acme_buf_reset(&out);
    for (size_t i = 0; i < pem.len; i++) {
        if (pem.p[i] == '\n')
            acme_buf_putc(&out, '\r');
        acme_buf_putc(&out, pem.p[i]);
    }
    acme_buf_puts(&out, "\n\n");
    assert_int_equal(acme_chain_parse_pem(&c, out.p, out.len), ZL_OK);
    assert_int_equal(c.n, 2);
    acme_chain_free(&c);
    acme_buf_free(&pem), acme_buf_free(&out), acme_buf_free(&leaf), acme_buf_free(&ca);
}

static void test_chain_pem_refused(void **state)
{
    (void)state;
    make_chain();
    acme_buf_t leaf, key, b;
    acme_buf_init(&leaf, 0);
    acme_buf_init(&key, 0);
    acme_buf_init(&b, 0);
    read_bytes(tmp("leaf.pem"), &leaf);
    read_bytes(tmp("leaf.key"), &key);
    acme_chain_t c;
    assert_int_equal(acme_chain_parse_pem(&c, "", 0), ZL_ENOTFOUND);
    acme_chain_free(&c);
    assert_int_equal(acme_chain_parse_pem(&c, " \n", 2), ZL_ENOTFOUND);
    acme_chain_free(&c);
    /* Text outside the blocks (RFC 7468 allows it; RFC 8555 §9.1 does not). */
    acme_buf_printf(&b, "Subject: leaf\n%s", leaf.p);
    assert_int_equal(acme_chain_parse_pem(&c, b.p, b.len), ZL_ESYNTAX);
    acme_chain_free(&c);
    /* A key is not a certificate. */
    acme_buf_reset(&b);
    acme_buf_printf(&b, "%s%s", leaf.p, key.p);
    assert_int_equal(acme_chain_parse_pem(&c, b.p, b.len), ZL_ESYNTAX);
    acme_chain_free(&c);
    /* No END line. */
    assert_int_equal(acme_chain_parse_pem(&c, leaf.p, leaf.len - 10), ZL_ESYNTAX);
    acme_chain_free(&c);
    /* Base64 that is not a certificate, or not base64. */
    static const char *const bad[] = {
        "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(acme_chain_parse_pem(&c, bad[i], strlen(bad[i])), ZL_ESYNTAX);
        acme_chain_free(&c);
    }
    /* More certificates than a chain holds. */
    acme_buf_reset(&b);
    for (int i = 0; i <= ACME_CHAIN_MAX; i++)
        acme_buf_puts(&b, leaf.p);
    assert_int_equal(acme_chain_parse_pem(&c, b.p, b.len), ZL_ESPACE);
    acme_chain_free(&c);
    acme_buf_free(&leaf), acme_buf_free(&key), acme_buf_free(&b);
}

/* Two requests for one key and one set of names are the same request
 * (their octets differ: ECDSA signatures are randomised); another key or
 * other names are not. */
static void test_csr_same(void **state)
{
    (void)state;
    static const char *const a[] = { "example.org", "www.example.org" };
    static const char *const b[] = { "WWW.example.org", "example.org" };
    static const char *const c[] = { "example.org" };
    acme_rng_t rng;
    acme_key_t k, k2;
    acme_key_init(&k);
    acme_key_init(&k2);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k2, &rng), ZL_OK);
    acme_buf_t r1, r2, r3, r4;
    acme_buf_init(&r1, 0), acme_buf_init(&r2, 0), acme_buf_init(&r3, 0), acme_buf_init(&r4, 0);
    assert_int_equal(acme_csr_make(&r1, &k, &rng, a, 2), ZL_OK);
    assert_int_equal(acme_csr_make(&r2, &k, &rng, b, 2), ZL_OK);
    assert_int_equal(acme_csr_make(&r3, &k, &rng, c, 1), ZL_OK);
    assert_int_equal(acme_csr_make(&r4, &k2, &rng, a, 2), ZL_OK);
    assert_true(r1.len != r2.len || memcmp(r1.p, r2.p, r1.len) != 0);
    const uint8_t *p1 = (const uint8_t *)r1.p;
    assert_true(acme_csr_same(p1, r1.len, (const uint8_t *)r2.p, r2.len));
    assert_true(acme_csr_same(p1, r1.len, p1, r1.len));
    assert_false(acme_csr_same(p1, r1.len, (const uint8_t *)r3.p, r3.len));
    assert_false(acme_csr_same(p1, r1.len, (const uint8_t *)r4.p, r4.len));
    assert_false(acme_csr_same(p1, r1.len, p1, r1.len - 1));
    acme_buf_free(&r1), acme_buf_free(&r2), acme_buf_free(&r3), acme_buf_free(&r4);
    acme_key_free(&k), acme_key_free(&k2);
    acme_rng_free(&rng);
}

/* A certificate OpenSSL issues for our CSR answers it; for a CSR with
 * other names or another key it does not. Issuer links, as OpenSSL sees
 * them: leaf <- CA, the CA self-signed. */
static void test_cert_matches_csr(void **state)
{
    (void)state;
    make_chain();
    static const char *const names[] = { "leaf.example", "www.leaf.example" };
    acme_rng_t rng;
    acme_key_t k;
    acme_key_init(&k);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    acme_buf_t csr, other, cert, pem;
    acme_buf_init(&csr, 0), acme_buf_init(&other, 0), acme_buf_init(&cert, 0), acme_buf_init(&pem, 0);
    assert_int_equal(acme_csr_make(&csr, &k, &rng, names, 2), ZL_OK);
    assert_int_equal(acme_csr_make(&other, &k, &rng, names, 1), ZL_OK);
    write_bytes(tmp("ours.der"), csr.p, csr.len);
    assert_int_equal(sh(NULL, "cd %s && printf 'subjectAltName=DNS:leaf.example,DNS:www.leaf.example\\n' >san && "
                              "openssl x509 -req -inform DER -in ours.der -CA ca.pem -CAkey ca.key -CAcreateserial "
                              "-days 2 -extfile san -outform DER -out ours.crt >/dev/null 2>&1", tmpdir), 0);
    read_bytes(tmp("ours.crt"), &cert);
    const uint8_t *c = (const uint8_t *)cert.p;
    assert_true(acme_cert_matches_csr(c, cert.len, (const uint8_t *)csr.p, csr.len));
    assert_false(acme_cert_matches_csr(c, cert.len, (const uint8_t *)other.p, other.len));
    /* OpenSSL's leaf.pem: another key, and only a CN. */
    read_bytes(tmp("chain.pem"), &pem);
    acme_chain_t ch;
    assert_int_equal(acme_chain_parse_pem(&ch, pem.p, pem.len), ZL_OK);
    assert_false(acme_cert_matches_csr(ch.cert[0].p, ch.cert[0].len, (const uint8_t *)csr.p, csr.len));
    assert_false(acme_cert_matches_csr(c, 10, (const uint8_t *)csr.p, csr.len));
    assert_true(acme_cert_issued_by(c, cert.len, ch.cert[1].p, ch.cert[1].len));
    assert_true(acme_cert_issued_by(ch.cert[0].p, ch.cert[0].len, ch.cert[1].p, ch.cert[1].len));
    assert_true(acme_cert_issued_by(ch.cert[1].p, ch.cert[1].len, ch.cert[1].p, ch.cert[1].len));
    assert_false(acme_cert_issued_by(ch.cert[1].p, ch.cert[1].len, ch.cert[0].p, ch.cert[0].len));
    assert_false(acme_cert_issued_by(c, cert.len, c, cert.len));
    acme_chain_free(&ch);
    acme_buf_free(&csr), acme_buf_free(&other), acme_buf_free(&cert), acme_buf_free(&pem);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_csr_make_read),
        cmocka_unit_test(test_csr_from_openssl),
        cmocka_unit_test(test_chain_pem),
        cmocka_unit_test(test_chain_pem_refused),
        cmocka_unit_test(test_csr_same),
        cmocka_unit_test(test_cert_matches_csr),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
