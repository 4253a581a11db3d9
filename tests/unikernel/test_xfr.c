/* Zone transfers out (unikernel/xfr.c) over srv_process: who may
 * transfer (RFC 5936 §6 by key or address), AXFR in one and in many
 * messages each signed (RFC 8945 §5.3.1), IXFR from the journal a
 * version carries (RFC 1995: condensed change, current client, unknown
 * serial), and over UDP (one message, or the SOA alone). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/process.h"
#include "zone/apply.h"
#include "zone/journal.h"
#include "zone/keys.h"
#include "zone/parse.h"

#define NOW 1764547200u
#define K_XFR "x._transfer.xfr.test:hmac-sha256:c2VjcmV0LXRyYW5zZmVyLWtleS1mb3ItdGVzdHM="
#define K_UPD "u._update.xfr.test:hmac-sha512:c2VjcmV0LXVwZGF0ZS1rZXk="
#define K_NTF "n._notify.xfr.test:hmac-sha256:c2VjcmV0LW5vdGlmeS1rZXk="
#define K_OTH "o._transfer.other.test:hmac-sha256:c2VjcmV0LW90aGVyLXpvbmU="

static zone_set_t *zs;
static zone_keyring_t *keys;
static srv_msg_cfg_t cfg;
static srv_cidr_t allow;
static zone_t *v1;            /* xfr.test after one change (serial 2) */
static srv_client_t tcp4 = {.family = 4, .addr = {127, 0, 0, 1}, .port = 5353, .tcp = true};
static srv_client_t udp4 = {.family = 4, .addr = {127, 0, 0, 1}, .port = 5353};
static srv_client_t allowed = {.family = 4, .addr = {192, 0, 2, 9}, .port = 5353, .tcp = true};

static int add_rec(void *ctx, const dns_rr_t *rr)
{
    return zone_builder_add(ctx, rr, NULL);
}

/* A zone from text: the SOA, NS, and `n` TXT records of ~200 octets. */
static zone_t *make_zone(const char *origin_text, unsigned serial, unsigned n)
{
    size_t cap = 4096 + (size_t)n * 260;
    char *text = malloc(cap);
    int len = snprintf(text, cap, "$ORIGIN %s\n@ 3600 IN SOA ns hm %u 2 3 4 5\n@ 3600 IN NS ns\n"
                                  "ns 3600 IN A 192.0.2.1\nwww 300 IN A 192.0.2.80\n",
                       origin_text, serial);
    for (unsigned i = 0; i < n; i++)
        len += snprintf(text + len, cap - (size_t)len,
                        "t%u 300 IN TXT \"%0200u\"\n", i, i);
    uint8_t origin[DNS_NAME_MAX];
    assert_true(dns_name_from_text(origin_text, strlen(origin_text), NULL, origin) > 0);
    zone_builder_t *b = zone_builder_new(origin);
    zone_parse_opts_t o = {.origin = origin};
    assert_int_equal(zone_parse_text(text, (size_t)len, "test", &o, add_rec, b, NULL), ZL_OK);
    zone_t *z = NULL;
    assert_int_equal(zone_builder_finish(b, &z, NULL), ZL_OK);
    free(text);
    return z;
}

/* The SOA of z with another serial, as a record into rd. */
static dns_rr_t soa_with(const zone_t *z, uint32_t serial, uint8_t *rd)
{
    const zone_rrset_t *s = zone_soa(z);
    uint16_t len;
    const uint8_t *p = zone_rrset_rdata(s, 0, &len);
    memcpy(rd, p, len);
    dns_put_u32(rd + len - 20, serial);
    return (dns_rr_t){.owner = zone_origin(z), .type = DNS_T_SOA, .rclass = DNS_C_IN,
                      .ttl = s->ttl, .rdata = rd, .rdlen = len};
}

