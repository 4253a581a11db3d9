/* acme/json.c: the strict reader on valid and invalid texts, the ACME
 * objects of RFC 8555 (as its examples spell them), lookups, the writers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/json.h"

static int parse(acme_json_doc_t *d, const char *s)
{
    return acme_json_parse(d, s, strlen(s));
}

/* Parses s, expecting rc; frees. */
static void expect(const char *s, int rc)
{
    acme_json_doc_t d;
    int got = parse(&d, s);
    if (got != rc)
        fail_msg("%s: expected %d, got %d (at %zu)", s, rc, got, d.err_off);
    acme_json_free(&d);
}

static void test_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}", "[]", "0", "-0", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0", "true", "false", "null",
        "\"\"", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "[[[[]]]]", "{\"a\":{\"b\":{}}}",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "[1,\"a\",true,null,{}]",
        "\"\\u0000\"", "{\"\":1}", "{\"a\":1,\"A\":2}", "123456789012345678901234567890",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        expect(ok[i], ZL_OK);
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}",
        "{a:1}", "{'a':1}", "['a']", "01", "-", "+1", "1.", ".5", "1e", "1e+", "0x10", "NaN",
        "Infinity", "-Infinity", "tru", "True", "nul", "nulll", "1 2", "{} {}", "[1]x", "\"abc",
        "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\\ud800x\"", "\"a\tb\"", "\"a\nb\"", "\"\x01\"", "\"\x1f\"", "\"\x7f\x1f\"", "\"\xc3\"", "\"\xc0\x80\"",
        "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\x80\"", "\xef\xbb\xbf{}",
        "{\"a\":1,\"a\":2}", "[1 2]", "/* */ {}", "\v{}", "\f[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect(bad[i], ZL_ESYNTAX);
    /* An embedded NUL ends nothing: it is not whitespace. */
    acme_json_doc_t d;
    assert_int_equal(acme_json_parse(&d, "{}\0", 3), ZL_ESYNTAX);
    acme_json_free(&d);
}

static void test_bounds(void **state)
{
    (void)state;
    char deep[2 * ACME_JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < ACME_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < ACME_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    expect(deep, ZL_OK);
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    strcat(deep, "]");
    expect(deep, ZL_ERANGE);

    acme_buf_t b;
    acme_buf_init(&b, 0);
    acme_buf_putc(&b, '{');
    for (int i = 0; i <= ACME_JSON_MAX_MEMBERS; i++)
        acme_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    acme_buf_putc(&b, '}');
    acme_json_doc_t d;
    assert_int_equal(acme_json_parse(&d, b.p, b.len), ZL_ERANGE);
    acme_json_free(&d);
    char *big = malloc(ACME_JSON_MAX_SIZE + 1);
    memset(big, ' ', ACME_JSON_MAX_SIZE + 1);
    big[0] = '0';
    assert_int_equal(acme_json_parse(&d, big, ACME_JSON_MAX_SIZE + 1), ZL_ESPACE);
    acme_json_free(&d);
    assert_int_equal(acme_json_parse(&d, big, ACME_JSON_MAX_SIZE), ZL_OK);
    acme_json_free(&d);
    free(big);
    acme_buf_free(&b);
}

static void test_strings(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, "[\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\/\", \"a\\u0000b\"]"), ZL_OK);
    const acme_json_t *s = acme_json_at(d.root, 0);
    assert_string_equal(acme_json_str(s), "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/");
    assert_int_equal(s->len, 11);
    s = acme_json_at(d.root, 1);
    assert_true(s->has_nul);
    assert_int_equal(s->len, 3);
    assert_null(acme_json_str(s)); /* a C string would stop at the NUL */
    assert_memory_equal(s->str, "a\0b", 3);
    assert_null(acme_json_at(d.root, 2));
    acme_json_free(&d);
}

static void test_numbers(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, "[0, -7, 9223372036854775807, -9223372036854775808, "
                               "9223372036854775808, 1.0, 1e3, \"1\"]"), ZL_OK);
    int64_t v;
    assert_int_equal(acme_json_int(acme_json_at(d.root, 0), &v), ZL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 1), &v), ZL_OK);
    assert_int_equal(v, -7);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 2), &v), ZL_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 3), &v), ZL_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 4), &v), ZL_ERANGE);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 5), &v), ZL_ERANGE);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 6), &v), ZL_ERANGE);
    assert_int_equal(acme_json_int(acme_json_at(d.root, 7), &v), ZL_EINVAL);
    assert_string_equal(acme_json_at(d.root, 6)->str, "1e3");
    acme_json_free(&d);
}

static void test_errors_where(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, "{\"a\":1,\"b\":[1,2,,3]}"), ZL_ESYNTAX);
    assert_int_equal(d.err_off, 16);
    assert_null(d.root);
    acme_json_free(&d);
    assert_int_equal(parse(&d, "{\"a\":1,\"a\":2}"), ZL_ESYNTAX);
    assert_int_equal(d.err_off, 7); /* the second "a" */
    acme_json_free(&d);
}

