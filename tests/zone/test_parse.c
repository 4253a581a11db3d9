/* zone/parse.c, zone/lexer.c, zone/generate.c, zone/load.c: master files
 * against ldns (the oracle), directives, defaults, $GENERATE, errors with
 * file and line, validation through zone_load_file. Run from the
 * repository root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>

#include "zone/zt.h"

/* ldns 1.8 does not implement $INCLUDE or $GENERATE: a corpus file X.zone
 * using them has X.ldns beside it, the same records written out, which is
 * what ldns reads instead. */
static void check_against_ldns(const char *path, const char *origin)
{
    tlist_t a = { 0 }, b = { 0 };
    terrs_t e = { 0 };
    char alt[512];
    int line = 0;
    int rc = tl_parse_file(path, origin, &a, &e);
    if (rc != ZL_OK || e.n) {
        fprintf(stderr, "# %s: %s\n", path, zl_strerror(rc));
        te_print(&e);
    }
    assert_int_equal(rc, ZL_OK);
    assert_int_equal(e.n, 0);
    assert_true(a.n > 0);
    snprintf(alt, sizeof(alt), "%.*s.ldns", (int)(strlen(path) - 5), path);
    struct stat st;
    const char *lpath = strstr(path, ".zone") && stat(alt, &st) == 0 ? alt : path;
    ldns_status s = tl_ldns_file(lpath, origin, &b, &line);
    if (s != LDNS_STATUS_OK)
        fprintf(stderr, "# ldns: %s:%d: %s\n", lpath, line, ldns_get_errorstr_by_id(s));
    assert_int_equal(s, LDNS_STATUS_OK);
    /* ldns 1.8 reads NSAP-PTR as a string, not a name (RFC 1348). */
    tl_drop_type(&a, DNS_T_NSAP_PTR);
    tl_soa_first(&a);
    bool same = tl_same(path, &a, &b);
    fprintf(stderr, "# %s: %zu records, %s ldns\n", path, a.n, same ? "same as" : "DIFFERENT from");
    assert_true(same);
    tl_free(&a);
    tl_free(&b);
}

static void test_corpus_matches_ldns(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(CORPUS "/*.zone", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 4);
    for (size_t i = 0; i < g.gl_pathc; i++)
        check_against_ldns(g.gl_pathv[i], "example.test.");
    globfree(&g);
}

static void test_examples_match_ldns(void **state)
{
    (void)state;
    check_against_ldns("zones-example/example.test", "example.test.");
    check_against_ldns("zones-example/_keys", ".");
}

/* The RR helper's RDATA corpus (tests/dns/rdata-corpus.txt, one
 * "TYPE RDATA" per line) through the zone lexer and parser as one file:
 * each record must equal what ldns makes of the same line, or the
 * ";hex=" octets the line gives where ldns 1.8.3 is wrong or lacks the
 * type. The RR helper's own test tokenizes lines itself; this one runs
 * the same inputs through quotes, escapes and comments of zone/lexer.c. */
