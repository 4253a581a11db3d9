/* Master-file parser (RFC 1035 §5, RFC 2308 $TTL, RFC 3597, BIND's
 * $GENERATE). The lexer hands over one logical record at a time; this
 * file resolves owner/TTL/class defaults and directives, and leaves the
 * RDATA to dns_rdata_from_text. Nothing is allocated per record: one
 * RDATA buffer and one token array serve the whole file. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "zone/lexer.h"
#include "zone/parse.h"

#define TTL_MAX 0x7fffffffUL   /* RFC 2181 §8 */
#define GEN_COUNT_MAX 1000000  /* records one $GENERATE may make */
#define GEN_BUF 65536

typedef struct pstate {
    const zone_source_t *src;  /* NULL: the file system */
    zone_rec_fn fn;
    void *ctx;
    const zone_report_t *rep;
    unsigned max_include;
    size_t max_errors, nerr;
    int stop;                  /* fn's return, ZL_ENOMEM or too many errors */
    uint8_t rdata[65535];
    char *gen;                 /* $GENERATE expansions of one record, owned;
                                * made at the first $GENERATE only, so that
                                * parsing one line stays a small allocation */
} pstate_t;

typedef struct pfile {
    const char *name;          /* for reports and relative $INCLUDEs */
    bool text;                 /* zone_parse_text: includes relative to the
                                * current folder or the source's root */
    unsigned depth;
    zone_lexer_t lx;
    uint8_t origin[DNS_NAME_MAX];
    uint8_t owner[DNS_NAME_MAX];
    bool have_owner, bad_owner; /* bad_owner: the last owner did not parse */
    bool have_dollar_ttl, have_last_ttl;
    uint32_t dollar_ttl, last_ttl, default_ttl;
    uint16_t rclass;
} pfile_t;

static void parse_body(pstate_t *ps, pfile_t *pf);

static void perr(pstate_t *ps, const pfile_t *pf, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void perr(pstate_t *ps, const pfile_t *pf, unsigned line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->nerr++ >= ps->max_errors) {
        zone_reportf(ps->rep, ZONE_ERROR, pf->name, line, "too many errors, giving up");
        ps->stop = ZL_ESYNTAX;
        return;
    }
    zone_reportf(ps->rep, ZONE_ERROR, pf->name, line, "%s", msg);
}

/* The record's tokens as text for a message, shortened. */
static const char *tok_join(const dns_tok_t *t, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        int k = snprintf(buf + o, cap - o, "%s%s%.*s%s", i ? " " : "", t[i].quoted ? "\"" : "",
                         (int)t[i].len, t[i].s, t[i].quoted ? "\"" : "");
        if (k < 0 || (size_t)k >= cap - o) {
            memcpy(buf + cap - 4, "...", 4);
            return buf;
        }
        o += (size_t)k;
    }
    return buf;
}

static bool tok_is(const dns_tok_t *t, const char *word)
{
    return !t->quoted && strlen(word) == t->len && strncasecmp(t->s, word, t->len) == 0;
}

/* TTL in seconds or with units (`1h30m`, `1w`; RFC 2308 §4 via BIND). */
static int ttl_parse(const dns_tok_t *t, uint32_t *out)
{
    uint64_t total = 0, num = 0;
    bool digits = false;
    if (t->quoted || t->len == 0)
        return ZL_ESYNTAX;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->s[i];
        if (c >= '0' && c <= '9') {
            num = num * 10 + (uint64_t)(c - '0');
            digits = true;
            if (num > 0xffffffffULL)
                return ZL_ERANGE;
            continue;
        }
        static const char units[] = "smhdw";
        static const uint32_t mult[] = { 1, 60, 3600, 86400, 604800 };
        const char *u = c ? strchr(units, c | 0x20) : NULL;
        if (!digits || !u)
            return ZL_ESYNTAX;
        total += num * mult[u - units];
        num = 0;
        digits = false;
        if (total > 0xffffffffULL)
            return ZL_ERANGE;
    }
    total += num;
    if (total > TTL_MAX)
        return ZL_ERANGE;
    *out = (uint32_t)total;
    return ZL_OK;
}

static uint32_t ttl_default(const pfile_t *pf)
{
    if (pf->have_dollar_ttl)
        return pf->dollar_ttl;
    /* RFC 1035 §5.1: without $TTL the last explicit TTL carries on. */
    return pf->have_last_ttl ? pf->last_ttl : pf->default_ttl;
}

