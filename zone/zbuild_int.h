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
} zb_owner_t;

typedef struct zb_rec {
    uint32_t owner, rd, ttl, line;
    uint16_t type, rclass, rdlen, file;
} zb_rec_t;

/* A sort element: a 64-bit key and two 32-bit payloads. Records use
 * key = node rank << 16 | type, a = record index, b = duplicate flag;
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
    zr_rec_t *zr;       /* one node's records for the rules */
    size_t zr_cap;
};

/* Content rules (zcheck.c). ---------------------------------------------- */

/* Reports one problem at record r (NULL: no position); error counts it. */
void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r, bool error,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reports records that cannot be in this zone at all (outside it, class
 * other than IN, meta types). Returns false for those. */
bool zb_check_rec(zone_builder_t *b, const zb_rec_t *r, const zone_report_t *rep);

/* Marks the duplicates in one RRset s[0..n) (sorted by canonical RDATA,
 * then arrival) and reports records whose TTL is not the RRset's. Returns
 * the octets the kept RDATA take (with their length prefixes); *kept is
 * their number, *ttl the RRset's TTL. */
uint32_t zb_rrset_dedupe(zone_builder_t *b, zb_kv_t *s, size_t n, unsigned *kept, uint32_t *ttl,
                         const zone_report_t *rep);

/* Where a node sits, for the rules that depend on it (zrules.h). */
typedef zr_where_t zb_where_t;

/* The content rules (zrules.h) for one node whose records are s[0..n)
 * (duplicates marked). */
void zb_check_node(zone_builder_t *b, const zb_where_t *w, const zb_kv_t *s, size_t n,
                   const zone_report_t *rep);

#endif
