/* The message layer's UPDATE and NOTIFY modules (unikernel/update.c,
 * notify.c) over srv_process, with a fake change path: the zone section
 * rules (RFC 2136 §3.1), who may change what (RFC 2136 §3.3, RFC 8945
 * §5.2), the deferred reply and its TSIG (RFC 8945 §5.3), NOTIFY in
 * (RFC 1996). The change path itself is tested in test_writer.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/process.h"
#include "zone/keys.h"
#include "tests/zone/answer_fixture.h"

#define NOW 1764547200u

static zone_set_t *zs;
static zone_keyring_t *keys;
static srv_msg_cfg_t cfg;
static srv_client_t udp4 = {.family = 4, .addr = {127, 0, 0, 1}, .port = 5353};

/* The fake change path: keeps the last pending UPDATE and reload. */
static srv_pending_t *pending;
static int reloads;
static uint8_t reloaded[DNS_NAME_MAX];
static uint8_t delivered[4096];
static size_t ndelivered;

static int fake_update(void *self, srv_pending_t *p)
{
    (void)self;
    pending = p;
    return 0;
}

static void fake_reload(void *self, const uint8_t *origin, const char *who)
{
    (void)self;
    (void)who;
    reloads++;
    dns_name_copy(reloaded, origin);
}

static void fake_deliver(void *transport, const srv_route_t *route, const uint8_t *msg, size_t len)
{
    (void)transport;
    (void)route;
    memcpy(delivered, msg, len);
    ndelivered = len;
}

static const srv_changes_t changes = {.update = fake_update, .reload = fake_reload};
static const srv_route_t route = {.deliver = fake_deliver};

static zone_key_t key(const char *arg)
{
    zone_key_t k;
    const char *why;
    assert_int_equal(zone_key_from_arg(arg, &k, &why), ZL_OK);
    return k;
}

#define K_UPD "ddns._update.example.test:hmac-sha256:c2VjcmV0LXVwZGF0ZS1rZXktZm9yLXRlc3Rz"
#define K_XFR "x._transfer.example.test:hmac-sha1:c2VjcmV0LXRyYW5zZmVyLWtleQ=="
#define K_NTF "n._notify.example.test:hmac-md5:c2VjcmV0LW5vdGlmeS1rZXk="
#define K_OTH "o._update.other.test:hmac-sha256:c2VjcmV0LW90aGVyLXpvbmU="

static int setup(void **state)
{
    (void)state;
    if (answer_fixture_load(&zs) != ZL_OK)
        return -1;
    keys = zone_keyring_new();
    const char *all[] = {K_UPD, K_XFR, K_NTF, K_OTH};
    for (int i = 0; i < 4; i++) {
        zone_key_t k = key(all[i]);
        if (zone_keyring_add(keys, &k) != ZL_OK)
            return -1;
    }
    srv_msg_cfg_init(&cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    zone_set_free(zs);
    zone_keyring_free(keys);
    return 0;
}

/* A request of opcode op for zone with one update record (an A at
 * name), signed with k when k is not NULL (tc keeps the exchange). */
static size_t request(uint8_t *buf, size_t cap, int op, const char *zone, const char *name,
                      const zone_key_t *k, dns_tsig_ctx_t *tc, uint64_t when)
{
    uint8_t zn[DNS_NAME_MAX], rn[DNS_NAME_MAX];
    assert_true(dns_name_from_text(zone, strlen(zone), NULL, zn) > 0);
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, 0x4321, (uint16_t)(op << 11));
    assert_int_equal(dns_msgb_question(&b, zn, DNS_T_SOA, DNS_C_IN), ZL_OK);
    if (name) {
        static const uint8_t a[4] = {192, 0, 2, 77};
        assert_true(dns_name_from_text(name, strlen(name), NULL, rn) > 0);
        assert_int_equal(dns_msgb_rr(&b, DNS_SEC_NS, rn, DNS_T_A, DNS_C_IN, 300, a, 4), ZL_OK);
    }
    size_t len = dns_msgb_finish(&b);
    memset(tc, 0, sizeof *tc);
    if (k) {
        dns_tsig_client_init(tc, &k->tsig);
        assert_int_equal(dns_tsig_sign(tc, buf, &len, cap, when), ZL_OK);
    }
    return len;
}

/* srv_process; returns the rcode of an immediate reply, or -1 for
 * SRV_DEFER (pending set), and parses the reply's header. */
static int process(const uint8_t *q, size_t qlen, bool with_changes, uint8_t *reply, size_t *rlen)
{
    srv_ctx_t ctx = {.zones = zs, .keys = keys, .cfg = &cfg, .route = &route,
                     .changes = with_changes ? &changes : NULL};
    srv_out_t out = {.buf = reply, .cap = 4096};
    pending = NULL;
    srv_result_t r = srv_process(&ctx, q, qlen, &udp4, NOW, &out);
    if (r == SRV_DEFER)
        return -1;
    assert_int_equal(r, SRV_REPLY);
    *rlen = out.len;
    return DNS_F_RCODE(dns_get_u16(reply + 2));
}

