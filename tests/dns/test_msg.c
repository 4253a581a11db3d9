/* dns/msg.c: messages built by zonelet parse in ldns to the same content,
 * messages built by ldns parse in zonelet to the same content, the
 * builder's all-or-nothing adds and reserve, and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns/edns.h"
#include "dns/msg.h"

/* Records of several types; compressible names repeat suffixes. */
static const char *const an_rrs[] = {
    "www.example.com. 300 IN A 192.0.2.1",
    "www.example.com. 300 IN A 192.0.2.2",
    "www.example.com. 3600 IN AAAA 2001:db8::1",
    "www.example.com. 60 IN MX 10 mail.example.com.",
    "www.example.com. 60 IN TXT \"hello world\" \"second\"",
    "www.example.com. 60 IN CNAME target.example.net.",
    "www.example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 2026113001 7200 3600 1209600 300",
    "_sip._tcp.example.com. 60 IN SRV 0 5 5060 sip.example.com.",
    "www.example.com. 60 IN CAA 0 issue \"ca.example\"",
};
static const char *const ns_rrs[] = {
    "example.com. 86400 IN NS ns1.example.com.",
    "example.com. 86400 IN NS ns2.Example.COM.",
};
static const char *const ar_rrs[] = {
    "ns1.example.com. 86400 IN A 192.0.2.53",
    "ns2.example.com. 86400 IN AAAA 2001:db8::53",
};

/* A record in zonelet's terms, taken from ldns. */
typedef struct xrr {
    uint8_t owner[DNS_NAME_MAX];
    uint16_t type, rclass;
    uint32_t ttl;
    uint8_t rdata[1024];
    uint16_t rdlen;
} xrr_t;

static ldns_rr *ldns_rr_from(const char *s)
{
    ldns_rr *rr = NULL;
    ldns_status st = ldns_rr_new_frm_str(&rr, s, 3600, NULL, NULL);
    if (st != LDNS_STATUS_OK)
        fail_msg("ldns cannot parse %s: %s", s, ldns_get_errorstr_by_id(st));
    return rr;
}

static void xrr_from_ldns(xrr_t *x, const ldns_rr *rr)
{
    const ldns_rdf *o = ldns_rr_owner(rr);
    assert_true(ldns_rdf_size(o) <= DNS_NAME_MAX);
    memcpy(x->owner, ldns_rdf_data(o), ldns_rdf_size(o));
    x->type = (uint16_t)ldns_rr_get_type(rr);
    x->rclass = (uint16_t)ldns_rr_get_class(rr);
    x->ttl = ldns_rr_ttl(rr);
    ldns_buffer *b = ldns_buffer_new(1024);
    assert_int_equal(ldns_rr_rdata2buffer_wire(b, rr), LDNS_STATUS_OK);
    x->rdlen = (uint16_t)ldns_buffer_position(b);
    memcpy(x->rdata, ldns_buffer_begin(b), x->rdlen);
    ldns_buffer_free(b);
}

/* Same owner (case-insensitive), type, class, TTL and RDATA octets. */
static void assert_rr_same(const dns_rr_t *r, const ldns_rr *l)
{
    xrr_t x;
    xrr_from_ldns(&x, l);
    assert_true(dns_name_equal(r->owner, x.owner));
    assert_int_equal(r->type, x.type);
    assert_int_equal(r->rclass, x.rclass);
    assert_int_equal(r->ttl, x.ttl);
    assert_int_equal(r->rdlen, x.rdlen);
    /* Names decompressed from the message take the case of the spelling
     * they point to; the data in these tests is otherwise lower case. */
    for (size_t i = 0; i < x.rdlen; i++)
        if (tolower(r->rdata[i]) != tolower(x.rdata[i]))
            fail_msg("rdata differs at %zu", i);
}

static void add_rrs(dns_msgb_t *b, int sec, const char *const *rrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xrr_t x;
        ldns_rr *l = ldns_rr_from(rrs[i]);
        xrr_from_ldns(&x, l);
        ldns_rr_free(l);
        assert_int_equal(dns_msgb_rr(b, sec, x.owner, x.type, x.rclass, x.ttl, x.rdata, x.rdlen), ZL_OK);
    }
}

