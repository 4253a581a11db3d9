/* The RR type table and the wire-side RDATA operations it drives. */
#include "dns/rr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/err.h"
#include "dns/rrdesc.h"

/* Flag sets, after RFC 3597 §4 and RFC 4034 §6.2 as updated by RFC 6840
 * §5.1 (NSEC next names keep their case, RRSIG signer names do not). */
#define W1035 (DNS_RD_COMPRESS | DNS_RD_DECOMPRESS | DNS_RD_CANON)
#define WDEC (DNS_RD_DECOMPRESS | DNS_RD_CANON)
#define TGT DNS_RD_TARGET
#define META (DNS_RD_META | DNS_RD_GENERIC)
#define N DNS_F_NAME
#define U8 DNS_F_U8
#define U16 DNS_F_U16
#define U32 DNS_F_U32

/* Sorted by type code (dns_rrdesc does a binary search). */
static const dns_rrdesc_t rrtab[] = {
    { DNS_T_A, 0, "A", { DNS_F_A4 } },
    { DNS_T_NS, W1035 | TGT, "NS", { N } },
    { DNS_T_MD, W1035 | TGT, "MD", { N } },
    { DNS_T_MF, W1035 | TGT, "MF", { N } },
    { DNS_T_CNAME, W1035, "CNAME", { N } },
    { DNS_T_SOA, W1035, "SOA", { N, N, U32, DNS_F_PERIOD, DNS_F_PERIOD, DNS_F_PERIOD,
                                 DNS_F_PERIOD } },
    { DNS_T_MB, W1035 | TGT, "MB", { N } },
    { DNS_T_MG, W1035, "MG", { N } },
    { DNS_T_MR, W1035, "MR", { N } },
    { DNS_T_NULL, DNS_RD_GENERIC, "NULL", { DNS_F_ANY } },
    { DNS_T_WKS, 0, "WKS", { DNS_F_A4, DNS_F_WKS } },
    { DNS_T_PTR, W1035, "PTR", { N } },
    { DNS_T_HINFO, 0, "HINFO", { DNS_F_STR, DNS_F_STR } },
    { DNS_T_MINFO, W1035, "MINFO", { N, N } },
    { DNS_T_MX, W1035 | TGT, "MX", { U16, N } },
    { DNS_T_TXT, 0, "TXT", { DNS_F_STRS } },
    { DNS_T_RP, WDEC, "RP", { N, N } },
    { DNS_T_AFSDB, WDEC | TGT, "AFSDB", { U16, N } },
    { DNS_T_X25, 0, "X25", { DNS_F_STR } },
    { DNS_T_ISDN, 0, "ISDN", { DNS_F_STR, DNS_F_STR_OPT } },
    { DNS_T_RT, WDEC | TGT, "RT", { U16, N } },
    { DNS_T_NSAP, 0, "NSAP", { DNS_F_NSAP } },
    { DNS_T_NSAP_PTR, 0, "NSAP-PTR", { N } },
    { DNS_T_SIG, WDEC, "SIG", { DNS_F_TYPE, DNS_F_ALG, U8, DNS_F_PERIOD, DNS_F_TIME,
                                DNS_F_TIME, U16, N, DNS_F_B64_END } },
    { DNS_T_KEY, 0, "KEY", { U16, U8, DNS_F_ALG, DNS_F_B64_OPT } },
    { DNS_T_PX, WDEC, "PX", { U16, N, N } },
    { DNS_T_GPOS, 0, "GPOS", { DNS_F_STR, DNS_F_STR, DNS_F_STR } },
    { DNS_T_AAAA, 0, "AAAA", { DNS_F_A16 } },
    { DNS_T_LOC, 0, "LOC", { DNS_F_LOC } },
    { DNS_T_NXT, WDEC, "NXT", { N, DNS_F_NXTMAP } },
    { DNS_T_SRV, DNS_RD_DECOMPRESS | DNS_RD_CANON | TGT, "SRV", { U16, U16, U16, N } },
    { DNS_T_NAPTR, WDEC | TGT, "NAPTR", { U16, U16, DNS_F_STR, DNS_F_STR, DNS_F_STR, N } },
    { DNS_T_KX, DNS_RD_CANON | TGT, "KX", { U16, N } },
    { DNS_T_CERT, 0, "CERT", { DNS_F_CERTTYPE, U16, DNS_F_ALG, DNS_F_B64_END } },
    { DNS_T_A6, DNS_RD_CANON, "A6", { DNS_F_A6 } },
    { DNS_T_DNAME, DNS_RD_CANON, "DNAME", { N } },
    { DNS_T_OPT, META, "OPT", { DNS_F_ANY } },
    { DNS_T_APL, 0, "APL", { DNS_F_APL } },
    { DNS_T_DS, 0, "DS", { U16, DNS_F_ALG, U8, DNS_F_HEX_END } },
    { DNS_T_SSHFP, 0, "SSHFP", { U8, U8, DNS_F_HEX_END } },
    { DNS_T_IPSECKEY, 0, "IPSECKEY", { U8, U8, U8, DNS_F_IPSECGW, DNS_F_B64_OPT } },
    { DNS_T_RRSIG, DNS_RD_CANON, "RRSIG", { DNS_F_TYPE, DNS_F_ALG, U8, DNS_F_PERIOD, DNS_F_TIME,
                                            DNS_F_TIME, U16, N, DNS_F_B64_END } },
    { DNS_T_NSEC, 0, "NSEC", { N, DNS_F_BITMAP } },
    { DNS_T_DNSKEY, 0, "DNSKEY", { U16, U8, DNS_F_ALG, DNS_F_B64_OPT } },
    { DNS_T_DHCID, 0, "DHCID", { DNS_F_B64_END } },
    { DNS_T_NSEC3, 0, "NSEC3", { U8, U8, U16, DNS_F_HEX_U8, DNS_F_B32_U8, DNS_F_BITMAP } },
    { DNS_T_NSEC3PARAM, 0, "NSEC3PARAM", { U8, U8, U16, DNS_F_HEX_U8 } },
    { DNS_T_TLSA, 0, "TLSA", { U8, U8, U8, DNS_F_HEX_END } },
    { DNS_T_SMIMEA, 0, "SMIMEA", { U8, U8, U8, DNS_F_HEX_END } },
    { DNS_T_HIP, 0, "HIP", { DNS_F_HIP } },
    { DNS_T_CDS, 0, "CDS", { U16, DNS_F_ALG, U8, DNS_F_HEX_END } },
    { DNS_T_CDNSKEY, 0, "CDNSKEY", { U16, U8, DNS_F_ALG, DNS_F_B64_OPT } },
    { DNS_T_OPENPGPKEY, 0, "OPENPGPKEY", { DNS_F_B64_END } },
    { DNS_T_CSYNC, 0, "CSYNC", { U32, U16, DNS_F_BITMAP } },
    { DNS_T_ZONEMD, 0, "ZONEMD", { U32, U8, U8, DNS_F_HEX_END } },
    { DNS_T_SVCB, 0, "SVCB", { U16, N, DNS_F_SVCPARAMS } },
    { DNS_T_HTTPS, 0, "HTTPS", { U16, N, DNS_F_SVCPARAMS } },
    { DNS_T_SPF, 0, "SPF", { DNS_F_STRS } },
    { DNS_T_NID, 0, "NID", { U16, DNS_F_ILNP64 } },
    { DNS_T_L32, 0, "L32", { U16, DNS_F_A4 } },
    { DNS_T_L64, 0, "L64", { U16, DNS_F_ILNP64 } },
    { DNS_T_LP, 0, "LP", { U16, N } },
    { DNS_T_EUI48, 0, "EUI48", { DNS_F_EUI48 } },
    { DNS_T_EUI64, 0, "EUI64", { DNS_F_EUI64 } },
    { DNS_T_TKEY, META, "TKEY", { DNS_F_ANY } },
    { DNS_T_TSIG, META, "TSIG", { DNS_F_ANY } },
    { DNS_T_IXFR, META, "IXFR", { DNS_F_ANY } },
    { DNS_T_AXFR, META, "AXFR", { DNS_F_ANY } },
    { DNS_T_MAILB, META, "MAILB", { DNS_F_ANY } },
    { DNS_T_MAILA, META, "MAILA", { DNS_F_ANY } },
    { DNS_T_ANY, META, "ANY", { DNS_F_ANY } },
    { DNS_T_URI, 0, "URI", { U16, U16, DNS_F_STR_END } },
    { DNS_T_CAA, 0, "CAA", { U8, DNS_F_TAG, DNS_F_STR_END } },
    { DNS_T_DLV, 0, "DLV", { U16, DNS_F_ALG, U8, DNS_F_HEX_END } },
};

