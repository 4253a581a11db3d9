/* Presentation form of RDATA (RFC 1035 §5.1, RFC 3597 §5), driven by the
 * field kinds of dns/rrtype.c. Kinds with a syntax of their own are in
 * dns/rdata_special.c. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/codec.h"
#include "dns/err.h"
#include "dns/rr.h"
#include "dns/rrdesc.h"

int dns_rdin_fail(dns_rdin_t *in, int err, const char *why)
{
    if (!in->why)
        in->why = why;
    return err;
}

const dns_tok_t *dns_rdin_next(dns_rdin_t *in, const char *what)
{
    if (in->i >= in->ntok) {
        dns_rdin_fail(in, ZL_ESYNTAX, what);
        return NULL;
    }
    return &in->tok[in->i++];
}

int dns_rdin_put(dns_rdin_t *in, const void *p, size_t n)
{
    if (in->cap - in->n < n || in->n + n > 65535)
        return dns_rdin_fail(in, ZL_ESPACE, "RDATA too long");
    memcpy(in->out + in->n, p, n);
    in->n += n;
    return ZL_OK;
}

int dns_rdin_num(dns_rdin_t *in, const dns_tok_t *t, uint64_t max, uint64_t *v,
                 const char *what)
{
    uint64_t n = 0;
    if (t->len == 0 || t->len > 20)
        return dns_rdin_fail(in, t->len ? ZL_ERANGE : ZL_ESYNTAX, what);
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return dns_rdin_fail(in, ZL_ESYNTAX, what);
        if (n > (UINT64_MAX - 9) / 10)
            return dns_rdin_fail(in, ZL_ERANGE, what);
        n = n * 10 + (uint64_t)(t->s[i] - '0');
    }
    if (n > max)
        return dns_rdin_fail(in, ZL_ERANGE, what);
    *v = n;
    return ZL_OK;
}

int dns_rdin_hex(dns_rdin_t *in, const char *s, size_t len, const char *what)
{
    int r = dns_hex_decode(s, len, in->out + in->n, in->cap - in->n);
    if (r < 0)
        return dns_rdin_fail(in, r, what);
    in->n += (size_t)r;
    return ZL_OK;
}

/* Decodes \X and \DDD escapes of a token into out (RFC 1035 §5.1). */
static int unescape(const dns_tok_t *t, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned c = (uint8_t)t->s[i];
        if (c == '\\') {
            if (++i >= t->len)
                return ZL_ESYNTAX;
            c = (uint8_t)t->s[i];
            if (c >= '0' && c <= '9') {
                if (t->len - i < 3 || t->s[i + 1] < '0' || t->s[i + 1] > '9' ||
                    t->s[i + 2] < '0' || t->s[i + 2] > '9')
                    return ZL_ESYNTAX;
                c = (c - '0') * 100 + (unsigned)(t->s[i + 1] - '0') * 10 +
                    (unsigned)(t->s[i + 2] - '0');
                if (c > 255)
                    return ZL_ESYNTAX;
                i += 2;
            }
        }
        if (n >= cap)
            return ZL_ERANGE;
        out[n++] = (uint8_t)c;
    }
    return (int)n;
}

void dns_out_str(dns_rdout_t *o, const char *s, size_t n)
{
    if (o->full || o->cap - o->n <= n) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
    o->buf[o->n] = 0;
}

void dns_out_fmt(dns_rdout_t *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= sizeof tmp)
        o->full = true;
    else
        dns_out_str(o, tmp, (size_t)r);
}

void dns_out_hex(dns_rdout_t *o, const uint8_t *p, size_t n)
{
    if (o->full || o->cap - o->n <= 2 * n) {
        o->full = true;
        return;
    }
    o->n += (size_t)dns_hex_encode(p, n, o->buf + o->n, o->cap - o->n);
    o->buf[o->n] = 0;
}

void dns_out_b64(dns_rdout_t *o, const uint8_t *p, size_t n)
{
    int r;
    if (o->full || (r = dns_b64_encode(p, n, o->buf + o->n, o->cap - o->n - 1)) < 0) {
        o->full = true;
        return;
    }
    o->n += (size_t)r;
    o->buf[o->n] = 0;
}

void dns_out_name(dns_rdout_t *o, const uint8_t *name)
{
    int r;
    if (o->full || (r = dns_name_to_text(name, o->buf + o->n, o->cap - o->n)) < 0) {
        o->full = true;
        return;
    }
    o->n += (size_t)r;
}