static void assert_ldns_section(const ldns_rr_list *got, const char *const *rrs, size_t n)
{
    assert_int_equal(ldns_rr_list_rr_count(got), n);
    for (size_t i = 0; i < n; i++) {
        ldns_rr *want = ldns_rr_from(rrs[i]);
        ldns_rr *g = ldns_rr_list_rr(got, i);
        if (ldns_rr_compare(g, want) != 0) {
            char *s = ldns_rr2str(g);
            fail_msg("record %zu: ldns read %s, want %s", i, s, rrs[i]);
        }
        assert_int_equal(ldns_rr_ttl(g), ldns_rr_ttl(want));
        ldns_rr_free(want);
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t test_opts[] = {
    0, 3, 0, 0,                                  /* NSID, empty */
    0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,         /* COOKIE, client part */
};

/* Builds the reference message with zonelet; returns its length. */
static size_t build_ref(uint8_t *buf, size_t cap)
{
    dns_msgb_t b;
    uint8_t qname[DNS_NAME_MAX];
    assert_true(dns_name_from_text("WWW.Example.com.", 16, NULL, qname) > 0);
    dns_msgb_init(&b, buf, cap, 0x1234, DNS_F_QR | DNS_F_AA | DNS_F_RD);
    assert_int_equal(dns_msgb_reserve(&b, 11 + sizeof(test_opts)), ZL_OK);
    assert_int_equal(dns_msgb_question(&b, qname, DNS_T_A, DNS_C_IN), ZL_OK);
    add_rrs(&b, DNS_SEC_AN, an_rrs, N(an_rrs));
    add_rrs(&b, DNS_SEC_NS, ns_rrs, N(ns_rrs));
    add_rrs(&b, DNS_SEC_AR, ar_rrs, N(ar_rrs));
    dns_msgb_unreserve(&b, 11 + sizeof(test_opts));
    /* extended RCODE BADVERS (16): 1 in ext_rcode, 0 in the header */
    dns_edns_t e = {.udp_size = 1232, .ext_rcode = 1, .version = 0,
                    .flags = DNS_EDNS_DO, .opts = test_opts, .opts_len = sizeof(test_opts)};
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    return dns_msgb_finish(&b);
}

static void test_zonelet_to_ldns(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len = build_ref(buf, sizeof(buf));
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(p), 0x1234);
    assert_true(ldns_pkt_qr(p));
    assert_true(ldns_pkt_aa(p));
    assert_true(ldns_pkt_rd(p));
    assert_false(ldns_pkt_tc(p));
    assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
    assert_int_equal(ldns_pkt_get_rcode(p), 0);
    assert_int_equal(ldns_pkt_qdcount(p), 1);
    const ldns_rr_list *q = ldns_pkt_question(p);
    ldns_rr *qr = ldns_rr_list_rr(q, 0);
    char *qs = ldns_rdf2str(ldns_rr_owner(qr));
    assert_string_equal(qs, "WWW.Example.com.");
    free(qs);
    assert_int_equal(ldns_rr_get_type(qr), LDNS_RR_TYPE_A);
    assert_int_equal(ldns_rr_get_class(qr), LDNS_RR_CLASS_IN);
    assert_ldns_section(ldns_pkt_answer(p), an_rrs, N(an_rrs));
    assert_ldns_section(ldns_pkt_authority(p), ns_rrs, N(ns_rrs));
    assert_ldns_section(ldns_pkt_additional(p), ar_rrs, N(ar_rrs));
    /* answer owners point at the question: its spelling is kept */
    char *os = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
    assert_string_equal(os, "WWW.Example.com.");
    free(os);
    assert_true(ldns_pkt_edns(p));
    assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
    assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
    assert_int_equal(ldns_pkt_edns_version(p), 0);
    assert_true(ldns_pkt_edns_do(p));
    ldns_rdf *d = ldns_pkt_edns_data(p);
    assert_non_null(d);
    assert_int_equal(ldns_rdf_size(d), sizeof(test_opts));
    assert_memory_equal(ldns_rdf_data(d), test_opts, sizeof(test_opts));
    /* compression did its work: re-encoded by ldns (which compresses too)
     * the message is no shorter */
    uint8_t *w2 = NULL;
    size_t l2 = 0;
    assert_int_equal(ldns_pkt2wire(&w2, p, &l2), LDNS_STATUS_OK);
    assert_true(len <= l2 + 4);
    free(w2);
    ldns_pkt_free(p);
}

static void test_zonelet_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len = build_ref(buf, sizeof(buf));
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, buf, len, &a), ZL_OK);
    assert_int_equal(m.nrr[DNS_SEC_AN], N(an_rrs));
    assert_int_equal(m.nrr[DNS_SEC_NS], N(ns_rrs));
    assert_int_equal(m.nrr[DNS_SEC_AR], N(ar_rrs)); /* OPT not counted */
    for (size_t i = 0; i < N(an_rrs); i++) {
        ldns_rr *l = ldns_rr_from(an_rrs[i]);
        assert_rr_same(&m.rr[DNS_SEC_AN][i], l);
        ldns_rr_free(l);
    }
    assert_true(m.has_edns);
    assert_int_equal(m.edns.udp_size, 1232);
    assert_int_equal(m.edns.ext_rcode, 1);
    assert_int_equal(m.edns.flags, DNS_EDNS_DO);
    const uint8_t *od;
    uint16_t ol;
    assert_int_equal(dns_edns_opt_find(&m.edns, DNS_EO_COOKIE, &od, &ol), ZL_OK);
    assert_int_equal(ol, 8);
    assert_memory_equal(od, test_opts + 8, 8);
    assert_int_equal(dns_edns_opt_find(&m.edns, DNS_EO_NSID, &od, &ol), ZL_OK);
    assert_int_equal(ol, 0);
    assert_int_equal(dns_edns_opt_find(&m.edns, DNS_EO_PADDING, &od, &ol), ZL_ENOTFOUND);
    dns_query_t q;
    assert_int_equal(dns_query_parse(&q, buf, len), ZL_OK);
    assert_int_equal(q.id, 0x1234);
    assert_int_equal(q.qname_len, 17);
    assert_memory_equal(q.qname, "\3WWW\7Example\3com", 17);
    assert_true(q.has_edns);
    assert_int_equal(q.edns.opts_len, sizeof(test_opts));
    dns_arena_free(&a);
}

