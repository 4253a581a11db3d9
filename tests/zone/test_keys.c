/* zone/keys.c: rights from key names (the cases of ocaml-dns's own tests,
 * test/server.ml zone_and_op and simple_allow, where zonelet agrees),
 * primary-git's addresses in transfer-key names, command-line keys, the
 * keyring (find, iterate, duplicates, key files with file:line reports,
 * a source with $INCLUDE) and its use as TSIG's key lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/codec.h"
#include "dns/err.h"
#include "dns/msg.h"
#include "zone/keys.h"

static const uint8_t *nm(const char *text, uint8_t buf[DNS_NAME_MAX])
{
    static const uint8_t root[1] = { 0 };
    if (dns_name_from_text(text, strlen(text), root, buf) < 0)
        fail_msg("bad name %s", text);
    return buf;
}

static int key_named(zone_key_t *k, const char *name, const char **why)
{
    uint8_t n[DNS_NAME_MAX];
    return zone_key_init(k, nm(name, n), DNS_TSIG_HMAC_SHA256, (const uint8_t *)"secret", 6, why);
}

#define ALL (ZONE_KEY_UPDATE | ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY)
#define XFR (ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY)

static void test_rights(void **state)
{
    (void)state;
    static const struct { const char *name; unsigned rights; const char *zone; } t[] = {
        { ".", 0, NULL },
        { "foo.com.", 0, NULL },
        { "this.is.my.transfer.or.update.or.notify.foo.com.", 0, NULL },
        { "this.is.my.transfer.or._update.or.notify.foo.com.", ALL, "or.notify.foo.com." },
        { "_update._transfer.", XFR, "." },
        { "_update.foo._transfer.com.", XFR, "com." },
        { "_notify.foo._update.com.", ALL, "com." },
        { "_update.foo._notify.com.", ZONE_KEY_NOTIFY, "com." },
        { "_transfer.foo._notify.com.", ZONE_KEY_NOTIFY, "com." },
        { "x._update.y._notify.com.", ZONE_KEY_NOTIFY, "com." }, /* the rightmost */
        { "x._notify.y._update.z.", ALL, "z." },
        { "ddns._update.example.test.", ALL, "example.test." },
        { "x._UPDATE.Example.COM.", ALL, "Example.COM." },
        { "x._transfer.example.test.", XFR, "example.test." },
        { "x._notify.example.test.", ZONE_KEY_NOTIFY, "example.test." },
        { "x._update.", ALL, "." },
        { "x._updates.example.", 0, NULL },
        { "x.update.example.", 0, NULL },
        /* zonelet wants a label before the role (ocaml-dns does not). */
        { "_transfer.foo.com.", 0, NULL },
        { "_update.example.test.", 0, NULL },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        zone_key_t k;
        const char *why = NULL;
        uint8_t z[DNS_NAME_MAX];
        int rc = key_named(&k, t[i].name, &why);
        if (!t[i].zone) {
            assert_int_equal(rc, ZL_EINVAL);
            assert_non_null(strstr(why, "key name must be <x>._update.<zone>"));
            continue;
        }
        if (rc != ZL_OK)
            fail_msg("%s: %s", t[i].name, why);
        assert_int_equal(k.rights, t[i].rights);
        assert_true(dns_name_equal(k.zone, nm(t[i].zone, z)));
        assert_int_equal(k.primary.family, 0);
    }
}

static void test_allows(void **state)
{
    (void)state;
    /* ocaml-dns's simple_allow: (right, zone, key, allowed). */
    static const char *const keys[] = { "foo._notify.", "foo._transfer.", "foo._update.",
                                        "foo._notify.example.com.", "foo._transfer.example.com.",
                                        "foo._update.example.com." };
    static const char *const zones[] = { "example.com.", "foo.example.com.", "example2.com.",
                                         "com." };
    static const unsigned rights[] = { ZONE_KEY_NOTIFY, ZONE_KEY_TRANSFER, ZONE_KEY_UPDATE };
    for (size_t z = 0; z < 4; z++)
        for (size_t k = 0; k < 6; k++)
            for (size_t r = 0; r < 3; r++) {
                zone_key_t key;
                const char *why;
                uint8_t o[DNS_NAME_MAX];
                assert_int_equal(key_named(&key, keys[k], &why), ZL_OK);
                bool covers = k < 3 || z < 2;  /* root keys cover all */
                bool has = (size_t)(k % 3) >= r; /* notify < transfer < update */
                assert_int_equal(zone_key_allows(&key, nm(zones[z], o), rights[r]),
                                 covers && has);
            }
    /* Several rights at once: all of them needed. */
    zone_key_t key;
    const char *why;
    uint8_t o[DNS_NAME_MAX];
    assert_int_equal(key_named(&key, "x._transfer.example.com.", &why), ZL_OK);
    assert_true(zone_key_allows(&key, nm("EXAMPLE.com.", o), XFR));
    assert_false(zone_key_allows(&key, o, ZONE_KEY_UPDATE | ZONE_KEY_NOTIFY));
}

