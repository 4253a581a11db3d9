/* EDNS(0) (RFC 6891) for the message layer: reading a request's OPT
 * options in one walk, and building a response's OPT record (options,
 * the upper bits of a 12-bit RCODE).
 *
 * The OPT record itself is found by the message parsers (dns/msg.h,
 * dns_edns_t); this module reads and writes what it carries. Pure, no
 * allocation: a response's options live in a fixed buffer inside
 * dns_edns_resp_t.
 */
#ifndef ZL_DNS_EDNS_H
#define ZL_DNS_EDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/msg.h"

/* The option list must tile the RDATA exactly (RFC 6891 §6.1.2): ZL_OK
 * or ZL_EMALF. */
int dns_edns_opts_check(const uint8_t *opts, size_t len);

/* Finds the first option `code`; ZL_OK with *data and *len set (pointing into
 * e->opts) or ZL_ENOTFOUND. Malformed option lists give ZL_EMALF. */
int dns_edns_opt_find(const dns_edns_t *e, uint16_t code,
                      const uint8_t **data, uint16_t *len);

/* What a server reads from a request's OPT, in one walk of its options. */
typedef struct dns_edns_req {
    uint16_t udp_size;       /* requestor's payload size (values under 512 mean 512) */
    uint8_t version;
    bool dnssec_ok;          /* DO */
    bool nsid;               /* NSID asked for (RFC 5001 §2.3: empty option) */
    bool keepalive;          /* edns-tcp-keepalive present (RFC 7828) */
    const uint8_t *cookie;   /* COOKIE option data (borrowed from the OPT), or NULL */
    uint16_t cookie_len;
} dns_edns_req_t;

/* Reads e into *out. A second COOKIE option is ZL_EFORMAT (the cookie
 * to check would be ambiguous); an option list that does not tile the
 * RDATA is ZL_EMALF. Unknown options are ignored (RFC 6891 §6.1.2). */
int dns_edns_read(const dns_edns_t *e, dns_edns_req_t *out);

/* The OPT record of a response. DNS_EDNS_RESP_MAX bounds what a server
 * sends: NSID (at most 255 octets here), a cookie (40), padding room. */
#define DNS_EDNS_RESP_MAX 512
#define DNS_EDNS_OPT_FIXED 11   /* root owner, type, class, TTL, RDLENGTH */

typedef struct dns_edns_resp {
    uint16_t udp_size;       /* our payload size, announced in CLASS */
    uint16_t flags;          /* DO echoed */
    uint16_t len;            /* octets of options in opts */
    uint8_t opts[DNS_EDNS_RESP_MAX];
} dns_edns_resp_t;

/* Starts an OPT with no options. */
void dns_edns_resp_init(dns_edns_resp_t *r, uint16_t udp_size, uint16_t flags);

/* Appends one option whose data is a[0..alen) followed by b[0..blen)
 * (b may be NULL). ZL_OK, or ZL_ESPACE when it does not fit (nothing
 * appended). */
int dns_edns_resp_add(dns_edns_resp_t *r, uint16_t code, const uint8_t *a, size_t alen,
                      const uint8_t *b, size_t blen);

/* Octets the OPT record takes in a message. */
static inline size_t dns_edns_resp_size(const dns_edns_resp_t *r)
{
    return DNS_EDNS_OPT_FIXED + r->len;
}

/* Writes the OPT record into b with the upper 8 bits of the 12-bit
 * rcode (RFC 6891 §6.1.3; the low 4 bits go in the header). Honours
 * b's reserve: give back what was kept for it first. ZL_OK or
 * ZL_ESPACE. */
int dns_edns_resp_write(dns_msgb_t *b, const dns_edns_resp_t *r, uint16_t rcode);

#endif
