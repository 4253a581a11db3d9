/* zone_answer: header checks, EDNS (RFC 6891, 5001, 7873/9018), class
 * dispatch and the reply limits; the lookup itself is in
 * answer_lookup.c, the writing in answer_encode.c. */
#include <string.h>

#include "dns/cookie.h"
#include "zone/answer_int.h"

void zone_answer_cfg_init(zone_answer_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->udp_max = 1232;
}

#define OPT_NSID_MAX 255   /* longer NSID payloads are not sent */
#define OPT_BUF (4 + OPT_NSID_MAX + 4 + DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN)

/* The reply being prepared, beside the query it answers. */
typedef struct reply {
    dns_query_t q;
    uint16_t flags;       /* reply flags without rcode */
    uint16_t rcode;       /* extended rcode (12 bits) */
    bool question;        /* echo the question */
    bool opt;             /* send an OPT record */
    uint16_t opt_flags;   /* DO echoed */
    uint8_t opts[OPT_BUF];
    uint16_t opts_len;
    size_t limit;         /* largest reply */
    uint16_t udp_max;     /* our payload size, announced in the OPT */
} reply_t;

/* RFC 1035 §4.2.1 (512 without EDNS), RFC 6891 §6.2.5 (the requestor's
 * size, at least 512), our configured maximum; TCP: one 16-bit frame. */
static size_t reply_limit(const reply_t *r, const zone_answer_cfg_t *cfg,
                          const zone_client_t *client, size_t cap)
{
    size_t lim = 512;
    if (client && client->tcp)
        lim = 65535;
    else if (r->opt) {
        lim = r->q.edns.udp_size < cfg->udp_max ? r->q.edns.udp_size : cfg->udp_max;
        if (lim < 512)
            lim = 512;
    }
    return lim < cap ? lim : cap;
}

static void opt_put(reply_t *r, uint16_t code, const uint8_t *a, size_t alen,
                    const uint8_t *b, size_t blen)
{
    uint8_t *p = r->opts + r->opts_len;
    dns_put_u16(p, code);
    dns_put_u16(p + 2, (uint16_t)(alen + blen));
    memcpy(p + 4, a, alen);
    if (blen)
        memcpy(p + 4 + alen, b, blen);
    r->opts_len = (uint16_t)(r->opts_len + 4 + alen + blen);
}

/* The COOKIE option (RFC 7873 §5.2): a server cookie of ours under half
 * an hour old is sent back as it is (RFC 9018 §4.3), any other client
 * cookie gets a fresh RFC 9018 server cookie (we do not enforce cookies,
 * so no BADCOOKIE); a malformed length is FORMERR. */
static int edns_cookie(reply_t *r, const zone_answer_cfg_t *cfg,
                       const zone_client_t *client, uint64_t now)
{
    const uint8_t *cc;
    uint16_t len;
    int rc = dns_edns_opt_find(&r->q.edns, DNS_EO_COOKIE, &cc, &len);
    if (rc == ZL_ENOTFOUND)
        return ZL_OK;
    if (rc != ZL_OK)
        return rc;
    size_t iplen = 0;
    if (client && client->family == 4)
        iplen = 4;
    else if (client && client->family == 6)
        iplen = 16;
    const uint8_t *ip = client ? client->addr : NULL;
    enum dns_cookie_state st = dns_cookie_check(cfg->cookie_secret, cc, len, ip, iplen,
                                                (uint32_t)now);
    if (st == DNS_COOKIE_MALFORMED)
        return ZL_EFORMAT;
    uint8_t sc[DNS_COOKIE_SERVER_LEN];
    if (st == DNS_COOKIE_GOOD)
        memcpy(sc, cc + DNS_COOKIE_CLIENT_LEN, sizeof(sc));
    else
        dns_cookie_server(cfg->cookie_secret, cc, ip, iplen, (uint32_t)now, sc);
    opt_put(r, DNS_EO_COOKIE, cc, DNS_COOKIE_CLIENT_LEN, sc, sizeof(sc));
    return ZL_OK;
}

