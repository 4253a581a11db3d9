/* `zonelet certify --server ADDR:PORT --key NAME:ALG:BASE64 --name HOST
 * [--name HOST...] --out DIR [--wait SECONDS]`: a certificate through
 * the ACME client of a zonelet server (what ocertify does for
 * primary-git).
 *
 *  1. DIR/key.pem is the certificate's key (ECDSA P-256): read when it is
 *     there, else made and written (mode 0600) first;
 *  2. a CSR for the names, signed with it;
 *  3. the TLSA records at `_letsencrypt._tcp.<first HOST>` are asked for
 *     (TCP, signed with the key): a certificate there that answers the
 *     CSR (same key, same names) and has not expired is taken as it is;
 *     a CSR there that asks for the same is left; otherwise the CSR is
 *     submitted with one signed UPDATE to the zone the SOA query names
 *     (the old CSR records deleted, the certificate records left until
 *     the server replaces them);
 *  4. the TLSA records are asked for four times a second until a
 *     certificate answering the CSR is there (at most --wait seconds,
 *     default 120);
 *  5. DIR/cert.pem (the certificate) and DIR/chain.pem (the CA
 *     certificates, each followed by its issuer) are written.
 * Exit status 0 when the files are written, 1 on failure (said on
 * stderr), 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "acme/csr.h"
#include "acme/key.h"
#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/acme_tlsa.h"
#include "unikernel/cmd.h"
#include "unikernel/config.h"
#include "zone/keys.h"

#define IO_WAIT_MS 5000
#define CSR_TTL 3600

typedef struct certify {
    struct sockaddr_storage ss;
    socklen_t sl;
    zone_key_t key;
    const char *names[ACME_MAX_NAMES];
    size_t n;
    const char *out;
    unsigned wait_s;
    uint8_t owner[DNS_NAME_MAX];
} certify_t;

static void usage(FILE *f)
{
    fputs("usage: zonelet certify --server ADDR:PORT --key NAME:ALG:BASE64 --name HOST\n"
          "                       [--name HOST...] --out DIR [--wait SECONDS]\n"
          "  Asks the zonelet at ADDR:PORT (serving HOST's zone, with --acme-directory)\n"
          "  for a certificate: makes DIR/key.pem (ECDSA P-256) unless it is there,\n"
          "  stores a CSR for the HOSTs as TLSA 3 255 0 at _letsencrypt._tcp.<first HOST>\n"
          "  with an UPDATE signed by the key (an _update key of the zone), waits for\n"
          "  the certificate TLSA records (at most SECONDS, default 120) and writes\n"
          "  DIR/cert.pem and DIR/chain.pem. A valid certificate for the same key and\n"
          "  names already there is taken without a new request. Exit status 0 when\n"
          "  the files are written, 1 otherwise, 2 on bad usage.\n", f);
}

/* ---- one signed exchange over TCP ------------------------------------------------- */

static bool io_all(int fd, void *p, size_t n, bool out)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = out ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

/* Signs q[0..*qlen) (capacity qcap), sends it, reads the reply into
 * r[0..cap) and verifies it. Returns the reply's length, or 0 (said on
 * stderr). */