void dns_out_qstr(dns_rdout_t *o, const uint8_t *p, size_t n)
{
    dns_out_str(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            char e[2] = { '\\', (char)p[i] };
            dns_out_str(o, e, 2);
        } else if (p[i] < 0x20 || p[i] > 0x7e) {
            dns_out_fmt(o, "\\%03u", p[i]);
        } else {
            dns_out_str(o, (const char *)p + i, 1);
        }
    }
    dns_out_str(o, "\"", 1);
}

/* Mnemonics accepted on input for DNSSEC algorithms (RFC 8624 §2 names as
 * BIND and Knot spell them) and CERT types (RFC 4398 §2.1). Output is
 * always the number, which every reader accepts. */
static const struct mnem { uint16_t v; const char *s; } algs[] = {
    { 1, "RSAMD5" }, { 2, "DH" }, { 3, "DSA" }, { 5, "RSASHA1" },
    { 6, "DSA-NSEC3-SHA1" }, { 7, "RSASHA1-NSEC3-SHA1" }, { 8, "RSASHA256" },
    { 10, "RSASHA512" }, { 12, "ECC-GOST" }, { 13, "ECDSAP256SHA256" },
    { 14, "ECDSAP384SHA384" }, { 15, "ED25519" }, { 16, "ED448" },
    { 252, "INDIRECT" }, { 253, "PRIVATEDNS" }, { 254, "PRIVATEOID" }, { 0, NULL }
}, certs[] = {
    { 1, "PKIX" }, { 2, "SPKI" }, { 3, "PGP" }, { 4, "IPKIX" }, { 5, "ISPKI" },
    { 6, "IPGP" }, { 7, "ACPKIX" }, { 8, "IACPKIX" }, { 253, "URI" },
    { 254, "OID" }, { 0, NULL }
};

