/* A region allocator: many allocations, one reset or free.
 *
 * Used for one message's parsed records or one zone version's data. An
 * arena may start with a caller-provided buffer (borrowed, never freed);
 * when it runs out it takes heap chunks, unless created with
 * DNS_ARENA_FIXED, in which case dns_arena_alloc returns NULL. */
#ifndef ZL_DNS_ARENA_H
#define ZL_DNS_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct dns_arena_chunk;

typedef struct dns_arena {
    uint8_t *buf;      /* current chunk */
    size_t cap, used;
    size_t last;       /* offset of the most recent allocation in buf */
    struct dns_arena_chunk *chunks; /* heap chunks, owned */
    uint8_t *first;    /* the caller's initial buffer, borrowed */
    size_t first_cap;
    int fixed;
} dns_arena_t;

#define DNS_ARENA_FIXED 1

/* buf may be NULL (cap 0): the arena then uses heap chunks only. */
void dns_arena_init(dns_arena_t *a, void *buf, size_t cap, int flags);

/* n bytes aligned to 8, or NULL when exhausted/out of memory. */
void *dns_arena_alloc(dns_arena_t *a, size_t n);

/* Copies n bytes into the arena; NULL on failure. */
void *dns_arena_dup(dns_arena_t *a, const void *p, size_t n);

/* Shrinks the most recent allocation p to n bytes (n <= its size), giving
 * the rest back; a no-op if p is not the most recent allocation. Lets a
 * caller allocate for the worst case, fill, then keep what it used. */
void dns_arena_shrink(dns_arena_t *a, void *p, size_t n);

/* Octets of the heap chunks the arena holds (with their headers; the
 * caller's initial buffer is not counted). */
size_t dns_arena_heap_bytes(const dns_arena_t *a);

/* Forgets every allocation; keeps the initial buffer, frees heap chunks. */
void dns_arena_reset(dns_arena_t *a);

/* Frees heap chunks; the arena must be initialised again before reuse. */
void dns_arena_free(dns_arena_t *a);

#endif
