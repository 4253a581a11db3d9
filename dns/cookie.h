/* DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018.
 *
 * Server cookie (16 octets): Version (1) | Reserved (3, zero) |
 * Timestamp (4, seconds, serial arithmetic) | Hash (8), where Hash =
 * SipHash-2-4(Client Cookie | Version | Reserved | Timestamp | Client IP)
 * under a 16-octet server secret, and Client IP is 4 octets (IPv4) or 16
 * (IPv6). Pure functions: the caller passes the time and the secret.
 */
#ifndef ZL_DNS_COOKIE_H
#define ZL_DNS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_COOKIE_CLIENT_LEN 8
#define DNS_COOKIE_SERVER_LEN 16   /* the RFC 9018 server cookie */
#define DNS_COOKIE_SERVER_MIN 8    /* RFC 7873 §4.2: 8..32 octets */
#define DNS_COOKIE_SERVER_MAX 32

/* What a COOKIE option of a request holds. */
enum dns_cookie_state {
    DNS_COOKIE_MALFORMED = -1, /* length not 8 or 16..40: FORMERR (RFC 7873 §5.2.2) */
    DNS_COOKIE_CLIENT_ONLY = 0,
    DNS_COOKIE_BAD = 1,        /* server cookie present but not ours, or stale */
    DNS_COOKIE_GOOD = 2,       /* ours, at most half an hour old: reuse it */
    DNS_COOKIE_WORN = 3        /* ours, older than half an hour: renew it */
};

/* Writes the 16-octet server cookie for client cookie cc (8 octets), the
 * client address ip[0..iplen) (iplen 4 or 16; 0 is allowed when unknown)
 * and timestamp now (truncated to 32 bits) into out. */
void dns_cookie_server(const uint8_t secret[16], const uint8_t cc[8],
                       const uint8_t *ip, size_t iplen, uint32_t now,
                       uint8_t out[DNS_COOKIE_SERVER_LEN]);

/* Classifies the option data opt[0..len). A server cookie is ours when it
 * is version 1, its hash matches, and its timestamp is at most one hour
 * old and at most five minutes in the future (RFC 9018 §4.3): GOOD up to
 * half an hour old, WORN after (§4.3: then a new one is sent). The
 * version, reserved and timestamp octets are hashed as received. */
enum dns_cookie_state dns_cookie_check(const uint8_t secret[16], const uint8_t *opt,
                                       size_t len, const uint8_t *ip, size_t iplen,
                                       uint32_t now);

#endif
