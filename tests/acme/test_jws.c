/* acme/jws.c and acme/key.c: base64url (RFC 4648 vectors), the RFC 7515
 * A.3 ES256 example (its signature verifies; A.7's flattened form too),
 * the RFC 7638 §3.1 thumbprint, and a second implementation both ways:
 * Debian's python3-jwcrypto verifies what we sign (and with
 * python3-josepy computes our key's thumbprint), and we verify what
 * jwcrypto signs. The oracles run as /usr/bin/python3. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/jws.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/zl-jws.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name)
{
    static char path[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
    return path[i];
}

static void write_text(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
}

/* Runs a Python script (text) with arguments; its stdout goes to out. */
static int python(const char *script, const char *args, acme_buf_t *out)
{
    const char *py = tmp("oracle.py");
    write_text(py, script, strlen(script));
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s 2>&1", py, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        acme_buf_put(out, buf, n);
    return pclose(p);
}

/* The n-th line (0 first) of text, into a static buffer. */
static const char *line(const char *text, int n)
{
    static char l[2048];
    while (n-- > 0 && text && (text = strchr(text, '\n')))
        text++;
    assert_non_null(text);
    size_t k = strcspn(text, "\n");
    assert_true(k < sizeof(l));
    memcpy(l, text, k);
    l[k] = '\0';
    return l;
}

