/* zone/diff.c: building and sealing diffs, the diff of two versions (a
 * reload: applied to the old version it gives the new one), and the
 * binary form the journal stores: round trips, and torn or corrupt input
 * refused without reading outside the buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/siphash.h"
#include "zone/zcmp.h"

#define ORIGIN "example.test."
#define HEAD "$TTL 300\n@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

static void rr_of(const char *line, zc_recs_t *l)
{
    char text[512];
    snprintf(text, sizeof(text), "%s\n", line);
    assert_true(zc_parse(ORIGIN, text, l));
}

static void set_soas(zone_diff_t *d, uint32_t from, uint32_t to)
{
    char a[128], b[128];
    snprintf(a, sizeof(a), "@ 300 SOA ns1 host %u 3600 600 86400 300", from);
    snprintf(b, sizeof(b), "@ 300 SOA ns1 host %u 3600 600 86400 300", to);
    zc_recs_t l = { 0 };
    rr_of(a, &l);
    rr_of(b, &l);
    assert_int_equal(zone_diff_set_soa(d, &l.r[0], &l.r[1]), ZL_OK);
    zc_recs_free(&l);
}

static zone_diff_t *new_diff(void)
{
    uint8_t o[DNS_NAME_MAX];
    zc_name(ORIGIN, o);
    zone_diff_t *d = zone_diff_new(o);
    assert_non_null(d);
    return d;
}

/* Adds (+) or removes (-) the records of lines "+owner ttl type rdata". */
static int change(zone_diff_t *d, const char *line)
{
    zc_recs_t l = { 0 };
    rr_of(line + 1, &l);
    int rc = line[0] == '+' ? zone_diff_add(d, &l.r[0]) : zone_diff_remove(d, &l.r[0]);
    zc_recs_free(&l);
    return rc;
}

static void expect_list(const dns_rr_t *r, size_t n, const char *const *want, size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        char t[1024];
        zone_rec_to_text(&r[i], t, sizeof(t));
        t[strlen(t) - 1] = 0;
        if (strcmp(t, want[i]))
            fprintf(stderr, "# %zu: %s, expected %s\n", i, t, want[i]);
        assert_string_equal(t, want[i]);
    }
}

/* Sealing sorts into canonical order (RFC 4034 §6.1, §6.3), keeps one of
 * identical records and drops a change that undoes itself. */
static void test_seal(void **state)
{
    (void)state;
    zone_diff_t *d = new_diff();
    assert_int_equal(change(d, "+b 300 A 192.0.2.2"), ZL_OK);
    assert_int_equal(change(d, "+a 300 TXT \"x\""), ZL_OK);
    assert_int_equal(change(d, "+a 300 A 192.0.2.9"), ZL_OK);
    assert_int_equal(change(d, "+a 300 A 192.0.2.10"), ZL_OK);
    assert_int_equal(change(d, "+B 300 A 192.0.2.2"), ZL_OK);  /* the same record */
    assert_int_equal(change(d, "-c 300 A 192.0.2.3"), ZL_OK);
    assert_int_equal(change(d, "+c 300 A 192.0.2.3"), ZL_OK);  /* no change */
    assert_int_equal(change(d, "-e 300 A 192.0.2.4"), ZL_OK);
    assert_int_equal(change(d, "+e 60 A 192.0.2.4"), ZL_OK);   /* a TTL change stays */
    assert_int_equal(zone_diff_seal(d), ZL_EINVAL);            /* no SOAs yet */
    set_soas(d, 1, 2);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    assert_int_equal(change(d, "+f 300 A 192.0.2.1"), ZL_EINVAL); /* sealed */
    size_t n;
    const dns_rr_t *r = zone_diff_added(d, &n);
    static const char *const added[] = {
        "a.example.test. 300 IN A 192.0.2.9", "a.example.test. 300 IN A 192.0.2.10",
        "a.example.test. 300 IN TXT \"x\"", "b.example.test. 300 IN A 192.0.2.2",
        "e.example.test. 60 IN A 192.0.2.4",
    };
    expect_list(r, n, added, 5);
    r = zone_diff_removed(d, &n);
    static const char *const removed[] = { "e.example.test. 300 IN A 192.0.2.4" };
    expect_list(r, n, removed, 1);
    assert_int_equal(zone_diff_from(d), 1);
    assert_int_equal(zone_diff_to(d), 2);
    assert_false(zone_diff_is_empty(d));
    assert_true(zone_diff_bytes(d) > 0);
    /* What the IXFR history's cap counts: at least the diff itself (its
     * records fit the buffer inside it). */
    assert_true(zone_diff_memory(d) >= zone_diff_bytes(d));
    assert_true(zone_diff_memory(d) >= 512);
    zone_diff_free(d);
}