static void addr_is(const zone_key_addr_t *a, const char *text)
{
    if (!text) {
        assert_int_equal(a->family, 0);
        return;
    }
    uint8_t want[16];
    int v6 = strchr(text, ':') != NULL;
    assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, want), 1);
    assert_int_equal(a->family, v6 ? 6 : 4);
    assert_memory_equal(a->addr, want, v6 ? 16 : 4);
}

static void test_addresses(void **state)
{
    (void)state;
    static const struct { const char *name, *primary, *secondary, *zone; } t[] = {
        /* ocaml-dns's tests and comments */
        { "1.2.3.4.5.6.7.8._transfer.one.com.", "1.2.3.4", "5.6.7.8", "one.com." },
        { "1.2.3.4.5.6.7.8._transfer.", "1.2.3.4", "5.6.7.8", "." },
        { "1.2.3.4.9.10.11.12._transfer.one.com.", "1.2.3.4", "9.10.11.12", "one.com." },
        { "192.168.42.2.192.168.42.1._transfer.mirage.", "192.168.42.2", "192.168.42.1",
          "mirage." },
        { "foo.192.168.42.1._transfer.mirage.", "192.168.42.1", NULL, "mirage." },
        { "a.b.1.2.3.4._transfer.x.", "1.2.3.4", NULL, "x." },
        { "1.2.3.256.5.6.7.8._transfer.x.", "5.6.7.8", NULL, "x." },
        { "5.6.7._transfer.x.", NULL, NULL, "x." },
        { "1.2.3.4.foo._transfer.x.", NULL, NULL, "x." },
        { "01.2.3.1234._transfer.x.", NULL, NULL, "x." },
        { "1.2.3.4.5.6.7.8._update.x.", NULL, NULL, "x." },
        { "1.2.3.4.5.6.7.8._notify.x.", NULL, NULL, "x." },
        /* zonelet's IPv6 labels */
        { "2001:db8::1.2001:db8::2._transfer.x.", "2001:db8::1", "2001:db8::2", "x." },
        { "192.0.2.1.2001:db8::53._transfer.x.", "192.0.2.1", "2001:db8::53", "x." },
        { "2001:db8::1.192.0.2.53._transfer.x.", "2001:db8::1", "192.0.2.53", "x." },
        { "k.2001:db8::53._transfer.x.", "2001:db8::53", NULL, "x." },
        { "k.2001:db8:::53._transfer.x.", NULL, NULL, "x." },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        zone_key_t k;
        const char *why;
        uint8_t z[DNS_NAME_MAX];
        assert_int_equal(key_named(&k, t[i].name, &why), ZL_OK);
        assert_true(dns_name_equal(k.zone, nm(t[i].zone, z)));
        addr_is(&k.primary, t[i].primary);
        addr_is(&k.secondary, t[i].secondary);
    }
}

