/* RR types, classes and record data (RDATA).
 *
 * One descriptor table (dns/rrtype.c) drives, for every type: wire parsing
 * (with name decompression where allowed), wire writing (with compression
 * where allowed), canonical form (RFC 4034 §6.2), presentation parsing and
 * printing. Types not in the table are handled generically (RFC 3597).
 *
 * RDATA is always held in uncompressed wire form, names with their
 * original case. Buffers are borrowed.
 */
#ifndef ZL_DNS_RR_H
#define ZL_DNS_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"
#include "dns/wire.h"

enum dns_type {
    DNS_T_A = 1, DNS_T_NS = 2, DNS_T_MD = 3, DNS_T_MF = 4, DNS_T_CNAME = 5,
    DNS_T_SOA = 6, DNS_T_MB = 7, DNS_T_MG = 8, DNS_T_MR = 9, DNS_T_NULL = 10,
    DNS_T_WKS = 11, DNS_T_PTR = 12, DNS_T_HINFO = 13, DNS_T_MINFO = 14,
    DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_RP = 17, DNS_T_AFSDB = 18,
    DNS_T_X25 = 19, DNS_T_ISDN = 20, DNS_T_RT = 21, DNS_T_NSAP = 22,
    DNS_T_NSAP_PTR = 23, DNS_T_SIG = 24, DNS_T_KEY = 25, DNS_T_PX = 26,
    DNS_T_GPOS = 27, DNS_T_AAAA = 28, DNS_T_LOC = 29, DNS_T_NXT = 30,
    DNS_T_SRV = 33, DNS_T_NAPTR = 35, DNS_T_KX = 36, DNS_T_CERT = 37,
    DNS_T_A6 = 38, DNS_T_DNAME = 39, DNS_T_OPT = 41, DNS_T_APL = 42,
    DNS_T_DS = 43, DNS_T_SSHFP = 44, DNS_T_IPSECKEY = 45, DNS_T_RRSIG = 46,
    DNS_T_NSEC = 47, DNS_T_DNSKEY = 48, DNS_T_DHCID = 49, DNS_T_NSEC3 = 50,
    DNS_T_NSEC3PARAM = 51, DNS_T_TLSA = 52, DNS_T_SMIMEA = 53, DNS_T_HIP = 55,
    DNS_T_CDS = 59, DNS_T_CDNSKEY = 60, DNS_T_OPENPGPKEY = 61, DNS_T_CSYNC = 62,
    DNS_T_ZONEMD = 63, DNS_T_SVCB = 64, DNS_T_HTTPS = 65, DNS_T_SPF = 99,
    DNS_T_NID = 104, DNS_T_L32 = 105, DNS_T_L64 = 106, DNS_T_LP = 107,
    DNS_T_EUI48 = 108, DNS_T_EUI64 = 109, DNS_T_TKEY = 249, DNS_T_TSIG = 250,
    DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_MAILB = 253, DNS_T_MAILA = 254,
    DNS_T_ANY = 255, DNS_T_URI = 256, DNS_T_CAA = 257, DNS_T_DLV = 32769
};

enum dns_class {
    DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_HS = 4, DNS_C_NONE = 254, DNS_C_ANY = 255
};

/* True for meta-types and QTYPEs that cannot appear as data in a zone
 * (OPT, TSIG, TKEY, IXFR, AXFR, MAILA, MAILB, ANY). */
bool dns_type_is_meta(uint16_t type);

/* Type mnemonic ("A", "NSEC3PARAM") or "TYPEnnn" (RFC 3597 §5).
 * Case-insensitive. Returns ZL_OK or ZL_ETYPE. */
int dns_type_from_text(const char *s, size_t len, uint16_t *type);
/* Writes the mnemonic or TYPEnnn with a NUL; returns length or ZL_ESPACE. */
int dns_type_to_text(uint16_t type, char *buf, size_t cap);
/* The mnemonic for a known type, or NULL. */
const char *dns_type_name(uint16_t type);

/* Class mnemonic (IN, CH, CS, HS, NONE, ANY) or CLASSnnn. */
int dns_class_from_text(const char *s, size_t len, uint16_t *rclass);
int dns_class_to_text(uint16_t rclass, char *buf, size_t cap);

