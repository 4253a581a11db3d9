/* ACME's TLSA records and diffs (acme_tlsa.h). */
#include "unikernel/acme_tlsa.h"

#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "dns/wire.h"

#define TLSA_DATA_MAX (65535 - 3)

int srv_tlsa_kind(const uint8_t *rd, size_t len)
{
    if (len < 4)
        return SRV_TLSA_OTHER;
    if (rd[0] == 3 && rd[1] == 255 && rd[2] == 0)
        return SRV_TLSA_CSR;
    if (rd[1] == 0 && rd[2] == 0)
        return rd[0] == 3 ? SRV_TLSA_CERT : rd[0] == 2 ? SRV_TLSA_CA : SRV_TLSA_OTHER;
    return SRV_TLSA_OTHER;
}

void srv_tlsa_init(srv_tlsa_set_t *s)
{
    memset(s, 0, sizeof *s);
}

void srv_tlsa_add(srv_tlsa_set_t *s, const uint8_t *rd, size_t len)
{
    switch (srv_tlsa_kind(rd, len)) {
    case SRV_TLSA_CSR:
        if (!s->ncsr++) {
            s->csr = rd + 3;
            s->csr_len = len - 3;
        }
        break;
    case SRV_TLSA_CERT:
        if (!s->ncert++) {
            s->cert = rd + 3;
            s->cert_len = len - 3;
        }
        break;
    case SRV_TLSA_CA:
        if (s->nca < ACME_CHAIN_MAX) {
            s->ca[s->nca] = rd + 3;
            s->ca_len[s->nca++] = len - 3;
        }
        break;
    default:
        break;
    }
}

void srv_tlsa_read(srv_tlsa_set_t *s, const zone_node_t *node)
{
    srv_tlsa_init(s);
    const zone_rrset_t *rs = node ? zone_node_rrset(node, DNS_T_TLSA) : NULL;
    uint16_t len = 0;
    const uint8_t *rd = NULL;
    for (unsigned i = 0; rs && i < rs->count; i++) {
        rd = i ? zone_rrset_rdata_next(rd, len, &len) : zone_rrset_rdata(rs, 0, &len);
        srv_tlsa_add(s, rd, len);
    }
}

size_t srv_tlsa_rdata(uint8_t usage, uint8_t selector, uint8_t matching, const uint8_t *data,
                      size_t len, uint8_t *out, size_t cap)
{
    if (len > TLSA_DATA_MAX || len + 3 > cap)
        return 0;
    out[0] = usage;
    out[1] = selector;
    out[2] = matching;
    memcpy(out + 3, data, len);
    return len + 3;
}

bool srv_acme_owner(const uint8_t *owner, const uint8_t **name)
{
    /* Labels compared without case: "_LetsEncrypt._TCP" is the same owner. */
    const uint8_t *p = (const uint8_t *)SRV_ACME_PREFIX;
    for (size_t i = 0; i < SRV_ACME_PREFIX_LEN; i++) {
        uint8_t a = owner[i], b = p[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != b)
            return false;
        if (a == 0)
            return false;   /* the owner ended inside the prefix */
    }
    if (owner[SRV_ACME_PREFIX_LEN] == 0)
        return false;
    *name = owner + SRV_ACME_PREFIX_LEN;
    return true;
}

/* Sets d's SOAs: z's, and the same with the serial raised by one. */
static int soa_bump(zone_diff_t *d, const zone_t *z)
{
    const zone_rrset_t *soa = zone_soa(z);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(soa, 0, &len);
    uint8_t next[2 * DNS_NAME_MAX + 20];
    if (len < 20 || len > sizeof next)
        return ZL_EINVAL;
    memcpy(next, rd, len);
    dns_put_u32(next + len - 20, dns_get_u32(rd + len - 20) + 1u);
    dns_rr_t old = {.owner = zone_origin(z), .type = DNS_T_SOA, .rclass = DNS_C_IN,
                    .ttl = soa->ttl, .rdlen = len, .rdata = rd};
    dns_rr_t new = old;
    new.rdata = next;
    return zone_diff_set_soa(d, &old, &new);
}

/* A diff with changes in it made final (SOA raised, sealed), or freed
 * when it has none. */
static int diff_finish(zone_diff_t *d, const zone_t *z, size_t changes, zone_diff_t **out)
{
    int rc = changes ? soa_bump(d, z) : ZL_OK;
    if (rc == ZL_OK && changes)
        rc = zone_diff_seal(d);
    if (rc != ZL_OK || !changes) {
        zone_diff_free(d);
        return rc;
    }
    *out = d;
    return ZL_OK;
}

