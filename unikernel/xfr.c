/* Zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995).
 *
 * - Who: a request signed by a key with transfer rights for the zone
 *   (update keys have them too), or an unsigned one from an --axfr-allow
 *   network; anyone else REFUSED. A zone we do not serve: NOTAUTH (as
 *   Knot DNS). AXFR over UDP: NOTIMP, no zone data (RFC 5936 §4.2).
 * - AXFR: the SOA, every other record in canonical order, the SOA again,
 *   in as many messages as needed (over TCP each up to 16 KiB, the
 *   reach of compression pointers; the question in the first only,
 *   RFC 5936 §2.2), every message signed when the request was
 *   (RFC 8945 §5.3.1).
 * - IXFR: the client's serial (the SOA in the request's authority
 *   section) current: that SOA alone; in the version's journal: the
 *   condensed change (new SOA, old SOA, removed, new SOA, added, new
 *   SOA); otherwise the whole zone AXFR-style (RFC 1995 §4). Over UDP
 *   only when it fits one message, else the SOA alone: the client retries
 *   over TCP (§2).
 * A transfer holds a reference to the version it sends, so later
 * changes and the snapshot going away do not affect it.
 */
#include <stdlib.h>
#include <string.h>

#include "dns/serial.h"
#include "unikernel/msg_int.h"
#include "zone/diff.h"
#include "zone/journal.h"

typedef enum { XFR_SOA_FIRST, XFR_DIFF, XFR_ZONE, XFR_SOA_LAST, XFR_END } xfr_phase_t;

typedef struct xfr_stream {
    srv_stream_t base;
    srv_msg_t reply;          /* id, flags, question, OPT, TSIG state (key below) */
    dns_tsig_key_t key;
    zone_t *zone;             /* the version sent (a reference) */
    zone_diff_t *diff;        /* IXFR: the condensed change (a reference), else NULL */
    xfr_phase_t phase;
    /* XFR_DIFF: 0 old SOA, 1 removed, 2 new SOA, 3 added; index in the list */
    unsigned part;
    size_t index;
    /* XFR_ZONE: the node walk and where in the current RRset we are */
    zone_iter_t it;
    bool iter;                /* it was started */
    const uint8_t *owner;
    const zone_rrset_t *rs;
    unsigned rr;
    const uint8_t *rd;
    uint16_t rdlen;
    bool first;               /* the next message is the first */
} xfr_stream_t;

static void soa_rr(const zone_t *z, dns_rr_t *rr)
{
    const zone_rrset_t *soa = zone_soa(z);
    *rr = (dns_rr_t){.owner = zone_origin(z), .type = DNS_T_SOA, .rclass = DNS_C_IN,
                     .ttl = soa->ttl};
    rr->rdata = zone_rrset_rdata(soa, 0, &rr->rdlen);
}

/* The next record of the zone walk that is not the SOA, or false. */
static bool zone_next_rr(xfr_stream_t *s, dns_rr_t *rr)
{
    for (;;) {
        if (s->rs && s->rr < s->rs->count) {
            if (s->rr == 0)
                s->rd = zone_rrset_rdata(s->rs, 0, &s->rdlen);
            else
                s->rd = zone_rrset_rdata_next(s->rd, s->rdlen, &s->rdlen);
            s->rr++;
            *rr = (dns_rr_t){.owner = s->owner, .type = s->rs->type, .rclass = DNS_C_IN,
                             .ttl = s->rs->ttl, .rdata = s->rd, .rdlen = s->rdlen};
            return true;
        }
        if (!zone_iter_next(&s->it, &s->owner, &s->rs))
            return false;
        s->rr = 0;
        if (s->rs->type == DNS_T_SOA)
            s->rs = NULL; /* the apex's: sent first and last, not in between */
    }
}

/* The next record of the diff part sequence, or false at its end. */
static bool diff_next_rr(xfr_stream_t *s, dns_rr_t *rr)
{
    const zone_diff_t *d = s->diff;
    size_t n;
    for (;;) {
        switch (s->part) {
        case 0: *rr = *zone_diff_old_soa(d); s->part = 1; s->index = 0; return true;
        case 1: {
            const dns_rr_t *v = zone_diff_removed(d, &n);
            if (s->index < n) {
                *rr = v[s->index++];
                return true;
            }
            s->part = 2;
            break;
        }
        case 2: *rr = *zone_diff_new_soa(d); s->part = 3; s->index = 0; return true;
        case 3: {
            const dns_rr_t *v = zone_diff_added(d, &n);
            if (s->index < n) {
                *rr = v[s->index++];
                return true;
            }
            s->part = 4;
            break;
        }
        default:
            return false;
        }
    }
}

