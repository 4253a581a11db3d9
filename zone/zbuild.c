/* The zone builder: collects records, validates them and lays out the
 * immutable zone (zone_int.h).
 *
 * Records go into a few flat arrays (no allocation per record). Owners
 * are deduplicated case-insensitively as they arrive. zone_builder_finish
 * then adds the empty non-terminals, sorts the owners once into canonical
 * order (by a memcmp-able key, so the sort never parses names), sorts the
 * records by (owner rank, type, canonical RDATA, arrival), and makes two
 * passes over them: one that deduplicates, validates and sizes every
 * node, one that writes the nodes into a single allocation.
 */
/* qsort_r: glibc and musl >= 1.2.3 (the Makefile defines _GNU_SOURCE) */
#include "zone/zone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dns/err.h"
#include "zone/zhash.h"
#include "zone/zone_int.h"

#define ZB_OUT 0x01  /* owner outside the zone */
#define ZB_NOFILE 0xffffu

typedef struct zb_owner {
    uint64_t hash;  /* zh_name() of the owner */
    uint32_t name;  /* offset in b->names */
    uint32_t rank;  /* position in canonical order, after sorting */
    uint8_t len;
    uint8_t flags;  /* ZB_* */
} zb_owner_t;

typedef struct zb_rec {
    uint32_t owner, rd, ttl, line;
    uint16_t type, rclass, rdlen, file;
} zb_rec_t;

/* One record in sorted order. */
typedef struct zb_sort {
    uint64_t key;   /* rank << 16 | type */
    uint32_t rec;
    uint32_t dup;   /* identical to an earlier record of its RRset */
} zb_sort_t;

/* What pass one learns about each node, by rank. */
typedef struct zb_node {
    uint32_t off;
    uint32_t cut, dname; /* rank + 1 of the topmost cut / DNAME at or above, or 0 */
    uint16_t nrrsets;
    uint8_t flags;
} zb_node_t;

struct zone_builder {
    uint8_t origin[DNS_NAME_MAX];
    uint8_t origin_len;
    unsigned origin_labels;
    uint8_t *names, *rdata;
    size_t names_len, names_cap, rdata_len, rdata_cap;
    zb_rec_t *recs;
    size_t nrecs, recs_cap;
    zb_owner_t *owners;
    size_t nowners, owners_cap;
    uint64_t *tab;  /* hash tag << 32 | owner index + 1; 0 = empty */
    size_t tab_mask;
    const char **files;
    size_t nfiles, files_cap;
    uint32_t last_owner;
    uint16_t last_file;
    unsigned errors;
};

/* Makes room for need elements of size sz in *p (capacity *cap). */
static int zb_grow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return ZL_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*(void **)p, n * sz);
    if (!q)
        return ZL_ENOMEM;
    *(void **)p = q;
    *cap = n;
    return ZL_OK;
}

static const uint8_t *zb_name(const zone_builder_t *b, const zb_owner_t *o)
{
    return b->names + o->name;
}

static const char *zb_file(const zone_builder_t *b, const zb_rec_t *r)
{
    return r->file == ZB_NOFILE ? NULL : b->files[r->file];
}

/* The owner index of name (len, hash h), or -1. */
static long zb_owner_find(const zone_builder_t *b, const uint8_t *name, size_t len, uint64_t h)
{
    uint64_t m = zh_mix(h);
    for (size_t i = m & b->tab_mask;; i = (i + 1) & b->tab_mask) {
        uint64_t t = b->tab[i];
        if (!t)
            return -1;
        if (t >> 32 != m >> 32) /* the tag spares a cache miss on the owner */
            continue;
        const zb_owner_t *o = &b->owners[(uint32_t)t - 1];
        if (o->hash == h && o->len == len && zh_equal(zb_name(b, o), name, len))
            return (long)((uint32_t)t - 1);
    }
}

