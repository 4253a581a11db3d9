/* The content rules a zone must follow before it is served, checked by
 * zone_builder_finish node by node, each problem reported with the file
 * and line of a record involved.
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
#include <stdio.h>
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

/* Types served at a delegation point (RFC 1034 §4.2.1: everything else
 * there is not authoritative data of this zone; RFC 4035 §2.4: DS, and
 * the NSEC and RRSIG of a signed parent). A/AAAA there are served only
 * when they are glue. */
static bool zb_cut_type(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_DS || type == DNS_T_RRSIG || type == DNS_T_NSEC;
}

static bool zb_addr_type(uint16_t type)
{
    return type == DNS_T_A || type == DNS_T_AAAA;
}

/* What zb_check_node has seen of the node so far. */
typedef struct zb_seen {
    const zb_rec_t *cname, *other, *soa;
    unsigned ndname;
    bool ns;
} zb_seen_t;

/* The SOA at the apex (zb_check_rec left out the others): one, well
 * formed. BIND and NSD refuse a second one, Knot ignores it: ignored.
 * Returns false when r is ignored. */
static bool zb_check_soa(zone_builder_t *b, const zb_rec_t *r, zb_seen_t *v,
                         const zone_report_t *rep)
{
    if (v->soa) {
        zb_report(b, rep, r, ZONE_WARNING, "second SOA record at the zone apex: ignored "
                  "(the one at line %u is served)", v->soa->line);
        return false;
    }
    v->soa = r;
    if (dns_rdata_check(DNS_T_SOA, b->rdata + r->rd, r->rdlen) != ZL_OK)
        zb_report(b, rep, r, ZONE_ERROR, "malformed SOA record");
    return true;
}

/* RFC 1034 §4.2.1, RFC 6672 §2.4: a record below a delegation or a DNAME,
 * or at a delegation point, that is not served. The three peers load
 * such zones (Knot and NSD refuse names below a DNAME, BIND loads them). */
static void zb_check_occluded(zone_builder_t *b, const zb_where_t *w, const zb_rec_t *r,
                              const zone_report_t *rep)
{
    zb_text_t t, u, a;
    const char *ty = zb_tname(&t, r->type), *at = zb_nname(&u, w->name);
    if (w->above && w->above_dname)
        zb_report(b, rep, r, ZONE_WARNING, "%s record at %s below the DNAME at %s: occluded, "
                  "not served (RFC 6672 §2.4)", ty, at, zb_nname(&a, w->above));
    else if (zb_addr_type(r->type) && !w->glue && w->above)
        zb_report(b, rep, r, ZONE_WARNING, "%s record at %s below the delegation at %s is "
                  "not glue (no NS record names it): occluded, not served (RFC 1034 §4.2.1)",
                  ty, at, zb_nname(&a, w->above));
    else if (zb_addr_type(r->type) && !w->glue)
        zb_report(b, rep, r, ZONE_WARNING, "%s record at the delegation point %s is not glue "
                  "(no NS record names it): occluded, not served (RFC 1034 §4.2.1)", ty, at);
    else if (w->above && !zb_addr_type(r->type))
        zb_report(b, rep, r, ZONE_WARNING, "%s record at %s below the delegation at %s: "
                  "occluded, not served (RFC 1034 §4.2.1)", ty, at, zb_nname(&a, w->above));
    else if (w->cut && !zb_cut_type(r->type) && !zb_addr_type(r->type))
        zb_report(b, rep, r, ZONE_WARNING, "%s record at the delegation point %s: occluded, "
                  "not served (only NS, DS and glue are, RFC 1034 §4.2.1)", ty, at);
}

/* One record r of the node (not a duplicate). Returns false when r is
 * ignored. */
static bool zb_check_one(zone_builder_t *b, const zb_where_t *w, const zb_rec_t *r,
                         zb_seen_t *v, const zone_report_t *rep)
{
    zb_text_t t;
    if (r->type == DNS_T_SOA && !zb_check_soa(b, r, v, rep))
        return false;
    if (r->type == DNS_T_CNAME && v->cname)
        zb_report(b, rep, r, ZONE_ERROR, "more than one CNAME at %s", zb_nname(&t, w->name));
    if (r->type == DNS_T_DNAME && v->ndname++)
        zb_report(b, rep, r, ZONE_ERROR, "more than one DNAME at %s (RFC 6672 §2.4)",
                  zb_nname(&t, w->name));
    v->ns |= r->type == DNS_T_NS;
    if (r->type == DNS_T_CNAME)
        v->cname = v->cname ? v->cname : r;
    else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC && !v->other)
        v->other = r; /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
    if (w->above || w->cut)
        zb_check_occluded(b, w, r, rep);
    return true;
}

void zb_check_node(zone_builder_t *b, const zb_where_t *w, zb_kv_t *s, size_t n,
                   const zone_report_t *rep)
{
    zb_seen_t v = { 0 };
    zb_text_t t, u;
    /* Records in arrival order within the node's SOA RRset, so that the
     * first SOA of the file is the one served: visit it first. */
    size_t first_soa = n;
    for (size_t i = 0; i < n; i++)
        if ((uint16_t)s[i].key == DNS_T_SOA && !s[i].b &&
            (first_soa == n || s[i].a < s[first_soa].a))
            first_soa = i;
    if (first_soa < n && !zb_check_one(b, w, &b->recs[s[first_soa].a], &v, rep))
        s[first_soa].b = 1;
    for (size_t i = 0; i < n; i++)
        if (!s[i].b && i != first_soa && !zb_check_one(b, w, &b->recs[s[i].a], &v, rep))
            s[i].b = 1;
    if (v.cname && v.other)
        zb_report(b, rep, v.cname, ZONE_ERROR, "CNAME at %s beside other data (%s at line %u) "
                  "(RFC 2181 §10.1)", zb_nname(&t, w->name), zb_tname(&u, v.other->type),
                  v.other->line);
    if (!w->apex)
        return;
    /* missing apex records: point at the apex's first record, or the file */
    const zb_rec_t *at = n ? &b->recs[s[0].a] : b->nrecs ? &b->recs[0] : NULL;
    if (!v.soa)
        zb_report(b, rep, at, ZONE_ERROR, "no SOA record at the zone apex %s",
                  zb_nname(&t, w->name));
    /* BIND refuses a zone without apex NS; Knot warns, NSD is silent. */
    if (!v.ns)
        zb_report(b, rep, at, ZONE_WARNING, "no NS records at the zone apex %s",
                  zb_nname(&t, w->name));
}
