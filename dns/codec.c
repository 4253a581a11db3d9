#include "dns/codec.h"

#include <stdbool.h>

#include "dns/err.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int dns_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    if (len % 2)
        return ZL_ESYNTAX;
    if (len / 2 > cap)
        return ZL_ESPACE;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return ZL_ESYNTAX;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(len / 2);
}

int dns_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char dig[] = "0123456789ABCDEF";
    if (len * 2 > cap)
        return ZL_ESPACE;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = dig[in[i] >> 4];
        out[2 * i + 1] = dig[in[i] & 15];
    }
    return (int)(len * 2);
}

static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* One quantum of 4 characters; pad counts the trailing '=' (0..2). */
static int b64_quantum(const char *s, bool last, uint8_t v[3])
{
    int pad = 0;
    uint32_t acc = 0;
    for (int i = 0; i < 4; i++) {
        int d = b64val(s[i]);
        if (d < 0) {
            /* '=' only at the end of the last quantum, at most two */
            if (s[i] != '=' || !last || i < 2)
                return -1;
            pad++;
            d = 0;
        } else if (pad) {
            return -1;
        }
        acc = acc << 6 | (uint32_t)d;
    }
    v[0] = (uint8_t)(acc >> 16); v[1] = (uint8_t)(acc >> 8); v[2] = (uint8_t)acc;
    return pad;
}

int dns_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (len % 4)
        return ZL_ESYNTAX;
    for (size_t i = 0; i < len; i += 4) {
        uint8_t v[3];
        int pad = b64_quantum(s + i, i + 4 == len, v);
        if (pad < 0)
            return ZL_ESYNTAX;
        if (n + 3 - (size_t)pad > cap)
            return ZL_ESPACE;
        for (int k = 0; k < 3 - pad; k++)
            out[n++] = v[k];
    }
    return (int)n;
}

int dns_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t need = (len + 2) / 3 * 4, n = 0;
    if (need > cap)
        return ZL_ESPACE;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t acc = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            acc |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            acc |= in[i + 2];
        out[n++] = b64dig[acc >> 18 & 63];
        out[n++] = b64dig[acc >> 12 & 63];
        out[n++] = i + 1 < len ? b64dig[acc >> 6 & 63] : '=';
        out[n++] = i + 2 < len ? b64dig[acc & 63] : '=';
    }
    return (int)n;
}

static int b32val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'v')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'V')
        return c - 'A' + 10;
    return -1;
}

int dns_b32hex_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    /* lengths 1, 3 and 6 mod 8 cannot come from whole octets */
    if (len % 8 == 1 || len % 8 == 3 || len % 8 == 6)
        return ZL_ESYNTAX;
    for (size_t i = 0; i < len; i++) {
        int d = b32val(s[i]);
        if (d < 0)
            return ZL_ESYNTAX;
        acc = (acc << 5 | (uint32_t)d) & 0x1fff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return ZL_ESPACE;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1))
        return ZL_ESYNTAX; /* non-zero padding bits */
    return (int)n;
}

int dns_b32hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    static const char dig[] = "0123456789abcdefghijklmnopqrstuv";
    size_t need = (len * 8 + 4) / 5, n = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    if (need > cap)
        return ZL_ESPACE;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8 | in[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = dig[acc >> bits & 31];
        }
    }
    if (bits)
        out[n++] = dig[acc << (5 - bits) & 31];
    return (int)n;
}
