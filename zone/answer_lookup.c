/* The lookup half of answering: RFC 1034 §4.3.2 with RFC 2308 negative
 * answers, RFC 4592 wildcards, RFC 6672 DNAME, RFC 8482 ANY and RFC 9471
 * glue. It only collects entries; answer_encode.c writes them. */
#include <assert.h>
#include <string.h>

#include "zone/answer_int.h"

/* A free entry of the table, or NULL (then a->full: see answer_int.h). */
static ans_entry_t *ans_new(ans_t *a, uint8_t kind, uint8_t section, const uint8_t *owner,
                            bool required)
{
    if (a->n >= ANS_MAX_ENTRIES) {
        a->full = true;
        return NULL;
    }
    /* the encoder writes in one pass (answer_int.h) */
    assert(a->n == 0 || a->e[a->n - 1].section <= section);
    ans_entry_t *e = &a->e[a->n++];
    e->kind = kind;
    e->section = section;
    e->owner = owner;
    e->required = required;
    return e;
}

static ans_entry_t *ans_rrset(ans_t *a, uint8_t section, const uint8_t *owner,
                              const zone_rrset_t *rs)
{
    ans_entry_t *e = ans_new(a, ANS_RRSET, section, owner, true);
    if (e) {
        e->u.set.rs = rs;
        e->u.set.ttl = rs->ttl;
    }
    return e;
}

static void ans_addrs(ans_t *a, const zone_rrset_t *rs, const uint8_t *cut, bool inside)
{
    /* RFC 9471 §3: glue of name servers inside the delegated zone must
     * fit (else TC); other addresses are optional. */
    ans_entry_t *e = ans_new(a, ANS_ADDRS, DNS_SEC_AR, NULL, cut && inside);
    if (e) {
        e->u.addrs.rs = rs;
        e->u.addrs.cut = cut;
        e->u.addrs.inside = inside;
    }
}

/* True when the answer section holds rs with this owner (a wildcard
 * lends one RRset to several names). */
static bool has_rrset(const ans_t *a, const zone_rrset_t *rs, const uint8_t *owner)
{
    for (unsigned i = 0; i < a->n; i++)
        if (a->e[i].kind == ANS_RRSET && a->e[i].section == DNS_SEC_AN &&
            a->e[i].u.set.rs == rs && dns_name_equal(a->e[i].owner, owner))
            return true;
    return false;
}

/* RFC 2308 §3: the SOA in the authority section, its TTL the minimum of
 * the SOA's own TTL and its MINIMUM field (RFC 2308 §5). */
static void add_negative_soa(ans_t *a)
{
    const zone_rrset_t *soa = zone_soa(a->zone);
    ans_entry_t *e = soa ? ans_rrset(a, DNS_SEC_NS, zone_origin(a->zone), soa) : NULL;
    if (!e)
        return;
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(soa, 0, &len);
    uint32_t min = len >= 20 ? dns_get_u32(rd + len - 4) : soa->ttl;
    if (min < soa->ttl)
        e->u.set.ttl = min;
}

/* Referral (RFC 1034 §4.3.2 step 3b): the cut's NS in authority, then
 * the addresses of the name servers inside the cut (required glue), then
 * of the others (sibling glue, optional). */
static void add_referral(ans_t *a, const zone_node_t *cut)
{
    const zone_rrset_t *ns = zone_node_rrset(cut, DNS_T_NS);
    const uint8_t *owner = zone_node_owner(cut);
    if (!ns || !ans_rrset(a, DNS_SEC_NS, owner, ns))
        return;
    ans_addrs(a, ns, owner, true);
    ans_addrs(a, ns, owner, false);
}

static bool wants_addresses(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_MX || type == DNS_T_SRV;
}

/* RFC 1035 §3.3.9, §3.3.11, RFC 2782: addresses of the NS, MX and SRV
 * targets of the answer section, all optional. */
static void add_additional(ans_t *a)
{
    unsigned n = a->n;
    for (unsigned i = 0; i < n; i++) {
        const ans_entry_t *e = &a->e[i];
        if (e->section != DNS_SEC_AN)
            continue;
        if (e->kind == ANS_RRSET && wants_addresses(e->u.set.rs->type))
            ans_addrs(a, e->u.set.rs, NULL, false);
        if (e->kind != ANS_NODE)
            continue;
        size_t k;
        const zone_rrset_t *all = zone_node_rrsets(e->u.node, &k);
        for (size_t j = 0; j < k; j++)
            if (wants_addresses(all[j].type))
                ans_addrs(a, &all[j], NULL, false);
    }
}

/* RFC 6672 §2.2: the DNAME (once, however often the chain passes it:
 * RFC 2181 §5, one RRset is one set of records), and a CNAME synthesised
 * for name with the TTL of the DNAME; YXDOMAIN when the new name would
 * exceed 255 octets. Returns the new name to follow, or NULL. */
static const uint8_t *dname_step(ans_t *a, const uint8_t *name, const zone_node_t *dnode,
                                 uint16_t qtype)
{
    const zone_rrset_t *dn = zone_node_rrset(dnode, DNS_T_DNAME);
    const uint8_t *downer = zone_node_owner(dnode);
    if (!dn || (!has_rrset(a, dn, downer) && !ans_rrset(a, DNS_SEC_AN, downer, dn)))
        return NULL;
    uint16_t tlen;
    const uint8_t *target = zone_rrset_rdata(dn, 0, &tlen);
    size_t plen = dns_name_len(name) - dns_name_len(downer);
    if (plen + tlen > DNS_NAME_MAX) {
        a->rcode = DNS_R_YXDOMAIN;
        return NULL;
    }
    ans_entry_t *e = a->nsyn < ANS_MAX_HOPS ? ans_new(a, ANS_RECORD, DNS_SEC_AN, name, true)
                                            : NULL;
    if (!e)
        return NULL;
    uint8_t *out = a->syn[a->nsyn++];
    memcpy(out, name, plen);
    memcpy(out + plen, target, tlen);
    e->u.rec.rdata = out;
    e->u.rec.rdlen = (uint16_t)(plen + tlen);
    e->u.rec.type = DNS_T_CNAME;
    e->u.rec.ttl = dn->ttl;
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
        ans_entry_t *e = a->tcp ? ans_new(a, ANS_NODE, DNS_SEC_AN, name, true) : NULL;
        if (e)
            e->u.node = node;
        else if (!a->tcp)
            ans_rrset(a, DNS_SEC_AN, name, &all[0]);
        return NULL;
    }
    const zone_rrset_t *cname = zone_node_rrset(node, DNS_T_CNAME);
    if (cname && qtype != DNS_T_CNAME && qtype != DNS_T_ANY) {
        if (has_rrset(a, cname, name) || !ans_rrset(a, DNS_SEC_AN, name, cname))
            return NULL; /* a loop through a wildcard CNAME */
        uint16_t len;
        return zone_rrset_rdata(cname, 0, &len);
    }
    const zone_rrset_t *rs = zone_node_rrset(node, qtype);
    if (rs)
        ans_rrset(a, DNS_SEC_AN, name, rs);
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
        /* The chain stops where it leaves the zone (the resolver goes on),
         * at a name already visited (a loop), and after ANS_MAX_HOPS
         * names (a chain that keeps growing, as a DNAME into its own
         * subtree makes): what was found so far is the answer. */
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
