/* The message layer: reply = f(context, request bytes, client, now).
 *
 * srv_process parses a request once, handles the header, EDNS (RFC
 * 6891), DNS cookies (RFC 7873/9018) and NSID (RFC 5001), switches on
 * the opcode to one module per concern (query.c for QUERY), and
 * finishes the message (OPT, TC). No sockets, no clock reads, no
 * globals: the transports (udp.c, tcp.c), the unit tests and the fuzzers
 * call exactly this function.
 *
 * Choices where the RFCs leave room:
 *  - Responses (QR set) and messages shorter than a header are dropped:
 *    no loops between servers.
 *  - A malformed request gets FORMERR, with the question when it parsed
 *    and QDCOUNT was 1, and with an OPT whenever the request's OPT could
 *    be read (RFC 6891 §6.1.1, §7); a malformed or repeated OPT gets no
 *    OPT back.
 *  - EDNS: the OPT carries cfg->udp_max and echoes DO; NSID when
 *    configured and asked for; a version above 0 gets BADVERS (§6.1.3).
 *  - Cookies (when cfg->cookies): a valid server cookie under half an
 *    hour old is sent back unchanged, any other gets a fresh RFC 9018
 *    server cookie (RFC 9018 §4.3); an invalid server cookie is not
 *    enforced on ordinary queries (RFC 7873 §5.2.3 lets the server
 *    answer normally); a malformed or repeated COOKIE option is FORMERR.
 *    A QUERY with QDCOUNT 0 and a COOKIE (RFC 7873 §5.4) gets NOERROR
 *    with a server cookie, or BADCOOKIE when the server cookie it sent is
 *    invalid; without cookies configured, FORMERR.
 *  - CH class: TXT id.server, hostname.bind, version.server and
 *    version.bind when configured (no AA, TTL 0); anything else REFUSED.
 *  - Opcodes other than QUERY, and zone transfer questions: NOTIMP.
 */
#ifndef ZL_UNIKERNEL_PROCESS_H
#define ZL_UNIKERNEL_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zone/zoneset.h"

/* Who sent the request. */
typedef struct srv_client {
    int family;          /* 4, 6, or 0 when unknown */
    uint8_t addr[16];    /* IPv4 in the first 4 octets */
    uint16_t port;
    bool tcp;            /* over TCP: no UDP size limit, full ANY */
} srv_client_t;

/* An address prefix (--axfr-allow 192.0.2.0/24, 2001:db8::/32; a plain
 * address is the whole length). */
typedef struct srv_cidr {
    int family;          /* 4 or 6 */
    uint8_t addr[16];
    uint8_t bits;        /* prefix length */
} srv_cidr_t;

/* Parses "ADDR[/LEN]" into *out. Returns 0 or -1. */
int srv_cidr_parse(const char *s, srv_cidr_t *out);

/* True when client's address lies in c. */
bool srv_cidr_match(const srv_cidr_t *c, const srv_client_t *client);

/* What the message layer answers with, beyond the zones. */
typedef struct srv_msg_cfg {
    uint16_t udp_max;            /* largest UDP reply with EDNS (default 1232) */
    const uint8_t *nsid;         /* NSID payload, borrowed; NULL = off */
    uint16_t nsid_len;           /* at most 255 */
    const char *id_server;       /* CH TXT id.server / hostname.bind; NULL = REFUSED */
    const char *version_server;  /* CH TXT version.server / version.bind */
    bool cookies;                /* answer DNS cookies (RFC 7873/9018) */
    uint8_t cookie_secret[16];   /* server secret for SipHash-2-4 */
    const srv_cidr_t *axfr_allow; /* unsigned AXFR/IXFR allowed from these, borrowed */
    size_t naxfr_allow;
} srv_msg_cfg_t;

/* Fills cfg with the defaults (udp_max 1232, everything else off). */
void srv_msg_cfg_init(srv_msg_cfg_t *cfg);

typedef enum srv_result {
    SRV_DROP = 0,    /* no reply */
    SRV_REPLY = 1,   /* one reply in out->buf[0..out->len) */
    SRV_STREAM = 2,  /* the first message of several in out->buf; the rest
                      * from out->stream (TCP only: AXFR, IXFR) */
    SRV_DEFER = 3,   /* the reply comes later through ctx->route (an UPDATE
                      * waiting for its change to be durable) */
} srv_result_t;

/* A reply of several messages (a zone transfer): it holds what it needs
 * (references to the zone version it sends), so it outlives the
 * snapshot the request was answered from. */
typedef struct srv_stream srv_stream_t;

/* Writes the next message of s into buf[0..cap) (cap >= 65535) and
 * returns its length; 0 when s has ended (then free it). */
size_t srv_stream_next(srv_stream_t *s, uint8_t *buf, size_t cap);

/* Frees s, finished or not (a connection that closed mid-transfer). */
void srv_stream_free(srv_stream_t *s);

/* Where a reply that comes later goes. The transport describes each
 * request with one of these (pointers borrowed for the call); a deferred
 * request keeps a copy (srv_route_keep), and deliver() is called exactly
 * once for it, from the change path's thread, with the reply (borrowed
 * for the call) — so deliver must be thread-safe, and the transport must
 * outlive every pending request. */
typedef struct srv_route {
    void (*deliver)(void *transport, const struct srv_route *route, const uint8_t *msg,
                    size_t len);
    void *transport;
    uint64_t conn;                  /* TCP: the connection, by id */
    const struct sockaddr *peer;    /* UDP: the client's address */
    socklen_t peer_len;
    const void *ctl;                /* UDP: the request's control messages (its destination) */
    size_t ctl_len;
} srv_route_t;

/* A route with its own copy of what it points to. */
typedef struct srv_route_kept {
    srv_route_t r;
    struct sockaddr_storage peer;
    uint8_t ctl[128];
} srv_route_kept_t;

/* Copies *src into *dst (control messages beyond 128 octets are dropped:
 * the reply then leaves from the socket's own address). */
void srv_route_keep(srv_route_kept_t *dst, const srv_route_t *src);

/* Everything a request is answered from, borrowed for the call. */
typedef struct srv_ctx {
    const zone_set_t *zones;     /* the snapshot to answer from; NULL: REFUSED */
    const srv_msg_cfg_t *cfg;
    const srv_route_t *route;    /* for replies that come later; NULL: none can */
} srv_ctx_t;

/* Where the reply goes: buf[0..cap) (cap >= 512; 65535 for TCP),
 * borrowed; len is set on SRV_REPLY and SRV_STREAM, stream on
 * SRV_STREAM (owned by the caller then). */
typedef struct srv_out {
    uint8_t *buf;
    size_t cap;
    size_t len;
    srv_stream_t *stream;
} srv_out_t;

/* Answers request[0..len) from client at time now (seconds since the
 * epoch: cookie timestamps) into out. */
srv_result_t srv_process(const srv_ctx_t *ctx, const uint8_t *req, size_t len,
                         const srv_client_t *client, uint64_t now, srv_out_t *out);

#endif
