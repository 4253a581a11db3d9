/* The content rules of one node (zrules.h). */
#include "zone/zrules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns/err.h"

/* Presentation forms of a name and a type, for messages. */
typedef struct zr_text {
    char name[DNS_NAME_TEXT_MAX];
    char type[16];
} zr_text_t;

static const char *zr_tname(zr_text_t *t, uint16_t type)
{
    if (dns_type_to_text(type, t->type, sizeof(t->type)) < 0)
        t->type[0] = 0;
    return t->type;
}

static const char *zr_nname(zr_text_t *t, const uint8_t *name)
{
    if (dns_name_to_text(name, t->name, sizeof(t->name)) < 0)
        strcpy(t->name, "?");
    return t->name;
}

/* What zr_check_node has seen of the node so far. */
typedef struct zr_seen {
    const zr_where_t *w;
    const zone_report_t *rep;
    const zr_rec_t *cname, *other, *soa;
    unsigned ndname, errors;
    bool ns;
} zr_seen_t;

static void zr_report(zr_seen_t *v, const zr_rec_t *r, zone_severity_t sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports at record r (NULL: the node's position); errors are counted. */
static void zr_report(zr_seen_t *v, const zr_rec_t *r, zone_severity_t sev, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    zone_reportf(v->rep, sev, r ? r->file : v->w->file, r ? r->line : v->w->line, "%s", msg);
    v->errors += sev == ZONE_ERROR;
}

/* Types served at a delegation point (RFC 1034 §4.2.1: everything else
 * there is not authoritative data of this zone; RFC 4035 §2.4: DS, and
 * the NSEC and RRSIG of a signed parent). A/AAAA there are served only
 * when they are glue. */
static bool zr_cut_type(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_DS || type == DNS_T_RRSIG || type == DNS_T_NSEC;
}

static bool zr_addr_type(uint16_t type)
{
    return type == DNS_T_A || type == DNS_T_AAAA;
}

/* The SOA at the apex (the others were left out before): one, well
 * formed. BIND and NSD refuse a second one, Knot ignores it: ignored.
 * Returns false when r is ignored. */
static bool zr_check_soa(const zr_rec_t *r, zr_seen_t *v)
{
    if (v->soa) {
        zr_report(v, r, ZONE_WARNING, "second SOA record at the zone apex: ignored "
                  "(the one at line %u is served)", v->soa->line);
        return false;
    }
    v->soa = r;
    if (dns_rdata_check(DNS_T_SOA, r->rdata, r->rdlen) != ZL_OK)
        zr_report(v, r, ZONE_ERROR, "malformed SOA record");
    return true;
}

/* RFC 1034 §4.2.1, RFC 6672 §2.4: a record below a delegation or a DNAME,
 * or at a delegation point, that is not served. The three peers load
 * such zones (Knot and NSD refuse names below a DNAME, BIND loads them). */
static void zr_check_occluded(const zr_rec_t *r, zr_seen_t *v)
{
    const zr_where_t *w = v->w;
    zr_text_t t, u, a;
    const char *ty = zr_tname(&t, r->type), *at = zr_nname(&u, w->name);
    if (w->above && w->above_dname)
        zr_report(v, r, ZONE_WARNING, "%s record at %s below the DNAME at %s: occluded, "
                  "not served (RFC 6672 §2.4)", ty, at, zr_nname(&a, w->above));
    else if (zr_addr_type(r->type) && !w->glue && w->above)
        zr_report(v, r, ZONE_WARNING, "%s record at %s below the delegation at %s is "
                  "not glue (no NS record names it): occluded, not served (RFC 1034 §4.2.1)",
                  ty, at, zr_nname(&a, w->above));
    else if (zr_addr_type(r->type) && !w->glue)
        zr_report(v, r, ZONE_WARNING, "%s record at the delegation point %s is not glue "
                  "(no NS record names it): occluded, not served (RFC 1034 §4.2.1)", ty, at);
    else if (w->above && !zr_addr_type(r->type))
        zr_report(v, r, ZONE_WARNING, "%s record at %s below the delegation at %s: "
                  "occluded, not served (RFC 1034 §4.2.1)", ty, at, zr_nname(&a, w->above));
    else if (w->cut && !zr_cut_type(r->type) && !zr_addr_type(r->type))
        zr_report(v, r, ZONE_WARNING, "%s record at the delegation point %s: occluded, "
                  "not served (only NS, DS and glue are, RFC 1034 §4.2.1)", ty, at);
}

/* One record r of the node. Returns false when r is ignored. */
static bool zr_check_one(const zr_rec_t *r, zr_seen_t *v)
{
    const zr_where_t *w = v->w;
    zr_text_t t;
    if (r->type == DNS_T_SOA && !zr_check_soa(r, v))
        return false;
    if (r->type == DNS_T_CNAME && v->cname)
        zr_report(v, r, ZONE_ERROR, "more than one CNAME at %s", zr_nname(&t, w->name));
    if (r->type == DNS_T_DNAME && v->ndname++)
        zr_report(v, r, ZONE_ERROR, "more than one DNAME at %s (RFC 6672 §2.4)",
                  zr_nname(&t, w->name));
    v->ns |= r->type == DNS_T_NS;
    if (r->type == DNS_T_CNAME)
        v->cname = v->cname ? v->cname : r;
    else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC && !v->other)
        v->other = r; /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
    if (w->above || w->cut)
        zr_check_occluded(r, v);
    return true;
}

unsigned zr_check_node(const zr_where_t *w, zr_rec_t *r, size_t n, size_t first,
                       const zone_report_t *rep)
{
    zr_seen_t v = { .w = w, .rep = rep };
    zr_text_t t, u;
    if (first < n)
        r[first].ignored = !zr_check_one(&r[first], &v);
    for (size_t i = 0; i < n; i++)
        if (i != first)
            r[i].ignored = !zr_check_one(&r[i], &v);
    if (v.cname && v.other) {
        char where[32] = "";
        if (v.other->line)
            snprintf(where, sizeof(where), " at line %u", v.other->line);
        zr_report(&v, v.cname, ZONE_ERROR, "CNAME at %s beside other data (%s%s) "
                  "(RFC 2181 §10.1)", zr_nname(&t, w->name), zr_tname(&u, v.other->type), where);
    }
    if (!w->apex)
        return v.errors;
    /* missing apex records: point at the apex's first record, or w's */
    const zr_rec_t *at = n ? &r[0] : NULL;
    if (!v.soa)
        zr_report(&v, at, ZONE_ERROR, "no SOA record at the zone apex %s", zr_nname(&t, w->name));
    /* BIND refuses a zone without apex NS; Knot warns, NSD is silent. */
    if (!v.ns)
        zr_report(&v, at, ZONE_WARNING, "no NS records at the zone apex %s",
                  zr_nname(&t, w->name));
    return v.errors;
}