static void test_from_arg(void **state)
{
    (void)state;
    zone_key_t k;
    const char *why = NULL;
    uint8_t n[DNS_NAME_MAX];
    assert_int_equal(zone_key_from_arg("ddns._update.example.test:hmac-sha256:c2VjcmV0", &k, &why),
                     ZL_OK);
    assert_true(dns_name_equal(k.tsig.name, nm("ddns._update.example.test.", n)));
    assert_int_equal(k.tsig.alg, DNS_TSIG_HMAC_SHA256);
    assert_int_equal(k.tsig.secret_len, 6);
    assert_memory_equal(k.tsig.secret, "secret", 6);
    assert_int_equal(k.rights, ALL);
    assert_int_equal(zone_key_from_arg("x._notify.example.test.:HMAC-SHA512:c2VjcmV0", &k, &why),
                     ZL_OK);
    assert_int_equal(k.tsig.alg, DNS_TSIG_HMAC_SHA512);
    assert_int_equal(k.rights, ZONE_KEY_NOTIFY);
    assert_int_equal(zone_key_from_arg("x._update:hmac-md5.sig-alg.reg.int:c2VjcmV0", &k, &why),
                     ZL_OK);
    assert_int_equal(k.tsig.alg, DNS_TSIG_HMAC_MD5);
    static const char *const algs[] = { "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256",
                                        "hmac-sha384", "hmac-sha512" };
    static const uint8_t nums[] = { 157, 161, 162, 163, 164, 165 };
    for (int i = 0; i < 6; i++) {
        char arg[128];
        snprintf(arg, sizeof(arg), "k._transfer.example:%s:AAAA", algs[i]);
        assert_int_equal(zone_key_from_arg(arg, &k, &why), ZL_OK);
        assert_int_equal(k.tsig.alg, nums[i]);
    }
    /* A name with colons (an IPv6 address) : ALG and BASE64 are the last. */
    assert_int_equal(zone_key_from_arg("k.2001:db8::53._transfer.example:hmac-sha1:c2VjcmV0", &k,
                                       &why), ZL_OK);
    addr_is(&k.primary, "2001:db8::53");
    static const struct { const char *arg, *why; } bad[] = {
        { "", "expected NAME:ALG:BASE64" },
        { "x._update.example", "expected NAME:ALG:BASE64" },
        { "hmac-sha256:c2VjcmV0", "expected NAME:ALG:BASE64" },
        { ":hmac-sha256:c2VjcmV0", "bad key name" },
        { "a..b:hmac-sha256:c2VjcmV0", "bad key name" },
        { "x._update.e:hmac-sha:c2VjcmV0", "unknown algorithm: use hmac-md5, hmac-sha1, "
                                          "hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512" },
        { "x._update.e::c2VjcmV0", "unknown algorithm" },
        { "x._update.e:hmac-sha256:c2V", "secret is not valid base64" },
        { "x._update.e:hmac-sha256:c2V*cmV0", "secret is not valid base64" },
        { "x._update.e:hmac-sha256:", "key without a secret" },
        { "x.e:hmac-sha256:c2VjcmV0", "key name must be <x>._update.<zone>" },
        { "_update.e:hmac-sha256:c2VjcmV0", "key name must be" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        int rc = zone_key_from_arg(bad[i].arg, &k, &why);
        assert_true(rc == ZL_ESYNTAX || rc == ZL_EINVAL);
        if (!why || strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
            fail_msg("'%s': why '%s', want '%s'", bad[i].arg, why ? why : "(null)", bad[i].why);
    }
    /* Secrets: 256 octets are fine, 257 are not. */
    char arg[600] = "x._update.e:hmac-sha256:";
    uint8_t raw[257] = { 0 };
    int n256 = dns_b64_encode(raw, 256, arg + 24, sizeof(arg) - 25);
    arg[24 + n256] = 0;
    assert_int_equal(zone_key_from_arg(arg, &k, &why), ZL_OK);
    assert_int_equal(k.tsig.secret_len, 256);
    int n257 = dns_b64_encode(raw, 257, arg + 24, sizeof(arg) - 25);
    arg[24 + n257] = 0;
    assert_int_not_equal(zone_key_from_arg(arg, &k, &why), ZL_OK);
    assert_string_equal(why, "key secret longer than 256 octets");
}

/* Reports, collected. */
typedef struct reps {
    char text[16][200];
    size_t n;
} reps_t;

static void rep_fn(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                   const char *msg)
{
    reps_t *r = ctx;
    assert_int_equal(sev, ZONE_ERROR); /* key rules have no warnings */
    if (r->n < 16)
        snprintf(r->text[r->n++], 200, "%s:%u: %s", file ? file : "-", line, msg);
}

static void test_keyring(void **state)
{
    (void)state;
    zone_keyring_t *kr = zone_keyring_new();
    assert_non_null(kr);
    static const char *const names[] = { "b._update.example.test.", "A._transfer.example.test.",
                                         "c._notify.other.test.", "z._transfer." };
    for (int i = 0; i < 4; i++) {
        zone_key_t k;
        const char *why;
        assert_int_equal(key_named(&k, names[i], &why), ZL_OK);
        assert_int_equal(zone_keyring_add(kr, &k), ZL_OK);
    }
    zone_key_t k;
    const char *why;
    assert_int_equal(key_named(&k, "a._TRANSFER.Example.Test.", &why), ZL_OK);
    assert_int_equal(zone_keyring_add(kr, &k), ZL_EZONE); /* names are unique, any case */
    assert_int_equal(zone_keyring_count(kr), 4);
    uint8_t n[DNS_NAME_MAX];
    const zone_key_t *f = zone_keyring_find(kr, nm("B._Update.EXAMPLE.test.", n));
    assert_non_null(f);
    assert_int_equal(f->rights, ALL);
    assert_null(zone_keyring_find(kr, nm("d._update.example.test.", n)));
    /* Canonical order (RFC 4034 §6.1: the last label first). */
    const char *order[] = { "z._transfer.", "A._transfer.example.test.",
                            "b._update.example.test.", "c._notify.other.test." };
    for (size_t i = 0; i < 4; i++)
        assert_true(dns_name_equal(zone_keyring_get(kr, i)->tsig.name, nm(order[i], n)));
    assert_null(zone_keyring_get(kr, 4));
    /* Every transfer key of example.test: what NOTIFY out signs with. */
    size_t xfr = 0;
    for (size_t i = 0; i < zone_keyring_count(kr); i++)
        xfr += zone_key_allows(zone_keyring_get(kr, i), nm("example.test.", n), ZONE_KEY_TRANSFER);
    assert_int_equal(xfr, 3);
    /* TSIG's lookup: name and algorithm. */
    const dns_tsig_key_t *t = zone_keyring_tsig_find(kr, nm("a._transfer.example.test.", n),
                                                     DNS_TSIG_HMAC_SHA256);
    assert_non_null(t);
    assert_ptr_equal(zone_key_of(t), zone_keyring_find(kr, n));
    assert_null(zone_keyring_tsig_find(kr, n, DNS_TSIG_HMAC_SHA1));
    /* References: the last free frees (LeakSanitizer checks). */
    assert_ptr_equal(zone_keyring_ref(kr), kr);
    zone_keyring_free(kr);
    assert_int_equal(zone_keyring_count(kr), 4);
    zone_keyring_free(kr);
    zone_keyring_free(NULL);
}

static void test_key_files(void **state)
{
    (void)state;
    reps_t r = { 0 };
    zone_report_t rep = { rep_fn, &r };
    zone_keyring_t *kr = zone_keyring_new();
    assert_int_equal(zone_keyring_load(kr, NULL, "zones-example/_keys", NULL, &rep), ZL_OK);
    assert_int_equal(zone_keyring_count(kr), 4);
    assert_int_equal(r.n, 0);
    uint8_t n[DNS_NAME_MAX], z[DNS_NAME_MAX];
    const zone_key_t *k = zone_keyring_find(kr, nm("secondary._transfer.example.test.", n));
    assert_non_null(k);
    assert_int_equal(k->tsig.alg, DNS_TSIG_HMAC_SHA512);
    assert_int_equal(k->tsig.secret_len, 68);
    /* A zone key file: names relative to its zone, no TTLs, other zones'
     * keys and broken lines reported with file:line, the rest kept. */
    static const char text[] =
        "a._update DNSKEY 0 3 165 c2VjcmV0\n"
        "b._update.sub DNSKEY 0 3 161 c2VjcmV0\n"
        "c._update.other.test. DNSKEY 0 3 163 c2VjcmV0\n"
        "d._update 3600 IN DNSKEY 0 3 163 c2VjcmV0\n"
        "SECONDARY._TRANSFER DNSKEY 0 3 163 c2VjcmV0\n"
        "e._notify A 192.0.2.1\n"
        "f._notify DNSKEY 0 3 8 c2VjcmV0\n"
        "g._notify DNSKEY 0 3 163 !!!\n";
    int rc = zone_keyring_parse(kr, text, strlen(text), "example.test._keys",
                                nm("example.test.", z), &rep);
    assert_int_equal(rc, ZL_ESYNTAX);
    assert_int_equal(zone_keyring_count(kr), 7);
    assert_int_equal(r.n, 5);
    assert_string_equal(r.text[0], "example.test._keys:3: key for a zone other than this file's");
    assert_string_equal(r.text[1], "example.test._keys:5: key name already used at "
                                   "zones-example/_keys:9");
    assert_string_equal(r.text[2], "example.test._keys:6: a key file holds only DNSKEY records");
    assert_string_equal(r.text[3], "example.test._keys:7: key algorithm must be an HMAC: 157 "
                                   "(MD5), 161-165 (SHA1-SHA512)");
    assert_non_null(strstr(r.text[4], "example.test._keys:8: "));
    k = zone_keyring_find(kr, nm("b._update.sub.example.test.", n));
    assert_non_null(k);
    assert_true(dns_name_equal(k->zone, nm("sub.example.test.", z)));
    /* Only rule errors: ZL_EZONE. */
    r.n = 0;
    static const char twice[] = "x._update DNSKEY 0 3 163 c2VjcmV0\n"
                                "x._update DNSKEY 0 3 163 c2VjcmV0\n";
    rc = zone_keyring_parse(kr, twice, strlen(twice), "k", NULL, &rep);
    assert_int_equal(rc, ZL_EZONE);
    assert_string_equal(r.text[0], "k:2: key name already used at line 1");
    r.n = 0;
    assert_int_equal(zone_keyring_load(kr, NULL, "zones-example/nothere", NULL, &rep), ZL_EIO);
    zone_keyring_free(kr);
}

/* Key files through a source: $INCLUDE from a git tree. */
static int mem_open(void *ctx, const char *path, zone_text_t *out, const char **why)
{
    (void)ctx;
    static const char keys[] = "$INCLUDE more\nk1._update DNSKEY 0 3 163 c2VjcmV0\n";
    static const char more[] = "k2._transfer DNSKEY 0 3 163 c2VjcmV0\n";
    const char *t = strcmp(path, "dir/_keys") == 0 ? keys : strcmp(path, "dir/more") == 0 ? more
                                                                                          : NULL;
    if (!t) {
        *why = "no such blob";
        return ZL_ENOTFOUND;
    }
    out->text = t;
    out->len = strlen(t);
    return ZL_OK;
}

static void test_key_source(void **state)
{
    (void)state;
    zone_source_t src = { mem_open, NULL, NULL };
    zone_keyring_t *kr = zone_keyring_new();
    assert_int_equal(zone_keyring_load(kr, &src, "dir/_keys", NULL, NULL), ZL_OK);
    assert_int_equal(zone_keyring_count(kr), 2);
    uint8_t n[DNS_NAME_MAX];
    assert_int_equal(zone_keyring_find(kr, nm("k1._update.", n))->rights, ALL);
    assert_int_equal(zone_keyring_find(kr, nm("k2._transfer.", n))->rights, XFR);
    zone_keyring_free(kr);
}

/* The keyring as TSIG's key lookup: a signed request verifies, and the
 * key that signed it says what it may do. */
static void test_tsig_lookup(void **state)
{
    (void)state;
    zone_keyring_t *kr = zone_keyring_new();
    assert_int_equal(zone_keyring_load(kr, NULL, "zones-example/_keys", NULL, NULL), ZL_OK);
    uint8_t n[DNS_NAME_MAX], q[512], o[DNS_NAME_MAX];
    const zone_key_t *k = zone_keyring_find(kr, nm("ddns._update.example.test.", n));
    dns_msgb_t b;
    dns_msgb_init(&b, q, sizeof(q), 9, DNS_OP_UPDATE << 11);
    assert_int_equal(dns_msgb_question(&b, nm("example.test.", o), DNS_T_SOA, DNS_C_IN), ZL_OK);
    size_t len = dns_msgb_finish(&b), qlen = len;
    dns_tsig_ctx_t cl, sv;
    dns_tsig_client_init(&cl, &k->tsig);
    assert_int_equal(dns_tsig_sign(&cl, q, &len, sizeof(q), 1000), ZL_OK);
    assert_int_equal(dns_tsig_verify_request(&sv, q, len, qlen, 1000, zone_keyring_tsig_find,
                                             kr), DNS_R_NOERROR);
    assert_true(zone_key_allows(zone_key_of(sv.key), o, ZONE_KEY_UPDATE));
    assert_false(zone_key_allows(zone_key_of(sv.key), nm("example.org.", o), ZONE_KEY_UPDATE));
    zone_keyring_free(kr);
}

/* Readers on several threads, each holding a reference, while the
 * writer drops its own: the last one frees it. */
static void *reader(void *arg)
{
    zone_keyring_t *kr = arg;
    uint8_t n[DNS_NAME_MAX];
    nm("git._notify.example.test.", n);
    for (int i = 0; i < 10000; i++)
        if (!zone_keyring_find(kr, n))
            abort();
    zone_keyring_free(kr);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    zone_keyring_t *kr = zone_keyring_new();
    assert_int_equal(zone_keyring_load(kr, NULL, "zones-example/_keys", NULL, NULL), ZL_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, zone_keyring_ref(kr)), 0);
    zone_keyring_free(kr);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rights),
        cmocka_unit_test(test_allows),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_from_arg),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_key_source),
        cmocka_unit_test(test_tsig_lookup),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
