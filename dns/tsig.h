/* TSIG: secret key transaction authentication (RFC 8945).
 *
 * HMAC-MD5, -SHA1, -SHA224, -SHA256, -SHA384 and -SHA512 (RFC 8945 §6),
 * numbered as the DNSKEY algorithm numbers zonelet's key files use
 * (DESIGN.md: 157, 161-165). Pure: the caller passes the time, nothing
 * here reads a clock or does I/O. Algorithm and key names compare
 * case-insensitively; they are digested in canonical (lower-case) form.
 *
 * One dns_tsig_ctx_t holds one signed exchange:
 *  - server: dns_tsig_verify_request, then dns_tsig_sign for the reply,
 *    or for each message of a multi-message reply (AXFR, IXFR);
 *  - client: dns_tsig_client_init, dns_tsig_sign for the request, then
 *    dns_tsig_verify_response for the reply or each message of a stream.
 *
 * Truncation policy (RFC 8945 §5.2.2.1): a MAC longer than the hash is
 * FORMERR; one shorter than max(10 octets, half the hash) is FORMERR; any
 * length in between is accepted unless the key sets a longer trunc_min
 * (then BADTRUNC, §5.2.4). zonelet signs with the full MAC.
 */
#ifndef ZL_DNS_TSIG_H
#define ZL_DNS_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/name.h"

/* Longest secret accepted: HMAC takes any length, real keys are the
 * hash's block size or less (64 or 128 octets); 256 leaves room. */
#define DNS_TSIG_SECRET_MAX 256
/* Longest MAC (HMAC-SHA512). */
#define DNS_TSIG_MAC_MAX 64
/* Fudge (seconds of clock skew) zonelet signs with (RFC 8945 §10: 300). */
#define DNS_TSIG_FUDGE 300
/* Unsigned messages a client accepts between two signed ones of a stream
 * (RFC 8945 §5.3.1). */
#define DNS_TSIG_UNSIGNED_MAX 99

/* The algorithms, named after their DNSKEY algorithm numbers. */
enum dns_tsig_alg {
    DNS_TSIG_HMAC_MD5 = 157,
    DNS_TSIG_HMAC_SHA1 = 161,
    DNS_TSIG_HMAC_SHA224 = 162,
    DNS_TSIG_HMAC_SHA256 = 163,
    DNS_TSIG_HMAC_SHA384 = 164,
    DNS_TSIG_HMAC_SHA512 = 165
};

/* TSIG error codes (RFC 8945 §3; also in dns/msg.h's dns_rcode). */
enum dns_tsig_error {
    DNS_TSIG_OK = 0,
    DNS_TSIG_BADSIG = 16,
    DNS_TSIG_BADKEY = 17,
    DNS_TSIG_BADTIME = 18,
    DNS_TSIG_BADTRUNC = 22
};

/* One key. */
typedef struct dns_tsig_key {
    uint8_t name[DNS_NAME_MAX];  /* wire form */
    uint8_t alg;                 /* enum dns_tsig_alg */
    uint8_t trunc_min;           /* shortest MAC (octets) accepted from this key;
                                  * 0: RFC 8945's minimum; >= the MAC length:
                                  * untruncated MACs only */
    uint16_t secret_len;         /* 1..DNS_TSIG_SECRET_MAX */
    uint8_t secret[DNS_TSIG_SECRET_MAX];
} dns_tsig_key_t;

/* ---- Algorithms ---------------------------------------------------- */

/* The algorithm of a wire-form algorithm name (`hmac-sha256.`,
 * `HMAC-MD5.SIG-ALG.REG.INT.`; any case), or 0 if unknown. */
uint8_t dns_tsig_alg_from_name(const uint8_t *name);

/* The algorithm of its text as nsupdate spells it (`hmac-md5`,
 * `hmac-sha1`, ... `hmac-sha512`, any case), also the full names
 * (`hmac-md5.sig-alg.reg.int`, with or without the final dot); or 0. */
uint8_t dns_tsig_alg_from_text(const char *s, size_t len);

/* The wire-form algorithm name (lower case), or NULL if alg is unknown.
 * Static storage. */
const uint8_t *dns_tsig_alg_name(uint8_t alg);

/* nsupdate's spelling (`hmac-sha256`), or NULL. Static storage. */
const char *dns_tsig_alg_text(uint8_t alg);

/* The full MAC length in octets, or 0 if alg is unknown. */
size_t dns_tsig_alg_mac_len(uint8_t alg);

/* ---- Exchanges ----------------------------------------------------- */

enum dns_tsig_role { DNS_TSIG_ROLE_NONE = 0, DNS_TSIG_ROLE_SERVER, DNS_TSIG_ROLE_CLIENT };

/* The state of one signed exchange. All fields may be read; only the
 * functions below write them. A zeroed ctx is inactive: dns_tsig_sign
 * does nothing and dns_tsig_space is 0 (an unsigned exchange). */
typedef struct dns_tsig_ctx {
    int role;                       /* enum dns_tsig_role */
    const dns_tsig_key_t *key;      /* borrowed; NULL after BADKEY */
    uint8_t key_name[DNS_NAME_MAX]; /* the key name as the request wrote it
                                     * (echoed in the reply, BADKEY included) */
    uint8_t alg_name[DNS_NAME_MAX]; /* the algorithm name likewise */
    uint8_t mac[DNS_TSIG_MAC_MAX];  /* prior MAC: the request's, then each
                                     * signed message's (as sent, truncated
                                     * if it was) */
    uint16_t mac_len;               /* 0: none (unsigned error replies) */
    uint16_t error;                 /* server: the TSIG error of the reply;
                                     * client: what verification found */
    uint16_t peer_error;            /* client: the TSIG error of the reply */
    uint16_t fudge;                 /* fudge we sign with */
    uint64_t req_time;              /* the request's Time Signed */
    uint64_t peer_time;             /* client: the server's clock, from a
                                     * BADTIME reply's Other Data */
    uint32_t count;                 /* messages signed (server) or verified
                                     * (client) since the request */
    uint32_t unsigned_run;          /* client: unsigned messages since the
                                     * last signed one */
    void *run;                      /* client: running HMAC over unsigned
                                     * messages of a stream, owned */
} dns_tsig_ctx_t;

