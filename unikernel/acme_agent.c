/* The built-in ACME client's thread (acme_agent.h). Longer than most
 * files here: the watch over the published zones, the decisions, and the
 * order with its three kinds of changes belong together. */
#include "unikernel/acme_agent.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/acme.h"
#include "dns/err.h"
#include "unikernel/log.h"
#include "zone/journal.h"

#define SCAN_MS 1000               /* how often the published zones are looked at */
#define BACKOFF_MIN_S 60
#define BACKOFF_MAX_S 86400
#define KEEP_RECHECK_MAX_S 86400   /* a kept certificate is looked at again at least daily */

/* One owner with a CSR. */
typedef struct req {
    uint8_t owner[DNS_NAME_MAX];
    uint8_t origin[DNS_NAME_MAX];   /* its zone */
    uint8_t *csr;                   /* the CSR last seen there (owned) */
    size_t csr_len;
    int64_t next;                   /* monotonic seconds: look at it again then */
    unsigned failures;              /* orders failed in a row */
    bool refused;                   /* refused and logged for this CSR */
    int64_t logged_renew;           /* the renewal time last logged */
    bool seen;                      /* still there in the scan under way */
} req_t;

struct srv_acme {
    const srv_config_t *cfg;
    srv_publish_t *pub;
    unsigned slot;
    srv_writer_t *w;
    /* the agent's thread only */
    zone_t **zones;                 /* the versions last seen (references) */
    size_t nzones;
    zone_set_t *set;                /* the same as a set, for lookups */
    req_t *reqs;
    size_t nreqs, cap;
    acme_client_t *client;
    /* shared with the writer's callbacks and srv_acme_stop */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    pthread_t thread;
    bool started;
};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void name_text(const uint8_t *name, char *buf, size_t cap)
{
    if (dns_name_to_text(name, buf, cap) < 0)
        snprintf(buf, cap, "?");
    size_t n = strlen(buf);
    if (n > 1 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
}

static void date_text(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(buf, cap, "%lld", (long long)t);
}

/* ---- decisions -------------------------------------------------------------- */

int64_t srv_acme_backoff(unsigned failures)
{
    int64_t s = BACKOFF_MIN_S;
    for (unsigned i = 1; i < failures && s < BACKOFF_MAX_S; i++)
        s *= 2;
    return s < BACKOFF_MAX_S ? s : BACKOFF_MAX_S;
}

/* ZL_OK when every name lies in a zone of zones, with its challenge name
 * outside any delegation; else why says which does not. */
static int names_served(const zone_set_t *zones, char *const *names, size_t n, char *why,
                        size_t cap)
{
    static const uint8_t root[1] = {0};
    for (size_t i = 0; i < n; i++) {
        const char *base = names[i][0] == '*' ? names[i] + 2 : names[i];
        char chal[DNS_NAME_TEXT_MAX + 20];
        uint8_t wire[DNS_NAME_MAX];
        snprintf(chal, sizeof chal, "_acme-challenge.%s", base);
        const zone_t *z = NULL;
        zone_lookup_t lk;
        if (dns_name_from_text(chal, strlen(chal), root, wire) < 0 ||
            !zones || !(z = zone_set_find(zones, wire))) {
            snprintf(why, cap, "%s is in no zone served here", names[i]);
            return ZL_ENOTFOUND;
        }
        if (zone_lookup(z, wire, &lk) != ZL_OK || lk.cut) {
            snprintf(why, cap, "%s lies below a delegation: its challenge cannot be served here",
                     names[i]);
            return ZL_ENOTFOUND;
        }
    }
    return ZL_OK;
}

srv_acme_action_t srv_acme_decide(const zone_set_t *zones, const srv_tlsa_set_t *s, int64_t now,
                                  int renew_days, int64_t *renew_at, char *why, size_t cap)
{
    char **names = NULL;
    size_t n = 0;
    *renew_at = 0;
    if (s->ncsr != 1) {
        snprintf(why, cap, "%u CSRs at one name (one expected)", s->ncsr);
        return SRV_ACME_REFUSE;
    }
    int rc = acme_csr_names(s->csr, s->csr_len, &names, &n);
    if (rc != ZL_OK) {
        snprintf(why, cap, "the CSR does not read (%s)", zl_strerror(rc));
        return SRV_ACME_REFUSE;
    }
    rc = names_served(zones, names, n, why, cap);
    free(names);
    if (rc != ZL_OK)
        return SRV_ACME_REFUSE;
    int64_t from, until;
    if (!s->cert) {
        snprintf(why, cap, "no certificate yet");
        return SRV_ACME_ORDER;
    }
    if (!acme_cert_matches_csr(s->cert, s->cert_len, s->csr, s->csr_len) ||
        acme_cert_validity(s->cert, s->cert_len, &from, &until) != ZL_OK) {
        snprintf(why, cap, "the certificate there does not answer the CSR (another key or other names)");
        return SRV_ACME_ORDER;
    }
    *renew_at = renew_days >= 0 ? until - (int64_t)renew_days * 86400 : until - (until - from) / 3;
    char a[40], b[40];
    date_text(until, a, sizeof a);
    date_text(*renew_at, b, sizeof b);
    if (now >= *renew_at) {
        snprintf(why, cap, "renewal due since %s (valid until %s)", b, a);
        return SRV_ACME_ORDER;
    }
    snprintf(why, cap, "certificate valid until %s, renewal from %s", a, b);
    return SRV_ACME_KEEP;
}

/* ---- waiting for the writer ---------------------------------------------------- */

/* One request to the writer and its outcome. */
typedef struct call {
    srv_acme_t *a;
    bool done;
    int rc;
    uint8_t *data;               /* file reads */
    size_t len;
    /* the change to make (on the writer's thread) */
    bool chain;                  /* store chain, else one TXT record */
    const uint8_t *name;         /* TXT name, or the owner of the chain */
    const char *value;
    bool add;
    const req_t *req;
    const acme_chain_t *certs;
    bool stale;                  /* the CSR changed while the order ran */
} call_t;

static void call_wait(call_t *c)
{
    pthread_mutex_lock(&c->a->lock);
    while (!c->done)
        pthread_cond_wait(&c->a->cond, &c->a->lock);
    pthread_mutex_unlock(&c->a->lock);
}

static void call_finish(call_t *c, int rc, uint8_t *data, size_t len)
{
    pthread_mutex_lock(&c->a->lock);
    c->rc = rc;
    c->data = data;
    c->len = len;
    c->done = true;
    pthread_cond_broadcast(&c->a->cond);
    pthread_mutex_unlock(&c->a->lock);
}

static void change_done(void *arg, int rc) { call_finish(arg, rc, NULL, 0); }
static void file_done(void *arg, int rc, uint8_t *d, size_t n) { call_finish(arg, rc, d, n); }

/* On the writer's thread: the diff for z, its zone's latest version. */
static int change_make(void *arg, const zone_t *z, zone_diff_t **out)
{
    call_t *c = arg;
    if (!c->chain)
        return srv_acme_txt_diff(z, c->name, c->value, c->add, out);
    int rc = srv_acme_chain_diff(z, c->name, c->req->csr, c->req->csr_len, c->certs, out);
    c->stale = rc == ZL_ENOTFOUND;
    return c->stale ? ZL_OK : rc;
}

/* Hands c's change of zone origin to the writer and waits for it. */
static int change_sync(srv_acme_t *a, call_t *c, const uint8_t *origin, const char *who)
{
    c->a = a;
    int rc = srv_writer_change(a->w, origin, change_make, change_done, c, who);
    if (rc != ZL_OK)
        return rc;
    call_wait(c);
    return c->rc;
}

/* ---- the ACME client's callbacks ------------------------------------------------ */

/* The zone a challenge name goes to, and the name in wire form. */
static const zone_t *txt_zone(srv_acme_t *a, const char *name, uint8_t wire[DNS_NAME_MAX])
{
    static const uint8_t root[1] = {0};
    if (dns_name_from_text(name, strlen(name), root, wire) < 0 || !a->set)
        return NULL;
    return zone_set_find(a->set, wire);
}

static int txt_change(srv_acme_t *a, const char *name, const char *value, bool add)
{
    uint8_t wire[DNS_NAME_MAX];
    const zone_t *z = txt_zone(a, name, wire);
    if (!z)
        return ZL_ENOTFOUND;
    call_t c = {.name = wire, .value = value, .add = add};
    char who[DNS_NAME_TEXT_MAX + 40];
    snprintf(who, sizeof who, "acme (challenge %s %s)", add ? "for" : "done at", name);
    return change_sync(a, &c, zone_origin(z), who);
}

static int cb_set_txt(void *ctx, const char *name, const char *value)
{
    return txt_change(ctx, name, value, true);
}

static int cb_clear_txt(void *ctx, const char *name, const char *value)
{
    return txt_change(ctx, name, value, false);
}

static void cb_log(void *ctx, const char *order_url, const char *msg)
{
    (void)ctx;
    srv_log("acme: %s: %s", order_url ? order_url : "-", msg);
}

static int cb_sleep(void *ctx, int64_t ms)
{
    srv_acme_t *a = ctx;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&a->lock);
    while (!a->stop && pthread_cond_timedwait(&a->cond, &a->lock, &until) == 0)
        ;
    bool stop = a->stop;
    pthread_mutex_unlock(&a->lock);
    return stop ? ZL_ETIMEOUT : ZL_OK;
}