/* Builds a query-like packet with ldns. */
static size_t ldns_build(uint8_t *out, size_t cap, bool edns, bool with_records)
{
    ldns_pkt *p = ldns_pkt_new();
    ldns_pkt_set_id(p, 0xbeef);
    ldns_pkt_set_rd(p, true);
    ldns_pkt_set_cd(p, true);
    ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
    ldns_rr *q = NULL;
    assert_int_equal(ldns_rr_new_question_frm_str(&q, "Mail.Example.COM. IN MX", NULL, NULL),
                     LDNS_STATUS_OK);
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
    if (with_records) {
        for (size_t i = 0; i < N(an_rrs); i++)
            ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_from(an_rrs[i]));
        for (size_t i = 0; i < N(ns_rrs); i++)
            ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ldns_rr_from(ns_rrs[i]));
        for (size_t i = 0; i < N(ar_rrs); i++)
            ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, ldns_rr_from(ar_rrs[i]));
    }
    if (edns) {
        ldns_pkt_set_edns_udp_size(p, 4000);
        ldns_pkt_set_edns_do(p, true);
        ldns_pkt_set_edns_version(p, 0);
        ldns_pkt_set_edns_extended_rcode(p, 0);
        ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof(test_opts), test_opts));
    }
    uint8_t *w = NULL;
    size_t len = 0;
    assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
    assert_true(len <= cap);
    memcpy(out, w, len);
    free(w);
    ldns_pkt_free(p);
    return len;
}

static void test_ldns_to_zonelet(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len = ldns_build(buf, sizeof(buf), true, true);
    dns_query_t q;
    assert_int_equal(dns_query_parse(&q, buf, len), ZL_OK);
    assert_int_equal(q.id, 0xbeef);
    assert_int_equal(q.flags, DNS_F_RD | DNS_F_CD);
    assert_int_equal(q.qdcount, 1);
    assert_int_equal(q.ancount, N(an_rrs));
    assert_int_equal(q.nscount, N(ns_rrs));
    assert_int_equal(q.arcount, N(ar_rrs) + 1);
    assert_memory_equal(q.qname, "\4Mail\7Example\3COM", 18);
    assert_int_equal(q.qname_len, 18);
    assert_int_equal(q.qtype, DNS_T_MX);
    assert_int_equal(q.qclass, DNS_C_IN);
    assert_true(q.has_edns);
    assert_int_equal(q.edns.udp_size, 4000);
    assert_int_equal(q.edns.flags & DNS_EDNS_DO, DNS_EDNS_DO);
    assert_int_equal(q.edns.version, 0);
    assert_int_equal(q.edns.opts_len, sizeof(test_opts));
    assert_memory_equal(q.edns.opts, test_opts, sizeof(test_opts));
    assert_int_equal(q.tsig_off, 0);

    uint8_t abuf[256];
    dns_arena_t a;
    dns_arena_init(&a, abuf, sizeof(abuf), 0); /* small: forces heap chunks */
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, buf, len, &a), ZL_OK);
    assert_int_equal(m.id, 0xbeef);
    assert_memory_equal(m.qname, "\4Mail\7Example\3COM", 18);
    const char *const *secs[3] = {an_rrs, ns_rrs, ar_rrs};
    size_t ns[3] = {N(an_rrs), N(ns_rrs), N(ar_rrs)};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(m.nrr[s], ns[s]);
        for (size_t i = 0; i < ns[s]; i++) {
            ldns_rr *l = ldns_rr_from(secs[s][i]);
            assert_rr_same(&m.rr[s][i], l);
            ldns_rr_free(l);
        }
    }
    assert_true(m.has_edns);
    assert_int_equal(m.edns.udp_size, 4000);
    assert_memory_equal(m.edns.opts, test_opts, sizeof(test_opts));
    dns_arena_free(&a);

    /* without EDNS */
    len = ldns_build(buf, sizeof(buf), false, false);
    assert_int_equal(dns_query_parse(&q, buf, len), ZL_OK);
    assert_false(q.has_edns);
    assert_int_equal(q.question_end, len);
}

