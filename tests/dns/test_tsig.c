/* dns/tsig.c against two other implementations, for every algorithm:
 *  - dnspython (tests/dns/tsig_oracle.py, run through popen): its requests
 *    verify in ours and our replies in it, plain, with upper-case names,
 *    truncated MACs, time skew (BADTIME and its Other Data), unknown key
 *    (BADKEY), wrong secret (BADSIG); our requests verify in it and its
 *    replies in ours, multi-message streams both ways, with unsigned
 *    intermediate messages from its side;
 *  - ldns 1.8.3 (ldns_pkt_tsig_sign/verify): HMAC-MD5, -SHA1, -SHA256 and
 *    -SHA512 only (it has no SHA224, and spells SHA384 "hmac-shac384."),
 *    requests, replies and streams both ways;
 * and on its own: algorithm lookups, malformed TSIG RRs (FORMERR, never a
 * crash), the room a signature takes, client-side refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns/arena.h"
#include "dns/codec.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "dns/tsig.h"

#define NOW 1700000000ULL
#define NALG 6
#define PY "/usr/bin/python3"
#define ORACLE "tests/dns/tsig_oracle.py"

static const uint8_t algs[NALG] = { 157, 161, 162, 163, 164, 165 };
static const uint8_t example[] = "\x07" "example";

/* ---- keys: the same secrets as tsig_oracle.py's secret_for ---- */

static size_t secret_len(uint8_t num)
{
    switch (num) {
    case 157: return 100;
    case 161: return 20;
    case 162: return 28;
    case 163: return 32;
    case 164: return 48;
    default: return 130;
    }
}

static void key_make(dns_tsig_key_t *k, uint8_t alg, bool wrong)
{
    char name[64];
    memset(k, 0, sizeof(*k));
    snprintf(name, sizeof(name), "k-%s.example.", dns_tsig_alg_text(alg));
    assert_true(dns_name_from_text(name, strlen(name), NULL, k->name) > 0);
    k->alg = alg;
    k->secret_len = (uint16_t)secret_len(alg);
    for (size_t j = 0; j < k->secret_len; j++)
        k->secret[wrong ? k->secret_len - 1 - j : j] = (uint8_t)(alg * 31 + j * 7 + 3);
}

typedef struct keyset {
    dns_tsig_key_t k[NALG];
} keyset_t;

static const dns_tsig_key_t *find_key(void *fctx, const uint8_t *name, uint8_t alg)
{
    keyset_t *ks = fctx;
    for (int i = 0; i < NALG; i++)
        if (ks->k[i].alg == alg && dns_name_equal(ks->k[i].name, name))
            return &ks->k[i];
    return NULL;
}

static void keyset_init(keyset_t *ks)
{
    for (int i = 0; i < NALG; i++)
        key_make(&ks->k[i], algs[i], false);
}

/* ---- messages ---- */

static size_t hex_to(const char *h, uint8_t *out, size_t cap)
{
    int n = dns_hex_decode(h, strlen(h), out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static char *to_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    assert_int_equal(dns_hex_encode(p, n, s, 2 * n), (int)(2 * n));
    s[2 * n] = 0;
    return s;
}

static size_t tsig_off_of(const uint8_t *msg, size_t len)
{
    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    int rc = dns_msg_parse(&m, msg, len, &a);
    dns_arena_free(&a);
    assert_int_equal(rc, ZL_OK);
    return m.tsig_off;
}

static size_t build_query(uint8_t *buf, size_t cap, uint16_t id, uint16_t qtype)
{
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, id, 0);
    assert_int_equal(dns_msgb_question(&b, example, qtype, DNS_C_IN), ZL_OK);
    return dns_msgb_finish(&b);
}

/* A reply to q with n A records (message `part` of a stream), keeping
 * room for the TSIG that ctx will add. */
static size_t build_reply(const uint8_t *q, size_t qlen, int part, int n,
                          const dns_tsig_ctx_t *ctx, uint8_t *buf, size_t cap)
{
    dns_query_t qq;
    assert_int_equal(dns_query_parse(&qq, q, qlen), ZL_OK);
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, qq.id, (uint16_t)(DNS_F_QR | DNS_F_AA | (qq.flags & 0x7800)));
    assert_int_equal(dns_msgb_reserve(&b, ctx ? dns_tsig_space(ctx) : 0), ZL_OK);
    if (part == 0)
        assert_int_equal(dns_msgb_question(&b, qq.qname, qq.qtype, qq.qclass), ZL_OK);
    for (int i = 0; i < n; i++) {
        uint8_t owner[32] = "\x03" "a00" "\x07" "example";
        uint8_t rd[4] = { 192, 0, 2, (uint8_t)(part * 16 + i) };
        owner[2] = (uint8_t)('0' + part % 10);
        owner[3] = (uint8_t)('0' + i % 10);
        assert_int_equal(dns_msgb_rr(&b, DNS_SEC_AN, owner, DNS_T_A, DNS_C_IN, 300, rd, 4), ZL_OK);
    }
    return dns_msgb_finish(&b);
}

static void sign_ok(dns_tsig_ctx_t *ctx, uint8_t *buf, size_t *len, size_t cap, uint64_t now)
{
    size_t before = *len, space = dns_tsig_space(ctx);
    assert_int_equal(dns_tsig_sign(ctx, buf, len, cap, now), ZL_OK);
    assert_int_equal(*len - before, space); /* dns_tsig_space is exact */
    assert_int_equal(tsig_off_of(buf, *len), space ? before : 0);
}

/* The TSIG RR fields of a message, read back for checks. */
typedef struct rd {
    uint8_t owner[DNS_NAME_MAX], alg[DNS_NAME_MAX];
    uint64_t time;
    uint16_t fudge, mac_len, orig_id, error, other_len;
    uint8_t other[16];
} rd_t;

static void rd_read(const uint8_t *msg, size_t len, rd_t *r)
{
    dns_wire_t w;
    dns_wire_init_ro(&w, msg, len);
    dns_wire_seek(&w, tsig_off_of(msg, len));
    assert_true(dns_name_parse(&w, r->owner) > 0);
    dns_wire_skip(&w, 10);
    assert_true(dns_name_parse(&w, r->alg) > 0);
    r->time = (uint64_t)dns_wire_u16(&w) << 32;
    r->time |= dns_wire_u32(&w);
    r->fudge = dns_wire_u16(&w);
    r->mac_len = dns_wire_u16(&w);
    dns_wire_skip(&w, r->mac_len);
    r->orig_id = dns_wire_u16(&w);
    r->error = dns_wire_u16(&w);
    r->other_len = dns_wire_u16(&w);
    dns_wire_read(&w, r->other, r->other_len < 16 ? r->other_len : 16);
    assert_int_equal(w.err, ZL_OK);
}

