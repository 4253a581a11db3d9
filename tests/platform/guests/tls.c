/* tls: a full TLS 1.2 handshake and an encrypted exchange between two
 * threads of the guest, client and server each on its own pthread,
 * joined by two in-memory pipes (mutex + condition variable). The guest
 * first makes its own P-256 CA and a "localhost" server certificate with
 * mbedTLS's x509 writer (mbedTLS's bundled test certificate expired in
 * 2023); the client verifies the chain, which needs the wall clock; both
 * sides draw randomness from the runtime's entropy source. What acme/ and
 * gitstore/ over HTTPS need, minus the network. */
#include <pthread.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "check.h"

/* One direction of the connection. */
struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char buf[1 << 16];
    size_t len;
    int closed;
};

static struct pipe c2s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};
static struct pipe s2c = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

/* One end of the connection: it reads one pipe and writes the other. */
struct end {
    struct pipe *in, *out;
};

static int end_send(void *ctx, const unsigned char *b, size_t n)
{
    struct pipe *p = ((struct end *)ctx)->out;
    pthread_mutex_lock(&p->mu);
    if (n > sizeof p->buf - p->len)
        n = sizeof p->buf - p->len;
    memcpy(p->buf + p->len, b, n);
    p->len += n;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return n ? (int)n : MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Blocks until data arrives: the peer thread runs meanwhile. */
static int end_recv(void *ctx, unsigned char *b, size_t n)
{
    struct pipe *p = ((struct end *)ctx)->in;
    pthread_mutex_lock(&p->mu);
    while (!p->len && !p->closed)
        pthread_cond_wait(&p->cv, &p->mu);
    if (n > p->len)
        n = p->len;
    memcpy(b, p->buf, n);
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    pthread_mutex_unlock(&p->mu);
    return (int)n; /* 0 once closed and drained: EOF */
}

static void pipe_close(struct pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

struct side {
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    struct end end;
};

static void side_init(struct side *s, int endpoint, const char *pers, struct pipe *in,
                      struct pipe *out)
{
    mbedtls_entropy_init(&s->ent);
    mbedtls_ctr_drbg_init(&s->drbg);
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_ssl_init(&s->ssl);
    mbedtls_x509_crt_init(&s->crt);
    mbedtls_pk_init(&s->key);
    s->end = (struct end){in, out};
    CHECK(mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->ent,
                                (const unsigned char *)pers, strlen(pers)) == 0);
    CHECK(mbedtls_ssl_config_defaults(&s->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT) == 0);
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
}

static void side_setup(struct side *s)
{
    CHECK(mbedtls_ssl_setup(&s->ssl, &s->conf) == 0);
    mbedtls_ssl_set_bio(&s->ssl, &s->end, end_send, end_recv, NULL);
}

static void side_free(struct side *s)
{
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_x509_crt_free(&s->crt);
    mbedtls_pk_free(&s->key);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->ent);
}

/* PEM of the CA certificate, the server certificate and its key. */
static unsigned char ca_pem[2048], srv_pem[2048], srv_key_pem[1024];

static void gen_key(mbedtls_pk_context *k, mbedtls_ctr_drbg_context *drbg)
{
    mbedtls_pk_init(k);
    CHECK(mbedtls_pk_setup(k, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
    CHECK(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*k),
                              mbedtls_ctr_drbg_random, drbg) == 0);
}

static void write_cert(mbedtls_pk_context *subj, mbedtls_pk_context *issuer, const char *sname,
                       const char *iname, int serial, int ca, unsigned char *out, size_t len,
                       mbedtls_ctr_drbg_context *drbg)
{
    mbedtls_x509write_cert w;
    mbedtls_mpi sn;

    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&sn);
    CHECK(mbedtls_mpi_lset(&sn, serial) == 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, subj);
    mbedtls_x509write_crt_set_issuer_key(&w, issuer);
    CHECK(mbedtls_x509write_crt_set_subject_name(&w, sname) == 0);
    CHECK(mbedtls_x509write_crt_set_issuer_name(&w, iname) == 0);
    CHECK(mbedtls_x509write_crt_set_serial(&w, &sn) == 0);
    CHECK(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20991231235959") == 0);
    CHECK(mbedtls_x509write_crt_set_basic_constraints(&w, ca, -1) == 0);
    CHECK(mbedtls_x509write_crt_pem(&w, out, len, mbedtls_ctr_drbg_random, drbg) == 0);
    mbedtls_mpi_free(&sn);
    mbedtls_x509write_crt_free(&w);
}