static void test_refusals(void **state)
{
    (void)state;
    zone_diff_t *d = new_diff();
    assert_int_equal(change(d, "+@ 300 SOA ns1 host 2 1 2 3 4"), ZL_EINVAL);
    assert_int_equal(change(d, "+www.example.net. 300 A 192.0.2.1"), ZL_EINVAL);
    assert_int_equal(change(d, "+x 300 TYPE0 \\# 0"), ZL_EINVAL);
    assert_int_equal(change(d, "+x 300 TYPE255 \\# 0"), ZL_EINVAL);
    zc_recs_t l = { 0 };
    rr_of("x 300 A 192.0.2.1", &l);
    l.r[0].rclass = DNS_C_CH;
    assert_int_equal(zone_diff_add(d, &l.r[0]), ZL_EINVAL);
    zc_recs_free(&l);
    rr_of("x 300 A 192.0.2.1", &l); /* an SOA must be an SOA at the origin */
    rr_of("x 300 SOA ns1 host 2 1 2 3 4", &l);
    assert_int_equal(zone_diff_set_soa(d, &l.r[0], &l.r[0]), ZL_EINVAL);
    assert_int_equal(zone_diff_set_soa(d, &l.r[1], &l.r[1]), ZL_EINVAL);
    zc_recs_free(&l);
    /* one record twice in a list with two TTLs */
    assert_int_equal(change(d, "+y 300 A 192.0.2.1"), ZL_OK);
    assert_int_equal(change(d, "+y 60 A 192.0.2.1"), ZL_OK);
    set_soas(d, 1, 2);
    assert_int_equal(zone_diff_seal(d), ZL_EINVAL);
    zone_diff_free(d);
    d = new_diff();
    set_soas(d, 1, 1);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    assert_true(zone_diff_is_empty(d));
    zone_diff_t *r = zone_diff_ref(d);
    zone_diff_free(d);
    zone_diff_free(r);
}

/* zone_diff_versions: applied to the old version, the diff gives the new
 * one; the lists are what changed. */
static void expect_versions(const char *old, const char *new, size_t nrm, size_t nadd)
{
    zone_t *a = zc_build(ORIGIN, old), *b = zc_build(ORIGIN, new), *v = NULL;
    assert_non_null(a);
    assert_non_null(b);
    zone_diff_t *d = NULL;
    assert_int_equal(zone_diff_versions(a, b, &d), ZL_OK);
    size_t n;
    zone_diff_removed(d, &n);
    assert_int_equal(n, nrm);
    zone_diff_added(d, &n);
    assert_int_equal(n, nadd);
    assert_int_equal(zone_diff_from(d), zone_serial(a));
    assert_int_equal(zone_diff_to(d), zone_serial(b));
    assert_int_equal(zone_apply(a, d, &v, NULL), ZL_OK);
    assert_true(zc_same_zone(v, b));
    /* and back */
    zone_diff_t *back = NULL;
    zone_t *w = NULL;
    assert_int_equal(zone_diff_versions(v, a, &back), ZL_OK);
    assert_int_equal(zone_apply(v, back, &w, NULL), ZL_OK);
    assert_true(zc_same_zone(w, a));
    zone_free(w);
    zone_diff_free(back);
    zone_free(v);
    zone_diff_free(d);
    zone_free(a);
    zone_free(b);
}

#define HEAD2 "$TTL 300\n@ SOA ns1 host 2 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

