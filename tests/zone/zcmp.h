/* Helpers for the change-path tests (test_apply, test_update, test_diff,
 * test_journal) and the UPDATE fuzzer: building zones and diffs from
 * text, and comparing two versions of a zone through every public lookup
 * (the differential check: a version made by zone_apply must answer
 * exactly as the same records built from scratch). No cmocka here: the
 * comparisons return false and print the first difference. Included by
 * one program at a time (static functions). */
#ifndef ZL_TESTS_ZONE_ZCMP_H
#define ZL_TESTS_ZONE_ZCMP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/apply.h"
#include "zone/diff.h"
#include "zone/parse.h"
#include "zone/print.h"
#include "zone/zone.h"

#define ZC_UNUSED __attribute__((unused))

/* Reports into a buffer, for tests that look for a message: errors are
 * written "error: ...", warnings "warning: ...". */
typedef struct zc_reports {
    char text[4096];
    unsigned n, errors;
} zc_reports_t;

static ZC_UNUSED void zc_report_fn(void *ctx, zone_severity_t sev, const char *file,
                                   unsigned line, const char *msg)
{
    zc_reports_t *r = ctx;
    (void)file;
    (void)line;
    if (getenv("ZT_VERBOSE"))
        fprintf(stderr, "# report: %s\n", msg);
    size_t l = strlen(r->text);
    snprintf(r->text + l, sizeof(r->text) - l, "%s: %s\n",
             sev == ZONE_ERROR ? "error" : "warning", msg);
    r->n++;
    r->errors += sev == ZONE_ERROR;
}

static ZC_UNUSED void zc_name(const char *s, uint8_t out[DNS_NAME_MAX])
{
    if (dns_name_from_text(s, strlen(s), NULL, out) < 0)
        abort();
}

/* Records parsed from master-file text, copied. */
typedef struct zc_recs {
    dns_rr_t *r;
    size_t n, cap;
} zc_recs_t;

static ZC_UNUSED int zc_recs_add(void *ctx, const dns_rr_t *rec)
{
    zc_recs_t *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        if (!(l->r = realloc(l->r, l->cap * sizeof(*l->r))))
            abort();
    }
    dns_rr_t *c = &l->r[l->n++];
    *c = *rec;
    size_t ol = dns_name_len(rec->owner);
    uint8_t *o = malloc(ol), *rd = malloc(rec->rdlen + 1u);
    if (!o || !rd)
        abort();
    memcpy(o, rec->owner, ol);
    memcpy(rd, rec->rdata, rec->rdlen);
    c->owner = o;
    c->rdata = rd;
    c->file = NULL;
    c->line = 0;
    return 0;
}

static ZC_UNUSED void zc_recs_free(zc_recs_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((void *)l->r[i].owner);
        free((void *)l->r[i].rdata);
    }
    free(l->r);
    memset(l, 0, sizeof(*l));
}

/* Parses text (origin in presentation form); false on a syntax error. */
static ZC_UNUSED bool zc_parse(const char *origin, const char *text, zc_recs_t *out)
{
    uint8_t o[DNS_NAME_MAX];
    zc_name(origin, o);
    zone_parse_opts_t opts = { .origin = o, .default_ttl = 3600 };
    return zone_parse_text(text, strlen(text), "text", &opts, zc_recs_add, out, NULL) == ZL_OK;
}

/* Builds the records r[0..n) into a zone; returns the builder's result. */
static ZC_UNUSED int zc_build_recs(const uint8_t *origin, const dns_rr_t *r, size_t n, zone_t **z,
                                   const zone_report_t *rep)
{
    zone_builder_t *b = zone_builder_new(origin);
    if (!b)
        abort();
    for (size_t i = 0; i < n; i++)
        if (zone_builder_add(b, &r[i], rep))
            abort();
    return zone_builder_finish(b, z, rep);
}

/* Builds a zone from text; NULL when it does not parse or build. */
static ZC_UNUSED zone_t *zc_build(const char *origin, const char *text)
{
    zc_recs_t l = { 0 };
    zone_t *z = NULL;
    uint8_t o[DNS_NAME_MAX];
    zc_name(origin, o);
    if (zc_parse(origin, text, &l))
        zc_build_recs(o, l.r, l.n, &z, NULL);
    zc_recs_free(&l);
    return z;
}

/* The SOA record of z (pointing into it). */
static ZC_UNUSED dns_rr_t zc_soa(const zone_t *z)
{
    const zone_rrset_t *rs = zone_soa(z);
    dns_rr_t r = { .owner = zone_origin(z), .type = DNS_T_SOA, .rclass = DNS_C_IN,
                   .ttl = rs->ttl };
    r.rdata = zone_rrset_rdata(rs, 0, &r.rdlen);
    return r;
}