static int setup(void **state)
{
    (void)state;
    zone_t *v0 = make_zone("xfr.test.", 1, 10), *big = make_zone("big.test.", 7, 2000);
    /* Version 2 of xfr.test: www changed, one record added. */
    zone_diff_t *d = zone_diff_new(zone_origin(v0));
    uint8_t rd0[512], rd1[512], name[DNS_NAME_MAX], name2[DNS_NAME_MAX];
    dns_rr_t old = soa_with(v0, 1, rd0), new = soa_with(v0, 2, rd1);
    static const uint8_t a80[4] = {192, 0, 2, 80}, a81[4] = {192, 0, 2, 81};
    dns_name_from_text("www.xfr.test.", 13, NULL, name);
    dns_name_from_text("new.xfr.test.", 13, NULL, name2);
    dns_rr_t r0 = {.owner = name, .type = DNS_T_A, .rclass = DNS_C_IN, .ttl = 300, .rdata = a80, .rdlen = 4};
    dns_rr_t r1 = r0, r2 = r0;
    r1.rdata = a81;
    r2.owner = name2;
    assert_int_equal(zone_diff_remove(d, &r0), ZL_OK);
    assert_int_equal(zone_diff_add(d, &r1), ZL_OK);
    assert_int_equal(zone_diff_add(d, &r2), ZL_OK);
    assert_int_equal(zone_diff_set_soa(d, &old, &new), ZL_OK);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    zone_t *a = NULL;
    zone_journal_t *j = NULL;
    assert_int_equal(zone_apply(v0, d, &a, NULL), ZL_OK);
    assert_int_equal(zone_journal_append(NULL, d, 10, 1 << 20, &j), ZL_OK);
    assert_int_equal(zone_with_journal(a, j, &v1), ZL_OK);
    zone_journal_unref(j);
    zone_diff_free(d);
    zone_free(a);
    zone_free(v0);
    zone_t *set[2] = {v1, big};
    assert_int_equal(zone_set_new(set, 2, &zs), ZL_OK);
    zone_free(big);
    keys = zone_keyring_new();
    const char *all[] = {K_XFR, K_UPD, K_NTF, K_OTH};
    for (int i = 0; i < 4; i++) {
        zone_key_t k;
        const char *why;
        assert_int_equal(zone_key_from_arg(all[i], &k, &why), ZL_OK);
        assert_int_equal(zone_keyring_add(keys, &k), ZL_OK);
    }
    srv_msg_cfg_init(&cfg);
    assert_int_equal(srv_cidr_parse("192.0.2.0/24", &allow), 0);
    cfg.axfr_allow = &allow;
    cfg.naxfr_allow = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    zone_set_free(zs);
    zone_keyring_free(keys);
    zone_free(v1);
    return 0;
}

/* A transfer request for zone, type AXFR or IXFR (with serial in the
 * authority section), signed with key arg k (NULL: unsigned). */
static size_t request(uint8_t *buf, const char *zone, uint16_t type, uint32_t serial,
                      const char *k, zone_key_t *key, dns_tsig_ctx_t *tc)
{
    uint8_t zn[DNS_NAME_MAX];
    assert_true(dns_name_from_text(zone, strlen(zone), NULL, zn) > 0);
    dns_msgb_t b;
    dns_msgb_init(&b, buf, 1024, 0x5151, 0);
    assert_int_equal(dns_msgb_question(&b, zn, type, DNS_C_IN), ZL_OK);
    if (type == DNS_T_IXFR) {
        uint8_t rd[64] = {0, 0};
        memset(rd + 2, 0, 20);
        dns_put_u32(rd + 2, serial);
        assert_int_equal(dns_msgb_rr(&b, DNS_SEC_NS, zn, DNS_T_SOA, DNS_C_IN, 0, rd, 22), ZL_OK);
    }
    size_t len = dns_msgb_finish(&b);
    memset(tc, 0, sizeof *tc);
    if (k) {
        const char *why;
        assert_int_equal(zone_key_from_arg(k, key, &why), ZL_OK);
        dns_tsig_client_init(tc, &key->tsig);
        assert_int_equal(dns_tsig_sign(tc, buf, &len, 1024, NOW), ZL_OK);
    }
    return len;
}

/* The records of a transfer (all messages), verified when signed. */
typedef struct got {
    dns_rr_t rr[4096];
    uint8_t mem[1 << 22];
    size_t n, used;
    unsigned messages;
    uint16_t rcode;
} got_t;

