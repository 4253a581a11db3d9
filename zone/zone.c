/* Zone versions: reference counting, accessors and the lookups answering
 * needs, on flat versions (the fast path, unchanged by overlays) and on
 * versions with an overlay (zone_int.h). Walks are in ziter.c, the
 * builder in zbuild.c, changes in apply.c. */
#include "zone/zone.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <sys/mman.h>
#endif

#include "dns/err.h"
#include "zone/journal.h"
#include "zone/ovmap.h"
#include "zone/zhash.h"
#include "zone/zone_int.h"

/* On hosted Linux large arrays get transparent huge pages: lookups hit
 * them at random, and one TLB entry per 2 MiB instead of per 4 KiB cuts
 * the cost of a cold lookup. (Not on the unikernel, whose memory is
 * already mapped flat.) */
void *zf_alloc_big(size_t size)
{
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)2 << 20;
    if (size >= 2 * huge) {
        void *p = NULL;
        size_t n = (size + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, n))
            return NULL;
        (void)madvise(p, n, MADV_HUGEPAGE); /* advice only: fine if refused */
        memset(p, 0, size);
        return p;
    }
#endif
    return calloc(1, size);
}

void zf_unref(zone_flat_t *f)
{
    if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(f->slots);
    free(f->base);
    free(atomic_load_explicit(&f->targets, memory_order_relaxed));
    free(atomic_load_explicit(&f->filter, memory_order_relaxed));
    free(f);
}

int zf_filter_add(zone_flat_t *f, uint64_t m)
{
    zf_filter_t *b = atomic_load_explicit(&f->filter, memory_order_acquire);
    if (!b) {
        /* 16 bits for each name the overlay may hold before compaction */
        size_t names = f->nnodes / 16 > 4096 ? f->nnodes / 16 : 4096, words = 64;
        while (words < names / 4)
            words *= 2;
        zf_filter_t *nb = calloc(1, sizeof(*nb) + words * sizeof(nb->w[0]));
        if (!nb)
            return ZL_ENOMEM;
        nb->mask = words - 1;
        zf_filter_t *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&f->filter, &expected, nb,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            b = nb;
        } else {
            free(nb); /* another writer made it first */
            b = expected;
        }
    }
    uint64_t bits = 1ull << ((m >> 52) & 63) | 1ull << (m >> 58);
    atomic_fetch_or_explicit(&b->w[(m >> 20) & b->mask], bits, memory_order_relaxed);
    return ZL_OK;
}

uint32_t zn_soa_serial(const uint8_t *rd, uint16_t len)
{
    (void)len;
    size_t at = dns_name_len(rd);
    at += dns_name_len(rd + at);
    return dns_get_u32(rd + at);
}

zone_t *zv_new(zone_flat_t *flat, size_t nrecords)
{
    zone_t *z = calloc(1, sizeof(*z));
    if (!z) {
        zf_unref(flat);
        return NULL;
    }
    atomic_init(&z->refs, 1);
    z->flat = flat;
    z->base = flat->base;
    z->size = flat->size;
    z->slots = flat->slots;
    z->mask = flat->mask;
    z->apex = zn_at(z, ZONE_BASE_START);
    z->nnodes = flat->nnodes;
    z->nrecords = nrecords;
    z->apex_hash = zh_name(z->apex->name);
    z->apex_labels = dns_name_labels(z->apex->name);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(zone_node_rrset(z->apex, DNS_T_SOA), 0, &len);
    z->serial = zn_soa_serial(rd, len);
    return z;
}

zone_t *zv_copy(const zone_t *z)
{
    zone_t *c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    *c = (zone_t){ .base = z->base, .size = z->size, .slots = z->slots, .mask = z->mask,
                   .flat = z->flat, .apex = z->apex, .ov = ovm_ref(z->ov),
                   .ov_leaves = z->ov_leaves, .ov_bytes = z->ov_bytes, .nnodes = z->nnodes,
                   .nrecords = z->nrecords, .serial = z->serial, .apex_hash = z->apex_hash,
                   .apex_labels = z->apex_labels };
    atomic_init(&c->refs, 1);
    atomic_fetch_add_explicit(&c->flat->refs, 1, memory_order_relaxed);
    return c;
}

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
    ovm_unref(z->ov);
    zf_unref(z->flat);
    zone_journal_unref(z->journal);
    free(z);
}