static void test_rdata_corpus_through_parser(void **state)
{
    (void)state;
    FILE *f = fopen("tests/dns/rdata-corpus.txt", "r");
    if (!f) {
        skip(); /* the RR helper's corpus is not there */
        return;
    }
    static char text[1 << 17], lines[512][640];
    char buf[600];
    size_t n = 0, len = 0;
    while (fgets(buf, sizeof(buf), f) && n < 512) {
        if (buf[0] == '#' || buf[0] == '\n')
            continue;
        buf[strcspn(buf, "\n")] = 0;
        snprintf(lines[n++], sizeof(lines[0]), "x.example. 3600 IN %s", buf);
        len += (size_t)snprintf(text + len, sizeof(text) - len, "x.example. 3600 IN %s\n", buf);
        assert_true(len < sizeof(text));
    }
    fclose(f);
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    int rc = tl_parse_text(text, "example.", &l, &e);
    te_print(&e);
    assert_int_equal(rc, ZL_OK);
    assert_int_equal(l.n, n);
    ldns_rdf *origin = ldns_dname_new_frm_str("example.");
    for (size_t i = 0; i < n; i++) {
        tlist_t want = { 0 };
        const char *hex = strstr(lines[i], ";hex=");
        if (hex) {
            uint8_t rd[1024];
            size_t k = 0;
            for (hex += 5; k < sizeof(rd) && sscanf(hex, "%2hhx", &rd[k]) == 1; hex += 2)
                k++;
            tl_push(&want, l.r[i].owner, dns_name_len(l.r[i].owner), l.r[i].type,
                    l.r[i].rclass, l.r[i].ttl, rd, k);
        } else {
            ldns_rr *rr = NULL;
            ldns_status st = ldns_rr_new_frm_str(&rr, lines[i], 3600, origin, NULL);
            if (st != LDNS_STATUS_OK)
                fail_msg("ldns: %s: %s", lines[i], ldns_get_errorstr_by_id(st));
            tl_push_ldns(&want, rr);
            ldns_rr_free(rr);
        }
        tlist_t one = { .r = &l.r[i], .n = 1, .cap = 1 };
        if (!tl_same(lines[i], &one, &want))
            fail_msg("%s", lines[i]);
        tl_free(&want);
    }
    fprintf(stderr, "# %zu lines of tests/dns/rdata-corpus.txt parsed as a zone\n", n);
    ldns_rdf_deep_free(origin);
    tl_free(&l);
}

static const trec_t *find(const tlist_t *l, const char *owner, uint16_t type)
{
    uint8_t o[DNS_NAME_MAX];
    tname(owner, o);
    for (size_t i = 0; i < l->n; i++)
        if (dns_name_equal(l->r[i].owner, o) && l->r[i].type == type)
            return &l->r[i];
    fprintf(stderr, "# no %s type %u\n", owner, type);
    return NULL;
}

/* Defaults the oracle comparison alone would not pin down: TTL units,
 * TTL/class order, $INCLUDE file names and lines. */