static got_t got;

static void take(const uint8_t *msg, size_t len, dns_tsig_ctx_t *tc, bool is_signed)
{
    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    assert_true(len <= 65535);
    assert_int_equal(dns_msg_parse(&m, msg, len, &a), ZL_OK);
    assert_int_equal(dns_get_u16(msg), 0x5151);
    got.rcode = DNS_F_RCODE(m.flags);
    assert_int_equal(m.qdcount, got.messages == 0 ? 1 : 0); /* RFC 5936 §2.2: the first only */
    if (is_signed) {
        assert_true(m.tsig_off > 0);
        assert_int_equal(dns_tsig_verify_response(tc, msg, len, m.tsig_off, NOW), ZL_OK);
    }
    for (unsigned i = 0; i < m.nrr[DNS_SEC_AN]; i++) {
        dns_rr_t r = m.rr[DNS_SEC_AN][i];
        size_t ol = dns_name_len(r.owner);
        assert_true(got.used + ol + r.rdlen < sizeof got.mem && got.n < 4096);
        memcpy(got.mem + got.used, r.owner, ol);
        r.owner = got.mem + got.used;
        got.used += ol;
        memcpy(got.mem + got.used, r.rdata, r.rdlen);
        r.rdata = got.mem + got.used;
        got.used += r.rdlen;
        got.rr[got.n++] = r;
    }
    got.messages++;
    dns_arena_free(&a);
}

/* Runs one request; collects every message. Returns the srv_result. */
static srv_result_t run(const uint8_t *q, size_t qlen, const srv_client_t *cl, dns_tsig_ctx_t *tc,
                        bool is_signed)
{
    static uint8_t buf[65535];
    srv_ctx_t ctx = {.zones = zs, .keys = keys, .cfg = &cfg};
    srv_out_t out = {.buf = buf, .cap = cl->tcp ? 65535 : 4096};
    memset(&got, 0, sizeof got);
    srv_result_t r = srv_process(&ctx, q, qlen, cl, NOW, &out);
    if (r == SRV_REPLY) {
        take(buf, out.len, tc, is_signed);
    } else if (r == SRV_STREAM) {
        size_t len;
        while ((len = srv_stream_next(out.stream, buf, sizeof buf)) > 0) {
            assert_true(len <= 16384); /* every name within pointer reach */
            take(buf, len, tc, is_signed);
        }
        srv_stream_free(out.stream);
    }
    dns_tsig_ctx_clear(tc);
    return r;
}

static uint32_t serial_of(const dns_rr_t *r)
{
    assert_int_equal(r->type, DNS_T_SOA);
    return dns_get_u32(r->rdata + r->rdlen - 20);
}

static void test_who_may_transfer(void **state)
{
    (void)state;
    uint8_t q[1024];
    zone_key_t k;
    dns_tsig_ctx_t tc;
    /* RFC 5936 §6: a transfer key, an update key, an allowed network. */
    size_t n = request(q, "xfr.test.", DNS_T_AXFR, 0, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, K_UPD, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, NULL, &k, &tc);
    assert_int_equal(run(q, n, &allowed, &tc, false), SRV_STREAM);
    /* Refused: unsigned elsewhere, a notify key, another zone's key. */
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, NULL, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, false), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_REFUSED);
    assert_int_equal(got.n, 0);
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, K_NTF, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_REFUSED);
    n = request(q, "xfr.test.", DNS_T_IXFR, 1, K_OTH, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_REFUSED);
    /* A zone we do not serve: NOTAUTH; AXFR over UDP: NOTIMP. */
    n = request(q, "nowhere.test.", DNS_T_AXFR, 0, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_NOTAUTH);
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &udp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_NOTIMP);
    assert_int_equal(got.n, 0);
}

