/* Helpers shared by the zone parser and printer tests: record lists from
 * zonelet and from ldns (the oracle), comparison, collected reports.
 * Included by one test program at a time (static functions). */
#ifndef ZL_TESTS_ZONE_ZT_H
#define ZL_TESTS_ZONE_ZT_H

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#include "dns/err.h"
#include "zone/parse.h"
#include "zone/print.h"

#define CORPUS "tests/zone/corpus"

typedef struct trec {
    uint8_t owner[DNS_NAME_MAX];
    uint16_t type, rclass;
    uint32_t ttl;
    uint16_t rdlen;
    uint8_t *rdata;
    unsigned line;
    char file[256];
} trec_t;

typedef struct tlist {
    trec_t *r;
    size_t n, cap;
} tlist_t;

static __attribute__((unused)) void tl_push(tlist_t *l, const uint8_t *owner, size_t olen, uint16_t type,
                    uint16_t rclass, uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->r = realloc(l->r, l->cap * sizeof(*l->r));
        if (!l->r)
            abort();
    }
    trec_t *t = &l->r[l->n++];
    memset(t, 0, sizeof(*t));
    memcpy(t->owner, owner, olen);
    t->type = type;
    t->rclass = rclass;
    t->ttl = ttl;
    t->rdlen = (uint16_t)rdlen;
    t->rdata = malloc(rdlen ? rdlen : 1);
    if (!t->rdata)
        abort();
    memcpy(t->rdata, rd, rdlen);
}

static __attribute__((unused)) int tl_add(void *ctx, const dns_rr_t *rec)
{
    tlist_t *l = ctx;
    tl_push(l, rec->owner, dns_name_len(rec->owner), rec->type, rec->rclass, rec->ttl,
            rec->rdata, rec->rdlen);
    l->r[l->n - 1].line = rec->line;
    snprintf(l->r[l->n - 1].file, sizeof(l->r[0].file), "%s", rec->file ? rec->file : "");
    return 0;
}

static __attribute__((unused)) void tl_free(tlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->r[i].rdata);
    free(l->r);
    memset(l, 0, sizeof(*l));
}

/* Reports, collected. */
typedef struct terrs {
    char msg[64][200];
    unsigned line[64];
    char file[64][128];
    zone_severity_t sev[64];
    size_t n;
} terrs_t;

static __attribute__((unused)) void te_collect(void *ctx, zone_severity_t sev, const char *file,
                                               unsigned line, const char *msg)
{
    terrs_t *e = ctx;
    if (getenv("ZT_VERBOSE"))
        fprintf(stderr, "# report %s:%u: %s%s\n", file ? file : "-", line,
                sev == ZONE_WARNING ? "warning: " : "", msg);
    if (e->n >= 64)
        return;
    snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", msg);
    snprintf(e->file[e->n], sizeof(e->file[0]), "%s", file ? file : "");
    e->sev[e->n] = sev;
    e->line[e->n++] = line;
}

static __attribute__((unused)) void te_print(const terrs_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "# %s:%u: %s\n", e->file[i], e->line[i], e->msg[i]);
}

static __attribute__((unused)) const uint8_t *tname(const char *text, uint8_t buf[DNS_NAME_MAX])
{
    static const uint8_t root[1] = { 0 };
    if (dns_name_from_text(text, strlen(text), root, buf) < 0)
        abort();
    return buf;
}

/* zonelet's records of a file (origin in presentation form). */
static __attribute__((unused)) int tl_parse_file(const char *path, const char *origin, tlist_t *l, terrs_t *e)
{
    uint8_t o[DNS_NAME_MAX];
    zone_parse_opts_t opts = { .origin = tname(origin, o) };
    zone_report_t rep = { te_collect, e };
    return zone_parse_file(path, &opts, tl_add, l, &rep);
}

static __attribute__((unused)) int tl_parse_text(const char *text, const char *origin, tlist_t *l, terrs_t *e)
{
    uint8_t o[DNS_NAME_MAX];
    zone_parse_opts_t opts = { .origin = tname(origin, o) };
    zone_report_t rep = { te_collect, e };
    return zone_parse_text(text, strlen(text), "text", &opts, tl_add, l, &rep);
}

