/* libFuzzer harness: the message parsers (dns_query_parse, dns_msg_parse)
 * and the builder. A message that parses is rebuilt record by record and
 * must parse again to the same section counts, types and RDATA. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"

/* Compression matches names case-insensitively, so a rebuilt name may
 * take another spelling's case; compressible names are all in the RFC 4034
 * §6.2 list, so canonical forms must be equal octet for octet. */
static int rdata_same(const dns_rr_t *x, const dns_rr_t *y)
{
    static uint8_t cx[65535], cy[65535];
    memcpy(cx, x->rdata, x->rdlen);
    memcpy(cy, y->rdata, y->rdlen);
    dns_rdata_canonicalize(x->type, cx, x->rdlen);
    dns_rdata_canonicalize(y->type, cy, y->rdlen);
    return memcmp(cx, cy, x->rdlen) == 0;
}

static void rebuild(const dns_msg_t *m)
{
    static uint8_t out[65535];
    dns_msgb_t b;
    dns_msgb_init(&b, out, sizeof(out), m->id, m->flags);
    if (m->qname && dns_msgb_question(&b, m->qname, m->qtype, m->qclass) != ZL_OK)
        abort();
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < m->nrr[s]; i++) {
            const dns_rr_t *r = &m->rr[s][i];
            /* Records that no longer fit (decompressed) are fine to stop at. */
            if (dns_msgb_rr(&b, s, r->owner, r->type, r->rclass, r->ttl, r->rdata, r->rdlen))
                return;
        }
    if (m->has_edns && dns_msgb_opt(&b, &m->edns) != ZL_OK)
        return;
    size_t len = dns_msgb_finish(&b);

    dns_arena_t a;
    dns_msg_t m2;
    dns_arena_init(&a, NULL, 0, 0);
    if (dns_msg_parse(&m2, out, len, &a) != ZL_OK)
        abort(); /* what we build must parse */
    for (int s = 0; s < 3; s++) {
        if (m2.nrr[s] != m->nrr[s])
            abort();
        for (unsigned i = 0; i < m->nrr[s]; i++) {
            const dns_rr_t *x = &m->rr[s][i], *y = &m2.rr[s][i];
            if (x->type != y->type || x->rdlen != y->rdlen || !rdata_same(x, y) ||
                !dns_name_equal(x->owner, y->owner))
                abort();
        }
    }
    if (m2.has_edns != m->has_edns)
        abort();
    dns_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dns_query_t q;
    (void)dns_query_parse(&q, data, size);

    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    /* A TSIG record must stay last, so such messages are not rebuilt. */
    if (dns_msg_parse(&m, data, size, &a) == ZL_OK && m.tsig_off == 0)
        rebuild(&m);
    dns_arena_free(&a);
    return 0;
}
