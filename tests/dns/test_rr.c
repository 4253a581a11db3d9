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
#include <unistd.h>

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
    int noknot;        /* Knot DNS 3.2 rejects the input (noted in the corpus) */
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
        if ((d = strstr(buf, " ;noknot"))) {
            l->noknot = 1;
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

/* A response holding the record with owner x.example. after a question
 * for example., written with compression; ldns must read the same RDATA
 * (in canonical form: compression may borrow another spelling's case),
 * and so must dns_rdata_parse. Returns 1 on a mismatch. */
static int wire_in_message(const line_t *l, uint16_t type, const uint8_t *rd, int n)
{
    static uint8_t pkt[70000], got[65536];
    static const uint8_t owner[] = { 1, 'x', 7, 'E', 'X', 'A', 'M', 'P', 'L', 'E', 0 };
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, pkt, sizeof pkt);
    dns_compr_init(&c);
    const uint8_t hdr[12] = { 0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0 };
    dns_wire_write(&w, hdr, 12);
    dns_name_write(&w, origin, &c);
    dns_wire_put_u16(&w, type);
    dns_wire_put_u16(&w, DNS_C_IN);
    dns_name_write(&w, owner, &c);
    dns_wire_put_u16(&w, type);
    dns_wire_put_u16(&w, DNS_C_IN);
    dns_wire_put_u32(&w, 3600);
    size_t at = w.pos + 2;
    if (dns_rdata_write(&w, type, rd, (uint16_t)n, &c) != ZL_OK) {
        print_message("line %d: dns_rdata_write fails\n", l->no);
        return 1;
    }
    size_t len = w.pos;
    ldns_pkt *lp = NULL;
    int bad = 0;
    if (ldns_wire2pkt(&lp, pkt, len) != LDNS_STATUS_OK) {
        print_message("line %d: ldns cannot read the message\n", l->no);
        return 1;
    }
    ldns_buffer *b = ldns_buffer_new(65536);
    ldns_rr_rdata2buffer_wire(b, ldns_rr_list_rr(ldns_pkt_answer(lp), 0));
    if (ldns_buffer_position(b) != (size_t)n ||
        dns_rdata_cmp(type, ldns_buffer_begin(b), (uint16_t)n, rd, (uint16_t)n) != 0) {
        print_message("line %d: ldns reads the written RDATA differently\n", l->no);
        bad = 1;
    }
    ldns_buffer_free(b);
    ldns_pkt_free(lp);
    dns_wire_init_ro(&w, pkt, len);
    w.pos = at;
    int m = dns_rdata_parse(&w, type, dns_get_u16(pkt + at - 2), got, sizeof got);
    if (m != n || dns_rdata_cmp(type, got, (uint16_t)m, rd, (uint16_t)n) != 0 || w.pos != len) {
        print_message("line %d: dns_rdata_parse reads the written RDATA differently\n", l->no);
        bad = 1;
    }
    return bad;
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
    /* in a message, compressed where allowed: ldns and zonelet read it */
    if (!l->hex[0] && wire_in_message(l, type, mine, n))
        return 1;
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
    static bool seen[65536];
    while (next_line(f, &l, &no)) {
        uint16_t t;
        total++;
        bad += check_line(&l);
        if (dns_type_from_text(l.text, strcspn(l.text, " "), &t) == ZL_OK)
            seen[t] = true;
    }
    fclose(f);
    /* every type of the table with a presentation form is in the corpus */
    for (uint32_t t = 0; t <= 65535; t++)
        if (dns_type_name((uint16_t)t) && !dns_type_is_meta((uint16_t)t) && t != DNS_T_NULL &&
            !seen[t]) {
            print_message("corpus lacks type %s\n", dns_type_name((uint16_t)t));
            bad++;
        }
    print_message("corpus: %d records, %d failures\n", total, bad);
    assert_true(total > 150);
    assert_int_equal(bad, 0);
}

/* Knot DNS as a second oracle: knsupdate parses the line (its zone-file
 * scanner) and prints the record; zonelet must read Knot's printed form to
 * the octets it made of the line. Types Knot 3.2 does not know are
 * counted, not failed. Returns 1 on a mismatch. */
static int knot_line(const line_t *l, int *unsupported)
{
    static uint8_t mine[65536], theirs[65536];
    char path[] = "/tmp/zl-rr-knot-XXXXXX", out[16384], text[16400];
    const char *why;
    uint16_t type;
    int n = zl_rdata(l->text, &type, mine, sizeof mine, &why);
    int fd = mkstemp(path);
    if (fd < 0 || n < 0)
        return 1;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "zone example.\norigin example.\nadd x 3600 %s\nshow\n", l->text);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "knsupdate < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    int found = 0, bad = 0;
    while (p && fgets(out, sizeof out, p)) {
        out[strcspn(out, "\n")] = 0;
        if (strstr(out, "unsupported record type")) {
            (*unsupported)++;
            found = 1;
        } else if (strstr(out, ";; ERROR")) {
            print_message("line %d: Knot rejects %s: %s\n", l->no, l->text, out);
            bad = found = 1;
        } else if (strncmp(out, "x.example.", 10) == 0) {
            /* owner TTL class type RDATA, separated by tabs */
            char *r = out;
            for (int k = 0; k < 4 && r; k++)
                r = strchr(r + 1, '\t');
            if (!r)
                continue;
            char tname[32];
            dns_type_to_text(type, tname, sizeof tname);
            snprintf(text, sizeof text, "%s %s", tname, r + 1);
            int m = zl_rdata(text, &type, theirs, sizeof theirs, &why);
            if (m != n || memcmp(mine, theirs, (size_t)n) != 0) {
                print_message("line %d: Knot prints \"%s\", zonelet reads it differently (%d)\n",
                              l->no, text, m);
                bad = 1;
            }
            found = 1;
        }
    }
    if (p)
        pclose(p);
    unlink(path);
    if (!found)
        print_message("line %d: no answer from knsupdate\n", l->no);
    return bad || !found;
}

