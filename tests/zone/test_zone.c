/* zone/zone.c + zone/zbuild.c: builder validation (with lines), duplicates,
 * TTL mismatch, lookups (exact, ENT, wildcard, closest encloser,
 * delegation, DNAME, case), walk order, refcounting, a 100k-record zone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "zone/parse.h"
#include "zone/zone.h"

/* ---- helpers --------------------------------------------------------- */

#define MAXREP 32
typedef struct reports {
    unsigned n, warnings;
    unsigned line[MAXREP];
    zone_severity_t sev[MAXREP];
    char msg[MAXREP][512];
} reports_t;

static void rep_fn(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                   const char *msg)
{
    reports_t *r = ctx;
    (void)file;
    if (r->n < MAXREP) {
        r->line[r->n] = line;
        r->sev[r->n] = sev;
        snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
    }
    r->warnings += sev == ZONE_WARNING;
    r->n++;
}

static void rep_print(const reports_t *r)
{
    for (unsigned k = 0; k < r->n && k < MAXREP; k++)
        print_message("report %u: %s%s\n", r->line[k],
                      r->sev[k] == ZONE_WARNING ? "warning: " : "", r->msg[k]);
}

/* Index of the first report containing s, or -1. */
static int rep_find(const reports_t *r, const char *s)
{
    for (unsigned i = 0; i < r->n && i < MAXREP; i++)
        if (strstr(r->msg[i], s))
            return (int)i;
    return -1;
}

static void name(const char *s, uint8_t out[DNS_NAME_MAX])
{
    assert_true(dns_name_from_text(s, strlen(s), NULL, out) > 0);
}

static int add_rec(void *ctx, const dns_rr_t *rec)
{
    return zone_builder_add(ctx, rec, NULL);
}

/* Parses text as a zone for origin and builds it; reports go to *r. */
static int build(const char *origin, const char *text, zone_t **z, reports_t *r)
{
    uint8_t o[DNS_NAME_MAX];
    name(origin, o);
    memset(r, 0, sizeof(*r));
    zone_report_t rep = { rep_fn, r };
    zone_builder_t *b = zone_builder_new(o);
    assert_non_null(b);
    zone_parse_opts_t opts = { .origin = o };
    int rc = zone_parse_text(text, strlen(text), "t.zone", &opts, add_rec, b, &rep);
    assert_int_equal(rc, ZL_OK);
    return zone_builder_finish(b, z, &rep);
}

#define HEAD "$TTL 3600\n@ SOA ns1 host 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"

/* Builds text that must fail with exactly one report, an error
 * mentioning what, on line. */
static void expect_error(const char *text, const char *what, unsigned line)
{
    zone_t *z = (zone_t *)1;
    reports_t r;
    assert_int_equal(build("example.com.", text, &z, &r), ZL_EZONE);
    assert_null(z);
    int i = rep_find(&r, what);
    if (i < 0 || r.n != 1)
        rep_print(&r);
    assert_int_equal(r.n, 1);
    assert_true(i >= 0);
    assert_int_equal(r.sev[i], ZONE_ERROR);
    assert_int_equal(r.line[i], line);
}

/* Builds text that must load with exactly the n warnings whats[i] (each
 * the whole message) on lines[i], in any order; returns the zone. */
static zone_t *expect_warnings(const char *text, unsigned n, const char *const *whats,
                               const unsigned *lines)
{
    zone_t *z = NULL;
    reports_t r;
    int rc = build("example.com.", text, &z, &r);
    bool ok = rc == ZL_OK && r.n == n && r.warnings == n;
    for (unsigned i = 0; ok && i < n; i++) {
        int k = rep_find(&r, whats[i]);
        ok = k >= 0 && strcmp(r.msg[k], whats[i]) == 0 && r.line[k] == lines[i];
        if (!ok)
            print_message("want line %u: %s\n", lines[i], whats[i]);
    }
    if (!ok)
        rep_print(&r);
    assert_true(ok);
    assert_non_null(z);
    return z;
}

/* One warning: the whole message what, on line. */
static zone_t *expect_warning(const char *text, const char *what, unsigned line)
{
    return expect_warnings(text, 1, &what, &line);
}

static zone_t *expect_ok(const char *text)
{
    return expect_warnings(text, 0, NULL, NULL);
}

/* ---- validation ------------------------------------------------------ */

static void test_valid_minimal(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD);
    assert_int_equal(zone_serial(z), 7);
    assert_int_equal(zone_record_count(z), 3);
    uint8_t o[DNS_NAME_MAX];
    name("example.com.", o);
    assert_true(dns_name_equal(zone_origin(z), o));
    zone_free(z);
}

static void test_no_soa(void **state)
{
    (void)state;
    expect_error("$TTL 60\n@ NS ns1\nns1 A 192.0.2.1\n", "no SOA", 2);
}