static size_t exchange(const certify_t *c, uint8_t *q, size_t qlen, size_t qcap, uint8_t *r,
                       size_t cap, const char *what)
{
    dns_tsig_ctx_t tc;
    memset(&tc, 0, sizeof tc);
    dns_tsig_client_init(&tc, &c->key.tsig);
    size_t n = 0;
    if (dns_tsig_sign(&tc, q, &qlen, qcap, (uint64_t)time(NULL)) != ZL_OK) {
        fprintf(stderr, "zonelet certify: %s: cannot sign\n", what);
        return 0;
    }
    int fd = socket(c->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {IO_WAIT_MS / 1000, 0};
    uint8_t len[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, (const struct sockaddr *)&c->ss, c->sl) == 0 && io_all(fd, len, 2, true) &&
        io_all(fd, q, qlen, true) && io_all(fd, len, 2, false)) {
        n = (size_t)(len[0] << 8 | len[1]);
        if (n < DNS_HDR_LEN || n > cap || !io_all(fd, r, n, false))
            n = 0;
    }
    if (fd >= 0)
        close(fd);
    if (!n) {
        fprintf(stderr, "zonelet certify: %s: no answer from the server\n", what);
        dns_tsig_ctx_clear(&tc);
        return 0;
    }
    dns_query_t pq;
    (void)dns_query_parse(&pq, r, n);
    int v = dns_tsig_verify_response(&tc, r, n, pq.tsig_off, (uint64_t)time(NULL));
    dns_tsig_ctx_clear(&tc);
    if (v != ZL_OK || dns_get_u16(r) != dns_get_u16(q)) {
        fprintf(stderr, "zonelet certify: %s: the answer's TSIG %s (error %u)\n", what,
                v == ZL_EDENIED ? "says the server refused our key" : "does not verify",
                v == ZL_EDENIED ? tc.peer_error : tc.error);
        return 0;
    }
    return n;
}

static uint16_t new_id(void)
{
    uint16_t id;
    if (getrandom(&id, sizeof id, 0) != sizeof id)
        id = (uint16_t)time(NULL);
    return id;
}

/* A signed query for name/type; the reply parsed into m (records in a). */
static int ask(const certify_t *c, const uint8_t *name, uint16_t type, dns_msg_t *m, dns_arena_t *a)
{
    static uint8_t r[65535];
    uint8_t q[1024];
    dns_msgb_t b;
    dns_msgb_init(&b, q, sizeof q, new_id(), 0);
    if (dns_msgb_question(&b, name, type, DNS_C_IN) != ZL_OK)
        return ZL_EINVAL;
    size_t n = exchange(c, q, dns_msgb_finish(&b), sizeof q, r, sizeof r,
                        type == DNS_T_SOA ? "SOA query" : "TLSA query");
    if (!n)
        return ZL_EIO;
    dns_arena_reset(a);
    if (dns_msg_parse(m, r, n, a) != ZL_OK) {
        fprintf(stderr, "zonelet certify: a malformed answer\n");
        return ZL_EMALF;
    }
    return ZL_OK;
}

/* What the server holds at the owner: the TLSA records as ACME reads
 * them, and every CSR record (whole RDATA, to delete them). All of it
 * lives in the arena of the query. */
typedef struct found {
    srv_tlsa_set_t s;
    const uint8_t *csr_rd[8];
    uint16_t csr_len[8];
    unsigned ncsr;
} found_t;

static int tlsa_get(const certify_t *c, found_t *f, dns_arena_t *a)
{
    dns_msg_t m;
    memset(f, 0, sizeof *f);
    srv_tlsa_init(&f->s);
    int rc = ask(c, c->owner, DNS_T_TLSA, &m, a);
    if (rc != ZL_OK)
        return rc;
    unsigned rcode = DNS_F_RCODE(m.flags);
    if (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) {
        fprintf(stderr, "zonelet certify: TLSA query: rcode %u (is the name in a zone it serves?)\n",
                rcode);
        return ZL_ENOTFOUND;
    }
    for (unsigned i = 0; i < m.nrr[DNS_SEC_AN]; i++) {
        const dns_rr_t *rr = &m.rr[DNS_SEC_AN][i];
        if (rr->type != DNS_T_TLSA || !dns_name_equal(rr->owner, c->owner))
            continue;
        srv_tlsa_add(&f->s, rr->rdata, rr->rdlen);
        if (srv_tlsa_kind(rr->rdata, rr->rdlen) == SRV_TLSA_CSR && f->ncsr < 8) {
            f->csr_rd[f->ncsr] = rr->rdata;
            f->csr_len[f->ncsr++] = rr->rdlen;
        }
    }
    return ZL_OK;
}

