/* RFC 2136 §3 on one zone (update.h): prerequisites against the version,
 * the update section against a working copy of the names it touches,
 * then the diff between the two. */
#include "zone/update.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/serial.h"
#include "zone/zhash.h"

typedef struct up_rd {
    const uint8_t *p;
    uint16_t len;
} up_rd_t;

/* One RRset of the working copy, its RDATA in canonical order (RFC 4034
 * §6.3, as in the zone), so that finding a record is a binary search. */
typedef struct up_rrset {
    uint16_t type;
    uint32_t ttl;
    up_rd_t *rd;
    size_t n, cap;
} up_rrset_t;

/* One name of the working copy: the zone's node (or NULL) and the RRsets
 * the name has now. */
typedef struct up_name {
    const uint8_t *name;
    size_t len;
    uint64_t h;
    const zone_node_t *node;
    up_rrset_t *rs;
    size_t n, cap;
} up_name_t;

typedef struct up {
    const zone_t *z;
    const uint8_t *origin;
    up_name_t **slot;
    size_t cap, n;
    up_name_t **list;
    /* the SOA: the zone's, until an update replaces it */
    uint32_t soa_ttl;
    up_rd_t soa;
    bool soa_raised;
} up_t;

/* The serial of well-formed SOA RDATA. */
static uint32_t soa_serial(const uint8_t *rd)
{
    size_t at = dns_name_len(rd);
    at += dns_name_len(rd + at);
    return dns_get_u32(rd + at);
}

/* ---- the working copy --------------------------------------------------- */

static up_name_t *up_find(const up_t *u, const uint8_t *name, size_t len, uint64_t h)
{
    for (size_t i = h & (u->cap - 1); u->cap; i = (i + 1) & (u->cap - 1)) {
        up_name_t *w = u->slot[i];
        if (!w)
            return NULL;
        if (w->h == h && w->len == len && zh_equal(w->name, name, len))
            return w;
    }
    return NULL;
}

static int up_grow(up_t *u)
{
    size_t cap = u->cap ? 2 * u->cap : 32;
    up_name_t **s = calloc(cap, sizeof(*s)), **l = realloc(u->list, cap / 2 * sizeof(*l));
    if (!s || !l) {
        free(s);
        if (l)
            u->list = l;
        return ZL_ENOMEM;
    }
    u->list = l;
    for (size_t k = 0; k < u->n; k++) {
        size_t i = l[k]->h & (cap - 1);
        while (s[i])
            i = (i + 1) & (cap - 1);
        s[i] = l[k];
    }
    free(u->slot);
    u->slot = s;
    u->cap = cap;
    return ZL_OK;
}

static up_rrset_t *up_rrset(up_name_t *w, uint16_t type)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->rs[i].type == type)
            return &w->rs[i];
    return NULL;
}

static int up_rd_push(up_rrset_t *s, const uint8_t *p, uint16_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        up_rd_t *rd = realloc(s->rd, cap * sizeof(*rd));
        if (!rd)
            return ZL_ENOMEM;
        s->rd = rd;
        s->cap = cap;
    }
    s->rd[s->n++] = (up_rd_t){ p, len };
    return ZL_OK;
}

/* Whether s holds RDATA p (len octets); *pos gets where it is or would go. */
static bool up_rd_find(const up_rrset_t *s, const uint8_t *p, uint16_t len, size_t *pos)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = dns_rdata_cmp(s->type, s->rd[mid].p, s->rd[mid].len, p, len);
        if (c == 0) {
            *pos = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return false;
}

static int up_rd_insert(up_rrset_t *s, size_t pos, const uint8_t *p, uint16_t len)
{
    if (up_rd_push(s, p, len))
        return ZL_ENOMEM;
    memmove(&s->rd[pos + 1], &s->rd[pos], (s->n - 1 - pos) * sizeof(*s->rd));
    s->rd[pos] = (up_rd_t){ p, len };
    return ZL_OK;
}