/* ---- the client and its account key ------------------------------------------- */

static void wipe_free(uint8_t *p, size_t n)
{
    if (!p)
        return;
    volatile uint8_t *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
    free(p);
}

/* The client, made once: with the store's account key, or a new one
 * stored before it is used. */
static int client_ready(srv_acme_t *a)
{
    if (a->client)
        return ZL_OK;
    call_t rd = {.a = a};
    int rc = srv_writer_file_read(a->w, SRV_STORE_ACME, file_done, &rd);
    if (rc == ZL_OK) {
        call_wait(&rd);
        rc = rd.rc;
    }
    if (rc != ZL_OK && rc != ZL_ENOTFOUND) {
        srv_log("acme: cannot read the account key from the store (%s)", zl_strerror(rc));
        return rc;
    }
    acme_opts_t o = {.directory = a->cfg->acme_directory, .ca_file = a->cfg->acme_ca,
                     .email = a->cfg->acme_email, .key_pem = (const char *)rd.data,
                     .key_len = rd.len, .connect_ms = 5000, .read_ms = 15000,
                     .request_ms = 30000};
    acme_cb_t cb = {.ctx = a, .set_txt = cb_set_txt, .clear_txt = cb_clear_txt, .log = cb_log,
                    .sleep = cb_sleep};
    char err[256] = "";
    rc = acme_client_new(&a->client, &o, &cb, err, sizeof err);
    wipe_free(rd.data, rd.len);
    if (rc != ZL_OK) {
        srv_log("acme: cannot start the client: %s", err[0] ? err : zl_strerror(rc));
        a->client = NULL;
        return rc;
    }
    if (!acme_client_key_generated(a->client)) {
        srv_log("acme: account key read from the store (%s)", SRV_STORE_ACME);
        return ZL_OK;
    }
    acme_buf_t pem;
    acme_buf_init(&pem, 0);
    rc = acme_client_key_pem(a->client, &pem);
    call_t wr = {.a = a};
    if (rc == ZL_OK)
        rc = srv_writer_file_write(a->w, SRV_STORE_ACME, (const uint8_t *)pem.p, pem.len,
                                   "acme (account key)", file_done, &wr);
    if (rc == ZL_OK) {
        call_wait(&wr);
        rc = wr.rc;
    }
    size_t plen = pem.len;
    wipe_free((uint8_t *)acme_buf_take(&pem, NULL), plen);
    acme_buf_free(&pem);
    if (rc != ZL_OK) {
        srv_log("acme: the new account key could not be stored (%s): no order without it",
                zl_strerror(rc));
        acme_client_free(a->client);
        a->client = NULL;
        return rc;
    }
    srv_log("acme: new account key made and stored (%s)", SRV_STORE_ACME);
    return ZL_OK;
}