static void test_directives(void **state)
{
    (void)state;
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    assert_int_equal(tl_parse_file(CORPUS "/directives.zone", "example.test.", &l, &e), ZL_OK);
    const trec_t *r;
    assert_non_null(r = find(&l, "ns1.example.test.", DNS_T_A));
    assert_int_equal(r->ttl, 5400);
    assert_int_equal(r->line, 11);
    assert_non_null(r = find(&l, "example.test.", DNS_T_NS));
    assert_int_equal(r->line, 10);
    assert_non_null(r = find(&l, "ttl-first.example.test.", DNS_T_A));
    assert_int_equal(r->ttl, 60);
    assert_non_null(r = find(&l, "class-first.example.test.", DNS_T_A));
    assert_int_equal(r->ttl, 60);
    assert_non_null(r = find(&l, "weeks.example.test.", DNS_T_A));
    assert_int_equal(r->ttl, 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    assert_non_null(r = find(&l, "example.test.", DNS_T_SOA));
    assert_int_equal(r->line, 4);
    assert_int_equal(r->rdlen, 18 + 25 + 20);
    assert_memory_equal(r->rdata + r->rdlen - 16, "\0\0\x1c\x20\0\0\x07\x08\0\x12\x75\0\0\0\x01\x2c", 16);
    assert_non_null(r = find(&l, "multi.example.test.", DNS_T_A));
    assert_int_equal(r->line, 22);
    assert_non_null(r = find(&l, "www.sub.example.test.", DNS_T_A));
    tl_free(&l);
    /* The ldns gap: NSAP-PTR holds a name. */
    assert_int_equal(tl_parse_file(CORPUS "/types.zone", "example.test.", &l, &e), ZL_OK);
    assert_non_null(r = find(&l, "nsap-ptr.example.test.", DNS_T_NSAP_PTR));
    assert_int_equal(r->rdlen, 19);
    assert_memory_equal(r->rdata, "\4host\7example\4test", 19);
    tl_free(&l);
    assert_int_equal(tl_parse_file(CORPUS "/directives.zone", "example.test.", &l, &e), ZL_OK);
    assert_non_null(r = find(&l, "inc1.other.example.test.", DNS_T_TXT));
    assert_string_equal(r->file, CORPUS "/inc/included.inc");
    assert_int_equal(r->line, 3);
    assert_non_null(r = find(&l, "nested.example.test.", DNS_T_A));
    assert_string_equal(r->file, CORPUS "/inc/nested.inc");
    assert_int_equal(r->line, 2);
    assert_non_null(r = find(&l, "after-include.example.test.", DNS_T_A));
    assert_string_equal(r->file, CORPUS "/directives.zone");
    assert_non_null(r = find(&l, "late-default.example.test.", DNS_T_A));
    assert_int_equal(r->ttl, 120);
    tl_free(&l);
}

/* Without $TTL the last explicit TTL carries on (RFC 1035 §5.1); before
 * any, the default; $TTL then overrides. */
static void test_ttl_defaults(void **state)
{
    (void)state;
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    const char *text = "a A 192.0.2.1\nb 42 A 192.0.2.2\nc A 192.0.2.3\n"
                       "$TTL 7\nd A 192.0.2.4\ne 9 A 192.0.2.5\nf A 192.0.2.6\n"
                       "g 2147483647 A 192.0.2.7\n";
    assert_int_equal(tl_parse_text(text, "t.", &l, &e), ZL_OK);
    assert_int_equal(l.n, 7);
    uint32_t want[] = { 3600, 42, 42, 7, 9, 7, 2147483647 };
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(l.r[i].ttl, want[i]);
    tl_free(&l);
    assert_int_equal(tl_parse_text("a 2147483648 A 192.0.2.1\n", "t.", &l, &e), ZL_ESYNTAX);
    assert_non_null(strstr(e.msg[0], "TTL out of range"));
    tl_free(&l);
}

static void test_generate(void **state)
{
    (void)state;
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    assert_int_equal(tl_parse_file(CORPUS "/generate.zone", "example.test.", &l, &e), ZL_OK);
    assert_int_equal(l.n, 2 + 4 + 3 + 2 + 2 + 1 + 2);
    const trec_t *r;
    assert_non_null(r = find(&l, "3.2.0.192.in-addr.arpa.", DNS_T_PTR));
    assert_int_equal(r->line, 6);
    assert_non_null(r = find(&l, "015.2.0.192.in-addr.arpa.", DNS_T_PTR));
    assert_int_equal(r->ttl, 300);
    assert_non_null(r = find(&l, "0.0.1.nib.2.0.192.in-addr.arpa.", DNS_T_PTR));
    tl_free(&l);
    /* Expansion is per value; text and base forms. */
    const char *text = "$GENERATE 0-1 ${0,4,X}.${5,0,o} TXT \"v=$\" \"\\$ ${1}\"\n";
    assert_int_equal(tl_parse_text(text, "t.", &l, &e), ZL_OK);
    assert_int_equal(l.n, 2);
    uint8_t o[DNS_NAME_MAX];
    assert_memory_equal(l.r[1].owner, tname("0001.6.t.", o), 9);
    assert_int_equal(l.r[1].rdlen, 4 + 4);
    assert_memory_equal(l.r[1].rdata, "\3v=1\3$ 2", 8);
    tl_free(&l);
}

/* Parses the expectations `; expect: TEXT` of a file: line -> text. */
static size_t expectations(const char *path, unsigned *line, char (*text)[120], size_t max)
{
    FILE *f = fopen(path, "r");
    char buf[512];
    unsigned n = 0;
    size_t k = 0;
    assert_non_null(f);
    while (fgets(buf, sizeof(buf), f)) {
        n++;
        char *x = strstr(buf, "; expect: ");
        if (!x || k == max)
            continue;
        x += 10;
        x[strcspn(x, "\n")] = 0;
        line[k] = n;
        snprintf(text[k++], 120, "%s", x);
    }
    fclose(f);
    return k;
}

/* Every broken line is reported once, at its line, with what was wrong,
 * and the parser goes on to the next line. */
static void test_broken_lines(void **state)
{
    (void)state;
    const char *path = "tests/zone/bad/syntax.zone";
    unsigned line[64];
    char text[64][120];
    size_t k = expectations(path, line, text, 64);
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    assert_int_equal(tl_parse_file(path, "example.test.", &l, &e), ZL_ESYNTAX);
    te_print(&e);
    assert_int_equal(e.n, k);
    for (size_t i = 0; i < k; i++) {
        assert_string_equal(e.file[i], path);
        assert_int_equal(e.line[i], line[i]);
        if (!strstr(e.msg[i], text[i]))
            fail_msg("line %u: '%s' lacks '%s'", line[i], e.msg[i], text[i]);
    }
    /* The good records around the bad ones are all there. */
    assert_non_null(find(&l, "good.example.test.", DNS_T_A));
    assert_non_null(find(&l, "g255.example.test.", DNS_T_A));
    assert_null(find(&l, "g256.example.test.", DNS_T_A));
    tl_free(&l);
}

static void test_include_limits(void **state)
{
    (void)state;
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    assert_int_equal(tl_parse_file("tests/zone/bad/include-loop.zone", "example.test.", &l, &e),
                     ZL_ESYNTAX);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.line[0], 3);
    assert_non_null(strstr(e.msg[0], "$INCLUDE nested deeper than 8"));
    assert_int_equal(l.n, 9); /* the SOA, once per level */
    tl_free(&l);
    e.n = 0;
    assert_int_equal(tl_parse_file("tests/zone/no-such-file", "example.test.", &l, &e), ZL_EIO);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.line[0], 0);
    /* A broken line in an included file is reported with that file. */
    e.n = 0;
    assert_int_equal(tl_parse_file("tests/zone/bad/include-broken.zone", "example.test.", &l, &e),
                     ZL_ESYNTAX);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.file[0], "tests/zone/bad/broken.inc");
    assert_int_equal(e.line[0], 3);
    assert_string_equal(e.msg[0], "bad IPv4 address '192.0.2'");
    assert_string_equal(e.file[1], "tests/zone/bad/include-broken.zone");
    assert_int_equal(e.line[1], 5);
    assert_int_equal(l.n, 3);
    tl_free(&l);
    /* zone_parse_text: relative to the current folder; not a file. */
    e.n = 0;
    assert_int_equal(tl_parse_text("\n$INCLUDE tests/zone\n", "t.", &l, &e), ZL_ESYNTAX);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.line[0], 2);
    assert_string_equal(e.msg[0], "cannot read $INCLUDE file 'tests/zone': not a regular file");
    e.n = 0;
    assert_int_equal(tl_parse_text("$INCLUDE tests/zone/corpus/inc/nested.inc\n", "t.", &l, &e),
                     ZL_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.r[0].file, "tests/zone/corpus/inc/nested.inc");
    tl_free(&l);
}