static void up_rd_erase(up_rrset_t *s, size_t pos)
{
    memmove(&s->rd[pos], &s->rd[pos + 1], (s->n - pos - 1) * sizeof(*s->rd));
    s->n--;
}

static up_rrset_t *up_rrset_new(up_name_t *w, uint16_t type, uint32_t ttl)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 4;
        up_rrset_t *rs = realloc(w->rs, cap * sizeof(*rs));
        if (!rs)
            return NULL;
        w->rs = rs;
        w->cap = cap;
    }
    up_rrset_t *s = &w->rs[w->n++];
    *s = (up_rrset_t){ .type = type, .ttl = ttl };
    return s;
}

static void up_rrset_drop(up_name_t *w, up_rrset_t *s)
{
    free(s->rd);
    *s = w->rs[--w->n];
}

/* The working copy of name, loaded from the zone the first time. */
static up_name_t *up_name(up_t *u, const uint8_t *name)
{
    size_t len = dns_name_len(name);
    uint64_t h = zh_name(name);
    up_name_t *w = up_find(u, name, len, h);
    if (w)
        return w;
    if ((u->n + 1 > u->cap / 2 && up_grow(u)) || !(w = calloc(1, sizeof(*w))))
        return NULL;
    *w = (up_name_t){ .name = name, .len = len, .h = h, .node = zone_find(u->z, name) };
    size_t n = 0;
    const zone_rrset_t *rs = w->node ? zone_node_rrsets(w->node, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (rs[i].type == DNS_T_SOA)
            continue; /* kept apart, in u->soa */
        up_rrset_t *s = up_rrset_new(w, rs[i].type, rs[i].ttl);
        uint16_t l = 0;
        const uint8_t *p = zone_rrset_rdata(&rs[i], 0, &l);
        for (unsigned j = 0; s && j < rs[i].count; j++) {
            if (j)
                p = zone_rrset_rdata_next(p, l, &l);
            if (up_rd_push(s, p, l))
                s = NULL;
        }
        if (!s)
            goto fail;
    }
    size_t i = h & (u->cap - 1);
    while (u->slot[i])
        i = (i + 1) & (u->cap - 1);
    u->slot[i] = w;
    u->list[u->n++] = w;
    return w;
fail:
    for (size_t k = 0; k < w->n; k++)
        free(w->rs[k].rd);
    free(w->rs);
    free(w);
    return NULL;
}

static void up_free(up_t *u)
{
    for (size_t k = 0; k < u->n; k++) {
        up_name_t *w = u->list[k];
        for (size_t i = 0; i < w->n; i++)
            free(w->rs[i].rd);
        free(w->rs);
        free(w);
    }
    free(u->slot);
    free(u->list);
}

/* ---- prerequisites (§3.2) ---------------------------------------------- */

static bool zone_name_in_use(const zone_t *z, const uint8_t *name)
{
    size_t n = 0;
    const zone_node_t *node = zone_find(z, name);
    if (node)
        zone_node_rrsets(node, &n);
    return n > 0; /* §2.4.4: an RR must exist; an empty non-terminal does not count */
}

static const zone_rrset_t *zone_rrset_at(const zone_t *z, const uint8_t *name, uint16_t type)
{
    const zone_node_t *node = zone_find(z, name);
    return node ? zone_node_rrset(node, type) : NULL;
}

static int rr_order(const void *pa, const void *pb)
{
    const dns_rr_t *a = *(const dns_rr_t *const *)pa, *b = *(const dns_rr_t *const *)pb;
    int c = dns_name_cmp(a->owner, b->owner);
    if (!c)
        c = a->type < b->type ? -1 : a->type > b->type;
    if (!c)
        c = dns_rdata_cmp(a->type, a->rdata, a->rdlen, b->rdata, b->rdlen);
    return c;
}