/* Every prefix of a valid message is an error, never a crash. */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t lens[2];
    uint8_t bufs[2][4096];
    lens[0] = ldns_build(bufs[0], sizeof(bufs[0]), true, true);
    lens[1] = build_ref(bufs[1], sizeof(bufs[1]));
    for (int k = 0; k < 2; k++) {
        for (size_t n = 0; n < lens[k]; n++) {
            /* a copy of exactly n bytes so ASan sees any over-read */
            uint8_t *p = malloc(n ? n : 1);
            memcpy(p, bufs[k], n);
            dns_query_t q;
            int r = dns_query_parse(&q, p, n);
            if (r != ZL_EMALF)
                fail_msg("query_parse of %zu/%zu bytes: %d", n, lens[k], r);
            dns_arena_t a;
            dns_arena_init(&a, buf, sizeof(buf), 0);
            dns_msg_t m;
            r = dns_msg_parse(&m, p, n, &a);
            if (r != ZL_EMALF)
                fail_msg("msg_parse of %zu/%zu bytes: %d", n, lens[k], r);
            dns_arena_free(&a);
            free(p);
        }
    }
}

/* A hand-made message: header then body bytes. */
static size_t mk(uint8_t *out, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
                 const uint8_t *body, size_t blen)
{
    static const uint8_t hdr[4] = {0xab, 0xcd, 0x01, 0x00};
    memcpy(out, hdr, 4);
    dns_put_u16(out + 4, qd);
    dns_put_u16(out + 6, an);
    dns_put_u16(out + 8, ns);
    dns_put_u16(out + 10, ar);
    if (blen)
        memcpy(out + 12, body, blen);
    return 12 + blen;
}

static void expect_both(const uint8_t *pkt, size_t len, int want_q, int want_m)
{
    uint8_t *p = malloc(len);
    memcpy(p, pkt, len);
    dns_query_t q;
    assert_int_equal(dns_query_parse(&q, p, len), want_q);
    assert_int_equal(q.id, 0xabcd); /* id kept for a FORMERR reply */
    assert_int_equal(q.flags, 0x0100);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, p, len, &a), want_m);
    dns_arena_free(&a);
    free(p);
}

#define Q_EX 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1 /* example. A IN */
#define OPT_RR 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0
#define A_RR 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1

static void test_malformed_structure(void **state)
{
    (void)state;
    uint8_t pkt[512];
    /* baseline */
    static const uint8_t ok[] = {Q_EX, A_RR, OPT_RR};
    expect_both(pkt, mk(pkt, 1, 1, 0, 1, ok, sizeof(ok)), ZL_OK, ZL_OK);
    /* OPT in the answer section */
    static const uint8_t opt_an[] = {Q_EX, OPT_RR};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, opt_an, sizeof(opt_an)), ZL_EFORMAT, ZL_EFORMAT);
    expect_both(pkt, mk(pkt, 1, 0, 1, 0, opt_an, sizeof(opt_an)), ZL_EFORMAT, ZL_EFORMAT);
    /* OPT twice */
    static const uint8_t opt2[] = {Q_EX, OPT_RR, OPT_RR};
    expect_both(pkt, mk(pkt, 1, 0, 0, 2, opt2, sizeof(opt2)), ZL_EFORMAT, ZL_EFORMAT);
    /* OPT with a non-root owner (a pointer to "example.") */
    static const uint8_t opt_owner[] = {Q_EX, 0xc0, 12, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
    expect_both(pkt, mk(pkt, 1, 0, 0, 1, opt_owner, sizeof(opt_owner)), ZL_EFORMAT, ZL_EFORMAT);
    /* OPT whose options do not tile its RDATA */
    static const uint8_t opt_bad[] = {Q_EX, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 5, 0, 10, 0, 2, 1};
    expect_both(pkt, mk(pkt, 1, 0, 0, 1, opt_bad, sizeof(opt_bad)), ZL_EMALF, ZL_EMALF);
    /* two questions; zero questions (query parse only) */
    static const uint8_t q2[] = {Q_EX, Q_EX};
    expect_both(pkt, mk(pkt, 2, 0, 0, 0, q2, sizeof(q2)), ZL_EFORMAT, ZL_EFORMAT);
    expect_both(pkt, mk(pkt, 0, 0, 0, 0, NULL, 0), ZL_EFORMAT, ZL_OK);
    /* trailing garbage */
    static const uint8_t trail[] = {Q_EX, A_RR, 0};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, trail, sizeof(trail)), ZL_EMALF, ZL_EMALF);
    /* counts larger than the records present */
    expect_both(pkt, mk(pkt, 1, 2, 0, 0, ok, sizeof(ok) - 11), ZL_EMALF, ZL_EMALF);
    expect_both(pkt, mk(pkt, 1, 0xffff, 0xffff, 0xffff, ok, sizeof(ok) - 11), ZL_EMALF, ZL_EMALF);
    /* TSIG not last; TSIG last is fine */
    static const uint8_t tsig_rd[] = {8, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', 0, /* alg */
                                      0, 0, 0x65, 0x5a, 0x1b, 0x00, 1, 0x2c, /* time, fudge */
                                      0, 0, 0xab, 0xcd, 0, 0, 0, 0};           /* mac, id, err, other */
    uint8_t body[256];
    size_t n = 0;
    static const uint8_t ab[] = {Q_EX};
    memcpy(body, ab, sizeof(ab));
    n = sizeof(ab);
    static const uint8_t tsig_hdr[] = {3, 'k', 'e', 'y', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, sizeof(tsig_rd)};
    memcpy(body + n, tsig_hdr, sizeof(tsig_hdr));
    n += sizeof(tsig_hdr);
    memcpy(body + n, tsig_rd, sizeof(tsig_rd));
    n += sizeof(tsig_rd);
    size_t tsig_at = 12 + sizeof(ab);
    size_t len = mk(pkt, 1, 0, 0, 1, body, n);
    dns_query_t q;
    assert_int_equal(dns_query_parse(&q, pkt, len), ZL_OK);
    assert_int_equal(q.tsig_off, tsig_at);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, pkt, len, &a), ZL_OK);
    assert_int_equal(m.tsig_off, tsig_at);
    assert_int_equal(m.nrr[DNS_SEC_AR], 1);
    assert_int_equal(m.rr[DNS_SEC_AR][0].type, DNS_T_TSIG);
    dns_arena_free(&a);
    static const uint8_t opt_after[] = {OPT_RR};
    memcpy(body + n, opt_after, sizeof(opt_after));
    expect_both(pkt, mk(pkt, 1, 0, 0, 2, body, n + sizeof(opt_after)), ZL_EFORMAT, ZL_EFORMAT);
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, body, n), ZL_EFORMAT, ZL_EFORMAT);
    /* RDATA that does not match its type: an A of 3 octets */
    static const uint8_t bad_a[] = {Q_EX, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 192, 0, 2};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, bad_a, sizeof(bad_a)), ZL_OK, ZL_EMALF);
    /* shorter than a header */
    dns_query_t q0;
    assert_int_equal(dns_query_parse(&q0, pkt, 11), ZL_EMALF);
}