/* The node of name in z, or NULL. */
static const zone_node_t *node_of(const zone_t *z, const char *text)
{
    uint8_t q[DNS_NAME_MAX];
    name(text, q);
    return zone_find(z, q);
}

/* Ignored records (BIND and NSD refuse the zone, Knot ignores them):
 * the zone loads without them, and their owners make no node. */
static void test_soa_not_at_apex(void **state)
{
    (void)state;
    zone_t *z = expect_warning(HEAD "sub SOA ns1 host 1 2 3 4 5\n",
                               "SOA record at sub.example.com., not at the zone apex: ignored", 5);
    assert_null(node_of(z, "sub.example.com."));
    assert_int_equal(zone_record_count(z), 3);
    zone_free(z);
}

static void test_two_soa(void **state)
{
    (void)state;
    zone_t *z = expect_warning(HEAD "@ SOA ns0 host 8 3600 600 86400 300\n",
                               "second SOA record at the zone apex: ignored "
                               "(the one at line 2 is served)", 5);
    assert_int_equal(zone_serial(z), 7); /* the first one, though it sorts after */
    assert_int_equal(zone_soa(z)->count, 1);
    zone_free(z);
}

/* BIND refuses, Knot warns, NSD loads silently. */
static void test_no_apex_ns(void **state)
{
    (void)state;
    zone_t *z = expect_warning("@ 60 SOA ns1 host 7 3600 600 86400 300\nns1 60 A 192.0.2.1\n",
                               "no NS records at the zone apex example.com.", 1);
    assert_null(zone_node_rrset(zone_apex(z), DNS_T_NS));
    zone_free(z);
}

/* BIND and Knot ignore records outside the zone; NSD refuses. */
static void test_outside_zone(void **state)
{
    (void)state;
    zone_t *z = expect_warning(HEAD "www.example.org. A 192.0.2.9\n",
                               "www.example.org. is outside the zone: ignored", 5);
    assert_int_equal(zone_record_count(z), 3);
    zone_free(z);
    /* a suffix that is not on a label boundary is outside too */
    z = expect_warning(HEAD "wwwexample.com. A 192.0.2.9\n",
                       "wwwexample.com. is outside the zone: ignored", 5);
    zone_free(z);
}

/* BIND refuses meta types, Knot and NSD load them; they are not data. */
static void test_meta_types(void **state)
{
    (void)state;
    static const char *const w[3] = { "type ANY cannot be stored in a zone: ignored",
                                       "type OPT cannot be stored in a zone: ignored",
                                       "type TYPE0 cannot be stored in a zone: ignored" };
    static const unsigned l[3] = { 5, 6, 7 };
    zone_t *z = expect_warnings(HEAD "x TYPE255 \\# 0\ny TYPE41 \\# 0\nz TYPE0 \\# 0\n", 3, w, l);
    assert_null(node_of(z, "x.example.com."));
    assert_null(node_of(z, "z.example.com."));
    zone_free(z);
}

static void test_class(void **state)
{
    (void)state;
    expect_error(HEAD "www CH TXT \"x\"\n", "class", 5);
}

static void test_cname_beside_data(void **state)
{
    (void)state;
    expect_error(HEAD "www A 192.0.2.2\nwww CNAME ns1\n", "beside other data", 6);
    expect_error(HEAD "www CNAME ns1\nwww MX 10 ns1\n", "beside other data", 5);
    expect_error(HEAD "www CNAME ns1\nwww CNAME ns2\n", "more than one CNAME", 6);
    /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
    zone_t *z = expect_ok(HEAD "www CNAME ns1\n"
                          "www NSEC zz.example.com. CNAME RRSIG NSEC\n"
                          "www RRSIG CNAME 8 3 3600 20300101000000 20200101000000 1 "
                          "example.com. AAAA\n");
    zone_free(z);
}

/* Errors wherever they are, occluded or not (all three peers refuse). */
static void test_errors_below_cut(void **state)
{
    (void)state;
    reports_t r;
    zone_t *z = (zone_t *)1;
    assert_int_equal(build("example.com.", HEAD "sub NS ns1\nx.sub CNAME a\nx.sub CNAME b\n",
                           &z, &r), ZL_EZONE);
    assert_true(rep_find(&r, "more than one CNAME") >= 0);
    /* a CNAME at a delegation point sits beside its NS */
    assert_int_equal(build("example.com.", HEAD "sub NS ns1\nsub CNAME a\n", &z, &r), ZL_EZONE);
    int i = rep_find(&r, "beside other data");
    assert_true(i >= 0);
    assert_int_equal(r.sev[i], ZONE_ERROR);
}

/* RFC 6672 §2.4: names below a DNAME are occluded (BIND loads them; Knot
 * and NSD refuse the zone). */