static void test_versions(void **state)
{
    (void)state;
    expect_versions(HEAD, HEAD2, 0, 0);
    expect_versions(HEAD "www A 192.0.2.1\n", HEAD2 "www A 192.0.2.1\nwww A 192.0.2.2\n", 0, 1);
    expect_versions(HEAD "www A 192.0.2.1\nold TXT \"x\"\n", HEAD2 "new.x.y TXT \"x\"\n", 2, 1);
    expect_versions(HEAD "www A 192.0.2.1\nwww A 192.0.2.2\n",
                    HEAD2 "www 60 A 192.0.2.1\nwww 60 A 192.0.2.2\n", 2, 2);
    expect_versions(HEAD "a MX 1 x\na MX 2 y\nz A 192.0.2.9\n",
                    HEAD2 "a MX 2 y\na MX 3 z\n*.w CNAME a\n", 2, 2);
    /* another origin */
    zone_t *a = zc_build(ORIGIN, HEAD), *b = zc_build("example.net.", HEAD);
    zone_diff_t *d = (zone_diff_t *)1;
    assert_int_equal(zone_diff_versions(a, b, &d), ZL_EINVAL);
    assert_null(d);
    zone_free(a);
    zone_free(b);
}

/* A version with an overlay diffs like a flat one. */
static void test_versions_overlay(void **state)
{
    (void)state;
    zone_t *a = zc_build(ORIGIN, HEAD "www A 192.0.2.1\n"), *b = NULL, *c = NULL;
    zone_diff_t *d = zc_diff(a, "+x.y 300 TXT \"t\"\n-www 300 A 192.0.2.1\n"), *e = NULL;
    assert_int_equal(zone_apply(a, d, &b, NULL), ZL_OK);
    assert_int_equal(zone_diff_versions(a, b, &e), ZL_OK);
    size_t n;
    zone_diff_added(e, &n);
    assert_int_equal(n, 1);
    zone_diff_removed(e, &n);
    assert_int_equal(n, 1);
    assert_int_equal(zone_apply(a, e, &c, NULL), ZL_OK);
    assert_true(zc_same_zone(b, c));
    zone_free(c);
    zone_diff_free(e);
    zone_diff_free(d);
    zone_free(b);
    zone_free(a);
}

/* ---- binary form ----------------------------------------------------------- */

static zone_diff_t *sample(void)
{
    zone_diff_t *d = new_diff();
    assert_int_equal(change(d, "+a 300 A 192.0.2.9"), ZL_OK);
    assert_int_equal(change(d, "+a 300 TXT \"x\" \"y\""), ZL_OK);
    assert_int_equal(change(d, "-b.c 60 MX 10 mail.example.net."), ZL_OK);
    assert_int_equal(change(d, "+b.c 60 MX 20 mail.example.net."), ZL_OK);
    set_soas(d, 7, 8);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    return d;
}

static bool same_diff(const zone_diff_t *a, const zone_diff_t *b)
{
    size_t n[4];
    const dns_rr_t *l[4] = { zone_diff_removed(a, &n[0]), zone_diff_removed(b, &n[1]),
                             zone_diff_added(a, &n[2]), zone_diff_added(b, &n[3]) };
    if (n[0] != n[1] || n[2] != n[3] || !dns_name_equal(zone_diff_origin(a), zone_diff_origin(b)))
        return false;
    for (int k = 0; k < 4; k += 2)
        for (size_t i = 0; i < n[k]; i++) {
            const dns_rr_t *x = &l[k][i], *y = &l[k + 1][i];
            if (!dns_name_equal(x->owner, y->owner) || x->type != y->type || x->ttl != y->ttl ||
                x->rdlen != y->rdlen || memcmp(x->rdata, y->rdata, x->rdlen))
                return false;
        }
    const dns_rr_t *s[4] = { zone_diff_old_soa(a), zone_diff_old_soa(b), zone_diff_new_soa(a),
                             zone_diff_new_soa(b) };
    for (int k = 0; k < 4; k += 2)
        if (s[k]->ttl != s[k + 1]->ttl || s[k]->rdlen != s[k + 1]->rdlen ||
            memcmp(s[k]->rdata, s[k + 1]->rdata, s[k]->rdlen))
            return false;
    return true;
}

