/* The IXFR history of a zone: the diffs of its last versions (RFC 1995).
 *
 * A journal is immutable and shared: appending makes a new journal that
 * holds references to the diffs it keeps (the old journal is unchanged),
 * so a version of a zone carries the journal of its own history and an
 * IXFR is answered from one snapshot alone, without locks. Reference
 * counts are atomic; any thread may drop the last reference.
 */
#ifndef ZL_ZONE_JOURNAL_H
#define ZL_ZONE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "zone/diff.h"
#include "zone/zone.h"

typedef struct zone_journal zone_journal_t;

/* A new journal: old's diffs (old may be NULL: none) followed by d, then
 * the oldest dropped while there are more than max_versions or their
 * zone_diff_memory add up to more than max_bytes (d itself is dropped when
 * it alone is larger: the journal is then empty). d must be sealed and
 * continue the history: its old serial is the new serial of old's newest
 * diff (else ZL_EINVAL). old and d are borrowed (the new journal takes
 * its own references). *out gets one reference. ZL_OK, ZL_EINVAL,
 * ZL_ENOMEM. */
int zone_journal_append(const zone_journal_t *old, zone_diff_t *d, size_t max_versions,
                        size_t max_bytes, zone_journal_t **out);

/* Takes / drops a reference (the last frees the journal and drops its
 * diffs; NULL is fine). */
zone_journal_t *zone_journal_ref(zone_journal_t *j);
void zone_journal_unref(zone_journal_t *j);

/* The number of diffs, and the octets they hold (zone_diff_memory). */
size_t zone_journal_count(const zone_journal_t *j);
size_t zone_journal_bytes(const zone_journal_t *j);

/* The i-th diff, oldest first (i < count; borrowed from the journal). */
const zone_diff_t *zone_journal_at(const zone_journal_t *j, size_t i);

/* The condensed change from the version with serial from to the newest
 * (RFC 1995 §4-5): one sealed diff (*out, one reference) whose removed
 * records are those of the old version that the newest lacks and whose
 * added records are those of the newest that the old one lacked, with
 * the old and the newest SOA. When from is the newest serial the diff is
 * empty (both SOAs the newest: the client is current). ZL_ENOTFOUND when
 * from is not in the history, or names two versions of it (the caller
 * then sends the whole zone); ZL_ENOMEM. j may be NULL (ZL_ENOTFOUND). */
int zone_journal_since(const zone_journal_t *j, uint32_t from, zone_diff_t **out);

/* The journal a version carries (borrowed; NULL when none). */
const zone_journal_t *zone_journal(const zone_t *z);

/* A new version with the same content as z (sharing all of it: O(1))
 * that carries journal j (a new reference; NULL for none) instead of z's.
 * The writer makes it before publishing the version. z and j are
 * borrowed; *out gets one reference. ZL_OK or ZL_ENOMEM. */
int zone_with_journal(const zone_t *z, zone_journal_t *j, zone_t **out);

#endif
