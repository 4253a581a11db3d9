/* libFuzzer harness: the zone builder and the lookups (zone/zbuild.c,
 * zone/zone.c). The input is appended to a valid zone head and parsed;
 * whatever records come out go through zone_builder_finish. A zone that
 * is accepted must then keep these invariants:
 *  - zone_walk: SOA first, then strictly increasing canonical order
 *    (name, type, RDATA), as many records as zone_record_count;
 *  - every walked record is found again through zone_find/zone_node_rrset;
 *  - zone_lookup of every owner, and of names made from it (a child, a
 *    grandchild), agrees with the tree: the encloser is the deepest
 *    existing ancestor, the wildcard is `*.<encloser>`, the cut and the
 *    DNAME are ancestors holding NS / DNAME. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/parse.h"
#include "zone/zone.h"

static const uint8_t origin[] = "\7example\4test";
static const char head[] = "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int add(void *ctx, const dns_rr_t *rec)
{
    return zone_builder_add(ctx, rec, NULL);
}

typedef struct walk {
    const zone_t *z;
    size_t n;
    dns_rr_t prev;
    uint8_t prev_owner[DNS_NAME_MAX];
} walk_t;

static int walk_fn(void *ctx, const dns_rr_t *r)
{
    walk_t *w = ctx;
    if (w->n == 0)
        CHECK(r->type == DNS_T_SOA && dns_name_equal(r->owner, zone_origin(w->z)));
    else if (w->n > 1) {
        int c = dns_name_cmp(w->prev_owner, r->owner);
        if (!c)
            c = w->prev.type < r->type ? -1 : w->prev.type > r->type;
        if (!c)
            c = dns_rdata_cmp(r->type, w->prev.rdata, w->prev.rdlen, r->rdata, r->rdlen);
        CHECK(c < 0);
    }
    const zone_node_t *n = zone_find(w->z, r->owner);
    CHECK(n && dns_name_equal(zone_node_owner(n), r->owner));
    const zone_rrset_t *rs = zone_node_rrset(n, r->type);
    CHECK(rs && rs->ttl == r->ttl);
    bool found = false;
    for (unsigned i = 0; i < rs->count && !found; i++) {
        uint16_t len;
        const uint8_t *rd = zone_rrset_rdata(rs, i, &len);
        found = rd == r->rdata && len == r->rdlen;
    }
    CHECK(found);
    w->prev = *r;
    dns_name_copy(w->prev_owner, r->owner);
    w->n++;
    return 0;
}

/* zone_lookup(name) against the definitions. */
static void check_lookup(const zone_t *z, const uint8_t *name)
{
    zone_lookup_t l;
    if (zone_lookup(z, name, &l) != ZL_OK) {
        CHECK(!dns_name_is_sub(name, zone_origin(z)));
        return;
    }
    CHECK(l.encloser && dns_name_is_sub(name, zone_node_owner(l.encloser)));
    CHECK(!l.node || (l.node == l.encloser && dns_name_equal(zone_node_owner(l.node), name)));
    /* nothing exists between the encloser and the name */
    unsigned el = dns_name_labels(zone_node_owner(l.encloser));
    for (const uint8_t *p = name; dns_name_labels(p) > el; p = dns_name_parent(p))
        CHECK(!zone_find(z, p) || (l.node && p == name));
    if (l.wildcard) {
        const uint8_t *w = zone_node_owner(l.wildcard);
        CHECK(!l.node && w[0] == 1 && w[1] == '*' &&
              dns_name_equal(w + 2, zone_node_owner(l.encloser)));
    }
    if (l.cut)
        CHECK(!zone_node_is_apex(l.cut) && zone_node_rrset(l.cut, DNS_T_NS) &&
              dns_name_is_sub(name, zone_node_owner(l.cut)));
    if (l.dname)
        CHECK(zone_node_rrset(l.dname, DNS_T_DNAME) &&
              dns_name_is_sub(name, zone_node_owner(l.dname)) &&
              !dns_name_equal(name, zone_node_owner(l.dname)));
}

/* Prepends label s to name into out, if it fits. */
static bool child(const uint8_t *name, const char *s, uint8_t out[DNS_NAME_MAX])
{
    size_t l = strlen(s), n = dns_name_len(name);
    if (1 + l + n > DNS_NAME_MAX)
        return false;
    out[0] = (uint8_t)l;
    memcpy(out + 1, s, l);
    memcpy(out + 1 + l, name, n);
    return true;
}

static int lookup_fn(void *ctx, const dns_rr_t *r)
{
    const zone_t *z = ctx;
    uint8_t c[DNS_NAME_MAX], g[DNS_NAME_MAX];
    check_lookup(z, r->owner);
    if (child(r->owner, "Zq", c)) {
        check_lookup(z, c);
        if (child(c, "y", g))
            check_lookup(z, g);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(sizeof(head) + size);
    if (!text)
        return 0;
    memcpy(text, head, sizeof(head) - 1);
    memcpy(text + sizeof(head) - 1, data, size);
    zone_builder_t *b = zone_builder_new(origin);
    zone_parse_opts_t o = { .origin = origin, .max_include = 1 };
    (void)zone_parse_text(text, sizeof(head) - 1 + size, "fuzz", &o, add, b, NULL);
    free(text);
    zone_t *z = NULL;
    if (zone_builder_finish(b, &z, NULL) != ZL_OK)
        return 0;
    walk_t w = { .z = z };
    CHECK(zone_walk(z, walk_fn, &w) == ZL_OK && w.n == zone_record_count(z));
    zone_walk(z, lookup_fn, z);
    zone_free(z);
    return 0;
}
