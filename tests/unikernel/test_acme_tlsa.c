/* unikernel/acme_tlsa.c: the TLSA encoding of CSRs and chains (against
 * ldns, the oracle), which records are which, the owners that ask for a
 * certificate, and the diffs that store a chain (replacing the previous
 * one, leaving the CSR and other TLSA records) and add or remove a
 * challenge TXT value (leaving the others), each raising the serial by
 * one and applying to the zone. The DER blobs are opaque here: these
 * functions never parse them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unikernel/acme_tlsa.h"
#include "zone/apply.h"
#include "zone/parse.h"

static const uint8_t ORIGIN[] = "\1t\4test";
static const uint8_t OWNER[] = "\014_letsencrypt\004_tcp\3www\1t\4test";
static const uint8_t CHAL[] = "\017_acme-challenge\3www\1t\4test";

static int add_rec(void *ctx, const dns_rr_t *rr) { return zone_builder_add(ctx, rr, NULL); }

static zone_t *zone_from(const char *text)
{
    zone_builder_t *b = zone_builder_new(ORIGIN);
    zone_parse_opts_t o = {.origin = ORIGIN};
    if (zone_parse_text(text, strlen(text), "t", &o, add_rec, b, NULL) != ZL_OK) {
        zone_builder_finish(b, NULL, NULL);
        return NULL;
    }
    zone_t *z = NULL;
    return zone_builder_finish(b, &z, NULL) == ZL_OK ? z : NULL;
}

/* Opaque "DER": n octets, each `fill`. */
static acme_der_t blob(uint8_t fill, size_t n)
{
    acme_der_t d = {.p = malloc(n), .len = n};
    memset(d.p, fill, n);
    return d;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", p[i]);
}

static const uint8_t CSR[40] = {0x30, 0x26, 1, 2, 3};

/* The test zone: a CSR and a TLSA record of someone else's (3 1 1). */
static zone_t *base_zone(void)
{
    char text[1024], h[100];
    hex(CSR, sizeof CSR, h);
    snprintf(text, sizeof text,
             "@ 3600 IN SOA ns hm 10 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n"
             "_letsencrypt._tcp.www 600 IN TLSA 3 255 0 %s\n"
             "_letsencrypt._tcp.www 600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011\n"
             "txt.www 900 IN TXT \"keep\"\n", h);
    zone_t *z = zone_from(text);
    assert_non_null(z);
    return z;
}

static void test_kinds(void **state)
{
    (void)state;
    static const uint8_t csr[] = {3, 255, 0, 9}, ee[] = {3, 0, 0, 9}, ca[] = {2, 0, 0, 9},
                         pin[] = {3, 1, 1, 9}, short_[] = {3, 255, 0}, dane[] = {1, 0, 0, 9};
    assert_int_equal(srv_tlsa_kind(csr, 4), SRV_TLSA_CSR);
    assert_int_equal(srv_tlsa_kind(ee, 4), SRV_TLSA_CERT);
    assert_int_equal(srv_tlsa_kind(ca, 4), SRV_TLSA_CA);
    assert_int_equal(srv_tlsa_kind(pin, 4), SRV_TLSA_OTHER);
    assert_int_equal(srv_tlsa_kind(short_, 3), SRV_TLSA_OTHER);
    assert_int_equal(srv_tlsa_kind(dane, 4), SRV_TLSA_OTHER);
}