/* An in-memory source (the git store's shape): files by path, and a log
 * of what the parser opened and closed. */
typedef struct memfile {
    const char *path, *text;
} memfile_t;

typedef struct memsrc {
    const memfile_t *files;
    size_t n;
    char opened[8][64];
    size_t nopen, nclose;
} memsrc_t;

static int mem_open(void *ctx, const char *path, zone_text_t *out, const char **why)
{
    memsrc_t *m = ctx;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->files[i].path, path) == 0) {
            out->text = m->files[i].text;
            out->len = strlen(m->files[i].text);
            out->handle = (void *)&m->files[i];
            snprintf(m->opened[m->nopen++ % 8], 64, "%s", path);
            return ZL_OK;
        }
    *why = "no such blob in the tree";
    return ZL_ENOTFOUND;
}

static void mem_close(void *ctx, zone_text_t *t)
{
    memsrc_t *m = ctx;
    assert_non_null(t->handle);
    m->nclose++;
}

static void test_source(void **state)
{
    (void)state;
    static const memfile_t files[] = {
        { "zones/example.test",
          "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n$INCLUDE sub/hosts.inc\n"
          "$INCLUDE /abs.inc\nlast A 192.0.2.9\n" },
        { "zones/sub/hosts.inc", "ns A 192.0.2.1\n$INCLUDE more.inc www\n" },
        { "zones/sub/more.inc", "@ A 192.0.2.2\n" },
        { "/abs.inc", "abs A 192.0.2.3\n" },
        { "broken", "$INCLUDE zones/sub/more.inc\nx A 1.2.3\n$INCLUDE missing.inc\n" },
    };
    memsrc_t m = { files, 5, { { 0 } }, 0, 0 };
    zone_source_t src = { mem_open, mem_close, &m };
    uint8_t o[DNS_NAME_MAX];
    terrs_t e = { 0 };
    tlist_t l = { 0 };
    zone_report_t rep = { te_collect, &e };
    zone_parse_opts_t opts = { .origin = tname("example.test.", o), .source = &src };
    assert_int_equal(zone_parse_file("zones/example.test", &opts, tl_add, &l, &rep), ZL_OK);
    assert_int_equal(e.n, 0);
    assert_int_equal(l.n, 6);
    /* $INCLUDE paths relative to the including file; absolute ones as
     * written; the include's origin argument applies. */
    assert_string_equal(m.opened[1], "zones/sub/hosts.inc");
    assert_string_equal(m.opened[2], "zones/sub/more.inc");
    assert_string_equal(m.opened[3], "/abs.inc");
    assert_string_equal(l.r[3].file, "zones/sub/more.inc");
    assert_int_equal(l.r[3].line, 1);
    uint8_t n[DNS_NAME_MAX];
    assert_true(dns_name_equal(l.r[3].owner, tname("www.example.test.", n)));
    assert_string_equal(l.r[5].file, "zones/example.test");
    assert_int_equal(l.r[5].line, 6);
    assert_int_equal(m.nopen, 4);
    assert_int_equal(m.nclose, 4); /* every open closed */
    tl_free(&l);
    /* Errors name the file and line; a missing blob says the source's why. */
    m.nopen = m.nclose = 0;
    assert_int_equal(zone_parse_file("broken", &opts, tl_add, &l, &rep), ZL_ESYNTAX);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.file[0], "broken");
    assert_int_equal(e.line[0], 2);
    assert_string_equal(e.msg[1], "cannot read $INCLUDE file 'missing.inc': no such blob in the tree");
    assert_int_equal(m.nclose, m.nopen);
    tl_free(&l);
    e.n = 0;
    assert_int_equal(zone_parse_file("nothere", &opts, tl_add, &l, &rep), ZL_EIO);
    assert_string_equal(e.msg[0], "cannot read: no such blob in the tree");
    /* zone_parse_text with a source: includes as written. */
    e.n = 0;
    assert_int_equal(zone_parse_text("$INCLUDE /abs.inc\n", 18, "t", &opts, tl_add, &l, &rep), ZL_OK);
    assert_int_equal(l.n, 1);
    tl_free(&l);
    /* zone_load through the source: a whole zone without files. */
    zone_t *z = NULL;
    assert_int_equal(zone_load(&src, "zones/example.test", o, &z, &rep), ZL_OK);
    assert_int_equal(zone_record_count(z), 6);
    assert_non_null(zone_find(z, tname("www.example.test.", n)));
    zone_free(z);
    assert_int_equal(zone_load(&src, "broken", o, &z, &rep), ZL_ESYNTAX);
    assert_null(z);
    /* The file system source is unchanged: zone_load(NULL, ...). */
    assert_int_equal(zone_load(NULL, "zones-example/example.test", tname("example.test.", o), &z,
                               NULL), ZL_OK);
    zone_free(z);
}