const uint8_t *zone_origin(const zone_t *z) { return z->apex->name; }
uint32_t zone_serial(const zone_t *z) { return z->serial; }
size_t zone_record_count(const zone_t *z) { return z->nrecords; }
size_t zone_node_count(const zone_t *z) { return z->nnodes; }
const zone_node_t *zone_apex(const zone_t *z) { return z->apex; }
const zone_rrset_t *zone_soa(const zone_t *z) { return zone_node_rrset(z->apex, DNS_T_SOA); }

size_t zone_memory(const zone_t *z)
{
    const zf_filter_t *f = atomic_load_explicit(&z->flat->filter, memory_order_acquire);
    const zf_targets_t *t = atomic_load_explicit(&z->flat->targets, memory_order_acquire);
    return sizeof(*z) + z->size + (size_t)(z->mask + 1) * sizeof(uint64_t) + z->ov_bytes +
           ovm_memory(z->ov) + (f ? (f->mask + 1) * sizeof(uint64_t) : 0) +
           (t ? t->n * sizeof(zf_target_t) : 0);
}

const uint8_t *zone_node_owner(const zone_node_t *node) { return node->name; }
bool zone_node_is_apex(const zone_node_t *node) { return node->flags & ZN_APEX; }
bool zv_serves_ns(const zone_t *z, const struct zone_node *n)
{
    if (n->flags & ZN_APEX)
        return true;
    unsigned labels = dns_name_labels(n->name), dname = zv_anc_labels(z, n, 1);
    return zv_anc_labels(z, n, 0) == labels && (!dname || dname == labels);
}

bool zn_ns_names(const zone_rrset_t *rs, const uint8_t *name)
{
    uint16_t len = 0;
    const uint8_t *p = zone_rrset_rdata(rs, 0, &len);
    for (unsigned i = 0; i < rs->count; i++) {
        if (i)
            p = zone_rrset_rdata_next(p, len, &len);
        if (dns_name_equal(p, name))
            return true;
    }
    return false;
}

static int zf_target_cmp(const void *a, const void *b)
{
    const zf_target_t *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h;
}

static zf_targets_t *zf_targets_make(const zone_flat_t *f)
{
    size_t n = 0, cap = 64;
    zf_targets_t *t = malloc(sizeof(*t) + cap * sizeof(t->t[0]));
    for (uint32_t off = ZONE_BASE_START; t && off < f->size;) {
        const struct zone_node *nd = (const struct zone_node *)(f->base + off);
        const zone_rrset_t *ns = zone_node_rrset(nd, DNS_T_NS);
        bool served = (nd->flags & ZN_APEX) || (nd->cut == off && (!nd->dname || nd->dname == off));
        uint16_t len = 0;
        const uint8_t *p = ns && served ? zone_rrset_rdata(ns, 0, &len) : NULL;
        for (unsigned i = 0; p && i < ns->count; i++) {
            if (i)
                p = zone_rrset_rdata_next(p, len, &len);
            if (n == cap) {
                cap *= 2;
                zf_targets_t *g = realloc(t, sizeof(*t) + cap * sizeof(t->t[0]));
                if (!g) {
                    free(t);
                    return NULL;
                }
                t = g;
            }
            t->t[n++] = (zf_target_t){ zh_mix(zh_name(p)), off, (uint32_t)(p - f->base) };
        }
        off += zn_size(nd);
    }
    if (!t)
        return NULL;
    t->n = n;
    if (n)
        qsort(t->t, n, sizeof(t->t[0]), zf_target_cmp);
    return t;
}

const zf_targets_t *zf_targets(zone_flat_t *f)
{
    zf_targets_t *t = atomic_load_explicit(&f->targets, memory_order_acquire);
    if (t)
        return t;
    zf_targets_t *nt = zf_targets_make(f), *expected = NULL;
    if (!nt)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&f->targets, &expected, nt, memory_order_acq_rel,
                                                memory_order_acquire))
        return nt;
    free(nt); /* another writer made it first */
    return expected;
}

bool zf_glue_at(const zone_flat_t *f, const zf_targets_t *t, const uint8_t *name,
                bool (*skip)(void *ctx, const struct zone_node *owner), void *ctx)
{
    uint64_t h = zh_mix(zh_name(name));
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->t[mid].h < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < t->n && t->t[lo].h == h; lo++)
        if (dns_name_equal(f->base + t->t[lo].name, name) &&
            !(skip && skip(ctx, zn_of(f, t->t[lo].owner))))
            return true;
    return false;
}

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

