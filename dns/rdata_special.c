/* Field kinds whose presentation form is a small grammar of its own:
 * LOC (RFC 1876), APL (RFC 3123), WKS (RFC 1035 §3.4.2), the IPSECKEY
 * gateway (RFC 4025), HIP (RFC 8005), A6 (RFC 2874), NSAP (RFC 1706) and
 * the NXT bitmap (RFC 2535). SvcParams are in dns/rdata_svcb.c. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns/codec.h"
#include "dns/err.h"
#include "dns/rr.h"
#include "dns/rrdesc.h"

static bool tok_is(const dns_tok_t *t, const char *s)
{
    return strlen(s) == t->len && strncasecmp(t->s, s, t->len) == 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal with up to `frac` fraction digits, scaled by 10^frac; an
 * optional trailing 'm' (LOC metres). Returns false on bad syntax. */
static bool decimal(const dns_tok_t *t, unsigned frac, bool unit, bool neg_ok, int64_t *v)
{
    size_t i = 0, n = t->len;
    bool neg = false;
    int64_t ip = 0, fp = 0;
    unsigned nf = 0, nd = 0;
    if (unit && n > 0 && (t->s[n - 1] == 'm' || t->s[n - 1] == 'M'))
        n--;
    if (neg_ok && i < n && t->s[i] == '-') {
        neg = true;
        i++;
    }
    for (; i < n && is_digit(t->s[i]) && nd < 12; i++, nd++)
        ip = ip * 10 + (t->s[i] - '0');
    if (nd == 0 || nd >= 12)
        return false;
    if (i < n && t->s[i] == '.') {
        for (i++; i < n && is_digit(t->s[i]) && nf < frac; i++, nf++)
            fp = fp * 10 + (t->s[i] - '0');
    }
    if (i != n)
        return false;
    for (; nf < frac; nf++)
        fp *= 10;
    for (unsigned k = 0; k < frac; k++)
        ip *= 10;
    *v = neg ? -(ip + fp) : ip + fp;
    return true;
}

/* One coordinate: degrees [minutes [seconds.fff]] hemisphere. */
static int loc_coord(dns_rdin_t *in, const char *pos, const char *negc, uint32_t maxdeg,
                     uint32_t *out)
{
    int64_t part[3] = { 0, 0, 0 }, v;
    const dns_tok_t *t;
    for (int k = 0; k < 4; k++) {
        if (!(t = dns_rdin_next(in, "bad LOC coordinate")))
            return ZL_ESYNTAX;
        if (k > 0 && (tok_is(t, pos) || tok_is(t, negc)))
            break;
        if (k == 3 || !decimal(t, k == 2 ? 3 : 0, false, false, &v))
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad LOC coordinate");
        part[k] = v;
    }
    if (part[1] > 59 || part[2] > 59999)
        return dns_rdin_fail(in, ZL_ERANGE, "LOC minutes or seconds out of range");
    int64_t ms = part[0] * 3600000 + part[1] * 60000 + part[2];
    if (ms > (int64_t)maxdeg * 3600000)
        return dns_rdin_fail(in, ZL_ERANGE, "LOC coordinate out of range");
    *out = (uint32_t)(tok_is(t, pos) ? (1ll << 31) + ms : (1ll << 31) - ms);
    return ZL_OK;
}

/* Precision in centimetres as RFC 1876 mantissa/exponent nibbles. */
static uint8_t loc_prec(int64_t cm)
{
    uint8_t e = 0;
    while (cm >= 10) {
        cm /= 10;
        e++;
    }
    return (uint8_t)(cm << 4 | e);
}

static int loc_from_text(dns_rdin_t *in)
{
    uint8_t b[16] = { 0, 0x12, 0x16, 0x13 }; /* v0, 1m, 10000m, 10m */
    uint32_t lat, lon;
    int64_t v;
    const dns_tok_t *t;
    int r;
    if ((r = loc_coord(in, "N", "S", 90, &lat)) < 0 || (r = loc_coord(in, "E", "W", 180, &lon)) < 0)
        return r;
    if (!(t = dns_rdin_next(in, "bad LOC altitude")))
        return ZL_ESYNTAX;
    if (!decimal(t, 2, true, true, &v))
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad LOC altitude");
    if (v < -10000000 || v > 4284967295ll)
        return dns_rdin_fail(in, ZL_ERANGE, "LOC altitude out of range");
    dns_put_u32(b + 4, lat);
    dns_put_u32(b + 8, lon);
    dns_put_u32(b + 12, (uint32_t)(v + 10000000));
    for (int k = 1; k <= 3 && in->i < in->ntok; k++) {
        t = &in->tok[in->i++];
        if (!decimal(t, 2, true, false, &v))
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad LOC precision");
        if (v > 9000000000ll)
            return dns_rdin_fail(in, ZL_ERANGE, "LOC precision out of range");
        b[k] = loc_prec(v);
    }
    return dns_rdin_put(in, b, 16);
}

