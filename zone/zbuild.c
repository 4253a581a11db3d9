/* The zone builder: collects records, sorts them into a tree and lays out
 * the immutable zone (zone_int.h); the content rules are in zcheck.c,
 * where each node sits (delegations, DNAMEs, glue) in zcut.c.
 *
 * zone_builder_add only appends to flat arrays. zone_builder_finish:
 *  1. gives every owner a sort key whose memcmp order is the canonical
 *     name order, and radix-sorts the owners by it (ties by comparison);
 *  2. walks them in that order, merging spellings of one name into one
 *     node and adding the missing ancestors (empty non-terminals): in a
 *     pre-order walk an ancestor that exists is still on the path stack;
 *  3. radix-sorts the records by (node, type), then each RRset by
 *     canonical RDATA, and makes two passes: one deduplicates, checks
 *     and sizes every node, one writes the nodes into one allocation;
 *  4. builds the hash index.
 * No hash table and no comparison sort over the whole zone: that is what
 * keeps a 1M-record load well under a second.
 */
#include "zone/zone.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dns/err.h"
#include "zone/zbuild_int.h"
#include "zone/zhash.h"
#include "zone/zone_int.h"

/* Makes room for need elements of size sz in *p (capacity *cap). */
static int zb_grow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return ZL_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*(void **)p, n * sz);
    if (!q)
        return ZL_ENOMEM;
    *(void **)p = q;
    *cap = n;
    return ZL_OK;
}

static int zb_names_append(zone_builder_t *b, const uint8_t *name, size_t len, uint32_t *off)
{
    if (b->names_len + len > UINT32_MAX ||
        zb_grow(&b->names, &b->names_cap, b->names_len + len, 1))
        return ZL_ENOMEM;
    *off = (uint32_t)b->names_len;
    memcpy(b->names + b->names_len, name, len);
    b->names_len += len;
    return ZL_OK;
}

/* The owner run for name: the last one if it is spelt the same. */
static int zb_owner_get(zone_builder_t *b, const uint8_t *name, uint32_t *idx)
{
    size_t len = dns_name_len(name);
    if (b->nowners) {
        const zb_owner_t *o = &b->owners[b->nowners - 1];
        if (o->len == len && memcmp(b->names + o->name, name, len) == 0) {
            *idx = (uint32_t)b->nowners - 1;
            return ZL_OK;
        }
    }
    uint32_t off;
    if (b->nowners >= UINT32_MAX - 1 || zb_names_append(b, name, len, &off) ||
        zb_grow(&b->owners, &b->owners_cap, b->nowners + 1, sizeof(zb_owner_t)))
        return ZL_ENOMEM;
    *idx = (uint32_t)b->nowners++;
    b->owners[*idx] = (zb_owner_t){ .name = off, .len = (uint8_t)len };
    return ZL_OK;
}

static int zb_file_get(zone_builder_t *b, const char *file, uint16_t *idx)
{
    *idx = ZB_NOFILE;
    if (!file)
        return ZL_OK;
    if (b->nfiles && b->files[b->last_file] == file) {
        *idx = b->last_file;
        return ZL_OK;
    }
    size_t i = 0;
    while (i < b->nfiles && b->files[i] != file)
        i++;
    if (i == b->nfiles) {
        if (i >= ZB_NOFILE)
            return ZL_OK; /* more files than any zone has: lose the name only */
        if (zb_grow(&b->files, &b->files_cap, i + 1, sizeof(*b->files)))
            return ZL_ENOMEM;
        b->files[b->nfiles++] = file;
    }
    *idx = b->last_file = (uint16_t)i;
    return ZL_OK;
}

zone_builder_t *zone_builder_new(const uint8_t *origin)
{
    zone_builder_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->origin_len = (uint8_t)dns_name_copy(b->origin, origin);
    b->origin_labels = dns_name_labels(origin);
    return b;
}

