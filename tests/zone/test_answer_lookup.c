/* zone/answer_lookup.c through zone_answer, at its edges: occluded data
 * (RFC 1034 §4.2.1), DNAMEs that rewrite into their own subtree (RFC
 * 6672), and answers at the limits of the entry table and of a 64 KiB
 * message (RFC 9471, RFC 8482): each complete, or TC. Fixture zones of
 * tests/zone/answer/, plus zones built from text. */
#include <stdlib.h>

#include "tests/zone/answer_ask.h"
#include "tests/zone/answer_fixture.h"

static int setup(void **state)
{
    (void)state;
    dns_arena_init(&arena, NULL, 0, 0);
    return answer_fixture_load(&zs) == ZL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    zone_set_free(zs);
    dns_arena_free(&arena);
    return 0;
}

/* ---- occluded data ---------------------------------------------------- */

/* The referral to sub.occluded.test: its two NS and the glue of
 * ns.sub (A and AAAA), nothing else (no TXT, MX, CNAME, wildcard or
 * address that sits at or below the cut without being glue). */
static void assert_sub_referral(void)
{
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_false(flag(DNS_F_AA));
    assert_false(flag(DNS_F_TC));
    assert_counts(0, 2, 2);
    assert_true(has_rr(DNS_SEC_NS, "sub.occluded.test.", DNS_T_NS, "ns.sub.occluded.test."));
    assert_true(has_rr(DNS_SEC_NS, "sub.occluded.test.", DNS_T_NS, "ns.other.test."));
    assert_true(has_rr(DNS_SEC_AR, "ns.sub.occluded.test.", DNS_T_A, "192.0.2.53"));
    assert_true(has_rr(DNS_SEC_AR, "ns.sub.occluded.test.", DNS_T_AAAA, "2001:db8::53"));
}

static void test_occluded_referral(void **state)
{
    (void)state;
    static const struct { const char *name; uint16_t type; } qs[] = {
        { "sub.occluded.test.", DNS_T_A },          /* an A at the cut, not glue */
        { "sub.occluded.test.", DNS_T_TXT },        /* data at the cut */
        { "sub.occluded.test.", DNS_T_MX },
        { "sub.occluded.test.", DNS_T_NS },
        { "ns.sub.occluded.test.", DNS_T_A },       /* glue: still a referral */
        { "ns.sub.occluded.test.", DNS_T_TXT },     /* data beside glue */
        { "old.sub.occluded.test.", DNS_T_A },      /* a CNAME below the cut */
        { "old.sub.occluded.test.", DNS_T_CNAME },
        { "mail.sub.occluded.test.", DNS_T_A },     /* an address that is not glue */
        { "x.sub.occluded.test.", DNS_T_TXT },      /* a wildcard below the cut */
        { "inner.sub.occluded.test.", DNS_T_NS },   /* a delegation inside it */
        { "inner.sub.occluded.test.", DNS_T_DS },
        { "ns.inner.sub.occluded.test.", DNS_T_A },
        { "deep.ns.inner.sub.occluded.test.", DNS_T_A },
    };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        for (int tcp = 0; tcp < 2; tcp++) {
            ask_p(qs[i].name, qs[i].type, 0, tcp ? &tcp4 : &udp4);
            assert_sub_referral();
        }
    }
    /* ANY at the cut, over TCP too, is the referral. */
    ask_p("sub.occluded.test.", DNS_T_ANY, 0, &tcp4);
    assert_sub_referral();
}

static void test_occluded_ds_and_glue(void **state)
{
    (void)state;
    /* RFC 4035 §3.1.4.1: DS at the cut from this side, authoritative. */
    ask("sub.occluded.test.", DNS_T_DS);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    assert_int_equal(count(DNS_SEC_AN, "sub.occluded.test.", DNS_T_DS), 1);
    /* Sibling glue (RFC 9471 §2.2): sib's server is below sub. */
    ask("www.sib.occluded.test.", DNS_T_A);
    assert_false(flag(DNS_F_AA));
    assert_counts(0, 1, 2);
    assert_int_equal(count(DNS_SEC_AR, "ns.sub.occluded.test.", 0), 2);
    /* Additional addresses: glue yes; occluded addresses, below the cut
     * or at it, no. */
    ask("mxglue.occluded.test.", DNS_T_MX);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 2);
    ask("mxoccl.occluded.test.", DNS_T_MX);
    assert_counts(1, 0, 0);
    ask("mxcut.occluded.test.", DNS_T_MX);
    assert_counts(1, 0, 0);
    /* A CNAME into occluded data: the CNAME (ours, AA), then the referral. */
    ask("tocut.occluded.test.", DNS_T_A);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 2, 2);
    assert_true(has_rr(DNS_SEC_AN, "tocut.occluded.test.", DNS_T_CNAME, "old.sub.occluded.test."));
}

