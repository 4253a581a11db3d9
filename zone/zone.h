/* Zones in memory.
 *
 * A zone_t is one immutable version of a zone: built once by a
 * zone_builder_t from records (a flat version), or made from another
 * version by applying a diff (zone/apply.h: the new version shares the
 * old one's data and holds only the nodes that changed), validated,
 * indexed, then only read (by any number of threads without locks) until
 * zone_free(). Every function here works the same on both kinds. Lookups
 * return pointers into the version that stay valid for its lifetime.
 */
#ifndef ZL_ZONE_ZONE_H
#define ZL_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/msg.h"
#include "dns/rr.h"

/* How bad a reported problem is. An error makes the operation fail: the
 * function that found it returns an error value and builds nothing. A
 * warning does not: the zone loads, and the message says what of it is
 * not served (data occluded by a delegation or a DNAME) or was ignored. */
typedef enum zone_severity {
    ZONE_ERROR,
    ZONE_WARNING,
} zone_severity_t;

/* Where problems are reported: one call per problem, with its severity
 * and the file and line of the record involved (file may be NULL, line 0
 * when unknown); msg is borrowed for the call. */
typedef struct zone_report {
    void (*fn)(void *ctx, zone_severity_t sev, const char *file, unsigned line,
               const char *msg);
    void *ctx;
} zone_report_t;

