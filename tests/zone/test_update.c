/* zone/update.c: RFC 2136 §3 on wire bytes. Each test builds an UPDATE
 * message (dns_msgb_*), parses it (dns_msg_parse), runs zone_update on a
 * zone, applies the diff it returns and compares the result with the
 * zone expected, built from scratch (tests/zone/zcmp.h). Each test names
 * the section of RFC 2136 it checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zone/update.h"
#include "zone/zcmp.h"

#define ORIGIN "example.test."
#define ZONE "$TTL 300\n@ SOA ns1 host 10 3600 600 86400 300\n@ NS ns1\n@ NS ns2\n" \
             "ns1 A 192.0.2.1\nns2 A 192.0.2.2\nwww A 192.0.2.10\nwww A 192.0.2.11\n" \
             "www TXT \"web\"\nalias CNAME www\na.b.c A 192.0.2.30\n"
/* The zone above with serial 11, and then the lines given. */
#define HEAD11 "$TTL 300\n@ SOA ns1 host 11 3600 600 86400 300\n@ NS ns1\n@ NS ns2\n" \
               "ns1 A 192.0.2.1\nns2 A 192.0.2.2\n"
#define REST "www A 192.0.2.10\nwww A 192.0.2.11\nwww TXT \"web\"\nalias CNAME www\n" \
             "a.b.c A 192.0.2.30\n"

typedef struct umsg {
    uint8_t buf[8192];
    dns_msgb_t b;
} umsg_t;

static void um_init(umsg_t *u)
{
    uint8_t o[DNS_NAME_MAX];
    zc_name(ORIGIN, o);
    dns_msgb_init(&u->b, u->buf, sizeof(u->buf), 0x1234, DNS_OP_UPDATE << 11);
    assert_int_equal(dns_msgb_question(&u->b, o, DNS_T_SOA, DNS_C_IN), ZL_OK);
}

/* A record from master-file text (owner relative to the origin), written
 * into section sec with class rclass and TTL ttl. */
static void um_rr(umsg_t *u, int sec, uint16_t rclass, uint32_t ttl, const char *line)
{
    zc_recs_t l = { 0 };
    char text[512];
    snprintf(text, sizeof(text), "%s\n", line);
    assert_true(zc_parse(ORIGIN, text, &l));
    assert_int_equal(l.n, 1);
    assert_int_equal(dns_msgb_rr(&u->b, sec, l.r[0].owner, l.r[0].type, rclass, ttl,
                                 l.r[0].rdata, l.r[0].rdlen), ZL_OK);
    zc_recs_free(&l);
}

/* A record without RDATA (class ANY or NONE prerequisites, deletions). */
static void um_empty(umsg_t *u, int sec, uint16_t rclass, uint32_t ttl, const char *owner,
                     uint16_t type)
{
    uint8_t o[DNS_NAME_MAX], n[DNS_NAME_MAX];
    zc_name(ORIGIN, o);
    assert_true(dns_name_from_text(owner, strlen(owner), o, n) > 0);
    assert_int_equal(dns_msgb_rr(&u->b, sec, n, type, rclass, ttl, NULL, 0), ZL_OK);
}

#define PRE DNS_SEC_AN
#define UPD DNS_SEC_NS
#define IN DNS_C_IN
#define ANY DNS_C_ANY
#define NONE DNS_C_NONE

/* Runs the message on ZONE (or base): the rcode must be rcode; with want
 * non-NULL, the diff applied must give want, with want NULL there must
 * be no diff. */
static void expect_on(const char *base, umsg_t *u, int rcode, const char *want)
{
    size_t len = dns_msgb_finish(&u->b);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, u->buf, len, &a), ZL_OK);
    zone_t *z = zc_build(ORIGIN, base);
    assert_non_null(z);
    zone_diff_t *d = NULL;
    const char *why = NULL;
    int rc = zone_update(z, &m, &d, &why);
    if (rc != rcode)
        fprintf(stderr, "# rcode %d (%s), expected %d\n", rc, why ? why : "-", rcode);
    assert_int_equal(rc, rcode);
    if (rcode != DNS_R_NOERROR)
        assert_non_null(why);
    else
        assert_null(why);
    if (!want) {
        assert_null(d);
    } else {
        assert_non_null(d);
        zone_t *v = NULL, *w = zc_build(ORIGIN, want);
        assert_non_null(w);
        zc_reports_t r = { 0 };
        zone_report_t rep = { zc_report_fn, &r };
        int arc = zone_apply(z, d, &v, &rep);
        if (arc)
            fprintf(stderr, "# apply: %d %s", arc, r.text);
        assert_int_equal(arc, ZL_OK);
        assert_true(zc_same_zone(v, w));
        zone_free(v);
        zone_free(w);
    }
    zone_diff_free(d);
    zone_free(z);
    dns_arena_free(&a);
}

