/* The zone set: zones in canonical order of origins plus a hash index of
 * origins. zone_set_find hashes the query name's suffixes (one fold, see
 * zhash.h) and probes them from the longest down, so the cost does not
 * grow with the number of zones. A set of a few zones (the usual
 * appliance) is searched by comparing the query name's suffix of each
 * origin's length instead: a few short memcmp calls cost less than
 * hashing the name octet by octet and probing (answer_bench). */
#include "zone/zoneset.h"

#include <stdlib.h>

#include "dns/err.h"
#include "zone/zhash.h"

#define ZONE_SET_LINEAR 8   /* sets this small are scanned, not hashed */

struct zone_set {
    zone_t **zones;     /* canonical order, one reference each */
    size_t n;
    uint64_t *slots;    /* hash tag << 32 | index + 1; 0 = empty */
    uint64_t mask;
    unsigned max_labels; /* of the longest origin: shorter suffixes only */
    /* n <= ZONE_SET_LINEAR: origins, their lengths and label counts */
    const uint8_t *lin_origin[ZONE_SET_LINEAR];
    uint8_t lin_len[ZONE_SET_LINEAR], lin_labels[ZONE_SET_LINEAR];
};

static int zone_cmp_origin(const void *a, const void *b)
{
    return dns_name_cmp(zone_origin(*(zone_t *const *)a), zone_origin(*(zone_t *const *)b));
}

static int zone_set_index(zone_set_t *s)
{
    size_t cap = 8;
    while (cap < 2 * s->n)
        cap *= 2;
    if (!(s->slots = calloc(cap, sizeof(*s->slots))))
        return ZL_ENOMEM;
    s->mask = cap - 1;
    for (size_t k = 0; k < s->n; k++) {
        const uint8_t *o = zone_origin(s->zones[k]);
        uint64_t h = zh_mix(zh_name(o));
        size_t i = h & s->mask;
        while (s->slots[i])
            i = (i + 1) & s->mask;
        s->slots[i] = (h >> 32) << 32 | (k + 1);
        unsigned l = dns_name_labels(o);
        if (l > s->max_labels)
            s->max_labels = l;
        if (s->n <= ZONE_SET_LINEAR) {
            s->lin_origin[k] = o;
            s->lin_len[k] = (uint8_t)dns_name_len(o);
            s->lin_labels[k] = (uint8_t)l;
        }
    }
    return ZL_OK;
}

int zone_set_new(zone_t *const *zones, size_t n, zone_set_t **out)
{
    *out = NULL;
    zone_set_t *s = calloc(1, sizeof(*s));
    if (!s || !(s->zones = malloc((n ? n : 1) * sizeof(*s->zones)))) {
        free(s);
        return ZL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        s->zones[i] = zones[i];
    qsort(s->zones, n, sizeof(*s->zones), zone_cmp_origin);
    for (size_t i = 1; i < n; i++)
        if (dns_name_equal(zone_origin(s->zones[i - 1]), zone_origin(s->zones[i]))) {
            free(s->zones);
            free(s);
            return ZL_EINVAL;
        }
    s->n = n;
    if (zone_set_index(s)) {
        free(s->zones);
        free(s);
        return ZL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        zone_ref(s->zones[i]);
    *out = s;
    return ZL_OK;
}

void zone_set_free(zone_set_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        zone_free(s->zones[i]);
    free(s->zones);
    free(s->slots);
    free(s);
}

/* The zone with origin name (len octets, hash h), or NULL. */
static zone_t *zone_set_probe(const zone_set_t *s, const uint8_t *name, size_t len, uint64_t h)
{
    h = zh_mix(h);
    for (uint64_t i = h & s->mask;; i = (i + 1) & s->mask) {
        uint64_t v = s->slots[i];
        if (!v)
            return NULL;
        if (v >> 32 != h >> 32)
            continue;
        zone_t *z = s->zones[(uint32_t)v - 1];
        const uint8_t *o = zone_origin(z);
        if (dns_name_len(o) == len && zh_equal(o, name, len))
            return z;
    }
}

/* zone_set_find for a small set: the origin with the most labels that
 * equals name's suffix of as many labels (off, n, len from zh_offsets). */
static const zone_t *zone_set_scan(const zone_set_t *s, const uint8_t *name,
                                   const uint8_t *off, unsigned n, size_t len)
{
    const zone_t *best = NULL;
    unsigned best_labels = 0;
    for (size_t k = 0; k < s->n; k++) {
        unsigned l = s->lin_labels[k];
        if (l > n || (best && l <= best_labels))
            continue;
        size_t at = off[n - l];
        if (len - at == s->lin_len[k] && zh_equal(name + at, s->lin_origin[k], len - at)) {
            best = s->zones[k];
            best_labels = l;
        }
    }
    return best;
}

const zone_t *zone_set_find(const zone_set_t *s, const uint8_t *name)
{
    if (!s || !s->n)
        return NULL;
    uint8_t off[128];
    uint64_t h[129];
    unsigned n = zh_offsets(name, off);
    size_t len = off[n] + 1u;
    if (s->n <= ZONE_SET_LINEAR)
        return zone_set_scan(s, name, off, n, len);
    /* Only suffixes no longer than the longest origin are probed, so only
     * they are hashed. */
    unsigned first = n > s->max_labels ? n - s->max_labels : 0;
    h[n] = ZH_SEED;
    for (unsigned i = n; i-- > first;)
        h[i] = zh_label(h[i + 1], name + off[i]);
    for (unsigned i = first; i <= n; i++) {
        zone_t *z = zone_set_probe(s, name + off[i], len - off[i], h[i]);
        if (z)
            return z;
    }
    return NULL;
}

zone_t *zone_set_get(const zone_set_t *s, const uint8_t *origin)
{
    if (!s || !s->n)
        return NULL;
    return zone_set_probe(s, origin, dns_name_len(origin), zh_name(origin));
}

size_t zone_set_count(const zone_set_t *s) { return s ? s->n : 0; }

zone_t *zone_set_at(const zone_set_t *s, size_t i) { return s && i < s->n ? s->zones[i] : NULL; }
