#include <stdio.h>

#include "dns/err.h"
#include "zone/lexer.h"

/* Nibble labels as BIND writes them: least significant nibble first,
 * dot separated; width counts characters (dots included) and pads with
 * zero nibbles. */
static int gen_nibbles(unsigned long v, unsigned width, bool upper, char *out, size_t cap)
{
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t o = 0;
    do {
        if (o + 2 > cap)
            return ZL_ESPACE;
        out[o++] = hex[v & 0xf];
        v >>= 4;
        if (width > 0)
            width--;
        if (width > 0 || v != 0) {
            out[o++] = '.';
            if (width > 0)
                width--;
        }
    } while (v != 0 || width > 0);
    return (int)o;
}

static int gen_format(long v, unsigned width, char base, char *out, size_t cap)
{
    if (base == 'n' || base == 'N')
        return gen_nibbles((unsigned long)v, width, base == 'N', out, cap);
    const char *fmt = base == 'o' ? "%0*lo" : base == 'x' ? "%0*lx" : base == 'X' ? "%0*lX" : "%0*lu";
    int n = snprintf(out, cap, fmt, (int)width, (unsigned long)v);
    return n < 0 || (size_t)n >= cap ? ZL_ESPACE : n;
}

/* Reads an optionally signed decimal number at *s (before e). */
static bool gen_num(const char **s, const char *e, long *out)
{
    bool neg = false, any = false;
    long v = 0;
    if (*s < e && (**s == '-' || **s == '+'))
        neg = *(*s)++ == '-';
    while (*s < e && **s >= '0' && **s <= '9') {
        v = v * 10 + (*(*s)++ - '0');
        if (v > 0x7fffffffL)
            return false;
        any = true;
    }
    *out = neg ? -v : v;
    return any;
}

/* Parses `{offset[,width[,base]]}` at *s, just after the `$`. */
static bool gen_modifier(const char **s, const char *e, long *off, long *width, char *base)
{
    (*s)++;
    if (!gen_num(s, e, off))
        return false;
    if (*s < e && **s == ',') {
        (*s)++;
        if (!gen_num(s, e, width) || *width < 0 || *width > 255)
            return false;
        if (*s < e && **s == ',') {
            (*s)++;
            if (*s >= e)
                return false;
            *base = *(*s)++;
            if (*base != 'd' && *base != 'o' && *base != 'x' && *base != 'X' &&
                *base != 'n' && *base != 'N')
                return false;
        }
    }
    if (*s >= e || **s != '}')
        return false;
    (*s)++;
    return true;
}

int zone_gen_expand(const dns_tok_t *tok, long value, char *out, size_t cap,
                    const char **why)
{
    const char *s = tok->s, *e = tok->s + tok->len;
    size_t o = 0;
    while (s < e) {
        size_t n = (*s == '\\' && s + 1 < e) ? 2 : 1;
        if (*s != '$') {
            if (o + n > cap)
                goto space;
            while (n--)
                out[o++] = *s++;
            continue;
        }
        s++;
        long off = 0, width = 0;
        char base = 'd';
        if (s < e && *s == '{' && !gen_modifier(&s, e, &off, &width, &base)) {
            *why = "bad ${offset,width,base} in $GENERATE";
            return ZL_ESYNTAX;
        }
        if (value + off < 0) {
            *why = "negative value in $GENERATE";
            return ZL_ERANGE;
        }
        int k = gen_format(value + off, (unsigned)width, base, out + o, cap - o);
        if (k < 0)
            goto space;
        o += (size_t)k;
    }
    return (int)o;
space:
    *why = "$GENERATE expansion too long";
    return ZL_ESPACE;
}
