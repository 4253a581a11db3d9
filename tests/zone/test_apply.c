/* zone/apply.c, zone/compact.c, zone/ovmap.c, zone/ziter.c: versions made
 * by zone_apply answer every lookup exactly as the same records built
 * from scratch (tests/zone/zcmp.h compares them), for each kind of change
 * and for many random sequences of changes; compaction and rebase give
 * the same answers; refusals build nothing; reference counting frees
 * everything (ASan's leak check). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zone/zcmp.h"
#include "zone/journal.h"

#define HEAD "$TTL 300\n@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
#define ORIGIN "example.test."

/* Applies diff text to the zone of base text, and checks the result
 * against the zone of want text built from scratch (its serial is 2), and
 * its compacted copy too. With warn non-NULL, the reports must include a
 * warning containing it (and no error); else there must be none. */
static void expect_apply_warns(const char *base, const char *diff, const char *want,
                               const char *warn)
{
    zone_t *z = zc_build(ORIGIN, base), *w = zc_build(ORIGIN, want), *v = NULL, *c = NULL;
    assert_non_null(z);
    assert_non_null(w);
    zone_diff_t *d = zc_diff(z, diff);
    assert_non_null(d);
    zc_reports_t r = { 0 };
    zone_report_t rep = { zc_report_fn, &r };
    int rc = zone_apply(z, d, &v, &rep);
    if (rc || (warn && !strstr(r.text, warn)) || (!warn && r.n))
        fprintf(stderr, "# %s", r.text);
    assert_int_equal(rc, ZL_OK);
    assert_int_equal(r.errors, 0);
    if (warn)
        assert_non_null(strstr(r.text, warn));
    else
        assert_int_equal(r.n, 0);
    assert_true(zc_same_zone(v, w));
    assert_int_equal(zone_compact(v, &c), ZL_OK);
    assert_true(zc_same_zone(c, w));
    assert_int_equal(zone_overlay_nodes(c), 0);
    zone_free(c);
    zone_diff_free(d);
    zone_free(z);
    zone_free(w);
    zone_free(v);
}

static void expect_apply(const char *base, const char *diff, const char *want)
{
    expect_apply_warns(base, diff, want, NULL);
}

/* The diff fits but breaks a content rule: ZL_EZONE, a report naming
 * the rule, nothing built. */
static void expect_refused(const char *base, const char *diff, const char *rule)
{
    zone_t *z = zc_build(ORIGIN, base), *v = (zone_t *)1;
    assert_non_null(z);
    zone_diff_t *d = zc_diff(z, diff);
    assert_non_null(d);
    zc_reports_t r = { 0 };
    zone_report_t rep = { zc_report_fn, &r };
    assert_int_equal(zone_apply(z, d, &v, &rep), ZL_EZONE);
    assert_null(v);
    if (!strstr(r.text, rule))
        fprintf(stderr, "# reports: %s", r.text);
    assert_non_null(strstr(r.text, rule));
    zone_diff_free(d);
    zone_free(z);
}

/* The diff does not fit the zone: ZL_EINVAL. */
static void expect_einval(const char *base, const char *diff)
{
    zone_t *z = zc_build(ORIGIN, base), *v = (zone_t *)1;
    assert_non_null(z);
    zone_diff_t *d = zc_diff(z, diff);
    assert_non_null(d);
    assert_int_equal(zone_apply(z, d, &v, NULL), ZL_EINVAL);
    assert_null(v);
    zone_diff_free(d);
    zone_free(z);
}

#define SOA2 "@ SOA ns1 host 2 3600 600 86400 300\n"
#define HEAD2 "$TTL 300\n" SOA2 "@ NS ns1\nns1 A 192.0.2.1\n"

/* ---- each kind of change ------------------------------------------------ */

static void test_add_record(void **state)
{
    (void)state;
    expect_apply(HEAD "www A 192.0.2.10\n", "+www 300 A 192.0.2.11\n",
                 HEAD2 "www A 192.0.2.10\nwww A 192.0.2.11\n");
}

static void test_remove_record(void **state)
{
    (void)state;
    expect_apply(HEAD "www A 192.0.2.10\nwww A 192.0.2.11\n", "-www 300 A 192.0.2.10\n",
                 HEAD2 "www A 192.0.2.11\n");
}

