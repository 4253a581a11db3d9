/* libFuzzer harness: the ACME JSON reader (acme/json.c) and what reads
 * JSON through it (JWK, JWS, thumbprints). A text that parses is written
 * back compactly; that must parse, and writing it again must give the
 * same bytes. Lookups of the members the ACME client reads run on every
 * tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/json.h"
#include "acme/jws.h"

static acme_key_t key; /* RFC 7515 A.3's public key */

static void key_once(void)
{
    static int done;
    if (done++)
        return;
    static const char jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                              "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
    acme_json_doc_t d;
    acme_key_init(&key);
    if (acme_json_parse(&d, jwk, sizeof(jwk) - 1) || acme_jwk_parse(&key, d.root))
        abort();
    acme_json_free(&d);
}

static void lookups(const acme_json_t *v)
{
    static const char *const ptr[] = {
        "/newNonce", "/meta/externalAccountRequired", "/meta/termsOfService", "/identifier/value",
        "/challenges/0/token", "/challenges/1/url", "/authorizations/0", "/subproblems/0/identifier/value",
        "/error/detail", "/a~1b/~0", "/0", "/00", "/-", "x", "/",
    };
    for (size_t i = 0; i < sizeof(ptr) / sizeof(ptr[0]); i++) {
        const acme_json_t *x = acme_json_path(v, ptr[i]);
        int64_t n;
        (void)acme_json_str(x);
        (void)acme_json_int(x, &n);
        (void)acme_json_is_true(x);
    }
    (void)acme_json_get_str(v, "status");
    (void)acme_json_at(v, 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    key_once();
    acme_json_doc_t d, d2;
    if (acme_json_parse(&d, (const char *)data, size) != ZL_OK) {
        acme_json_free(&d);
        return 0;
    }
    lookups(d.root);
    acme_buf_t a, b;
    acme_buf_init(&a, 0);
    acme_buf_init(&b, 0);
    acme_json_write(&a, d.root);
    if (a.err || acme_json_parse(&d2, a.p, a.len) != ZL_OK)
        abort(); /* what we write must parse */
    acme_json_write(&b, d2.root);
    if (b.err || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
        abort(); /* and be a fixed point */
    acme_json_free(&d2);

    char t[ACME_B64_SHA256_LEN + 1];
    (void)acme_jwk_thumbprint(d.root, t);
    acme_key_t k;
    acme_key_init(&k);
    (void)acme_jwk_parse(&k, d.root);
    acme_key_free(&k);
    acme_buf_t h, p;
    acme_buf_init(&h, 0);
    acme_buf_init(&p, 0);
    (void)acme_jws_verify((const char *)data, size, &key, &h, &p);
    acme_buf_free(&h);
    acme_buf_free(&p);
    acme_buf_free(&a);
    acme_buf_free(&b);
    acme_json_free(&d);
    return 0;
}