/* A sealed diff for z: lines of master-file text, each starting with
 * '-' (removed) or '+' (added), the SOA serial raised by one. NULL when
 * the text does not parse or the diff does not seal. */
static ZC_UNUSED zone_diff_t *zc_diff(const zone_t *z, const char *text)
{
    char origin[DNS_NAME_TEXT_MAX];
    dns_name_to_text(zone_origin(z), origin, sizeof(origin));
    zone_diff_t *d = zone_diff_new(zone_origin(z));
    bool ok = d != NULL;
    for (const char *p = text; ok && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 1 && (p[0] == '-' || p[0] == '+')) {
            char line[1024];
            snprintf(line, sizeof(line), "%.*s\n", (int)(len - 1), p + 1);
            zc_recs_t l = { 0 };
            ok = zc_parse(origin, line, &l) && l.n == 1;
            if (ok)
                ok = (p[0] == '-' ? zone_diff_remove(d, &l.r[0]) : zone_diff_add(d, &l.r[0])) == ZL_OK;
            zc_recs_free(&l);
        }
        p += len + (e != NULL);
    }
    dns_rr_t old = zc_soa(z), new = old;
    uint8_t rd[512];
    if (ok) {
        memcpy(rd, old.rdata, old.rdlen);
        size_t at = dns_name_len(rd);
        at += dns_name_len(rd + at);
        dns_put_u32(rd + at, zone_serial(z) + 1);
        new.rdata = rd;
        ok = zone_diff_set_soa(d, &old, &new) == ZL_OK && zone_diff_seal(d) == ZL_OK;
    }
    if (!ok) {
        zone_diff_free(d);
        return NULL;
    }
    return d;
}

/* ---- comparisons -------------------------------------------------------- */

static ZC_UNUSED void zc_print_name(const char *what, const uint8_t *name)
{
    char t[DNS_NAME_TEXT_MAX];
    if (!name || dns_name_to_text(name, t, sizeof(t)) < 0)
        strcpy(t, "(none)");
    fprintf(stderr, "# %s %s\n", what, t);
}

static ZC_UNUSED bool zc_same_rrset(const zone_rrset_t *a, const zone_rrset_t *b)
{
    if (a->type != b->type || a->ttl != b->ttl || a->count != b->count)
        return false;
    for (unsigned i = 0; i < a->count; i++) {
        uint16_t la, lb;
        const uint8_t *x = zone_rrset_rdata(a, i, &la), *y = zone_rrset_rdata(b, i, &lb);
        if (la != lb || memcmp(x, y, la))
            return false;
    }
    return true;
}

/* Same owner (case-insensitively) and same RRsets; both may be NULL. */
static ZC_UNUSED bool zc_same_node(const zone_node_t *a, const zone_node_t *b)
{
    if (!a || !b)
        return a == b;
    size_t na, nb;
    const zone_rrset_t *ra = zone_node_rrsets(a, &na), *rb = zone_node_rrsets(b, &nb);
    if (!dns_name_equal(zone_node_owner(a), zone_node_owner(b)) || na != nb ||
        zone_node_is_apex(a) != zone_node_is_apex(b) ||
        zone_node_is_occluded(a) != zone_node_is_occluded(b))
        return false;
    for (size_t i = 0; i < na; i++)
        if (!zc_same_rrset(&ra[i], &rb[i]))
            return false;
    return true;
}

/* zone_lookup and zone_find of name agree in a and b. */
static ZC_UNUSED bool zc_same_lookup(const zone_t *a, const zone_t *b, const uint8_t *name)
{
    zone_lookup_t x, y;
    int ra = zone_lookup(a, name, &x), rb = zone_lookup(b, name, &y);
    const char *what = NULL;
    if (ra != rb)
        what = "result";
    else if (!zc_same_node(x.node, y.node))
        what = "node";
    else if (!zc_same_node(x.encloser, y.encloser))
        what = "encloser";
    else if (!zc_same_node(x.wildcard, y.wildcard))
        what = "wildcard";
    else if (!zc_same_node(x.cut, y.cut))
        what = "cut";
    else if (!zc_same_node(x.dname, y.dname))
        what = "dname";
    else if (!zc_same_node(zone_find(a, name), zone_find(b, name)))
        what = "zone_find";
    if (!what)
        return true;
    zc_print_name("lookup differs for", name);
    fprintf(stderr, "#   in: %s\n", what);
    return false;
}

typedef struct zc_list {
    zc_recs_t l;
} zc_list_t;

