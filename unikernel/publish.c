#include "unikernel/publish.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "zone/keys.h"

/* One cache line per slot: readers write their own slot on every batch. */
typedef struct hazard_slot {
    _Atomic(const srv_snapshot_t *) snap;
    char pad[64 - sizeof(void *)];
} hazard_slot_t;

struct srv_publish {
    _Atomic(srv_snapshot_t *) current;
    srv_snapshot_t empty;        /* what readers see before the first publication */
    unsigned nreaders;
    hazard_slot_t *slots;
};

void srv_snapshot_free(srv_snapshot_t *s)
{
    if (!s)
        return;
    zone_set_free(s->zones);
    zone_keyring_free(s->keys);
    free(s);
}

srv_publish_t *srv_publish_new(unsigned nreaders)
{
    srv_publish_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slots = aligned_alloc(64, sizeof(hazard_slot_t) * (nreaders ? nreaders : 1));
    if (!p->slots) {
        free(p);
        return NULL;
    }
    for (unsigned i = 0; i < nreaders; i++)
        atomic_init(&p->slots[i].snap, NULL);
    atomic_init(&p->current, &p->empty);
    p->nreaders = nreaders;
    return p;
}

void srv_publish_free(srv_publish_t *p)
{
    if (!p)
        return;
    srv_snapshot_t *s = atomic_load(&p->current);
    if (s != &p->empty)
        srv_snapshot_free(s);
    free(p->slots);
    free(p);
}

const srv_snapshot_t *srv_publish_enter(srv_publish_t *p, unsigned reader)
{
    _Atomic(const srv_snapshot_t *) *slot = &p->slots[reader].snap;
    const srv_snapshot_t *s = atomic_load_explicit(&p->current, memory_order_acquire);
    for (;;) {
        /* Publish, then check the snapshot is still current: if it is,
         * the writer's swap comes later and its scan will see our slot. */
        atomic_store_explicit(slot, s, memory_order_seq_cst);
        const srv_snapshot_t *again = atomic_load_explicit(&p->current, memory_order_seq_cst);
        if (again == s)
            return s;
        s = again;
    }
}

void srv_publish_leave(srv_publish_t *p, unsigned reader)
{
    atomic_store_explicit(&p->slots[reader].snap, NULL, memory_order_release);
}

const srv_snapshot_t *srv_publish_current(const srv_publish_t *p)
{
    return atomic_load_explicit(&((srv_publish_t *)p)->current, memory_order_acquire);
}

void srv_publish(srv_publish_t *p, srv_snapshot_t *next)
{
    srv_snapshot_t *old = atomic_exchange_explicit(&p->current, next, memory_order_seq_cst);
    if (old == &p->empty)
        return;
    for (unsigned i = 0; i < p->nreaders; i++) {
        while (atomic_load_explicit(&p->slots[i].snap, memory_order_seq_cst) == old) {
            struct timespec ms = {0, 100000};
            nanosleep(&ms, NULL);
        }
    }
    srv_snapshot_free(old);
}