static void test_add_and_remove_rrsets(void **state)
{
    (void)state;
    expect_apply(HEAD "www A 192.0.2.10\nwww TXT \"a\"\n",
                 "-www 300 TXT \"a\"\n+www 300 AAAA 2001:db8::1\n+www 300 MX 10 ns1\n",
                 HEAD2 "www A 192.0.2.10\nwww AAAA 2001:db8::1\nwww MX 10 ns1\n");
}

static void test_ttl_change(void **state)
{
    (void)state;
    expect_apply(HEAD "www A 192.0.2.10\nwww A 192.0.2.11\n",
                 "-www 300 A 192.0.2.10\n-www 300 A 192.0.2.11\n"
                 "+www 60 A 192.0.2.10\n+www 60 A 192.0.2.11\n",
                 HEAD2 "www 60 A 192.0.2.10\nwww 60 A 192.0.2.11\n");
}

static void test_new_name(void **state)
{
    (void)state;
    expect_apply(HEAD, "+new 300 A 192.0.2.20\n", HEAD2 "new A 192.0.2.20\n");
}

static void test_remove_whole_name(void **state)
{
    (void)state;
    expect_apply(HEAD "www A 192.0.2.10\nwww TXT \"x\"\nother A 192.0.2.9\n",
                 "-www 300 A 192.0.2.10\n-www 300 TXT \"x\"\n", HEAD2 "other A 192.0.2.9\n");
}

/* RFC 4592 §2.2.2: a deep name makes its missing ancestors exist. */
static void test_new_name_needs_ents(void **state)
{
    (void)state;
    expect_apply(HEAD, "+a.b.c 300 A 192.0.2.30\n", HEAD2 "a.b.c A 192.0.2.30\n");
    expect_apply(HEAD "x.c A 192.0.2.1\n", "+a.b.c 300 A 192.0.2.30\n",
                 HEAD2 "x.c A 192.0.2.1\na.b.c A 192.0.2.30\n");
}

static void test_remove_last_name_under_ent(void **state)
{
    (void)state;
    /* b.c and c go with a.b.c; c stays while x.c is there */
    expect_apply(HEAD "a.b.c A 192.0.2.30\n", "-a.b.c 300 A 192.0.2.30\n", HEAD2);
    expect_apply(HEAD "a.b.c A 192.0.2.30\nx.c A 192.0.2.1\n", "-a.b.c 300 A 192.0.2.30\n",
                 HEAD2 "x.c A 192.0.2.1\n");
    /* a name with records stays when its child goes */
    expect_apply(HEAD "b.c TXT \"t\"\na.b.c A 192.0.2.30\n", "-a.b.c 300 A 192.0.2.30\n",
                 HEAD2 "b.c TXT \"t\"\n");
    /* the records of an empty non-terminal's parent go, the ENT stays */
    expect_apply(HEAD "c TXT \"t\"\na.b.c A 192.0.2.30\n", "-c 300 TXT \"t\"\n",
                 HEAD2 "a.b.c A 192.0.2.30\n");
}

static void test_ent_swap(void **state)
{
    (void)state;
    /* one child goes, another comes under the same empty non-terminal */
    expect_apply(HEAD "a.b A 192.0.2.1\n", "-a.b 300 A 192.0.2.1\n+c.b 300 A 192.0.2.2\n",
                 HEAD2 "c.b A 192.0.2.2\n");
    /* the records of b go while a child appears below it */
    expect_apply(HEAD "b TXT \"t\"\n", "-b 300 TXT \"t\"\n+a.b 300 A 192.0.2.2\n",
                 HEAD2 "a.b A 192.0.2.2\n");
}

