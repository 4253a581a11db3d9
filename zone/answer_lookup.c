/* The lookup half of answering: RFC 1034 §4.3.2 with RFC 2308 negative
 * answers, RFC 4592 wildcards, RFC 6672 DNAME, RFC 8482 ANY and RFC 9471
 * glue. It only collects entries; answer_encode.c writes them. */
#include <string.h>

#include "zone/answer_int.h"

bool ans_add(ans_t *a, uint8_t section, const uint8_t *owner, const zone_rrset_t *rs,
             bool required)
{
    if (a->n >= ANS_MAX_ENTRIES)
        return false;
    a->e[a->n++] = (ans_entry_t){
        .owner = owner, .rs = rs, .type = rs->type, .rclass = DNS_C_IN,
        .ttl = rs->ttl, .section = section, .required = required,
    };
    return true;
}

/* True when rs is already an entry (with this owner, for RRsets a
 * wildcard lends to several names; owner NULL: any). */
static bool has_rrset(const ans_t *a, const zone_rrset_t *rs, const uint8_t *owner)
{
    for (unsigned i = 0; i < a->n; i++)
        if (a->e[i].rs == rs && (!owner || dns_name_equal(a->e[i].owner, owner)))
            return true;
    return false;
}

/* RFC 2308 §3: the SOA in the authority section, its TTL the minimum of
 * the SOA's own TTL and its MINIMUM field (RFC 2308 §5). */
static void add_negative_soa(ans_t *a)
{
    const zone_rrset_t *soa = zone_soa(a->zone);
    if (!soa || !ans_add(a, DNS_SEC_NS, zone_origin(a->zone), soa, true))
        return;
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(soa, 0, &len);
    uint32_t min = len >= 20 ? dns_get_u32(rd + len - 4) : soa->ttl;
    if (min < soa->ttl)
        a->e[a->n - 1].ttl = min;
}

/* A and AAAA of target into the additional section, when target is a
 * node of this zone (glue included, occluded data not: RFC 1034 §4.2.1)
 * or a name a wildcard covers (as Knot DNS does; RFC 1034 §4.3.2 step 6
 * looks the names up like a query). */
static void add_addresses(ans_t *a, const uint8_t *target, bool required)
{
    if (!dns_name_is_sub(target, zone_origin(a->zone)))
        return;
    const zone_node_t *node = zone_find(a->zone, target);
    const uint8_t *owner = target;
    if (node) {
        if (zone_node_is_occluded(node))
            return;
        owner = zone_node_owner(node);
    } else {
        zone_lookup_t lk;
        if (zone_lookup(a->zone, target, &lk) != ZL_OK || !lk.wildcard || lk.cut || lk.dname)
            return;
        node = lk.wildcard;
    }
    static const uint16_t types[2] = { DNS_T_A, DNS_T_AAAA };
    for (int i = 0; i < 2; i++) {
        const zone_rrset_t *rs = zone_node_rrset(node, types[i]);
        if (rs && !has_rrset(a, rs, owner))
            ans_add(a, DNS_SEC_AR, owner, rs, required);
    }
}

/* Referral (RFC 1034 §4.3.2 step 3b): the cut's NS in authority, then
 * glue. RFC 9471 §3: glue for name servers inside the delegated zone
 * must fit (else TC); other addresses are optional, so they go after. */
static void add_referral(ans_t *a, const zone_node_t *cut)
{
    const zone_rrset_t *ns = zone_node_rrset(cut, DNS_T_NS);
    const uint8_t *owner = zone_node_owner(cut);
    if (!ns || !ans_add(a, DNS_SEC_NS, owner, ns, true))
        return;
    for (int pass = 0; pass < 2; pass++) {
        uint16_t len;
        const uint8_t *rd = zone_rrset_rdata(ns, 0, &len);
        for (unsigned i = 0; i < ns->count; i++) {
            if (i)
                rd = zone_rrset_rdata_next(rd, len, &len);
            bool inside = dns_name_is_sub(rd, owner);
            if (inside == (pass == 0))
                add_addresses(a, rd, inside);
        }
    }
}

/* RFC 1035 §3.3.9, §3.3.11, RFC 2782: addresses of the NS, MX and SRV
 * targets of the answer section, all optional. */
static void add_additional(ans_t *a)
{
    unsigned n = a->n;
    for (unsigned i = 0; i < n; i++) {
        const ans_entry_t *e = &a->e[i];
        if (e->section != DNS_SEC_AN || !e->rs ||
            (e->type != DNS_T_NS && e->type != DNS_T_MX && e->type != DNS_T_SRV))
            continue;
        uint16_t len;
        const uint8_t *rd = zone_rrset_rdata(e->rs, 0, &len);
        for (unsigned j = 0; j < e->rs->count; j++) {
            if (j)
                rd = zone_rrset_rdata_next(rd, len, &len);
            const uint8_t *t = dns_rdata_target(e->type, rd, len);
            if (t)
                add_addresses(a, t, false);
        }
    }
}

/* RFC 6672 §2.2: the DNAME, and a CNAME synthesised for name with the TTL
 * of the DNAME; YXDOMAIN when the new name would exceed 255 octets.
 * Returns the new name to follow, or NULL. */