static int stop_at_two(void *ctx, const dns_rr_t *rec)
{
    (void)rec;
    return ++*(int *)ctx == 2 ? 12345 : 0;
}

static int count_rec(void *ctx, const dns_rr_t *rec)
{
    (void)rec;
    ++*(size_t *)ctx;
    return 0;
}

static void test_api_edges(void **state)
{
    (void)state;
    const char *text = "a A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\n";
    uint8_t o[DNS_NAME_MAX];
    zone_parse_opts_t opts = { .origin = tname("t.", o) };
    int n = 0;
    assert_int_equal(zone_parse_text(text, strlen(text), "x", &opts, stop_at_two, &n, NULL), 12345);
    assert_int_equal(n, 2);
    /* max_errors stops the flood; a report sink is optional. */
    char many[4096] = "";
    for (int i = 0; i < 50; i++)
        strcat(many, "x A 1\n");
    terrs_t e = { 0 };
    zone_report_t rep = { te_collect, &e };
    opts.max_errors = 10;
    n = 0;
    assert_int_equal(zone_parse_text(many, strlen(many), "x", &opts, stop_at_two, &n, &rep),
                     ZL_ESYNTAX);
    assert_int_equal(e.n, 11);
    assert_string_equal(e.msg[10], "too many errors, giving up");
    assert_int_equal(e.line[9], 10);
    opts.max_errors = 0;
    assert_int_equal(zone_parse_text("", 0, "x", &opts, stop_at_two, &n, NULL), ZL_OK);
    assert_int_equal(zone_parse_text("x A 1", 5, "x", &opts, stop_at_two, &n, NULL), ZL_ESYNTAX);
    /* No final newline, CRLF line ends, a lone comment, a UTF-8 BOM. */
    n = 0;
    const char *crlf = "\xef\xbb\xbf" "a A 192.0.2.1\r\n\r\n; c\r\nb A 192.0.2.2";
    assert_int_equal(zone_parse_text(crlf, strlen(crlf), "x", &opts, stop_at_two, &n, NULL), 12345);
    opts.origin = NULL;
    assert_int_equal(zone_parse_text(text, strlen(text), "x", &opts, stop_at_two, &n, NULL), ZL_EINVAL);
}

