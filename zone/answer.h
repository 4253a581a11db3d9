/* Authoritative answers from a zone set: the lookup of one question and
 * the encoding of what it found into a message being built.
 *
 * The message layer (unikernel/process.c) parses the request, handles
 * the header, EDNS, cookies, TSIG, opcodes, zone transfers and the CHAOS
 * class, writes the header and question and keeps room for OPT and TSIG;
 * this function adds the answer, authority and additional sections.
 * No I/O, no clock, no globals, no heap allocation on the way.
 * Rules: RFC 1034 §4.3.2, RFC 2308 (negative answers), RFC 4592
 * (wildcards), RFC 6672 (DNAME), RFC 8482 (ANY), RFC 9471 (glue).
 *
 * Choices where the RFCs leave room (checked against Knot DNS 3.2 by
 * tests/system/test_differential.sh; differences listed with their reason
 * in tests/system/differential/allow.txt):
 *  - ANY over UDP: the node's first RRset in type order (RFC 8482 §4.2);
 *    over TCP every RRset. A CNAME node gives its CNAME.
 *  - Class ANY is answered from the IN data (the caller passes it here).
 *  - CNAME/DNAME chains are followed inside the zone only, at most 12
 *    names, stopping at a name already visited; the rcode is that of the
 *    last name (RFC 6604). A DNAME that rewrites into its own subtree
 *    makes a chain that grows without repeating: it stops at 12 names
 *    too, a partial answer (TC only when it does not fit). A CNAME into a
 *    delegation adds the referral.
 *  - Each RRset appears at most once in a section (RFC 2181 §5), however
 *    often a chain passes its DNAME or several targets name its owner.
 *  - Data below a delegation (and at it, other than NS and DS) is
 *    occluded (RFC 1034 §4.2.1): the referral answers for it, and only
 *    glue of it is served as additional data; likewise below a DNAME.
 *  - Additional addresses (A, AAAA) for NS, MX and SRV targets: exact
 *    nodes (glue included) and names a wildcard covers; optional, dropped
 *    silently when they do not fit. Referral glue for name servers below
 *    the cut is required (TC when it does not fit, RFC 9471); sibling glue
 *    optional.
 *  - Truncation drops whole RRsets; TC is set only when answer, authority
 *    or required glue was left out, over TCP too (an answer larger than
 *    64 KiB). Nothing is left out for want of room elsewhere: the lookup's
 *    table holds a bounded number of entries whatever the zone holds.
 *  - Stack use is about 5 KiB (fixed arrays; no heap).
 */
#ifndef ZL_ZONE_ANSWER_H
#define ZL_ZONE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"
#include "zone/zoneset.h"

/* Answers qname (as sent: its case is kept in the owners) and qtype
 * from the deepest zone of zs holding qname (DS at a zone's apex from
 * the parent zone when it is served, RFC 4035 §3.1.4.1), writing the
 * answer, authority and additional sections into b, which holds the
 * header and question already. tcp: no size limit but b's, every RRset
 * for ANY. Sets DNS_F_AA and DNS_F_TC in *flags as the answer needs.
 * Returns the RFC 1035 rcode: NOERROR, NXDOMAIN, YXDOMAIN, or REFUSED
 * when no zone of zs (which may be NULL) holds qname. */
uint16_t zone_answer(const zone_set_t *zs, const uint8_t *qname, uint16_t qtype, bool tcp,
                     dns_msgb_t *b, uint16_t *flags);

#endif
