/* zone/zoneset.c: longest-suffix zone match, exact get, canonical order,
 * duplicate origins, reference sharing between sets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/err.h"
#include "zone/parse.h"
#include "zone/zoneset.h"

static void name(const char *s, uint8_t out[DNS_NAME_MAX])
{
    assert_true(dns_name_from_text(s, strlen(s), NULL, out) > 0);
}

static int add_rec(void *ctx, const dns_rr_t *rec)
{
    return zone_builder_add(ctx, rec, NULL);
}

/* A minimal valid zone for origin with serial. */
static zone_t *mkzone(const char *origin, unsigned serial)
{
    char text[256];
    uint8_t o[DNS_NAME_MAX];
    name(origin, o);
    snprintf(text, sizeof(text), "@ 60 SOA ns1 host %u 1 1 1 1\n@ 60 NS ns1\n", serial);
    zone_builder_t *b = zone_builder_new(o);
    zone_parse_opts_t opts = { .origin = o };
    assert_int_equal(zone_parse_text(text, strlen(text), "t", &opts, add_rec, b, NULL), ZL_OK);
    zone_t *z = NULL;
    assert_int_equal(zone_builder_finish(b, &z, NULL), ZL_OK);
    return z;
}

/* The serial of the zone zone_set_find picks for qname, 0 for none. */
static unsigned find(const zone_set_t *s, const char *qname)
{
    uint8_t q[DNS_NAME_MAX];
    name(qname, q);
    const zone_t *z = zone_set_find(s, q);
    return z ? zone_serial(z) : 0;
}

static void test_longest_match(void **state)
{
    (void)state;
    zone_t *z[4] = { mkzone("example.com.", 1), mkzone("sub.example.com.", 2),
                     mkzone("com.", 3), mkzone("example.org.", 4) };
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(z, 4, &s), ZL_OK);
    assert_int_equal(zone_set_count(s), 4);
    assert_int_equal(find(s, "example.com."), 1);
    assert_int_equal(find(s, "www.example.com."), 1);
    assert_int_equal(find(s, "sub.example.com."), 2);
    assert_int_equal(find(s, "a.b.SUB.Example.COM."), 2);
    assert_int_equal(find(s, "xsub.example.com."), 1);
    assert_int_equal(find(s, "example.net.com."), 3);
    assert_int_equal(find(s, "com."), 3);
    assert_int_equal(find(s, "www.example.org."), 4);
    assert_int_equal(find(s, "org."), 0);
    assert_int_equal(find(s, "."), 0);
    assert_int_equal(find(s, "example.net."), 0);
    for (int i = 0; i < 4; i++)
        zone_free(z[i]);
    /* the set keeps its own references */
    assert_int_equal(find(s, "x.sub.example.com."), 2);
    zone_set_free(s);
}

static void test_get_and_order(void **state)
{
    (void)state;
    zone_t *z[3] = { mkzone("b.test.", 1), mkzone("a.b.test.", 2), mkzone("A.test.", 3) };
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(z, 3, &s), ZL_OK);
    uint8_t o[DNS_NAME_MAX];
    name("a.TEST.", o);
    assert_ptr_equal(zone_set_get(s, o), z[2]);
    name("www.b.test.", o);
    assert_null(zone_set_get(s, o)); /* exact only */
    name("a.b.test.", o);
    assert_ptr_equal(zone_set_get(s, o), z[1]);
    /* canonical order of origins: a.test. < b.test. < a.b.test. */
    assert_ptr_equal(zone_set_at(s, 0), z[2]);
    assert_ptr_equal(zone_set_at(s, 1), z[0]);
    assert_ptr_equal(zone_set_at(s, 2), z[1]);
    assert_null(zone_set_at(s, 3));
    zone_set_free(s);
    for (int i = 0; i < 3; i++)
        zone_free(z[i]);
}