#define NTAB (sizeof rrtab / sizeof rrtab[0])

const dns_rrdesc_t *dns_rrdesc(uint16_t type)
{
    size_t lo = 0, hi = NTAB;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (rrtab[mid].type == type)
            return &rrtab[mid];
        if (rrtab[mid].type < type)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool dns_type_is_meta(uint16_t type)
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    /* RFC 6895 §3.1: 128-255 are QTYPEs and meta-types */
    return d ? (d->flags & DNS_RD_META) != 0 : (type >= 128 && type <= 255);
}

const char *dns_type_name(uint16_t type)
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    return d ? d->name : NULL;
}

/* "PREFIXnnn" with nnn a decimal 0..65535 (RFC 3597 §5). */
static int num_suffix(const char *s, size_t len, const char *pfx, uint16_t *v)
{
    size_t pl = strlen(pfx);
    uint32_t n = 0;
    if (len <= pl || len > pl + 5 || strncasecmp(s, pfx, pl) != 0)
        return ZL_ETYPE;
    for (size_t i = pl; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return ZL_ETYPE;
        n = n * 10 + (uint32_t)(s[i] - '0');
    }
    if (n > 65535)
        return ZL_ETYPE;
    *v = (uint16_t)n;
    return ZL_OK;
}

int dns_type_from_text(const char *s, size_t len, uint16_t *type)
{
    /* called once per zone-file record: test the first letter before
     * the whole mnemonic */
    char c0 = len ? (char)(s[0] & ~0x20) : 0;
    for (size_t i = 0; i < NTAB; i++)
        if (rrtab[i].name[0] == c0 && strlen(rrtab[i].name) == len &&
            strncasecmp(s, rrtab[i].name, len) == 0) {
            *type = rrtab[i].type;
            return ZL_OK;
        }
    return num_suffix(s, len, "TYPE", type);
}

