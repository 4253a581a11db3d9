/* The content rules of one node (zrules.h). */
#include "zone/zrules.h"

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

/* Types allowed at a delegation point (RFC 1034 §4.2.1: everything else
 * there is not authoritative data of this zone; A/AAAA are glue). */
static bool zr_cut_type(uint16_t type)
{
    return type == DNS_T_NS || type == DNS_T_DS || type == DNS_T_RRSIG || type == DNS_T_NSEC ||
           type == DNS_T_A || type == DNS_T_AAAA;
}

/* What zr_check_node has seen of the node so far. */
typedef struct zr_seen {
    const zr_rec_t *cname, *other;
    unsigned nsoa, ndname, errors;
    bool ns;
} zr_seen_t;

#define ZR_ERROR(v, rep, r, ...) \
    do { zone_reportf(rep, (r) ? (r)->file : NULL, (r) ? (r)->line : 0, __VA_ARGS__); \
         (v)->errors++; } while (0)

/* The rules that concern one record r of the node (head: the first of
 * its RRset). */
static void zr_check_one(const zr_where_t *w, const zr_rec_t *r, bool head, zr_seen_t *v,
                         const zone_report_t *rep)
{
    zr_text_t t, u;
    if (dns_type_is_meta(r->type) || r->type == 0)
        ZR_ERROR(v, rep, r, "type %s cannot be stored in a zone", zr_tname(&t, r->type));
    if (r->type == DNS_T_SOA && w->apex && dns_rdata_check(DNS_T_SOA, r->rdata, r->rdlen) != ZL_OK)
        ZR_ERROR(v, rep, r, "malformed SOA record");
    if (r->type == DNS_T_SOA && (!w->apex || v->nsoa++))
        ZR_ERROR(v, rep, r, w->apex ? "second SOA record at the zone apex" :
                 "SOA record at %s, not at the zone apex", zr_nname(&t, w->name));
    if (r->type == DNS_T_CNAME && v->cname)
        ZR_ERROR(v, rep, r, "more than one CNAME at %s", zr_nname(&t, w->name));
    if (r->type == DNS_T_DNAME && v->ndname++)
        ZR_ERROR(v, rep, r, "more than one DNAME at %s (RFC 6672 §2.4)", zr_nname(&t, w->name));
    v->ns |= r->type == DNS_T_NS;
    if (r->type == DNS_T_CNAME)
        v->cname = v->cname ? v->cname : r;
    else if (r->type != DNS_T_RRSIG && r->type != DNS_T_NSEC && !v->other)
        v->other = r; /* RFC 4035 §2.5: RRSIG and NSEC may sit beside a CNAME */
    if (!head)
        return;
    if (w->parent_cut && r->type != DNS_T_A && r->type != DNS_T_AAAA)
        ZR_ERROR(v, rep, r, "%s record at %s below the delegation at %s "
                 "(only glue A/AAAA allowed)", zr_tname(&t, r->type), zr_nname(&u, w->name),
                 dns_name_to_text(w->parent_cut, t.name, sizeof(t.name)) > 0 ? t.name : "?");
    else if (w->cut && !zr_cut_type(r->type))
        ZR_ERROR(v, rep, r, "%s record at the delegation point %s (only NS, DS "
                 "and glue allowed)", zr_tname(&t, r->type), zr_nname(&u, w->name));
}

unsigned zr_check_node(const zr_where_t *w, const zr_rec_t *r, size_t n, const zone_report_t *rep)
{
    zr_seen_t v = { 0 };
    zr_text_t t, u;
    for (size_t i = 0; i < n; i++)
        zr_check_one(w, &r[i], i == 0 || r[i].type != r[i - 1].type, &v, rep);
    if (v.cname && v.other) {
        char at[32] = "";
        if (v.other->line)
            snprintf(at, sizeof(at), " at line %u", v.other->line);
        ZR_ERROR(&v, rep, v.cname, "CNAME at %s beside other data (%s%s) (RFC 2181 §10.1)",
                 zr_nname(&t, w->name), zr_tname(&u, v.other->type), at);
    }
    if (!w->apex)
        return v.errors;
    /* missing apex records: point at the apex's first record */
    zr_rec_t none = { .file = w->file, .line = w->line };
    const zr_rec_t *at = n ? &r[0] : &none;
    if (!v.nsoa)
        ZR_ERROR(&v, rep, at, "no SOA record at the zone apex %s", zr_nname(&t, w->name));
    if (!v.ns)
        ZR_ERROR(&v, rep, at, "no NS records at the zone apex %s", zr_nname(&t, w->name));
    return v.errors;
}