/* Reads rdlen octets of RDATA of `type` at the cursor into out (capacity
 * cap), decompressing embedded names where RFC 3597 §4 allows it on
 * receipt, and checking the structure of known types (an A must be 4
 * octets, a name must fit its rdata, ...). The cursor ends after the
 * RDATA. Returns the uncompressed length or an error (ZL_EMALF for
 * structure errors; the cursor's error is set too). */
int dns_rdata_parse(dns_wire_t *w, uint16_t type, uint16_t rdlen,
                    uint8_t *out, size_t cap);

/* Checks uncompressed RDATA of `type` (as dns_rdata_parse does, without
 * pointers). Besides lengths it rejects what has no presentation form or
 * breaks an RFC MUST: NSEC/NSEC3/CSYNC bitmaps out of order or with
 * trailing zero octets, SvcParams unsorted or with malformed values, missing
 * mandatory keys, LOC out of range, an empty DS digest or signature, a
 * non-alphanumeric CAA tag. Empty RDATA fails for types with fields
 * (UPDATE deletions, RFC 2136 §2.5, must not be checked). Returns ZL_OK
 * or ZL_EMALF. */
int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len);

/* Writes RDLENGTH then RDATA at the cursor. Embedded names are compressed
 * (with c non-NULL) only for the RFC 1035 types whose names may be
 * compressed (RFC 3597 §4: NS, MD, MF, CNAME, SOA, MB, MG, MR, PTR, MINFO,
 * MX). Errors go to w->err; returns w->err. */
int dns_rdata_write(dns_wire_t *w, uint16_t type, const uint8_t *rdata,
                    uint16_t len, dns_compr_t *c);

/* Lower-cases, in place, the embedded names that RFC 4034 §6.2 (as
 * updated by RFC 6840 §5.1) puts in canonical form. */
void dns_rdata_canonicalize(uint16_t type, uint8_t *rdata, uint16_t len);

/* Canonical RDATA order (RFC 4034 §6.3) of two RDATAs of the same type:
 * compares their canonical forms as left-justified octet strings. */
int dns_rdata_cmp(uint16_t type, const uint8_t *a, uint16_t alen,
                  const uint8_t *b, uint16_t blen);

/* The name inside the RDATA that needs additional-section processing
 * (RFC 1035 §3.3: NS, MX, MB, MD, MF; RFC 2782 SRV target; also KX,
 * AFSDB, RT, NAPTR replacement), or NULL. Points into rdata. */
const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, uint16_t len);

/* One token of presentation-format input as the zone lexer delivers it:
 * surrounding quotes removed (quoted = true), backslash escapes kept as
 * written (so `\.` and `\DDD` are decoded by the field parser). An SVCB
 * value glued to its key (`alpn="h2,h3"`) may come as `alpn=` followed by
 * a quoted token, or as one token with the quotes inside. */
typedef struct dns_tok {
    const char *s;
    size_t len;
    bool quoted;
} dns_tok_t;

/* Parses the RDATA of `type` from tokens tok[0..ntok). Relative names get
 * origin appended. The RFC 3597 generic form `\# LEN HEX...` is accepted
 * for every type (and checked for known types). On error returns
 * ZL_ESYNTAX, ZL_ERANGE, ZL_ESPACE... and sets *why to a static message
 * naming the field ("bad IPv4 address", "TTL out of range"), if why is
 * not NULL. Returns the RDATA length on success. */
int dns_rdata_from_text(uint16_t type, const dns_tok_t *tok, size_t ntok,
                        const uint8_t *origin, uint8_t *out, size_t cap,
                        const char **why);

/* Writes the presentation form of the RDATA (fields separated by single
 * spaces, no line breaks, names absolute) with a NUL. Unknown types, and
 * known types whose RDATA is malformed, are written in RFC 3597 generic
 * form; so is RDATA whose escaped form would not fit a buffer of
 * DNS_RDATA_TEXT_MAX (e.g. 64 KB of binary TXT), so with cap >=
 * DNS_RDATA_TEXT_MAX this never fails. Returns the length written
 * (without NUL) or ZL_ESPACE. */
int dns_rdata_to_text(uint16_t type, const uint8_t *rdata, uint16_t len,
                      char *buf, size_t cap);

/* Largest presentation form of any RDATA: 65535 octets as generic hex
 * plus the `\# 65535 ` prefix, and a NUL. */
#define DNS_RDATA_TEXT_MAX (2 * 65535 + 16)

#endif