/* ---- watching the zones ------------------------------------------------------- */

static req_t *req_find(srv_acme_t *a, const uint8_t *owner)
{
    for (size_t i = 0; i < a->nreqs; i++)
        if (dns_name_equal(a->reqs[i].owner, owner))
            return &a->reqs[i];
    return NULL;
}

static void req_remove(srv_acme_t *a, req_t *r)
{
    free(r->csr);
    *r = a->reqs[--a->nreqs];
}

/* The owner's records in z (its zone's version now) changed, or were
 * found: its request is made, renewed or dropped. */
static void owner_changed(srv_acme_t *a, const zone_t *z, const uint8_t *owner)
{
    srv_tlsa_set_t s;
    srv_tlsa_read(&s, zone_find(z, owner));
    req_t *r = req_find(a, owner);
    if (r)
        r->seen = true;
    if (!s.ncsr) {
        if (r)
            req_remove(a, r);
        return;
    }
    if (!r) {
        if (a->nreqs == a->cap) {
            size_t cap = a->cap ? 2 * a->cap : 8;
            req_t *n = realloc(a->reqs, cap * sizeof *n);
            if (!n)
                return;
            a->reqs = n;
            a->cap = cap;
        }
        r = &a->reqs[a->nreqs++];
        memset(r, 0, sizeof *r);
        dns_name_copy(r->owner, owner);
        r->seen = true;
    }
    dns_name_copy(r->origin, zone_origin(z));
    r->next = 0;   /* look at it now */
    if (r->csr && r->csr_len == s.csr_len && memcmp(r->csr, s.csr, s.csr_len) == 0)
        return;    /* the certificate records changed, not the request */
    uint8_t *copy = malloc(s.csr_len ? s.csr_len : 1);
    if (!copy)
        return;
    memcpy(copy, s.csr, s.csr_len);
    free(r->csr);
    r->csr = copy;
    r->csr_len = s.csr_len;
    r->failures = 0;
    r->refused = false;
    r->logged_renew = 0;
}