static int mnem_num(dns_rdin_t *in, const dns_tok_t *t, const struct mnem *m,
                    uint64_t max, uint64_t *v, const char *what)
{
    for (; m->s; m++)
        if (strlen(m->s) == t->len && strncasecmp(m->s, t->s, t->len) == 0) {
            *v = m->v;
            return ZL_OK;
        }
    return dns_rdin_num(in, t, max, v, what);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

/* RFC 4034 §3.2: YYYYMMDDHHmmSS (UTC) or seconds; RFC 4034 §3.1.5 makes
 * the value serial-number arithmetic, so dates are taken modulo 2^32. */
static int time_from_text(dns_rdin_t *in, const dns_tok_t *t, uint32_t *v)
{
    uint64_t n;
    if (t->len != 14) {
        int r = dns_rdin_num(in, t, UINT32_MAX, &n, "bad signature time");
        *v = (uint32_t)n;
        return r;
    }
    if (dns_rdin_num(in, t, UINT64_MAX, &n, "bad signature time") < 0)
        return ZL_ESYNTAX;
    unsigned sec = n % 100, min = n / 100 % 100, hour = n / 10000 % 100;
    unsigned day = n / 1000000 % 100, mon = n / 100000000 % 100;
    int64_t year = (int64_t)(n / 10000000000ull);
    static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    /* any year, taken modulo 2^32: Knot prints 0xffffffff as 1969... */
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
        (mon == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 59)
        return dns_rdin_fail(in, ZL_ERANGE, "bad signature time");
    int64_t s = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    *v = (uint32_t)((uint64_t)s & 0xffffffffu);
    return ZL_OK;
}

static void time_to_text(dns_rdout_t *o, uint32_t v)
{
    unsigned y, m, d;
    civil_from_days(v / 86400, &y, &m, &d);
    dns_out_fmt(o, "%04u%02u%02u%02u%02u%02u", y, m, d, v % 86400 / 3600,
                v % 3600 / 60, v % 60);
}

/* Remaining tokens (at least one unless opt) as one encoded string,
 * decoded in chunks whose size is a multiple of the code's quantum. */
static int concat_decode(dns_rdin_t *in, int (*dec)(const char *, size_t, uint8_t *, size_t),
                         bool opt, const char *what)
{
    char buf[512];
    size_t n = 0;
    if (in->i >= in->ntok && !opt)
        return dns_rdin_fail(in, ZL_ESYNTAX, what);
    for (; in->i < in->ntok; in->i++) {
        const dns_tok_t *t = &in->tok[in->i];
        for (size_t k = 0; k < t->len; k++) {
            if (n == sizeof buf) {
                /* more follows, so a padded quantum here is an error */
                int r = buf[n - 1] == '=' ? ZL_ESYNTAX
                                          : dec(buf, n, in->out + in->n, in->cap - in->n);
                if (r < 0)
                    return dns_rdin_fail(in, r, what);
                in->n += (size_t)r;
                n = 0;
            }
            buf[n++] = t->s[k];
        }
    }
    int r = dec(buf, n, in->out + in->n, in->cap - in->n);
    if (r < 0)
        return dns_rdin_fail(in, r, what);
    in->n += (size_t)r;
    return in->n > 65535 ? dns_rdin_fail(in, ZL_ESPACE, "RDATA too long") : ZL_OK;
}

static int bitmap_from_text(dns_rdin_t *in)
{
    uint8_t map[8192] = { 0 };
    int maxwin = -1;
    for (; in->i < in->ntok; in->i++) {
        uint16_t t;
        if (dns_type_from_text(in->tok[in->i].s, in->tok[in->i].len, &t) < 0)
            return dns_rdin_fail(in, ZL_ESYNTAX, "unknown type in type bitmap");
        map[t >> 3] |= (uint8_t)(0x80 >> (t & 7));
        if (t >> 8 > maxwin)
            maxwin = t >> 8;
    }
    for (int w = 0; w <= maxwin; w++) {
        int len = 0;
        for (int k = 0; k < 32; k++)
            if (map[w * 32 + k])
                len = k + 1;
        if (!len)
            continue;
        uint8_t hdr[2] = { (uint8_t)w, (uint8_t)len };
        if (dns_rdin_put(in, hdr, 2) < 0 || dns_rdin_put(in, map + w * 32, (size_t)len) < 0)
            return ZL_ESPACE;
    }
    return ZL_OK;
}

static void bitmap_to_text(dns_rdout_t *o, const uint8_t *p, size_t n, bool first)
{
    char name[16];
    for (size_t off = 0; off + 2 <= n; off += 2 + (size_t)p[off + 1])
        for (unsigned k = 0; k < p[off + 1] * 8u; k++)
            if (p[off + 2 + k / 8] & (0x80 >> (k % 8))) {
                dns_type_to_text((uint16_t)(p[off] * 256 + k), name, sizeof name);
                if (!first)
                    dns_out_str(o, " ", 1);
                dns_out_str(o, name, strlen(name));
                first = false;
            }
}

/* Groups of hex digits: EUI48/EUI64 "xx-xx-..." (RFC 7043 §3.2, §4.2) and
 * ILNP "xxxx:xxxx:xxxx:xxxx" (RFC 6742 §2.1-2.3). */
static int groups_from_text(dns_rdin_t *in, const dns_tok_t *t, unsigned groups,
                            unsigned width, bool exact, char sep, const char *what)
{
    size_t i = 0;
    for (unsigned g = 0; g < groups; g++) {
        unsigned v = 0, nd = 0;
        if (g && (i >= t->len || t->s[i++] != sep))
            return dns_rdin_fail(in, ZL_ESYNTAX, what);
        for (; i < t->len && t->s[i] != sep && nd <= width; i++, nd++) {
            char c = t->s[i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return dns_rdin_fail(in, ZL_ESYNTAX, what);
            v = v << 4 | (unsigned)d;
        }
        if (nd == 0 || nd > width || (exact && nd != width))
            return dns_rdin_fail(in, ZL_ESYNTAX, what);
        uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
        if (dns_rdin_put(in, width == 2 ? b + 1 : b, width / 2) < 0)
            return ZL_ESPACE;
    }
    return i == t->len ? ZL_OK : dns_rdin_fail(in, ZL_ESYNTAX, what);
}

static int uint_field(dns_rdin_t *in, unsigned size, const struct mnem *m,
                      const char *what)
{
    const dns_tok_t *t = dns_rdin_next(in, what);
    uint64_t v;
    uint8_t b[8];
    if (!t)
        return ZL_ESYNTAX;
    uint64_t max = size == 6 ? 0xffffffffffffull : (1ull << (8 * size)) - 1;
    int r = m ? mnem_num(in, t, m, max, &v, what) : dns_rdin_num(in, t, max, &v, what);
    if (r < 0)
        return r;
    for (unsigned k = 0; k < size; k++)
        b[k] = (uint8_t)(v >> (8 * (size - 1 - k)));
    return dns_rdin_put(in, b, size);
}

/* One <character-string> (RFC 1035 §3.3), at most 255 octets. */
static int str_field(dns_rdin_t *in, const dns_tok_t *t, bool lenpfx, size_t max)
{
    uint8_t *p = in->out + in->n;
    size_t room = in->cap - in->n;
    if (room < (lenpfx ? 1u : 0u))
        return dns_rdin_fail(in, ZL_ESPACE, "RDATA too long");
    int r = unescape(t, p + lenpfx, (room - lenpfx) < max ? room - lenpfx : max);
    if (r == ZL_ERANGE && room - lenpfx >= max)
        return dns_rdin_fail(in, ZL_ERANGE, "character-string longer than 255 octets");
    if (r < 0)
        return dns_rdin_fail(in, r == ZL_ERANGE ? ZL_ESPACE : r, "bad escape in string");
    if (lenpfx)
        p[0] = (uint8_t)r;
    in->n += (size_t)r + lenpfx;
    return ZL_OK;
}

int dns_ipv4_from_text(const char *s, size_t len, uint8_t a[4])
{
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        unsigned v = 0, nd = 0;
        if (k && (i >= len || s[i++] != '.'))
            return ZL_ESYNTAX;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && nd < 4; i++, nd++)
            v = v * 10 + (unsigned)(s[i] - '0');
        /* RFC 6742 §2.2 writes 10.1.02.10: leading zeros are decimal */
        if (nd == 0 || nd > 3 || v > 255)
            return ZL_ESYNTAX;
        a[k] = (uint8_t)v;
    }
    return i == len ? ZL_OK : ZL_ESYNTAX;
}

