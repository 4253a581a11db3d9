#include "acme/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MAX_DEFAULT ((size_t)16 << 20)

void acme_buf_init(acme_buf_t *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : BUF_MAX_DEFAULT;
    b->err = ZL_OK;
}

/* Room for n more bytes and the NUL. */
static int buf_room(acme_buf_t *b, size_t n)
{
    if (b->err)
        return 0;
    if (n > b->max - b->len) {
        b->err = ZL_ESPACE;
        return 0;
    }
    if (b->len + n + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->err = ZL_ENOMEM;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void acme_buf_put(acme_buf_t *b, const void *p, size_t n)
{
    if (!buf_room(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void acme_buf_puts(acme_buf_t *b, const char *s)
{
    acme_buf_put(b, s, strlen(s));
}

void acme_buf_putc(acme_buf_t *b, char c)
{
    acme_buf_put(b, &c, 1);
}

void acme_buf_printf(acme_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (!b->err)
            b->err = ZL_EINVAL;
        return;
    }
    if (!buf_room(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *acme_buf_str(const acme_buf_t *b)
{
    return b->p && !b->err ? b->p : "";
}

void acme_buf_reset(acme_buf_t *b)
{
    b->len = 0;
    b->err = ZL_OK;
    if (b->p)
        b->p[0] = '\0';
}

void acme_buf_free(acme_buf_t *b)
{
    free(b->p);
    acme_buf_init(b, b->max);
}

char *acme_buf_take(acme_buf_t *b, size_t *len)
{
    if (b->err) {
        acme_buf_free(b);
        return NULL;
    }
    char *p = b->p ? b->p : calloc(1, 1);
    if (len)
        *len = p ? b->len : 0;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