static void test_b64u(void **state)
{
    (void)state;
    /* RFC 4648 §10, in the URL-safe alphabet without padding. */
    static const char *const vec[][2] = {
        { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
        { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff", "-_8" }, { "\xfb\xef\xbe", "----" },
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        acme_buf_t b;
        acme_buf_init(&b, 0);
        acme_b64u_put(&b, vec[i][0], strlen(vec[i][0]));
        assert_string_equal(acme_buf_str(&b), vec[i][1]);
        acme_buf_reset(&b);
        assert_int_equal(acme_b64u_decode(vec[i][1], strlen(vec[i][1]), &b), ZL_OK);
        assert_int_equal(b.len, strlen(vec[i][0]));
        assert_memory_equal(acme_buf_str(&b), vec[i][0], b.len);
        acme_buf_free(&b);
    }
    static const char *const bad[] = { "Zg==", "Z", "Zh", "Zm9", "Zm9v+", "Zm9v/", " Zg", "Zg\n", "Zm9vY", "Zm8=" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        acme_buf_t b;
        acme_buf_init(&b, 0);
        if (acme_b64u_decode(bad[i], strlen(bad[i]), &b) != ZL_ESYNTAX)
            fail_msg("accepted: [%s]", bad[i]);
        acme_buf_free(&b);
    }
}

/* RFC 7515 A.3: the public key of the example. */
static const char a3_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                             "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                             "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
static const char a3_payload[] = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
                                 "LmNvbS9pc19yb290Ijp0cnVlfQ";
static const char a3_sig[] = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

static void a3_key(acme_key_t *k)
{
    acme_json_doc_t d;
    assert_int_equal(acme_json_parse(&d, a3_jwk, strlen(a3_jwk)), ZL_OK);
    acme_key_init(k);
    assert_int_equal(acme_jwk_parse(k, d.root), ZL_OK);
    acme_json_free(&d);
}

static int verify_flat(const acme_key_t *k, const char *prot, const char *payload, const char *sig,
                       acme_buf_t *out)
{
    acme_buf_t j;
    acme_buf_init(&j, 0);
    acme_buf_printf(&j, "{\"payload\":\"%s\",\"protected\":\"%s\",\"header\":{\"kid\":\"e9bc097a-ce51-4036-"
                        "9562-d2ade882db0d\"},\"signature\":\"%s\"}", payload, prot, sig);
    int rc = acme_jws_verify(j.p, j.len, k, NULL, out);
    acme_buf_free(&j);
    return rc;
}

static void test_rfc7515_a3(void **state)
{
    (void)state;
    acme_key_t k;
    a3_key(&k);
    /* A.3.1: the signature is R || S, 32 octets each. */
    static const uint8_t rs[64] = {
        14, 209, 33, 83, 121, 99, 108, 72, 60, 47, 127, 21, 88, 7, 212, 2, 163, 178, 40, 3, 58, 249,
        124, 126, 23, 129, 154, 195, 22, 158, 166, 101, 197, 10, 7, 211, 140, 60, 112, 229, 216, 241,
        45, 175, 8, 74, 84, 128, 166, 101, 144, 197, 242, 147, 80, 154, 143, 63, 127, 138, 131, 163, 84, 213
    };
    acme_buf_t b;
    acme_buf_init(&b, 0);
    assert_int_equal(acme_b64u_decode(a3_sig, strlen(a3_sig), &b), ZL_OK);
    assert_int_equal(b.len, 64);
    assert_memory_equal(b.p, rs, 64);
    acme_buf_reset(&b);
    /* A.7: the same signature in the flattened serialization verifies. */
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJFUzI1NiJ9", a3_payload, a3_sig, &b), ZL_OK);
    assert_string_equal(acme_buf_str(&b),
                        "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
    /* One changed octet of payload, signature or header fails it. */
    char p2[sizeof(a3_payload)], s2[sizeof(a3_sig)];
    memcpy(p2, a3_payload, sizeof(p2));
    p2[5] = p2[5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJFUzI1NiJ9", p2, a3_sig, NULL), ZL_EBADSIG);
    memcpy(s2, a3_sig, sizeof(s2));
    s2[10] = s2[10] == 'A' ? 'B' : 'A';
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJFUzI1NiJ9", a3_payload, s2, NULL), ZL_EBADSIG);
    /* {"alg":"ES256" } (a space): another header, another signing input. */
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJFUzI1NiIgfQ", a3_payload, a3_sig, NULL), ZL_EBADSIG);
    /* {"alg":"HS256"}, {"alg":"none"}, {"alg":"ES256","crit":["exp"]} */
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJIUzI1NiJ9", a3_payload, a3_sig, NULL), ZL_ETYPE);
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJub25lIn0", a3_payload, a3_sig, NULL), ZL_ETYPE);
    assert_int_equal(verify_flat(&k, "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiZXhwIl19", a3_payload, a3_sig, NULL),
                     ZL_ETYPE);
    assert_int_equal(acme_jws_verify("{\"payload\":\"\"}", 14, &k, NULL, NULL), ZL_ESYNTAX);
    acme_buf_free(&b);
    acme_key_free(&k);
}

static void test_rfc7638_thumbprint(void **state)
{
    (void)state;
    /* §3.1, with members the thumbprint leaves out. */
    static const char jwk[] =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuh"
        "DR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
        "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\","
        "\"kid\":\"2011-04-29\"}";
    acme_json_doc_t d;
    char t[ACME_B64_SHA256_LEN + 1];
    assert_int_equal(acme_json_parse(&d, jwk, strlen(jwk)), ZL_OK);
    assert_int_equal(acme_jwk_thumbprint(d.root, t), ZL_OK);
    assert_string_equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    acme_json_free(&d);
    /* The A.3 key: the generic form and the key's own agree. */
    assert_int_equal(acme_json_parse(&d, a3_jwk, strlen(a3_jwk)), ZL_OK);
    char t2[ACME_B64_SHA256_LEN + 1];
    assert_int_equal(acme_jwk_thumbprint(d.root, t), ZL_OK);
    acme_key_t k;
    a3_key(&k);
    assert_int_equal(acme_key_thumbprint(&k, t2), ZL_OK);
    assert_string_equal(t, t2);
    acme_key_free(&k);
    acme_json_free(&d);
    static const char *const bad[] = { "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\"}", "{\"kty\":\"OKP\"}",
                                       "{\"kty\":\"RSA\",\"e\":1,\"n\":\"x\"}", "{}" };
    static const int want[] = { ZL_ESYNTAX, ZL_ETYPE, ZL_ESYNTAX, ZL_ESYNTAX };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(acme_json_parse(&d, bad[i], strlen(bad[i])), ZL_OK);
        assert_int_equal(acme_jwk_thumbprint(d.root, t), want[i]);
        acme_json_free(&d);
    }
}

static void test_jwk_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
        "\"y\":\"x_GEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}", /* not on the curve */
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83O\",\"y\":\"x_FE\"}",
        "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
    };
    static const int want[] = { ZL_ETYPE, ZL_EINVAL, ZL_ESYNTAX, ZL_ETYPE };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        acme_json_doc_t d;
        acme_key_t k;
        acme_key_init(&k);
        assert_int_equal(acme_json_parse(&d, bad[i], strlen(bad[i])), ZL_OK);
        assert_int_equal(acme_jwk_parse(&k, d.root), want[i]);
        acme_key_free(&k);
        acme_json_free(&d);
    }
}