static void test_wildcards(void **state)
{
    (void)state;
    expect_apply(HEAD "sub A 192.0.2.1\n", "+*.sub 300 A 192.0.2.2\n",
                 HEAD2 "sub A 192.0.2.1\n*.sub A 192.0.2.2\n");
    expect_apply(HEAD "sub A 192.0.2.1\n*.sub A 192.0.2.2\n", "-*.sub 300 A 192.0.2.2\n",
                 HEAD2 "sub A 192.0.2.1\n");
    expect_apply(HEAD, "+* 300 TXT \"w\"\n", HEAD2 "* TXT \"w\"\n");
    /* a wildcard below an empty non-terminal that appears with it */
    expect_apply(HEAD, "+*.a.b 300 A 192.0.2.3\n", HEAD2 "*.a.b A 192.0.2.3\n");
}

/* RFC 1034 §4.2.1: a new delegation occludes the names below it (loaded
 * with a warning, as BIND, Knot and NSD do, and never served); its glue
 * is served. */
static void test_new_delegation(void **state)
{
    (void)state;
    expect_apply_warns(HEAD "host.sub A 192.0.2.5\n",
                       "+sub 300 NS ns.sub\n+ns.sub 300 A 192.0.2.6\n",
                       HEAD2 "host.sub A 192.0.2.5\nsub NS ns.sub\nns.sub A 192.0.2.6\n",
                       "A record at host.sub.example.test. below the delegation at "
                       "sub.example.test. is not glue");
    expect_apply(HEAD "sub NS ns.sub\nns.sub A 192.0.2.6\nx.ns.sub A 192.0.2.7\n",
                 "-sub 300 NS ns.sub\n",
                 HEAD2 "ns.sub A 192.0.2.6\nx.ns.sub A 192.0.2.7\n");
    expect_apply_warns(HEAD "txt.sub TXT \"x\"\n", "+sub 300 NS ns.other\n",
                       HEAD2 "txt.sub TXT \"x\"\nsub NS ns.other\n",
                       "TXT record at txt.sub.example.test. below the delegation at "
                       "sub.example.test.: occluded");
}

/* RFC 9471: an address below a delegation is glue when a served NS record
 * names it, whichever NS record that is (its own delegation's, another
 * delegation's, the apex's); the occluded flag follows the NS records as
 * they come and go. */
static void test_glue(void **state)
{
    (void)state;
    /* sibling glue: ns.b (below b) named by a's NS */
    expect_apply(HEAD "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n",
                 "+a 300 NS h.b\n", HEAD2 "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n"
                 "a NS h.b\n");
    /* and no longer: h.b is occluded again */
    expect_apply_warns(HEAD "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\na NS h.b\n",
                       "-a 300 NS h.b\n+a 300 NS ns1\n",
                       HEAD2 "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\na NS ns1\n",
                       "is not glue");
    /* named by the apex NS */
    expect_apply(HEAD "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n", "+@ 300 NS h.b\n",
                 HEAD2 "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n@ NS h.b\n");
    /* an NS record below a DNAME is not served: no glue from it */
    expect_apply_warns(HEAD "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n"
                       "d DNAME example.net.\n", "+x.d 300 NS h.b\n",
                       HEAD2 "b NS ns.b\nns.b A 192.0.2.2\nh.b A 192.0.2.3\n"
                       "d DNAME example.net.\nx.d NS h.b\n", "below the DNAME");
    /* a delegation appears above a named address */
    expect_apply(HEAD "c NS ns.b.a\nns.b.a A 192.0.2.9\n", "+a 300 NS ns.b.a\n",
                 HEAD2 "c NS ns.b.a\nns.b.a A 192.0.2.9\na NS ns.b.a\n");
}

static void test_dname(void **state)
{
    (void)state;
    expect_apply_warns(HEAD "a.dn A 192.0.2.5\n", "+dn 300 DNAME example.net.\n",
                       HEAD2 "a.dn A 192.0.2.5\ndn DNAME example.net.\n",
                       "A record at a.dn.example.test. below the DNAME at dn.example.test.");
    expect_apply(HEAD "dn DNAME example.net.\na.dn A 192.0.2.5\n",
                 "-dn 300 DNAME example.net.\n", HEAD2 "a.dn A 192.0.2.5\n");
    expect_apply_warns(HEAD "www A 192.0.2.5\n", "+@ 300 DNAME example.net.\n",
                       HEAD2 "www A 192.0.2.5\n@ DNAME example.net.\n", "below the DNAME");
    expect_refused(HEAD "dn DNAME a.example.net.\n", "+dn 300 DNAME b.example.net.\n",
                   "more than one DNAME");
}

