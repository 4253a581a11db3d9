/* DNS messages: header, question, the three RR sections, EDNS(0).
 *
 * Parsing comes in two weights:
 *  - dns_query_parse: the hot path. Header, one question, and the OPT
 *    record of the additional section; no allocation.
 *  - dns_msg_parse: every record of every section, names decompressed, into
 *    an arena (for tests, transfers, UPDATE, NOTIFY).
 * Building goes through dns_msgb_t: sections in order, name compression,
 * room reserved for OPT/TSIG, and all-or-nothing record writes so a caller
 * can stop at the first record that does not fit and set TC.
 */
#ifndef ZL_DNS_MSG_H
#define ZL_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/arena.h"
#include "dns/name.h"
#include "dns/rr.h"
#include "dns/wire.h"

#define DNS_HDR_LEN 12

/* Header flag bits (second 16-bit word). */
#define DNS_F_QR 0x8000u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_Z  0x0040u
#define DNS_F_AD 0x0020u
#define DNS_F_CD 0x0010u
#define DNS_F_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_F_RCODE(f) ((f) & 0xfu)

enum dns_opcode {
    DNS_OP_QUERY = 0, DNS_OP_IQUERY = 1, DNS_OP_STATUS = 2,
    DNS_OP_NOTIFY = 4, DNS_OP_UPDATE = 5, DNS_OP_DSO = 6
};

enum dns_rcode {
    DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2,
    DNS_R_NXDOMAIN = 3, DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5,
    DNS_R_YXDOMAIN = 6, DNS_R_YXRRSET = 7, DNS_R_NXRRSET = 8,
    DNS_R_NOTAUTH = 9, DNS_R_NOTZONE = 10,
    DNS_R_BADVERS = 16, /* also BADSIG in TSIG */
    DNS_R_BADKEY = 17, DNS_R_BADTIME = 18, DNS_R_BADMODE = 19,
    DNS_R_BADNAME = 20, DNS_R_BADALG = 21, DNS_R_BADTRUNC = 22,
    DNS_R_BADCOOKIE = 23
};

/* RR sections (the question is separate). */
enum dns_section { DNS_SEC_AN = 0, DNS_SEC_NS = 1, DNS_SEC_AR = 2 };

/* EDNS option codes used by the server. */
enum dns_edns_opt {
    DNS_EO_NSID = 3, DNS_EO_CLIENT_SUBNET = 8, DNS_EO_EXPIRE = 9,
    DNS_EO_COOKIE = 10, DNS_EO_TCP_KEEPALIVE = 11, DNS_EO_PADDING = 12,
    DNS_EO_EDE = 15
};

#define DNS_EDNS_DO 0x8000u

/* The OPT pseudo-record (RFC 6891 §6.1). */
typedef struct dns_edns {
    uint16_t udp_size;    /* requestor's payload size (CLASS) */
    uint8_t ext_rcode;    /* upper 8 bits of the extended RCODE */
    uint8_t version;
    uint16_t flags;       /* DO and Z */
    const uint8_t *opts;  /* options as wire bytes, borrowed */
    uint16_t opts_len;
} dns_edns_t;

/* Options are read with dns/edns.h. */

/* The hot-path view of a query. Names point into the struct. */
typedef struct dns_query {
    uint16_t id, flags;
    uint16_t qdcount, ancount, nscount, arcount;
    uint8_t qname[DNS_NAME_MAX]; /* as sent (case kept) */
    uint8_t qname_len;
    uint16_t qtype, qclass;
    size_t question_end;         /* offset just after the question */
    bool has_edns;
    dns_edns_t edns;             /* options borrowed from the packet */
    size_t tsig_off;             /* offset of a TSIG RR (last in AR), or 0 */
} dns_query_t;

/* Parses header and question, and scans the answer/authority/additional
 * records to find OPT (exactly once, root owner, additional section only:
 * else ZL_EFORMAT) and a TSIG (must be last). qdcount must be 1: with 0
 * or more than one the whole message is still read (so has_edns/edns and
 * the first question, if any, are valid) and ZL_EFORMAT is returned.
 * Returns ZL_OK or an error; on error the fields parsed so far (at least
 * id and flags when len >= 12) are valid, so the caller can still answer
 * FORMERR (with an OPT when has_edns). */
