/* UPDATE (RFC 2136), the message layer's half: what needs only the
 * request and the snapshot — the zone section (§3.1), the zone is ours,
 * the key's rights (§3.3) — then the parsed request goes to the change
 * path, which answers it once the change is durable (SRV_DEFER). The
 * prerequisites and updates themselves (§3.2-3.4) are zone/update.c's,
 * run by the change path on the zone's latest version. */
#include <stdlib.h>
#include <string.h>

#include "unikernel/log.h"
#include "unikernel/msg_int.h"

struct srv_pending {
    dns_arena_t arena;        /* the parsed request's records */
    dns_msg_t msg;
    srv_msg_t reply;          /* the reply's state: id, flags, OPT, TSIG (key below) */
    dns_tsig_key_t key;       /* the request's key: the snapshot's may be gone by then */
    uint8_t zone[DNS_NAME_MAX];
    size_t limit;             /* the reply's size limit */
    srv_route_kept_t route;
    char who[SRV_WHO_MAX];
};

const dns_msg_t *srv_pending_msg(const srv_pending_t *p) { return &p->msg; }
const char *srv_pending_who(const srv_pending_t *p) { return p->who; }

static void pending_free(srv_pending_t *p)
{
    dns_arena_free(&p->arena);
    free(p);
}

void srv_pending_done(srv_pending_t *p, uint16_t rcode, uint64_t now)
{
    uint8_t buf[4096];
    dns_msgb_t b;
    srv_msg_t *m = &p->reply;
    m->now = now;
    dns_msgb_init(&b, buf, p->limit < sizeof buf ? p->limit : sizeof buf, m->q.id, m->flags);
    size_t len = 0;
    /* RFC 2136 §3.8: the reply carries the zone section, nothing else. */
    if (dns_msgb_question(&b, p->zone, DNS_T_SOA, m->q.qclass) == ZL_OK &&
        dns_msgb_reserve(&b, srv_msg_room(m)) == ZL_OK)
        len = srv_msg_finish(m, &b, m->flags, rcode);
    if (len)
        p->route.r.deliver(p->route.r.transport, &p->route.r, buf, len);
    pending_free(p);
}

/* The request parsed whole, and the state its reply will need. */
static srv_pending_t *pending_new(const srv_msg_t *m, int *err)
{
    srv_pending_t *p = calloc(1, sizeof *p);
    *err = ZL_ENOMEM;
    if (!p)
        return NULL;
    dns_arena_init(&p->arena, NULL, 0, 0);
    *err = dns_msg_parse(&p->msg, m->req, m->req_len, &p->arena);
    if (*err != ZL_OK) {
        pending_free(p);
        return NULL;
    }
    srv_msg_keep(&p->reply, m, &p->key);
    dns_name_copy(p->zone, m->q.qname);
    p->limit = m->b.w.len;
    srv_route_keep(&p->route, m->ctx->route);
    srv_log_who(m->key ? m->key->tsig.name : NULL, m->client, p->who, sizeof p->who);
    return p;
}

uint16_t srv_update(srv_msg_t *m)
{
    /* RFC 2136 §3.1.1: one zone section of type SOA naming a zone of
     * ours (class IN; anything else is not a zone we serve). */
    if (m->q.qtype != DNS_T_SOA)
        return DNS_R_FORMERR;
    const zone_t *z = m->q.qclass == DNS_C_IN ? srv_msg_zone(m) : NULL;
    if (!z)
        return DNS_R_NOTAUTH;
    /* §3.3: unsigned, or a key without update rights for this zone. */
    if (!srv_msg_allows(m, z, ZONE_KEY_UPDATE) || !m->ctx->changes || !m->ctx->route) {
        char who[SRV_WHO_MAX];
        srv_log_who(m->key ? m->key->tsig.name : NULL, m->client, who, sizeof who);
        srv_log_zone(zone_origin(z), "UPDATE refused: %s", who);
        return DNS_R_REFUSED;
    }
    int err;
    srv_pending_t *p = pending_new(m, &err);
    if (!p)
        return err == ZL_ENOMEM ? DNS_R_SERVFAIL : DNS_R_FORMERR;
    if (m->ctx->changes->update(m->ctx->changes->self, p) != 0) {
        pending_free(p);
        return DNS_R_SERVFAIL;
    }
    m->result = SRV_DEFER;
    return DNS_R_NOERROR;
}