static void expect(umsg_t *u, int rcode, const char *want)
{
    expect_on(ZONE, u, rcode, want);
}

/* ---- prerequisites (§2.4, §3.2) ----------------------------------------- */

/* §2.4.1, §3.2.1: RRset exists (value independent). */
static void test_prereq_rrset_exists(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "www", DNS_T_TXT);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "new A 192.0.2.50\n");
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "www", DNS_T_MX);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect(&u, DNS_R_NXRRSET, NULL);
    /* an empty non-terminal holds no RRset */
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "b.c", DNS_T_A);
    expect(&u, DNS_R_NXRRSET, NULL);
}

/* §2.4.2, §3.2.3: RRset exists (value dependent): the very set. */
static void test_prereq_rrset_value(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.11");
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.10");
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.11"); /* the same record twice is one */
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "new A 192.0.2.50\n");
    um_init(&u); /* fewer records than the zone's RRset */
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.10");
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect(&u, DNS_R_NXRRSET, NULL);
    um_init(&u); /* more */
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.10");
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.11");
    um_rr(&u, PRE, IN, 0, "www A 192.0.2.12");
    expect(&u, DNS_R_NXRRSET, NULL);
    um_init(&u); /* no such RRset */
    um_rr(&u, PRE, IN, 0, "nx A 192.0.2.10");
    expect(&u, DNS_R_NXRRSET, NULL);
    um_init(&u); /* two sets, the second fails */
    um_rr(&u, PRE, IN, 0, "www TXT \"web\"");
    um_rr(&u, PRE, IN, 0, "ns1 A 192.0.2.9");
    expect(&u, DNS_R_NXRRSET, NULL);
}

/* §2.4.3: RRset does not exist. */
static void test_prereq_rrset_absent(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, PRE, NONE, 0, "www", DNS_T_MX);
    um_rr(&u, UPD, IN, 300, "www MX 10 mail");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "www MX 10 mail\n");
    um_init(&u);
    um_empty(&u, PRE, NONE, 0, "www", DNS_T_A);
    expect(&u, DNS_R_YXRRSET, NULL);
}

/* §2.4.4: name is in use (an empty non-terminal is not). */
static void test_prereq_name_in_use(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "alias", DNS_T_ANY);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "new A 192.0.2.50\n");
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "nx", DNS_T_ANY);
    expect(&u, DNS_R_NXDOMAIN, NULL);
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "b.c", DNS_T_ANY);
    expect(&u, DNS_R_NXDOMAIN, NULL);
}

/* §2.4.5: name is not in use. */
static void test_prereq_name_not_in_use(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, PRE, NONE, 0, "nx", DNS_T_ANY);
    um_empty(&u, PRE, NONE, 0, "c", DNS_T_ANY); /* an empty non-terminal */
    um_rr(&u, UPD, IN, 300, "nx A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "nx A 192.0.2.50\n");
    um_init(&u);
    um_empty(&u, PRE, NONE, 0, "www", DNS_T_ANY);
    expect(&u, DNS_R_YXDOMAIN, NULL);
}

/* §3.2.1, §3.2.2, §3.2.3: malformed prerequisites; the first one that
 * fails decides. */
static void test_prereq_formerr(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, PRE, ANY, 300, "www", DNS_T_A); /* TTL not zero */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, PRE, IN, 300, "www A 192.0.2.10");
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, PRE, ANY, 0, "www A 192.0.2.10"); /* class ANY with RDATA */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, PRE, NONE, 0, "www A 192.0.2.10"); /* class NONE with RDATA */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, PRE, DNS_C_CH, 0, "www A 192.0.2.10"); /* another class */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_empty(&u, PRE, ANY, 0, "www.example.net.", DNS_T_A);
    expect(&u, DNS_R_NOTZONE, NULL);
    um_init(&u); /* in order: the NXDOMAIN comes first */
    um_empty(&u, PRE, ANY, 0, "nx", DNS_T_ANY);
    um_empty(&u, PRE, ANY, 300, "www", DNS_T_A);
    expect(&u, DNS_R_NXDOMAIN, NULL);
}