static int addr_field(dns_rdin_t *in, int af)
{
    const char *what = af == AF_INET ? "bad IPv4 address" : "bad IPv6 address";
    const dns_tok_t *t = dns_rdin_next(in, what);
    char s[64];
    uint8_t a[16];
    if (!t)
        return ZL_ESYNTAX;
    if (af == AF_INET) {
        if (dns_ipv4_from_text(t->s, t->len, a) < 0)
            return dns_rdin_fail(in, ZL_ESYNTAX, what);
        return dns_rdin_put(in, a, 4);
    }
    if (t->len >= sizeof s)
        return dns_rdin_fail(in, ZL_ESYNTAX, what);
    memcpy(s, t->s, t->len);
    s[t->len] = 0;
    if (inet_pton(af, s, a) != 1)
        return dns_rdin_fail(in, ZL_ESYNTAX, what);
    return dns_rdin_put(in, a, af == AF_INET ? 4 : 16);
}

static int name_field(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing domain name");
    uint8_t name[DNS_NAME_MAX];
    if (!t)
        return ZL_ESYNTAX;
    int r = dns_name_from_text(t->s, t->len, in->origin, name);
    if (r < 0)
        return dns_rdin_fail(in, r == ZL_ENAMELEN ? ZL_ERANGE : ZL_ESYNTAX, "bad domain name");
    return dns_rdin_put(in, name, (size_t)r);
}

static int type_field(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing type");
    uint16_t ty;
    uint8_t b[2];
    if (!t)
        return ZL_ESYNTAX;
    if (dns_type_from_text(t->s, t->len, &ty) < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "unknown type mnemonic");
    dns_put_u16(b, ty);
    return dns_rdin_put(in, b, 2);
}

/* Seconds, or BIND-style units as zone files write SOA timers ("1h30m",
 * "2w"); at most 2^32-1. */
static int period_field(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "bad time period");
    uint64_t total = 0, v = 0;
    bool digits = false;
    uint8_t b[4];
    if (!t)
        return ZL_ESYNTAX;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->s[i];
        if (c >= '0' && c <= '9') {
            v = v * 10 + (uint64_t)(c - '0');
            digits = true;
            if (v > UINT32_MAX)
                return dns_rdin_fail(in, ZL_ERANGE, "time period out of range");
            continue;
        }
        const char *u = strchr("sSmMhHdDwW", c);
        static const uint32_t mult[] = { 1, 60, 3600, 86400, 604800 };
        if (!u || !digits || c == 0)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad time period");
        total += v * mult[(u - "sSmMhHdDwW") / 2];
        v = 0;
        digits = false;
        if (total > UINT32_MAX)
            return dns_rdin_fail(in, ZL_ERANGE, "time period out of range");
    }
    total += v;
    if (t->len == 0 || total > UINT32_MAX)
        return dns_rdin_fail(in, t->len ? ZL_ERANGE : ZL_ESYNTAX, "time period out of range");
    dns_put_u32(b, (uint32_t)total);
    return dns_rdin_put(in, b, 4);
}

