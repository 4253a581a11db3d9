/* Domain names.
 *
 * A name is held in uncompressed wire form: length-prefixed labels ending
 * with the root label (0), at most DNS_NAME_MAX (255) octets, each label at
 * most DNS_LABEL_MAX (63). Functions taking `const uint8_t *name` expect a
 * name already validated (by dns_name_parse, dns_name_from_text or
 * dns_name_check); they are not for raw packet bytes. Names are borrowed
 * unless stated otherwise. Case is preserved; comparisons are ASCII
 * case-insensitive (RFC 4343).
 */
#ifndef ZL_DNS_NAME_H
#define ZL_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"

#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63
/* Longest presentation form: every octet as \DDD plus dots and the NUL. */
#define DNS_NAME_TEXT_MAX (4 * DNS_NAME_MAX + 2)

/* Reads a possibly compressed name at the cursor into out and advances the
 * cursor past it (past the first pointer, if any). Pointers are relative to
 * w->base and must point strictly backwards (no forward pointers, so no
 * loops); total work is bounded by the packet length.
 * Returns the name's length (>= 1) or ZL_EMALF (truncated), ZL_ELABEL
 * (label type 0x40/0x80), ZL_ENAMELEN, ZL_ELOOP; sets w->err on error. */
int dns_name_parse(dns_wire_t *w, uint8_t out[DNS_NAME_MAX]);

/* Validates an uncompressed name within buf[0..len). Returns its length or
 * an error (ZL_EMALF, ZL_ELABEL, ZL_ENAMELEN). Compression pointers are an
 * error (ZL_ELABEL). */
int dns_name_check(const uint8_t *buf, size_t len);

/* Length in octets of a valid name, including the root label. */
size_t dns_name_len(const uint8_t *name);

/* Number of labels, not counting the root (the root name has 0). */
unsigned dns_name_labels(const uint8_t *name);

/* Case-insensitive equality. */
bool dns_name_equal(const uint8_t *a, const uint8_t *b);

/* Canonical DNS name order (RFC 4034 §6.1): <0, 0, >0. */
int dns_name_cmp(const uint8_t *a, const uint8_t *b);

/* True if name equals parent or lies below it. */
bool dns_name_is_sub(const uint8_t *name, const uint8_t *parent);

/* The name without its first label (points into name); NULL for the root. */
const uint8_t *dns_name_parent(const uint8_t *name);

/* Lower-cases ASCII letters in place. */
void dns_name_lower(uint8_t *name);

/* Copies a valid name; returns its length. */
size_t dns_name_copy(uint8_t *dst, const uint8_t *src);

/* Parses presentation form s[0..len) (`www.example.com.`, `\.`, `\DDD`,
 * `\X`). "@" yields origin. A name without a final dot is relative and
 * gets origin appended; with origin NULL it is an error (ZL_ESYNTAX).
 * Returns the name's length or ZL_ESYNTAX, ZL_ELABEL (empty or >63
 * label), ZL_ENAMELEN. */
int dns_name_from_text(const char *s, size_t len, const uint8_t *origin,
                       uint8_t out[DNS_NAME_MAX]);

/* Writes the absolute presentation form (with the final dot; "." for the
 * root) and a NUL. Octets outside printable ASCII are written as \DDD;
 * `.`, `\`, `"`, `(`, `)`, `;`, `@`, `$` and space are escaped with a
 * backslash. Returns the length written (without the NUL) or ZL_ESPACE. */
int dns_name_to_text(const uint8_t *name, char *buf, size_t cap);

/* Name compression state for one message being written. It remembers the
 * offsets of names (and their suffixes) already in the message. Once it
 * holds DNS_COMPR_HASH_MIN entries (large messages: transfers), each entry
 * also keeps a hash of its suffix, indexed by an open-addressing table, so
 * a lookup visits only the entries with the hash of one of the name's
 * suffixes instead of every entry; small messages (query answers) never
 * compute a hash nor touch the index (dns_compr_init sets two fields). */
#define DNS_COMPR_MAX 256
#define DNS_COMPR_HASH_MIN 16
#define DNS_COMPR_SLOTS 512            /* power of two, 2 x DNS_COMPR_MAX */
typedef struct dns_compr {
    uint16_t off[DNS_COMPR_MAX];   /* offsets of label starts in the message */
    uint8_t labels[DNS_COMPR_MAX]; /* label count of the name at off[i] */
    uint16_t hash[DNS_COMPR_MAX];  /* suffix hash of entry i, once hashed */
    uint16_t n;
    bool hashed;                   /* hash[0..n) are valid */
    uint16_t indexed;              /* entries in slot[]: n, unless a writer
                                      rolled n back (dns_msgb_rr) */
    uint16_t slot[DNS_COMPR_SLOTS]; /* entry index + 1 by hash, 0 empty */
} dns_compr_t;

static inline void dns_compr_init(dns_compr_t *c)
{
    c->n = 0;
    c->hashed = false;
}

/* Writes name at the cursor. With c non-NULL the longest suffix already
 * written is replaced by a pointer (matching is case-insensitive, so the
 * first written spelling wins, which keeps the question's case for the
 * answer owners) and the new labels are remembered. With c NULL the name
 * is written in full. Errors go to w->err; returns w->err. */
int dns_name_write(dns_wire_t *w, const uint8_t *name, dns_compr_t *c);

#endif
