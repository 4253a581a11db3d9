/* Master files (RFC 1035 §5).
 *
 * Supports $ORIGIN, $TTL (RFC 2308), $INCLUDE, BIND's $GENERATE, `@`,
 * relative names, omitted owner/TTL/class, parentheses across lines,
 * comments, quoted strings with escapes, every type of dns/rr.h in
 * presentation form and in RFC 3597 generic form.
 *
 * Defaults: an omitted owner is the previous record's; an omitted TTL is
 * the $TTL value, else (RFC 1035 §5.1) the last explicit TTL, else
 * opts->default_ttl; an omitted class is the last explicit one (IN at
 * first). TTL and class may come in either order; TTLs take units
 * (`1h30m`, `2w`) and must be at most 2^31-1 (RFC 2181 §8).
 * $INCLUDE paths are relative to the including file's folder; the
 * included file starts with the includer's origin (or the one given),
 * owner, TTL and class, and what it changes does not come back.
 * $GENERATE start-stop[/step] lhs [ttl] [class] type rhs... expands `$`
 * and `${offset[,width[,base]]}` (bases d o x X n N) in every field after
 * the range; `\$` is a literal `$`. A UTF-8 byte order mark is skipped.
 */
#ifndef ZL_ZONE_PARSE_H
#define ZL_ZONE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "zone/zone.h"

/* Called once per record, in file order. rec and everything it points to
 * is only valid during the call (rec->file too, for records of $INCLUDEd
 * files: zone_load_file copies the names the builder keeps). A non-zero
 * return stops parsing and is returned by the parse function. */
typedef int (*zone_rec_fn)(void *ctx, const dns_rr_t *rec);

/* The text of one file, as a source hands it over. */
typedef struct zone_text {
    const char *text;  /* the file's bytes (no NUL needed), valid until close */
    size_t len;
    void *handle;      /* the source's own, for close */
} zone_text_t;

/* Where the parser reads files (the zone file and its $INCLUDEs): the
 * file system, or a caller's store (the git store's blobs). open fills
 * *out for path (as the parser resolved it: an $INCLUDE path relative to
 * the including file's folder, so "a/b" including "c" opens "a/c") and
 * returns ZL_OK, or an error (ZL_EIO, ZL_ENOTFOUND, ZL_ENOMEM) with *why a
 * message for the report (static or owned by the source). close (may be
 * NULL) releases what open handed over; the parser calls it once per
 * successful open, after the file's last record. */
typedef struct zone_source {
    int (*open)(void *ctx, const char *path, zone_text_t *out, const char **why);
    void (*close)(void *ctx, zone_text_t *t);
    void *ctx;
} zone_source_t;

typedef struct zone_parse_opts {
    const uint8_t *origin;  /* initial $ORIGIN (required) */
    uint32_t default_ttl;   /* TTL before any $TTL or explicit TTL (0 means 3600) */
    unsigned max_include;   /* $INCLUDE nesting limit (0 means 8) */
    size_t max_errors;      /* stop after this many errors (0 means 100) */
    const zone_source_t *source; /* borrowed; NULL: the file system */
} zone_parse_opts_t;

/* Parses the file at path (read from opts->source). Every syntax error is
 * reported (file, line, what was wrong) and parsing goes on with the next
 * record; the result is ZL_OK only when there was no error, else
 * ZL_ESYNTAX (or ZL_EIO when the file cannot be read, or fn's non-zero
 * return). */
int zone_parse_file(const char *path, const zone_parse_opts_t *opts,
                    zone_rec_fn fn, void *ctx, const zone_report_t *rep);

/* The same over text[0..len); `name` is used as the file name in reports;
 * $INCLUDE paths are relative to the current directory (file system) or
 * passed as written (a source). */
int zone_parse_text(const char *text, size_t len, const char *name,
                    const zone_parse_opts_t *opts, zone_rec_fn fn, void *ctx,
                    const zone_report_t *rep);

/* Parses and validates a whole zone file, read from src (borrowed; NULL:
 * the file system), into a new zone (*out owned by the caller). ZL_OK, or
 * an error with every problem reported. */
int zone_load(const zone_source_t *src, const char *path, const uint8_t *origin,
              zone_t **out, const zone_report_t *rep);

/* zone_load from the file system. */
int zone_load_file(const char *path, const uint8_t *origin, zone_t **out,
                   const zone_report_t *rep);

#endif