static int time_field(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing signature time");
    uint8_t b[4];
    uint32_t v;
    int r;
    if (!t)
        return ZL_ESYNTAX;
    if ((r = time_from_text(in, t, &v)) < 0)
        return r;
    dns_put_u32(b, v);
    return dns_rdin_put(in, b, 4);
}

/* RFC 8659 §4.1: a CAA tag is ASCII letters and digits. */
static int tag_field(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing tag");
    if (!t)
        return ZL_ESYNTAX;
    for (size_t i = 0; i < t->len; i++)
        if (!((t->s[i] >= 'a' && t->s[i] <= 'z') || (t->s[i] >= 'A' && t->s[i] <= 'Z') ||
              (t->s[i] >= '0' && t->s[i] <= '9')))
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad CAA tag");
    if (t->len == 0 || t->len > 255)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad CAA tag");
    return str_field(in, t, true, 255);
}

/* u8 length + octets from one token: the NSEC3 salt in hex ("-" when
 * empty, RFC 5155 §3.3) or the next hashed owner in base32hex. */
static int lenpfx_field(dns_rdin_t *in, bool salt)
{
    const char *what = salt ? "bad salt" : "bad hashed owner name";
    const dns_tok_t *t = dns_rdin_next(in, what);
    if (!t)
        return ZL_ESYNTAX;
    size_t at = in->n;
    if (dns_rdin_put(in, "", 1) < 0)
        return ZL_ESPACE;
    int r = salt && t->len == 1 && t->s[0] == '-' ? 0
          : salt ? dns_hex_decode(t->s, t->len, in->out + in->n, in->cap - in->n)
          : dns_b32hex_decode(t->s, t->len, in->out + in->n, in->cap - in->n);
    if (r < 0 || r > 255 || (!salt && r == 0))
        return dns_rdin_fail(in, r > 255 ? ZL_ERANGE : ZL_ESYNTAX, what);
    in->out[at] = (uint8_t)r;
    in->n += (size_t)r;
    return ZL_OK;
}

/* <character-string>s: one (optional when opt), or all remaining. */
static int strings_field(dns_rdin_t *in, bool opt, bool all)
{
    int r;
    if (in->i >= in->ntok)
        return opt ? ZL_OK : dns_rdin_fail(in, ZL_ESYNTAX, "missing character-string");
    do {
        if ((r = str_field(in, &in->tok[in->i++], true, 255)) < 0)
            return r;
    } while (all && in->i < in->ntok);
    return ZL_OK;
}

static int eui_ilnp_field(dns_rdin_t *in, uint8_t k)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing address");
    if (!t)
        return ZL_ESYNTAX;
    if (k == DNS_F_ILNP64)
        return groups_from_text(in, t, 4, 4, false, ':', "bad ILNP locator");
    return groups_from_text(in, t, k == DNS_F_EUI48 ? 6 : 8, 2, true, '-', "bad EUI address");
}