/* §3.2.3: every "RRset exists (value dependent)" set t[0..n) equals its
 * zone RRset (no more, no fewer records). */
static int up_prereq_values(const zone_t *z, const dns_rr_t **t, size_t n, const char **why)
{
    qsort(t, n, sizeof(*t), rr_order);
    for (size_t i = 0, j; i < n; i = j) {
        const zone_rrset_t *rs = zone_rrset_at(z, t[i]->owner, t[i]->type);
        bool ok = rs != NULL;
        /* both in canonical order: walk them side by side */
        uint16_t l = 0;
        const uint8_t *q = rs ? zone_rrset_rdata(rs, 0, &l) : NULL;
        unsigned k = 0;
        for (j = i; j < n && dns_name_equal(t[j]->owner, t[i]->owner) && t[j]->type == t[i]->type;
             j++) {
            if (j > i && rr_order(&t[j - 1], &t[j]) == 0)
                continue; /* the same record twice: one member of the set */
            if (!ok || k == rs->count ||
                dns_rdata_cmp(rs->type, q, l, t[j]->rdata, t[j]->rdlen) != 0) {
                ok = false;
                continue;
            }
            if (++k < rs->count)
                q = zone_rrset_rdata_next(q, l, &l);
        }
        if (!ok || k != rs->count) {
            *why = "RFC 2136 §3.2.3: RRset exists (value dependent): not satisfied";
            return DNS_R_NXRRSET;
        }
    }
    return DNS_R_NOERROR;
}

static int up_prereqs(const zone_t *z, const dns_msg_t *m, const char **why)
{
    const uint8_t *origin = zone_origin(z);
    const dns_rr_t *pr = m->rr[DNS_SEC_AN];
    size_t n = m->nrr[DNS_SEC_AN], nt = 0;
    const dns_rr_t **t = malloc((n + 1) * sizeof(*t));
    if (!t) {
        *why = "out of memory";
        return DNS_R_SERVFAIL;
    }
    int rc = DNS_R_NOERROR;
    for (size_t i = 0; i < n && rc == DNS_R_NOERROR; i++) {
        const dns_rr_t *r = &pr[i];
        if (r->ttl != 0) {
            *why = "RFC 2136 §3.2.1: prerequisite TTL is not zero";
            rc = DNS_R_FORMERR;
        } else if (!dns_name_is_sub(r->owner, origin)) {
            *why = "RFC 2136 §3.2.1: prerequisite name is outside the zone";
            rc = DNS_R_NOTZONE;
        } else if (r->rclass == DNS_C_ANY || r->rclass == DNS_C_NONE) {
            bool any = r->rclass == DNS_C_ANY;
            bool there = r->type == DNS_T_ANY ? zone_name_in_use(z, r->owner)
                                              : zone_rrset_at(z, r->owner, r->type) != NULL;
            if (r->rdlen != 0) {
                *why = "RFC 2136 §3.2.1: class ANY or NONE prerequisite with RDATA";
                rc = DNS_R_FORMERR;
            } else if (any && !there) {
                *why = r->type == DNS_T_ANY ? "RFC 2136 §2.4.4: name is in use: not satisfied"
                       : "RFC 2136 §2.4.1: RRset exists (value independent): not satisfied";
                rc = r->type == DNS_T_ANY ? DNS_R_NXDOMAIN : DNS_R_NXRRSET;
            } else if (!any && there) {
                *why = r->type == DNS_T_ANY ? "RFC 2136 §2.4.5: name is not in use: not satisfied"
                       : "RFC 2136 §2.4.3: RRset does not exist: not satisfied";
                rc = r->type == DNS_T_ANY ? DNS_R_YXDOMAIN : DNS_R_YXRRSET;
            }
        } else if (r->rclass == m->qclass) {
            t[nt++] = r;
        } else {
            *why = "RFC 2136 §3.2.3: prerequisite class is not the zone's, ANY or NONE";
            rc = DNS_R_FORMERR;
        }
    }
    if (rc == DNS_R_NOERROR)
        rc = up_prereq_values(z, t, nt, why);
    free(t);
    return rc;
}