/* The next record of the transfer, or false when it has all been sent. */
static bool next_rr(xfr_stream_t *s, dns_rr_t *rr)
{
    for (;;) {
        switch (s->phase) {
        case XFR_SOA_FIRST:
            soa_rr(s->zone, rr);
            s->phase = s->diff ? XFR_DIFF : XFR_ZONE;
            return true;
        case XFR_DIFF:
            if (diff_next_rr(s, rr))
                return true;
            s->phase = XFR_SOA_LAST;
            break;
        case XFR_ZONE:
            if (zone_next_rr(s, rr))
                return true;
            s->phase = XFR_SOA_LAST;
            break;
        case XFR_SOA_LAST:
            soa_rr(s->zone, rr);
            s->phase = XFR_END;
            return true;
        default:
            return false;
        }
    }
}

/* One message of the transfer into buf[0..cap). held is a record taken
 * but not yet written (it did not fit the previous message). Returns
 * the length, 0 at the end or on error. */
static size_t xfr_message(xfr_stream_t *s, uint8_t *buf, size_t cap, dns_rr_t *held, bool *has_held)
{
    srv_msg_t *m = &s->reply;
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, m->q.id, (uint16_t)(m->flags | DNS_F_AA));
    /* RFC 5936 §2.2: the question in the first message only. */
    if (s->first && dns_msgb_question(&b, m->q.qname, m->q.qtype, m->q.qclass) != ZL_OK)
        return 0;
    if (dns_msgb_reserve(&b, srv_msg_room(m)) != ZL_OK)
        return 0;
    unsigned n = 0;
    dns_rr_t rr;
    for (;;) {
        if (*has_held) {
            rr = *held;
            *has_held = false;
        } else if (!next_rr(s, &rr)) {
            break;
        }
        if (dns_msgb_rr(&b, DNS_SEC_AN, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
                        rr.rdlen) != ZL_OK) {
            *held = rr;
            *has_held = true;
            if (n == 0)
                return 0; /* one record larger than a message: cannot happen */
            break;
        }
        n++;
    }
    if (n == 0 && !s->first)
        return 0;
    s->first = false;
    return srv_msg_finish(m, &b, (uint16_t)(m->flags | DNS_F_AA), DNS_R_NOERROR);
}

#define XFR_MSG_MAX 16384

typedef struct xfr_tcp {
    xfr_stream_t s;
    dns_rr_t held;
    bool has_held;
} xfr_tcp_t;

static size_t xfr_stream_next(srv_stream_t *base, uint8_t *buf, size_t cap)
{
    xfr_tcp_t *t = (xfr_tcp_t *)base;
    if (t->s.phase == XFR_END && !t->has_held)
        return 0;
    /* Messages no longer than compression pointers reach (14 bits), as
     * NSD does: every name of a message can point into it, and the stream
     * is smaller than in 64 KiB messages whose last 48 KiB compress only
     * against the first 16. */
    if (cap > XFR_MSG_MAX)
        cap = XFR_MSG_MAX;
    return xfr_message(&t->s, buf, cap, &t->held, &t->has_held);
}

static void xfr_stream_free(srv_stream_t *base)
{
    xfr_tcp_t *t = (xfr_tcp_t *)base;
    if (t->s.iter)
        zone_iter_fini(&t->s.it);
    zone_free(t->s.zone);
    zone_diff_free(t->s.diff);
    free(t);
}

/* Starts a transfer of z (and diff, may be NULL: the whole zone).
 * Returns ZL_OK or ZL_ENOMEM (then free the stream). */
static int xfr_init(xfr_stream_t *s, const srv_msg_t *m, const zone_t *z, zone_diff_t *diff)
{
    srv_msg_keep(&s->reply, m, &s->key);
    s->zone = zone_ref((zone_t *)z);
    s->diff = diff;
    s->phase = XFR_SOA_FIRST;
    s->first = true;
    s->rs = NULL;
    s->rr = 0;
    if (diff)
        return ZL_OK;
    s->iter = zone_iter_init(&s->it, (zone_t *)z) == ZL_OK;
    return s->iter ? ZL_OK : ZL_ENOMEM;
}