static void zb_tab_put(zone_builder_t *b, uint32_t idx)
{
    uint64_t m = zh_mix(b->owners[idx].hash);
    size_t i = m & b->tab_mask;
    while (b->tab[i])
        i = (i + 1) & b->tab_mask;
    b->tab[i] = (m >> 32) << 32 | (idx + 1);
}

/* Keeps the owner table at most half full. */
static int zb_tab_reserve(zone_builder_t *b)
{
    if ((b->nowners + 1) * 2 <= b->tab_mask + 1)
        return ZL_OK;
    size_t n = (b->tab_mask + 1) * 2;
    uint64_t *t = calloc(n, sizeof(*t));
    if (!t)
        return ZL_ENOMEM;
    free(b->tab);
    b->tab = t;
    b->tab_mask = n - 1;
    for (size_t i = 0; i < b->nowners; i++)
        zb_tab_put(b, (uint32_t)i);
    return ZL_OK;
}

/* Adds an owner whose name is already at names[name..name+len). */
static int zb_owner_add(zone_builder_t *b, uint32_t name, size_t len, uint64_t h, uint32_t *idx)
{
    if (zb_tab_reserve(b) || zb_grow(&b->owners, &b->owners_cap, b->nowners + 1, sizeof(zb_owner_t)))
        return ZL_ENOMEM;
    if (b->nowners >= UINT32_MAX - 1)
        return ZL_ENOMEM;
    *idx = (uint32_t)b->nowners++;
    b->owners[*idx] = (zb_owner_t){ .hash = h, .name = name, .len = (uint8_t)len };
    zb_tab_put(b, *idx);
    return ZL_OK;
}

static int zb_names_append(zone_builder_t *b, const uint8_t *name, size_t len, uint32_t *off)
{
    if (b->names_len + len > UINT32_MAX ||
        zb_grow(&b->names, &b->names_cap, b->names_len + len, 1))
        return ZL_ENOMEM;
    *off = (uint32_t)b->names_len;
    memcpy(b->names + b->names_len, name, len);
    b->names_len += len;
    return ZL_OK;
}

/* The owner index for name, added if new. */
static int zb_owner_get(zone_builder_t *b, const uint8_t *name, uint32_t *idx)
{
    size_t len = dns_name_len(name);
    if (b->nowners) {
        const zb_owner_t *o = &b->owners[b->last_owner];
        if (o->len == len && memcmp(zb_name(b, o), name, len) == 0) {
            *idx = b->last_owner;
            return ZL_OK;
        }
    }
    uint64_t h = zh_name(name);
    long f = zb_owner_find(b, name, len, h);
    uint32_t off;
    if (f >= 0)
        *idx = (uint32_t)f;
    else if (zb_names_append(b, name, len, &off) || zb_owner_add(b, off, len, h, idx))
        return ZL_ENOMEM;
    b->last_owner = *idx;
    return ZL_OK;
}

static int zb_file_get(zone_builder_t *b, const char *file, uint16_t *idx)
{
    if (!file) {
        *idx = ZB_NOFILE;
        return ZL_OK;
    }
    if (b->nfiles && b->files[b->last_file] == file) {
        *idx = b->last_file;
        return ZL_OK;
    }
    size_t i = 0;
    while (i < b->nfiles && b->files[i] != file)
        i++;
    if (i == b->nfiles) {
        if (i >= ZB_NOFILE) {
            *idx = ZB_NOFILE; /* more files than any zone has: lose the name only */
            return ZL_OK;
        }
        if (zb_grow(&b->files, &b->files_cap, i + 1, sizeof(*b->files)))
            return ZL_ENOMEM;
        b->files[b->nfiles++] = file;
    }
    *idx = b->last_file = (uint16_t)i;
    return ZL_OK;
}

zone_builder_t *zone_builder_new(const uint8_t *origin)
{
    zone_builder_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->origin_len = (uint8_t)dns_name_copy(b->origin, origin);
    b->origin_labels = dns_name_labels(origin);
    b->tab = calloc(1024, sizeof(*b->tab));
    if (!b->tab) {
        free(b);
        return NULL;
    }
    b->tab_mask = 1023;
    return b;
}

