/* Zones in memory.
 *
 * A zone_t is one immutable version of a zone: built once by a
 * zone_builder_t from records, validated, indexed, then only read (by any
 * number of threads without locks) until zone_free(). Lookups return
 * pointers into the zone that stay valid for the zone's lifetime.
 */
#ifndef ZL_ZONE_ZONE_H
#define ZL_ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/rr.h"

/* Where problems are reported: one call per problem, with the file and
 * line of the record involved (file may be NULL, line 0 when unknown). */
typedef struct zone_report {
    void (*fn)(void *ctx, const char *file, unsigned line, const char *msg);
    void *ctx;
} zone_report_t;

/* Calls rep->fn with a printf-style message (rep may be NULL). */
void zone_reportf(const zone_report_t *rep, const char *file, unsigned line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One resource record, all fields borrowed. */
typedef struct zone_rec {
    const uint8_t *owner;
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlen;
    const uint8_t *rdata;  /* uncompressed wire form */
    const char *file;      /* source, for error messages; borrowed for the builder's life */
    unsigned line;
} zone_rec_t;

typedef struct zone zone_t;
typedef struct zone_builder zone_builder_t;

/* A builder for the zone at origin (copied). Returns NULL on ENOMEM. */
zone_builder_t *zone_builder_new(const uint8_t *origin);

/* Adds a copy of one record. Identical records (same owner, type and
 * canonical RDATA) are kept once. Records of one RRset with different
 * TTLs take the first TTL (RFC 2181 §5.2) and the difference is reported.
 * Returns ZL_OK or ZL_ENOMEM. Out-of-zone and other content errors are
 * found by zone_builder_finish. */
int zone_builder_add(zone_builder_t *b, const zone_rec_t *rec, const zone_report_t *rep);

/* Validates and indexes the zone, and frees the builder in every case.
 * Checks: exactly one SOA, at the apex; NS at the apex; every owner at or
 * below the origin; CNAME not beside other data (RFC 2181 §10.1); data
 * other than glue (A/AAAA) not below a delegation; class IN.
 * Each problem is reported with its file and line. On success *out is the
 * new zone (owned by the caller) and ZL_OK is returned; otherwise
 * ZL_EZONE or ZL_ENOMEM and *out is NULL. */
int zone_builder_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep);

/* Zones are reference counted (atomically) so that successive zone sets
 * can share unchanged zones: zone_builder_finish returns one reference,
 * zone_ref takes another, zone_free drops one and frees the zone with the
 * last (NULL is fine). */
zone_t *zone_ref(zone_t *z);
void zone_free(zone_t *z);

/* The zone's origin (apex name). */
const uint8_t *zone_origin(const zone_t *z);

/* The SOA serial, and the number of records. */
uint32_t zone_serial(const zone_t *z);
size_t zone_record_count(const zone_t *z);

/* Calls fn for every record: the SOA first, then all others in canonical
 * order (RFC 4034 §6.1 names, then type, then canonical RDATA). Stops at
 * the first non-zero return of fn and returns it; else ZL_OK. */
typedef int (*zone_walk_fn)(void *ctx, const zone_rec_t *rec);
int zone_walk(const zone_t *z, zone_walk_fn fn, void *ctx);

#endif