/* RFC 8555 §7.1.1 */
static const char directory[] =
    "{\n"
    "  \"newNonce\": \"https://example.com/acme/new-nonce\",\n"
    "  \"newAccount\": \"https://example.com/acme/new-account\",\n"
    "  \"newOrder\": \"https://example.com/acme/new-order\",\n"
    "  \"newAuthz\": \"https://example.com/acme/new-authz\",\n"
    "  \"revokeCert\": \"https://example.com/acme/revoke-cert\",\n"
    "  \"keyChange\": \"https://example.com/acme/key-change\",\n"
    "  \"meta\": {\n"
    "    \"termsOfService\": \"https://example.com/acme/terms/2017-5-30\",\n"
    "    \"website\": \"https://www.example.com/\",\n"
    "    \"caaIdentities\": [\"example.com\"],\n"
    "    \"externalAccountRequired\": false\n"
    "  }\n"
    "}\n";

static void test_directory(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, directory), ZL_OK);
    assert_string_equal(acme_json_get_str(d.root, "newNonce"), "https://example.com/acme/new-nonce");
    assert_string_equal(acme_json_get_str(d.root, "newAccount"), "https://example.com/acme/new-account");
    assert_string_equal(acme_json_get_str(d.root, "newOrder"), "https://example.com/acme/new-order");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/meta/termsOfService")),
                        "https://example.com/acme/terms/2017-5-30");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/meta/caaIdentities/0")), "example.com");
    assert_false(acme_json_is_true(acme_json_path(d.root, "/meta/externalAccountRequired")));
    assert_int_equal(acme_json_path(d.root, "/meta/externalAccountRequired")->type, ACME_JSON_FALSE);
    assert_null(acme_json_path(d.root, "/meta/caaIdentities/1"));
    assert_null(acme_json_path(d.root, "/meta/caaIdentities/00"));
    assert_null(acme_json_path(d.root, "meta"));
    assert_null(acme_json_get(d.root, "newnonce")); /* names are case-sensitive */
    assert_ptr_equal(acme_json_path(d.root, ""), d.root);
    acme_json_free(&d);
}

/* RFC 8555 §7.1.2 */
static void test_account(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, "{\n  \"status\": \"valid\",\n  \"contact\": [\n"
                               "    \"mailto:cert-admin@example.org\",\n    \"mailto:admin@example.org\"\n  ],\n"
                               "  \"termsOfServiceAgreed\": true,\n"
                               "  \"orders\": \"https://example.com/acme/orders/rzGoeA\"\n}"), ZL_OK);
    assert_true(acme_json_str_eq(acme_json_get(d.root, "status"), "valid"));
    assert_int_equal(acme_json_get(d.root, "contact")->len, 2);
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/contact/1")), "mailto:admin@example.org");
    assert_true(acme_json_is_true(acme_json_get(d.root, "termsOfServiceAgreed")));
    acme_json_free(&d);
}

/* RFC 8555 §7.1.3 */
static void test_order(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d,
        "{\n  \"status\": \"valid\",\n  \"expires\": \"2016-01-20T14:09:07.99Z\",\n"
        "  \"identifiers\": [\n    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
        "    { \"type\": \"dns\", \"value\": \"example.org\" }\n  ],\n"
        "  \"notBefore\": \"2016-01-01T00:00:00Z\",\n  \"notAfter\": \"2016-01-08T00:00:00Z\",\n"
        "  \"authorizations\": [\n    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
        "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n  ],\n"
        "  \"finalize\": \"https://example.com/acme/order/TOlocE8rfgo/finalize\",\n"
        "  \"certificate\": \"https://example.com/acme/cert/mAt3xBGaobw\"\n}"), ZL_OK);
    const acme_json_t *az = acme_json_get(d.root, "authorizations");
    assert_int_equal(az->type, ACME_JSON_ARRAY);
    assert_int_equal(az->len, 2);
    assert_string_equal(acme_json_str(az->child->next), "https://example.com/acme/authz/r4HqLzrSrpI");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/identifiers/1/value")), "example.org");
    assert_string_equal(acme_json_get_str(d.root, "finalize"),
                        "https://example.com/acme/order/TOlocE8rfgo/finalize");
    assert_string_equal(acme_json_get_str(d.root, "certificate"), "https://example.com/acme/cert/mAt3xBGaobw");
    acme_json_free(&d);
}