int zone_builder_add(zone_builder_t *b, const dns_rr_t *rec, const zone_report_t *rep)
{
    (void)rep; /* every content problem is found and reported by finish */
    zb_rec_t r = { .ttl = rec->ttl, .line = rec->line, .type = rec->type,
                   .rclass = rec->rclass, .rdlen = rec->rdlen };
    if (zb_owner_get(b, rec->owner, &r.owner) || zb_file_get(b, rec->file, &r.file))
        return ZL_ENOMEM;
    if (b->rdata_len + rec->rdlen > UINT32_MAX || b->nrecs >= UINT32_MAX - 1 ||
        zb_grow(&b->rdata, &b->rdata_cap, b->rdata_len + rec->rdlen, 1) ||
        zb_grow(&b->recs, &b->recs_cap, b->nrecs + 1, sizeof(zb_rec_t)))
        return ZL_ENOMEM;
    r.rd = (uint32_t)b->rdata_len;
    if (rec->rdlen)
        memcpy(b->rdata + b->rdata_len, rec->rdata, rec->rdlen);
    b->rdata_len += rec->rdlen;
    b->recs[b->nrecs++] = r;
    return ZL_OK;
}

static void zb_free(zone_builder_t *b)
{
    free(b->names);
    free(b->rdata);
    free(b->recs);
    free(b->owners);
    free((void *)b->files);
    free(b->nodes);
    free(b->s);
    free(b->zr);
    free(b->targets);
    free(b);
}

/* ---- sorting ---------------------------------------------------------- */

/* Stable LSD radix sort of a[0..n) by key, 8 bits a pass; a pass in which
 * every key has the same digit is skipped. tmp has room for n. Returns
 * the array that holds the result (a or tmp). */
static zb_kv_t *zb_radix(zb_kv_t *a, zb_kv_t *tmp, size_t n)
{
    if (!n)
        return a;
    size_t (*cnt)[256] = calloc(8, sizeof(*cnt));
    if (!cnt)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 8; d++)
            cnt[d][(a[i].key >> (8 * d)) & 255]++;
    for (int d = 0; d < 8; d++) {
        if (cnt[d][(a[0].key >> (8 * d)) & 255] == n)
            continue;
        size_t pos = 0;
        for (int v = 0; v < 256; v++) {
            size_t c = cnt[d][v];
            cnt[d][v] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[d][(a[i].key >> (8 * d)) & 255]++] = a[i];
        zb_kv_t *t = a;
        a = tmp;
        tmp = t;
    }
    free(cnt);
    return a;
}

/* Sorts runs of equal keys in a[0..n) with cmp (whose last resort must be
 * the payload a, to stay stable). */
static void zb_sort_runs(zb_kv_t *a, size_t n, int (*cmp)(const void *, const void *, void *),
                         void *ctx)
{
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && a[j].key == a[i].key;)
            j++;
        if (j - i > 1)
            qsort_r(a + i, j - i, sizeof(*a), cmp, ctx);
    }
}

int zb_sort(zb_kv_t **v, size_t n, int (*cmp)(const void *, const void *, void *), void *ctx)
{
    zb_kv_t *tmp = malloc(n * sizeof(*tmp) + 1), *r;
    if (!tmp || !(r = zb_radix(*v, tmp, n))) {
        free(tmp);
        return ZL_ENOMEM;
    }
    if (r == tmp) {
        free(*v);
        *v = r;
    } else {
        free(tmp);
    }
    zb_sort_runs(*v, n, cmp, ctx);
    return ZL_OK;
}

/* ---- the tree --------------------------------------------------------- */

/* A key whose memcmp order is the canonical order of names below the
 * origin (RFC 4034 §6.1): labels from the apex down, lower-cased, each
 * ended by 0; octets 0 and 1 inside labels escaped as 1 1 and 1 2 so the
 * terminator sorts before any label octet. k[0..2) holds the length. */
