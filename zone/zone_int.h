/* Private to zone/: the memory layout of zone versions.
 *
 * A version is a flat base, shared by reference counting, plus an
 * overlay of the nodes changed since that base was made (NULL for a
 * version that is just the base):
 *
 *  - the flat base (zone_flat_t) is two allocations: `base`, every node
 *    in canonical order, and `slots`, an open-addressing hash index over
 *    them. A node is variable-sized and self-contained, so one lookup
 *    touches one or two cache lines:
 *
 *      struct zone_node | owner name | pad to 4 | zone_rrset_t[nrrsets]
 *      | RDATA of every RRset: (u16 length little-endian, octets)... | pad to 4
 *
 *    Nodes refer to each other by 32-bit offsets into base (0 = none; the
 *    first node starts at ZONE_BASE_START). That keeps a node at 16 octets
 *    plus its name, and a 1M-record zone in a few tens of MiB.
 *
 *  - the overlay (ov_map_t, ovmap.c) is a persistent hash array mapped
 *    trie from owner names to nodes of their own (ov_leaf_t: a reference
 *    count, then a node in the same format, flag ZN_OWN) or tombstones
 *    (ZN_GONE: the base node of that name is gone). Successive versions
 *    share every part of it that did not change (copy-on-write per node,
 *    and per trie node on the path to it), so applying a diff costs what
 *    the diff touches, not what the zone holds. Lookups ask the overlay
 *    first, then the base.
 *
 * Every derived field of a node (cut, dname, nchild, ZN_WILDCHILD) is
 * exact in every version: when a change alters it for a node that is not
 * otherwise touched (the parent of a new or removed name, the names below
 * a new or removed delegation or DNAME), that node is copied into the
 * overlay too (apply.c). So base nodes that the overlay does not shadow
 * keep valid fields, and lookups trust every node they find.
 */
#ifndef ZL_ZONE_ZONE_INT_H
#define ZL_ZONE_ZONE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zone/zone.h"

struct zone_node {
    /* The topmost delegation point (a non-apex node with NS) and the
     * topmost DNAME owner at or above this node, 0 when none: in a base
     * node their offsets in base, in an overlay node (ZN_OWN) the number
     * of labels of their owner names (the owner is then the suffix of
     * this node's name with that many labels). */
    uint32_t cut;
    uint32_t dname;
    uint32_t nchild;   /* existing children, empty non-terminals included */
    uint16_t nrrsets;
    uint8_t namelen;   /* octets of name, root label included */
    uint8_t flags;     /* ZN_* */
    uint8_t name[];
};

#define ZN_APEX 0x01      /* the zone apex */
#define ZN_WILDCHILD 0x02 /* `*.<this name>` exists */
#define ZN_OCCLUDED 0x04  /* at or below a cut or DNAME, and not glue */
#define ZN_OWN 0x40       /* an overlay node: an ov_leaf_t block of its own */
#define ZN_GONE 0x80      /* an overlay tombstone: no node of this name */

#define ZONE_BASE_START 8u

/* A filter of the names that overlays over one flat base hold: a blocked
 * Bloom filter, two bits in one 64-bit word per name, so that most
 * lookups of a version with an overlay learn that the overlay lacks their
 * name from one word, without walking the trie to a leaf that is a cache
 * miss. Shared by every version on the base and made by the first
 * zone_apply on it; zone_apply and zone_rebase only ever set bits (atomic
 * OR), so a version may see bits of names that only later (or sibling)
 * versions hold: a false positive, which costs the overlay lookup it
 * would have made anyway. Sized for the compaction threshold (16 bits per
 * name); past it the false positives grow, the answers stay right. */
typedef struct zf_filter {
    uint64_t mask;             /* words - 1 */
    _Atomic uint64_t w[];
} zf_filter_t;

/* One served NS record of a flat base (at the apex, or at a delegation
 * point that no DNAME above occludes): the mixed hash of its target, and
 * where its owner node and its target name are in base. They are sorted
 * by hash: whether a name is glue (RFC 9471: named by a served NS record)
 * is a binary search. */
typedef struct zf_target {
    uint64_t h;
    uint32_t owner;
    uint32_t name;
} zf_target_t;

/* The table, made the first time a change needs it (zf_targets): zones
 * that are only loaded and served never pay for it. */
typedef struct zf_targets {
    size_t n;
    zf_target_t t[];
} zf_targets_t;

/* The flat part of a version, shared by the versions built on it. */
typedef struct zone_flat {
    atomic_uint refs;
    _Atomic(zf_filter_t *) filter; /* NULL until the first change */
    _Atomic(zf_targets_t *) targets; /* NULL until made */
    uint8_t *base;      /* the nodes, owned */
    size_t size;        /* octets used in base; nodes end here */
    uint64_t *slots;    /* hash tag << 32 | node offset; 0 = empty; owned */
    uint64_t mask;      /* number of slots - 1 */
    size_t nnodes;
} zone_flat_t;

/* One overlay node: this header, then the node (aligned to 4). */
typedef struct ov_leaf {
    atomic_uint refs;
    uint32_t size;      /* octets of the node, a multiple of 4 */
    uint64_t hash;      /* zh_mix(zh_name(owner)) */
} ov_leaf_t;

typedef struct ov_map ov_map_t;

struct zone {
    atomic_uint refs;
    /* the flat part, copied from flat for the lookups' fast path */
    uint8_t *base;
    size_t size;
    uint64_t *slots;
    uint64_t mask;
    zone_flat_t *flat;  /* one reference */
    const struct zone_node *apex; /* the apex node (in base or the overlay) */
    ov_map_t *ov;       /* the overlay (one reference), NULL when empty */
    size_t ov_leaves;   /* entries of the overlay (tombstones included) */
    size_t ov_bytes;    /* octets its nodes take */
    size_t nnodes, nrecords;
    uint32_t serial;
    uint64_t apex_hash; /* zh hash of the origin, the start of every fold */
    unsigned apex_labels;
    struct zone_journal *journal; /* the IXFR history (one reference), or NULL */
};

