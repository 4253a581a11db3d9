/* A built zone: reference counting, walks and the lookups answering
 * needs. The layout is in zone_int.h; the builder is zone/zbuild.c. */
#include "zone/zone.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/zhash.h"
#include "zone/zone_int.h"

zone_t *zone_ref(zone_t *z)
{
    if (z)
        atomic_fetch_add_explicit(&z->refs, 1, memory_order_relaxed);
    return z;
}

void zone_free(zone_t *z)
{
    if (!z || atomic_fetch_sub_explicit(&z->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(z->slots);
    free(z->base);
    free(z);
}

const uint8_t *zone_origin(const zone_t *z) { return zn_at(z, z->apex)->name; }
uint32_t zone_serial(const zone_t *z) { return z->serial; }
size_t zone_record_count(const zone_t *z) { return z->nrecords; }
size_t zone_node_count(const zone_t *z) { return z->nnodes; }
const zone_node_t *zone_apex(const zone_t *z) { return zn_at(z, z->apex); }
const zone_rrset_t *zone_soa(const zone_t *z) { return zone_node_rrset(zone_apex(z), DNS_T_SOA); }

size_t zone_memory(const zone_t *z)
{
    return sizeof(*z) + z->size + (size_t)(z->mask + 1) * sizeof(uint64_t);
}

const uint8_t *zone_node_owner(const zone_node_t *node) { return node->name; }
bool zone_node_is_apex(const zone_node_t *node) { return node->flags & ZN_APEX; }
bool zone_node_is_occluded(const zone_node_t *node) { return node->flags & ZN_OCCLUDED; }

const zone_rrset_t *zone_node_rrsets(const zone_node_t *node, size_t *n)
{
    *n = node->nrrsets;
    return zn_rrsets(node);
}

const zone_rrset_t *zone_node_rrset(const zone_node_t *node, uint16_t type)
{
    const zone_rrset_t *rs = zn_rrsets(node);
    for (unsigned i = 0; i < node->nrrsets; i++)
        if (rs[i].type == type)
            return &rs[i];
    return NULL;
}

const uint8_t *zone_rrset_rdata(const zone_rrset_t *rs, unsigned i, uint16_t *len)
{
    const uint8_t *p = (const uint8_t *)rs + rs->rdoff;
    for (; i > 0; i--)
        p += 2u + zn_get16(p);
    *len = zn_get16(p);
    return p + 2;
}

const struct zone_node *zn_next(const struct zone_node *n)
{
    const uint8_t *end = (const uint8_t *)zn_rrsets(n) + n->nrrsets * sizeof(zone_rrset_t);
    if (n->nrrsets) {
        const zone_rrset_t *last = zn_rrsets(n) + n->nrrsets - 1;
        uint16_t len;
        const uint8_t *p = zone_rrset_rdata(last, 0, &len);
        for (unsigned i = 1; i < last->count; i++)
            p = zone_rrset_rdata_next(p, len, &len);
        end = p + len;
    }
    uintptr_t a = ((uintptr_t)end + 3u) & ~(uintptr_t)3u;
    return (const struct zone_node *)a;
}

/* The node of name (len octets, hash h), or NULL. */
static const struct zone_node *zone_get(const zone_t *z, const uint8_t *name, size_t len,
                                        uint64_t h)
{
    h = zh_mix(h);
    uint64_t tag = h >> 32;
    for (uint64_t i = h & z->mask;; i = (i + 1) & z->mask) {
        uint64_t s = z->slots[i];
        if (!s)
            return NULL;
        if (s >> 32 != tag)
            continue;
        const struct zone_node *n = zn_at(z, (uint32_t)s);
        if (n->namelen == len && zh_equal(n->name, name, len))
            return n;
    }
}

static int rrset_walk(const zone_node_t *n, const zone_rrset_t *rs, zone_walk_fn fn, void *ctx)
{
    dns_rr_t r = { .owner = n->name, .type = rs->type, .rclass = DNS_C_IN, .ttl = rs->ttl };
    const uint8_t *p = zone_rrset_rdata(rs, 0, &r.rdlen);
    for (unsigned i = 0; i < rs->count; i++) {
        if (i)
            p = zone_rrset_rdata_next(p, r.rdlen, &r.rdlen);
        r.rdata = p;
        int rc = fn(ctx, &r);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

int zone_walk(const zone_t *z, zone_walk_fn fn, void *ctx)
{
    const zone_node_t *apex = zone_apex(z);
    const zone_rrset_t *soa = zone_node_rrset(apex, DNS_T_SOA);
    int rc = rrset_walk(apex, soa, fn, ctx);
    const uint8_t *end = z->base + z->size;
    for (const zone_node_t *n = zn_at(z, ZONE_BASE_START); !rc && (const uint8_t *)n < end;
         n = zn_next(n)) {
        const zone_rrset_t *rs = zn_rrsets(n);
        for (unsigned i = 0; !rc && i < n->nrrsets; i++)
            if (&rs[i] != soa)
                rc = rrset_walk(n, &rs[i], fn, ctx);
    }
    return rc;
}

/* `*.<encloser>`: the encloser's name is name[at..len), hash h. */
static const struct zone_node *zone_get_wild(const zone_t *z, const uint8_t *name, size_t len,
                                             uint64_t h)
{
    uint8_t w[DNS_NAME_MAX + 2];
    if (len + 2 > DNS_NAME_MAX)
        return NULL;
    w[0] = 1;
    w[1] = '*';
    memcpy(w + 2, name, len);
    return zone_get(z, w, len + 2, zh_label(h, w));
}

int zone_lookup(const zone_t *z, const uint8_t *name, zone_lookup_t *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t off[128];
    unsigned n = zh_offsets(name, off);
    size_t len = off[n] + 1u;
    const struct zone_node *apex = zn_at(z, z->apex);
    if (n < z->apex_labels)
        return ZL_ENOTFOUND;
    unsigned k = n - z->apex_labels; /* name + off[k] should be the origin */
    if (len - off[k] != apex->namelen || !zh_equal(name + off[k], apex->name, apex->namelen))
        return ZL_ENOTFOUND;
    uint64_t h[128];
    h[k] = z->apex_hash;
    for (unsigned i = k; i-- > 0;)
        h[i] = zh_label(h[i + 1], name + off[i]);
    /* The slots of the name and its parent are the likely probes, and
     * each is a cache miss in a large zone: start both loads together. */
    __builtin_prefetch(&z->slots[zh_mix(h[0]) & z->mask]);
    if (k > 1)
        __builtin_prefetch(&z->slots[zh_mix(h[1]) & z->mask]);
    const struct zone_node *e = k ? zone_get(z, name, len, h[0]) : apex;
    if (e) {
        out->node = out->encloser = e;
        out->cut = zn_at(z, e->cut);
        if (e->dname && e->dname != zn_off(z, e))
            out->dname = zn_at(z, e->dname);
        return ZL_OK;
    }
    unsigned i = 1;
    for (; i < k; i++)
        if ((e = zone_get(z, name + off[i], len - off[i], h[i])))
            break;
    if (!e)
        e = apex;
    out->encloser = e;
    out->cut = zn_at(z, e->cut);
    out->dname = zn_at(z, e->dname);
    if (e->flags & ZN_WILDCHILD)
        out->wildcard = zone_get_wild(z, name + off[i], len - off[i], h[i]);
    return ZL_OK;
}

const zone_node_t *zone_find(const zone_t *z, const uint8_t *name)
{
    return zone_get(z, name, dns_name_len(name), zh_name(name));
}
