/* Private to zone/: node-level walks (ziter.c), for compaction and diffs. */
#ifndef ZL_ZONE_ZITER_INT_H
#define ZL_ZONE_ZITER_INT_H

#include "zone/zone.h"

/* The next node of the walk it (started by zone_iter_init, not mixed
 * with zone_iter_next) in canonical order, empty non-terminals included,
 * the apex first; NULL at the end. */
const struct zone_node *zi_node_next(zone_iter_t *it);

#endif