static inline uint32_t zn_align4(uint32_t n) { return (n + 3u) & ~3u; }

static inline zone_rrset_t *zn_rrsets(const struct zone_node *n)
{
    return (zone_rrset_t *)((uint8_t *)n + zn_align4((uint32_t)sizeof(*n) + n->namelen));
}

static inline const struct zone_node *zn_at(const struct zone *z, uint32_t off)
{
    return off ? (const struct zone_node *)(z->base + off) : NULL;
}

static inline const struct zone_node *zn_of(const zone_flat_t *f, uint32_t off)
{
    return (const struct zone_node *)(f->base + off);
}

static inline uint32_t zn_off(const struct zone *z, const struct zone_node *n)
{
    return (uint32_t)((const uint8_t *)n - z->base);
}

static inline uint16_t zn_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* Octets a node takes before its RDATA. */
static inline uint32_t zn_head_size(unsigned namelen, unsigned nrrsets)
{
    return zn_align4((uint32_t)sizeof(struct zone_node) + namelen) +
           (uint32_t)(nrrsets * sizeof(zone_rrset_t));
}

/* The node following n in canonical order (n's end), for walks. */
const struct zone_node *zn_next(const struct zone_node *n);

/* Octets node n takes (up to the next node), a multiple of 4. */
static inline uint32_t zn_size(const struct zone_node *n)
{
    return (uint32_t)((const uint8_t *)zn_next(n) - (const uint8_t *)n);
}

static inline struct zone_node *ovl_node(const ov_leaf_t *l)
{
    return (struct zone_node *)(uintptr_t)(l + 1);
}

static inline ov_leaf_t *ovl_of(const struct zone_node *n)
{
    return (ov_leaf_t *)(uintptr_t)n - 1;
}

/* ---- shared by zone.c, zbuild.c and apply.c ----------------------------- */

/* Zeroed memory for a large array read at random (huge pages on hosted
 * Linux); freed with free(). */
void *zf_alloc_big(size_t size);

/* A new version over flat (taking over the caller's reference) with an
 * empty overlay: the apex node at offset ZONE_BASE_START, serial from its
 * SOA. NULL on ENOMEM (flat is then released). */
zone_t *zv_new(zone_flat_t *flat, size_t nrecords);

/* A new version with z's content: z's flat part and overlay (new
 * references), one reference, no journal. NULL on ENOMEM. z is only read
 * field by field (other threads may be counting references to it). */
zone_t *zv_copy(const zone_t *z);

/* Drops a reference to a flat part (NULL is fine). */
void zf_unref(zone_flat_t *f);

/* Sets the bits of the name with mixed hash m in f's filter (made the
 * first time). ZL_OK or ZL_ENOMEM. */
int zf_filter_add(zone_flat_t *f, uint64_t m);

/* Starts loading the filter word of the name with mixed hash m. */
static inline void zf_filter_prefetch(const zone_flat_t *f, uint64_t m)
{
    const zf_filter_t *b = atomic_load_explicit(&f->filter, memory_order_acquire);
    if (b)
        __builtin_prefetch(&b->w[(m >> 20) & b->mask]);
}

/* False when no overlay over f holds the name with mixed hash m. */
static inline bool zf_filter_maybe(const zone_flat_t *f, uint64_t m)
{
    const zf_filter_t *b = atomic_load_explicit(&f->filter, memory_order_acquire);
    if (!b)
        return true;
    uint64_t bits = 1ull << ((m >> 52) & 63) | 1ull << (m >> 58);
    return (atomic_load_explicit(&b->w[(m >> 20) & b->mask], memory_order_relaxed) & bits) == bits;
}

/* The node of name (len octets, unmixed zh hash h) in z: the overlay
 * first, then the base; NULL when there is none. */
const struct zone_node *zv_get(const zone_t *z, const uint8_t *name, size_t len, uint64_t h);

/* The node of name in the flat part only (mixed hash m), or NULL. */
const struct zone_node *zf_get(const zone_t *z, const uint8_t *name, size_t len, uint64_t m);

/* The number of labels of the topmost delegation point (which = 0) or
 * DNAME owner (which = 1) at or above node n of z, 0 when none. */
unsigned zv_anc_labels(const zone_t *z, const struct zone_node *n, int which);

/* Whether node n of z (an existing node) serves its NS records: the apex,
 * and a delegation point that no delegation or DNAME above occludes. */
bool zv_serves_ns(const zone_t *z, const struct zone_node *n);

/* Whether NS RRset rs names name. */
bool zn_ns_names(const zone_rrset_t *rs, const uint8_t *name);

/* f's table of served NS targets, made from its nodes (whose cut and
 * dname offsets are set) the first time; the writers that may race on
 * one base agree through a compare-and-swap. NULL on ENOMEM. */
const zf_targets_t *zf_targets(zone_flat_t *f);

/* Whether a served NS record of f names name, by f's table t; an entry
 * whose owner node skip (may be NULL) returns true for does not count (a
 * version with an overlay has replaced that owner and looks at it
 * itself). */
bool zf_glue_at(const zone_flat_t *f, const zf_targets_t *t, const uint8_t *name,
                bool (*skip)(void *ctx, const struct zone_node *owner), void *ctx);

/* The SOA serial in an SOA RDATA (checked by the caller). */
uint32_t zn_soa_serial(const uint8_t *rd, uint16_t len);

#endif