static void test_malformed_names(void **state)
{
    (void)state;
    uint8_t pkt[512], pkt2[700];
    /* qname is a pointer to itself */
    static const uint8_t self[] = {0xc0, 12, 0, 1, 0, 1};
    expect_both(pkt, mk(pkt, 1, 0, 0, 0, self, sizeof(self)), ZL_ELOOP, ZL_ELOOP);
    /* owner and qname pointing at each other */
    static const uint8_t pair[] = {1, 'a', 0xc0, 18, 0, 1, 0, 1, 0xc0, 14, 0, 1, 0, 1,
                                   0, 0, 0, 0, 0, 0};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, pair, sizeof(pair)), ZL_ELOOP, ZL_ELOOP);
    /* forward pointer */
    static const uint8_t fwd[] = {0xc0, 18, 0, 1, 0, 1, 1, 'a', 0};
    expect_both(pkt, mk(pkt, 1, 0, 0, 0, fwd, sizeof(fwd)), ZL_ELOOP, ZL_ELOOP);
    /* pointer past the end, in an answer owner */
    static const uint8_t past[] = {Q_EX, 0xc1, 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, past, sizeof(past)), ZL_ELOOP, ZL_ELOOP);
    /* pointer inside RDATA past the end (NS target) */
    static const uint8_t rdp[] = {Q_EX, 0xc0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 2, 0xc1, 0};
    expect_both(pkt, mk(pkt, 1, 1, 0, 0, rdp, sizeof(rdp)), ZL_OK, ZL_ELOOP);
    /* label length running past the end */
    static const uint8_t longlab[] = {40, 'a', 'b', 0, 0, 1, 0, 1};
    expect_both(pkt, mk(pkt, 1, 0, 0, 0, longlab, sizeof(longlab)), ZL_EMALF, ZL_EMALF);
    /* label types 0x40 and 0x80 */
    static const uint8_t t40[] = {0x41, 'a', 0, 0, 1, 0, 1};
    expect_both(pkt, mk(pkt, 1, 0, 0, 0, t40, sizeof(t40)), ZL_ELABEL, ZL_ELABEL);
    static const uint8_t t80[] = {0x81, 'a', 0, 0, 1, 0, 1};
    expect_both(pkt, mk(pkt, 1, 0, 0, 0, t80, sizeof(t80)), ZL_ELABEL, ZL_ELABEL);
    /* A name over 255 octets made of a pointer chain: five names of one
     * 60-octet label each pointing at the previous one, carried in the
     * RDATA of a NULL record; the next record's owner points at the last
     * (5 * 61 + 1 octets) or the one before (4 * 61 + 1, fine). */
    for (int k = 3; k <= 4; k++) {
        static const uint8_t q[] = {Q_EX, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0};
        uint8_t body[600];
        size_t n = sizeof(q), at[5];
        memcpy(body, q, n);
        for (int i = 0; i < 5; i++) {
            at[i] = 12 + n;
            body[n++] = 60;
            memset(body + n, 'x', 60);
            n += 60;
            if (i == 0) {
                body[n++] = 0;
            } else {
                body[n++] = (uint8_t)(0xc0 | at[i - 1] >> 8);
                body[n++] = (uint8_t)at[i - 1];
            }
        }
        dns_put_u16(body + sizeof(q) - 2, (uint16_t)(n - sizeof(q)));
        uint8_t rr2[] = {(uint8_t)(0xc0 | at[k] >> 8), (uint8_t)at[k], 0, 1, 0, 1,
                         0, 0, 0, 60, 0, 4, 1, 2, 3, 4};
        memcpy(body + n, rr2, sizeof(rr2));
        n += sizeof(rr2);
        int want = k == 4 ? ZL_ENAMELEN : ZL_OK;
        expect_both(pkt2, mk(pkt2, 1, 2, 0, 0, body, n), want, want);
    }
}