static void test_apex(void **state)
{
    (void)state;
    expect_apply(HEAD, "+@ 300 NS ns2\n+ns2 300 A 192.0.2.2\n",
                 HEAD2 "@ NS ns2\nns2 A 192.0.2.2\n");
    expect_apply(HEAD "@ NS ns2\n", "-@ 300 NS ns1\n", "$TTL 300\n" SOA2 "@ NS ns2\nns1 A 192.0.2.1\n");
    /* BIND refuses a zone without apex NS, Knot warns, NSD is silent */
    expect_apply_warns(HEAD, "-@ 300 NS ns1\n", "$TTL 300\n" SOA2 "ns1 A 192.0.2.1\n",
                       "no NS records at the zone apex");
    /* only the SOA changes */
    expect_apply(HEAD, "", HEAD2);
}

static void test_cname_rules(void **state)
{
    (void)state;
    expect_refused(HEAD "www A 192.0.2.1\n", "+www 300 CNAME ns1\n", "beside other data");
    expect_refused(HEAD "www CNAME ns1\n", "+www 300 CNAME host\n", "more than one CNAME");
    expect_apply(HEAD "www CNAME ns1\n", "-www 300 CNAME ns1\n+www 300 CNAME host\n",
                 HEAD2 "www CNAME host\n");
    expect_apply(HEAD "www A 192.0.2.1\n", "-www 300 A 192.0.2.1\n+www 300 CNAME ns1\n",
                 HEAD2 "www CNAME ns1\n");
}

/* Occluded data is kept (transfers and the store keep it) and not
 * served, with a warning for each record (zcheck.c's table). */
static void test_occluded(void **state)
{
    (void)state;
    expect_apply_warns(HEAD, "+sub 300 NS ns1\n+sub 300 TXT \"t\"\n",
                       HEAD2 "sub NS ns1\nsub TXT \"t\"\n", "at the delegation point");
    expect_apply_warns(HEAD "sub NS ns1\n", "+x.sub 300 MX 1 ns1\n",
                       HEAD2 "sub NS ns1\nx.sub MX 1 ns1\n", "below the delegation");
    expect_apply_warns(HEAD "sub NS ns1\n", "+sub 300 DNAME example.net.\n",
                       HEAD2 "sub NS ns1\nsub DNAME example.net.\n", "at the delegation point");
}

/* RFC 1035 §3.2.1 and the builder: more than 65535 records in an RRset
 * is an error; nothing is built. */
static void test_rrset_limit(void **state)
{
    (void)state;
    zone_t *z = zc_build(ORIGIN, HEAD), *v = (zone_t *)1;
    zone_diff_t *d = zone_diff_new(zone_origin(z));
    uint8_t owner[DNS_NAME_MAX], a[4] = { 10, 0, 0, 0 };
    zc_name("big." ORIGIN, owner);
    for (unsigned i = 0; i < 65536; i++) {
        a[1] = (uint8_t)(i >> 16);
        a[2] = (uint8_t)(i >> 8);
        a[3] = (uint8_t)i;
        dns_rr_t r = { .owner = owner, .type = DNS_T_A, .rclass = DNS_C_IN, .ttl = 300,
                       .rdlen = 4, .rdata = a };
        assert_int_equal(zone_diff_add(d, &r), ZL_OK);
    }
    dns_rr_t soa = zc_soa(z);
    assert_int_equal(zone_diff_set_soa(d, &soa, &soa), ZL_OK);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    zc_reports_t r = { 0 };
    zone_report_t rep = { zc_report_fn, &r };
    assert_int_equal(zone_apply(z, d, &v, &rep), ZL_EZONE);
    assert_null(v);
    assert_non_null(strstr(r.text, "error: more than 65535 records"));
    zone_diff_free(d);
    zone_free(z);
}

