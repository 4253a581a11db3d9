/* srv_process on wire bytes: every rule of unikernel/process.h and of
 * zone/answer.h (the lookup it hands QUERY to), on the fixture zones of
 * tests/zone/answer/ (example.test, other.test and the child zone
 * child.example.test). Queries are built with dns_msgb_*, replies parsed
 * back with dns_msg_parse and checked record by record. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/cookie.h"
#include "dns/msg.h"
#include "dns/edns.h"
#include "unikernel/process.h"
#include "zone/parse.h"
#include "tests/zone/answer_fixture.h"

static zone_set_t *zs;
static srv_msg_cfg_t cfg;
static srv_client_t udp4 = { .family = 4, .addr = { 198, 51, 100, 100 }, .port = 5353 };
static srv_client_t tcp4 = { .family = 4, .addr = { 127, 0, 0, 1 }, .port = 5353, .tcp = true };
#define NOW 1559731985u

static uint8_t reply[65535];
static size_t rlen;
static dns_msg_t msg;
static dns_arena_t arena;

static int setup(void **state)
{
    (void)state;
    int rc = answer_fixture_load(&zs);
    dns_arena_init(&arena, NULL, 0, 0);
    return rc == ZL_OK ? 0 : -1;
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
    srv_msg_cfg_init(&cfg);
    return 0;
}

static void name_of(const char *text, uint8_t out[DNS_NAME_MAX])
{
    assert_true(dns_name_from_text(text, strlen(text), NULL, out) > 0);
}

/* Query options: class, EDNS payload (0 = no OPT), EDNS version, DO,
 * opcode, extra EDNS options, flags. */
typedef struct qopt {
    uint16_t qclass;
    uint16_t payload;
    uint8_t version;
    bool dnssec;
    uint8_t opcode;
    uint16_t flags;
    const uint8_t *opts;
    uint16_t opts_len;
} qopt_t;

static size_t make_query(uint8_t *buf, size_t cap, const char *name, uint16_t type,
                         const qopt_t *o)
{
    uint8_t qn[DNS_NAME_MAX];
    name_of(name, qn);
    dns_msgb_t b;
    uint16_t flags = (uint16_t)((o && o->flags ? o->flags : DNS_F_RD) | (o ? o->opcode << 11 : 0));
    dns_msgb_init(&b, buf, cap, 0xbeef, flags);
    assert_int_equal(dns_msgb_question(&b, qn, type, o && o->qclass ? o->qclass : DNS_C_IN), ZL_OK);
    if (o && o->payload) {
        dns_edns_t e = { .udp_size = o->payload, .version = o->version,
                         .flags = o->dnssec ? DNS_EDNS_DO : 0,
                         .opts = o->opts, .opts_len = o->opts_len };
        assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    }
    return dns_msgb_finish(&b);
}

/* srv_process into reply[0..cap); the reply length, 0 for a drop. */
static size_t process(const zone_set_t *set, const uint8_t *q, size_t qlen,
                      const srv_client_t *cl, size_t cap)
{
    srv_ctx_t ctx = { .zones = set, .cfg = &cfg };
    srv_out_t out = { .buf = reply, .cap = cap };
    srv_result_t r = srv_process(&ctx, q, qlen, cl, NOW, &out);
    return r == SRV_REPLY ? out.len : 0;
}

/* Answers the raw query and parses the reply into msg. */
static void answer_raw(const uint8_t *q, size_t qlen, const srv_client_t *cl)
{
    rlen = process(zs, q, qlen, cl, cl->tcp ? 65535 : 4096);
    assert_true(rlen >= DNS_HDR_LEN);
    assert_int_equal(dns_get_u16(reply), dns_get_u16(q));
    dns_arena_reset(&arena);
    assert_int_equal(dns_msg_parse(&msg, reply, rlen, &arena), ZL_OK);
}

static void ask_o(const char *name, uint16_t type, const qopt_t *o, const srv_client_t *cl)
{
    uint8_t q[512];
    answer_raw(q, make_query(q, sizeof(q), name, type, o), cl);
}

static void ask(const char *name, uint16_t type)
{
    ask_o(name, type, NULL, &udp4);
}

static unsigned rcode(void)
{
    return DNS_F_RCODE(msg.flags) | (msg.has_edns ? (unsigned)msg.edns.ext_rcode << 4 : 0);
}

static bool flag(uint16_t f)
{
    return (msg.flags & f) != 0;
}

/* Number of records in section sec with this owner (NULL: any) and type
 * (0: any). */
static int count(int sec, const char *owner, uint16_t type)
{
    uint8_t on[DNS_NAME_MAX];
    if (owner)
        name_of(owner, on);
    int n = 0;
    for (unsigned i = 0; i < msg.nrr[sec]; i++) {
        const dns_rr_t *rr = &msg.rr[sec][i];
        if ((!owner || dns_name_equal(rr->owner, on)) && (!type || rr->type == type))
            n++;
    }
    return n;
}

/* The record of section sec with owner, type and RDATA in presentation
 * form rdtext (NULL: any); returns its TTL, or -1 when absent. */
static long rr_ttl(int sec, const char *owner, uint16_t type, const char *rdtext)
{
    uint8_t on[DNS_NAME_MAX];
    name_of(owner, on);
    for (unsigned i = 0; i < msg.nrr[sec]; i++) {
        const dns_rr_t *rr = &msg.rr[sec][i];
        if (!dns_name_equal(rr->owner, on) || rr->type != type)
            continue;
        char text[1024];
        assert_true(dns_rdata_to_text(type, rr->rdata, rr->rdlen, text, sizeof(text)) >= 0);
        if (!rdtext || strcmp(text, rdtext) == 0)
            return rr->ttl;
    }
    return -1;
}

