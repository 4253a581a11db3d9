/* The encoding half of answering: one writer for every entry, with name
 * compression (in dns_msgb_rr) and truncation by whole RRsets (RFC 2181
 * §9: TC only when required data was left out). */
#include "zone/answer_int.h"

/* What an RRset write must roll back when its k-th record does not fit:
 * dns_msgb_rr undoes only its own record. */
typedef struct mark {
    dns_wire_t w;
    uint16_t count[4];
    int section;
    uint16_t compr_n;
} mark_t;

static void mark_save(mark_t *m, const dns_msgb_t *b)
{
    m->w = b->w;
    for (int i = 0; i < 4; i++)
        m->count[i] = b->count[i];
    m->section = b->section;
    m->compr_n = b->c.n;
}

static void mark_restore(const mark_t *m, dns_msgb_t *b)
{
    b->w = m->w;
    for (int i = 0; i < 4; i++)
        b->count[i] = m->count[i];
    b->section = m->section;
    b->c.n = m->compr_n;
}

/* Writes one entry, all of its records or none. */
static int put_entry(dns_msgb_t *b, const ans_entry_t *e)
{
    if (!e->rs)
        return dns_msgb_rr(b, e->section, e->owner, e->type, e->rclass, e->ttl,
                           e->rdata, e->rdlen);
    mark_t m;
    mark_save(&m, b);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(e->rs, 0, &len);
    for (unsigned i = 0; i < e->rs->count; i++) {
        if (i)
            rd = zone_rrset_rdata_next(rd, len, &len);
        int rc = dns_msgb_rr(b, e->section, e->owner, e->type, e->rclass, e->ttl, rd, len);
        if (rc != ZL_OK) {
            mark_restore(&m, b);
            return rc;
        }
    }
    return ZL_OK;
}

bool ans_encode(const ans_t *a, dns_msgb_t *b)
{
    for (uint8_t sec = DNS_SEC_AN; sec <= DNS_SEC_AR; sec++) {
        for (unsigned i = 0; i < a->n; i++) {
            const ans_entry_t *e = &a->e[i];
            if (e->section != sec)
                continue;
            /* Required data that does not fit ends the message: the
             * client retries over TCP (RFC 7766 §5). */
            if (put_entry(b, e) != ZL_OK && e->required)
                return true;
        }
    }
    return false;
}
