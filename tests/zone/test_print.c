/* zone/print.c: every record of the corpus and of the example zones is
 * printed in canonical form, and that text parses back to the same
 * records in zonelet and in ldns. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "zone/zt.h"

/* ldns 1.8 cannot read NXT and A6 in presentation form: for ldns they
 * are written in RFC 3597 form (what zonelet prints is checked by the
 * zonelet round trip and, for the wire form, by test_parse's types.ldns). */
static int print_generic(const trec_t *t, char *buf, size_t cap)
{
    int o = dns_name_to_text(t->owner, buf, cap);
    assert_true(o > 0);
    o += snprintf(buf + o, cap - (size_t)o, " %u CLASS%u TYPE%u \\# %u ", (unsigned)t->ttl,
                  t->rclass, t->type, t->rdlen);
    for (size_t i = 0; i < t->rdlen; i++)
        o += snprintf(buf + o, cap - (size_t)o, "%02x", t->rdata[i]);
    o += snprintf(buf + o, cap - (size_t)o, "\n");
    return o;
}

/* Text of every record of l, one line each. */
static char *print_all(const tlist_t *l, bool for_ldns)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    static char line[DNS_RDATA_TEXT_MAX + 2 * DNS_NAME_TEXT_MAX];
    assert_non_null(out);
    out[0] = 0;
    for (size_t i = 0; i < l->n; i++) {
        const trec_t *t = &l->r[i];
        dns_rr_t r = { .owner = t->owner, .type = t->type, .rclass = t->rclass,
                         .ttl = t->ttl, .rdlen = t->rdlen, .rdata = t->rdata };
        int n = for_ldns && (t->type == DNS_T_NXT || t->type == DNS_T_A6)
                    ? print_generic(t, line, sizeof(line))
                    : zone_rec_to_text(&r, line, sizeof(line));
        assert_true(n > 0);
        assert_int_equal(strlen(line), (size_t)n);
        assert_int_equal(line[n - 1], '\n');
        assert_null(memchr(line, '\n', (size_t)n - 1));
        while (len + (size_t)n + 1 > cap) {
            out = realloc(out, cap *= 2);
            assert_non_null(out);
        }
        memcpy(out + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return out;
}

static void roundtrip(const char *path, const char *origin)
{
    tlist_t a = { 0 }, b = { 0 }, c = { 0 };
    terrs_t e = { 0 };
    int line;
    assert_int_equal(tl_parse_file(path, origin, &a, &e), ZL_OK);
    char *text = print_all(&a, false), *ltext = print_all(&a, true);
    /* Absolute names: the origin given to the parser does not matter. */
    int rc = tl_parse_text(text, "unrelated.invalid.", &b, &e);
    if (rc != ZL_OK)
        te_print(&e);
    assert_int_equal(rc, ZL_OK);
    assert_true(tl_same(path, &a, &b));
    ldns_status s = tl_ldns_text(ltext, "unrelated.invalid.", &c, &line);
    if (s != LDNS_STATUS_OK)
        fprintf(stderr, "# ldns: printed %s line %d: %s\n", path, line, ldns_get_errorstr_by_id(s));
    assert_int_equal(s, LDNS_STATUS_OK);
    tl_drop_type(&a, DNS_T_NSAP_PTR); /* see test_parse.c */
    tl_drop_type(&c, DNS_T_NSAP_PTR);
    tl_soa_first(&a);
    assert_true(tl_same(path, &a, &c));
    fprintf(stderr, "# %s: %zu records printed and read back\n", path, a.n);
    free(text);
    free(ltext);
    tl_free(&a);
    tl_free(&b);
    tl_free(&c);
}

static void test_corpus_roundtrip(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob(CORPUS "/*.zone", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        roundtrip(g.gl_pathv[i], "example.test.");
    globfree(&g);
    roundtrip("zones-example/example.test", "example.test.");
    roundtrip("zones-example/_keys", ".");
}

/* Known lines, so that "canonical" is pinned and not only self-consistent. */
static void test_rec_to_text(void **state)
{
    (void)state;
    tlist_t l = { 0 };
    terrs_t e = { 0 };
    const char *text = "$TTL 300\n"
                       "Www  A 192.0.2.1\n"
                       "@ CLASS3 TXT \"a b\" c\n"
                       "x.y TYPE65280 \\# 2 abcd\n"
                       "sp\\032ace MX 10 @\n";
    assert_int_equal(tl_parse_text(text, "example.test.", &l, &e), ZL_OK);
    assert_int_equal(l.n, 4);
    const char *want[] = {
        "Www.example.test. 300 IN A 192.0.2.1\n",
        "example.test. 300 CH TXT \"a b\" \"c\"\n",
        "x.y.example.test. 300 CH TYPE65280 \\# 2 abcd\n",
        "sp\\ ace.example.test. 300 CH MX 10 example.test.\n",
    };
    char buf[512];
    for (size_t i = 0; i < 4; i++) {
        dns_rr_t r = { .owner = l.r[i].owner, .type = l.r[i].type, .rclass = l.r[i].rclass,
                         .ttl = l.r[i].ttl, .rdlen = l.r[i].rdlen, .rdata = l.r[i].rdata };
        int n = zone_rec_to_text(&r, buf, sizeof(buf));
        if (n != (int)strlen(want[i]))
            fprintf(stderr, "# got  %s# want %s", buf, want[i]);
        assert_int_equal(n, strlen(want[i]));
        if (i == 2) /* RFC 3597 hex: either case */
            assert_int_equal(strcasecmp(buf, want[i]), 0);
        else
            assert_string_equal(buf, want[i]);
        /* Too small a buffer is an error, never a cut line. */
        for (size_t cap = 0; cap < strlen(want[i]) + 1; cap += 3)
            assert_int_equal(zone_rec_to_text(&r, buf, cap), ZL_ESPACE);
    }
    tl_free(&l);
}

/* zone_print writes the SOA first, then canonical order, and the output
 * loads back to the same zone. */
static void test_zone_print(void **state)
{
    (void)state;
    uint8_t o[DNS_NAME_MAX];
    terrs_t e = { 0 };
    zone_report_t rep = { te_collect, &e };
    zone_t *z = NULL;
    assert_int_equal(zone_load_file("zones-example/example.test", tname("example.test.", o), &z,
                                    &rep), ZL_OK);
    char path[] = "/tmp/zonelet-print-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(zone_print(z, f), ZL_OK);
    fclose(f);
    tlist_t a = { 0 }, b = { 0 };
    assert_int_equal(tl_parse_file(path, ".", &a, &e), ZL_OK);
    assert_int_equal(a.n, zone_record_count(z));
    assert_int_equal(a.r[0].type, DNS_T_SOA);
    for (size_t i = 2; i < a.n; i++)
        assert_true(dns_name_cmp(a.r[i - 1].owner, a.r[i].owner) <= 0);
    /* ldns reads the printed zone to the same records. */
    tlist_t c = { 0 };
    int line = 0;
    assert_int_equal(tl_ldns_file(path, ".", &c, &line), LDNS_STATUS_OK);
    assert_true(tl_same("zone_print via ldns", &a, &c));
    tl_free(&c);
    zone_t *z2 = NULL;
    assert_int_equal(zone_load_file(path, o, &z2, &rep), ZL_OK);
    assert_int_equal(zone_record_count(z2), zone_record_count(z));
    /* Printing the reloaded zone gives the same text. */
    char path2[] = "/tmp/zonelet-print-XXXXXX";
    fd = mkstemp(path2);
    f = fdopen(fd, "w");
    assert_int_equal(zone_print(z2, f), ZL_OK);
    fclose(f);
    assert_int_equal(tl_parse_file(path2, ".", &b, &e), ZL_OK);
    assert_true(tl_same("reprinted", &a, &b));
    unlink(path);
    unlink(path2);
    tl_free(&a);
    tl_free(&b);
    zone_free(z);
    zone_free(z2);
}

/* Golden pairs: tests/zone/golden/<zone>.in printed by zone_print must
 * equal <zone>.out byte for byte. */
static void test_golden(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("tests/zone/golden/*.in", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *in = g.gl_pathv[i], *base = strrchr(in, '/') + 1;
        char origin[256], out[512], *got = NULL, want[1 << 14];
        size_t glen = 0;
        snprintf(origin, sizeof(origin), "%.*s.", (int)(strlen(base) - 3), base);
        snprintf(out, sizeof(out), "%.*s.out", (int)(strlen(in) - 3), in);
        uint8_t o[DNS_NAME_MAX];
        terrs_t e = { 0 };
        zone_report_t rep = { te_collect, &e };
        zone_t *z = NULL;
        assert_int_equal(zone_load_file(in, tname(origin, o), &z, &rep), ZL_OK);
        FILE *f = open_memstream(&got, &glen);
        assert_int_equal(zone_print(z, f), ZL_OK);
        fclose(f);
        f = fopen(out, "r");
        assert_non_null(f);
        size_t wlen = fread(want, 1, sizeof(want), f);
        fclose(f);
        if (glen != wlen || memcmp(got, want, wlen) != 0)
            fprintf(stderr, "# %s printed:\n%s", in, got);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
        fprintf(stderr, "# %s: printed as %s\n", in, out);
        free(got);
        zone_free(z);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_roundtrip),
        cmocka_unit_test(test_rec_to_text),
        cmocka_unit_test(test_zone_print),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
