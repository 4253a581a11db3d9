#include "dns/arena.h"

#include <stdlib.h>
#include <string.h>

/* Heap chunks are linked so that reset and free can return them all. */
struct dns_arena_chunk {
    struct dns_arena_chunk *next;
    size_t cap;
    _Alignas(8) uint8_t data[];
};

#define ARENA_CHUNK_MIN 16384u

void dns_arena_init(dns_arena_t *a, void *buf, size_t cap, int flags)
{
    a->first = buf;
    a->first_cap = buf ? cap : 0;
    a->buf = a->first;
    a->cap = a->first_cap;
    a->used = a->last = 0;
    a->chunks = NULL;
    a->fixed = flags & DNS_ARENA_FIXED;
}

/* Offset in the current chunk where an 8-aligned block of n fits, or
 * SIZE_MAX. Alignment is of the address, since a caller's buffer may
 * start anywhere. */
static size_t arena_fit(const dns_arena_t *a, size_t n)
{
    if (!a->buf)
        return SIZE_MAX;
    uintptr_t at = (uintptr_t)(a->buf + a->used);
    size_t pad = (size_t)((8 - (at & 7)) & 7);
    if (pad > a->cap - a->used || n > a->cap - a->used - pad)
        return SIZE_MAX;
    return a->used + pad;
}

void *dns_arena_alloc(dns_arena_t *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t at = arena_fit(a, n);
    if (at == SIZE_MAX) {
        if (a->fixed)
            return NULL;
        /* Chunks grow with the arena so big zones take few mallocs. */
        size_t cap = a->cap * 2 > ARENA_CHUNK_MIN ? a->cap * 2 : ARENA_CHUNK_MIN;
        if (cap > (size_t)1 << 24)
            cap = (size_t)1 << 24;
        if (cap < n)
            cap = n;
        if (cap > SIZE_MAX - sizeof(struct dns_arena_chunk))
            return NULL;
        struct dns_arena_chunk *ch = malloc(sizeof(*ch) + cap);
        if (!ch)
            return NULL;
        ch->next = a->chunks;
        ch->cap = cap;
        a->chunks = ch;
        a->buf = ch->data;
        a->cap = cap;
        a->used = 0;
        at = 0;
    }
    a->last = at;
    a->used = at + n;
    return a->buf + at;
}

void *dns_arena_dup(dns_arena_t *a, const void *p, size_t n)
{
    void *d = dns_arena_alloc(a, n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

void dns_arena_shrink(dns_arena_t *a, void *p, size_t n)
{
    if (a->buf && p == a->buf + a->last && n <= a->used - a->last)
        a->used = a->last + (n ? n : 1);
}

size_t dns_arena_heap_bytes(const dns_arena_t *a)
{
    size_t n = 0;
    for (const struct dns_arena_chunk *ch = a->chunks; ch; ch = ch->next)
        n += sizeof(*ch) + ch->cap;
    return n;
}

static void arena_free_chunks(dns_arena_t *a)
{
    struct dns_arena_chunk *ch = a->chunks;
    while (ch) {
        struct dns_arena_chunk *next = ch->next;
        free(ch);
        ch = next;
    }
    a->chunks = NULL;
}

void dns_arena_reset(dns_arena_t *a)
{
    arena_free_chunks(a);
    a->buf = a->first;
    a->cap = a->first_cap;
    a->used = a->last = 0;
}

void dns_arena_free(dns_arena_t *a)
{
    arena_free_chunks(a);
    a->buf = NULL;
    a->cap = a->used = a->last = 0;
}