/* ---- algorithms ---- */

static void test_alg_lookup(void **state)
{
    (void)state;
    static const char *const text[NALG] = { "hmac-md5", "hmac-sha1", "hmac-sha224",
                                            "hmac-sha256", "hmac-sha384", "hmac-sha512" };
    static const size_t maclen[NALG] = { 16, 20, 28, 32, 48, 64 };
    for (int i = 0; i < NALG; i++) {
        assert_string_equal(dns_tsig_alg_text(algs[i]), text[i]);
        assert_int_equal(dns_tsig_alg_from_text(text[i], strlen(text[i])), algs[i]);
        assert_int_equal(dns_tsig_alg_mac_len(algs[i]), maclen[i]);
        assert_int_equal(dns_tsig_alg_from_name(dns_tsig_alg_name(algs[i])), algs[i]);
        char up[32];
        for (size_t j = 0; j <= strlen(text[i]); j++)
            up[j] = (char)(text[i][j] >= 'a' && text[i][j] <= 'z' ? text[i][j] - 32 : text[i][j]);
        assert_int_equal(dns_tsig_alg_from_text(up, strlen(up)), algs[i]);
        uint8_t n[DNS_NAME_MAX];
        assert_true(dns_name_from_text(up, strlen(up), (const uint8_t *)"", n) > 0);
        assert_int_equal(dns_tsig_alg_from_name(n), i == 0 ? 0 : algs[i]);
    }
    /* certbot's spelling of HMAC-MD5's wire name. */
    uint8_t n[DNS_NAME_MAX];
    const char *md5 = "HMAC-MD5.SIG-ALG.REG.INT.";
    assert_true(dns_name_from_text(md5, strlen(md5), NULL, n) > 0);
    assert_int_equal(dns_tsig_alg_from_name(n), DNS_TSIG_HMAC_MD5);
    assert_int_equal(dns_tsig_alg_from_text(md5, strlen(md5)), DNS_TSIG_HMAC_MD5);
    assert_int_equal(dns_tsig_alg_from_text("hmac-md5.sig-alg.reg.int", 24), DNS_TSIG_HMAC_MD5);
    assert_int_equal(dns_tsig_alg_from_text("hmac-sha256.", 12), DNS_TSIG_HMAC_SHA256);
    assert_int_equal(dns_tsig_alg_from_text("hmac-sha", 8), 0);
    assert_int_equal(dns_tsig_alg_from_text("gss-tsig", 8), 0);
    assert_int_equal(dns_tsig_alg_from_text("", 0), 0);
    assert_null(dns_tsig_alg_name(8));
    assert_null(dns_tsig_alg_text(0));
    assert_int_equal(dns_tsig_alg_mac_len(160), 0);
}

/* ---- ours against ours: requests, replies, streams ---- */

static void test_roundtrip(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    for (int i = 0; i < NALG; i++) {
        dns_tsig_ctx_t cl, sv;
        uint8_t q[512], r[4096];
        size_t qlen = build_query(q, sizeof(q), 0x1234, DNS_T_AXFR);
        dns_tsig_client_init(&cl, &ks.k[i]);
        sign_ok(&cl, q, &qlen, sizeof(q), NOW);
        assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW + 5,
                                                 find_key, &ks), DNS_R_NOERROR);
        assert_ptr_equal(sv.key, &ks.k[i]);
        assert_int_equal(sv.error, 0);
        assert_int_equal(sv.req_time, NOW);
        for (int part = 0; part < 4; part++) {
            size_t rlen = build_reply(q, qlen, part, 3 + part, &sv, r, sizeof(r));
            sign_ok(&sv, r, &rlen, sizeof(r), NOW + 6 + (uint64_t)part);
            assert_int_equal(dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen),
                                                      NOW + 7), ZL_OK);
            assert_true(dns_tsig_complete(&cl));
        }
        assert_int_equal(cl.count, 4);
        assert_int_equal(sv.count, 4);
        dns_tsig_ctx_clear(&cl);
    }
}

/* ---- reply forms (RFC 8945 §5.3.2) ---- */

/* Our signed request for key k, time t: q[0..*qlen). */
static void signed_query(const dns_tsig_key_t *k, uint64_t t, uint16_t qtype, uint8_t *q,
                         size_t cap, size_t *qlen, dns_tsig_ctx_t *cl)
{
    *qlen = build_query(q, cap, 0x7777, qtype);
    dns_tsig_client_init(cl, k);
    sign_ok(cl, q, qlen, cap, t);
}

static void test_reply_forms(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    for (int i = 0; i < NALG; i++) {
        dns_tsig_ctx_t cl, sv;
        uint8_t q[512], r[1024];
        size_t qlen, rlen;
        rd_t rd;
        size_t full = dns_tsig_alg_mac_len(algs[i]);
        /* BADKEY: an unknown key name, written in upper case. */
        dns_tsig_key_t other = ks.k[i];
        const char *on = "SOMEONE.Example.";
        assert_true(dns_name_from_text(on, strlen(on), NULL, other.name) > 0);
        signed_query(&other, NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
        assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW,
                                                 find_key, &ks), DNS_R_NOTAUTH);
        assert_int_equal(sv.error, DNS_TSIG_BADKEY);
        rlen = build_reply(q, qlen, 0, 1, &sv, r, sizeof(r));
        sign_ok(&sv, r, &rlen, sizeof(r), NOW);
        rd_read(r, rlen, &rd);
        assert_memory_equal(rd.owner, other.name, dns_name_len(other.name)); /* as sent */
        assert_true(dns_name_equal(rd.alg, dns_tsig_alg_name(algs[i])));
        assert_int_equal(rd.mac_len, 0);
        assert_int_equal(rd.error, DNS_TSIG_BADKEY);
        assert_int_equal(rd.other_len, 0);
        assert_int_equal(dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen), NOW),
                         ZL_EDENIED);
        assert_int_equal(cl.peer_error, DNS_TSIG_BADKEY);
        /* BADKEY too: a known name with another algorithm. */
        other = ks.k[i];
        other.alg = algs[(i + 1) % NALG];
        signed_query(&other, NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
        assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW,
                                                 find_key, &ks), DNS_R_NOTAUTH);
        assert_int_equal(sv.error, DNS_TSIG_BADKEY);
        /* BADSIG: unsigned, names echoed. */
        other = ks.k[i];
        other.secret[0] ^= 1;
        signed_query(&other, NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
        assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW,
                                                 find_key, &ks), DNS_R_NOTAUTH);
        assert_int_equal(sv.error, DNS_TSIG_BADSIG);
        rlen = build_reply(q, qlen, 0, 1, &sv, r, sizeof(r));
        sign_ok(&sv, r, &rlen, sizeof(r), NOW);
        rd_read(r, rlen, &rd);
        assert_int_equal(rd.mac_len, 0);
        assert_int_equal(rd.error, DNS_TSIG_BADSIG);
        assert_int_equal(dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen), NOW),
                         ZL_EDENIED);
        assert_int_equal(cl.peer_error, DNS_TSIG_BADSIG);
        /* The fudge's edges: 300 s either way is in time, 301 is not. */
        static const int64_t skew[] = { -301, -300, 300, 301 };
        for (int s = 0; s < 4; s++) {
            signed_query(&ks.k[i], NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
            uint64_t now = (uint64_t)((int64_t)NOW + skew[s]);
            int rc = dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), now, find_key,
                                             &ks);
            bool late = skew[s] == -301 || skew[s] == 301;
            assert_int_equal(rc, late ? DNS_R_NOTAUTH : DNS_R_NOERROR);
            assert_int_equal(sv.error, late ? DNS_TSIG_BADTIME : 0);
            rlen = build_reply(q, qlen, 0, 1, &sv, r, sizeof(r));
            sign_ok(&sv, r, &rlen, sizeof(r), now);
            rd_read(r, rlen, &rd);
            assert_int_equal(rd.mac_len, full); /* BADTIME replies are signed */
            assert_int_equal(rd.time, late ? NOW : now);
            assert_int_equal(rd.other_len, late ? 6 : 0);
            /* The client sees a signed BADTIME with the server's clock. */
            rc = dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen), NOW);
            assert_int_equal(rc, late ? ZL_EDENIED : ZL_OK);
            assert_int_equal(cl.peer_error, late ? DNS_TSIG_BADTIME : 0);
            assert_int_equal(cl.peer_time, late ? now : 0);
        }
    }
}