/* RFC 6672 §2.4: names below a DNAME are occluded. BIND loads such zones
 * (Knot and NSD refuse them), so they are built from text here. */
static void test_occluded_by_dname(void **state)
{
    (void)state;
    static const char *const origins[1] = { "dn.test." };
    static const char *const texts[1] = {
        "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
        "d DNAME t.dn.test.\nd A 192.0.2.2\n"
        "x.d A 192.0.2.3\nx.d TXT \"hidden\"\nsub.d NS ns\n"
        "t A 192.0.2.4\nx.t A 192.0.2.5\n"
        "mx MX 10 x.d\n" };
    zone_set_t *fixture = zs;
    zs = zones_from_text(1, origins, texts);
    ask("x.d.dn.test.", DNS_T_A);
    assert_true(flag(DNS_F_AA));
    assert_counts(3, 0, 0); /* DNAME, CNAME x.d -> x.t, x.t A */
    assert_true(has_rr(DNS_SEC_AN, "x.t.dn.test.", DNS_T_A, "192.0.2.5"));
    assert_false(has_rr(DNS_SEC_AN, "x.d.dn.test.", DNS_T_A, "192.0.2.3"));
    ask("x.d.dn.test.", DNS_T_TXT);
    assert_counts(2, 1, 0); /* DNAME, CNAME, then NODATA at x.t */
    ask("www.sub.d.dn.test.", DNS_T_A);
    assert_true(flag(DNS_F_AA)); /* the DNAME, not the occluded delegation */
    assert_int_equal(count(DNS_SEC_AN, "d.dn.test.", DNS_T_DNAME), 1);
    assert_int_equal(count(DNS_SEC_NS, NULL, DNS_T_NS), 0);
    ask("d.dn.test.", DNS_T_A); /* the DNAME owner's own data is served */
    assert_counts(1, 0, 0);
    ask("mx.dn.test.", DNS_T_MX); /* no occluded address as additional data */
    assert_counts(1, 0, 0);
    zone_set_free(zs);
    zs = fixture;
}

/* ---- DNAME rewriting into its own subtree ---------------------------- */

/* The owner and target of the i-th answer record, as text. */
static void an_text(unsigned i, char *owner, char *rdata)
{
    const dns_rr_t *rr = &msg.rr[DNS_SEC_AN][i];
    assert_true(dns_name_to_text(rr->owner, owner, DNS_NAME_TEXT_MAX) > 0);
    assert_true(dns_rdata_to_text(rr->type, rr->rdata, rr->rdlen, rdata, 1024) >= 0);
}

