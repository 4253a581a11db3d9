/* TSIG keys of the zones (DESIGN.md, "Storage in git").
 *
 * Key files are `_keys` (keys for any zone) and `<zone>._keys` (only keys
 * at or below that zone), in master-file format, holding DNSKEY records
 * (lines may carry no TTL): protocol 3, the algorithm field names the
 * HMAC (157 MD5, 161 SHA1, 162 SHA224, 163 SHA256, 164 SHA384, 165
 * SHA512), the key data is the secret. The flags field is not looked at
 * (0 by convention; old BIND HMAC keys carry 512).
 *
 * The key's name carries its rights, as MirageOS's dns-primary-git reads
 * them: the rightmost `_update`, `_transfer` or `_notify` label after at
 * least one other label gives the operation, the labels after it the
 * zone. `<x>._update.<zone>` may update, transfer and notify;
 * `<x>._transfer.<zone>` transfer and notify; `<x>._notify.<zone>`
 * notify; a key covers its zone and every zone below it.
 *
 * primary-git's convention `<primary-ip>.<secondary-ip>._transfer.<zone>`
 * embeds addresses: ocaml-dns writes an IPv4 address as its four decimal
 * labels (`192.168.42.2.192.168.42.1._transfer.mirage`); with two, the
 * first is the primary and the second the secondary (the NOTIFY target);
 * with one (`<x>.<primary-ip>._transfer.<zone>`), it is the primary's.
 * ocaml-dns has no IPv6 form; zonelet also reads an IPv6 address as one
 * label (`2001:db8::1`, no escapes needed), in either position, which
 * ocaml-dns takes for a plain transfer key.
 */
#ifndef ZL_ZONE_KEYS_H
#define ZL_ZONE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/tsig.h"
#include "zone/parse.h"

enum zone_key_right {
    ZONE_KEY_NOTIFY = 1u,
    ZONE_KEY_TRANSFER = 2u,
    ZONE_KEY_UPDATE = 4u
};

/* An address from a key name. */
typedef struct zone_key_addr {
    uint8_t family;    /* 0 (none), 4 or 6 */
    uint8_t addr[16];  /* network order, 4 or 16 octets */
} zone_key_addr_t;

typedef struct zone_key {
    dns_tsig_key_t tsig;        /* first: zone_key_of() relies on it */
    unsigned rights;            /* ZONE_KEY_* bits */
    uint8_t zone[DNS_NAME_MAX]; /* the zone covered, with the zones below */
    zone_key_addr_t primary;    /* transfer keys: primary-git's addresses */
    zone_key_addr_t secondary;  /* (the NOTIFY target) */
} zone_key_t;

/* Fills *key from its parts: name (wire form, copied), algorithm, secret
 * (copied); rights, zone and addresses come from the name. Returns ZL_OK,
 * or ZL_EINVAL with *why a static message: a name without a right, an
 * algorithm that is not an HMAC, an empty or too long secret. */
int zone_key_init(zone_key_t *key, const uint8_t *name, uint8_t alg, const uint8_t *secret,
                  size_t secret_len, const char **why);

/* A key from a command-line argument "NAME:ALG:BASE64" (`--tsig-key`,
 * `--key`): NAME in presentation form (absolute with or without the final
 * dot; it may contain colons: ALG and BASE64 are the last two fields), ALG
 * as nsupdate spells it (hmac-md5 ... hmac-sha512, any case). Returns
 * ZL_OK, or ZL_ESYNTAX / ZL_EINVAL with *why a static message. */
int zone_key_from_arg(const char *arg, zone_key_t *key, const char **why);

/* True when key has every bit of `right` for the zone at origin: origin
 * is the key's zone or below it. */
bool zone_key_allows(const zone_key_t *key, const uint8_t *origin, unsigned right);

/* The zone_key_t a TSIG key of a keyring belongs to (what
 * zone_keyring_tsig_find returned, e.g. dns_tsig_ctx_t.key after
 * verification). */
static inline const zone_key_t *zone_key_of(const dns_tsig_key_t *t)
{
    return (const zone_key_t *)(const void *)t;
}

/* ---- Keyrings ----------------------------------------------------------
 *
 * A set of keys with unique names. Built by one writer (new, add, parse,
 * load), then published and only read, by any number of threads without
 * locks, until the last reference is dropped. Keys are kept in canonical
 * name order; pointers to them stay valid for the keyring's life. */
typedef struct zone_keyring zone_keyring_t;

/* An empty keyring with one reference, or NULL (out of memory). */
zone_keyring_t *zone_keyring_new(void);

/* Takes another reference (atomically); returns kr. */
zone_keyring_t *zone_keyring_ref(zone_keyring_t *kr);

/* Drops one reference, freeing the keyring with the last (NULL is fine). */
void zone_keyring_free(zone_keyring_t *kr);

/* Adds a copy of key (before the keyring is shared). Returns ZL_OK,
 * ZL_EZONE when a key of that name (any case) is there already, or
 * ZL_ENOMEM. */
int zone_keyring_add(zone_keyring_t *kr, const zone_key_t *key);

/* Parses a key file's text[0..len) and adds its keys. file names it in
 * reports; zone is the zone of a `<zone>._keys` file (its keys must lie
 * at or below it; relative names are relative to it) or NULL for `_keys`
 * (relative to the root). Every problem is reported as file:line, as
 * `zonelet check` prints them, and the other keys are still added; the
 * result is ZL_OK only if there was none, else ZL_ESYNTAX (syntax),
 * ZL_EZONE (a key that breaks a rule above, or a name used twice, also
 * across files), ZL_ENOMEM. A keyring that got an error is best dropped. */
int zone_keyring_parse(zone_keyring_t *kr, const char *text, size_t len, const char *file,
                       const uint8_t *zone, const zone_report_t *rep);

/* The same for the key file at path, read from src (NULL: the file
 * system; $INCLUDE works as in zone files). ZL_EIO if it cannot be read. */
int zone_keyring_load(zone_keyring_t *kr, const zone_source_t *src, const char *path,
                      const uint8_t *zone, const zone_report_t *rep);

/* The key of this name (any case), or NULL. */
const zone_key_t *zone_keyring_find(const zone_keyring_t *kr, const uint8_t *name);

/* The number of keys, and the i-th (i < count) in canonical name order:
 * iterate to find, e.g., every transfer key of a zone. */
size_t zone_keyring_count(const zone_keyring_t *kr);
const zone_key_t *zone_keyring_get(const zone_keyring_t *kr, size_t i);

/* dns_tsig_find_fn over a keyring (fctx: the zone_keyring_t): the key of
 * this name if its algorithm is alg, else NULL. */
const dns_tsig_key_t *zone_keyring_tsig_find(void *fctx, const uint8_t *name, uint8_t alg);

#endif
