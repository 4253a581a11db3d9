/* Cost of zone_answer per query, without sockets: a loop over a query mix
 * on the fixture zones of tests/zone/answer/. Prints CPU ns per query for
 * each kind and for the mix, and counts heap allocations made inside the
 * loops (malloc and friends are wrapped here): the query path must make
 * none (STYLE.md §13), so the exit status is 1 if it did.
 * Usage: answer_bench [ITERATIONS] (run from the repository top). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/msg.h"
#include "unikernel/process.h"
#include "zone/parse.h"
#include "tests/zone/answer_fixture.h"

typedef struct kind {
    const char *label, *name;
    uint16_t type;
    uint16_t payload;   /* 0: no EDNS */
    uint8_t q[512];
    size_t qlen;
} kind_t;

static kind_t kinds[] = {
    { "hit A", "www.example.test.", DNS_T_A, 0, {0}, 0 },
    { "hit A +EDNS", "www.example.test.", DNS_T_A, 1232, {0}, 0 },
    { "NXDOMAIN", "nx.example.test.", DNS_T_A, 0, {0}, 0 },
    { "NODATA", "www.example.test.", DNS_T_TXT, 0, {0}, 0 },
    { "CNAME", "alias.example.test.", DNS_T_A, 0, {0}, 0 },
    { "wildcard", "foo.wild.example.test.", DNS_T_A, 0, {0}, 0 },
    { "referral", "host.sub.example.test.", DNS_T_A, 0, {0}, 0 },
    { "MX+additional", "example.test.", DNS_T_MX, 0, {0}, 0 },
    { "DNAME", "a.dn.example.test.", DNS_T_A, 0, {0}, 0 },
    { "REFUSED", "www.nowhere.invalid.", DNS_T_A, 0, {0}, 0 },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* glibc's own entry points, wrapped to count calls. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static long allocs;

void *malloc(size_t n)
{
    allocs++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    allocs++;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    allocs++;
    return __libc_realloc(p, n);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static zone_set_t *load(void)
{
    zone_set_t *zs;
    if (answer_fixture_load(&zs) != ZL_OK)
        exit(1);
    return zs;
}

static void build(kind_t *k)
{
    uint8_t qn[DNS_NAME_MAX];
    dns_msgb_t b;
    dns_name_from_text(k->name, strlen(k->name), NULL, qn);
    dns_msgb_init(&b, k->q, sizeof(k->q), 0x1234, DNS_F_RD);
    dns_msgb_question(&b, qn, k->type, DNS_C_IN);
    if (k->payload) {
        dns_edns_t e = { .udp_size = k->payload };
        dns_msgb_opt(&b, &e);
    }
    k->qlen = dns_msgb_finish(&b);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    zone_set_t *zs = load();
    srv_msg_cfg_t cfg;
    srv_msg_cfg_init(&cfg);
    srv_ctx_t ctx = { .zones = zs, .cfg = &cfg };
    srv_client_t cl = { .family = 4, .addr = { 127, 0, 0, 1 }, .port = 5353 };
    static uint8_t reply[65535];
    size_t sink = 0;
    double total = 0;
    for (size_t i = 0; i < NKINDS; i++)
        build(&kinds[i]);
    printf("%-16s %10s %8s\n", "query", "ns/query", "octets");
    long allocs_before = allocs;
    for (size_t i = 0; i < NKINDS; i++) {
        kind_t *k = &kinds[i];
        size_t len = 0;
        double t0 = now_ns();
        for (long n = 0; n < iters; n++) {
            srv_out_t out = { .buf = reply, .cap = 512 };
            len = srv_process(&ctx, k->q, k->qlen, &cl, 0, &out) == SRV_REPLY ? out.len : 0;
            sink += reply[len / 2];
        }
        double ns = (now_ns() - t0) / iters;
        total += ns;
        printf("%-16s %10.1f %8zu\n", k->label, ns, len);
    }
    printf("%-16s %10.1f\n", "mix (mean)", total / NKINDS);
    long loop_allocs = allocs - allocs_before;
    printf("heap allocations in %ld queries: %ld (%ld while loading the zones)\n",
           iters * (long)NKINDS, loop_allocs, allocs_before);
    zone_set_free(zs);
    if (sink == 0xdeadbeef) /* keeps the loop from being optimised away */
        printf("\n");
    return loop_allocs != 0;
}
