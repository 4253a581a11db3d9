/* NOTIFY in (RFC 1996): a hook or a script tells the primary that a
 * zone changed in its store. A NOTIFY signed by a key with notify rights
 * for the zone asks the change path to reload the zone (a zone not served
 * yet too: a push may have added it); it is answered at once (the reload
 * runs on its own). Unsigned or unauthorised: REFUSED; a zone neither
 * served nor covered by the key: NOTAUTH. */
#include "unikernel/log.h"
#include "unikernel/msg_int.h"

uint16_t srv_notify(srv_msg_t *m)
{
    /* RFC 1996 §3.7: the question names the zone's SOA. */
    if (m->q.qtype != DNS_T_SOA || m->q.qclass != DNS_C_IN)
        return DNS_R_FORMERR;
    const zone_t *z = srv_msg_zone(m);
    /* A zone not served yet may be new in the store (a push adding it):
     * a key with notify rights for that name asks for a look. */
    bool allowed = m->key && zone_key_allows(m->key, m->q.qname, ZONE_KEY_NOTIFY);
    if (!z && !allowed)
        return DNS_R_NOTAUTH;
    char who[SRV_WHO_MAX];
    srv_log_who(m->key ? m->key->tsig.name : NULL, m->client, who, sizeof who);
    /* Unsigned, or a key without notify rights for this zone: refused,
     * as an UPDATE would be (RFC 2136 §3.3). */
    if (!allowed || !m->ctx->changes) {
        srv_log_zone(m->q.qname, "NOTIFY refused: %s", who);
        return DNS_R_REFUSED;
    }
    m->ctx->changes->reload(m->ctx->changes->self, m->q.qname, who);
    m->flags |= DNS_F_AA;
    return DNS_R_NOERROR;
}
