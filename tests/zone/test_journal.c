/* zone/journal.c: the IXFR history. Bounds by count and by bytes (the
 * old journal unchanged), condensation of several diffs into one (RFC
 * 1995: a record added then removed is in neither list; applied to the
 * old version the condensed diff gives the newest), unknown and
 * ambiguous serials, and the journal a version carries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zone/journal.h"
#include "zone/zcmp.h"

#define ORIGIN "example.test."
#define HEAD "$TTL 300\n@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

/* A chain of versions v[0..n] and their diffs d[0..n): v[i+1] is v[i]
 * with changes[i] applied. */
typedef struct chain {
    zone_t *v[16];
    zone_diff_t *d[16];
    size_t n;
} chain_t;

static void chain_make(chain_t *c, const char *base, const char *const *changes, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->v[0] = zc_build(ORIGIN, base);
    assert_non_null(c->v[0]);
    for (size_t i = 0; i < n; i++) {
        c->d[i] = zc_diff(c->v[i], changes[i]);
        assert_non_null(c->d[i]);
        assert_int_equal(zone_apply(c->v[i], c->d[i], &c->v[i + 1], NULL), ZL_OK);
    }
    c->n = n;
}

static void chain_free(chain_t *c)
{
    for (size_t i = 0; i <= c->n; i++)
        zone_free(c->v[i]);
    for (size_t i = 0; i < c->n; i++)
        zone_diff_free(c->d[i]);
}

/* The journal of d[0..n) with the given bounds. */
static zone_journal_t *journal_of(const chain_t *c, size_t n, size_t maxv, size_t maxb)
{
    zone_journal_t *j = NULL;
    for (size_t i = 0; i < n; i++) {
        zone_journal_t *k = NULL;
        assert_int_equal(zone_journal_append(j, c->d[i], maxv, maxb, &k), ZL_OK);
        zone_journal_unref(j);
        j = k;
    }
    return j;
}

static const char *const five[] = {
    "+a 300 A 192.0.2.1\n",
    "+b 300 A 192.0.2.2\n-a 300 A 192.0.2.1\n",         /* a added then removed */
    "-ns1 300 A 192.0.2.1\n+ns1 300 A 192.0.2.9\n",
    "+ns1 300 A 192.0.2.1\n",                           /* removed then added back */
    "-b 300 A 192.0.2.2\n+b 60 A 192.0.2.2\n+c.d 300 TXT \"x\"\n",
};

static void test_bounds_count(void **state)
{
    (void)state;
    chain_t c;
    chain_make(&c, HEAD, five, 5);
    zone_journal_t *j = journal_of(&c, 5, 3, SIZE_MAX);
    assert_int_equal(zone_journal_count(j), 3);
    assert_int_equal(zone_diff_from(zone_journal_at(j, 0)), 3);
    assert_int_equal(zone_diff_to(zone_journal_at(j, 2)), 6);
    /* the old journal is unchanged by an append */
    zone_journal_t *k = NULL;
    zone_diff_t *d = zc_diff(c.v[5], "+e 300 A 192.0.2.5\n");
    assert_int_equal(zone_journal_append(j, d, 3, SIZE_MAX, &k), ZL_OK);
    assert_int_equal(zone_journal_count(j), 3);
    assert_int_equal(zone_diff_from(zone_journal_at(j, 0)), 3);
    assert_int_equal(zone_diff_from(zone_journal_at(k, 0)), 4);
    assert_int_equal(zone_journal_count(k), 3);
    zone_journal_unref(k);
    /* a diff that does not continue the history */
    assert_int_equal(zone_journal_append(j, c.d[0], 3, SIZE_MAX, &k), ZL_EINVAL);
    assert_null(k);
    /* no versions kept at all */
    assert_int_equal(zone_journal_append(NULL, c.d[0], 0, SIZE_MAX, &k), ZL_OK);
    assert_int_equal(zone_journal_count(k), 0);
    zone_journal_unref(k);
    zone_diff_free(d);
    zone_journal_unref(j);
    chain_free(&c);
}

static void test_bounds_bytes(void **state)
{
    (void)state;
    chain_t c;
    chain_make(&c, HEAD, five, 5);
    size_t b3 = zone_diff_memory(c.d[2]) + zone_diff_memory(c.d[3]) + zone_diff_memory(c.d[4]);
    zone_journal_t *j = journal_of(&c, 5, 100, b3);
    assert_int_equal(zone_journal_count(j), 3);
    assert_int_equal(zone_journal_bytes(j), b3);
    zone_journal_unref(j);
    j = journal_of(&c, 5, 100, b3 - 1);
    assert_int_equal(zone_journal_count(j), 2);
    assert_true(zone_journal_bytes(j) <= b3 - 1);
    zone_journal_unref(j);
    /* a diff larger than the cap leaves the journal empty */
    j = journal_of(&c, 5, 100, zone_diff_memory(c.d[4]) - 1);
    assert_int_equal(zone_journal_count(j), 0);
    zone_diff_t *d = NULL;
    assert_int_equal(zone_journal_since(j, 5, &d), ZL_ENOTFOUND);
    zone_journal_unref(j);
    chain_free(&c);
}

/* RFC 1995: the condensed diff from every serial of the history, applied
 * to that version, gives the newest. */
