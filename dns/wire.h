/* Bounds-checked cursor over wire bytes with a sticky error.
 *
 * Every read and write of packet, journal or git bytes goes through this
 * cursor. After the first error (ZL_EMALF on a short read, ZL_ESPACE on a
 * short write) every further call is a no-op, reads yield zero, and
 * `err` keeps the first error, so a sequence of calls is checked once at
 * the end. The cursor borrows its buffer.
 */
#ifndef ZL_DNS_WIRE_H
#define ZL_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns/err.h"

typedef struct dns_wire {
    uint8_t *base; /* buffer start; compression offsets are relative to it */
    size_t pos;    /* current offset */
    size_t len;    /* readable length, or writable capacity */
    int err;       /* first error, ZL_OK while none */
    bool ro;       /* read-only: writes fail with ZL_EINVAL */
} dns_wire_t;

/* Cursor for writing into buf[0..cap). */
static inline void dns_wire_init(dns_wire_t *w, uint8_t *buf, size_t cap)
{
    w->base = buf; w->pos = 0; w->len = cap; w->err = ZL_OK; w->ro = false;
}

/* Cursor for reading buf[0..len). */
static inline void dns_wire_init_ro(dns_wire_t *w, const uint8_t *buf, size_t len)
{
    w->base = (uint8_t *)buf; w->pos = 0; w->len = len; w->err = ZL_OK; w->ro = true;
}

static inline bool dns_wire_ok(const dns_wire_t *w) { return w->err == ZL_OK; }
static inline size_t dns_wire_avail(const dns_wire_t *w) { return w->err ? 0 : w->len - w->pos; }
static inline const uint8_t *dns_wire_cur(const dns_wire_t *w) { return w->base + w->pos; }

/* Sets the sticky error unless one is already set. */
static inline void dns_wire_fail(dns_wire_t *w, int err)
{
    if (w->err == ZL_OK)
        w->err = err;
}

/* True when n more bytes can be read (or written); sets the error if not. */
static inline bool dns_wire_need(dns_wire_t *w, size_t n)
{
    if (w->err)
        return false;
    if (n > w->len - w->pos) {
        dns_wire_fail(w, w->ro ? ZL_EMALF : ZL_ESPACE);
        return false;
    }
    return true;
}

static inline bool dns_wire_need_w(dns_wire_t *w, size_t n)
{
    if (w->ro) {
        dns_wire_fail(w, ZL_EINVAL);
        return false;
    }
    return dns_wire_need(w, n);
}

/* Moves to absolute offset off (<= len). */
static inline void dns_wire_seek(dns_wire_t *w, size_t off)
{
    if (w->err)
        return;
    if (off > w->len)
        dns_wire_fail(w, w->ro ? ZL_EMALF : ZL_ESPACE);
    else
        w->pos = off;
}

static inline void dns_wire_skip(dns_wire_t *w, size_t n)
{
    if (dns_wire_need(w, n))
        w->pos += n;
}

static inline uint8_t dns_wire_u8(dns_wire_t *w)
{
    if (!dns_wire_need(w, 1))
        return 0;
    return w->base[w->pos++];
}

static inline uint16_t dns_wire_u16(dns_wire_t *w)
{
    if (!dns_wire_need(w, 2))
        return 0;
    const uint8_t *p = w->base + w->pos;
    w->pos += 2;
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dns_wire_u32(dns_wire_t *w)
{
    if (!dns_wire_need(w, 4))
        return 0;
    const uint8_t *p = w->base + w->pos;
    w->pos += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Copies n bytes to dst (zero-filled on error). */
static inline void dns_wire_read(dns_wire_t *w, void *dst, size_t n)
{
    if (!dns_wire_need(w, n)) {
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, w->base + w->pos, n);
    w->pos += n;
}

static inline void dns_wire_put_u8(dns_wire_t *w, uint8_t v)
{
    if (dns_wire_need_w(w, 1))
        w->base[w->pos++] = v;
}

static inline void dns_wire_put_u16(dns_wire_t *w, uint16_t v)
{
    if (!dns_wire_need_w(w, 2))
        return;
    w->base[w->pos] = (uint8_t)(v >> 8);
    w->base[w->pos + 1] = (uint8_t)v;
    w->pos += 2;
}

static inline void dns_wire_put_u32(dns_wire_t *w, uint32_t v)
{
    if (!dns_wire_need_w(w, 4))
        return;
    uint8_t *p = w->base + w->pos;
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
    w->pos += 4;
}

static inline void dns_wire_write(dns_wire_t *w, const void *src, size_t n)
{
    if (!dns_wire_need_w(w, n))
        return;
    if (n)
        memcpy(w->base + w->pos, src, n);
    w->pos += n;
}

/* Big-endian helpers for bytes already bounds-checked by the caller. */
static inline uint16_t dns_get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t dns_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void dns_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void dns_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