static void test_builder(void **state)
{
    (void)state;
    uint8_t buf[512], owner[DNS_NAME_MAX], rd[DNS_NAME_MAX];
    static const uint8_t a4[4] = {192, 0, 2, 7};
    dns_name_from_text("host.example.org.", 17, NULL, owner);
    int rl = dns_name_from_text("target.example.org.", 19, NULL, rd);
    /* sections in order */
    dns_msgb_t b;
    dns_msgb_init(&b, buf, sizeof(buf), 7, 0);
    assert_int_equal(dns_msgb_rr(&b, DNS_SEC_NS, owner, DNS_T_A, 1, 60, a4, 4), ZL_OK);
    assert_int_equal(dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_A, 1, 60, a4, 4), ZL_EINVAL);
    assert_int_equal(dns_msgb_question(&b, owner, DNS_T_A, 1), ZL_EINVAL);
    assert_int_equal(dns_msgb_rr(&b, 3, owner, DNS_T_A, 1, 60, a4, 4), ZL_EINVAL);
    /* all or nothing: fill a small buffer, last add fails cleanly */
    for (size_t cap = 12; cap < 200; cap++) {
        dns_msgb_init(&b, buf, cap, 7, DNS_F_QR);
        int added = 0, r;
        r = dns_msgb_question(&b, owner, DNS_T_CNAME, 1);
        if (r == ZL_OK) {
            while ((r = dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_CNAME, 1, 60, rd, (uint16_t)rl)) == ZL_OK)
                added++;
            assert_int_equal(r, ZL_ESPACE);
            assert_true(b.w.pos <= cap);
        } else {
            assert_int_equal(r, ZL_ESPACE);
            assert_int_equal(b.w.pos, 12);
        }
        uint16_t nc = b.c.n;
        size_t pos = b.w.pos;
        assert_int_equal(dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_CNAME, 1, 60, rd, (uint16_t)rl), ZL_ESPACE);
        assert_int_equal(b.c.n, nc);
        assert_int_equal(b.w.pos, pos);
        size_t len = dns_msgb_finish(&b);
        assert_int_equal(len, pos);
        if (r == ZL_ESPACE && b.count[0]) {
            dns_arena_t a;
            dns_arena_init(&a, NULL, 0, 0);
            dns_msg_t m;
            assert_int_equal(dns_msg_parse(&m, buf, len, &a), ZL_OK);
            assert_int_equal(m.nrr[DNS_SEC_AN], added);
            dns_arena_free(&a);
        }
    }
    /* reserve: records stop short of it, OPT then fits */
    dns_msgb_init(&b, buf, 100, 9, 0);
    assert_int_equal(dns_msgb_reserve(&b, 100), ZL_ESPACE);
    assert_int_equal(dns_msgb_reserve(&b, 11), ZL_OK);
    assert_int_equal(dns_msgb_question(&b, owner, DNS_T_A, 1), ZL_OK);
    int added = 0;
    while (dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_A, 1, 60, a4, 4) == ZL_OK)
        added++;
    assert_true(b.w.pos + 11 <= 100);
    assert_true(b.w.pos + 11 + 16 > 100);
    dns_edns_t e = {.udp_size = 512};
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_ESPACE); /* still reserved */
    dns_msgb_unreserve(&b, 11);
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    dns_msgb_set_flags(&b, DNS_F_QR | DNS_F_TC | DNS_R_NOTIMP);
    size_t len = dns_msgb_finish(&b);
    dns_query_t q;
    assert_int_equal(dns_query_parse(&q, buf, len), ZL_OK);
    assert_int_equal(q.ancount, added);
    assert_int_equal(q.arcount, 1);
    assert_int_equal(q.flags, DNS_F_QR | DNS_F_TC | DNS_R_NOTIMP);
    assert_true(q.has_edns);
    assert_int_equal(q.edns.udp_size, 512);
    /* malformed rdata is refused without damage */
    dns_msgb_init(&b, buf, sizeof(buf), 1, 0);
    static const uint8_t badname[] = {5, 'a', 0};
    assert_int_equal(dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_NS, 1, 60, badname, 3), ZL_EMALF);
    assert_int_equal(b.w.pos, 12);
    assert_int_equal(dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_NS, 1, 60, rd, (uint16_t)rl), ZL_OK);
    /* a buffer smaller than a header */
    dns_msgb_init(&b, buf, 5, 1, 0);
    assert_int_equal(dns_msgb_finish(&b), 0);
}