static void test_condense(void **state)
{
    (void)state;
    chain_t c;
    chain_make(&c, HEAD, five, 5);
    zone_journal_t *j = journal_of(&c, 5, 100, SIZE_MAX);
    for (size_t i = 0; i <= 5; i++) {
        zone_diff_t *d = NULL;
        zone_t *v = NULL;
        assert_int_equal(zone_journal_since(j, zone_serial(c.v[i]), &d), ZL_OK);
        assert_int_equal(zone_diff_from(d), zone_serial(c.v[i]));
        assert_int_equal(zone_diff_to(d), 6);
        assert_int_equal(zone_apply(c.v[i], d, &v, NULL), ZL_OK);
        assert_true(zc_same_zone(v, c.v[5]));
        if (i == 5)
            assert_true(zone_diff_is_empty(d)); /* the client is current */
        zone_free(v);
        zone_diff_free(d);
    }
    /* from serial 1: a (added, removed) in neither list, nor ns1's
     * 192.0.2.1 (removed, added back); added b with its new TTL, c.d and
     * ns1's 192.0.2.9 */
    zone_diff_t *d = NULL;
    assert_int_equal(zone_journal_since(j, 1, &d), ZL_OK);
    size_t n;
    const dns_rr_t *rm = zone_diff_removed(d, &n);
    assert_int_equal(n, 0);
    (void)rm;
    const dns_rr_t *add = zone_diff_added(d, &n);
    assert_int_equal(n, 3);
    uint8_t b[DNS_NAME_MAX];
    zc_name("b." ORIGIN, b);
    assert_true(dns_name_equal(add[0].owner, b));
    assert_int_equal(add[0].ttl, 60);
    zone_diff_free(d);
    /* from serial 2: b came with TTL 300, then 60: only b 60 is added;
     * a is removed */
    assert_int_equal(zone_journal_since(j, 2, &d), ZL_OK);
    zone_diff_removed(d, &n);
    assert_int_equal(n, 1); /* a */
    zone_diff_added(d, &n);
    assert_int_equal(n, 3); /* b 60, c.d, ns1 192.0.2.9 */
    zone_diff_free(d);
    zone_journal_unref(j);
    chain_free(&c);
}

static void test_unknown_serials(void **state)
{
    (void)state;
    chain_t c;
    chain_make(&c, HEAD, five, 5);
    zone_journal_t *j = journal_of(&c, 3, 100, SIZE_MAX);
    zone_diff_t *d = (zone_diff_t *)1;
    assert_int_equal(zone_journal_since(j, 77, &d), ZL_ENOTFOUND);
    assert_null(d);
    assert_int_equal(zone_journal_since(NULL, 1, &d), ZL_ENOTFOUND);
    zone_journal_unref(j);
    /* older than the history */
    j = journal_of(&c, 5, 2, SIZE_MAX);
    assert_int_equal(zone_journal_since(j, 2, &d), ZL_ENOTFOUND);
    assert_int_equal(zone_journal_since(j, 4, &d), ZL_OK);
    zone_diff_free(d);
    zone_journal_unref(j);
    chain_free(&c);
    /* a serial that names two versions (the serial went back) */
    static const char *const back[] = { "+a 300 A 192.0.2.1\n", "+b 300 A 192.0.2.2\n" };
    chain_make(&c, HEAD, back, 2);
    zone_journal_t *k = journal_of(&c, 1, 10, SIZE_MAX);
    zone_diff_t *x = zone_diff_new(zone_origin(c.v[1]));
    dns_rr_t s1 = zc_soa(c.v[1]), s0 = zc_soa(c.v[0]);
    assert_int_equal(zone_diff_set_soa(x, &s1, &s0), ZL_OK); /* 2 -> 1 */
    assert_int_equal(zone_diff_seal(x), ZL_OK);
    zone_journal_t *m = NULL;
    assert_int_equal(zone_journal_append(k, x, 10, SIZE_MAX, &m), ZL_OK);
    assert_int_equal(zone_journal_since(m, 1, &d), ZL_ENOTFOUND);
    assert_int_equal(zone_journal_since(m, 2, &d), ZL_OK);
    zone_diff_free(d);
    zone_journal_unref(m);
    zone_journal_unref(k);
    zone_diff_free(x);
    chain_free(&c);
}

/* A version carries its journal: IXFR from one snapshot. */
static void test_version_journal(void **state)
{
    (void)state;
    chain_t c;
    chain_make(&c, HEAD, five, 2);
    zone_journal_t *j = journal_of(&c, 2, 10, SIZE_MAX);
    assert_null(zone_journal(c.v[2]));
    zone_t *v = NULL, *k = NULL;
    assert_int_equal(zone_with_journal(c.v[2], j, &v), ZL_OK);
    zone_journal_unref(j);
    assert_non_null(zone_journal(v));
    assert_int_equal(zone_journal_count(zone_journal(v)), 2);
    assert_true(zc_same_zone(v, c.v[2]));
    /* compaction keeps it */
    assert_int_equal(zone_compact(v, &k), ZL_OK);
    assert_ptr_equal(zone_journal(k), zone_journal(v));
    zone_diff_t *d = NULL;
    assert_int_equal(zone_journal_since(zone_journal(k), 1, &d), ZL_OK);
    zone_diff_free(d);
    zone_free(k);
    zone_free(v);
    chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_count),
        cmocka_unit_test(test_bounds_bytes),
        cmocka_unit_test(test_condense),
        cmocka_unit_test(test_unknown_serials),
        cmocka_unit_test(test_version_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
