/* dns/siphash.c and dns/cookie.c: the RFC 9018 Appendix A vectors (IPv4,
 * IPv6, a rolled secret, reserved octets set by another implementation),
 * the SipHash-2-4 reference vectors, lengths (RFC 7873 §5.2.2) and the
 * timestamp window (RFC 9018 §4.3) including its wrap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/cookie.h"
#include "dns/siphash.h"

static void hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* SipHash paper, Appendix A: key 00..0f, message 00..(n-1). */
static void test_siphash_reference(void **state)
{
    (void)state;
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    assert_true(dns_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true(dns_siphash24(key, msg, 1) == 0x74f839c593dc67fdULL);
    assert_true(dns_siphash24(key, msg, 8) == 0x93f5f5799a932462ULL);
    assert_true(dns_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
    assert_true(dns_siphash24(key, msg, 63) == 0x958a324ceb064572ULL);
}

typedef struct vec {
    const char *secret, *cc, *ip, *server;
    size_t iplen;
    uint32_t ts;
} vec_t;

/* RFC 9018 Appendix A.1, A.2, A.4 (the server cookies the server makes). */
static const vec_t made[] = {
    { "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "c6336464",
      "010000005cf79f111f8130c3eee29480", 4, 1559731985 },
    { "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "c6336464",
      "010000005cf7a871d4a564a1442aca77", 4, 1559734385 },
    { "e5e973e5a6b2a43f48e7dc849e37bfcf", "fc93fc62807ddb86", "cb0071cb",
      "010000005cf7a9acf73a7810aca2381e", 4, 1559734700 },
    { "445536bcd2513298075a5d379663c962", "22681ab97d52c298",
      "20010db80220000159ded0f4876982b8", "010000005cf7c609a6bb79d16625507a", 16, 1559741961 },
};

static void test_rfc9018_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        const vec_t *v = &made[i];
        uint8_t secret[16], cc[8], ip[16], want[16], got[16], opt[24];
        hex(v->secret, secret, 16);
        hex(v->cc, cc, 8);
        hex(v->ip, ip, v->iplen);
        hex(v->server, want, 16);
        dns_cookie_server(secret, cc, ip, v->iplen, v->ts, got);
        assert_memory_equal(got, want, 16);
        memcpy(opt, cc, 8);
        memcpy(opt + 8, got, 16);
        assert_int_equal(dns_cookie_check(secret, opt, 24, ip, v->iplen, v->ts), DNS_COOKIE_GOOD);
        /* Bound to the address and the secret. */
        ip[v->iplen - 1] ^= 1;
        assert_int_equal(dns_cookie_check(secret, opt, 24, ip, v->iplen, v->ts), DNS_COOKIE_BAD);
        ip[v->iplen - 1] ^= 1;
        secret[0] ^= 1;
        assert_int_equal(dns_cookie_check(secret, opt, 24, ip, v->iplen, v->ts), DNS_COOKIE_BAD);
    }
}

/* A.3: the client returns a cookie whose reserved octets another server
 * set (01abcdef...); A.4: one made with the secret before a roll-over. */
static void test_rfc9018_received(void **state)
{
    (void)state;
    uint8_t secret[16], opt[24], ip4[4] = { 203, 0, 113, 203 }, ip6[16];
    hex("e5e973e5a6b2a43f48e7dc849e37bfcf", secret, 16);
    hex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5", opt, 24);
    /* The vector's reply comes 1h52m after it was made: past the one-hour
     * lifetime of §4.3, so the hash is checked at its own timestamp. */
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip4, 4, 0x5cf78f71), DNS_COOKIE_GOOD);
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip4, 4, 1559734700), DNS_COOKIE_BAD);
    ip4[3] = 204;
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip4, 4, 0x5cf78f71), DNS_COOKIE_BAD);
    hex("20010db80220000159ded0f4876982b8", ip6, 16);
    hex("22681ab97d52c298010000005cf7c57926556bd0934c72f8", opt, 24);
    hex("dd3bdf9344b678b185a6f5cb60fca715", secret, 16);
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip6, 16, 1559741961), DNS_COOKIE_GOOD);
    hex("445536bcd2513298075a5d379663c962", secret, 16);
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip6, 16, 1559741961), DNS_COOKIE_BAD);
}

static void test_lengths(void **state)
{
    (void)state;
    uint8_t secret[16] = { 0 }, opt[48] = { 0 };
    static const struct { size_t len; int want; } c[] = {
        { 0, DNS_COOKIE_MALFORMED }, { 7, DNS_COOKIE_MALFORMED }, { 8, DNS_COOKIE_CLIENT_ONLY },
        { 9, DNS_COOKIE_MALFORMED }, { 15, DNS_COOKIE_MALFORMED }, { 16, DNS_COOKIE_BAD },
        { 24, DNS_COOKIE_BAD }, { 40, DNS_COOKIE_BAD }, { 41, DNS_COOKIE_MALFORMED },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        assert_int_equal(dns_cookie_check(secret, opt, c[i].len, NULL, 0, 0), c[i].want);
}

static void test_window(void **state)
{
    (void)state;
    uint8_t secret[16] = { 7 }, cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, ip[4] = { 192, 0, 2, 1 };
    uint8_t opt[24];
    static const struct { uint32_t ts, now; int want; } c[] = {
        { 1559731985, 1559731985, DNS_COOKIE_GOOD },
        { 1559731985 - 1800, 1559731985, DNS_COOKIE_GOOD },
        { 1559731985 - 1801, 1559731985, DNS_COOKIE_WORN },
        { 1559731985 - 3600, 1559731985, DNS_COOKIE_WORN },
        { 1559731985 - 3601, 1559731985, DNS_COOKIE_BAD },
        { 1559731985 + 300, 1559731985, DNS_COOKIE_GOOD },
        { 1559731985 + 301, 1559731985, DNS_COOKIE_BAD },
        { 4294964696u, 1000, DNS_COOKIE_WORN },          /* an hour old across the wrap */
        { 1000, 4294964696u, DNS_COOKIE_BAD },           /* far in the future */
    };
    memcpy(opt, cc, 8);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        dns_cookie_server(secret, cc, ip, 4, c[i].ts, opt + 8);
        assert_int_equal(dns_cookie_check(secret, opt, 24, ip, 4, c[i].now), c[i].want);
    }
    /* Version 2 is not ours. */
    dns_cookie_server(secret, cc, ip, 4, 5, opt + 8);
    opt[8] = 2;
    assert_int_equal(dns_cookie_check(secret, opt, 24, ip, 4, 5), DNS_COOKIE_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference), cmocka_unit_test(test_rfc9018_vectors),
        cmocka_unit_test(test_rfc9018_received), cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
