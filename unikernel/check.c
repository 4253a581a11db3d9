/* `zonelet check [--strict] [--origin NAME] FILE...`: parses and
 * validates zone and key files the way the server loads them, and reports
 * like a compiler (`file:line: error: message`, `file:line: warning:
 * message`) so that it fits a git pre-receive hook. Warnings (records the
 * server loads but does not serve) leave the exit status 0 unless
 * --strict makes them errors.
 *
 * A zone's origin is its file's basename (DESIGN.md: one file per zone,
 * named after it) unless --origin names it (for the files after it).
 * `_keys` and `<zone>._keys` hold TSIG keys as DNSKEY records whose
 * algorithm field is the HMAC and whose name carries the rights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/keys.h"
#include "zone/parse.h"
#include "unikernel/cmd.h"

/* Messages of one file, printed in line order once the file is done
 * (the builder finds problems in name order). */
typedef struct check_msg {
    char *file, *text;  /* owned */
    unsigned line;
    zone_severity_t sev;
    size_t fileno, seq; /* order of the file's first message; arrival */
} check_msg_t;

/* A zone checked under the wrong name can have a million problems: the
 * first CHECK_MSG_MAX are kept (and sorted), the rest only counted. */
#define CHECK_MSG_MAX 1000

typedef struct check_msgs {
    check_msg_t *m;
    size_t n, cap, dropped;
    size_t warnings;    /* counted, printed or not */
    bool strict;        /* warnings are errors */
} check_msgs_t;

static const char *check_label(const check_msgs_t *m, zone_severity_t sev)
{
    return sev == ZONE_WARNING && !m->strict ? "warning" : "error";
}

static void check_collect(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                          const char *msg)
{
    check_msgs_t *m = ctx;
    file = file ? file : "-";
    m->warnings += sev == ZONE_WARNING;
    if (m->n == CHECK_MSG_MAX) {
        m->dropped++;
        return;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        check_msg_t *l = realloc(m->m, cap * sizeof(*l));
        if (!l) {
            fprintf(stderr, "%s:%u: %s: %s (out of memory)\n", file, line,
                    check_label(m, sev), msg);
            return;
        }
        m->m = l;
        m->cap = cap;
    }
    check_msg_t *c = &m->m[m->n];
    c->fileno = m->n;
    for (size_t i = m->n; i-- > 0;)
        if (strcmp(m->m[i].file, file) == 0) {
            c->fileno = m->m[i].fileno;
            break;
        }
    c->file = strdup(file);
    c->text = strdup(msg);
    c->line = line;
    c->sev = sev;
    c->seq = m->n;
    if (!c->file || !c->text) {
        fprintf(stderr, "%s:%u: %s: %s (out of memory)\n", file, line, check_label(m, sev), msg);
        free(c->file);
        free(c->text);
        return;
    }
    m->n++;
}