static int put_text(char *buf, size_t cap, const char *pfx, const char *name, unsigned n)
{
    int r = name ? snprintf(buf, cap, "%s", name) : snprintf(buf, cap, "%s%u", pfx, n);
    return r < 0 || (size_t)r >= cap ? ZL_ESPACE : r;
}

int dns_type_to_text(uint16_t type, char *buf, size_t cap)
{
    return put_text(buf, cap, "TYPE", dns_type_name(type), type);
}

static const struct { uint16_t c; const char *name; } classtab[] = {
    { DNS_C_IN, "IN" }, { 2, "CS" }, { DNS_C_CH, "CH" }, { DNS_C_HS, "HS" },
    { DNS_C_NONE, "NONE" }, { DNS_C_ANY, "ANY" },
};

int dns_class_from_text(const char *s, size_t len, uint16_t *rclass)
{
    for (size_t i = 0; i < sizeof classtab / sizeof classtab[0]; i++)
        if (strlen(classtab[i].name) == len && strncasecmp(s, classtab[i].name, len) == 0) {
            *rclass = classtab[i].c;
            return ZL_OK;
        }
    return num_suffix(s, len, "CLASS", rclass);
}

int dns_class_to_text(uint16_t rclass, char *buf, size_t cap)
{
    const char *name = NULL;
    for (size_t i = 0; i < sizeof classtab / sizeof classtab[0]; i++)
        if (classtab[i].c == rclass)
            name = classtab[i].name;
    return put_text(buf, cap, "CLASS", name, rclass);
}

