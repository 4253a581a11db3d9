/* libFuzzer harness: the message layer (srv_process, what the transports
 * call) over UDP and TCP, on the example zones. Every reply must be a
 * message that parses, fits its limit, and carries the query's ID. */
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
    for (size_t i = 0; i < 2; i++)
        if (zone_load_file(files[i][0], (const uint8_t *)files[i][1], &z[n], NULL) == ZL_OK)
            n++;
    if (n == 0 || zone_set_new(z, n, &zs) != ZL_OK)
        abort(); /* run from the repository top */
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
        dns_arena_free(&a);
    }
    return 0;
}
