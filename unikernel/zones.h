/* The served zone set: loaded from a directory, published through one
 * atomic pointer, reclaimed with hazard slots.
 *
 * Directory layout (DESIGN.md, git layout): one master file per zone,
 * named after the zone (`example.test`); `_keys`, `*._keys`, dotfiles,
 * sub-folders and other non-regular files are skipped.
 *
 * Concurrency: one writer (the control thread calling srv_zones_load)
 * and up to nreaders query threads. A reader brackets each batch of
 * queries with srv_zones_enter/leave on its own slot; enter publishes the
 * set it took in the slot (no lock, no read-modify-write on shared
 * memory). The writer swaps the pointer, then waits until no slot holds
 * the old set, then frees it: at most one batch of waiting.
 */
#ifndef ZL_UNIKERNEL_ZONES_H
#define ZL_UNIKERNEL_ZONES_H

#include "zone/zoneset.h"

typedef struct srv_zones srv_zones_t;

/* A publisher for dir (borrowed, must outlive it) with reader slots
 * 0..nreaders-1. Nothing is loaded yet (readers see NULL: REFUSED).
 * Returns NULL on ENOMEM. */
srv_zones_t *srv_zones_new(const char *dir, unsigned nreaders);

/* Frees the publisher and the current set. No reader may be inside. */
void srv_zones_free(srv_zones_t *zs);

/* (Re)loads the directory and publishes the new set. A file unchanged
 * since the last load (device, inode, size, mtime) keeps its zone; a
 * file that fails to load keeps its previous version if it had one, and
 * every problem is logged as `file:line: message`. Logs one line per
 * zone served. Returns the number of files that failed (0 when all
 * loaded), or -1 when the directory cannot be read (nothing changes). */
int srv_zones_load(srv_zones_t *zs);

/* Reader side, for slot reader < nreaders: the current set (may be NULL),
 * valid until srv_zones_leave on the same slot. */
const zone_set_t *srv_zones_enter(srv_zones_t *zs, unsigned reader);
void srv_zones_leave(srv_zones_t *zs, unsigned reader);

#endif