/* A copy of message m with its TSIG MAC cut to n octets. */
static size_t mac_cut(const uint8_t *m, size_t len, size_t n, uint8_t *out)
{
    size_t off = tsig_off_of(m, len);
    dns_wire_t w;
    uint8_t name[DNS_NAME_MAX];
    dns_wire_init_ro(&w, m, len);
    dns_wire_seek(&w, off);
    dns_name_parse(&w, name);
    size_t rdlen_at = w.pos + 8;
    dns_wire_skip(&w, 10);
    dns_name_parse(&w, name);
    size_t size_at = w.pos + 8, full = dns_get_u16(m + size_at);
    assert_true(n <= full);
    memcpy(out, m, size_at + 2 + n);
    memcpy(out + size_at + 2 + n, m + size_at + 2 + full, len - size_at - 2 - full);
    dns_put_u16(out + size_at, (uint16_t)n);
    dns_put_u16(out + rdlen_at, (uint16_t)(dns_get_u16(m + rdlen_at) - (full - n)));
    return len - (full - n);
}

static void test_truncation(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    for (int i = 0; i < NALG; i++) {
        dns_tsig_ctx_t cl, sv;
        uint8_t q[512], t[512], r[1024], rt[1024];
        size_t qlen, rlen, full = dns_tsig_alg_mac_len(algs[i]);
        size_t min = full / 2 > 10 ? full / 2 : 10;
        signed_query(&ks.k[i], NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
        for (size_t n = 0; n <= full; n++) {
            size_t tlen = mac_cut(q, qlen, n, t);
            int rc = dns_tsig_verify_request(&sv, t, tlen, tsig_off_of(t, tlen), NOW, find_key,
                                             &ks);
            assert_int_equal(rc, n < min ? DNS_R_FORMERR : DNS_R_NOERROR);
            if (n < min)
                continue;
            /* The reply chains to the truncated MAC (§5.2.2.1). */
            assert_int_equal(sv.mac_len, n);
            dns_tsig_ctx_t c2 = cl;
            memcpy(c2.mac, t + tlen - 6 - n, n);
            c2.mac_len = (uint16_t)n;
            rlen = build_reply(t, tlen, 0, 1, &sv, r, sizeof(r));
            sign_ok(&sv, r, &rlen, sizeof(r), NOW);
            assert_int_equal(dns_tsig_verify_response(&c2, r, rlen, tsig_off_of(r, rlen), NOW),
                             ZL_OK);
            /* The client takes truncated replies too, within its policy. */
            c2 = cl;
            size_t rtlen = mac_cut(r, rlen, n, rt);
            memcpy(c2.mac, t + tlen - 6 - n, n);
            c2.mac_len = (uint16_t)n;
            dns_tsig_ctx_t c3 = c2;
            assert_int_equal(dns_tsig_verify_response(&c2, rt, rtlen, tsig_off_of(rt, rtlen), NOW),
                             ZL_OK);
            ks.k[i].trunc_min = 255;
            int want = n < full ? ZL_EBADSIG : ZL_OK;
            assert_int_equal(dns_tsig_verify_response(&c3, rt, rtlen, tsig_off_of(rt, rtlen), NOW),
                             want);
            assert_int_equal(c3.error, n < full ? DNS_TSIG_BADTRUNC : 0);
            /* BADTRUNC (§5.2.4) for a key that takes only full MACs. */
            rc = dns_tsig_verify_request(&sv, t, tlen, tsig_off_of(t, tlen), NOW, find_key, &ks);
            assert_int_equal(rc, n < full ? DNS_R_NOTAUTH : DNS_R_NOERROR);
            assert_int_equal(sv.error, n < full ? DNS_TSIG_BADTRUNC : 0);
            ks.k[i].trunc_min = (uint8_t)(min + 1);
            rc = dns_tsig_verify_request(&sv, t, tlen, tsig_off_of(t, tlen), NOW, find_key, &ks);
            assert_int_equal(sv.error, n < min + 1 ? DNS_TSIG_BADTRUNC : 0);
            ks.k[i].trunc_min = 0;
        }
    }
}

/* ---- malformed TSIG RRs ---- */

static bool is_letter(uint8_t c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static void test_malformed(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    dns_tsig_ctx_t cl, sv;
    uint8_t q[512], m[600];
    size_t qlen, off;
    signed_query(&ks.k[3], NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
    off = tsig_off_of(q, qlen);
    size_t name_end = off + dns_name_len(ks.k[3].name); /* TYPE */
    size_t alg_at = name_end + 10, alg_len = dns_name_len(dns_tsig_alg_name(163));
    size_t size_at = alg_at + alg_len + 8;
#define V(buf, len, o) dns_tsig_verify_request(&sv, buf, len, o, NOW, find_key, &ks)
    assert_int_equal(V(q, qlen, off), DNS_R_NOERROR);
    /* Offsets that do not point at a TSIG RR ending the message. */
    static const size_t bad_off[] = { 0, 5, 11, 12 };
    for (size_t i = 0; i < sizeof(bad_off) / sizeof(bad_off[0]); i++)
        assert_int_equal(V(q, qlen, bad_off[i]), DNS_R_FORMERR);
    assert_int_equal(V(q, qlen, qlen), DNS_R_FORMERR);
    assert_int_equal(V(q, qlen, qlen - 1), DNS_R_FORMERR);
    assert_int_equal(V(q, 11, off), DNS_R_FORMERR);
    assert_int_equal(dns_tsig_space(&sv), 0);
    /* One field wrong at a time. */
    struct { size_t at; uint16_t v; int want; } f[] = {
        { 10, 0, DNS_R_FORMERR },                   /* ARCOUNT 0 */
        { name_end, DNS_T_TXT, DNS_R_FORMERR },     /* not TSIG */
        { name_end + 2, DNS_C_IN, DNS_R_FORMERR },  /* class IN */
        { name_end + 4, 1, DNS_R_FORMERR },         /* TTL 65536 */
        { name_end + 6, 1, DNS_R_FORMERR },         /* TTL 1 */
        { name_end + 8, 0, DNS_R_FORMERR },         /* RDLENGTH 0 */
        { size_at, 0, DNS_R_FORMERR },              /* MAC size 0 */
        { size_at, 9, DNS_R_FORMERR },              /* below the minimum */
        { size_at, 33, DNS_R_FORMERR },             /* above the hash */
        { size_at, 0xffff, DNS_R_FORMERR },
        { qlen - 2, 1, DNS_R_FORMERR },             /* Other Len past the end */
        { alg_at, 0xc00c, DNS_R_FORMERR },          /* compressed algorithm name */
        { alg_at + 1, 0x4d41, DNS_R_NOTAUTH },      /* "hmac-..." -> "MAac-...": BADKEY */
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        memcpy(m, q, qlen);
        dns_put_u16(m + f[i].at, f[i].v);
        int rc = V(m, qlen, off);
        if (rc != f[i].want)
            fail_msg("field at %zu = %u: rcode %d, want %d", f[i].at, f[i].v, rc, f[i].want);
    }
    /* A trailing octet, and the RR cut at every length. */
    memcpy(m, q, qlen);
    m[qlen] = 0;
    assert_int_equal(V(m, qlen + 1, off), DNS_R_FORMERR);
    for (size_t n = DNS_HDR_LEN; n < qlen; n++)
        assert_int_equal(V(q, n, off), DNS_R_FORMERR);
    /* Every bit flip fails, except in the ID (the Original ID is digested
     * instead, §4.3.2) and the case of letters in names (canonical form). */
    for (size_t p = 0; p < qlen; p++) {
        for (int b = 0; b < 8; b++) {
            memcpy(m, q, qlen);
            m[p] ^= (uint8_t)(1u << b);
            int rc = V(m, qlen, off);
            bool in_name = (p > off && p < name_end) || (p > alg_at && p < alg_at + alg_len);
            bool harmless = p < 2 || (b == 5 && is_letter(q[p]) && in_name);
            if (harmless ? rc != DNS_R_NOERROR : rc == DNS_R_NOERROR)
                fail_msg("flip of bit %d at %zu: rcode %d", b, p, rc);
            assert_true(rc == DNS_R_NOERROR || rc == DNS_R_FORMERR || rc == DNS_R_NOTAUTH);
        }
    }
#undef V
}

/* ---- the room a signature takes ---- */

static void test_space(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    dns_tsig_ctx_t cl, sv;
    uint8_t q[512], r[1024], copy[1024];
    size_t qlen, rlen;
    signed_query(&ks.k[5], NOW, DNS_T_SOA, q, sizeof(q), &qlen, &cl);
    assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW, find_key,
                                             &ks), DNS_R_NOERROR);
    size_t space = dns_tsig_space(&sv);
    assert_int_equal(space, 2 * 0 + dns_name_len(ks.k[5].name) + 10 + 13 + 16 + 64);
    rlen = build_reply(q, qlen, 0, 2, NULL, r, sizeof(r));
    memcpy(copy, r, rlen);
    size_t len = rlen;
    assert_int_equal(dns_tsig_sign(&sv, r, &len, rlen + space - 1, NOW), ZL_ESPACE);
    assert_int_equal(len, rlen);
    assert_memory_equal(r, copy, rlen);
    assert_int_equal(sv.count, 0);
    len = 11;
    assert_int_equal(dns_tsig_sign(&sv, r, &len, sizeof(r), NOW), ZL_EINVAL);
    len = rlen;
    assert_int_equal(dns_tsig_sign(&sv, r, &len, rlen + space, NOW), ZL_OK);
    assert_int_equal(len, rlen + space);
    assert_int_equal(dns_get_u16(r + 10), dns_get_u16(copy + 10) + 1);
    /* An inactive (zeroed) ctx: unsigned exchange, nothing added. */
    dns_tsig_ctx_t none;
    memset(&none, 0, sizeof(none));
    assert_int_equal(dns_tsig_space(&none), 0);
    len = rlen;
    assert_int_equal(dns_tsig_sign(&none, copy, &len, sizeof(copy), NOW), ZL_OK);
    assert_int_equal(len, rlen);
    dns_tsig_ctx_clear(&none);
}

/* ---- client refusals ---- */

static void test_client(void **state)
{
    (void)state;
    keyset_t ks;
    keyset_init(&ks);
    dns_tsig_ctx_t cl, sv, keep;
    uint8_t q[512], r[1024], u[1024];
    size_t qlen, rlen, ulen;
    /* No request signed yet. */
    dns_tsig_client_init(&cl, &ks.k[1]);
    ulen = build_query(u, sizeof(u), 1, DNS_T_SOA);
    assert_int_equal(dns_tsig_verify_response(&cl, u, ulen, 0, NOW), ZL_EINVAL);
    signed_query(&ks.k[1], NOW, DNS_T_AXFR, q, sizeof(q), &qlen, &cl);
    keep = cl;
    /* The first message must be signed. */
    ulen = build_reply(q, qlen, 0, 1, NULL, u, sizeof(u));
    assert_int_equal(dns_tsig_verify_response(&cl, u, ulen, 0, NOW), ZL_EBADSIG);
    assert_int_equal(cl.error, DNS_TSIG_BADSIG);
    /* Another key's, or a tampered, or a late signature. */
    assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW, find_key,
                                             &ks), DNS_R_NOERROR);
    rlen = build_reply(q, qlen, 0, 3, &sv, r, sizeof(r));
    dns_tsig_ctx_t sv2 = sv;
    dns_tsig_key_t other = ks.k[1];
    other.name[1] = 'j';
    sv2.key = &other;
    dns_name_copy(sv2.key_name, other.name);
    size_t olen = rlen;
    uint8_t o[1024];
    memcpy(o, r, rlen);
    sign_ok(&sv2, o, &olen, sizeof(o), NOW);
    cl = keep;
    assert_int_equal(dns_tsig_verify_response(&cl, o, olen, tsig_off_of(o, olen), NOW), ZL_EBADSIG);
    assert_int_equal(cl.error, DNS_TSIG_BADKEY);
    sign_ok(&sv, r, &rlen, sizeof(r), NOW);
    memcpy(o, r, rlen);
    o[DNS_HDR_LEN + 3] ^= 1; /* a letter of the question */
    cl = keep;
    assert_int_equal(dns_tsig_verify_response(&cl, o, rlen, tsig_off_of(o, rlen), NOW), ZL_EBADSIG);
    assert_int_equal(cl.error, DNS_TSIG_BADSIG);
    cl = keep;
    assert_int_equal(dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen), NOW + 301),
                     ZL_EBADSIG);
    assert_int_equal(cl.error, DNS_TSIG_BADTIME);
    memcpy(o, r, rlen);
    o[rlen - 7] ^= 1; /* the last octet of the MAC */
    cl = keep;
    assert_int_equal(dns_tsig_verify_response(&cl, o, rlen, tsig_off_of(o, rlen), NOW), ZL_EBADSIG);
    cl = keep;
    assert_int_equal(dns_tsig_verify_response(&cl, r, rlen - 1, tsig_off_of(r, rlen), NOW),
                     ZL_EFORMAT);
    /* A stream: a signed message, then 99 unsigned ones are accepted
     * (RFC 8945 §5.3.1; dnspython's streams check that they are digested
     * into the next MAC), the 100th is not. */
    cl = keep;
    assert_int_equal(dns_tsig_verify_request(&sv, q, qlen, tsig_off_of(q, qlen), NOW, find_key,
                                             &ks), DNS_R_NOERROR);
    rlen = build_reply(q, qlen, 0, 1, &sv, r, sizeof(r));
    sign_ok(&sv, r, &rlen, sizeof(r), NOW);
    assert_int_equal(dns_tsig_verify_response(&cl, r, rlen, tsig_off_of(r, rlen), NOW), ZL_OK);
    for (int i = 0; i <= DNS_TSIG_UNSIGNED_MAX; i++) {
        ulen = build_reply(q, qlen, 1, 2, NULL, u, sizeof(u));
        int rc = dns_tsig_verify_response(&cl, u, ulen, 0, NOW);
        assert_int_equal(rc, i < DNS_TSIG_UNSIGNED_MAX ? ZL_OK : ZL_EBADSIG);
    }
    assert_false(dns_tsig_complete(&cl));
    dns_tsig_ctx_clear(&cl); /* frees the running digest (LeakSanitizer) */
    assert_int_equal(cl.role, DNS_TSIG_ROLE_NONE);
}

