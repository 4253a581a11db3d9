/* What the query workers answer from: one immutable snapshot (the zone
 * set and the TSIG keys), published by the change path through one
 * atomic pointer and reclaimed with hazard slots.
 *
 * Concurrency: one writer (the change path) and up to nreaders readers.
 * A reader brackets each batch of requests with srv_publish_enter/leave
 * on its own slot; enter publishes the snapshot it took in the slot (no
 * lock, no read-modify-write on shared memory). The writer swaps the
 * pointer, waits until no slot holds the old snapshot, then frees it: at
 * most one batch of waiting.
 */
#ifndef ZL_UNIKERNEL_PUBLISH_H
#define ZL_UNIKERNEL_PUBLISH_H

#include "zone/zoneset.h"

typedef struct zone_keyring zone_keyring_t;

typedef struct srv_snapshot {
    zone_set_t *zones;          /* owned; may be NULL (nothing served: REFUSED) */
    zone_keyring_t *keys;       /* owned (a reference); may be NULL (no keys) */
} srv_snapshot_t;

typedef struct srv_publish srv_publish_t;

/* A publisher with reader slots 0..nreaders-1 and no snapshot (readers
 * see an empty one). Returns NULL on ENOMEM. */
srv_publish_t *srv_publish_new(unsigned nreaders);

/* Frees the publisher and the current snapshot. No reader may be inside. */
void srv_publish_free(srv_publish_t *p);

/* Writer side: makes next (taken) current, waits until no reader holds
 * the previous one, and frees that. */
void srv_publish(srv_publish_t *p, srv_snapshot_t *next);

/* Writer side: the current snapshot (valid until the next srv_publish). */
const srv_snapshot_t *srv_publish_current(const srv_publish_t *p);

/* Reader side, for slot reader < nreaders: the current snapshot (never
 * NULL), valid until srv_publish_leave on the same slot. */
const srv_snapshot_t *srv_publish_enter(srv_publish_t *p, unsigned reader);
void srv_publish_leave(srv_publish_t *p, unsigned reader);

/* Frees a snapshot that was never published (and its contents). */
void srv_snapshot_free(srv_snapshot_t *s);

#endif