int zone_builder_add(zone_builder_t *b, const zone_rec_t *rec, const zone_report_t *rep)
{
    (void)rep; /* every content problem is found and reported by finish */
    zb_rec_t r = { .ttl = rec->ttl, .line = rec->line, .type = rec->type,
                   .rclass = rec->rclass, .rdlen = rec->rdlen };
    if (zb_owner_get(b, rec->owner, &r.owner) || zb_file_get(b, rec->file, &r.file))
        return ZL_ENOMEM;
    if (b->rdata_len + rec->rdlen > UINT32_MAX || b->nrecs >= UINT32_MAX - 1 ||
        zb_grow(&b->rdata, &b->rdata_cap, b->rdata_len + rec->rdlen, 1) ||
        zb_grow(&b->recs, &b->recs_cap, b->nrecs + 1, sizeof(zb_rec_t)))
        return ZL_ENOMEM;
    r.rd = (uint32_t)b->rdata_len;
    if (rec->rdlen)
        memcpy(b->rdata + b->rdata_len, rec->rdata, rec->rdlen);
    b->rdata_len += rec->rdlen;
    b->recs[b->nrecs++] = r;
    return ZL_OK;
}

static void zb_free(zone_builder_t *b)
{
    free(b->names);
    free(b->rdata);
    free(b->recs);
    free(b->owners);
    free(b->tab);
    free((void *)b->files);
    free(b);
}

/* ---- finish: the tree ------------------------------------------------ */

static bool zb_in_zone(const zone_builder_t *b, const uint8_t *name, size_t len)
{
    return len >= b->origin_len && dns_name_is_sub(name, b->origin);
}

/* Marks out-of-zone owners and adds every missing ancestor between an
 * owner and the apex as an empty non-terminal (RFC 4592 §2.2.2), its name
 * a suffix of the child's. The apex is always a node. */
static int zb_add_ents(zone_builder_t *b, uint32_t *apex)
{
    size_t n = b->nowners;
    uint64_t h = zh_name(b->origin);
    long f = zb_owner_find(b, b->origin, b->origin_len, h);
    uint32_t off;
    if (f >= 0)
        *apex = (uint32_t)f;
    else if (zb_names_append(b, b->origin, b->origin_len, &off) ||
             zb_owner_add(b, off, b->origin_len, h, apex))
        return ZL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        zb_owner_t o = b->owners[i];
        const uint8_t *name = zb_name(b, &o);
        if (!zb_in_zone(b, name, o.len)) {
            b->owners[i].flags |= ZB_OUT;
            continue;
        }
        for (uint32_t at = name[0] + 1u; at < o.len - b->origin_len + 0u; at += name[at] + 1u) {
            uint64_t ph = zh_name(name + at);
            uint32_t idx;
            if (zb_owner_find(b, name + at, o.len - at, ph) >= 0)
                break;
            if (zb_owner_add(b, o.name + at, o.len - at, ph, &idx))
                return ZL_ENOMEM;
        }
    }
    return ZL_OK;
}

typedef struct zb_okey {
    uint64_t pre;   /* the key's first 8 octets, big-endian */
    uint32_t key;   /* offset of the key in the key buffer */
    uint16_t klen;
    uint32_t owner;
} zb_okey_t;

/* A key whose memcmp order is the canonical order of names below the
 * origin (RFC 4034 §6.1): labels from the apex down, lower-cased, each
 * ended by 0; octets 0 and 1 inside labels escaped as 1 1 and 1 2 so the
 * terminator sorts before any label octet. */
static size_t zb_key(const zone_builder_t *b, const uint8_t *name, uint8_t *k)
{
    uint8_t off[128];
    unsigned n = zh_offsets(name, off) - b->origin_labels;
    size_t len = 0;
    while (n-- > 0) {
        const uint8_t *l = name + off[n];
        for (unsigned i = 1; i <= l[0]; i++) {
            uint8_t c = zh_lower(l[i]);
            if (c <= 1)
                k[len++] = 1;
            k[len++] = c <= 1 ? (uint8_t)(c + 1) : c;
        }
        k[len++] = 0;
    }
    return len;
}