/* ---- prescan (§3.4.1) ----------------------------------------------------- */

static void test_prescan(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    um_rr(&u, UPD, IN, 300, "www.example.net. A 192.0.2.50");
    expect(&u, DNS_R_NOTZONE, NULL); /* and the first update is not made either */
    um_init(&u);
    um_empty(&u, UPD, IN, 300, "www", DNS_T_AXFR); /* meta type added */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_empty(&u, UPD, ANY, 300, "www", DNS_T_A); /* delete with a TTL */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, UPD, ANY, 0, "www A 192.0.2.10"); /* delete an RRset with RDATA */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_MAILA);
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, UPD, NONE, 300, "www A 192.0.2.10"); /* delete an RR with a TTL */
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_empty(&u, UPD, NONE, 0, "www", DNS_T_ANY);
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u);
    um_rr(&u, UPD, DNS_C_CH, 300, "www A 192.0.2.10");
    expect(&u, DNS_R_FORMERR, NULL);
    um_init(&u); /* RFC 2181 §8 */
    um_rr(&u, UPD, IN, 0x80000000u, "www A 192.0.2.12");
    expect(&u, DNS_R_FORMERR, NULL);
}

/* ---- updates (§2.5, §3.4.2) ----------------------------------------------- */

/* §2.5.1: add to an RRset, make a new one, a new name (with its ENTs). */
static void test_add(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "www A 192.0.2.12");
    um_rr(&u, UPD, IN, 300, "www MX 10 mail");
    um_rr(&u, UPD, IN, 300, "x.y.z AAAA 2001:db8::1");
    expect(&u, DNS_R_NOERROR,
           HEAD11 REST "www A 192.0.2.12\nwww MX 10 mail\nx.y.z AAAA 2001:db8::1\n");
}

/* §3.4.2.2: duplicates are ignored: nothing changes, no new version. */
static void test_add_duplicate(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "www A 192.0.2.10");
    um_rr(&u, UPD, IN, 300, "WWW A 192.0.2.11");
    expect(&u, DNS_R_NOERROR, NULL);
}

/* RFC 2181 §5.2: one TTL per RRset; the added record's (BIND, Knot). */
static void test_add_other_ttl(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 60, "www A 192.0.2.12");
    expect(&u, DNS_R_NOERROR, HEAD11 "www 60 A 192.0.2.10\nwww 60 A 192.0.2.11\n"
           "www 60 A 192.0.2.12\nwww TXT \"web\"\nalias CNAME www\na.b.c A 192.0.2.30\n");
    um_init(&u); /* a duplicate with another TTL changes the TTL */
    um_rr(&u, UPD, IN, 60, "www A 192.0.2.10");
    expect(&u, DNS_R_NOERROR, HEAD11 "www 60 A 192.0.2.10\nwww 60 A 192.0.2.11\n"
           "www TXT \"web\"\nalias CNAME www\na.b.c A 192.0.2.30\n");
}

/* §2.5.2, §3.4.2.3: delete an RRset; not the apex SOA or NS. */
static void test_delete_rrset(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_A);
    expect(&u, DNS_R_NOERROR, HEAD11 "www TXT \"web\"\nalias CNAME www\na.b.c A 192.0.2.30\n");
    um_init(&u);
    um_empty(&u, UPD, ANY, 0, "@", DNS_T_NS);
    um_empty(&u, UPD, ANY, 0, "@", DNS_T_SOA);
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_MX); /* not there: nothing */
    expect(&u, DNS_R_NOERROR, NULL);
}

/* §2.5.3, §3.4.2.3: delete all RRsets from a name (at the apex, all but
 * SOA and NS); the empty non-terminals above a name that goes go too. */
static void test_delete_name(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_ANY);
    um_empty(&u, UPD, ANY, 0, "a.b.c", DNS_T_ANY);
    expect(&u, DNS_R_NOERROR, HEAD11 "alias CNAME www\n");
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "@ MX 10 mail");
    um_empty(&u, UPD, ANY, 0, "@", DNS_T_ANY);
    expect(&u, DNS_R_NOERROR, NULL);
    expect_on(ZONE "@ TXT \"apex\"\n", (um_init(&u), um_empty(&u, UPD, ANY, 0, "@", DNS_T_ANY), &u),
              DNS_R_NOERROR, HEAD11 REST);
}

