#include "unikernel/notifier.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/name.h"
#include "unikernel/clock.h"
#include "unikernel/config.h"
#include "unikernel/log.h"

#define SOA_MAX (2 * DNS_NAME_MAX + 20)

/* One NOTIFY to one target, until it is answered or given up. */
typedef struct notify_job {
    struct notify_job *next;
    uint8_t origin[DNS_NAME_MAX];
    uint8_t soa[SOA_MAX];
    uint16_t soa_len;
    uint32_t soa_ttl, serial;
    struct sockaddr_storage to;
    bool signed_;
    dns_tsig_key_t key;       /* when signed_ */
    dns_tsig_ctx_t tsig;      /* the exchange of the last transmission */
    uint16_t id;
    unsigned tries;           /* transmissions so far */
    uint64_t due_ms;          /* the next transmission */
} notify_job_t;

struct srv_notifier {
    pthread_mutex_t lock;
    notify_job_t *jobs;       /* under lock */
    int fd4, fd6, wake;
    unsigned retry_ms;
    pthread_t thread;
    bool started;
    atomic_bool stop;
};

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && family == AF_INET6) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    return fd;
}

srv_notifier_t *srv_notifier_new(unsigned retry_ms)
{
    srv_notifier_t *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->retry_ms = retry_ms;
    pthread_mutex_init(&n->lock, NULL);
    atomic_init(&n->stop, false);
    n->fd4 = udp_socket(AF_INET);
    n->fd6 = udp_socket(AF_INET6);  /* may fail on a host without IPv6 */
    n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (n->fd4 < 0 || n->wake < 0) {
        srv_notifier_free(n);
        return NULL;
    }
    return n;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

static void wake(srv_notifier_t *n)
{
    uint64_t one = 1;
    ssize_t w = write(n->wake, &one, sizeof one);
    (void)w;
}

int srv_notifier_send(srv_notifier_t *n, const uint8_t *origin, const uint8_t *soa_rdata,
                      uint16_t soa_len, uint32_t soa_ttl, const srv_notify_target_t *targets,
                      size_t ntargets)
{
    if (soa_len > SOA_MAX || soa_len < 22)
        return -1;
    uint32_t serial = dns_get_u32(soa_rdata + soa_len - 20);
    pthread_mutex_lock(&n->lock);
    for (size_t i = 0; i < ntargets; i++) {
        notify_job_t *j = n->jobs;
        /* RFC 1996 §4.2: only the latest serial matters to a target. */
        while (j && !(same_addr(&j->to, &targets[i].addr) && dns_name_equal(j->origin, origin)))
            j = j->next;
        if (!j) {
            j = calloc(1, sizeof *j);
            if (!j) {
                pthread_mutex_unlock(&n->lock);
                srv_log("NOTIFY: out of memory");
                return -1;
            }
            j->next = n->jobs;
            n->jobs = j;
            j->to = targets[i].addr;
            dns_name_copy(j->origin, origin);
        }
        j->signed_ = targets[i].key != NULL;
        if (j->signed_)
            j->key = *targets[i].key;
        memcpy(j->soa, soa_rdata, soa_len);
        j->soa_len = soa_len;
        j->soa_ttl = soa_ttl;
        j->serial = serial;
        j->tries = 0;
        j->due_ms = 0;
        if (getrandom(&j->id, sizeof j->id, 0) != sizeof j->id)
            j->id = (uint16_t)(srv_mono_ms() ^ (uintptr_t)j);
    }
    pthread_mutex_unlock(&n->lock);
    wake(n);
    return 0;
}

/* Builds the NOTIFY of j (RFC 1996 §3.7: opcode NOTIFY, AA, the zone's
 * SOA as question and, as a hint, in the answer section), signed with
 * the target's key when it has one (a new exchange each time). */
static size_t build(notify_job_t *j, uint8_t *buf, size_t cap)
{
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, j->id, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_F_AA));
    if (dns_msgb_question(&b, j->origin, DNS_T_SOA, DNS_C_IN) != ZL_OK ||
        dns_msgb_rr(&b, DNS_SEC_AN, j->origin, DNS_T_SOA, DNS_C_IN, j->soa_ttl, j->soa,
                    j->soa_len) != ZL_OK)
        return 0;
    size_t len = dns_msgb_finish(&b);
    dns_tsig_ctx_clear(&j->tsig);
    if (j->signed_) {
        dns_tsig_client_init(&j->tsig, &j->key);
        if (dns_tsig_sign(&j->tsig, buf, &len, cap, (uint64_t)time(NULL)) != ZL_OK)
            return 0;
    }
    return len;
}

static void describe(const notify_job_t *j, char *zone, size_t zcap, char *to, size_t tcap)
{
    dns_name_to_text(j->origin, zone, zcap);
    srv_addr_text((const struct sockaddr *)&j->to, to, tcap);
}