static void test_update_refusals(void **state)
{
    (void)state;
    uint8_t q[1024], r[4096];
    size_t rlen;
    dns_tsig_ctx_t tc;
    zone_key_t upd = key(K_UPD), xfr = key(K_XFR), oth = key(K_OTH);
    /* §3.3: unsigned, a key without update rights, another zone's key. */
    size_t n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", NULL, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_REFUSED);
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &xfr, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_REFUSED);
    dns_query_t dq;
    (void)dns_query_parse(&dq, r, rlen);
    assert_int_equal(dns_tsig_verify_response(&tc, r, rlen, dq.tsig_off, NOW), ZL_OK);
    dns_tsig_ctx_clear(&tc);
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &oth, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_REFUSED);
    /* §3.1.1: a zone we do not serve, the zone section not SOA. */
    n = request(q, sizeof q, DNS_OP_UPDATE, "nowhere.test.", NULL, &upd, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOTAUTH);
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", NULL, NULL, &tc, NOW);
    dns_put_u16(q + 12 + 14, DNS_T_A);   /* the zone section's type: \7example\4test\0 */
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_FORMERR);
    /* RFC 8945 §5.2: time skew, wrong secret: NOTAUTH. */
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &upd, &tc, NOW - 1000);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOTAUTH);
    zone_key_t bad = upd;
    bad.tsig.secret[0] ^= 1;
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &bad, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOTAUTH);
    /* No change path (a server that cannot change zones): refused. */
    n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &upd, &tc, NOW);
    assert_int_equal(process(q, n, false, r, &rlen), DNS_R_REFUSED);
}

static void test_update_deferred_and_signed(void **state)
{
    (void)state;
    uint8_t q[1024], r[4096];
    size_t rlen;
    dns_tsig_ctx_t tc;
    zone_key_t upd = key(K_UPD);
    size_t n = request(q, sizeof q, DNS_OP_UPDATE, "example.test.", "a.example.test.", &upd, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), -1);
    assert_non_null(pending);
    const dns_msg_t *m = srv_pending_msg(pending);
    assert_int_equal(m->nrr[DNS_SEC_NS], 1);
    assert_string_equal(srv_pending_who(pending), "key ddns._update.example.test. from 127.0.0.1");
    /* The change path answers later: the reply is signed for the request. */
    ndelivered = 0;
    srv_pending_done(pending, DNS_R_YXRRSET, NOW + 2);
    assert_true(ndelivered > DNS_HDR_LEN);
    assert_int_equal(dns_get_u16(delivered), 0x4321);
    assert_int_equal(DNS_F_OPCODE(dns_get_u16(delivered + 2)), DNS_OP_UPDATE);
    assert_int_equal(DNS_F_RCODE(dns_get_u16(delivered + 2)), DNS_R_YXRRSET);
    assert_int_equal(dns_get_u16(delivered + 4), 1);   /* the zone section */
    assert_int_equal(dns_get_u16(delivered + 8), 0);   /* no updates echoed */
    dns_query_t dq;
    (void)dns_query_parse(&dq, delivered, ndelivered);
    assert_true(dq.tsig_off > 0);
    assert_int_equal(dns_tsig_verify_response(&tc, delivered, ndelivered, dq.tsig_off, NOW + 2), ZL_OK);
    dns_tsig_ctx_clear(&tc);
}

static void test_notify_in(void **state)
{
    (void)state;
    uint8_t q[1024], r[4096];
    size_t rlen;
    dns_tsig_ctx_t tc;
    zone_key_t ntf = key(K_NTF), oth = key(K_OTH);
    reloads = 0;
    size_t n = request(q, sizeof q, DNS_OP_NOTIFY, "example.test.", NULL, NULL, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_REFUSED);
    n = request(q, sizeof q, DNS_OP_NOTIFY, "example.test.", NULL, &oth, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_REFUSED);
    n = request(q, sizeof q, DNS_OP_NOTIFY, "nowhere.test.", NULL, &ntf, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOTAUTH);
    assert_int_equal(reloads, 0);
    n = request(q, sizeof q, DNS_OP_NOTIFY, "example.test.", NULL, &ntf, &tc, NOW);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOERROR);
    assert_int_equal(reloads, 1);
    assert_true(dns_name_equal(reloaded, (const uint8_t *)"\7example\4test"));
    assert_true(dns_get_u16(r + 2) & DNS_F_AA);
    dns_query_t dq;
    (void)dns_query_parse(&dq, r, rlen);
    assert_int_equal(dns_tsig_verify_response(&tc, r, rlen, dq.tsig_off, NOW), ZL_OK);
    dns_tsig_ctx_clear(&tc);
}