/* §2.5.4, §3.4.2.4: delete an RR from an RRset. */
static void test_delete_rr(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, NONE, 0, "www A 192.0.2.10");
    um_rr(&u, UPD, NONE, 0, "www A 192.0.2.99"); /* not there: nothing */
    expect(&u, DNS_R_NOERROR, HEAD11 "www A 192.0.2.11\nwww TXT \"web\"\nalias CNAME www\n"
           "a.b.c A 192.0.2.30\n");
    um_init(&u); /* an apex NS, but not the last one */
    um_rr(&u, UPD, NONE, 0, "@ NS ns2");
    um_rr(&u, UPD, NONE, 0, "@ NS ns1");
    expect(&u, DNS_R_NOERROR, "$TTL 300\n@ SOA ns1 host 11 3600 600 86400 300\n@ NS ns1\n"
           "ns1 A 192.0.2.1\nns2 A 192.0.2.2\n" REST);
    um_init(&u); /* §3.4.2.4: SOA deletions are ignored */
    um_rr(&u, UPD, NONE, 0, "@ SOA ns1 host 10 3600 600 86400 300");
    expect(&u, DNS_R_NOERROR, NULL);
}

/* §3.4.2.2: an SOA replaces the SOA when its serial is higher (RFC 1982);
 * then the serial is not raised again. Lower or equal: ignored. */
static void test_soa(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 600, "@ SOA ns2 admin 20 1 2 3 4");
    expect(&u, DNS_R_NOERROR, "$TTL 300\n@ 600 SOA ns2 admin 20 1 2 3 4\n@ NS ns1\n@ NS ns2\n"
           "ns1 A 192.0.2.1\nns2 A 192.0.2.2\n" REST);
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "@ SOA ns2 admin 10 1 2 3 4");
    um_rr(&u, UPD, IN, 300, "@ SOA ns2 admin 9 1 2 3 4");
    um_rr(&u, UPD, IN, 300, "www SOA ns2 admin 30 1 2 3 4"); /* not at the apex */
    expect(&u, DNS_R_NOERROR, NULL);
    um_init(&u); /* serial arithmetic: 4294967295 < 5 */
    um_rr(&u, UPD, IN, 300, "@ SOA ns1 host 5 3600 600 86400 300");
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect_on("$TTL 300\n@ SOA ns1 host 4294967295 3600 600 86400 300\n@ NS ns1\n", &u,
              DNS_R_NOERROR, "$TTL 300\n@ SOA ns1 host 5 3600 600 86400 300\n@ NS ns1\n"
              "new A 192.0.2.50\n");
}

/* RFC 1982 §3.1: the serial raised by one wraps. */
static void test_serial_wraps(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    expect_on("$TTL 300\n@ SOA ns1 host 4294967295 3600 600 86400 300\n@ NS ns1\n", &u,
              DNS_R_NOERROR, "$TTL 300\n@ SOA ns1 host 0 3600 600 86400 300\n@ NS ns1\n"
              "new A 192.0.2.50\n");
}

/* §3.4.2.2: CNAME and other data (BIND, Knot: a CNAME replaces a CNAME). */
static void test_cname(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "www CNAME other"); /* beside A and TXT: ignored */
    um_rr(&u, UPD, IN, 300, "alias A 192.0.2.5"); /* beside the CNAME: ignored */
    expect(&u, DNS_R_NOERROR, NULL);
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "alias CNAME ns1");
    expect(&u, DNS_R_NOERROR, HEAD11 "www A 192.0.2.10\nwww A 192.0.2.11\nwww TXT \"web\"\n"
           "alias CNAME ns1\na.b.c A 192.0.2.30\n");
    um_init(&u); /* RFC 4035 §2.5: NSEC may sit beside a CNAME */
    um_rr(&u, UPD, IN, 300, "alias NSEC www A");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "alias NSEC www A\n");
    um_init(&u); /* in order: the A goes, then the CNAME may come */
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_ANY);
    um_rr(&u, UPD, IN, 300, "www CNAME ns1");
    expect(&u, DNS_R_NOERROR, HEAD11 "www CNAME ns1\nalias CNAME www\na.b.c A 192.0.2.30\n");
}

/* RFC 6672 §2.4: one DNAME per name; a new one replaces it (BIND, Knot).
 * RFC 1035 §3.4.2: a WKS replaces the one of its address and protocol. */
