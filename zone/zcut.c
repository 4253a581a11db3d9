/* Where each node of a zone being built sits: the delegation points and
 * DNAMEs above it (RFC 1034 §4.2.1, RFC 6672 §2.4), and whether its
 * addresses are glue, for the content rules (zcheck.c) and the occluded
 * flag of the built node. */
#include <stdlib.h>

#include "dns/err.h"
#include "zone/zbuild_int.h"
#include "zone/zhash.h"

void zb_cuts(zone_builder_t *b)
{
    size_t si = 0;
    for (uint32_t rank = 0; rank < b->nnodes; rank++) {
        zb_node_t *nd = &b->nodes[rank];
        const zb_node_t *par = rank ? &b->nodes[nd->parent] : NULL;
        bool dname = false;
        for (; si < b->ns && b->s[si].key >> 16 == rank; si++) {
            uint16_t type = (uint16_t)b->s[si].key;
            if (type == DNS_T_NS && !nd->ns)
                nd->ns = (uint32_t)si + 1;
            dname |= type == DNS_T_DNAME;
        }
        nd->cut = par && par->cut ? par->cut : rank && nd->ns ? rank + 1 : 0;
        nd->dname = par && par->dname ? par->dname : dname ? rank + 1 : 0;
    }
}

/* True when the NS records of node rank are served: at the apex, and at
 * a delegation point that no delegation or DNAME above occludes. */
static bool zb_ns_served(const zone_builder_t *b, uint32_t rank)
{
    const zb_node_t *nd = &b->nodes[rank];
    return rank == 0 || (nd->cut == rank + 1 && !b->nodes[nd->parent].dname);
}

/* True when one of the NS records starting at b->s[first - 1] (0: none)
 * names name. */
static bool zb_ns_names(const zone_builder_t *b, uint32_t first, const uint8_t *name)
{
    if (!first)
        return false;
    uint64_t key = b->s[first - 1].key;
    for (size_t i = first - 1; i < b->ns && b->s[i].key == key; i++)
        if (dns_name_equal(b->rdata + b->recs[b->s[i].a].rd, name))
            return true;
    return false;
}

static int zb_index_cmp(const void *pa, const void *pb, void *ctx)
{
    const zb_kv_t *x = pa, *y = pb;
    (void)ctx;
    return x->a < y->a ? -1 : x->a > y->a;
}

/* The table of every served NS target, sorted by hash. */
static int zb_targets_make(zone_builder_t *b)
{
    size_t n = 0;
    b->targets_made = true;
    for (size_t i = 0; i < b->ns; i++)
        n += (uint16_t)b->s[i].key == DNS_T_NS;
    if (!(b->targets = malloc(n * sizeof(*b->targets) + 1)))
        return ZL_ENOMEM;
    for (size_t i = 0; i < b->ns; i++) {
        if ((uint16_t)b->s[i].key != DNS_T_NS || !zb_ns_served(b, (uint32_t)(b->s[i].key >> 16)))
            continue;
        const uint8_t *target = b->rdata + b->recs[b->s[i].a].rd;
        b->targets[b->ntargets++] = (zb_kv_t){ .key = zh_name(target), .a = b->s[i].a };
    }
    return zb_sort(&b->targets, b->ntargets, zb_index_cmp, NULL);
}

static bool zb_targets_has(const zone_builder_t *b, const uint8_t *name)
{
    uint64_t h = zh_name(name);
    size_t lo = 0, hi = b->ntargets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->targets[mid].key < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < b->ntargets && b->targets[lo].key == h; lo++)
        if (dns_name_equal(b->rdata + b->recs[b->targets[lo].a].rd, name))
            return true;
    return false;
}

/* Whether node rank, at or below a delegation, is glue: named by an NS
 * record of its own delegation (the usual case, and cheap) or by any other
 * served NS record (sibling glue, RFC 9471 §2.2: the table of every target
 * is made the first time it is needed). */
static int zb_glue(zone_builder_t *b, uint32_t rank, bool *glue)
{
    const zb_node_t *nd = &b->nodes[rank];
    const uint8_t *name = b->names + nd->name;
    *glue = zb_ns_names(b, b->nodes[nd->cut - 1].ns, name);
    if (*glue)
        return ZL_OK;
    if (!b->targets_made && zb_targets_make(b))
        return ZL_ENOMEM;
    *glue = zb_targets_has(b, name);
    return ZL_OK;
}

int zb_where(zone_builder_t *b, uint32_t rank, bool addr, zb_where_t *w)
{
    const zb_node_t *nd = &b->nodes[rank], *par = rank ? &b->nodes[nd->parent] : NULL;
    uint32_t pcut = par ? par->cut : 0, pdn = par ? par->dname : 0;
    /* both are ancestors: the higher one has the lower rank */
    uint32_t above = pcut && (!pdn || pcut <= pdn) ? pcut : pdn;
    *w = (zb_where_t){ .name = b->names + nd->name, .apex = rank == 0 };
    if (above) {
        w->above = b->names + b->nodes[above - 1].name;
        w->above_dname = above != pcut;
    }
    w->cut = !above && nd->cut == rank + 1;
    if (addr && (w->cut || (above && !w->above_dname)))
        return zb_glue(b, rank, &w->glue);
    return ZL_OK;
}
