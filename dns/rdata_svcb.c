/* SVCB and HTTPS SvcParams in presentation form (RFC 9460 §2.1, §7,
 * Appendix A): key=value pairs in any order on input, sorted by key on
 * the wire (and so on output). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns/codec.h"
#include "dns/err.h"
#include "dns/rr.h"
#include "dns/rrdesc.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* SvcParamKeys with names (RFC 9460 §14.3.2); others are keyNNNNN. */
static const char *const svc_keys[] = {
    "mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"
};
#define SVC_NKEYS (sizeof svc_keys / sizeof svc_keys[0])

static int svc_key(const char *s, size_t n)
{
    for (size_t k = 0; k < SVC_NKEYS; k++)
        if (strlen(svc_keys[k]) == n && strncmp(s, svc_keys[k], n) == 0)
            return (int)k;
    if (n < 4 || n > 8 || strncmp(s, "key", 3) != 0)
        return -1;
    unsigned v = 0;
    for (size_t i = 3; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v > 65535 || (n > 4 && s[3] == '0') ? -1 : (int)v;
}

/* RFC 9460 Appendix A.1: the value is a char-string; decode its escapes.
 * Returns the octet length or <0. */
static int svc_unescape(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (uint8_t)s[i];
        if (c == '\\') {
            if (++i >= n)
                return -1;
            c = (uint8_t)s[i];
            if (is_digit((char)c)) {
                if (n - i < 3 || !is_digit(s[i + 1]) || !is_digit(s[i + 2]))
                    return -1;
                c = (c - '0') * 100 + (unsigned)(s[i + 1] - '0') * 10 + (unsigned)(s[i + 2] - '0');
                if (c > 255)
                    return -1;
                i += 2;
            }
        }
        if (k >= cap)
            return -1;
        out[k++] = (uint8_t)c;
    }
    return (int)k;
}

/* Splits a value-list at commas; "\," and "\\" stand for themselves
 * (RFC 9460 Appendix A.1). Calls item() for each; returns <0 on error. */
static int svc_list(dns_rdin_t *in, const uint8_t *v, size_t n,
                    int (*item)(dns_rdin_t *, const uint8_t *, size_t))
{
    uint8_t buf[256];
    size_t k = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || v[i] == ',') {
            if (item(in, buf, k) < 0)
                return -1;
            k = 0;
            continue;
        }
        if (v[i] == '\\' && i + 1 < n)
            i++;
        if (k == sizeof buf)
            return -1;
        buf[k++] = v[i];
    }
    return 0;
}

static int svc_alpn(dns_rdin_t *in, const uint8_t *s, size_t n)
{
    uint8_t l = (uint8_t)n;
    if (n == 0 || n > 255)
        return -1;
    return dns_rdin_put(in, &l, 1) < 0 ? -1 : dns_rdin_put(in, s, n);
}

static int svc_addr(dns_rdin_t *in, const uint8_t *s, size_t n, int af)
{
    char str[64];
    uint8_t a[16];
    if (af == AF_INET)
        return dns_ipv4_from_text((const char *)s, n, a) < 0 ? -1 : dns_rdin_put(in, a, 4);
    if (n >= sizeof str)
        return -1;
    memcpy(str, s, n);
    str[n] = 0;
    if (inet_pton(af, str, a) != 1)
        return -1;
    return dns_rdin_put(in, a, af == AF_INET ? 4 : 16);
}

static int svc_v4(dns_rdin_t *in, const uint8_t *s, size_t n) { return svc_addr(in, s, n, AF_INET); }
static int svc_v6(dns_rdin_t *in, const uint8_t *s, size_t n) { return svc_addr(in, s, n, AF_INET6); }

/* mandatory=key,key...: keys sorted, no duplicates, not itself. */
static int svc_mandatory(dns_rdin_t *in, const uint8_t *v, size_t n)
{
    uint16_t keys[64];
    size_t nk = 0, b = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] != ',')
            continue;
        int k = svc_key((const char *)v + b, i - b);
        if (k <= 0 || nk == 64)
            return -1;
        size_t j = nk++;
        for (; j > 0 && keys[j - 1] > k; j--)
            keys[j] = keys[j - 1];
        if (j > 0 && keys[j - 1] == k)
            return -1;
        keys[j] = (uint16_t)k;
        b = i + 1;
    }
    for (size_t j = 0; j < nk; j++) {
        uint8_t w[2];
        dns_put_u16(w, keys[j]);
        if (dns_rdin_put(in, w, 2) < 0)
            return -1;
    }
    return 0;
}

