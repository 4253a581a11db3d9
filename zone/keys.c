/* TSIG keys: names to rights (dns-primary-git's rules), key files, the
 * keyring, command-line keys. */
#include "zone/keys.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/codec.h"
#include "dns/err.h"

static const char *const why_name =
    "key name must be <x>._update.<zone>, <x>._transfer.<zone> or <x>._notify.<zone>";
static const char *const why_alg =
    "key algorithm must be an HMAC: 157 (MD5), 161-165 (SHA1-SHA512)";
static const char *const why_empty = "key without a secret";
static const char *const why_long = "key secret longer than 256 octets";

/* ---- Names ------------------------------------------------------------- */

/* The rightmost `_update`, `_transfer` or `_notify` label that has a
 * label before it (ocaml-dns: Domain_name.find_label ~rev:true): sets
 * *rights and *idx (its index from the left); NULL if none. */
static const uint8_t *key_role(const uint8_t *name, unsigned *rights, unsigned *idx)
{
    static const struct { const char *label; unsigned rights; } roles[] = {
        { "_update", ZONE_KEY_UPDATE | ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY },
        { "_transfer", ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY },
        { "_notify", ZONE_KEY_NOTIFY },
    };
    const uint8_t *found = NULL;
    unsigned i = 0;
    for (const uint8_t *l = name; *l; l += *l + 1, i++) {
        for (size_t r = 0; i > 0 && r < 3; r++)
            if (*l == strlen(roles[r].label) &&
                strncasecmp((const char *)l + 1, roles[r].label, *l) == 0) {
                found = l;
                *rights = roles[r].rights;
                *idx = i;
            }
    }
    return found;
}

/* Four labels of 1-3 decimal digits up to 255: an IPv4 address. */
static bool addr_v4(const uint8_t *const *lab, zone_key_addr_t *a)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, n = lab[i][0];
        if (n < 1 || n > 3)
            return false;
        for (unsigned j = 1; j <= n; j++) {
            if (lab[i][j] < '0' || lab[i][j] > '9')
                return false;
            v = v * 10 + (unsigned)(lab[i][j] - '0');
        }
        if (v > 255)
            return false;
        a->addr[i] = (uint8_t)v;
    }
    a->family = 4;
    return true;
}

/* One label holding an IPv6 address in text (zonelet's extension). */
static bool addr_v6(const uint8_t *lab, zone_key_addr_t *a)
{
    char text[64];
    if (lab[0] < 2 || lab[0] >= sizeof(text) || !memchr(lab + 1, ':', lab[0]) ||
        memchr(lab + 1, 0, lab[0]))
        return false;
    memcpy(text, lab + 1, lab[0]);
    text[lab[0]] = 0;
    if (inet_pton(AF_INET6, text, a->addr) != 1)
        return false;
    a->family = 6;
    return true;
}

/* The address whose labels end just before lab[end]; the number of
 * labels it takes (0: none). */
static unsigned addr_before(const uint8_t *const *lab, unsigned end, zone_key_addr_t *a)
{
    if (end >= 4 && addr_v4(lab + end - 4, a))
        return 4;
    if (end >= 1 && addr_v6(lab[end - 1], a))
        return 1;
    *a = (zone_key_addr_t){ 0 };
    return 0;
}

/* primary-git: `<primary>.<secondary>._transfer.<zone>`, or
 * `<x>.<primary>._transfer.<zone>` (ocaml-dns's find_zone_ips). */
static void key_addrs(zone_key_t *k, unsigned role_idx)
{
    const uint8_t *lab[DNS_NAME_MAX / 2];
    unsigned n = 0;
    for (const uint8_t *l = k->tsig.name; n < role_idx; l += *l + 1)
        lab[n++] = l;
    zone_key_addr_t a, b;
    unsigned used = addr_before(lab, n, &b);
    if (!used)
        return;
    if (addr_before(lab, n - used, &a)) {
        k->primary = a;
        k->secondary = b;
    } else {
        k->primary = b;
    }
}

int zone_key_init(zone_key_t *key, const uint8_t *name, uint8_t alg, const uint8_t *secret,
                  size_t secret_len, const char **why)
{
    unsigned rights = 0, idx = 0;
    memset(key, 0, sizeof(*key));
    const uint8_t *role = key_role(name, &rights, &idx);
    if (!dns_tsig_alg_mac_len(alg))
        *why = why_alg;
    else if (!role)
        *why = why_name;
    else if (secret_len == 0)
        *why = why_empty;
    else if (secret_len > DNS_TSIG_SECRET_MAX)
        *why = why_long;
    else
        *why = NULL;
    if (*why)
        return ZL_EINVAL;
    dns_name_copy(key->tsig.name, name);
    key->tsig.alg = alg;
    key->tsig.secret_len = (uint16_t)secret_len;
    memcpy(key->tsig.secret, secret, secret_len);
    key->rights = rights;
    dns_name_copy(key->zone, role + *role + 1);
    if (rights == (ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY))
        key_addrs(key, idx);
    return ZL_OK;
}

