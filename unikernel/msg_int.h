/* Private to the message layer (process.c and the opcode modules): one
 * request being answered, and the reply being built for it. */
#ifndef ZL_UNIKERNEL_MSG_INT_H
#define ZL_UNIKERNEL_MSG_INT_H

#include "dns/edns.h"
#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/process.h"
#include "zone/keys.h"

typedef struct srv_msg {
    const srv_ctx_t *ctx;
    const srv_client_t *client;
    uint64_t now;
    const uint8_t *req;      /* the request, borrowed */
    size_t req_len;
    dns_query_t q;           /* its header, question, OPT and TSIG position */
    dns_edns_req_t edns;     /* what its OPT asks for (when q.has_edns) */
    bool opt;                /* the reply carries an OPT */
    dns_edns_resp_t resp;    /* ... this one */
    dns_msgb_t b;            /* the reply: header and question written, OPT room kept */
    uint16_t flags;          /* reply flags without rcode; handlers add AA and TC */
    bool tsig;               /* the request was signed: so is the reply (tsig_ctx says how) */
    dns_tsig_ctx_t tsig_ctx;
    const zone_key_t *key;   /* the key that verified the request, or NULL */
    srv_result_t result;     /* SRV_REPLY, or what a module decided (STREAM, DEFER, DROP) */
    srv_stream_t *stream;    /* SRV_STREAM */
} srv_msg_t;

/* A reply's state kept past the request (a deferred UPDATE answer, the
 * messages of a transfer): *dst gets m's header, question, OPT and TSIG
 * state with nothing borrowed left in it (the request's bytes, the
 * context, the snapshot's key); the TSIG key is copied into *key, which
 * must live as long as dst. */
void srv_msg_keep(srv_msg_t *dst, const srv_msg_t *m, dns_tsig_key_t *key);

/* The octets kept at the end of every message for its OPT and TSIG. */
size_t srv_msg_room(const srv_msg_t *m);

/* Finishes the message in b: flags with the low rcode bits, the OPT
 * (upper rcode bits) and the TSIG, giving back the room kept for them.
 * Returns the length, 0 when it could not be written. */
size_t srv_msg_finish(srv_msg_t *m, dns_msgb_t *b, uint16_t flags, uint16_t rcode);

/* A multi-message reply: each kind (AXFR, IXFR) embeds this first. */
struct srv_stream {
    size_t (*next)(srv_stream_t *s, uint8_t *buf, size_t cap);
    void (*free)(srv_stream_t *s);
};

/* Each opcode module writes its sections into m->b and sets AA/TC in
 * m->flags, or changes m->result; each returns the rcode (12 bits). */

/* QUERY (query.c); zone transfer questions go on to srv_xfr. */
uint16_t srv_query(srv_msg_t *m);
/* AXFR and IXFR (xfr.c, RFC 5936, RFC 1995). */
uint16_t srv_xfr(srv_msg_t *m);
/* NOTIFY (notify.c, RFC 1996): a primary's NOTIFY in. */
uint16_t srv_notify(srv_msg_t *m);
/* UPDATE (update.c, RFC 2136). */
uint16_t srv_update(srv_msg_t *m);

/* The zone the request's question names, exactly (its apex), or NULL. */
const zone_t *srv_msg_zone(const srv_msg_t *m);

/* True when the request was signed by a key with `right` over zone z. */
bool srv_msg_allows(const srv_msg_t *m, const zone_t *z, unsigned right);

#endif
