/* Authoritative answers: reply = f(zone set, query bytes, client, now).
 *
 * No I/O, no clock reads, no globals, no heap allocation on the way: the
 * unit tests, the fuzzers and every target call exactly this function.
 * Rules: RFC 1034 §4.3.2, RFC 2308 (negative answers), RFC 4592
 * (wildcards), RFC 6672 (DNAME), RFC 8482 (ANY), RFC 6891 (EDNS), RFC 5001
 * (NSID), RFC 7873/9018 (cookies), RFC 9471 (glue).
 *
 * Choices where the RFCs leave room (checked against Knot DNS 3.2 by
 * tests/system/test_differential.sh; differences listed with their reason
 * in tests/system/differential/allow.txt):
 *  - ANY over UDP: the node's first RRset in type order (RFC 8482 §4.2);
 *    over TCP every RRset. A CNAME node gives its CNAME.
 *  - Class ANY is answered from the IN data; CH only for TXT id.server,
 *    hostname.bind, version.server, version.bind when configured (no AA);
 *    other classes REFUSED. Opcodes other than QUERY, and AXFR/IXFR
 *    questions: NOTIMP (their handlers run before this function).
 *  - CNAME/DNAME chains are followed inside the zone only, at most 12
 *    hops, stopping at a name already visited; the rcode is that of the
 *    last name (RFC 6604). A CNAME into a delegation adds the referral.
 *  - Additional addresses (A, AAAA) for NS, MX and SRV targets: exact
 *    nodes (glue included) and names a wildcard covers; optional, dropped
 *    silently when they do not fit. Referral glue for name servers below
 *    the cut is required (TC when it does not fit, RFC 9471); sibling glue
 *    optional.
 *  - Truncation drops whole RRsets; TC is set only when answer, authority
 *    or required glue was left out. The OPT always fits.
 *  - EDNS: the OPT carries our udp_max and echoes DO; NSID when configured
 *    and asked for. Cookies (when cfg->cookies): a valid server cookie
 *    under half an hour old is sent back unchanged, any other gets a fresh
 *    RFC 9018 server cookie (RFC 9018 §4.3); invalid server cookies are
 *    not enforced (no BADCOOKIE); a malformed length is FORMERR. Without
 *    cfg->cookies the option is ignored.
 *  - Malformed queries get FORMERR with the question when it parsed.
 *  - Stack use is about 9 KiB (fixed arrays; no heap).
 */
#ifndef ZL_ZONE_ANSWER_H
#define ZL_ZONE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone/zoneset.h"

typedef struct zone_client {
    int family;          /* 4, 6, or 0 when unknown */
    uint8_t addr[16];    /* IPv4 in the first 4 octets */
    uint16_t port;
    bool tcp;            /* over TCP: no UDP size limit, full ANY */
} zone_client_t;

typedef struct zone_answer_cfg {
    uint16_t udp_max;            /* largest UDP reply with EDNS (default 1232) */
    const uint8_t *nsid;         /* NSID payload, borrowed; NULL = off */
    uint16_t nsid_len;
    const char *id_server;       /* CH TXT id.server / hostname.bind; NULL = REFUSED */
    const char *version_server;  /* CH TXT version.server / version.bind */
    bool cookies;                /* answer DNS cookies (RFC 7873/9018) */
    uint8_t cookie_secret[16];   /* server secret for SipHash-2-4 */
} zone_answer_cfg_t;

/* Fills cfg with the defaults (udp_max 1232, everything else off). */
void zone_answer_cfg_init(zone_answer_cfg_t *cfg);

/* Answers query[0..qlen) from client at time now (seconds since the
 * epoch, for cookie timestamps) into reply[0..cap), cap >= 512 (65535
 * for TCP). Returns the reply length, or 0 when the packet must be
 * dropped (shorter than a header, or a response). zs may be NULL (no
 * zones: REFUSED). */
size_t zone_answer(const zone_set_t *zs, const zone_answer_cfg_t *cfg,
                   const uint8_t *query, size_t qlen, const zone_client_t *client,
                   uint64_t now, uint8_t *reply, size_t cap);

#endif