/* Every owner of z that asks for a certificate, looked at. */
static void zone_scan_all(srv_acme_t *a, zone_t *z)
{
    zone_iter_t it;
    const uint8_t *owner, *name;
    const zone_rrset_t *rs;
    for (size_t i = 0; i < a->nreqs; i++)
        if (dns_name_equal(a->reqs[i].origin, zone_origin(z)))
            a->reqs[i].seen = false;
    if (zone_iter_init(&it, z) != ZL_OK)
        return;
    while (zone_iter_next(&it, &owner, &rs))
        if (rs->type == DNS_T_TLSA && srv_acme_owner(owner, &name))
            owner_changed(a, z, owner);
    zone_iter_fini(&it);
    for (size_t i = a->nreqs; i-- > 0;)
        if (dns_name_equal(a->reqs[i].origin, zone_origin(z)) && !a->reqs[i].seen)
            req_remove(a, &a->reqs[i]);
}

static void diff_owners(srv_acme_t *a, const zone_t *z, const dns_rr_t *rr, size_t n)
{
    const uint8_t *name;
    for (size_t i = 0; i < n; i++)
        if (rr[i].type == DNS_T_TLSA && srv_acme_owner(rr[i].owner, &name))
            owner_changed(a, z, rr[i].owner);
}

/* z replaced old (NULL: new to us): the owners the change touched, from
 * z's journal when it reaches back to old, else every owner. */
