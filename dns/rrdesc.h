/* The RR type descriptor table (internal to dns/).
 *
 * Each type is a list of field kinds; the kinds drive wire checking,
 * compression, canonical form (dns/rrtype.c) and presentation parsing and
 * printing (dns/rdata_text.c, dns/rdata_special.c). Adding a type is one
 * row in dns/rrtype.c.
 */
#ifndef ZL_DNS_RRDESC_H
#define ZL_DNS_RRDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/rr.h"

enum dns_fk {
    DNS_F_END = 0,
    DNS_F_NAME,      /* domain name (compression etc. per type flags) */
    DNS_F_U8, DNS_F_U16, DNS_F_U32, DNS_F_U48,
    DNS_F_ALG,       /* u8 DNSSEC algorithm, number or mnemonic on input */
    DNS_F_CERTTYPE,  /* u16 CERT type, number or mnemonic (RFC 4398) */
    DNS_F_TYPE,      /* u16 RR type (RRSIG type covered) */
    DNS_F_TIME,      /* u32 YYYYMMDDHHmmSS or seconds (RFC 4034 §3.2) */
    DNS_F_PERIOD,    /* u32 seconds, units s/m/h/d/w accepted (SOA timers) */
    DNS_F_A4,        /* IPv4 address */
    DNS_F_A16,       /* IPv6 address */
    DNS_F_EUI48, DNS_F_EUI64, /* RFC 7043 xx-xx-... */
    DNS_F_ILNP64,    /* RFC 6742 xxxx:xxxx:xxxx:xxxx */
    DNS_F_STR,       /* <character-string> */
    DNS_F_STR_OPT,   /* optional last <character-string> (ISDN) */
    DNS_F_STRS,      /* one or more <character-string>s to the end */
    DNS_F_STR_END,   /* octets to the end, one quoted string (URI, CAA) */
    DNS_F_TAG,       /* u8-length alphanumeric tag (CAA) */
    DNS_F_HEX_END,   /* hex to the end */
    DNS_F_HEX_U8,    /* u8 length + hex, "-" when empty (NSEC3 salt) */
    DNS_F_B64_END,   /* base64 to the end, at least one token */
    DNS_F_B64_OPT,   /* base64 to the end, may be empty */
    DNS_F_B32_U8,    /* u8 length + base32hex (NSEC3 next owner) */
    DNS_F_BITMAP,    /* NSEC type bitmap (RFC 4034 §4.1.2) to the end */
    DNS_F_NSAP,      /* 0x + hex to the end (RFC 1706) */
    DNS_F_LOC,       /* RFC 1876 */
    DNS_F_APL,       /* RFC 3123 items to the end */
    DNS_F_WKS,       /* protocol + port bitmap (RFC 1035 §3.4.2) */
    DNS_F_IPSECGW,   /* IPSECKEY gateway, form set by octet 1 (RFC 4025) */
    DNS_F_HIP,       /* RFC 8005 HIT, key and rendezvous servers */
    DNS_F_A6,        /* RFC 2874 prefix, suffix and prefix name */
    DNS_F_SVCPARAMS, /* RFC 9460 SvcParams to the end */
    DNS_F_NXTMAP,    /* RFC 2535 NXT bitmap to the end */
    DNS_F_ANY        /* opaque octets to the end (generic form only) */
};

#define DNS_RD_COMPRESS   0x01 /* names compressed on write (RFC 3597 §4) */
#define DNS_RD_DECOMPRESS 0x02 /* names decompressed on receipt */
#define DNS_RD_CANON      0x04 /* names lower-cased in canonical form */
#define DNS_RD_META       0x08 /* meta-type / QTYPE */
#define DNS_RD_GENERIC    0x10 /* presentation only in RFC 3597 form */
#define DNS_RD_TARGET     0x20 /* last name gets additional processing */

#define DNS_RD_FIELDS 10

typedef struct dns_rrdesc {
    uint16_t type;
    uint8_t flags;
    const char *name;
    uint8_t f[DNS_RD_FIELDS]; /* field kinds, DNS_F_END terminated */
} dns_rrdesc_t;

/* The descriptor of a known type, or NULL. */
const dns_rrdesc_t *dns_rrdesc(uint16_t type);

/* One field of an RDATA split by dns_rd_split. */
typedef struct dns_field {
    uint8_t kind;
    uint16_t off, len;
} dns_field_t;

/* Splits uncompressed RDATA rd[0..len) of descriptor d (NULL: opaque) into
 * fields, checking each. Returns the number of fields (<= DNS_RD_FIELDS)
 * or ZL_EMALF. */
int dns_rd_split(const dns_rrdesc_t *d, const uint8_t *rd, size_t len,
                 dns_field_t f[DNS_RD_FIELDS]);

/* Length of the field of kind k at rd[off..len), checked; <0 if invalid.
 * rd is the whole RDATA (some kinds look at earlier octets). */
int dns_field_len(uint8_t k, const uint8_t *rd, size_t off, size_t len);

/* Offset and length of the name inside an A6 or IPSECKEY gateway field,
 * or -1 when the field holds none. */
int dns_field_name_off(uint8_t k, const uint8_t *rd, const dns_field_t *f);

/* Presentation parsing state: tokens in, RDATA out. */
typedef struct dns_rdin {
    const dns_tok_t *tok;
    size_t ntok, i;          /* tokens and the next one to read */
    const uint8_t *origin;
    uint8_t *out;
    size_t cap, n;           /* output capacity and length so far */
    const char *why;         /* static message for the first error */
} dns_rdin_t;

/* Presentation printing state; on overflow full is set, n stops. */
typedef struct dns_rdout {
    char *buf;
    size_t cap, n;
    bool full;
} dns_rdout_t;

/* Shared helpers (dns/rdata_text.c). */
int dns_rdin_fail(dns_rdin_t *in, int err, const char *why);
const dns_tok_t *dns_rdin_next(dns_rdin_t *in, const char *what);
int dns_rdin_put(dns_rdin_t *in, const void *p, size_t n);
int dns_rdin_num(dns_rdin_t *in, const dns_tok_t *t, uint64_t max, uint64_t *v,
                 const char *what);
/* Dotted-quad IPv4 (decimal, 1-3 digits per part); ZL_OK or ZL_ESYNTAX. */
int dns_ipv4_from_text(const char *s, size_t len, uint8_t a[4]);
int dns_rdin_hex(dns_rdin_t *in, const char *s, size_t len, const char *what);
void dns_out_str(dns_rdout_t *o, const char *s, size_t n);
void dns_out_fmt(dns_rdout_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dns_out_hex(dns_rdout_t *o, const uint8_t *p, size_t n);
void dns_out_b64(dns_rdout_t *o, const uint8_t *p, size_t n);
void dns_out_name(dns_rdout_t *o, const uint8_t *name);
/* Prints octets as one quoted string with \" \\ and \DDD escapes. */
void dns_out_qstr(dns_rdout_t *o, const uint8_t *p, size_t n);

/* Kinds with their own syntax (dns/rdata_special.c): parse consumes
 * tokens from in, print writes the field f of rd. */
int dns_special_from_text(uint8_t kind, dns_rdin_t *in);
void dns_special_to_text(uint8_t kind, const uint8_t *rd, const dns_field_t *f,
                         dns_rdout_t *o);

/* SvcParams (dns/rdata_svcb.c). */
int dns_svc_from_text(dns_rdin_t *in);
void dns_svc_to_text(const uint8_t *p, size_t n, dns_rdout_t *o);

#endif