/* Reads the request's OPT: version, DO, NSID, COOKIE. Returns the rcode
 * the reply must carry when the OPT forbids answering, else NOERROR. */
static uint16_t edns_process(reply_t *r, const zone_answer_cfg_t *cfg,
                             const zone_client_t *client, uint64_t now)
{
    r->opt = true;
    r->opt_flags = r->q.edns.flags & DNS_EDNS_DO;
    const uint8_t *d;
    uint16_t len;
    int rc = dns_edns_opt_find(&r->q.edns, DNS_EO_NSID, &d, &len);
    if (rc == ZL_EMALF)
        return DNS_R_FORMERR;
    if (rc == ZL_OK && cfg->nsid && cfg->nsid_len <= OPT_NSID_MAX)
        opt_put(r, DNS_EO_NSID, cfg->nsid, cfg->nsid_len, NULL, 0);
    /* RFC 6891 §6.1.3: a version we do not implement gets BADVERS and
     * an OPT of the version we do. */
    if (r->q.edns.version > 0)
        return DNS_R_BADVERS;
    if (cfg->cookies && edns_cookie(r, cfg, client, now) != ZL_OK)
        return DNS_R_FORMERR;
    return DNS_R_NOERROR;
}

/* CH TXT id.server / hostname.bind / version.server / version.bind
 * (RFC 4892 §2), only when configured; else REFUSED. Returns the rcode. */
static uint16_t chaos_answer(ans_t *a, const dns_query_t *q, const zone_answer_cfg_t *cfg,
                             uint8_t txt[256])
{
    static const uint8_t id1[] = "\2id\6server", id2[] = "\10hostname\4bind";
    static const uint8_t ver1[] = "\7version\6server", ver2[] = "\7version\4bind";
    const char *s = NULL;
    if (q->qtype != DNS_T_TXT)
        return DNS_R_REFUSED;
    if (dns_name_equal(q->qname, id1) || dns_name_equal(q->qname, id2))
        s = cfg->id_server;
    else if (dns_name_equal(q->qname, ver1) || dns_name_equal(q->qname, ver2))
        s = cfg->version_server;
    if (!s)
        return DNS_R_REFUSED;
    size_t len = strlen(s);
    if (len > 255)
        len = 255;
    txt[0] = (uint8_t)len;
    memcpy(txt + 1, s, len);
    a->e[0] = (ans_entry_t){
        .owner = q->qname, .rdata = txt, .rdlen = (uint16_t)(len + 1),
        .type = DNS_T_TXT, .rclass = DNS_C_CH, .ttl = 0,
        .section = DNS_SEC_AN, .required = true,
    };
    a->n = 1;
    return DNS_R_NOERROR;
}

/* The zone for the query: the deepest one, except that DS at a zone's
 * apex comes from the parent zone when we serve it (RFC 4035 §3.1.4.1). */
static const zone_t *pick_zone(const zone_set_t *zs, const dns_query_t *q)
{
    if (!zs)
        return NULL;
    const zone_t *z = zone_set_find(zs, q->qname);
    if (z && q->qtype == DNS_T_DS && q->qname[0] != 0 &&
        dns_name_equal(zone_origin(z), q->qname)) {
        const zone_t *parent = zone_set_find(zs, dns_name_parent(q->qname));
        if (parent)
            z = parent;
    }
    return z;
}

/* Writes header, question, entries and OPT; returns the length. */
static size_t reply_write(reply_t *r, const ans_t *a, uint8_t *buf)
{
    dns_msgb_t b;
    dns_msgb_init(&b, buf, r->limit, r->q.id, r->flags);
    if (r->question &&
        dns_msgb_question(&b, r->q.qname, r->q.qtype, r->q.qclass) != ZL_OK)
        return 0;
    size_t optlen = r->opt ? 11u + r->opts_len : 0;
    if (optlen && dns_msgb_reserve(&b, optlen) != ZL_OK)
        return 0;
    uint16_t flags = r->flags;
    if (a && ans_encode(a, &b))
        flags |= DNS_F_TC;
    dns_msgb_set_flags(&b, (uint16_t)(flags | (r->rcode & 0xf)));
    if (optlen) {
        dns_msgb_unreserve(&b, optlen);
        dns_edns_t e = {
            .udp_size = r->udp_max, .ext_rcode = (uint8_t)(r->rcode >> 4),
            .version = 0, .flags = r->opt_flags, .opts = r->opts, .opts_len = r->opts_len,
        };
        if (dns_msgb_opt(&b, &e) != ZL_OK)
            return 0;
    }
    return dns_msgb_finish(&b);
}

