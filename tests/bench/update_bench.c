/* The cost of one update on a loaded zone (issue 7: "p50 of one update on
 * a 1,000,000-record zone <= 2x its p50 on the small zone"), without
 * sockets or stores: N UPDATE messages, each adding one A record at a new
 * name, go through dns_msg_parse + zone_update + zone_apply (what the
 * writer does before it makes a change durable), each on the version the
 * previous one made. Prints the latency percentiles, the overlay's growth,
 * what zone_compact and zone_rebase cost at the end, and the cost of
 * lookups on the version with an overlay against its compacted copy.
 *
 * Then, when STEADY > 0, STEADY more updates that replace the address of
 * one of 100 names in turn (the zone stops growing), as the writer runs
 * them in the long run: compacted whenever zone_compact_due says so (here
 * in the same thread), the journal capped at 100 versions and 1 MiB; the
 * resident memory before and after ("RSS after 10,000 updates on the
 * small zone stays within 2 MiB of the start").
 *
 * usage: update_bench ZONEFILE ORIGIN [N [STEADY]]     (N = 1000, STEADY = 0)
 * Output: "key=value ..." lines. Times are CPU time of this thread (the
 * machine is shared), in microseconds unless the key says otherwise. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "zone/apply.h"
#include "zone/journal.h"
#include "zone/parse.h"
#include "zone/update.h"

/* VmRSS of this process in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* An UPDATE adding u<i>.<origin> 300 A 10.255.x.y; with replace, one
 * that replaces the A RRset of s<i % 100>.<origin> by 10.254.x.y (the
 * zone then stops growing). */
static size_t make_update(uint8_t *buf, size_t cap, const uint8_t *origin, unsigned i,
                          bool replace)
{
    dns_msgb_t b;
    uint8_t owner[DNS_NAME_MAX], a[4] = { 10, 255, (uint8_t)(i >> 8), (uint8_t)i };
    char label[16];
    int l = replace ? snprintf(label, sizeof(label), "s%u", i % 100)
                    : snprintf(label, sizeof(label), "u%u", i);
    owner[0] = (uint8_t)l;
    memcpy(owner + 1, label, (size_t)l);
    dns_name_copy(owner + 1 + l, origin);
    dns_msgb_init(&b, buf, cap, (uint16_t)i, DNS_OP_UPDATE << 11);
    dns_msgb_question(&b, origin, DNS_T_SOA, DNS_C_IN);
    if (replace) {
        a[1] = 254;
        dns_msgb_rr(&b, DNS_SEC_NS, owner, DNS_T_A, DNS_C_ANY, 0, NULL, 0);
    }
    dns_msgb_rr(&b, DNS_SEC_NS, owner, DNS_T_A, DNS_C_IN, 300, a, 4);
    return dns_msgb_finish(&b);
}

typedef struct names {
    uint8_t *buf;
    size_t n, cap;
} names_t;

static int collect(void *ctx, const dns_rr_t *rec)
{
    names_t *nm = ctx;
    if (nm->n && dns_name_equal(nm->buf + (nm->n - 1) * DNS_NAME_MAX, rec->owner))
        return 0;
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? 2 * nm->cap : 4096;
        if (!(nm->buf = realloc(nm->buf, nm->cap * DNS_NAME_MAX)))
            return ZL_ENOMEM;
    }
    dns_name_copy(nm->buf + nm->n++ * DNS_NAME_MAX, rec->owner);
    return 0;
}

/* ns per zone_lookup over the names (shuffled in place before: random
 * order in the zone, sequential reads of the names themselves). */
