/* tests/dns/test_rr.c: RR type table and RDATA (dns/rrtype.c,
 * dns/rdata_text.c, dns/rdata_special.c), with ldns as the oracle. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/name.h"
#include "dns/rr.h"

#define CORPUS "tests/dns/rdata-corpus.txt"
#define MAXTOK 512

static const uint8_t origin[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };

/* Splits presentation text as the zone lexer does: whitespace separates,
 * "..." is one token (quotes removed, escapes kept), a quote in the middle
 * of a token (key="v") ends the token before it. Returns the count. */
static size_t tokenize(const char *s, dns_tok_t *tok, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        if (*s == ' ' || *s == '\t') {
            s++;
            continue;
        }
        const char *b = s;
        if (*s == '"') {
            for (s++, b = s; *s && *s != '"'; s++)
                if (*s == '\\' && s[1])
                    s++;
            tok[n++] = (dns_tok_t){ b, (size_t)(s - b), true };
            if (*s)
                s++;
            continue;
        }
        for (; *s && *s != ' ' && *s != '\t' && *s != '"'; s++)
            if (*s == '\\' && s[1])
                s++;
        tok[n++] = (dns_tok_t){ b, (size_t)(s - b), false };
    }
    return n;
}

typedef struct line {
    int no;
    char text[8192];   /* "TYPE RDATA" */
    char hex[2048];    /* expected RDATA when ldns cannot be asked */
    int noldns;        /* do not ask ldns about the printed form */
} line_t;

/* Reads the next record line; returns 0 at the end. */
static int next_line(FILE *f, line_t *l, int *no)
{
    char buf[8192];
    while (fgets(buf, sizeof buf, f)) {
        (*no)++;
        buf[strcspn(buf, "\n")] = 0;
        if (buf[0] == '#' || buf[0] == 0)
            continue;
        memset(l, 0, sizeof *l);
        l->no = *no;
        char *d = strstr(buf, " ;hex=");
        if (d) {
            sscanf(d + 6, "%2047[0-9a-fA-F]", l->hex);
            *d = 0;
        }
        if ((d = strstr(buf, " ;noldns"))) {
            l->noldns = 1;
            *d = 0;
        }
        snprintf(l->text, sizeof l->text, "%s", buf);
        return 1;
    }
    return 0;
}

/* ldns's RDATA wire form of "x.example. 3600 IN <text>", or -1. */
static int ldns_rdata(const char *text, uint8_t *out, size_t cap)
{
    char rrs[8192];
    ldns_rr *rr = NULL;
    ldns_rdf *o = ldns_dname_new_frm_str("example.");
    snprintf(rrs, sizeof rrs, "x.example. 3600 IN %s", text);
    ldns_status st = ldns_rr_new_frm_str(&rr, rrs, 3600, o, NULL);
    ldns_rdf_deep_free(o);
    if (st != LDNS_STATUS_OK)
        return -1;
    ldns_buffer *b = ldns_buffer_new(65536);
    ldns_rr_rdata2buffer_wire(b, rr);
    int n = (int)ldns_buffer_position(b);
    if ((size_t)n > cap)
        n = -1;
    else
        memcpy(out, ldns_buffer_begin(b), (size_t)n);
    ldns_buffer_free(b);
    ldns_rr_free(rr);
    return n;
}

static int hexval(const char *h, uint8_t *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return (int)n;
}

static void dump(const char *what, const uint8_t *p, int n)
{
    char s[4096];
    int k = 0;
    for (int i = 0; i < n && k < (int)sizeof s - 3; i++)
        k += snprintf(s + k, sizeof s - (size_t)k, "%02x", p[i]);
    s[k] = 0;
    print_message("    %s (%d): %s\n", what, n, s);
}

/* zonelet's RDATA for "TYPE RDATA"; sets *type. */
static int zl_rdata(const char *text, uint16_t *type, uint8_t *out, size_t cap, const char **why)
{
    dns_tok_t tok[MAXTOK];
    size_t n = tokenize(text, tok, MAXTOK);
    if (n == 0 || dns_type_from_text(tok[0].s, tok[0].len, type) < 0) {
        *why = "unknown type";
        return ZL_ETYPE;
    }
    return dns_rdata_from_text(*type, tok + 1, n - 1, origin, out, cap, why);
}

static int check_line(const line_t *l)
{
    static uint8_t mine[65536], want[65536], again[65536], wire[65536];
    static char text[DNS_RDATA_TEXT_MAX], full[DNS_RDATA_TEXT_MAX + 64];
    const char *why = NULL;
    uint16_t type;
    int n = zl_rdata(l->text, &type, mine, sizeof mine, &why), w;
    if (n < 0) {
        print_message("line %d: zonelet rejects: %s (%s)\n", l->no, zl_strerror(n), why);
        return 1;
    }
    w = l->hex[0] ? hexval(l->hex, want) : ldns_rdata(l->text, want, sizeof want);
    if (w < 0 || w != n || memcmp(mine, want, (size_t)n) != 0) {
        print_message("line %d: %s: differs from %s\n", l->no, l->text, l->hex[0] ? "hex" : "ldns");
        dump("zonelet", mine, n);
        dump(l->hex[0] ? "expected" : "ldns", want, w);
        return 1;
    }
    /* printed form parses back to the same octets, in zonelet and ldns */
    int tl = dns_rdata_to_text(type, mine, (uint16_t)n, text, sizeof text);
    char tname[32];
    dns_type_to_text(type, tname, sizeof tname);
    snprintf(full, sizeof full, "%s %s", tname, text);
    int m = tl < 0 ? tl : zl_rdata(full, &type, again, sizeof again, &why);
    if (m != n || memcmp(mine, again, (size_t)n) != 0) {
        print_message("line %d: printed \"%s\" reparses differently (%d)\n", l->no, full, m);
        return 1;
    }
    if (!l->noldns && !l->hex[0]) {
        m = ldns_rdata(full, again, sizeof again);
        if (m != n || memcmp(mine, again, (size_t)n) != 0) {
            print_message("line %d: ldns reads printed \"%s\" differently\n", l->no, full);
            dump("ldns", again, m);
            return 1;
        }
    }
    /* wire: parse (as if received) and check agree */
    dns_wire_t r;
    memcpy(wire, mine, (size_t)n);
    dns_wire_init_ro(&r, wire, (size_t)n);
    m = dns_rdata_parse(&r, type, (uint16_t)n, again, sizeof again);
    if (m != n || memcmp(mine, again, (size_t)n) != 0 || r.pos != (size_t)n ||
        dns_rdata_check(type, mine, (size_t)n) != ZL_OK) {
        print_message("line %d: wire parse gives %d\n", l->no, m);
        return 1;
    }
    return 0;
}

static void corpus_matches_ldns(void **state)
{
    (void)state;
    FILE *f = fopen(getenv("RR_CORPUS") ? getenv("RR_CORPUS") : CORPUS, "r");
    assert_non_null(f);
    line_t l;
    int no = 0, bad = 0, total = 0;
    while (next_line(f, &l, &no)) {
        total++;
        bad += check_line(&l);
    }
    fclose(f);
    print_message("corpus: %d records, %d failures\n", total, bad);
    assert_true(total > 150);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_matches_ldns),
    };
    return cmocka_run_group_tests_name("rr", tests, NULL, NULL);
}