static void zone_changed(srv_acme_t *a, const zone_t *old, zone_t *z)
{
    zone_diff_t *d = NULL;
    if (!old || zone_serial(old) == zone_serial(z) ||
        zone_journal_since(zone_journal(z), zone_serial(old), &d) != ZL_OK) {
        zone_scan_all(a, z);
        return;
    }
    size_t n;
    const dns_rr_t *rr = zone_diff_removed(d, &n);
    diff_owners(a, z, rr, n);
    rr = zone_diff_added(d, &n);
    diff_owners(a, z, rr, n);
    zone_diff_free(d);
}

/* Takes the published zones; looks at those that changed since the last
 * time. Returns true when something changed. */
static bool watch(srv_acme_t *a)
{
    const srv_snapshot_t *snap = srv_publish_enter(a->pub, a->slot);
    size_t n = snap->zones ? zone_set_count(snap->zones) : 0;
    bool same = n == a->nzones;
    for (size_t i = 0; same && i < n; i++)
        same = zone_set_at(snap->zones, i) == a->zones[i];
    zone_t **now = same ? NULL : calloc(n ? n : 1, sizeof *now);
    for (size_t i = 0; now && i < n; i++)
        now[i] = zone_ref(zone_set_at(snap->zones, i));
    srv_publish_leave(a->pub, a->slot);
    if (!now)
        return false;
    zone_set_t *set = NULL;
    if (zone_set_new(now, n, &set) != ZL_OK) {
        for (size_t i = 0; i < n; i++)
            zone_free(now[i]);
        free(now);
        return false;
    }
    zone_set_free(a->set);
    a->set = set;
    bool new_zone = false;
    for (size_t i = 0; i < n; i++) {
        const zone_t *old = NULL;
        for (size_t k = 0; k < a->nzones && !old; k++)
            if (dns_name_equal(zone_origin(a->zones[k]), zone_origin(now[i])))
                old = a->zones[k];
        new_zone |= !old;
        if (old != now[i])
            zone_changed(a, old, now[i]);
    }
    /* A zone served now may be what a refused request lacked (no new
     * log line if it still lacks something). */
    for (size_t i = 0; new_zone && i < a->nreqs; i++)
        if (a->reqs[i].refused)
            a->reqs[i].next = 0;
    /* Requests of zones no longer served go. */
    for (size_t i = a->nreqs; i-- > 0;)
        if (!zone_set_get(set, a->reqs[i].origin))
            req_remove(a, &a->reqs[i]);
    for (size_t k = 0; k < a->nzones; k++)
        zone_free(a->zones[k]);
    free(a->zones);
    a->zones = now;
    a->nzones = n;
    return true;
}

/* ---- orders ----------------------------------------------------------------------- */

/* Orders a certificate for r's CSR and stores the chain. */
static int order(srv_acme_t *a, req_t *r, const char *owner)
{
    char **names = NULL;
    size_t n = 0;
    int rc = acme_csr_names(r->csr, r->csr_len, &names, &n);
    if (rc == ZL_OK)
        rc = client_ready(a);
    acme_chain_t chain = {.n = 0};
    if (rc == ZL_OK)
        rc = acme_client_order(a->client, (const char *const *)names, n, r->csr, r->csr_len, &chain);
    free(names);
    if (rc != ZL_OK) {
        acme_chain_free(&chain);
        return rc;
    }
    const char *url = acme_client_order_url(a->client);
    call_t c = {.chain = true, .name = r->owner, .req = r, .certs = &chain};
    char who[DNS_NAME_TEXT_MAX + 40];
    snprintf(who, sizeof who, "acme (certificate for %s)", owner);
    rc = change_sync(a, &c, r->origin, who);
    if (rc == ZL_OK && c.stale)
        srv_log("acme: %s: the CSR at %s changed while the order ran: certificate not stored",
                url ? url : "-", owner);
    else if (rc == ZL_OK)
        srv_log("acme: %s: certificate stored at %s (%zu TLSA records)", url ? url : "-", owner,
                chain.n);
    else
        srv_log("acme: %s: the certificate could not be stored at %s (%s)", url ? url : "-",
                owner, zl_strerror(rc));
    acme_chain_free(&chain);
    return rc;
}