static void test_opt_find(void **state)
{
    (void)state;
    static const uint8_t bad[] = {0, 10, 0, 9, 1, 2, 3};
    dns_edns_t e = {.opts = bad, .opts_len = sizeof(bad)};
    const uint8_t *d;
    uint16_t l;
    assert_int_equal(dns_edns_opt_find(&e, DNS_EO_COOKIE, &d, &l), ZL_EMALF);
    e.opts_len = 3;
    assert_int_equal(dns_edns_opt_find(&e, DNS_EO_COOKIE, &d, &l), ZL_EMALF);
    e.opts_len = 0;
    assert_int_equal(dns_edns_opt_find(&e, DNS_EO_COOKIE, &d, &l), ZL_ENOTFOUND);
    e.opts = test_opts;
    e.opts_len = sizeof(test_opts);
    assert_int_equal(dns_edns_opt_find(&e, 10, &d, &l), ZL_OK);
    assert_ptr_equal(d, test_opts + 8);
}

/* An ldns record with no RDATA (ldns' text parser wants RDATA). */
static ldns_rr *ldns_rr_empty(const char *owner, ldns_rr_type t, ldns_rr_class c)
{
    ldns_rr *rr = ldns_rr_new();
    ldns_rr_set_owner(rr, ldns_dname_new_frm_str(owner));
    ldns_rr_set_type(rr, t);
    ldns_rr_set_class(rr, c);
    ldns_rr_set_ttl(rr, 0);
    return rr;
}

