/* The content rules a zone must follow before it is served, checked by
 * zone_builder_finish record by record (zb_check_rec) and node by node
 * (zb_check_node: the rules of zrules.c, which zone_apply shares), each
 * problem reported with the file and line of a record involved. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/zbuild_int.h"

void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r, bool error,
               const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *file = r && r->file != ZB_NOFILE ? b->files[r->file] : NULL;
    zone_reportf(rep, file, r ? r->line : 0, "%s", msg);
    b->errors += error;
}

/* Presentation forms of a name and a type, for messages. */
typedef struct zb_text {
    char name[DNS_NAME_TEXT_MAX];
    char type[16];
} zb_text_t;

static const char *zb_tname(zb_text_t *t, uint16_t type)
{
    if (dns_type_to_text(type, t->type, sizeof(t->type)) < 0)
        t->type[0] = 0;
    return t->type;
}

static const char *zb_nname(zb_text_t *t, const uint8_t *name)
{
    if (dns_name_to_text(name, t->name, sizeof(t->name)) < 0)
        strcpy(t->name, "?");
    return t->name;
}

bool zb_check_rec(zone_builder_t *b, const zb_rec_t *r, const zone_report_t *rep)
{
    zb_text_t t;
    const zb_owner_t *o = &b->owners[r->owner];
    if (o->out)
        zb_report(b, rep, r, true, "%s is outside the zone", zb_nname(&t, b->names + o->name));
    else if (r->rclass != DNS_C_IN)
        zb_report(b, rep, r, true, "class %u records are not served (only IN)", r->rclass);
    else if (dns_type_is_meta(r->type) || r->type == 0)
        zb_report(b, rep, r, true, "type %s cannot be stored in a zone", zb_tname(&t, r->type));
    else
        return true;
    return false;
}

uint32_t zb_rrset_dedupe(zone_builder_t *b, zb_kv_t *s, size_t n, unsigned *kept, uint32_t *ttl,
                         const zone_report_t *rep)
{
    uint32_t first = s[0].a, bytes = 0;
    unsigned k = 0;
    for (size_t i = 1; i < n; i++)
        if (s[i].a < first)
            first = s[i].a;
    /* RFC 2181 §5.2: one TTL per RRset; the first record's in the source */
    *ttl = b->recs[first].ttl;
    for (size_t i = 0; i < n; i++) {
        const zb_rec_t *r = &b->recs[s[i].a], *p = i ? &b->recs[s[i - 1].a] : NULL;
        s[i].b = p && dns_rdata_cmp(r->type, b->rdata + p->rd, p->rdlen, b->rdata + r->rd,
                                    r->rdlen) == 0;
        if (!s[i].b) {
            k++;
            bytes += 2u + r->rdlen;
        }
        if (r->ttl != *ttl) {
            zb_text_t t;
            zb_report(b, rep, r, false, "TTL %u differs from TTL %u of the %s RRset; using %u "
                      "(RFC 2181 §5.2)", r->ttl, *ttl, zb_tname(&t, r->type), *ttl);
        }
    }
    *kept = k;
    return bytes;
}

void zb_check_node(zone_builder_t *b, const zb_where_t *w, const zb_kv_t *s, size_t n,
                   const zone_report_t *rep)
{
    if (n > b->zr_cap) {
        zr_rec_t *r = realloc(b->zr, n * sizeof(*r));
        if (!r) {
            zb_report(b, rep, NULL, true, "out of memory checking the zone");
            return;
        }
        b->zr = r;
        b->zr_cap = n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const zb_rec_t *r = &b->recs[s[i].a];
        if (s[i].b)
            continue;
        b->zr[k++] = (zr_rec_t){ .type = r->type, .ttl = r->ttl, .rdata = b->rdata + r->rd,
                                 .rdlen = r->rdlen, .line = r->line,
                                 .file = r->file != ZB_NOFILE ? b->files[r->file] : NULL };
    }
    zb_where_t where = *w;
    if (b->nrecs) {
        const zb_rec_t *r = &b->recs[0];
        where.file = r->file != ZB_NOFILE ? b->files[r->file] : NULL;
        where.line = r->line;
    }
    b->errors += zr_check_node(&where, b->zr, k, rep);
}