/* The zone of the owner: the SOA's owner in an authoritative answer to
 * an SOA query for it. */
static int zone_of(const certify_t *c, uint8_t zone[DNS_NAME_MAX])
{
    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    int rc = ask(c, c->owner, DNS_T_SOA, &m, &a);
    bool found = false;
    for (int sec = DNS_SEC_AN; rc == ZL_OK && sec <= DNS_SEC_NS && !found; sec++)
        for (unsigned i = 0; i < m.nrr[sec] && !found; i++)
            if (m.rr[sec][i].type == DNS_T_SOA && (m.flags & DNS_F_AA)) {
                dns_name_copy(zone, m.rr[sec][i].owner);
                found = true;
            }
    dns_arena_free(&a);
    if (rc == ZL_OK && !found) {
        fprintf(stderr, "zonelet certify: the server is not authoritative for the name\n");
        rc = ZL_ENOTFOUND;
    }
    return rc;
}

/* The UPDATE: the old CSR records out (RFC 2136 §2.5.4), ours in; the
 * certificate records stay until the server replaces them. */
static int submit(const certify_t *c, const found_t *f, const uint8_t *csr, size_t csr_len)
{
    static uint8_t q[65535], r[65535];
    uint8_t zone[DNS_NAME_MAX];
    int rc = zone_of(c, zone);
    if (rc != ZL_OK)
        return rc;
    uint8_t *rd = malloc(csr_len + 3);
    size_t rdlen = rd ? srv_tlsa_rdata(3, 255, 0, csr, csr_len, rd, csr_len + 3) : 0;
    dns_msgb_t b;
    dns_msgb_init(&b, q, sizeof q, new_id(), (uint16_t)(DNS_OP_UPDATE << 11));
    rc = rdlen ? dns_msgb_question(&b, zone, DNS_T_SOA, DNS_C_IN) : ZL_ENOMEM;
    for (unsigned i = 0; rc == ZL_OK && i < f->ncsr; i++)
        rc = dns_msgb_rr(&b, DNS_SEC_NS, c->owner, DNS_T_TLSA, DNS_C_NONE, 0, f->csr_rd[i],
                         f->csr_len[i]);
    if (rc == ZL_OK)
        rc = dns_msgb_rr(&b, DNS_SEC_NS, c->owner, DNS_T_TLSA, DNS_C_IN, CSR_TTL, rd, (uint16_t)rdlen);
    free(rd);
    if (rc != ZL_OK) {
        fprintf(stderr, "zonelet certify: the UPDATE does not fit a message (%s)\n", zl_strerror(rc));
        return rc;
    }
    size_t n = exchange(c, q, dns_msgb_finish(&b), sizeof q, r, sizeof r, "UPDATE");
    if (!n)
        return ZL_EIO;
    unsigned rcode = DNS_F_RCODE(dns_get_u16(r + 2));
    if (rcode != DNS_R_NOERROR) {
        fprintf(stderr, "zonelet certify: UPDATE refused: rcode %u\n", rcode);
        return ZL_EDENIED;
    }
    return ZL_OK;
}

/* ---- files ----------------------------------------------------------------------- */

static int file_write(const char *dir, const char *name, const void *p, size_t len, mode_t mode)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    bool ok = fd >= 0 && write(fd, p, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) == 0)
        return ZL_OK;
    fprintf(stderr, "zonelet certify: cannot write %s: %s\n", path, strerror(errno));
    (void)unlink(tmp);
    return ZL_EIO;
}

