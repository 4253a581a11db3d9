/* The overlay map: a persistent hash array mapped trie (see ovmap.h).
 * An entry is a child map pointer, or a leaf pointer with bit 0 set. */
#include "zone/ovmap.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/zhash.h"

struct ov_map {
    atomic_uint refs;
    uint32_t bitmap;   /* which of the 32 slots are present; 0: a collision node */
    uint32_t n;        /* entries */
    uint32_t pad;
    uintptr_t e[];
};

#define OVM_TOP 64u    /* shift at which only collision nodes remain */

static inline bool ov_is_leaf(uintptr_t e) { return e & 1u; }
static inline ov_leaf_t *ov_leaf(uintptr_t e) { return (ov_leaf_t *)(e - 1u); }
static inline uintptr_t ov_eleaf(const ov_leaf_t *l) { return (uintptr_t)l | 1u; }

ov_leaf_t *ovl_new(uint32_t size)
{
    ov_leaf_t *l = calloc(1, sizeof(*l) + size);
    if (!l)
        return NULL;
    atomic_init(&l->refs, 1);
    l->size = size;
    return l;
}

void ovl_ref(ov_leaf_t *l)
{
    atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
}

void ovl_unref(ov_leaf_t *l)
{
    if (l && atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1)
        free(l);
}

ov_map_t *ovm_ref(ov_map_t *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

static void ov_eref(uintptr_t e)
{
    if (ov_is_leaf(e))
        ovl_ref(ov_leaf(e));
    else
        ovm_ref((ov_map_t *)e);
}

void ovm_unref(ov_map_t *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < m->n; i++) {
        if (ov_is_leaf(m->e[i]))
            ovl_unref(ov_leaf(m->e[i]));
        else
            ovm_unref((ov_map_t *)m->e[i]);
    }
    free(m);
}

static ov_map_t *ovm_alloc(uint32_t n, uint32_t bitmap)
{
    ov_map_t *m = malloc(sizeof(*m) + n * sizeof(uintptr_t));
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->bitmap = bitmap;
    m->n = n;
    m->pad = 0;
    return m;
}

static bool ov_same(const ov_leaf_t *l, uint64_t h, const uint8_t *name, size_t len)
{
    const struct zone_node *n = ovl_node(l);
    return l->hash == h && n->namelen == len && zh_equal(n->name, name, len);
}

const struct zone_node *ovm_get(const ov_map_t *m, uint64_t h, const uint8_t *name, size_t len)
{
    for (unsigned shift = 0; m; shift += 5) {
        if (shift >= OVM_TOP) {
            for (uint32_t i = 0; i < m->n; i++)
                if (ov_same(ov_leaf(m->e[i]), h, name, len))
                    return ovl_node(ov_leaf(m->e[i]));
            return NULL;
        }
        uint32_t bit = 1u << ((h >> shift) & 31u);
        if (!(m->bitmap & bit))
            return NULL;
        uintptr_t e = m->e[__builtin_popcount(m->bitmap & (bit - 1u))];
        if (ov_is_leaf(e))
            return ov_same(ov_leaf(e), h, name, len) ? ovl_node(ov_leaf(e)) : NULL;
        m = (const ov_map_t *)e;
    }
    return NULL;
}

/* A copy of m with entry pos replaced by e (taken over), or inserted
 * before pos when insert (bit joins the bitmap); the other entries gain a
 * reference. */
static ov_map_t *ovm_copy_with(const ov_map_t *m, uint32_t pos, uintptr_t e, bool insert,
                               uint32_t bit)
{
    ov_map_t *c = ovm_alloc(m->n + insert, m->bitmap | bit);
    if (!c)
        return NULL;
    uint32_t j = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        if (i == pos) {
            c->e[j++] = e;
            if (!insert)
                continue;
        }
        ov_eref(m->e[i]);
        c->e[j++] = m->e[i];
    }
    if (pos == m->n)
        c->e[j++] = e;
    return c;
}

/* Frees the trie nodes of a map that ovm_pair made, not its leaves. */
static void ovm_free_shell(ov_map_t *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (!ov_is_leaf(m->e[i]))
            ovm_free_shell((ov_map_t *)m->e[i]);
    free(m);
}

/* A map holding the two entries a and b (hashes ha != hb unless at the
 * bottom), both taken over. */
static ov_map_t *ovm_pair(uintptr_t a, uint64_t ha, uintptr_t b, uint64_t hb, unsigned shift)
{
    if (shift >= OVM_TOP) {
        ov_map_t *c = ovm_alloc(2, 0);
        if (c) {
            c->e[0] = a;
            c->e[1] = b;
        }
        return c;
    }
    uint32_t ia = (ha >> shift) & 31u, ib = (hb >> shift) & 31u;
    if (ia == ib) {
        ov_map_t *sub = ovm_pair(a, ha, b, hb, shift + 5);
        ov_map_t *c = sub ? ovm_alloc(1, 1u << ia) : NULL;
        if (!c) {
            if (sub)
                ovm_free_shell(sub); /* a and b stay the caller's */
            return NULL;
        }
        c->e[0] = (uintptr_t)sub;
        return c;
    }
    ov_map_t *c = ovm_alloc(2, 1u << ia | 1u << ib);
    if (c) {
        c->e[ia < ib ? 0 : 1] = a;
        c->e[ia < ib ? 1 : 0] = b;
    }
    return c;
}

