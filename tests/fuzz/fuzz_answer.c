/* libFuzzer harness: the message layer (srv_process, what the transports
 * call) over UDP and TCP, on the example zones. Every reply must be a
 * message that parses, fits its limit, carries the query's ID and holds
 * no record twice in a section. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/msg.h"
#include "unikernel/process.h"
#include "zone/parse.h"

static zone_set_t *zs;
static srv_msg_cfg_t cfg;

static void load(void)
{
    static const char *files[][2] = {
        { "zones-example/example.test", "\7example\4test" },
        { "tests/fuzz/zones/fuzz.test", "\4fuzz\4test" },
    };
    zone_t *z[2];
    size_t n = 0;
    /* Every zone must load: a harness that quietly fuzzed without one of
     * them (fuzz.test was refused for a CNAME beside data) finds nothing
     * there. Run from the repository top. */
    for (; n < 2; n++)
        if (zone_load_file(files[n][0], (const uint8_t *)files[n][1], &z[n], NULL) != ZL_OK)
            abort();
    if (zone_set_new(z, n, &zs) != ZL_OK)
        abort();
    for (size_t i = 0; i < n; i++)
        zone_free(z[i]);
    srv_msg_cfg_init(&cfg);
    cfg.nsid = (const uint8_t *)"fuzz";
    cfg.nsid_len = 4;
    cfg.id_server = "fuzz";
    cfg.cookies = true;
}

/* The largest UDP reply allowed for this query (RFC 1035 §4.2.1, RFC 6891 §6.2.5). */
static size_t udp_limit(const uint8_t *q, size_t qlen)
{
    dns_query_t dq;
    if (dns_query_parse(&dq, q, qlen) != ZL_OK || !dq.has_edns)
        return 512;
    size_t want = dq.edns.udp_size < 512 ? 512 : dq.edns.udp_size;
    return want < cfg.udp_max ? want : cfg.udp_max;
}

/* RFC 2181 §5: an RRset appears once in a section, so no record does
 * twice (what a DNAME into its own subtree used to break). */
static void no_repeats(const dns_msg_t *m)
{
    for (int sec = DNS_SEC_AN; sec <= DNS_SEC_AR; sec++)
        for (unsigned i = 0; i < m->nrr[sec]; i++)
            for (unsigned j = i + 1; j < m->nrr[sec]; j++) {
                const dns_rr_t *x = &m->rr[sec][i], *y = &m->rr[sec][j];
                if (x->type == y->type && x->rclass == y->rclass && x->rdlen == y->rdlen &&
                    dns_name_equal(x->owner, y->owner) && memcmp(x->rdata, y->rdata, x->rdlen) == 0)
                    abort();
            }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t reply[65535];
    if (!zs)
        load();
    srv_client_t cl = { .family = 4, .addr = { 127, 0, 0, 1 }, .port = 5353 };
    for (int tcp = 0; tcp < 2; tcp++) {
        cl.tcp = tcp;
        srv_ctx_t ctx = { .zones = zs, .cfg = &cfg };
        srv_out_t out = { .buf = reply, .cap = sizeof(reply) };
        if (srv_process(&ctx, data, size, &cl, 1764547200, &out) != SRV_REPLY)
            continue;
        size_t len = out.len;
        if (len < DNS_HDR_LEN || size < 2 || memcmp(reply, data, 2) != 0)
            abort();
        if (!tcp && len > udp_limit(data, size))
            abort();
        dns_arena_t a;
        dns_msg_t m;
        dns_arena_init(&a, NULL, 0, 0);
        if (dns_msg_parse(&m, reply, len, &a) != ZL_OK)
            abort();
        no_repeats(&m);
        dns_arena_free(&a);
    }
    return 0;
}
