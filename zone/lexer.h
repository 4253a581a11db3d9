/* Master-file lexer (private to zone/parse.c).
 *
 * Splits a text buffer into logical records (RFC 1035 §5.1): tokens
 * separated by blanks, `;` comments, `( ... )` joining lines, quoted
 * strings. Tokens point into the buffer (borrowed, no copies): quotes are
 * removed, backslash escapes are kept as written for the field parsers.
 * One token array is reused for every record (grown by doubling), so the
 * lexer allocates nothing per record.
 */
#ifndef ZL_ZONE_LEXER_H
#define ZL_ZONE_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "dns/rr.h"

typedef struct zone_lexer {
    const char *p, *end;  /* cursor over the borrowed text */
    unsigned line;        /* line of the cursor, from 1 */
    dns_tok_t *tok;       /* tokens of the current record, owned */
    size_t ntok, cap;
    unsigned rec_line;    /* line of the record's first token */
    bool lead_blank;      /* the record's line starts with a blank */
    const char *err;      /* lexical error in this record (static text) */
    unsigned err_line;
} zone_lexer_t;

/* Starts lexing text[0..len) (borrowed for the lexer's life). */
void zone_lex_init(zone_lexer_t *lx, const char *text, size_t len);

/* Reads the next non-empty logical record into lx->tok[0..ntok).
 * Returns 1 when a record was read (check lx->err: on a lexical error the
 * rest of the record was skipped, and err/err_line say what and where),
 * 0 at the end of the text, ZL_ENOMEM. */
int zone_lex_next(zone_lexer_t *lx);

/* Frees the token array. */
void zone_lex_free(zone_lexer_t *lx);

/* BIND's $GENERATE substitution (zone/generate.c): copies tok to
 * out[0..cap) replacing `$` by value and `${offset[,width[,base]]}` by
 * value+offset in base d, o, x, X or nibble labels n/N (width counts
 * output characters, zero-padded). `\$` and other escapes are copied
 * as written. Returns the length or ZL_ESYNTAX/ZL_ERANGE/ZL_ESPACE with
 * *why set to a static message. */
int zone_gen_expand(const dns_tok_t *tok, long value, char *out, size_t cap,
                    const char **why);

#endif
