/* UPDATE (RFC 2136 §3) on one zone: the prerequisites, then the diff the
 * update section makes. Pure: it reads a version and a parsed message and
 * returns a diff, which the writer then applies (zone/apply.h: the
 * content checks), makes durable and publishes. Nothing is applied here,
 * so the whole message takes effect or none of it.
 *
 * Choices where the RFC leaves room, after BIND 9 and Knot DNS:
 *  - Adding a record to an RRset whose TTL differs gives the whole RRset
 *    the new record's TTL (RFC 2181 §5.2 wants one TTL per RRset; BIND
 *    and Knot both do this). Adding a record that is there with another
 *    TTL does the same; with the same TTL it is a duplicate, ignored.
 *  - A CNAME added where a CNAME is replaces it; a CNAME added beside
 *    other data, or other data beside a CNAME, is ignored (§3.4.2.2);
 *    RRSIG and NSEC may sit beside a CNAME (RFC 4035 §2.5), as in BIND.
 *    A DNAME replaces a DNAME (one per name, RFC 6672 §2.4), as in BIND
 *    and Knot; a WKS replaces the WKS of the same address and protocol.
 *  - An SOA added at the apex replaces the SOA when its serial is higher
 *    (RFC 1982); a lower or equal serial, or an SOA elsewhere, is ignored
 *    (§3.4.2.2). SOA deletions are ignored; the apex SOA and NS RRsets are
 *    not deleted by "delete an RRset" or "delete all RRsets" (§3.4.2.3),
 *    and deleting the last apex NS record is ignored (§3.4.2.4, as BIND).
 *  - When the update changed something and did not raise the serial
 *    itself, the serial is raised by one (RFC 1982 arithmetic).
 *  - Meta types (dns_type_is_meta) and type 0 are refused with FORMERR in
 *    additions and deletions of records (§3.4.1.2; "delete all RRsets" is
 *    type ANY, class ANY); a TTL above 2^31-1 (RFC 2181 §8) as well.
 */
#ifndef ZL_ZONE_UPDATE_H
#define ZL_ZONE_UPDATE_H

#include "dns/msg.h"
#include "zone/diff.h"
#include "zone/zone.h"

/* Processes UPDATE m (dns_msg_parse: the zone section is the question,
 * the prerequisites in rr[DNS_SEC_AN], the updates in rr[DNS_SEC_NS]) on
 * z: the caller has checked the opcode, the zone section (m->qname is
 * z's origin, m->qclass IN) and the requester's rights. Prerequisites
 * (§2.4, §3.2) are checked in message order against z: the first that
 * fails decides the rcode (FORMERR for a bad TTL, class or RDATA length,
 * NOTZONE for a name outside the zone, NXDOMAIN, YXDOMAIN, NXRRSET,
 * YXRRSET); then the update section is prescanned (§3.4.1: FORMERR,
 * NOTZONE) and applied in order to a working copy (§3.4.2, §2.5).
 * Returns the rcode (dns/msg.h DNS_R_*; SERVFAIL when memory ran out).
 * For anything but NOERROR, *why is a static text naming the rule (else
 * NULL). *out gets the sealed diff from z (one reference) when the update
 * changes something, NULL otherwise (also on NOERROR: nothing to do). z
 * and m are borrowed; the diff holds copies of what it needs. */
int zone_update(const zone_t *z, const dns_msg_t *m, zone_diff_t **out, const char **why);

#endif
