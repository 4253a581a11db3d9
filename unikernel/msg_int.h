/* Private to the message layer (process.c and the opcode modules): one
 * request being answered, and the reply being built for it. */
#ifndef ZL_UNIKERNEL_MSG_INT_H
#define ZL_UNIKERNEL_MSG_INT_H

#include "dns/edns.h"
#include "dns/msg.h"
#include "unikernel/process.h"

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
} srv_msg_t;

/* A multi-message reply: each kind (AXFR, IXFR) embeds this first. */
struct srv_stream {
    size_t (*next)(srv_stream_t *s, uint8_t *buf, size_t cap);
    void (*free)(srv_stream_t *s);
};

/* QUERY (query.c): writes the answer into m->b and sets AA/TC in
 * m->flags; returns the rcode (up to 12 bits). */
uint16_t srv_query(srv_msg_t *m);

#endif