/* Reads the optional TTL and class (either order) at t[*i]. */
static bool rec_ttl_class(pstate_t *ps, pfile_t *pf, unsigned line, const dns_tok_t *t,
                          size_t n, size_t *i, uint32_t *ttl, uint16_t *rclass)
{
    bool have_ttl = false, have_class = false;
    while (*i + 1 < n && !t[*i].quoted && t[*i].len) {
        const dns_tok_t *x = &t[*i];
        if (!have_ttl && x->s[0] >= '0' && x->s[0] <= '9') {
            int rc = ttl_parse(x, ttl);
            if (rc < 0) {
                perr(ps, pf, line, "%s '%.*s'", rc == ZL_ERANGE ? "TTL out of range" : "bad TTL",
                     (int)x->len, x->s);
                return false;
            }
            have_ttl = true;
        } else if (!have_class && dns_class_from_text(x->s, x->len, rclass) == ZL_OK) {
            have_class = true;
        } else {
            break;
        }
        (*i)++;
    }
    if (have_ttl) {
        pf->last_ttl = *ttl;
        pf->have_last_ttl = true;
    } else {
        *ttl = ttl_default(pf);
    }
    if (have_class)
        pf->rclass = *rclass;
    return true;
}

/* Everything after the owner: [TTL] [class] type RDATA. */
static void rec_emit(pstate_t *ps, pfile_t *pf, unsigned line, const uint8_t *owner,
                     const dns_tok_t *t, size_t n)
{
    uint32_t ttl;
    uint16_t rclass = pf->rclass, type;
    size_t i = 0;
    char text[160];
    if (!rec_ttl_class(ps, pf, line, t, n, &i, &ttl, &rclass))
        return;
    if (i >= n) {
        perr(ps, pf, line, "missing type");
        return;
    }
    if (t[i].quoted || dns_type_from_text(t[i].s, t[i].len, &type) != ZL_OK) {
        perr(ps, pf, line, "unknown type '%.*s'", (int)t[i].len, t[i].s);
        return;
    }
    /* Meta types (RFC 6895 §3.1) parse here; the zone builder ignores them
     * with a warning, as Knot DNS and NSD load them. */
    const char *why = NULL;
    int len = dns_rdata_from_text(type, t + i + 1, n - i - 1, pf->origin, ps->rdata,
                                  sizeof(ps->rdata), &why);
    if (len < 0) {
        perr(ps, pf, line, "%s '%s'", why ? why : zl_strerror(len),
             tok_join(t + i + 1, n - i - 1, text, sizeof(text)));
        return;
    }
    dns_rr_t rec = { .owner = owner, .type = type, .rclass = rclass, .ttl = ttl,
                       .rdlen = (uint16_t)len, .rdata = ps->rdata,
                       .file = pf->name, .line = line };
    int rc = ps->fn(ps->ctx, &rec);
    if (rc != 0)
        ps->stop = rc;
}

static bool name_tok(pstate_t *ps, pfile_t *pf, unsigned line, const char *what,
                     const dns_tok_t *t, uint8_t out[DNS_NAME_MAX])
{
    int rc = dns_name_from_text(t->s, t->len, pf->origin, out);
    if (rc < 0) {
        perr(ps, pf, line, "bad %s '%.*s': %s", what, (int)t->len, t->s, zl_strerror(rc));
        return false;
    }
    return true;
}

/* Reads a whole regular file into a new buffer (*out owned by the
 * caller). On failure *why says why. */
static int read_all(const char *path, char **out, size_t *len, const char **why)
{
    *why = "not a regular file";
    /* O_NONBLOCK: a FIFO named by $INCLUDE must not hang the parser. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = strerror(errno);
        return ZL_EIO;
    }
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    int e = 0;
    if (fstat(fd, &st) != 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = -1;
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        e = ENOMEM;
    while (!e && n < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
        if (k < 0 && errno != EINTR)
            e = errno;
        if (k == 0)
            break; /* a file that shrank is parsed as it now is */
        if (k > 0)
            n += (size_t)k;
    }
    close(fd);
    if (e) {
        free(buf);
        if (e > 0)
            *why = strerror(e);
        return e == ENOMEM ? ZL_ENOMEM : ZL_EIO;
    }
    *out = buf;
    *len = n;
    return ZL_OK;
}

/* Opens path from src, or from the file system (src NULL). */
static int src_open(const zone_source_t *src, const char *path, zone_text_t *t,
                    const char **why)
{
    *t = (zone_text_t){ 0 };
    *why = "cannot be read";
    if (src)
        return src->open(src->ctx, path, t, why);
    char *buf = NULL;
    int rc = read_all(path, &buf, &t->len, why);
    t->text = buf;
    t->handle = buf;
    return rc;
}

static void src_close(const zone_source_t *src, zone_text_t *t)
{
    if (!src)
        free(t->handle);
    else if (src->close)
        src->close(src->ctx, t);
}

/* $INCLUDE path [origin]: path relative to the including file's folder;
 * the included file starts with this file's state, and nothing it sets
 * ($ORIGIN, $TTL) comes back (RFC 1035 §5.1). */