/* DIR/key.pem read into k, or made and written. */
static int key_ready(const char *dir, acme_key_t *k, acme_rng_t *rng)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/key.pem", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        int rc = acme_key_parse(k, buf, n);
        memset(buf, 0, sizeof buf);
        if (rc != ZL_OK)
            fprintf(stderr, "zonelet certify: %s: not an ECDSA P-256 private key\n", path);
        return rc;
    }
    acme_buf_t pem;
    acme_buf_init(&pem, 0);
    int rc = acme_key_generate(k, rng);
    if (rc == ZL_OK)
        rc = acme_key_write_pem(k, &pem);
    if (rc == ZL_OK)
        rc = file_write(dir, "key.pem", pem.p, pem.len, 0600);
    if (pem.p)
        memset(pem.p, 0, pem.len);
    acme_buf_free(&pem);
    return rc;
}

/* cert.pem and chain.pem from s: the CA certificates each followed by
 * its issuer, those that issued nothing of the chain last. */
static int chain_write(const char *dir, const srv_tlsa_set_t *s)
{
    acme_buf_t cert, chain;
    acme_buf_init(&cert, 0);
    acme_buf_init(&chain, 0);
    bool used[ACME_CHAIN_MAX] = {false};
    const uint8_t *cur = s->cert;
    size_t cur_len = s->cert_len;
    acme_pem_write(&cert, "CERTIFICATE", s->cert, s->cert_len);
    for (unsigned step = 0; step < s->nca; step++) {
        unsigned k = 0;
        while (k < s->nca && (used[k] || !acme_cert_issued_by(cur, cur_len, s->ca[k], s->ca_len[k])))
            k++;
        if (k == s->nca)
            break;
        used[k] = true;
        acme_pem_write(&chain, "CERTIFICATE", s->ca[k], s->ca_len[k]);
        cur = s->ca[k];
        cur_len = s->ca_len[k];
    }
    for (unsigned k = 0; k < s->nca; k++)
        if (!used[k])
            acme_pem_write(&chain, "CERTIFICATE", s->ca[k], s->ca_len[k]);
    int rc = cert.err ? cert.err : chain.err;
    if (rc == ZL_OK)
        rc = file_write(dir, "cert.pem", cert.p, cert.len, 0644);
    if (rc == ZL_OK)
        rc = file_write(dir, "chain.pem", chain.p ? chain.p : "", chain.len, 0644);
    acme_buf_free(&cert);
    acme_buf_free(&chain);
    return rc;
}

/* True when s holds a certificate for csr that has not expired. */
static bool cert_there(const srv_tlsa_set_t *s, const uint8_t *csr, size_t csr_len, int64_t *until)
{
    int64_t from;
    return s->cert && acme_cert_matches_csr(s->cert, s->cert_len, csr, csr_len) &&
           acme_cert_validity(s->cert, s->cert_len, &from, until) == ZL_OK &&
           *until > (int64_t)time(NULL);
}

/* ---- the command --------------------------------------------------------------------- */