/* RFC 8555 §7.1.4 and the dns-01 challenge of §8.4 */
static void test_authz_challenge(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d,
        "{\n  \"status\": \"pending\",\n  \"expires\": \"2015-03-01T14:09:07.99Z\",\n"
        "  \"identifier\": {\n    \"type\": \"dns\",\n    \"value\": \"www.example.org\"\n  },\n"
        "  \"challenges\": [\n    {\n      \"url\": \"https://example.com/acme/chall/prV_B7yEyA4\",\n"
        "      \"type\": \"http-01\",\n      \"status\": \"valid\",\n"
        "      \"token\": \"DGyRejmCefe7v4NfDGDKfA\",\n      \"validated\": \"2014-12-01T12:05:58.16Z\"\n    },\n"
        "    {\n      \"type\": \"dns-01\",\n      \"url\": \"https://example.com/acme/chall/Rg5dV14Gh1Q\",\n"
        "      \"status\": \"pending\",\n      \"token\": \"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA\"\n    }\n"
        "  ],\n  \"wildcard\": false\n}"), ZL_OK);
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/identifier/type")), "dns");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/identifier/value")), "www.example.org");
    const acme_json_t *dns = NULL;
    for (const acme_json_t *c = acme_json_get(d.root, "challenges")->child; c; c = c->next)
        if (acme_json_str_eq(acme_json_get(c, "type"), "dns-01"))
            dns = c;
    assert_non_null(dns);
    assert_string_equal(acme_json_get_str(dns, "token"), "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
    assert_string_equal(acme_json_get_str(dns, "url"), "https://example.com/acme/chall/Rg5dV14Gh1Q");
    assert_false(acme_json_is_true(acme_json_get(d.root, "wildcard")));
    acme_json_free(&d);
}

/* RFC 8555 §6.7.1 (RFC 7807 problem document with subproblems) */
static void test_problem(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d,
        "{\n  \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
        "  \"detail\": \"Some of the identifiers requested were rejected\",\n  \"subproblems\": [\n"
        "    {\n      \"type\": \"urn:ietf:params:acme:error:malformed\",\n"
        "      \"detail\": \"Invalid underscore in DNS name \\\"_example.org\\\"\",\n"
        "      \"identifier\": {\n        \"type\": \"dns\",\n        \"value\": \"_example.org\"\n      }\n    },\n"
        "    {\n      \"type\": \"urn:ietf:params:acme:error:rejectedIdentifier\",\n"
        "      \"detail\": \"This CA will not issue for \\\"example.net\\\"\",\n"
        "      \"identifier\": {\n        \"type\": \"dns\",\n        \"value\": \"example.net\"\n      }\n    }\n"
        "  ]\n}"), ZL_OK);
    assert_string_equal(acme_json_get_str(d.root, "type"), "urn:ietf:params:acme:error:malformed");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/subproblems/0/detail")),
                        "Invalid underscore in DNS name \"_example.org\"");
    assert_string_equal(acme_json_str(acme_json_path(d.root, "/subproblems/1/identifier/value")),
                        "example.net");
    acme_json_free(&d);
}

static void test_pointer_escapes(void **state)
{
    (void)state;
    acme_json_doc_t d;
    assert_int_equal(parse(&d, "{\"a/b\":{\"m~n\":[10,11]}}"), ZL_OK);
    assert_string_equal(acme_json_path(d.root, "/a~1b/m~0n/1")->str, "11");
    assert_null(acme_json_path(d.root, "/a~2b"));
    assert_null(acme_json_path(d.root, "/a~1b/m~0n/-"));
    assert_null(acme_json_path(d.root, "/a~1b/m~0n/1/x"));
    acme_json_free(&d);
}

static void test_writers(void **state)
{
    (void)state;
    acme_buf_t b;
    acme_buf_init(&b, 0);
    acme_json_put_str(&b, "a\"b\\c\n\x01\x1f\xc3\xa9/", 11);
    assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u0001\\u001f\xc3\xa9/\"");
    /* What the writer makes parses back to the same bytes. */
    acme_json_doc_t d;
    assert_int_equal(acme_json_parse(&d, b.p, b.len), ZL_OK);
    assert_int_equal(d.root->len, 11);
    assert_memory_equal(d.root->str, "a\"b\\c\n\x01\x1f\xc3\xa9/", 11);
    acme_json_free(&d);

    acme_buf_reset(&b);
    assert_int_equal(parse(&d, directory), ZL_OK);
    acme_json_write(&b, d.root);
    acme_json_free(&d);
    assert_int_equal(parse(&d, b.p), ZL_OK);
    acme_buf_t b2;
    acme_buf_init(&b2, 0);
    acme_json_write(&b2, d.root);
    assert_string_equal(b.p, b2.p);
    assert_null(strchr(b.p, '\n'));
    assert_non_null(strstr(b.p, "\"meta\":{\"termsOfService\":\"https:/"));
    acme_json_free(&d);
    acme_buf_free(&b);
    acme_buf_free(&b2);
}

static void test_buf_bound(void **state)
{
    (void)state;
    acme_buf_t b;
    acme_buf_init(&b, 4);
    acme_buf_puts(&b, "abcd");
    assert_int_equal(b.err, ZL_OK);
    acme_buf_putc(&b, 'e');
    assert_int_equal(b.err, ZL_ESPACE);
    acme_buf_puts(&b, "");
    assert_int_equal(b.len, 4); /* sticky: nothing more is written */
    assert_null(acme_buf_take(&b, NULL));
    acme_buf_printf(&b, "%d", 42);
    size_t n;
    char *s = acme_buf_take(&b, &n);
    assert_string_equal(s, "42");
    assert_int_equal(n, 2);
    free(s);
    acme_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_errors_where),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_account),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_authz_challenge),
        cmocka_unit_test(test_problem),
        cmocka_unit_test(test_pointer_escapes),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_buf_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
