/* Applying diffs: the next version of a zone, without rebuilding it.
 *
 * zone_apply makes the next version from a version and a diff in time
 * that follows the diff, not the zone: the new version shares the old
 * one's flat base and overlay and holds copies of only the nodes the
 * change touches (zone/zone_int.h), so a one-record update on a
 * 1,000,000-record zone costs what it costs on a small one. Each change
 * adds to the overlay; when it has grown past a threshold
 * (zone_compact_due), the writer makes a flat copy of a version on a
 * background thread (zone_compact, O(zone)), and then moves the changes
 * published meanwhile onto it (zone_rebase, O(changes)).
 *
 * All functions are pure (no I/O, no clock, no globals, no locks) and
 * never modify their inputs: versions stay immutable and any number of
 * threads may read them while these run; zone_compact of one version and
 * zone_apply on another may run at the same time.
 */
#ifndef ZL_ZONE_APPLY_H
#define ZL_ZONE_APPLY_H

#include <stdbool.h>

#include "zone/diff.h"
#include "zone/zone.h"

/* The version that follows z by the sealed diff d (both borrowed). The
 * diff must fit z: its origin and old SOA record are z's, every removed
 * record is in z (same owner, type, canonical RDATA and TTL), no added
 * record is (else ZL_EINVAL), and every RRset it leaves has one TTL (an
 * RRset whose TTL changes is removed and added whole: ZL_EINVAL
 * otherwise). The SOA is replaced by d's new SOA. The result is checked
 * by the rules zone_builder_finish applies (zone/zrules.c, the table in
 * zone/zcheck.c), for every node the diff touches and every node whose
 * place changes with it (the names below a delegation or DNAME that
 * appears or goes, the addresses that become or stop being glue): each
 * problem is reported through rep with its severity (the rule and the
 * name; no file or line). An error (a CNAME beside other data, a second
 * CNAME or DNAME at a name, more than 65535 records in an RRset) refuses
 * the change: ZL_EZONE, nothing built. Warnings (data that a delegation
 * or a DNAME occludes, no NS at the apex) do not: the version is made,
 * and holds that data without serving it, as a zone loaded from the same
 * records would. Names that appear get their empty non-terminals, names
 * that go take the ones left empty with them. On success *out gets the
 * new version (one reference; it carries no journal: zone/journal.h) and
 * ZL_OK is returned; else ZL_EINVAL, ZL_EZONE or ZL_ENOMEM and *out is
 * NULL. */
int zone_apply(const zone_t *z, const zone_diff_t *d, zone_t **out, const zone_report_t *rep);

/* True when z's overlay has grown enough that the writer should compact
 * it: more than max(4096, nodes of its base / 16) overlay nodes, or more
 * than max(1 MiB, size of its base / 8) octets in them. */
bool zone_compact_due(const zone_t *z);

/* A flat version with z's content (the records, serial, and journal of
 * z): O(size of z), no sorting (z's nodes are already in order), no
 * checks (z passed them). z is borrowed; *out gets one reference. ZL_OK
 * or ZL_ENOMEM. For a flat z, *out is a new reference to z. */
int zone_compact(const zone_t *z, zone_t **out);

/* Moves the changes made from version v to version latest (latest was
 * made from v by zone_apply calls, so the two share v's base) onto
 * compacted, a flat version with v's content (zone_compact(v)): *out has
 * latest's content and journal over compacted's base, and costs what
 * changed since v (the overlay nodes of latest that are not v's).
 * Borrowed arguments; *out gets one reference. ZL_EINVAL when latest does
 * not share v's base or compacted is not flat; ZL_ENOMEM. */
int zone_rebase(const zone_t *compacted, const zone_t *v, const zone_t *latest, zone_t **out);

#endif