/* Looks at request r now: keep, order, or refuse. */
static void examine(srv_acme_t *a, req_t *r)
{
    const zone_t *z = zone_set_get(a->set, r->origin);
    srv_tlsa_set_t s;
    char owner[DNS_NAME_TEXT_MAX], why[512];
    int64_t renew_at;
    name_text(r->owner, owner, sizeof owner);
    srv_tlsa_read(&s, z ? zone_find(z, r->owner) : NULL);
    if (!s.ncsr)
        return;   /* gone: the next scan drops it */
    switch (srv_acme_decide(a->set, &s, (int64_t)time(NULL), a->cfg->acme_renew_days, &renew_at,
                            why, sizeof why)) {
    case SRV_ACME_REFUSE:
        if (!r->refused)
            srv_log("acme: %s: CSR refused, no order: %s", owner, why);
        r->refused = true;
        r->next = INT64_MAX;
        return;
    case SRV_ACME_KEEP: {
        if (r->logged_renew != renew_at)
            srv_log("acme: %s: %s", owner, why);
        r->logged_renew = renew_at;
        int64_t wait = renew_at - (int64_t)time(NULL);
        r->next = mono_s() + (wait < 1 ? 1 : wait > KEEP_RECHECK_MAX_S ? KEEP_RECHECK_MAX_S : wait);
        r->failures = 0;
        return;
    }
    case SRV_ACME_ORDER:
        break;
    }
    srv_log("acme: %s: ordering a certificate: %s", owner, why);
    if (order(a, r, owner) == ZL_OK) {
        r->failures = 0;
        r->next = 0;   /* looked at again once its zone shows the chain */
        return;
    }
    r->failures++;
    int64_t wait = srv_acme_backoff(r->failures);
    r->next = mono_s() + wait;
    srv_log("acme: %s: order failed (%u in a row): next attempt in %lld s", owner, r->failures,
            (long long)wait);
}

static bool stopping(srv_acme_t *a)
{
    pthread_mutex_lock(&a->lock);
    bool s = a->stop;
    pthread_mutex_unlock(&a->lock);
    return s;
}

static void *agent_main(void *arg)
{
    srv_acme_t *a = arg;
    srv_log("acme: watching the zones for CSRs (directory %s)", a->cfg->acme_directory);
    while (!stopping(a)) {
        watch(a);
        /* By index, from the end: examine only changes r; watch (which
         * may remove requests) runs between two rounds. */
        for (size_t i = a->nreqs; i-- > 0 && !stopping(a);)
            if (a->reqs[i].next <= mono_s())
                examine(a, &a->reqs[i]);
        (void)cb_sleep(a, SCAN_MS);
    }
    return NULL;
}

srv_acme_t *srv_acme_new(const srv_config_t *cfg, srv_publish_t *pub, unsigned slot,
                         srv_writer_t *w)
{
    srv_acme_t *a = calloc(1, sizeof *a);
    if (!a) {
        srv_log("out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->pub = pub;
    a->slot = slot;
    a->w = w;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    return a;
}

int srv_acme_start(srv_acme_t *a)
{
    int rc = pthread_create(&a->thread, NULL, agent_main, a);
    a->started = rc == 0;
    return rc;
}

void srv_acme_stop(srv_acme_t *a)
{
    if (!a || !a->started)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    a->started = false;
}

void srv_acme_free(srv_acme_t *a)
{
    if (!a)
        return;
    srv_acme_stop(a);
    acme_client_free(a->client);
    for (size_t i = 0; i < a->nreqs; i++)
        free(a->reqs[i].csr);
    free(a->reqs);
    for (size_t i = 0; i < a->nzones; i++)
        zone_free(a->zones[i]);
    free(a->zones);
    zone_set_free(a->set);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