static void loc_prec_to_text(dns_rdout_t *o, uint8_t p)
{
    uint64_t cm = p >> 4;
    for (unsigned e = p & 15; e > 0; e--)
        cm *= 10;
    if (cm % 100)
        dns_out_fmt(o, " %llu.%02llum", (unsigned long long)cm / 100,
                    (unsigned long long)cm % 100);
    else
        dns_out_fmt(o, " %llum", (unsigned long long)cm / 100);
}

static void loc_coord_to_text(dns_rdout_t *o, uint32_t v, char pos, char neg)
{
    int64_t ms = (int64_t)v - (1ll << 31);
    char h = ms < 0 ? neg : pos;
    if (ms < 0)
        ms = -ms;
    dns_out_fmt(o, "%lld %lld %lld.%03lld %c", (long long)(ms / 3600000),
                (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60),
                (long long)(ms % 1000), h);
}

static void loc_to_text(const uint8_t *p, dns_rdout_t *o)
{
    loc_coord_to_text(o, dns_get_u32(p + 4), 'N', 'S');
    dns_out_str(o, " ", 1);
    loc_coord_to_text(o, dns_get_u32(p + 8), 'E', 'W');
    int64_t alt = (int64_t)dns_get_u32(p + 12) - 10000000;
    dns_out_fmt(o, " %s%lld.%02lldm", alt < 0 ? "-" : "", (long long)(alt < 0 ? -alt : alt) / 100,
                (long long)(alt < 0 ? -alt : alt) % 100);
    for (int k = 1; k <= 3; k++)
        loc_prec_to_text(o, p[k]);
}

/* RFC 3123 §5: [!]afi:address/prefix, family 1 or 2; trailing zero
 * octets of the address are not sent (§4). */
