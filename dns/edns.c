#include "dns/edns.h"

#include <string.h>

int dns_edns_opts_check(const uint8_t *o, size_t n)
{
    size_t p = 0;
    while (p < n) {
        if (n - p < 4 || n - p - 4 < dns_get_u16(o + p + 2))
            return ZL_EMALF;
        p += 4u + dns_get_u16(o + p + 2);
    }
    return ZL_OK;
}

int dns_edns_opt_find(const dns_edns_t *e, uint16_t code,
                      const uint8_t **data, uint16_t *len)
{
    dns_wire_t w;
    dns_wire_init_ro(&w, e->opts, e->opts_len);
    while (dns_wire_avail(&w) > 0) {
        uint16_t c = dns_wire_u16(&w), l = dns_wire_u16(&w);
        const uint8_t *d = dns_wire_cur(&w);
        dns_wire_skip(&w, l);
        if (w.err)
            return ZL_EMALF;
        if (c == code) {
            *data = d;
            *len = l;
            return ZL_OK;
        }
    }
    return ZL_ENOTFOUND;
}

int dns_edns_read(const dns_edns_t *e, dns_edns_req_t *out)
{
    dns_wire_t w;
    memset(out, 0, sizeof(*out));
    out->udp_size = e->udp_size;
    out->version = e->version;
    out->dnssec_ok = (e->flags & DNS_EDNS_DO) != 0;
    dns_wire_init_ro(&w, e->opts, e->opts_len);
    while (dns_wire_avail(&w) > 0) {
        uint16_t c = dns_wire_u16(&w), l = dns_wire_u16(&w);
        const uint8_t *d = dns_wire_cur(&w);
        dns_wire_skip(&w, l);
        if (w.err)
            return ZL_EMALF;
        if (c == DNS_EO_NSID) {
            out->nsid = true;
        } else if (c == DNS_EO_TCP_KEEPALIVE) {
            out->keepalive = true;
        } else if (c == DNS_EO_COOKIE) {
            if (out->cookie)
                return ZL_EFORMAT;
            out->cookie = d;
            out->cookie_len = l;
        }
    }
    return ZL_OK;
}

void dns_edns_resp_init(dns_edns_resp_t *r, uint16_t udp_size, uint16_t flags)
{
    r->udp_size = udp_size;
    r->flags = flags;
    r->len = 0;
}

int dns_edns_resp_add(dns_edns_resp_t *r, uint16_t code, const uint8_t *a, size_t alen,
                      const uint8_t *b, size_t blen)
{
    dns_wire_t w;
    if (alen + blen > UINT16_MAX)
        return ZL_ESPACE;
    dns_wire_init(&w, r->opts + r->len, sizeof(r->opts) - r->len);
    dns_wire_put_u16(&w, code);
    dns_wire_put_u16(&w, (uint16_t)(alen + blen));
    dns_wire_write(&w, a, alen);
    if (blen)
        dns_wire_write(&w, b, blen);
    if (w.err)
        return ZL_ESPACE;
    r->len = (uint16_t)(r->len + w.pos);
    return ZL_OK;
}

int dns_edns_resp_write(dns_msgb_t *b, const dns_edns_resp_t *r, uint16_t rcode)
{
    dns_edns_t e = {
        .udp_size = r->udp_size, .ext_rcode = (uint8_t)(rcode >> 4), .version = 0,
        .flags = r->flags, .opts = r->opts, .opts_len = r->len,
    };
    return dns_msgb_opt(b, &e);
}