static void test_singletons(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "dn DNAME example.net.");
    um_rr(&u, UPD, IN, 300, "dn DNAME example.org.");
    expect(&u, DNS_R_NOERROR, HEAD11 REST "dn DNAME example.org.\n");
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "www WKS 192.0.2.10 6 25");
    um_rr(&u, UPD, IN, 300, "www WKS 192.0.2.10 6 80");
    um_rr(&u, UPD, IN, 300, "www WKS 192.0.2.10 17 53");
    expect(&u, DNS_R_NOERROR,
           HEAD11 REST "www WKS 192.0.2.10 6 80\nwww WKS 192.0.2.10 17 53\n");
}

/* §3.4.2: updates apply in order, to the result of the previous ones. */
static void test_in_order(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "new A 192.0.2.50");
    um_rr(&u, UPD, NONE, 0, "new A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, NULL);
    um_init(&u);
    um_rr(&u, UPD, NONE, 0, "www A 192.0.2.10");
    um_rr(&u, UPD, IN, 300, "www A 192.0.2.10");
    expect(&u, DNS_R_NOERROR, NULL);
    um_init(&u);
    um_empty(&u, UPD, ANY, 0, "www", DNS_T_A);
    um_rr(&u, UPD, IN, 300, "www A 192.0.2.99");
    expect(&u, DNS_R_NOERROR, HEAD11 "www A 192.0.2.99\nwww TXT \"web\"\nalias CNAME www\n"
           "a.b.c A 192.0.2.30\n");
}

/* §3.4.2 and the zone checks: an update whose result holds occluded data
 * (RFC 1034 §4.2.1) is made (BIND, Knot and NSD load such zones), and
 * zone_apply warns about each occluded record. */
static void test_result_checked(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, IN, 300, "sub NS ns.other.");
    um_rr(&u, UPD, IN, 300, "txt.sub TXT \"below the cut\"");
    size_t len = dns_msgb_finish(&u.b);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, u.buf, len, &a), ZL_OK);
    zone_t *z = zc_build(ORIGIN, ZONE), *v = NULL;
    zone_t *w = zc_build(ORIGIN, HEAD11 REST "sub NS ns.other.\ntxt.sub TXT \"below the cut\"\n");
    zone_diff_t *d = NULL;
    const char *why;
    assert_int_equal(zone_update(z, &m, &d, &why), DNS_R_NOERROR);
    assert_non_null(d);
    zc_reports_t r = { 0 };
    zone_report_t rep = { zc_report_fn, &r };
    assert_int_equal(zone_apply(z, d, &v, &rep), ZL_OK);
    assert_int_equal(r.errors, 0);
    assert_non_null(strstr(r.text, "warning: TXT record at txt.sub.example.test. below the "
                                   "delegation at sub.example.test.: occluded"));
    assert_true(zc_same_zone(v, w));
    zone_free(v);
    zone_free(w);
    zone_diff_free(d);
    zone_free(z);
    dns_arena_free(&a);
}

/* Names are compared without case; new names keep the update's case. */
static void test_case(void **state)
{
    (void)state;
    umsg_t u;
    um_init(&u);
    um_rr(&u, UPD, NONE, 0, "WWW.Example.TEST. A 192.0.2.10");
    um_rr(&u, UPD, IN, 300, "NeW A 192.0.2.50");
    expect(&u, DNS_R_NOERROR, HEAD11 "www A 192.0.2.11\nwww TXT \"web\"\nalias CNAME www\n"
           "a.b.c A 192.0.2.30\nNeW A 192.0.2.50\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prereq_rrset_exists),
        cmocka_unit_test(test_prereq_rrset_value),
        cmocka_unit_test(test_prereq_rrset_absent),
        cmocka_unit_test(test_prereq_name_in_use),
        cmocka_unit_test(test_prereq_name_not_in_use),
        cmocka_unit_test(test_prereq_formerr),
        cmocka_unit_test(test_prescan),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_add_duplicate),
        cmocka_unit_test(test_add_other_ttl),
        cmocka_unit_test(test_delete_rrset),
        cmocka_unit_test(test_delete_name),
        cmocka_unit_test(test_delete_rr),
        cmocka_unit_test(test_soa),
        cmocka_unit_test(test_serial_wraps),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_singletons),
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_result_checked),
        cmocka_unit_test(test_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
