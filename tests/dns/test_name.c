/* dns/name.c: wire parsing with decompression, limits, text forms,
 * canonical order, compression on write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <ldns/ldns.h>

#include "dns/name.h"

/* Builds a wire name from text, failing the test on error. */
static int txt(const char *s, uint8_t out[DNS_NAME_MAX])
{
    int r = dns_name_from_text(s, strlen(s), NULL, out);
    assert_true(r > 0);
    return r;
}

static int parse_at(const uint8_t *pkt, size_t len, size_t pos, uint8_t *out, size_t *after)
{
    dns_wire_t w;
    dns_wire_init_ro(&w, pkt, len);
    w.pos = pos;
    int r = dns_name_parse(&w, out);
    if (r < 0)
        assert_int_equal(w.err, r);
    if (after)
        *after = w.pos;
    return r;
}

static void test_parse_plain_and_pointer(void **state)
{
    (void)state;
    /* 0: www.example.com.  17: mail + ptr(4)  */
    static const uint8_t pkt[] = {
        3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
        4, 'm', 'a', 'i', 'l', 0xc0, 4, 0xff};
    uint8_t out[DNS_NAME_MAX], exp[DNS_NAME_MAX];
    size_t after;
    assert_int_equal(parse_at(pkt, sizeof(pkt), 0, out, &after), 17);
    assert_int_equal(after, 17);
    assert_int_equal(parse_at(pkt, sizeof(pkt), 17, out, &after), 18);
    assert_int_equal(after, 24); /* past the pointer, not the target */
    txt("mail.example.com.", exp);
    assert_memory_equal(out, exp, 18);
}

static void test_parse_loops(void **state)
{
    (void)state;
    uint8_t out[DNS_NAME_MAX];
    /* pointer to itself */
    static const uint8_t self[] = {0xc0, 0x00};
    assert_int_equal(parse_at(self, sizeof(self), 0, out, NULL), ZL_ELOOP);
    /* two pointers pointing at each other: 0 -> 2, 2 -> 0 */
    static const uint8_t pair[] = {0xc0, 0x02, 0xc0, 0x00};
    assert_int_equal(parse_at(pair, sizeof(pair), 2, out, NULL), ZL_ELOOP);
    assert_int_equal(parse_at(pair, sizeof(pair), 0, out, NULL), ZL_ELOOP);
    /* label then a pointer back to that label: a -> a -> ... */
    static const uint8_t lab[] = {1, 'a', 0xc0, 0x00};
    assert_int_equal(parse_at(lab, sizeof(lab), 0, out, NULL), ZL_ELOOP);
    /* forward pointer, even to a valid name */
    static const uint8_t fwd[] = {0xc0, 0x02, 1, 'a', 0};
    assert_int_equal(parse_at(fwd, sizeof(fwd), 0, out, NULL), ZL_ELOOP);
    /* pointer past the end */
    static const uint8_t past[] = {1, 'a', 0, 0xc0, 0x50};
    assert_int_equal(parse_at(past, sizeof(past), 3, out, NULL), ZL_ELOOP);
    static const uint8_t past2[] = {1, 'a', 0, 0xff, 0xff};
    assert_int_equal(parse_at(past2, sizeof(past2), 3, out, NULL), ZL_ELOOP);
}

static void test_parse_truncated_and_types(void **state)
{
    (void)state;
    uint8_t out[DNS_NAME_MAX];
    static const uint8_t full[] = {3, 'w', 'w', 'w', 1, 'x', 0};
    for (size_t n = 0; n < sizeof(full); n++)
        assert_int_equal(parse_at(full, n, 0, out, NULL), ZL_EMALF);
    assert_int_equal(parse_at(full, sizeof(full), 0, out, NULL), 7);
    static const uint8_t halfptr[] = {1, 'a', 0, 0xc0};
    assert_int_equal(parse_at(halfptr, sizeof(halfptr), 3, out, NULL), ZL_EMALF);
    static const uint8_t t40[] = {0x41, 'a', 0};
    assert_int_equal(parse_at(t40, sizeof(t40), 0, out, NULL), ZL_ELABEL);
    static const uint8_t t80[] = {0x81, 'a', 0};
    assert_int_equal(parse_at(t80, sizeof(t80), 0, out, NULL), ZL_ELABEL);
    /* a sticky error: a second parse on a failed cursor is a no-op */
    dns_wire_t w;
    dns_wire_init_ro(&w, t80, sizeof(t80));
    assert_int_equal(dns_name_parse(&w, out), ZL_ELABEL);
    assert_int_equal(dns_name_parse(&w, out), ZL_ELABEL);
    assert_int_equal(w.pos, 0);
}