static void test_round_trip(void **state)
{
    (void)state;
    zone_diff_t *d = sample(), *e = NULL;
    uint8_t buf[1024];
    dns_wire_t w;
    dns_wire_init(&w, buf, sizeof(buf));
    assert_int_equal(zone_diff_encode(d, &w), ZL_OK);
    assert_int_equal(w.pos, zone_diff_bytes(d));
    /* two in a row, as in the journal */
    assert_int_equal(zone_diff_encode(d, &w), ZL_OK);
    size_t len = w.pos;
    dns_wire_init_ro(&w, buf, len);
    assert_int_equal(zone_diff_decode(&w, &e), ZL_OK);
    assert_true(same_diff(d, e));
    zone_diff_free(e);
    assert_int_equal(zone_diff_decode(&w, &e), ZL_OK);
    assert_true(same_diff(d, e));
    assert_int_equal(w.pos, len);
    zone_diff_free(e);
    /* too small a buffer */
    dns_wire_init(&w, buf, zone_diff_bytes(d) - 1);
    assert_int_equal(zone_diff_encode(d, &w), ZL_ESPACE);
    zone_diff_free(d);
}

/* A diff's records start in a small buffer inside the diff and go on in
 * heap chunks: a diff far larger than that buffer keeps every record
 * intact, in order, and round-trips. */
static void test_large_diff(void **state)
{
    (void)state;
    zone_diff_t *d = new_diff(), *e = NULL;
    char line[400], pad[201];
    memset(pad, 'x', 200);
    pad[200] = 0;
    for (int i = 0; i < 64; i++) {
        snprintf(line, sizeof(line), "+t%02d 300 TXT \"%s\"", i, pad);
        assert_int_equal(change(d, line), ZL_OK);
        snprintf(line, sizeof(line), "-r%02d 300 A 192.0.2.%d", i, i);
        assert_int_equal(change(d, line), ZL_OK);
    }
    set_soas(d, 1, 2);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    size_t na, nr;
    const dns_rr_t *a = zone_diff_added(d, &na), *r = zone_diff_removed(d, &nr);
    assert_int_equal(na, 64);
    assert_int_equal(nr, 64);
    for (int i = 0; i < 64; i++) {
        char t[1024], want[400];
        zone_rec_to_text(&a[i], t, sizeof(t));
        snprintf(want, sizeof(want), "t%02d.example.test. 300 IN TXT \"%s\"\n", i, pad);
        assert_string_equal(t, want);
        zone_rec_to_text(&r[i], t, sizeof(t));
        snprintf(want, sizeof(want), "r%02d.example.test. 300 IN A 192.0.2.%d\n", i, i);
        assert_string_equal(t, want);
    }
    /* 64 TXT records of 200 octets do not fit the diff's own buffer:
     * the memory counted includes the arena's heap chunk and the two
     * lists of 64 entries. */
    assert_true(zone_diff_memory(d) >= 16384 + 128 * sizeof(dns_rr_t));
    assert_true(zone_diff_memory(d) >= zone_diff_bytes(d));
    size_t n = zone_diff_bytes(d);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    dns_wire_t w;
    dns_wire_init(&w, buf, n);
    assert_int_equal(zone_diff_encode(d, &w), ZL_OK);
    dns_wire_init_ro(&w, buf, n);
    assert_int_equal(zone_diff_decode(&w, &e), ZL_OK);
    assert_true(same_diff(d, e));
    zone_diff_free(e);
    zone_diff_free(d);
    free(buf);
}

/* Every truncation and every bit flip of an encoded diff is refused. */
static void test_torn_and_corrupt(void **state)
{
    (void)state;
    zone_diff_t *d = sample(), *e = NULL;
    uint8_t buf[1024], copy[1024];
    dns_wire_t w;
    dns_wire_init(&w, buf, sizeof(buf));
    assert_int_equal(zone_diff_encode(d, &w), ZL_OK);
    size_t len = w.pos;
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(copy, buf, cut); /* exactly cut octets: ASan sees any read beyond */
        uint8_t *p = malloc(cut + 1);
        memcpy(p, buf, cut);
        dns_wire_init_ro(&w, p, cut);
        assert_int_equal(zone_diff_decode(&w, &e), ZL_EMALF);
        assert_null(e);
        free(p);
    }
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            dns_wire_init_ro(&w, copy, len);
            assert_int_equal(zone_diff_decode(&w, &e), ZL_EMALF);
        }
    zone_diff_free(d);
}

