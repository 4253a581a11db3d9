/* A small strict JSON reader (RFC 8259) and the writers the ACME payloads
 * need.
 *
 * The reader takes a complete text and builds a tree in an arena owned by
 * the document. It accepts exactly RFC 8259: one value (any type) with
 * optional whitespace around it; objects, arrays, strings, numbers, true,
 * false, null. It refuses what the RFC leaves to implementations, so that
 * two readers can never see different values: invalid UTF-8, escapes
 * that encode a lone surrogate, duplicate member names in one object.
 * Strings are decoded to UTF-8 (\u escapes and surrogate pairs included).
 * Numbers are kept as written and converted on demand. Nesting is bounded
 * by ACME_JSON_MAX_DEPTH, the text by ACME_JSON_MAX_SIZE, members of one
 * object by ACME_JSON_MAX_MEMBERS (duplicate detection is quadratic).
 */
#ifndef ZL_ACME_JSON_H
#define ZL_ACME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/buf.h"
#include "dns/arena.h"
#include "dns/err.h"

#define ACME_JSON_MAX_DEPTH 32
#define ACME_JSON_MAX_SIZE ((size_t)1 << 20)
#define ACME_JSON_MAX_MEMBERS 1024

typedef enum acme_json_type {
    ACME_JSON_NULL,
    ACME_JSON_FALSE,
    ACME_JSON_TRUE,
    ACME_JSON_NUMBER,
    ACME_JSON_STRING,
    ACME_JSON_ARRAY,
    ACME_JSON_OBJECT
} acme_json_type_t;

/* One value of the tree. Everything it points to lives in the document's
 * arena: borrowed, valid until acme_json_free. */
typedef struct acme_json acme_json_t;
struct acme_json {
    acme_json_type_t type;
    const char *key;    /* member name (decoded, NUL-terminated) inside an object, else NULL */
    size_t key_len;
    const char *str;    /* STRING: decoded UTF-8, NUL-terminated; NUMBER: its text */
    size_t len;         /* STRING, NUMBER: bytes in str; ARRAY, OBJECT: element count */
    bool has_nul;       /* STRING: contains U+0000 (a C string would be cut) */
    acme_json_t *child; /* ARRAY, OBJECT: first element, in document order */
    acme_json_t *next;  /* next element of the parent */
};

typedef struct acme_json_doc {
    acme_json_t *root; /* NULL unless the last parse succeeded */
    size_t err_off;    /* after a failed parse: offset where the error was found */
    dns_arena_t arena; /* owns every node and string */
} acme_json_doc_t;

/* Parses text[0..len) (borrowed; need not be NUL-terminated) into doc,
 * which the caller provides uninitialised. On success doc->root is the
 * top value. Errors: ZL_ESYNTAX (not JSON, or JSON this reader refuses:
 * bad UTF-8, lone surrogate, duplicate name; doc->err_off says where),
 * ZL_ERANGE (deeper than ACME_JSON_MAX_DEPTH, more than
 * ACME_JSON_MAX_MEMBERS members), ZL_ESPACE (len > ACME_JSON_MAX_SIZE),
 * ZL_ENOMEM. acme_json_free must be called in every case. */
int acme_json_parse(acme_json_doc_t *doc, const char *text, size_t len);

/* Frees the tree; every acme_json_t from doc becomes invalid. */
void acme_json_free(acme_json_doc_t *doc);

/* The member `key` of an object, or NULL (v NULL or not an object, or no
 * such member). Keys compare octet by octet. */
const acme_json_t *acme_json_get(const acme_json_t *v, const char *key);

/* Element i of an array, or NULL. */
const acme_json_t *acme_json_at(const acme_json_t *v, size_t i);

/* The value a JSON Pointer (RFC 6901: "" is v itself, "/a/0/b" is member
 * a, element 0, member b; "~0" and "~1" stand for '~' and '/') names, or
 * NULL when there is none or the pointer is malformed. */
const acme_json_t *acme_json_path(const acme_json_t *v, const char *pointer);

/* The string's text when v is a string without U+0000, else NULL.
 * Borrowed from the document. */
const char *acme_json_str(const acme_json_t *v);

/* acme_json_str(acme_json_get(v, key)). */
const char *acme_json_get_str(const acme_json_t *v, const char *key);

/* True when v is a string equal to s. */
bool acme_json_str_eq(const acme_json_t *v, const char *s);

/* The value of an integer number (no fraction, no exponent) in *out.
 * Errors: ZL_EINVAL (v NULL or not a number), ZL_ERANGE (not an integer,
 * or outside int64_t). */
int acme_json_int(const acme_json_t *v, int64_t *out);

/* True when v is `true`. */
bool acme_json_is_true(const acme_json_t *v);

/* Writes s[0..len) as a JSON string, quotes included, escaping '"', '\\'
 * and the control characters; other bytes are copied as they are (the
 * caller passes UTF-8). Errors land in b->err. */
void acme_json_put_str(acme_buf_t *b, const char *s, size_t len);

/* Writes v compactly (no whitespace; members in document order; numbers
 * as written; strings through acme_json_put_str). A tree from
 * acme_json_parse written this way parses again to the same tree. */
void acme_json_write(acme_buf_t *b, const acme_json_t *v);

#endif