bool zone_key_allows(const zone_key_t *key, const uint8_t *origin, unsigned right)
{
    return (key->rights & right) == right && dns_name_is_sub(origin, key->zone);
}

int zone_key_from_arg(const char *arg, zone_key_t *key, const char **why)
{
    static const uint8_t root[1] = { 0 };
    const char *b64 = strrchr(arg, ':');
    const char *alg = b64 ? b64 : arg;
    while (alg > arg && alg[-1] != ':')
        alg--;
    if (!b64 || alg == arg) {
        *why = "expected NAME:ALG:BASE64";
        return ZL_ESYNTAX;
    }
    uint8_t name[DNS_NAME_MAX], secret[DNS_TSIG_SECRET_MAX];
    size_t nlen = (size_t)(alg - 1 - arg);
    if (nlen == 0 || dns_name_from_text(arg, nlen, root, name) < 0) {
        *why = "bad key name";
        return ZL_ESYNTAX;
    }
    uint8_t a = dns_tsig_alg_from_text(alg, (size_t)(b64 - alg));
    if (!a) {
        *why = "unknown algorithm: use hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, "
               "hmac-sha384 or hmac-sha512";
        return ZL_ESYNTAX;
    }
    int n = dns_b64_decode(b64 + 1, strlen(b64 + 1), secret, sizeof(secret));
    if (n < 0) {
        *why = n == ZL_ESPACE ? why_long : "secret is not valid base64";
        return ZL_ESYNTAX;
    }
    return zone_key_init(key, name, a, secret, (size_t)n, why);
}

/* ---- Keyrings -------------------------------------------------------- */

typedef struct kentry {
    zone_key_t key;    /* first: zone_key_of() */
    const char *file;  /* where it was defined (interned, or NULL) */
    unsigned line;
} kentry_t;

struct zone_keyring {
    atomic_uint refs;
    kentry_t **keys;   /* sorted by canonical name; entries never move */
    size_t n, cap;
    char **files;      /* interned file names, owned */
    size_t nfiles;
};

zone_keyring_t *zone_keyring_new(void)
{
    zone_keyring_t *kr = calloc(1, sizeof(*kr));
    if (kr)
        atomic_init(&kr->refs, 1);
    return kr;
}

zone_keyring_t *zone_keyring_ref(zone_keyring_t *kr)
{
    if (kr)
        atomic_fetch_add_explicit(&kr->refs, 1, memory_order_relaxed);
    return kr;
}

