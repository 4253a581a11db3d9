/* QUERY (RFC 1035 §4.3.2 and the RFCs of zone/answer.h): the CHAOS
 * class, zone transfer questions, then the zone lookup. */
#include <string.h>

#include "unikernel/msg_int.h"
#include "zone/answer.h"

/* CH TXT id.server / hostname.bind / version.server / version.bind
 * (RFC 4892 §2), only when configured; else REFUSED. */
static uint16_t chaos_answer(srv_msg_t *m)
{
    static const uint8_t id1[] = "\2id\6server", id2[] = "\10hostname\4bind";
    static const uint8_t ver1[] = "\7version\6server", ver2[] = "\7version\4bind";
    const srv_msg_cfg_t *cfg = m->ctx->cfg;
    const uint8_t *qn = m->q.qname;
    const char *s = NULL;
    if (m->q.qtype != DNS_T_TXT)
        return DNS_R_REFUSED;
    if (dns_name_equal(qn, id1) || dns_name_equal(qn, id2))
        s = cfg->id_server;
    else if (dns_name_equal(qn, ver1) || dns_name_equal(qn, ver2))
        s = cfg->version_server;
    if (!s)
        return DNS_R_REFUSED;
    uint8_t txt[256];
    size_t len = strlen(s) < 255 ? strlen(s) : 255;
    txt[0] = (uint8_t)len;
    memcpy(txt + 1, s, len);
    if (dns_msgb_rr(&m->b, DNS_SEC_AN, qn, DNS_T_TXT, DNS_C_CH, 0, txt,
                    (uint16_t)(len + 1)) != ZL_OK)
        m->flags |= DNS_F_TC;
    return DNS_R_NOERROR;
}

uint16_t srv_query(srv_msg_t *m)
{
    const dns_query_t *q = &m->q;
    if (q->qclass == DNS_C_CH)
        return chaos_answer(m);
    /* Zone transfers have their own module (and need TCP, RFC 5936
     * §4.2); until it exists they get NOTIMP, as from Knot DNS. */
    if (q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
        return DNS_R_NOTIMP;
    /* Class ANY is answered from the IN data, as Knot DNS does. */
    if (q->qclass != DNS_C_IN && q->qclass != DNS_C_ANY)
        return DNS_R_REFUSED;
    return zone_answer(m->ctx->zones, q->qname, q->qtype, m->client && m->client->tcp, &m->b,
                       &m->flags);
}
