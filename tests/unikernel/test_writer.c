/* The change path (unikernel/writer.c) over a fake store: UPDATEs
 * applied in order and answered after their commit, group commit, a
 * store that fails (SERVFAIL, nothing changes anywhere), a store that
 * moved on (reload, prerequisites checked again, retry), refusals,
 * reloads that raise a serial nobody raised, and group commit behind a
 * slow store (the clients a commit answered go into one next commit). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/msg.h"
#include "dns/tsig.h"
#include "unikernel/writer.h"
#include "zone/diff.h"
#include "zone/parse.h"

#define K_UPD "u._update.w.test:hmac-sha256:c2VjcmV0LXVwZGF0ZS1rZXktZm9yLXRlc3Rz"

/* ---- the fake store ---------------------------------------------------- */

typedef struct fake {
    srv_store_t base;
    const char *text;           /* the zone as the store holds it */
    int commit_rc[8];           /* what the next commits return (then ZL_OK) */
    unsigned ncommit_rc, commits, committed;
    const char *moved_text;     /* what a reload after ECONFLICT finds */
    unsigned reloads;
    unsigned commit_ms;         /* each commit takes this long (a git push) */
    unsigned sizes[64];         /* changes per commit, in order */
} fake_t;

static fake_t fake;

static int add_rec(void *ctx, const dns_rr_t *rr) { return zone_builder_add(ctx, rr, NULL); }

static zone_t *zone_from(const char *text)
{
    static const uint8_t origin[] = "\1w\4test";
    zone_builder_t *b = zone_builder_new(origin);
    zone_parse_opts_t o = {.origin = origin};
    if (zone_parse_text(text, strlen(text), "fake", &o, add_rec, b, NULL) != ZL_OK) {
        zone_builder_finish(b, NULL, NULL);
        return NULL;
    }
    zone_t *z = NULL;
    return zone_builder_finish(b, &z, NULL) == ZL_OK ? z : NULL;
}

static int fake_listing(srv_loaded_t *out, const char *text, bool complete)
{
    memset(out, 0, sizeof *out);
    out->complete = complete;
    out->zones = calloc(1, sizeof *out->zones);
    out->zones[0].zone = zone_from(text);
    dns_name_copy(out->zones[0].origin, (const uint8_t *)"\1w\4test");
    out->nzones = 1;
    zone_key_t k;
    const char *why;
    out->keys = zone_keyring_new();
    zone_key_from_arg(K_UPD, &k, &why);
    zone_keyring_add(out->keys, &k);
    return 0;
}

static int f_load(srv_store_t *s, srv_loaded_t *out)
{
    (void)s;
    return fake_listing(out, fake.text, true);
}

static int f_reload(srv_store_t *s, const uint8_t *origin, srv_loaded_t *out)
{
    (void)s;
    (void)origin;
    fake.reloads++;
    if (!fake.moved_text) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    int rc = fake_listing(out, fake.moved_text, false);
    zone_keyring_free(out->keys);
    out->keys = NULL;
    fake.moved_text = NULL;
    return rc;
}