static void test_diff_must_fit(void **state)
{
    (void)state;
    expect_einval(HEAD, "-www 300 A 192.0.2.1\n");                  /* not there */
    expect_einval(HEAD, "+ns1 300 A 192.0.2.1\n");                  /* already there */
    expect_einval(HEAD, "-ns1 60 A 192.0.2.1\n");                   /* other TTL */
    expect_einval(HEAD, "+ns1 60 A 192.0.2.2\n");                   /* two TTLs */
    expect_einval(HEAD, "+x 60 A 192.0.2.2\n+x 70 A 192.0.2.3\n");  /* two TTLs */
    /* a diff made for another version (its old SOA is not the zone's) */
    zone_t *z = zc_build(ORIGIN, HEAD), *v = NULL, *w = NULL;
    zone_diff_t *d = zc_diff(z, "+x 300 A 192.0.2.2\n");
    assert_int_equal(zone_apply(z, d, &v, NULL), ZL_OK);
    assert_int_equal(zone_apply(v, d, &w, NULL), ZL_EINVAL);
    assert_null(w);
    zone_diff_free(d);
    zone_free(v);
    zone_free(z);
}

/* Case: a record removed in other case is the zone's record; a new name
 * keeps the spelling of the diff. */
static void test_case(void **state)
{
    (void)state;
    expect_apply(HEAD "WwW A 192.0.2.1\n", "-www 300 A 192.0.2.1\n+WWW 300 A 192.0.2.2\n",
                 HEAD2 "WwW A 192.0.2.2\n");
}

/* A version made from a version made from a version..., freed in any
 * order: every node is freed with the last version that holds it. */
static void test_chain_and_refcount(void **state)
{
    (void)state;
    zone_t *v[40];
    v[0] = zc_build(ORIGIN, HEAD "a A 192.0.2.1\n");
    assert_non_null(v[0]);
    for (int i = 1; i < 40; i++) {
        char text[128];
        snprintf(text, sizeof(text), "+n%d.a 300 A 192.0.2.%d\n%s", i, i,
                 i > 2 ? "-a 300 A 192.0.2.1\n+a 300 A 192.0.2.1\n" : "");
        zone_diff_t *d = zc_diff(v[i - 1], text);
        assert_non_null(d);
        assert_int_equal(zone_apply(v[i - 1], d, &v[i], NULL), ZL_OK);
        zone_diff_free(d);
    }
    assert_int_equal(zone_record_count(v[39]), 3 + 1 + 39);
    zone_t *r = zc_rebuild(v[39]);
    assert_true(zc_same_zone(v[39], r));
    zone_free(r);
    for (int i = 0; i < 40; i += 2)
        zone_free(v[i]);
    for (int i = 39; i > 0; i -= 2)
        zone_free(v[i]);
}

/* zone_iter: the SOA first, then every RRset in canonical order, merging
 * base and overlay; resumable, and holding its own reference. */
static void test_iter(void **state)
{
    (void)state;
    zone_t *z = zc_build(ORIGIN, HEAD "b A 192.0.2.2\nd A 192.0.2.4\nd TXT \"d\"\n"), *v = NULL;
    zone_diff_t *d = zc_diff(z, "+a 300 A 192.0.2.1\n-b 300 A 192.0.2.2\n+c.b 300 A 192.0.2.3\n"
                                "+d 300 MX 1 ns1\n+e 300 A 192.0.2.5\n");
    assert_int_equal(zone_apply(z, d, &v, NULL), ZL_OK);
    zone_t *w = zc_rebuild(v);
    zone_iter_t it, ref;
    assert_int_equal(zone_iter_init(&it, v), ZL_OK);
    assert_int_equal(zone_iter_init(&ref, w), ZL_OK);
    zone_free(v); /* the iterator keeps the version alive */
    const uint8_t *o, *ro;
    const zone_rrset_t *rs, *rrs;
    size_t n = 0;
    while (zone_iter_next(&it, &o, &rs)) {
        assert_true(zone_iter_next(&ref, &ro, &rrs));
        assert_true(dns_name_equal(o, ro));
        assert_true(zc_same_rrset(rs, rrs));
        if (n++ == 0)
            assert_int_equal(rs->type, DNS_T_SOA);
        else
            assert_int_not_equal(rs->type, DNS_T_SOA);
    }
    assert_false(zone_iter_next(&ref, &ro, &rrs));
    assert_false(zone_iter_next(&it, &o, &rs)); /* and ever after */
    /* apex SOA NS, ns1 A, a A, c.b A, d A TXT MX, e A */
    assert_int_equal(n, 9);
    zone_iter_fini(&it);
    zone_iter_fini(&ref);
    zone_free(w);
    zone_diff_free(d);
    zone_free(z);
}

