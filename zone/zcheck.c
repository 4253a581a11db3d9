/* The content rules a zone must follow before it is served, checked by
 * zone_builder_finish node by node, each problem reported with the file
 * and line of a record involved. */
#include <stdarg.h>
#include <stdio.h>
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

/* Types allowed at a delegation point (RFC 1034 §4.2.1: everything else
 * there is not authoritative data of this zone; A/AAAA are glue). */
static bool zb_cut_type(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_DS || type == DNS_T_RRSIG || type == DNS_T_NSEC ||
           type == DNS_T_A || type == DNS_T_AAAA;
}

/* The rules that concern one record r of the node (head: the first of
 * its RRset). Updates the counters of zb_check_node. */
typedef struct zb_seen {
    const zb_rec_t *cname, *other;
    unsigned nsoa, ndname;
    bool ns;
} zb_seen_t;

static void zb_check_one(zone_builder_t *b, const zb_where_t *w, const zb_rec_t *r, bool head,
                         zb_seen_t *v, const zone_report_t *rep)
{
    zb_text_t t, u;
    if (r->type == DNS_T_SOA && w->apex &&
        dns_rdata_check(DNS_T_SOA, b->rdata + r->rd, r->rdlen) != ZL_OK)
        zb_report(b, rep, r, true, "malformed SOA record");
    if (r->type == DNS_T_SOA && (!w->apex || v->nsoa++))
        zb_report(b, rep, r, true, w->apex ? "second SOA record at the zone apex" :
                  "SOA record at %s, not at the zone apex", zb_nname(&t, w->name));
    if (r->type == DNS_T_CNAME && v->cname)
        zb_report(b, rep, r, true, "more than one CNAME at %s", zb_nname(&t, w->name));
    if (r->type == DNS_T_DNAME && v->ndname++)
        zb_report(b, rep, r, true, "more than one DNAME at %s (RFC 6672 §2.4)",
                  zb_nname(&t, w->name));
    v->ns |= r->type == DNS_T_NS;
    if (r->type == DNS_T_CNAME)
        v->cname = v->cname ? v->cname : r;
    else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC && !v->other)
        v->other = r; /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
    if (!head)
        return;
    if (w->parent_cut && r->type != DNS_T_A && r->type != DNS_T_AAAA)
        zb_report(b, rep, r, true, "%s record at %s below the delegation at %s "
                  "(only glue A/AAAA allowed)", zb_tname(&t, r->type), zb_nname(&u, w->name),
                  dns_name_to_text(w->parent_cut, t.name, sizeof(t.name)) > 0 ? t.name : "?");
    else if (w->cut && !zb_cut_type(r->type))
        zb_report(b, rep, r, true, "%s record at the delegation point %s (only NS, DS "
                  "and glue allowed)", zb_tname(&t, r->type), zb_nname(&u, w->name));
}

void zb_check_node(zone_builder_t *b, const zb_where_t *w, const zb_kv_t *s, size_t n,
                   const zone_report_t *rep)
{
    zb_seen_t v = { 0 };
    zb_text_t t, u;
    for (size_t i = 0; i < n; i++)
        if (!s[i].b)
            zb_check_one(b, w, &b->recs[s[i].a], i == 0 || s[i].key != s[i - 1].key, &v, rep);
    if (v.cname && v.other)
        zb_report(b, rep, v.cname, true, "CNAME at %s beside other data (%s at line %u) "
                  "(RFC 2181 §10.1)", zb_nname(&t, w->name), zb_tname(&u, v.other->type),
                  v.other->line);
    if (!w->apex)
        return;
    /* missing apex records: point at the apex's first record, or the file */
    const zb_rec_t *at = n ? &b->recs[s[0].a] : b->nrecs ? &b->recs[0] : NULL;
    if (!v.nsoa)
        zb_report(b, rep, at, true, "no SOA record at the zone apex %s", zb_nname(&t, w->name));
    if (!v.ns)
        zb_report(b, rep, at, true, "no NS records at the zone apex %s", zb_nname(&t, w->name));
}