/* The RDATA we write is what ldns makes of "TLSA U S M HEX". */
static void test_rdata_against_ldns(void **state)
{
    (void)state;
    static const uint8_t kinds[3][3] = {{3, 255, 0}, {3, 0, 0}, {2, 0, 0}};
    uint8_t der[1500], ours[1600];
    for (size_t i = 0; i < sizeof der; i++)
        der[i] = (uint8_t)(i * 7 + 1);
    char *h = malloc(2 * sizeof der + 1), text[3200];
    hex(der, sizeof der, h);
    for (int k = 0; k < 3; k++) {
        size_t n = srv_tlsa_rdata(kinds[k][0], kinds[k][1], kinds[k][2], der, sizeof der, ours, sizeof ours);
        assert_int_equal(n, sizeof der + 3);
        snprintf(text, sizeof text, "x.example. 600 IN TLSA %u %u %u %s", kinds[k][0], kinds[k][1],
                 kinds[k][2], h);
        ldns_rr *rr = NULL;
        assert_int_equal(ldns_rr_new_frm_str(&rr, text, 600, NULL, NULL), LDNS_STATUS_OK);
        ldns_buffer *b = ldns_buffer_new(4096);
        ldns_rr_rdata2buffer_wire(b, rr);
        assert_int_equal(ldns_buffer_position(b), n);
        assert_memory_equal(ldns_buffer_begin(b), ours, n);
        ldns_buffer_free(b);
        ldns_rr_free(rr);
    }
    free(h);
    /* Too long for the buffer, or for an RDATA at all. */
    assert_int_equal(srv_tlsa_rdata(3, 0, 0, der, sizeof der, ours, 100), 0);
    static uint8_t big[65533], out[65533 + 3];
    assert_int_equal(srv_tlsa_rdata(3, 0, 0, big, 65533, out, sizeof out), 0);
    assert_int_equal(srv_tlsa_rdata(3, 0, 0, big, 65532, out, sizeof out), 65535);
}

static void test_owner(void **state)
{
    (void)state;
    const uint8_t *name = NULL;
    assert_true(srv_acme_owner(OWNER, &name));
    assert_true(dns_name_equal(name, (const uint8_t *)"\3www\1t\4test"));
    assert_true(srv_acme_owner((const uint8_t *)"\014_LetsEncrypt\004_TCP\1t\4test", &name));
    assert_true(dns_name_equal(name, ORIGIN));
    assert_false(srv_acme_owner((const uint8_t *)"\014_letsencrypt\004_tcp", &name));  /* no name */
    assert_false(srv_acme_owner((const uint8_t *)"\014_letsencrypt\004_udp\1t\4test", &name));
    assert_false(srv_acme_owner((const uint8_t *)"\014_letsencrypt\1t\4test", &name));
    assert_false(srv_acme_owner((const uint8_t *)"\3www\1t\4test", &name));
    assert_false(srv_acme_owner((const uint8_t *)"", &name));
}

/* d applied to z (checked like a loaded zone): the new version. */
static zone_t *applied(const zone_t *z, const zone_diff_t *d)
{
    zone_t *v = NULL;
    assert_int_equal(zone_apply(z, d, &v, NULL), ZL_OK);
    return v;
}

static unsigned tlsa_count(const zone_t *z)
{
    const zone_node_t *n = zone_find(z, OWNER);
    const zone_rrset_t *rs = n ? zone_node_rrset(n, DNS_T_TLSA) : NULL;
    return rs ? rs->count : 0;
}

static void expect_chain(const zone_t *z, const acme_chain_t *c)
{
    srv_tlsa_set_t s;
    srv_tlsa_read(&s, zone_find(z, OWNER));
    assert_int_equal(s.ncsr, 1);
    assert_int_equal(s.csr_len, sizeof CSR);
    assert_memory_equal(s.csr, CSR, sizeof CSR);
    assert_int_equal(s.ncert, 1);
    assert_int_equal(s.cert_len, c->cert[0].len);
    assert_memory_equal(s.cert, c->cert[0].p, c->cert[0].len);
    assert_int_equal(s.nca, c->n - 1);
    for (size_t i = 1; i < c->n; i++) {
        bool found = false;
        for (unsigned k = 0; k < s.nca; k++)
            found |= s.ca_len[k] == c->cert[i].len && memcmp(s.ca[k], c->cert[i].p, s.ca_len[k]) == 0;
        assert_true(found);
    }
}