/* ---- random sequences --------------------------------------------------- */

/* A small name space, so that changes collide: delegations over names
 * with data, wildcards, DNAMEs, CNAMEs, deep names and their ENTs. */
static const char *const labels[] = { "a", "b", "*", "ns", "w" };
#define NLABELS 5

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void rand_name(char *out, size_t cap)
{
    unsigned depth = 1 + rnd(3);
    out[0] = 0;
    if (rnd(12) == 0) {
        snprintf(out, cap, "@");
        return;
    }
    for (unsigned i = 0; i < depth; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? "." : "", labels[rnd(NLABELS)]);
    }
}

static void rand_rdata(char *out, size_t cap, const char **type)
{
    char target[64];
    rand_name(target, sizeof(target));
    switch (rnd(20)) {
    case 0: case 1:
        *type = "NS";
        snprintf(out, cap, "%s", target);
        break;
    case 2:
        *type = "DNAME";
        snprintf(out, cap, "%s", target);
        break;
    case 3: case 4:
        *type = "CNAME";
        snprintf(out, cap, "%s", target);
        break;
    case 5: case 6:
        *type = "MX";
        snprintf(out, cap, "%u %s", rnd(3), target);
        break;
    case 7: case 8: case 9:
        *type = "TXT";
        snprintf(out, cap, "\"t%u\"", rnd(4));
        break;
    case 10: case 11:
        *type = "AAAA";
        snprintf(out, cap, "2001:db8::%u", rnd(4));
        break;
    default:
        *type = "A";
        snprintf(out, cap, "192.0.2.%u", rnd(4));
    }
}

/* The TTL of the RRset of rec in list l, or 0. */
static uint32_t rrset_ttl(const zc_recs_t *l, const dns_rr_t *rec)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].type == rec->type && dns_name_equal(l->r[i].owner, rec->owner))
            return l->r[i].ttl;
    return 0;
}

static bool rec_in(const zc_recs_t *l, const dns_rr_t *rec)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].type == rec->type && dns_name_equal(l->r[i].owner, rec->owner) &&
            !dns_rdata_cmp(rec->type, rec->rdata, rec->rdlen, l->r[i].rdata, l->r[i].rdlen))
            return true;
    return false;
}

/* A random diff for z (whose records are cur): a few records removed, a
 * few added (with their RRset's TTL), sometimes an RRset's TTL changed. */
static zone_diff_t *rand_diff(const zone_t *z, const zc_recs_t *cur)
{
    char text[4096] = "";
    size_t len = 0;
    unsigned nrm = rnd(3), nadd = rnd(4);
    if (rnd(8) == 0 && cur->n > 1) {
        /* only this: the whole RRset of one record, with a new TTL */
        const dns_rr_t *r = &cur->r[1 + rnd((unsigned)cur->n - 1)];
        uint32_t ttl = r->ttl == 300 ? 900 : 300;
        for (size_t i = 0; i < cur->n; i++) {
            const dns_rr_t *q = &cur->r[i];
            if (q->type != r->type || !dns_name_equal(q->owner, r->owner))
                continue;
            char line[600];
            zone_rec_to_text(q, line, sizeof(line));
            dns_rr_t c = *q;
            c.ttl = ttl;
            len += (size_t)snprintf(text + len, sizeof(text) - len, "-%s", line);
            zone_rec_to_text(&c, line, sizeof(line));
            len += (size_t)snprintf(text + len, sizeof(text) - len, "+%s", line);
        }
        return zc_diff(z, text);
    }
    for (unsigned i = 0; i < nrm && cur->n > 1; i++) {
        const dns_rr_t *r = &cur->r[1 + rnd((unsigned)cur->n - 1)];
        char line[600];
        zone_rec_to_text(r, line, sizeof(line));
        if (!strstr(text, line))
            len += (size_t)snprintf(text + len, sizeof(text) - len, "-%s", line);
    }
    for (unsigned i = 0; i < nadd; i++) {
        char owner[64], rd[128], line[256];
        const char *type;
        rand_name(owner, sizeof(owner));
        rand_rdata(rd, sizeof(rd), &type);
        snprintf(line, sizeof(line), "%s 300 %s %s\n", owner, type, rd);
        char origin[] = ORIGIN;
        zc_recs_t l = { 0 };
        if (!zc_parse(origin, line, &l) || l.n != 1 || rec_in(cur, &l.r[0]) ||
            strstr(text, line + 0)) {
            zc_recs_free(&l);
            continue;
        }
        uint32_t ttl = rrset_ttl(cur, &l.r[0]);
        snprintf(line, sizeof(line), "%s %u %s %s\n", owner, ttl ? ttl : 300, type, rd);
        zc_recs_free(&l);
        len += (size_t)snprintf(text + len, sizeof(text) - len, "+%s", line);
    }
    return zc_diff(z, text);
}

