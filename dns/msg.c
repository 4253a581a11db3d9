#include "dns/msg.h"

#include "dns/edns.h"

#include <string.h>

/* Smallest record: root owner, type, class, TTL, RDLENGTH. */
#define RR_MIN_LEN 11

static void edns_from_rr(dns_edns_t *e, uint16_t rclass, uint32_t ttl,
                         const uint8_t *opts, uint16_t len)
{
    e->udp_size = rclass;
    e->ext_rcode = (uint8_t)(ttl >> 24);
    e->version = (uint8_t)(ttl >> 16);
    e->flags = (uint16_t)ttl;
    e->opts = opts;
    e->opts_len = len;
}

static void hdr_read(dns_wire_t *w, uint16_t *id, uint16_t *flags, uint16_t cnt[4])
{
    *id = dns_wire_u16(w);
    *flags = dns_wire_u16(w);
    for (int i = 0; i < 4; i++)
        cnt[i] = dns_wire_u16(w);
}

/* Checks where an OPT or TSIG record may stand. `idx` counts records over
 * the three sections, `total` is their sum, `seen_opt` is updated. */
static int rr_place_check(int sec, uint16_t type, size_t owner_len, size_t idx,
                          size_t total, bool *seen_opt)
{
    if (type == DNS_T_OPT) {
        /* RFC 6891 §6.1.1: one OPT, in the additional section, owner root. */
        if (sec != DNS_SEC_AR || *seen_opt || owner_len != 1)
            return ZL_EFORMAT;
        *seen_opt = true;
    } else if (type == DNS_T_TSIG && (sec != DNS_SEC_AR || idx + 1 != total)) {
        return ZL_EFORMAT; /* RFC 8945 §5.1: TSIG is the last record */
    }
    return ZL_OK;
}

/* Scans every record after the question, noting OPT and TSIG. */
static int query_scan_rrs(dns_query_t *q, dns_wire_t *w)
{
    uint16_t cnt[3] = {q->ancount, q->nscount, q->arcount};
    size_t total = (size_t)cnt[0] + cnt[1] + cnt[2], idx = 0;
    bool seen_opt = false;
    uint8_t owner[DNS_NAME_MAX];
    for (int sec = 0; sec < 3; sec++) {
        for (unsigned i = 0; i < cnt[sec]; i++, idx++) {
            size_t at = w->pos;
            int ol = dns_name_parse(w, owner);
            uint16_t type = dns_wire_u16(w), rclass = dns_wire_u16(w);
            uint32_t ttl = dns_wire_u32(w);
            uint16_t rdlen = dns_wire_u16(w);
            const uint8_t *rd = dns_wire_cur(w);
            dns_wire_skip(w, rdlen);
            if (w->err)
                return ol < 0 ? ol : w->err;
            int r = rr_place_check(sec, type, (size_t)ol, idx, total, &seen_opt);
            if (r) {
                /* A misplaced or repeated OPT: no OPT can be trusted. */
                if (type == DNS_T_OPT)
                    q->has_edns = false;
                return r;
            }
            if (type == DNS_T_OPT) {
                if (dns_edns_opts_check(rd, rdlen))
                    return ZL_EMALF;
                q->has_edns = true;
                edns_from_rr(&q->edns, rclass, ttl, rd, rdlen);
            } else if (type == DNS_T_TSIG) {
                q->tsig_off = at;
            }
        }
    }
    return ZL_OK;
}

/* Skips the questions after the first (RFC 9619: a QUERY has at most
 * one; the message is still read to the end so its OPT can be answered). */
static int query_skip_questions(dns_wire_t *w, unsigned n)
{
    uint8_t name[DNS_NAME_MAX];
    for (unsigned i = 0; i < n; i++) {
        int nl = dns_name_parse(w, name);
        dns_wire_skip(w, 4);
        if (w->err)
            return nl < 0 ? nl : w->err;
    }
    return ZL_OK;
}

int dns_query_parse(dns_query_t *q, const uint8_t *pkt, size_t len)
{
    dns_wire_t w;
    uint16_t cnt[4];
    q->id = q->flags = 0;
    q->qdcount = q->ancount = q->nscount = q->arcount = 0;
    q->qname_len = 0;
    q->qtype = q->qclass = 0;
    q->question_end = 0;
    q->has_edns = false;
    q->edns = (dns_edns_t){0};
    q->tsig_off = 0;
    if (len < DNS_HDR_LEN)
        return ZL_EMALF;
    dns_wire_init_ro(&w, pkt, len);
    hdr_read(&w, &q->id, &q->flags, cnt);
    q->qdcount = cnt[0];
    q->ancount = cnt[1];
    q->nscount = cnt[2];
    q->arcount = cnt[3];
    if (q->qdcount > 0) {
        int nl = dns_name_parse(&w, q->qname);
        q->qtype = dns_wire_u16(&w);
        q->qclass = dns_wire_u16(&w);
        if (w.err)
            return nl < 0 ? nl : w.err;
        q->qname_len = (uint8_t)nl;
        q->question_end = w.pos;
    }
    int r = query_skip_questions(&w, q->qdcount > 1 ? q->qdcount - 1u : 0);
    if (!r)
        r = query_scan_rrs(q, &w);
    if (!r && w.pos != len)
        r = ZL_EMALF;
    /* After the whole message is read: its OPT (if any) is known even
     * when the question count is wrong. */
    return r ? r : q->qdcount == 1 ? ZL_OK : ZL_EFORMAT;
}