static ZC_UNUSED int zc_walk_add(void *ctx, const dns_rr_t *r)
{
    return zc_recs_add(ctx, r);
}

/* Prepends label s to name into out; false when it does not fit. */
static ZC_UNUSED bool zc_child(const uint8_t *name, const char *s, uint8_t out[DNS_NAME_MAX])
{
    size_t l = strlen(s), n = dns_name_len(name);
    if (1 + l + n > DNS_NAME_MAX)
        return false;
    out[0] = (uint8_t)l;
    memcpy(out + 1, s, l);
    memcpy(out + 1 + l, name, n);
    return true;
}

/* Lookups of name and of names made from it (a new child, a grandchild,
 * a wildcard child) agree. */
static ZC_UNUSED bool zc_same_around(const zone_t *a, const zone_t *b, const uint8_t *name)
{
    uint8_t c[DNS_NAME_MAX], g[DNS_NAME_MAX], w[DNS_NAME_MAX];
    if (!zc_same_lookup(a, b, name))
        return false;
    if (zc_child(name, "zq", c) && !zc_same_lookup(a, b, c))
        return false;
    if (zc_child(name, "zq", c) && zc_child(c, "y", g) && !zc_same_lookup(a, b, g))
        return false;
    if (zc_child(name, "*", w) && !zc_same_lookup(a, b, w))
        return false;
    return true;
}

/* a and b hold the same records in the same order (zone_walk), the same
 * counts and serial, and every lookup of their names (and of names
 * around them) agrees. */
static ZC_UNUSED bool zc_same_zone(const zone_t *a, const zone_t *b)
{
    zc_recs_t x = { 0 }, y = { 0 };
    bool ok = zone_walk(a, zc_walk_add, &x) == ZL_OK && zone_walk(b, zc_walk_add, &y) == ZL_OK;
    if (ok && x.n != y.n) {
        fprintf(stderr, "# %zu records vs %zu\n", x.n, y.n);
        ok = false;
    }
    for (size_t i = 0; ok && i < x.n; i++) {
        const dns_rr_t *p = &x.r[i], *q = &y.r[i];
        if (dns_name_equal(p->owner, q->owner) && p->type == q->type && p->ttl == q->ttl &&
            p->rdlen == q->rdlen && !memcmp(p->rdata, q->rdata, p->rdlen))
            continue;
        char t[DNS_RDATA_TEXT_MAX + 2 * DNS_NAME_TEXT_MAX];
        zone_rec_to_text(p, t, sizeof(t));
        fprintf(stderr, "# record %zu differs:\n#  %s", i, t);
        zone_rec_to_text(q, t, sizeof(t));
        fprintf(stderr, "#  %s", t);
        ok = false;
    }
    if (ok && (zone_record_count(a) != zone_record_count(b) ||
               zone_node_count(a) != zone_node_count(b) || zone_serial(a) != zone_serial(b))) {
        fprintf(stderr, "# counts differ: records %zu/%zu nodes %zu/%zu serial %u/%u\n",
                zone_record_count(a), zone_record_count(b), zone_node_count(a),
                zone_node_count(b), zone_serial(a), zone_serial(b));
        ok = false;
    }
    if (ok && !zc_same_node(zone_apex(a), zone_apex(b))) {
        fprintf(stderr, "# apex differs\n");
        ok = false;
    }
    for (int k = 0; k < 2 && ok; k++) {
        const zc_recs_t *l = k ? &y : &x;
        for (size_t i = 0; i < l->n && ok; i++)
            if (i == 0 || !dns_name_equal(l->r[i].owner, l->r[i - 1].owner)) {
                ok = zc_same_around(a, b, l->r[i].owner);
                /* the ancestors too: empty non-terminals among them */
                for (const uint8_t *p = dns_name_parent(l->r[i].owner);
                     ok && p && dns_name_is_sub(p, zone_origin(a)); p = dns_name_parent(p))
                    ok = zc_same_lookup(a, b, p);
            }
    }
    zc_recs_free(&x);
    zc_recs_free(&y);
    return ok;
}

/* The records of z in zone_walk order (copies: the caller frees). */
static ZC_UNUSED void zc_records(const zone_t *z, zc_recs_t *out)
{
    memset(out, 0, sizeof(*out));
    if (zone_walk(z, zc_walk_add, out) != ZL_OK)
        abort();
}

/* The zone rebuilt from scratch from z's records. */
static ZC_UNUSED zone_t *zc_rebuild(const zone_t *z)
{
    zc_recs_t l;
    zone_t *r = NULL;
    zc_records(z, &l);
    zc_build_recs(zone_origin(z), l.r, l.n, &r, NULL);
    zc_recs_free(&l);
    return r;
}

#endif
