/* zone_answer: the zone for the question, then the lookup (in
 * answer_lookup.c) and the writing (answer_encode.c). */
#include "zone/answer_int.h"

/* The zone for the query: the deepest one, except that DS at a zone's
 * apex comes from the parent zone when we serve it (RFC 4035 §3.1.4.1). */
static const zone_t *pick_zone(const zone_set_t *zs, const uint8_t *qname, uint16_t qtype)
{
    if (!zs)
        return NULL;
    const zone_t *z = zone_set_find(zs, qname);
    if (z && qtype == DNS_T_DS && qname[0] != 0 && dns_name_equal(zone_origin(z), qname)) {
        const zone_t *parent = zone_set_find(zs, dns_name_parent(qname));
        if (parent)
            z = parent;
    }
    return z;
}

uint16_t zone_answer(const zone_set_t *zs, const uint8_t *qname, uint16_t qtype, bool tcp,
                     dns_msgb_t *b, uint16_t *flags)
{
    const zone_t *z = pick_zone(zs, qname, qtype);
    if (!z)
        return DNS_R_REFUSED;
    ans_t a;
    a.n = 0;
    a.nsyn = 0;
    a.full = false;
    a.tcp = tcp;
    a.zone = z;
    ans_resolve(&a, qname, qtype);
    if (a.aa)
        *flags |= DNS_F_AA;
    if (ans_encode(&a, b))
        *flags |= DNS_F_TC;
    return a.rcode;
}