/* The serial of the SOA in an IXFR request's authority section (RFC 1995
 * §3), or -1 when there is none. */
static int64_t ixfr_serial(const srv_msg_t *m)
{
    dns_arena_t a;
    dns_msg_t msg;
    uint8_t mem[2048];
    int64_t serial = -1;
    dns_arena_init(&a, mem, sizeof mem, 0);
    if (dns_msg_parse(&msg, m->req, m->req_len, &a) == ZL_OK) {
        for (unsigned i = 0; i < msg.nrr[DNS_SEC_NS]; i++) {
            const dns_rr_t *rr = &msg.rr[DNS_SEC_NS][i];
            if (rr->type == DNS_T_SOA && rr->rdlen >= 22 && dns_name_equal(rr->owner, m->q.qname))
                serial = dns_get_u32(rr->rdata + rr->rdlen - 20);
        }
    }
    dns_arena_free(&a);
    return serial;
}

/* IXFR over UDP: the whole answer in this one message if it fits. */
static uint16_t ixfr_udp(srv_msg_t *m, xfr_stream_t *s)
{
    dns_rr_t rr;
    bool full = false;
    dns_msgb_t saved = m->b;
    while (!full && next_rr(s, &rr))
        full = dns_msgb_rr(&m->b, DNS_SEC_AN, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
                           rr.rdlen) != ZL_OK;
    if (full) {
        /* RFC 1995 §2: too large for UDP: the SOA alone. */
        m->b = saved;
        soa_rr(s->zone, &rr);
        (void)dns_msgb_rr(&m->b, DNS_SEC_AN, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
                          rr.rdlen);
    }
    m->flags |= DNS_F_AA;
    return DNS_R_NOERROR;
}

uint16_t srv_xfr(srv_msg_t *m)
{
    bool tcp = m->client && m->client->tcp;
    if (m->q.qtype == DNS_T_AXFR && !tcp)
        return DNS_R_NOTIMP;
    const zone_t *z = m->q.qclass == DNS_C_IN ? srv_msg_zone(m) : NULL;
    if (!z)
        return DNS_R_NOTAUTH;
    bool allowed = srv_msg_allows(m, z, ZONE_KEY_TRANSFER);
    for (size_t i = 0; !allowed && !m->tsig && i < m->ctx->cfg->naxfr_allow; i++)
        allowed = srv_cidr_match(&m->ctx->cfg->axfr_allow[i], m->client);
    if (!allowed)
        return DNS_R_REFUSED;
    zone_diff_t *diff = NULL;
    if (m->q.qtype == DNS_T_IXFR) {
        int64_t have = ixfr_serial(m);
        if (have < 0)
            return DNS_R_FORMERR;
        /* The client is current (or ahead): the SOA alone. */
        if (dns_serial_cmp((uint32_t)have, zone_serial(z)) >= 0) {
            dns_rr_t rr;
            soa_rr(z, &rr);
            m->flags |= DNS_F_AA;
            if (dns_msgb_rr(&m->b, DNS_SEC_AN, rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata,
                            rr.rdlen) != ZL_OK)
                return DNS_R_SERVFAIL;
            return DNS_R_NOERROR;
        }
        if (zone_journal_since(zone_journal(z), (uint32_t)have, &diff) != ZL_OK)
            diff = NULL; /* not in the history: the whole zone */
    }
    xfr_tcp_t *t = calloc(1, sizeof *t);
    if (!t) {
        zone_diff_free(diff);
        return DNS_R_SERVFAIL;
    }
    t->s.base.next = xfr_stream_next;
    t->s.base.free = xfr_stream_free;
    if (xfr_init(&t->s, m, z, diff) != ZL_OK) {
        xfr_stream_free(&t->s.base);
        return DNS_R_SERVFAIL;
    }
    if (!tcp) {
        uint16_t rc = ixfr_udp(m, &t->s);
        xfr_stream_free(&t->s.base);
        return rc;
    }
    /* Every message, the first one too, comes from the stream. */
    m->stream = &t->s.base;
    m->result = SRV_STREAM;
    return DNS_R_NOERROR;
}