static int zb_okey_cmp(const void *pa, const void *pb, void *ctx)
{
    const zb_okey_t *a = pa, *b = pb;
    if (a->pre != b->pre)
        return a->pre < b->pre ? -1 : 1;
    const uint8_t *keys = ctx;
    size_t m = a->klen < b->klen ? a->klen : b->klen;
    if (m > 8) {
        int r = memcmp(keys + a->key + 8, keys + b->key + 8, m - 8);
        if (r)
            return r;
    }
    return a->klen == b->klen ? 0 : a->klen < b->klen ? -1 : 1;
}

/* Sorts the in-zone owners canonically: (*order)[rank] = owner index,
 * and owners[i].rank set. */
static int zb_sort_owners(zone_builder_t *b, uint32_t **order, size_t *n)
{
    zb_okey_t *ok = malloc(b->nowners * sizeof(*ok) + 1);
    uint8_t *keys = NULL;
    size_t klen = 0, kcap = 0, m = 0;
    if (!ok)
        return ZL_ENOMEM;
    for (size_t i = 0; i < b->nowners; i++) {
        const zb_owner_t *o = &b->owners[i];
        if (o->flags & ZB_OUT)
            continue;
        if (zb_grow(&keys, &kcap, klen + 2 * DNS_NAME_MAX + 8, 1)) {
            free(ok);
            free(keys);
            return ZL_ENOMEM;
        }
        size_t kl = zb_key(b, zb_name(b, o), keys + klen);
        uint8_t p8[8] = { 0 };
        memcpy(p8, keys + klen, kl < 8 ? kl : 8);
        uint64_t pre = 0;
        for (int j = 0; j < 8; j++)
            pre = pre << 8 | p8[j];
        ok[m++] = (zb_okey_t){ .pre = pre, .key = (uint32_t)klen, .klen = (uint16_t)kl,
                               .owner = (uint32_t)i };
        klen += kl;
    }
    qsort_r(ok, m, sizeof(*ok), zb_okey_cmp, keys);
    free(keys);
    uint32_t *ord = (uint32_t *)ok; /* reuse: ord[i] is written after ok[i] is read */
    for (size_t i = 0; i < m; i++) {
        uint32_t o = ok[i].owner;
        ord[i] = o;
        b->owners[o].rank = (uint32_t)i;
    }
    *order = ord;
    *n = m;
    return ZL_OK;
}

/* ---- finish: records ------------------------------------------------- */

static void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r,
                      bool error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r,
                      bool error, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    zone_reportf(rep, r ? zb_file(b, r) : NULL, r ? r->line : 0, "%s", msg);
    b->errors += error;
}

/* Presentation form of a name and a type, for messages. */
typedef struct zb_text {
    char name[DNS_NAME_TEXT_MAX];
    char type[16];
} zb_text_t;

static const char *zb_tname(zb_text_t *t, uint16_t type)
{
    if (dns_type_to_text(type, t->type, sizeof(t->type)) < 0)
        t->type[0] = 0;
    return t->type;
}

static const char *zb_nname(zb_text_t *t, const uint8_t *name)
{
    if (dns_name_to_text(name, t->name, sizeof(t->name)) < 0)
        strcpy(t->name, "?");
    return t->name;
}

static int zb_rec_cmp(const void *pa, const void *pb, void *ctx)
{
    const zb_sort_t *a = pa, *c = pb;
    if (a->key != c->key)
        return a->key < c->key ? -1 : 1;
    const zone_builder_t *b = ctx;
    const zb_rec_t *x = &b->recs[a->rec], *y = &b->recs[c->rec];
    int r = dns_rdata_cmp(x->type, b->rdata + x->rd, x->rdlen, b->rdata + y->rd, y->rdlen);
    if (r)
        return r;
    return a->rec < c->rec ? -1 : a->rec > c->rec;
}

