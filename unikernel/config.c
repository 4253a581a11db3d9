#include "unikernel/config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_LISTEN = 256, OPT_ZONES, OPT_WORKERS, OPT_UDP_MAX, OPT_NSID, OPT_ID_SERVER,
    OPT_VERSION_SERVER, OPT_COOKIES, OPT_NO_COOKIES, OPT_LOG_QUERIES,
    OPT_TCP_MAX_CONNS, OPT_TCP_MAX_PER_IP, OPT_TCP_IDLE_MS, OPT_UDP_COALESCE_US, OPT_TSIG_KEY,
    OPT_NOTIFY_TO, OPT_AXFR_ALLOW, OPT_IXFR_HISTORY, OPT_IXFR_MAX_BYTES, OPT_REMOTE,
    OPT_REMOTE_KEY, OPT_REMOTE_KNOWN_HOSTS, OPT_REMOTE_CA, OPT_AUTHOR, OPT_CACHE, OPT_POLL,
    OPT_PUSH_TIMEOUT, OPT_ACME_DIRECTORY, OPT_ACME_EMAIL, OPT_ACME_CA, OPT_ACME_RENEW_DAYS, OPT_HELP
};

static const struct option srv_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"zones", required_argument, NULL, OPT_ZONES},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"udp-max", required_argument, NULL, OPT_UDP_MAX},
    {"nsid", required_argument, NULL, OPT_NSID},
    {"id-server", required_argument, NULL, OPT_ID_SERVER},
    {"version-server", required_argument, NULL, OPT_VERSION_SERVER},
    {"cookies", no_argument, NULL, OPT_COOKIES},
    {"no-cookies", no_argument, NULL, OPT_NO_COOKIES},
    {"log-queries", no_argument, NULL, OPT_LOG_QUERIES},
    {"tcp-max-conns", required_argument, NULL, OPT_TCP_MAX_CONNS},
    {"tcp-max-per-ip", required_argument, NULL, OPT_TCP_MAX_PER_IP},
    {"tcp-idle-ms", required_argument, NULL, OPT_TCP_IDLE_MS},
    {"udp-coalesce-us", required_argument, NULL, OPT_UDP_COALESCE_US},
    {"tsig-key", required_argument, NULL, OPT_TSIG_KEY},
    {"notify-to", required_argument, NULL, OPT_NOTIFY_TO},
    {"axfr-allow", required_argument, NULL, OPT_AXFR_ALLOW},
    {"ixfr-history", required_argument, NULL, OPT_IXFR_HISTORY},
    {"ixfr-max-bytes", required_argument, NULL, OPT_IXFR_MAX_BYTES},
    {"remote", required_argument, NULL, OPT_REMOTE},
    {"remote-key", required_argument, NULL, OPT_REMOTE_KEY},
    {"remote-known-hosts", required_argument, NULL, OPT_REMOTE_KNOWN_HOSTS},
    {"remote-ca", required_argument, NULL, OPT_REMOTE_CA},
    {"author", required_argument, NULL, OPT_AUTHOR},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"poll", required_argument, NULL, OPT_POLL},
    {"push-timeout", required_argument, NULL, OPT_PUSH_TIMEOUT},
    {"acme-directory", required_argument, NULL, OPT_ACME_DIRECTORY},
    {"acme-email", required_argument, NULL, OPT_ACME_EMAIL},
    {"acme-ca", required_argument, NULL, OPT_ACME_CA},
    {"acme-renew-days", required_argument, NULL, OPT_ACME_RENEW_DAYS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void srv_config_usage(FILE *out)
{
    fputs("usage: zonelet [options]          serve the zones of a directory\n"
          "       zonelet check [--strict] FILE...  check zone files\n"
          "       zonelet notify --server ADDR:PORT [--key NAME:ALG:BASE64] ZONE\n"
          "                       send one signed NOTIFY (git hooks, scripts)\n"
          "       zonelet vm [--target virtio|hvt] [server options]\n"
          "                       the appliance in a virtual machine (zonelet vm --help)\n"
          "       zonelet certify --server ADDR:PORT --key NAME:ALG:BASE64 --name HOST...\n"
          "                       --out DIR  a key and a certificate through the server's\n"
          "                                  ACME client (zonelet certify --help)\n"
          "options (default in brackets):\n"
          "  --listen ADDR:PORT     address to serve on, repeatable; IPv6 as [::1]:5353\n"
          "                         [127.0.0.1:5353 and [::1]:5353]\n"
          "  --zones DIR            one zone file per zone, named after the zone;\n"
          "                         _keys, *._keys, _acme, dotfiles and sub-folders\n"
          "                         skipped\n"
          "                         [zones-example]\n"
          "  --workers N            UDP worker threads per address [number of CPUs]\n"
          "  --udp-max N            largest UDP reply with EDNS, 512-65535 [1232]\n"
          "  --udp-coalesce-us N    under load (a query came less than N us after the\n"
          "                         worker was ready), after a batch smaller than 8\n"
          "                         queries let more gather for N microseconds (0-1000)\n"
          "                         before the next receive: fewer wake-ups and less\n"
          "                         CPU per query, but up to N us added latency for\n"
          "                         the queries that wait (a client on the same host\n"
          "                         asking one query at a time sees it on each);\n"
          "                         an idle server answers at once; 0: off [200]\n"
          "  --nsid TEXT            answer EDNS NSID (RFC 5001) with TEXT [off]\n"
          "  --id-server TEXT       answer CH TXT id.server/hostname.bind [off: REFUSED]\n"
          "  --version-server TEXT  answer CH TXT version.server/version.bind [off]\n"
          "  --cookies              answer DNS cookies, RFC 7873/9018 [on]\n"
          "  --no-cookies           do not answer DNS cookies\n"
          "  --log-queries          log one line per query [off]\n"
          "  --tcp-max-conns N      open TCP connections in all [512]\n"
          "  --tcp-max-per-ip N     open TCP connections per client address [32]\n"
          "  --tcp-idle-ms N        close idle TCP connections after N ms [10000]\n"
          "  --tsig-key NAME:ALG:BASE64  a TSIG key beside DIR/_keys and DIR/<zone>._keys,\n"
          "                         repeatable; ALG hmac-md5, hmac-sha1, hmac-sha224,\n"
          "                         hmac-sha256, hmac-sha384, hmac-sha512; the rights come\n"
          "                         from the name: <x>._update.<zone> (update, transfer,\n"
          "                         notify), <x>._transfer.<zone>, <x>._notify.<zone>\n"
          "  --notify-to ADDR:PORT  send NOTIFY after every change to this address too,\n"
          "                         repeatable (besides the zone's in-zone NS addresses\n"
          "                         and the addresses in <ip>.<ip>._transfer key names)\n"
          "  --axfr-allow CIDR      unsigned AXFR/IXFR from this network, repeatable\n"
          "                         [none: a transfer or update key is needed]\n"
          "  --ixfr-history N       versions of each zone kept for IXFR [100]\n"
          "  --ixfr-max-bytes N     and in at most N octets of memory [16777216]\n"
          "  --remote URL[#BRANCH]  serve the zones of a git branch instead of --zones:\n"
          "                         file://, git://, ssh:// or https://; every change is\n"
          "                         committed and pushed before it is answered [off]\n"
          "  --remote-key FILE      ssh:// private key\n"
          "  --remote-known-hosts FILE  ssh:// known_hosts (the host key is checked)\n"
          "  --remote-ca FILE       https:// CA certificates (PEM) [the system's]\n"
          "  --author 'NAME <MAIL>' author of the commits zonelet makes [zonelet]\n"
          "  --cache DIR            the local clone, kept across restarts: served from\n"
          "                         while the remote is unreachable [.zonelet-cache]\n"
          "  --poll SECONDS         fetch the remote this often [0: on NOTIFY and SIGHUP]\n"
          "  --push-timeout SECONDS an UPDATE waits at most this long for its push, then\n"
          "                         gets SERVFAIL [10]\n"
          "  --acme-directory URL   obtain certificates from this ACME (RFC 8555) server:\n"
          "                         a CSR stored as TLSA 3 255 0 at _letsencrypt._tcp.NAME\n"
          "                         asks for one (its names must be in zones served here);\n"
          "                         the chain is stored beside it (TLSA 3 0 0, 2 0 0),\n"
          "                         DNS-01 answered by changing the zone; the account key\n"
          "                         is kept in the store as _acme [off]\n"
          "  --acme-email MAIL      contact of the ACME account [none]\n"
          "  --acme-ca FILE         CA certificates for the ACME server's HTTPS (PEM)\n"
          "                         [/etc/ssl/certs/ca-certificates.crt]\n"
          "  --acme-renew-days N    renew when fewer than N days of validity remain\n"
          "                         [when less than a third of the validity remains]\n"
          "  --help                 this text\n"
          "signals: SIGHUP reloads the zones (a broken zone keeps its old version),\n"
          "SIGTERM and SIGINT stop.\n", out);
}

static int parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "zonelet: --%s: expected a number from %u to %u, got '%s'\n",
                opt, min, max, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
    unsigned v;
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    v = (unsigned)strtoul(s, &end, 10);
    if (*end != '\0' || v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int srv_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon, *port;
    uint16_t p;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        port = close + 2;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1 || parse_port(port, &p))
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(p);
        *len = sizeof *a6;
        return 0;
    }
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1 || parse_port(colon + 1, &p))
        return -1;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(p);
    *len = sizeof *a4;
    return 0;
}

