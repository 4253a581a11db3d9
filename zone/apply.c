/* zone_apply: the next version from a diff, copy-on-write per node
 * (apply.h, zone_int.h). The work is done on a small working set of
 * nodes (ap_node_t), loaded from the old version on demand:
 *  1. content: the new RRsets of every owner the diff names (a merge of
 *     the old node, the removed and the added records, all in canonical
 *     order);
 *  2. existence: names that appear make their parent gain a child (and
 *     create it as an empty non-terminal if it did not exist), names left
 *     without records or children go, and may take their parent along;
 *  3. structure: a delegation or DNAME that appears or goes changes the
 *     derived fields of every name below it: those names join the set;
 *  4. derived fields (cut, dname) of the set, parents first;
 *  5. the content rules on the nodes touched and the names below changed
 *     delegations;
 *  6. a new overlay: a new node for each member of the set that differs
 *     from the old version, a tombstone for each that went.
 * This file is longer than most because those steps share the working
 * set; each function is one of them. */
#include "zone/apply.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/ovmap.h"
#include "zone/zhash.h"
#include "zone/zone_int.h"
#include "zone/zrules.h"

typedef struct ap_rd {
    const uint8_t *p;
    uint16_t len;
} ap_rd_t;

/* One RRset of a touched node: all the records of an old RRset, or a
 * list of RDATA. */
typedef struct ap_rrset {
    uint16_t type;
    uint32_t ttl, count;
    const zone_rrset_t *old;
    ap_rd_t *rd;
} ap_rrset_t;

typedef struct ap_node {
    const uint8_t *name;   /* the node's spelling (the old node's, or the diff's) */
    uint8_t len;
    unsigned labels;
    uint64_t h;            /* zh_mix hash of the name */
    const struct zone_node *old; /* the node in the old version, or NULL */
    bool exists;           /* in the new version */
    bool touched;          /* owner of diff records: its content is rs[0..nrs) */
    bool below;            /* below a delegation or DNAME that appeared or went */
    bool target;           /* named by an NS record whose serving changed */
    bool parent_done;      /* pcut and pdname are set */
    ap_rrset_t *rs;
    uint16_t nrs;
    uint32_t nchild;
    uint8_t flags;         /* ZN_APEX, ZN_WILDCHILD */
    uint32_t cut, dname;   /* labels of the topmost cut / DNAME at or above */
    uint32_t pcut, pdname; /* the parent's */
    /* where it sits (zrules.h), once step 5 has run */
    uint32_t above;        /* labels of the topmost cut or DNAME strictly above, 0: none */
    bool above_dname, is_cut, glue;
} ap_node_t;

typedef struct ap {
    const zone_t *z;
    const zone_diff_t *d;
    const zone_report_t *rep;
    dns_arena_t arena;
    ap_node_t **slot;      /* the working set by name: open addressing */
    size_t cap;
    ap_node_t **list;      /* the working set in the order it was made */
    size_t n, list_cap;
    long dnodes, drecords;
    unsigned errors;
    bool nomem;            /* an allocation failed where no error could be returned */
} ap_t;

/* ---- the working set --------------------------------------------------- */

static ap_node_t *ap_find(const ap_t *ap, const uint8_t *name, size_t len, uint64_t h)
{
    if (!ap->cap)
        return NULL;
    for (size_t i = h & (ap->cap - 1);; i = (i + 1) & (ap->cap - 1)) {
        ap_node_t *w = ap->slot[i];
        if (!w)
            return NULL;
        if (w->h == h && w->len == len && zh_equal(w->name, name, len))
            return w;
    }
}

static int ap_grow(ap_t *ap)
{
    size_t cap = ap->cap ? 2 * ap->cap : 64;
    ap_node_t **s = calloc(cap, sizeof(*s));
    if (!s)
        return ZL_ENOMEM;
    for (size_t k = 0; k < ap->n; k++) {
        size_t i = ap->list[k]->h & (cap - 1);
        while (s[i])
            i = (i + 1) & (cap - 1);
        s[i] = ap->list[k];
    }
    free(ap->slot);
    ap->slot = s;
    ap->cap = cap;
    ap_node_t **l = realloc(ap->list, cap / 2 * sizeof(*l));
    if (!l)
        return ZL_ENOMEM;
    ap->list = l;
    ap->list_cap = cap / 2;
    return ZL_OK;
}

/* The working node of name (its spelling is kept if it is new), loaded
 * from the old version the first time. NULL on ENOMEM. */
