#include "dns/cookie.h"

#include <string.h>

#include "dns/siphash.h"

/* SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client IP):
 * hdr is the 8 octets version..timestamp as sent, so a cookie a client
 * returns is checked over exactly what it holds (RFC 9018 §4.4, A.3: the
 * reserved octets are hashed, not assumed zero). */
static void cookie_hash(const uint8_t secret[16], const uint8_t cc[8], const uint8_t hdr[8],
                        const uint8_t *ip, size_t iplen, uint8_t out[8])
{
    uint8_t in[8 + 8 + 16];
    if (iplen > 16)
        iplen = 16;
    memcpy(in, cc, 8);
    memcpy(in + 8, hdr, 8);
    if (iplen)
        memcpy(in + 16, ip, iplen);
    uint64_t h = dns_siphash24(secret, in, 16 + iplen);
    /* The reference implementation's output order (little-endian), as in
     * the RFC 9018 Appendix A vectors. */
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(h >> (8 * i));
}

void dns_cookie_server(const uint8_t secret[16], const uint8_t cc[8],
                       const uint8_t *ip, size_t iplen, uint32_t now,
                       uint8_t out[DNS_COOKIE_SERVER_LEN])
{
    out[0] = 1; /* version */
    out[1] = out[2] = out[3] = 0;
    out[4] = (uint8_t)(now >> 24);
    out[5] = (uint8_t)(now >> 16);
    out[6] = (uint8_t)(now >> 8);
    out[7] = (uint8_t)now;
    cookie_hash(secret, cc, out, ip, iplen, out + 8);
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
    uint8_t want[8];
    cookie_hash(secret, opt, sc, ip, iplen, want);
    /* Not constant-time: a forged cookie only earns a fresh one. */
    if (memcmp(want, sc + 8, sizeof want) != 0)
        return DNS_COOKIE_BAD;
    return age > 1800 ? DNS_COOKIE_WORN : DNS_COOKIE_GOOD;
}