static void test_dname_rules(void **state)
{
    (void)state;
    expect_error(HEAD "d DNAME a.example.\nd DNAME b.example.\n", "more than one DNAME", 6);
    expect_error(HEAD "d DNAME a.example.\nd CNAME b.example.\n", "beside other data", 6);
    static const char *const w[2] = {
        "A record at x.d.example.com. below the DNAME at d.example.com.: occluded, not served "
        "(RFC 6672 §2.4)",
        "NS record at sub.d.example.com. below the DNAME at d.example.com.: occluded, not "
        "served (RFC 6672 §2.4)" };
    static const unsigned l[2] = { 7, 8 };
    zone_t *z = expect_warnings(HEAD "d DNAME a.example.\nd A 192.0.2.3\nx.d A 192.0.2.4\n"
                                "sub.d NS ns1\n", 2, w, l);
    assert_false(zone_node_is_occluded(node_of(z, "d.example.com.")));
    assert_true(zone_node_is_occluded(node_of(z, "x.d.example.com.")));
    assert_true(zone_node_is_occluded(node_of(z, "sub.d.example.com.")));
    assert_int_equal(zone_record_count(z), 3 + 4); /* occluded records stay in the zone */
    zone_free(z);
}

/* RFC 1034 §4.2.1: below a delegation only glue is served, at it only NS,
 * DS, (RRSIG, NSEC) and glue. BIND, Knot and NSD load all of this
 * silently; zonelet warns about each occluded record, with its line. */
static void test_below_delegation(void **state)
{
    (void)state;
    static const char *const w[7] = {
        "MX record at x.sub.example.com. below the delegation at sub.example.com.: occluded, "
        "not served (RFC 1034 §4.2.1)",
        "TXT record at the delegation point sub.example.com.: occluded, not served (only NS, "
        "DS and glue are, RFC 1034 §4.2.1)",
        "NS record at deep.sub.example.com. below the delegation at sub.example.com.: "
        "occluded, not served (RFC 1034 §4.2.1)",
        "A record at other.sub.example.com. below the delegation at sub.example.com. is not "
        "glue (no NS record names it): occluded, not served (RFC 1034 §4.2.1)",
        "CNAME record at c.sub.example.com. below the delegation at sub.example.com.: "
        "occluded, not served (RFC 1034 §4.2.1)",
        "AAAA record at the delegation point sub.example.com. is not glue (no NS record names "
        "it): occluded, not served (RFC 1034 §4.2.1)",
        "A record at ns.deep.sub.example.com. below the delegation at sub.example.com. is not "
        "glue (no NS record names it): occluded, not served (RFC 1034 §4.2.1)" };
    static const unsigned l[7] = { 7, 8, 9, 10, 11, 12, 13 };
    zone_t *z = expect_warnings(HEAD "sub NS ns.sub\nns.sub A 192.0.2.5\n"
                                "x.sub MX 10 ns1\n"                 /* 7 */
                                "sub TXT \"x\"\n"                   /* 8 */
                                "deep.sub NS ns.deep.sub\n"         /* 9: nested */
                                "other.sub A 192.0.2.6\n"           /* 10 */
                                "c.sub CNAME www\n"                 /* 11 */
                                "sub AAAA 2001:db8::1\n"            /* 12 */
                                "ns.deep.sub A 192.0.2.7\n",        /* 13: named by 9 only */
                                7, w, l);
    assert_false(zone_node_is_occluded(node_of(z, "ns.sub.example.com.")));
    assert_true(zone_node_is_occluded(node_of(z, "sub.example.com.")));
    assert_true(zone_node_is_occluded(node_of(z, "other.sub.example.com.")));
    assert_true(zone_node_is_occluded(node_of(z, "ns.deep.sub.example.com.")));
    assert_false(zone_node_is_occluded(node_of(z, "ns1.example.com.")));
    assert_false(zone_node_is_occluded(zone_apex(z)));
    assert_int_equal(zone_record_count(z), 3 + 9);
    zone_free(z);
    /* glue, DS at the cut, and glue at the cut itself are fine */
    z = expect_ok(HEAD "sub NS ns.sub\nsub NS sub\nsub A 192.0.2.7\n"
                  "sub DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                  "ns.sub A 192.0.2.5\nns.sub AAAA 2001:db8::5\n");
    assert_false(zone_node_is_occluded(node_of(z, "sub.example.com.")));
    zone_free(z);
}

/* RFC 9471 §2.2: glue of one delegation may sit below another (sibling
 * glue), or be named by the apex NS; it is glue, not occluded. */
static void test_sibling_glue(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD "@ NS ns.b\na NS ns.b\nb NS ns.c\nc NS ns9.example.net.\n"
                          "ns.b A 192.0.2.5\nns.c AAAA 2001:db8::6\n");
    assert_false(zone_node_is_occluded(node_of(z, "ns.b.example.com.")));
    assert_false(zone_node_is_occluded(node_of(z, "ns.c.example.com.")));
    zone_free(z);
    /* named only by an NS that is itself occluded: not glue */
    z = expect_warning(HEAD "a NS ns.x\nx NS ns1\nx.x NS ns.x\nns.x A 192.0.2.9\n",
                       "NS record at x.x.example.com. below the delegation at x.example.com.: "
                       "occluded, not served (RFC 1034 §4.2.1)", 7);
    assert_false(zone_node_is_occluded(node_of(z, "ns.x.example.com.")));
    zone_free(z);
}