static void test_axfr(void **state)
{
    (void)state;
    uint8_t q[1024];
    zone_key_t k;
    dns_tsig_ctx_t tc;
    /* One message: SOA, every record, SOA. */
    size_t n = request(q, "xfr.test.", DNS_T_AXFR, 0, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    assert_int_equal(got.messages, 1);
    assert_int_equal(got.n, zone_record_count(v1) + 1);
    assert_int_equal(serial_of(&got.rr[0]), 2);
    assert_int_equal(serial_of(&got.rr[got.n - 1]), 2);
    for (size_t i = 1; i + 1 < got.n; i++)
        assert_int_not_equal(got.rr[i].type, DNS_T_SOA);
    /* 2,000 records of ~200 octets: several messages, each within 16 KiB (compression pointer reach)
     * and signed, chained (RFC 8945 §5.3.1). */
    n = request(q, "big.test.", DNS_T_AXFR, 0, NULL, &k, &tc);
    assert_int_equal(run(q, n, &allowed, &tc, false), SRV_STREAM);
    assert_true(got.messages >= 6);
    assert_int_equal(got.n, 2000 + 4 + 1);
    static const char key_big[] = "x._transfer.big.test:hmac-sha256:c2VjcmV0LWJpZw==";
    zone_key_t kb;
    const char *why;
    assert_int_equal(zone_key_from_arg(key_big, &kb, &why), ZL_OK);
    zone_keyring_t *old = keys;
    keys = zone_keyring_new();
    assert_int_equal(zone_keyring_add(keys, &kb), ZL_OK);
    n = request(q, "big.test.", DNS_T_AXFR, 0, key_big, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    assert_true(got.messages >= 6);
    assert_int_equal(got.n, 2000 + 4 + 1);
    zone_keyring_free(keys);
    keys = old;
}

static void test_ixfr(void **state)
{
    (void)state;
    uint8_t q[1024];
    zone_key_t k;
    dns_tsig_ctx_t tc;
    /* From serial 1 (in the journal): new SOA, old SOA, removed, new SOA,
     * added, new SOA (RFC 1995 §4). */
    size_t n = request(q, "xfr.test.", DNS_T_IXFR, 1, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    assert_int_equal(got.n, 1 + 1 + 1 + 1 + 2 + 1);
    assert_int_equal(serial_of(&got.rr[0]), 2);
    assert_int_equal(serial_of(&got.rr[1]), 1);
    assert_int_equal(got.rr[2].type, DNS_T_A);
    assert_int_equal(got.rr[2].rdata[3], 80);
    assert_int_equal(serial_of(&got.rr[3]), 2);
    assert_int_equal(serial_of(&got.rr[6]), 2);
    /* Current (or ahead): the SOA alone. */
    n = request(q, "xfr.test.", DNS_T_IXFR, 2, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.n, 1);
    assert_int_equal(serial_of(&got.rr[0]), 2);
    /* Unknown to the journal: the whole zone, AXFR-style. */
    n = request(q, "xfr.test.", DNS_T_IXFR, 0xfffffff0u, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &tcp4, &tc, true), SRV_STREAM);
    assert_int_equal(got.n, zone_record_count(v1) + 1);
    /* Over UDP: the change fits one message. */
    n = request(q, "xfr.test.", DNS_T_IXFR, 1, K_XFR, &k, &tc);
    assert_int_equal(run(q, n, &udp4, &tc, true), SRV_REPLY);
    assert_int_equal(got.n, 7);
    /* ... the whole big zone does not: the SOA alone (RFC 1995 §2). */
    n = request(q, "big.test.", DNS_T_IXFR, 3, NULL, &k, &tc);
    srv_client_t u = allowed;
    u.tcp = false;
    assert_int_equal(run(q, n, &u, &tc, false), SRV_REPLY);
    assert_int_equal(got.n, 1);
    assert_int_equal(serial_of(&got.rr[0]), 7);
    /* An IXFR without the client's SOA: FORMERR. */
    n = request(q, "xfr.test.", DNS_T_AXFR, 0, NULL, &k, &tc);
    dns_put_u16(q + 12 + 10, DNS_T_IXFR);   /* \3xfr\4test\0 then the type */
    assert_int_equal(run(q, n, &allowed, &tc, false), SRV_REPLY);
    assert_int_equal(got.rcode, DNS_R_FORMERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_who_may_transfer),
        cmocka_unit_test(test_axfr),
        cmocka_unit_test(test_ixfr),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
