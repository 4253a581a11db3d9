/* Private to zone/: the content rules of one node, shared by the builder
 * (zcheck.c, for every node of a zone being loaded) and zone_apply
 * (apply.c, for the nodes a change touches and those whose place it
 * changes): one implementation of each rule. Which problems are errors
 * and which are warnings, and why, is in the table of zcheck.c. */
#ifndef ZL_ZONE_ZRULES_H
#define ZL_ZONE_ZRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

/* One record of the node, with its source position (NULL, 0: none).
 * ignored is set by zr_check_node for a record it leaves out of the zone
 * (a second SOA). */
typedef struct zr_rec {
    uint16_t type;
    const uint8_t *rdata;
    uint16_t rdlen;
    const char *file;
    unsigned line;
    bool ignored;
    uint32_t tag;       /* the caller's own (the rules leave it alone) */
} zr_rec_t;

/* Where a node sits, for the rules that depend on it. */
typedef struct zr_where {
    const uint8_t *name;
    bool apex;
    bool cut;             /* a delegation point (NS, not apex), itself not occluded */
    const uint8_t *above; /* the topmost delegation point or DNAME owner strictly
                           * above the node (what occludes it), or NULL */
    bool above_dname;     /* above is a DNAME owner, not a delegation point */
    bool glue;            /* at or below a delegation, and named by a served NS
                           * record: its A/AAAA are glue (RFC 9471) */
    const char *file;     /* where a problem of the node as a whole is reported */
    unsigned line;        /* when it has no record (NULL, 0: nowhere) */
} zr_where_t;

/* The rules for one node whose records (class IN, owner inside the
 * zone, no duplicates, no meta type: those are the builder's and the
 * diff's concern) are r[0..n), ordered by type, r[first] visited first
 * (n: none; the builder passes the first SOA of the source, which is the
 * one served): one well-formed SOA at the apex (a second one ignored);
 * SOA and, with a warning, NS at the apex; a CNAME alone except for
 * RRSIG/NSEC (RFC 2181 §10.1, RFC 4035 §2.5); one CNAME and one DNAME per
 * name (RFC 6672 §2.4); warnings for what a delegation or a DNAME
 * occludes (RFC 1034 §4.2.1, RFC 6672 §2.4). Reports each problem
 * through rep with its severity and the position of the record involved
 * (else w's), and returns the number of errors. */
unsigned zr_check_node(const zr_where_t *w, zr_rec_t *r, size_t n, size_t first,
                       const zone_report_t *rep);

#endif