static void test_duplicate_origin(void **state)
{
    (void)state;
    zone_t *z[2] = { mkzone("example.com.", 1), mkzone("EXAMPLE.com.", 2) };
    zone_set_t *s = (zone_set_t *)1;
    assert_int_equal(zone_set_new(z, 2, &s), ZL_EINVAL);
    assert_null(s);
    zone_free(z[0]);
    zone_free(z[1]); /* ASan: no reference was leaked by the failed set */
}

static void test_shared_between_sets(void **state)
{
    (void)state;
    /* the next version of a set shares unchanged zones with the old one */
    zone_t *a = mkzone("a.test.", 1), *b1 = mkzone("b.test.", 1), *b2 = mkzone("b.test.", 2);
    zone_t *v1[2] = { a, b1 }, *v2[2] = { a, b2 };
    zone_set_t *s1 = NULL, *s2 = NULL;
    assert_int_equal(zone_set_new(v1, 2, &s1), ZL_OK);
    zone_free(a);
    zone_free(b1);
    assert_int_equal(zone_set_new(v2, 2, &s2), ZL_OK);
    zone_free(b2);
    zone_set_free(s1); /* b1 goes, a stays for s2 */
    assert_int_equal(find(s2, "x.a.test."), 1);
    assert_int_equal(find(s2, "x.b.test."), 2);
    zone_set_free(s2);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(NULL, 0, &s), ZL_OK);
    assert_int_equal(zone_set_count(s), 0);
    assert_int_equal(find(s, "example.com."), 0);
    uint8_t o[DNS_NAME_MAX];
    name("example.com.", o);
    assert_null(zone_set_get(s, o));
    zone_set_free(s);
    assert_null(zone_set_find(NULL, o));
    assert_int_equal(zone_set_count(NULL), 0);
    zone_set_free(NULL);
}

static void test_root_and_many(void **state)
{
    (void)state;
    enum { N = 300 };
    zone_t *z[N + 1];
    char o[64];
    for (unsigned i = 0; i < N; i++) {
        snprintf(o, sizeof(o), "z%u.test.", i);
        z[i] = mkzone(o, i + 10);
    }
    z[N] = mkzone(".", 7);
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(z, N + 1, &s), ZL_OK);
    for (unsigned i = 0; i < N; i++) {
        snprintf(o, sizeof(o), "deep.www.z%u.test.", i);
        assert_int_equal(find(s, o), i + 10);
    }
    assert_int_equal(find(s, "z999.test."), 7); /* only the root zone covers it */
    assert_int_equal(find(s, "."), 7);
    zone_set_free(s);
    for (unsigned i = 0; i <= N; i++)
        zone_free(z[i]);
}

/* A set of a few zones is scanned, not hashed: the root zone and case
 * differences must come out as with the hash index. */
static void test_small_set_root(void **state)
{
    (void)state;
    zone_t *z[3] = { mkzone(".", 7), mkzone("Example.COM.", 1), mkzone("a.example.com.", 2) };
    zone_set_t *s = NULL;
    assert_int_equal(zone_set_new(z, 3, &s), ZL_OK);
    assert_int_equal(find(s, "."), 7);
    assert_int_equal(find(s, "org."), 7);
    assert_int_equal(find(s, "com."), 7);
    assert_int_equal(find(s, "example.com."), 1);
    assert_int_equal(find(s, "WWW.EXAMPLE.com."), 1);
    assert_int_equal(find(s, "b.a.example.com."), 2);
    assert_int_equal(find(s, "aa.example.com."), 1);
    assert_int_equal(find(s, "example.com.org."), 7);
    zone_set_free(s);
    for (int i = 0; i < 3; i++)
        zone_free(z[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_match),
        cmocka_unit_test(test_small_set_root),
        cmocka_unit_test(test_get_and_order),
        cmocka_unit_test(test_duplicate_origin),
        cmocka_unit_test(test_shared_between_sets),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_root_and_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
