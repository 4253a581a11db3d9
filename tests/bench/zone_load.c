/* Loads one zone file the way the server does (zone_load_file: parse +
 * build) and prints what it cost: wall time, the parser's share, resident
 * memory (VmRSS after the load, VmHWM the peak), the zone's own size, and
 * the cost of lookups over its names: hits and NXDOMAIN-style misses in
 * random order (cache-cold in a large zone), and hits in a hot set.
 *
 * usage: zone_load ZONEFILE ORIGIN
 * Output: one "key=value ..." line, for tests/bench/zone-measure.sh.
 * Times are CPU time (steadier on a busy machine), except load_s, the
 * wall time of the load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "dns/name.h"
#include "zone/parse.h"
#include "zone/zone.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this process: steadier than wall time on a busy machine. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process in KiB. */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = atol(line + kl + 1);
    if (f)
        fclose(f);
    return v;
}

static void report(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                   const char *msg)
{
    unsigned *n = ctx;
    if ((*n)++ < 10)
        fprintf(stderr, "%s:%u: %s: %s\n", file ? file : "-", line,
                sev == ZONE_WARNING ? "warning" : "error", msg);
}

typedef struct names {
    uint8_t *buf;      /* names, DNS_NAME_MAX apart */
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

static int count_rec(void *ctx, const dns_rr_t *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

/* ns per zone_lookup over the names, shuffled (each prefixed by an extra
 * label `nx` when miss is set). */
static double time_lookups(const zone_t *z, names_t *nm, int miss, size_t *found)
{
    uint8_t q[DNS_NAME_MAX + 3];
    size_t rounds = nm->n < 2000000 ? 2000000 / nm->n + 1 : 1;
    zone_lookup_t l;
    *found = 0;
    double t0 = cpu();
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < nm->n; i++) {
            const uint8_t *name = nm->buf + i * DNS_NAME_MAX;
            if (miss) {
                size_t len = dns_name_len(name);
                if (len + 3 > DNS_NAME_MAX)
                    continue;
                memcpy(q, "\2nx", 3);
                memcpy(q + 3, name, len);
                name = q;
            }
            zone_lookup(z, name, &l);
            *found += l.node != NULL;
        }
    *found /= rounds;
    return (cpu() - t0) * 1e9 / (double)(rounds * nm->n);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: zone_load ZONEFILE ORIGIN\n");
        return 2;
    }
    uint8_t origin[DNS_NAME_MAX];
    if (dns_name_from_text(argv[2], strlen(argv[2]), NULL, origin) < 0) {
        fprintf(stderr, "zone_load: bad origin %s\n", argv[2]);
        return 2;
    }
    unsigned nrep = 0;
    zone_report_t rep = { report, &nrep };
    zone_t *z = NULL;
    long rss0 = status_kib("VmRSS");
    double t0 = now(), c0 = cpu();
    int rc = zone_load_file(argv[1], origin, &z, &rep);
    double load = now() - t0, load_cpu = cpu() - c0;
    if (rc != ZL_OK) {
        fprintf(stderr, "zone_load: %s (%u problems)\n", zl_strerror(rc), nrep);
        return 1;
    }
    long rss = status_kib("VmRSS"), hwm = status_kib("VmHWM");
    zone_parse_opts_t opts = { .origin = origin };
    size_t nparsed = 0;
    c0 = cpu();
    zone_parse_file(argv[1], &opts, count_rec, &nparsed, &rep);
    double parse_cpu = cpu() - c0;
    names_t nm = { 0 };
    zone_walk(z, collect, &nm);
    for (size_t i = nm.n; i > 1; i--) { /* shuffle: lookups in random order */
        size_t j = (size_t)rand() % i;
        uint8_t t[DNS_NAME_MAX];
        memcpy(t, nm.buf + (i - 1) * DNS_NAME_MAX, DNS_NAME_MAX);
        memcpy(nm.buf + (i - 1) * DNS_NAME_MAX, nm.buf + j * DNS_NAME_MAX, DNS_NAME_MAX);
        memcpy(nm.buf + j * DNS_NAME_MAX, t, DNS_NAME_MAX);
    }
    size_t hits, misses;
    double hit_ns = time_lookups(z, &nm, 0, &hits);
    double miss_ns = time_lookups(z, &nm, 1, &misses);
    /* the same over the first 1000 (shuffled) names only: a hot set that
     * stays in the caches, as popular names do in a server */
    size_t all = nm.n, hot_hits;
    nm.n = all < 1000 ? all : 1000;
    double hot_ns = time_lookups(z, &nm, 0, &hot_hits);
    nm.n = all;
    printf("records=%zu nodes=%zu load_s=%.3f load_cpu_s=%.3f parse_cpu_s=%.3f "
           "build_cpu_s=%.3f rss_mib=%.1f hwm_mib=%.1f base_rss_mib=%.1f zone_mib=%.1f "
           "lookup_hit_ns=%.0f lookup_miss_ns=%.0f lookup_hot_ns=%.0f\n",
           zone_record_count(z), zone_node_count(z), load, load_cpu, parse_cpu,
           load_cpu - parse_cpu, rss / 1024.0,
           hwm / 1024.0, rss0 / 1024.0, zone_memory(z) / 1048576.0, hit_ns, miss_ns, hot_ns);
    zone_free(z);
    free(nm.buf);
    if (hits != nm.n) {
        fprintf(stderr, "zone_load: only %zu of %zu owners found again\n", hits, nm.n);
        return 1;
    }
    return 0;
}
