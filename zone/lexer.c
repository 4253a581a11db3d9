#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/lexer.h"

void zone_lex_init(zone_lexer_t *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->p = text;
    lx->end = text + len;
    lx->line = 1;
    /* A UTF-8 byte order mark, as some editors write, is not an owner. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        lx->p += 3;
}

void zone_lex_free(zone_lexer_t *lx)
{
    free(lx->tok);
    lx->tok = NULL;
    lx->cap = lx->ntok = 0;
}

static void lex_fail(zone_lexer_t *lx, const char *msg, unsigned line)
{
    if (!lx->err) {
        lx->err = msg;
        lx->err_line = line;
    }
}

static int lex_push(zone_lexer_t *lx, const char *s, size_t len, bool quoted)
{
    if (lx->ntok == lx->cap) {
        size_t cap = lx->cap ? 2 * lx->cap : 64;
        dns_tok_t *t = realloc(lx->tok, cap * sizeof(*t));
        if (!t)
            return ZL_ENOMEM;
        lx->tok = t;
        lx->cap = cap;
    }
    if (lx->ntok == 0)
        lx->rec_line = lx->line;
    lx->tok[lx->ntok++] = (dns_tok_t){ s, len, quoted };
    return ZL_OK;
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
           c == '(' || c == ')' || c == '"';
}

/* A quoted string: `\"` does not end it; a newline does (as an error), so
 * one missing quote cannot swallow the rest of the file. */
static int lex_quoted(zone_lexer_t *lx)
{
    const char *s = ++lx->p;
    while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
        if (*lx->p == '\\' && lx->p + 1 < lx->end && lx->p[1] != '\n')
            lx->p++;
        lx->p++;
    }
    if (lx->p >= lx->end || *lx->p != '"') {
        lex_fail(lx, "unterminated quoted string", lx->line);
        return lex_push(lx, s, (size_t)(lx->p - s), true);
    }
    int rc = lex_push(lx, s, (size_t)(lx->p - s), true);
    lx->p++;
    return rc;
}

static int lex_word(zone_lexer_t *lx)
{
    const char *s = lx->p;
    while (lx->p < lx->end && !is_delim(*lx->p)) {
        if (*lx->p == '\\') {
            if (lx->p + 1 >= lx->end || lx->p[1] == '\n') {
                lex_fail(lx, "backslash at end of line", lx->line);
                lx->p++;
                break;
            }
            lx->p++; /* the escaped octet, even a blank or delimiter */
        }
        lx->p++;
    }
    return lex_push(lx, s, (size_t)(lx->p - s), false);
}

/* One logical record: up to a newline outside parentheses, or the end. */
static int lex_record(zone_lexer_t *lx)
{
    unsigned depth = 0, open_line = 0;
    int rc = ZL_OK;
    while (lx->p < lx->end && rc == ZL_OK) {
        char c = *lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
            if (depth == 0)
                return ZL_OK;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == ';') {
            const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
            lx->p = nl ? nl : lx->end;
        } else if (c == '(') {
            if (depth++ == 0)
                open_line = lx->line;
            lx->p++;
        } else if (c == ')') {
            if (depth == 0)
                lex_fail(lx, "unbalanced ')'", lx->line);
            else
                depth--;
            lx->p++;
        } else if (c == '"') {
            rc = lex_quoted(lx);
        } else {
            rc = lex_word(lx);
        }
    }
    if (rc == ZL_OK && depth > 0)
        lex_fail(lx, "'(' not closed before the end of the file", open_line);
    return rc;
}

int zone_lex_next(zone_lexer_t *lx)
{
    while (lx->p < lx->end) {
        lx->ntok = 0;
        lx->err = NULL;
        lx->rec_line = lx->line;
        lx->lead_blank = *lx->p == ' ' || *lx->p == '\t';
        int rc = lex_record(lx);
        if (rc < 0)
            return rc;
        if (lx->ntok > 0 || lx->err)
            return 1;
    }
    return 0;
}
