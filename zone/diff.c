/* Diffs: building, sealing, the diff of two versions, and the binary
 * form the journal stores. */
#include "zone/diff.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/siphash.h"

typedef struct diff_list {
    dns_rr_t *r;
    size_t n, cap;
} diff_list_t;

/* Most diffs are one UPDATE's: two SOAs and a few records. Their owners
 * and RDATA fit a buffer inside the diff, so such a diff takes two small
 * allocations instead of a 16 KiB arena chunk: the IXFR history keeps up
 * to --ixfr-history of them per zone, and its byte cap counts the memory
 * they hold (zone_diff_memory). */
#define DIFF_INLINE 512
#define DIFF_LIST_MIN 4

struct zone_diff {
    atomic_uint refs;
    bool sealed;
    uint8_t origin[DNS_NAME_MAX];
    dns_rr_t soa[2];        /* old, new; owner NULL until set */
    diff_list_t rm, add;
    size_t bytes;           /* of the encoding */
    size_t memory;          /* held in memory: this, the lists, arena chunks */
    dns_arena_t arena;      /* owners and RDATA: small first, then heap chunks */
    _Alignas(8) uint8_t small[DIFF_INLINE];
};

#define DIFF_MAGIC "ZLD1"
/* The checksum's fixed key (any constant: it detects damage, it does
 * not authenticate). */
static const uint8_t diff_check_key[16] = "zonelet-diff-v1";

zone_diff_t *zone_diff_new(const uint8_t *origin)
{
    zone_diff_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    atomic_init(&d->refs, 1);
    dns_name_copy(d->origin, origin);
    dns_arena_init(&d->arena, d->small, sizeof(d->small), 0);
    return d;
}

zone_diff_t *zone_diff_ref(zone_diff_t *d)
{
    if (d)
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    return d;
}

void zone_diff_free(zone_diff_t *d)
{
    if (!d || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(d->rm.r);
    free(d->add.r);
    dns_arena_free(&d->arena);
    free(d);
}

/* A copy of rr in the diff's arena (owner and RDATA), into *out. */
static int diff_copy(zone_diff_t *d, const dns_rr_t *rr, dns_rr_t *out)
{
    uint8_t *o = dns_arena_dup(&d->arena, rr->owner, dns_name_len(rr->owner));
    uint8_t *rd = dns_arena_dup(&d->arena, rr->rdata, rr->rdlen);
    if (!o || !rd)
        return ZL_ENOMEM;
    *out = (dns_rr_t){ .owner = o, .type = rr->type, .rclass = DNS_C_IN, .ttl = rr->ttl,
                       .rdlen = rr->rdlen, .rdata = rd };
    return ZL_OK;
}

static int diff_push(zone_diff_t *d, diff_list_t *l, const dns_rr_t *rr)
{
    if (d->sealed || rr->type == DNS_T_SOA || rr->type == 0 || dns_type_is_meta(rr->type) ||
        rr->rclass != DNS_C_IN || !dns_name_is_sub(rr->owner, d->origin))
        return ZL_EINVAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : DIFF_LIST_MIN;
        dns_rr_t *r = realloc(l->r, cap * sizeof(*r));
        if (!r)
            return ZL_ENOMEM;
        l->r = r;
        l->cap = cap;
    }
    int rc = diff_copy(d, rr, &l->r[l->n]);
    if (!rc)
        l->n++;
    return rc;
}

int zone_diff_remove(zone_diff_t *d, const dns_rr_t *rr) { return diff_push(d, &d->rm, rr); }
int zone_diff_add(zone_diff_t *d, const dns_rr_t *rr) { return diff_push(d, &d->add, rr); }

int zone_diff_set_soa(zone_diff_t *d, const dns_rr_t *old_soa, const dns_rr_t *new_soa)
{
    const dns_rr_t *s[2] = { old_soa, new_soa };
    if (d->sealed)
        return ZL_EINVAL;
    for (int i = 0; i < 2; i++)
        if (s[i]->type != DNS_T_SOA || !dns_name_equal(s[i]->owner, d->origin) ||
            dns_rdata_check(DNS_T_SOA, s[i]->rdata, s[i]->rdlen) != ZL_OK)
            return ZL_EINVAL;
    for (int i = 0; i < 2; i++)
        if (diff_copy(d, s[i], &d->soa[i]))
            return ZL_ENOMEM;
    return ZL_OK;
}