/* Worst-case uncompressed size of rdlen wire octets: every name is at
 * least a 2-octet pointer and at most DNS_NAME_MAX octets. */
static size_t rdata_bound(uint16_t rdlen)
{
    size_t b = (size_t)rdlen + (size_t)(rdlen / 2) * (DNS_NAME_MAX - 2);
    return b > 65535 ? 65535 : b;
}

/* Reads one record at the cursor into rr (owner and RDATA in the arena),
 * or into m->edns for OPT. */
static int msg_read_rr(dns_msg_t *m, dns_wire_t *w, dns_arena_t *a, dns_rr_t *rr,
                       uint16_t *rclass, uint32_t *ttl)
{
    uint8_t owner[DNS_NAME_MAX];
    int ol = dns_name_parse(w, owner);
    rr->type = dns_wire_u16(w);
    *rclass = dns_wire_u16(w);
    *ttl = dns_wire_u32(w);
    rr->rdlen = dns_wire_u16(w);
    if (w->err)
        return ol < 0 ? ol : w->err;
    if (!dns_wire_need(w, rr->rdlen))
        return w->err;
    if (!(rr->owner = dns_arena_dup(a, owner, (size_t)ol)))
        return ZL_ENOMEM;
    if (rr->type == DNS_T_OPT) {
        const uint8_t *rd = dns_wire_cur(w);
        if (dns_edns_opts_check(rd, rr->rdlen))
            return ZL_EMALF;
        uint8_t *opts = dns_arena_dup(a, rd, rr->rdlen);
        if (!opts)
            return ZL_ENOMEM;
        edns_from_rr(&m->edns, *rclass, *ttl, opts, rr->rdlen);
        w->pos += rr->rdlen;
        return ZL_OK;
    }
    if (rr->rdlen == 0 && (*rclass == DNS_C_ANY || *rclass == DNS_C_NONE)) {
        /* RFC 2136 §2.4, §2.5: UPDATE prerequisites and deletions carry
         * empty RDATA whatever the type. */
        rr->rdata = rr->owner; /* a valid pointer, rdlen 0 */
        return ZL_OK;
    }
    size_t cap = rdata_bound(rr->rdlen);
    uint8_t *out = dns_arena_alloc(a, cap);
    if (!out)
        return ZL_ENOMEM;
    int n = dns_rdata_parse(w, rr->type, rr->rdlen, out, cap);
    if (n < 0)
        return n == ZL_ESPACE ? ZL_EMALF : n;
    dns_arena_shrink(a, out, (size_t)n);
    rr->rdata = out;
    rr->rdlen = (uint16_t)n;
    return ZL_OK;
}

static int msg_read_sections(dns_msg_t *m, dns_wire_t *w, const uint16_t cnt[3],
                             dns_arena_t *a)
{
    size_t total = (size_t)cnt[0] + cnt[1] + cnt[2], idx = 0;
    bool seen_opt = false;
    for (int sec = 0; sec < 3; sec++) {
        /* Counts are untrusted: each record needs RR_MIN_LEN octets. */
        if ((size_t)cnt[sec] * RR_MIN_LEN > w->len - w->pos)
            return ZL_EMALF;
        m->rr[sec] = dns_arena_alloc(a, sizeof(dns_rr_t) * (cnt[sec] ? cnt[sec] : 1));
        if (!m->rr[sec])
            return ZL_ENOMEM;
        for (unsigned i = 0; i < cnt[sec]; i++, idx++) {
            dns_rr_t *rr = &m->rr[sec][m->nrr[sec]];
            size_t at = w->pos;
            uint16_t rclass;
            uint32_t ttl;
            int r = msg_read_rr(m, w, a, rr, &rclass, &ttl);
            if (!r)
                r = rr_place_check(sec, rr->type, dns_name_len(rr->owner), idx,
                                   total, &seen_opt);
            if (r)
                return r;
            if (rr->type == DNS_T_OPT) {
                m->has_edns = true;
                continue;
            }
            if (rr->type == DNS_T_TSIG)
                m->tsig_off = at;
            rr->rclass = rclass;
            rr->ttl = ttl;
            m->nrr[sec]++;
        }
    }
    return ZL_OK;
}