/* Drops (and reports) records that cannot be in this zone at all, and
 * sorts the others by (owner rank, type, canonical RDATA, arrival). */
static int zb_sort_recs(zone_builder_t *b, zb_sort_t **out, size_t *n, const zone_report_t *rep)
{
    zb_sort_t *s = malloc(b->nrecs * sizeof(*s) + 1);
    size_t m = 0;
    zb_text_t t;
    if (!s)
        return ZL_ENOMEM;
    for (size_t i = 0; i < b->nrecs; i++) {
        const zb_rec_t *r = &b->recs[i];
        const zb_owner_t *o = &b->owners[r->owner];
        if (o->flags & ZB_OUT) {
            zb_report(b, rep, r, true, "%s is outside the zone", zb_nname(&t, zb_name(b, o)));
        } else if (r->rclass != DNS_C_IN) {
            zb_report(b, rep, r, true, "class %u records are not served (only IN)", r->rclass);
        } else if (dns_type_is_meta(r->type) || r->type == 0) {
            zb_report(b, rep, r, true, "type %s cannot be stored in a zone", zb_tname(&t, r->type));
        } else {
            s[m++] = (zb_sort_t){ .key = (uint64_t)o->rank << 16 | r->type, .rec = (uint32_t)i };
        }
    }
    qsort_r(s, m, sizeof(*s), zb_rec_cmp, b);
    *out = s;
    *n = m;
    return ZL_OK;
}

/* Marks the duplicates of one RRset s[0..n) (identical canonical RDATA
 * sort next to each other, earliest first), reports records whose TTL is
 * not the RRset's (the TTL of its first record in the source, RFC 2181
 * §5.2). Returns the octets the kept RDATA take; *kept their number. */
static uint32_t zb_rrset_pass1(zone_builder_t *b, zb_sort_t *s, size_t n, unsigned *kept,
                               uint32_t *ttl, const zone_report_t *rep)
{
    uint32_t first = s[0].rec, bytes = 0;
    unsigned k = 0;
    for (size_t i = 1; i < n; i++)
        if (s[i].rec < first)
            first = s[i].rec;
    *ttl = b->recs[first].ttl;
    for (size_t i = 0; i < n; i++) {
        const zb_rec_t *r = &b->recs[s[i].rec], *p = i ? &b->recs[s[i - 1].rec] : NULL;
        if (p && dns_rdata_cmp(r->type, b->rdata + p->rd, p->rdlen, b->rdata + r->rd, r->rdlen) == 0)
            s[i].dup = 1;
        else {
            k++;
            bytes += 2u + r->rdlen;
        }
        if (r->ttl != *ttl) {
            zb_text_t t;
            zb_report(b, rep, r, false, "TTL %u differs from TTL %u of the %s RRset; using %u "
                      "(RFC 2181 §5.2)", r->ttl, *ttl, zb_tname(&t, r->type), *ttl);
        }
    }
    *kept = k;
    return bytes;
}

/* Types allowed at a delegation point and below it (RFC 1034 §4.2.1:
 * everything else there is not authoritative data of this zone). */
static bool zb_cut_type(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_DS || type == DNS_T_RRSIG || type == DNS_T_NSEC ||
           type == DNS_T_A || type == DNS_T_AAAA;
}

typedef struct zb_where {
    const uint8_t *name;
    bool apex;
    bool cut;                 /* this node is a delegation point */
    const uint8_t *parent_cut; /* the delegation above, or NULL */
} zb_where_t;