static ov_map_t *ovm_set_at(const ov_map_t *m, unsigned shift, ov_leaf_t *leaf,
                            const ov_leaf_t **old)
{
    const struct zone_node *ln = ovl_node(leaf);
    if (shift >= OVM_TOP) {
        uint32_t pos = 0;
        while (pos < m->n && !ov_same(ov_leaf(m->e[pos]), leaf->hash, ln->name, ln->namelen))
            pos++;
        bool insert = pos == m->n;
        if (!insert)
            *old = ov_leaf(m->e[pos]);
        ov_map_t *c = ovm_copy_with(m, pos, ov_eleaf(leaf), insert, 0);
        if (c)
            ovl_ref(leaf);
        return c;
    }
    uint32_t bit = 1u << ((leaf->hash >> shift) & 31u);
    uint32_t pos = (uint32_t)__builtin_popcount(m->bitmap & (bit - 1u));
    ov_map_t *c;
    if (!(m->bitmap & bit)) {
        if ((c = ovm_copy_with(m, pos, ov_eleaf(leaf), true, bit)))
            ovl_ref(leaf);
        return c;
    }
    uintptr_t e = m->e[pos];
    if (ov_is_leaf(e) && ov_same(ov_leaf(e), leaf->hash, ln->name, ln->namelen)) {
        *old = ov_leaf(e);
        if ((c = ovm_copy_with(m, pos, ov_eleaf(leaf), false, 0)))
            ovl_ref(leaf);
        return c;
    }
    ov_map_t *sub;
    if (ov_is_leaf(e)) {
        sub = ovm_pair(e, ov_leaf(e)->hash, ov_eleaf(leaf), leaf->hash, shift + 5);
        if (sub) {
            ov_eref(e);
            ovl_ref(leaf);
        }
    } else {
        sub = ovm_set_at((const ov_map_t *)e, shift + 5, leaf, old);
    }
    if (!sub)
        return NULL;
    if (!(c = ovm_copy_with(m, pos, (uintptr_t)sub, false, 0)))
        ovm_unref(sub);
    return c;
}

int ovm_set(const ov_map_t *m, ov_leaf_t *leaf, ov_map_t **out, const ov_leaf_t **old)
{
    const ov_leaf_t *dummy;
    if (!old)
        old = &dummy;
    *old = NULL;
    if (!m) {
        *out = ovm_alloc(1, 1u << (leaf->hash & 31u));
        if (!*out)
            return ZL_ENOMEM;
        ovl_ref(leaf);
        (*out)->e[0] = ov_eleaf(leaf);
        return ZL_OK;
    }
    *out = ovm_set_at(m, 0, leaf, old);
    return *out ? ZL_OK : ZL_ENOMEM;
}

int ovm_each(const ov_map_t *m, ovm_fn fn, void *ctx)
{
    if (!m)
        return 0;
    for (uint32_t i = 0; i < m->n; i++) {
        int rc = ov_is_leaf(m->e[i]) ? fn(ctx, ov_leaf(m->e[i]))
                                     : ovm_each((const ov_map_t *)m->e[i], fn, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

/* The leaf of l's name in root, or NULL. */
static const ov_leaf_t *ovm_find_leaf(const ov_map_t *root, const ov_leaf_t *l)
{
    const struct zone_node *n = ovl_node(l);
    const struct zone_node *f = ovm_get(root, l->hash, n->name, n->namelen);
    return f ? ovl_of(f) : NULL;
}

typedef struct ovm_diff {
    const ov_map_t *then_root;
    ovm_fn fn;
    void *ctx;
} ovm_diff_t;

static int ovm_diff_leaf(void *ctx, const ov_leaf_t *l)
{
    ovm_diff_t *d = ctx;
    return ovm_find_leaf(d->then_root, l) == l ? 0 : d->fn(d->ctx, l);
}

/* now and then sit at the same position (shift) of their tries; then may
 * be NULL (nothing there). */
static int ovm_changed_at(const ov_map_t *now, const ov_map_t *then, unsigned shift,
                          ovm_diff_t *d)
{
    if (now == then)
        return 0;
    if (!then || shift >= OVM_TOP)
        return ovm_each(now, ovm_diff_leaf, d);
    for (uint32_t i = 0, bits = now->bitmap; bits; bits &= bits - 1, i++) {
        uint32_t bit = bits & -bits;
        uintptr_t e = now->e[i];
        const ov_map_t *t = NULL;
        if (then->bitmap & bit) {
            uintptr_t te = then->e[__builtin_popcount(then->bitmap & (bit - 1u))];
            if (te == e)
                continue;
            if (!ov_is_leaf(te))
                t = (const ov_map_t *)te;
        }
        int rc = ov_is_leaf(e) ? ovm_diff_leaf(d, ov_leaf(e))
                               : ovm_changed_at((const ov_map_t *)e, t, shift + 5, d);
        if (rc)
            return rc;
    }
    return 0;
}

int ovm_changed(const ov_map_t *now, const ov_map_t *then, ovm_fn fn, void *ctx)
{
    ovm_diff_t d = { then, fn, ctx };
    if (!now)
        return 0;
    return ovm_changed_at(now, then, 0, &d);
}

size_t ovm_memory(const ov_map_t *m)
{
    if (!m)
        return 0;
    size_t s = sizeof(*m) + m->n * sizeof(uintptr_t);
    for (uint32_t i = 0; i < m->n; i++)
        if (!ov_is_leaf(m->e[i]))
            s += ovm_memory((const ov_map_t *)m->e[i]);
    return s;
}