/* The records of z with d applied, built from scratch: the oracle. */
static int oracle(const zone_t *z, const zone_diff_t *d, zone_t **out)
{
    zc_recs_t l;
    zc_records(z, &l);
    size_t nrm, nadd;
    const dns_rr_t *rm = zone_diff_removed(d, &nrm), *add = zone_diff_added(d, &nadd);
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        bool gone = l.r[i].type == DNS_T_SOA;
        for (size_t j = 0; j < nrm && !gone; j++)
            gone = l.r[i].type == rm[j].type && l.r[i].ttl == rm[j].ttl &&
                   dns_name_equal(l.r[i].owner, rm[j].owner) &&
                   !dns_rdata_cmp(rm[j].type, rm[j].rdata, rm[j].rdlen, l.r[i].rdata, l.r[i].rdlen);
        if (gone) {
            free((void *)l.r[i].owner);
            free((void *)l.r[i].rdata);
        } else {
            l.r[k++] = l.r[i];
        }
    }
    l.n = k;
    zc_recs_add(&l, zone_diff_new_soa(d));
    for (size_t j = 0; j < nadd; j++)
        zc_recs_add(&l, &add[j]);
    int rc = zc_build_recs(zone_origin(z), l.r, l.n, out, NULL);
    zc_recs_free(&l);
    return rc;
}

static void run_sequence(unsigned seed, unsigned steps, unsigned *applied, unsigned *refused)
{
    rng = 0x9e3779b97f4a7c15ull * (seed + 1);
    zone_t *z = zc_build(ORIGIN, HEAD "a A 192.0.2.1\nb.a TXT \"x\"\n*.w A 192.0.2.9\n");
    assert_non_null(z);
    zone_t *mark = zone_ref(z); /* a version to compact and rebase onto */
    for (unsigned s = 0; s < steps; s++) {
        zc_recs_t cur;
        zc_records(z, &cur);
        zone_diff_t *d = rand_diff(z, &cur);
        zc_recs_free(&cur);
        if (!d)
            continue;
        zone_t *want = NULL, *v = NULL;
        int orc = oracle(z, d, &want);
        int rc = zone_apply(z, d, &v, NULL);
        if (rc != orc)
            fprintf(stderr, "# seed %u step %u: apply %d, oracle %d\n", seed, s, rc, orc);
        assert_int_equal(rc, orc);
        zone_diff_free(d);
        if (rc) {
            assert_int_equal(rc, ZL_EZONE);
            assert_null(v);
            (*refused)++;
            continue;
        }
        (*applied)++;
        if (!zc_same_zone(v, want))
            fprintf(stderr, "# seed %u step %u\n", seed, s);
        assert_true(zc_same_zone(v, want));
        zone_free(want);
        zone_free(z);
        z = v;
        if (s % 7 == 6) {
            /* compact the marked version, move the later changes onto it */
            zone_t *c = NULL, *r = NULL;
            assert_int_equal(zone_compact(mark, &c), ZL_OK);
            assert_int_equal(zone_rebase(c, mark, z, &r), ZL_OK);
            assert_true(zc_same_zone(r, z));
            zone_free(c);
            zone_free(mark);
            zone_free(z);
            z = r;
            mark = zone_ref(z);
        }
    }
    zone_t *c = NULL, *w = zc_rebuild(z);
    assert_int_equal(zone_compact(z, &c), ZL_OK);
    assert_true(zc_same_zone(c, w));
    assert_true(zc_same_zone(z, w));
    zone_free(c);
    zone_free(w);
    zone_free(mark);
    zone_free(z);
}