/* One field of kind k from the tokens: a dispatcher, one line a kind. */
static int field_from_text(uint8_t k, dns_rdin_t *in)
{
    const dns_tok_t *t;
    switch (k) {
    case DNS_F_NAME: return name_field(in);
    case DNS_F_U8: return uint_field(in, 1, NULL, "bad 8-bit number");
    case DNS_F_U16: return uint_field(in, 2, NULL, "bad 16-bit number");
    case DNS_F_U32: return uint_field(in, 4, NULL, "bad 32-bit number");
    case DNS_F_U48: return uint_field(in, 6, NULL, "bad 48-bit number");
    case DNS_F_ALG: return uint_field(in, 1, algs, "bad algorithm");
    case DNS_F_CERTTYPE: return uint_field(in, 2, certs, "bad certificate type");
    case DNS_F_A4: return addr_field(in, AF_INET);
    case DNS_F_A16: return addr_field(in, AF_INET6);
    case DNS_F_TYPE: return type_field(in);
    case DNS_F_TIME: return time_field(in);
    case DNS_F_PERIOD: return period_field(in);
    case DNS_F_EUI48: case DNS_F_EUI64: case DNS_F_ILNP64: return eui_ilnp_field(in, k);
    case DNS_F_STR: return strings_field(in, false, false);
    case DNS_F_STR_OPT: return strings_field(in, true, false);
    case DNS_F_STRS: return strings_field(in, false, true);
    case DNS_F_STR_END:
        if (!(t = dns_rdin_next(in, "missing string")))
            return ZL_ESYNTAX;
        return str_field(in, t, false, 65535);
    case DNS_F_TAG: return tag_field(in);
    case DNS_F_HEX_END: return concat_decode(in, dns_hex_decode, false, "bad hex data");
    case DNS_F_B64_END: return concat_decode(in, dns_b64_decode, false, "bad base64 data");
    case DNS_F_B64_OPT: return concat_decode(in, dns_b64_decode, true, "bad base64 data");
    case DNS_F_HEX_U8: return lenpfx_field(in, true);
    case DNS_F_B32_U8: return lenpfx_field(in, false);
    case DNS_F_BITMAP: return bitmap_from_text(in);
    default: return dns_special_from_text(k, in);
    }
}

static void field_to_text(const uint8_t *rd, const dns_field_t *f, dns_rdout_t *o)
{
    const uint8_t *p = rd + f->off;
    char s[64];
    switch (f->kind) {
    case DNS_F_NAME: dns_out_name(o, p); break;
    case DNS_F_U8: case DNS_F_ALG: dns_out_fmt(o, "%u", p[0]); break;
    case DNS_F_U16: case DNS_F_CERTTYPE: dns_out_fmt(o, "%u", dns_get_u16(p)); break;
    case DNS_F_U32: case DNS_F_PERIOD: dns_out_fmt(o, "%lu", (unsigned long)dns_get_u32(p)); break;
    case DNS_F_U48:
        dns_out_fmt(o, "%llu", (unsigned long long)dns_get_u16(p) << 32 | dns_get_u32(p + 2));
        break;
    case DNS_F_TYPE:
        dns_type_to_text(dns_get_u16(p), s, sizeof s);
        dns_out_str(o, s, strlen(s));
        break;
    case DNS_F_TIME: time_to_text(o, dns_get_u32(p)); break;
    case DNS_F_A4: case DNS_F_A16:
        inet_ntop(f->kind == DNS_F_A4 ? AF_INET : AF_INET6, p, s, sizeof s);
        dns_out_str(o, s, strlen(s));
        break;
    case DNS_F_EUI48: case DNS_F_EUI64:
        for (unsigned i = 0; i < f->len; i++)
            dns_out_fmt(o, i ? "-%02x" : "%02x", p[i]);
        break;
    case DNS_F_ILNP64:
        dns_out_fmt(o, "%04x:%04x:%04x:%04x", dns_get_u16(p), dns_get_u16(p + 2),
                    dns_get_u16(p + 4), dns_get_u16(p + 6));
        break;
    case DNS_F_STR: case DNS_F_STR_OPT: dns_out_qstr(o, p + 1, p[0]); break;
    case DNS_F_STRS:
        for (size_t i = 0; i < f->len; i += 1 + (size_t)p[i]) {
            if (i)
                dns_out_str(o, " ", 1);
            dns_out_qstr(o, p + i + 1, p[i]);
        }
        break;
    case DNS_F_STR_END: dns_out_qstr(o, p, f->len); break;
    case DNS_F_TAG: dns_out_str(o, (const char *)p + 1, p[0]); break;
    case DNS_F_HEX_END: dns_out_hex(o, p, f->len); break;
    case DNS_F_B64_END: case DNS_F_B64_OPT: dns_out_b64(o, p, f->len); break;
    case DNS_F_HEX_U8:
        if (p[0] == 0)
            dns_out_str(o, "-", 1);
        dns_out_hex(o, p + 1, p[0]);
        break;
    case DNS_F_B32_U8: {
        char b[416];
        int r = dns_b32hex_encode(p + 1, p[0], b, sizeof b);
        dns_out_str(o, b, r < 0 ? 0 : (size_t)r);
        break;
    }
    case DNS_F_BITMAP: bitmap_to_text(o, p, f->len, true); break;
    default: dns_special_to_text(f->kind, rd, f, o); break;
    }
}

