/* Walks over a version in canonical order: the base's nodes are already
 * in that order; the overlay's names are sorted once per walk and merged
 * in, replacing (or, for tombstones, removing) the base nodes of the same
 * name. */
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/ovmap.h"
#include "zone/ziter_int.h"
#include "zone/zone_int.h"

typedef struct zi_collect {
    const struct zone_node **v;
    size_t n;
} zi_collect_t;

static int zi_collect(void *ctx, const ov_leaf_t *l)
{
    zi_collect_t *c = ctx;
    c->v[c->n++] = ovl_node(l);
    return 0;
}

static int zi_cmp(const void *a, const void *b)
{
    const struct zone_node *x = *(const struct zone_node *const *)a;
    const struct zone_node *y = *(const struct zone_node *const *)b;
    return dns_name_cmp(x->name, y->name);
}

int zone_iter_init(zone_iter_t *it, zone_t *z)
{
    memset(it, 0, sizeof(*it));
    if (z->ov_leaves) {
        zi_collect_t c = { malloc(z->ov_leaves * sizeof(*c.v)), 0 };
        if (!c.v)
            return ZL_ENOMEM;
        ovm_each(z->ov, zi_collect, &c);
        qsort(c.v, c.n, sizeof(*c.v), zi_cmp);
        it->ov = c.v;
        it->nov = c.n;
    }
    it->z = zone_ref(z);
    it->bpos = ZONE_BASE_START;
    return ZL_OK;
}

void zone_iter_fini(zone_iter_t *it)
{
    free((void *)it->ov);
    zone_free(it->z);
    memset(it, 0, sizeof(*it));
}

const struct zone_node *zi_node_next(zone_iter_t *it)
{
    const zone_t *z = it->z;
    for (;;) {
        const struct zone_node *b = it->bpos < z->size ? zn_at(z, (uint32_t)it->bpos) : NULL;
        const struct zone_node *o = it->iov < it->nov ? it->ov[it->iov] : NULL;
        if (!o) {
            if (b)
                it->bpos += zn_size(b);
            return b;
        }
        int c = b ? dns_name_cmp(b->name, o->name) : 1;
        if (c <= 0)
            it->bpos += zn_size(b);
        if (c < 0)
            return b;
        it->iov++;
        if (!(o->flags & ZN_GONE))
            return o;
    }
}

bool zone_iter_next(zone_iter_t *it, const uint8_t **owner, const zone_rrset_t **rs)
{
    if (it->state == 0) {
        it->state = 1;
        *owner = it->z->apex->name;
        *rs = zone_node_rrset(it->z->apex, DNS_T_SOA);
        return true;
    }
    while (it->state == 1) {
        const struct zone_node *n = it->node;
        while (n && it->rs < n->nrrsets) {
            const zone_rrset_t *r = zn_rrsets(n) + it->rs++;
            if (r->type == DNS_T_SOA && (n->flags & ZN_APEX))
                continue;
            *owner = n->name;
            *rs = r;
            return true;
        }
        it->node = zi_node_next(it);
        it->rs = 0;
        if (!it->node)
            it->state = 2;
    }
    return false;
}

static int rrset_walk(const uint8_t *owner, const zone_rrset_t *rs, zone_walk_fn fn, void *ctx)
{
    dns_rr_t r = { .owner = owner, .type = rs->type, .rclass = DNS_C_IN, .ttl = rs->ttl };
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
    zone_iter_t it;
    int rc = zone_iter_init(&it, (zone_t *)z);
    if (rc)
        return rc;
    const uint8_t *owner;
    const zone_rrset_t *rs;
    while (!rc && zone_iter_next(&it, &owner, &rs))
        rc = rrset_walk(owner, rs, fn, ctx);
    zone_iter_fini(&it);
    return rc;
}

size_t zone_overlay_nodes(const zone_t *z) { return z->ov_leaves; }