static int f_commit(srv_store_t *s, const srv_commit_t *c, size_t n)
{
    (void)s;
    (void)c;
    if (fake.commit_ms) {
        struct timespec ts = {.tv_sec = fake.commit_ms / 1000,
                              .tv_nsec = (long)(fake.commit_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    if (fake.commits < 64)
        fake.sizes[fake.commits] = (unsigned)n;
    fake.commits++;
    int rc = fake.ncommit_rc ? fake.commit_rc[--fake.ncommit_rc] : ZL_OK;
    if (rc == ZL_OK)
        fake.committed += (unsigned)n;
    return rc;
}

/* One non-zone file (file_read / file_write). */
static char file_name[32];
static uint8_t file_data[64];
static size_t file_len;
static int file_write_rc[4];
static unsigned nfile_write_rc, file_writes;

static int f_file_read(srv_store_t *s, const char *name, uint8_t **data, size_t *len)
{
    (void)s;
    if (strcmp(name, file_name) != 0)
        return ZL_ENOTFOUND;
    *data = malloc(file_len ? file_len : 1);
    memcpy(*data, file_data, file_len);
    *len = file_len;
    return ZL_OK;
}

static int f_file_write(srv_store_t *s, const char *name, const uint8_t *data, size_t len,
                        const char *who)
{
    (void)s;
    (void)who;
    file_writes++;
    int rc = nfile_write_rc ? file_write_rc[--nfile_write_rc] : ZL_OK;
    if (rc == ZL_OK && len <= sizeof file_data) {
        snprintf(file_name, sizeof file_name, "%s", name);
        memcpy(file_data, data, len);
        file_len = len;
    }
    return rc;
}

static void f_published(srv_store_t *s, const uint8_t *o, const zone_t *z) { (void)s; (void)o; (void)z; }
static bool f_tick(srv_store_t *s) { (void)s; return false; }
static void f_free(srv_store_t *s) { (void)s; }

/* ---- replies, delivered on the writer's thread ---------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint16_t rcodes[64];
static unsigned nreplies;

static void deliver(void *t, const srv_route_t *r, const uint8_t *msg, size_t len)
{
    (void)t;
    (void)r;
    pthread_mutex_lock(&lock);
    if (len >= DNS_HDR_LEN && nreplies < 64)
        rcodes[nreplies++] = DNS_F_RCODE(dns_get_u16(msg + 2));
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void wait_replies(unsigned n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (nreplies < n && pthread_cond_timedwait(&cond, &lock, &until) == 0)
        ;
    pthread_mutex_unlock(&lock);
    assert_int_equal(nreplies, n);
}

/* ---- the writer under test ------------------------------------------------ */

static srv_config_t cfg;
static srv_publish_t *pub;
static srv_writer_t *w;
static const srv_route_t route = {.deliver = deliver};

static void start(const char *text)
{
    memset(&fake, 0, sizeof fake);
    fake.base = (srv_store_t){.load = f_load, .reload = f_reload, .commit = f_commit,
                              .published = f_published, .tick = f_tick, .file_read = f_file_read,
                              .file_write = f_file_write, .free = f_free};
    file_name[0] = '\0';
    file_len = 0;
    nfile_write_rc = file_writes = 0;
    fake.text = text;
    memset(&cfg, 0, sizeof cfg);
    srv_msg_cfg_init(&cfg.msg);
    cfg.ixfr_history = 100;
    cfg.ixfr_max_bytes = 1 << 20;
    nreplies = 0;
    pub = srv_publish_new(1);
    w = srv_writer_new(&cfg, pub, NULL, NULL, 0);
    srv_writer_set_store(w, &fake.base);
    assert_int_equal(srv_writer_load(w), 0);
}

static void stop(void)
{
    srv_writer_free(w);
    srv_publish_free(pub);
}

/* A signed UPDATE in buf (1024 octets): prereq (NULL or "nxdomain
 * NAME"), then an add of NAME A ADDR (last octet). Returns its length. */
static size_t update_msg(uint8_t *buf, const char *name, uint8_t last, const char *prereq_absent)
{
    uint8_t n[DNS_NAME_MAX], p[DNS_NAME_MAX];
    dns_msgb_t b;
    dns_msgb_init(&b, buf, 1024, 0x99, DNS_OP_UPDATE << 11);
    dns_msgb_question(&b, (const uint8_t *)"\1w\4test", DNS_T_SOA, DNS_C_IN);
    if (prereq_absent) {
        dns_name_from_text(prereq_absent, strlen(prereq_absent), NULL, p);
        dns_msgb_rr(&b, DNS_SEC_AN, p, DNS_T_ANY, DNS_C_NONE, 0, NULL, 0);
    }
    uint8_t a[4] = {192, 0, 2, last};
    dns_name_from_text(name, strlen(name), NULL, n);
    dns_msgb_rr(&b, DNS_SEC_NS, n, DNS_T_A, DNS_C_IN, 300, a, 4);
    size_t len = dns_msgb_finish(&b);
    zone_key_t k;
    const char *why;
    dns_tsig_ctx_t tc;
    zone_key_from_arg(K_UPD, &k, &why);
    memset(&tc, 0, sizeof tc);
    dns_tsig_client_init(&tc, &k.tsig);
    dns_tsig_sign(&tc, buf, &len, 1024, (uint64_t)time(NULL));
    dns_tsig_ctx_clear(&tc);
    return len;
}

/* Hands an UPDATE to the message layer as a server would. */
static srv_result_t submit(const uint8_t *buf, size_t len)
{
    uint8_t reply[4096];
    const srv_snapshot_t *s = srv_publish_enter(pub, 0);
    srv_ctx_t ctx = {.zones = s->zones, .keys = s->keys, .cfg = &cfg.msg, .route = &route,
                     .changes = srv_writer_changes(w)};
    srv_client_t cl = {.family = 4, .addr = {127, 0, 0, 1}};
    srv_out_t out = {.buf = reply, .cap = sizeof reply};
    srv_result_t r = srv_process(&ctx, buf, len, &cl, (uint64_t)time(NULL), &out);
    srv_publish_leave(pub, 0);
    return r;
}

/* Sends one signed UPDATE (see update_msg). Returns the srv_result. */
static srv_result_t update(const char *name, uint8_t last, const char *prereq_absent)
{
    uint8_t buf[1024];
    size_t len = update_msg(buf, name, last, prereq_absent);
    return submit(buf, len);
}

/* The served address of name's A, or -1 when it has none. */
static int served(const char *name)
{
    uint8_t n[DNS_NAME_MAX];
    dns_name_from_text(name, strlen(name), NULL, n);
    const srv_snapshot_t *s = srv_publish_enter(pub, 0);
    const zone_t *z = zone_set_find(s->zones, n);
    const zone_node_t *node = z ? zone_find(z, n) : NULL;
    const zone_rrset_t *rs = node ? zone_node_rrset(node, DNS_T_A) : NULL;
    uint16_t len;
    int v = rs ? zone_rrset_rdata(rs, 0, &len)[3] : -1;
    srv_publish_leave(pub, 0);
    return v;
}

static uint32_t serial(void)
{
    const srv_snapshot_t *s = srv_publish_enter(pub, 0);
    uint32_t v = zone_serial(zone_set_get(s->zones, (const uint8_t *)"\1w\4test"));
    srv_publish_leave(pub, 0);
    return v;
}

#define ZONE "@ 3600 IN SOA ns hm 10 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n"

static void test_update_and_group_commit(void **state)
{
    (void)state;
    start(ZONE);
    /* Queued before the writer runs: one batch, one commit of three. */
    assert_int_equal(update("a.w.test.", 1, NULL), SRV_DEFER);
    assert_int_equal(update("b.w.test.", 2, NULL), SRV_DEFER);
    assert_int_equal(update("c.w.test.", 3, "c.w.test."), SRV_DEFER);
    assert_int_equal(served("a.w.test."), -1);   /* nothing before the commit */
    assert_int_equal(srv_writer_start(w), 0);
    wait_replies(3);
    assert_int_equal(fake.commits, 1);
    assert_int_equal(fake.committed, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rcodes[i], DNS_R_NOERROR);
    assert_int_equal(served("a.w.test."), 1);
    assert_int_equal(served("c.w.test."), 3);
    assert_int_equal(serial(), 13);   /* each raised the serial by one */
    /* A prerequisite that fails now: YXDOMAIN, nothing committed. */
    assert_int_equal(update("x.w.test.", 9, "a.w.test."), SRV_DEFER);
    wait_replies(4);
    assert_int_equal(rcodes[3], DNS_R_YXDOMAIN);
    assert_int_equal(fake.commits, 1);
    assert_int_equal(served("x.w.test."), -1);
    stop();
}

static void test_store_failure_changes_nothing(void **state)
{
    (void)state;
    start(ZONE);
    assert_int_equal(srv_writer_start(w), 0);
    fake.commit_rc[0] = ZL_EIO;
    fake.ncommit_rc = 1;
    assert_int_equal(update("a.w.test.", 1, NULL), SRV_DEFER);
    wait_replies(1);
    assert_int_equal(rcodes[0], DNS_R_SERVFAIL);
    assert_int_equal(served("a.w.test."), -1);
    assert_int_equal(serial(), 10);
    /* The store is back: the next one works. */
    assert_int_equal(update("a.w.test.", 1, NULL), SRV_DEFER);
    wait_replies(2);
    assert_int_equal(rcodes[1], DNS_R_NOERROR);
    assert_int_equal(served("a.w.test."), 1);
    assert_int_equal(serial(), 11);
    stop();
}

static void test_conflict_retries_on_the_new_state(void **state)
{
    (void)state;
    start(ZONE);
    assert_int_equal(srv_writer_start(w), 0);
    /* The remote moved on (someone added b and raised the serial to 20):
     * the update is applied again on that state, its prerequisite
     * checked again, and both changes end up served. */
    fake.commit_rc[0] = ZL_ECONFLICT;
    fake.ncommit_rc = 1;
    fake.moved_text = "@ 3600 IN SOA ns hm 20 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n"
                      "b 300 IN A 192.0.2.2\n";
    assert_int_equal(update("a.w.test.", 1, "a.w.test."), SRV_DEFER);
    wait_replies(1);
    assert_int_equal(rcodes[0], DNS_R_NOERROR);
    assert_int_equal(fake.commits, 2);
    assert_int_equal(served("a.w.test."), 1);
    assert_int_equal(served("b.w.test."), 2);
    assert_int_equal(serial(), 21);
    /* Moved on so that the prerequisite no longer holds: refused. */
    fake.commit_rc[0] = ZL_ECONFLICT;
    fake.ncommit_rc = 1;
    fake.moved_text = "@ 3600 IN SOA ns hm 30 2 3 4 5\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.1\n"
                      "c 300 IN A 192.0.2.3\n";
    assert_int_equal(update("c.w.test.", 7, "c.w.test."), SRV_DEFER);
    wait_replies(2);
    assert_int_equal(rcodes[1], DNS_R_YXDOMAIN);
    assert_int_equal(served("c.w.test."), 3);
    assert_int_equal(serial(), 30);
    stop();
}

static void test_rule_refused(void **state)
{
    (void)state;
    start(ZONE "cn 300 IN CNAME ns\n");
    assert_int_equal(srv_writer_start(w), 0);
    /* Data beside a CNAME is ignored (RFC 2136 §3.4.2.2): NOERROR, no
     * change, no commit. */
    assert_int_equal(update("cn.w.test.", 5, NULL), SRV_DEFER);
    wait_replies(1);
    assert_int_equal(rcodes[0], DNS_R_NOERROR);
    assert_int_equal(fake.commits, 0);
    assert_int_equal(serial(), 10);
    stop();
}

/* A change of the appliance's own (ACME records): made on the writer's
 * thread from the latest version, committed, served, reported. */
static int made_rc[4];
static unsigned nmade;

static int make_txt(void *arg, const zone_t *z, zone_diff_t **out)
{
    static const uint8_t owner[] = "\17_acme-challenge\1w\4test";
    uint8_t txt[6] = "\5token";
    txt[5] = (uint8_t)('0' + (uintptr_t)arg);
    zone_diff_t *d = zone_diff_new(zone_origin(z));
    const zone_rrset_t *soa = zone_soa(z);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(soa, 0, &len);
    uint8_t nrd[600];
    memcpy(nrd, rd, len);
    dns_put_u32(nrd + len - 20, zone_serial(z) + 1);
    dns_rr_t old = {.owner = zone_origin(z), .type = DNS_T_SOA, .rclass = DNS_C_IN, .ttl = soa->ttl,
                    .rdata = rd, .rdlen = len};
    dns_rr_t new = old;
    new.rdata = nrd;
    dns_rr_t t = {.owner = owner, .type = DNS_T_TXT, .rclass = DNS_C_IN, .ttl = 60, .rdata = txt,
                  .rdlen = 6};
    assert_int_equal(zone_diff_add(d, &t), ZL_OK);
    assert_int_equal(zone_diff_set_soa(d, &old, &new), ZL_OK);
    assert_int_equal(zone_diff_seal(d), ZL_OK);
    *out = d;
    return ZL_OK;
}

static void change_done(void *arg, int rc)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    made_rc[nmade++ & 3] = rc;
    nreplies++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void test_own_change(void **state)
{
    (void)state;
    start(ZONE);
    nmade = 0;
    assert_int_equal(srv_writer_start(w), 0);
    assert_int_equal(srv_writer_change(w, (const uint8_t *)"\1w\4test", make_txt, change_done, NULL,
                                       "ACME"), ZL_OK);
    wait_replies(1);
    assert_int_equal(made_rc[0], ZL_OK);
    assert_int_equal(fake.committed, 1);
    assert_int_equal(serial(), 11);
    /* A zone that is not there; a store that fails. */
    assert_int_equal(srv_writer_change(w, (const uint8_t *)"\4none\4test", make_txt, change_done,
                                       NULL, "ACME"), ZL_OK);
    wait_replies(2);
    assert_int_equal(made_rc[1], ZL_ENOTFOUND);
    fake.commit_rc[0] = ZL_EIO;
    fake.ncommit_rc = 1;
    assert_int_equal(srv_writer_change(w, (const uint8_t *)"\1w\4test", make_txt, change_done,
                                       (void *)2, "ACME"), ZL_OK);
    wait_replies(3);
    assert_int_equal(made_rc[2], ZL_EIO);
    assert_int_equal(serial(), 11);
    stop();
}

/* Behind a slow store (100 ms a commit, a git push) the clients that one
 * commit answered send their next changes at once. The writer waits for
 * them (at most 10 ms here) instead of taking the first to arrive alone
 * and leaving the others for the commit after: they go into one commit.
 * They arrive 1 ms apart; a round in which this thread was descheduled
 * for longer than the wait may split, so three rounds are tried. */
static void test_slow_store_gathers(void **state)
{
    (void)state;
    start(ZONE);
    fake.commit_ms = 100;
    /* Queued before the writer runs: one commit of four. */
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "g%d.w.test.", i);
        assert_int_equal(update(name, (uint8_t)i, NULL), SRV_DEFER);
    }
    assert_int_equal(srv_writer_start(w), 0);
    wait_replies(4);
    assert_int_equal(fake.commits, 1);
    assert_int_equal(fake.sizes[0], 4);
    bool grouped = false;
    for (int round = 1; round <= 3 && !grouped; round++) {
        uint8_t msgs[4][1024];
        size_t lens[4];
        for (int i = 0; i < 4; i++) {
            char name[64];
            snprintf(name, sizeof name, "r%d-%d.w.test.", round, i);
            lens[i] = update_msg(msgs[i], name, (uint8_t)i, NULL);
        }
        unsigned before = fake.commits;
        for (int i = 0; i < 4; i++) {
            /* Clients over TCP come back one after another, not at once. */
            struct timespec gap = {.tv_nsec = 1000000};
            if (i)
                nanosleep(&gap, NULL);
            assert_int_equal(submit(msgs[i], lens[i]), SRV_DEFER);
        }
        wait_replies(4 + 4 * (unsigned)round);
        grouped = fake.commits == before + 1 && fake.sizes[before] == 4;
    }
    assert_true(grouped);
    for (unsigned i = 0; i < nreplies; i++)
        assert_int_equal(rcodes[i], DNS_R_NOERROR);
    stop();
}

/* File requests (the ACME account key): outcome and content, told on
 * the writer's thread. */
static int file_rc[8];
static char file_got[8][64];

static void file_done(void *arg, int rc, uint8_t *data, size_t len)
{
    pthread_mutex_lock(&lock);
    unsigned i = (unsigned)(uintptr_t)arg;
    file_rc[i] = rc;
    snprintf(file_got[i], sizeof file_got[i], "%.*s", (int)len, data ? (const char *)data : "");
    free(data);
    nreplies++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void test_files(void **state)
{
    (void)state;
    start(ZONE);
    assert_int_equal(srv_writer_start(w), 0);
    assert_int_equal(srv_writer_file_read(w, "_acme", file_done, (void *)0), ZL_OK);
    wait_replies(1);
    assert_int_equal(file_rc[0], ZL_ENOTFOUND);
    assert_int_equal(srv_writer_file_write(w, "_acme", (const uint8_t *)"KEY", 3, "test", file_done,
                                           (void *)1), ZL_OK);
    wait_replies(2);
    assert_int_equal(file_rc[1], ZL_OK);
    assert_int_equal(srv_writer_file_read(w, "_acme", file_done, (void *)2), ZL_OK);
    wait_replies(3);
    assert_int_equal(file_rc[2], ZL_OK);
    assert_string_equal(file_got[2], "KEY");
    /* The store moved on: reloaded, written again. */
    file_write_rc[0] = ZL_ECONFLICT;
    nfile_write_rc = 1;
    unsigned reloads = fake.reloads;
    assert_int_equal(srv_writer_file_write(w, "_acme", (const uint8_t *)"KEY2", 4, "test", file_done,
                                           (void *)3), ZL_OK);
    wait_replies(4);
    assert_int_equal(file_rc[3], ZL_OK);
    assert_int_equal(file_writes, 3);
    assert_int_equal(fake.reloads, reloads + 1);
    assert_int_equal(file_len, 4);
    assert_memory_equal(file_data, "KEY2", 4);
    /* A store that fails: its error, nothing written. */
    file_write_rc[0] = ZL_EIO;
    nfile_write_rc = 1;
    assert_int_equal(srv_writer_file_write(w, "_acme", (const uint8_t *)"KEY3", 4, "test", file_done,
                                           (void *)4), ZL_OK);
    wait_replies(5);
    assert_int_equal(file_rc[4], ZL_EIO);
    assert_int_equal(file_len, 4);
    assert_memory_equal(file_data, "KEY2", 4);
    assert_int_equal(serial(), 10);   /* files are not zone changes */
    stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_and_group_commit),
        cmocka_unit_test(test_store_failure_changes_nothing),
        cmocka_unit_test(test_conflict_retries_on_the_new_state),
        cmocka_unit_test(test_rule_refused),
        cmocka_unit_test(test_own_change),
        cmocka_unit_test(test_slow_store_gathers),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
