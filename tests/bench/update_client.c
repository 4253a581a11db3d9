/* A load client for the change-path benchmarks (tests/bench/update-run.sh),
 * on zonelet's own dns/ library.
 *
 *   update_client update --server ADDR:PORT --zone ZONE --key NAME:ALG:BASE64
 *                 [--clients N] [--count N | --seconds S] [--label L]
 *     N clients (threads), each with one TCP connection, send TSIG-signed
 *     UPDATEs one at a time: send, wait for the answer (its TSIG checked),
 *     repeat. Client i alternates adding and deleting one A record at
 *     <L><i>.<ZONE>, so the zone stays the same size (L defaults to a
 *     label of its own per run, u<hex>x, so a run never starts on a record
 *     an earlier one left behind: its first UPDATE is a real change). --count is the number
 *     of updates of each client, --seconds bounds the run (the default: 10
 *     seconds); both may be given, the first reached ends it.
 *   update_client probe --server ADDR:PORT --qname NAME [--qtype T]
 *                 [--rate QPS] [--seconds S]
 *     UDP queries paced at QPS (default 1000), one outstanding at a time
 *     (each waits for its answer, at most one second), for the latency of
 *     single queries.
 *
 * Output: one line of key=value pairs (latencies in milliseconds, from the
 * send to the complete answer): sent, ok (NOERROR, TSIG verified), failed
 * (and rcode_N=count per other outcome; timeouts and broken connections
 * are rcode_-1), seconds (wall, first send to last answer), per_s (ok per
 * second), p50 p90 p99 p999 max.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/msg.h"
#include "dns/tsig.h"
#include "zone/keys.h"

#define RCODE_SLOTS 32   /* rcodes 0..30, slot 31 for timeouts and I/O errors */

typedef struct opts {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint8_t zone[DNS_NAME_MAX];
    uint8_t qname[DNS_NAME_MAX];
    uint16_t qtype;
    zone_key_t key;
    bool have_key;
    const char *label;
    unsigned clients, count, rate;
    double seconds;
} opts_t;

typedef struct client {
    const opts_t *o;
    unsigned idx;
    pthread_t thread;
    double *lat;             /* ms per ok request */
    size_t nlat, cap;
    unsigned long sent, rcodes[RCODE_SLOTS];
    double first, last;      /* monotonic seconds */
} client_t;

static pthread_barrier_t start_barrier;
static double deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fputs("usage: update_client update --server ADDR:PORT --zone ZONE --key NAME:ALG:BASE64\n"
          "                     [--clients N] [--count N] [--seconds S] [--label L]\n"
          "       update_client probe --server ADDR:PORT --qname NAME [--qtype A|SOA]\n"
          "                     [--rate QPS] [--seconds S]\n", stderr);
    exit(2);
}