static void test_every_problem_reported(void **state)
{
    (void)state;
    zone_t *z = (zone_t *)1;
    reports_t r;
    int rc = build("example.com.", "$TTL 60\n@ A 192.0.2.1\nx.org. A 192.0.2.1\n"
                   "c CNAME x\nc A 192.0.2.1\nd CH TXT x\n", &z, &r);
    assert_int_equal(rc, ZL_EZONE);
    assert_null(z);
    assert_int_equal(r.sev[rep_find(&r, "no SOA")], ZONE_ERROR);
    assert_int_equal(r.sev[rep_find(&r, "no NS")], ZONE_WARNING);
    assert_int_equal(r.line[rep_find(&r, "outside")], 3);
    assert_int_equal(r.sev[rep_find(&r, "outside")], ZONE_WARNING);
    assert_int_equal(r.line[rep_find(&r, "CNAME")], 4);
    assert_int_equal(r.line[rep_find(&r, "class")], 6);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.warnings, 2);
}

static void test_empty_builder(void **state)
{
    (void)state;
    uint8_t o[DNS_NAME_MAX];
    name("example.com.", o);
    zone_builder_t *b = zone_builder_new(o);
    zone_t *z = (zone_t *)1;
    reports_t r = { 0 };
    zone_report_t rep = { rep_fn, &r };
    assert_int_equal(zone_builder_finish(b, &z, &rep), ZL_EZONE);
    assert_null(z);
    assert_int_equal(r.n, 1);
}

/* ---- duplicates and TTLs --------------------------------------------- */

static int count_fn(void *ctx, const dns_rr_t *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_duplicates(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD "www A 192.0.2.1\nwww A 192.0.2.1\nWWW A 192.0.2.1\n"
                          "www NS WWW.example.com.\nwww NS www.EXAMPLE.com.\n"
                          "www.example.com. A 192.0.2.2\n");
    assert_int_equal(zone_record_count(z), 3 + 3); /* A x2, NS x1 at www */
    size_t n = 0;
    assert_int_equal(zone_walk(z, count_fn, &n), ZL_OK);
    assert_int_equal(n, 6);
    uint8_t q[DNS_NAME_MAX];
    name("www.example.com.", q);
    const zone_node_t *node = zone_find(z, q);
    assert_non_null(node);
    const zone_rrset_t *ns = zone_node_rrset(node, DNS_T_NS);
    assert_non_null(ns);
    assert_int_equal(ns->count, 1);
    /* the first spelling wins, for the owner and the RDATA */
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(ns, 0, &len);
    assert_int_equal(rd[1], 'W');
    zone_free(z);
}

static void test_ttl_mismatch(void **state)
{
    (void)state;
    zone_t *z = NULL;
    reports_t r;
    int rc = build("example.com.", HEAD "www 300 A 192.0.2.1\nwww 600 A 192.0.2.2\n"
                   "www 300 A 192.0.2.3\n", &z, &r);
    assert_int_equal(rc, ZL_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.line[0], 6);
    assert_non_null(strstr(r.msg[0], "TTL 600"));
    uint8_t q[DNS_NAME_MAX];
    name("www.example.com.", q);
    const zone_rrset_t *a = zone_node_rrset(zone_find(z, q), DNS_T_A);
    assert_int_equal(a->ttl, 300);
    assert_int_equal(a->count, 3);
    zone_free(z);
}

/* ---- walk order ------------------------------------------------------ */

typedef struct walk_ctx {
    char out[2048];
    size_t len;
} walk_ctx_t;

static int walk_fn(void *ctx, const dns_rr_t *rec)
{
    walk_ctx_t *w = ctx;
    char n[DNS_NAME_TEXT_MAX], t[16], rd[256];
    dns_name_to_text(rec->owner, n, sizeof(n));
    dns_type_to_text(rec->type, t, sizeof(t));
    dns_rdata_to_text(rec->type, rec->rdata, rec->rdlen, rd, sizeof(rd));
    assert_int_equal(rec->rclass, DNS_C_IN);
    w->len += (size_t)snprintf(w->out + w->len, sizeof(w->out) - w->len, "%s %u %s %s\n", n,
                               rec->ttl, t, rd);
    return 0;
}

static int stop_fn(void *ctx, const dns_rr_t *rec)
{
    (void)rec;
    return ++*(int *)ctx == 3 ? 42 : 0;
}

