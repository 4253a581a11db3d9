/* Private to zone/: the memory layout of a built zone.
 *
 * A zone version is two allocations: `base`, every node in canonical
 * order, and `slots`, an open-addressing hash index over them. A node is
 * variable-sized and self-contained, so one lookup touches one or two
 * cache lines:
 *
 *   struct zone_node | owner name | pad to 4 | zone_rrset_t[nrrsets]
 *   | RDATA of every RRset: (u16 length little-endian, octets)... | pad to 4
 *
 * Nodes refer to each other by 32-bit offsets into base (0 = none; the
 * first node starts at ZONE_BASE_START). That keeps a node at 12 octets
 * plus its name, and a 1M-record zone in a few tens of MiB.
 */
#ifndef ZL_ZONE_ZONE_INT_H
#define ZL_ZONE_ZONE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "zone/zone.h"

struct zone_node {
    uint32_t cut;      /* offset of the topmost delegation at or above, or 0 */
    uint32_t dname;    /* offset of the topmost DNAME owner at or above, or 0 */
    uint16_t nrrsets;
    uint8_t namelen;   /* octets of name, root label included */
    uint8_t flags;     /* ZN_* */
    uint8_t name[];
};

#define ZN_APEX 0x01      /* the zone apex */
#define ZN_WILDCHILD 0x02 /* `*.<this name>` exists */
#define ZN_OCCLUDED 0x04  /* at or below a cut or DNAME, and not glue */

#define ZONE_BASE_START 8u

struct zone {
    atomic_uint refs;
    uint8_t *base;      /* the nodes, owned */
    size_t size;        /* octets used in base; nodes end here */
    uint64_t *slots;    /* hash tag << 32 | node offset; 0 = empty; owned */
    uint64_t mask;      /* number of slots - 1 */
    uint32_t apex;      /* offset of the apex node */
    size_t nnodes, nrecords;
    uint32_t serial;
    uint64_t apex_hash; /* zh hash of the origin, the start of every fold */
    unsigned apex_labels;
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

#endif