int dns_msg_parse(dns_msg_t *m, const uint8_t *pkt, size_t len, dns_arena_t *a)
{
    dns_wire_t w;
    uint16_t cnt[4];
    memset(m, 0, sizeof(*m));
    if (len < DNS_HDR_LEN)
        return ZL_EMALF;
    dns_wire_init_ro(&w, pkt, len);
    hdr_read(&w, &m->id, &m->flags, cnt);
    m->qdcount = cnt[0];
    if (cnt[0] > 1)
        return ZL_EFORMAT;
    if (cnt[0] == 1) {
        uint8_t qname[DNS_NAME_MAX];
        int nl = dns_name_parse(&w, qname);
        m->qtype = dns_wire_u16(&w);
        m->qclass = dns_wire_u16(&w);
        if (w.err)
            return nl < 0 ? nl : w.err;
        if (!(m->qname = dns_arena_dup(a, qname, (size_t)nl)))
            return ZL_ENOMEM;
    }
    int r = msg_read_sections(m, &w, cnt + 1, a);
    if (r)
        return r;
    return w.pos == len ? ZL_OK : ZL_EMALF;
}

void dns_msgb_init(dns_msgb_t *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags)
{
    dns_wire_init(&b->w, buf, cap);
    dns_compr_init(&b->c);
    memset(b->count, 0, sizeof(b->count));
    b->section = -1;
    b->reserve = 0;
    dns_wire_put_u16(&b->w, id);
    dns_wire_put_u16(&b->w, flags);
    dns_wire_write(&b->w, "\0\0\0\0\0\0\0", 8);
}

void dns_msgb_set_flags(dns_msgb_t *b, uint16_t flags)
{
    if (b->w.len >= DNS_HDR_LEN)
        dns_put_u16(b->w.base + 2, flags);
}

int dns_msgb_reserve(dns_msgb_t *b, size_t n)
{
    if (b->w.err || n > b->w.len - b->w.pos - b->reserve)
        return ZL_ESPACE;
    b->reserve += n;
    return ZL_OK;
}

void dns_msgb_unreserve(dns_msgb_t *b, size_t n)
{
    b->reserve -= n < b->reserve ? n : b->reserve;
}

/* Record writes run against a cursor shortened by the reserve; on failure
 * position, compression table and error are put back (all or nothing). */
typedef struct msgb_mark {
    size_t pos, len;
    uint16_t ncompr;
} msgb_mark_t;

static bool msgb_begin(dns_msgb_t *b, msgb_mark_t *m)
{
    if (b->w.err)
        return false;
    m->pos = b->w.pos;
    m->len = b->w.len;
    m->ncompr = b->c.n;
    b->w.len -= b->reserve;
    return true;
}

static int msgb_end(dns_msgb_t *b, const msgb_mark_t *m)
{
    int err = b->w.err;
    b->w.len = m->len;
    if (err) {
        b->w.pos = m->pos;
        b->w.err = ZL_OK;
        b->c.n = m->ncompr;
    }
    return err;
}

int dns_msgb_question(dns_msgb_t *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
    msgb_mark_t m;
    if (b->section >= 0)
        return ZL_EINVAL;
    if (!msgb_begin(b, &m))
        return b->w.err;
    dns_name_write(&b->w, qname, &b->c);
    dns_wire_put_u16(&b->w, qtype);
    dns_wire_put_u16(&b->w, qclass);
    int err = msgb_end(b, &m);
    if (!err)
        b->count[0]++;
    return err;
}

int dns_msgb_rr(dns_msgb_t *b, int section, const uint8_t *owner, uint16_t type,
                uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
    msgb_mark_t m;
    if (section < b->section || section > DNS_SEC_AR || section < 0)
        return ZL_EINVAL;
    if (!msgb_begin(b, &m))
        return b->w.err;
    dns_name_write(&b->w, owner, &b->c);
    dns_wire_put_u16(&b->w, type);
    dns_wire_put_u16(&b->w, rclass);
    dns_wire_put_u32(&b->w, ttl);
    if (rdlen == 0)
        dns_wire_put_u16(&b->w, 0); /* empty RDATA (RFC 2136 §2.5) */
    else
        dns_rdata_write(&b->w, type, rdata, rdlen, &b->c);
    int err = msgb_end(b, &m);
    if (!err) {
        b->count[1 + section]++;
        b->section = section;
    }
    return err;
}

int dns_msgb_opt(dns_msgb_t *b, const dns_edns_t *e)
{
    msgb_mark_t m;
    if (b->section > DNS_SEC_AR)
        return ZL_EINVAL;
    if (!msgb_begin(b, &m))
        return b->w.err;
    dns_wire_put_u8(&b->w, 0); /* root owner */
    dns_wire_put_u16(&b->w, DNS_T_OPT);
    dns_wire_put_u16(&b->w, e->udp_size);
    dns_wire_put_u32(&b->w, (uint32_t)e->ext_rcode << 24 | (uint32_t)e->version << 16 | e->flags);
    dns_wire_put_u16(&b->w, e->opts_len);
    dns_wire_write(&b->w, e->opts, e->opts_len);
    int err = msgb_end(b, &m);
    if (!err) {
        b->count[3]++;
        b->section = DNS_SEC_AR;
    }
    return err;
}

size_t dns_msgb_finish(dns_msgb_t *b)
{
    if (b->w.len < DNS_HDR_LEN)
        return 0;
    for (int i = 0; i < 4; i++)
        dns_put_u16(b->w.base + 4 + 2 * i, b->count[i]);
    return b->w.pos;
}