/* ---- dnspython ---- */

typedef struct pyline {
    char tag[16], alg[16];
    uint8_t msg[1024], mac[64];
    size_t len, mac_len;
} pyline_t;

static bool have_python(void)
{
    return access(PY, X_OK) == 0 && access(ORACLE, R_OK) == 0;
}

static size_t oracle_make(pyline_t *out, size_t cap)
{
    FILE *p = popen(PY " " ORACLE " make 1700000000", "r");
    assert_non_null(p);
    char line[8192];
    size_t n = 0;
    while (fgets(line, sizeof(line), p)) {
        char hex[4096], mac[256] = "";
        assert_true(n < cap);
        pyline_t *l = &out[n++];
        int k = sscanf(line, "%15s %15s %4095s %255s", l->tag, l->alg, hex, mac);
        assert_true(k >= 3);
        l->len = hex_to(hex, l->msg, sizeof(l->msg));
        l->mac_len = k == 4 ? hex_to(mac, l->mac, sizeof(l->mac)) : 0;
    }
    assert_int_equal(pclose(p), 0);
    return n;
}

static const pyline_t *py_find(const pyline_t *l, size_t n, const char *tag, const char *alg)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].tag, tag) == 0 && strcmp(l[i].alg, alg) == 0)
            return &l[i];
    fail_msg("oracle made no %s for %s", tag, alg);
    return NULL;
}