static ap_node_t *ap_load(ap_t *ap, const uint8_t *name)
{
    size_t len = dns_name_len(name);
    uint64_t hu = zh_name(name), h = zh_mix(hu);
    ap_node_t *w = ap_find(ap, name, len, h);
    if (w)
        return w;
    if (ap->n + 1 > ap->cap / 2 && ap_grow(ap))
        return NULL;
    if (!(w = dns_arena_alloc(&ap->arena, sizeof(*w))))
        return NULL;
    const struct zone_node *old = zv_get(ap->z, name, len, hu);
    *w = (ap_node_t){ .name = old ? old->name : name, .len = (uint8_t)len,
                      .labels = dns_name_labels(name), .h = h, .old = old, .exists = old != NULL };
    if (old) {
        w->nchild = old->nchild;
        w->flags = old->flags & (ZN_APEX | ZN_WILDCHILD | ZN_OCCLUDED);
        w->cut = zv_anc_labels(ap->z, old, 0);
        w->dname = zv_anc_labels(ap->z, old, 1);
    }
    size_t i = h & (ap->cap - 1);
    while (ap->slot[i])
        i = (i + 1) & (ap->cap - 1);
    ap->slot[i] = w;
    ap->list[ap->n++] = w;
    return w;
}

static size_t ap_nrrsets(const ap_node_t *w)
{
    return w->touched ? w->nrs : w->old ? w->old->nrrsets : 0;
}

static bool ap_has(const ap_node_t *w, uint16_t type)
{
    if (!w->touched)
        return w->old && zone_node_rrset(w->old, type);
    for (uint16_t i = 0; i < w->nrs; i++)
        if (w->rs[i].type == type)
            return true;
    return false;
}

static bool ap_is_wild(const uint8_t *name) { return name[0] == 1 && name[1] == '*'; }

/* ---- 1. content -------------------------------------------------------- */

/* A run of diff records of one owner and type: r[0..n). */
typedef struct ap_run {
    const dns_rr_t *r;
    size_t n;
} ap_run_t;

static ap_run_t ap_run_of(const dns_rr_t *r, size_t n, size_t *i, uint16_t type)
{
    ap_run_t run = { r ? r + *i : NULL, 0 };
    while (*i < n && r[*i].type == type) {
        (*i)++;
        run.n++;
    }
    return run;
}

static int ap_rdcmp(uint16_t type, const uint8_t *a, uint16_t alen, const dns_rr_t *b)
{
    return dns_rdata_cmp(type, a, alen, b->rdata, b->rdlen);
}

/* The new RRset of one type: old (may be NULL) minus rm plus add. */
static int ap_merge(ap_t *ap, const zone_rrset_t *old, uint16_t type, ap_run_t rm, ap_run_t add,
                    ap_rrset_t *out)
{
    size_t cap = (old ? old->count : 0) + add.n, k = 0, j = 0;
    ap_rd_t *kept = dns_arena_alloc(&ap->arena, (cap + 1) * sizeof(*kept));
    if (!kept)
        return ZL_ENOMEM;
    uint16_t len = 0;
    const uint8_t *p = old ? zone_rrset_rdata(old, 0, &len) : NULL;
    for (unsigned i = 0; old && i < old->count; i++) {
        if (i)
            p = zone_rrset_rdata_next(p, len, &len);
        int c = j < rm.n ? ap_rdcmp(type, p, len, &rm.r[j]) : -1;
        if (c > 0)
            return ZL_EINVAL; /* rm.r[j] is not in the zone */
        if (c == 0) {
            if (rm.r[j++].ttl != old->ttl)
                return ZL_EINVAL;
            continue;
        }
        kept[k++] = (ap_rd_t){ p, len };
    }
    if (j < rm.n)
        return ZL_EINVAL;
    /* merge the kept records with the added ones (both in canonical order) */
    ap_rd_t *rd = dns_arena_alloc(&ap->arena, (cap + 1) * sizeof(*rd));
    if (!rd)
        return ZL_ENOMEM;
    uint32_t ttl = k ? old->ttl : add.n ? add.r[0].ttl : 0;
    size_t n = 0, a = 0, i = 0;
    while (i < k || a < add.n) {
        if (a < add.n && add.r[a].ttl != ttl)
            return ZL_EINVAL; /* an RRset has one TTL (RFC 2181 §5.2) */
        int c = i == k ? 1 : a == add.n ? -1 : ap_rdcmp(type, kept[i].p, kept[i].len, &add.r[a]);
        if (c == 0)
            return ZL_EINVAL; /* added, but already there */
        if (c < 0)
            rd[n++] = kept[i++];
        else {
            rd[n++] = (ap_rd_t){ add.r[a].rdata, add.r[a].rdlen };
            a++;
        }
    }
    *out = (ap_rrset_t){ .type = type, .ttl = ttl, .count = (uint32_t)n, .rd = rd };
    if (!rm.n && !add.n) {
        out->old = old;
        out->rd = NULL;
    }
    ap->drecords += (long)add.n - (long)rm.n;
    return ZL_OK;
}

