/* libFuzzer harness: RDATA of every type in the table (dns/rrtype.c).
 * Input: one octet choosing the type (high bit: text mode), then the RDATA
 * (or its presentation form). Text mode: whatever dns_rdata_from_text
 * accepts passes dns_rdata_check and prints to a form that parses back to
 * the same octets. Wire mode properties: RDATA
 * that passes dns_rdata_check prints, and the printed form parses back to
 * the same octets; parsing it as received wire gives the same octets;
 * written with compression it reads back to the same canonical form. Any
 * RDATA at all prints (generically if need be). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/rr.h"

static const uint16_t types[] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
    24, 25, 26, 27, 28, 29, 30, 33, 35, 36, 37, 38, 39, 42, 43, 44, 45, 46, 47, 48, 49,
    50, 51, 52, 53, 55, 59, 60, 61, 62, 63, 64, 65, 99, 104, 105, 106, 107, 108, 109,
    256, 257, 32769, 65280, 41, 250,
};

/* Whitespace-separated tokens, "..." quoted, as the zone lexer splits. */
static size_t tokenize(const char *s, dns_tok_t *tok, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        if (*s == ' ') {
            s++;
            continue;
        }
        const char *b = s;
        bool q = *s == '"';
        if (q)
            b = ++s;
        for (; *s && (q ? *s != '"' : *s != ' ' && *s != '"'); s++)
            if (*s == '\\' && s[1])
                s++;
        tok[n++] = (dns_tok_t){ b, (size_t)(s - b), q };
        if (q && *s)
            s++;
    }
    return n;
}

static void text_mode(uint16_t type, const uint8_t *data, size_t size)
{
    static char in[8192], text[DNS_RDATA_TEXT_MAX];
    static uint8_t rd[65536], back[65536];
    static dns_tok_t tok[4096];
    static const uint8_t origin[] = { 1, 'o', 0 };
    if (size >= sizeof in)
        return;
    memcpy(in, data, size);
    in[size] = 0; /* an embedded NUL just ends the text early */
    const char *why;
    size_t nt = tokenize(in, tok, sizeof tok / sizeof tok[0]);
    int n = dns_rdata_from_text(type, tok, nt, origin, rd, sizeof rd, &why);
    if (n < 0)
        return;
    if (dns_rdata_check(type, rd, (size_t)n) != ZL_OK)
        abort();
    if (dns_rdata_to_text(type, rd, (uint16_t)n, text, sizeof text) < 0)
        abort();
    nt = tokenize(text, tok, sizeof tok / sizeof tok[0]);
    int m = dns_rdata_from_text(type, tok, nt, NULL, back, sizeof back, &why);
    if (m != n || memcmp(rd, back, (size_t)n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[DNS_RDATA_TEXT_MAX];
    static uint8_t back[65536], wire[70000];
    static dns_tok_t tok[40000];
    if (size < 1 || size - 1 > 65535)
        return 0;
    uint16_t type = types[(data[0] & 0x7f) % (sizeof types / sizeof types[0])];
    if (data[0] & 0x80) {
        text_mode(type, data + 1, size - 1);
        return 0;
    }
    const uint8_t *rd = data + 1;
    uint16_t len = (uint16_t)(size - 1);
    bool ok = dns_rdata_check(type, rd, len) == ZL_OK;
    int tl = dns_rdata_to_text(type, rd, len, text, sizeof text);
    if (tl < 0)
        abort();
    /* malformed RDATA of a known type prints generically but does not
     * read back: RFC 3597 §5 generic RDATA of a known type is checked */
    if (!ok)
        return 0;
    size_t nt = tokenize(text, tok, sizeof tok / sizeof tok[0]);
    const char *why;
    int n = dns_rdata_from_text(type, tok, nt, NULL, back, sizeof back, &why);
    if (n != len || memcmp(back, rd, len) != 0)
        abort();
    dns_wire_t w;
    dns_wire_init_ro(&w, rd, len);
    n = dns_rdata_parse(&w, type, len, back, sizeof back);
    if (n != len || memcmp(back, rd, len) != 0)
        abort();
    /* written with compression after a copy of itself, read back */
    dns_compr_t c;
    dns_compr_init(&c);
    dns_wire_init(&w, wire, sizeof wire);
    if (dns_rdata_write(&w, type, rd, len, &c) || dns_rdata_write(&w, type, rd, len, &c))
        abort();
    dns_wire_t r;
    dns_wire_init_ro(&r, wire, w.pos);
    r.pos = 2 + dns_get_u16(wire) + 2;
    n = dns_rdata_parse(&r, type, dns_get_u16(wire + r.pos - 2), back, sizeof back);
    if (n != len || dns_rdata_cmp(type, back, len, rd, len) != 0)
        abort();
    memcpy(back, rd, len);
    dns_rdata_canonicalize(type, back, len);
    if (dns_rdata_cmp(type, back, len, rd, len) != 0 || dns_rdata_check(type, back, len) != ZL_OK)
        abort();
    return 0;
}
