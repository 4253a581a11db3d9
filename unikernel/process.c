/* srv_process: header, question, EDNS, cookies and NSID, the opcode
 * switch, and the finished reply. The opcode modules write their
 * sections into the builder this file prepares (msg_int.h). */
#include "unikernel/process.h"

#include <string.h>

#include "dns/cookie.h"
#include "unikernel/msg_int.h"

#define NSID_MAX 255   /* longer NSID payloads are not sent */

void srv_msg_cfg_init(srv_msg_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->udp_max = 1232;
}

void srv_route_keep(srv_route_kept_t *dst, const srv_route_t *src)
{
    dst->r = *src;
    dst->r.peer = NULL;
    dst->r.ctl = NULL;
    dst->r.ctl_len = 0;
    if (src->peer && src->peer_len <= sizeof dst->peer) {
        memcpy(&dst->peer, src->peer, src->peer_len);
        dst->r.peer = (const struct sockaddr *)&dst->peer;
    }
    if (src->ctl && src->ctl_len <= sizeof dst->ctl) {
        memcpy(dst->ctl, src->ctl, src->ctl_len);
        dst->r.ctl = dst->ctl;
        dst->r.ctl_len = src->ctl_len;
    }
}

size_t srv_stream_next(srv_stream_t *s, uint8_t *buf, size_t cap)
{
    return s->next(s, buf, cap);
}

void srv_stream_free(srv_stream_t *s)
{
    if (s)
        s->free(s);
}

/* RFC 1035 §4.2.1 (512 without EDNS), RFC 6891 §6.2.5 (the requestor's
 * size, at least 512), our configured maximum; TCP: one 16-bit frame. */
static size_t reply_limit(const srv_msg_t *m, size_t cap)
{
    size_t lim = 512;
    if (m->client && m->client->tcp) {
        lim = 65535;
    } else if (m->opt) {
        lim = m->edns.udp_size < m->ctx->cfg->udp_max ? m->edns.udp_size : m->ctx->cfg->udp_max;
        if (lim < 512)
            lim = 512;
    }
    return lim < cap ? lim : cap;
}

/* The COOKIE option (RFC 7873 §5.2): a server cookie of ours under half
 * an hour old is sent back as it is (RFC 9018 §4.3), any other client
 * cookie gets a fresh RFC 9018 server cookie. Returns the state of the
 * request's cookie (DNS_COOKIE_MALFORMED: FORMERR, nothing added). */
static enum dns_cookie_state cookie_answer(srv_msg_t *m)
{
    const srv_msg_cfg_t *cfg = m->ctx->cfg;
    const uint8_t *cc = m->edns.cookie, *ip = m->client ? m->client->addr : NULL;
    size_t iplen = !m->client ? 0 : m->client->family == 4 ? 4 : m->client->family == 6 ? 16 : 0;
    enum dns_cookie_state st = dns_cookie_check(cfg->cookie_secret, cc, m->edns.cookie_len,
                                                ip, iplen, (uint32_t)m->now);
    if (st == DNS_COOKIE_MALFORMED)
        return st;
    uint8_t sc[DNS_COOKIE_SERVER_LEN];
    if (st == DNS_COOKIE_GOOD)
        memcpy(sc, cc + DNS_COOKIE_CLIENT_LEN, sizeof(sc));
    else
        dns_cookie_server(cfg->cookie_secret, cc, ip, iplen, (uint32_t)m->now, sc);
    (void)dns_edns_resp_add(&m->resp, DNS_EO_COOKIE, cc, DNS_COOKIE_CLIENT_LEN, sc, sizeof(sc));
    return st;
}

/* Reads the request's OPT and starts the reply's. Returns the rcode
 * that ends processing (FORMERR, BADVERS) or NOERROR; *cookie gets the
 * state of the request's cookie (CLIENT_ONLY when there is none). */
