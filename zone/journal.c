/* The IXFR history: an immutable array of diff references, and the
 * condensation of a run of diffs into one (RFC 1995 §5). */
#include "zone/journal.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/ovmap.h"
#include "zone/zone_int.h"

struct zone_journal {
    atomic_uint refs;
    size_t n, bytes;
    zone_diff_t *d[]; /* oldest first, one reference each */
};

zone_journal_t *zone_journal_ref(zone_journal_t *j)
{
    if (j)
        atomic_fetch_add_explicit(&j->refs, 1, memory_order_relaxed);
    return j;
}

void zone_journal_unref(zone_journal_t *j)
{
    if (!j || atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < j->n; i++)
        zone_diff_free(j->d[i]);
    free(j);
}

size_t zone_journal_count(const zone_journal_t *j) { return j ? j->n : 0; }
size_t zone_journal_bytes(const zone_journal_t *j) { return j ? j->bytes : 0; }
const zone_diff_t *zone_journal_at(const zone_journal_t *j, size_t i) { return j->d[i]; }

int zone_journal_append(const zone_journal_t *old, zone_diff_t *d, size_t max_versions,
                        size_t max_bytes, zone_journal_t **out)
{
    *out = NULL;
    size_t on = old ? old->n : 0;
    if (!zone_diff_old_soa(d) || (on && zone_diff_to(old->d[on - 1]) != zone_diff_from(d)))
        return ZL_EINVAL;
    size_t keep = 0, bytes = zone_diff_memory(d);
    bool with_d = max_versions > 0 && bytes <= max_bytes;
    if (!with_d)
        bytes = 0;
    else
        while (keep < on && keep + 1 < max_versions &&
               bytes + zone_diff_memory(old->d[on - 1 - keep]) <= max_bytes)
            bytes += zone_diff_memory(old->d[on - 1 - keep++]);
    zone_journal_t *j = malloc(sizeof(*j) + (keep + 1) * sizeof(j->d[0]));
    if (!j)
        return ZL_ENOMEM;
    atomic_init(&j->refs, 1);
    j->n = 0;
    j->bytes = bytes;
    if (with_d) {
        for (size_t i = on - keep; i < on; i++)
            j->d[j->n++] = zone_diff_ref(old->d[i]);
        j->d[j->n++] = zone_diff_ref(d);
    }
    *out = j;
    return ZL_OK;
}

/* One record of a run of diffs: which diff, and removed or added. */
typedef struct jr_ent {
    const dns_rr_t *r;
    uint32_t seq; /* diff index * 2 + (1 if added) */
} jr_ent_t;

static int jr_cmp(const void *pa, const void *pb)
{
    const jr_ent_t *a = pa, *b = pb;
    int c = dns_name_cmp(a->r->owner, b->r->owner);
    if (!c)
        c = a->r->type < b->r->type ? -1 : a->r->type > b->r->type;
    if (!c)
        c = dns_rdata_cmp(a->r->type, a->r->rdata, a->r->rdlen, b->r->rdata, b->r->rdlen);
    if (!c)
        c = a->r->ttl < b->r->ttl ? -1 : a->r->ttl > b->r->ttl;
    if (!c)
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return c;
}

/* RFC 1995 §5: a record that a run of diffs removes first was in the old
 * version, one it adds last is in the newest: it is removed when the
 * first is a removal and the last is not an addition, added in the
 * opposite case, and otherwise unchanged (added then removed, or removed
 * then added back). */
static int jr_condense(const zone_journal_t *j, size_t first, zone_diff_t *out)
{
    size_t n = 0;
    for (size_t i = first; i < j->n; i++) {
        size_t a, b;
        zone_diff_removed(j->d[i], &a);
        zone_diff_added(j->d[i], &b);
        n += a + b;
    }
    jr_ent_t *v = malloc((n + 1) * sizeof(*v));
    if (!v)
        return ZL_ENOMEM;
    size_t k = 0;
    for (size_t i = first; i < j->n; i++) {
        for (int add = 0; add < 2; add++) {
            size_t m;
            const dns_rr_t *r = add ? zone_diff_added(j->d[i], &m) : zone_diff_removed(j->d[i], &m);
            for (size_t x = 0; x < m; x++)
                v[k++] = (jr_ent_t){ &r[x], (uint32_t)(i * 2 + (size_t)add) };
        }
    }
    qsort(v, n, sizeof(*v), jr_cmp);
    int rc = ZL_OK;
    for (size_t i = 0, e; i < n && !rc; i = e) {
        jr_ent_t key = v[i];
        for (e = i + 1; e < n; e++) {
            key.seq = v[e].seq;
            if (jr_cmp(&key, &v[e]) != 0)
                break;
        }
        bool was = !(v[i].seq & 1), is = v[e - 1].seq & 1;
        if (was && !is)
            rc = zone_diff_remove(out, v[i].r);
        else if (!was && is)
            rc = zone_diff_add(out, v[i].r);
    }
    free(v);
    return rc;
}

int zone_journal_since(const zone_journal_t *j, uint32_t from, zone_diff_t **out)
{
    *out = NULL;
    if (!j || !j->n)
        return ZL_ENOTFOUND;
    const zone_diff_t *last = j->d[j->n - 1];
    size_t at = j->n, hits = 0;
    for (size_t i = 0; i < j->n; i++)
        if (zone_diff_from(j->d[i]) == from) {
            at = i;
            hits++;
        }
    bool current = zone_diff_to(last) == from;
    if (hits + current != 1)
        return ZL_ENOTFOUND;
    zone_diff_t *d = zone_diff_new(zone_diff_origin(last));
    if (!d)
        return ZL_ENOMEM;
    const dns_rr_t *old_soa = current ? zone_diff_new_soa(last) : zone_diff_old_soa(j->d[at]);
    int rc = zone_diff_set_soa(d, old_soa, zone_diff_new_soa(last));
    if (!rc && !current)
        rc = jr_condense(j, at, d);
    if (!rc)
        rc = zone_diff_seal(d);
    if (rc) {
        zone_diff_free(d);
        return rc == ZL_EINVAL ? ZL_ENOMEM : rc;
    }
    *out = d;
    return ZL_OK;
}

const zone_journal_t *zone_journal(const zone_t *z) { return z->journal; }

int zone_with_journal(const zone_t *z, zone_journal_t *j, zone_t **out)
{
    zone_t *c = zv_copy(z);
    *out = NULL;
    if (!c)
        return ZL_ENOMEM;
    c->journal = zone_journal_ref(j);
    *out = c;
    return ZL_OK;
}