static void test_chain_diff(void **state)
{
    (void)state;
    zone_t *z0 = base_zone();
    acme_chain_t c = {.n = 2, .cert = {blob(0xee, 700), blob(0xca, 600)}};
    zone_diff_t *d = NULL;
    assert_int_equal(srv_acme_chain_diff(z0, OWNER, CSR, sizeof CSR, &c, &d), ZL_OK);
    assert_non_null(d);
    size_t na, nr;
    const dns_rr_t *add = zone_diff_added(d, &na);
    (void)zone_diff_removed(d, &nr);
    assert_int_equal(na, 2);
    assert_int_equal(nr, 0);
    assert_int_equal(add[0].ttl, 600);   /* the RRset's TTL */
    assert_int_equal(zone_diff_from(d), 10);
    assert_int_equal(zone_diff_to(d), 11);
    zone_t *z1 = applied(z0, d);
    zone_diff_free(d);
    expect_chain(z1, &c);
    assert_int_equal(tlsa_count(z1), 4);   /* CSR, 3 1 1, certificate, CA */

    /* The same chain again: nothing to do. */
    assert_int_equal(srv_acme_chain_diff(z1, OWNER, CSR, sizeof CSR, &c, &d), ZL_OK);
    assert_null(d);

    /* A renewal: the old certificate out, the new one in, the CA kept. */
    acme_chain_t c2 = {.n = 2, .cert = {blob(0xe2, 710), blob(0xca, 600)}};
    assert_int_equal(srv_acme_chain_diff(z1, OWNER, CSR, sizeof CSR, &c2, &d), ZL_OK);
    (void)zone_diff_added(d, &na);
    const dns_rr_t *rem = zone_diff_removed(d, &nr);
    assert_int_equal(na, 1);
    assert_int_equal(nr, 1);
    assert_int_equal(rem[0].rdlen, 703);
    assert_int_equal(rem[0].rdata[0], 3);
    zone_t *z2 = applied(z1, d);
    zone_diff_free(d);
    expect_chain(z2, &c2);
    assert_int_equal(tlsa_count(z2), 4);
    assert_int_equal(zone_serial(z2), 12);

    /* A chain without a CA: every old certificate record goes. */
    acme_chain_t c3 = {.n = 1, .cert = {blob(0xe3, 500)}};
    assert_int_equal(srv_acme_chain_diff(z2, OWNER, CSR, sizeof CSR, &c3, &d), ZL_OK);
    (void)zone_diff_added(d, &na);
    (void)zone_diff_removed(d, &nr);
    assert_int_equal(na, 1);
    assert_int_equal(nr, 2);
    zone_t *z3 = applied(z2, d);
    zone_diff_free(d);
    expect_chain(z3, &c3);
    assert_int_equal(tlsa_count(z3), 3);

    /* The request changed (or is gone) meanwhile: nothing stored. */
    uint8_t other[sizeof CSR];
    memcpy(other, CSR, sizeof CSR);
    other[10] ^= 1;
    assert_int_equal(srv_acme_chain_diff(z3, OWNER, other, sizeof other, &c, &d), ZL_ENOTFOUND);
    assert_null(d);
    assert_int_equal(srv_acme_chain_diff(z3, CHAL, CSR, sizeof CSR, &c, &d), ZL_ENOTFOUND);
    /* A certificate too long for an RDATA. */
    acme_chain_t huge = {.n = 1, .cert = {blob(0x11, 65533)}};
    assert_int_equal(srv_acme_chain_diff(z3, OWNER, CSR, sizeof CSR, &huge, &d), ZL_ESPACE);
    assert_null(d);
    acme_chain_free(&huge);
    acme_chain_free(&c), acme_chain_free(&c2), acme_chain_free(&c3);
    zone_free(z0), zone_free(z1), zone_free(z2), zone_free(z3);
}

