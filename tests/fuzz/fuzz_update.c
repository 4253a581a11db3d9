/* libFuzzer harness: the UPDATE path of the change path (zone/update.c,
 * zone/apply.c, zone/diff.c) on a small fixed zone. The input is one
 * UPDATE message, or two ([u16 length of the first][first][second]): the
 * second is applied to the result of the first. Invariants:
 *  - a refused update (any rcode but NOERROR) gives no diff; an update
 *    that changes nothing gives none either; zone_update never returns a
 *    diff that does not fit the version (zone_apply's ZL_EINVAL);
 *  - a diff that zone_apply refuses (ZL_EZONE) builds nothing;
 *  - an accepted version passes the full zone checks: its records, built
 *    again from scratch by the builder, make a zone without errors, and
 *    every lookup of the version agrees with that zone (and with its
 *    compacted copy);
 *  - the diff survives its binary form (encode, decode, apply: the same
 *    version), and zone_diff_versions of the two versions, applied,
 *    gives the same version again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/zone/zcmp.h"
#include "zone/update.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static const char zone_text[] =
    "$TTL 300\n"
    "@ SOA ns1 hostmaster 100 3600 600 86400 300\n"
    "@ NS ns1\n@ NS ns2.example.net.\n@ MX 10 mail\n@ TXT \"v=spf1 -all\"\n"
    "ns1 A 192.0.2.1\nmail A 192.0.2.25\nwww A 192.0.2.80\nwww AAAA 2001:db8::80\n"
    "alias CNAME www\n*.wild A 192.0.2.99\nsub NS ns.sub\nns.sub A 192.0.2.53\n"
    "dn DNAME example.net.\na.b.c TXT \"deep\"\n_sip._udp SRV 0 5 5060 www\n";

static zone_t *base;

static zone_t *base_zone(void)
{
    if (!base)
        base = zc_build("example.test.", zone_text);
    CHECK(base);
    return base;
}

/* One UPDATE on z: returns the new version (one reference) or NULL when
 * the update is refused or changes nothing. */
static zone_t *one(const zone_t *z, const uint8_t *msg, size_t len)
{
    dns_arena_t a;
    dns_arena_init(&a, NULL, 0, 0);
    dns_msg_t m;
    zone_t *v = NULL;
    if (dns_msg_parse(&m, msg, len, &a) != ZL_OK) {
        dns_arena_free(&a);
        return NULL;
    }
    /* the caller (the message layer) has checked the zone section */
    m.qclass = DNS_C_IN;
    zone_diff_t *d = NULL;
    const char *why = NULL;
    int rc = zone_update(z, &m, &d, &why);
    CHECK(rc >= 0 && rc <= DNS_R_NOTZONE);
    CHECK((rc == DNS_R_NOERROR) == (why == NULL));
    if (rc != DNS_R_NOERROR || !d) {
        CHECK(!d);
        dns_arena_free(&a);
        return NULL;
    }
    CHECK(zone_diff_from(d) == zone_serial(z) && !zone_diff_is_empty(d));
    rc = zone_apply(z, d, &v, NULL);
    CHECK(rc == ZL_OK || rc == ZL_EZONE);
    CHECK((rc == ZL_OK) == (v != NULL));
    if (v) {
        /* the full checks: the records built again, without errors */
        zone_t *r = zc_rebuild(v), *c = NULL;
        CHECK(r);
        CHECK(zc_same_zone(v, r));
        CHECK(zone_compact(v, &c) == ZL_OK);
        CHECK(zc_same_zone(c, r));
        zone_free(c);
        zone_free(r);
        /* the binary form */
        size_t n = zone_diff_bytes(d);
        uint8_t *buf = malloc(n);
        dns_wire_t w;
        zone_diff_t *e = NULL;
        zone_t *x = NULL, *y = NULL;
        CHECK(buf);
        dns_wire_init(&w, buf, n);
        CHECK(zone_diff_encode(d, &w) == ZL_OK && w.pos == n);
        dns_wire_init_ro(&w, buf, n);
        CHECK(zone_diff_decode(&w, &e) == ZL_OK);
        CHECK(zone_apply(z, e, &x, NULL) == ZL_OK && zc_same_zone(x, v));
        zone_diff_free(e);
        free(buf);
        /* the diff of the two versions */
        CHECK(zone_diff_versions(z, v, &e) == ZL_OK);
        CHECK(zone_apply(z, e, &y, NULL) == ZL_OK && zc_same_zone(y, v));
        zone_diff_free(e);
        zone_free(x);
        zone_free(y);
    }
    zone_diff_free(d);
    dns_arena_free(&a);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned runs;
    const zone_t *z = base_zone();
    /* the version every run starts from never changes */
    CHECK(zone_serial(z) == 100 && zone_overlay_nodes(z) == 0);
    if (runs++ % 4096 == 0) {
        zone_t *fresh = zc_build("example.test.", zone_text);
        CHECK(fresh && zc_same_zone(z, fresh));
        zone_free(fresh);
    }
    const uint8_t *first = data, *second = NULL;
    size_t flen = size, slen = 0;
    if (size > 2) {
        size_t l = (size_t)data[0] << 8 | data[1];
        if (l <= size - 2) {
            first = data + 2;
            flen = l;
            second = first + l;
            slen = size - 2 - l;
        }
    }
    zone_t *v = one(z, first, flen);
    if (second && slen) {
        zone_t *w = one(v ? v : z, second, slen);
        zone_free(w);
    }
    zone_free(v);
    return 0;
}