static void dir_include(pstate_t *ps, pfile_t *pf, const dns_tok_t *t, size_t n)
{
    unsigned line = pf->lx.rec_line;
    if (n < 2 || n > 3) {
        perr(ps, pf, line, "$INCLUDE needs a file name and an optional origin");
        return;
    }
    if (pf->depth >= ps->max_include) {
        perr(ps, pf, line, "$INCLUDE nested deeper than %u files", ps->max_include);
        return;
    }
    pfile_t *c = malloc(sizeof(*c));
    if (!c) {
        ps->stop = ZL_ENOMEM;
        return;
    }
    *c = *pf;
    c->depth = pf->depth + 1;
    if (n == 3 && !name_tok(ps, pf, line, "$INCLUDE origin", &t[2], c->origin)) {
        free(c);
        return;
    }
    const char *slash = pf->text ? NULL : strrchr(pf->name, '/');
    int dirlen = (t[1].len && t[1].s[0] == '/') || !slash ? 0 : (int)(slash - pf->name + 1);
    char *path = NULL;
    const char *why;
    zone_text_t text;
    if (asprintf(&path, "%.*s%.*s", dirlen, pf->name, (int)t[1].len, t[1].s) < 0) {
        free(c);
        ps->stop = ZL_ENOMEM;
        return;
    }
    if (src_open(ps->src, path, &text, &why) != ZL_OK) {
        perr(ps, pf, line, "cannot read $INCLUDE file '%s': %s", path, why);
    } else {
        c->name = path;
        c->text = false;
        zone_lex_init(&c->lx, text.text, text.len);
        parse_body(ps, c);
        zone_lex_free(&c->lx);
        src_close(ps->src, &text);
    }
    free(path);
    free(c);
}

/* The range `start-stop[/step]` of $GENERATE. */
static bool gen_range(const dns_tok_t *t, long *start, long *stop, long *step)
{
    char buf[64];
    char tail;
    if (t->quoted || t->len >= sizeof(buf))
        return false;
    memcpy(buf, t->s, t->len);
    buf[t->len] = 0;
    *step = 1;
    int k = sscanf(buf, "%ld-%ld%c%ld", start, stop, &tail, step);
    if (k < 2 || (k >= 3 && tail != '/') || k == 3)
        return false;
    if (strspn(buf, "0123456789-/") != t->len)
        return false;
    return *start >= 0 && *stop >= *start && *stop <= 0x7fffffffL && *step >= 1;
}

/* $GENERATE start-stop[/step] lhs [ttl] [class] type rhs... (BIND). */
static void dir_generate(pstate_t *ps, pfile_t *pf, const dns_tok_t *t, size_t n)
{
    unsigned line = pf->lx.rec_line;
    long start, stop, step;
    if (n < 5) {
        perr(ps, pf, line, "$GENERATE needs a range, a name, a type and data");
        return;
    }
    if (!gen_range(&t[1], &start, &stop, &step)) {
        perr(ps, pf, line, "bad $GENERATE range '%.*s'", (int)t[1].len, t[1].s);
        return;
    }
    if ((stop - start) / step >= GEN_COUNT_MAX) {
        perr(ps, pf, line, "$GENERATE range makes more than %d records", GEN_COUNT_MAX);
        return;
    }
    size_t m = n - 2; /* lhs, then the tokens after it */
    dns_tok_t *g = malloc(m * sizeof(*g));
    if (!ps->gen)
        ps->gen = malloc(GEN_BUF);
    if (!g || !ps->gen) {
        free(g);
        ps->stop = ZL_ENOMEM;
        return;
    }
    uint8_t owner[DNS_NAME_MAX];
    size_t nerr = ps->nerr;
    for (long v = start; v <= stop && !ps->stop && ps->nerr == nerr; v += step) {
        size_t used = 0;
        for (size_t i = 0; i < m; i++) {
            const char *why = NULL;
            int k = zone_gen_expand(&t[i + 2], v, ps->gen + used, GEN_BUF - used, &why);
            if (k < 0) {
                perr(ps, pf, line, "%s", why);
                goto out;
            }
            g[i] = (dns_tok_t){ ps->gen + used, (size_t)k, t[i + 2].quoted };
            used += (size_t)k;
        }
        if (name_tok(ps, pf, line, "$GENERATE owner", &g[0], owner))
            rec_emit(ps, pf, line, owner, g + 1, m - 1);
    }
out:
    free(g);
}