static int parse_server(const char *s, opts_t *o)
{
    const char *colon = strrchr(s, ':');
    char host[64];
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    int port = atoi(colon + 1);
    memset(&o->addr, 0, sizeof o->addr);
    if (host[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&o->addr;
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return -1;
        host[n - 1] = '\0';
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        o->addr_len = sizeof *a;
        return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)&o->addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    o->addr_len = sizeof *a;
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void record(client_t *c, int rcode, double ms)
{
    c->rcodes[rcode >= 0 && rcode < RCODE_SLOTS - 1 ? rcode : RCODE_SLOTS - 1]++;
    if (rcode != 0)
        return;
    if (c->nlat == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        double *n = realloc(c->lat, cap * sizeof *n);
        if (!n)
            return;
        c->lat = n;
        c->cap = cap;
    }
    c->lat[c->nlat++] = ms;
}

/* ---- UPDATE over TCP ------------------------------------------------------ */

/* The i-th UPDATE of client c: add (even i) or delete (odd i) the A record
 * <label><idx>.<zone> 10.<idx>.0.1, signed. Returns the length or 0. */
static size_t make_update(const client_t *c, unsigned long i, uint16_t id, dns_tsig_ctx_t *tsig,
                          uint8_t *buf, size_t cap)
{
    const opts_t *o = c->o;
    uint8_t owner[DNS_NAME_MAX], a[4] = {10, (uint8_t)(c->idx >> 8), (uint8_t)c->idx, 1};
    char label[64];
    int l = snprintf(label, sizeof label, "%s%u", o->label, c->idx);
    owner[0] = (uint8_t)l;
    memcpy(owner + 1, label, (size_t)l);
    dns_name_copy(owner + 1 + l, o->zone);
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, id, DNS_OP_UPDATE << 11);
    bool add = i % 2 == 0;
    /* RFC 2136 §2.5.1 (add) and §2.5.4 (delete an RR: class NONE, TTL 0). */
    if (dns_msgb_question(&b, o->zone, DNS_T_SOA, DNS_C_IN) != ZL_OK ||
        dns_msgb_rr(&b, DNS_SEC_NS, owner, DNS_T_A, add ? DNS_C_IN : DNS_C_NONE, add ? 300 : 0, a,
                    4) != ZL_OK)
        return 0;
    size_t len = dns_msgb_finish(&b);
    dns_tsig_client_init(tsig, &o->key.tsig);
    if (dns_tsig_sign(tsig, buf, &len, cap, (uint64_t)time(NULL)) != ZL_OK)
        return 0;
    return len;
}

static int io_all(int fd, uint8_t *buf, size_t n, bool out)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = out ? send(fd, buf + done, n - done, MSG_NOSIGNAL) : recv(fd, buf + done, n - done, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static int tcp_connect(const opts_t *o)
{
    int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    /* A bound on every wait: a server that never answers fails the run. */
    struct timeval tv = {.tv_sec = 30};
    if (fd < 0)
        return -1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
        connect(fd, (const struct sockaddr *)&o->addr, o->addr_len)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One exchange: returns the rcode, or -1 on I/O failure or a reply that
 * does not verify. */
static int exchange(int fd, uint8_t *buf, size_t len, uint16_t id, dns_tsig_ctx_t *tsig)
{
    uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    static __thread uint8_t in[65535];
    if (io_all(fd, hdr, 2, true) || io_all(fd, buf, len, true) || io_all(fd, hdr, 2, false))
        return -1;
    size_t rlen = (size_t)(hdr[0] << 8 | hdr[1]);
    if (io_all(fd, in, rlen, false))
        return -1;
    dns_query_t q;
    if (dns_query_parse(&q, in, rlen) != ZL_OK || q.id != id || !(q.flags & DNS_F_QR))
        return -1;
    if (dns_tsig_verify_response(tsig, in, rlen, q.tsig_off, (uint64_t)time(NULL)) != ZL_OK)
        return -1;
    return (int)DNS_F_RCODE(q.flags);
}

static void *update_main(void *arg)
{
    client_t *c = arg;
    const opts_t *o = c->o;
    uint8_t buf[1024];
    int fd = tcp_connect(o);
    pthread_barrier_wait(&start_barrier);
    if (fd < 0) {
        c->rcodes[RCODE_SLOTS - 1]++;
        return NULL;
    }
    c->first = now_s();
    c->last = c->first;
    for (unsigned long i = 0; (!o->count || i < o->count) && now_s() < deadline; i++) {
        uint16_t id = (uint16_t)random();
        dns_tsig_ctx_t tsig;
        memset(&tsig, 0, sizeof tsig);
        size_t len = make_update(c, i, id, &tsig, buf, sizeof buf);
        if (!len) {
            fprintf(stderr, "update_client: cannot build the UPDATE\n");
            exit(1);
        }
        double t0 = now_s();
        int rc = exchange(fd, buf, len, id, &tsig);
        c->last = now_s();
        dns_tsig_ctx_clear(&tsig);
        c->sent++;
        record(c, rc, (c->last - t0) * 1e3);
        if (rc < 0) {
            /* The connection is in an unknown state: a new one. */
            close(fd);
            if ((fd = tcp_connect(o)) < 0)
                break;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- paced UDP queries ---------------------------------------------------- */

static void *probe_main(void *arg)
{
    client_t *c = arg;
    const opts_t *o = c->o;
    uint8_t q[512], in[4096];
    int fd = socket(o->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&o->addr, o->addr_len)) {
        perror("update_client: udp");
        exit(1);
    }
    double gap = 1.0 / o->rate, next = now_s();
    c->first = next;
    c->last = next;
    for (unsigned long i = 0; next < deadline && (!o->count || i < o->count); i++) {
        double t = now_s();
        if (next > t) {
            struct timespec ts = {.tv_sec = (time_t)(next - t),
                                  .tv_nsec = (long)((next - t - (double)(time_t)(next - t)) * 1e9)};
            nanosleep(&ts, NULL);
        }
        next += gap;
        uint16_t id = (uint16_t)i;
        dns_msgb_t b;
        dns_msgb_init(&b, q, sizeof q, id, 0);
        dns_msgb_question(&b, o->qname, o->qtype, DNS_C_IN);
        size_t len = dns_msgb_finish(&b);
        double t0 = now_s();
        if (send(fd, q, len, 0) != (ssize_t)len) {
            record(c, -1, 0);
            continue;
        }
        int rc = -1;
        for (;;) {
            double left = t0 + 1.0 - now_s();
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, (int)(left * 1e3) + 1) <= 0)
                break;
            ssize_t r = recv(fd, in, sizeof in, 0);
            dns_query_t a;
            if (r >= DNS_HDR_LEN && dns_query_parse(&a, in, (size_t)r) == ZL_OK && a.id == id) {
                rc = (int)DNS_F_RCODE(a.flags);
                break;   /* else a late answer to an earlier query: keep waiting */
            }
        }
        c->last = now_s();
        c->sent++;
        record(c, rc, (c->last - t0) * 1e3);
    }
    close(fd);
    return NULL;
}

/* ---- report ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void report(client_t *cs, unsigned n)
{
    unsigned long sent = 0, rc[RCODE_SLOTS] = {0};
    size_t total = 0;
    double first = 0, last = 0;
    for (unsigned i = 0; i < n; i++) {
        sent += cs[i].sent;
        total += cs[i].nlat;
        for (int k = 0; k < RCODE_SLOTS; k++)
            rc[k] += cs[i].rcodes[k];
        if (cs[i].sent && (first == 0 || cs[i].first < first))
            first = cs[i].first;
        if (cs[i].last > last)
            last = cs[i].last;
    }
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (unsigned i = 0; all && i < n; i++)
        for (size_t j = 0; j < cs[i].nlat; j++)
            all[k++] = cs[i].lat[j];
    if (all)
        qsort(all, k, sizeof *all, cmp_double);
    double secs = last > first ? last - first : 0;
    printf("clients=%u sent=%lu ok=%lu failed=%lu seconds=%.3f per_s=%.1f p50=%.3f p90=%.3f "
           "p99=%.3f p999=%.3f max=%.3f", n, sent, rc[0], sent - rc[0], secs,
           secs > 0 ? (double)rc[0] / secs : 0, pct(all, k, 0.5), pct(all, k, 0.9), pct(all, k, 0.99),
           pct(all, k, 0.999), k ? all[k - 1] : 0);
    for (int r = 1; r < RCODE_SLOTS; r++)
        if (rc[r])
            printf(" rcode_%d=%lu", r == RCODE_SLOTS - 1 ? -1 : r, rc[r]);
    printf("\n");
    free(all);
}

int main(int argc, char **argv)
{
    char label[32];
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    snprintf(label, sizeof label, "u%lxx", (unsigned long)random() & 0xffffff);
    opts_t o = {.clients = 1, .seconds = 10, .rate = 1000, .qtype = DNS_T_A, .label = label};
    bool have_server = false, have_zone = false, have_qname = false;
    static const uint8_t root[1] = {0};
    if (argc < 2)
        usage();
    bool upd = strcmp(argv[1], "update") == 0;
    if (!upd && strcmp(argv[1], "probe") != 0)
        usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char *why = "";
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--server") == 0) {
            if (parse_server(v, &o) != 0)
                usage();
            have_server = true;
        } else if (strcmp(a, "--zone") == 0) {
            have_zone = dns_name_from_text(v, strlen(v), root, o.zone) > 0;
        } else if (strcmp(a, "--qname") == 0) {
            have_qname = dns_name_from_text(v, strlen(v), root, o.qname) > 0;
        } else if (strcmp(a, "--qtype") == 0) {
            o.qtype = strcmp(v, "SOA") == 0 ? DNS_T_SOA : DNS_T_A;
        } else if (strcmp(a, "--key") == 0) {
            if (zone_key_from_arg(v, &o.key, &why) != ZL_OK) {
                fprintf(stderr, "update_client: --key: %s\n", why);
                return 2;
            }
            o.have_key = true;
        } else if (strcmp(a, "--clients") == 0) {
            o.clients = (unsigned)atoi(v);
        } else if (strcmp(a, "--count") == 0) {
            o.count = (unsigned)atoi(v);
        } else if (strcmp(a, "--seconds") == 0) {
            o.seconds = atof(v);
        } else if (strcmp(a, "--rate") == 0) {
            o.rate = (unsigned)atoi(v);
        } else if (strcmp(a, "--label") == 0) {
            o.label = v;
        } else {
            usage();
        }
    }
    if (!have_server || (upd && (!have_zone || !o.have_key)) || (!upd && !have_qname) ||
        o.clients < 1 || o.clients > 1024 || o.rate < 1 || o.seconds <= 0)
        usage();
    if (!upd)
        o.clients = 1;
    client_t *cs = calloc(o.clients, sizeof *cs);
    if (!cs)
        return 1;
    pthread_barrier_init(&start_barrier, NULL, o.clients);
    deadline = now_s() + o.seconds;
    for (unsigned i = 0; i < o.clients; i++) {
        cs[i].o = &o;
        cs[i].idx = i;
        if (pthread_create(&cs[i].thread, NULL, upd ? update_main : probe_main, &cs[i]) != 0) {
            fprintf(stderr, "update_client: cannot start client %u\n", i);
            return 1;
        }
    }
    for (unsigned i = 0; i < o.clients; i++)
        pthread_join(cs[i].thread, NULL);
    report(cs, o.clients);
    for (unsigned i = 0; i < o.clients; i++)
        free(cs[i].lat);
    free(cs);
    return 0;
}