static __attribute__((unused)) void tl_push_ldns(tlist_t *l, const ldns_rr *rr)
{
    ldns_buffer *b = ldns_buffer_new(65536);
    if (ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK)
        abort();
    const ldns_rdf *o = ldns_rr_owner(rr);
    tl_push(l, ldns_rdf_data(o), ldns_rdf_size(o), (uint16_t)ldns_rr_get_type(rr),
            (uint16_t)ldns_rr_get_class(rr), ldns_rr_ttl(rr), ldns_buffer_begin(b),
            ldns_buffer_position(b));
    ldns_buffer_free(b);
}

/* ldns's records of a stream: the SOA (kept apart by ldns) first, then
 * the others in file order. Returns the ldns status; *line the line. */
static __attribute__((unused)) ldns_status tl_ldns_fp(FILE *fp, const char *origin, tlist_t *l, int *line)
{
    ldns_zone *z = NULL;
    ldns_rdf *o = ldns_dname_new_frm_str(origin);
    *line = 0;
    ldns_status s = ldns_zone_new_frm_fp_l(&z, fp, o, 3600, LDNS_RR_CLASS_IN, line);
    ldns_rdf_deep_free(o);
    if (s != LDNS_STATUS_OK)
        return s;
    if (ldns_zone_soa(z))
        tl_push_ldns(l, ldns_zone_soa(z));
    ldns_rr_list *rrs = ldns_zone_rrs(z);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
        tl_push_ldns(l, ldns_rr_list_rr(rrs, i));
    ldns_zone_deep_free(z);
    return s;
}

static __attribute__((unused)) ldns_status tl_ldns_file(const char *path, const char *origin, tlist_t *l, int *line)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return LDNS_STATUS_FILE_ERR;
    ldns_status s = tl_ldns_fp(fp, origin, l, line);
    fclose(fp);
    return s;
}

static __attribute__((unused)) ldns_status tl_ldns_text(const char *text, const char *origin, tlist_t *l, int *line)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    if (!fp)
        abort();
    ldns_status s = tl_ldns_fp(fp, origin, l, line);
    fclose(fp);
    return s;
}

/* Removes the records of one type (for ldns gaps). */
static __attribute__((unused)) void tl_drop_type(tlist_t *l, uint16_t type)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].type == type)
            free(l->r[i].rdata);
        else
            l->r[k++] = l->r[i];
    }
    l->n = k;
}

/* zonelet order with its first SOA moved to the front (ldns's order). */
static __attribute__((unused)) void tl_soa_first(tlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].type != DNS_T_SOA)
            continue;
        trec_t soa = l->r[i];
        memmove(&l->r[1], &l->r[0], i * sizeof(*l->r));
        l->r[0] = soa;
        return;
    }
}

static __attribute__((unused)) void tr_text(const trec_t *t, char *buf, size_t cap)
{
    dns_rr_t r = { .owner = t->owner, .type = t->type, .rclass = t->rclass,
                     .ttl = t->ttl, .rdlen = t->rdlen, .rdata = t->rdata };
    if (zone_rec_to_text(&r, buf, cap) < 0)
        snprintf(buf, cap, "(unprintable)\n");
}

/* Same records in the same order: owner (octets, case kept), type,
 * class, TTL and RDATA wire octets. Prints the first difference. */
static __attribute__((unused)) bool tl_same(const char *what, const tlist_t *a, const tlist_t *b)
{
    static char x[DNS_RDATA_TEXT_MAX + 2 * DNS_NAME_TEXT_MAX], y[sizeof(x)];
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        const trec_t *p = &a->r[i], *q = &b->r[i];
        size_t pl = dns_name_len(p->owner), ql = dns_name_len(q->owner);
        if (pl == ql && !memcmp(p->owner, q->owner, pl) && p->type == q->type &&
            p->rclass == q->rclass && p->ttl == q->ttl && p->rdlen == q->rdlen &&
            !memcmp(p->rdata, q->rdata, p->rdlen))
            continue;
        tr_text(p, x, sizeof(x));
        tr_text(q, y, sizeof(y));
        fprintf(stderr, "# %s: record %zu differs (line %u):\n#  zonelet %s#  other   %s", what,
                i, p->line, x, y);
        return false;
    }
    if (a->n != b->n) {
        fprintf(stderr, "# %s: %zu records vs %zu\n", what, a->n, b->n);
        return false;
    }
    return true;
}

#endif