const struct zone_node *zf_get(const zone_t *z, const uint8_t *name, size_t len, uint64_t h)
{
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

/* The node of name (len octets, unmixed hash h) in the flat part. */
static inline const struct zone_node *zone_get(const zone_t *z, const uint8_t *name, size_t len,
                                               uint64_t h)
{
    return zf_get(z, name, len, zh_mix(h));
}

const struct zone_node *zv_get(const zone_t *z, const uint8_t *name, size_t len, uint64_t h)
{
    uint64_t m = zh_mix(h);
    if (z->ov && zf_filter_maybe(z->flat, m)) {
        const struct zone_node *n = ovm_get(z->ov, m, name, len);
        if (n)
            return n->flags & ZN_GONE ? NULL : n;
    }
    return zf_get(z, name, len, m);
}

unsigned zv_anc_labels(const zone_t *z, const struct zone_node *n, int which)
{
    uint32_t f = which ? n->dname : n->cut;
    if (!f || (n->flags & ZN_OWN))
        return f;
    return dns_name_labels(zn_at(z, f)->name);
}

/* `*.<encloser>`: the encloser's name is name[0..len), hash h. */
static const struct zone_node *zone_get_wild(const zone_t *z, const uint8_t *name, size_t len,
                                             uint64_t h)
{
    uint8_t w[DNS_NAME_MAX + 2];
    if (len + 2 > DNS_NAME_MAX)
        return NULL;
    w[0] = 1;
    w[1] = '*';
    memcpy(w + 2, name, len);
    uint64_t wh = zh_label(h, w);
    return z->ov ? zv_get(z, w, len + 2, wh) : zone_get(z, w, len + 2, wh);
}

/* The query name split into its suffixes, for the overlay lookups. */
typedef struct zv_name {
    const uint8_t *name;
    const uint8_t *off; /* label offsets, off[n] the root label */
    unsigned n, k;      /* labels; suffix k is the origin */
    size_t len;
    const uint64_t *h;  /* unmixed hashes of the suffixes */
} zv_name_t;

static const struct zone_node *zv_suffix(const zone_t *z, const zv_name_t *q, unsigned i)
{
    if (i >= q->k)
        return z->apex;
    return zv_get(z, q->name + q->off[i], q->len - q->off[i], q->h[i]);
}

/* The ancestor of node e (suffix ie of the name) that e's cut or dname
 * field names, looked up again in z: it may have been replaced. */
static const struct zone_node *zv_anc(const zone_t *z, const struct zone_node *e,
                                      const zv_name_t *q, int which)
{
    unsigned labels = zv_anc_labels(z, e, which);
    if (!labels || labels > q->n || q->n - labels > q->k)
        return NULL;
    return zv_suffix(z, q, q->n - labels);
}

static int zv_lookup(const zone_t *z, const zv_name_t *q, zone_lookup_t *out)
{
    const struct zone_node *e = zv_suffix(z, q, 0);
    unsigned i = 0;
    if (e) {
        out->node = e;
    } else {
        for (i = 1; i < q->k && !e; i++)
            e = zv_suffix(z, q, i);
        if (!e)
            e = z->apex;
        else
            i--;
    }
    out->encloser = e;
    out->cut = zv_anc(z, e, q, 0);
    out->dname = zv_anc(z, e, q, 1);
    if (out->dname == out->node)
        out->dname = NULL; /* a DNAME at the name itself is an ordinary RRset */
    if (!out->node && (e->flags & ZN_WILDCHILD))
        out->wildcard = zone_get_wild(z, q->name + q->off[i], q->len - q->off[i], q->h[i]);
    return ZL_OK;
}

int zone_lookup(const zone_t *z, const uint8_t *name, zone_lookup_t *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t off[128];
    unsigned n = zh_offsets(name, off);
    size_t len = off[n] + 1u;
    const struct zone_node *apex = z->apex;
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
     * each is a cache miss in a large zone: start both loads together
     * (with an overlay, and the filter word of the name as well). */
    uint64_t m0 = zh_mix(h[0]);
    __builtin_prefetch(&z->slots[m0 & z->mask]);
    if (k > 1)
        __builtin_prefetch(&z->slots[zh_mix(h[1]) & z->mask]);
    if (z->ov) {
        zf_filter_prefetch(z->flat, m0);
        zv_name_t q = { name, off, n, k, len, h };
        return zv_lookup(z, &q, out);
    }
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
    size_t len = dns_name_len(name);
    if (z->ov)
        return zv_get(z, name, len, zh_name(name));
    return zone_get(z, name, len, zh_name(name));
}