/* Commands for `tsig_oracle.py check`, and what it answered. */
typedef struct pycheck {
    char *cmds;        /* lines "TAG CMD ALG ARGS" */
    size_t len, cap;
    unsigned next;
    char *out;         /* its output */
} pycheck_t;

static unsigned pc_add(pycheck_t *pc, const char *fmt, ...)
{
    va_list ap;
    char tag[16];
    unsigned t = pc->next++;
    snprintf(tag, sizeof(tag), "c%u ", t);
    va_start(ap, fmt);
    size_t need = strlen(tag) + (size_t)vsnprintf(NULL, 0, fmt, ap) + 2;
    va_end(ap);
    if (pc->len + need >= pc->cap) {
        pc->cap = (pc->len + need) * 2;
        pc->cmds = realloc(pc->cmds, pc->cap);
        assert_non_null(pc->cmds);
    }
    pc->len += (size_t)sprintf(pc->cmds + pc->len, "%s", tag);
    va_start(ap, fmt);
    pc->len += (size_t)vsprintf(pc->cmds + pc->len, fmt, ap);
    va_end(ap);
    pc->cmds[pc->len++] = '\n';
    pc->cmds[pc->len] = 0;
    return t;
}

static void pc_run(pycheck_t *pc)
{
    char path[] = "/tmp/zonelet-tsig-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pc->cmds, pc->len), (ssize_t)pc->len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), PY " " ORACLE " check 1700000000 <%s", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    pc->out = malloc(cap);
    assert_non_null(pc->out);
    size_t k;
    while ((k = fread(pc->out + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (len + 1 == cap) {
            cap *= 2;
            pc->out = realloc(pc->out, cap);
            assert_non_null(pc->out);
        }
    }
    pc->out[len] = 0;
    assert_int_equal(pclose(p), 0);
    unlink(path);
}

/* The result line of command t ("ok ..." or "fail ..."), after its tag. */
static const char *pc_result(const pycheck_t *pc, unsigned t, char *buf, size_t cap)
{
    char tag[16];
    int tl = snprintf(tag, sizeof(tag), "c%u ", t);
    for (const char *s = pc->out; s && *s;) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (strncmp(s, tag, (size_t)tl) == 0 && strncmp(s + tl, "msg ", 4) != 0) {
            snprintf(buf, cap, "%.*s", (int)(n - (size_t)tl), s + tl);
            return buf;
        }
        s = e ? e + 1 : NULL;
    }
    fail_msg("oracle gave no result for c%u", t);
    return NULL;
}

static void pc_expect(const pycheck_t *pc, unsigned t, const char *want, const char *what)
{
    char buf[512];
    const char *got = pc_result(pc, t, buf, sizeof(buf));
    if (strncmp(got, want, strlen(want)) != 0) {
        char tag[16];
        int tl = snprintf(tag, sizeof(tag), "c%u ", t);
        const char *c = strstr(pc->cmds, tag);
        fail_msg("%s: dnspython says '%s' to '%.*s', expected '%s'", what, got,
                 c ? (int)strcspn(c + tl, " ") + 16 : 0, c ? c + tl : "", want);
    }
}

/* The i-th message command t printed ("c<t> msg HEX"). */
static bool pc_msg(const pycheck_t *pc, unsigned t, int i, uint8_t *out, size_t cap, size_t *len)
{
    char tag[24];
    int tl = snprintf(tag, sizeof(tag), "c%u msg ", t);
    for (const char *s = pc->out; s && *s;) {
        const char *e = strchr(s, '\n');
        if (strncmp(s, tag, (size_t)tl) == 0 && i-- == 0) {
            size_t n = (e ? (size_t)(e - s) : strlen(s)) - (size_t)tl;
            int k = dns_hex_decode(s + tl, n, out, cap);
            assert_true(k > 0);
            *len = (size_t)k;
            return true;
        }
        s = e ? e + 1 : NULL;
    }
    return false;
}

/* Per algorithm: what phase 2 queued and phase 3 checks. */
typedef struct pycase {
    unsigned plain, upper, trunc, badtrunc, old, newer, unknown, wrong, stream;
    unsigned ourreq, ourstream, ourstream_unsigned;
    dns_tsig_ctx_t cl_req, cl_stream, cl_unsigned;
} pycase_t;

/* Verifies python's request line, checks the rcode and TSIG error, signs
 * a reply with n records, queues `CMD ALG REQMAC RESP [extra]`. */
static unsigned py_reply(pycheck_t *pc, keyset_t *ks, const pyline_t *l, uint64_t now,
                         int want_rcode, uint16_t want_error, const char *cmd,
                         const char *extra, dns_tsig_ctx_t *sv)
{
    uint8_t r[4096];
    int rc = dns_tsig_verify_request(sv, l->msg, l->len, tsig_off_of(l->msg, l->len), now,
                                     find_key, ks);
    if (rc != want_rcode || sv->error != want_error)
        fail_msg("%s %s: rcode %d error %u, expected %d error %u", l->tag, l->alg, rc,
                 sv->error, want_rcode, want_error);
    size_t rlen = build_reply(l->msg, l->len, 0, 2, sv, r, sizeof(r));
    r[3] = (uint8_t)((r[3] & 0xf0) | (rc > 0 ? rc : 0));
    sign_ok(sv, r, &rlen, sizeof(r), now);
    char *mh = to_hex(l->mac, l->mac_len), *rh = to_hex(r, rlen);
    unsigned t = pc_add(pc, "%s %s %s %s%s%s", cmd, l->alg, l->mac_len ? mh : "00", rh,
                        extra ? " " : "", extra ? extra : "");
    free(mh);
    free(rh);
    return t;
}

static void py_phase2(pycheck_t *pc, keyset_t *ks, const pyline_t *pl, size_t npl,
                      pycase_t *c, int i)
{
    const char *a = dns_tsig_alg_text(algs[i]);
    dns_tsig_ctx_t sv;
    c->plain = py_reply(pc, ks, py_find(pl, npl, "req", a), NOW, 0, 0, "resp", NULL, &sv);
    /* Upper-case key and algorithm names: the reply echoes them. */
    const pyline_t *up = py_find(pl, npl, "requp", a);
    c->upper = py_reply(pc, ks, up, NOW, 0, 0, "resp", NULL, &sv);
    assert_memory_equal(sv.alg_name, up->msg + up->len - 16 - dns_tsig_alg_mac_len(algs[i]) -
                        dns_name_len(sv.alg_name), dns_name_len(sv.alg_name));
    assert_true(sv.alg_name[1] == 'H');
    /* Truncated to max(10, half): accepted; the reply chains to it. */
    const pyline_t *tr = py_find(pl, npl, "reqtrunc", a);
    c->trunc = py_reply(pc, ks, tr, NOW, 0, 0, "resp", NULL, &sv);
    /* One octet shorter: FORMERR, no TSIG in the reply. */
    const pyline_t *sh = py_find(pl, npl, "reqshort", a);
    assert_int_equal(dns_tsig_verify_request(&sv, sh->msg, sh->len, tsig_off_of(sh->msg, sh->len),
                                             NOW, find_key, ks), DNS_R_FORMERR);
    assert_int_equal(dns_tsig_space(&sv), 0);
    /* A key that wants untruncated MACs: BADTRUNC, signed. */
    ks->k[i].trunc_min = 255;
    c->badtrunc = py_reply(pc, ks, tr, NOW, DNS_R_NOTAUTH, DNS_TSIG_BADTRUNC, "lenient", NULL,
                           &sv);
    ks->k[i].trunc_min = 0;
    /* Signed 1000 s before or after now (fudge 300): BADTIME, signed,
     * with the request's time and ours in Other Data. */
    c->old = py_reply(pc, ks, py_find(pl, npl, "reqold", a), NOW, DNS_R_NOTAUTH,
                      DNS_TSIG_BADTIME, "lenient", NULL, &sv);
    assert_int_equal(sv.req_time, NOW - 1000);
    c->newer = py_reply(pc, ks, py_find(pl, npl, "reqnew", a), NOW, DNS_R_NOTAUTH,
                        DNS_TSIG_BADTIME, "lenient", NULL, &sv);
    /* Unknown key: BADKEY, unsigned, the names echoed. */
    c->unknown = py_reply(pc, ks, py_find(pl, npl, "requnknown", a), NOW, DNS_R_NOTAUTH,
                          DNS_TSIG_BADKEY, "errresp", "PeerBadKey", &sv);
    assert_null(sv.key);
    assert_true(dns_name_equal(sv.key_name, (const uint8_t *)"\x05nokey\x07" "example"));
    /* Wrong secret: BADSIG, unsigned. */
    c->wrong = py_reply(pc, ks, py_find(pl, npl, "reqwrong", a), NOW, DNS_R_NOTAUTH,
                        DNS_TSIG_BADSIG, "errresp", "PeerBadSignature", &sv);
    /* Our stream of 5 messages answering its AXFR. */
    const pyline_t *ax = py_find(pl, npl, "reqaxfr", a);
    assert_int_equal(dns_tsig_verify_request(&sv, ax->msg, ax->len, tsig_off_of(ax->msg, ax->len),
                                             NOW, find_key, ks), DNS_R_NOERROR);
    char *cmd = NULL;
    size_t cl = 0;
    FILE *m = open_memstream(&cmd, &cl);
    char *mh = to_hex(ax->mac, ax->mac_len);
    fprintf(m, "respstream %s %s", a, mh);
    free(mh);
    for (int part = 0; part < 5; part++) {
        uint8_t r[4096];
        size_t rlen = build_reply(ax->msg, ax->len, part, 10, &sv, r, sizeof(r));
        sign_ok(&sv, r, &rlen, sizeof(r), NOW + (uint64_t)part);
        char *rh = to_hex(r, rlen);
        fprintf(m, " %s", rh);
        free(rh);
    }
    fclose(m);
    c->stream = pc_add(pc, "%s", cmd);
    free(cmd);
    /* Our requests, which it verifies and answers. */
    uint8_t q[512];
    size_t qlen = build_query(q, sizeof(q), 0x4242, DNS_T_SOA);
    dns_tsig_client_init(&c->cl_req, &ks->k[i]);
    sign_ok(&c->cl_req, q, &qlen, sizeof(q), NOW);
    char *qh = to_hex(q, qlen);
    c->ourreq = pc_add(pc, "ourreq %s %s", a, qh);
    free(qh);
    qlen = build_query(q, sizeof(q), 0x4343, DNS_T_AXFR);
    dns_tsig_client_init(&c->cl_stream, &ks->k[i]);
    sign_ok(&c->cl_stream, q, &qlen, sizeof(q), NOW);
    qh = to_hex(q, qlen);
    c->ourstream = pc_add(pc, "ourreqstream %s %s 4 -", a, qh);
    free(qh);
    qlen = build_query(q, sizeof(q), 0x4444, DNS_T_AXFR);
    dns_tsig_client_init(&c->cl_unsigned, &ks->k[i]);
    sign_ok(&c->cl_unsigned, q, &qlen, sizeof(q), NOW);
    qh = to_hex(q, qlen);
    c->ourstream_unsigned = pc_add(pc, "ourreqstream %s %s 6 1,2,4", a, qh);
    free(qh);
}

/* BADTIME: "ok ERROR TIME OTHER" with our clock in Other Data. */
static void expect_badtime(const pycheck_t *pc, unsigned t, uint64_t req_time, const char *a)
{
    char buf[512], want[128];
    snprintf(want, sizeof(want), "ok 18 %llu 0000%08llx", (unsigned long long)req_time,
             (unsigned long long)NOW);
    const char *got = pc_result(pc, t, buf, sizeof(buf));
    if (strcmp(got, want) != 0)
        fail_msg("BADTIME %s: dnspython says '%s', expected '%s'", a, got, want);
}

/* Our client verifies the messages python sent for command t. */
static void py_client(const pycheck_t *pc, unsigned t, dns_tsig_ctx_t *cl, int nmsg,
                      const char *what)
{
    uint8_t m[4096];
    size_t len;
    int i = 0;
    for (; pc_msg(pc, t, i, m, sizeof(m), &len); i++) {
        int rc = dns_tsig_verify_response(cl, m, len, tsig_off_of(m, len), NOW);
        if (rc != ZL_OK)
            fail_msg("%s: message %d: %s (error %u)", what, i, zl_strerror(rc), cl->error);
    }
    assert_int_equal(i, nmsg);
    assert_true(dns_tsig_complete(cl));
    dns_tsig_ctx_clear(cl);
}

static void test_dnspython(void **state)
{
    (void)state;
    if (!have_python())
        skip();
    static pyline_t pl[64];
    size_t npl = oracle_make(pl, 64);
    keyset_t ks;
    keyset_init(&ks);
    pycheck_t pc = { 0 };
    static pycase_t c[NALG];
    for (int i = 0; i < NALG; i++)
        py_phase2(&pc, &ks, pl, npl, &c[i], i);
    pc_run(&pc);
    for (int i = 0; i < NALG; i++) {
        const char *a = dns_tsig_alg_text(algs[i]);
        pc_expect(&pc, c[i].plain, "ok", a);
        pc_expect(&pc, c[i].upper, "ok", a);
        pc_expect(&pc, c[i].trunc, "ok", a);
        pc_expect(&pc, c[i].badtrunc, "ok 22 ", a);
        expect_badtime(&pc, c[i].old, NOW - 1000, a);
        expect_badtime(&pc, c[i].newer, NOW + 1000, a);
        pc_expect(&pc, c[i].unknown, "ok", a);
        pc_expect(&pc, c[i].wrong, "ok", a);
        pc_expect(&pc, c[i].stream, "ok", a);
        pc_expect(&pc, c[i].ourreq, "ok", a);
        pc_expect(&pc, c[i].ourstream, "ok", a);
        pc_expect(&pc, c[i].ourstream_unsigned, "ok", a);
        py_client(&pc, c[i].ourreq, &c[i].cl_req, 1, a);
        py_client(&pc, c[i].ourstream, &c[i].cl_stream, 4, a);
        py_client(&pc, c[i].ourstream_unsigned, &c[i].cl_unsigned, 6, a);
    }
    free(pc.cmds);
    free(pc.out);
}

/* ---- ldns ---- */

#if LDNS_BUILD_CONFIG_HAVE_SSL
static ldns_pkt *ldns_pkt_of(const uint8_t *m, size_t len)
{
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, m, len), LDNS_STATUS_OK);
    return p;
}