static void test_walk_order(void **state)
{
    (void)state;
    /* RFC 4034 §6.1 example order, plus types and RDATA order */
    zone_t *z = expect_ok("$TTL 60\n"
                          "z.example.com. A 192.0.2.1\n"
                          "@ NS ns1\n"
                          "*.z.example.com. A 192.0.2.1\n"
                          "\\200.z.example.com. A 192.0.2.1\n"
                          "a.example.com. A 192.0.2.2\n"
                          "a.example.com. A 192.0.2.1\n"
                          "yljkjljk.a.example.com. A 192.0.2.1\n"
                          "Z.a.example.com. A 192.0.2.1\n"
                          "zABC.a.EXAMPLE.com. A 192.0.2.1\n"
                          "@ SOA ns1 host 7 3600 600 86400 300\n"
                          "\\001.z.example.com. A 192.0.2.1\n"
                          "a.example.com. MX 10 ns1\n");
    walk_ctx_t w = { .len = 0 };
    assert_int_equal(zone_walk(z, walk_fn, &w), ZL_OK);
    assert_string_equal(w.out,
                        "example.com. 60 SOA ns1.example.com. host.example.com. 7 3600 600 86400 300\n"
                        "example.com. 60 NS ns1.example.com.\n"
                        "a.example.com. 60 A 192.0.2.1\n"
                        "a.example.com. 60 A 192.0.2.2\n"
                        "a.example.com. 60 MX 10 ns1.example.com.\n"
                        "yljkjljk.a.example.com. 60 A 192.0.2.1\n"
                        "Z.a.example.com. 60 A 192.0.2.1\n"
                        "zABC.a.EXAMPLE.com. 60 A 192.0.2.1\n"
                        "z.example.com. 60 A 192.0.2.1\n"
                        "\\001.z.example.com. 60 A 192.0.2.1\n"
                        "*.z.example.com. 60 A 192.0.2.1\n"
                        "\\200.z.example.com. 60 A 192.0.2.1\n");
    int k = 0;
    assert_int_equal(zone_walk(z, stop_fn, &k), 42);
    assert_int_equal(k, 3);
    zone_free(z);
}

/* ---- lookups --------------------------------------------------------- */

/* (in.d is occluded by the DNAME: one warning, line 14.) */
static const char *LOOKUP_ZONE =
    HEAD
    "www A 192.0.2.80\n"
    "a.b.c A 192.0.2.3\n"             /* b.c and c are empty non-terminals */
    "*.w A 192.0.2.42\n"
    "*.w MX 10 www\n"
    "x.w A 192.0.2.43\n"
    "y.x.w TXT \"deep\"\n"
    "sub NS ns.sub\n"
    "ns.sub A 192.0.2.53\n"
    "d DNAME example.net.\n"
    "in.d A 192.0.2.99\n"             /* occluded by the DNAME */
    "*.c TXT \"wild under ENT parent\"\n";

static zone_t *lookup_zone(void)
{
    return expect_warning(LOOKUP_ZONE, "A record at in.d.example.com. below the DNAME at "
                          "d.example.com.: occluded, not served (RFC 6672 §2.4)", 14);
}

static const char *owner_text(const zone_node_t *n, char *buf)
{
    if (!n)
        return "(null)";
    dns_name_to_text(zone_node_owner(n), buf, DNS_NAME_TEXT_MAX);
    return buf;
}

/* Looks qname up and checks each part of the result against the expected
 * owner (NULL = no node). */
static void check(const zone_t *z, const char *qname, const char *node, const char *enc,
                  const char *wild, const char *cut, const char *dname)
{
    uint8_t q[DNS_NAME_MAX];
    char buf[DNS_NAME_TEXT_MAX];
    zone_lookup_t l;
    name(qname, q);
    assert_int_equal(zone_lookup(z, q, &l), ZL_OK);
    const char *exp[5] = { node, enc, wild, cut, dname };
    const zone_node_t *got[5] = { l.node, l.encloser, l.wildcard, l.cut, l.dname };
    for (int i = 0; i < 5; i++) {
        const char *g = owner_text(got[i], buf);
        if (!exp[i] ? got[i] != NULL : strcmp(g, exp[i]) != 0)
            fail_msg("%s: field %d is %s, expected %s", qname, i, g, exp[i] ? exp[i] : "(null)");
    }
}