/* The new content of owner w: its old RRsets with the records rm[0..nrm)
 * and add[0..nadd) of the diff (one owner, canonical order) applied, and
 * the apex SOA replaced. */
static int ap_content(ap_t *ap, ap_node_t *w, const dns_rr_t *rm, size_t nrm, const dns_rr_t *add,
                      size_t nadd)
{
    const struct zone_node *o = w->old;
    size_t no = o ? o->nrrsets : 0, io = 0, ir = 0, ia = 0;
    const zone_rrset_t *ors = o ? zn_rrsets(o) : NULL;
    ap_rrset_t *rs = dns_arena_alloc(&ap->arena, (no + nrm + nadd + 1) * sizeof(*rs));
    if (!rs)
        return ZL_ENOMEM;
    w->touched = true;
    w->rs = rs;
    w->nrs = 0;
    while (io < no || ir < nrm || ia < nadd) {
        uint32_t t = 0x10000;
        if (io < no && ors[io].type < t)
            t = ors[io].type;
        if (ir < nrm && rm[ir].type < t)
            t = rm[ir].type;
        if (ia < nadd && add[ia].type < t)
            t = add[ia].type;
        const zone_rrset_t *old = io < no && ors[io].type == t ? &ors[io++] : NULL;
        ap_run_t r = ap_run_of(rm, nrm, &ir, (uint16_t)t), a = ap_run_of(add, nadd, &ia, (uint16_t)t);
        ap_rrset_t *out = &rs[w->nrs];
        int rc = ap_merge(ap, old, (uint16_t)t, r, a, out);
        if (rc)
            return rc;
        if (t == DNS_T_SOA && (w->flags & ZN_APEX)) {
            const dns_rr_t *soa = zone_diff_new_soa(ap->d);
            ap_rd_t *rd = dns_arena_alloc(&ap->arena, sizeof(*rd));
            if (!rd)
                return ZL_ENOMEM;
            *rd = (ap_rd_t){ soa->rdata, soa->rdlen };
            *out = (ap_rrset_t){ .type = DNS_T_SOA, .ttl = soa->ttl, .count = 1, .rd = rd };
        }
        if (out->count > UINT16_MAX) {
            char text[DNS_NAME_TEXT_MAX];
            if (dns_name_to_text(w->name, text, sizeof(text)) < 0)
                strcpy(text, "?");
            zone_reportf(ap->rep, ZONE_ERROR, NULL, 0, "more than 65535 records in one RRset at %s",
                         text);
            ap->errors++;
        }
        w->nrs += out->count > 0;
    }
    return ZL_OK;
}

/* Step 1 over the whole diff: the owners in canonical order. */
static int ap_contents(ap_t *ap)
{
    size_t nrm, nadd, i = 0, j = 0;
    const dns_rr_t *rm = zone_diff_removed(ap->d, &nrm), *add = zone_diff_added(ap->d, &nadd);
    ap_node_t *apex = ap_load(ap, zone_origin(ap->z));
    if (!apex)
        return ZL_ENOMEM;
    bool apex_done = false;
    while (i < nrm || j < nadd) {
        const uint8_t *owner = i == nrm ? add[j].owner : j == nadd ? rm[i].owner
                             : dns_name_cmp(rm[i].owner, add[j].owner) <= 0 ? rm[i].owner
                                                                              : add[j].owner;
        size_t i2 = i, j2 = j;
        while (i2 < nrm && dns_name_equal(rm[i2].owner, owner))
            i2++;
        while (j2 < nadd && dns_name_equal(add[j2].owner, owner))
            j2++;
        ap_node_t *w = ap_load(ap, owner);
        if (!w)
            return ZL_ENOMEM;
        int rc = ap_content(ap, w, rm + i, i2 - i, add + j, j2 - j);
        if (rc)
            return rc;
        apex_done |= w == apex;
        i = i2;
        j = j2;
    }
    /* the SOA changes even when nothing else at the apex does */
    return apex_done ? ZL_OK : ap_content(ap, apex, NULL, 0, NULL, 0);
}

/* ---- 2. existence ------------------------------------------------------ */

