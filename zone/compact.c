/* Compaction: a flat version from any version (its nodes are already in
 * canonical order: one walk, no sort), and moving later changes onto it
 * (apply.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/apply.h"
#include "zone/journal.h"
#include "zone/ovmap.h"
#include "zone/zhash.h"
#include "zone/ziter_int.h"
#include "zone/zone_int.h"

bool zone_compact_due(const zone_t *z)
{
    size_t nodes = z->flat->nnodes / 16, bytes = z->flat->size / 8;
    return z->ov_leaves > (nodes > 4096 ? nodes : 4096) ||
           z->ov_bytes > (bytes > ((size_t)1 << 20) ? bytes : (size_t)1 << 20);
}

/* The nodes of z in canonical order into *v (*n of them). */
static int zc_nodes(const zone_t *z, const struct zone_node ***v, size_t *n)
{
    zone_iter_t it;
    int rc = zone_iter_init(&it, (zone_t *)z);
    if (rc)
        return rc;
    if (!(*v = malloc((z->nnodes + 1) * sizeof(**v)))) {
        zone_iter_fini(&it);
        return ZL_ENOMEM;
    }
    size_t k = 0;
    for (const struct zone_node *nd; (nd = zi_node_next(&it));) {
        if (k == z->nnodes) {
            rc = ZL_EINVAL; /* cannot happen: the count is kept exact */
            break;
        }
        (*v)[k++] = nd;
    }
    zone_iter_fini(&it);
    *n = k;
    return rc;
}

/* Lays out the nodes v[0..n) into f's base and index, deriving every
 * cut, dname, child count and wildcard flag again from the records. */
static int zc_layout(zone_flat_t *f, const struct zone_node **v, size_t n, unsigned apex_labels)
{
    size_t size = ZONE_BASE_START, cap = 16;
    for (size_t i = 0; i < n; i++)
        size += zn_size(v[i]);
    while (cap < 2 * n)
        cap *= 2;
    if (size > UINT32_MAX || !(f->base = zf_alloc_big(size)) ||
        !(f->slots = zf_alloc_big(cap * sizeof(*f->slots))))
        return ZL_ENOMEM;
    f->size = size;
    f->mask = cap - 1;
    f->nnodes = n;
    uint32_t stack[128], at = ZONE_BASE_START;
    for (size_t i = 0; i < n; i++) {
        struct zone_node *nd = (struct zone_node *)(f->base + at);
        uint32_t sz = zn_size(v[i]);
        memcpy(nd, v[i], sz);
        unsigned d = dns_name_labels(nd->name) - apex_labels;
        struct zone_node *par = d ? (struct zone_node *)(f->base + stack[d - 1]) : NULL;
        nd->flags &= (uint8_t)~(ZN_OWN | ZN_WILDCHILD);
        nd->nchild = 0;
        nd->cut = par && par->cut ? par->cut : par && zone_node_rrset(nd, DNS_T_NS) ? at : 0;
        nd->dname = par && par->dname ? par->dname : zone_node_rrset(nd, DNS_T_DNAME) ? at : 0;
        if (par) {
            par->nchild++;
            if (nd->name[0] == 1 && nd->name[1] == '*')
                par->flags |= ZN_WILDCHILD;
        }
        stack[d] = at;
        uint64_t h = zh_mix(zh_name(nd->name));
        size_t s = h & f->mask;
        while (f->slots[s])
            s = (s + 1) & f->mask;
        f->slots[s] = (h >> 32) << 32 | at;
        at += sz;
    }
    return ZL_OK;
}

/* Sets ZN_OCCLUDED on the nodes of f as the builder does (zcut.c): at or
 * below a delegation or DNAME, and not glue. Needs the cut and dname
 * offsets and the table of targets. */