/* The value of key=value: in the token after '=', possibly in quotes, or
 * (when the lexer split at the quote) the next, quoted token. */
static bool svc_value(dns_rdin_t *in, const dns_tok_t *t, const char *eq,
                      const char **v, size_t *vn)
{
    *v = eq + 1;
    *vn = t->len - (size_t)(eq + 1 - t->s);
    if (*vn == 0 && in->i < in->ntok && in->tok[in->i].quoted) {
        *v = in->tok[in->i].s;
        *vn = in->tok[in->i++].len;
    } else if (*vn >= 2 && (*v)[0] == '"' && (*v)[*vn - 1] == '"') {
        (*v)++;
        *vn -= 2;
    } else if (*vn > 0 && (*v)[0] == '"') {
        return false;
    }
    return true;
}

static int svc_value_parse(dns_rdin_t *in, int key, const uint8_t *v, size_t n, bool has)
{
    uint64_t port;
    int r;
    dns_tok_t pt = { (const char *)v, n, false };
    if (!has && key != 2 && key < (int)SVC_NKEYS)
        return -1; /* every named key but no-default-alpn needs a value */
    switch (key) {
    case 0: return svc_mandatory(in, v, n);
    case 1: return svc_list(in, v, n, svc_alpn);
    case 2: return has && n ? -1 : 0;
    case 3: return dns_rdin_num(in, &pt, 65535, &port, "bad SVCB port") < 0 ? -1
                 : dns_rdin_put(in, (uint8_t[2]){ (uint8_t)(port >> 8), (uint8_t)port }, 2);
    case 4: return svc_list(in, v, n, svc_v4);
    case 5:
        if ((r = dns_b64_decode((const char *)v, n, in->out + in->n, in->cap - in->n)) <= 0)
            return -1;
        in->n += (size_t)r;
        return 0;
    case 6: return svc_list(in, v, n, svc_v6);
    default: return dns_rdin_put(in, v, n);
    }
}

/* Moves buf[m..e) in front of buf[a..m) (three reversals). */
static void rotate(uint8_t *buf, size_t a, size_t m, size_t e)
{
    size_t r[3][2] = { { a, m }, { m, e }, { a, e } };
    for (int k = 0; k < 3; k++)
        for (size_t i = r[k][0], j = r[k][1]; i + 1 < j; i++, j--) {
            uint8_t c = buf[i];
            buf[i] = buf[j - 1];
            buf[j - 1] = c;
        }
}

/* One key[=value], appended then moved to its place in key order. */
static int svc_param(dns_rdin_t *in, size_t start, const dns_tok_t *t)
{
    const char *eq = memchr(t->s, '=', t->len), *v = NULL;
    size_t vn = 0, at = in->n;
    uint8_t val[4096];
    int key = svc_key(t->s, eq ? (size_t)(eq - t->s) : t->len), vl = 0;
    if (key < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "unknown SvcParamKey");
    if (eq && (!svc_value(in, t, eq, &v, &vn) || (vl = svc_unescape(v, vn, val, sizeof val)) < 0))
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad SvcParamValue");
    if (dns_rdin_put(in, "\0\0\0", 4) < 0)
        return ZL_ESPACE;
    dns_put_u16(in->out + at, (uint16_t)key);
    if (svc_value_parse(in, key, val, (size_t)vl, eq != NULL) < 0)
        return dns_rdin_fail(in, ZL_ESYNTAX, "bad SvcParamValue");
    dns_put_u16(in->out + at + 2, (uint16_t)(in->n - at - 4));
    size_t p = start;
    for (; p < at; p += 4 + dns_get_u16(in->out + p + 2)) {
        uint16_t k = dns_get_u16(in->out + p);
        if (k == key)
            return dns_rdin_fail(in, ZL_ESYNTAX, "duplicate SvcParamKey");
        if (k > key)
            break;
    }
    rotate(in->out, p, at, in->n);
    return ZL_OK;
}