/* The content rules for one node's kept records s[0..n). */
static void zb_node_check(zone_builder_t *b, const zb_where_t *w, const zb_sort_t *s, size_t n,
                          const zone_report_t *rep)
{
    const zb_rec_t *cname = NULL, *other = NULL, *first = n ? &b->recs[s[0].rec] : NULL;
    unsigned nsoa = 0, ndname = 0;
    bool ns = false;
    zb_text_t t, u;
    for (size_t i = 0; i < n; i++) {
        if (s[i].dup)
            continue;
        const zb_rec_t *r = &b->recs[s[i].rec];
        bool head = i == 0 || s[i].key != s[i - 1].key;
        if (r->type == DNS_T_SOA && w->apex && dns_rdata_check(DNS_T_SOA, b->rdata + r->rd,
                                                               r->rdlen) != ZL_OK)
            zb_report(b, rep, r, true, "malformed SOA record");
        if (r->type == DNS_T_SOA && (!w->apex || nsoa++))
            zb_report(b, rep, r, true, w->apex ? "second SOA record at the zone apex" :
                      "SOA record at %s, not at the zone apex", zb_nname(&t, w->name));
        if (r->type == DNS_T_CNAME && cname)
            zb_report(b, rep, r, true, "more than one CNAME at %s", zb_nname(&t, w->name));
        if (r->type == DNS_T_DNAME && ndname++)
            zb_report(b, rep, r, true, "more than one DNAME at %s (RFC 6672 §2.4)",
                      zb_nname(&t, w->name));
        ns |= r->type == DNS_T_NS;
        if (r->type == DNS_T_CNAME)
            cname = cname ? cname : r;
        else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC && !other)
            other = r; /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
        if (!head)
            continue;
        if (w->parent_cut && r->type != DNS_T_A && r->type != DNS_T_AAAA)
            zb_report(b, rep, r, true, "%s record at %s below the delegation at %s "
                      "(only glue A/AAAA allowed)", zb_tname(&t, r->type),
                      zb_nname(&u, w->name), dns_name_to_text(w->parent_cut, t.name,
                      sizeof(t.name)) > 0 ? t.name : "?");
        else if (w->cut && !zb_cut_type(r->type))
            zb_report(b, rep, r, true, "%s record at the delegation point %s (only NS, DS "
                      "and glue allowed)", zb_tname(&t, r->type), zb_nname(&u, w->name));
    }
    if (cname && other)
        zb_report(b, rep, cname, true, "CNAME at %s beside other data (%s at line %u) "
                  "(RFC 2181 §10.1)", zb_nname(&t, w->name), zb_tname(&u, other->type),
                  other->line);
    if (w->apex && !nsoa)
        zb_report(b, rep, first ? first : b->nrecs ? &b->recs[0] : NULL, true,
                  "no SOA record at the zone apex %s", zb_nname(&t, w->name));
    if (w->apex && !ns)
        zb_report(b, rep, first ? first : b->nrecs ? &b->recs[0] : NULL, true,
                  "no NS records at the zone apex %s", zb_nname(&t, w->name));
}

/* ---- finish: the two passes ------------------------------------------ */

typedef struct zb_fin {
    uint32_t *order;  /* rank -> owner index */
    size_t nn;
    zb_sort_t *s;     /* sorted records */
    size_t ns;
    zb_node_t *info;  /* by rank */
    size_t size, nrecords;
    uint32_t stack[128]; /* rank of the last node seen at each depth below the apex */
} zb_fin_t;

/* The parent of the node of this rank. Canonical order is a pre-order
 * walk of the tree and every ancestor exists (ENTs), so the parent is the
 * last node seen one level up: no hash lookup needed. */
static zb_node_t *zb_parent(zone_builder_t *b, zb_fin_t *f, const zb_owner_t *o, uint32_t rank)
{
    unsigned depth = dns_name_labels(zb_name(b, o)) - b->origin_labels;
    f->stack[depth] = rank;
    return depth ? &f->info[f->stack[depth - 1]] : NULL;
}

/* Sizes and validates the node of this rank, whose records are
 * s[si..sj); fills f->info[rank]. */
