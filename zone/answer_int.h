/* Private to zone/answer*.c: the entries the lookup collects and the
 * encoder writes (STYLE.md §4: collect, then encode).
 *
 * Everything lives in one ans_t on the caller's stack: fixed arrays, no
 * heap. Entries borrow zone RRsets (valid while the zone set is held) or
 * name/RDATA buffers inside the ans_t itself.
 */
#ifndef ZL_ZONE_ANSWER_INT_H
#define ZL_ZONE_ANSWER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/msg.h"
#include "zone/answer.h"
#include "zone/zone.h"

#define ANS_MAX_ENTRIES 96  /* the largest referral in practice: 13 NS, 26 glue RRsets */
#define ANS_MAX_HOPS 12     /* CNAME/DNAME hops followed (Knot: similar bound) */

/* One RRset to write: a zone RRset (rs) or one synthesised record
 * (rs NULL, rdata/rdlen). */
typedef struct ans_entry {
    const uint8_t *owner;
    const zone_rrset_t *rs;
    const uint8_t *rdata;
    uint16_t rdlen;
    uint16_t type, rclass;
    uint32_t ttl;
    uint8_t section;    /* DNS_SEC_AN, DNS_SEC_NS, DNS_SEC_AR */
    bool required;      /* TC when it does not fit; else dropped silently */
} ans_entry_t;

typedef struct ans {
    const zone_t *zone;
    bool tcp;
    bool aa;
    uint8_t rcode;      /* RFC 1035 rcode of the lookup (NOERROR, NXDOMAIN, YXDOMAIN) */
    unsigned n;
    ans_entry_t e[ANS_MAX_ENTRIES];
    unsigned nsyn;      /* names synthesised from DNAMEs (owner + CNAME target) */
    uint8_t syn[ANS_MAX_HOPS][DNS_NAME_MAX];
} ans_t;

/* Adds an entry; false when the table is full (then the answer is cut
 * short: required entries left out set TC in the encoder). */
bool ans_add(ans_t *a, uint8_t section, const uint8_t *owner, const zone_rrset_t *rs,
             bool required);

/* RFC 1034 §4.3.2 in zone a->zone for qname (as sent, case kept) and
 * qtype: fills a->e, a->aa and a->rcode. */
void ans_resolve(ans_t *a, const uint8_t *qname, uint16_t qtype);

/* Writes every entry of a into b section by section, dropping whole RRsets
 * that do not fit. Returns true when a required RRset did not fit (TC). */
bool ans_encode(const ans_t *a, dns_msgb_t *b);

#endif