/* A wire name made of labels of the given lengths ('a' filled). */
static size_t make_name(uint8_t *buf, const unsigned *lens, size_t n)
{
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        buf[p++] = (uint8_t)lens[i];
        memset(buf + p, 'a', lens[i]);
        p += lens[i];
    }
    buf[p++] = 0;
    return p;
}

static void test_limits(void **state)
{
    (void)state;
    uint8_t buf[600], out[DNS_NAME_MAX];
    /* 63-octet label: fine; 64 is a bad label type (0x40) */
    unsigned l63[] = {63};
    size_t n = make_name(buf, l63, 1);
    assert_int_equal(parse_at(buf, n, 0, out, NULL), 65);
    assert_int_equal(dns_name_check(buf, n), 65);
    buf[0] = 64;
    assert_int_equal(dns_name_check(buf, n + 1), ZL_ELABEL);
    /* 255 octets exactly: 63+63+63+61 labels -> 4*1 + 250 + 1 = 255 */
    unsigned l255[] = {63, 63, 63, 61};
    n = make_name(buf, l255, 4);
    assert_int_equal(n, 255);
    assert_int_equal(parse_at(buf, n, 0, out, NULL), 255);
    assert_int_equal(dns_name_check(buf, n), 255);
    unsigned l256[] = {63, 63, 63, 62};
    n = make_name(buf, l256, 4);
    assert_int_equal(n, 256);
    assert_int_equal(parse_at(buf, n, 0, out, NULL), ZL_ENAMELEN);
    assert_int_equal(dns_name_check(buf, n), ZL_ENAMELEN);
    /* over 255 only through a pointer: 202-octet name B at 0, then a
     * 52-octet label + pointer to B (255, fine), then 53 + pointer (256) */
    unsigned lb[] = {63, 63, 63, 8};
    size_t nb = make_name(buf, lb, 4);
    assert_int_equal(nb, 202);
    for (unsigned l = 52; l <= 53; l++) {
        buf[nb] = (uint8_t)l;
        memset(buf + nb + 1, 'x', l);
        buf[nb + 1 + l] = 0xc0;
        buf[nb + 2 + l] = 0;
        int r = parse_at(buf, nb + 3 + l, nb, out, NULL);
        assert_int_equal(r, l == 52 ? 255 : ZL_ENAMELEN);
    }
    /* text side: 63/64 label, 255/256 name */
    char s[400];
    memset(s, 'b', 63);
    strcpy(s + 63, ".");
    assert_int_equal(dns_name_from_text(s, strlen(s), NULL, out), 65);
    memset(s, 'b', 64);
    strcpy(s + 64, ".");
    assert_int_equal(dns_name_from_text(s, strlen(s), NULL, out), ZL_ELABEL);
    /* 63.63.63.61. = 255 octets */
    size_t p = 0;
    for (int i = 0; i < 4; i++) {
        unsigned ll = i < 3 ? 63 : 61;
        memset(s + p, 'c', ll);
        p += ll;
        s[p++] = '.';
    }
    s[p] = 0;
    assert_int_equal(dns_name_from_text(s, p, NULL, out), 255);
    s[p - 1] = 'c';
    s[p] = '.';
    assert_int_equal(dns_name_from_text(s, p + 1, NULL, out), ZL_ENAMELEN);
    /* relative name that becomes too long with its origin */
    uint8_t origin[DNS_NAME_MAX];
    assert_int_equal(dns_name_from_text(s, 191, NULL, origin), ZL_ESYNTAX);
    txt("ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.", origin);
    assert_int_equal(dns_name_from_text(s, 191, origin, out), ZL_ENAMELEN);
    assert_int_equal(dns_name_from_text(s, 127, origin, out), 2 * 64 + 65);
}

