/* A zone set: the immutable collection of zones a server answers from.
 * A new set is built for every change and published by the application
 * with one pointer swap; readers never lock. */
#ifndef ZL_ZONE_ZONESET_H
#define ZL_ZONE_ZONESET_H

#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

typedef struct zone_set zone_set_t;

/* Builds a set from zones[0..n): takes a new reference to each (the
 * caller keeps its own). Two zones with the same origin: ZL_EINVAL.
 * Returns ZL_OK with *out owned by the caller, or an error. */
int zone_set_new(zone_t *const *zones, size_t n, zone_set_t **out);

/* Drops the set's references and frees it (NULL is fine). */
void zone_set_free(zone_set_t *s);

/* The zone whose origin is the longest suffix of name (the most specific
 * zone for it), or NULL. */
const zone_t *zone_set_find(const zone_set_t *s, const uint8_t *name);

/* The zone with exactly this origin, or NULL. */
zone_t *zone_set_get(const zone_set_t *s, const uint8_t *origin);

size_t zone_set_count(const zone_set_t *s);
/* The i-th zone in canonical order of origins. */
zone_t *zone_set_at(const zone_set_t *s, size_t i);

#endif