static ap_node_t *ap_parent(ap_t *ap, const ap_node_t *w)
{
    return ap_load(ap, w->name + w->name[0] + 1);
}

/* w now exists: its parent gains a child (and exists too, as an empty
 * non-terminal if it did not). */
static int ap_appear(ap_t *ap, ap_node_t *w)
{
    for (;;) {
        w->exists = true;
        ap->dnodes++;
        if (w->flags & ZN_APEX)
            return ZL_OK;
        ap_node_t *p = ap_parent(ap, w);
        if (!p)
            return ZL_ENOMEM;
        p->nchild++;
        if (ap_is_wild(w->name))
            p->flags |= ZN_WILDCHILD;
        if (p->exists)
            return ZL_OK;
        w = p;
    }
}

/* w is gone: its parent loses a child, and goes too when that leaves it
 * an empty non-terminal without children. */
static int ap_vanish(ap_t *ap, ap_node_t *w)
{
    for (;;) {
        w->exists = false;
        ap->dnodes--;
        ap_node_t *p = ap_parent(ap, w);
        if (!p)
            return ZL_ENOMEM;
        p->nchild--;
        if (ap_is_wild(w->name))
            p->flags &= (uint8_t)~ZN_WILDCHILD;
        if (!p->exists || (p->flags & ZN_APEX) || p->nchild || ap_nrrsets(p))
            return ZL_OK;
        w = p;
    }
}