static size_t zb_key(const zone_builder_t *b, const uint8_t *name, uint8_t *k)
{
    uint8_t off[128];
    unsigned n = zh_offsets(name, off) - b->origin_labels;
    size_t len = 2;
    while (n-- > 0) {
        const uint8_t *l = name + off[n];
        for (unsigned i = 1; i <= l[0]; i++) {
            uint8_t c = zh_lower(l[i]);
            if (c <= 1)
                k[len++] = 1;
            k[len++] = c <= 1 ? (uint8_t)(c + 1) : c;
        }
        k[len++] = 0;
    }
    k[0] = (uint8_t)(len - 2);
    k[1] = (uint8_t)((len - 2) >> 8);
    return len;
}

static size_t zb_klen(const uint8_t *k) { return k[0] | (size_t)k[1] << 8; }

static int zb_key_cmp(const void *pa, const void *pb, void *ctx)
{
    const zb_kv_t *x = pa, *y = pb;
    const uint8_t *kx = (const uint8_t *)ctx + x->b, *ky = (const uint8_t *)ctx + y->b;
    size_t lx = zb_klen(kx), ly = zb_klen(ky), m = lx < ly ? lx : ly;
    int r = memcmp(kx + 2, ky + 2, m);
    if (r || lx != ly)
        return r ? r : lx < ly ? -1 : 1;
    return x->a < y->a ? -1 : x->a > y->a; /* the first spelling first */
}

/* Marks the owners outside the zone and at its apex, then reports the
 * records that cannot go into the zone; owners left without a record make
 * no node. */
static void zb_screen(zone_builder_t *b, const zone_report_t *rep)
{
    for (size_t i = 0; i < b->nowners; i++) {
        zb_owner_t *o = &b->owners[i];
        const uint8_t *name = b->names + o->name;
        o->out = o->len < b->origin_len || !dns_name_is_sub(name, b->origin);
        o->apex = o->len == b->origin_len && dns_name_equal(name, b->origin);
    }
    for (size_t i = 0; i < b->nrecs; i++)
        if (zb_check_rec(b, &b->recs[i], rep, true))
            b->owners[b->recs[i].owner].used = 1;
}

/* Sorts the owners that make nodes by key: *v gets (key prefix, owner,
 * key offset), *keys the keys. The origin is added as one more owner so
 * that the apex always exists. */
static int zb_sort_owners(zone_builder_t *b, zb_kv_t **v, size_t *n, uint8_t **keys)
{
    uint32_t apex;
    size_t klen = 0, kcap = 0, m = 0;
    if (zb_owner_get(b, b->origin, &apex) ||
        !(*v = malloc(b->nowners * sizeof(**v))))
        return ZL_ENOMEM;
    b->owners[apex].apex = b->owners[apex].used = 1;
    for (size_t i = 0; i < b->nowners; i++) {
        zb_owner_t *o = &b->owners[i];
        const uint8_t *name = b->names + o->name;
        if (o->out || !o->used)
            continue;
        if (zb_grow(keys, &kcap, klen + 2 * DNS_NAME_MAX + 2, 1))
            return ZL_ENOMEM;
        size_t kl = zb_key(b, name, *keys + klen);
        uint64_t pre = 0;
        for (size_t j = 0; j < 8; j++)
            pre = pre << 8 | (j + 2 < kl ? (*keys)[klen + 2 + j] : 0);
        (*v)[m++] = (zb_kv_t){ .key = pre, .a = (uint32_t)i, .b = (uint32_t)klen };
        klen += kl;
    }
    *n = m;
    return zb_sort(v, m, zb_key_cmp, *keys);
}

static int zb_node_push(zone_builder_t *b, uint32_t name, size_t len, uint32_t parent)
{
    if (b->nnodes >= UINT32_MAX - 1 ||
        zb_grow(&b->nodes, &b->nodes_cap, b->nnodes + 1, sizeof(zb_node_t)))
        return ZL_ENOMEM;
    b->nodes[b->nnodes++] = (zb_node_t){ .name = name, .len = (uint8_t)len, .parent = parent };
    if (b->nnodes > 1)
        b->nodes[parent].nchild++;
    return ZL_OK;
}