static void test_dname_own_subtree(void **state)
{
    (void)state;
    char owner[DNS_NAME_TEXT_MAX], rdata[1024];
    /* selfdn DNAME x.selfdn: every step adds a label, no name repeats.
     * The DNAME once, then CNAMEs until the chain limit (12 names, as for
     * CNAME chains), a partial answer that fits: no TC. */
    static const uint16_t types[] = { DNS_T_A, DNS_T_DNAME, DNS_T_TXT };
    for (size_t t = 0; t < 3; t++)
        for (int tcp = 0; tcp < 2; tcp++) {
            ask_p("a.selfdn.example.test.", types[t], 0, tcp ? &tcp4 : &udp4);
            assert_int_equal(rcode(), DNS_R_NOERROR);
            assert_true(flag(DNS_F_AA));
            assert_false(flag(DNS_F_TC));
            assert_no_repeats();
            assert_counts(1 + 12, 0, 0);
            assert_int_equal(count(DNS_SEC_AN, "selfdn.example.test.", DNS_T_DNAME), 1);
            assert_int_equal(count(DNS_SEC_AN, NULL, DNS_T_CNAME), 12);
            an_text(12, owner, rdata);
            assert_string_equal(rdata, "a.x.x.x.x.x.x.x.x.x.x.x.x.selfdn.example.test.");
        }
    /* A CNAME question is answered by the first synthesised CNAME. */
    ask("a.selfdn.example.test.", DNS_T_CNAME);
    assert_counts(2, 0, 0);
    /* Long enough names overflow first: YXDOMAIN (RFC 6672 §2.2), with
     * what was synthesised before. */
    char longname[300];
    snprintf(longname, sizeof(longname), "%s.%s.%s.%s.selfdn.example.test.",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
             "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "dddddddddddddddddddddddddddddd");
    ask(longname, DNS_T_A); /* UDP: the second long CNAME does not fit */
    assert_true(flag(DNS_F_TC));
    ask_p(longname, DNS_T_A, 0, &tcp4);
    assert_int_equal(rcode(), DNS_R_YXDOMAIN);
    assert_false(flag(DNS_F_TC));
    assert_no_repeats();
    assert_int_equal(count(DNS_SEC_AN, NULL, DNS_T_DNAME), 1);
    assert_true(count(DNS_SEC_AN, NULL, DNS_T_CNAME) >= 1 &&
                count(DNS_SEC_AN, NULL, DNS_T_CNAME) < 12);
}

static void test_dname_loops(void **state)
{
    (void)state;
    /* Two DNAMEs feeding each other, growing: each once, 12 CNAMEs. */
    ask("a.pdn.example.test.", DNS_T_A);
    assert_no_repeats();
    assert_false(flag(DNS_F_TC));
    assert_int_equal(count(DNS_SEC_AN, NULL, DNS_T_DNAME), 2);
    assert_int_equal(count(DNS_SEC_AN, NULL, DNS_T_CNAME), 12);
    /* ... and a plain loop: ldn1 -> ldn2 -> ldn1 stops at the repeat. */
    ask("a.ldn1.example.test.", DNS_T_A);
    assert_no_repeats();
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(4, 0, 0);
    assert_true(has_rr(DNS_SEC_AN, "a.ldn2.example.test.", DNS_T_CNAME, "a.ldn1.example.test."));
    /* A DNAME and a wildcard CNAME back into it. */
    ask("a.dnw.example.test.", DNS_T_A);
    assert_no_repeats();
    assert_counts(3, 0, 0);
    assert_true(has_rr(DNS_SEC_AN, "a.x.wdn.example.test.", DNS_T_CNAME, "a.dnw.example.test."));
    ask_p("b.dnw.example.test.", DNS_T_A, 0, &tcp4); /* comes round through a.dnw */
    assert_no_repeats();
    assert_counts(5, 0, 0);
    assert_int_equal(count(DNS_SEC_AN, "dnw.example.test.", DNS_T_DNAME), 1);
    /* A DNAME and a CNAME back into it; and to a name that is not there. */
    ask("x.dcl.example.test.", DNS_T_A);
    assert_no_repeats();
    assert_counts(3, 0, 0);
    ask("y.dcl.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_counts(2, 1, 0);
}

/* ---- the limits of a message ----------------------------------------- */

/* A zone text built in a buffer (owned by the caller: free it). */
static char *zone_text(const char *head)
{
    size_t cap = 1 << 20;
    char *t = malloc(cap);
    assert_non_null(t);
    snprintf(t, cap, "%s", head);
    return t;
}

#define APPEND(t, ...) \
    snprintf((t) + strlen(t), (1u << 20) - strlen(t), __VA_ARGS__)

#define LIMITS_HEAD "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"

/* limits.test: a delegation `wide` with nwide in-zone name servers (A and
 * AAAA glue each), `huge` with nhuge, a node `many` with nmany RRsets, and
 * `mx` with nmx MX records (every target twice) with addresses. */
static zone_set_t *limits_zone(unsigned nwide, unsigned nhuge, unsigned nmany, unsigned nmx)
{
    char *t = zone_text(LIMITS_HEAD);
    for (unsigned i = 0; i < nwide; i++)
        APPEND(t, "wide NS ns%u.wide\nns%u.wide A 10.0.%u.%u\nns%u.wide AAAA 2001:db8::%x\n",
               i, i, i / 256, i % 256, i, i);
    for (unsigned i = 0; i < nhuge; i++)
        APPEND(t, "huge NS ns%u.huge\nns%u.huge A 10.1.%u.%u\nns%u.huge AAAA 2001:db8:1::%x\n",
               i, i, i / 256, i % 256, i, i);
    for (unsigned i = 0; i < nmany; i++)
        APPEND(t, "many TYPE%u \\# 1 %02x\n", 10000 + i, i % 256); /* unassigned types */
    for (unsigned i = 0; i < nmx; i++)
        APPEND(t, "mx MX %u m%u\nmx MX %u m%u\nm%u A 10.2.%u.%u\n", i, i, 1000 + i, i, i,
               i / 256, i % 256);
    const char *origins[1] = { "limits.test." }, *texts[1] = { t };
    zone_set_t *set = zones_from_text(1, origins, texts);
    free(t);
    return set;
}

/* The reply is complete or says it is not: TC set, or every expected
 * record present. */
static void assert_complete_or_tc(int an, int ns, int ar)
{
    assert_no_repeats();
    if (flag(DNS_F_TC))
        return;
    assert_counts(an, ns, ar);
}

static void test_large_referral(void **state)
{
    (void)state;
    zone_set_t *fixture = zs;
    zs = limits_zone(300, 1500, 0, 0);
    /* 300 in-zone servers: 300 NS, 600 glue RRsets. Over UDP the required
     * glue does not fit: TC (RFC 9471 §3). Over TCP all of it (19 KiB). */
    static const uint16_t sizes[] = { 0, 1232, 4096 };
    for (size_t i = 0; i < 3; i++) {
        ask_p("www.wide.limits.test.", DNS_T_A, sizes[i], &udp4);
        assert_true(flag(DNS_F_TC));
        assert_false(flag(DNS_F_AA));
        assert_complete_or_tc(0, 300, 600);
    }
    ask_p("www.wide.limits.test.", DNS_T_A, 0, &tcp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(0, 300, 600);
    assert_true(has_rr(DNS_SEC_AR, "ns299.wide.limits.test.", DNS_T_AAAA, "2001:db8::12b"));
    assert_true(rlen > 16384);
    /* 1500 servers need about 90 KiB: more than a message; TC over TCP
     * too, never a reply that looks complete without being so. */
    ask_p("www.huge.limits.test.", DNS_T_A, 0, &tcp4);
    assert_true(flag(DNS_F_TC));
    assert_int_equal(msg.nrr[DNS_SEC_NS], 1500);
    assert_true(msg.nrr[DNS_SEC_AR] > 96 && msg.nrr[DNS_SEC_AR] < 3000);
    assert_no_repeats();
    zone_set_free(zs);
    zs = fixture;
}

static void test_many_rrsets(void **state)
{
    (void)state;
    zone_set_t *fixture = zs;
    zs = limits_zone(0, 0, 300, 0);
    /* ANY over TCP: every one of 300 RRsets (RFC 8482 §4.1 allows it,
     * and a table of 96 used to cut it without TC). */
    ask_p("many.limits.test.", DNS_T_ANY, 0, &tcp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(300, 0, 0);
    assert_no_repeats();
    /* Over UDP one RRset (RFC 8482 §4.2). */
    ask_p("many.limits.test.", DNS_T_ANY, 1232, &udp4);
    assert_complete_or_tc(1, 0, 0);
    assert_false(flag(DNS_F_TC));
    zone_set_free(zs);
    /* 6000 RRsets of 14 octets each do not fit 64 KiB: TC over TCP. */
    zs = limits_zone(0, 0, 6000, 0);
    ask_p("many.limits.test.", DNS_T_ANY, 0, &tcp4);
    assert_true(flag(DNS_F_TC));
    assert_true(msg.nrr[DNS_SEC_AN] > 4000 && msg.nrr[DNS_SEC_AN] < 6000);
    assert_true(rlen <= 65535);
    zone_set_free(zs);
    zs = fixture;
}

static void test_many_additional(void **state)
{
    (void)state;
    zone_set_t *fixture = zs;
    zs = limits_zone(0, 0, 0, 400);
    /* 800 MX naming 400 targets twice: each target's A once; optional,
     * so over UDP what fits, without TC. */
    ask_p("mx.limits.test.", DNS_T_MX, 0, &tcp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(800, 0, 400);
    assert_no_repeats();
    ask_p("mx.limits.test.", DNS_T_MX, 1232, &udp4);
    assert_true(flag(DNS_F_TC)); /* the MX RRset itself does not fit */
    assert_counts(0, 0, 0);
    zone_set_free(zs);
    zs = limits_zone(0, 0, 0, 20);
    ask_p("mx.limits.test.", DNS_T_MX, 1232, &udp4);
    assert_false(flag(DNS_F_TC));
    assert_int_equal(msg.nrr[DNS_SEC_AN], 40);
    assert_true(msg.nrr[DNS_SEC_AR] > 0 && msg.nrr[DNS_SEC_AR] <= 20);
    assert_no_repeats();
    zone_set_free(zs);
    zs = fixture;
}

int main(void)
{
#define T(f) cmocka_unit_test(f)
    const struct CMUnitTest tests[] = {
        T(test_occluded_referral), T(test_occluded_ds_and_glue), T(test_occluded_by_dname),
        T(test_dname_own_subtree), T(test_dname_loops), T(test_large_referral),
        T(test_many_rrsets), T(test_many_additional),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