static void config_defaults(srv_config_t *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    memset(cfg, 0, sizeof *cfg);
    cfg->zones_dir = "zones-example";
    cfg->workers = ncpu > 0 && ncpu < 256 ? (unsigned)ncpu : 1;
    cfg->tcp_max_conns = 512;
    cfg->tcp_max_per_ip = 32;
    cfg->tcp_idle_ms = 10000;
    cfg->udp_coalesce_us = 200;  /* chosen by measurement: tests/bench/RESULTS.md runs 4-7 */
    cfg->ixfr_history = 100;
    cfg->acme_renew_days = -1;
    cfg->acme_ca = "/etc/ssl/certs/ca-certificates.crt";
    cfg->cache_dir = ".zonelet-cache";
    cfg->push_timeout_s = 10;
    cfg->ixfr_max_bytes = (size_t)16 << 20;
    srv_msg_cfg_init(&cfg->msg);
    cfg->msg.cookies = true;
}

static int add_listen(srv_config_t *cfg, const char *s)
{
    if (cfg->nlisten == SRV_LISTEN_MAX) {
        fprintf(stderr, "zonelet: at most %d --listen addresses\n", SRV_LISTEN_MAX);
        return -1;
    }
    if (srv_addr_parse(s, &cfg->listen[cfg->nlisten], &cfg->listen_len[cfg->nlisten])) {
        fprintf(stderr, "zonelet: --listen: expected ADDR:PORT or [ADDR6]:PORT, got '%s'\n", s);
        return -1;
    }
    cfg->nlisten++;
    return 0;
}