static int check_msg_cmp(const void *x, const void *y)
{
    const check_msg_t *a = x, *b = y;
    if (a->fileno != b->fileno)
        return a->fileno < b->fileno ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void check_flush(check_msgs_t *m)
{
    if (m->n)
        qsort(m->m, m->n, sizeof(*m->m), check_msg_cmp);
    for (size_t i = 0; i < m->n; i++) {
        check_msg_t *c = &m->m[i];
        const char *tail = c->sev == ZONE_WARNING && m->strict ? " [--strict]" : "";
        if (c->line)
            fprintf(stderr, "%s:%u: %s: %s%s\n", c->file, c->line, check_label(m, c->sev),
                    c->text, tail);
        else
            fprintf(stderr, "%s: %s: %s%s\n", c->file, check_label(m, c->sev), c->text, tail);
        free(c->file);
        free(c->text);
    }
    if (m->dropped)
        fprintf(stderr, "... and %zu more\n", m->dropped);
    free(m->m);
    m->m = NULL;
    m->n = m->cap = m->dropped = m->warnings = 0;
}

/* Each check writes its one-line summary into sum (printed after the
 * file's messages). The key rules are zone/keys.c's, as the server's;
 * the key files of one run share a keyring, as the server's do, so a
 * key name used in two files is an error too. */
static int check_keys(const char *path, const uint8_t *zone, zone_keyring_t *kr,
                      const zone_report_t *rep, char *sum, size_t cap)
{
    size_t before = zone_keyring_count(kr);
    int rc = zone_keyring_load(kr, NULL, path, zone, rep);
    size_t n = zone_keyring_count(kr) - before;
    if (rc == ZL_OK)
        snprintf(sum, cap, "%s: %zu key%s\n", path, n, n == 1 ? "" : "s");
    return rc;
}

static int check_zone(const char *path, const uint8_t *origin, const zone_report_t *rep,
                      char *sum, size_t cap)
{
    zone_t *z = NULL;
    int rc = zone_load_file(path, origin, &z, rep);
    if (rc == ZL_OK)
        snprintf(sum, cap, "%s: serial %u, %zu records\n", path, (unsigned)zone_serial(z),
                 zone_record_count(z));
    zone_free(z);
    return rc;
}

/* One file: key file or zone, origin from --origin or the basename;
 * with strict, a file with warnings fails. */
static int check_file(const char *path, const char *origin_opt, zone_keyring_t *kr, bool strict)
{
    static const uint8_t root[1] = { 0 };
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t blen = strlen(base);
    bool keys = strcmp(base, "_keys") == 0 ||
                (blen > 6 && strcmp(base + blen - 6, "._keys") == 0);
    const char *otext = origin_opt ? origin_opt : base;
    size_t olen = origin_opt ? strlen(origin_opt) : keys ? (blen > 6 ? blen - 6 : 0) : blen;
    uint8_t origin[DNS_NAME_MAX];
    check_msgs_t msgs = { .strict = strict };
    zone_report_t rep = { check_collect, &msgs };
    char sum[4200] = "";
    int rc;
    if (olen == 0 && keys && !origin_opt) {
        rc = check_keys(path, NULL, kr, &rep, sum, sizeof(sum));
    } else if (dns_name_from_text(otext, olen, root, origin) < 0) {
        fprintf(stderr, "%s: error: '%.*s' is not a zone name (use --origin)\n", path,
                (int)olen, otext);
        return ZL_ESYNTAX;
    } else {
        rc = keys ? check_keys(path, origin, kr, &rep, sum, sizeof(sum))
                  : check_zone(path, origin, &rep, sum, sizeof(sum));
    }
    if (rc == ZL_OK && strict && msgs.warnings) {
        rc = ZL_EZONE;
        sum[0] = 0;
    }
    check_flush(&msgs);
    fputs(sum, stdout);
    if (rc != ZL_OK && rc != ZL_ESYNTAX && rc != ZL_EZONE && rc != ZL_EIO)
        fprintf(stderr, "%s: error: %s\n", path, zl_strerror(rc));
    return rc;
}

int cmd_check(int argc, char **argv)
{
    const char *origin = NULL;
    int files = 0, failed = 0;
    bool strict = false;
    for (int i = 1; i < argc; i++) /* wherever it is, for every file */
        strict |= strcmp(argv[i], "--strict") == 0;
    zone_keyring_t *kr = zone_keyring_new();
    if (!kr) {
        fprintf(stderr, "zonelet check: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0) {
            continue;
        } else if (strcmp(argv[i], "--origin") == 0 && i + 1 < argc) {
            origin = argv[++i];
        } else if (strncmp(argv[i], "--origin=", 9) == 0) {
            origin = argv[i] + 9;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            bool help = strcmp(argv[i], "--help") == 0;
            fprintf(help ? stdout : stderr,
                    "usage: zonelet check [--strict] [--origin NAME] FILE...\n"
                    "  Parses and validates zone files (origin: the file's name, or\n"
                    "  NAME for the files after --origin) and key files (_keys,\n"
                    "  <zone>._keys). Messages as file:line: error: ... and\n"
                    "  file:line: warning: ... (a record the server loads but does\n"
                    "  not serve, or ignores). Exit status 1 on any error (with\n"
                    "  --strict, on any warning too), 2 on bad usage.\n");
            zone_keyring_free(kr);
            return help ? 0 : 2;
        } else {
            files++;
            failed += check_file(argv[i], origin, kr, strict) != ZL_OK;
            fflush(stdout); /* messages, then the summary, in order in a hook */
        }
    }
    zone_keyring_free(kr);
    if (files == 0) {
        fprintf(stderr, "usage: zonelet check [--strict] [--origin NAME] FILE...\n");
        return 2;
    }
    return failed ? 1 : 0;
}