static uint16_t edns_start(srv_msg_t *m, enum dns_cookie_state *cookie)
{
    const srv_msg_cfg_t *cfg = m->ctx->cfg;
    *cookie = DNS_COOKIE_CLIENT_ONLY;
    if (!m->q.has_edns)
        return DNS_R_NOERROR;
    m->opt = true;
    int rc = dns_edns_read(&m->q.edns, &m->edns);
    dns_edns_resp_init(&m->resp, cfg->udp_max < 512 ? 512 : cfg->udp_max,
                       m->edns.dnssec_ok ? DNS_EDNS_DO : 0);
    if (rc != ZL_OK)
        return DNS_R_FORMERR;
    if (m->edns.nsid && cfg->nsid && cfg->nsid_len <= NSID_MAX)
        (void)dns_edns_resp_add(&m->resp, DNS_EO_NSID, cfg->nsid, cfg->nsid_len, NULL, 0);
    /* RFC 6891 §6.1.3: a version we do not implement gets BADVERS and
     * an OPT of the version we do. */
    if (m->edns.version > 0)
        return DNS_R_BADVERS;
    if (cfg->cookies && m->edns.cookie) {
        *cookie = cookie_answer(m);
        if (*cookie == DNS_COOKIE_MALFORMED)
            return DNS_R_FORMERR;
    }
    return DNS_R_NOERROR;
}

/* The rcode for a request that did not parse: RFC 7873 §5.4 lets a
 * QUERY without a question fetch a server cookie; anything else is
 * FORMERR (RFC 1035 §4.1.1, RFC 9619). */
static uint16_t parse_failure(const srv_msg_t *m, enum dns_cookie_state cookie)
{
    bool cookie_only = m->q.qdcount == 0 && DNS_F_OPCODE(m->q.flags) == DNS_OP_QUERY &&
                       m->opt && m->edns.cookie && m->ctx->cfg->cookies;
    if (!cookie_only)
        return DNS_R_FORMERR;
    return cookie == DNS_COOKIE_BAD ? DNS_R_BADCOOKIE : DNS_R_NOERROR;
}

/* Hands a well-formed request to its opcode's module. */
static uint16_t dispatch(srv_msg_t *m)
{
    switch (DNS_F_OPCODE(m->q.flags)) {
    case DNS_OP_QUERY:
        return srv_query(m);
    case DNS_OP_NOTIFY:
        return srv_notify(m);
    case DNS_OP_UPDATE:
        return srv_update(m);
    default:
        return DNS_R_NOTIMP;
    }
}

void srv_msg_keep(srv_msg_t *dst, const srv_msg_t *m, dns_tsig_key_t *key)
{
    *dst = *m;
    dst->req = NULL;
    dst->ctx = NULL;
    dst->client = NULL;
    dst->key = NULL;
    dst->edns.cookie = NULL;
    if (m->tsig && m->tsig_ctx.key) {
        *key = *m->tsig_ctx.key;
        dst->tsig_ctx.key = key;
    }
}

size_t srv_msg_room(const srv_msg_t *m)
{
    return (m->opt ? dns_edns_resp_size(&m->resp) : 0) + (m->tsig ? dns_tsig_space(&m->tsig_ctx) : 0);
}

size_t srv_msg_finish(srv_msg_t *m, dns_msgb_t *b, uint16_t flags, uint16_t rcode)
{
    dns_msgb_set_flags(b, (uint16_t)(flags | (rcode & 0xf)));
    dns_msgb_unreserve(b, srv_msg_room(m));
    if (m->opt && dns_edns_resp_write(b, &m->resp, rcode) != ZL_OK)
        return 0;
    size_t len = dns_msgb_finish(b);
    /* RFC 8945 §5.3: the TSIG goes last, over the finished message. */
    if (len && m->tsig && dns_tsig_sign(&m->tsig_ctx, b->w.base, &len, b->w.len, m->now) != ZL_OK)
        return 0;
    return len;
}