static int set_nsid(srv_config_t *cfg, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SRV_NSID_MAX) {
        fprintf(stderr, "zonelet: --nsid: 1 to %d characters\n", SRV_NSID_MAX);
        return -1;
    }
    memcpy(cfg->nsid, s, n);
    cfg->msg.nsid = cfg->nsid;
    cfg->msg.nsid_len = (uint16_t)n;
    return 0;
}

static int add_notify_to(srv_config_t *cfg, const char *s)
{
    if (cfg->nnotify_to == SRV_NOTIFY_MAX) {
        fprintf(stderr, "zonelet: at most %d --notify-to addresses\n", SRV_NOTIFY_MAX);
        return -1;
    }
    size_t i = cfg->nnotify_to;
    if (srv_addr_parse(s, &cfg->notify_to[i], &cfg->notify_to_len[i])) {
        fprintf(stderr, "zonelet: --notify-to: expected ADDR:PORT or [ADDR6]:PORT, got '%s'\n", s);
        return -1;
    }
    cfg->nnotify_to++;
    return 0;
}

static int add_axfr_allow(srv_config_t *cfg, const char *s)
{
    if (cfg->msg.naxfr_allow == SRV_ACL_MAX) {
        fprintf(stderr, "zonelet: at most %d --axfr-allow networks\n", SRV_ACL_MAX);
        return -1;
    }
    if (srv_cidr_parse(s, &cfg->axfr_allow[cfg->msg.naxfr_allow])) {
        fprintf(stderr, "zonelet: --axfr-allow: expected ADDR[/LEN], got '%s'\n", s);
        return -1;
    }
    cfg->msg.axfr_allow = cfg->axfr_allow;
    cfg->msg.naxfr_allow++;
    return 0;
}

static int add_tsig_key(srv_config_t *cfg, const char *s)
{
    if (cfg->ntsig_keys == SRV_KEYARG_MAX) {
        fprintf(stderr, "zonelet: at most %d --tsig-key options\n", SRV_KEYARG_MAX);
        return -1;
    }
    cfg->tsig_keys[cfg->ntsig_keys++] = s;  /* checked when the keys are loaded */
    return 0;
}