void zone_keyring_free(zone_keyring_t *kr)
{
    if (!kr || atomic_fetch_sub_explicit(&kr->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < kr->n; i++)
        free(kr->keys[i]);
    for (size_t i = 0; i < kr->nfiles; i++)
        free(kr->files[i]);
    free(kr->keys);
    free(kr->files);
    free(kr);
}

/* Binary search: the index of name, or where it would go (*found false). */
static size_t kr_search(const zone_keyring_t *kr, const uint8_t *name, bool *found)
{
    size_t lo = 0, hi = kr->n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = dns_name_cmp(kr->keys[mid]->key.tsig.name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int kr_insert(zone_keyring_t *kr, const zone_key_t *key, const char *file,
                     unsigned line, const kentry_t **dup)
{
    bool found;
    size_t at = kr_search(kr, key->tsig.name, &found);
    if (found) {
        if (dup)
            *dup = kr->keys[at];
        return ZL_EZONE;
    }
    if (kr->n == kr->cap) {
        size_t cap = kr->cap ? 2 * kr->cap : 8;
        kentry_t **k = realloc(kr->keys, cap * sizeof(*k));
        if (!k)
            return ZL_ENOMEM;
        kr->keys = k;
        kr->cap = cap;
    }
    kentry_t *e = malloc(sizeof(*e));
    if (!e)
        return ZL_ENOMEM;
    e->key = *key;
    e->file = file;
    e->line = line;
    memmove(kr->keys + at + 1, kr->keys + at, (kr->n - at) * sizeof(*kr->keys));
    kr->keys[at] = e;
    kr->n++;
    return ZL_OK;
}

int zone_keyring_add(zone_keyring_t *kr, const zone_key_t *key)
{
    return kr_insert(kr, key, NULL, 0, NULL);
}

const zone_key_t *zone_keyring_find(const zone_keyring_t *kr, const uint8_t *name)
{
    bool found;
    size_t at = kr_search(kr, name, &found);
    return found ? &kr->keys[at]->key : NULL;
}

size_t zone_keyring_count(const zone_keyring_t *kr)
{
    return kr->n;
}

const zone_key_t *zone_keyring_get(const zone_keyring_t *kr, size_t i)
{
    return i < kr->n ? &kr->keys[i]->key : NULL;
}

const dns_tsig_key_t *zone_keyring_tsig_find(void *fctx, const uint8_t *name, uint8_t alg)
{
    const zone_key_t *k = zone_keyring_find(fctx, name);
    return k && k->tsig.alg == alg ? &k->tsig : NULL;
}

/* ---- Key files --------------------------------------------------------- */

typedef struct kparse {
    zone_keyring_t *kr;
    const uint8_t *zone;   /* NULL for _keys */
    const zone_report_t *rep;
    size_t bad;
} kparse_t;

static const char *kr_intern(zone_keyring_t *kr, const char *file)
{
    if (!file)
        return NULL;
    for (size_t i = kr->nfiles; i-- > 0;)
        if (strcmp(kr->files[i], file) == 0)
            return kr->files[i];
    char **f = realloc(kr->files, (kr->nfiles + 1) * sizeof(*f));
    if (!f)
        return NULL;
    kr->files = f;
    char *copy = strdup(file);
    if (copy)
        kr->files[kr->nfiles++] = copy;
    return copy;
}

/* Why a DNSKEY record of a key file is not a key, or NULL. */
static const char *key_rec_why(const kparse_t *kp, const dns_rr_t *rec, zone_key_t *key)
{
    if (rec->type != DNS_T_DNSKEY)
        return "a key file holds only DNSKEY records";
    if (rec->rdlen < 5)
        return why_empty;
    if (rec->rdata[2] != 3)
        return "key protocol must be 3 (RFC 4034 §2.1.2)";
    const char *why;
    if (zone_key_init(key, rec->owner, rec->rdata[3], rec->rdata + 4, rec->rdlen - 4u, &why))
        return why;
    if (kp->zone && !dns_name_is_sub(key->zone, kp->zone))
        return "key for a zone other than this file's";
    return NULL;
}

static int key_rec(void *ctx, const dns_rr_t *rec)
{
    kparse_t *kp = ctx;
    zone_key_t key;
    const char *why = key_rec_why(kp, rec, &key);
    if (why) {
        zone_reportf(kp->rep, ZONE_ERROR, rec->file, rec->line, "%s", why);
        kp->bad++;
        return 0;
    }
    const char *file = kr_intern(kp->kr, rec->file);
    if (rec->file && !file)
        return ZL_ENOMEM;
    const kentry_t *dup = NULL;
    int rc = kr_insert(kp->kr, &key, file, rec->line, &dup);
    if (rc == ZL_EZONE) {
        /* A key name used twice would make TSIG ambiguous. */
        if (dup->file == file)
            zone_reportf(kp->rep, ZONE_ERROR, rec->file, rec->line, "key name already used at line %u",
                         dup->line);
        else
            zone_reportf(kp->rep, ZONE_ERROR, rec->file, rec->line, "key name already used at %s:%u",
                         dup->file ? dup->file : "the command line", dup->line);
        kp->bad++;
        return 0;
    }
    return rc;
}

static int kp_result(int rc, const kparse_t *kp)
{
    return rc == ZL_OK && kp->bad ? ZL_EZONE : rc;
}

int zone_keyring_parse(zone_keyring_t *kr, const char *text, size_t len, const char *file,
                       const uint8_t *zone, const zone_report_t *rep)
{
    static const uint8_t root[1] = { 0 };
    kparse_t kp = { kr, zone, rep, 0 };
    zone_parse_opts_t o = { .origin = zone ? zone : root };
    return kp_result(zone_parse_text(text, len, file, &o, key_rec, &kp, rep), &kp);
}

int zone_keyring_load(zone_keyring_t *kr, const zone_source_t *src, const char *path,
                      const uint8_t *zone, const zone_report_t *rep)
{
    static const uint8_t root[1] = { 0 };
    kparse_t kp = { kr, zone, rep, 0 };
    zone_parse_opts_t o = { .origin = zone ? zone : root, .source = src };
    return kp_result(zone_parse_file(path, &o, key_rec, &kp, rep), &kp);
}