/* Looks up a key by name (wire form, any case) and algorithm; returns it
 * (borrowed: it must outlive the exchange) or NULL. */
typedef const dns_tsig_key_t *(*dns_tsig_find_fn)(void *fctx, const uint8_t *name,
                                                  uint8_t alg);

/* Server: checks the TSIG RR of request msg[0..len) that starts at
 * tsig_off (the last RR of the additional section, as dns_query_parse and
 * dns_msg_parse report it), at time now (seconds since the epoch), in the
 * order of RFC 8945 §5.2: key, MAC, time, truncation. Initialises ctx
 * (uninitialised is fine; a client ctx must be cleared first) for the
 * reply:
 *  - NOERROR: valid; the reply is signed and chained to the request MAC;
 *  - NOTAUTH, ctx->error BADKEY (unknown key or algorithm) or BADSIG (MAC
 *    wrong): the reply carries an unsigned TSIG (empty MAC, §5.3.2);
 *  - NOTAUTH, ctx->error BADTIME (now outside Time Signed +- Fudge) or
 *    BADTRUNC (MAC shorter than the key's trunc_min): the reply is signed,
 *    a BADTIME one with the request's Time Signed and the server's time
 *    in Other Data;
 *  - FORMERR: the TSIG RR is malformed (not TSIG/ANY/TTL 0, bad lengths,
 *    not ending the message, MAC size out of §5.2.2.1's bounds); ctx is
 *    inactive and the reply carries no TSIG.
 * The MAC is compared in constant time. Returns one of those RCODEs, or a
 * negative error (ZL_ENOMEM, ZL_ECRYPTO) when the MAC could not be
 * computed (answer SERVFAIL, unsigned). */
int dns_tsig_verify_request(dns_tsig_ctx_t *ctx, const uint8_t *msg, size_t len,
                            size_t tsig_off, uint64_t now, dns_tsig_find_fn find,
                            void *fctx);

/* Octets the TSIG RR that dns_tsig_sign appends next will take (0 for an
 * inactive ctx), so an encoder can keep them free. */
size_t dns_tsig_space(const dns_tsig_ctx_t *ctx);

/* Appends the TSIG RR to the message buf[0..*len) (capacity cap), adds 1
 * to ARCOUNT and updates *len. The message's ID is its Original ID.
 *  - server: the reply as verify_request left ctx; the first message is
 *    chained to the request MAC with every TSIG variable, each following
 *    message of a multi-message reply to the previous MAC with the timers
 *    only (RFC 8945 §5.3.1); sign every message;
 *  - client: the request (Time Signed = now, error 0).
 * Returns ZL_OK (also when ctx is inactive: nothing is written),
 * ZL_ESPACE (nothing written), ZL_EINVAL (buf shorter than a header),
 * ZL_ENOMEM, ZL_ECRYPTO. */
int dns_tsig_sign(dns_tsig_ctx_t *ctx, uint8_t *buf, size_t *len, size_t cap, uint64_t now);

/* Client: starts an exchange with key (borrowed for the exchange). */
void dns_tsig_client_init(dns_tsig_ctx_t *ctx, const dns_tsig_key_t *key);

/* Client: checks one reply message msg[0..len) to the request signed with
 * ctx; tsig_off is its TSIG RR's offset, 0 if it has none. The first
 * message must be signed; then up to DNS_TSIG_UNSIGNED_MAX unsigned ones
 * may come between signed ones (digested into the next MAC, §5.3.1): a
 * stream is authentic only if its last message was signed
 * (dns_tsig_complete). Returns:
 *  - ZL_OK: signed and verified, or an accepted unsigned message;
 *  - ZL_EDENIED: the server rejected our TSIG: ctx->peer_error is its
 *    TSIG error (BADKEY, BADSIG: unsigned as §5.3.2 says, so unverified;
 *    BADTIME, BADTRUNC: verified; ctx->peer_time is the server's clock);
 *  - ZL_EBADSIG: not authentic, ctx->error says why: BADKEY (another key
 *    or algorithm), BADSIG (MAC wrong, or a TSIG missing where one is
 *    due), BADTIME (outside the fudge), BADTRUNC (below trunc_min);
 *  - ZL_EFORMAT: the TSIG RR is malformed;
 *  - ZL_EINVAL (no request was signed), ZL_ENOMEM, ZL_ECRYPTO. */
int dns_tsig_verify_response(dns_tsig_ctx_t *ctx, const uint8_t *msg, size_t len,
                             size_t tsig_off, uint64_t now);

/* Client: true when the messages verified so far end with a signed one. */
static inline bool dns_tsig_complete(const dns_tsig_ctx_t *ctx)
{
    return ctx->count > 0 && ctx->unsigned_run == 0;
}

/* Releases what ctx owns (a client's running digest, when a stream
 * stopped between signed messages) and makes it inactive. Safe on a
 * zeroed or already cleared ctx. */
void dns_tsig_ctx_clear(dns_tsig_ctx_t *ctx);

#endif