static void test_text_escapes(void **state)
{
    (void)state;
    uint8_t out[DNS_NAME_MAX];
    char buf[DNS_NAME_TEXT_MAX];
    static const uint8_t exp1[] = {3, 'a', '.', 'b', 3, 'c', 0, 'd', 0};
    const char *t1 = "a\\.b.c\\000d.";
    assert_int_equal(dns_name_from_text(t1, strlen(t1), NULL, out), 9);
    assert_memory_equal(out, exp1, 9);
    assert_int_equal(dns_name_to_text(out, buf, sizeof(buf)), (int)strlen(t1));
    assert_string_equal(buf, t1);
    /* \X for any X, \DDD upper values, specials escaped on output */
    const char *t2 = "\\@\\$\\(\\)\\;\\\"\\\\\\ x\\255\\127.";
    assert_int_equal(dns_name_from_text(t2, strlen(t2), NULL, out), 13);
    static const uint8_t exp2[] = {11, '@', '$', '(', ')', ';', '"', '\\', ' ', 'x', 255, 127, 0};
    assert_memory_equal(out, exp2, sizeof(exp2));
    assert_int_equal(dns_name_to_text(out, buf, sizeof(buf)), (int)strlen(t2));
    assert_string_equal(buf, t2);
    /* \q is just q */
    assert_int_equal(dns_name_from_text("\\q.", 3, NULL, out), 3);
    assert_int_equal(out[1], 'q');
    /* bad escapes */
    assert_int_equal(dns_name_from_text("a\\256.", 6, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("a\\12.", 5, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("a\\1", 3, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("a\\", 2, NULL, out), ZL_ESYNTAX);
    /* empty labels and empty input */
    assert_int_equal(dns_name_from_text("a..b.", 5, NULL, out), ZL_ELABEL);
    assert_int_equal(dns_name_from_text(".a.", 3, NULL, out), ZL_ELABEL);
    assert_int_equal(dns_name_from_text("", 0, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("..", 2, NULL, out), ZL_ELABEL);
    /* root, @ and relative names */
    assert_int_equal(dns_name_from_text(".", 1, NULL, out), 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(dns_name_to_text(out, buf, sizeof(buf)), 1);
    assert_string_equal(buf, ".");
    uint8_t origin[DNS_NAME_MAX];
    txt("Example.COM.", origin);
    assert_int_equal(dns_name_from_text("@", 1, origin, out), 13);
    assert_true(dns_name_equal(out, origin));
    assert_int_equal(dns_name_from_text("@", 1, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("www", 3, origin, out), 17);
    assert_int_equal(dns_name_to_text(out, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "www.Example.COM.");
    assert_int_equal(dns_name_from_text("www", 3, NULL, out), ZL_ESYNTAX);
    assert_int_equal(dns_name_from_text("www", 3, origin, out), 17);
    /* output space */
    assert_int_equal(dns_name_to_text(out, buf, 16), ZL_ESPACE);
    assert_int_equal(dns_name_to_text(out, buf, 17), 16);
    assert_int_equal(dns_name_to_text((const uint8_t *)"", buf, 1), ZL_ESPACE);
    /* worst case fits DNS_NAME_TEXT_MAX: 255 octets of \DDD */
    uint8_t big[DNS_NAME_MAX];
    size_t p = 0;
    for (int i = 0; i < 4; i++) {
        unsigned ll = i < 3 ? 63 : 61;
        big[p++] = (uint8_t)ll;
        memset(big + p, 1, ll);
        p += ll;
    }
    big[p] = 0;
    int tl = dns_name_to_text(big, buf, sizeof(buf));
    assert_int_equal(tl, 250 * 4 + 4);
    assert_int_equal(dns_name_from_text(buf, (size_t)tl, NULL, out), 255);
    assert_memory_equal(out, big, 255);
}

static void test_canonical_order(void **state)
{
    (void)state;
    /* RFC 4034 §6.1, in order. */
    static const char *const names[] = {
        "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
        "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
        "\\200.z.example.",
    };
    size_t n = sizeof(names) / sizeof(names[0]);
    uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
    for (size_t i = 0; i < n; i++) {
        txt(names[i], a);
        for (size_t j = 0; j < n; j++) {
            txt(names[j], b);
            int r = dns_name_cmp(a, b);
            int e = i < j ? -1 : i > j ? 1 : 0;
            if ((r > 0) - (r < 0) != e)
                fail_msg("cmp(%s, %s) = %d", names[i], names[j], r);
        }
    }
    /* root first; case does not matter */
    txt(".", a);
    txt("a.", b);
    assert_true(dns_name_cmp(a, b) < 0);
    txt("ExAmPlE.CoM.", a);
    txt("example.com.", b);
    assert_int_equal(dns_name_cmp(a, b), 0);
    assert_true(dns_name_equal(a, b));
    txt("example.co.", b);
    assert_false(dns_name_equal(a, b));
    /* octet strings: '_' (0x5f) sorts after 'Z' lower-cased? 'z' is 0x7a */
    txt("_x.", a);
    txt("a.", b);
    assert_true(dns_name_cmp(a, b) < 0);
}

static void test_helpers(void **state)
{
    (void)state;
    uint8_t n[DNS_NAME_MAX], p[DNS_NAME_MAX], d[DNS_NAME_MAX];
    txt("www.Example.com.", n);
    txt("example.COM.", p);
    assert_int_equal(dns_name_len(n), 17);
    assert_int_equal(dns_name_labels(n), 3);
    assert_int_equal(dns_name_labels((const uint8_t *)""), 0);
    assert_true(dns_name_is_sub(n, p));
    assert_true(dns_name_is_sub(p, p));
    assert_false(dns_name_is_sub(p, n));
    txt(".", d);
    assert_true(dns_name_is_sub(n, d));
    txt("ample.com.", d);
    assert_false(dns_name_is_sub(n, d));
    assert_true(dns_name_equal(dns_name_parent(n), p));
    assert_null(dns_name_parent((const uint8_t *)""));
    assert_int_equal(dns_name_copy(d, n), 17);
    dns_name_lower(d);
    assert_memory_equal(d, "\3www\7example\3com", 17);
    assert_memory_equal(n, "\3www\7Example\3com", 17); /* copy, not alias */
    /* check: pointer is an error for uncompressed names */
    static const uint8_t ptr[] = {1, 'a', 0xc0, 0};
    assert_int_equal(dns_name_check(ptr, sizeof(ptr)), ZL_ELABEL);
    assert_int_equal(dns_name_check(ptr, 1), ZL_EMALF);
    assert_int_equal(dns_name_check(ptr, 0), ZL_EMALF);
}

static void test_compression(void **state)
{
    (void)state;
    uint8_t buf[512], out[DNS_NAME_MAX], n1[DNS_NAME_MAX], n2[DNS_NAME_MAX],
        n3[DNS_NAME_MAX], n4[DNS_NAME_MAX];
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, buf, sizeof(buf));
    dns_compr_init(&c);
    txt("www.Example.com.", n1);
    txt("mail.EXAMPLE.com.", n2);
    txt("www.example.COM.", n3);
    txt("net.", n4);
    dns_wire_put_u16(&w, 0xabcd); /* offset 2 for the first name */
    assert_int_equal(dns_name_write(&w, n1, &c), ZL_OK);
    assert_int_equal(w.pos, 2 + 17);
    assert_int_equal(dns_name_write(&w, n2, &c), ZL_OK);
    assert_int_equal(w.pos, 19 + 5 + 2); /* "mail" + pointer to example.com */
    assert_int_equal(dns_get_u16(buf + 24), 0xc000 | 6);
    assert_int_equal(dns_name_write(&w, n3, &c), ZL_OK);
    assert_int_equal(w.pos, 26 + 2); /* whole name: pointer to offset 2 */
    assert_int_equal(dns_get_u16(buf + 26), 0xc000 | 2);
    assert_int_equal(dns_name_write(&w, n4, &c), ZL_OK);
    assert_int_equal(w.pos, 28 + 5); /* nothing in common */
    assert_int_equal(dns_name_write(&w, (const uint8_t *)"", &c), ZL_OK);
    assert_int_equal(w.pos, 34);
    /* suffix of a compressed name: "x.mail.example.com" -> ptr to 19 */
    txt("x.mail.example.com.", n4);
    assert_int_equal(dns_name_write(&w, n4, &c), ZL_OK);
    assert_int_equal(dns_get_u16(buf + 36), 0xc000 | 19);
    size_t end = w.pos;
    /* everything decompresses back, first spelling wins */
    dns_wire_t r;
    dns_wire_init_ro(&r, buf, end);
    r.pos = 2;
    assert_int_equal(dns_name_parse(&r, out), 17);
    assert_memory_equal(out, n1, 17);
    assert_int_equal(dns_name_parse(&r, out), 18);
    assert_memory_equal(out, "\4mail\7Example\3com", 18);
    assert_int_equal(dns_name_parse(&r, out), 17);
    assert_memory_equal(out, n1, 17);
    assert_int_equal(dns_name_parse(&r, out), 5);
    assert_int_equal(dns_name_parse(&r, out), 1);
    assert_int_equal(dns_name_parse(&r, out), 20);
    assert_true(dns_name_equal(out, n4));
    assert_int_equal(r.pos, end);
    /* without compression state: written in full */
    assert_int_equal(dns_name_write(&w, n1, NULL), ZL_OK);
    assert_int_equal(w.pos, end + 17);
    /* no space: sticky ZL_ESPACE, nothing remembered */
    uint16_t before = c.n;
    dns_wire_init(&w, buf, 10);
    dns_compr_init(&c);
    assert_int_equal(dns_name_write(&w, n1, &c), ZL_ESPACE);
    assert_int_equal(c.n, 0);
    assert_int_equal(w.pos, 0);
    (void)before;
}

static void test_compression_limits(void **state)
{
    (void)state;
    /* Names beyond offset 0x3fff are written but never pointed to. */
    static uint8_t buf[0x4100];
    uint8_t n[DNS_NAME_MAX];
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, buf, sizeof(buf));
    dns_compr_init(&c);
    w.pos = 0x3ffe;
    txt("ab.cd.", n);
    assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
    assert_int_equal(c.n, 1); /* "ab" at 0x3ffe; "cd" at 0x4001 is too far */
    assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
    assert_int_equal(w.pos, 0x3ffe + 7 + 2);
    txt("ef.", n);
    assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
    assert_int_equal(c.n, 1);
    /* table full: still correct output */
    dns_wire_init(&w, buf, sizeof(buf));
    dns_compr_init(&c);
    char s[32];
    for (int i = 0; i < 300; i++) {
        snprintf(s, sizeof(s), "h%d.z.", i);
        txt(s, n);
        assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
    }
    assert_int_equal(c.n, DNS_COMPR_MAX);
    dns_wire_t r;
    dns_wire_init_ro(&r, buf, w.pos);
    uint8_t out[DNS_NAME_MAX];
    for (int i = 0; i < 300; i++) {
        snprintf(s, sizeof(s), "h%d.z.", i);
        txt(s, n);
        assert_true(dns_name_parse(&r, out) > 0);
        assert_true(dns_name_equal(out, n));
    }
    assert_int_equal(r.pos, w.pos);
}

static uint32_t rnd_state = 88172645u;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* The compression dns_name_write must produce, done the slow way: the
 * longest suffix of the name that an earlier entry holds (entries in the
 * order they were made, first one wins; compared case-insensitively), the
 * new labels remembered while the table has room and their offsets fit a
 * pointer. */
typedef struct ref_compr {
    size_t off[DNS_COMPR_MAX];
    uint8_t suffix[DNS_COMPR_MAX][DNS_NAME_MAX];
    unsigned n;
} ref_compr_t;

static size_t ref_write(uint8_t *buf, size_t pos, const uint8_t *name, ref_compr_t *c)
{
    size_t off[128], nl = 0, root = 0;
    for (; name[root]; root += name[root] + 1u)
        off[nl++] = root;
    size_t i = nl, ptr = 0;
    for (size_t j = 0; j < nl && i == nl; j++)
        for (unsigned e = 0; e < c->n; e++)
            if (dns_name_equal(c->suffix[e], name + off[j])) {
                i = j;
                ptr = c->off[e];
                break;
            }
    for (size_t j = 0; j < i && c->n < DNS_COMPR_MAX && pos + off[j] < 0x4000; j++) {
        c->off[c->n] = pos + off[j];
        dns_name_copy(c->suffix[c->n++], name + off[j]);
    }
    size_t prefix = i < nl ? off[i] : root;
    memcpy(buf + pos, name, prefix);
    pos += prefix;
    if (i < nl) {
        buf[pos++] = (uint8_t)(0xc0 | ptr >> 8);
        buf[pos++] = (uint8_t)ptr;
    } else {
        buf[pos++] = 0;
    }
    return pos;
}

/* Large messages (transfers): once the table holds DNS_COMPR_HASH_MIN
 * entries it filters by suffix hashes. The output must stay exactly what
 * comparing every entry gives: names from a small pool of labels in random
 * case (suffixes repeat, spellings differ), more names than the table
 * holds, past offset 0x3fff; every fifth name is written and then taken
 * back (the message and the table rolled back, as dns_msgb_rr does when a
 * record does not fit), so the index must forget what it held. */
static void test_compression_hashed(void **state)
{
    (void)state;
    static const char *pool[] = {"a", "www", "Mail", "h1", "h22", "d7", "EXAMPLE", "com", "bench"};
    static uint8_t buf[0x10000], ref[0x10000];
    static ref_compr_t rc;
    uint8_t n[DNS_NAME_MAX];
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, buf, sizeof(buf));
    dns_compr_init(&c);
    rc.n = 0;
    size_t rpos = 0, names = 0;
    rnd_state = 12345u;
    while (w.pos < sizeof(buf) - 300) {
        size_t len = 0;
        unsigned labels = 1 + rnd() % 4;
        for (unsigned l = 0; l < labels; l++) {
            const char *t = pool[rnd() % (sizeof(pool) / sizeof(pool[0]))];
            size_t tl = strlen(t);
            n[len++] = (uint8_t)tl;
            for (size_t k = 0; k < tl; k++)
                n[len++] = rnd() % 4 ? (uint8_t)t[k] : (uint8_t)(t[k] ^ 0x20);
        }
        n[len] = 0;
        size_t pos0 = w.pos, rpos0 = rpos;
        uint16_t n0 = c.n, rn0 = (uint16_t)rc.n;
        assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
        rpos = ref_write(ref, rpos, n, &rc);
        assert_int_equal(w.pos, rpos);
        if (++names % 5 == 0) {
            w.pos = pos0, rpos = rpos0;
            c.n = n0, rc.n = rn0;
        }
    }
    assert_true(c.hashed);
    assert_int_equal(c.n, rc.n);
    assert_memory_equal(buf, ref, rpos);
    assert_true(names > 4 * DNS_COMPR_MAX);
}

/* A hashed table rolled back again and again (a writer taking back
 * records that did not fit) stays what the slow way gives: names kept
 * until the table is hashed, then (up to round 400) three names written
 * and taken back each round, then names kept again. */
static void test_compression_rollback(void **state)
{
    (void)state;
    static const char *pool[] = {"a", "www", "Mail", "h1", "h22", "d7", "EXAMPLE", "com", "bench"};
    static uint8_t buf[0x4000], ref[0x4000];
    static ref_compr_t rc;
    uint8_t n[DNS_NAME_MAX];
    dns_wire_t w;
    dns_compr_t c;
    dns_wire_init(&w, buf, sizeof(buf));
    dns_compr_init(&c);
    rc.n = 0;
    size_t rpos = 0;
    unsigned backs = 0;
    rnd_state = 777u;
    for (unsigned round = 0; round < 420 && w.pos < sizeof(buf) - 300; round++) {
        size_t pos0 = w.pos, rpos0 = rpos;
        uint16_t n0 = c.n;
        unsigned rn0 = rc.n;
        bool back = c.hashed && round < 400;
        for (int k = 0; k < 3; k++) {
            size_t len = 0;
            unsigned labels = 1 + rnd() % 4;
            for (unsigned l = 0; l < labels; l++) {
                const char *t = pool[rnd() % (sizeof(pool) / sizeof(pool[0]))];
                size_t tl = strlen(t);
                n[len++] = (uint8_t)tl;
                memcpy(n + len, t, tl);
                len += tl;
            }
            n[len++] = 1, n[len++] = (uint8_t)('a' + round % 26);   /* a new suffix */
            n[len] = 0;
            assert_int_equal(dns_name_write(&w, n, &c), ZL_OK);
            rpos = ref_write(ref, rpos, n, &rc);
            assert_int_equal(w.pos, rpos);
            assert_memory_equal(buf, ref, rpos);
        }
        if (back)
            w.pos = pos0, rpos = rpos0, c.n = n0, rc.n = rn0;
        backs += back;
    }
    assert_true(backs > 350);
    assert_int_equal(c.n, rc.n);
}

/* Random valid wire names, biased towards the characters that need
 * escaping; returns the length. */
static size_t random_name(uint8_t *out)
{
    static const char special[] = ".\\\"();@$ \t\001\177\200\377aZ09-_*";
    size_t n = 0;
    unsigned labels = rnd() % 6;
    for (unsigned i = 0; i < labels; i++) {
        unsigned l = 1 + rnd() % (rnd() % 4 ? 8 : 63);
        if (n + 1 + l + 1 > DNS_NAME_MAX)
            break;
        out[n++] = (uint8_t)l;
        for (unsigned j = 0; j < l; j++)
            out[n++] = rnd() % 3 ? (uint8_t)special[rnd() % (sizeof(special) - 1)] : (uint8_t)rnd();
    }
    out[n++] = 0;
    return n;
}

/* ldns as the oracle for the presentation form: what zonelet prints, ldns
 * reads to the same wire name, and what ldns prints, zonelet reads back. */
static void test_text_vs_ldns(void **state)
{
    (void)state;
    uint8_t name[DNS_NAME_MAX], back[DNS_NAME_MAX];
    char txtbuf[DNS_NAME_TEXT_MAX];
    for (int it = 0; it < 5000; it++) {
        size_t n = random_name(name);
        int tl = dns_name_to_text(name, txtbuf, sizeof(txtbuf));
        assert_true(tl > 0);
        ldns_rdf *d = NULL;
        if (ldns_str2rdf_dname(&d, txtbuf) != LDNS_STATUS_OK)
            fail_msg("ldns rejects %s", txtbuf);
        if (ldns_rdf_size(d) != n || memcmp(ldns_rdf_data(d), name, n) != 0)
            fail_msg("ldns reads %s differently", txtbuf);
        char *ls = ldns_rdf2str(d);
        int bl = dns_name_from_text(ls, strlen(ls), NULL, back);
        if (bl != (int)n || memcmp(back, name, n) != 0)
            fail_msg("zonelet reads ldns' %s differently (%d)", ls, bl);
        assert_int_equal(dns_name_from_text(txtbuf, (size_t)tl, NULL, back), (int)n);
        assert_memory_equal(back, name, n);
        free(ls);
        ldns_rdf_deep_free(d);
    }
}

/* Canonical order against ldns_dname_compare on random names. */
static void test_order_vs_ldns(void **state)
{
    (void)state;
    uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
    for (int it = 0; it < 5000; it++) {
        size_t na = random_name(a), nb;
        if (it % 3 == 0) { /* related names: shared suffix, changed case */
            memcpy(b, a, na);
            nb = na;
            if (na > 1)
                b[1 + rnd() % (na - 1)] ^= 0x20;
        } else {
            nb = random_name(b);
        }
        /* flipping bit 5 of a length octet makes an invalid name: skip */
        if (dns_name_check(b, nb) != (int)nb)
            continue;
        ldns_rdf *la = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, na, a);
        ldns_rdf *lb = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, nb, b);
        int want = ldns_dname_compare(la, lb);
        int got = dns_name_cmp(a, b);
        if ((got > 0) - (got < 0) != (want > 0) - (want < 0))
            fail_msg("order differs from ldns (%d vs %d)", got, want);
        assert_int_equal(dns_name_equal(a, b), want == 0);
        assert_int_equal(dns_name_is_sub(a, b), ldns_dname_is_subdomain(la, lb) || want == 0);
        ldns_rdf_deep_free(la);
        ldns_rdf_deep_free(lb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_plain_and_pointer),
        cmocka_unit_test(test_parse_loops),
        cmocka_unit_test(test_parse_truncated_and_types),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_compression),
        cmocka_unit_test(test_compression_limits),
        cmocka_unit_test(test_compression_hashed),
        cmocka_unit_test(test_compression_rollback),
        cmocka_unit_test(test_text_vs_ldns),
        cmocka_unit_test(test_order_vs_ldns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