static void make_certs(void)
{
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context ca, srv;

    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    CHECK(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                (const unsigned char *)"certs", 5) == 0);
    gen_key(&ca, &drbg);
    gen_key(&srv, &drbg);
    write_cert(&ca, &ca, "CN=zonelet test CA", "CN=zonelet test CA", 1, 1, ca_pem,
               sizeof ca_pem, &drbg);
    write_cert(&srv, &ca, "CN=localhost", "CN=zonelet test CA", 2, 0, srv_pem,
               sizeof srv_pem, &drbg);
    CHECK(mbedtls_pk_write_key_pem(&srv, srv_key_pem, sizeof srv_key_pem) == 0);
    mbedtls_pk_free(&ca);
    mbedtls_pk_free(&srv);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
}

/* Server: handshake, read one request, answer it upper-cased, close. */
static void *server(void *arg)
{
    static struct side s;
    unsigned char buf[64];
    int n;
    (void)arg;
    side_init(&s, MBEDTLS_SSL_IS_SERVER, "server", &c2s, &s2c);
    CHECK(mbedtls_x509_crt_parse(&s.crt, srv_pem, strlen((char *)srv_pem) + 1) == 0);
    CHECK(mbedtls_pk_parse_key(&s.key, srv_key_pem, strlen((char *)srv_key_pem) + 1, NULL, 0) == 0);
    CHECK(mbedtls_ssl_conf_own_cert(&s.conf, &s.crt, &s.key) == 0);
    side_setup(&s);
    CHECK(mbedtls_ssl_handshake(&s.ssl) == 0);
    CHECK((n = mbedtls_ssl_read(&s.ssl, buf, sizeof buf)) > 0);
    for (int i = 0; i < n; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (unsigned char)(buf[i] - 'a' + 'A');
    CHECK(mbedtls_ssl_write(&s.ssl, buf, (size_t)n) == n);
    CHECK(mbedtls_ssl_close_notify(&s.ssl) == 0);
    pipe_close(&s2c);
    side_free(&s);
    return NULL;
}

int main(void)
{
    static struct side c;
    static const char req[] = "query example.test soa";
    unsigned char buf[64];
    pthread_t t;
    int n;

    make_certs();
    CHECK(pthread_create(&t, NULL, server, NULL) == 0);
    side_init(&c, MBEDTLS_SSL_IS_CLIENT, "client", &s2c, &c2s);
    CHECK(mbedtls_x509_crt_parse(&c.crt, ca_pem, strlen((char *)ca_pem) + 1) == 0);
    mbedtls_ssl_conf_ca_chain(&c.conf, &c.crt, NULL);
    mbedtls_ssl_conf_authmode(&c.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    side_setup(&c);
    CHECK(mbedtls_ssl_set_hostname(&c.ssl, "localhost") == 0);
    int r = mbedtls_ssl_handshake(&c.ssl);
    if (r) {
        char err[128];
        mbedtls_strerror(r, err, sizeof err);
        printf("FAILURE: client handshake: %s\n", err);
        return 1;
    }
    CHECK(mbedtls_ssl_get_verify_result(&c.ssl) == 0);
    printf("handshake: %s, %s\n", mbedtls_ssl_get_version(&c.ssl),
           mbedtls_ssl_get_ciphersuite(&c.ssl));
    CHECK(mbedtls_ssl_write(&c.ssl, (const unsigned char *)req, sizeof req - 1) ==
          (int)(sizeof req - 1));
    CHECK((n = mbedtls_ssl_read(&c.ssl, buf, sizeof buf)) == (int)(sizeof req - 1));
    CHECK(!memcmp(buf, "QUERY EXAMPLE.TEST SOA", (size_t)n));
    CHECK(mbedtls_ssl_read(&c.ssl, buf, sizeof buf) == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
    pthread_join(t, NULL);
    pipe_close(&c2s);

    /* The same chain for another name is refused. */
    mbedtls_x509_crt srv;
    uint32_t flags = 0;
    mbedtls_x509_crt_init(&srv);
    CHECK(mbedtls_x509_crt_parse(&srv, srv_pem, strlen((char *)srv_pem) + 1) == 0);
    CHECK(mbedtls_x509_crt_verify(&srv, &c.crt, NULL, "other.test", &flags, NULL, NULL) != 0);
    CHECK(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    mbedtls_x509_crt_free(&srv);
    side_free(&c);
    printf("SUCCESS\n");
    return 0;
}