static int zb_node_pass1(zone_builder_t *b, zb_fin_t *f, uint32_t rank, size_t si, size_t sj,
                         const zone_report_t *rep)
{
    const zb_owner_t *o = &b->owners[f->order[rank]];
    const uint8_t *name = zb_name(b, o);
    zb_node_t *nd = &f->info[rank], *par = zb_parent(b, f, o, rank);
    uint32_t bytes = 0;
    unsigned nrr = 0;
    bool has_ns = false, has_dname = false;
    for (size_t i = si, j; i < sj; i = j) {
        for (j = i + 1; j < sj && f->s[j].key == f->s[i].key;)
            j++;
        unsigned kept;
        uint32_t ttl;
        bytes += zb_rrset_pass1(b, f->s + i, j - i, &kept, &ttl, rep);
        if (kept > UINT16_MAX)
            zb_report(b, rep, &b->recs[f->s[i].rec], true, "more than 65535 records in one RRset");
        f->nrecords += kept;
        nrr++;
        has_ns |= (uint16_t)f->s[i].key == DNS_T_NS;
        has_dname |= (uint16_t)f->s[i].key == DNS_T_DNAME;
    }
    uint32_t pcut = par ? par->cut : 0;
    zb_where_t w = { .name = name, .apex = rank == 0, .cut = rank && !pcut && has_ns,
                     .parent_cut = pcut ? zb_name(b, &b->owners[f->order[pcut - 1]]) : NULL };
    zb_node_check(b, &w, f->s + si, sj - si, rep);
    nd->cut = pcut ? pcut : w.cut ? rank + 1 : 0;
    nd->dname = par && par->dname ? par->dname : has_dname ? rank + 1 : 0;
    nd->nrrsets = (uint16_t)nrr;
    nd->flags |= w.apex ? ZN_APEX : 0;
    if (par && name[0] == 1 && name[1] == '*')
        par->flags |= ZN_WILDCHILD;
    nd->off = (uint32_t)f->size;
    f->size += zn_align4(zn_head_size(o->len, nrr) + bytes);
    return f->size > UINT32_MAX || nrr > UINT16_MAX ? ZL_ENOMEM : ZL_OK;
}

static int zb_pass1(zone_builder_t *b, zb_fin_t *f, const zone_report_t *rep)
{
    size_t si = 0;
    f->size = ZONE_BASE_START;
    for (uint32_t rank = 0; rank < f->nn; rank++) {
        size_t sj = si;
        while (sj < f->ns && f->s[sj].key >> 16 == rank)
            sj++;
        int rc = zb_node_pass1(b, f, rank, si, sj, rep);
        if (rc)
            return rc;
        si = sj;
    }
    return ZL_OK;
}

/* Writes one RRset s[0..n) at rs, its RDATA at *p. */
static void zb_rrset_write(const zone_builder_t *b, const zb_sort_t *s, size_t n,
                           zone_rrset_t *rs, uint8_t **p)
{
    uint32_t first = s[0].rec;
    for (size_t i = 1; i < n; i++)
        if (s[i].rec < first)
            first = s[i].rec;
    rs->type = (uint16_t)s[0].key;
    rs->ttl = b->recs[first].ttl;
    rs->count = 0;
    rs->rdoff = (uint32_t)(*p - (uint8_t *)rs);
    for (size_t i = 0; i < n; i++) {
        if (s[i].dup)
            continue;
        const zb_rec_t *r = &b->recs[s[i].rec];
        (*p)[0] = (uint8_t)r->rdlen;
        (*p)[1] = (uint8_t)(r->rdlen >> 8);
        memcpy(*p + 2, b->rdata + r->rd, r->rdlen);
        *p += 2u + r->rdlen;
        rs->count++;
    }
}

