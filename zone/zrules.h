/* Private to zone/: the content rules of one node, shared by the builder
 * (zcheck.c, for every node of a zone being loaded) and zone_apply
 * (apply.c, for the nodes a change touches): one implementation of each
 * rule. */
#ifndef ZL_ZONE_ZRULES_H
#define ZL_ZONE_ZRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

/* One record of the node, with its source position (NULL, 0: none). */
typedef struct zr_rec {
    uint16_t type;
    uint32_t ttl;
    const uint8_t *rdata;
    uint16_t rdlen;
    const char *file;
    unsigned line;
} zr_rec_t;

/* Where a node sits, for the rules that depend on it. */
typedef struct zr_where {
    const uint8_t *name;
    bool apex;
    bool cut;                  /* this node is a delegation point */
    const uint8_t *parent_cut; /* the delegation above it, or NULL */
    const char *file;          /* where to report a problem of a node */
    unsigned line;             /* without records (NULL, 0: nowhere) */
} zr_where_t;

/* The rules for one node whose records (in the zone: class IN, owner
 * inside it, duplicates left out) are r[0..n), ordered by type: exactly
 * one SOA, well formed, at the apex and nowhere else; NS at the apex; no
 * meta type; a CNAME alone except for RRSIG/NSEC (RFC 2181 §10.1, RFC
 * 4035 §2.5) and one CNAME and one DNAME per name (RFC 6672 §2.4); at a
 * delegation point only NS, DS, RRSIG, NSEC and glue A/AAAA, below it
 * only glue A/AAAA (RFC 1034 §4.2.1). Reports each problem through rep
 * (with the position of the record involved, or of the node's first) and
 * returns the number of errors. */
unsigned zr_check_node(const zr_where_t *w, const zr_rec_t *r, size_t n, const zone_report_t *rep);

#endif