static void test_lookup_exact_and_case(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    check(z, "www.example.com.", "www.example.com.", "www.example.com.", NULL, NULL, NULL);
    check(z, "WwW.ExAmPlE.CoM.", "www.example.com.", "www.example.com.", NULL, NULL, NULL);
    check(z, "example.com.", "example.com.", "example.com.", NULL, NULL, NULL);
    check(z, "EXAMPLE.COM.", "example.com.", "example.com.", NULL, NULL, NULL);
    uint8_t q[DNS_NAME_MAX];
    name("WWW.example.COM.", q);
    const zone_node_t *n = zone_find(z, q);
    assert_non_null(n);
    const zone_rrset_t *a = zone_node_rrset(n, DNS_T_A);
    assert_non_null(a);
    assert_int_equal(a->count, 1);
    assert_int_equal(a->ttl, 3600);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(a, 0, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(rd, "\xc0\x00\x02\x50", 4);
    assert_null(zone_node_rrset(n, DNS_T_AAAA));
    assert_true(zone_node_is_apex(zone_apex(z)));
    assert_false(zone_node_is_apex(n));
    assert_non_null(zone_node_rrset(zone_apex(z), DNS_T_SOA));
    assert_ptr_equal(zone_soa(z), zone_node_rrset(zone_apex(z), DNS_T_SOA));
    zone_free(z);
}

static void test_lookup_out_of_zone(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    zone_lookup_t l;
    uint8_t q[DNS_NAME_MAX];
    const char *names[] = { "example.org.", "com.", ".", "wwwexample.com.", "www.example.net." };
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        name(names[i], q);
        assert_int_equal(zone_lookup(z, q, &l), ZL_ENOTFOUND);
        assert_null(l.node);
        assert_null(l.encloser);
        assert_null(zone_find(z, q));
    }
    zone_free(z);
}

static void test_lookup_ent(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    check(z, "b.c.example.com.", "b.c.example.com.", "b.c.example.com.", NULL, NULL, NULL);
    check(z, "c.example.com.", "c.example.com.", "c.example.com.", NULL, NULL, NULL);
    uint8_t q[DNS_NAME_MAX];
    name("b.c.example.com.", q);
    size_t n = 99;
    zone_node_rrsets(zone_find(z, q), &n);
    assert_int_equal(n, 0);
    /* RFC 4592 §2.2.2: the ENT b.c blocks *.c for names below it */
    check(z, "zz.b.c.example.com.", NULL, "b.c.example.com.", NULL, NULL, NULL);
    check(z, "q.c.example.com.", NULL, "c.example.com.", "*.c.example.com.", NULL, NULL);
    zone_free(z);
}

static void test_lookup_wildcard(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    check(z, "foo.w.example.com.", NULL, "w.example.com.", "*.w.example.com.", NULL, NULL);
    check(z, "FOO.W.example.com.", NULL, "w.example.com.", "*.w.example.com.", NULL, NULL);
    /* RFC 4592 §3.3.1: deeper names use the closest encloser's wildcard */
    check(z, "a.b.foo.w.example.com.", NULL, "w.example.com.", "*.w.example.com.", NULL, NULL);
    /* x.w exists: names below it do not see *.w */
    check(z, "q.x.w.example.com.", NULL, "x.w.example.com.", NULL, NULL, NULL);
    check(z, "x.w.example.com.", "x.w.example.com.", "x.w.example.com.", NULL, NULL, NULL);
    /* the wildcard owner itself is an exact match */
    check(z, "*.w.example.com.", "*.w.example.com.", "*.w.example.com.", NULL, NULL, NULL);
    /* w is an ENT (parent of *.w): exists, no RRsets */
    check(z, "w.example.com.", "w.example.com.", "w.example.com.", NULL, NULL, NULL);
    check(z, "nope.example.com.", NULL, "example.com.", NULL, NULL, NULL);
    zone_free(z);
}

static void test_lookup_delegation(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    check(z, "sub.example.com.", "sub.example.com.", "sub.example.com.", NULL,
          "sub.example.com.", NULL);
    check(z, "ns.sub.example.com.", "ns.sub.example.com.", "ns.sub.example.com.", NULL,
          "sub.example.com.", NULL);
    check(z, "a.b.c.sub.example.com.", NULL, "sub.example.com.", NULL, "sub.example.com.", NULL);
    check(z, "x.ns.sub.example.com.", NULL, "ns.sub.example.com.", NULL, "sub.example.com.",
          NULL);
    zone_free(z);
}

static void test_lookup_dname(void **state)
{
    (void)state;
    zone_t *z = lookup_zone();
    /* the DNAME owner itself: an ordinary RRset, no proper ancestor */
    check(z, "d.example.com.", "d.example.com.", "d.example.com.", NULL, NULL, NULL);
    check(z, "foo.d.example.com.", NULL, "d.example.com.", NULL, NULL, "d.example.com.");
    check(z, "in.d.example.com.", "in.d.example.com.", "in.d.example.com.", NULL, NULL,
          "d.example.com.");
    check(z, "a.in.d.example.com.", NULL, "in.d.example.com.", NULL, NULL, "d.example.com.");
    zone_free(z);
}