/* Adds the node for owner o (name, depth d below the apex) after the
 * missing ancestors between it and the deepest existing one. stack[j] is
 * the rank of the last node at depth j, *top the depth of the last node. */
static int zb_tree_add(zone_builder_t *b, const zb_owner_t *o, uint32_t *stack, unsigned *top)
{
    const uint8_t *name = b->names + o->name;
    uint8_t off[128];
    unsigned n = zh_offsets(name, off), d = n - b->origin_labels, j = d - 1;
    /* the ancestor at depth j is name + off[d - j] */
    for (; j > 0; j--) {
        const zb_node_t *s = j <= *top ? &b->nodes[stack[j]] : NULL;
        if (s && s->len == o->len - off[d - j] &&
            zh_equal(b->names + s->name, name + off[d - j], s->len))
            break;
    }
    for (j++; j <= d; j++) {
        if (zb_node_push(b, o->name + off[d - j], o->len - off[d - j], stack[j - 1]))
            return ZL_ENOMEM;
        stack[j] = (uint32_t)b->nnodes - 1;
    }
    *top = d;
    return ZL_OK;
}

/* Turns the sorted owners v[0..n) into nodes (rank order) and gives every
 * owner run its node's rank in rank[]. */
static int zb_tree(zone_builder_t *b, const zb_kv_t *v, size_t n, const uint8_t *keys,
                   uint32_t *rank)
{
    uint32_t stack[128];
    unsigned top = 0;
    if (!n || zb_klen(keys + v[0].b) != 0)
        return ZL_EINVAL; /* cannot happen: the origin is always an owner */
    for (size_t i = 0; i < n; i++) {
        const zb_owner_t *o = &b->owners[v[i].a];
        const uint8_t *k = keys + v[i].b, *pk = i ? keys + v[i - 1].b : NULL;
        if (pk && zb_klen(k) == zb_klen(pk) && memcmp(k + 2, pk + 2, zb_klen(k)) == 0) {
            rank[v[i].a] = (uint32_t)b->nnodes - 1; /* another spelling of the same name */
            continue;
        }
        int rc = i ? zb_tree_add(b, o, stack, &top) : zb_node_push(b, o->name, o->len, 0);
        if (rc)
            return rc;
        stack[top] = (uint32_t)b->nnodes - 1;
        rank[v[i].a] = (uint32_t)b->nnodes - 1;
    }
    return ZL_OK;
}

/* ---- records ---------------------------------------------------------- */

static int zb_rdata_cmp(const void *pa, const void *pb, void *ctx)
{
    const zb_kv_t *x = pa, *y = pb;
    const zone_builder_t *b = ctx;
    const zb_rec_t *r = &b->recs[x->a], *s = &b->recs[y->a];
    int c = dns_rdata_cmp(r->type, b->rdata + r->rd, r->rdlen, b->rdata + s->rd, s->rdlen);
    return c ? c : x->a < y->a ? -1 : x->a > y->a;
}

/* Drops (and reports) records that cannot be in this zone and sorts the
 * others by (rank, type, canonical RDATA, arrival) into b->s. */
static int zb_sort_recs(zone_builder_t *b, const uint32_t *rank, const zone_report_t *rep)
{
    if (!(b->s = malloc(b->nrecs * sizeof(*b->s) + 1)))
        return ZL_ENOMEM;
    for (size_t i = 0; i < b->nrecs; i++) {
        const zb_rec_t *r = &b->recs[i];
        if (zb_check_rec(b, r, rep, false))
            b->s[b->ns++] = (zb_kv_t){ .key = (uint64_t)rank[r->owner] << 16 | r->type,
                                       .a = (uint32_t)i };
    }
    return zb_sort(&b->s, b->ns, zb_rdata_cmp, b);
}

/* ---- layout ----------------------------------------------------------- */

/* Deduplicates, checks and sizes the node of this rank, whose records
 * are b->s[si..sj). */