static int apl_item(dns_rdin_t *in, const dns_tok_t *t)
{
    char s[64];
    uint8_t item[4 + 16];
    size_t i = 0;
    bool neg = t->len > 0 && t->s[0] == '!';
    const char *colon = memchr(t->s, ':', t->len), *slash = memchr(t->s, '/', t->len);
    if (!colon || !slash || slash < colon || (size_t)(slash - colon) >= sizeof s)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad APL item");
    dns_tok_t fam = { t->s + neg, (size_t)(colon - t->s) - neg, false };
    dns_tok_t pfx = { slash + 1, t->len - (size_t)(slash + 1 - t->s), false };
    uint64_t f, plen;
    if (dns_rdin_num(in, &fam, 2, &f, "bad APL address family") < 0 || f == 0 ||
        dns_rdin_num(in, &pfx, f == 1 ? 32 : 128, &plen, "bad APL prefix") < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad APL item");
    memcpy(s, colon + 1, (size_t)(slash - colon - 1));
    s[slash - colon - 1] = 0;
    if (f == 1 ? dns_ipv4_from_text(s, strlen(s), item + 4) < 0
               : inet_pton(AF_INET6, s, item + 4) != 1)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad APL address");
    for (i = f == 1 ? 4 : 16; i > 0 && item[4 + i - 1] == 0; i--)
        ;
    dns_put_u16(item, (uint16_t)f);
    item[2] = (uint8_t)plen;
    item[3] = (uint8_t)((neg ? 0x80 : 0) | i);
    return dns_rdin_put(in, item, 4 + i);
}

static void apl_to_text(const uint8_t *p, size_t n, dns_rdout_t *o)
{
    for (size_t off = 0; off < n; off += 4 + (p[off + 3] & 0x7fu)) {
        uint8_t a[16] = { 0 };
        char s[64];
        uint16_t fam = dns_get_u16(p + off);
        memcpy(a, p + off + 4, p[off + 3] & 0x7fu);
        inet_ntop(fam == 1 ? AF_INET : AF_INET6, a, s, sizeof s);
        dns_out_fmt(o, "%s%s%u:%s/%u", off ? " " : "", p[off + 3] & 0x80 ? "!" : "",
                    fam, s, p[off + 2]);
    }
}

/* Well-known service names accepted in WKS (printed as numbers). */
static const struct { uint16_t port; const char *name; } services[] = {
    { 7, "echo" }, { 9, "discard" }, { 13, "daytime" }, { 19, "chargen" },
    { 20, "ftp-data" }, { 21, "ftp" }, { 22, "ssh" }, { 23, "telnet" },
    { 25, "smtp" }, { 37, "time" }, { 43, "whois" }, { 53, "domain" },
    { 69, "tftp" }, { 70, "gopher" }, { 79, "finger" }, { 80, "http" },
    { 88, "kerberos" }, { 110, "pop3" }, { 111, "sunrpc" }, { 119, "nntp" },
    { 123, "ntp" }, { 143, "imap" }, { 161, "snmp" }, { 162, "snmp-trap" },
    { 179, "bgp" }, { 389, "ldap" }, { 443, "https" }, { 465, "submissions" },
    { 514, "syslog" }, { 587, "submission" }, { 636, "ldaps" },
    { 853, "domain-s" }, { 993, "imaps" }, { 995, "pop3s" },
};

static int wks_from_text(dns_rdin_t *in)
{
    uint8_t map[1 + 8192] = { 0 };
    size_t len = 0;
    uint64_t v;
    const dns_tok_t *t = dns_rdin_next(in, "missing WKS protocol");
    if (!t)
        return ZL_ESYNTAX;
    if (tok_is(t, "tcp") || tok_is(t, "udp"))
        v = tok_is(t, "tcp") ? 6 : 17;
    else if (dns_rdin_num(in, t, 255, &v, "bad WKS protocol") < 0)
        return ZL_ESYNTAX;
    map[0] = (uint8_t)v;
    for (; in->i < in->ntok; in->i++) {
        t = &in->tok[in->i];
        size_t k = 0;
        for (; k < sizeof services / sizeof services[0] && !tok_is(t, services[k].name); k++)
            ;
        if (k < sizeof services / sizeof services[0])
            v = services[k].port;
        else if (dns_rdin_num(in, t, 65535, &v, "bad WKS service") < 0)
            return ZL_ESYNTAX;
        map[1 + v / 8] |= (uint8_t)(0x80 >> (v % 8));
        if (v / 8 + 1 > len)
            len = v / 8 + 1;
    }
    return dns_rdin_put(in, map, 1 + len);
}

static void wks_to_text(const uint8_t *p, size_t n, dns_rdout_t *o)
{
    if (p[0] == 6 || p[0] == 17)
        dns_out_str(o, p[0] == 6 ? "tcp" : "udp", 3);
    else
        dns_out_fmt(o, "%u", p[0]);
    for (size_t k = 0; k < (n - 1) * 8; k++)
        if (p[1 + k / 8] & (0x80 >> (k % 8)))
            dns_out_fmt(o, " %zu", k);
}

/* RFC 4025 §3.3: the gateway's form follows the gateway type octet,
 * which the table puts just before it (RDATA octet 1); "." for none. */
static int ipsecgw_from_text(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing IPSECKEY gateway");
    char s[64];
    uint8_t a[16], name[DNS_NAME_MAX];
    int r;
    if (!t)
        return ZL_ESYNTAX;
    switch (in->n >= 2 ? in->out[1] : 255) {
    case 0:
        return tok_is(t, ".") ? ZL_OK : dns_rdin_fail(in, ZL_ESYNTAX, "IPSECKEY gateway must be .");
    case 1: case 2:
        if (t->len >= sizeof s)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad IPSECKEY gateway address");
        memcpy(s, t->s, t->len);
        s[t->len] = 0;
        if (in->out[1] == 1 ? dns_ipv4_from_text(s, t->len, a) < 0 : inet_pton(AF_INET6, s, a) != 1)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad IPSECKEY gateway address");
        return dns_rdin_put(in, a, in->out[1] == 1 ? 4 : 16);
    case 3:
        if ((r = dns_name_from_text(t->s, t->len, in->origin, name)) < 0)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad IPSECKEY gateway name");
        return dns_rdin_put(in, name, (size_t)r);
    default:
        return dns_rdin_fail(in, ZL_ESYNTAX, "unknown IPSECKEY gateway type");
    }
}

static void ipsecgw_to_text(const uint8_t *rd, const dns_field_t *f, dns_rdout_t *o)
{
    char s[64];
    if (rd[1] == 3) {
        dns_out_name(o, rd + f->off);
    } else if (rd[1] == 0) {
        dns_out_str(o, ".", 1);
    } else {
        inet_ntop(rd[1] == 1 ? AF_INET : AF_INET6, rd + f->off, s, sizeof s);
        dns_out_str(o, s, strlen(s));
    }
}

/* RFC 8005 §5: PK-algorithm HIT(hex) public-key(base64) [servers...]. */
static int hip_from_text(dns_rdin_t *in)
{
    const dns_tok_t *alg = dns_rdin_next(in, "missing HIP algorithm");
    const dns_tok_t *hit = alg ? dns_rdin_next(in, "missing HIT") : NULL;
    const dns_tok_t *pk = hit ? dns_rdin_next(in, "missing HIP public key") : NULL;
    uint64_t a;
    size_t at = in->n;
    if (!pk || dns_rdin_num(in, alg, 255, &a, "bad HIP algorithm") < 0)
        return ZL_ESYNTAX;
    if (dns_rdin_put(in, "\0\0\0", 4) < 0)
        return ZL_ESPACE;
    if (dns_rdin_hex(in, hit->s, hit->len, "bad HIT") < 0)
        return ZL_ESYNTAX;
    size_t hl = in->n - at - 4;
    int r = dns_b64_decode(pk->s, pk->len, in->out + in->n, in->cap - in->n);
    if (r < 0 || hl == 0 || hl > 255)
        return dns_rdin_fail(in, ZL_ESYNTAX, r < 0 ? "bad HIP public key" : "bad HIT");
    in->n += (size_t)r;
    in->out[at] = (uint8_t)hl;
    in->out[at + 1] = (uint8_t)a;
    dns_put_u16(in->out + at + 2, (uint16_t)r);
    for (; in->i < in->ntok; in->i++) {
        uint8_t name[DNS_NAME_MAX];
        const dns_tok_t *t = &in->tok[in->i];
        if ((r = dns_name_from_text(t->s, t->len, in->origin, name)) < 0)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad HIP rendezvous server");
        if (dns_rdin_put(in, name, (size_t)r) < 0)
            return ZL_ESPACE;
    }
    return ZL_OK;
}

static void hip_to_text(const uint8_t *p, size_t n, dns_rdout_t *o)
{
    size_t hl = p[0], pl = dns_get_u16(p + 2);
    dns_out_fmt(o, "%u ", p[1]);
    dns_out_hex(o, p + 4, hl);
    dns_out_str(o, " ", 1);
    dns_out_b64(o, p + 4 + hl, pl);
    for (size_t off = 4 + hl + pl; off < n; off += dns_name_len(p + off)) {
        dns_out_str(o, " ", 1);
        dns_out_name(o, p + off);
    }
}

/* RFC 2874 §3.1.1: prefix-length address-suffix [prefix-name]. */
static int a6_from_text(dns_rdin_t *in)
{
    const dns_tok_t *pt = dns_rdin_next(in, "missing A6 prefix length");
    const dns_tok_t *at = pt ? dns_rdin_next(in, "missing A6 address") : NULL;
    uint64_t plen;
    uint8_t a[16], name[DNS_NAME_MAX];
    char s[64];
    if (!at || dns_rdin_num(in, pt, 128, &plen, "bad A6 prefix length") < 0)
        return ZL_ESYNTAX;
    if (at->len >= sizeof s)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad A6 address");
    memcpy(s, at->s, at->len);
    s[at->len] = 0;
    if (inet_pton(AF_INET6, s, a) != 1)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad A6 address");
    size_t sl = (128 - plen + 7) / 8;
    uint8_t p = (uint8_t)plen;
    if (dns_rdin_put(in, &p, 1) < 0 || dns_rdin_put(in, a + 16 - sl, sl) < 0)
        return ZL_ESPACE;
    if (plen == 0)
        return ZL_OK;
    const dns_tok_t *nt = dns_rdin_next(in, "missing A6 prefix name");
    int r = nt ? dns_name_from_text(nt->s, nt->len, in->origin, name) : ZL_ESYNTAX;
    if (r < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad A6 prefix name");
    return dns_rdin_put(in, name, (size_t)r);
}

static void a6_to_text(const uint8_t *p, dns_rdout_t *o)
{
    uint8_t a[16] = { 0 };
    char s[64];
    size_t sl = (size_t)(128 - p[0] + 7) / 8;
    memcpy(a + 16 - sl, p + 1, sl);
    inet_ntop(AF_INET6, a, s, sizeof s);
    dns_out_fmt(o, "%u %s", p[0], s);
    if (p[0]) {
        dns_out_str(o, " ", 1);
        dns_out_name(o, p + 1 + sl);
    }
}

/* RFC 1706 §6: "0x" then hex digits, with optional "." separators. */
static int nsap_from_text(dns_rdin_t *in)
{
    const dns_tok_t *t = dns_rdin_next(in, "missing NSAP address");
    char pair[2];
    size_t n = 0;
    if (!t)
        return ZL_ESYNTAX;
    if (t->len < 3 || t->s[0] != '0' || (t->s[1] != 'x' && t->s[1] != 'X'))
        return dns_rdin_fail(in, ZL_ESYNTAX, "NSAP must start with 0x");
    for (size_t i = 2; i < t->len; i++) {
        if (t->s[i] == '.')
            continue;
        pair[n++] = t->s[i];
        if (n == 2 && dns_rdin_hex(in, pair, 2, "bad NSAP address") < 0)
            return in->n >= in->cap ? ZL_ESPACE : ZL_ESYNTAX;
        n %= 2;
    }
    return n ? dns_rdin_fail(in, ZL_ESYNTAX, "bad NSAP address") : ZL_OK;
}

/* RFC 2535 §5.2: one bit per type 1..127, no extension. */
static int nxtmap_from_text(dns_rdin_t *in)
{
    uint8_t map[16] = { 0 };
    size_t len = 0;
    for (; in->i < in->ntok; in->i++) {
        uint16_t t;
        if (dns_type_from_text(in->tok[in->i].s, in->tok[in->i].len, &t) < 0 || t == 0 || t > 127)
            return dns_rdin_fail(in, ZL_ESYNTAX, "bad type in NXT bitmap");
        map[t / 8] |= (uint8_t)(0x80 >> (t % 8));
        if (t / 8u + 1 > len)
            len = t / 8u + 1;
    }
    return dns_rdin_put(in, map, len);
}

static void nxtmap_to_text(const uint8_t *p, size_t n, dns_rdout_t *o)
{
    char s[16];
    bool first = true;
    for (size_t k = 0; k < n * 8; k++)
        if (p[k / 8] & (0x80 >> (k % 8))) {
            dns_type_to_text((uint16_t)k, s, sizeof s);
            dns_out_fmt(o, first ? "%s" : " %s", s);
            first = false;
        }
}

int dns_special_from_text(uint8_t kind, dns_rdin_t *in)
{
    switch (kind) {
    case DNS_F_LOC: return loc_from_text(in);
    case DNS_F_APL:
        while (in->i < in->ntok)
            if (apl_item(in, &in->tok[in->i++]) < 0)
                return ZL_ESYNTAX;
        return ZL_OK;
    case DNS_F_WKS: return wks_from_text(in);
    case DNS_F_IPSECGW: return ipsecgw_from_text(in);
    case DNS_F_HIP: return hip_from_text(in);
    case DNS_F_A6: return a6_from_text(in);
    case DNS_F_NSAP: return nsap_from_text(in);
    case DNS_F_NXTMAP: return nxtmap_from_text(in);
    case DNS_F_SVCPARAMS: return dns_svc_from_text(in);
    default: return dns_rdin_fail(in, ZL_ESYNTAX, "type needs the generic form \\#");
    }
}

void dns_special_to_text(uint8_t kind, const uint8_t *rd, const dns_field_t *f,
                         dns_rdout_t *o)
{
    const uint8_t *p = rd + f->off;
    switch (kind) {
    case DNS_F_LOC: loc_to_text(p, o); break;
    case DNS_F_APL: apl_to_text(p, f->len, o); break;
    case DNS_F_WKS: wks_to_text(p, f->len, o); break;
    case DNS_F_IPSECGW: ipsecgw_to_text(rd, f, o); break;
    case DNS_F_HIP: hip_to_text(p, f->len, o); break;
    case DNS_F_A6: a6_to_text(p, o); break;
    case DNS_F_NSAP: dns_out_str(o, "0x", 2); dns_out_hex(o, p, f->len); break;
    case DNS_F_NXTMAP: nxtmap_to_text(p, f->len, o); break;
    case DNS_F_SVCPARAMS: dns_svc_to_text(p, f->len, o); break;
    default: o->full = true; break;
    }
}
