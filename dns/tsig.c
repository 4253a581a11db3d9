/* TSIG (RFC 8945). The MAC input is built piecewise into one mbedTLS
 * HMAC context: prior MAC, message (header copied with the Original ID
 * and ARCOUNT adjusted), TSIG variables or timers. The only file of dns/
 * that includes mbedTLS. */
#include "dns/tsig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/md.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/rr.h"
#include "dns/wire.h"

typedef struct alg_info {
    uint8_t alg;
    mbedtls_md_type_t md;
    uint8_t mac_len;
    const char *text;     /* nsupdate's spelling */
    const uint8_t *name;  /* wire form, lower case */
} alg_info_t;

static const alg_info_t algs[] = {
    { DNS_TSIG_HMAC_MD5, MBEDTLS_MD_MD5, 16, "hmac-md5",
      (const uint8_t *)"\x08hmac-md5\x07sig-alg\x03reg\x03int" },
    { DNS_TSIG_HMAC_SHA1, MBEDTLS_MD_SHA1, 20, "hmac-sha1", (const uint8_t *)"\x09hmac-sha1" },
    { DNS_TSIG_HMAC_SHA224, MBEDTLS_MD_SHA224, 28, "hmac-sha224",
      (const uint8_t *)"\x0bhmac-sha224" },
    { DNS_TSIG_HMAC_SHA256, MBEDTLS_MD_SHA256, 32, "hmac-sha256",
      (const uint8_t *)"\x0bhmac-sha256" },
    { DNS_TSIG_HMAC_SHA384, MBEDTLS_MD_SHA384, 48, "hmac-sha384",
      (const uint8_t *)"\x0bhmac-sha384" },
    { DNS_TSIG_HMAC_SHA512, MBEDTLS_MD_SHA512, 64, "hmac-sha512",
      (const uint8_t *)"\x0bhmac-sha512" },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const alg_info_t *alg_find(uint8_t alg)
{
    for (size_t i = 0; i < NALGS; i++)
        if (algs[i].alg == alg)
            return &algs[i];
    return NULL;
}

uint8_t dns_tsig_alg_from_name(const uint8_t *name)
{
    for (size_t i = 0; i < NALGS; i++)
        if (dns_name_equal(name, algs[i].name))
            return algs[i].alg;
    return 0;
}

uint8_t dns_tsig_alg_from_text(const char *s, size_t len)
{
    for (size_t i = 0; i < NALGS; i++) {
        size_t n = strlen(algs[i].text);
        if (len == n && strncasecmp(s, algs[i].text, n) == 0)
            return algs[i].alg;
    }
    uint8_t name[DNS_NAME_MAX];
    if (len && dns_name_from_text(s, len, (const uint8_t *)"", name) > 0)
        return dns_tsig_alg_from_name(name);
    return 0;
}

const uint8_t *dns_tsig_alg_name(uint8_t alg)
{
    const alg_info_t *a = alg_find(alg);
    return a ? a->name : NULL;
}

const char *dns_tsig_alg_text(uint8_t alg)
{
    const alg_info_t *a = alg_find(alg);
    return a ? a->text : NULL;
}

size_t dns_tsig_alg_mac_len(uint8_t alg)
{
    const alg_info_t *a = alg_find(alg);
    return a ? a->mac_len : 0;
}

/* ---- The TSIG RR ---------------------------------------------------- */

#define TSIG_FIXED 16 /* time 6, fudge 2, MAC size 2, ID 2, error 2, other len 2 */

typedef struct tsig_rr {
    uint8_t owner[DNS_NAME_MAX];
    uint8_t alg[DNS_NAME_MAX];
    uint64_t time;
    uint16_t fudge, mac_len, orig_id, error, other_len;
    const uint8_t *mac, *other;
} tsig_rr_t;

/* Reads the TSIG RR at off, which must end the message (RFC 8945 §5.2).
 * ZL_OK or ZL_EFORMAT. */
static int tsig_parse(const uint8_t *msg, size_t len, size_t off, tsig_rr_t *t)
{
    if (len < DNS_HDR_LEN || off < DNS_HDR_LEN || off >= len || dns_get_u16(msg + 10) == 0)
        return ZL_EFORMAT;
    dns_wire_t w;
    dns_wire_init_ro(&w, msg, len);
    dns_wire_seek(&w, off);
    int ol = dns_name_parse(&w, t->owner);
    uint16_t type = dns_wire_u16(&w), rclass = dns_wire_u16(&w);
    uint32_t ttl = dns_wire_u32(&w);
    uint16_t rdlen = dns_wire_u16(&w);
    if (ol < 0 || w.err || type != DNS_T_TSIG || rclass != DNS_C_ANY || ttl != 0 ||
        rdlen != len - w.pos)
        return ZL_EFORMAT;
    /* RFC 3597 §4: the algorithm name is not compressed. */
    int al = dns_name_check(dns_wire_cur(&w), rdlen);
    if (al < 0)
        return ZL_EFORMAT;
    dns_wire_read(&w, t->alg, (size_t)al);
    t->time = (uint64_t)dns_wire_u16(&w) << 32;
    t->time |= dns_wire_u32(&w);
    t->fudge = dns_wire_u16(&w);
    t->mac_len = dns_wire_u16(&w);
    t->mac = dns_wire_cur(&w);
    dns_wire_skip(&w, t->mac_len);
    t->orig_id = dns_wire_u16(&w);
    t->error = dns_wire_u16(&w);
    t->other_len = dns_wire_u16(&w);
    t->other = dns_wire_cur(&w);
    dns_wire_skip(&w, t->other_len);
    return w.err || w.pos != len ? ZL_EFORMAT : ZL_OK;
}

/* RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than both 10
 * octets and half the hash, is malformed. */
static bool mac_len_ok(uint16_t mac_len, size_t full)
{
    size_t min = full / 2 > 10 ? full / 2 : 10;
    return mac_len <= full && mac_len >= min;
}

/* BADTRUNC (§5.2.4): shorter than the key's policy. */
static bool mac_len_policy(const dns_tsig_key_t *key, uint16_t mac_len, size_t full)
{
    size_t min = key->trunc_min < full ? key->trunc_min : full;
    return mac_len >= min;
}

static bool time_ok(uint64_t t, uint16_t fudge, uint64_t now)
{
    return now <= t + fudge && t <= now + fudge;
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

/* ---- MAC computation -------------------------------------------------- */

/* What goes after the message: the TSIG variables (§4.3.3) or, for the
 * messages after the first of a stream, the timers only (§4.3.1). */
typedef struct tsig_vars {
    const uint8_t *key_name, *alg_name; /* digested lower-cased */
    uint64_t time;
    uint16_t fudge, error, other_len;
    const uint8_t *other;
    bool timers_only;
} tsig_vars_t;

static int md_start(mbedtls_md_context_t *md, const dns_tsig_key_t *key)
{
    const alg_info_t *a = alg_find(key->alg);
    const mbedtls_md_info_t *info = a ? mbedtls_md_info_from_type(a->md) : NULL;
    mbedtls_md_init(md);
    if (!info)
        return ZL_ECRYPTO;
    int rc = mbedtls_md_setup(md, info, 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_starts(md, key->secret, key->secret_len);
    if (rc != 0) {
        mbedtls_md_free(md);
        return rc == MBEDTLS_ERR_MD_ALLOC_FAILED ? ZL_ENOMEM : ZL_ECRYPTO;
    }
    return ZL_OK;
}

/* Prior MAC with its length (§4.3.1, "MAC Size, MAC"). */
static int md_prior(mbedtls_md_context_t *md, const uint8_t *mac, uint16_t mac_len)
{
    uint8_t n[2];
    dns_put_u16(n, mac_len);
    return mbedtls_md_hmac_update(md, n, 2) || mbedtls_md_hmac_update(md, mac, mac_len);
}

/* The message msg[0..len) with the header's ID and ARCOUNT replaced. */
static int md_message(mbedtls_md_context_t *md, const uint8_t *msg, size_t len, uint16_t id,
                      uint16_t arcount)
{
    uint8_t hdr[DNS_HDR_LEN];
    memcpy(hdr, msg, DNS_HDR_LEN);
    dns_put_u16(hdr, id);
    dns_put_u16(hdr + 10, arcount);
    return mbedtls_md_hmac_update(md, hdr, DNS_HDR_LEN) ||
           mbedtls_md_hmac_update(md, msg + DNS_HDR_LEN, len - DNS_HDR_LEN);
}

static int md_vars(mbedtls_md_context_t *md, const tsig_vars_t *v)
{
    uint8_t buf[2 * DNS_NAME_MAX + 32];
    dns_wire_t w;
    dns_wire_init(&w, buf, sizeof(buf));
    if (!v->timers_only) {
        uint8_t name[DNS_NAME_MAX];
        dns_name_copy(name, v->key_name);
        dns_name_lower(name);
        dns_wire_write(&w, name, dns_name_len(name));
        dns_wire_put_u16(&w, DNS_C_ANY);
        dns_wire_put_u32(&w, 0);
        dns_name_copy(name, v->alg_name);
        dns_name_lower(name);
        dns_wire_write(&w, name, dns_name_len(name));
    }
    dns_wire_put_u16(&w, (uint16_t)(v->time >> 32));
    dns_wire_put_u32(&w, (uint32_t)v->time);
    dns_wire_put_u16(&w, v->fudge);
    if (!v->timers_only) {
        dns_wire_put_u16(&w, v->error);
        dns_wire_put_u16(&w, v->other_len);
    }
    if (w.err)
        return w.err;
    if (mbedtls_md_hmac_update(md, buf, w.pos))
        return ZL_ECRYPTO;
    if (!v->timers_only && v->other_len && mbedtls_md_hmac_update(md, v->other, v->other_len))
        return ZL_ECRYPTO;
    return ZL_OK;
}

/* Finishes md (started, prior MAC and earlier messages already in it)
 * with this message and the variables; frees md. */
static int md_finish(mbedtls_md_context_t *md, const uint8_t *msg, size_t len, uint16_t id,
                     uint16_t arcount, const tsig_vars_t *v, uint8_t out[DNS_TSIG_MAC_MAX])
{
    int rc = md_message(md, msg, len, id, arcount) ? ZL_ECRYPTO : md_vars(md, v);
    if (rc == ZL_OK && mbedtls_md_hmac_finish(md, out))
        rc = ZL_ECRYPTO;
    mbedtls_md_free(md);
    return rc;
}

/* One MAC from scratch: [prior MAC] message variables. */
static int tsig_mac(const dns_tsig_key_t *key, const uint8_t *prior, uint16_t prior_len,
                    const uint8_t *msg, size_t len, uint16_t id, uint16_t arcount,
                    const tsig_vars_t *v, uint8_t out[DNS_TSIG_MAC_MAX])
{
    mbedtls_md_context_t md;
    int rc = md_start(&md, key);
    if (rc)
        return rc;
    if (prior_len && md_prior(&md, prior, prior_len)) {
        mbedtls_md_free(&md);
        return ZL_ECRYPTO;
    }
    return md_finish(&md, msg, len, id, arcount, v, out);
}

/* ---- Server ------------------------------------------------------------ */

int dns_tsig_verify_request(dns_tsig_ctx_t *ctx, const uint8_t *msg, size_t len,
                            size_t tsig_off, uint64_t now, dns_tsig_find_fn find, void *fctx)
{
    tsig_rr_t t;
    memset(ctx, 0, sizeof(*ctx));
    if (tsig_parse(msg, len, tsig_off, &t) != ZL_OK)
        return DNS_R_FORMERR;
    ctx->role = DNS_TSIG_ROLE_SERVER;
    ctx->fudge = DNS_TSIG_FUDGE;
    dns_name_copy(ctx->key_name, t.owner);
    dns_name_copy(ctx->alg_name, t.alg);
    /* §5.2.1: an unknown key or algorithm. */
    uint8_t alg = dns_tsig_alg_from_name(t.alg);
    const dns_tsig_key_t *key = alg && find ? find(fctx, t.owner, alg) : NULL;
    if (!key || key->alg != alg) {
        ctx->error = DNS_TSIG_BADKEY;
        return DNS_R_NOTAUTH;
    }
    size_t full = dns_tsig_alg_mac_len(alg);
    if (!mac_len_ok(t.mac_len, full)) {
        ctx->role = DNS_TSIG_ROLE_NONE;
        return DNS_R_FORMERR;
    }
    ctx->key = key;
    /* §5.2.2: the MAC. */
    uint8_t mac[DNS_TSIG_MAC_MAX];
    tsig_vars_t v = { t.owner, t.alg, t.time, t.fudge, t.error, t.other_len, t.other, false };
    int rc = tsig_mac(key, NULL, 0, msg, tsig_off, t.orig_id,
                      (uint16_t)(dns_get_u16(msg + 10) - 1), &v, mac);
    if (rc) {
        ctx->role = DNS_TSIG_ROLE_NONE;
        return rc;
    }
    if (!ct_equal(mac, t.mac, t.mac_len)) {
        ctx->error = DNS_TSIG_BADSIG;
        return DNS_R_NOTAUTH;
    }
    /* Verified: every reply from here on is signed and chained to it. */
    memcpy(ctx->mac, t.mac, t.mac_len);
    ctx->mac_len = t.mac_len;
    ctx->req_time = t.time;
    if (!time_ok(t.time, t.fudge, now))
        ctx->error = DNS_TSIG_BADTIME; /* §5.2.3 */
    else if (!mac_len_policy(key, t.mac_len, full))
        ctx->error = DNS_TSIG_BADTRUNC; /* §5.2.4 */
    return ctx->error ? DNS_R_NOTAUTH : DNS_R_NOERROR;
}

/* ---- Signing ----------------------------------------------------------- */

/* §5.3.2: BADKEY and BADSIG replies are unsigned. */
static bool sign_unsigned(const dns_tsig_ctx_t *ctx)
{
    return !ctx->key || (ctx->role == DNS_TSIG_ROLE_SERVER &&
                         (ctx->error == DNS_TSIG_BADKEY || ctx->error == DNS_TSIG_BADSIG));
}

static bool sign_badtime(const dns_tsig_ctx_t *ctx)
{
    return ctx->role == DNS_TSIG_ROLE_SERVER && ctx->count == 0 &&
           ctx->error == DNS_TSIG_BADTIME;
}

size_t dns_tsig_space(const dns_tsig_ctx_t *ctx)
{
    if (ctx->role == DNS_TSIG_ROLE_NONE)
        return 0;
    size_t mac = sign_unsigned(ctx) ? 0 : dns_tsig_alg_mac_len(ctx->key->alg);
    return dns_name_len(ctx->key_name) + 10 + dns_name_len(ctx->alg_name) + TSIG_FIXED + mac +
           (sign_badtime(ctx) ? 6 : 0);
}

/* Writes the TSIG RR at the cursor: owner and algorithm as ctx holds
 * them, uncompressed (RFC 3597 §4; some peers reject a compressed owner). */
static void tsig_write(dns_wire_t *w, const dns_tsig_ctx_t *ctx, const tsig_vars_t *v,
                       const uint8_t *mac, uint16_t mac_len, uint16_t id)
{
    dns_name_write(w, ctx->key_name, NULL);
    dns_wire_put_u16(w, DNS_T_TSIG);
    dns_wire_put_u16(w, DNS_C_ANY);
    dns_wire_put_u32(w, 0);
    dns_wire_put_u16(w, (uint16_t)(dns_name_len(ctx->alg_name) + TSIG_FIXED + mac_len +
                                   v->other_len));
    dns_name_write(w, ctx->alg_name, NULL);
    dns_wire_put_u16(w, (uint16_t)(v->time >> 32));
    dns_wire_put_u32(w, (uint32_t)v->time);
    dns_wire_put_u16(w, v->fudge);
    dns_wire_put_u16(w, mac_len);
    dns_wire_write(w, mac, mac_len);
    dns_wire_put_u16(w, id);
    dns_wire_put_u16(w, v->error);
    dns_wire_put_u16(w, v->other_len);
    dns_wire_write(w, v->other, v->other_len);
}

static void run_free(dns_tsig_ctx_t *ctx)
{
    if (ctx->run) {
        mbedtls_md_free(ctx->run);
        free(ctx->run);
        ctx->run = NULL;
    }
}

int dns_tsig_sign(dns_tsig_ctx_t *ctx, uint8_t *buf, size_t *len, size_t cap, uint64_t now)
{
    if (ctx->role == DNS_TSIG_ROLE_NONE)
        return ZL_OK;
    if (*len < DNS_HDR_LEN || *len > cap || dns_get_u16(buf + 10) == 0xffff)
        return ZL_EINVAL;
    if (cap - *len < dns_tsig_space(ctx))
        return ZL_ESPACE;
    bool client = ctx->role == DNS_TSIG_ROLE_CLIENT;
    uint16_t id = dns_get_u16(buf), arcount = dns_get_u16(buf + 10), mac_len = 0;
    uint8_t other[6], mac[DNS_TSIG_MAC_MAX];
    tsig_vars_t v = { ctx->key_name, ctx->alg_name, now, ctx->fudge, client ? 0 : ctx->error,
                      0, other, !client && ctx->count > 0 };
    if (sign_badtime(ctx)) {
        /* RFC 8945 §5.2.3, §5.3.2: the request's time, ours as Other Data. */
        v.time = ctx->req_time;
        v.other_len = 6;
        dns_put_u16(other, (uint16_t)(now >> 32));
        dns_put_u32(other + 2, (uint32_t)now);
    }
    if (client) {
        /* A new request: no prior MAC, nothing received yet. */
        run_free(ctx);
        ctx->mac_len = 0;
        ctx->req_time = now;
        ctx->count = ctx->unsigned_run = 0;
        ctx->error = ctx->peer_error = 0;
    }
    if (!sign_unsigned(ctx)) {
        int rc = tsig_mac(ctx->key, ctx->mac, ctx->mac_len, buf, *len, id, arcount, &v, mac);
        if (rc)
            return rc;
        mac_len = (uint16_t)dns_tsig_alg_mac_len(ctx->key->alg);
    }
    dns_wire_t w;
    dns_wire_init(&w, buf, cap);
    dns_wire_seek(&w, *len);
    tsig_write(&w, ctx, &v, mac, mac_len, id);
    if (w.err)
        return w.err; /* not reached: the room was checked */
    dns_put_u16(buf + 10, (uint16_t)(arcount + 1));
    *len = w.pos;
    memcpy(ctx->mac, mac, mac_len);
    ctx->mac_len = mac_len;
    if (!client)
        ctx->count++;
    return ZL_OK;
}

/* ---- Client ------------------------------------------------------------ */

void dns_tsig_client_init(dns_tsig_ctx_t *ctx, const dns_tsig_key_t *key)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->role = DNS_TSIG_ROLE_CLIENT;
    ctx->key = key;
    ctx->fudge = DNS_TSIG_FUDGE;
    dns_name_copy(ctx->key_name, key->name);
    const uint8_t *an = dns_tsig_alg_name(key->alg);
    dns_name_copy(ctx->alg_name, an ? an : (const uint8_t *)"");
}

void dns_tsig_ctx_clear(dns_tsig_ctx_t *ctx)
{
    run_free(ctx);
    memset(ctx, 0, sizeof(*ctx));
}

/* An unsigned message between signed ones: digested as it came, after
 * the prior MAC (§5.3.1, "DNS Messages: any unsigned messages since the
 * last TSIG"). */
static int client_unsigned(dns_tsig_ctx_t *ctx, const uint8_t *msg, size_t len)
{
    if (ctx->count == 0 || ctx->unsigned_run >= DNS_TSIG_UNSIGNED_MAX) {
        ctx->error = DNS_TSIG_BADSIG;
        return ZL_EBADSIG;
    }
    if (!ctx->run) {
        mbedtls_md_context_t *md = malloc(sizeof(*md));
        if (!md)
            return ZL_ENOMEM;
        int rc = md_start(md, ctx->key);
        if (rc) {
            free(md);
            return rc;
        }
        ctx->run = md;
        if (md_prior(md, ctx->mac, ctx->mac_len)) {
            run_free(ctx);
            return ZL_ECRYPTO;
        }
    }
    if (mbedtls_md_hmac_update(ctx->run, msg, len)) {
        run_free(ctx);
        return ZL_ECRYPTO;
    }
    ctx->unsigned_run++;
    return ZL_OK;
}

static int client_fail(dns_tsig_ctx_t *ctx, uint16_t error)
{
    ctx->error = error;
    return ZL_EBADSIG;
}

int dns_tsig_verify_response(dns_tsig_ctx_t *ctx, const uint8_t *msg, size_t len,
                             size_t tsig_off, uint64_t now)
{
    if (ctx->role != DNS_TSIG_ROLE_CLIENT || !ctx->key || ctx->mac_len == 0)
        return ZL_EINVAL;
    ctx->error = 0;
    if (tsig_off == 0)
        return len < DNS_HDR_LEN ? ZL_EFORMAT : client_unsigned(ctx, msg, len);
    tsig_rr_t t;
    if (tsig_parse(msg, len, tsig_off, &t) != ZL_OK)
        return ZL_EFORMAT;
    if (!dns_name_equal(t.owner, ctx->key->name) ||
        dns_tsig_alg_from_name(t.alg) != ctx->key->alg)
        return client_fail(ctx, DNS_TSIG_BADKEY);
    if (t.error && t.mac_len == 0) {
        /* §5.3.2: BADKEY and BADSIG come unsigned; nothing to verify. */
        ctx->peer_error = t.error;
        return ZL_EDENIED;
    }
    size_t full = dns_tsig_alg_mac_len(ctx->key->alg);
    if (!mac_len_ok(t.mac_len, full))
        return ZL_EFORMAT;
    bool first = ctx->count == 0;
    tsig_vars_t v = { t.owner, t.alg, t.time, t.fudge, t.error, t.other_len, t.other, !first };
    uint16_t arcount = (uint16_t)(dns_get_u16(msg + 10) - 1);
    uint8_t mac[DNS_TSIG_MAC_MAX];
    int rc;
    if (ctx->run) {
        rc = md_finish(ctx->run, msg, tsig_off, t.orig_id, arcount, &v, mac);
        free(ctx->run);
        ctx->run = NULL;
    } else {
        rc = tsig_mac(ctx->key, ctx->mac, ctx->mac_len, msg, tsig_off, t.orig_id, arcount, &v,
                      mac);
    }
    ctx->unsigned_run = 0;
    if (rc)
        return rc;
    if (!ct_equal(mac, t.mac, t.mac_len))
        return client_fail(ctx, DNS_TSIG_BADSIG);
    if (!time_ok(t.time, t.fudge, now))
        return client_fail(ctx, DNS_TSIG_BADTIME);
    if (!mac_len_policy(ctx->key, t.mac_len, full))
        return client_fail(ctx, DNS_TSIG_BADTRUNC);
    memcpy(ctx->mac, t.mac, t.mac_len);
    ctx->mac_len = t.mac_len;
    ctx->count++;
    if (t.error) {
        ctx->peer_error = t.error;
        if (t.error == DNS_TSIG_BADTIME && t.other_len == 6)
            ctx->peer_time = (uint64_t)dns_get_u16(t.other) << 32 | dns_get_u32(t.other + 2);
        return ZL_EDENIED;
    }
    return ZL_OK;
}