static int zb_node_pass1(zone_builder_t *b, uint32_t rank, size_t si, size_t sj,
                         const zone_report_t *rep)
{
    zb_node_t *nd = &b->nodes[rank], *par = rank ? &b->nodes[nd->parent] : NULL;
    bool addr = false;
    for (size_t i = si, j; i < sj; i = j) {
        for (j = i + 1; j < sj && b->s[j].key == b->s[i].key;)
            j++;
        zb_rrset_dedupe(b, b->s + i, j - i, rep);
        addr |= (uint16_t)b->s[i].key == DNS_T_A || (uint16_t)b->s[i].key == DNS_T_AAAA;
    }
    zb_where_t w;
    if (zb_where(b, rank, addr, &w))
        return ZL_ENOMEM;
    zb_check_node(b, &w, b->s + si, sj - si, rep);
    uint32_t bytes = 0;
    unsigned nrr = 0;
    for (size_t i = si, j; i < sj; i = j) {
        unsigned kept = 0;
        for (j = i; j < sj && b->s[j].key == b->s[i].key; j++)
            if (!b->s[j].b) {
                kept++;
                bytes += 2u + b->recs[b->s[j].a].rdlen;
            }
        if (kept > UINT16_MAX)
            zb_report(b, rep, &b->recs[b->s[i].a], ZONE_ERROR,
                      "more than 65535 records in one RRset");
        b->nrecords += kept;
        nrr += kept > 0;
    }
    const uint8_t *name = w.name;
    nd->nrrsets = (uint16_t)nrr;
    nd->flags |= w.apex ? ZN_APEX : 0;
    /* RFC 1034 §4.2.1: below a cut (or a DNAME) only glue is served */
    if ((w.above || w.cut) && !w.glue)
        nd->flags |= ZN_OCCLUDED;
    if (par && name[0] == 1 && name[1] == '*')
        par->flags |= ZN_WILDCHILD;
    nd->off = (uint32_t)b->size;
    b->size += zn_align4(zn_head_size(nd->len, nrr) + bytes);
    return b->size > UINT32_MAX || nrr > UINT16_MAX ? ZL_ENOMEM : ZL_OK;
}

static int zb_pass1(zone_builder_t *b, const zone_report_t *rep)
{
    size_t si = 0;
    b->size = ZONE_BASE_START;
    for (uint32_t rank = 0; rank < b->nnodes; rank++) {
        size_t sj = si;
        while (sj < b->ns && b->s[sj].key >> 16 == rank)
            sj++;
        int rc = zb_node_pass1(b, rank, si, sj, rep);
        if (rc)
            return rc;
        si = sj;
    }
    return ZL_OK;
}

/* Writes one RRset s[0..n) at rs, its RDATA at *p. */
static void zb_rrset_write(const zone_builder_t *b, const zb_kv_t *s, size_t n,
                           zone_rrset_t *rs, uint8_t **p)
{
    uint32_t first = s[0].a;
    for (size_t i = 1; i < n; i++)
        if (s[i].a < first)
            first = s[i].a;
    rs->type = (uint16_t)s[0].key;
    rs->ttl = b->recs[first].ttl;
    rs->count = 0;
    rs->rdoff = (uint32_t)(*p - (uint8_t *)rs);
    for (size_t i = 0; i < n; i++) {
        if (s[i].b)
            continue;
        const zb_rec_t *r = &b->recs[s[i].a];
        (*p)[0] = (uint8_t)r->rdlen;
        (*p)[1] = (uint8_t)(r->rdlen >> 8);
        memcpy(*p + 2, b->rdata + r->rd, r->rdlen);
        *p += 2u + r->rdlen;
        rs->count++;
    }
}