/* knsupdate in PATH (not in the unikernel guests, which cannot run it). */
static bool knsupdate_present(void)
{
    const char *path = getenv("PATH");
    char dir[512], file[600];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof dir) {
            memcpy(dir, path, n);
            dir[n] = 0;
            snprintf(file, sizeof file, "%s/knsupdate", dir);
            if (access(file, X_OK) == 0)
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

static void corpus_matches_knot(void **state)
{
    (void)state;
    if (!knsupdate_present())
        skip();
    FILE *f = fopen(getenv("RR_CORPUS") ? getenv("RR_CORPUS") : CORPUS, "r");
    assert_non_null(f);
    line_t l;
    int no = 0, bad = 0, total = 0, unsupported = 0, skipped = 0;
    while (next_line(f, &l, &no)) {
        if (l.noknot) {
            skipped++;
            continue;
        }
        total++;
        bad += knot_line(&l, &unsupported);
    }
    fclose(f);
    print_message("knot: %d records, %d of types Knot 3.2 lacks, %d noted divergences, %d failures\n",
                  total, unsupported, skipped, bad);
    assert_int_equal(bad, 0);
}

/* Every type code survives mnemonic -> code -> mnemonic; meta-types. */
static void type_and_class_mnemonics(void **state)
{
    (void)state;
    char buf[32];
    uint16_t t, c;
    for (uint32_t v = 0; v <= 65535; v++) {
        int n = dns_type_to_text((uint16_t)v, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(dns_type_from_text(buf, (size_t)n, &t), ZL_OK);
        assert_int_equal(t, v);
    }
    assert_int_equal(dns_type_from_text("nsec3param", 10, &t), ZL_OK);
    assert_int_equal(t, DNS_T_NSEC3PARAM);
    assert_int_equal(dns_type_from_text("TYPE65280", 9, &t), ZL_OK);
    assert_int_equal(t, 65280);
    assert_int_equal(dns_type_from_text("TYPE1", 5, &t), ZL_OK);
    assert_int_equal(t, DNS_T_A);
    assert_int_equal(dns_type_from_text("TYPE65536", 9, &t), ZL_ETYPE);
    assert_int_equal(dns_type_from_text("TYPE", 4, &t), ZL_ETYPE);
    assert_int_equal(dns_type_from_text("BOGUS", 5, &t), ZL_ETYPE);
    assert_int_equal(dns_type_from_text("TYPE1x", 6, &t), ZL_ETYPE);
    assert_string_equal(dns_type_name(DNS_T_NSAP_PTR), "NSAP-PTR");
    assert_null(dns_type_name(65280));
    assert_int_equal(dns_type_to_text(DNS_T_NSEC3PARAM, buf, 10), ZL_ESPACE);
    assert_true(dns_type_is_meta(DNS_T_ANY) && dns_type_is_meta(DNS_T_OPT) &&
                dns_type_is_meta(DNS_T_TSIG) && dns_type_is_meta(DNS_T_AXFR) &&
                dns_type_is_meta(DNS_T_IXFR) && dns_type_is_meta(DNS_T_MAILA));
    assert_false(dns_type_is_meta(DNS_T_A) || dns_type_is_meta(DNS_T_CAA) ||
                 dns_type_is_meta(65280) || dns_type_is_meta(DNS_T_DLV));
    for (uint32_t v = 0; v <= 65535; v++) {
        int n = dns_class_to_text((uint16_t)v, buf, sizeof buf);
        assert_int_equal(dns_class_from_text(buf, (size_t)n, &c), ZL_OK);
        assert_int_equal(c, v);
    }
    assert_int_equal(dns_class_from_text("in", 2, &c), ZL_OK);
    assert_int_equal(c, DNS_C_IN);
    assert_int_equal(dns_class_from_text("CH", 2, &c), ZL_OK);
    assert_int_equal(c, DNS_C_CH);
    assert_int_equal(dns_class_from_text("CLASS3", 6, &c), ZL_OK);
    assert_int_equal(c, DNS_C_CH);
    assert_int_equal(dns_class_from_text("XX", 2, &c), ZL_ETYPE);
}

/* A message with example.com at offset 12, then RDATA at `at`. */
static size_t msg_with(uint8_t *pkt, const uint8_t *rd, size_t n, size_t *at)
{
    static const uint8_t name[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
    memset(pkt, 0, 12);
    memcpy(pkt + 12, name, sizeof name);
    *at = 12 + sizeof name;
    memcpy(pkt + *at, rd, n);
    return *at + n;
}

static int parse_at(uint16_t type, const uint8_t *rd, size_t n, uint8_t *out, size_t *end)
{
    uint8_t pkt[600];
    size_t at, len = msg_with(pkt, rd, n, &at);
    dns_wire_t w;
    dns_wire_init_ro(&w, pkt, len);
    w.pos = at;
    int r = dns_rdata_parse(&w, type, (uint16_t)n, out, 600);
    *end = w.pos - at;
    return r;
}

/* RFC 3597 §4: decompress the RFC 1035 types (and SRV, RP, AFSDB...),
 * never the others. */
static void wire_parse_decompresses(void **state)
{
    (void)state;
    uint8_t out[600];
    size_t end;
    /* MX 10 mail.<example.com> */
    const uint8_t mx[] = { 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 12 };
    assert_int_equal(parse_at(DNS_T_MX, mx, sizeof mx, out, &end), 2 + 5 + 13);
    assert_int_equal(end, sizeof mx);
    assert_memory_equal(out, "\0\012\004mail\007example\003com\0", 20);
    /* SOA <example.com> hostmaster.<example.com> and five numbers */
    uint8_t soa[2 + 13 + 20] = { 0xc0, 12, 10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r',
                                 0xc0, 12 };
    for (int i = 0; i < 20; i++)
        soa[15 + i] = (uint8_t)i;
    assert_int_equal(parse_at(DNS_T_SOA, soa, sizeof soa, out, &end), 13 + 24 + 20);
    assert_int_equal(end, sizeof soa);
    assert_memory_equal(out + 13 + 24, soa + 15, 20);
    assert_memory_equal(out + 13, "\012hostmaster\007example\003com", 24);
    /* SRV target decompressed (RFC 3597 §4 SHOULD); KX and NSEC not */
    const uint8_t srv[] = { 0, 1, 0, 2, 0, 3, 0xc0, 12 };
    assert_int_equal(parse_at(DNS_T_SRV, srv, sizeof srv, out, &end), 6 + 13);
    const uint8_t kx[] = { 0, 1, 0xc0, 12 };
    assert_int_equal(parse_at(DNS_T_KX, kx, sizeof kx, out, &end), ZL_EMALF);
    const uint8_t nsec[] = { 0xc0, 12, 0, 1, 0x40 };
    assert_int_equal(parse_at(DNS_T_NSEC, nsec, sizeof nsec, out, &end), ZL_EMALF);
    /* a pointer to itself or forward is refused */
    const uint8_t loop[] = { 0, 10, 0xc0, 33 };
    assert_true(parse_at(DNS_T_MX, loop, sizeof loop, out, &end) < 0);
    /* the name may not run past RDLENGTH even though the packet goes on */
    uint8_t pkt[64];
    size_t at, len = msg_with(pkt, mx, sizeof mx, &at);
    dns_wire_t w;
    dns_wire_init_ro(&w, pkt, len);
    w.pos = at;
    assert_int_equal(dns_rdata_parse(&w, DNS_T_MX, 5, out, sizeof out), ZL_EMALF);
    assert_int_equal(w.err, ZL_EMALF);
    /* RDLENGTH beyond the packet */
    dns_wire_init_ro(&w, pkt, len);
    w.pos = at;
    assert_int_equal(dns_rdata_parse(&w, DNS_T_A, 200, out, sizeof out), ZL_EMALF);
    /* output too small */
    dns_wire_init_ro(&w, pkt, len);
    w.pos = at;
    assert_int_equal(dns_rdata_parse(&w, DNS_T_MX, sizeof mx, out, 10), ZL_ESPACE);
}

/* Compression on write only for RFC 1035 types; ldns parses the result. */
static void wire_write_compresses(void **state)
{
    (void)state;
    static const uint8_t owner[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
    uint8_t rd[64], buf[256];
    const char *why;
    uint16_t type;
    dns_tok_t tok[8];
    static const uint8_t com[] = { 3, 'c', 'o', 'm', 0 };
    size_t nt = tokenize("10 mail.EXAMPLE.com.", tok, 8);
    int n = dns_rdata_from_text(DNS_T_MX, tok, nt, com, rd, sizeof rd, &why);
    assert_int_equal(n, 2 + 18);
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, buf, sizeof buf);
    dns_compr_init(&c);
    dns_name_write(&w, owner, &c);
    assert_int_equal(dns_rdata_write(&w, DNS_T_MX, rd, (uint16_t)n, &c), ZL_OK);
    const uint8_t want[] = { 0, 9, 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 0 };
    assert_int_equal(w.pos, 13 + sizeof want);
    assert_memory_equal(buf + 13, want, sizeof want);
    /* SRV (RFC 2782) and NAPTR keep their names whole */
    n = zl_rdata("SRV 1 2 3 www.example.com.", &type, rd, sizeof rd, &why);
    dns_wire_init(&w, buf, sizeof buf);
    dns_compr_init(&c);
    dns_name_write(&w, owner, &c);
    assert_int_equal(dns_rdata_write(&w, type, rd, (uint16_t)n, &c), ZL_OK);
    assert_int_equal(w.pos, 13 + 2 + n);
    assert_memory_equal(buf + 15, rd, (size_t)n);
    /* no room: the sticky error */
    dns_wire_init(&w, buf, 5);
    assert_int_equal(dns_rdata_write(&w, type, rd, (uint16_t)n, NULL), ZL_ESPACE);
    /* an answer with a compressed SOA reads back in ldns */
    n = zl_rdata("SOA ns.example.com. hostmaster.example.com. 1 2 3 4 5", &type, rd, sizeof rd, &why);
    uint8_t pkt[512] = { 0x12, 0x34, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
    dns_wire_init(&w, pkt, sizeof pkt);
    w.pos = 12;
    dns_compr_init(&c);
    dns_name_write(&w, owner, &c);
    dns_wire_put_u16(&w, DNS_T_SOA);
    dns_wire_put_u16(&w, DNS_C_IN);
    dns_wire_put_u32(&w, 3600);
    assert_int_equal(dns_rdata_write(&w, type, rd, (uint16_t)n, &c), ZL_OK);
    assert_true(w.pos < 12 + 13 + 10 + 2 + (size_t)n);
    ldns_pkt *lp = NULL;
    assert_int_equal(ldns_wire2pkt(&lp, pkt, w.pos), LDNS_STATUS_OK);
    ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(lp), 0);
    assert_non_null(rr);
    ldns_buffer *b = ldns_buffer_new(512);
    ldns_rr_rdata2buffer_wire(b, rr);
    assert_int_equal(ldns_buffer_position(b), n);
    assert_memory_equal(ldns_buffer_begin(b), rd, (size_t)n);
    ldns_buffer_free(b);
    ldns_pkt_free(lp);
}

/* RFC 4034 §6.2 as updated by RFC 6840 §5.1: which names are lowered. */
static void canonical_form(void **state)
{
    (void)state;
    static const struct { const char *text, *lower; } cases[] = {
        { "MX 10 MAIL.Example.", "MX 10 mail.example." },
        { "SOA NS.X. Host.X. 1 2 3 4 5", "SOA ns.x. host.x. 1 2 3 4 5" },
        { "SRV 1 2 3 Target.X.", "SRV 1 2 3 target.x." },
        { "NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _SIP._udp.X.", "NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _sip._udp.x." },
        { "RRSIG A 8 2 3600 1 0 1 Signer.X. AA==", "RRSIG A 8 2 3600 1 0 1 signer.x. AA==" },
        { "DNAME Target.X.", "DNAME target.x." },
        { "KX 1 KX.X.", "KX 1 kx.x." },
        { "RP Mbox.X. TXT.X.", "RP mbox.x. txt.x." },
        { "A6 64 ::1 Prefix.X.", "A6 64 ::1 prefix.x." },
        /* unchanged: NSEC (RFC 6840 §5.1), SVCB, TXT, HINFO, IPSECKEY, HIP */
        { "NSEC Next.X. A", "NSEC Next.X. A" },
        { "SVCB 1 Svc.X.", "SVCB 1 Svc.X." },
        { "TXT \"ABC\"", "TXT \"ABC\"" },
        { "HINFO \"CPU\" \"OS\"", "HINFO \"CPU\" \"OS\"" },
        { "IPSECKEY 1 3 0 GW.X.", "IPSECKEY 1 3 0 GW.X." },
        { "LP 1 Loc.X.", "LP 1 Loc.X." },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t a[256], b[256];
        uint16_t ta, tb;
        const char *why;
        int na = zl_rdata(cases[i].text, &ta, a, sizeof a, &why);
        int nb = zl_rdata(cases[i].lower, &tb, b, sizeof b, &why);
        assert_true(na > 0 && na == nb);
        dns_rdata_canonicalize(ta, a, (uint16_t)na);
        if (memcmp(a, b, (size_t)na) != 0)
            fail_msg("canonical form of %s", cases[i].text);
        assert_int_equal(dns_rdata_cmp(ta, a, (uint16_t)na, b, (uint16_t)nb), 0);
    }
}

/* RFC 4034 §6.3: left-justified octet strings of canonical forms. */
static void rdata_order(void **state)
{
    (void)state;
    static const char *const ordered[][2] = {
        { "A 10.0.0.1", "A 10.0.0.2" },
        { "A 9.255.255.255", "A 10.0.0.0" },
        { "MX 10 a.example.", "MX 10 B.example." },
        { "MX 10 b.example.", "MX 20 a.example." },
        { "TXT \"a\"", "TXT \"a\" \"b\"" },
        { "TXT \"B\"", "TXT \"a\"" },          /* no case folding for TXT */
        { "NSEC B.example. A", "NSEC a.example. A" }, /* nor NSEC */
        { "TYPE65280 \\# 1 01", "TYPE65280 \\# 2 0100" },
    };
    for (size_t i = 0; i < sizeof ordered / sizeof ordered[0]; i++) {
        uint8_t a[256], b[256];
        uint16_t t;
        const char *why;
        int na = zl_rdata(ordered[i][0], &t, a, sizeof a, &why);
        int nb = zl_rdata(ordered[i][1], &t, b, sizeof b, &why);
        assert_true(na >= 0 && nb >= 0);
        if (dns_rdata_cmp(t, a, (uint16_t)na, b, (uint16_t)nb) >= 0 ||
            dns_rdata_cmp(t, b, (uint16_t)nb, a, (uint16_t)na) <= 0)
            fail_msg("%s should sort before %s", ordered[i][0], ordered[i][1]);
    }
    uint8_t a[64], b[64];
    uint16_t t;
    const char *why;
    int na = zl_rdata("MX 1 Mail.EXAMPLE.", &t, a, sizeof a, &why);
    int nb = zl_rdata("MX 1 mail.example.", &t, b, sizeof b, &why);
    assert_int_equal(dns_rdata_cmp(t, a, (uint16_t)na, b, (uint16_t)nb), 0);
}

static void malformed_rdata(void **state)
{
    (void)state;
    static const struct { uint16_t type; const char *hex; } bad[] = {
        { DNS_T_A, "c00002" },                       /* short A */
        { DNS_T_A, "c0000201ff" },                   /* long A */
        { DNS_T_AAAA, "20010db8" },
        { DNS_T_NS, "076578616d706c65" },             /* name overruns RDLENGTH */
        { DNS_T_NS, "0161000000" },                   /* data after the name */
        { DNS_T_NS, "c00c" },                         /* pointer in stored RDATA */
        { DNS_T_NS, "4161" },                         /* label type 0x40 */
        { DNS_T_MX, "000a" },
        { DNS_T_SOA, "00000102030405060708090a0b0c0d0e0f10111213" },
        { DNS_T_TXT, "" },                            /* TXT needs a string */
        { DNS_T_TXT, "0561626364" },                  /* string overruns */
        { DNS_T_HINFO, "0141" },
        { DNS_T_NSEC, "00" "0106" "0140" },           /* window 1 before ... */
        { DNS_T_NSEC, "00" "01014" "0" "0001" "40" }, /* windows out of order */
        { DNS_T_NSEC, "00" "000140" "000140" },       /* window repeated */
        { DNS_T_NSEC, "00" "0000" },                  /* zero-length window */
        { DNS_T_NSEC, "00" "0021" "0000000000000000000000000000000000000000000000000000000000000000ff" },
        { DNS_T_NSEC, "00" "0002" "40" },             /* window runs past the end */
        { DNS_T_NSEC3, "0100000a" "04aabbcc" },
        { DNS_T_SVCB, "0001" "00" "0003000201bb" "000100030268 32" },
        { DNS_T_SVCB, "0001" "00" "0003000201bb" "0001000302683200" },
        { DNS_T_SVCB, "0001" "00" "00030001bb" },     /* port of 1 octet */
        { DNS_T_SVCB, "0001" "00" "000400050102030405" }, /* ipv4hint 5 octets */
        { DNS_T_APL, "00030000" },                    /* unknown family */
        { DNS_T_APL, "0001210401020304" },            /* prefix 33 */
        { DNS_T_APL, "0001180501020304ff" },          /* AFD 5 for IPv4 */
        { DNS_T_LOC, "0100000000000000000000000000000000" },
        { DNS_T_LOC, "00" },
        { DNS_T_DS, "0001" "08" },
        { DNS_T_CAA, "00" "00" },                     /* empty tag */
        { DNS_T_IPSECKEY, "0a0400" },                 /* gateway type 4 */
        { DNS_T_IPSECKEY, "0a0100c00002" },           /* short IPv4 gateway */
        { DNS_T_HIP, "00020000" },                    /* empty HIT */
        { DNS_T_A6, "81" },                           /* prefix 129 */
        { DNS_T_EUI48, "0000" },
        { DNS_T_RRSIG, "0001080200000e10" },
        { DNS_T_WKS, "c0000201" },
        { DNS_T_NSEC3PARAM, "01000001" "05aa" },
        /* found by tests/fuzz/fuzz_rdata.c: forms that cannot be printed */
        { DNS_T_NSEC, "00" "000240" "00" },           /* trailing zero octet */
        { DNS_T_APL, "0001080210" "00" },
        { DNS_T_LOC, "00121613" "f0000000" "80000000" "00989680" }, /* lat 545 deg */
        { DNS_T_LOC, "00061613" "80000000" "80000000" "00989680" }, /* 0 x 10^6 */
        { DNS_T_LOC, "00a21613" "80000000" "80000000" "00989680" }, /* mantissa 10 */
        { DNS_T_SVCB, "0001" "00" "000000020003" },     /* mandatory=port, no port */
        { DNS_T_SVCB, "0001" "00" "0000000400030003" "00030002 01bb" }, /* repeated */
        { DNS_T_SVCB, "0001" "00" "00050000" },         /* empty ech */
        { DNS_T_CAA, "00" "05" "69 6f 20 20 20" },      /* tag with spaces */
        { DNS_T_NSEC3, "01000001" "00" "00" },          /* empty next hashed owner */
        { DNS_T_HIP, "01020000" "aa" },                 /* empty public key */
        { DNS_T_DS, "0001" "08" "02" },                 /* empty digest */
        { DNS_T_RRSIG, "0001080200000e100000000100000000000100" },  /* no signature */
        { DNS_T_NXT, "00" "80" },                       /* bit 0: other format */
        { DNS_T_NXT, "00" "4000" },                     /* trailing zero */
        { DNS_T_WKS, "c0000201" "06" "4000" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t rd[256];
        char h[300];
        size_t k = 0;
        assert_true(strlen(bad[i].hex) < sizeof h);
        for (const char *p = bad[i].hex; *p; p++)
            if (*p != ' ')
                h[k++] = *p;
        h[k] = 0;
        int n = hexval(h, rd);
        if (dns_rdata_check(bad[i].type, rd, (size_t)n) != ZL_EMALF)
            fail_msg("case %zu (type %u, %s) accepted", i, bad[i].type, bad[i].hex);
        dns_wire_t w;
        uint8_t out[300];
        dns_wire_init_ro(&w, rd, (size_t)n);
        assert_true(dns_rdata_parse(&w, bad[i].type, (uint16_t)n, out, sizeof out) < 0);
        assert_int_not_equal(w.err, ZL_OK);
        /* printed in generic form, which reads back */
        char text[700];
        int tl = dns_rdata_to_text(bad[i].type, rd, (uint16_t)n, text, sizeof text);
        assert_true(tl > 0);
        assert_memory_equal(text, "\\# ", 3);
    }
    /* an unknown type is anything at all */
    assert_int_equal(dns_rdata_check(65280, (const uint8_t *)"", 0), ZL_OK);
}

static void text_errors(void **state)
{
    (void)state;
    static const struct { const char *text; int err; const char *why; } bad[] = {
        { "A 192.0.2", ZL_ESYNTAX, "bad IPv4 address" },
        { "A 192.0.2.256", ZL_ESYNTAX, "bad IPv4 address" },
        { "A 1.2.3.4.5", ZL_ESYNTAX, "bad IPv4 address" },
        { "A", ZL_ESYNTAX, "bad IPv4 address" },
        { "A 1.2.3.4 5.6.7.8", ZL_ESYNTAX, "trailing data after RDATA" },
        { "AAAA 2001:db8::g", ZL_ESYNTAX, "bad IPv6 address" },
        { "MX 65536 mail.", ZL_ERANGE, "bad 16-bit number" },
        { "MX -1 mail.", ZL_ESYNTAX, "bad 16-bit number" },
        { "MX 10", ZL_ESYNTAX, "missing domain name" },
        { "SOA a. b. 4294967296 1 2 3 4", ZL_ERANGE, "bad 32-bit number" },
        { "SOA a. b. 1 1x 2 3 4", ZL_ESYNTAX, "bad time period" },
        { "SOA a. b. 1 h 2 3 4", ZL_ESYNTAX, "bad time period" },
        { "SOA a. b. 1 7102w 2 3 4", ZL_ERANGE, "time period out of range" },
        { "SOA a. b. 1 4294967296 2 3 4", ZL_ERANGE, "time period out of range" },
        { "RRSIG A 8 2 4294967296 20300101000000 20240101000000 1 x. AA==", ZL_ERANGE, "time period out of range" },
        { "RRSIG A 8 2 3600 20301301000000 20240101000000 1 x. AA==", ZL_ERANGE, "bad signature time" },
        { "RRSIG A 8 2 3600 20230229000000 20240101000000 1 x. AA==", ZL_ERANGE, "bad signature time" },
        { "RRSIG A 8 2 3600 20240229000000 2024010100000x 1 x. AA==", ZL_ESYNTAX, "bad signature time" },
        { "RRSIG BOGUS 8 2 3600 1 0 1 x. AA==", ZL_ESYNTAX, "unknown type mnemonic" },
        { "RRSIG A NOSUCHALG 2 3600 1 0 1 x. AA==", ZL_ESYNTAX, "bad algorithm" },
        { "NSEC x. A BOGUS", ZL_ESYNTAX, "unknown type in type bitmap" },
        { "DS 1 8 2 ABC", ZL_ESYNTAX, "bad hex data" },
        { "DS 1 8 2", ZL_ESYNTAX, "bad hex data" },
        { "DNSKEY 256 3 8 AwEAA", ZL_ESYNTAX, "bad base64 data" },
        { "DNSKEY 256 3 8 A=EA", ZL_ESYNTAX, "bad base64 data" },
        { "NSEC3 1 0 0 - ZZZZ", ZL_ESYNTAX, "bad hashed owner name" },
        { "NSEC3PARAM 1 0 0 abc", ZL_ESYNTAX, "bad salt" },
        { "TXT \"\\256\"", ZL_ESYNTAX, "bad escape in string" },
        { "TXT abc\\", ZL_ESYNTAX, "bad escape in string" },
        { "CAA 0 is-sue \"x\"", ZL_ESYNTAX, "bad CAA tag" },
        { "LOC 91 N 0 E 0", ZL_ERANGE, "LOC coordinate out of range" },
        { "LOC 52 60 N 0 E 0", ZL_ERANGE, "LOC minutes or seconds out of range" },
        { "LOC 52 X 0 E 0", ZL_ESYNTAX, "bad LOC coordinate" },
        { "APL 3:1.2.3.4/8", ZL_ESYNTAX, "bad APL address family" },
        { "APL 1:1.2.3.4/33", ZL_ESYNTAX, "bad APL prefix" },
        { "SVCB 1 . bogus=1", ZL_ESYNTAX, "unknown SvcParamKey" },
        { "SVCB 1 . port=1 port=2", ZL_ESYNTAX, "duplicate SvcParamKey" },
        { "SVCB 1 . mandatory=alpn port=1", ZL_ESYNTAX, "mandatory SvcParamKey missing" },
        { "SVCB 1 . alpn", ZL_ESYNTAX, "bad SvcParamValue" },
        { "SVCB 1 . no-default-alpn=x", ZL_ESYNTAX, "bad SvcParamValue" },
        { "SVCB 1 . ipv4hint=1.2.3", ZL_ESYNTAX, "bad SvcParamValue" },
        { "EUI48 00-00-5e-00-53", ZL_ESYNTAX, "bad EUI address" },
        { "EUI64 00-00-5e-00-53-2a-00-0", ZL_ESYNTAX, "bad EUI address" },
        { "NID 1 0:0:0", ZL_ESYNTAX, "bad ILNP locator" },
        { "IPSECKEY 1 0 0 1.2.3.4", ZL_ESYNTAX, "IPSECKEY gateway must be ." },
        { "WKS 1.2.3.4 tcp nosuchservice", ZL_ESYNTAX, "bad WKS service" },
        { "NULL 1 2", ZL_ESYNTAX, "type needs the generic form \\#" },
        { "TYPE65280 abcd", ZL_ESYNTAX, "type needs the generic form \\#" },
        { "TYPE65280 \\# 3 abcd", ZL_ESYNTAX, "generic RDATA length mismatch" },
        { "TYPE65280 \\# 2 abc", ZL_ESYNTAX, "bad generic RDATA hex" },
        { "TYPE65280 \\# 70000 ab", ZL_ERANGE, "bad generic RDATA length" },
        { "A \\# 3 010203", ZL_ESYNTAX, "generic RDATA does not fit the type" },
        { "MX 10 a..b.", ZL_ESYNTAX, "bad domain name" },
        { "NS a.b", ZL_OK, NULL }, /* relative: origin appended */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t rd[512];
        uint16_t t;
        const char *why = NULL;
        int r = zl_rdata(bad[i].text, &t, rd, sizeof rd, &why);
        if (bad[i].err == ZL_OK) {
            assert_true(r > 0);
            continue;
        }
        if (r != bad[i].err || !why || strcmp(why, bad[i].why) != 0)
            fail_msg("%s: got %d (%s), want %d (%s)", bad[i].text, r, why ? why : "-",
                     bad[i].err, bad[i].why);
    }
    /* a 256-octet string is out of range; 255 is fine */
    char s[300] = "TXT ";
    memset(s + 4, 'x', 256);
    s[260] = 0;
    uint8_t rd[512];
    uint16_t t;
    const char *why;
    assert_int_equal(zl_rdata(s, &t, rd, sizeof rd, &why), ZL_ERANGE);
    s[259] = 0;
    assert_int_equal(zl_rdata(s, &t, rd, sizeof rd, &why), 256);
    /* output space */
    assert_int_equal(zl_rdata("TXT \"hello\"", &t, rd, 3, &why), ZL_ESPACE);
    assert_int_equal(zl_rdata("A 1.2.3.4", &t, rd, 3, &why), ZL_ESPACE);
}

static void additional_targets(void **state)
{
    (void)state;
    static const struct { const char *text; const char *target; } cases[] = {
        { "MX 10 mail.example.", "mail.example." },
        { "NS ns.example.", "ns.example." },
        { "SRV 1 2 3 sip.example.", "sip.example." },
        { "KX 1 kx.example.", "kx.example." },
        { "AFSDB 1 afs.example.", "afs.example." },
        { "RT 1 rt.example.", "rt.example." },
        { "MB mb.example.", "mb.example." },
        { "NAPTR 1 2 \"\" \"\" \"\" repl.example.", "repl.example." },
        { "CNAME c.example.", NULL },
        { "A 1.2.3.4", NULL },
        { "SOA a. b. 1 2 3 4 5", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t rd[256];
        uint16_t t;
        const char *why;
        int n = zl_rdata(cases[i].text, &t, rd, sizeof rd, &why);
        assert_true(n > 0);
        const uint8_t *p = dns_rdata_target(t, rd, (uint16_t)n);
        if (!cases[i].target) {
            assert_null(p);
            continue;
        }
        char s[DNS_NAME_TEXT_MAX];
        assert_non_null(p);
        dns_name_to_text(p, s, sizeof s);
        assert_string_equal(s, cases[i].target);
    }
}

/* Forms the lexer may deliver and the printer's exact output. */
static void presentation_details(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "TXT \"a\\\"b\" \\065", "\"a\\\"b\" \"A\"" },
        { "TXT \"\\000\\255\"", "\"\\000\\255\"" },
        { "SVCB 1 . port=443 alpn=\"h2,h3\"", "1 . alpn=\"h2,h3\" port=443" },
        { "SVCB 1 . alpn=\"a\\\\,b,c\"", "1 . alpn=\"a\\\\,b,c\"" },
        { "SVCB 1 . key7=\"\" key3=80", "1 . port=80 key7" },
        { "HTTPS 1 . mandatory=port,alpn alpn=h2 port=1", "1 . mandatory=alpn,port alpn=\"h2\" port=1" },
        { "LOC 52 22 23 N 4 53 32 E -2m", "52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m" },
        { "LOC 0 S 0 W 0.5", "0 0 0.000 N 0 0 0.000 E 0.50m 1m 10000m 10m" },
        { "RRSIG A 8 2 3600 1 4294967295 1 x. AA==", "A 8 2 3600 19700101000001 21060207062815 1 x. AA==" },
        { "RRSIG A 8 2 3600 19691231235959 0 1 x. AA==", "A 8 2 3600 21060207062815 19700101000000 1 x. AA==" },
        { "NSEC3 1 0 0 - 00", "1 0 0 - 00" },
        { "DNSKEY 256 3 ECDSAP256SHA256 AA==", "256 3 13 AA==" },
        { "CERT PGP 1 RSASHA1 AA==", "3 1 5 AA==" },
        { "CAA 0 issue ca.example", "0 issue \"ca.example\"" },
        { "APL 1:10.0.0.0/8", "1:10.0.0.0/8" },
        { "TYPE65280 \\# 0", "\\# 0" },
        { "NULL \\# 2 abcd", "\\# 2 ABCD" },
        { "NS \\# 1 00", "." }, /* generic form of a known type, checked */
        { "NSEC x. TYPE1 TYPE2", "x. A NS" },
        { "WKS 1.2.3.4 17 53 0", "1.2.3.4 udp 0 53" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t rd[512];
        uint16_t t;
        const char *why = NULL;
        char text[1024];
        int n = zl_rdata(cases[i].in, &t, rd, sizeof rd, &why);
        if (n < 0)
            fail_msg("%s: %s", cases[i].in, why);
        assert_true(dns_rdata_to_text(t, rd, (uint16_t)n, text, sizeof text) > 0);
        if (strcmp(text, cases[i].out) != 0)
            fail_msg("%s printed as [%s], want [%s]", cases[i].in, text, cases[i].out);
    }
    /* the key="value" glued form as one token is accepted too */
    dns_tok_t tok[4] = { { "1", 1, false }, { ".", 1, false }, { "alpn=\"h2\"", 9, false } };
    uint8_t rd[64], want[64];
    const char *why;
    uint16_t t;
    int n = dns_rdata_from_text(DNS_T_SVCB, tok, 3, origin, rd, sizeof rd, &why);
    assert_int_equal(n, zl_rdata("SVCB 1 . alpn=h2", &t, want, sizeof want, &why));
    assert_memory_equal(rd, want, (size_t)n);
    /* too small an output buffer */
    char small[8];
    n = zl_rdata("TXT \"hello world\"", &t, rd, sizeof rd, &why);
    assert_int_equal(dns_rdata_to_text(t, rd, (uint16_t)n, small, sizeof small), ZL_ESPACE);
}

/* The longest presentation form fits DNS_RDATA_TEXT_MAX. */
static void largest_rdata(void **state)
{
    (void)state;
    static uint8_t rd[65535];
    static char text[DNS_RDATA_TEXT_MAX];
    for (size_t i = 0; i < sizeof rd; i++)
        rd[i] = (uint8_t)i;
    int n = dns_rdata_to_text(65280, rd, 65535, text, sizeof text);
    assert_true(n > 0 && (size_t)n < sizeof text);
    /* TXT of 257 strings of 255 '"' each: escapes double the size */
    memset(rd, '"', sizeof rd);
    for (size_t o = 0; o + 256 <= sizeof rd; o += 256)
        rd[o] = 255;
    n = dns_rdata_to_text(DNS_T_TXT, rd, 65280, text, sizeof text);
    assert_true(n > 0 && text[0] == '"');
    /* 64 KB of \000 in TXT would need \DDD for every octet: generic */
    memset(rd, 0, sizeof rd);
    for (size_t o = 0; o + 256 <= sizeof rd; o += 256)
        rd[o] = 255;
    n = dns_rdata_to_text(DNS_T_TXT, rd, 65280, text, sizeof text);
    assert_true(n > 0 && memcmp(text, "\\# 65280 ", 9) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_matches_ldns),
        cmocka_unit_test(corpus_matches_knot),
        cmocka_unit_test(type_and_class_mnemonics),
        cmocka_unit_test(wire_parse_decompresses),
        cmocka_unit_test(wire_write_compresses),
        cmocka_unit_test(canonical_form),
        cmocka_unit_test(rdata_order),
        cmocka_unit_test(malformed_rdata),
        cmocka_unit_test(text_errors),
        cmocka_unit_test(additional_targets),
        cmocka_unit_test(presentation_details),
        cmocka_unit_test(largest_rdata),
    };
    return cmocka_run_group_tests_name("rr", tests, NULL, NULL);
}