/* Calls rep->fn with a printf-style message (rep may be NULL). */
void zone_reportf(const zone_report_t *rep, zone_severity_t sev, const char *file,
                  unsigned line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records are dns_rr_t (dns/msg.h), all fields borrowed; file is the
 * source for error messages (borrowed for the builder's life). */

typedef struct zone zone_t;
typedef struct zone_builder zone_builder_t;

/* A builder for the zone at origin (copied). Returns NULL on ENOMEM. */
zone_builder_t *zone_builder_new(const uint8_t *origin);

/* Adds a copy of one record (rec and what it points to are borrowed for
 * the call only, except rec->file, borrowed until zone_builder_finish).
 * Identical records (same owner, type and canonical RDATA) are kept once.
 * Records of one RRset with different TTLs take the TTL of the first one
 * added (RFC 2181 §5.2) and each difference is reported (by
 * zone_builder_finish, which sees whole RRsets; not an error). Returns
 * ZL_OK or ZL_ENOMEM; content errors are found by zone_builder_finish. */
int zone_builder_add(zone_builder_t *b, const dns_rr_t *rec, const zone_report_t *rep);

/* Validates and indexes the zone, and frees the builder in every case.
 * Each problem is reported with the file and line of a record involved.
 * Errors (the zone is not built): no records; no SOA at the apex; a
 * malformed SOA; class other than IN; a CNAME beside other data except
 * RRSIG/NSEC (RFC 2181 §10.1, RFC 4035 §2.5); more than one CNAME or
 * DNAME at a name (RFC 6672 §2.4); more than 65535 records in an RRset.
 * Warnings, each about one record that the zone keeps but never serves
 * (occluded: zone_walk still yields it): every record below a delegation
 * point except glue A/AAAA, and at a delegation point every record except
 * NS, DS, RRSIG, NSEC and glue A/AAAA (RFC 1034 §4.2.1); every record
 * below a DNAME (RFC 6672 §2.4). Glue is an A/AAAA whose owner an NS
 * record at the apex or at a delegation point names. Warnings about a
 * record left out of the zone (ignored): owners outside the origin, meta
 * types and type 0, an SOA below the apex, a second SOA (the first in
 * the source is kept). Other warnings: no NS at the apex; TTLs differing
 * within an RRset. (Errors are what BIND, Knot DNS and NSD all refuse;
 * what one of them loads is a warning: zone/zcheck.c.)
 * Spellings of one name in different case make one node, spelt as the
 * first record added. On success *out is the new zone (owned by the
 * caller) and ZL_OK is returned; otherwise ZL_EZONE or ZL_ENOMEM and
 * *out is NULL. */
int zone_builder_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep);

/* Zones are reference counted (atomically) so that successive zone sets
 * can share unchanged zones: zone_builder_finish (and zone_apply...)
 * returns one reference, zone_ref takes another, zone_free drops one and
 * frees the version with the last (NULL is fine). What a version shares
 * with others (its flat base, overlay nodes) lives until the last
 * version using it is freed. */
zone_t *zone_ref(zone_t *z);
void zone_free(zone_t *z);

/* The zone's origin (apex name). */
const uint8_t *zone_origin(const zone_t *z);

/* The SOA serial, and the number of records. */
uint32_t zone_serial(const zone_t *z);
size_t zone_record_count(const zone_t *z);

/* Calls fn for every record: the SOA first, then all others in canonical
 * order (RFC 4034 §6.1 names, then type, then canonical RDATA). The
 * records point into the zone; their class is IN, file NULL and line 0
 * (a built zone does not keep source positions). Stops at
 * the first non-zero return of fn and returns it; else ZL_OK (or
 * ZL_ENOMEM: on a version with an overlay the walk sorts the overlay's
 * names first, see zone_iter_init). */
typedef int (*zone_walk_fn)(void *ctx, const dns_rr_t *rec);
int zone_walk(const zone_t *z, zone_walk_fn fn, void *ctx);

/* ---- Lookups for answering ------------------------------------------
 *
 * All lookups are lock-free and allocation-free; the pointers they return
 * point into the zone and stay valid while the caller holds a reference.
 * Names are compared ASCII case-insensitively; owners keep the spelling of
 * their first record in the source.
 */

/* One node of the zone: an owner name with its RRsets, or an empty
 * non-terminal (RFC 4592 §2.2.2: exists, but has no RRsets). */
typedef struct zone_node zone_node_t;

/* One RRset: every record of one type at one node, in canonical RDATA
 * order, sharing one TTL. The fields are read-only; the RDATA are reached
 * through zone_rrset_rdata(). */
typedef struct zone_rrset {
    uint16_t type;
    uint16_t count;   /* number of records, >= 1 */
    uint32_t ttl;
    uint32_t rdoff;   /* private: offset of the first RDATA from this struct */
} zone_rrset_t;

/* The result of zone_lookup(). Every pointer may be NULL. */
typedef struct zone_lookup {
    /* The node of exactly this name (possibly an empty non-terminal:
     * zone_node_rrsets gives n == 0), or NULL when the name does not
     * exist in the zone. */
    const zone_node_t *node;
    /* The closest encloser (RFC 4592 §3.3.1): the deepest existing node
     * that is the name or an ancestor of it, empty non-terminals counting
     * as existing. Equals node on an exact match; the apex at worst. */
    const zone_node_t *encloser;
    /* The source of synthesis `*.<encloser>` when node is NULL and that
     * wildcard exists, else NULL. */
    const zone_node_t *wildcard;
    /* The topmost delegation point (a non-apex node with an NS RRset) on
     * the path from the apex down to the name, the name itself included;
     * NULL when the name is not at or below a zone cut. */
    const zone_node_t *cut;
    /* The topmost node with a DNAME RRset that is a proper ancestor of
     * the name (RFC 6672 §2.3), else NULL. A DNAME at the name itself is
     * an ordinary RRset of node. */
    const zone_node_t *dname;
} zone_lookup_t;

/* Looks up name (a valid uncompressed name, any case) in z and fills
 * *out. Returns ZL_OK, or ZL_ENOTFOUND (and *out all NULL) when name is
 * not at or below the zone's origin. */
int zone_lookup(const zone_t *z, const uint8_t *name, zone_lookup_t *out);

/* The apex node (it holds the SOA and the apex NS RRset). */
const zone_node_t *zone_apex(const zone_t *z);

/* The node of exactly this name, or NULL (shorthand for zone_lookup's
 * node). */
const zone_node_t *zone_find(const zone_t *z, const uint8_t *name);

/* The owner name of a node (wire form, points into the zone). */
const uint8_t *zone_node_owner(const zone_node_t *node);

/* The node's RRsets, ordered by type; *n gets their number (0 for an
 * empty non-terminal). The array is contiguous: rrsets[0..*n). */
const zone_rrset_t *zone_node_rrsets(const zone_node_t *node, size_t *n);

/* The node's RRset of this type, or NULL. */
const zone_rrset_t *zone_node_rrset(const zone_node_t *node, uint16_t type);

/* True when the node is the zone apex. */
bool zone_node_is_apex(const zone_node_t *node);

/* True when the node is in occluded space and is not glue: it lies at or
 * below a delegation point (or below a DNAME) and no served NS record
 * (at the apex or at a delegation point) names it, so none of its data,
 * addresses included, is served (RFC 1034 §4.2.1, RFC 6672 §2.4). A
 * delegation point's own NS and DS are served by the referral all the
 * same. zone_lookup never leads to occluded data (the cut or the DNAME
 * above applies); this is for names reached otherwise, as the targets of
 * additional-section processing. */
bool zone_node_is_occluded(const zone_node_t *node);

/* The i-th RDATA (i < rs->count) of an RRset, uncompressed wire form,
 * *len its length. O(i): to go through all of them, use
 * zone_rrset_rdata_next(). */
const uint8_t *zone_rrset_rdata(const zone_rrset_t *rs, unsigned i, uint16_t *len);

/* The RDATA following prev (of length prev_len, as returned by
 * zone_rrset_rdata or this function) in the same RRset; only valid while
 * fewer than rs->count RDATA have been visited. */
static inline const uint8_t *zone_rrset_rdata_next(const uint8_t *prev, uint16_t prev_len,
                                                   uint16_t *len)
{
    const uint8_t *p = prev + prev_len;
    *len = (uint16_t)(p[0] | (p[1] << 8));
    return p + 2;
}

/* The SOA RRset of the zone (at the apex). */
const zone_rrset_t *zone_soa(const zone_t *z);

/* A resumable walk over a version's RRsets, for zone transfers that go
 * out in many messages: the SOA RRset first, then every RRset in
 * canonical order (names, then types; the apex SOA is not repeated).
 * Each step is O(1) amortised. The fields are private. */
typedef struct zone_iter {
    zone_t *z;                       /* the version walked (a reference) */
    const struct zone_node **ov;     /* the overlay's nodes, sorted */
    size_t nov, iov;
    size_t bpos;                     /* offset of the next base node */
    const struct zone_node *node;    /* the node being walked, or NULL */
    unsigned rs;                     /* its next RRset */
    int state;                       /* 0: SOA next; 1: nodes; 2: done */
} zone_iter_t;

/* Starts a walk over z: takes a reference to z (released by
 * zone_iter_fini) and, for a version with an overlay, sorts the
 * overlay's names (an allocation of 8 octets per overlay node). ZL_OK or
 * ZL_ENOMEM (nothing to finish then). */
int zone_iter_init(zone_iter_t *it, zone_t *z);

/* The next RRset: true with *owner and *rs pointing into the version
 * (valid while it lives), or false at the end (and ever after). */
bool zone_iter_next(zone_iter_t *it, const uint8_t **owner, const zone_rrset_t **rs);

/* Ends a walk (at any point) and drops its reference. */
void zone_iter_fini(zone_iter_t *it);

/* The number of nodes, empty non-terminals included. */
size_t zone_node_count(const zone_t *z);

/* Bytes of memory the zone's index and data take (for statistics),
 * counting what the version shares with others. */
size_t zone_memory(const zone_t *z);

/* The overlay of a version: nodes held apart from its flat base (0 for a
 * flat version; zone/apply.h compacts versions whose overlay grew). */
size_t zone_overlay_nodes(const zone_t *z);

#endif