static int parse(certify_t *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'}, {"key", required_argument, NULL, 'k'},
        {"name", required_argument, NULL, 'n'},   {"out", required_argument, NULL, 'o'},
        {"wait", required_argument, NULL, 'w'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *keyarg = NULL;
    int opt;
    c->wait_s = 120;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 's': server = optarg; break;
        case 'k': keyarg = optarg; break;
        case 'o': c->out = optarg; break;
        case 'w': c->wait_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n':
            if (c->n == ACME_MAX_NAMES || !acme_name_ok(optarg)) {
                fprintf(stderr, "zonelet certify: --name %s: not a host name (or too many)\n", optarg);
                return 2;
            }
            c->names[c->n++] = optarg;
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    const char *why = NULL;
    static const uint8_t root[1] = {0};
    char owner[DNS_NAME_TEXT_MAX + 20];
    if (!server || !keyarg || !c->n || !c->out || optind != argc ||
        srv_addr_parse(server, &c->ss, &c->sl) != 0) {
        usage(stderr);
        return 2;
    }
    if (zone_key_from_arg(keyarg, &c->key, &why) != ZL_OK) {
        fprintf(stderr, "zonelet certify: --key: %s\n", why ? why : "not a key");
        return 2;
    }
    snprintf(owner, sizeof owner, "_letsencrypt._tcp.%s", c->names[0]);
    if (dns_name_from_text(owner, strlen(owner), root, c->owner) < 0) {
        fprintf(stderr, "zonelet certify: %s: not a name\n", owner);
        return 2;
    }
    return 0;
}

/* Waits (a query every 250 ms, at most c->wait_s) for a certificate for
 * the CSR at the owner; f holds it then. */
static int wait_cert(const certify_t *c, found_t *f, dns_arena_t *a, const uint8_t *csr,
                     size_t csr_len, int64_t *until)
{
    time_t deadline = time(NULL) + (time_t)c->wait_s;
    for (;;) {
        int rc = tlsa_get(c, f, a);
        if (rc != ZL_OK || cert_there(&f->s, csr, csr_len, until))
            return rc;
        if (time(NULL) >= deadline) {
            fprintf(stderr, "zonelet certify: no certificate after %u s (see the server's log)\n",
                    c->wait_s);
            return ZL_ETIMEOUT;
        }
        struct timespec ts = {0, 250000000};
        nanosleep(&ts, NULL);
    }
}

/* Submits the CSR unless the server already has it (or has the
 * certificate); then waits for the certificate. 0 when it is written. */
static int certify(const certify_t *c, const uint8_t *csr, size_t csr_len)
{
    dns_arena_t a;
    found_t f;
    int64_t until = 0;
    dns_arena_init(&a, NULL, 0, 0);
    int rc = tlsa_get(c, &f, &a);
    if (rc == ZL_OK && cert_there(&f.s, csr, csr_len, &until)) {
        printf("the server holds a valid certificate for this key and these names\n");
    } else if (rc == ZL_OK) {
        if (f.s.ncsr == 1 && acme_csr_same(f.s.csr, f.s.csr_len, csr, csr_len)) {
            printf("the server holds a request for this key and these names: waiting\n");
        } else if ((rc = submit(c, &f, csr, csr_len)) == ZL_OK) {
            printf("CSR submitted at _letsencrypt._tcp.%s: waiting\n", c->names[0]);
        }
        if (rc == ZL_OK)
            rc = wait_cert(c, &f, &a, csr, csr_len, &until);
    }
    if (rc == ZL_OK)
        rc = chain_write(c->out, &f.s);
    if (rc == ZL_OK) {
        time_t t = (time_t)until;
        char date[40] = "?";
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
        printf("certificate valid until %s: %s/cert.pem, %s/chain.pem, key %s/key.pem\n", date,
               c->out, c->out, c->out);
    }
    dns_arena_free(&a);
    return rc == ZL_OK ? 0 : 1;
}

/* mkdir -p: dir and its missing parents (mode 0755). */
static void mkdir_p(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        (void)mkdir(path, 0755);
        *p = '/';
    }
    (void)mkdir(path, 0755);
}

int cmd_certify(int argc, char **argv)
{
    certify_t *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    int rc = parse(c, argc, argv);
    if (rc) {
        free(c);
        return rc == 1 ? 0 : rc;
    }
    mkdir_p(c->out);
    acme_rng_t rng;
    acme_key_t k;
    acme_buf_t csr;
    acme_key_init(&k);
    acme_buf_init(&csr, 0);
    int e = acme_rng_init(&rng);
    if (e == ZL_OK)
        e = key_ready(c->out, &k, &rng);
    if (e == ZL_OK)
        e = acme_csr_make(&csr, &k, &rng, c->names, c->n);
    if (e != ZL_OK) {
        fprintf(stderr, "zonelet certify: no key or CSR (%s)\n", zl_strerror(e));
        rc = 1;
    } else {
        rc = certify(c, (const uint8_t *)csr.p, csr.len);
    }
    acme_buf_free(&csr);
    acme_key_free(&k);
    acme_rng_free(&rng);
    free(c);
    return rc;
}
