/* zone_load: parser + builder. The builder borrows each record's
 * file name for its whole life, but the parser's names (of $INCLUDE
 * files) live only during one callback, so they are copied here once per
 * file and freed after zone_builder_finish. */
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "zone/parse.h"

typedef struct load_ctx {
    zone_builder_t *b;
    const zone_report_t *rep;
    char **files;   /* interned file names, owned */
    size_t nfiles, cap;
} load_ctx_t;

static const char *load_intern(load_ctx_t *lc, const char *f)
{
    if (!f)
        return NULL;
    /* Records come file by file: the last name almost always matches. */
    for (size_t i = lc->nfiles; i-- > 0;)
        if (strcmp(lc->files[i], f) == 0)
            return lc->files[i];
    if (lc->nfiles == lc->cap) {
        size_t cap = lc->cap ? 2 * lc->cap : 4;
        char **n = realloc(lc->files, cap * sizeof(*n));
        if (!n)
            return NULL;
        lc->files = n;
        lc->cap = cap;
    }
    char *copy = strdup(f);
    if (copy)
        lc->files[lc->nfiles++] = copy;
    return copy;
}

static int load_add(void *ctx, const dns_rr_t *rec)
{
    load_ctx_t *lc = ctx;
    dns_rr_t r = *rec;
    r.file = load_intern(lc, rec->file);
    if (rec->file && !r.file)
        return ZL_ENOMEM;
    return zone_builder_add(lc->b, &r, lc->rep);
}

int zone_load_file(const char *path, const uint8_t *origin, zone_t **out,
                   const zone_report_t *rep)
{
    return zone_load(NULL, path, origin, out, rep);
}

int zone_load(const zone_source_t *src, const char *path, const uint8_t *origin,
              zone_t **out, const zone_report_t *rep)
{
    load_ctx_t lc = { .rep = rep };
    zone_t *z = NULL;
    *out = NULL;
    lc.b = zone_builder_new(origin);
    if (!lc.b)
        return ZL_ENOMEM;
    zone_parse_opts_t opts = { .origin = origin, .source = src };
    int rc = zone_parse_file(path, &opts, load_add, &lc, rep);
    if (rc == ZL_OK) {
        rc = zone_builder_finish(lc.b, &z, rep);
    } else {
        /* Validating a zone with syntax errors would mostly report their
         * consequences (no SOA when the SOA line was bad): stay quiet. */
        (void)zone_builder_finish(lc.b, &z, NULL);
        zone_free(z);
        z = NULL;
    }
    for (size_t i = 0; i < lc.nfiles; i++)
        free(lc.files[i]);
    free(lc.files);
    *out = z;
    return rc;
}
