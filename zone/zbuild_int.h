/* Private to zone/: the zone builder's working data, shared by the
 * builder proper (zbuild.c: collect, sort, tree, layout) and the content
 * rules (zcheck.c).
 *
 * Everything lives in a few flat arrays indexed by 32-bit numbers, so a
 * 1M-record zone costs a few dozen MiB while it is built and no
 * allocation per record.
 */
#ifndef ZL_ZONE_ZBUILD_INT_H
#define ZL_ZONE_ZBUILD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"
#include "zone/zrules.h"

#define ZB_NOFILE 0xffffu

/* One run of consecutive records with the same owner spelling, as they
 * arrived. Runs of the same name (in any case) become one node. */
typedef struct zb_owner {
    uint32_t name;  /* offset in b->names */
    uint8_t len;
    uint8_t out;    /* outside the zone */
    uint8_t apex;   /* the origin, in some spelling */
    uint8_t used;   /* has a record that is not ignored: makes a node */
} zb_owner_t;

typedef struct zb_rec {
    uint32_t owner, rd, ttl, line;
    uint16_t type, rclass, rdlen, file;
} zb_rec_t;

/* A sort element: a 64-bit key and two 32-bit payloads. Records use
 * key = node rank << 16 | type, a = record index, b = 1 when the record
 * is left out of the zone (a duplicate, or ignored with a warning);
 * owners use key = the first 8 octets of their sort key, a = owner run,
 * b = offset of the key. */
typedef struct zb_kv {
    uint64_t key;
    uint32_t a, b;
} zb_kv_t;

/* One node of the tree, in canonical order. */
typedef struct zb_node {
    uint32_t name;      /* offset in b->names (ENTs: a suffix of a child's name) */
    uint32_t parent;    /* rank of the parent (the apex: 0) */
    uint32_t off;       /* offset in the zone's base, from pass one */
    uint32_t cut, dname; /* rank + 1 of the topmost cut / DNAME at or above, or 0 */
    uint32_t ns;        /* index + 1 in b->s of the node's first NS record, or 0 */
    uint32_t nchild;    /* children, empty non-terminals included */
    uint16_t nrrsets;
    uint8_t len;
    uint8_t flags;      /* ZN_* */
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
    const char **files;
    size_t nfiles, files_cap;
    uint16_t last_file;
    unsigned errors;
    /* filled by zone_builder_finish */
    zb_node_t *nodes;
    size_t nnodes, nodes_cap;
    zb_kv_t *s;         /* the records, sorted */
    size_t ns;
    size_t size, nrecords; /* the zone's base size and record count */
    /* The targets of the NS records that are served (apex and delegation
     * points), made the first time a name is not glue of its own
     * delegation: key = hash of the target, a = NS record index. */
    zb_kv_t *targets;
    size_t ntargets;
    bool targets_made;
    zr_rec_t *zr;       /* one node's records for the rules (zb_check_node) */
    size_t zr_cap;
};

/* Stable sort of *v (n elements) by key, then runs of equal keys with cmp
 * (whose last resort must be the payload a); *v may move. ZL_ENOMEM. */
int zb_sort(zb_kv_t **v, size_t n, int (*cmp)(const void *, const void *, void *), void *ctx);

/* Delegations and glue (zcut.c). ------------------------------------------ */

/* Sets every node's cut, dname and ns from the sorted records b->s (nodes
 * come in canonical order: a parent before its children). */
void zb_cuts(zone_builder_t *b);

/* Where a node sits, for the rules that depend on it (zrules.h). */
typedef zr_where_t zb_where_t;

/* Where node rank sits (*w): the topmost delegation point or DNAME above
 * it (the higher one occludes it, as in zone_lookup), and, when addr (the
 * node has A or AAAA) and it is at or below a delegation, whether those
 * are glue. Needs zb_cuts. ZL_OK or ZL_ENOMEM. */
int zb_where(zone_builder_t *b, uint32_t rank, bool addr, zb_where_t *w);

/* Content rules (zcheck.c). ----------------------------------------------
 *
 * Errors are what BIND, Knot DNS and NSD all refuse to load; what one of
 * them loads is a warning here, and the record it concerns is either
 * occluded (kept in the zone, so transfers and the store keep it, but
 * never served) or ignored (left out of the zone). */

/* Reports one problem at record r (NULL: no position); errors are counted. */
void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r,
               zone_severity_t sev, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Whether record r goes into the zone: not when it cannot (class other
 * than IN: an error), nor when it is ignored with a warning (outside the
 * zone, meta types, an SOA below the apex). Reports why when report is
 * true (the builder asks twice: before and after making the tree). Needs
 * the owner's out and apex flags. */
bool zb_check_rec(zone_builder_t *b, const zb_rec_t *r, const zone_report_t *rep, bool report);

/* Marks the duplicates in one RRset s[0..n) (sorted by canonical RDATA,
 * then arrival) and reports records whose TTL is not the RRset's (the
 * first record's in the source, RFC 2181 §5.2). */
void zb_rrset_dedupe(zone_builder_t *b, zb_kv_t *s, size_t n, const zone_report_t *rep);


/* The content rules (zrules.c) for one node whose records are s[0..n)
 * (duplicates marked); marks the records it ignores. */
void zb_check_node(zone_builder_t *b, const zb_where_t *w, zb_kv_t *s, size_t n,
                   const zone_report_t *rep);

#endif
