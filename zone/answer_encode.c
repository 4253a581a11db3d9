/* The encoding half of answering: one writer for every entry, with name
 * compression (in dns_msgb_rr) and truncation by whole RRsets (RFC 2181
 * §9: TC only when required data was left out). */
#include "zone/answer_int.h"

/* What an RRset write must roll back when its k-th record does not fit:
 * dns_msgb_rr undoes only its own record. */
typedef struct mark {
    dns_wire_t w;
    uint16_t count[4];
    int section;
    uint16_t compr_n;
} mark_t;

static void mark_save(mark_t *m, const dns_msgb_t *b)
{
    m->w = b->w;
    for (int i = 0; i < 4; i++)
        m->count[i] = b->count[i];
    m->section = b->section;
    m->compr_n = b->c.n;
}

static void mark_restore(const mark_t *m, dns_msgb_t *b)
{
    b->w = m->w;
    for (int i = 0; i < 4; i++)
        b->count[i] = m->count[i];
    b->section = m->section;
    b->c.n = m->compr_n;
}

/* Writes one RRset, all of its records or none. */
static inline __attribute__((always_inline)) int put_rrset(dns_msgb_t *b, uint8_t section,
                                                             const uint8_t *owner,
                     const zone_rrset_t *rs, uint32_t ttl)
{
    mark_t m;
    mark_save(&m, b);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(rs, 0, &len);
    for (unsigned i = 0; i < rs->count; i++) {
        if (i)
            rd = zone_rrset_rdata_next(rd, len, &len);
        int rc = dns_msgb_rr(b, section, owner, rs->type, DNS_C_IN, ttl, rd, len);
        if (rc != ZL_OK) {
            mark_restore(&m, b);
            return rc;
        }
    }
    return ZL_OK;
}

/* Octets left for records (the reserve for OPT and TSIG kept). */
static size_t room(const dns_msgb_t *b)
{
    size_t avail = dns_wire_avail(&b->w);
    return avail > b->reserve ? avail - b->reserve : 0;
}

/* The smallest record: a compressed owner, type, class, TTL, RDLENGTH
 * and an IPv4 address. With less room, no address fits any more. */
#define ANS_ADDR_MIN (2 + 10 + 4)

/* The in-zone target of one RDATA of an ANS_ADDRS entry that passes its
 * filter (inside or outside the cut), or NULL. */
static const uint8_t *addr_target(const ans_t *a, const ans_entry_t *e, const uint8_t *rd,
                                  uint16_t len)
{
    uint16_t type = e->u.addrs.rs->type;
    const uint8_t *t = type == DNS_T_NS ? rd : dns_rdata_target(type, rd, len);
    if (!t)
        return NULL;
    if (e->u.addrs.cut) {
        bool in = dns_name_is_sub(t, e->u.addrs.cut);
        if (in != e->u.addrs.inside)
            return NULL;
        if (in)
            return t; /* below a cut of this zone: in the zone */
    }
    return dns_name_is_sub(t, zone_origin(a->zone)) ? t : NULL;
}

/* True when target t, at RDATA idx of entry cur, came before: at an
 * earlier RDATA of cur, or in an earlier ANS_ADDRS entry. The targets of
 * an NS RRset are distinct (its RDATA are, in canonical form), and the
 * two entries of a referral share none, so those are not scanned. */
static bool addr_seen(const ans_t *a, const ans_entry_t *cur, unsigned idx, const uint8_t *t)
{
    for (const ans_entry_t *e = a->e; e <= cur; e++) {
        const zone_rrset_t *rs = e->u.addrs.rs;
        if (e->kind != ANS_ADDRS || (rs == cur->u.addrs.rs && rs->type == DNS_T_NS))
            continue;
        uint16_t len;
        const uint8_t *rd = zone_rrset_rdata(rs, 0, &len);
        for (unsigned i = 0; i < (e == cur ? idx : rs->count); i++) {
            if (i)
                rd = zone_rrset_rdata_next(rd, len, &len);
            const uint8_t *u = addr_target(a, e, rd, len);
            if (u && dns_name_equal(u, t))
                return true;
        }
    }
    return false;
}