/* Validation (zone_builder_finish) through zone_load_file, with the file
 * and line of each problem: a file of tests/zone/invalid/ fails with an
 * error at each `; expect:` line (warnings may come too), one of
 * tests/zone/warn/ loads with exactly one warning per `; expect:` line. */
static void expect_reports(const char *path, const char *origin, zone_severity_t sev)
{
    unsigned line[16];
    char text[16][120];
    size_t k = expectations(path, line, text, 16);
    uint8_t o[DNS_NAME_MAX];
    terrs_t e = { 0 };
    zone_report_t rep = { te_collect, &e };
    zone_t *z = (zone_t *)1;
    int rc = zone_load_file(path, tname(origin, o), &z, &rep);
    te_print(&e);
    if (sev == ZONE_ERROR) {
        assert_int_equal(rc, ZL_EZONE);
        assert_null(z);
    } else {
        assert_int_equal(rc, ZL_OK);
        assert_non_null(z);
        zone_free(z);
        if (e.n != k)
            fail_msg("%s: %zu reports, %zu expected", path, e.n, k);
    }
    for (size_t i = 0; i < k; i++) {
        bool hit = false;
        for (size_t j = 0; j < e.n && !hit; j++)
            hit = e.line[j] == line[i] && strstr(e.msg[j], text[i]) && e.sev[j] == sev &&
                  strcmp(e.file[j], path) == 0;
        if (!hit)
            fail_msg("%s:%u: no %s with '%s'", path, line[i],
                     sev == ZONE_ERROR ? "error" : "warning", text[i]);
    }
}

static void validate_dir(const char *pattern, zone_severity_t sev, size_t min)
{
    glob_t g;
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= min);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        char origin[256];
        snprintf(origin, sizeof(origin), "%s.", base);
        expect_reports(g.gl_pathv[i], origin, sev);
    }
    globfree(&g);
}

static void test_validation(void **state)
{
    (void)state;
    validate_dir("tests/zone/invalid/*.test", ZONE_ERROR, 6);
    validate_dir("tests/zone/warn/*.test", ZONE_WARNING, 8);
}