/* Header, question and EDNS of the query, and the reply's limit. Returns
 * the rcode that ends processing early (FORMERR, BADVERS), or NOERROR. */
static uint16_t reply_start(reply_t *r, const zone_answer_cfg_t *cfg, const uint8_t *query,
                            size_t qlen, const zone_client_t *client, uint64_t now, size_t cap)
{
    r->q.question_end = 0;
    r->q.has_edns = false;
    r->opts_len = 0;
    r->opt = false;
    r->opt_flags = 0;
    r->udp_max = cfg->udp_max < 512 ? 512 : cfg->udp_max;
    int prc = dns_query_parse(&r->q, query, qlen);
    uint16_t qflags = dns_get_u16(query + 2);
    r->q.id = dns_get_u16(query);
    r->flags = DNS_F_QR | (qflags & (0x7800u | DNS_F_RD | DNS_F_CD));
    r->question = r->q.question_end > 0;
    r->limit = 512 < cap ? 512 : cap;
    /* RFC 1035 §4.1.1: FORMERR, with the question when it parsed. */
    if (prc != ZL_OK)
        return DNS_R_FORMERR;
    uint16_t rcode = r->q.has_edns ? edns_process(r, cfg, client, now) : DNS_R_NOERROR;
    r->limit = reply_limit(r, cfg, client, cap);
    if (rcode == DNS_R_NOERROR && DNS_F_OPCODE(qflags) != DNS_OP_QUERY)
        rcode = DNS_R_NOTIMP;
    return rcode;
}

/* A well-formed QUERY: class, transfers, zone, then the lookup into a.
 * Returns the rcode. */
static uint16_t query_dispatch(reply_t *r, ans_t *a, const zone_set_t *zs,
                               const zone_answer_cfg_t *cfg, uint8_t txt[256])
{
    if (r->q.qclass == DNS_C_CH)
        return chaos_answer(a, &r->q, cfg, txt);
    /* Zone transfers have their own handler (and need TCP, RFC 5936
     * §4.2); what reaches this function gets NOTIMP, as from Knot DNS. */
    if (r->q.qtype == DNS_T_AXFR || r->q.qtype == DNS_T_IXFR)
        return DNS_R_NOTIMP;
    /* Class ANY is answered from the IN data, as Knot DNS does. */
    const zone_t *z = NULL;
    if (r->q.qclass == DNS_C_IN || r->q.qclass == DNS_C_ANY)
        z = pick_zone(zs, &r->q);
    if (!z)
        return DNS_R_REFUSED;
    a->zone = z;
    ans_resolve(a, r->q.qname, r->q.qtype);
    if (a->aa)
        r->flags |= DNS_F_AA;
    return a->rcode;
}

size_t zone_answer(const zone_set_t *zs, const zone_answer_cfg_t *cfg,
                   const uint8_t *query, size_t qlen, const zone_client_t *client,
                   uint64_t now, uint8_t *reply, size_t cap)
{
    /* Responses are never answered: no loops between servers. */
    if (qlen < DNS_HDR_LEN || cap < 512 || (dns_get_u16(query + 2) & DNS_F_QR))
        return 0;
    reply_t r;
    r.rcode = reply_start(&r, cfg, query, qlen, client, now, cap);
    if (r.rcode != DNS_R_NOERROR)
        return reply_write(&r, NULL, reply);
    ans_t a;
    uint8_t txt[256];
    a.n = 0;
    a.nsyn = 0;
    a.tcp = client && client->tcp;
    r.rcode = query_dispatch(&r, &a, zs, cfg, txt);
    return reply_write(&r, &a, reply);
}