/* The key as ldns takes it: name text and base64 secret. */
typedef struct lkey {
    char name[64], secret[400];
    const char *alg;
} lkey_t;

static void lkey_of(const dns_tsig_key_t *k, lkey_t *l)
{
    assert_true(dns_name_to_text(k->name, l->name, sizeof(l->name)) > 0);
    int n = dns_b64_encode(k->secret, k->secret_len, l->secret, sizeof(l->secret) - 1);
    assert_true(n > 0);
    l->secret[n] = 0;
    l->alg = k->alg == DNS_TSIG_HMAC_MD5 ? "hmac-md5.sig-alg.reg.int." : dns_tsig_alg_text(k->alg);
}

/* Signs wire m with ldns (chained to prior, timers only after the first
 * message of a stream); returns the new wire (owned) and its MAC. */
static uint8_t *ldns_sign(const lkey_t *lk, const uint8_t *m, size_t len, const uint8_t *prior,
                          size_t prior_len, int timers_only, size_t *out_len, ldns_rdf **mac)
{
    ldns_pkt *p = ldns_pkt_of(m, len);
    ldns_rdf *pm = prior ? ldns_native2rdf_int16_data(prior_len, (uint8_t *)prior) : NULL;
    char alg[40];
    snprintf(alg, sizeof(alg), "%s%s", lk->alg, lk->alg[strlen(lk->alg) - 1] == '.' ? "" : ".");
    ldns_status st = ldns_pkt_tsig_sign_next(p, lk->name, lk->secret, 300, alg, pm, timers_only);
    assert_int_equal(st, LDNS_STATUS_OK);
    uint8_t *w = NULL;
    assert_int_equal(ldns_pkt2wire(&w, p, out_len), LDNS_STATUS_OK);
    if (mac)
        *mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
    ldns_rdf_deep_free(pm);
    ldns_pkt_free(p);
    return w;
}

