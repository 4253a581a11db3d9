/* Diffs: one change from a version of a zone to the next.
 *
 * A diff holds the old and the new SOA record (apart: never in the
 * lists), the records removed and the records added (dns_rr_t, dns/msg.h;
 * class IN), each list in canonical order (RFC 4034 §6.1 owner names,
 * then type, then canonical RDATA, RFC 4034 §6.3), without duplicates; a
 * record is never in both lists unless its TTL changed (removed with the
 * old TTL, added with the new one). It is what an UPDATE, a reload or an
 * ACME change produces (zone/update.h, zone_diff_versions), what the
 * writer applies (zone/apply.h), stores in its journal (zone_diff_encode)
 * and keeps for IXFR (zone/journal.h).
 *
 * A diff owns its memory (one arena), is built by one thread (new,
 * remove/add, set_soa, seal) and is immutable once sealed; from then on
 * it is shared by reference counting (the journal, the store and IXFR
 * streams each hold references) and read by any thread.
 */
#ifndef ZL_ZONE_DIFF_H
#define ZL_ZONE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "dns/wire.h"
#include "zone/zone.h"

typedef struct zone_diff zone_diff_t;

/* A new empty diff for the zone at origin (copied), one reference.
 * NULL on ENOMEM. */
zone_diff_t *zone_diff_new(const uint8_t *origin);

/* Adds a copy of rr to the removed / added records (rr and what it
 * points to are borrowed for the call; file and line are not kept).
 * ZL_EINVAL when the diff is sealed, rr is an SOA (zone_diff_set_soa),
 * of a meta type or type 0 (no zone holds those), its class is not IN,
 * or its owner is not at or below the origin;
 * ZL_ENOMEM. Order does not matter: zone_diff_seal sorts. */
int zone_diff_remove(zone_diff_t *d, const dns_rr_t *rr);
int zone_diff_add(zone_diff_t *d, const dns_rr_t *rr);

/* Sets the old and the new SOA record (copied; owners must be the
 * origin, RDATA well-formed SOA RDATA): the serials of the diff come
 * from them. ZL_EINVAL, ZL_ENOMEM. */
int zone_diff_set_soa(zone_diff_t *d, const dns_rr_t *old_soa, const dns_rr_t *new_soa);

/* Seals the diff: sorts both lists into canonical order, keeps one of
 * identical records (ZL_EINVAL when a list holds one record twice with
 * two TTLs), and drops a record that is in both lists with the same TTL
 * (no change). ZL_EINVAL when the SOAs were not set; ZL_ENOMEM. Sealing
 * twice is a no-op. */
int zone_diff_seal(zone_diff_t *d);

/* Takes / drops a reference (the last frees the diff; NULL is fine). */
zone_diff_t *zone_diff_ref(zone_diff_t *d);
void zone_diff_free(zone_diff_t *d);

/* The zone's origin (points into the diff). */
const uint8_t *zone_diff_origin(const zone_diff_t *d);

/* The serials of the old and the new SOA. */
uint32_t zone_diff_from(const zone_diff_t *d);
uint32_t zone_diff_to(const zone_diff_t *d);

/* The old and the new SOA record (owner the origin), NULL before
 * zone_diff_set_soa. */
const dns_rr_t *zone_diff_old_soa(const zone_diff_t *d);
const dns_rr_t *zone_diff_new_soa(const zone_diff_t *d);

/* The removed / added records, *n their number; canonical order once
 * sealed. Pointers into the diff (never NULL, even for none). */
const dns_rr_t *zone_diff_removed(const zone_diff_t *d, size_t *n);
const dns_rr_t *zone_diff_added(const zone_diff_t *d, size_t *n);

/* True when the diff changes nothing: no record in either list and the
 * same SOA record (RDATA and TTL) before and after. */
bool zone_diff_is_empty(const zone_diff_t *d);

/* Octets of the diff's encoding (zone_diff_encode). Sealed diffs only. */
size_t zone_diff_bytes(const zone_diff_t *d);

/* Octets the diff holds in memory (the diff itself, its record lists,
 * its arena's heap chunks; not malloc's own overhead): what the IXFR
 * history's byte cap counts. At least zone_diff_bytes for small diffs,
 * about it plus the record entries for large ones. Sealed diffs only. */
size_t zone_diff_memory(const zone_diff_t *d);

/* The diff from version old to version new of one zone (same origin,
 * else ZL_EINVAL): every record of old not in new removed, every record
 * of new not in old added, an RRset whose TTL changed removed and added
 * whole. A merge walk of both in canonical order: O(size of both). *out
 * gets a sealed diff (one reference). ZL_OK, ZL_EINVAL, ZL_ENOMEM. */
int zone_diff_versions(const zone_t *old, const zone_t *new, zone_diff_t **out);

/* Writes the binary form of a sealed diff at the cursor (dns/wire.h):
 *   "ZLD1", u32 body length, body, u64 check
 * where body = origin, old SOA (u32 TTL, u16 RDLENGTH, RDATA), new SOA,
 * u32 removed, u32 added, then each record (owner, u16 type, u32 TTL,
 * u16 RDLENGTH, RDATA), names uncompressed, numbers big-endian, and check
 * is the SipHash-2-4 of everything before it (under a fixed key: a
 * checksum against torn and corrupted records, not a MAC). Returns the
 * cursor's error (ZL_ESPACE when it is too short: zone_diff_bytes). */
int zone_diff_encode(const zone_diff_t *d, dns_wire_t *w);

/* Reads one diff written by zone_diff_encode at the cursor and checks
 * everything: the magic, the lengths, the check value, every name and
 * RDATA (dns_rdata_check), owners inside the origin, no SOA or meta type
 * in the lists, canonical order without duplicates. *out gets a sealed
 * diff (one reference) and the cursor ends after it. Returns ZL_OK,
 * ZL_EMALF (truncated, torn or corrupt input: *out NULL; the cursor's
 * position is then unspecified) or ZL_ENOMEM. Never reads outside the
 * cursor. */
int zone_diff_decode(dns_wire_t *w, zone_diff_t **out);

#endif