/* Input whose check value is right but whose content is not (a writer
 * bug, not damage) is refused too. */
static void reseal(uint8_t *buf, size_t len)
{
    static const uint8_t key[16] = "zonelet-diff-v1";
    uint64_t c = dns_siphash24(key, buf, len - 8);
    dns_put_u32(buf + len - 8, (uint32_t)(c >> 32));
    dns_put_u32(buf + len - 4, (uint32_t)c);
}

static void test_bad_content(void **state)
{
    (void)state;
    zone_diff_t *d = sample(), *e = NULL;
    uint8_t buf[1024], copy[1024];
    dns_wire_t w;
    dns_wire_init(&w, buf, sizeof(buf));
    assert_int_equal(zone_diff_encode(d, &w), ZL_OK);
    size_t len = w.pos;
    /* resealed unchanged: fine (the checksum is what the test computes) */
    memcpy(copy, buf, len);
    reseal(copy, len);
    dns_wire_init_ro(&w, copy, len);
    assert_int_equal(zone_diff_decode(&w, &e), ZL_OK);
    zone_diff_free(e);
    /* every single-octet change, resealed: decodes to the same diff, or
     * is refused; never crashes */
    unsigned refused = 0;
    for (size_t i = 0; i < len - 8; i++)
        for (unsigned v = 0; v < 256; v += 17) {
            memcpy(copy, buf, len);
            copy[i] = (uint8_t)v;
            reseal(copy, len);
            dns_wire_init_ro(&w, copy, len);
            int rc = zone_diff_decode(&w, &e);
            assert_true(rc == ZL_OK || rc == ZL_EMALF);
            refused += rc != ZL_OK;
            zone_diff_free(e);
        }
    assert_true(refused > 0);
    /* the added records swapped: not in canonical order */
    size_t na;
    const dns_rr_t *add = zone_diff_added(d, &na);
    assert_true(na >= 2);
    zone_diff_t *u = new_diff();
    set_soas(u, 7, 8);
    assert_int_equal(zone_diff_add(u, &add[0]), ZL_OK);
    assert_int_equal(zone_diff_add(u, &add[1]), ZL_OK);
    assert_int_equal(zone_diff_seal(u), ZL_OK);
    dns_wire_init(&w, buf, sizeof(buf));
    assert_int_equal(zone_diff_encode(u, &w), ZL_OK);
    len = w.pos;
    /* find the two records and swap them */
    uint8_t r0[256], r1[256];
    size_t l0 = 0, l1 = 0, at = len - 8;
    {
        dns_wire_t c;
        dns_wire_init(&c, r0, sizeof(r0));
        dns_wire_write(&c, add[0].owner, dns_name_len(add[0].owner));
        dns_wire_put_u16(&c, add[0].type);
        dns_wire_put_u32(&c, add[0].ttl);
        dns_wire_put_u16(&c, add[0].rdlen);
        dns_wire_write(&c, add[0].rdata, add[0].rdlen);
        l0 = c.pos;
        dns_wire_init(&c, r1, sizeof(r1));
        dns_wire_write(&c, add[1].owner, dns_name_len(add[1].owner));
        dns_wire_put_u16(&c, add[1].type);
        dns_wire_put_u32(&c, add[1].ttl);
        dns_wire_put_u16(&c, add[1].rdlen);
        dns_wire_write(&c, add[1].rdata, add[1].rdlen);
        l1 = c.pos;
    }
    at -= l0 + l1;
    assert_memory_equal(buf + at, r0, l0);
    memcpy(buf + at, r1, l1);
    memcpy(buf + at + l1, r0, l0);
    reseal(buf, len);
    dns_wire_init_ro(&w, buf, len);
    assert_int_equal(zone_diff_decode(&w, &e), ZL_EMALF);
    zone_diff_free(u);
    zone_diff_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_versions_overlay),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_large_diff),
        cmocka_unit_test(test_torn_and_corrupt),
        cmocka_unit_test(test_bad_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