/* No keys at all: every key is unknown (BADKEY). */
static const dns_tsig_key_t *no_key(void *fctx, const uint8_t *name, uint8_t alg)
{
    (void)fctx;
    (void)name;
    (void)alg;
    return NULL;
}

/* RFC 8945 §5.2: a request with a TSIG is answered only when it
 * verifies; otherwise NOTAUTH (BADKEY, BADSIG, BADTIME, BADTRUNC, in the
 * reply's TSIG) or FORMERR. Returns the rcode. */
static uint16_t tsig_start(srv_msg_t *m)
{
    int rc = dns_tsig_verify_request(&m->tsig_ctx, m->req, m->req_len, m->q.tsig_off, m->now,
                                     m->ctx->keys ? zone_keyring_tsig_find : no_key,
                                     (void *)m->ctx->keys);
    if (rc < 0)
        return DNS_R_SERVFAIL;   /* the MAC could not be computed: unsigned */
    m->tsig = rc != DNS_R_FORMERR;
    if (rc == DNS_R_NOERROR)
        m->key = zone_key_of(m->tsig_ctx.key);
    return (uint16_t)rc;
}

const zone_t *srv_msg_zone(const srv_msg_t *m)
{
    return m->ctx->zones ? zone_set_get(m->ctx->zones, m->q.qname) : NULL;
}

bool srv_msg_allows(const srv_msg_t *m, const zone_t *z, unsigned right)
{
    return m->key && zone_key_allows(m->key, zone_origin(z), right);
}

srv_result_t srv_process(const srv_ctx_t *ctx, const uint8_t *req, size_t len,
                         const srv_client_t *client, uint64_t now, srv_out_t *out)
{
    /* Responses are never answered: no loops between servers. */
    if (len < DNS_HDR_LEN || out->cap < 512 || (dns_get_u16(req + 2) & DNS_F_QR))
        return SRV_DROP;
    /* Not zero-initialised: the struct is large (builder, option
     * buffer) and every field is set before it is read. */
    srv_msg_t m;
    m.ctx = ctx;
    m.client = client;
    m.now = now;
    m.req = req;
    m.req_len = len;
    m.opt = false;
    m.tsig = false;
    m.key = NULL;
    m.result = SRV_REPLY;
    m.stream = NULL;
    int prc = dns_query_parse(&m.q, req, len);
    enum dns_cookie_state cookie;
    uint16_t rcode = edns_start(&m, &cookie);
    if (prc != ZL_OK && rcode == DNS_R_NOERROR)
        rcode = parse_failure(&m, cookie);
    if (prc == ZL_OK && m.q.tsig_off && rcode == DNS_R_NOERROR)
        rcode = tsig_start(&m);
    m.flags = (uint16_t)(DNS_F_QR | (m.q.flags & (0xfu << 11 | DNS_F_RD | DNS_F_CD)));
    dns_msgb_init(&m.b, out->buf, reply_limit(&m, out->cap), m.q.id, m.flags);
    /* RFC 1035 §4.1.1: FORMERR with the question when it parsed. */
    bool question = m.q.qdcount == 1 && m.q.question_end > 0;
    if (question && dns_msgb_question(&m.b, m.q.qname, m.q.qtype, m.q.qclass) != ZL_OK)
        return SRV_DROP;
    if (dns_msgb_reserve(&m.b, srv_msg_room(&m)) != ZL_OK)
        return SRV_DROP;
    if (prc == ZL_OK && rcode == DNS_R_NOERROR)
        rcode = dispatch(&m);
    if (m.result == SRV_STREAM) {
        out->stream = m.stream;
        out->len = 0;
        return SRV_STREAM;
    }
    if (m.result == SRV_DEFER || m.result == SRV_DROP)
        return m.result;
    out->len = srv_msg_finish(&m, &m.b, m.flags, rcode);
    return out->len ? SRV_REPLY : SRV_DROP;
}