/* ---- prescan (§3.4.1) --------------------------------------------------- */

static int up_prescan(const zone_t *z, const dns_msg_t *m, const char **why)
{
    const uint8_t *origin = zone_origin(z);
    for (size_t i = 0; i < m->nrr[DNS_SEC_NS]; i++) {
        const dns_rr_t *r = &m->rr[DNS_SEC_NS][i];
        bool meta = dns_type_is_meta(r->type) || r->type == 0;
        if (!dns_name_is_sub(r->owner, origin)) {
            *why = "RFC 2136 §3.4.1.1: update name is outside the zone";
            return DNS_R_NOTZONE;
        }
        if (r->rclass == m->qclass) {
            if (meta) {
                *why = "RFC 2136 §3.4.1.2: meta type in an addition";
                return DNS_R_FORMERR;
            }
            if (r->ttl > 0x7fffffffu) {
                *why = "RFC 2181 §8: TTL above 2^31-1";
                return DNS_R_FORMERR;
            }
            if (dns_rdata_check(r->type, r->rdata, r->rdlen) != ZL_OK) {
                *why = "RFC 2136 §3.4.1.2: malformed RDATA in an addition";
                return DNS_R_FORMERR;
            }
        } else if (r->rclass == DNS_C_ANY) {
            if (r->ttl != 0 || r->rdlen != 0 || (meta && r->type != DNS_T_ANY)) {
                *why = "RFC 2136 §3.4.1.2: class ANY deletion with a TTL, RDATA or meta type";
                return DNS_R_FORMERR;
            }
        } else if (r->rclass == DNS_C_NONE) {
            if (r->ttl != 0 || meta) {
                *why = "RFC 2136 §3.4.1.2: class NONE deletion with a TTL or meta type";
                return DNS_R_FORMERR;
            }
        } else {
            *why = "RFC 2136 §3.4.1.2: update class is not the zone's, ANY or NONE";
            return DNS_R_FORMERR;
        }
    }
    return DNS_R_NOERROR;
}

/* ---- the update section (§3.4.2) ---------------------------------------- */

/* RFC 4035 §2.5: what may sit beside a CNAME. */
static bool up_cname_ok(uint16_t type)
{
    return type == DNS_T_CNAME || type == DNS_T_RRSIG || type == DNS_T_NSEC;
}

/* Whether added record r replaces existing RDATA e of its RRset
 * (§3.4.2.2: CNAME and SOA are singletons, and so is DNAME, RFC 6672
 * §2.4; a WKS of the same address and protocol, RFC 1035 §3.4.2). */
static bool up_replaces(const dns_rr_t *r, up_rd_t e)
{
    if (r->type == DNS_T_CNAME || r->type == DNS_T_DNAME)
        return true;
    return r->type == DNS_T_WKS && r->rdlen >= 5 && e.len >= 5 && !memcmp(r->rdata, e.p, 5);
}