static void test_random_sequences(void **state)
{
    (void)state;
    unsigned applied = 0, refused = 0, n = getenv("APPLY_SEQUENCES") ?
        (unsigned)atoi(getenv("APPLY_SEQUENCES")) : 150;
    for (unsigned seed = 0; seed < n; seed++)
        run_sequence(seed, 40, &applied, &refused);
    fprintf(stderr, "# %u sequences: %u changes applied, %u refused by both\n", n, applied,
            refused);
    assert_true(applied > 20 * n);
}

/* Rebase when nothing changed since the mark, and refusals. */
static void test_rebase_edges(void **state)
{
    (void)state;
    zone_t *z = zc_build(ORIGIN, HEAD "a A 192.0.2.1\n"), *v = NULL, *c = NULL, *r = NULL;
    zone_diff_t *d = zc_diff(z, "+b 300 A 192.0.2.2\n");
    assert_int_equal(zone_apply(z, d, &v, NULL), ZL_OK);
    assert_int_equal(zone_compact(v, &c), ZL_OK);
    assert_int_equal(zone_rebase(c, v, v, &r), ZL_OK);
    assert_int_equal(zone_overlay_nodes(r), 0);
    assert_true(zc_same_zone(r, v));
    zone_free(r);
    /* latest does not descend from the mark's base */
    assert_int_equal(zone_rebase(c, z, c, &r), ZL_EINVAL);
    /* compacted is not flat */
    assert_int_equal(zone_rebase(v, z, v, &r), ZL_EINVAL);
    zone_free(c);
    zone_free(v);
    zone_diff_free(d);
    zone_free(z);
}

static void test_compact_due(void **state)
{
    (void)state;
    zone_t *z = zc_build(ORIGIN, HEAD);
    assert_false(zone_compact_due(z));
    for (int i = 0; i < 4200; i++) {
        char text[64];
        snprintf(text, sizeof(text), "+n%d 300 A 192.0.2.1\n", i);
        zone_diff_t *d = zc_diff(z, text);
        zone_t *v;
        assert_int_equal(zone_apply(z, d, &v, NULL), ZL_OK);
        zone_diff_free(d);
        zone_free(z);
        z = v;
        if (zone_compact_due(z))
            break;
    }
    assert_true(zone_compact_due(z));
    assert_true(zone_overlay_nodes(z) > 4096 || zone_memory(z) > (1u << 20));
    zone_t *c;
    assert_int_equal(zone_compact(z, &c), ZL_OK);
    assert_false(zone_compact_due(c));
    assert_true(zc_same_zone(c, z));
    zone_free(c);
    zone_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_record),
        cmocka_unit_test(test_remove_record),
        cmocka_unit_test(test_add_and_remove_rrsets),
        cmocka_unit_test(test_ttl_change),
        cmocka_unit_test(test_new_name),
        cmocka_unit_test(test_remove_whole_name),
        cmocka_unit_test(test_new_name_needs_ents),
        cmocka_unit_test(test_remove_last_name_under_ent),
        cmocka_unit_test(test_ent_swap),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_new_delegation),
        cmocka_unit_test(test_dname),
        cmocka_unit_test(test_apex),
        cmocka_unit_test(test_cname_rules),
        cmocka_unit_test(test_occluded),
        cmocka_unit_test(test_glue),
        cmocka_unit_test(test_rrset_limit),
        cmocka_unit_test(test_diff_must_fit),
        cmocka_unit_test(test_case),
        cmocka_unit_test(test_chain_and_refcount),
        cmocka_unit_test(test_iter),
        cmocka_unit_test(test_rebase_edges),
        cmocka_unit_test(test_compact_due),
        cmocka_unit_test(test_random_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