int dns_query_parse(dns_query_t *q, const uint8_t *pkt, size_t len);

/* One resource record: the one record type of the message and zone
 * layers. From dns_msg_parse, owner and rdata live in the arena; in the
 * zone layer every field is borrowed (see zone/zone.h). file and line
 * are the record's source position when it came from text (NULL, 0
 * otherwise; the parser's file names are borrowed for the callback). */
typedef struct dns_rr {
    const uint8_t *owner;
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlen;
    const uint8_t *rdata; /* uncompressed */
    const char *file;
    unsigned line;
} dns_rr_t;

/* A fully parsed message. The OPT record is not in rr[DNS_SEC_AR]; it is
 * in edns. A TSIG record stays in rr[DNS_SEC_AR] (last), with tsig_off its
 * packet offset for signature checks. */
typedef struct dns_msg {
    uint16_t id, flags;
    uint16_t qdcount;
    const uint8_t *qname;  /* first question, or NULL if qdcount == 0 */
    uint16_t qtype, qclass;
    dns_rr_t *rr[3];
    uint16_t nrr[3];
    bool has_edns;
    dns_edns_t edns;       /* opts copied into the arena */
    size_t tsig_off;
} dns_msg_t;

/* Parses a whole message. All records are copied into arena a (owned by
 * the caller). Empty RDATA is accepted for class ANY and NONE whatever
 * the type (RFC 2136 UPDATE prerequisites and deletions). Errors: ZL_EMALF (truncated, trailing bytes, bad RDATA),
 * ZL_ELOOP, ZL_ELABEL, ZL_ENAMELEN, ZL_EFORMAT (OPT misplaced or twice,
 * TSIG not last, more than one question), ZL_ENOMEM. */
int dns_msg_parse(dns_msg_t *m, const uint8_t *pkt, size_t len, dns_arena_t *a);

/* Message builder. */
typedef struct dns_msgb {
    dns_wire_t w;
    dns_compr_t c;
    uint16_t count[4];   /* QD, AN, NS, AR as written so far */
    int section;         /* last section written: -1 question, 0..2 */
    size_t reserve;      /* octets kept free at the end (OPT, TSIG) */
} dns_msgb_t;

/* Starts a message in buf[0..cap) (cap >= 12) with id and flags. */
void dns_msgb_init(dns_msgb_t *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags);

/* Sets the flags word (opcode, bits, low 4 bits of the rcode). */
void dns_msgb_set_flags(dns_msgb_t *b, uint16_t flags);

/* Keeps n octets at the end free for later (OPT, TSIG). Fails with
 * ZL_ESPACE if they are not available. */
int dns_msgb_reserve(dns_msgb_t *b, size_t n);
/* Gives reserved octets back (before writing what they were kept for). */
void dns_msgb_unreserve(dns_msgb_t *b, size_t n);

/* Adds the question. Returns ZL_OK or ZL_ESPACE. */
int dns_msgb_question(dns_msgb_t *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass);

/* Adds one record to `section` (sections in non-decreasing order, else
 * ZL_EINVAL). All or nothing: when the record does not fit (honouring the
 * reserve) nothing is written, the compression table is restored, and
 * ZL_ESPACE is returned (ZL_EMALF if rdata is malformed for its type;
 * rdlen 0 is always written as empty RDATA, as UPDATE needs).
 * The builder stays usable after a failed add. */
int dns_msgb_rr(dns_msgb_t *b, int section, const uint8_t *owner, uint16_t type,
                uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/* Adds the OPT record to the additional section (rcode's upper bits go to
 * ext_rcode: for an extended RCODE r the caller sets e->ext_rcode = r >> 4
 * and the low 4 bits through the flags). Honours the reserve, so give back
 * what was reserved for it first. Returns ZL_OK or ZL_ESPACE. */
int dns_msgb_opt(dns_msgb_t *b, const dns_edns_t *e);

/* Writes the section counts into the header; returns the message length. */
size_t dns_msgb_finish(dns_msgb_t *b);

#endif
