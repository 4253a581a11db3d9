/* Private to zone/: name hashing and case-insensitive name comparison
 * shared by the zone index (zone.c) and the zone set (zoneset.c).
 *
 * The hash of a name is folded label by label from the root, so the
 * hashes of all suffixes of a name come out of one right-to-left pass:
 * hash(label.parent) = zh_label(hash(parent), label). That is what makes
 * the closest-encloser and longest-zone searches cheap.
 */
#ifndef ZL_ZONE_ZHASH_H
#define ZL_ZONE_ZHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZH_SEED 0xcbf29ce484222325ull /* FNV-1a offset basis: hash of the root */
#define ZH_PRIME 0x100000001b3ull

static inline uint8_t zh_lower(uint8_t c)
{
    return (uint8_t)((unsigned)c - 0x41u < 26u ? c | 0x20 : c);
}

/* Folds one label (label[0] is its length) into the hash of its parent. */
static inline uint64_t zh_label(uint64_t h, const uint8_t *label)
{
    unsigned n = label[0];
    h = (h ^ n) * ZH_PRIME;
    for (unsigned i = 1; i <= n; i++)
        h = (h ^ zh_lower(label[i])) * ZH_PRIME;
    return h;
}

/* Final mixing (murmur3 fmix64): FNV's low bits are weak for a table
 * index, and the table takes its index from the low bits, its tag from
 * the high ones. */
static inline uint64_t zh_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Offsets of the labels of a valid name: off[0..n) the labels, off[n]
 * the root label. Returns n. */
static inline unsigned zh_offsets(const uint8_t *name, uint8_t off[128])
{
    unsigned n = 0, p = 0;
    while (name[p]) {
        off[n++] = (uint8_t)p;
        p += name[p] + 1u;
    }
    off[n] = (uint8_t)p;
    return n;
}

/* Hash of a whole name. */
static inline uint64_t zh_name(const uint8_t *name)
{
    uint8_t off[128];
    unsigned n = zh_offsets(name, off);
    uint64_t h = ZH_SEED;
    while (n-- > 0)
        h = zh_label(h, name + off[n]);
    return h;
}

/* Case-insensitive equality of two names of the same length len. */
static inline bool zh_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    if (memcmp(a, b, len) == 0)
        return true;
    for (size_t i = 0; i < len; i++)
        if (zh_lower(a[i]) != zh_lower(b[i]))
            return false;
    return true;
}

#endif
