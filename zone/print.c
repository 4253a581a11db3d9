#include <stdio.h>
#include <stdlib.h>

#include "dns/err.h"
#include "zone/print.h"

int zone_rec_to_text(const dns_rr_t *rec, char *buf, size_t cap)
{
    int o = dns_name_to_text(rec->owner, buf, cap);
    if (o < 0)
        return ZL_ESPACE;
    int k = snprintf(buf + o, cap - (size_t)o, " %u ", (unsigned)rec->ttl);
    if (k < 0 || (size_t)k >= cap - (size_t)o)
        return ZL_ESPACE;
    o += k;
    if ((k = dns_class_to_text(rec->rclass, buf + o, cap - (size_t)o)) < 0)
        return ZL_ESPACE;
    o += k;
    if ((size_t)o + 1 >= cap)
        return ZL_ESPACE;
    buf[o++] = ' ';
    if ((k = dns_type_to_text(rec->type, buf + o, cap - (size_t)o)) < 0)
        return ZL_ESPACE;
    o += k;
    if ((size_t)o + 1 >= cap)
        return ZL_ESPACE;
    buf[o++] = ' ';
    if ((k = dns_rdata_to_text(rec->type, rec->rdata, rec->rdlen, buf + o, cap - (size_t)o)) < 0)
        return ZL_ESPACE;
    o += k;
    if (k == 0)
        o--; /* empty RDATA (APL, for one): no trailing blank */
    if ((size_t)o + 2 > cap)
        return ZL_ESPACE;
    buf[o++] = '\n';
    buf[o] = 0;
    return o;
}

typedef struct print_ctx {
    FILE *f;
    char *buf;
    size_t cap;
} print_ctx_t;

static int print_one(void *ctx, const dns_rr_t *rec)
{
    print_ctx_t *pc = ctx;
    int n = zone_rec_to_text(rec, pc->buf, pc->cap);
    if (n < 0)
        return n;
    return fwrite(pc->buf, 1, (size_t)n, pc->f) == (size_t)n ? ZL_OK : ZL_EIO;
}

int zone_print(const zone_t *z, FILE *f)
{
    /* One line buffer for the longest possible record. */
    print_ctx_t pc = { f, NULL, DNS_RDATA_TEXT_MAX + DNS_NAME_TEXT_MAX + 64 };
    pc.buf = malloc(pc.cap);
    if (!pc.buf)
        return ZL_ENOMEM;
    int rc = zone_walk(z, print_one, &pc);
    free(pc.buf);
    if (rc == ZL_OK && fflush(f) != 0)
        rc = ZL_EIO;
    return rc;
}