/* RFC 3597 §5: \# LENGTH HEX; the hex may be split over tokens. */
static int generic_from_text(dns_rdin_t *in, uint16_t type)
{
    const dns_tok_t *t;
    uint64_t len;
    in->i = 1;
    int r;
    if (!(t = dns_rdin_next(in, "missing generic RDATA length")))
        return ZL_ESYNTAX;
    if ((r = dns_rdin_num(in, t, 65535, &len, "bad generic RDATA length")) < 0)
        return r;
    if (len == 0 && in->i == in->ntok)
        return dns_rdata_check(type, in->out, 0) < 0
               ? dns_rdin_fail(in, ZL_ESYNTAX, "generic RDATA does not fit the type") : 0;
    r = concat_decode(in, dns_hex_decode, false, "bad generic RDATA hex");
    if (r < 0)
        return r;
    if (in->n != len)
        return dns_rdin_fail(in, ZL_ESYNTAX, "generic RDATA length mismatch");
    if (dns_rdata_check(type, in->out, in->n) < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "generic RDATA does not fit the type");
    return (int)in->n;
}

int dns_rdata_from_text(uint16_t type, const dns_tok_t *tok, size_t ntok,
                        const uint8_t *origin, uint8_t *out, size_t cap,
                        const char **why)
{
    dns_rdin_t in = { tok, ntok, 0, origin, out, cap, 0, NULL };
    const dns_rrdesc_t *d = dns_rrdesc(type);
    int r = ZL_OK;
    if (ntok > 0 && !tok[0].quoted && tok[0].len == 2 && memcmp(tok[0].s, "\\#", 2) == 0) {
        r = generic_from_text(&in, type);
    } else if (!d || (d->flags & DNS_RD_GENERIC)) {
        r = dns_rdin_fail(&in, ZL_ESYNTAX, "type needs the generic form \\#");
    } else {
        for (int i = 0; r == ZL_OK && i < DNS_RD_FIELDS && d->f[i] != DNS_F_END; i++)
            r = field_from_text(d->f[i], &in);
        if (r == ZL_OK && in.i < ntok)
            r = dns_rdin_fail(&in, ZL_ESYNTAX, "trailing data after RDATA");
        if (r == ZL_OK && dns_rdata_check(type, out, in.n) < 0)
            r = dns_rdin_fail(&in, ZL_ESYNTAX, "RDATA not valid for the type");
        if (r == ZL_OK)
            r = (int)in.n;
    }
    if (r < 0 && why)
        *why = in.why ? in.why : zl_strerror(r);
    return r;
}

static void generic_to_text(const uint8_t *rd, uint16_t len, dns_rdout_t *o)
{
    dns_out_fmt(o, "\\# %u", len);
    if (len) {
        dns_out_str(o, " ", 1);
        dns_out_hex(o, rd, len);
    }
}

int dns_rdata_to_text(uint16_t type, const uint8_t *rdata, uint16_t len,
                      char *buf, size_t cap)
{
    dns_rdout_t o = { buf, cap, 0, cap == 0 };
    const dns_rrdesc_t *d = dns_rrdesc(type);
    dns_field_t f[DNS_RD_FIELDS];
    int nf = d && !(d->flags & DNS_RD_GENERIC) ? dns_rd_split(d, rdata, len, f) : -1;
    if (cap)
        buf[0] = 0;
    if (nf < 0) {
        generic_to_text(rdata, len, &o);
    } else {
        for (int i = 0; i < nf; i++) {
            if (f[i].kind == DNS_F_STR_OPT && f[i].len == 0)
                continue;
            bool empty_tail = (f[i].kind == DNS_F_B64_OPT || f[i].kind == DNS_F_BITMAP ||
                               f[i].kind == DNS_F_SVCPARAMS || f[i].kind == DNS_F_NXTMAP) &&
                              f[i].len == 0;
            if (i && !empty_tail)
                dns_out_str(&o, " ", 1);
            field_to_text(rdata, &f[i], &o);
        }
    }
    /* \DDD escapes can make a presentation form up to four times its
     * RDATA; the generic form always fits DNS_RDATA_TEXT_MAX */
    if (o.full && cap >= DNS_RDATA_TEXT_MAX) {
        o = (dns_rdout_t){ buf, cap, 0, false };
        generic_to_text(rdata, len, &o);
    }
    return o.full ? ZL_ESPACE : (int)o.n;
}
