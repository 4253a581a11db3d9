/* `zonelet` serve mode: configuration, zones, listeners, workers, and
 * the control loop (signals) on the main thread.
 *
 * Threads: one UDP thread per (worker, address), one TCP event-loop
 * thread, and the main thread, which only waits for signals and reloads
 * the zones, so a reload (disk, parsing) never delays a query.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dns/err.h"
#include "unikernel/cmd.h"
#include "unikernel/config.h"
#include "unikernel/log.h"
#include "unikernel/tcp.h"
#include "unikernel/udp.h"
#include "unikernel/zones.h"

typedef struct server {
    srv_config_t cfg;
    srv_zones_t *zones;
    srv_udp_t **udp;
    size_t nudp;
    srv_tcp_t *tcp;
    atomic_bool stop;
} server_t;

static int cookie_secret(srv_config_t *cfg)
{
    uint8_t *p = cfg->msg.cookie_secret;
    size_t n = sizeof cfg->msg.cookie_secret, got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0)
            got += (size_t)r;
    }
    return 0;
}

/* An address that cannot be used is fatal, except the built-in IPv6
 * default on a host without IPv6 (make run must work there too). */
static bool listen_failure_fatal(const srv_config_t *cfg, size_t i, int err, bool defaults)
{
    char text[64];
    srv_addr_text((const struct sockaddr *)&cfg->listen[i], text, sizeof text);
    bool v6 = cfg->listen[i].ss_family == AF_INET6;
    if (defaults && v6 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
        srv_log("not listening on %s: %s", text, strerror(err));
        return false;
    }
    srv_log("cannot listen on %s: %s", text, strerror(err));
    return true;
}

/* Opens the UDP sockets and TCP listener of address i. Returns 1 when
 * listening, 0 when skipped, -1 on a fatal error. */
static int open_address(server_t *s, size_t i, bool defaults)
{
    const struct sockaddr *sa = (const struct sockaddr *)&s->cfg.listen[i];
    socklen_t len = s->cfg.listen_len[i];
    int rc = srv_tcp_listen(s->tcp, sa, len);
    if (rc < 0)
        return listen_failure_fatal(&s->cfg, i, -rc, defaults) ? -1 : 0;
    for (unsigned w = 0; w < s->cfg.workers; w++) {
        int fd = srv_udp_open(sa, len, s->cfg.msg.udp_max <= 1232);
        if (fd < 0)
            return listen_failure_fatal(&s->cfg, i, -fd, defaults) ? -1 : 0;
        srv_udp_t *u = srv_udp_new(fd, (unsigned)s->nudp, s->zones, &s->cfg, &s->stop);
        if (!u) {
            close(fd);
            return -1;
        }
        s->udp[s->nudp++] = u;
    }
    char text[64];
    srv_addr_text(sa, text, sizeof text);
    srv_log("listening on %s (udp, %u workers; tcp)", text, s->cfg.workers);
    return 1;
}

static int server_open(server_t *s, bool defaults)
{
    size_t readers = s->cfg.nlisten * s->cfg.workers + 1, listening = 0;
    s->zones = srv_zones_new(s->cfg.zones_dir, (unsigned)readers);
    s->udp = calloc(readers, sizeof *s->udp);
    if (s->zones)
        s->tcp = srv_tcp_new(&s->cfg, s->zones, (unsigned)(readers - 1));
    if (!s->zones || !s->udp || !s->tcp) {
        srv_log("out of memory");
        return -1;
    }
    if (srv_zones_load(s->zones) < 0)
        return -1;
    for (size_t i = 0; i < s->cfg.nlisten; i++) {
        int rc = open_address(s, i, defaults);
        if (rc < 0)
            return -1;
        listening += (size_t)rc;
    }
    return listening ? 0 : -1;
}

static int server_start(server_t *s)
{
    for (size_t i = 0; i < s->nudp; i++) {
        int rc = srv_udp_start(s->udp[i]);
        if (rc) {
            srv_log("cannot start a worker: %s", strerror(rc));
            return -1;
        }
    }
    int rc = srv_tcp_start(s->tcp);
    if (rc)
        srv_log("cannot start the tcp thread: %s", strerror(rc));
    return rc ? -1 : 0;
}

static void server_close(server_t *s)
{
    atomic_store(&s->stop, true);
    for (size_t i = 0; i < s->nudp; i++)
        srv_udp_join(s->udp[i]);
    if (s->tcp)
        srv_tcp_stop(s->tcp);
    for (size_t i = 0; i < s->nudp; i++)
        srv_udp_free(s->udp[i]);
    srv_tcp_free(s->tcp);
    free(s->udp);
    srv_zones_free(s->zones);
}

/* The control loop: SIGHUP reloads, SIGTERM/SIGINT stop. */
static void server_wait(server_t *s, const sigset_t *set)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);
        if (sig == SIGHUP) {
            srv_log("SIGHUP: reloading %s", s->cfg.zones_dir);
            srv_zones_load(s->zones);
        } else if (sig == SIGTERM || sig == SIGINT) {
            srv_log("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
    }
}

int cmd_serve(int argc, char **argv)
{
    server_t *s = calloc(1, sizeof *s);
    sigset_t set;
    if (!s)
        return 1;
    int rc = srv_config_parse(&s->cfg, argc, argv);
    bool defaults = true;
    for (int i = 1; i < argc; i++)
        defaults = defaults && strncmp(argv[i], "--listen", 8) != 0;
    if (rc != 0 || cookie_secret(&s->cfg)) {
        free(s);
        return rc > 0 ? 0 : 2;
    }
    /* Signals are taken synchronously by the main thread only: block
     * them before any thread starts, so every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    atomic_init(&s->stop, false);
    rc = server_open(s, defaults) || server_start(s) ? 1 : 0;
    if (rc == 0) {
        srv_log("ready");
        server_wait(s, &set);
    }
    server_close(s);
    free(s);
    return rc;
}