static void zc_occlusion(zone_flat_t *f, const zf_targets_t *t, unsigned apex_labels)
{
    uint32_t stack[128];
    for (uint32_t off = ZONE_BASE_START; off < f->size;) {
        struct zone_node *nd = (struct zone_node *)(f->base + off);
        unsigned d = dns_name_labels(nd->name) - apex_labels;
        const struct zone_node *par = d ? (const struct zone_node *)(f->base + stack[d - 1]) : NULL;
        uint32_t pcut = par ? par->cut : 0, pdn = par ? par->dname : 0;
        /* both are ancestors: the higher one is the one laid out first */
        uint32_t above = pcut && (!pdn || pcut <= pdn) ? pcut : pdn;
        bool cut = !above && nd->cut == off, glue = false;
        bool addr = zone_node_rrset(nd, DNS_T_A) || zone_node_rrset(nd, DNS_T_AAAA);
        if (addr && (cut || (above && above == pcut))) {
            const zone_rrset_t *ns = zone_node_rrset(zn_of(f, nd->cut), DNS_T_NS);
            glue = (ns && zn_ns_names(ns, nd->name)) || zf_glue_at(f, t, nd->name, NULL, NULL);
        }
        nd->flags &= (uint8_t)~ZN_OCCLUDED;
        if ((above || cut) && !glue)
            nd->flags |= ZN_OCCLUDED;
        stack[d] = off;
        off += zn_size(nd);
    }
}

int zone_compact(const zone_t *z, zone_t **out)
{
    *out = NULL;
    if (!z->ov) {
        *out = zone_ref((zone_t *)z);
        return ZL_OK;
    }
    const struct zone_node **v = NULL;
    size_t n = 0;
    zone_flat_t *f = calloc(1, sizeof(*f));
    int rc = f ? zc_nodes(z, &v, &n) : ZL_ENOMEM;
    if (!rc)
        rc = zc_layout(f, v, n, z->apex_labels);
    free(v);
    const zf_targets_t *t = NULL;
    if (!rc && !(t = zf_targets(f)))
        rc = ZL_ENOMEM;
    if (!rc)
        zc_occlusion(f, t, z->apex_labels);
    if (rc) {
        if (f) {
            free(f->base);
            free(f->slots);
            free(atomic_load_explicit(&f->targets, memory_order_relaxed));
        }
        free(f);
        return rc;
    }
    atomic_init(&f->refs, 1);
    zone_t *c = zv_new(f, z->nrecords);
    if (!c)
        return ZL_ENOMEM;
    c->journal = zone_journal_ref(z->journal);
    *out = c;
    return ZL_OK;
}

typedef struct zc_rebase {
    zone_t *v;
    int rc;
} zc_rebase_t;

static int zc_move(void *ctx, const ov_leaf_t *l)
{
    zc_rebase_t *r = ctx;
    const struct zone_node *n = ovl_node(l);
    if ((n->flags & ZN_GONE) && !zf_get(r->v, n->name, n->namelen, l->hash))
        return 0; /* gone, and not in the new base either */
    ov_map_t *m;
    const ov_leaf_t *prev;
    if (zf_filter_add(r->v->flat, l->hash) || ovm_set(r->v->ov, (ov_leaf_t *)l, &m, &prev))
        return r->rc = ZL_ENOMEM;
    ovm_unref(r->v->ov);
    r->v->ov = m;
    r->v->ov_leaves += !prev;
    r->v->ov_bytes += l->size;
    r->v->ov_bytes -= prev ? prev->size : 0;
    return 0;
}

int zone_rebase(const zone_t *compacted, const zone_t *v, const zone_t *latest, zone_t **out)
{
    *out = NULL;
    if (compacted->ov || latest->flat != v->flat ||
        !dns_name_equal(zone_origin(compacted), zone_origin(latest)))
        return ZL_EINVAL;
    zone_t *c = zv_copy(compacted);
    if (!c)
        return ZL_ENOMEM;
    c->journal = zone_journal_ref(latest->journal);
    zc_rebase_t r = { c, ZL_OK };
    ovm_changed(latest->ov, v->ov, zc_move, &r);
    if (r.rc) {
        zone_free(c);
        return r.rc;
    }
    const uint8_t *o = zone_origin(compacted);
    c->apex = zv_get(c, o, dns_name_len(o), c->apex_hash);
    c->nnodes = latest->nnodes;
    c->nrecords = latest->nrecords;
    c->serial = latest->serial;
    *out = c;
    return ZL_OK;
}