static bool ldns_ok(const lkey_t *lk, const uint8_t *m, size_t len, const uint8_t *prior,
                    size_t prior_len, int timers_only)
{
    ldns_pkt *p = ldns_pkt_of(m, len);
    ldns_rdf *pm = prior ? ldns_native2rdf_int16_data(prior_len, (uint8_t *)prior) : NULL;
    bool ok = ldns_pkt_tsig_verify_next(p, m, len, lk->name, lk->secret, pm, timers_only);
    ldns_rdf_deep_free(pm);
    ldns_pkt_free(p);
    return ok;
}

static void ldns_one(keyset_t *ks, int i)
{
    dns_tsig_key_t *k = &ks->k[i];
    lkey_t lk;
    lkey_of(k, &lk);
    uint64_t now = (uint64_t)time(NULL); /* ldns signs with the clock */
    uint8_t q[512], r[4096];
    size_t qlen = build_query(q, sizeof(q), 0x5151, DNS_T_AXFR), slen, rlen;
    dns_tsig_ctx_t sv, cl;
    ldns_rdf *mac = NULL;
    /* ldns's request, our verification, our stream, ldns's verification. */
    uint8_t *sq = ldns_sign(&lk, q, qlen, NULL, 0, 0, &slen, &mac);
    assert_int_equal(dns_tsig_verify_request(&sv, sq, slen, tsig_off_of(sq, slen), now,
                                             find_key, ks), DNS_R_NOERROR);
    uint8_t prior[DNS_TSIG_MAC_MAX];
    size_t prior_len = ldns_rdf_size(mac) - 2;
    memcpy(prior, ldns_rdf_data(mac) + 2, prior_len);
    ldns_rdf_deep_free(mac);
    for (int part = 0; part < 3; part++) {
        rlen = build_reply(sq, slen, part, 4, &sv, r, sizeof(r));
        sign_ok(&sv, r, &rlen, sizeof(r), now);
        if (!ldns_ok(&lk, r, rlen, prior, prior_len, part > 0))
            fail_msg("%s: ldns rejects our message %d", lk.alg, part);
        memcpy(prior, sv.mac, sv.mac_len);
        prior_len = sv.mac_len;
    }
    free(sq);
    /* Our request, ldns's verification, ldns's stream, ours. */
    dns_tsig_client_init(&cl, k);
    sign_ok(&cl, q, &qlen, sizeof(q), now);
    if (!ldns_ok(&lk, q, qlen, NULL, 0, 0))
        fail_msg("%s: ldns rejects our request", lk.alg);
    memcpy(prior, cl.mac, cl.mac_len);
    prior_len = cl.mac_len;
    for (int part = 0; part < 3; part++) {
        rlen = build_reply(q, qlen, part, 4, NULL, r, sizeof(r));
        uint8_t *sr = ldns_sign(&lk, r, rlen, prior, prior_len, part > 0, &slen, &mac);
        int rc = dns_tsig_verify_response(&cl, sr, slen, tsig_off_of(sr, slen), now);
        if (rc != ZL_OK)
            fail_msg("%s: ldns's message %d: %s", lk.alg, part, zl_strerror(rc));
        prior_len = ldns_rdf_size(mac) - 2;
        memcpy(prior, ldns_rdf_data(mac) + 2, prior_len);
        ldns_rdf_deep_free(mac);
        free(sr);
    }
    assert_true(dns_tsig_complete(&cl));
    /* Our BADTIME reply: ldns checks its MAC (with error and Other Data). */
    qlen = build_query(q, sizeof(q), 0x5252, DNS_T_SOA);
    sq = ldns_sign(&lk, q, qlen, NULL, 0, 0, &slen, &mac);
    assert_int_equal(dns_tsig_verify_request(&sv, sq, slen, tsig_off_of(sq, slen), now + 3600,
                                             find_key, ks), DNS_R_NOTAUTH);
    assert_int_equal(sv.error, DNS_TSIG_BADTIME);
    rlen = build_reply(sq, slen, 0, 1, &sv, r, sizeof(r));
    sign_ok(&sv, r, &rlen, sizeof(r), now + 3600);
    rd_t rd;
    rd_read(r, rlen, &rd);
    assert_int_equal(rd.error, DNS_TSIG_BADTIME);
    assert_int_equal(rd.time, sv.req_time);
    assert_int_equal(rd.other_len, 6);
    assert_int_equal(((uint64_t)rd.other[0] << 40 | (uint64_t)rd.other[1] << 32 |
                      dns_get_u32(rd.other + 2)), now + 3600);
    if (!ldns_ok(&lk, r, rlen, ldns_rdf_data(mac) + 2, ldns_rdf_size(mac) - 2, 0))
        fail_msg("%s: ldns rejects our BADTIME reply", lk.alg);
    ldns_rdf_deep_free(mac);
    free(sq);
}
#endif

static void test_ldns(void **state)
{
    (void)state;
#if LDNS_BUILD_CONFIG_HAVE_SSL
    keyset_t ks;
    keyset_init(&ks);
    for (int i = 0; i < NALG; i++) {
        /* ldns 1.8.3 cannot: it knows no SHA224 and misspells SHA384
         * ("hmac-shac384."); dnspython covers them. */
        if (algs[i] == DNS_TSIG_HMAC_SHA224 || algs[i] == DNS_TSIG_HMAC_SHA384)
            continue;
        ldns_one(&ks, i);
    }
#else
    skip(); /* the unikernel's ldns is built without OpenSSL: no TSIG */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_lookup),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_reply_forms),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_space),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_dnspython),
        cmocka_unit_test(test_ldns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