static void zb_pass2(const zone_builder_t *b, const zb_fin_t *f, uint8_t *base)
{
    size_t si = 0;
    for (uint32_t rank = 0; rank < f->nn; rank++) {
        const zb_owner_t *o = &b->owners[f->order[rank]];
        const zb_node_t *nd = &f->info[rank];
        struct zone_node *n = (struct zone_node *)(base + nd->off);
        n->cut = nd->cut ? f->info[nd->cut - 1].off : 0;
        n->dname = nd->dname ? f->info[nd->dname - 1].off : 0;
        n->nrrsets = nd->nrrsets;
        n->namelen = o->len;
        n->flags = nd->flags;
        memcpy(n->name, zb_name(b, o), o->len);
        zone_rrset_t *rs = zn_rrsets(n);
        uint8_t *p = (uint8_t *)(rs + n->nrrsets);
        for (size_t j; si < f->ns && f->s[si].key >> 16 == rank; si = j, rs++) {
            for (j = si + 1; j < f->ns && f->s[j].key == f->s[si].key;)
                j++;
            zb_rrset_write(b, f->s + si, j - si, rs, &p);
        }
    }
}

static int zb_index(zone_t *z, const zone_builder_t *b, const zb_fin_t *f)
{
    size_t cap = 16;
    while (cap < 2 * f->nn)
        cap *= 2;
    if (!(z->slots = calloc(cap, sizeof(*z->slots))))
        return ZL_ENOMEM;
    z->mask = cap - 1;
    for (uint32_t rank = 0; rank < f->nn; rank++) {
        uint64_t h = zh_mix(b->owners[f->order[rank]].hash);
        size_t i = h & z->mask;
        while (z->slots[i])
            i = (i + 1) & z->mask;
        z->slots[i] = (h >> 32) << 32 | f->info[rank].off;
    }
    return ZL_OK;
}

static uint32_t zb_serial(const zone_t *z)
{
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(zone_soa(z), 0, &len);
    size_t at = dns_name_len(rd);
    at += dns_name_len(rd + at);
    return (uint32_t)rd[at] << 24 | (uint32_t)rd[at + 1] << 16 | (uint32_t)rd[at + 2] << 8 |
           rd[at + 3];
}

static int zb_make(const zone_builder_t *b, const zb_fin_t *f, zone_t **out)
{
    zone_t *z = calloc(1, sizeof(*z));
    if (!z || !(z->base = calloc(1, f->size)) || zb_index(z, b, f)) {
        if (z)
            free(z->base);
        free(z);
        return ZL_ENOMEM;
    }
    zb_pass2(b, f, z->base);
    atomic_init(&z->refs, 1);
    z->size = f->size;
    z->apex = ZONE_BASE_START;
    z->nnodes = f->nn;
    z->nrecords = f->nrecords;
    z->apex_hash = b->owners[f->order[0]].hash;
    z->apex_labels = b->origin_labels;
    z->serial = zb_serial(z);
    *out = z;
    return ZL_OK;
}

static int zb_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep)
{
    zb_fin_t f = { 0 };
    uint32_t apex;
    zb_text_t t;
    int rc;
    if (!b->nrecs) {
        zone_reportf(rep, NULL, 0, "zone %s has no records", zb_nname(&t, b->origin));
        return ZL_EZONE;
    }
    if ((rc = zb_add_ents(b, &apex)) || (rc = zb_sort_owners(b, &f.order, &f.nn)) ||
        (rc = zb_sort_recs(b, &f.s, &f.ns, rep)))
        goto done;
    rc = ZL_ENOMEM;
    if (!(f.info = calloc(f.nn, sizeof(*f.info))) || (rc = zb_pass1(b, &f, rep)))
        goto done;
    rc = b->errors ? ZL_EZONE : zb_make(b, &f, out);
done:
    free(f.order);
    free(f.s);
    free(f.info);
    return rc;
}

int zone_builder_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep)
{
    *out = NULL;
    int rc = zb_finish(b, out, rep);
    zb_free(b);
#ifdef __GLIBC__
    /* The builder's arrays were as large as the zone itself; glibc keeps
     * freed heap pages mapped, which would leave RSS at the build peak. */
    malloc_trim(0);
#endif
    return rc;
}