static double lookup_ns(const zone_t *z, const names_t *nm)
{
    size_t rounds = nm->n < 1000000 ? 1000000 / nm->n + 1 : 1, found = 0;
    zone_lookup_t l;
    double t0 = cpu_us();
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < nm->n; i++) {
            zone_lookup(z, nm->buf + i * DNS_NAME_MAX, &l);
            found += l.node != NULL;
        }
    if (found != rounds * nm->n)
        fprintf(stderr, "update_bench: %zu of %zu names not found\n", rounds * nm->n - found,
                rounds * nm->n);
    return (cpu_us() - t0) * 1e3 / (double)(rounds * nm->n);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: update_bench ZONEFILE ORIGIN [N]\n");
        return 2;
    }
    unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 1000;
    uint8_t origin[DNS_NAME_MAX];
    if (dns_name_from_text(argv[2], strlen(argv[2]), NULL, origin) < 0 || n < 2)
        return 2;
    zone_t *z = NULL;
    double t0 = cpu_us();
    if (zone_load_file(argv[1], origin, &z, NULL) != ZL_OK) {
        fprintf(stderr, "update_bench: cannot load %s\n", argv[1]);
        return 1;
    }
    printf("zone=%s records=%zu load_ms=%.0f\n", argv[1], zone_record_count(z),
           (cpu_us() - t0) / 1e3);
    double *lat = malloc(n * sizeof(*lat)), *lat_apply = malloc(n * sizeof(*lat_apply));
    zone_t *mark = NULL;
    zone_journal_t *j = NULL;
    static uint8_t msg[512];
    for (unsigned i = 0; i < n; i++) {
        size_t len = make_update(msg, sizeof(msg), origin, i, false);
        dns_arena_t a;
        uint8_t abuf[2048];
        dns_arena_init(&a, abuf, sizeof(abuf), 0);
        dns_msg_t m;
        zone_diff_t *d = NULL;
        zone_t *v = NULL;
        const char *why;
        double s = cpu_us();
        int rc = dns_msg_parse(&m, msg, len, &a);
        if (!rc)
            rc = zone_update(z, &m, &d, &why) == DNS_R_NOERROR && d ? ZL_OK : ZL_EINVAL;
        double s1 = cpu_us();
        if (!rc)
            rc = zone_apply(z, d, &v, NULL);
        double e = cpu_us();
        if (rc) {
            fprintf(stderr, "update_bench: update %u failed: %s\n", i, zl_strerror(rc));
            return 1;
        }
        lat[i] = e - s;
        lat_apply[i] = e - s1;
        zone_journal_t *k = NULL;
        zone_journal_append(j, d, 100, (size_t)16 << 20, &k);
        zone_journal_unref(j);
        j = k;
        zone_diff_free(d);
        dns_arena_free(&a);
        zone_free(z);
        z = v;
        if (i + 1 == n / 2)
            mark = zone_ref(z); /* the version the writer would compact */
        if (i + 1 == 1 || i + 1 == 10 || i + 1 == 100 || i + 1 == n / 2 || i + 1 == n)
            printf("after=%u overlay_nodes=%zu memory_kib=%zu compact_due=%d\n", i + 1,
                   zone_overlay_nodes(z), zone_memory(z) / 1024, zone_compact_due(z));
    }
    double sorted[2][n];
    memcpy(sorted[0], lat, n * sizeof(double));
    memcpy(sorted[1], lat_apply, n * sizeof(double));
    qsort(sorted[0], n, sizeof(double), cmp_double);
    qsort(sorted[1], n, sizeof(double), cmp_double);
    printf("updates=%u update_p50_us=%.1f update_p99_us=%.1f update_max_us=%.1f "
           "apply_p50_us=%.1f apply_p99_us=%.1f\n", n, sorted[0][n / 2], sorted[0][n * 99 / 100],
           sorted[0][n - 1], sorted[1][n / 2], sorted[1][n * 99 / 100]);
    printf("journal_versions=%zu journal_kib=%zu\n", zone_journal_count(j),
           zone_journal_bytes(j) / 1024);
    /* compaction of the marked version, then the rest moved onto it */
    zone_t *c = NULL, *r = NULL;
    t0 = cpu_us();
    if (zone_compact(mark, &c) != ZL_OK)
        return 1;
    double tc = cpu_us() - t0;
    t0 = cpu_us();
    if (zone_rebase(c, mark, z, &r) != ZL_OK)
        return 1;
    double tr = cpu_us() - t0;
    printf("compact_ms=%.1f rebase_us=%.1f rebased_overlay_nodes=%zu\n", tc / 1e3, tr,
           zone_overlay_nodes(r));
    /* lookups: the version with the overlay against its flat copy */
    zone_t *flat = NULL;
    zone_compact(z, &flat);
    names_t nm = { 0 };
    zone_walk(flat, collect, &nm);
    srand(7);
    for (size_t i = nm.n; i > 1; i--) {
        size_t k = (size_t)rand() % i;
        uint8_t t[DNS_NAME_MAX];
        memcpy(t, nm.buf + (i - 1) * DNS_NAME_MAX, DNS_NAME_MAX);
        memcpy(nm.buf + (i - 1) * DNS_NAME_MAX, nm.buf + k * DNS_NAME_MAX, DNS_NAME_MAX);
        memcpy(nm.buf + k * DNS_NAME_MAX, t, DNS_NAME_MAX);
    }
    /* the best of five rounds each, alternating: the machine is shared */
    double lo = 1e18, lf = 1e18;
    for (int k = 0; k < 5; k++) {
        double a = lookup_ns(z, &nm), b = lookup_ns(flat, &nm);
        lo = a < lo ? a : lo;
        lf = b < lf ? b : lf;
    }
    printf("lookup_overlay_ns=%.1f lookup_flat_ns=%.1f (best of 5; overlay of %zu nodes, %zu "
           "names)\n", lo, lf, zone_overlay_nodes(z), nm.n);
    free(nm.buf);
    zone_free(flat);
    unsigned steady = argc > 4 ? (unsigned)atoi(argv[4]) : 0;
    if (steady) {
        zone_journal_unref(j);
        j = NULL;
        long rss0 = rss_kib();
        unsigned compactions = 0;
        for (unsigned i = 0; i < steady; i++) {
            size_t len = make_update(msg, sizeof(msg), origin, i, true);
            dns_arena_t a;
            dns_arena_init(&a, NULL, 0, 0);
            dns_msg_t m;
            zone_diff_t *d = NULL;
            zone_t *v = NULL;
            const char *why;
            if (dns_msg_parse(&m, msg, len, &a) || zone_update(z, &m, &d, &why) || !d ||
                zone_apply(z, d, &v, NULL))
                return 1;
            zone_journal_t *k = NULL;
            zone_journal_append(j, d, 100, (size_t)1 << 20, &k);
            zone_journal_unref(j);
            j = k;
            zone_diff_free(d);
            dns_arena_free(&a);
            zone_free(z);
            z = v;
            if (zone_compact_due(z)) {
                zone_compact(z, &v);
                zone_free(z);
                z = v;
                compactions++;
            }
        }
        printf("steady_updates=%u compactions=%u rss_start_kib=%ld rss_end_kib=%ld "
               "records=%zu overlay_nodes=%zu\n", steady, compactions, rss0, rss_kib(),
               zone_record_count(z), zone_overlay_nodes(z));
    }
    zone_free(r);
    zone_free(c);
    zone_free(mark);
    zone_free(z);
    zone_journal_unref(j);
    free(lat);
    free(lat_apply);
    return 0;
}