/* RFC 4034 §4.1.2: windows in increasing order, 1..32 octets each,
 * trailing zero octets omitted. */
static int bitmap_len(const uint8_t *p, size_t n)
{
    size_t o = 0;
    int prev = -1;
    while (o < n) {
        if (n - o < 2 || p[o] <= prev || p[o + 1] == 0 || p[o + 1] > 32 ||
            n - o - 2 < p[o + 1] || p[o + 1 + p[o + 1]] == 0)
            return -1;
        prev = p[o];
        o += 2 + (size_t)p[o + 1];
    }
    return (int)n;
}

/* RFC 3123 §4: family 1 (IPv4) or 2 (IPv6), prefix and AFD lengths;
 * trailing zero octets of the address MUST be omitted (§4.1). */
static int apl_len(const uint8_t *p, size_t n)
{
    size_t o = 0;
    while (o < n) {
        if (n - o < 4)
            return -1;
        uint16_t fam = dns_get_u16(p + o);
        unsigned plen = p[o + 2], alen = p[o + 3] & 0x7f;
        unsigned max = fam == 1 ? 4 : fam == 2 ? 16 : 0;
        if (!max || plen > max * 8 || alen > max || n - o - 4 < alen ||
            (alen && p[o + 3 + alen] == 0))
            return -1;
        o += 4 + alen;
    }
    return (int)n;
}

/* RFC 9460 §2.2: keys strictly increasing; known keys' values checked so
 * that the printer can rely on them. */
static bool svc_value_ok(uint16_t key, const uint8_t *v, size_t n)
{
    switch (key) {
    case 0: return n > 0 && n % 2 == 0;            /* mandatory */
    case 1:                                         /* alpn */
        if (n == 0)
            return false;
        for (size_t o = 0; o < n; o += 1 + (size_t)v[o])
            if (v[o] == 0 || n - o - 1 < v[o])
                return false;
        return true;
    case 2: return n == 0;                          /* no-default-alpn */
    case 3: return n == 2;                          /* port */
    case 4: return n > 0 && n % 4 == 0;             /* ipv4hint */
    case 5: return n > 0;                           /* ech */
    case 6: return n > 0 && n % 16 == 0;            /* ipv6hint */
    default: return true;
    }
}

/* RFC 9460 §8: the keys in mandatory are increasing, exclude mandatory
 * itself, and are all present. Called on otherwise checked params. */
static bool svc_mandatory_ok(const uint8_t *p, size_t n)
{
    if (n < 4 || dns_get_u16(p) != 0)
        return true;
    int prev = 0;
    for (size_t m = 4; m < 4u + dns_get_u16(p + 2); m += 2) {
        uint16_t want = dns_get_u16(p + m);
        size_t o = 0;
        if ((int)want <= prev)
            return false;
        prev = want;
        while (o < n && dns_get_u16(p + o) != want)
            o += 4 + (size_t)dns_get_u16(p + o + 2);
        if (o >= n)
            return false;
    }
    return true;
}

static int svcparams_len(const uint8_t *p, size_t n)
{
    size_t o = 0;
    int prev = -1;
    while (o < n) {
        if (n - o < 4)
            return -1;
        uint16_t key = dns_get_u16(p + o), vl = dns_get_u16(p + o + 2);
        if ((int)key <= prev || n - o - 4 < vl || !svc_value_ok(key, p + o + 4, vl))
            return -1;
        prev = key;
        o += 4 + (size_t)vl;
    }
    return svc_mandatory_ok(p, n) ? (int)n : -1;
}

/* Names one after another up to the end (HIP rendezvous servers). */
static int names_len(const uint8_t *p, size_t n)
{
    size_t o = 0;
    while (o < n) {
        int l = dns_name_check(p + o, n - o);
        if (l < 0)
            return -1;
        o += (size_t)l;
    }
    return (int)n;
}

static int hip_len(const uint8_t *p, size_t n)
{
    if (n < 4)
        return -1;
    size_t hit = p[0], pk = dns_get_u16(p + 2);
    if (hit == 0 || pk == 0 || n - 4 < hit + pk)
        return -1;
    return names_len(p + 4 + hit + pk, n - 4 - hit - pk) < 0 ? -1 : (int)n;
}