static void directive(pstate_t *ps, pfile_t *pf)
{
    const dns_tok_t *t = pf->lx.tok;
    size_t n = pf->lx.ntok;
    unsigned line = pf->lx.rec_line;
    uint8_t name[DNS_NAME_MAX];
    if (tok_is(&t[0], "$ORIGIN")) {
        if (n != 2)
            perr(ps, pf, line, "$ORIGIN needs one name");
        else if (name_tok(ps, pf, line, "$ORIGIN", &t[1], name))
            dns_name_copy(pf->origin, name);
    } else if (tok_is(&t[0], "$TTL")) {
        int rc = n == 2 ? ttl_parse(&t[1], &pf->dollar_ttl) : ZL_ESYNTAX;
        if (rc < 0)
            perr(ps, pf, line, "%s", rc == ZL_ERANGE ? "$TTL out of range" : "$TTL needs one TTL");
        else
            pf->have_dollar_ttl = true;
    } else if (tok_is(&t[0], "$INCLUDE")) {
        dir_include(ps, pf, t, n);
    } else if (tok_is(&t[0], "$GENERATE")) {
        dir_generate(ps, pf, t, n);
    } else {
        perr(ps, pf, line, "unknown directive '%.*s'", (int)t[0].len, t[0].s);
    }
}

static void parse_record(pstate_t *ps, pfile_t *pf)
{
    zone_lexer_t *lx = &pf->lx;
    const dns_tok_t *t = lx->tok;
    if (lx->err) {
        perr(ps, pf, lx->err_line, "%s", lx->err);
        return;
    }
    if (!lx->lead_blank && !t[0].quoted && t[0].len && t[0].s[0] == '$') {
        directive(ps, pf);
        return;
    }
    if (!lx->lead_blank) {
        pf->have_owner = name_tok(ps, pf, lx->rec_line, "owner name", &t[0], pf->owner);
        pf->bad_owner = !pf->have_owner;
        if (pf->have_owner)
            rec_emit(ps, pf, lx->rec_line, pf->owner, t + 1, lx->ntok - 1);
    } else if (pf->have_owner) {
        rec_emit(ps, pf, lx->rec_line, pf->owner, t, lx->ntok);
    } else if (!pf->bad_owner) {
        /* After a bad owner, the records that would share it stay quiet. */
        perr(ps, pf, lx->rec_line, "record without an owner name");
    }
}

static void parse_body(pstate_t *ps, pfile_t *pf)
{
    while (!ps->stop) {
        int rc = zone_lex_next(&pf->lx);
        if (rc < 0)
            ps->stop = rc;
        if (rc <= 0)
            return;
        parse_record(ps, pf);
    }
}

static int parse_run(const char *text, size_t len, const char *name, bool is_text,
                     const zone_parse_opts_t *opts, zone_rec_fn fn, void *ctx,
                     const zone_report_t *rep)
{
    if (!opts || !opts->origin || !fn)
        return ZL_EINVAL;
    pstate_t *ps = malloc(sizeof(*ps));
    pfile_t *pf = calloc(1, sizeof(*pf));
    int rc = ZL_ENOMEM;
    if (ps && pf) {
        ps->src = opts->source;
        ps->fn = fn;
        ps->ctx = ctx;
        ps->rep = rep;
        ps->max_include = opts->max_include ? opts->max_include : 8;
        ps->max_errors = opts->max_errors ? opts->max_errors : 100;
        ps->nerr = 0;
        ps->stop = 0;
        ps->gen = NULL;
        pf->name = name;
        pf->text = is_text;
        pf->default_ttl = opts->default_ttl ? opts->default_ttl : 3600;
        pf->rclass = DNS_C_IN;
        dns_name_copy(pf->origin, opts->origin);
        zone_lex_init(&pf->lx, text, len);
        parse_body(ps, pf);
        zone_lex_free(&pf->lx);
        rc = ps->stop ? ps->stop : ps->nerr ? ZL_ESYNTAX : ZL_OK;
        free(ps->gen);
    }
    free(ps);
    free(pf);
    return rc;
}

int zone_parse_text(const char *text, size_t len, const char *name,
                    const zone_parse_opts_t *opts, zone_rec_fn fn, void *ctx,
                    const zone_report_t *rep)
{
    return parse_run(text, len, name, true, opts, fn, ctx, rep);
}

int zone_parse_file(const char *path, const zone_parse_opts_t *opts,
                    zone_rec_fn fn, void *ctx, const zone_report_t *rep)
{
    zone_text_t text;
    const char *why;
    if (!opts)
        return ZL_EINVAL;
    int rc = src_open(opts->source, path, &text, &why);
    if (rc != ZL_OK) {
        zone_reportf(rep, ZONE_ERROR, path, 0, "cannot read: %s", why);
        return rc == ZL_ENOMEM ? rc : ZL_EIO;
    }
    rc = parse_run(text.text, text.len, path, false, opts, fn, ctx, rep);
    src_close(opts->source, &text);
    return rc;
}