static int apply_option(srv_config_t *cfg, int c, const char *arg)
{
    unsigned v;
    switch (c) {
    case OPT_LISTEN: return add_listen(cfg, arg);
    case OPT_ZONES: cfg->zones_dir = arg; return 0;
    case OPT_WORKERS: return parse_uint("workers", arg, 1, 256, &cfg->workers);
    case OPT_UDP_MAX:
        if (parse_uint("udp-max", arg, 512, 65535, &v))
            return -1;
        cfg->msg.udp_max = (uint16_t)v;
        return 0;
    case OPT_NSID: return set_nsid(cfg, arg);
    case OPT_ID_SERVER: cfg->msg.id_server = arg; return 0;
    case OPT_VERSION_SERVER: cfg->msg.version_server = arg; return 0;
    case OPT_COOKIES: cfg->msg.cookies = true; return 0;
    case OPT_NO_COOKIES: cfg->msg.cookies = false; return 0;
    case OPT_LOG_QUERIES: cfg->log_queries = true; return 0;
    case OPT_TCP_MAX_CONNS: return parse_uint("tcp-max-conns", arg, 1, 65536, &cfg->tcp_max_conns);
    case OPT_TCP_MAX_PER_IP: return parse_uint("tcp-max-per-ip", arg, 1, 65536, &cfg->tcp_max_per_ip);
    case OPT_UDP_COALESCE_US: return parse_uint("udp-coalesce-us", arg, 0, 1000, &cfg->udp_coalesce_us);
    case OPT_TCP_IDLE_MS: return parse_uint("tcp-idle-ms", arg, 1, 86400000, &cfg->tcp_idle_ms);
    case OPT_TSIG_KEY: return add_tsig_key(cfg, arg);
    case OPT_NOTIFY_TO: return add_notify_to(cfg, arg);
    case OPT_AXFR_ALLOW: return add_axfr_allow(cfg, arg);
    case OPT_IXFR_HISTORY: return parse_uint("ixfr-history", arg, 1, 100000, &cfg->ixfr_history);
    case OPT_REMOTE: cfg->remote = arg; return 0;
    case OPT_REMOTE_KEY: cfg->remote_key = arg; return 0;
    case OPT_REMOTE_KNOWN_HOSTS: cfg->remote_known_hosts = arg; return 0;
    case OPT_REMOTE_CA: cfg->remote_ca = arg; return 0;
    case OPT_AUTHOR: cfg->author = arg; return 0;
    case OPT_CACHE: cfg->cache_dir = arg; return 0;
    case OPT_POLL: return parse_uint("poll", arg, 0, 86400, &cfg->poll_s);
    case OPT_PUSH_TIMEOUT: return parse_uint("push-timeout", arg, 1, 3600, &cfg->push_timeout_s);
    case OPT_ACME_DIRECTORY: cfg->acme_directory = arg; return 0;
    case OPT_ACME_EMAIL: cfg->acme_email = arg; return 0;
    case OPT_ACME_CA: cfg->acme_ca = arg; return 0;
    case OPT_ACME_RENEW_DAYS:
        if (parse_uint("acme-renew-days", arg, 0, 100000, &v))
            return -1;
        cfg->acme_renew_days = (int)v;
        return 0;
    case OPT_IXFR_MAX_BYTES:
        if (parse_uint("ixfr-max-bytes", arg, 4096, 0xffffffffu, &v))
            return -1;
        cfg->ixfr_max_bytes = v;
        return 0;
    default: return -1;
    }
}

int srv_config_parse(srv_config_t *cfg, int argc, char **argv)
{
    int c;
    config_defaults(cfg);
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", srv_options, NULL)) != -1) {
        if (c == OPT_HELP) {
            srv_config_usage(stdout);
            return 1;
        }
        if (c == '?' || apply_option(cfg, c, optarg)) {
            fprintf(stderr, "zonelet: try --help\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zonelet: unexpected argument '%s' (try --help)\n", argv[optind]);
        return -1;
    }
    if (cfg->nlisten == 0 && (add_listen(cfg, "127.0.0.1:5353") || add_listen(cfg, "[::1]:5353")))
        return -1;
    return 0;
}

int srv_config_each(int argc, char **argv,
                    int (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    int c, idx;
    optind = 1;
    opterr = 0;   /* srv_config_parse already said what is wrong */
    while ((c = getopt_long(argc, argv, "+", srv_options, &idx)) != -1) {
        if (c == '?' || c == ':')
            return -1;
        int rc = fn(ctx, srv_options[idx].name, optarg);
        if (rc)
            return rc;
    }
    return optind < argc ? -1 : 0;
}