static void assert_counts(int an, int ns, int ar)
{
    assert_int_equal(msg.nrr[DNS_SEC_AN], an);
    assert_int_equal(msg.nrr[DNS_SEC_NS], ns);
    assert_int_equal(msg.nrr[DNS_SEC_AR], ar);
}

/* ---- answers from the zone ------------------------------------------ */

static void test_exact(void **state)
{
    (void)state;
    ask("www.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_QR) && flag(DNS_F_AA) && flag(DNS_F_RD));
    assert_false(flag(DNS_F_TC) || flag(DNS_F_RA));
    assert_counts(2, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "www.example.test.", DNS_T_A, "192.0.2.80"), 300);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "www.example.test.", DNS_T_A, "192.0.2.81"), 300);
    assert_false(msg.has_edns);
    /* RD is copied, not invented. */
    qopt_t o = { .flags = DNS_F_CD };
    ask_o("example.test.", DNS_T_SOA, &o, &udp4);
    assert_false(flag(DNS_F_RD));
    assert_true(flag(DNS_F_AA) && flag(DNS_F_CD));
    assert_counts(1, 0, 0);
}

static void test_nxdomain(void **state)
{
    (void)state;
    ask("nx.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_true(flag(DNS_F_AA));
    assert_counts(0, 1, 0);
    /* RFC 2308 §5: min(SOA TTL 3600, MINIMUM 300). */
    assert_int_equal(rr_ttl(DNS_SEC_NS, "example.test.", DNS_T_SOA, NULL), 300);
    ask("nx.other.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_int_equal(rr_ttl(DNS_SEC_NS, "other.test.", DNS_T_SOA, NULL), 600);
}

static void test_nodata(void **state)
{
    (void)state;
    ask("www.example.test.", DNS_T_TXT);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(0, 1, 0);
    assert_int_equal(rr_ttl(DNS_SEC_NS, "example.test.", DNS_T_SOA, NULL), 300);
    /* Meta types and DNSSEC types in an unsigned zone: NODATA too. */
    ask("example.test.", DNS_T_RRSIG);
    assert_counts(0, 1, 0);
    ask("example.test.", DNS_T_MAILA);
    assert_counts(0, 1, 0);
}

static void test_cname(void **state)
{
    (void)state;
    ask("alias.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(3, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "alias.example.test.", DNS_T_CNAME, "www.example.test."), 3600);
    assert_int_equal(count(DNS_SEC_AN, "www.example.test.", DNS_T_A), 2);
    /* The CNAME itself when asked for. */
    ask("alias.example.test.", DNS_T_CNAME);
    assert_counts(1, 0, 0);
    /* A chain, in order. */
    ask("chain1.example.test.", DNS_T_AAAA);
    assert_counts(4, 0, 0);
    assert_int_equal(msg.rr[DNS_SEC_AN][0].type, DNS_T_CNAME);
    assert_int_equal(msg.rr[DNS_SEC_AN][2].type, DNS_T_CNAME);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "www.example.test.", DNS_T_AAAA, "2001:db8::80"), 3600);
    /* NODATA at the end of a chain. */
    ask("alias.example.test.", DNS_T_MX);
    assert_counts(1, 1, 0);
    assert_int_equal(rcode(), DNS_R_NOERROR);
}

static void test_cname_loop(void **state)
{
    (void)state;
    ask("loop1.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(2, 0, 0);
    ask("self.example.test.", DNS_T_A);
    assert_counts(1, 0, 0);
}

static void test_cname_leaves_zone(void **state)
{
    (void)state;
    /* Not followed into another zone, even one we serve. */
    ask("out.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    ask("far.example.test.", DNS_T_A);
    assert_counts(1, 0, 0);
    /* To a name that does not exist: RFC 6604 §3, the rcode of the end. */
    ask("dangling.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_counts(1, 1, 0);
}

static void test_cname_into_cut(void **state)
{
    (void)state;
    ask("tocut.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA)); /* the CNAME is ours */
    assert_counts(1, 2, 2);
    assert_int_equal(count(DNS_SEC_NS, "sub.example.test.", DNS_T_NS), 2);
    assert_int_equal(count(DNS_SEC_AR, "ns.sub.example.test.", 0), 2);
}

static void test_dname(void **state)
{
    (void)state;
    ask("a.dn.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(3, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "dn.example.test.", DNS_T_DNAME, "target.example.test."), 3600);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "a.dn.example.test.", DNS_T_CNAME, "a.target.example.test."), 3600);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "a.target.example.test.", DNS_T_A, "192.0.2.91"), 3600);
    /* The DNAME owner itself is not redirected. */
    ask("dn.example.test.", DNS_T_A);
    assert_counts(0, 1, 0);
    ask("dn.example.test.", DNS_T_DNAME);
    assert_counts(1, 0, 0);
    /* Synthesis then a CNAME in the target, then back. */
    ask("www.dn.example.test.", DNS_T_A);
    assert_counts(5, 0, 0);
    /* Synthesis to a name that does not exist. */
    ask("nope.dn.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_counts(2, 1, 0);
    /* Out of the zone: DNAME and CNAME, nothing followed. */
    ask("www.dnout.example.test.", DNS_T_A);
    assert_counts(2, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "www.dnout.example.test.", DNS_T_CNAME, "www.other.test."), 3600);
}

static void test_dname_too_long(void **state)
{
    (void)state;
    ask("x.dnlong.example.test.", DNS_T_A);
    /* RFC 6672 §2.2: YXDOMAIN, the DNAME shown, no CNAME. */
    assert_int_equal(rcode(), DNS_R_YXDOMAIN);
    assert_counts(1, 0, 0);
    assert_int_equal(count(DNS_SEC_AN, "dnlong.example.test.", DNS_T_DNAME), 1);
}

static void test_wildcard(void **state)
{
    (void)state;
    ask("foo.wild.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    /* RFC 4592 §3.3.1: the owner is the query name. */
    assert_int_equal(rr_ttl(DNS_SEC_AN, "foo.wild.example.test.", DNS_T_A, "192.0.2.99"), 3600);
    ask("a.b.wild.example.test.", DNS_T_TXT);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "a.b.wild.example.test.", DNS_T_TXT, "\"wild\""), 3600);
    /* NODATA from a wildcard. */
    ask("foo.wild.example.test.", DNS_T_AAAA);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(0, 1, 0);
    /* An existing name is not covered. */
    ask("real.wild.example.test.", DNS_T_TXT);
    assert_counts(0, 1, 0);
    /* The wildcard owner asked directly. */
    ask("*.wild.example.test.", DNS_T_A);
    assert_counts(1, 0, 0);
    /* MX synthesised, with additional addresses of its target. */
    ask("x.wmx.example.test.", DNS_T_MX);
    assert_counts(1, 0, 2);
}

static void test_wildcard_ent(void **state)
{
    (void)state;
    /* b.ent is an empty non-terminal: NODATA, and it blocks *.ent for
     * names below it (RFC 4592 §2.2.2). */
    ask("b.ent.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(0, 1, 0);
    ask("foo.b.ent.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
    assert_counts(0, 1, 0);
    ask("foo.ent.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "foo.ent.example.test.", DNS_T_A, "192.0.2.71"), 3600);
    ask("y.z.deep.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(0, 1, 0);
    ask("q.deep.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
}

static void test_wildcard_cname(void **state)
{
    (void)state;
    ask("foo.wc.example.test.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(3, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "foo.wc.example.test.", DNS_T_CNAME, "www.example.test."), 3600);
    ask("foo.wcout.example.test.", DNS_T_A);
    assert_counts(1, 0, 0);
    /* A CNAME into a wildcard. */
    ask("towild.example.test.", DNS_T_A);
    assert_counts(2, 0, 0);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "x.wild.example.test.", DNS_T_A, "192.0.2.99"), 3600);
    /* A CNAME into a DNAME. */
    ask("todname.example.test.", DNS_T_A);
    assert_counts(4, 0, 0);
}

static void test_referral(void **state)
{
    (void)state;
    static const char *names[] = { "host.sub.example.test.", "sub.example.test.",
                                   "ns.sub.example.test.", "a.b.sub.example.test." };
    for (int i = 0; i < 4; i++) {
        ask(names[i], DNS_T_A);
        assert_int_equal(rcode(), DNS_R_NOERROR);
        assert_false(flag(DNS_F_AA));
        assert_counts(0, 2, 2);
        assert_int_equal(rr_ttl(DNS_SEC_NS, "sub.example.test.", DNS_T_NS, "ns.sub.example.test."), 3600);
        assert_int_equal(rr_ttl(DNS_SEC_NS, "sub.example.test.", DNS_T_NS, "ns.other.test."), 3600);
        assert_int_equal(rr_ttl(DNS_SEC_AR, "ns.sub.example.test.", DNS_T_A, "192.0.2.150"), 3600);
        assert_int_equal(rr_ttl(DNS_SEC_AR, "ns.sub.example.test.", DNS_T_AAAA, "2001:db8::150"), 3600);
    }
    /* NS at the cut is a referral too. */
    ask("sub.example.test.", DNS_T_NS);
    assert_false(flag(DNS_F_AA));
    assert_counts(0, 2, 2);
    /* Sibling glue (ns1 is in the parent's authoritative data). */
    ask("x.nsonly.example.test.", DNS_T_A);
    assert_false(flag(DNS_F_AA));
    assert_counts(0, 1, 2);
}

static void test_ds_at_cut(void **state)
{
    (void)state;
    ask("sub.example.test.", DNS_T_DS);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    assert_int_equal(count(DNS_SEC_AN, "sub.example.test.", DNS_T_DS), 1);
    /* Below the cut DS is the child's: referral. */
    ask("x.sub.example.test.", DNS_T_DS);
    assert_false(flag(DNS_F_AA));
    /* A child zone we serve: DS from the parent (NODATA there). */
    ask("child.example.test.", DNS_T_DS);
    assert_true(flag(DNS_F_AA));
    assert_counts(0, 1, 0);
    assert_int_equal(rr_ttl(DNS_SEC_NS, "example.test.", DNS_T_SOA, NULL), 300);
    /* Other names of the child come from the child. */
    ask("www.child.example.test.", DNS_T_A);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    ask("child.example.test.", DNS_T_SOA);
    assert_counts(1, 0, 0);
    /* No parent served: the zone itself answers. */
    ask("other.test.", DNS_T_DS);
    assert_true(flag(DNS_F_AA));
    assert_int_equal(rr_ttl(DNS_SEC_NS, "other.test.", DNS_T_SOA, NULL), 600);
}

static void test_glue_truncation(void **state)
{
    (void)state;
    /* RFC 9471 §3: 13 in-domain servers' glue does not fit 512 octets. */
    ask("www.big.example.test.", DNS_T_A);
    assert_true(flag(DNS_F_TC));
    assert_false(flag(DNS_F_AA));
    qopt_t o = { .payload = 1232 };
    ask_o("www.big.example.test.", DNS_T_A, &o, &udp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(0, 13, 26); /* the OPT is not counted in nrr */
    assert_true(msg.has_edns);
    ask_o("www.big.example.test.", DNS_T_A, NULL, &tcp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(0, 13, 26);
}

static void test_additional(void **state)
{
    (void)state;
    ask("example.test.", DNS_T_MX);
    assert_counts(2, 0, 2); /* mail A and AAAA; mail.other.test is not ours */
    assert_int_equal(count(DNS_SEC_AR, "mail.example.test.", DNS_T_A), 1);
    assert_int_equal(count(DNS_SEC_AR, "mail.example.test.", DNS_T_AAAA), 1);
    ask("example.test.", DNS_T_NS);
    assert_counts(2, 0, 3);
    ask("_sip._tcp.example.test.", DNS_T_SRV);
    assert_counts(1, 0, 1);
    assert_int_equal(count(DNS_SEC_AR, "sip.example.test.", DNS_T_A), 1);
    /* Not required: what does not fit is left out without TC. */
    ask("manymx.example.test.", DNS_T_MX);
    assert_false(flag(DNS_F_TC));
    assert_int_equal(msg.nrr[DNS_SEC_AN], 4);
    assert_true(msg.nrr[DNS_SEC_AR] > 0);
    assert_true(rlen <= 512);
    ask_o("manymx.example.test.", DNS_T_MX, NULL, &tcp4);
    assert_int_equal(msg.nrr[DNS_SEC_AR], 4 * 5 + 4);
    /* Targets that are glue, covered by a wildcard (owner: the target),
     * or a CNAME (nothing). */
    ask("mxcut.example.test.", DNS_T_MX);
    assert_counts(1, 0, 2);
    assert_int_equal(count(DNS_SEC_AR, "ns.sub.example.test.", 0), 2);
    ask("mxwild.example.test.", DNS_T_MX);
    assert_counts(1, 0, 1);
    assert_int_equal(rr_ttl(DNS_SEC_AR, "foo.wild.example.test.", DNS_T_A, "192.0.2.99"), 3600);
    ask("mxcname.example.test.", DNS_T_MX);
    assert_counts(1, 0, 0);
}

static void test_any(void **state)
{
    (void)state;
    /* RFC 8482 §4.2: one RRset over UDP (the first in type order). */
    ask("multi.example.test.", DNS_T_ANY);
    assert_true(flag(DNS_F_AA));
    assert_counts(1, 0, 0);
    assert_int_equal(msg.rr[DNS_SEC_AN][0].type, DNS_T_A);
    ask_o("multi.example.test.", DNS_T_ANY, NULL, &tcp4);
    assert_int_equal(msg.nrr[DNS_SEC_AN], 4);
    assert_int_equal(count(DNS_SEC_AN, NULL, DNS_T_MX), 1);
    assert_int_equal(count(DNS_SEC_AR, "mail.example.test.", 0), 2);
    /* ANY at a CNAME: the CNAME, not followed. */
    ask("alias.example.test.", DNS_T_ANY);
    assert_counts(1, 0, 0);
    assert_int_equal(msg.rr[DNS_SEC_AN][0].type, DNS_T_CNAME);
    /* ANY at an empty non-terminal and a missing name. */
    ask("b.ent.example.test.", DNS_T_ANY);
    assert_counts(0, 1, 0);
    ask("nx.example.test.", DNS_T_ANY);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
}

static void test_refused(void **state)
{
    (void)state;
    ask("www.nowhere.invalid.", DNS_T_A);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    assert_false(flag(DNS_F_AA));
    assert_counts(0, 0, 0);
    assert_int_equal(msg.qdcount, 1);
    ask("test.", DNS_T_SOA);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    /* No zone set at all. */
    uint8_t q[512];
    size_t qlen = make_query(q, sizeof(q), "example.test.", DNS_T_SOA, NULL);
    rlen = process(NULL, q, qlen, &udp4, sizeof(reply));
    assert_true(rlen > DNS_HDR_LEN);
    assert_int_equal(DNS_F_RCODE(dns_get_u16(reply + 2)), DNS_R_REFUSED);
}

static void test_classes(void **state)
{
    (void)state;
    qopt_t o = { .qclass = DNS_C_CH };
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    o.qclass = DNS_C_NONE;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    o.qclass = DNS_C_HS;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    o.qclass = DNS_C_ANY; /* answered from IN, as Knot DNS does */
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(2, 0, 0);
}

static void test_chaos(void **state)
{
    (void)state;
    qopt_t o = { .qclass = DNS_C_CH };
    ask_o("id.server.", DNS_T_TXT, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED); /* not configured */
    cfg.id_server = "ns-a";
    cfg.version_server = "zonelet 1";
    static const char *ids[] = { "id.server.", "hostname.bind.", "ID.SERVER." };
    for (int i = 0; i < 3; i++) {
        ask_o(ids[i], DNS_T_TXT, &o, &udp4);
        assert_int_equal(rcode(), DNS_R_NOERROR);
        assert_counts(1, 0, 0);
        assert_int_equal(msg.rr[DNS_SEC_AN][0].rclass, DNS_C_CH);
        assert_int_equal(rr_ttl(DNS_SEC_AN, ids[i], DNS_T_TXT, "\"ns-a\""), 0);
    }
    ask_o("version.bind.", DNS_T_TXT, &o, &udp4);
    assert_int_equal(rr_ttl(DNS_SEC_AN, "version.bind.", DNS_T_TXT, "\"zonelet 1\""), 0);
    ask_o("version.server.", DNS_T_TXT, &o, &udp4);
    assert_counts(1, 0, 0);
    ask_o("version.server.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    ask_o("authors.bind.", DNS_T_TXT, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    /* IN class id.server is an ordinary name (no zone: REFUSED). */
    ask("id.server.", DNS_T_TXT);
    assert_int_equal(rcode(), DNS_R_REFUSED);
}

static void test_opcodes(void **state)
{
    (void)state;
    static const uint8_t ops[] = { DNS_OP_IQUERY, DNS_OP_STATUS, DNS_OP_NOTIFY,
                                   DNS_OP_UPDATE, DNS_OP_DSO, 15 };
    for (size_t i = 0; i < sizeof(ops); i++) {
        qopt_t o = { .opcode = ops[i] };
        ask_o("www.example.test.", DNS_T_A, &o, &udp4);
        assert_int_equal(rcode(), DNS_R_NOTIMP);
        assert_int_equal(DNS_F_OPCODE(msg.flags), ops[i]);
        assert_int_equal(msg.qdcount, 1);
        assert_counts(0, 0, 0);
    }
    ask("example.test.", DNS_T_AXFR);
    assert_int_equal(rcode(), DNS_R_NOTIMP);
    ask("example.test.", DNS_T_IXFR);
    assert_int_equal(rcode(), DNS_R_NOTIMP);
}

static void assert_formerr(const uint8_t *q, size_t qlen, bool question)
{
    rlen = process(zs, q, qlen, &udp4, 512);
    assert_true(rlen >= DNS_HDR_LEN);
    assert_int_equal(dns_get_u16(reply), dns_get_u16(q));
    assert_int_equal(DNS_F_RCODE(dns_get_u16(reply + 2)), DNS_R_FORMERR);
    assert_true(dns_get_u16(reply + 2) & DNS_F_QR);
    assert_int_equal(dns_get_u16(reply + 4), question ? 1 : 0);
    assert_int_equal(dns_get_u16(reply + 6), 0);
}

static void test_formerr(void **state)
{
    (void)state;
    uint8_t q[600];
    size_t qlen = make_query(q, sizeof(q), "www.example.test.", DNS_T_A, NULL);
    /* QDCOUNT 0 and 2. */
    dns_put_u16(q + 4, 0);
    assert_formerr(q, qlen, false);
    dns_put_u16(q + 4, 2);
    assert_formerr(q, qlen, false);
    dns_put_u16(q + 4, 1);
    /* Truncated question, and trailing garbage. */
    assert_formerr(q, qlen - 2, false);
    assert_formerr(q, 14, false);
    q[qlen] = 0;
    q[qlen + 1] = 0;
    assert_formerr(q, qlen + 2, true);
    /* OPT twice; OPT in the answer section. */
    static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
    memcpy(q + qlen, opt, 11);
    memcpy(q + qlen + 11, opt, 11);
    dns_put_u16(q + 10, 2);
    assert_formerr(q, qlen + 22, true);
    dns_put_u16(q + 10, 0);
    dns_put_u16(q + 6, 1);
    assert_formerr(q, qlen + 11, true);
    /* An OPT whose options overrun its RDATA. */
    static const uint8_t bad[15] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 9 };
    dns_put_u16(q + 6, 0);
    dns_put_u16(q + 10, 1);
    memcpy(q + qlen, bad, sizeof(bad));
    assert_formerr(q, qlen + sizeof(bad), true);
}

static void test_drop(void **state)
{
    (void)state;
    uint8_t q[512];
    size_t qlen = make_query(q, sizeof(q), "www.example.test.", DNS_T_A, NULL);
    q[2] |= 0x80; /* a response: never answered (no reflection loops) */
    assert_int_equal(process(zs, q, qlen, &udp4, 512), 0);
    q[2] &= 0x7f;
    assert_int_equal(process(zs, q, 11, &udp4, 512), 0);
    assert_int_equal(process(zs, q, 0, &udp4, 512), 0);
}

static void test_case_preserved(void **state)
{
    (void)state;
    uint8_t q[512];
    size_t qlen = make_query(q, sizeof(q), "WwW.ExAmPlE.tEsT.", DNS_T_A, NULL);
    answer_raw(q, qlen, &udp4);
    /* The question as sent, byte for byte, and owners pointing at it. */
    assert_memory_equal(reply + DNS_HDR_LEN, q + DNS_HDR_LEN, qlen - DNS_HDR_LEN);
    assert_memory_equal(msg.rr[DNS_SEC_AN][0].owner, "\3WwW\7ExAmPlE\4tEsT", 18);
    assert_memory_equal(msg.qname, "\3WwW\7ExAmPlE\4tEsT", 18);
    /* A wildcard answer keeps the query's spelling too. */
    ask("FoO.WiLd.example.test.", DNS_T_A);
    assert_memory_equal(msg.rr[DNS_SEC_AN][0].owner, "\3FoO\4WiLd", 9);
    ask("mixed.example.test.", DNS_T_A);
    assert_counts(1, 0, 0);
}

static void test_truncation(void **state)
{
    (void)state;
    /* 512 without EDNS: the TXT RRset (about 700 octets) is dropped whole. */
    ask("txt.example.test.", DNS_T_TXT);
    assert_true(flag(DNS_F_TC));
    assert_true(flag(DNS_F_AA));
    assert_counts(0, 0, 0);
    assert_true(rlen <= 512);
    /* A payload below 512 counts as 512 (RFC 6891 §6.2.5). */
    qopt_t o = { .payload = 100 };
    ask_o("txt.example.test.", DNS_T_TXT, &o, &udp4);
    assert_true(flag(DNS_F_TC));
    assert_true(rlen <= 512);
    assert_counts(0, 0, 0);
    o.payload = 1232;
    ask_o("txt.example.test.", DNS_T_TXT, &o, &udp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(3, 0, 0);
    /* The smaller of the client's size and ours. */
    o.payload = 4096;
    ask_o("huge.example.test.", DNS_T_TXT, &o, &udp4);
    assert_true(flag(DNS_F_TC));
    assert_true(rlen <= 1232);
    assert_int_equal(msg.edns.udp_size, 1232);
    cfg.udp_max = 4096;
    ask_o("huge.example.test.", DNS_T_TXT, &o, &udp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(6, 0, 0);
    assert_int_equal(msg.edns.udp_size, 4096);
    /* TCP: up to 65535. */
    cfg.udp_max = 1232;
    ask_o("huge.example.test.", DNS_T_TXT, NULL, &tcp4);
    assert_false(flag(DNS_F_TC));
    assert_counts(6, 0, 0);
    /* The caller's buffer bounds the reply too. */
    uint8_t q[512];
    size_t qlen = make_query(q, sizeof(q), "huge.example.test.", DNS_T_TXT, &o);
    rlen = process(zs, q, qlen, &tcp4, 600);
    assert_true(rlen > DNS_HDR_LEN && rlen <= 600);
    assert_true(dns_get_u16(reply + 2) & DNS_F_TC);
}

static void test_edns(void **state)
{
    (void)state;
    qopt_t o = { .payload = 4096, .dnssec = true };
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_true(msg.has_edns);
    assert_int_equal(msg.edns.version, 0);
    assert_int_equal(msg.edns.udp_size, 1232);
    assert_true(msg.edns.flags & DNS_EDNS_DO); /* echoed, as Knot DNS does */
    assert_int_equal(msg.edns.opts_len, 0);
    assert_counts(2, 0, 0);
    o.dnssec = false;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_false(msg.edns.flags & DNS_EDNS_DO);
    /* An OPT in a negative answer and a referral too. */
    ask_o("nx.example.test.", DNS_T_A, &o, &udp4);
    assert_true(msg.has_edns);
    assert_int_equal(rcode(), DNS_R_NXDOMAIN);
}

static void test_badvers(void **state)
{
    (void)state;
    qopt_t o = { .payload = 1232, .version = 1 };
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_BADVERS);
    assert_int_equal(DNS_F_RCODE(msg.flags), 0);
    assert_int_equal(msg.edns.ext_rcode, 1);
    assert_int_equal(msg.edns.version, 0);
    assert_int_equal(msg.nrr[DNS_SEC_AN], 0);
    assert_false(flag(DNS_F_AA));
}

static const uint8_t nsid_req[4] = { 0, 3, 0, 0 };

static bool find_opt(uint16_t code, const uint8_t **d, uint16_t *len)
{
    return msg.has_edns && dns_edns_opt_find(&msg.edns, code, d, len) == ZL_OK;
}

static void test_nsid(void **state)
{
    (void)state;
    const uint8_t *d;
    uint16_t len;
    qopt_t o = { .payload = 1232, .opts = nsid_req, .opts_len = 4 };
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_false(find_opt(DNS_EO_NSID, &d, &len)); /* not configured */
    cfg.nsid = (const uint8_t *)"ns-a.1";
    cfg.nsid_len = 6;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_true(find_opt(DNS_EO_NSID, &d, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(d, "ns-a.1", 6);
    /* Also on errors the OPT carries it (BADVERS). */
    o.version = 1;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_true(find_opt(DNS_EO_NSID, &d, &len));
    /* Not requested: not sent. */
    qopt_t p = { .payload = 1232 };
    ask_o("www.example.test.", DNS_T_A, &p, &udp4);
    assert_false(find_opt(DNS_EO_NSID, &d, &len));
}

static void test_cookies(void **state)
{
    (void)state;
    static const uint8_t cc[8] = { 0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57 };
    static const uint8_t secret[16] = { 0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
                                        0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf };
    uint8_t opt[4 + 48] = { 0 };
    dns_put_u16(opt, DNS_EO_COOKIE);
    dns_put_u16(opt + 2, 8);
    memcpy(opt + 4, cc, 8);
    qopt_t o = { .payload = 1232, .opts = opt, .opts_len = 12 };
    const uint8_t *d;
    uint16_t len;
    /* Off: the option is ignored. */
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_false(find_opt(DNS_EO_COOKIE, &d, &len));
    cfg.cookies = true;
    memcpy(cfg.cookie_secret, secret, 16);
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(2, 0, 0);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_int_equal(len, 24);
    /* RFC 9018 Appendix A.1, byte for byte. */
    static const uint8_t want[24] = {
        0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57, 0x01, 0x00, 0x00, 0x00,
        0x5c, 0xf7, 0x9f, 0x11, 0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2, 0x94, 0x80 };
    assert_memory_equal(d, want, 24);
    /* Sent back with our server cookie: valid, answered. */
    dns_put_u16(opt + 2, 24);
    memcpy(opt + 4, want, 24);
    o.opts_len = 28;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_counts(2, 0, 0);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_memory_equal(d, want, 24);
    assert_int_equal(dns_cookie_check(secret, want, 24, udp4.addr, 4, NOW), DNS_COOKIE_GOOD);
    /* Ours and under half an hour old: sent back unchanged; older:
     * renewed with the current time (RFC 9018 §4.3). */
    dns_cookie_server(secret, cc, udp4.addr, 4, NOW - 100, opt + 12);
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_memory_equal(d, opt + 4, 24);
    dns_cookie_server(secret, cc, udp4.addr, 4, NOW - 2000, opt + 12);
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_memory_equal(d, want, 24);
    memcpy(opt + 4, want, 24);
    /* A server cookie that is not ours: a fresh one, no BADCOOKIE. */
    opt[4 + 20] ^= 0xff;
    ask_o("www.example.test.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_memory_equal(d, want, 24);
    /* Malformed lengths: FORMERR (RFC 7873 §5.2.2). */
    static const uint16_t badlen[] = { 0, 5, 9, 15, 41 };
    for (size_t i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++) {
        dns_put_u16(opt + 2, badlen[i]);
        o.opts_len = (uint16_t)(4 + badlen[i]);
        ask_o("www.example.test.", DNS_T_A, &o, &udp4);
        assert_int_equal(rcode(), DNS_R_FORMERR);
        assert_counts(0, 0, 0);
        assert_true(msg.has_edns);
        assert_false(find_opt(DNS_EO_COOKIE, &d, &len));
    }
    /* IPv6 clients hash 16 octets of address. */
    srv_client_t v6 = { .family = 6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    dns_put_u16(opt + 2, 8);
    memcpy(opt + 4, cc, 8);
    o.opts_len = 12;
    ask_o("www.example.test.", DNS_T_A, &o, &v6);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_int_equal(dns_cookie_check(secret, d, len, v6.addr, 16, NOW), DNS_COOKIE_GOOD);
    assert_int_equal(dns_cookie_check(secret, d, len, udp4.addr, 4, NOW), DNS_COOKIE_BAD);
    /* Stale after an hour. */
    assert_int_equal(dns_cookie_check(secret, d, len, v6.addr, 16, NOW + 3601), DNS_COOKIE_BAD);
}

/* RFC 6891 §6.1.1: a request with an OPT gets an OPT back on every error
 * path whose OPT could be read; a malformed or repeated OPT gets none. */
static void test_opt_on_errors(void **state)
{
    (void)state;
    uint8_t q[600];
    qopt_t o = { .payload = 1232, .dnssec = true };
    size_t qlen = make_query(q, sizeof(q), "www.example.test.", DNS_T_A, &o);
    /* FORMERR: no question (and no cookie), trailing garbage. */
    {
        uint8_t c[64];
        dns_msgb_t b;
        dns_edns_t e = { .udp_size = 1232, .flags = DNS_EDNS_DO };
        dns_msgb_init(&b, c, sizeof(c), 0x4241, 0);
        assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
        answer_raw(c, dns_msgb_finish(&b), &udp4);
        assert_int_equal(rcode(), DNS_R_FORMERR);
        assert_true(msg.has_edns);
        assert_true(msg.edns.flags & DNS_EDNS_DO);
        assert_int_equal(msg.qdcount, 0);
    }
    q[qlen] = 0xff;
    answer_raw(q, qlen + 1, &udp4);
    assert_int_equal(rcode(), DNS_R_FORMERR);
    assert_true(msg.has_edns);
    assert_int_equal(msg.qdcount, 1);
    /* Two questions, then the OPT: FORMERR with OPT (RFC 9619). */
    {
        uint8_t c[600];
        size_t hq = make_query(c, sizeof(c), "www.example.test.", DNS_T_A, NULL);
        size_t ql = hq - DNS_HDR_LEN;
        memcpy(c + hq, c + DNS_HDR_LEN, ql);           /* the question again */
        memcpy(c + hq + ql, q + qlen - 11, 11);        /* the query's OPT */
        dns_put_u16(c + 4, 2);
        dns_put_u16(c + 10, 1);
        answer_raw(c, hq + ql + 11, &udp4);
        assert_int_equal(rcode(), DNS_R_FORMERR);
        assert_true(msg.has_edns);
        assert_int_equal(msg.qdcount, 0);
    }
    /* NOTIMP and REFUSED carry it too. */
    qopt_t n = { .payload = 1232, .opcode = DNS_OP_STATUS };
    ask_o("www.example.test.", DNS_T_A, &n, &udp4);
    assert_int_equal(rcode(), DNS_R_NOTIMP);
    assert_true(msg.has_edns);
    ask_o("www.nowhere.invalid.", DNS_T_A, &o, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    assert_true(msg.has_edns);
    qopt_t ch = { .payload = 1232, .qclass = DNS_C_CH };
    ask_o("authors.bind.", DNS_T_TXT, &ch, &udp4);
    assert_int_equal(rcode(), DNS_R_REFUSED);
    assert_true(msg.has_edns);
    /* A repeated OPT, or options overrunning the RDATA: no OPT back. */
    static const uint8_t opt[11] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
    memcpy(q + qlen, opt, 11);
    dns_put_u16(q + 10, 2);
    answer_raw(q, qlen + 11, &udp4);
    assert_int_equal(rcode(), DNS_R_FORMERR);
    assert_false(msg.has_edns);
    static const uint8_t bad[15] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 3, 0, 9 };
    size_t plain = make_query(q, sizeof(q), "www.example.test.", DNS_T_A, NULL);
    memcpy(q + plain, bad, sizeof(bad));
    dns_put_u16(q + 10, 1);
    answer_raw(q, plain + sizeof(bad), &udp4);
    assert_int_equal(rcode(), DNS_R_FORMERR);
    assert_false(msg.has_edns);
}

/* RFC 7873 §5.4: a QUERY without a question fetches a server cookie. */
static void test_cookie_only(void **state)
{
    (void)state;
    static const uint8_t secret[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const uint8_t cc[8] = { 0xc0, 0x0c, 0x1e, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c };
    uint8_t q[128], opt[4 + 24];
    const uint8_t *d;
    uint16_t len;
    dns_put_u16(opt, DNS_EO_COOKIE);
    dns_put_u16(opt + 2, 8);
    memcpy(opt + 4, cc, 8);
    dns_msgb_t b;
    dns_edns_t e = { .udp_size = 1232, .opts = opt, .opts_len = 12 };
    dns_msgb_init(&b, q, sizeof(q), 0x7777, 0);
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    size_t qlen = dns_msgb_finish(&b);
    /* Cookies off: FORMERR, with an OPT. */
    answer_raw(q, qlen, &udp4);
    assert_int_equal(rcode(), DNS_R_FORMERR);
    assert_true(msg.has_edns);
    cfg.cookies = true;
    memcpy(cfg.cookie_secret, secret, 16);
    /* A client cookie alone: NOERROR, no question, a server cookie. */
    answer_raw(q, qlen, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_int_equal(msg.qdcount, 0);
    assert_counts(0, 0, 0);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_int_equal(len, 24);
    assert_memory_equal(d, cc, 8);
    assert_int_equal(dns_cookie_check(secret, d, len, udp4.addr, 4, NOW), DNS_COOKIE_GOOD);
    /* Its valid server cookie sent back: NOERROR, the same cookie. */
    uint8_t good[24];
    memcpy(good, d, 24);
    dns_put_u16(opt + 2, 24);
    memcpy(opt + 4, good, 24);
    e.opts_len = 28;
    dns_msgb_init(&b, q, sizeof(q), 0x7778, 0);
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    qlen = dns_msgb_finish(&b);
    answer_raw(q, qlen, &udp4);
    assert_int_equal(rcode(), DNS_R_NOERROR);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_memory_equal(d, good, 24);
    /* An invalid server cookie: BADCOOKIE with a fresh one. */
    q[qlen - 1] ^= 0x55;
    answer_raw(q, qlen, &udp4);
    assert_int_equal(rcode(), DNS_R_BADCOOKIE);
    assert_true(find_opt(DNS_EO_COOKIE, &d, &len));
    assert_int_equal(dns_cookie_check(secret, d, len, udp4.addr, 4, NOW), DNS_COOKIE_GOOD);
    /* Another opcode without a question is still FORMERR. */
    q[2] = DNS_OP_NOTIFY << 3;
    answer_raw(q, qlen, &udp4);
    assert_int_equal(rcode(), DNS_R_FORMERR);
    assert_true(msg.has_edns);
}

/* Every fixture name x common types x transports: the reply parses, fits
 * its limit, echoes ID and question, and has TC only when over UDP. */
static void test_sweep(void **state)
{
    (void)state;
    static const char *names[] = {
        "example.test.", "www.example.test.", "nx.example.test.", "alias.example.test.",
        "chain1.example.test.", "loop1.example.test.", "foo.wild.example.test.",
        "b.ent.example.test.", "foo.wc.example.test.", "a.dn.example.test.",
        "x.dnlong.example.test.", "host.sub.example.test.", "www.big.example.test.",
        "txt.example.test.", "huge.example.test.", "manymx.example.test.", "multi.example.test.",
        "child.example.test.", "www.child.example.test.", "other.test.", "nowhere.invalid.",
    };
    static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_NS,
                                      DNS_T_SOA, DNS_T_CNAME, DNS_T_DS, DNS_T_ANY, DNS_T_SRV };
    static const uint16_t payloads[] = { 0, 512, 1232, 4096 };
    cfg.nsid = (const uint8_t *)"sweep";
    cfg.nsid_len = 5;
    cfg.cookies = true;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
            for (size_t p = 0; p < 5; p++) {
                const srv_client_t *cl = p == 4 ? &tcp4 : &udp4;
                qopt_t o = { .payload = p == 4 ? 1232 : payloads[p] };
                ask_o(names[i], types[t], &o, cl);
                size_t limit = p == 4 ? 65535 : o.payload > 1232 ? 1232 : o.payload < 512 ? 512 : o.payload;
                assert_true(rlen <= limit);
                assert_int_equal(msg.qdcount, 1);
                assert_int_equal(msg.qtype, types[t]);
                if (cl->tcp)
                    assert_false(flag(DNS_F_TC));
                assert_int_equal(msg.has_edns, o.payload != 0);
            }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset_cfg)
    const struct CMUnitTest tests[] = {
        T(test_exact), T(test_nxdomain), T(test_nodata), T(test_cname), T(test_cname_loop),
        T(test_cname_leaves_zone), T(test_cname_into_cut), T(test_dname),
        T(test_dname_too_long), T(test_wildcard), T(test_wildcard_ent),
        T(test_wildcard_cname), T(test_referral), T(test_ds_at_cut),
        T(test_glue_truncation), T(test_additional), T(test_any), T(test_refused),
        T(test_classes), T(test_chaos), T(test_opcodes), T(test_formerr), T(test_drop),
        T(test_case_preserved), T(test_truncation), T(test_edns), T(test_badvers),
        T(test_nsid), T(test_cookies), T(test_opt_on_errors), T(test_cookie_only),
        T(test_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