static int up_add(up_t *u, const dns_rr_t *r)
{
    bool apex = dns_name_equal(r->owner, u->origin);
    if (r->type == DNS_T_SOA) {
        /* §3.4.2.2: only at the apex, and only a higher serial */
        if (!apex || dns_serial_cmp(soa_serial(r->rdata), soa_serial(u->soa.p)) != 1)
            return ZL_OK;
        u->soa = (up_rd_t){ r->rdata, r->rdlen };
        u->soa_ttl = r->ttl;
        u->soa_raised = true;
        return ZL_OK;
    }
    up_name_t *w = up_name(u, r->owner);
    if (!w)
        return ZL_ENOMEM;
    for (size_t i = 0; i < w->n; i++) {
        /* §3.4.2.2: a CNAME and other data do not mix: the update is ignored */
        if (r->type == DNS_T_CNAME && !up_cname_ok(w->rs[i].type) && w->rs[i].n)
            return ZL_OK;
        if (w->rs[i].type == DNS_T_CNAME && w->rs[i].n && !up_cname_ok(r->type))
            return ZL_OK;
    }
    up_rrset_t *s = up_rrset(w, r->type);
    if (!s && !(s = up_rrset_new(w, r->type, r->ttl)))
        return ZL_ENOMEM;
    size_t pos;
    bool dup = up_rd_find(s, r->rdata, r->rdlen, &pos);
    s->ttl = r->ttl; /* RFC 2181 §5.2: the RRset takes the new TTL (BIND, Knot) */
    if (dup)
        return ZL_OK;
    for (size_t i = 0; i < s->n;) {
        if (up_replaces(r, s->rd[i]))
            up_rd_erase(s, i);
        else
            i++;
    }
    up_rd_find(s, r->rdata, r->rdlen, &pos);
    return up_rd_insert(s, pos, r->rdata, r->rdlen);
}

static int up_delete(up_t *u, const dns_rr_t *r)
{
    bool apex = dns_name_equal(r->owner, u->origin);
    if (r->type == DNS_T_SOA)
        return ZL_OK; /* §3.4.2.3, §3.4.2.4: the SOA is never deleted */
    up_name_t *w = up_name(u, r->owner);
    if (!w)
        return ZL_ENOMEM;
    if (r->rclass == DNS_C_ANY) {
        /* §3.4.2.3: all RRsets of the name (at the apex: but SOA and NS),
         * or one RRset (at the apex: not NS) */
        for (size_t i = 0; i < w->n;) {
            uint16_t t = w->rs[i].type;
            if ((r->type == DNS_T_ANY || r->type == t) && !(apex && t == DNS_T_NS))
                up_rrset_drop(w, &w->rs[i]);
            else
                i++;
        }
        return ZL_OK;
    }
    /* §3.4.2.4: one record; the last NS at the apex stays */
    up_rrset_t *s = up_rrset(w, r->type);
    size_t pos;
    if (!s || (apex && r->type == DNS_T_NS && s->n == 1))
        return ZL_OK;
    if (up_rd_find(s, r->rdata, r->rdlen, &pos))
        up_rd_erase(s, pos);
    if (!s->n)
        up_rrset_drop(w, s);
    return ZL_OK;
}

/* ---- the diff ------------------------------------------------------------ */

/* The records of the old RRset o (may be NULL) and the new one s (may
 * be NULL) of one type into d: with one TTL, those of one and not the
 * other (both are in canonical order); else all of o removed and all of s
 * added. *changed is set when there are any. */
static int up_diff_rrset(zone_diff_t *d, const uint8_t *owner, const zone_rrset_t *o,
                         const up_rrset_t *s, bool *changed)
{
    bool same_ttl = o && s && o->ttl == s->ttl;
    dns_rr_t x = { .owner = owner, .rclass = DNS_C_IN };
    unsigned i = 0, on = o ? o->count : 0;
    size_t j = 0, sn = s ? s->n : 0;
    if (o) {
        x.type = o->type;
        x.ttl = o->ttl;
        x.rdata = zone_rrset_rdata(o, 0, &x.rdlen);
    }
    while (i < on || j < sn) {
        int c = i == on ? 1 : j == sn ? -1 : !same_ttl ? -1
              : dns_rdata_cmp(o->type, x.rdata, x.rdlen, s->rd[j].p, s->rd[j].len);
        int rc = ZL_OK;
        if (c < 0) {
            rc = zone_diff_remove(d, &x);
        } else if (c > 0) {
            dns_rr_t y = { .owner = owner, .type = s->type, .rclass = DNS_C_IN, .ttl = s->ttl,
                           .rdata = s->rd[j].p, .rdlen = s->rd[j].len };
            rc = zone_diff_add(d, &y);
        }
        if (rc)
            return rc;
        *changed |= c != 0;
        if (c <= 0 && ++i < on)
            x.rdata = zone_rrset_rdata_next(x.rdata, x.rdlen, &x.rdlen);
        if (c >= 0)
            j++;
    }
    return ZL_OK;
}