/* The chain as the TLSA RDATA it should be stored as (each malloc'd). */
static int chain_rdata(const acme_chain_t *c, uint8_t **rd, size_t *len)
{
    for (size_t i = 0; i < c->n; i++) {
        rd[i] = malloc(c->cert[i].len + 3);
        if (!rd[i])
            return ZL_ENOMEM;
        len[i] = srv_tlsa_rdata(i ? 2 : 3, 0, 0, c->cert[i].p, c->cert[i].len, rd[i],
                                c->cert[i].len + 3);
        if (!len[i])
            return ZL_ESPACE;
    }
    return ZL_OK;
}

int srv_acme_chain_diff(const zone_t *z, const uint8_t *owner, const uint8_t *csr, size_t csr_len,
                        const acme_chain_t *c, zone_diff_t **out)
{
    *out = NULL;
    const zone_node_t *node = zone_find(z, owner);
    const zone_rrset_t *rs = node ? zone_node_rrset(node, DNS_T_TLSA) : NULL;
    bool asked = false;
    uint16_t len = 0;
    const uint8_t *rd = NULL;
    for (unsigned i = 0; rs && i < rs->count; i++) {
        rd = i ? zone_rrset_rdata_next(rd, len, &len) : zone_rrset_rdata(rs, 0, &len);
        asked |= srv_tlsa_kind(rd, len) == SRV_TLSA_CSR && len - 3u == csr_len &&
                 memcmp(rd + 3, csr, csr_len) == 0;
    }
    if (!asked || c->n == 0)
        return ZL_ENOTFOUND;
    uint8_t *want[ACME_CHAIN_MAX] = {NULL};
    size_t wlen[ACME_CHAIN_MAX] = {0};
    bool have[ACME_CHAIN_MAX] = {false};
    zone_diff_t *d = zone_diff_new(zone_origin(z));
    int rc = d ? chain_rdata(c, want, wlen) : ZL_ENOMEM;
    size_t changes = 0;
    dns_rr_t rr = {.owner = owner, .type = DNS_T_TLSA, .rclass = DNS_C_IN, .ttl = rs->ttl};
    for (unsigned i = 0; rc == ZL_OK && i < rs->count; i++) {
        rd = i ? zone_rrset_rdata_next(rd, len, &len) : zone_rrset_rdata(rs, 0, &len);
        int kind = srv_tlsa_kind(rd, len);
        if (kind != SRV_TLSA_CERT && kind != SRV_TLSA_CA)
            continue;
        size_t k = 0;
        while (k < c->n && !(wlen[k] == len && memcmp(want[k], rd, len) == 0))
            k++;
        if (k < c->n) {
            have[k] = true;
            continue;
        }
        rr.rdata = rd;
        rr.rdlen = len;
        rc = zone_diff_remove(d, &rr);
        changes++;
    }
    for (size_t k = 0; rc == ZL_OK && k < c->n; k++) {
        if (have[k])
            continue;
        rr.rdata = want[k];
        rr.rdlen = (uint16_t)wlen[k];
        rc = zone_diff_add(d, &rr);
        changes++;
    }
    for (size_t k = 0; k < c->n; k++)
        free(want[k]);
    if (rc != ZL_OK) {
        zone_diff_free(d);
        return rc;
    }
    return diff_finish(d, z, changes, out);
}

int srv_acme_txt_diff(const zone_t *z, const uint8_t *name, const char *value, bool add,
                      zone_diff_t **out)
{
    *out = NULL;
    size_t vlen = strlen(value);
    if (vlen > 255 || !dns_name_is_sub(name, zone_origin(z)))
        return ZL_EINVAL;
    uint8_t txt[256];
    txt[0] = (uint8_t)vlen;
    memcpy(txt + 1, value, vlen);
    const zone_node_t *node = zone_find(z, name);
    const zone_rrset_t *rs = node ? zone_node_rrset(node, DNS_T_TXT) : NULL;
    bool there = false;
    uint16_t len = 0;
    const uint8_t *rd = NULL;
    for (unsigned i = 0; rs && i < rs->count; i++) {
        rd = i ? zone_rrset_rdata_next(rd, len, &len) : zone_rrset_rdata(rs, 0, &len);
        there |= len == vlen + 1 && memcmp(rd, txt, len) == 0;
    }
    if (there == add)
        return ZL_OK;
    zone_diff_t *d = zone_diff_new(zone_origin(z));
    if (!d)
        return ZL_ENOMEM;
    dns_rr_t rr = {.owner = name, .type = DNS_T_TXT, .rclass = DNS_C_IN,
                   .ttl = rs ? rs->ttl : SRV_ACME_TXT_TTL, .rdlen = (uint16_t)(vlen + 1),
                   .rdata = txt};
    int rc = add ? zone_diff_add(d, &rr) : zone_diff_remove(d, &rr);
    if (rc != ZL_OK) {
        zone_diff_free(d);
        return rc;
    }
    return diff_finish(d, z, 1, out);
}
