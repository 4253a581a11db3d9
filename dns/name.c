#include "dns/name.h"

#include <string.h>

#define PTR_MASK 0xc0u

static inline uint8_t lc(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

static int name_parse_fail(dns_wire_t *w, int err)
{
    dns_wire_fail(w, err);
    return err;
}

int dns_name_parse(dns_wire_t *w, uint8_t out[DNS_NAME_MAX])
{
    if (w->err)
        return w->err;
    const uint8_t *base = w->base;
    size_t end = w->len, p = w->pos;
    size_t seg = p;     /* start of the current run of labels */
    size_t resume = 0;  /* cursor position after the first pointer */
    size_t n = 0;
    for (;;) {
        if (p >= end)
            return name_parse_fail(w, ZL_EMALF);
        uint8_t b = base[p];
        if ((b & PTR_MASK) == PTR_MASK) {
            if (p + 1 >= end)
                return name_parse_fail(w, ZL_EMALF);
            size_t to = (size_t)(b & 0x3f) << 8 | base[p + 1];
            /* Each jump lands strictly before the previous run of labels,
             * so targets decrease and the walk ends (no loops). */
            if (to >= seg)
                return name_parse_fail(w, ZL_ELOOP);
            if (!resume)
                resume = p + 2;
            p = seg = to;
            continue;
        }
        if (b & PTR_MASK)
            return name_parse_fail(w, ZL_ELABEL);
        /* Room for this label and, after a non-root one, the root. */
        if (n + 1u + b + (b != 0) > DNS_NAME_MAX)
            return name_parse_fail(w, ZL_ENAMELEN);
        if (p + 1 + b > end)
            return name_parse_fail(w, ZL_EMALF);
        memcpy(out + n, base + p, 1u + b);
        n += 1u + b;
        p += 1u + b;
        if (!b)
            break;
    }
    w->pos = resume ? resume : p;
    return (int)n;
}

int dns_name_check(const uint8_t *buf, size_t len)
{
    size_t p = 0;
    for (;;) {
        if (p >= len)
            return ZL_EMALF;
        uint8_t b = buf[p];
        if (b & PTR_MASK)
            return ZL_ELABEL;
        if (p + 1u + b + (b != 0) > DNS_NAME_MAX)
            return ZL_ENAMELEN;
        if (p + 1 + b > len)
            return ZL_EMALF;
        p += 1u + b;
        if (!b)
            return (int)p;
    }
}

size_t dns_name_len(const uint8_t *name)
{
    const uint8_t *p = name;
    while (*p)
        p += *p + 1;
    return (size_t)(p - name) + 1;
}

unsigned dns_name_labels(const uint8_t *name)
{
    unsigned n = 0;
    for (; *name; name += *name + 1)
        n++;
    return n;
}

bool dns_name_equal(const uint8_t *a, const uint8_t *b)
{
    /* Label lengths are < 64 and so unaffected by lc(): one loop compares
     * length octets and label octets alike. */
    for (;;) {
        uint8_t l = *a;
        if (l != *b)
            return false;
        if (!l)
            return true;
        for (unsigned i = 1; i <= l; i++)
            if (lc(a[i]) != lc(b[i]))
                return false;
        a += l + 1;
        b += l + 1;
    }
}

/* Fills off[] with the label offsets of name; returns the label count. */
static unsigned label_offsets(const uint8_t *name, uint8_t off[128])
{
    unsigned n = 0;
    for (unsigned p = 0; name[p]; p += name[p] + 1u)
        off[n++] = (uint8_t)p;
    return n;
}

static int label_cmp(const uint8_t *a, const uint8_t *b)
{
    unsigned la = a[0], lb = b[0], m = la < lb ? la : lb;
    for (unsigned i = 1; i <= m; i++) {
        uint8_t ca = lc(a[i]), cb = lc(b[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

int dns_name_cmp(const uint8_t *a, const uint8_t *b)
{
    uint8_t oa[128], ob[128];
    unsigned na = label_offsets(a, oa), nb = label_offsets(b, ob);
    /* RFC 4034 §6.1: most significant (rightmost) label first. */
    while (na && nb) {
        int r = label_cmp(a + oa[--na], b + ob[--nb]);
        if (r)
            return r;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent)
{
    unsigned n = dns_name_labels(name), p = dns_name_labels(parent);
    if (n < p)
        return false;
    for (; n > p; n--)
        name += *name + 1;
    return dns_name_equal(name, parent);
}

const uint8_t *dns_name_parent(const uint8_t *name)
{
    return *name ? name + *name + 1 : NULL;
}

void dns_name_lower(uint8_t *name)
{
    for (; *name; name += *name + 1)
        for (unsigned i = 1; i <= *name; i++)
            name[i] = lc(name[i]);
}

size_t dns_name_copy(uint8_t *dst, const uint8_t *src)
{
    size_t n = dns_name_len(src);
    memcpy(dst, src, n);
    return n;
}

/* Decodes one presentation-form octet at s[*i] (escapes included). */
static int text_octet(const char *s, size_t len, size_t *i)
{
    uint8_t c = (uint8_t)s[*i];
    if (c != '\\') {
        (*i)++;
        return c;
    }
    if (*i + 1 >= len)
        return ZL_ESYNTAX;
    uint8_t d = (uint8_t)s[*i + 1];
    if (d < '0' || d > '9') {
        *i += 2;
        return d;
    }
    if (*i + 3 >= len)
        return ZL_ESYNTAX;
    int v = 0;
    for (size_t k = 1; k <= 3; k++) {
        uint8_t e = (uint8_t)s[*i + k];
        if (e < '0' || e > '9')
            return ZL_ESYNTAX;
        v = v * 10 + (e - '0');
    }
    if (v > 255)
        return ZL_ESYNTAX;
    *i += 4;
    return v;
}

static int append_origin(uint8_t *out, size_t n, const uint8_t *origin)
{
    if (!origin)
        return ZL_ESYNTAX;
    size_t ol = dns_name_len(origin);
    if (n + ol > DNS_NAME_MAX)
        return ZL_ENAMELEN;
    memcpy(out + n, origin, ol);
    return (int)(n + ol);
}

int dns_name_from_text(const char *s, size_t len, const uint8_t *origin,
                       uint8_t out[DNS_NAME_MAX])
{
    if (len == 0)
        return ZL_ESYNTAX;
    if (len == 1 && s[0] == '@')
        return append_origin(out, 0, origin);
    if (len == 1 && s[0] == '.') {
        out[0] = 0;
        return 1;
    }
    size_t lab = 0, n = 1, i = 0;  /* out[lab]: the open label's length */
    while (i < len) {
        if (s[i] == '.') {
            if (n == lab + 1)
                return ZL_ELABEL;  /* empty label */
            out[lab] = (uint8_t)(n - lab - 1);
            lab = n++;
            i++;
            continue;
        }
        int c = text_octet(s, len, &i);
        if (c < 0)
            return c;
        if (n - lab - 1 >= DNS_LABEL_MAX)
            return ZL_ELABEL;
        if (n + 2 > DNS_NAME_MAX)  /* this octet and the root label */
            return ZL_ENAMELEN;
        out[n++] = (uint8_t)c;
    }
    if (n == lab + 1) {  /* ended with a dot: absolute */
        out[lab] = 0;
        return (int)n;
    }
    out[lab] = (uint8_t)(n - lab - 1);
    return append_origin(out, n, origin);
}

static bool text_special(uint8_t c)
{
    return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
           c == ';' || c == '@' || c == '$' || c == ' ';
}

int dns_name_to_text(const uint8_t *name, char *buf, size_t cap)
{
    size_t n = 0;
    if (!*name) {
        if (cap < 2)
            return ZL_ESPACE;
        buf[0] = '.';
        buf[1] = 0;
        return 1;
    }
    for (; *name; name += *name + 1) {
        for (unsigned i = 1; i <= *name; i++) {
            uint8_t c = name[i];
            bool ddd = c < 0x20 || c >= 0x7f, esc = !ddd && text_special(c);
            if (n + (ddd ? 4 : esc ? 2 : 1) + 1 > cap)  /* +1: the NUL */
                return ZL_ESPACE;
            if (ddd) {
                buf[n++] = '\\';
                buf[n++] = (char)('0' + c / 100);
                buf[n++] = (char)('0' + c / 10 % 10);
                buf[n++] = (char)('0' + c % 10);
            } else {
                if (esc)
                    buf[n++] = '\\';
                buf[n++] = (char)c;
            }
        }
        if (n + 2 > cap)
            return ZL_ESPACE;
        buf[n++] = '.';
    }
    buf[n] = 0;
    return (int)n;
}

/* True if the name written at msg offset p equals the valid name s of
 * slen octets. Message bytes come from this writer but are still
 * bounds-checked against what was written, and pointers must go
 * backwards. The usual match is a name written out in the same case
 * (an owner repeating the question): one memcmp of the whole name
 * settles it (the bytes at p then parse as s); otherwise (a pointer
 * inside, other case, a mismatch) labels are compared one by one. */
static bool compr_match(const dns_wire_t *w, size_t p, const uint8_t *s, size_t slen)
{
    const uint8_t *m = w->base;
    size_t end = w->pos;
    if (p + slen <= end && memcmp(m + p, s, slen) == 0)
        return true;
    for (;;) {
        if (p >= end)
            return false;
        while ((m[p] & PTR_MASK) == PTR_MASK) {
            if (p + 1 >= end)
                return false;
            size_t to = (size_t)(m[p] & 0x3f) << 8 | m[p + 1];
            if (to >= p)
                return false;
            p = to;
        }
        uint8_t l = m[p];
        if (l != *s || p + 1 + l > end)
            return false;
        if (!l)
            return true;
        if (memcmp(m + p + 1, s + 1, l) != 0) /* same case: the usual */
            for (unsigned i = 1; i <= l; i++)
                if (lc(m[p + i]) != lc(s[i]))
                    return false;
        p += l + 1u;
        s += l + 1u;
    }
}

/* The suffix hashes of a large message's table (dns_compr_t): FNV-1a
 * over the lower-cased labels, from the root towards the first label, so
 * a suffix's hash extends the hash of the suffix after it. */
#define HASH_SEED 2166136261u

static uint32_t hash_label(uint32_t h, const uint8_t *label)
{
    for (unsigned i = 0; i <= label[0]; i++)
        h = (h ^ lc(label[i])) * 16777619u;
    return h;
}

static uint16_t hash_fold(uint32_t h)
{
    return (uint16_t)(h ^ h >> 16);
}

/* hs[j] = the hash of name's suffix from label j (offsets off[0..nl)). */
static void name_hashes(const uint8_t *name, const uint8_t *off, unsigned nl, uint16_t *hs)
{
    uint32_t h = HASH_SEED;
    for (unsigned j = nl; j-- > 0;) {
        h = hash_label(h, name + off[j]);
        hs[j] = hash_fold(h);
    }
}

/* The hash of the name written at message offset p (following the
 * pointers this writer made, bounded like compr_match). A malformed one
 * gets a hash that matches nothing in practice; compr_match decides. */
static uint16_t msg_hash(const dns_wire_t *w, size_t p)
{
    const uint8_t *m = w->base;
    size_t end = w->pos, at[128];
    unsigned n = 0;
    while (p < end && n < 128) {
        if ((m[p] & PTR_MASK) == PTR_MASK) {
            size_t to = p + 1 < end ? (size_t)(m[p] & 0x3f) << 8 | m[p + 1] : end;
            if (to >= p)
                break;
            p = to;
            continue;
        }
        if (!m[p] || p + 1 + m[p] > end)
            break;
        at[n++] = p;
        p += m[p] + 1u;
    }
    uint32_t h = HASH_SEED;
    while (n-- > 0)
        h = hash_label(h, m + at[n]);
    return hash_fold(h);
}

/* Entry e (its hash set) into the index: linear probing from its hash.
 * The index has twice as many slots as the table has entries, so a free
 * slot is found while it holds only entries [0, n) (compr_reindex after a
 * rollback); the probe is bounded all the same. */
static void compr_index(dns_compr_t *c, unsigned e)
{
    unsigned s = c->hash[e] & (DNS_COMPR_SLOTS - 1);
    for (unsigned i = 0; i < DNS_COMPR_SLOTS; i++, s = (s + 1) & (DNS_COMPR_SLOTS - 1))
        if (!c->slot[s]) {
            c->slot[s] = (uint16_t)(e + 1);
            return;
        }
}

/* The index of entries [0, n) (after hashing, or after a writer rolled
 * the table back: the index then still holds entries past n). */
static void compr_reindex(dns_compr_t *c)
{
    memset(c->slot, 0, sizeof c->slot);
    for (unsigned e = 0; e < c->n; e++)
        compr_index(c, e);
    c->indexed = c->n;
}

/* The table grew large: hashes for the entries it has, and the index
 * (once). */
static void compr_hash_all(const dns_wire_t *w, dns_compr_t *c)
{
    for (unsigned e = 0; e < c->n; e++)
        c->hash[e] = msg_hash(w, c->off[e]);
    c->hashed = true;
    compr_reindex(c);
}

/* compr_find in a hashed table: the suffixes from the longest down, each
 * looked up by its hash; among the entries that hold it the first one
 * (the lowest index), as the scan of every entry would choose. */
static unsigned compr_find_hashed(const dns_wire_t *w, const dns_compr_t *c,
                                  const uint8_t *name, const uint8_t *off, unsigned nl,
                                  unsigned root, const uint16_t *hs, uint16_t *ptr)
{
    for (unsigned j = 0; j < nl; j++) {
        unsigned k = nl - j, found = DNS_COMPR_MAX;
        unsigned s = hs[j] & (DNS_COMPR_SLOTS - 1);
        for (unsigned i = 0; i < DNS_COMPR_SLOTS && c->slot[s];
             i++, s = (s + 1) & (DNS_COMPR_SLOTS - 1)) {
            unsigned e = c->slot[s] - 1u;
            if (e >= found || c->hash[e] != hs[j] || c->labels[e] != k)
                continue;
            if (compr_match(w, c->off[e], name + off[j], root + 1u - off[j]))
                found = e;
        }
        if (found < DNS_COMPR_MAX) {
            *ptr = c->off[found];
            return j;
        }
    }
    return nl;
}

/* Index of the longest suffix (label number) of name found in c,
 * setting *ptr to the first entry holding it; nl if none. One pass over
 * the entries: each is tried only against the suffix with its own label
 * count, only if that suffix is longer than the best found so far. A
 * hashed table (hs non-NULL) is searched through its index instead. */
static unsigned compr_find(const dns_wire_t *w, const dns_compr_t *c,
                           const uint8_t *name, const uint8_t *off, unsigned nl,
                           unsigned root, const uint16_t *hs, uint16_t *ptr)
{
    if (hs)
        return compr_find_hashed(w, c, name, off, nl, root, hs, ptr);
    unsigned best = 0;
    for (unsigned e = 0; e < c->n; e++) {
        unsigned k = c->labels[e];
        if (k <= best || k > nl)
            continue;
        const uint8_t *s = name + off[nl - k];
        if (!compr_match(w, c->off[e], s, root + 1u - off[nl - k]))
            continue;
        best = k;
        *ptr = c->off[e];
        if (k == nl)
            break;
    }
    return nl - best;
}

int dns_name_write(dns_wire_t *w, const uint8_t *name, dns_compr_t *c)
{
    if (w->err)
        return w->err;
    if (!c || !*name) {
        dns_wire_write(w, name, dns_name_len(name));
        return w->err;
    }
    uint8_t off[128];
    unsigned nl = 0, root = 0;
    for (; name[root]; root += name[root] + 1u)
        off[nl++] = (uint8_t)root;
    uint16_t ptr = 0, hs[128];
    if (!c->hashed && c->n >= DNS_COMPR_HASH_MIN)
        compr_hash_all(w, c);
    if (c->hashed) {
        if (c->indexed != c->n)
            compr_reindex(c);
        name_hashes(name, off, nl, hs);
    }
    unsigned i = compr_find(w, c, name, off, nl, root, c->hashed ? hs : NULL, &ptr);
    size_t prefix = i < nl ? off[i] : root;
    if (!dns_wire_need_w(w, prefix + (i < nl ? 2 : 1)))
        return w->err;
    for (unsigned j = 0; j < i && c->n < DNS_COMPR_MAX; j++) {
        size_t at = w->pos + off[j];
        if (at >= 0x4000)
            break;  /* pointers hold 14 bits */
        c->off[c->n] = (uint16_t)at;
        c->labels[c->n] = (uint8_t)(nl - j);
        if (c->hashed) {
            c->hash[c->n] = hs[j];
            compr_index(c, c->n);
            c->indexed = (uint16_t)(c->n + 1);
        }
        c->n++;
    }
    memcpy(w->base + w->pos, name, prefix);
    w->pos += prefix;
    if (i < nl) {
        dns_put_u16(w->base + w->pos, (uint16_t)(0xc000u | ptr));
        w->pos += 2;
    } else {
        w->base[w->pos++] = 0;
    }
    return ZL_OK;
}