static void test_sign_shape(void **state)
{
    (void)state;
    acme_rng_t rng;
    acme_key_t k;
    acme_key_init(&k);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    acme_buf_t a, b, h, p, jwk;
    acme_buf_init(&a, 0);
    acme_buf_init(&b, 0);
    acme_buf_init(&h, 0);
    acme_buf_init(&p, 0);
    acme_buf_init(&jwk, 0);
    assert_int_equal(acme_jws_sign(&a, &k, &rng, "https://x/new-acct", "n-1\"", NULL, "{}", 2), ZL_OK);
    assert_int_equal(acme_jws_verify(a.p, a.len, &k, &h, &p), ZL_OK);
    assert_int_equal(acme_jwk_write(&jwk, &k), ZL_OK);
    char want[512];
    snprintf(want, sizeof(want), "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":\"n-1\\\"\",\"url\":\"https://x/new-acct\"}",
             jwk.p);
    assert_string_equal(h.p, want);
    assert_string_equal(p.p, "{}");
    /* RFC 6979: the same input, the same signature. */
    assert_int_equal(acme_jws_sign(&b, &k, &rng, "https://x/new-acct", "n-1\"", NULL, "{}", 2), ZL_OK);
    assert_string_equal(a.p, b.p);
    /* kid, and the empty payload of POST-as-GET. */
    acme_buf_reset(&a);
    acme_buf_reset(&h);
    acme_buf_reset(&p);
    assert_int_equal(acme_jws_sign(&a, &k, &rng, "https://x/order/1", "n2", "https://x/acct/7", NULL, 0), ZL_OK);
    assert_non_null(strstr(a.p, "\"payload\":\"\""));
    assert_int_equal(acme_jws_verify(a.p, a.len, &k, &h, &p), ZL_OK);
    assert_string_equal(h.p, "{\"alg\":\"ES256\",\"kid\":\"https://x/acct/7\",\"nonce\":\"n2\",\"url\":\"https://x/order/1\"}");
    assert_int_equal(p.len, 0);
    /* Another key does not verify it. */
    acme_key_t other;
    acme_key_init(&other);
    assert_int_equal(acme_key_generate(&other, &rng), ZL_OK);
    assert_int_equal(acme_jws_verify(a.p, a.len, &other, NULL, NULL), ZL_EBADSIG);
    acme_key_free(&other);
    /* A public key cannot sign. */
    acme_key_t pub;
    a3_key(&pub);
    assert_int_equal(acme_jws_sign(&b, &pub, &rng, "https://x/", "n", NULL, "", 0), ZL_EINVAL);
    acme_key_free(&pub);
    acme_buf_free(&a), acme_buf_free(&b), acme_buf_free(&h), acme_buf_free(&p), acme_buf_free(&jwk);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

static void test_key_pem(void **state)
{
    (void)state;
    acme_rng_t rng;
    acme_key_t k, k2;
    acme_key_init(&k);
    acme_key_init(&k2);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    acme_buf_t pem;
    acme_buf_init(&pem, 0);
    assert_int_equal(acme_key_write_pem(&k, &pem), ZL_OK);
    assert_non_null(strstr(pem.p, "-----BEGIN EC PRIVATE KEY-----\n"));
    assert_int_equal(acme_key_parse(&k2, pem.p, pem.len), ZL_OK);
    assert_true(acme_key_equal(&k, &k2));
    acme_key_free(&k2);
    /* OpenSSL reads it as a P-256 key. */
    write_text(tmp("k.pem"), pem.p, pem.len);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -noout -text 2>&1 | grep -q 'NIST CURVE: P-256'", tmp("k.pem"));
    assert_int_equal(system(cmd), 0);
    /* Keys OpenSSL makes: PKCS#8 P-256 is read; P-384 and RSA are refused. */
    static const struct { const char *args; int rc; } other[] = {
        { "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", ZL_OK },
        { "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", ZL_ETYPE },
        { "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", ZL_ETYPE },
    };
    for (size_t i = 0; i < 3; i++) {
        snprintf(cmd, sizeof(cmd), "openssl genpkey %s -out %s 2>/dev/null", other[i].args, tmp("o.pem"));
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(tmp("o.pem"), "rb");
        char buf[4096];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(acme_key_parse(&k2, buf, n), other[i].rc);
        acme_key_free(&k2);
    }
    assert_int_equal(acme_key_parse(&k2, "not a key", 9), ZL_ESYNTAX);
    acme_key_free(&k2);
    acme_buf_free(&pem);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

/* jwcrypto verifies our JWS; jwcrypto and josepy compute our thumbprint. */
static const char verify_py[] =
    "import sys, json, josepy\n"
    "from jwcrypto import jwk, jws\n"
    "from cryptography.hazmat.primitives import serialization\n"
    "pem = open(sys.argv[1], 'rb').read()\n"
    "key = jwk.JWK.from_pem(pem)\n"
    "for path in sys.argv[2:]:\n"
    "    t = jws.JWS()\n"
    "    t.deserialize(open(path).read())\n"
    "    t.verify(key, alg='ES256')\n"
    "    print(t.payload.decode())\n"
    "    print(json.dumps(t.jose_header, sort_keys=True))\n"
    "print(key.thumbprint())\n"
    "pub = serialization.load_pem_private_key(pem, None).public_key()\n"
    "print(josepy.b64encode(josepy.JWKEC(key=pub).thumbprint()).decode())\n";

static void test_second_implementation_verifies_ours(void **state)
{
    (void)state;
    acme_rng_t rng;
    acme_key_t k;
    acme_key_init(&k);
    assert_int_equal(acme_rng_init(&rng), ZL_OK);
    assert_int_equal(acme_key_generate(&k, &rng), ZL_OK);
    acme_buf_t pem, j1, j2, out;
    acme_buf_init(&pem, 0);
    acme_buf_init(&j1, 0);
    acme_buf_init(&j2, 0);
    acme_buf_init(&out, 0);
    assert_int_equal(acme_key_write_pem(&k, &pem), ZL_OK);
    write_text(tmp("acct.pem"), pem.p, pem.len);
    const char *payload = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.example.org\"}]}";
    assert_int_equal(acme_jws_sign(&j1, &k, &rng, "https://ca/new-order", "oFvnlFP1wIhRlYS2jTaXbA",
                                   "https://ca/acct/1", payload, strlen(payload)), ZL_OK);
    write_text(tmp("j1.json"), j1.p, j1.len);
    assert_int_equal(acme_jws_sign(&j2, &k, &rng, "https://ca/new-acct", "n2", NULL, "", 0), ZL_OK);
    write_text(tmp("j2.json"), j2.p, j2.len);
    char args[512];
    snprintf(args, sizeof(args), "%s %s %s", tmp("acct.pem"), tmp("j1.json"), tmp("j2.json"));
    int rc = python(verify_py, args, &out);
    if (rc)
        fail_msg("jwcrypto refused our JWS: %s", acme_buf_str(&out));
    assert_string_equal(line(out.p, 0), payload);
    assert_string_equal(line(out.p, 1), "{\"alg\": \"ES256\", \"kid\": \"https://ca/acct/1\", "
                                        "\"nonce\": \"oFvnlFP1wIhRlYS2jTaXbA\", \"url\": \"https://ca/new-order\"}");
    assert_string_equal(line(out.p, 2), "");
    assert_non_null(strstr(line(out.p, 3), "\"jwk\": {\"crv\": \"P-256\", \"kty\": \"EC\""));
    char t[ACME_B64_SHA256_LEN + 1];
    assert_int_equal(acme_key_thumbprint(&k, t), ZL_OK);
    assert_string_equal(line(out.p, 4), t);
    assert_string_equal(line(out.p, 5), t);
    /* The check can fail: a tampered JWS makes the oracle exit non-zero. */
    char *s = strstr(j1.p, "\"signature\":\"") + 13;
    *s = *s == 'A' ? 'B' : 'A';
    write_text(tmp("j1.json"), j1.p, j1.len);
    acme_buf_reset(&out);
    assert_int_not_equal(python(verify_py, args, &out), 0);
    acme_buf_free(&pem), acme_buf_free(&j1), acme_buf_free(&j2), acme_buf_free(&out);
    acme_key_free(&k);
    acme_rng_free(&rng);
}

/* jwcrypto makes a key and signs; we verify. */
static const char sign_py[] =
    "import sys, json\n"
    "from jwcrypto import jwk, jws\n"
    "k = jwk.JWK.generate(kty='EC', crv='P-256')\n"
    "s = jws.JWS(sys.argv[1].encode())\n"
    "s.add_signature(k, None, json.dumps({'alg': 'ES256', 'nonce': 'abc', 'url': 'https://ca/x'}))\n"
    "print(k.export_public())\n"
    "print(s.serialize())\n"
    "print(k.thumbprint())\n";

static void test_we_verify_second_implementation(void **state)
{
    (void)state;
    acme_buf_t out, payload, hdr;
    acme_buf_init(&out, 0);
    acme_buf_init(&payload, 0);
    acme_buf_init(&hdr, 0);
    for (int round = 0; round < 4; round++) {
        acme_buf_reset(&out);
        acme_buf_reset(&payload);
        acme_buf_reset(&hdr);
        assert_int_equal(python(sign_py, "'{\"status\":\"valid\",\"n\":1}'", &out), 0);
        char jwk[1024], jws[2048], thumb[64];
        snprintf(jwk, sizeof(jwk), "%s", line(out.p, 0));
        snprintf(jws, sizeof(jws), "%s", line(out.p, 1));
        snprintf(thumb, sizeof(thumb), "%s", line(out.p, 2));
        acme_json_doc_t d;
        acme_key_t k;
        acme_key_init(&k);
        assert_int_equal(acme_json_parse(&d, jwk, strlen(jwk)), ZL_OK);
        assert_int_equal(acme_jwk_parse(&k, d.root), ZL_OK);
        char t[ACME_B64_SHA256_LEN + 1];
        assert_int_equal(acme_jwk_thumbprint(d.root, t), ZL_OK);
        assert_string_equal(t, thumb);
        assert_int_equal(acme_key_thumbprint(&k, t), ZL_OK);
        assert_string_equal(t, thumb);
        acme_json_free(&d);
        assert_int_equal(acme_jws_verify(jws, strlen(jws), &k, &hdr, &payload), ZL_OK);
        assert_string_equal(payload.p, "{\"status\":\"valid\",\"n\":1}");
        assert_string_equal(hdr.p, "{\"alg\": \"ES256\", \"nonce\": \"abc\", \"url\": \"https://ca/x\"}");
        char *s = strstr(jws, "\"signature\":\"") + 13 + round * 7;
        *s = *s == 'A' ? 'B' : 'A';
        assert_int_equal(acme_jws_verify(jws, strlen(jws), &k, NULL, NULL), ZL_EBADSIG);
        acme_key_free(&k);
    }
    acme_buf_free(&out), acme_buf_free(&payload), acme_buf_free(&hdr);
}

static void test_dns01(void **state)
{
    (void)state;
    char v[ACME_B64_SHA256_LEN + 1];
    /* The §8.4 token with the RFC 7638 example thumbprint; the value is
     * base64url(SHA-256(token "." thumbprint)) as Python's hashlib
     * computes it. */
    assert_int_equal(acme_dns01_txt("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
                                    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", v), ZL_OK);
    assert_string_equal(v, "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
    assert_int_equal(acme_dns01_txt("", "x", v), ZL_EINVAL);
    assert_int_equal(acme_dns01_txt("a.b", "x", v), ZL_EINVAL);
    assert_int_equal(acme_dns01_txt("a b", "x", v), ZL_EINVAL);
    char longtok[300];
    memset(longtok, 'a', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    assert_int_equal(acme_dns01_txt(longtok, "x", v), ZL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64u),
        cmocka_unit_test(test_rfc7515_a3),
        cmocka_unit_test(test_rfc7638_thumbprint),
        cmocka_unit_test(test_jwk_parse_refuses),
        cmocka_unit_test(test_sign_shape),
        cmocka_unit_test(test_key_pem),
        cmocka_unit_test(test_second_implementation_verifies_ours),
        cmocka_unit_test(test_we_verify_second_implementation),
        cmocka_unit_test(test_dns01),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
