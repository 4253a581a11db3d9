/* A growable byte buffer with a size bound and a sticky error.
 *
 * The ACME client builds JSON payloads, JWS objects, HTTP requests and
 * response bodies in these. Like the wire cursor (dns/wire.h), the first
 * failure (ZL_ENOMEM, or ZL_ESPACE when the bound would be passed) is kept
 * in `err` and every later write is a no-op, so a sequence of writes is
 * checked once at the end. The bytes are always followed by a NUL that
 * `len` does not count, so text can be used as a C string.
 */
#ifndef ZL_ACME_BUF_H
#define ZL_ACME_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "dns/err.h"

typedef struct acme_buf {
    char *p;    /* owned heap bytes (NULL until the first write), NUL-terminated */
    size_t len; /* bytes written, not counting the NUL */
    size_t cap; /* allocated size of p */
    size_t max; /* bound on len */
    int err;    /* first error, ZL_OK while none */
} acme_buf_t;

/* An empty buffer that may hold up to max bytes (0: 16 MiB). */
void acme_buf_init(acme_buf_t *b, size_t max);

/* Appends n bytes from p (borrowed). */
void acme_buf_put(acme_buf_t *b, const void *p, size_t n);

/* Appends the C string s (borrowed). */
void acme_buf_puts(acme_buf_t *b, const char *s);

/* Appends one byte. */
void acme_buf_putc(acme_buf_t *b, char c);

/* Appends printf-formatted text. */
void acme_buf_printf(acme_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text so far: "" when nothing was written, never NULL. Borrowed from
 * b; valid until the next write, reset or free. */
const char *acme_buf_str(const acme_buf_t *b);

/* Forgets the contents and the error; keeps the memory and the bound. */
void acme_buf_reset(acme_buf_t *b);

/* Frees the memory; b is empty (and usable) afterwards. */
void acme_buf_free(acme_buf_t *b);

/* Hands the bytes to the caller (free() them) and leaves b empty; NULL
 * when b holds an error (which is then cleared). *len gets the length
 * when len is not NULL. Never NULL on success (an empty buffer gives ""). */
char *acme_buf_take(acme_buf_t *b, size_t *len);

#endif
