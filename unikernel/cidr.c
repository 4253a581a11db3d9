/* Address prefixes for access lists (--axfr-allow). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "unikernel/process.h"

int srv_cidr_parse(const char *s, srv_cidr_t *out)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
    if (hlen == 0 || hlen >= sizeof host)
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = 6;
    else
        return -1;
    unsigned max = out->family == 4 ? 32 : 128, bits = max;
    if (slash) {
        char *end;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || v > max)
            return -1;
        bits = (unsigned)v;
    }
    out->bits = (uint8_t)bits;
    /* Host bits below the prefix are ignored, as in most ACLs. */
    for (unsigned i = bits; i < 128; i++)
        out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return 0;
}

bool srv_cidr_match(const srv_cidr_t *c, const srv_client_t *client)
{
    if (!client || client->family != c->family)
        return false;
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, client->addr, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->addr[full] & mask) == (client->addr[full] & mask);
}
