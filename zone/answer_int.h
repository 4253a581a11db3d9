/* Private to zone/answer*.c: the entries the lookup collects and the
 * encoder writes (STYLE.md §4: collect, then encode).
 *
 * An entry is one RRset, one synthesised record, every RRset of a node
 * (ANY over TCP) or the addresses of the targets of one NS, MX or SRV
 * RRset (additional data, glue). The last two expand while they are
 * written, so the table's size does not depend on the zone's data: a
 * chain of at most ANS_MAX_HOPS names adds at most two entries per name,
 * and its end at most ANS_END_ENTRIES; nothing collected is ever left
 * out for want of room in the table, only for want of room in the
 * message (then TC, when it was required).
 *
 * The lookup collects entries in section order (the answer chain, then
 * its end's authority, then additional data), so the encoder writes them
 * in one pass. Everything lives in one ans_t on the caller's stack, no
 * heap. Entries
 * borrow zone data (valid while the zone set is held) or name buffers
 * inside the ans_t itself.
 */
#ifndef ZL_ZONE_ANSWER_INT_H
#define ZL_ZONE_ANSWER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dns/msg.h"
#include "zone/answer.h"
#include "zone/zone.h"

#define ANS_MAX_HOPS 12     /* names of a CNAME/DNAME chain followed (Knot DNS 3.2: 5) */
/* The end of a chain: an answer RRset or node, or a referral (NS) or the
 * SOA, then at most three address entries (a node's NS, MX and SRV). */
#define ANS_END_ENTRIES 4
#define ANS_MAX_ENTRIES (2 * ANS_MAX_HOPS + ANS_END_ENTRIES)

enum ans_kind {
    ANS_RRSET,   /* a zone RRset */
    ANS_RECORD,  /* one synthesised record (a CNAME from a DNAME) */
    ANS_NODE,    /* every RRset of a node, in type order */
    ANS_ADDRS,   /* A and AAAA of the in-zone targets of an RRset */
};

typedef struct ans_entry {
    uint8_t kind;       /* enum ans_kind */
    uint8_t section;    /* DNS_SEC_AN, DNS_SEC_NS, DNS_SEC_AR */
    bool required;      /* TC when it does not fit; else dropped silently */
    const uint8_t *owner; /* RRSET, RECORD, NODE: the owner to write */
    union {
        struct {
            const zone_rrset_t *rs;
            uint32_t ttl;          /* the RRset's, or lower (RFC 2308 §5) */
        } set;
        struct {
            const uint8_t *rdata;
            uint16_t rdlen, type;  /* class IN */
            uint32_t ttl;
        } rec;
        const zone_node_t *node;
        struct {
            const zone_rrset_t *rs; /* NS, MX or SRV */
            const uint8_t *cut;     /* non-NULL: only targets at or below it
                                     * (inside) or only the others (!inside) */
            bool inside;
        } addrs;
    } u;
} ans_entry_t;

typedef struct ans {
    const zone_t *zone;
    bool tcp;
    bool aa;
    bool full;          /* an entry found no room in the table (cannot
                         * happen, see above; the encoder sets TC if so) */
    uint8_t rcode;      /* RFC 1035 rcode of the lookup (NOERROR, NXDOMAIN, YXDOMAIN) */
    unsigned n;
    ans_entry_t e[ANS_MAX_ENTRIES];
    unsigned nsyn;      /* names synthesised from DNAMEs (owner + CNAME target) */
    uint8_t syn[ANS_MAX_HOPS][DNS_NAME_MAX];
} ans_t;

/* RFC 1034 §4.3.2 in zone a->zone for qname (as sent, case kept) and
 * qtype: fills a->e, a->aa and a->rcode. */
void ans_resolve(ans_t *a, const uint8_t *qname, uint16_t qtype);

/* Writes every entry of a into b in order, dropping whole RRsets that do
 * not fit. Returns true when a required RRset did not fit (TC). */
bool ans_encode(const ans_t *a, dns_msgb_t *b);

#endif