/* True when the answer section already holds rs under owner. */
static bool in_answer(const ans_t *a, const zone_rrset_t *rs, const uint8_t *owner)
{
    for (unsigned i = 0; i < a->n; i++) {
        const ans_entry_t *e = &a->e[i];
        size_t n = 0;
        const zone_rrset_t *all = e->kind == ANS_NODE ? zone_node_rrsets(e->u.node, &n) : NULL;
        bool has = e->kind == ANS_RRSET ? e->u.set.rs == rs : all && rs >= all && rs < all + n;
        if (e->section == DNS_SEC_AN && has && dns_name_equal(e->owner, owner))
            return true;
    }
    return false;
}

/* The node whose addresses target has: its own (glue included, occluded
 * data not: RFC 1034 §4.2.1), or a wildcard's that covers it (as Knot
 * DNS does; RFC 1034 §4.3.2 step 6 looks the names up like a query), with
 * the owner to write in *owner. NULL when none. */
static const zone_node_t *addr_node(const ans_t *a, const uint8_t *target,
                                    const uint8_t **owner)
{
    const zone_node_t *node = zone_find(a->zone, target);
    if (node) {
        *owner = zone_node_owner(node);
        return zone_node_is_occluded(node) ? NULL : node;
    }
    zone_lookup_t lk;
    if (zone_lookup(a->zone, target, &lk) != ZL_OK || !lk.wildcard || lk.cut || lk.dname)
        return NULL;
    *owner = target;
    return lk.wildcard;
}

/* Writes the A and AAAA of e's targets, in RDATA order. Returns true when
 * a required one did not fit (TC). */
static bool put_addrs(const ans_t *a, const ans_entry_t *e, dns_msgb_t *b)
{
    static const uint16_t types[2] = { DNS_T_A, DNS_T_AAAA };
    const zone_rrset_t *rs = e->u.addrs.rs;
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(rs, 0, &len);
    for (unsigned i = 0; i < rs->count && (e->required || room(b) >= ANS_ADDR_MIN); i++) {
        if (i)
            rd = zone_rrset_rdata_next(rd, len, &len);
        const uint8_t *t = addr_target(a, e, rd, len), *owner = NULL;
        const zone_node_t *node = t && !addr_seen(a, e, i, t) ? addr_node(a, t, &owner) : NULL;
        for (int k = 0; node && k < 2; k++) {
            const zone_rrset_t *ar = zone_node_rrset(node, types[k]);
            /* a referral's answer section holds no addresses */
            if (!ar || (!e->u.addrs.cut && in_answer(a, ar, owner)))
                continue;
            if (put_rrset(b, DNS_SEC_AR, owner, ar, ar->ttl) != ZL_OK && e->required)
                return true;
        }
    }
    return false;
}

/* Writes one entry. Returns true when required data did not fit. */
static bool put_entry(const ans_t *a, const ans_entry_t *e, dns_msgb_t *b)
{
    int rc = ZL_OK;
    switch (e->kind) {
    case ANS_RRSET:
        rc = put_rrset(b, e->section, e->owner, e->u.set.rs, e->u.set.ttl);
        break;
    case ANS_RECORD:
        rc = dns_msgb_rr(b, e->section, e->owner, e->u.rec.type, DNS_C_IN, e->u.rec.ttl,
                         e->u.rec.rdata, e->u.rec.rdlen);
        break;
    case ANS_NODE: {
        size_t n;
        const zone_rrset_t *all = zone_node_rrsets(e->u.node, &n);
        for (size_t i = 0; i < n && rc == ZL_OK; i++)
            rc = put_rrset(b, e->section, e->owner, &all[i], all[i].ttl);
        break;
    }
    case ANS_ADDRS:
        return put_addrs(a, e, b);
    }
    return rc != ZL_OK && e->required;
}

bool ans_encode(const ans_t *a, dns_msgb_t *b)
{
    /* One pass: the entries come in section order (answer_int.h). */
    for (unsigned i = 0; i < a->n; i++)
        /* Required data that does not fit ends the message: the client
         * retries over TCP (RFC 7766 §5), or learns over TCP that the
         * answer is larger than a message can be (RFC 1035 §4.2.2). */
        if (put_entry(a, &a->e[i], b))
            return true;
    return a->full;
}
