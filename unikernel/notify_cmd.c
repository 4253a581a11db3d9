/* `zonelet notify --server ADDR:PORT --key NAME:ALG:BASE64 ZONE`: one
 * signed NOTIFY (RFC 1996) to a primary, for git hooks and scripts; the
 * answer is reported and sets the exit status (0: NOERROR and, when
 * signed, a reply whose TSIG verified). UDP, three tries of two seconds,
 * then once over TCP. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/cmd.h"
#include "unikernel/config.h"
#include "zone/keys.h"

#define NOTIFY_TRIES 3
#define NOTIFY_WAIT_MS 2000

static void usage(FILE *f)
{
    fputs("usage: zonelet notify --server ADDR:PORT [--key NAME:ALG:BASE64] ZONE\n"
          "  Sends one NOTIFY for ZONE (RFC 1996), signed with the key (TSIG; ALG\n"
          "  hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512),\n"
          "  and prints the answer. Exit status 0 when it is NOERROR (and its\n"
          "  signature verified), 1 otherwise, 2 on bad usage.\n", f);
}

/* Waits for a datagram from the server answering id; returns its length or 0. */
static size_t udp_answer(int fd, uint16_t id, uint8_t *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, NOTIFY_WAIT_MS) == 1) {
        ssize_t r = recv(fd, buf, cap, 0);
        if (r >= DNS_HDR_LEN && dns_get_u16(buf) == id && (buf[2] & 0x80))
            return (size_t)r;
        if (r < 0 && errno != EINTR)
            return 0;
    }
    return 0;
}

static size_t over_udp(const struct sockaddr_storage *ss, socklen_t sl, const uint8_t *q,
                       size_t qlen, uint8_t *buf, size_t cap)
{
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    size_t n = 0;
    if (fd < 0 || connect(fd, (const struct sockaddr *)ss, sl) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    for (int i = 0; i < NOTIFY_TRIES && !n; i++)
        if (send(fd, q, qlen, 0) == (ssize_t)qlen)
            n = udp_answer(fd, dns_get_u16(q), buf, cap);
    close(fd);
    return n;
}

static bool io_all(int fd, void *p, size_t n, bool out)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = out ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

static size_t over_tcp(const struct sockaddr_storage *ss, socklen_t sl, const uint8_t *q,
                       size_t qlen, uint8_t *buf, size_t cap)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {NOTIFY_WAIT_MS / 1000, 0};
    uint8_t len[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
    size_t n = 0;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, (const struct sockaddr *)ss, sl) == 0 && io_all(fd, len, 2, true) &&
        io_all(fd, (void *)q, qlen, true) && io_all(fd, len, 2, false)) {
        n = (size_t)(len[0] << 8 | len[1]);
        if (n > cap || !io_all(fd, buf, n, false))
            n = 0;
    }
    if (fd >= 0)
        close(fd);
    return n;
}

/* Builds and signs the NOTIFY. Returns its length or 0. */
static size_t build(const uint8_t *zone, dns_tsig_ctx_t *tc, uint8_t *buf, size_t cap)
{
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        id = (uint16_t)time(NULL);
    dns_msgb_t b;
    dns_msgb_init(&b, buf, cap, id, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_F_AA));
    if (dns_msgb_question(&b, zone, DNS_T_SOA, DNS_C_IN) != ZL_OK)
        return 0;
    size_t len = dns_msgb_finish(&b);
    if (dns_tsig_sign(tc, buf, &len, cap, (uint64_t)time(NULL)) != ZL_OK)
        return 0;
    return len;
}

/* Reports the answer; returns the exit status. */
static int report(const char *zone, const uint8_t *r, size_t n, dns_tsig_ctx_t *tc, bool signed_)
{
    dns_query_t q;
    if (n < DNS_HDR_LEN) {
        fprintf(stderr, "zonelet notify: %s: no answer\n", zone);
        return 1;
    }
    (void)dns_query_parse(&q, r, n);
    unsigned rcode = DNS_F_RCODE(dns_get_u16(r + 2));
    if (signed_) {
        int v = dns_tsig_verify_response(tc, r, n, q.tsig_off, (uint64_t)time(NULL));
        if (v != ZL_OK) {
            fprintf(stderr, "zonelet notify: %s: rcode %u, TSIG %s (error %u)\n", zone, rcode,
                    v == ZL_EDENIED ? "refused by the server" : "does not verify",
                    v == ZL_EDENIED ? tc->peer_error : tc->error);
            return 1;
        }
    }
    static const char *names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                  "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                  "NOTZONE"};
    printf("%s: %s\n", zone, rcode < 11 ? names[rcode] : "?");
    return rcode == DNS_R_NOERROR ? 0 : 1;
}

int cmd_notify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'}, {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *keyarg = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's')
            server = optarg;
        else if (c == 'k')
            keyarg = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    struct sockaddr_storage ss;
    socklen_t sl;
    uint8_t zone[DNS_NAME_MAX];
    static const uint8_t root[1] = {0};
    if (!server || optind + 1 != argc || srv_addr_parse(server, &ss, &sl) != 0 ||
        dns_name_from_text(argv[optind], strlen(argv[optind]), root, zone) < 0) {
        usage(stderr);
        return 2;
    }
    zone_key_t key;
    dns_tsig_ctx_t tc;
    memset(&tc, 0, sizeof tc);
    if (keyarg) {
        const char *why = NULL;
        if (zone_key_from_arg(keyarg, &key, &why) != ZL_OK) {
            fprintf(stderr, "zonelet notify: --key: %s\n", why ? why : "not a key");
            return 2;
        }
        dns_tsig_client_init(&tc, &key.tsig);
    }
    uint8_t q[1024], r[65535];
    size_t qlen = build(zone, &tc, q, sizeof q);
    if (!qlen) {
        fprintf(stderr, "zonelet notify: cannot build the message\n");
        return 1;
    }
    size_t n = over_udp(&ss, sl, q, qlen, r, sizeof r);
    if (!n)
        n = over_tcp(&ss, sl, q, qlen, r, sizeof r);
    int rc = report(argv[optind], r, n, &tc, keyarg != NULL);
    dns_tsig_ctx_clear(&tc);
    return rc;
}
