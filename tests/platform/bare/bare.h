/* bare.h: the few helpers the bare hvt test guests share (no libc). Each
 * guest is one .c file that includes this once and is linked alone with
 * libhvt.a, so the definitions below do not clash. */
#ifndef ZL_BARE_H
#define ZL_BARE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/include/plat.h"

/* The compiler may emit calls to these for struct copies and zeroing. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}
void *memset(void *d, int c, size_t n)
{
    unsigned char *dp = d;
    while (n--)
        *dp++ = (unsigned char)c;
    return d;
}

static inline size_t bare_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static inline int bare_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* True if word is one of the space-separated boot arguments. */
static inline int bare_has_arg(const char *word)
{
    const char *c = plat_cmdline();
    while (*c) {
        size_t i = 0;
        while (word[i] && c[i] == word[i])
            i++;
        if (!word[i] && (c[i] == ' ' || c[i] == '\0'))
            return 1;
        while (*c && *c != ' ')
            c++;
        while (*c == ' ')
            c++;
    }
    return 0;
}

static inline void put(const char *s)
{
    plat_console_write(s, bare_strlen(s));
}

static inline void put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(buf + i);
}

static inline void put_hex(uint64_t v)
{
    char buf[19] = "0x";
    for (int i = 0; i < 16; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    buf[18] = '\0';
    put(buf);
}

#endif