/* RFC 2874 §3.1.1: prefix length, (128-prefix)/8 rounded up suffix octets,
 * then a prefix name when the prefix length is not 0. */
static int a6_len(const uint8_t *p, size_t n)
{
    if (n < 1 || p[0] > 128)
        return -1;
    size_t sl = (size_t)(128 - p[0] + 7) / 8;
    if (n - 1 < sl)
        return -1;
    if (p[0] == 0)
        return (int)(1 + sl);
    int l = dns_name_check(p + 1 + sl, n - 1 - sl);
    return l < 0 ? -1 : (int)(1 + sl) + l;
}

static int name_len(const uint8_t *p, size_t n)
{
    int l = dns_name_check(p, n);
    return l < 0 ? -1 : l;
}

/* RFC 1876 §2: version 0, precisions with digits 0-9, latitude within
 * 90 and longitude within 180 degrees of the equator / prime meridian. */
static bool loc_ok(const uint8_t *p)
{
    for (int k = 1; k <= 3; k++)
        if ((p[k] >> 4) > 9 || (p[k] & 15) > 9 || (p[k] < 16 && p[k] != 0))
            return false; /* 0 x 10^e is written 0 */
    int64_t lat = (int64_t)dns_get_u32(p + 4) - (1ll << 31);
    int64_t lon = (int64_t)dns_get_u32(p + 8) - (1ll << 31);
    return p[0] == 0 && lat >= -324000000 && lat <= 324000000 &&
           lon >= -648000000 && lon <= 648000000;
}

/* RFC 8659 §4.1: a CAA tag is 1-255 ASCII letters and digits. */
static bool tag_ok(const uint8_t *p, size_t len, size_t room)
{
    if (len == 0 || len > room)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9')))
            return false;
    return true;
}

static int strings_len(const uint8_t *p, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return -1;
    while (o < n)
        o += 1 + (size_t)p[o];
    return o == n ? (int)n : -1;
}

int dns_field_len(uint8_t k, const uint8_t *rd, size_t off, size_t len)
{
    static const uint8_t fixed[] = {
        [DNS_F_U8] = 1, [DNS_F_U16] = 2, [DNS_F_U32] = 4, [DNS_F_U48] = 6,
        [DNS_F_ALG] = 1, [DNS_F_CERTTYPE] = 2, [DNS_F_TYPE] = 2, [DNS_F_TIME] = 4,
        [DNS_F_PERIOD] = 4,
        [DNS_F_A4] = 4, [DNS_F_A16] = 16, [DNS_F_EUI48] = 6, [DNS_F_EUI64] = 8,
        [DNS_F_ILNP64] = 8, [DNS_F_LOC] = 16,
    };
    const uint8_t *p = rd + off;
    size_t n = len - off;
    if (k < sizeof fixed && fixed[k])
        return n >= fixed[k] && (k != DNS_F_LOC || loc_ok(p)) ? fixed[k] : -1;
    switch (k) {
    case DNS_F_NAME: return name_len(p, n);
    case DNS_F_STR_OPT:
        if (n == 0)
            return 0;
        /* fall through */
    case DNS_F_TAG:
        return n >= 1 && tag_ok(p + 1, p[0], n - 1) ? 1 + p[0] : -1;
    case DNS_F_STR: case DNS_F_HEX_U8: case DNS_F_B32_U8:
        /* an empty NSEC3 next hashed owner has no presentation form */
        if (n < 1 || n - 1 < p[0] || (k == DNS_F_B32_U8 && p[0] == 0))
            return -1;
        return 1 + p[0];
    case DNS_F_STRS: return strings_len(p, n);
    case DNS_F_BITMAP: return bitmap_len(p, n);
    case DNS_F_APL: return apl_len(p, n);
    case DNS_F_SVCPARAMS: return svcparams_len(p, n);
    case DNS_F_HIP: return hip_len(p, n);
    case DNS_F_A6: return a6_len(p, n);
    case DNS_F_WKS: /* a trailing zero octet would not survive printing */
        return n >= 1 && (n == 1 || p[n - 1] != 0) ? (int)n : -1;
    case DNS_F_NSAP: return n >= 1 ? (int)n : -1;
    case DNS_F_NXTMAP: /* RFC 2535 §5.2: bit 0 set means another format */
        return n <= 16 && (n == 0 || (!(p[0] & 0x80) && p[n - 1] != 0)) ? (int)n : -1;
    case DNS_F_IPSECGW:
        switch (off >= 2 ? rd[1] : 255) {
        case 0: return 0;
        case 1: return n >= 4 ? 4 : -1;
        case 2: return n >= 16 ? 16 : -1;
        case 3: return name_len(p, n);
        default: return -1;
        }
    case DNS_F_HEX_END: case DNS_F_B64_END:
        return n >= 1 ? (int)n : -1; /* the presentation form needs a token */
    case DNS_F_STR_END: case DNS_F_B64_OPT: case DNS_F_ANY:
        return (int)n;
    default: return -1;
    }
}

