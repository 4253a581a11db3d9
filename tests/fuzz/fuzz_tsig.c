/* libFuzzer harness: TSIG verification (dns/tsig.c) on arbitrary bytes,
 * with one fixed key per algorithm.
 *  - The first input octet chooses where the TSIG RR is taken from (the
 *    offset dns_query_parse reports, or any offset from the next two
 *    octets) and the clock (the Time Signed the RR carries, or far off).
 *  - Server: dns_tsig_verify_request, then a reply signed as it leaves the
 *    ctx; the rcode must be one of NOERROR, FORMERR, NOTAUTH, and the
 *    signature must take exactly dns_tsig_space octets and parse again.
 *  - Client: the bytes as a reply to a fixed signed request, then as the
 *    next message of a stream.
 * Seeds (tests/fuzz/seeds.py) carry valid MACs for these keys, so that
 * mutations reach the checks after the MAC (time, truncation). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/arena.h"
#include "dns/msg.h"
#include "dns/tsig.h"

static dns_tsig_key_t keys[6];

static const dns_tsig_key_t *find(void *fctx, const uint8_t *name, uint8_t alg)
{
    (void)fctx;
    (void)name; /* any key name: reach the MAC check whatever the name */
    for (int i = 0; i < 6; i++)
        if (keys[i].alg == alg)
            return &keys[i];
    return NULL;
}

static void init_keys(void)
{
    static const uint8_t algs[6] = { 157, 161, 162, 163, 164, 165 };
    for (int i = 0; i < 6; i++) {
        memcpy(keys[i].name, "\x03key\x07" "example", 13);
        keys[i].alg = algs[i];
        keys[i].secret_len = (uint16_t)(16 + 20 * i);
        for (int j = 0; j < keys[i].secret_len; j++)
            keys[i].secret[j] = (uint8_t)(i * 31 + j);
        keys[i].trunc_min = (uint8_t)(i == 3 ? 32 : 0);
    }
}

/* Time Signed of a TSIG RR at off, if it reads as one (else 0). */
static uint64_t time_of(const uint8_t *m, size_t len, size_t off)
{
    dns_wire_t w;
    uint8_t n[DNS_NAME_MAX];
    dns_wire_init_ro(&w, m, len);
    dns_wire_seek(&w, off);
    dns_name_parse(&w, n);
    dns_wire_skip(&w, 10);
    dns_name_parse(&w, n);
    uint64_t t = (uint64_t)dns_wire_u16(&w) << 32;
    t |= dns_wire_u32(&w);
    return w.err ? 0 : t;
}

static void server(const uint8_t *m, size_t len, size_t off, uint64_t now)
{
    static uint8_t reply[65535];
    dns_tsig_ctx_t ctx;
    int rc = dns_tsig_verify_request(&ctx, m, len, off, now, find, NULL);
    if (rc != 0 && rc != 1 && rc != 9)
        abort();
    size_t rlen = len < 512 ? len : 512, space = dns_tsig_space(&ctx);
    if (rlen < 12)
        return;
    memcpy(reply, m, rlen);
    reply[10] = reply[11] = 0; /* no ARCOUNT overflow */
    size_t before = rlen;
    if (dns_tsig_sign(&ctx, reply, &rlen, sizeof(reply), now) != ZL_OK)
        abort();
    if (rlen - before != space)
        abort();
    if (space) {
        /* The RR we wrote reads back as a TSIG RR ending the message. */
        dns_tsig_ctx_t c2;
        int r2 = dns_tsig_verify_request(&c2, reply, rlen, before, now, find, NULL);
        if (r2 != 9 && r2 != 1)
            abort();
    }
}

static void client(const uint8_t *m, size_t len, size_t off, uint64_t now)
{
    static const uint8_t q[] = "\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\x07" "example\x00\x00\xfc\x00\x01";
    uint8_t req[512];
    size_t qlen = sizeof(q) - 1;
    memcpy(req, q, qlen);
    dns_tsig_ctx_t ctx;
    dns_tsig_client_init(&ctx, &keys[m[0] % 6]);
    if (dns_tsig_sign(&ctx, req, &qlen, sizeof(req), now) != ZL_OK)
        abort();
    int rc = dns_tsig_verify_response(&ctx, m, len, off, now);
    if (rc == ZL_OK && off)
        abort();
    /* Pretend the first message verified: the bytes as a later message
     * of a stream, unsigned ones included. */
    ctx.count = 1;
    ctx.error = 0;
    for (int i = 0; i < 3; i++)
        (void)dns_tsig_verify_response(&ctx, m, len, i == 2 ? off : 0, now);
    dns_tsig_ctx_clear(&ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init_keys();
        ready = 1;
    }
    if (size < 3)
        return 0;
    uint8_t mode = data[0];
    size_t off;
    const uint8_t *m;
    size_t len;
    if (mode & 1) {
        m = data + 1;
        len = size - 1;
        dns_query_t qq;
        dns_query_parse(&qq, m, len);
        off = qq.tsig_off;
        if (!off) {
            dns_arena_t a;
            dns_msg_t mm;
            dns_arena_init(&a, NULL, 0, 0);
            if (dns_msg_parse(&mm, m, len, &a) == ZL_OK)
                off = mm.tsig_off;
            dns_arena_free(&a);
        }
    } else {
        m = data + 3;
        len = size - 3;
        off = (size_t)(data[1] << 8 | data[2]);
    }
    uint64_t t = time_of(m, len, off);
    uint64_t now = mode & 2 ? t + 400u * (mode >> 4) : t;
    server(m, len, off, now);
    if (len)
        client(m, len, off, now);
    return 0;
}