/* RFC 2136 UPDATE built by ldns: empty RDATA with class ANY. */
static void test_update_ldns(void **state)
{
    (void)state;
    static const char *const upd[] = {
        "www.example.com. 0 NONE A 192.0.2.1",
        "www.example.com. 300 IN A 192.0.2.9",
        "www.example.com. 300 IN NS ns.example.net.",
    };
    ldns_pkt *p = ldns_pkt_new();
    ldns_pkt_set_id(p, 77);
    ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
    ldns_rr *z = NULL;
    assert_int_equal(ldns_rr_new_question_frm_str(&z, "example.com. IN SOA", NULL, NULL), LDNS_STATUS_OK);
    ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, z);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_empty("example.com.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_ANY));
    ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ldns_rr_empty("www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY));
    ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ldns_rr_empty("www.example.com.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_ANY));
    for (size_t i = 0; i < N(upd); i++)
        ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ldns_rr_from(upd[i]));
    uint8_t *w = NULL;
    size_t len = 0;
    assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    assert_int_equal(dns_msg_parse(&m, w, len, &a), ZL_OK);
    assert_int_equal(DNS_F_OPCODE(m.flags), DNS_OP_UPDATE);
    assert_int_equal(m.qtype, DNS_T_SOA);
    assert_int_equal(m.nrr[DNS_SEC_AN], 1);
    assert_int_equal(m.rr[DNS_SEC_AN][0].rclass, DNS_C_ANY);
    assert_int_equal(m.rr[DNS_SEC_AN][0].rdlen, 0);
    assert_int_equal(m.nrr[DNS_SEC_NS], 2 + N(upd));
    assert_int_equal(m.rr[DNS_SEC_NS][0].type, DNS_T_A);
    assert_int_equal(m.rr[DNS_SEC_NS][0].rdlen, 0);
    assert_int_equal(m.rr[DNS_SEC_NS][1].type, DNS_T_ANY);
    assert_int_equal(m.rr[DNS_SEC_NS][1].rclass, DNS_C_ANY);
    for (size_t i = 0; i < N(upd); i++) {
        ldns_rr *l = ldns_rr_from(upd[i]);
        assert_rr_same(&m.rr[DNS_SEC_NS][2 + i], l);
        ldns_rr_free(l);
    }
    /* and back: the builder writes empty RDATA, ldns reads the same */
    uint8_t out[512];
    dns_msgb_t b;
    dns_msgb_init(&b, out, sizeof(out), m.id, m.flags);
    assert_int_equal(dns_msgb_question(&b, m.qname, m.qtype, m.qclass), ZL_OK);
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < m.nrr[s]; i++) {
            const dns_rr_t *r = &m.rr[s][i];
            assert_int_equal(dns_msgb_rr(&b, s, r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen), ZL_OK);
        }
    size_t ol = dns_msgb_finish(&b);
    ldns_pkt *p2 = NULL;
    assert_int_equal(ldns_wire2pkt(&p2, out, ol), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_nscount(p2), 2 + N(upd));
    for (size_t i = 0; i < 2 + N(upd); i++) {
        ldns_rr *g = ldns_rr_list_rr(ldns_pkt_authority(p2), i);
        ldns_rr *e = ldns_rr_list_rr(ldns_pkt_authority(p), i);
        assert_int_equal(ldns_rr_compare(g, e), 0);
        assert_int_equal(ldns_rr_rd_count(g), ldns_rr_rd_count(e));
    }
    assert_int_equal(ldns_pkt_get_opcode(p2), LDNS_PACKET_UPDATE);
    /* empty RDATA in class IN stays an error */
    static const uint8_t empty_a[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, /* AN 1 */
                                      0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    assert_int_equal(dns_msg_parse(&m, empty_a, sizeof(empty_a), &a), ZL_EMALF);
    ldns_pkt_free(p2);
    ldns_pkt_free(p);
    free(w);
    dns_arena_free(&a);
}

#ifndef MUT_ITERS
#define MUT_ITERS 20000
#endif
#ifndef MUT_SEED
#define MUT_SEED 2463534242u
#endif
static uint32_t rnd_state = MUT_SEED;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* Re-encodes a parsed message with the builder and parses it again:
 * the same question, records and EDNS must come back. */
static void reencode_check(const dns_msg_t *m)
{
    static uint8_t out[65535];
    dns_msgb_t b;
    dns_msgb_init(&b, out, sizeof(out), m->id, m->flags);
    if (m->qname)
        assert_int_equal(dns_msgb_question(&b, m->qname, m->qtype, m->qclass), ZL_OK);
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < m->nrr[s]; i++) {
            const dns_rr_t *r = &m->rr[s][i];
            assert_int_equal(dns_msgb_rr(&b, s, r->owner, r->type, r->rclass, r->ttl,
                                         r->rdata, r->rdlen), ZL_OK);
        }
    if (m->has_edns)
        assert_int_equal(dns_msgb_opt(&b, &m->edns), ZL_OK);
    size_t len = dns_msgb_finish(&b);
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m2;
    int r = dns_msg_parse(&m2, out, len, &a);
    if (r == ZL_EFORMAT && m->has_edns && m->tsig_off)
        goto done; /* OPT re-added after the TSIG: a legitimate refusal */
    assert_int_equal(r, ZL_OK);
    assert_int_equal(m2.has_edns, m->has_edns);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(m2.nrr[s], m->nrr[s]);
        for (unsigned i = 0; i < m->nrr[s]; i++) {
            const dns_rr_t *x = &m->rr[s][i], *y = &m2.rr[s][i];
            assert_true(dns_name_equal(x->owner, y->owner));
            assert_int_equal(x->type, y->type);
            assert_int_equal(x->rdlen, y->rdlen);
        }
    }
done:
    dns_arena_free(&a);
}

/* Random corruption of valid messages: never a crash or sanitizer report;
 * whatever the full parser accepts survives a re-encode. */
static void test_mutations(void **state)
{
    (void)state;
    uint8_t ref[2][4096];
    size_t lens[2];
    lens[0] = ldns_build(ref[0], sizeof(ref[0]), true, true);
    lens[1] = build_ref(ref[1], sizeof(ref[1]));
    unsigned accepted = 0;
    for (int it = 0; it < MUT_ITERS; it++) {
        int k = it & 1;
        size_t len = lens[k];
        uint8_t *p = malloc(len);
        memcpy(p, ref[k], len);
        unsigned nmut = 1 + rnd() % 4;
        for (unsigned j = 0; j < nmut; j++) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: p[at] = (uint8_t)rnd(); break;
            case 1: p[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
            default: p[at] = (uint8_t)(0xc0 | (rnd() & 1)); break;
            }
        }
        if (rnd() % 8 == 0)
            len = rnd() % len;
        dns_query_t q;
        int rq = dns_query_parse(&q, p, len);
        dns_arena_t a;
        dns_arena_init(&a, NULL, 0, 0);
        dns_msg_t m;
        int rm = dns_msg_parse(&m, p, len, &a);
        assert_true(rq <= 0 && rm <= 0 && rq > ZL_ELAST && rm > ZL_ELAST);
        if (rm == ZL_OK) {
            accepted++;
            reencode_check(&m);
        }
        dns_arena_free(&a);
        free(p);
    }
    assert_true(accepted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zonelet_to_ldns),
        cmocka_unit_test(test_zonelet_roundtrip),
        cmocka_unit_test(test_ldns_to_zonelet),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_malformed_structure),
        cmocka_unit_test(test_malformed_names),
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_opt_find),
        cmocka_unit_test(test_update_ldns),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