int dns_rd_split(const dns_rrdesc_t *d, const uint8_t *rd, size_t len,
                 dns_field_t f[DNS_RD_FIELDS])
{
    static const uint8_t opaque[2] = { DNS_F_ANY, DNS_F_END };
    const uint8_t *kinds = d ? d->f : opaque;
    size_t off = 0;
    int n = 0;
    if (len > 65535)
        return ZL_EMALF;
    for (; n < DNS_RD_FIELDS && kinds[n] != DNS_F_END; n++) {
        int l = dns_field_len(kinds[n], rd, off, len);
        if (l < 0)
            return ZL_EMALF;
        f[n].kind = kinds[n];
        f[n].off = (uint16_t)off;
        f[n].len = (uint16_t)l;
        off += (size_t)l;
    }
    return off == len ? n : ZL_EMALF;
}

int dns_field_name_off(uint8_t k, const uint8_t *rd, const dns_field_t *f)
{
    if (k == DNS_F_NAME || (k == DNS_F_IPSECGW && rd[1] == 3))
        return f->off;
    if (k == DNS_F_A6 && rd[f->off] != 0)
        return f->off + 1 + (128 - rd[f->off] + 7) / 8;
    return -1;
}

/* Fields of a type whose names may be compressed on receipt: names through
 * dns_name_parse, everything else copied after its length check. */
static int parse_decompress(dns_wire_t *w, const dns_rrdesc_t *d, size_t end,
                            uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < DNS_RD_FIELDS && d->f[i] != DNS_F_END; i++) {
        if (d->f[i] == DNS_F_NAME) {
            uint8_t name[DNS_NAME_MAX];
            dns_wire_t sub = *w;
            sub.len = end; /* the name may not run past RDLENGTH */
            int l = dns_name_parse(&sub, name);
            if (l < 0)
                return l;
            if (cap - n < (size_t)l)
                return ZL_ESPACE;
            memcpy(out + n, name, (size_t)l);
            n += (size_t)l;
            w->pos = sub.pos;
            continue;
        }
        const uint8_t *p = dns_wire_cur(w);
        int l = dns_field_len(d->f[i], p, 0, end - w->pos);
        if (l < 0)
            return ZL_EMALF;
        if (cap - n < (size_t)l)
            return ZL_ESPACE;
        memcpy(out + n, p, (size_t)l);
        n += (size_t)l;
        w->pos += (size_t)l;
    }
    if (w->pos != end || n > 65535)
        return ZL_EMALF;
    return (int)n;
}

int dns_rdata_parse(dns_wire_t *w, uint16_t type, uint16_t rdlen,
                    uint8_t *out, size_t cap)
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    if (!dns_wire_need(w, rdlen))
        return w->err;
    size_t start = w->pos, end = start + rdlen;
    int r;
    if (d && (d->flags & DNS_RD_DECOMPRESS)) {
        r = parse_decompress(w, d, end, out, cap);
    } else if (rdlen > cap) {
        r = ZL_ESPACE;
    } else {
        memcpy(out, dns_wire_cur(w), rdlen);
        r = dns_rdata_check(type, out, rdlen);
        r = r < 0 ? r : rdlen;
    }
    if (r < 0) {
        w->pos = start;
        dns_wire_fail(w, r);
        return r;
    }
    w->pos = end;
    return r;
}