/* The changes of one name into d. */
static int up_diff_name(up_name_t *w, zone_diff_t *d, bool *changed)
{
    size_t n = 0;
    const zone_rrset_t *ors = w->node ? zone_node_rrsets(w->node, &n) : NULL;
    const uint8_t *owner = w->node ? zone_node_owner(w->node) : w->name;
    for (size_t i = 0; i < n; i++) {
        if (ors[i].type == DNS_T_SOA)
            continue; /* kept apart */
        int rc = up_diff_rrset(d, owner, &ors[i], up_rrset(w, ors[i].type), changed);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (w->node && zone_node_rrset(w->node, w->rs[i].type))
            continue; /* done above */
        int rc = up_diff_rrset(d, owner, NULL, &w->rs[i], changed);
        if (rc)
            return rc;
    }
    return ZL_OK;
}

static int up_diff(up_t *u, zone_diff_t **out)
{
    zone_diff_t *d = zone_diff_new(u->origin);
    if (!d)
        return ZL_ENOMEM;
    bool changed = false;
    int rc = ZL_OK;
    for (size_t k = 0; k < u->n && !rc; k++)
        rc = up_diff_name(u->list[k], d, &changed);
    const zone_rrset_t *zs = zone_soa(u->z);
    dns_rr_t old = { .owner = u->origin, .type = DNS_T_SOA, .rclass = DNS_C_IN, .ttl = zs->ttl };
    old.rdata = zone_rrset_rdata(zs, 0, &old.rdlen);
    dns_rr_t new = old;
    uint8_t rd[DNS_NAME_MAX * 2 + 20];
    if (u->soa_raised) {
        new.rdata = u->soa.p;
        new.rdlen = u->soa.len;
        new.ttl = u->soa_ttl;
    } else if (changed && old.rdlen <= sizeof(rd)) {
        /* §3.6 and RFC 1982: the serial goes up by one */
        memcpy(rd, old.rdata, old.rdlen);
        size_t at = dns_name_len(rd);
        at += dns_name_len(rd + at);
        dns_put_u32(rd + at, dns_serial_add(dns_get_u32(rd + at), 1));
        new.rdata = rd;
    }
    if (!rc && (changed || u->soa_raised))
        rc = zone_diff_set_soa(d, &old, &new);
    if (!rc && (changed || u->soa_raised))
        rc = zone_diff_seal(d);
    if (rc || !(changed || u->soa_raised)) {
        zone_diff_free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

int zone_update(const zone_t *z, const dns_msg_t *m, zone_diff_t **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    int rc = up_prereqs(z, m, why);
    if (rc == DNS_R_NOERROR)
        rc = up_prescan(z, m, why);
    if (rc != DNS_R_NOERROR)
        return rc;
    up_t u = { .z = z, .origin = zone_origin(z) };
    const zone_rrset_t *zs = zone_soa(z);
    u.soa_ttl = zs->ttl;
    u.soa.p = zone_rrset_rdata(zs, 0, &u.soa.len);
    int err = ZL_OK;
    for (size_t i = 0; i < m->nrr[DNS_SEC_NS] && !err; i++) {
        const dns_rr_t *r = &m->rr[DNS_SEC_NS][i];
        err = r->rclass == m->qclass ? up_add(&u, r) : up_delete(&u, r);
    }
    if (!err)
        err = up_diff(&u, out);
    up_free(&u);
    if (err) {
        *why = "out of memory";
        return DNS_R_SERVFAIL;
    }
    return DNS_R_NOERROR;
}
