#include "dns/cookie.h"

#include <string.h>

#include "dns/siphash.h"

void dns_cookie_server(const uint8_t secret[16], const uint8_t cc[8],
                       const uint8_t *ip, size_t iplen, uint32_t now,
                       uint8_t out[DNS_COOKIE_SERVER_LEN])
{
    uint8_t in[8 + 8 + 16];
    size_t n = 0;
    memcpy(in, cc, 8);
    n = 8;
    in[n++] = 1;           /* version */
    in[n++] = 0; in[n++] = 0; in[n++] = 0;
    in[n++] = (uint8_t)(now >> 24); in[n++] = (uint8_t)(now >> 16);
    in[n++] = (uint8_t)(now >> 8); in[n++] = (uint8_t)now;
    if (iplen > 16)
        iplen = 16;
    if (iplen)
        memcpy(in + n, ip, iplen);
    n += iplen;
    uint64_t h = dns_siphash24(secret, in, n);
    memcpy(out, in + 8, 8);
    /* RFC 9018 §4.4 test vectors print the hash as the reference
     * implementation's little-endian output. */
    for (int i = 0; i < 8; i++)
        out[8 + i] = (uint8_t)(h >> (8 * i));
}

enum dns_cookie_state dns_cookie_check(const uint8_t secret[16], const uint8_t *opt,
                                       size_t len, const uint8_t *ip, size_t iplen,
                                       uint32_t now)
{
    if (len == DNS_COOKIE_CLIENT_LEN)
        return DNS_COOKIE_CLIENT_ONLY;
    if (len < DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MIN ||
        len > DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_MAX)
        return DNS_COOKIE_MALFORMED;
    const uint8_t *sc = opt + DNS_COOKIE_CLIENT_LEN;
    if (len != DNS_COOKIE_CLIENT_LEN + DNS_COOKIE_SERVER_LEN || sc[0] != 1)
        return DNS_COOKIE_BAD;
    uint32_t ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
    /* Serial arithmetic (RFC 1982) on 32-bit seconds: age may wrap. */
    int32_t age = (int32_t)(now - ts);
    if (age > 3600 || age < -300)
        return DNS_COOKIE_BAD;
    uint8_t want[DNS_COOKIE_SERVER_LEN];
    dns_cookie_server(secret, opt, ip, iplen, ts, want);
    /* Not constant-time: a forged cookie only earns a fresh one. */
    return memcmp(want, sc, sizeof want) == 0 ? DNS_COOKIE_GOOD : DNS_COOKIE_BAD;
}