/* RFC 6891 §6.1.1 on the deferred path too: an UPDATE with an OPT that
 * the store could not make durable gets SERVFAIL with an OPT. */
static void test_update_servfail_keeps_opt(void **state)
{
    (void)state;
    uint8_t q[1024], r[4096];
    size_t rlen;
    dns_tsig_ctx_t tc;
    zone_key_t upd = key(K_UPD);
    uint8_t zn[DNS_NAME_MAX];
    dns_name_from_text("example.test.", 13, NULL, zn);
    dns_msgb_t b;
    dns_msgb_init(&b, q, sizeof q, 0x4321, DNS_OP_UPDATE << 11);
    assert_int_equal(dns_msgb_question(&b, zn, DNS_T_SOA, DNS_C_IN), ZL_OK);
    dns_edns_t e = {.udp_size = 1232, .flags = DNS_EDNS_DO};
    assert_int_equal(dns_msgb_opt(&b, &e), ZL_OK);
    size_t n = dns_msgb_finish(&b);
    memset(&tc, 0, sizeof tc);
    dns_tsig_client_init(&tc, &upd.tsig);
    assert_int_equal(dns_tsig_sign(&tc, q, &n, sizeof q, NOW), ZL_OK);
    assert_int_equal(process(q, n, true, r, &rlen), -1);
    ndelivered = 0;
    srv_pending_done(pending, DNS_R_SERVFAIL, NOW);
    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    assert_int_equal(dns_msg_parse(&m, delivered, ndelivered, &a), ZL_OK);
    assert_int_equal(DNS_F_RCODE(m.flags), DNS_R_SERVFAIL);
    assert_true(m.has_edns);
    assert_true(m.edns.flags & DNS_EDNS_DO);
    assert_int_equal(dns_tsig_verify_response(&tc, delivered, ndelivered, m.tsig_off, NOW), ZL_OK);
    dns_arena_free(&a);
    dns_tsig_ctx_clear(&tc);
}

/* RFC 8945 on ordinary queries (certbot signs its SOA queries, RD=0,
 * and wants AA): answered and signed; an unknown key: NOTAUTH BADKEY,
 * unsigned (§5.3.2). (Algorithm names in any case: test_tsig.) */
static void test_signed_query(void **state)
{
    (void)state;
    uint8_t q[1024], r[4096];
    size_t rlen;
    dns_tsig_ctx_t tc;
    zone_key_t upd = key(K_UPD);
    uint8_t zn[DNS_NAME_MAX];
    dns_name_from_text("example.test.", 13, NULL, zn);
    dns_msgb_t b;
    dns_msgb_init(&b, q, sizeof q, 0x2222, 0);
    assert_int_equal(dns_msgb_question(&b, zn, DNS_T_SOA, DNS_C_IN), ZL_OK);
    size_t n = dns_msgb_finish(&b);
    memset(&tc, 0, sizeof tc);
    dns_tsig_client_init(&tc, &upd.tsig);
    assert_int_equal(dns_tsig_sign(&tc, q, &n, sizeof q, NOW), ZL_OK);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOERROR);
    assert_true(dns_get_u16(r + 2) & DNS_F_AA);
    assert_int_equal(dns_get_u16(r + 6), 1);
    dns_query_t dq;
    (void)dns_query_parse(&dq, r, rlen);
    assert_int_equal(dns_tsig_verify_response(&tc, r, rlen, dq.tsig_off, NOW), ZL_OK);
    dns_tsig_ctx_clear(&tc);
    size_t plain = dns_msgb_finish(&b);
    /* An unknown key: NOTAUTH, TSIG error BADKEY, empty MAC. */
    zone_key_t other = key("nobody._update.example.test:hmac-sha256:c2VjcmV0");
    memset(&tc, 0, sizeof tc);
    dns_tsig_client_init(&tc, &other.tsig);
    n = plain;
    assert_int_equal(dns_tsig_sign(&tc, q, &n, sizeof q, NOW), ZL_OK);
    assert_int_equal(process(q, n, true, r, &rlen), DNS_R_NOTAUTH);
    (void)dns_query_parse(&dq, r, rlen);
    assert_int_equal(dns_tsig_verify_response(&tc, r, rlen, dq.tsig_off, NOW), ZL_EDENIED);
    assert_int_equal(tc.peer_error, DNS_TSIG_BADKEY);
    assert_int_equal(dns_get_u16(r + 6), 0);   /* no answer */
    dns_tsig_ctx_clear(&tc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_refusals),
        cmocka_unit_test(test_update_deferred_and_signed),
        cmocka_unit_test(test_notify_in),
        cmocka_unit_test(test_update_servfail_keeps_opt),
        cmocka_unit_test(test_signed_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