static int ap_existence(ap_t *ap)
{
    /* ap->list grows while this runs (parents join): visit the owners only */
    size_t n = ap->n;
    for (size_t k = 0; k < n; k++) {
        ap_node_t *w = ap->list[k];
        if (!w->touched)
            continue;
        size_t nrs = ap_nrrsets(w);
        int rc = ZL_OK;
        if (!w->exists && nrs)
            rc = ap_appear(ap, w);
        else if (w->exists && !nrs && !w->nchild && !(w->flags & ZN_APEX))
            rc = ap_vanish(ap, w);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

/* ---- 3. structure ------------------------------------------------------ */

static bool ap_was_cut(const ap_node_t *w, uint16_t type)
{
    return w->old && (type != DNS_T_NS || !(w->flags & ZN_APEX)) && zone_node_rrset(w->old, type);
}

static bool ap_is_cut(const ap_node_t *w, uint16_t type)
{
    return w->exists && (type != DNS_T_NS || !(w->flags & ZN_APEX)) && ap_has(w, type);
}

typedef struct ap_sub {
    ap_t *ap;
    const ap_node_t *root;
    int rc;
} ap_sub_t;

static int ap_sub_leaf(void *ctx, const ov_leaf_t *l)
{
    ap_sub_t *s = ctx;
    const struct zone_node *n = ovl_node(l);
    if (!(n->flags & ZN_GONE) && n->namelen > s->root->len &&
        dns_name_is_sub(n->name, s->root->name)) {
        ap_node_t *w = ap_load(s->ap, n->name);
        if (!w)
            return s->rc = ZL_ENOMEM;
        w->below = true;
    }
    return 0;
}

/* Loads every name below root in the old version, marked below. */
static int ap_subtree(ap_t *ap, const ap_node_t *root)
{
    const zone_t *z = ap->z;
    const struct zone_node *b = zf_get(z, root->name, root->len, root->h);
    if (b) {
        const uint8_t *end = z->base + z->size;
        for (const struct zone_node *n = zn_next(b);
             (const uint8_t *)n < end && dns_name_is_sub(n->name, root->name); n = zn_next(n)) {
            ap_node_t *w = ap_load(ap, n->name);
            if (!w)
                return ZL_ENOMEM;
            w->below = true;
        }
    }
    ap_sub_t s = { ap, root, ZL_OK };
    ovm_each(z->ov, ap_sub_leaf, &s);
    return s.rc;
}

static int ap_structure(ap_t *ap)
{
    size_t n = ap->n;
    for (size_t k = 0; k < n; k++) {
        ap_node_t *w = ap->list[k];
        if (!w->touched || (ap_was_cut(w, DNS_T_NS) == ap_is_cut(w, DNS_T_NS) &&
                            ap_was_cut(w, DNS_T_DNAME) == ap_is_cut(w, DNS_T_DNAME)))
            continue;
        int rc = ap_subtree(ap, w);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

/* ---- 4. derived fields ------------------------------------------------- */

static int ap_cmp(const void *a, const void *b)
{
    return dns_name_cmp((*(const ap_node_t *const *)a)->name, (*(const ap_node_t *const *)b)->name);
}

/* The cut and dname fields of w's parent in the new version: the
 * working node's when the parent is in the working set (set already when
 * the set is visited parents first), else the old version's. */
static void ap_parent_fields(ap_t *ap, ap_node_t *w)
{
    w->pcut = w->pdname = 0;
    w->parent_done = true;
    if (w->flags & ZN_APEX)
        return;
    const uint8_t *pn = w->name + w->name[0] + 1;
    size_t plen = w->len - w->name[0] - 1u;
    const ap_node_t *p = ap_find(ap, pn, plen, zh_mix(zh_name(pn)));
    if (p) {
        w->pcut = p->cut;
        w->pdname = p->dname;
        return;
    }
    const struct zone_node *o = zv_get(ap->z, pn, plen, zh_name(pn));
    w->pcut = o ? zv_anc_labels(ap->z, o, 0) : 0;
    w->pdname = o ? zv_anc_labels(ap->z, o, 1) : 0;
}

/* Sorts the working set into canonical order (parents first) and sets
 * the cut and dname of every node in it that exists. */
static void ap_derive(ap_t *ap)
{
    qsort(ap->list, ap->n, sizeof(*ap->list), ap_cmp);
    for (size_t k = 0; k < ap->n; k++) {
        ap_node_t *w = ap->list[k];
        if (!w->exists)
            continue;
        ap_parent_fields(ap, w);
        w->cut = w->pcut ? w->pcut : ap_is_cut(w, DNS_T_NS) ? w->labels : 0;
        w->dname = w->pdname ? w->pdname : ap_has(w, DNS_T_DNAME) ? w->labels : 0;
    }
}

/* ---- 5. occlusion: what delegations and DNAMEs hide, and glue ---------- */

/* Whether w serves its NS records in the new version (zv_serves_ns). */
static bool ap_serves(const ap_node_t *w)
{
    return w->exists && ((w->flags & ZN_APEX) ||
                         (w->cut == w->labels && (!w->dname || w->dname == w->labels)));
}

/* The NS RRset of w in the new version: an old RRset (*old) or a list. */
static const ap_rrset_t *ap_ns(const ap_node_t *w, const zone_rrset_t **old)
{
    *old = NULL;
    if (!w->touched) {
        *old = w->old ? zone_node_rrset(w->old, DNS_T_NS) : NULL;
        return NULL;
    }
    for (uint16_t i = 0; i < w->nrs; i++)
        if (w->rs[i].type == DNS_T_NS) {
            *old = w->rs[i].old;
            return w->rs[i].old ? NULL : &w->rs[i];
        }
    return NULL;
}

static bool ap_ns_names(const ap_node_t *w, const uint8_t *name)
{
    const zone_rrset_t *o;
    const ap_rrset_t *a = ap_ns(w, &o);
    if (o)
        return zn_ns_names(o, name);
    for (uint32_t i = 0; a && i < a->count; i++)
        if (dns_name_equal(a->rd[i].p, name))
            return true;
    return false;
}

/* Loads the in-zone targets of an NS RRset (old or list), marked. */
static int ap_load_targets(ap_t *ap, const zone_rrset_t *o, const ap_rrset_t *a)
{
    uint16_t len = 0;
    const uint8_t *p = o ? zone_rrset_rdata(o, 0, &len) : NULL;
    uint32_t n = o ? o->count : a ? a->count : 0;
    for (uint32_t i = 0; i < n; i++) {
        if (o && i)
            p = zone_rrset_rdata_next(p, len, &len);
        const uint8_t *t = o ? p : a->rd[i].p;
        if (!dns_name_is_sub(t, zone_origin(ap->z)))
            continue;
        ap_node_t *w = ap_load(ap, t);
        if (!w)
            return ZL_ENOMEM;
        w->target = true;
    }
    return ZL_OK;
}

/* Whether an address at a name can become or stop being glue (RFC 9471)
 * with this change: the names that NS records name, when the records or
 * the serving of their owner changed, join the working set. */
static int ap_targets(ap_t *ap)
{
    size_t n = ap->n;
    for (size_t k = 0; k < n; k++) {
        ap_node_t *w = ap->list[k];
        bool was = w->old && zv_serves_ns(ap->z, w->old), is = ap_serves(w);
        if (!w->touched && !w->below && was == is)
            continue;
        const zone_rrset_t *o;
        const ap_rrset_t *a = ap_ns(w, &o);
        int rc = is ? ap_load_targets(ap, o, a) : ZL_OK;
        if (!rc && was && (w->touched || !is))
            rc = ap_load_targets(ap, zone_node_rrset(w->old, DNS_T_NS), NULL);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

/* Whether the base node owner is replaced in the new version (in the
 * working set or the old overlay). */
static bool ap_replaced(void *ctx, const struct zone_node *owner)
{
    const ap_t *ap = ctx;
    uint64_t h = zh_mix(zh_name(owner->name));
    return ap_find(ap, owner->name, owner->namelen, h) ||
           (ap->z->ov && ovm_get(ap->z->ov, h, owner->name, owner->namelen));
}

typedef struct ap_glue_scan {
    ap_t *ap;
    const uint8_t *name;
    bool found;
} ap_glue_scan_t;

static int ap_glue_leaf(void *ctx, const ov_leaf_t *l)
{
    ap_glue_scan_t *g = ctx;
    const struct zone_node *n = ovl_node(l);
    const zone_rrset_t *ns = n->flags & ZN_GONE ? NULL : zone_node_rrset(n, DNS_T_NS);
    if (ns && !ap_find(g->ap, n->name, n->namelen, l->hash) && zv_serves_ns(g->ap->z, n) &&
        zn_ns_names(ns, g->name))
        g->found = true;
    return g->found;
}

/* Whether a served NS record of the new version names name: one of the
 * working set, of the old overlay (outside the working set: unchanged),
 * or of the base (whose owner neither replaces). */
static bool ap_glue_any(ap_t *ap, const uint8_t *name)
{
    for (size_t k = 0; k < ap->n; k++)
        if (ap_serves(ap->list[k]) && ap_ns_names(ap->list[k], name))
            return true;
    ap_glue_scan_t g = { ap, name, false };
    ovm_each(ap->z->ov, ap_glue_leaf, &g);
    if (g.found)
        return true;
    const zf_targets_t *t = zf_targets(ap->z->flat);
    if (!t) {
        ap->nomem = true;
        return false;
    }
    return zf_glue_at(ap->z->flat, t, name, ap_replaced, ap);
}

/* The node of the suffix of w's name with labels labels, in the new
 * version (the working set first). */
static const uint8_t *ap_suffix(const ap_node_t *w, uint32_t labels);

static bool ap_own_ns_names(ap_t *ap, const ap_node_t *w)
{
    const uint8_t *cn = ap_suffix(w, w->cut);
    size_t len = dns_name_len(cn);
    const ap_node_t *c = ap_find(ap, cn, len, zh_mix(zh_name(cn)));
    if (c)
        return ap_ns_names(c, w->name);
    const struct zone_node *o = zv_get(ap->z, cn, len, zh_name(cn));
    const zone_rrset_t *ns = o ? zone_node_rrset(o, DNS_T_NS) : NULL;
    return ns && zn_ns_names(ns, w->name);
}

/* Where each node of the working set sits, and its occluded flag, as the
 * builder finds them (zcut.c): the higher of the delegation and the DNAME
 * above occludes it; a delegation point occludes all but NS, DS and
 * glue; addresses named by a served NS record are glue. */
static void ap_occlusion(ap_t *ap)
{
    for (size_t k = 0; k < ap->n; k++) {
        ap_node_t *w = ap->list[k];
        if (!w->exists)
            continue;
        if (!w->parent_done)
            ap_parent_fields(ap, w);
        w->above = w->pcut && (!w->pdname || w->pcut <= w->pdname) ? w->pcut : w->pdname;
        w->above_dname = w->above && w->above != w->pcut;
        w->is_cut = !w->above && w->cut == w->labels;
        w->glue = false;
        if ((ap_has(w, DNS_T_A) || ap_has(w, DNS_T_AAAA)) &&
            (w->is_cut || (w->above && !w->above_dname)))
            w->glue = ap_own_ns_names(ap, w) || ap_glue_any(ap, w->name);
        w->flags &= (uint8_t)~ZN_OCCLUDED;
        if ((w->above || w->is_cut) && !w->glue)
            w->flags |= ZN_OCCLUDED;
    }
}

/* ---- 6. content rules -------------------------------------------------- */

/* The records of w for the rules. */
static int ap_recs(ap_t *ap, const ap_node_t *w, zr_rec_t **out, size_t *n)
{
    size_t cnt = 0, nrs = ap_nrrsets(w);
    const zone_rrset_t *ors = w->touched || !w->old ? NULL : zn_rrsets(w->old);
    for (size_t i = 0; i < nrs; i++)
        cnt += w->touched ? w->rs[i].count : ors[i].count;
    zr_rec_t *r = dns_arena_alloc(&ap->arena, (cnt + 1) * sizeof(*r));
    if (!r)
        return ZL_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nrs; i++) {
        const ap_rrset_t *a = w->touched ? &w->rs[i] : NULL;
        const zone_rrset_t *o = a ? a->old : &ors[i];
        uint16_t type = a ? a->type : o->type;
        uint32_t count = a ? a->count : o->count;
        uint16_t len = 0;
        const uint8_t *p = o ? zone_rrset_rdata(o, 0, &len) : NULL;
        for (uint32_t j = 0; j < count; j++) {
            if (o && j)
                p = zone_rrset_rdata_next(p, len, &len);
            r[k++] = (zr_rec_t){ .type = type, .rdata = o ? p : a->rd[j].p,
                                 .rdlen = o ? len : a->rd[j].len };
        }
    }
    *out = r;
    *n = k;
    return ZL_OK;
}

/* The suffix of w's name with labels labels (an ancestor), or NULL. */
static const uint8_t *ap_suffix(const ap_node_t *w, uint32_t labels)
{
    if (!labels || labels > w->labels)
        return NULL;
    const uint8_t *p = w->name;
    for (unsigned i = w->labels; i > labels; i--)
        p += p[0] + 1;
    return p;
}

/* The rules on the nodes the change touches and on those whose place or
 * glue it changes (their warnings say what is occluded now). */
static int ap_check(ap_t *ap)
{
    for (size_t k = 0; k < ap->n; k++) {
        const ap_node_t *w = ap->list[k];
        bool moved = w->old && (w->flags & ZN_OCCLUDED) != (w->old->flags & ZN_OCCLUDED);
        if (!w->exists || !(w->touched || w->below || moved))
            continue;
        zr_rec_t *r;
        size_t n;
        if (ap_recs(ap, w, &r, &n))
            return ZL_ENOMEM;
        zr_where_t where = { .name = w->name, .apex = w->flags & ZN_APEX, .cut = w->is_cut,
                             .above = ap_suffix(w, w->above), .above_dname = w->above_dname,
                             .glue = w->glue };
        ap->errors += zr_check_node(&where, r, n, n, ap->rep);
    }
    return ZL_OK;
}

/* ---- 7. the new overlay ------------------------------------------------ */

/* Octets of the RDATA of an old RRset (with length prefixes) and where
 * they start. */
static size_t ap_blob(const zone_rrset_t *rs, const uint8_t **start)
{
    uint16_t len;
    const uint8_t *p = zone_rrset_rdata(rs, 0, &len);
    *start = p - 2;
    for (unsigned i = 1; i < rs->count; i++)
        p = zone_rrset_rdata_next(p, len, &len);
    return (size_t)(p + len - *start);
}

static void ap_head(const ap_node_t *w, struct zone_node *n)
{
    n->cut = w->cut;
    n->dname = w->dname;
    n->nchild = w->nchild;
    n->flags = (uint8_t)(w->flags | ZN_OWN);
}

/* A new overlay node for w (which exists). */
static ov_leaf_t *ap_leaf(const ap_node_t *w)
{
    ov_leaf_t *l;
    if (!w->touched && w->old) {
        /* same records, same layout: copy the node and set its header */
        uint32_t size = zn_size(w->old);
        if (!(l = ovl_new(size)))
            return NULL;
        memcpy(ovl_node(l), w->old, size);
    } else {
        uint16_t nrs = w->touched ? w->nrs : 0; /* else a new empty non-terminal */
        size_t size = zn_head_size(w->len, nrs);
        for (uint16_t i = 0; i < nrs; i++) {
            const uint8_t *s;
            if (w->rs[i].old)
                size += ap_blob(w->rs[i].old, &s);
            else
                for (uint32_t j = 0; j < w->rs[i].count; j++)
                    size += 2u + w->rs[i].rd[j].len;
        }
        if (!(l = ovl_new(zn_align4((uint32_t)size))))
            return NULL;
        struct zone_node *n = ovl_node(l);
        n->nrrsets = nrs;
        n->namelen = w->len;
        memcpy(n->name, w->name, w->len);
        zone_rrset_t *rs = zn_rrsets(n);
        uint8_t *p = (uint8_t *)(rs + nrs);
        for (uint16_t i = 0; i < nrs; i++) {
            const ap_rrset_t *a = &w->rs[i];
            rs[i] = (zone_rrset_t){ .type = a->type, .count = (uint16_t)a->count, .ttl = a->ttl,
                                    .rdoff = (uint32_t)(p - (uint8_t *)&rs[i]) };
            if (a->old) {
                const uint8_t *s;
                size_t b = ap_blob(a->old, &s);
                memcpy(p, s, b);
                p += b;
                continue;
            }
            for (uint32_t j = 0; j < a->count; j++) {
                p[0] = (uint8_t)a->rd[j].len;
                p[1] = (uint8_t)(a->rd[j].len >> 8);
                memcpy(p + 2, a->rd[j].p, a->rd[j].len);
                p += 2u + a->rd[j].len;
            }
        }
    }
    l->hash = w->h;
    ap_head(w, ovl_node(l));
    return l;
}

static ov_leaf_t *ap_tombstone(const ap_node_t *w)
{
    ov_leaf_t *l = ovl_new(zn_align4((uint32_t)sizeof(struct zone_node) + w->len));
    if (!l)
        return NULL;
    struct zone_node *n = ovl_node(l);
    n->namelen = w->len;
    n->flags = ZN_OWN | ZN_GONE;
    memcpy(n->name, w->name, w->len);
    l->hash = w->h;
    return l;
}

/* Whether w differs from its old node. */
static bool ap_changed(const ap_t *ap, const ap_node_t *w)
{
    const struct zone_node *o = w->old;
    if (w->touched || w->exists != (o != NULL))
        return true;
    return o && (w->nchild != o->nchild ||
                 w->flags != (o->flags & (ZN_APEX | ZN_WILDCHILD | ZN_OCCLUDED)) ||
                 w->cut != zv_anc_labels(ap->z, o, 0) || w->dname != zv_anc_labels(ap->z, o, 1));
}

static int ap_make(ap_t *ap, zone_t **out)
{
    const zone_t *z = ap->z;
    zone_t *v = zv_copy(z);
    if (!v)
        return ZL_ENOMEM;
    int rc = ZL_OK;
    for (size_t k = 0; k < ap->n && !rc; k++) {
        const ap_node_t *w = ap->list[k];
        if (!ap_changed(ap, w) || (!w->exists && !w->old))
            continue;
        ov_leaf_t *l = w->exists ? ap_leaf(w) : ap_tombstone(w);
        const ov_leaf_t *prev;
        ov_map_t *m;
        if (!l || zf_filter_add(v->flat, l->hash) || ovm_set(v->ov, l, &m, &prev)) {
            ovl_unref(l);
            rc = ZL_ENOMEM;
            break;
        }
        ovm_unref(v->ov);
        v->ov = m;
        v->ov_leaves += !prev;
        v->ov_bytes += l->size;
        v->ov_bytes -= prev ? prev->size : 0;
        if (w->flags & ZN_APEX)
            v->apex = ovl_node(l);
        ovl_unref(l);
    }
    if (rc) {
        zone_free(v);
        return rc;
    }
    v->nnodes = (size_t)((long)z->nnodes + ap->dnodes);
    v->nrecords = (size_t)((long)z->nrecords + ap->drecords);
    v->serial = zone_diff_to(ap->d);
    *out = v;
    return ZL_OK;
}

/* ---- zone_apply -------------------------------------------------------- */

static bool ap_fits(const zone_t *z, const zone_diff_t *d)
{
    const dns_rr_t *soa = zone_diff_old_soa(d);
    const zone_rrset_t *zs = zone_soa(z);
    uint16_t len;
    const uint8_t *rd = zs ? zone_rrset_rdata(zs, 0, &len) : NULL;
    return zone_diff_bytes(d) && soa && rd && dns_name_equal(zone_diff_origin(d), zone_origin(z)) &&
           soa->ttl == zs->ttl && dns_rdata_cmp(DNS_T_SOA, rd, len, soa->rdata, soa->rdlen) == 0;
}

int zone_apply(const zone_t *z, const zone_diff_t *d, zone_t **out, const zone_report_t *rep)
{
    *out = NULL;
    if (!ap_fits(z, d))
        return ZL_EINVAL;
    ap_t ap = { .z = z, .d = d, .rep = rep };
    dns_arena_init(&ap.arena, NULL, 0, 0);
    int rc = ap_contents(&ap);
    if (!rc)
        rc = ap_existence(&ap);
    if (!rc)
        rc = ap_structure(&ap);
    if (!rc) {
        ap_derive(&ap);
        rc = ap_targets(&ap);
    }
    if (!rc) {
        ap_occlusion(&ap);
        rc = ap.nomem ? ZL_ENOMEM : ap_check(&ap);
    }
    if (!rc && ap.errors)
        rc = ZL_EZONE;
    if (!rc)
        rc = ap_make(&ap, out);
    free(ap.slot);
    free(ap.list);
    dns_arena_free(&ap.arena);
    return rc;
}