static void zb_pass2(const zone_builder_t *b, uint8_t *base)
{
    size_t si = 0;
    for (uint32_t rank = 0; rank < b->nnodes; rank++) {
        const zb_node_t *nd = &b->nodes[rank];
        struct zone_node *n = (struct zone_node *)(base + nd->off);
        n->cut = nd->cut ? b->nodes[nd->cut - 1].off : 0;
        n->dname = nd->dname ? b->nodes[nd->dname - 1].off : 0;
        n->nchild = nd->nchild;
        n->nrrsets = nd->nrrsets;
        n->namelen = nd->len;
        n->flags = nd->flags;
        memcpy(n->name, b->names + nd->name, nd->len);
        zone_rrset_t *rs = zn_rrsets(n);
        uint8_t *p = (uint8_t *)(rs + n->nrrsets);
        for (size_t j; si < b->ns && b->s[si].key >> 16 == rank; si = j) {
            bool kept = false;
            for (j = si; j < b->ns && b->s[j].key == b->s[si].key; j++)
                kept |= !b->s[j].b;
            if (kept)
                zb_rrset_write(b, b->s + si, j - si, rs++, &p);
        }
    }
}

static int zb_index(zone_flat_t *f, const zone_builder_t *b)
{
    size_t cap = 16;
    while (cap < 2 * b->nnodes)
        cap *= 2;
    if (!(f->slots = zf_alloc_big(cap * sizeof(*f->slots))))
        return ZL_ENOMEM;
    f->mask = cap - 1;
    for (uint32_t rank = 0; rank < b->nnodes; rank++) {
        uint64_t h = zh_mix(zh_name(b->names + b->nodes[rank].name));
        size_t i = h & f->mask;
        while (f->slots[i])
            i = (i + 1) & f->mask;
        f->slots[i] = (h >> 32) << 32 | b->nodes[rank].off;
    }
    return ZL_OK;
}

static int zb_make(const zone_builder_t *b, zone_t **out)
{
    zone_flat_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->base = zf_alloc_big(b->size)) || zb_index(f, b)) {
        if (f)
            free(f->base);
        free(f);
        return ZL_ENOMEM;
    }
    zb_pass2(b, f->base);
    atomic_init(&f->refs, 1);
    f->size = b->size;
    f->nnodes = b->nnodes;
    *out = zv_new(f, b->nrecords);
    return *out ? ZL_OK : ZL_ENOMEM;
}

static int zb_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep)
{
    zb_kv_t *v = NULL;
    uint8_t *keys = NULL;
    uint32_t *rank = NULL;
    size_t n = 0;
    char text[DNS_NAME_TEXT_MAX];
    if (!b->nrecs) {
        if (dns_name_to_text(b->origin, text, sizeof(text)) < 0)
            strcpy(text, "?");
        zone_reportf(rep, ZONE_ERROR, NULL, 0, "zone %s has no records", text);
        return ZL_EZONE;
    }
    zb_screen(b, rep);
    int rc = zb_sort_owners(b, &v, &n, &keys);
    if (!rc && !(rank = malloc(b->nowners * sizeof(*rank))))
        rc = ZL_ENOMEM;
    if (!rc)
        rc = zb_tree(b, v, n, keys, rank);
    free(v);
    free(keys);
    if (!rc)
        rc = zb_sort_recs(b, rank, rep);
    free(rank);
    if (!rc) {
        zb_cuts(b);
        rc = zb_pass1(b, rep);
    }
    if (!rc)
        rc = b->errors ? ZL_EZONE : zb_make(b, out);
    return rc;
}

int zone_builder_finish(zone_builder_t *b, zone_t **out, const zone_report_t *rep)
{
    *out = NULL;
    int rc = zb_finish(b, out, rep);
    size_t used = b->names_cap + b->rdata_cap + b->recs_cap * sizeof(zb_rec_t) +
                  b->owners_cap * sizeof(zb_owner_t) + b->nodes_cap * sizeof(zb_node_t);
    zb_free(b);
#ifdef __GLIBC__
    /* A large zone's builder arrays were as large as the zone itself, and
     * glibc keeps freed heap pages mapped, which would leave RSS at the
     * build peak. A trim walks the whole heap: only worth it then. */
    if (used > ((size_t)16 << 20))
        malloc_trim(0);
#else
    (void)used;
#endif
    return rc;
}