/* One bad zone does not stop the others from loading. */
static void test_bad_zone_between_good(void **state)
{
    (void)state;
    const char *paths[] = { "zones-example/example.test", "tests/zone/bad/syntax.zone",
                            "zones-example/example.test" };
    uint8_t o[DNS_NAME_MAX];
    tname("example.test.", o);
    for (int i = 0; i < 3; i++) {
        zone_t *z = NULL;
        terrs_t e = { 0 };
        zone_report_t rep = { te_collect, &e };
        int rc = zone_load_file(paths[i], o, &z, &rep);
        if (i == 1) {
            assert_int_equal(rc, ZL_ESYNTAX);
            assert_null(z);
            assert_true(e.n > 10);
        } else {
            te_print(&e);
            assert_int_equal(rc, ZL_OK);
            assert_int_equal(zone_serial(z), 2026113001);
            assert_true(zone_record_count(z) > 60);
            zone_free(z);
        }
    }
}

static int print_each(void *ctx, const dns_rr_t *rec)
{
    static char line[DNS_RDATA_TEXT_MAX + 2 * DNS_NAME_TEXT_MAX];
    (void)ctx;
    return zone_rec_to_text(rec, line, sizeof(line)) > 0 ? 0 : -1000;
}

/* Broken input never crashes (ASan/UBSan watch): every prefix of every
 * corpus file, and seeded random byte changes, parse to ZL_OK or
 * ZL_ESYNTAX, and whatever parses prints. */
static void test_mangled_input(void **state)
{
    (void)state;
    glob_t g;
    uint8_t o[DNS_NAME_MAX];
    zone_parse_opts_t opts = { .origin = tname("example.test.", o), .max_include = 1 };
    unsigned seed = 12345, runs = 0;
    assert_int_equal(glob(CORPUS "/*.zone", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *f = fopen(g.gl_pathv[i], "r");
        static char text[1 << 16], copy[1 << 16];
        size_t len = fread(text, 1, sizeof(text), f);
        fclose(f);
        for (size_t cut = 0; cut <= len; cut += 3, runs++) {
            int rc = zone_parse_text(text, cut, "cut", &opts, print_each, NULL, NULL);
            assert_true(rc == ZL_OK || rc == ZL_ESYNTAX);
        }
        for (int k = 0; k < 300; k++, runs++) {
            memcpy(copy, text, len);
            for (int m = 0; m < 4; m++) {
                seed = seed * 1103515245 + 12345;
                size_t at = (seed >> 8) % len;
                static const char pick[] = "\\\"();$ \n\t@*.0xZ\xff";
                copy[at] = pick[(seed >> 4) % (sizeof(pick) - 1)];
            }
            int rc = zone_parse_text(copy, len, "mangled", &opts, print_each, NULL, NULL);
            assert_true(rc == ZL_OK || rc == ZL_ESYNTAX);
        }
    }
    globfree(&g);
    fprintf(stderr, "# %u mangled inputs parsed\n", runs);
}

/* A large zone parses, and how fast is printed (not asserted: a loaded
 * machine under ASan proves nothing either way; the 1M-record figure is
 * measured by make zone-bench). */
static void test_large_zone(void **state)
{
    (void)state;
    size_t n = 100000, cap = n * 64 + 256, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)sprintf(text, "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "host%zu A 10.%zu.%zu.%zu\n", i, i >> 16 & 255,
                               i >> 8 & 255, i & 255);
    uint8_t o[DNS_NAME_MAX];
    zone_parse_opts_t opts = { .origin = tname("big.test.", o) };
    size_t cnt = 0;
    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    assert_int_equal(zone_parse_text(text, len, "big", &opts, count_rec, &cnt, NULL), ZL_OK);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    double cpu = (double)(cb.tv_sec - ca.tv_sec) + (double)(cb.tv_nsec - ca.tv_nsec) / 1e9;
    fprintf(stderr, "# parsed %zu records in %.3f s wall, %.3f s CPU (sanitized build)\n",
            n + 2, s, cpu);
    assert_int_equal(cnt, n + 2);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_matches_ldns),
        cmocka_unit_test(test_examples_match_ldns),
        cmocka_unit_test(test_rdata_corpus_through_parser),
        cmocka_unit_test(test_directives),
        cmocka_unit_test(test_ttl_defaults),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_broken_lines),
        cmocka_unit_test(test_include_limits),
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_bad_zone_between_good),
        cmocka_unit_test(test_mangled_input),
        cmocka_unit_test(test_large_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