static const uint8_t *dname_step(ans_t *a, const uint8_t *name, const zone_node_t *dnode,
                                 uint16_t qtype)
{
    const zone_rrset_t *dn = zone_node_rrset(dnode, DNS_T_DNAME);
    const uint8_t *downer = zone_node_owner(dnode);
    if (!dn || !ans_add(a, DNS_SEC_AN, downer, dn, true))
        return NULL;
    uint16_t tlen;
    const uint8_t *target = zone_rrset_rdata(dn, 0, &tlen);
    size_t plen = dns_name_len(name) - dns_name_len(downer);
    if (plen + tlen > DNS_NAME_MAX) {
        a->rcode = DNS_R_YXDOMAIN;
        return NULL;
    }
    if (a->nsyn >= ANS_MAX_HOPS || a->n >= ANS_MAX_ENTRIES)
        return NULL;
    uint8_t *out = a->syn[a->nsyn++];
    memcpy(out, name, plen);
    memcpy(out + plen, target, tlen);
    a->e[a->n++] = (ans_entry_t){
        .owner = name, .rdata = out, .rdlen = (uint16_t)(plen + tlen),
        .type = DNS_T_CNAME, .rclass = DNS_C_IN, .ttl = dn->ttl,
        .section = DNS_SEC_AN, .required = true,
    };
    /* A CNAME question is answered by the synthesised CNAME itself. */
    return qtype == DNS_T_CNAME ? NULL : out;
}

/* An existing node (or the wildcard standing in for name, RFC 4592
 * §3.3.1: the owner of what it yields is name). Returns the CNAME target
 * to follow, or NULL. */
static const uint8_t *node_step(ans_t *a, const uint8_t *name, const zone_node_t *node,
                                uint16_t qtype)
{
    size_t n;
    const zone_rrset_t *all = zone_node_rrsets(node, &n);
    if (qtype == DNS_T_ANY && n > 0) {
        /* RFC 8482 §4.2: over UDP one RRset, the first in type order
         * (deterministic, and what Knot DNS picks); over TCP all. */
        size_t want = a->tcp ? n : 1;
        for (size_t i = 0; i < want; i++)
            ans_add(a, DNS_SEC_AN, name, &all[i], true);
        return NULL;
    }
    const zone_rrset_t *cname = zone_node_rrset(node, DNS_T_CNAME);
    if (cname && qtype != DNS_T_CNAME && qtype != DNS_T_ANY) {
        if (has_rrset(a, cname, name) || !ans_add(a, DNS_SEC_AN, name, cname, true))
            return NULL; /* a loop through a wildcard CNAME */
        uint16_t len;
        return zone_rrset_rdata(cname, 0, &len);
    }
    const zone_rrset_t *rs = zone_node_rrset(node, qtype);
    if (rs)
        ans_add(a, DNS_SEC_AN, name, rs, true);
    else
        add_negative_soa(a); /* NODATA (RFC 2308 §2.2) */
    return NULL;
}

static unsigned labels_of(const zone_node_t *n)
{
    return dns_name_labels(zone_node_owner(n));
}

/* One name of the chain. Returns the next name to follow, or NULL. */
static const uint8_t *step(ans_t *a, const uint8_t *name, uint16_t qtype, unsigned hop)
{
    zone_lookup_t lk;
    if (zone_lookup(a->zone, name, &lk) != ZL_OK)
        return NULL;
    /* Whichever of a DNAME or a cut is higher up the tree applies. */
    if (lk.dname && (!lk.cut || labels_of(lk.dname) < labels_of(lk.cut)))
        return dname_step(a, name, lk.dname, qtype);
    /* RFC 4035 §3.1.4.1: DS at a cut belongs to the parent side. */
    if (lk.cut && !(qtype == DNS_T_DS && lk.cut == lk.node)) {
        if (hop == 0)
            a->aa = false;
        add_referral(a, lk.cut);
        return NULL;
    }
    if (lk.node)
        return node_step(a, name, lk.node, qtype);
    if (lk.wildcard)
        return node_step(a, name, lk.wildcard, qtype);
    a->rcode = DNS_R_NXDOMAIN;
    add_negative_soa(a);
    return NULL;
}

void ans_resolve(ans_t *a, const uint8_t *qname, uint16_t qtype)
{
    const uint8_t *seen[ANS_MAX_HOPS];
    const uint8_t *name = qname;
    a->aa = true;
    a->rcode = DNS_R_NOERROR;
    for (unsigned hop = 0; hop < ANS_MAX_HOPS; hop++) {
        seen[hop] = name;
        const uint8_t *next = step(a, name, qtype, hop);
        /* The chain stops where it leaves the zone (the resolver goes on)
         * and at a name already visited (a loop). */
        if (!next || !dns_name_is_sub(next, zone_origin(a->zone)))
            break;
        bool loop = false;
        for (unsigned j = 0; j <= hop && !loop; j++)
            loop = dns_name_equal(seen[j], next);
        if (loop)
            break;
        name = next;
    }
    add_additional(a);
}