static void test_rrsets_and_rdata(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD "m MX 30 c\nm MX 10 a\nm MX 20 b\nm TXT \"t\"\nm A 192.0.2.1\n");
    uint8_t q[DNS_NAME_MAX];
    name("m.example.com.", q);
    const zone_node_t *n = zone_find(z, q);
    size_t cnt;
    const zone_rrset_t *rs = zone_node_rrsets(n, &cnt);
    assert_int_equal(cnt, 3);
    assert_int_equal(rs[0].type, DNS_T_A);
    assert_int_equal(rs[1].type, DNS_T_MX);
    assert_int_equal(rs[2].type, DNS_T_TXT);
    assert_int_equal(rs[1].count, 3);
    uint16_t len, len2;
    const uint8_t *p = zone_rrset_rdata(&rs[1], 0, &len);
    for (unsigned i = 0; i < 3; i++) {
        const uint8_t *d = zone_rrset_rdata(&rs[1], i, &len2);
        assert_ptr_equal(d, p);
        assert_int_equal(len, len2);
        assert_int_equal(d[1], 10 * (i + 1)); /* canonical RDATA order */
        if (i < 2)
            p = zone_rrset_rdata_next(p, len, &len);
    }
    assert_int_equal(zone_node_count(z), 3); /* apex, ns1, m */
    assert_true(zone_memory(z) > 0);
    zone_free(z);
}

static void test_refcount(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD);
    assert_ptr_equal(zone_ref(z), z);
    assert_ptr_equal(zone_ref(z), z);
    zone_free(z);
    zone_free(z);
    assert_int_equal(zone_serial(z), 7); /* one reference left */
    zone_free(z);                          /* the last: ASan checks it is freed */
    zone_free(NULL);
    assert_null(zone_ref(NULL));
}

/* ---- spelling and arrival order -------------------------------------- */

static int walk_text(const zone_t *z, walk_ctx_t *w)
{
    memset(w, 0, sizeof(*w));
    return zone_walk(z, walk_fn, w);
}

static void test_spellings_merged(void **state)
{
    (void)state;
    /* one name in several spellings and scattered runs is one node; the
     * owner keeps the earliest spelling */
    zone_t *z = expect_ok(HEAD "Mixed A 192.0.2.1\nother A 192.0.2.2\nMIXED AAAA 2001:db8::1\n"
                          "mixed A 192.0.2.3\nx.Deep.example.com. A 192.0.2.4\n"
                          "y.deep.example.com. A 192.0.2.5\n");
    assert_int_equal(zone_record_count(z), 3 + 6);
    assert_int_equal(zone_node_count(z), 2 + 2 + 3); /* apex ns1 mixed other deep x y */
    uint8_t q[DNS_NAME_MAX];
    name("mixed.example.com.", q);
    const zone_node_t *n = zone_find(z, q);
    assert_non_null(n);
    assert_int_equal(zone_node_owner(n)[1], 'M');
    assert_int_equal(zone_node_owner(n)[2], 'i');
    assert_int_equal(zone_node_rrset(n, DNS_T_A)->count, 2);
    assert_int_equal(zone_node_rrset(n, DNS_T_AAAA)->count, 1);
    name("DEEP.example.com.", q);
    n = zone_find(z, q);
    assert_non_null(n);
    size_t cnt;
    zone_node_rrsets(n, &cnt);
    assert_int_equal(cnt, 0); /* an empty non-terminal */
    zone_free(z);
}

static void test_order_independent(void **state)
{
    (void)state;
    /* the same records in reverse order give the same zone */
    static const char *lines[] = {
        "@ SOA ns1 host 7 3600 600 86400 300", "@ NS ns1", "@ NS ns2", "ns1 A 192.0.2.1",
        "a.b.c TXT \"t\"", "*.w MX 10 ns1", "sub NS ns.sub", "ns.sub A 192.0.2.9",
        "B.c A 192.0.2.7", "www A 192.0.2.8", "www AAAA 2001:db8::8", "www A 192.0.2.6",
        "d DNAME example.net.", "_sip._tcp SRV 1 2 3 ns1", "x.y.z.w A 192.0.2.10",
    };
    enum { N = sizeof(lines) / sizeof(*lines) };
    char fwd[2048] = "$TTL 300\n", rev[2048] = "$TTL 300\n";
    for (int i = 0; i < N; i++) {
        strcat(fwd, lines[i]);
        strcat(fwd, "\n");
        strcat(rev, lines[N - 1 - i]);
        strcat(rev, "\n");
    }
    zone_t *a = expect_ok(fwd), *b = expect_ok(rev);
    walk_ctx_t wa, wb;
    walk_text(a, &wa);
    walk_text(b, &wb);
    assert_string_equal(wa.out, wb.out);
    assert_int_equal(zone_node_count(a), zone_node_count(b));
    assert_int_equal(zone_record_count(a), N);
    zone_free(a);
    zone_free(b);
}

static void test_apex_wildcard_and_dname(void **state)
{
    (void)state;
    zone_t *z = expect_ok(HEAD "* TXT \"any\"\n");
    check(z, "nothing.example.com.", NULL, "example.com.", "*.example.com.", NULL, NULL);
    check(z, "a.b.example.com.", NULL, "example.com.", "*.example.com.", NULL, NULL);
    check(z, "ns1.example.com.", "ns1.example.com.", "ns1.example.com.", NULL, NULL, NULL);
    zone_free(z);
    /* RFC 6672: a DNAME at the apex redirects every name below it */
    z = expect_warning(HEAD "@ DNAME example.net.\n", "A record at ns1.example.com. below the "
                       "DNAME at example.com.: occluded, not served (RFC 6672 §2.4)", 4);
    check(z, "x.example.com.", NULL, "example.com.", NULL, NULL, "example.com.");
    check(z, "ns1.example.com.", "ns1.example.com.", "ns1.example.com.", NULL, NULL,
          "example.com.");
    check(z, "example.com.", "example.com.", "example.com.", NULL, NULL, NULL);
    zone_free(z);
}

