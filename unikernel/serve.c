/* `zonelet` serve mode: configuration, the change path and its store,
 * listeners, workers, and the control loop (signals) on the main thread.
 *
 * Threads: one UDP thread per (worker, address), one TCP event-loop
 * thread, the change path (writer.c) and its helper, the NOTIFY sender,
 * the ACME client (acme_agent.c, with --acme-directory), and the main
 * thread, which only waits for signals: nothing of the change path
 * (disk, parsing, syncs) or of ACME ever delays a query.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dns/err.h"
#include "unikernel/acme_agent.h"
#include "unikernel/cmd.h"
#include "unikernel/config.h"
#include "unikernel/log.h"
#include "unikernel/tcp.h"
#include "unikernel/stores.h"
#include "unikernel/udp.h"
#include "unikernel/writer.h"

typedef struct server {
    srv_config_t cfg;
    srv_publish_t *pub;
    srv_notifier_t *notifier;
    srv_writer_t *writer;
    srv_udp_t **udp;
    size_t nudp;
    srv_tcp_t *tcp;
    srv_acme_t *acme;            /* the built-in ACME client, or NULL */
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
        srv_udp_t *u = srv_udp_new(fd, (unsigned)s->nudp, s->pub, srv_writer_changes(s->writer),
                                   &s->cfg, &s->stop);
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

/* The --tsig-key options as keys; a bad one is fatal. */
static int command_line_keys(const srv_config_t *cfg, zone_key_t *keys)
{
    for (size_t i = 0; i < cfg->ntsig_keys; i++) {
        const char *why = NULL;
        if (zone_key_from_arg(cfg->tsig_keys[i], &keys[i], &why) != ZL_OK) {
            srv_log("--tsig-key %s: %s", cfg->tsig_keys[i], why ? why : "not a key");
            return -1;
        }
    }
    return 0;
}

static int server_open(server_t *s, bool defaults)
{
    /* Reader slots: one per UDP worker, then TCP's, then the ACME agent's. */
    size_t tcp_slot = s->cfg.nlisten * s->cfg.workers, acme_slot = tcp_slot + 1;
    size_t readers = acme_slot + 1, listening = 0;
    zone_key_t keys[SRV_KEYARG_MAX];
    if (command_line_keys(&s->cfg, keys))
        return -1;
    s->pub = srv_publish_new((unsigned)readers);
    s->notifier = srv_notifier_new(SRV_NOTIFY_RETRY_MS);
    s->udp = calloc(readers, sizeof *s->udp);
    if (s->pub)
        s->writer = srv_writer_new(&s->cfg, s->pub, s->notifier, keys, s->cfg.ntsig_keys);
    srv_store_t *store = NULL;
    if (s->writer && !(store = srv_store_open(&s->cfg, srv_writer_jobs(s->writer))))
        return -1;   /* srv_store_open said why */
    if (store)
        srv_writer_set_store(s->writer, store);
    if (store)
        s->tcp = srv_tcp_new(&s->cfg, s->pub, srv_writer_changes(s->writer), (unsigned)tcp_slot);
    if (store && s->tcp && s->cfg.acme_directory &&
        !(s->acme = srv_acme_new(&s->cfg, s->pub, (unsigned)acme_slot, s->writer)))
        return -1;   /* srv_acme_new said why */
    if (!s->pub || !s->notifier || !s->udp || !s->writer || !store || !s->tcp) {
        srv_log("out of memory");
        return -1;
    }
    if (srv_writer_load(s->writer) < 0)
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
    int rc = srv_notifier_start(s->notifier);
    if (!rc)
        rc = srv_writer_start(s->writer);
    if (rc) {
        srv_log("cannot start the change path: %s", strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < s->nudp; i++) {
        rc = srv_udp_start(s->udp[i]);
        if (rc) {
            srv_log("cannot start a worker: %s", strerror(rc));
            return -1;
        }
    }
    rc = srv_tcp_start(s->tcp);
    if (rc) {
        srv_log("cannot start the tcp thread: %s", strerror(rc));
        return -1;
    }
    rc = s->acme ? srv_acme_start(s->acme) : 0;
    if (rc)
        srv_log("cannot start the ACME client: %s", strerror(rc));
    return rc ? -1 : 0;
}

/* The ACME client first (it waits on the change path), the transports
 * (no new requests), then the change path (it may still hand replies to
 * the transports, whose sockets stay open until freed), then the rest. */
static void server_close(server_t *s)
{
    srv_acme_free(s->acme);
    s->acme = NULL;
    atomic_store(&s->stop, true);
    for (size_t i = 0; i < s->nudp; i++)
        srv_udp_join(s->udp[i]);
    if (s->tcp)
        srv_tcp_stop(s->tcp);
    srv_writer_stop(s->writer);
    srv_notifier_stop(s->notifier);
    for (size_t i = 0; i < s->nudp; i++)
        srv_udp_free(s->udp[i]);
    srv_tcp_free(s->tcp);
    srv_writer_free(s->writer);
    srv_notifier_free(s->notifier);
    free(s->udp);
    srv_publish_free(s->pub);
}

/* The control loop: SIGHUP reloads, SIGTERM/SIGINT stop. */
static void server_wait(server_t *s, const sigset_t *set)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);
        if (sig == SIGHUP) {
            srv_log("SIGHUP: reloading %s", s->cfg.remote ? s->cfg.remote : s->cfg.zones_dir);
            srv_writer_reload_all(s->writer, "SIGHUP");
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