/* The TXT values at name in z, joined by spaces, and their TTL. */
static void txt_values(const zone_t *z, const uint8_t *name, char *out, size_t cap, uint32_t *ttl)
{
    const zone_node_t *n = zone_find(z, name);
    const zone_rrset_t *rs = n ? zone_node_rrset(n, DNS_T_TXT) : NULL;
    out[0] = '\0';
    *ttl = rs ? rs->ttl : 0;
    uint16_t len = 0;
    const uint8_t *rd = NULL;
    for (unsigned i = 0; rs && i < rs->count; i++) {
        rd = i ? zone_rrset_rdata_next(rd, len, &len) : zone_rrset_rdata(rs, 0, &len);
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", i ? " " : "", rd[0], (const char *)rd + 1);
    }
}

static void test_txt_diff(void **state)
{
    (void)state;
    zone_t *z0 = base_zone(), *z;
    zone_diff_t *d = NULL;
    char got[256];
    uint32_t ttl;
    assert_int_equal(srv_acme_txt_diff(z0, CHAL, "valueA", true, &d), ZL_OK);
    assert_int_equal(zone_diff_to(d), 11);
    zone_t *z1 = applied(z0, d);
    zone_diff_free(d);
    txt_values(z1, CHAL, got, sizeof got, &ttl);
    assert_string_equal(got, "valueA");
    assert_int_equal(ttl, SRV_ACME_TXT_TTL);
    /* Already there: nothing. A second value (a wildcard and its base
     * name share the challenge name): added beside the first. */
    assert_int_equal(srv_acme_txt_diff(z1, CHAL, "valueA", true, &d), ZL_OK);
    assert_null(d);
    assert_int_equal(srv_acme_txt_diff(z1, CHAL, "valueB", true, &d), ZL_OK);
    zone_t *z2 = applied(z1, d);
    zone_diff_free(d);
    txt_values(z2, CHAL, got, sizeof got, &ttl);
    assert_string_equal(got, "valueA valueB");
    /* Removing one leaves the other; removing it again is nothing. */
    assert_int_equal(srv_acme_txt_diff(z2, CHAL, "valueA", false, &d), ZL_OK);
    zone_t *z3 = applied(z2, d);
    zone_diff_free(d);
    txt_values(z3, CHAL, got, sizeof got, &ttl);
    assert_string_equal(got, "valueB");
    assert_int_equal(zone_serial(z3), 13);
    assert_int_equal(srv_acme_txt_diff(z3, CHAL, "valueA", false, &d), ZL_OK);
    assert_null(d);
    /* A name with TXT records of its own: their TTL, and they stay. */
    static const uint8_t keep[] = "\3txt\3www\1t\4test";
    assert_int_equal(srv_acme_txt_diff(z3, keep, "valueC", true, &d), ZL_OK);
    z = applied(z3, d);
    zone_diff_free(d);
    txt_values(z, keep, got, sizeof got, &ttl);
    assert_string_equal(got, "keep valueC");
    assert_int_equal(ttl, 900);
    zone_free(z);
    /* Outside the zone; a value longer than a character-string. */
    char long_value[300];
    memset(long_value, 'a', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    assert_int_equal(srv_acme_txt_diff(z3, (const uint8_t *)"\1x\5other", "v", true, &d), ZL_EINVAL);
    assert_int_equal(srv_acme_txt_diff(z3, CHAL, long_value, true, &d), ZL_EINVAL);
    zone_free(z0), zone_free(z1), zone_free(z2), zone_free(z3);
}

/* RFC 1982: the serial after 4294967295 is 0. */
static void test_serial_wraps(void **state)
{
    (void)state;
    zone_t *z = zone_from("@ 3600 IN SOA ns hm 4294967295 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n");
    assert_non_null(z);
    zone_diff_t *d = NULL;
    assert_int_equal(srv_acme_txt_diff(z, CHAL, "v", true, &d), ZL_OK);
    assert_int_equal(zone_diff_from(d), 4294967295u);
    assert_int_equal(zone_diff_to(d), 0);
    zone_t *v = applied(z, d);
    assert_int_equal(zone_serial(v), 0);
    zone_diff_free(d);
    zone_free(v);
    zone_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_rdata_against_ldns),
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_chain_diff),
        cmocka_unit_test(test_txt_diff),
        cmocka_unit_test(test_serial_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