/* ---- a sizable zone -------------------------------------------------- */

static void big_name(unsigned i, uint8_t out[DNS_NAME_MAX])
{
    char s[64];
    snprintf(s, sizeof(s), "h%u.g%u.big.test.", i, i % 97);
    name(s, out);
}

static void test_big_zone(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint8_t o[DNS_NAME_MAX], own[DNS_NAME_MAX], soa[64];
    name("big.test.", o);
    zone_builder_t *b = zone_builder_new(o);
    int sl = 0;
    soa[sl++] = 0; /* root as MNAME and RNAME keeps the RDATA short */
    soa[sl++] = 0;
    memset(soa + sl, 0, 20);
    soa[sl + 3] = 9;
    sl += 20;
    dns_rr_t r = { .owner = o, .type = DNS_T_SOA, .rclass = DNS_C_IN, .ttl = 60,
                     .rdlen = (uint16_t)sl, .rdata = soa, .line = 1 };
    assert_int_equal(zone_builder_add(b, &r, NULL), ZL_OK);
    r.type = DNS_T_NS;
    r.rdata = (const uint8_t *)"\2ns\3big\4test";
    r.rdlen = 13;
    assert_int_equal(zone_builder_add(b, &r, NULL), ZL_OK);
    clock_t t0 = clock();
    for (unsigned i = 0; i < N - 2; i++) {
        uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        big_name(i, own);
        r = (dns_rr_t){ .owner = own, .type = DNS_T_A, .rclass = DNS_C_IN, .ttl = 60,
                          .rdlen = 4, .rdata = a, .line = i + 3 };
        assert_int_equal(zone_builder_add(b, &r, NULL), ZL_OK);
    }
    zone_t *z = NULL;
    reports_t rp = { 0 };
    zone_report_t rep = { rep_fn, &rp };
    assert_int_equal(zone_builder_finish(b, &z, &rep), ZL_OK);
    double build_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_int_equal(zone_record_count(z), N);
    assert_int_equal(zone_serial(z), 9);
    assert_int_equal(zone_node_count(z), 1 + 97 + (N - 2));
    t0 = clock();
    for (unsigned i = 0; i < N - 2; i++) {
        zone_lookup_t l;
        big_name(i, own);
        assert_int_equal(zone_lookup(z, own, &l), ZL_OK);
        assert_non_null(l.node);
        const zone_rrset_t *a = zone_node_rrset(l.node, DNS_T_A);
        uint16_t len;
        const uint8_t *rd = zone_rrset_rdata(a, 0, &len);
        assert_int_equal(rd[3], (uint8_t)i);
        own[1] = 'x'; /* hN -> xN: NXDOMAIN below g<i%97> */
        assert_int_equal(zone_lookup(z, own, &l), ZL_OK);
        assert_null(l.node);
        assert_true(dns_name_equal(zone_node_owner(l.encloser), own + own[0] + 1));
    }
    double look_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("# 100k records: build %.3f s CPU, %zu KiB, %.0f ns per lookup pair\n",
                  build_s, zone_memory(z) / 1024, look_s * 1e9 / (N - 2));
    zone_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_minimal),
        cmocka_unit_test(test_no_soa),
        cmocka_unit_test(test_soa_not_at_apex),
        cmocka_unit_test(test_two_soa),
        cmocka_unit_test(test_no_apex_ns),
        cmocka_unit_test(test_outside_zone),
        cmocka_unit_test(test_class),
        cmocka_unit_test(test_cname_beside_data),
        cmocka_unit_test(test_dname_rules),
        cmocka_unit_test(test_below_delegation),
        cmocka_unit_test(test_sibling_glue),
        cmocka_unit_test(test_meta_types),
        cmocka_unit_test(test_errors_below_cut),
        cmocka_unit_test(test_every_problem_reported),
        cmocka_unit_test(test_empty_builder),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_ttl_mismatch),
        cmocka_unit_test(test_walk_order),
        cmocka_unit_test(test_lookup_exact_and_case),
        cmocka_unit_test(test_lookup_out_of_zone),
        cmocka_unit_test(test_lookup_ent),
        cmocka_unit_test(test_lookup_wildcard),
        cmocka_unit_test(test_lookup_delegation),
        cmocka_unit_test(test_lookup_dname),
        cmocka_unit_test(test_rrsets_and_rdata),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_spellings_merged),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_apex_wildcard_and_dname),
        cmocka_unit_test(test_big_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