int dns_rdata_check(uint16_t type, const uint8_t *rdata, size_t len)
{
    dns_field_t f[DNS_RD_FIELDS];
    return dns_rd_split(dns_rrdesc(type), rdata, len, f) < 0 ? ZL_EMALF : ZL_OK;
}

int dns_rdata_write(dns_wire_t *w, uint16_t type, const uint8_t *rdata,
                    uint16_t len, dns_compr_t *c)
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    dns_field_t f[DNS_RD_FIELDS];
    int nf;
    if (!c || !d || !(d->flags & DNS_RD_COMPRESS)) {
        dns_wire_put_u16(w, len);
        dns_wire_write(w, rdata, len);
        return w->err;
    }
    if ((nf = dns_rd_split(d, rdata, len, f)) < 0) {
        dns_wire_fail(w, ZL_EMALF);
        return w->err;
    }
    size_t at = w->pos;
    dns_wire_put_u16(w, 0);
    for (int i = 0; i < nf; i++) {
        if (f[i].kind == DNS_F_NAME)
            dns_name_write(w, rdata + f[i].off, c);
        else
            dns_wire_write(w, rdata + f[i].off, f[i].len);
    }
    if (w->err == ZL_OK)
        dns_put_u16(w->base + at, (uint16_t)(w->pos - at - 2));
    return w->err;
}

/* Offsets of the names that canonical form lower-cases; returns how many. */
static int canon_names(uint16_t type, const uint8_t *rd, uint16_t len,
                       uint16_t off[DNS_RD_FIELDS])
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    dns_field_t f[DNS_RD_FIELDS];
    int nf, n = 0;
    if (!d || !(d->flags & DNS_RD_CANON) || (nf = dns_rd_split(d, rd, len, f)) < 0)
        return 0;
    for (int i = 0; i < nf; i++) {
        int o = dns_field_name_off(f[i].kind, rd, &f[i]);
        if (o >= 0)
            off[n++] = (uint16_t)o;
    }
    return n;
}

void dns_rdata_canonicalize(uint16_t type, uint8_t *rdata, uint16_t len)
{
    uint16_t off[DNS_RD_FIELDS];
    int n = canon_names(type, rdata, len, off);
    for (int i = 0; i < n; i++)
        dns_name_lower(rdata + off[i]);
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Marks which octets belong to names to be lower-cased: label length
 * octets are below 64, so lower-casing the whole name is safe. */
static bool in_names(const uint8_t *rd, const uint16_t *off, int n, size_t i)
{
    for (int k = 0; k < n; k++)
        if (i >= off[k] && i < off[k] + dns_name_len(rd + off[k]))
            return true;
    return false;
}

int dns_rdata_cmp(uint16_t type, const uint8_t *a, uint16_t alen,
                  const uint8_t *b, uint16_t blen)
{
    uint16_t ao[DNS_RD_FIELDS], bo[DNS_RD_FIELDS];
    int an = canon_names(type, a, alen, ao), bn = canon_names(type, b, blen, bo);
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = an && in_names(a, ao, an, i) ? lower(a[i]) : a[i];
        uint8_t y = bn && in_names(b, bo, bn, i) ? lower(b[i]) : b[i];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return alen == blen ? 0 : alen < blen ? -1 : 1;
}

const uint8_t *dns_rdata_target(uint16_t type, const uint8_t *rdata, uint16_t len)
{
    const dns_rrdesc_t *d = dns_rrdesc(type);
    dns_field_t f[DNS_RD_FIELDS];
    int nf;
    if (!d || !(d->flags & DNS_RD_TARGET) || (nf = dns_rd_split(d, rdata, len, f)) < 0)
        return NULL;
    for (int i = nf - 1; i >= 0; i--)
        if (f[i].kind == DNS_F_NAME)
            return rdata + f[i].off;
    return NULL;
}