/* Canonical order of records without their TTLs. */
static int rr_cmp_data(const dns_rr_t *a, const dns_rr_t *b)
{
    int c = dns_name_cmp(a->owner, b->owner);
    if (!c)
        c = a->type < b->type ? -1 : a->type > b->type;
    if (!c)
        c = dns_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
    return c;
}

static int rr_cmp(const void *pa, const void *pb)
{
    const dns_rr_t *a = pa, *b = pb;
    int c = rr_cmp_data(a, b);
    return c ? c : a->ttl < b->ttl ? -1 : a->ttl > b->ttl;
}

/* Sorts l and keeps one of identical records. */
static int diff_sort(diff_list_t *l)
{
    if (l->n > 1)
        qsort(l->r, l->n, sizeof(*l->r), rr_cmp);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (k && rr_cmp_data(&l->r[k - 1], &l->r[i]) == 0) {
            if (l->r[k - 1].ttl != l->r[i].ttl)
                return ZL_EINVAL;
            continue;
        }
        l->r[k++] = l->r[i];
    }
    l->n = k;
    return ZL_OK;
}

/* Drops the records that are in both lists with the same TTL. */
static void diff_cancel(zone_diff_t *d)
{
    size_t i = 0, j = 0, ki = 0, kj = 0;
    while (i < d->rm.n || j < d->add.n) {
        int c = i == d->rm.n ? 1 : j == d->add.n ? -1 : rr_cmp(&d->rm.r[i], &d->add.r[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            d->rm.r[ki++] = d->rm.r[i++];
        } else {
            d->add.r[kj++] = d->add.r[j++];
        }
    }
    d->rm.n = ki;
    d->add.n = kj;
}

static size_t rr_bytes(const dns_rr_t *r, bool soa)
{
    return (soa ? 0 : dns_name_len(r->owner) + 2) + 4 + 2 + r->rdlen;
}

int zone_diff_seal(zone_diff_t *d)
{
    if (d->sealed)
        return ZL_OK;
    if (!d->soa[0].owner)
        return ZL_EINVAL;
    int rc = diff_sort(&d->rm);
    if (!rc)
        rc = diff_sort(&d->add);
    if (rc)
        return rc;
    diff_cancel(d);
    size_t b = 4 + 4 + dns_name_len(d->origin) + rr_bytes(&d->soa[0], true) +
               rr_bytes(&d->soa[1], true) + 8 + 8;
    for (size_t i = 0; i < d->rm.n; i++)
        b += rr_bytes(&d->rm.r[i], false);
    for (size_t i = 0; i < d->add.n; i++)
        b += rr_bytes(&d->add.r[i], false);
    d->bytes = b;
    d->memory = sizeof(*d) + (d->rm.cap + d->add.cap) * sizeof(dns_rr_t) +
                dns_arena_heap_bytes(&d->arena);
    d->sealed = true;
    return ZL_OK;
}

const uint8_t *zone_diff_origin(const zone_diff_t *d) { return d->origin; }

static uint32_t soa_serial(const dns_rr_t *soa)
{
    if (!soa->owner)
        return 0;
    size_t at = dns_name_len(soa->rdata);
    at += dns_name_len(soa->rdata + at);
    return dns_get_u32(soa->rdata + at);
}

uint32_t zone_diff_from(const zone_diff_t *d) { return soa_serial(&d->soa[0]); }
uint32_t zone_diff_to(const zone_diff_t *d) { return soa_serial(&d->soa[1]); }
const dns_rr_t *zone_diff_old_soa(const zone_diff_t *d) { return d->soa[0].owner ? &d->soa[0] : NULL; }
const dns_rr_t *zone_diff_new_soa(const zone_diff_t *d) { return d->soa[1].owner ? &d->soa[1] : NULL; }
size_t zone_diff_bytes(const zone_diff_t *d) { return d->bytes; }
size_t zone_diff_memory(const zone_diff_t *d) { return d->memory; }

/* An empty list is a valid array too (callers may add 0 to it). */
static const dns_rr_t diff_none[1];

const dns_rr_t *zone_diff_removed(const zone_diff_t *d, size_t *n)
{
    *n = d->rm.n;
    return d->rm.r ? d->rm.r : diff_none;
}

const dns_rr_t *zone_diff_added(const zone_diff_t *d, size_t *n)
{
    *n = d->add.n;
    return d->add.r ? d->add.r : diff_none;
}

bool zone_diff_is_empty(const zone_diff_t *d)
{
    const dns_rr_t *a = &d->soa[0], *b = &d->soa[1];
    return !d->rm.n && !d->add.n && a->ttl == b->ttl && a->rdlen == b->rdlen &&
           (!a->rdlen || memcmp(a->rdata, b->rdata, a->rdlen) == 0);
}

/* ---- the diff of two versions ------------------------------------------ */

/* Adds every record of rs (owner) to list l of d with its TTL. */
static int diff_rrset(zone_diff_t *d, diff_list_t *l, const uint8_t *owner,
                      const zone_rrset_t *rs)
{
    dns_rr_t r = { .owner = owner, .type = rs->type, .rclass = DNS_C_IN, .ttl = rs->ttl };
    const uint8_t *p = zone_rrset_rdata(rs, 0, &r.rdlen);
    for (unsigned i = 0; i < rs->count; i++) {
        if (i)
            p = zone_rrset_rdata_next(p, r.rdlen, &r.rdlen);
        r.rdata = p;
        int rc = diff_push(d, l, &r);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

/* Two RRsets of one owner and type with the same TTL: the records of one
 * not in the other (both in canonical RDATA order). */
static int diff_rrset_pair(zone_diff_t *d, const uint8_t *oo, const zone_rrset_t *a,
                           const uint8_t *no, const zone_rrset_t *b)
{
    if (a->ttl != b->ttl) {
        int rc = diff_rrset(d, &d->rm, oo, a);
        return rc ? rc : diff_rrset(d, &d->add, no, b);
    }
    dns_rr_t x = { .owner = oo, .type = a->type, .rclass = DNS_C_IN, .ttl = a->ttl };
    dns_rr_t y = { .owner = no, .type = b->type, .rclass = DNS_C_IN, .ttl = b->ttl };
    unsigned i = 0, j = 0;
    x.rdata = zone_rrset_rdata(a, 0, &x.rdlen);
    y.rdata = zone_rrset_rdata(b, 0, &y.rdlen);
    while (i < a->count || j < b->count) {
        int c = i == a->count ? 1 : j == b->count ? -1
              : dns_rdata_cmp(a->type, x.rdata, x.rdlen, y.rdata, y.rdlen);
        int rc = c < 0 ? diff_push(d, &d->rm, &x) : c > 0 ? diff_push(d, &d->add, &y) : 0;
        if (rc)
            return rc;
        if (c <= 0 && ++i < a->count)
            x.rdata = zone_rrset_rdata_next(x.rdata, x.rdlen, &x.rdlen);
        if (c >= 0 && ++j < b->count)
            y.rdata = zone_rrset_rdata_next(y.rdata, y.rdlen, &y.rdlen);
    }
    return ZL_OK;
}

static int diff_walk(zone_diff_t *d, zone_iter_t *a, zone_iter_t *b)
{
    const uint8_t *ao = NULL, *bo = NULL;
    const zone_rrset_t *ar = NULL, *br = NULL;
    bool ha = zone_iter_next(a, &ao, &ar), hb = zone_iter_next(b, &bo, &br);
    /* the first RRset of each walk is its SOA */
    dns_rr_t s[2];
    const zone_rrset_t *soa[2] = { ar, br };
    const uint8_t *so[2] = { ao, bo };
    for (int i = 0; i < 2; i++) {
        s[i] = (dns_rr_t){ .owner = so[i], .type = DNS_T_SOA, .rclass = DNS_C_IN,
                           .ttl = soa[i]->ttl };
        s[i].rdata = zone_rrset_rdata(soa[i], 0, &s[i].rdlen);
    }
    int rc = zone_diff_set_soa(d, &s[0], &s[1]);
    ha = ha && zone_iter_next(a, &ao, &ar);
    hb = hb && zone_iter_next(b, &bo, &br);
    while (!rc && (ha || hb)) {
        int c = !ha ? 1 : !hb ? -1 : dns_name_cmp(ao, bo);
        if (!c)
            c = ar->type < br->type ? -1 : ar->type > br->type;
        if (c < 0)
            rc = diff_rrset(d, &d->rm, ao, ar);
        else if (c > 0)
            rc = diff_rrset(d, &d->add, bo, br);
        else
            rc = diff_rrset_pair(d, ao, ar, bo, br);
        if (c <= 0)
            ha = zone_iter_next(a, &ao, &ar);
        if (c >= 0)
            hb = zone_iter_next(b, &bo, &br);
    }
    return rc;
}

int zone_diff_versions(const zone_t *old, const zone_t *new, zone_diff_t **out)
{
    *out = NULL;
    if (!dns_name_equal(zone_origin(old), zone_origin(new)))
        return ZL_EINVAL;
    zone_diff_t *d = zone_diff_new(zone_origin(old));
    zone_iter_t a, b;
    if (!d)
        return ZL_ENOMEM;
    int rc = zone_iter_init(&a, (zone_t *)old);
    if (rc) {
        zone_diff_free(d);
        return rc;
    }
    rc = zone_iter_init(&b, (zone_t *)new);
    if (!rc) {
        rc = diff_walk(d, &a, &b);
        zone_iter_fini(&b);
    }
    zone_iter_fini(&a);
    if (!rc)
        rc = zone_diff_seal(d);
    if (rc)
        zone_diff_free(d);
    else
        *out = d;
    return rc;
}

/* ---- binary form ------------------------------------------------------- */

static void enc_rr(dns_wire_t *w, const dns_rr_t *r, bool soa)
{
    if (!soa) {
        dns_wire_write(w, r->owner, dns_name_len(r->owner));
        dns_wire_put_u16(w, r->type);
    }
    dns_wire_put_u32(w, r->ttl);
    dns_wire_put_u16(w, r->rdlen);
    dns_wire_write(w, r->rdata, r->rdlen);
}

int zone_diff_encode(const zone_diff_t *d, dns_wire_t *w)
{
    if (!d->sealed)
        return ZL_EINVAL;
    size_t start = w->pos;
    dns_wire_write(w, DIFF_MAGIC, 4);
    dns_wire_put_u32(w, (uint32_t)(d->bytes - 16));
    dns_wire_write(w, d->origin, dns_name_len(d->origin));
    enc_rr(w, &d->soa[0], true);
    enc_rr(w, &d->soa[1], true);
    dns_wire_put_u32(w, (uint32_t)d->rm.n);
    dns_wire_put_u32(w, (uint32_t)d->add.n);
    for (size_t i = 0; i < d->rm.n; i++)
        enc_rr(w, &d->rm.r[i], false);
    for (size_t i = 0; i < d->add.n; i++)
        enc_rr(w, &d->add.r[i], false);
    if (!dns_wire_ok(w))
        return w->err;
    uint64_t check = dns_siphash24(diff_check_key, w->base + start, w->pos - start);
    dns_wire_put_u32(w, (uint32_t)(check >> 32));
    dns_wire_put_u32(w, (uint32_t)check);
    return w->err;
}

/* Reads a name that must end inside the cursor, without compression. */
static const uint8_t *dec_name(dns_wire_t *w)
{
    if (!dns_wire_ok(w))
        return NULL;
    int n = dns_name_check(dns_wire_cur(w), dns_wire_avail(w));
    if (n < 0) {
        dns_wire_fail(w, ZL_EMALF);
        return NULL;
    }
    const uint8_t *p = dns_wire_cur(w);
    dns_wire_skip(w, (size_t)n);
    return p;
}

/* One record (an SOA when type is DNS_T_SOA: no owner, no type field). */
static bool dec_rr(dns_wire_t *w, const uint8_t *origin, uint16_t type, dns_rr_t *r)
{
    *r = (dns_rr_t){ .owner = origin, .type = type, .rclass = DNS_C_IN };
    if (type != DNS_T_SOA) {
        r->owner = dec_name(w);
        r->type = dns_wire_u16(w);
    }
    r->ttl = dns_wire_u32(w);
    r->rdlen = dns_wire_u16(w);
    r->rdata = dns_wire_cur(w);
    dns_wire_skip(w, r->rdlen);
    if (!dns_wire_ok(w) || dns_rdata_check(r->type, r->rdata, r->rdlen) != ZL_OK)
        return false;
    if (type == DNS_T_SOA)
        return true;
    return r->type != DNS_T_SOA && r->type != 0 && !dns_type_is_meta(r->type) &&
           dns_name_is_sub(r->owner, origin);
}

/* The body (body[0..len)) into a new diff. */
static int dec_body(const uint8_t *body, size_t len, zone_diff_t **out)
{
    dns_wire_t w;
    dns_wire_init_ro(&w, body, len);
    const uint8_t *origin = dec_name(&w);
    dns_rr_t soa[2], r;
    if (!origin || !dec_rr(&w, origin, DNS_T_SOA, &soa[0]) ||
        !dec_rr(&w, origin, DNS_T_SOA, &soa[1]))
        return ZL_EMALF;
    uint32_t n[2] = { dns_wire_u32(&w), dns_wire_u32(&w) };
    /* every record takes at least 11 octets: a bound before allocating */
    if (!dns_wire_ok(&w) || (uint64_t)n[0] + n[1] > dns_wire_avail(&w) / 11)
        return ZL_EMALF;
    zone_diff_t *d = zone_diff_new(origin);
    if (!d)
        return ZL_ENOMEM;
    int rc = zone_diff_set_soa(d, &soa[0], &soa[1]) ? ZL_EMALF : ZL_OK;
    const dns_rr_t *prev = NULL;
    for (int l = 0; l < 2 && !rc; l++, prev = NULL) {
        for (uint32_t i = 0; i < n[l] && !rc; i++) {
            if (!dec_rr(&w, origin, 0, &r))
                rc = ZL_EMALF;
            else if (prev && rr_cmp_data(prev, &r) >= 0)
                rc = ZL_EMALF; /* not in canonical order, or a duplicate */
            else
                rc = diff_push(d, l ? &d->add : &d->rm, &r);
            prev = rc ? NULL : &(l ? d->add.r : d->rm.r)[(l ? d->add.n : d->rm.n) - 1];
        }
    }
    if (!rc && dns_wire_avail(&w))
        rc = ZL_EMALF;
    if (!rc) {
        rc = zone_diff_seal(d);
        /* a record in both lists with one TTL is not in a sealed diff */
        if (!rc && (d->rm.n != n[0] || d->add.n != n[1]))
            rc = ZL_EMALF;
    }
    if (rc) {
        zone_diff_free(d);
        return rc == ZL_EINVAL ? ZL_EMALF : rc;
    }
    *out = d;
    return ZL_OK;
}

int zone_diff_decode(dns_wire_t *w, zone_diff_t **out)
{
    *out = NULL;
    size_t start = w->pos;
    uint8_t magic[4];
    dns_wire_read(w, magic, 4);
    uint32_t len = dns_wire_u32(w);
    if (!dns_wire_ok(w) || memcmp(magic, DIFF_MAGIC, 4) != 0 || len > dns_wire_avail(w) ||
        dns_wire_avail(w) - len < 8) {
        dns_wire_fail(w, ZL_EMALF);
        return ZL_EMALF;
    }
    const uint8_t *body = dns_wire_cur(w);
    dns_wire_skip(w, len);
    uint64_t check = (uint64_t)dns_wire_u32(w) << 32;
    check |= dns_wire_u32(w);
    if (!dns_wire_ok(w) || check != dns_siphash24(diff_check_key, w->base + start, 8 + len)) {
        dns_wire_fail(w, ZL_EMALF);
        return ZL_EMALF;
    }
    int rc = dec_body(body, len, out);
    if (rc == ZL_EMALF)
        dns_wire_fail(w, ZL_EMALF);
    return rc;
}