/* RFC 9460 §8: every key listed in mandatory must be present. */
static bool svc_mandatory_ok(const uint8_t *p, size_t n)
{
    if (n < 4 || dns_get_u16(p) != 0)
        return true;
    for (size_t m = 4; m < 4u + dns_get_u16(p + 2); m += 2) {
        size_t o = 0;
        while (o < n && dns_get_u16(p + o) != dns_get_u16(p + m))
            o += 4 + dns_get_u16(p + o + 2);
        if (o >= n)
            return false;
    }
    return true;
}

int dns_svc_from_text(dns_rdin_t *in)
{
    size_t start = in->n;
    while (in->i < in->ntok) {
        const dns_tok_t *t = &in->tok[in->i++];
        int r = svc_param(in, start, t);
        if (r < 0)
            return r;
    }
    if (!svc_mandatory_ok(in->out + start, in->n - start))
        return dns_rdin_fail(in, ZL_ESYNTAX, "mandatory SvcParamKey missing");
    return ZL_OK;
}

static void svc_key_text(dns_rdout_t *o, uint16_t k)
{
    if (k < SVC_NKEYS)
        dns_out_str(o, svc_keys[k], strlen(svc_keys[k]));
    else
        dns_out_fmt(o, "key%u", k);
}

/* Value octets as a quoted char-string; in lists ',' and '\' get the
 * list-level escape first (RFC 9460 Appendix A.1). */
static void svc_qstr(dns_rdout_t *o, const uint8_t *p, size_t n, bool list)
{
    for (size_t i = 0; i < n; i++) {
        if (list && (p[i] == ',' || p[i] == '\\'))
            dns_out_str(o, "\\\\", 2);
        if (p[i] == '"' || p[i] == '\\')
            dns_out_fmt(o, "\\%c", p[i]);
        else if (p[i] < 0x21 || p[i] > 0x7e)
            dns_out_fmt(o, "\\%03u", p[i]);
        else
            dns_out_str(o, (const char *)p + i, 1);
    }
}

static void svc_value_text(dns_rdout_t *o, uint16_t key, const uint8_t *v, size_t n)
{
    char s[64];
    switch (key) {
    case 0:
        for (size_t i = 0; i < n; i += 2) {
            if (i)
                dns_out_str(o, ",", 1);
            svc_key_text(o, dns_get_u16(v + i));
        }
        break;
    case 1:
        dns_out_str(o, "\"", 1);
        for (size_t i = 0; i < n; i += 1 + (size_t)v[i]) {
            if (i)
                dns_out_str(o, ",", 1);
            svc_qstr(o, v + i + 1, v[i], true);
        }
        dns_out_str(o, "\"", 1);
        break;
    case 3: dns_out_fmt(o, "%u", dns_get_u16(v)); break;
    case 4: case 6:
        for (size_t i = 0; i < n; i += key == 4 ? 4 : 16) {
            inet_ntop(key == 4 ? AF_INET : AF_INET6, v + i, s, sizeof s);
            dns_out_fmt(o, "%s%s", i ? "," : "", s);
        }
        break;
    case 5: dns_out_b64(o, v, n); break;
    default:
        dns_out_str(o, "\"", 1);
        svc_qstr(o, v, n, false);
        dns_out_str(o, "\"", 1);
    }
}

void dns_svc_to_text(const uint8_t *p, size_t n, dns_rdout_t *o)
{
    for (size_t off = 0; off < n; off += 4 + (size_t)dns_get_u16(p + off + 2)) {
        uint16_t key = dns_get_u16(p + off), vl = dns_get_u16(p + off + 2);
        if (off)
            dns_out_str(o, " ", 1);
        svc_key_text(o, key);
        if (key == 2 || (key >= SVC_NKEYS && vl == 0))
            continue;
        dns_out_str(o, "=", 1);
        svc_value_text(o, key, p + off + 4, vl);
    }
}