/* Sends what is due, drops what is given up; returns ms to the next due. */
static int run_due(srv_notifier_t *n)
{
    uint64_t now = srv_mono_ms();
    int wait = -1;
    pthread_mutex_lock(&n->lock);
    for (notify_job_t **pj = &n->jobs; *pj;) {
        notify_job_t *j = *pj;
        char zone[DNS_NAME_TEXT_MAX], to[64];
        if (j->due_ms > now) {
            int ms = (int)(j->due_ms - now);
            wait = wait < 0 || ms < wait ? ms : wait;
            pj = &j->next;
            continue;
        }
        if (j->tries == SRV_NOTIFY_TRIES) {
            describe(j, zone, sizeof zone, to, sizeof to);
            srv_log("NOTIFY %s serial %u to %s: no answer after %u tries, given up", zone,
                    j->serial, to, j->tries);
            *pj = j->next;
            dns_tsig_ctx_clear(&j->tsig);
            free(j);
            continue;
        }
        uint8_t msg[1024];
        size_t len = build(j, msg, sizeof msg);
        int fd = j->to.ss_family == AF_INET6 ? n->fd6 : n->fd4;
        socklen_t alen = j->to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                     : sizeof(struct sockaddr_in);
        if (len && fd >= 0)
            (void)sendto(fd, msg, len, 0, (const struct sockaddr *)&j->to, alen);
        /* 1, 2, 4, 8, 16 s: RFC 1996 §3.6 leaves the interval to us. */
        j->due_ms = now + ((uint64_t)n->retry_ms << j->tries);
        j->tries++;
        int ms = (int)(j->due_ms - now);
        wait = wait < 0 || ms < wait ? ms : wait;
        pj = &j->next;
    }
    pthread_mutex_unlock(&n->lock);
    return wait;
}

/* A datagram on fd: an answer to one of our NOTIFYs, or ignored. */
static void take_answer(srv_notifier_t *n, int fd)
{
    uint8_t buf[4096];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    if (r < DNS_HDR_LEN)
        return;
    uint16_t id = dns_get_u16(buf), flags = dns_get_u16(buf + 2);
    if (!(flags & DNS_F_QR) || DNS_F_OPCODE(flags) != DNS_OP_NOTIFY)
        return;
    pthread_mutex_lock(&n->lock);
    for (notify_job_t **pj = &n->jobs; *pj; pj = &(*pj)->next) {
        notify_job_t *j = *pj;
        if (j->id != id || j->tries == 0 || !same_addr(&j->to, &from))
            continue;
        char zone[DNS_NAME_TEXT_MAX], to[64];
        describe(j, zone, sizeof zone, to, sizeof to);
        if (j->signed_) {
            /* A signed NOTIFY's answer must be signed with the same key
             * (RFC 8945 §5.3): anything else is ignored, so a forged
             * answer cannot stop the retransmissions. */
            dns_query_t q;
            (void)dns_query_parse(&q, buf, (size_t)r);
            int v = dns_tsig_verify_response(&j->tsig, buf, (size_t)r, q.tsig_off,
                                             (uint64_t)time(NULL));
            if (v == ZL_EDENIED) {
                srv_log("NOTIFY %s serial %u to %s: the secondary refused our signature "
                        "(TSIG error %u)", zone, j->serial, to, j->tsig.peer_error);
            } else if (v != ZL_OK) {
                srv_log("NOTIFY %s serial %u to %s: an answer that does not verify, ignored",
                        zone, j->serial, to);
                break;
            }
        }
        srv_log("NOTIFY %s serial %u to %s: answered, rcode %u", zone, j->serial, to,
                DNS_F_RCODE(flags));
        *pj = j->next;
        dns_tsig_ctx_clear(&j->tsig);
        free(j);
        break;
    }
    pthread_mutex_unlock(&n->lock);
}

static void *notifier_main(void *arg)
{
    srv_notifier_t *n = arg;
    while (!atomic_load(&n->stop)) {
        int wait = run_due(n);
        struct pollfd p[3] = {
            {.fd = n->wake, .events = POLLIN}, {.fd = n->fd4, .events = POLLIN},
            {.fd = n->fd6, .events = POLLIN},
        };
        int r = poll(p, n->fd6 >= 0 ? 3 : 2, wait);
        if (r <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            uint64_t v;
            ssize_t rd = read(n->wake, &v, sizeof v);
            (void)rd;
        }
        for (int i = 1; i < 3; i++)
            if (p[i].revents & POLLIN)
                take_answer(n, p[i].fd);
    }
    return NULL;
}

int srv_notifier_start(srv_notifier_t *n)
{
    int rc = pthread_create(&n->thread, NULL, notifier_main, n);
    n->started = rc == 0;
    if (n->started)
        (void)pthread_setname_np(n->thread, "zl-notify");   /* as the UDP workers' */
    return rc;
}

void srv_notifier_stop(srv_notifier_t *n)
{
    if (!n || !n->started)
        return;
    atomic_store(&n->stop, true);
    wake(n);
    pthread_join(n->thread, NULL);
    n->started = false;
}

void srv_notifier_free(srv_notifier_t *n)
{
    if (!n)
        return;
    srv_notifier_stop(n);
    while (n->jobs) {
        notify_job_t *j = n->jobs;
        n->jobs = j->next;
        dns_tsig_ctx_clear(&j->tsig);
        free(j);
    }
    if (n->fd4 >= 0)
        close(n->fd4);
    if (n->fd6 >= 0)
        close(n->fd6);
    if (n->wake >= 0)
        close(n->wake);
    pthread_mutex_destroy(&n->lock);
    free(n);
}
