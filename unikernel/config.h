/* Serve-mode configuration: options, defaults, --help.
 *
 * One set of long options (DESIGN.md "Configuration"); every option has a
 * default that serves something sensible. The parsed configuration is
 * passed down as a context; nothing reads it through a global.
 */
#ifndef ZL_UNIKERNEL_CONFIG_H
#define ZL_UNIKERNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "unikernel/log.h"
#include "unikernel/process.h"

#define SRV_LISTEN_MAX 16
#define SRV_NSID_MAX 128
#define SRV_ACL_MAX 64
#define SRV_NOTIFY_MAX 64
#define SRV_KEYARG_MAX 64

typedef struct srv_config {
    struct sockaddr_storage listen[SRV_LISTEN_MAX];
    socklen_t listen_len[SRV_LISTEN_MAX];
    size_t nlisten;              /* 0 after parsing means the defaults */
    const char *zones_dir;       /* borrowed from argv or a literal */
    unsigned workers;            /* UDP workers (threads per address) */
    unsigned tcp_max_conns;      /* open TCP connections in all */
    unsigned tcp_max_per_ip;     /* open TCP connections per client address */
    unsigned tcp_idle_ms;        /* close a TCP connection idle this long */
    unsigned udp_coalesce_us;    /* under load, after a small batch wait this long for more (0: off) */
    bool log_queries;            /* one log line per query (slow path) */
    const char *tsig_keys[SRV_KEYARG_MAX]; /* --tsig-key NAME:ALG:BASE64, borrowed from argv */
    size_t ntsig_keys;
    struct sockaddr_storage notify_to[SRV_NOTIFY_MAX]; /* --notify-to, beside the zones' own */
    socklen_t notify_to_len[SRV_NOTIFY_MAX];
    size_t nnotify_to;
    srv_cidr_t axfr_allow[SRV_ACL_MAX]; /* --axfr-allow (msg.axfr_allow points here) */
    /* The git store (--remote instead of --zones): all borrowed from argv. */
    const char *remote;          /* URL[#BRANCH], or NULL: the zones directory */
    const char *remote_key;      /* ssh:// private key file */
    const char *remote_known_hosts; /* ssh:// known_hosts file */
    const char *remote_ca;       /* https:// CA certificates (PEM) */
    const char *author;          /* "Name <mail>" of the commits zonelet makes */
    const char *cache_dir;       /* the local clone, kept across restarts */
    unsigned poll_s;             /* fetch every N seconds (0: only on NOTIFY/SIGHUP) */
    unsigned push_timeout_s;     /* an UPDATE waits at most this long for its push */
    /* The built-in ACME client (unikernel/acme_agent.h): all borrowed. */
    const char *acme_directory;  /* https URL of the directory, or NULL: off */
    const char *acme_email;      /* account contact, or NULL */
    const char *acme_ca;         /* CA certificates for the ACME server (PEM) */
    int acme_renew_days;         /* renew with fewer days left; -1: a third of the validity */
    unsigned ixfr_history;       /* versions kept for IXFR per zone */
    size_t ixfr_max_bytes;       /* and at most this many octets of them */
    uint8_t nsid[SRV_NSID_MAX];
    srv_msg_cfg_t msg;           /* handed to srv_process (nsid points above) */
} srv_config_t;

/* Parses argv[1..argc) into cfg (defaults first). Returns 0 to go on,
 * 1 when --help was printed (exit 0), -1 on a bad option (message on
 * stderr, exit 2). cfg keeps pointers into argv. */
int srv_config_parse(srv_config_t *cfg, int argc, char **argv);

/* Calls fn(ctx, name, value) for each option of argv[1..argc) in order:
 * the long name as --help spells it (also when argv abbreviates it) and
 * its value (borrowed from argv; NULL for a flag). Meant for argv that
 * srv_config_parse accepted (zonelet vm rebuilds the guest's options from
 * it). Returns 0, -1 on a bad option or argument, or fn's non-zero
 * return (which stops the walk). */
int srv_config_each(int argc, char **argv,
                    int (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* Prints every option with its default. */
void srv_config_usage(FILE *out);

/* Parses "127.0.0.1:53", "[::1]:53" into ss. Returns 0 or -1. */
int srv_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);


#endif
