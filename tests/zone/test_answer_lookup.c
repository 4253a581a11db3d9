/* zone/answer_lookup.c through zone_answer, at its edges: occluded data
 * (RFC 1034 §4.2.1), DNAMEs that rewrite into their own subtree (RFC
 * 6672), and answers at the limits of the entry table and of a 64 KiB
 * message (RFC 9471, RFC 8482): each complete, or TC. Fixture zones of
 * tests/zone/answer/, plus zones built from text. */
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

static int reset_cfg(void **state)
{
    (void)state;
    zone_answer_cfg_init(&cfg);
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

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset_cfg)
    const struct CMUnitTest tests[] = {
        T(test_occluded_referral), T(test_occluded_ds_and_glue), T(test_occluded_by_dname),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
