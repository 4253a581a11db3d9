/* The content rules a zone must follow before it is served, checked by
 * zone_builder_finish record by record (zb_check_rec) and node by node
 * (zb_check_node: the rules of zrules.c, which zone_apply shares), each
 * problem reported with the file and line of a record involved.
 *
 * What is an error follows what BIND 9.18 (named-checkzone), Knot DNS
 * 3.2 (knotd, semantic-checks off) and NSD 4.6 (nsd-checkzone) do with
 * the same zone (tests/zone/test_check.sh asks them about the invalid/
 * and warn/ corpora): where all three refuse a zone, so does zonelet;
 * where one of them loads it, zonelet loads it and warns about each
 * record it does not serve. Measured (E refuses, W loads and warns, S
 * loads silently, I loads without the record):
 *
 *   problem                            BIND  Knot  NSD   zonelet
 *   no SOA / no records                E     E     E     error
 *   class other than IN                E     E     E     error
 *   CNAME beside data (also at a cut)  E     E     E     error
 *   two CNAMEs, two DNAMEs at a name   E     E     E     error
 *   no NS at the apex                  E     W     S     warning
 *   second SOA at the apex             E     I     E     warning, ignored
 *   SOA below the apex                 E     I     E     warning, ignored
 *   owner outside the zone             W,I   W,I   E     warning, ignored
 *   meta type (ANY, OPT), TYPE0        E     S     S/E   warning, ignored
 *   data below a DNAME                 S     E     E     warning, occluded
 *   NS and DNAME at one name           S     E     E     warning, occluded
 *   data below a delegation, nested
 *   delegations, non-glue addresses    S     S     S     warning, occluded
 *   other data at a delegation point   S     S     S     warning, occluded
 *   TTLs differing in an RRset         W     W     W     warning
 * (Knot loads meta types and then sends malformed replies for them; NSD
 * loads ANY and OPT but refuses TYPE0.) */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/zbuild_int.h"

void zb_report(zone_builder_t *b, const zone_report_t *rep, const zb_rec_t *r,
               zone_severity_t sev, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *file = r && r->file != ZB_NOFILE ? b->files[r->file] : NULL;
    zone_reportf(rep, sev, file, r ? r->line : 0, "%s", msg);
    b->errors += sev == ZONE_ERROR;
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

/* BIND and Knot ignore records outside the zone with a warning (NSD
 * refuses the zone); all three refuse other classes; Knot and NSD load
 * meta types (BIND refuses them) but they are not data; BIND and NSD
 * refuse an SOA below the apex, Knot ignores it. */
bool zb_check_rec(zone_builder_t *b, const zb_rec_t *r, const zone_report_t *rep, bool report)
{
    zb_text_t t;
    const zb_owner_t *o = &b->owners[r->owner];
    const uint8_t *name = b->names + o->name;
    if (r->rclass != DNS_C_IN) {
        if (report)
            zb_report(b, rep, r, ZONE_ERROR, "class %u records are not served (only IN)",
                      r->rclass);
    } else if (o->out) {
        if (report)
            zb_report(b, rep, r, ZONE_WARNING, "%s is outside the zone: ignored",
                      zb_nname(&t, name));
    } else if (dns_type_is_meta(r->type) || r->type == 0) {
        if (report)
            zb_report(b, rep, r, ZONE_WARNING, "type %s cannot be stored in a zone: ignored",
                      zb_tname(&t, r->type));
    } else if (r->type == DNS_T_SOA && !o->apex) {
        if (report)
            zb_report(b, rep, r, ZONE_WARNING, "SOA record at %s, not at the zone apex: "
                      "ignored", zb_nname(&t, name));
    } else {
        return true;
    }
    return false;
}

void zb_rrset_dedupe(zone_builder_t *b, zb_kv_t *s, size_t n, const zone_report_t *rep)
{
    uint32_t first = s[0].a;
    for (size_t i = 1; i < n; i++)
        if (s[i].a < first)
            first = s[i].a;
    /* RFC 2181 §5.2: one TTL per RRset; the first record's in the source */
    uint32_t ttl = b->recs[first].ttl;
    for (size_t i = 0; i < n; i++) {
        const zb_rec_t *r = &b->recs[s[i].a], *p = i ? &b->recs[s[i - 1].a] : NULL;
        s[i].b = p && dns_rdata_cmp(r->type, b->rdata + p->rd, p->rdlen, b->rdata + r->rd,
                                    r->rdlen) == 0;
        if (r->ttl != ttl) {
            zb_text_t t;
            zb_report(b, rep, r, ZONE_WARNING, "TTL %u differs from TTL %u of the %s RRset; "
                      "using %u (RFC 2181 §5.2)", r->ttl, ttl, zb_tname(&t, r->type), ttl);
        }
    }
}

void zb_check_node(zone_builder_t *b, const zb_where_t *w, zb_kv_t *s, size_t n,
                   const zone_report_t *rep)
{
    if (n > b->zr_cap) {
        zr_rec_t *r = realloc(b->zr, n * sizeof(*r));
        if (!r) {
            zb_report(b, rep, NULL, ZONE_ERROR, "out of memory checking the zone");
            return;
        }
        b->zr = r;
        b->zr_cap = n;
    }
    /* the records that are not duplicates; the first SOA of the source
     * is visited first, so that it is the one served */
    size_t k = 0, first = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const zb_rec_t *r = &b->recs[s[i].a];
        if (s[i].b)
            continue;
        if (r->type == DNS_T_SOA && (first == SIZE_MAX || s[i].a < s[b->zr[first].tag].a))
            first = k;
        b->zr[k] = (zr_rec_t){ .type = r->type, .rdata = b->rdata + r->rd, .rdlen = r->rdlen,
                               .line = r->line,
                               .file = r->file != ZB_NOFILE ? b->files[r->file] : NULL };
        b->zr[k++].tag = (uint32_t)i;
    }
    zb_where_t where = *w;
    if (b->nrecs) {
        const zb_rec_t *r = n ? &b->recs[s[0].a] : &b->recs[0];
        where.file = r->file != ZB_NOFILE ? b->files[r->file] : NULL;
        where.line = r->line;
    }
    b->errors += zr_check_node(&where, b->zr, k, first == SIZE_MAX ? k : first, rep);
    for (size_t j = 0; j < k; j++)
        if (b->zr[j].ignored)
            s[b->zr[j].tag].b = 1;
}
