/* Private to zone/: the overlay of a zone version, a persistent hash
 * array mapped trie (Bagwell 2001) from owner names to overlay nodes
 * (zone_int.h: ov_leaf_t).
 *
 * Keys are the 64-bit mixed name hashes, five bits per level (the
 * thirteenth level uses the last four); leaves whose whole hashes collide
 * share a collision node at the bottom. A map is immutable once built:
 * ovm_set makes a new map that shares every untouched trie node with the
 * old one, copying only the path to the changed leaf. Trie nodes and
 * leaves are reference counted (atomically: a version may be dropped by
 * any thread), so a version holds one reference to its root and nothing
 * else. NULL is the empty map.
 */
#ifndef ZL_ZONE_OVMAP_H
#define ZL_ZONE_OVMAP_H

#include <stddef.h>
#include <stdint.h>

#include "zone/zone_int.h"

/* A new leaf with room for a node of size octets (a multiple of 4),
 * zeroed, one reference, hash unset. NULL on ENOMEM. */
ov_leaf_t *ovl_new(uint32_t size);

/* Takes / drops a reference to a leaf (freed with the last). */
void ovl_ref(ov_leaf_t *l);
void ovl_unref(ov_leaf_t *l);

/* The node of name (len octets, mixed hash h) in m, tombstones
 * included, or NULL. */
const struct zone_node *ovm_get(const ov_map_t *m, uint64_t h, const uint8_t *name, size_t len);

/* A new map: m with leaf set for its name (replacing the leaf of that
 * name if any). m and leaf are borrowed; *out gets one reference and
 * holds its own to the leaf and to what it shares with m. *old (if not
 * NULL) gets the replaced leaf (borrowed from m) or NULL. ZL_OK or
 * ZL_ENOMEM (*out NULL). */
int ovm_set(const ov_map_t *m, ov_leaf_t *leaf, ov_map_t **out, const ov_leaf_t **old);

/* Takes / drops a reference to a map (NULL is fine). */
ov_map_t *ovm_ref(ov_map_t *m);
void ovm_unref(ov_map_t *m);

/* Calls fn for every leaf of m (any order) until it returns non-zero,
 * and returns that value (else 0). */
typedef int (*ovm_fn)(void *ctx, const ov_leaf_t *leaf);
int ovm_each(const ov_map_t *m, ovm_fn fn, void *ctx);

/* Calls fn (as ovm_each) for every leaf of now that is not, as the same
 * leaf, in then: what changed between two maps of one lineage. Subtrees
 * the two share are skipped, so the cost follows the changes. */
int ovm_changed(const ov_map_t *now, const ov_map_t *then, ovm_fn fn, void *ctx);

/* Octets the trie nodes of m take (for statistics; walks the trie). */
size_t ovm_memory(const ov_map_t *m);

#endif
