/* The change path (writer.h): the queue, the batch, the helper thread. */
#include "unikernel/writer.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "dns/serial.h"
#include "unikernel/log.h"
#include "zone/apply.h"
#include "zone/journal.h"
#include "zone/update.h"

#define CONFLICT_RETRIES 5   /* store moved on: reload and re-apply at most this often */
/* Group commit behind a slow store (a git push: ~100 ms): the clients a
 * batch answered send their next UPDATEs at once, but the writer would
 * already have taken whatever came during the push as the next batch, so
 * the clients split into groups that take turns, each push carrying only
 * a part of them. After a commit that took GATHER_SLOW_MS or more, the
 * next batch waits until as many changes are queued as the last batch
 * answered, for at most a tenth of that commit's time and GATHER_MAX_MS.
 * A fast store (the directory's fsync) never waits. */
#define GATHER_SLOW_MS 20
#define GATHER_MAX_MS 10
#define NOTIFY_TARGETS_MAX 64

typedef enum { REQ_UPDATE, REQ_CHANGE, REQ_RELOAD, REQ_JOB_DONE, REQ_FILE } req_kind_t;

typedef struct wreq {
    struct wreq *next;
    req_kind_t kind;
    srv_pending_t *pending;             /* REQ_UPDATE */
    srv_change_fn make;                 /* REQ_CHANGE: makes the diff, */
    void (*changed)(void *arg, int rc); /* ... is told the outcome */
    uint8_t origin[DNS_NAME_MAX];       /* REQ_RELOAD: one zone, unless all */
    bool all;
    char who[SRV_WHO_MAX];
    void (*done)(void *arg);            /* REQ_JOB_DONE */
    void *arg;
    char file[32];                      /* REQ_FILE: its name, */
    bool write;                         /* read or write, */
    uint8_t *data;                      /* what to write (owned), */
    size_t len;
    srv_file_fn file_done;              /* told the outcome */
} wreq_t;

typedef struct wjob {
    struct wjob *next;
    void (*run)(void *arg);
    void (*done)(void *arg);
    void *arg;
} wjob_t;

/* A served zone as the writer sees it. */
typedef struct wzone {
    zone_t *zone;            /* the version in service (a reference) */
    bool compacting;         /* a flat rebuild of it is under way */
    bool changed;            /* changed by a reload not yet published */
} wzone_t;

struct srv_writer {
    const srv_config_t *cfg;
    srv_publish_t *pub;
    srv_notifier_t *notifier;
    srv_store_t *store;
    srv_changes_t changes;
    srv_jobs_t jobs;
    zone_key_t *extra;       /* command-line keys (owned copies) */
    size_t nextra;
    /* writer thread only */
    wzone_t *zones;
    size_t nzones, cap;
    zone_keyring_t *store_keys;  /* the store's keys (a reference) */
    /* the queue and the helper's */
    pthread_mutex_t lock;
    pthread_cond_t cond, job_cond;
    wreq_t *queue, **queue_tail;
    size_t nqueued;          /* UPDATEs and changes in the queue */
    wjob_t *jobq, **jobq_tail;
    bool stop;
    /* writer thread only: the gathering after a slow commit */
    size_t gather_want;
    struct timespec gather_until;
    pthread_t thread, helper;
    bool started;
};

/* ---- the queue ---------------------------------------------------------- */

static void enqueue(srv_writer_t *w, wreq_t *r)
{
    pthread_mutex_lock(&w->lock);
    r->next = NULL;
    *w->queue_tail = r;
    w->queue_tail = &r->next;
    w->nqueued += r->kind == REQ_UPDATE || r->kind == REQ_CHANGE;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static int changes_update(void *self, srv_pending_t *p)
{
    srv_writer_t *w = self;
    wreq_t *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->kind = REQ_UPDATE;
    r->pending = p;
    pthread_mutex_lock(&w->lock);
    bool stopping = w->stop;
    pthread_mutex_unlock(&w->lock);
    if (stopping) {
        free(r);
        return -1;
    }
    enqueue(w, r);
    return 0;
}

int srv_writer_change(srv_writer_t *w, const uint8_t *origin, srv_change_fn make,
                      void (*done)(void *arg, int rc), void *arg, const char *who)
{
    wreq_t *r = calloc(1, sizeof *r);
    if (!r)
        return ZL_ENOMEM;
    r->kind = REQ_CHANGE;
    dns_name_copy(r->origin, origin);
    r->make = make;
    r->changed = done;
    r->arg = arg;
    snprintf(r->who, sizeof r->who, "%s", who);
    pthread_mutex_lock(&w->lock);
    bool stopping = w->stop;
    pthread_mutex_unlock(&w->lock);
    if (stopping) {
        free(r);
        return ZL_EINVAL;
    }
    enqueue(w, r);
    return ZL_OK;
}

static int file_request(srv_writer_t *w, const char *name, bool write, const uint8_t *data,
                        size_t len, const char *who, srv_file_fn done, void *arg)
{
    if (strlen(name) >= sizeof ((wreq_t *)0)->file)
        return ZL_EINVAL;
    wreq_t *r = calloc(1, sizeof *r);
    if (!r || (write && !(r->data = malloc(len ? len : 1)))) {
        free(r);
        return ZL_ENOMEM;
    }
    r->kind = REQ_FILE;
    snprintf(r->file, sizeof r->file, "%s", name);
    snprintf(r->who, sizeof r->who, "%s", who ? who : "");
    r->write = write;
    if (write && len)
        memcpy(r->data, data, len);
    r->len = len;
    r->file_done = done;
    r->arg = arg;
    pthread_mutex_lock(&w->lock);
    bool stopping = w->stop;
    pthread_mutex_unlock(&w->lock);
    if (stopping) {
        free(r->data);
        free(r);
        return ZL_EINVAL;
    }
    enqueue(w, r);
    return ZL_OK;
}

int srv_writer_file_read(srv_writer_t *w, const char *name, srv_file_fn done, void *arg)
{
    return file_request(w, name, false, NULL, 0, NULL, done, arg);
}

int srv_writer_file_write(srv_writer_t *w, const char *name, const uint8_t *data, size_t len,
                          const char *who, srv_file_fn done, void *arg)
{
    return file_request(w, name, true, data, len, who, done, arg);
}

/* The outcome of request r (an UPDATE or a change of ours): rcode for
 * an UPDATE's answer, a ZL_* value for a change's callback. */
static void request_done(wreq_t *r, uint16_t rcode, uint64_t now)
{
    if (r->kind == REQ_UPDATE) {
        srv_pending_done(r->pending, rcode, now);
        return;
    }
    int rc = rcode == DNS_R_NOERROR ? ZL_OK : rcode == DNS_R_SERVFAIL ? ZL_EIO
           : rcode == DNS_R_NOTAUTH ? ZL_ENOTFOUND : ZL_EZONE;
    r->changed(r->arg, rc);
}

static void reload_request(srv_writer_t *w, const uint8_t *origin, const char *who)
{
    wreq_t *r = calloc(1, sizeof *r);
    if (!r) {
        srv_log("reload: out of memory");
        return;
    }
    r->kind = REQ_RELOAD;
    r->all = origin == NULL;
    if (origin)
        dns_name_copy(r->origin, origin);
    snprintf(r->who, sizeof r->who, "%s", who);
    enqueue(w, r);
}

static void changes_reload(void *self, const uint8_t *origin, const char *who)
{
    reload_request(self, origin, who);
}

void srv_writer_reload_all(srv_writer_t *w, const char *why)
{
    reload_request(w, NULL, why);
}

static int jobs_submit(void *self, void (*run)(void *), void (*done)(void *), void *arg)
{
    srv_writer_t *w = self;
    wjob_t *j = calloc(1, sizeof *j);
    if (!j)
        return -1;
    j->run = run;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&w->lock);
    *w->jobq_tail = j;
    w->jobq_tail = &j->next;
    pthread_cond_signal(&w->job_cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* The helper: runs jobs, hands their completion back to the writer. */
static void *helper_main(void *arg)
{
    srv_writer_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->jobq && !w->stop)
            pthread_cond_wait(&w->job_cond, &w->lock);
        wjob_t *j = w->jobq;
        if (j) {
            w->jobq = j->next;
            if (!w->jobq)
                w->jobq_tail = &w->jobq;
        }
        pthread_mutex_unlock(&w->lock);
        if (!j)
            return NULL;   /* stopping, nothing left */
        j->run(j->arg);
        wreq_t *r = calloc(1, sizeof *r);
        if (r) {
            r->kind = REQ_JOB_DONE;
            r->done = j->done;
            r->arg = j->arg;
            enqueue(w, r);
        } else {
            j->done(j->arg); /* out of memory: finish here rather than leak */
        }
        free(j);
    }
}

/* ---- the zones ------------------------------------------------------- */

/* The zone's origin as text without the final dot, as users write it. */
static const char *zone_text(const zone_t *z, char *buf, size_t cap)
{
    int n = dns_name_to_text(zone_origin(z), buf, cap);
    if (n > 1 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    return buf;
}

static wzone_t *find_zone(srv_writer_t *w, const uint8_t *origin)
{
    for (size_t i = 0; i < w->nzones; i++)
        if (dns_name_equal(zone_origin(w->zones[i].zone), origin))
            return &w->zones[i];
    return NULL;
}

static wzone_t *add_zone(srv_writer_t *w, zone_t *z)
{
    if (w->nzones == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        wzone_t *n = realloc(w->zones, cap * sizeof *n);
        if (!n)
            return NULL;
        w->zones = n;
        w->cap = cap;
    }
    wzone_t *wz = &w->zones[w->nzones++];
    wz->zone = z;
    wz->compacting = false;
    wz->changed = true;
    return wz;
}

static void remove_zone(srv_writer_t *w, wzone_t *wz)
{
    zone_free(wz->zone);
    *wz = w->zones[--w->nzones];
}

/* The keys served: the store's and the command line's. */
static zone_keyring_t *keys_merge(srv_writer_t *w)
{
    zone_keyring_t *kr = zone_keyring_new();
    if (!kr)
        return NULL;
    if (w->store_keys)
        for (size_t i = 0; i < zone_keyring_count(w->store_keys); i++)
            (void)zone_keyring_add(kr, zone_keyring_get(w->store_keys, i));
    for (size_t i = 0; i < w->nextra; i++)
        if (zone_keyring_add(kr, &w->extra[i]) != ZL_OK)
            srv_log("--tsig-key %zu: a key of that name is in the store too; the store's is used", i + 1);
    return kr;
}

/* Publishes the writer's zones and keys as the new snapshot. */
static void publish(srv_writer_t *w)
{
    srv_snapshot_t *s = calloc(1, sizeof *s);
    zone_t **zs = malloc((w->nzones ? w->nzones : 1) * sizeof *zs);
    if (s && zs) {
        for (size_t i = 0; i < w->nzones; i++)
            zs[i] = w->zones[i].zone;
        if (zone_set_new(zs, w->nzones, &s->zones) == ZL_OK && (s->keys = keys_merge(w))) {
            free(zs);
            srv_publish(w->pub, s);
            return;
        }
    }
    srv_log("cannot publish the new zones: out of memory; the previous ones stay served");
    free(zs);
    if (s)
        srv_snapshot_free(s);
}

/* ---- NOTIFY out ------------------------------------------------------ */

static size_t add_target(srv_notify_target_t *t, size_t n, int family, const uint8_t *addr,
                         const dns_tsig_key_t *key)
{
    if (n == NOTIFY_TARGETS_MAX)
        return n;
    memset(&t[n], 0, sizeof t[n]);
    t[n].key = key;
    if (family == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)&t[n].addr;
        a->sin_family = AF_INET;
        a->sin_port = htons(53);
        memcpy(&a->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t[n].addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(53);
        memcpy(&a->sin6_addr, addr, 16);
    }
    return n + 1;
}

/* The addresses (port 53) of the zone's NS names that the zone holds,
 * except the SOA MNAME's host (the primary itself). */
static size_t ns_targets(const zone_t *z, srv_notify_target_t *t, size_t n,
                         const dns_tsig_key_t *key)
{
    const zone_node_t *apex = zone_apex(z);
    const zone_rrset_t *ns = zone_node_rrset(apex, DNS_T_NS);
    uint16_t len, slen;
    const uint8_t *mname = zone_rrset_rdata(zone_soa(z), 0, &slen);
    const uint8_t *rd = ns ? zone_rrset_rdata(ns, 0, &len) : NULL;
    for (unsigned i = 0; ns && i < ns->count; i++) {
        if (i)
            rd = zone_rrset_rdata_next(rd, len, &len);
        const zone_node_t *host = dns_name_equal(rd, mname) ? NULL : zone_find(z, rd);
        static const uint16_t types[2] = {DNS_T_A, DNS_T_AAAA};
        for (int k = 0; host && k < 2; k++) {
            const zone_rrset_t *rs = zone_node_rrset(host, types[k]);
            uint16_t alen;
            const uint8_t *a = rs ? zone_rrset_rdata(rs, 0, &alen) : NULL;
            for (unsigned j = 0; rs && j < rs->count; j++) {
                if (j)
                    a = zone_rrset_rdata_next(a, alen, &alen);
                n = add_target(t, n, k == 0 ? 4 : 6, a, key);
            }
        }
    }
    return n;
}

/* NOTIFY to every target of z (RFC 1996): --notify-to and the zone's own
 * NS addresses, signed with the zone's first transfer key when it has
 * one (a key `<x>._transfer.<zone>` of the zone or above), and the
 * secondaries named in transfer keys (primary-git's
 * `<primary>.<secondary>._transfer.<zone>`), each signed with its own. */
static void notify(srv_writer_t *w, const zone_t *z)
{
    srv_notify_target_t t[NOTIFY_TARGETS_MAX];
    size_t n = 0;
    if (!w->notifier)
        return;
    const zone_keyring_t *kr = srv_publish_current(w->pub)->keys;
    const dns_tsig_key_t *zkey = NULL;
    for (size_t i = 0; kr && i < zone_keyring_count(kr); i++) {
        const zone_key_t *k = zone_keyring_get(kr, i);
        bool xfr = k->rights == (ZONE_KEY_TRANSFER | ZONE_KEY_NOTIFY) &&
                   zone_key_allows(k, zone_origin(z), ZONE_KEY_TRANSFER);
        if (xfr && !zkey && !k->secondary.family)
            zkey = &k->tsig;
        if (xfr && k->secondary.family)
            n = add_target(t, n, k->secondary.family, k->secondary.addr, &k->tsig);
    }
    for (size_t i = 0; i < w->cfg->nnotify_to && n < NOTIFY_TARGETS_MAX; i++) {
        t[n].addr = w->cfg->notify_to[i];
        t[n++].key = zkey;
    }
    n = ns_targets(z, t, n, zkey);
    const zone_rrset_t *soa = zone_soa(z);
    uint16_t len;
    const uint8_t *rd = zone_rrset_rdata(soa, 0, &len);
    if (n)
        srv_notifier_send(w->notifier, zone_origin(z), rd, len, soa->ttl, t, n);
}

/* ---- compaction of a zone's overlay ------------------------------------ */

typedef struct compact_job {
    srv_writer_t *w;
    zone_t *from;            /* the version compacted (a reference) */
    zone_t *flat;            /* its flat rebuild, NULL on failure */
} compact_job_t;

static void compact_run(void *arg)
{
    compact_job_t *j = arg;
    if (zone_compact(j->from, &j->flat) != ZL_OK)
        j->flat = NULL;
}

/* Back on the writer: the changes made since `from` move onto the flat
 * rebuild; same content, so nothing to commit, log or notify. */
static void compact_done(void *arg)
{
    compact_job_t *j = arg;
    srv_writer_t *w = j->w;
    wzone_t *wz = find_zone(w, zone_origin(j->from));
    zone_t *next = NULL;
    if (wz)
        wz->compacting = false;
    if (wz && j->flat && zone_rebase(j->flat, j->from, wz->zone, &next) == ZL_OK) {
        zone_free(wz->zone);
        wz->zone = next;
        publish(w);
    }
    zone_free(j->flat);
    zone_free(j->from);
    free(j);
}

static void maybe_compact(srv_writer_t *w, wzone_t *wz)
{
    if (wz->compacting || !zone_compact_due(wz->zone))
        return;
    compact_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->w = w;
    j->from = zone_ref(wz->zone);
    if (jobs_submit(w, compact_run, compact_done, j) != 0) {
        zone_free(j->from);
        free(j);
        return;
    }
    wz->compacting = true;
}

/* After a publication: NOTIFY, the store's housekeeping, compaction. */
static void after_change(srv_writer_t *w, wzone_t *wz)
{
    notify(w, wz->zone);
    w->store->published(w->store, zone_origin(wz->zone), wz->zone);
    maybe_compact(w, wz);
}

/* ---- versions and their journals -------------------------------------- */

/* v (taken) made into the version that carries base's journal with d
 * appended (the IXFR history, --ixfr-history / --ixfr-max-bytes).
 * Returns the new version, or v itself when that fails (logged: IXFR
 * then falls back to whole transfers). */
static zone_t *with_history(srv_writer_t *w, const zone_t *base, zone_t *v, zone_diff_t *d)
{
    zone_journal_t *j = NULL;
    zone_t *out = NULL;
    if (zone_journal_append(zone_journal(base), d, w->cfg->ixfr_history, w->cfg->ixfr_max_bytes,
                            &j) != ZL_OK ||
        zone_with_journal(v, j, &out) != ZL_OK) {
        srv_log_zone(zone_origin(v), "cannot keep the change for IXFR (out of memory)");
        zone_journal_unref(j);
        return v;
    }
    zone_journal_unref(j);
    zone_free(v);
    return out;
}

static size_t diff_added(const zone_diff_t *d)
{
    size_t n;
    (void)zone_diff_added(d, &n);
    return n;
}

static size_t diff_removed(const zone_diff_t *d)
{
    size_t n;
    (void)zone_diff_removed(d, &n);
    return n;
}

/* d with its new SOA's serial set to serial (a new sealed diff). */
static int diff_reserial(const zone_diff_t *d, uint32_t serial, zone_diff_t **out)
{
    const dns_rr_t *old = zone_diff_old_soa(d), *new = zone_diff_new_soa(d);
    uint8_t rd[2 * DNS_NAME_MAX + 20];
    size_t n;
    zone_diff_t *r = zone_diff_new(zone_diff_origin(d));
    *out = NULL;
    if (!r || new->rdlen < 20 || new->rdlen > sizeof rd) {
        zone_diff_free(r);
        return ZL_ENOMEM;
    }
    memcpy(rd, new->rdata, new->rdlen);
    dns_put_u32(rd + new->rdlen - 20, serial);
    dns_rr_t soa = *new;
    soa.rdata = rd;
    const dns_rr_t *rr = zone_diff_removed(d, &n);
    int rc = ZL_OK;
    for (size_t i = 0; i < n && rc == ZL_OK; i++)
        rc = zone_diff_remove(r, &rr[i]);
    rr = zone_diff_added(d, &n);
    for (size_t i = 0; i < n && rc == ZL_OK; i++)
        rc = zone_diff_add(r, &rr[i]);
    if (rc == ZL_OK)
        rc = zone_diff_set_soa(r, old, &soa);
    if (rc == ZL_OK)
        rc = zone_diff_seal(r);
    if (rc != ZL_OK)
        zone_diff_free(r);
    else
        *out = r;
    return rc;
}

/* ---- reloads ----------------------------------------------------------- */

/* The version that replaces old by what the store holds now: new itself
 * (with old's journal and the diff appended), or, when new's serial was
 * not raised, old with the diff and a raised serial applied (secondaries
 * follow serials). Returns NULL when nothing changed (new freed). */
static zone_t *reloaded_version(srv_writer_t *w, zone_t *old, zone_t *new)
{
    zone_diff_t *d = NULL;
    if (zone_diff_versions(old, new, &d) != ZL_OK) {
        zone_free(new);
        return NULL;
    }
    if (zone_diff_is_empty(d)) {
        zone_diff_free(d);
        zone_free(new);
        return NULL;
    }
    zone_t *v = new;
    if (dns_serial_cmp(zone_serial(new), zone_serial(old)) <= 0) {
        uint32_t serial = zone_serial(old) + 1;
        srv_log_zone(zone_origin(old), "content changed but the serial %u was not raised: serving it as %u",
                     zone_serial(new), serial);
        zone_diff_t *bumped = NULL, *stored = NULL;
        v = NULL;
        if (diff_reserial(d, serial, &bumped) == ZL_OK && zone_apply(old, bumped, &v, NULL) == ZL_OK) {
            zone_diff_free(d);
            d = bumped;
        } else {
            zone_diff_free(bumped);
        }
        /* The raised serial is a change of ours: the store gets it too
         * (the directory's journal, a commit in git), so what it holds
         * and what is served agree, and later changes follow on. */
        if (v && zone_diff_versions(new, v, &stored) == ZL_OK) {
            srv_commit_t c = {.origin = zone_origin(v), .diff = stored, .zone = v,
                              .who = "zonelet (serial raised after a reload)"};
            if (w->store->commit(w->store, &c, 1) != ZL_OK)
                srv_log_zone(zone_origin(v), "the raised serial is not in the store yet");
        }
        zone_diff_free(stored);
        zone_free(new);
        if (!v) {
            zone_diff_free(d);
            return NULL;
        }
    }
    v = with_history(w, old, v, d);
    char text[DNS_NAME_TEXT_MAX];
    srv_log("serving %s serial %u (was %u: %zu records added, %zu removed)",
            zone_text(v, text, sizeof text), zone_serial(v), zone_serial(old), diff_added(d),
            diff_removed(d));
    zone_diff_free(d);
    return v;
}

/* Applies one store listing to the writer's zones. Returns true when
 * something changed (a publication is due). */
static bool apply_loaded(srv_writer_t *w, srv_loaded_t *l)
{
    bool changed = false;
    for (size_t i = 0; i < l->nzones; i++) {
        srv_stored_t *sz = &l->zones[i];
        wzone_t *wz = find_zone(w, sz->origin);
        if (sz->failed) {
            /* The store logged why; the old version stays. */
            char text[DNS_NAME_TEXT_MAX];
            if (wz)
                srv_log("still serving %s serial %u", zone_text(wz->zone, text, sizeof text),
                        zone_serial(wz->zone));
            continue;
        }
        if (!sz->zone) {
            if (wz) {
                srv_log_zone(sz->origin, "removed from the store: no longer served");
                w->store->published(w->store, sz->origin, NULL);
                remove_zone(w, wz);
                changed = true;
            }
            continue;
        }
        zone_t *z = sz->zone;
        sz->zone = NULL;
        if (!wz) {
            if (!(wz = add_zone(w, z))) {
                zone_free(z);
                continue;
            }
            char text[DNS_NAME_TEXT_MAX];
            srv_log("serving %s serial %u (%zu records)", zone_text(z, text, sizeof text),
                    zone_serial(z), zone_record_count(z));
            changed = true;
            continue;
        }
        zone_t *v = reloaded_version(w, wz->zone, z);
        if (v) {
            zone_free(wz->zone);
            wz->zone = v;
            wz->changed = true;
            changed = true;
        }
    }
    if (l->complete) {
        for (size_t i = w->nzones; i-- > 0;) {
            bool listed = false;
            for (size_t k = 0; k < l->nzones && !listed; k++)
                listed = dns_name_equal(l->zones[k].origin, zone_origin(w->zones[i].zone));
            if (!listed) {
                srv_log_zone(zone_origin(w->zones[i].zone), "removed from the store: no longer served");
                w->store->published(w->store, zone_origin(w->zones[i].zone), NULL);
                remove_zone(w, &w->zones[i]);
                changed = true;
            }
        }
    }
    if (l->keys) {
        zone_keyring_free(w->store_keys);
        w->store_keys = l->keys;
        l->keys = NULL;
        changed = true;
    }
    return changed;
}

/* Reloads from the store; returns true when something changed. The
 * zones that changed are noted in changed_out (w->nzones bools). */
static bool reload(srv_writer_t *w, const uint8_t *origin, const char *who)
{
    srv_loaded_t l;
    memset(&l, 0, sizeof l);
    if (origin && !find_zone(w, origin))
        origin = NULL;   /* a zone new to us: look at everything */
    if (w->store->reload(w->store, origin, &l) != 0)
        return false;
    if (who && *who)
        srv_log("reload (%s)%s%s", who, l.revision[0] ? ": " : "", l.revision);
    bool changed = apply_loaded(w, &l);
    srv_loaded_free(&l);
    if (who && *who)
        srv_log("%zu zones served", w->nzones);
    return changed;
}

/* Publishes what reloads changed, then NOTIFY and housekeeping for the
 * zones that changed. */
static void publish_reloaded(srv_writer_t *w)
{
    publish(w);
    for (size_t i = 0; i < w->nzones; i++) {
        if (!w->zones[i].changed)
            continue;
        w->zones[i].changed = false;
        after_change(w, &w->zones[i]);
    }
}

/* ---- updates ------------------------------------------------------------ */

/* One batch of UPDATEs: per request, its rcode and, when it changed its
 * zone, its diff and the version it made (a reference each); per zone,
 * the latest version the batch made (borrowed from those). */
typedef struct ubatch {
    size_t n;
    uint16_t *rcodes;
    zone_diff_t **diffs;
    zone_t **vers;
    wzone_t **zones;         /* the zones changed, nstaged of them */
    const zone_t **latest;   /* their latest versions */
    size_t nstaged;
    srv_commit_t *commits;
    size_t ncommits;
} ubatch_t;

static void ubatch_clear(ubatch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        zone_diff_free(b->diffs[i]);
        zone_free(b->vers[i]);
        b->diffs[i] = NULL;
        b->vers[i] = NULL;
    }
    b->nstaged = b->ncommits = 0;
}

static void report_rule(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                        const char *msg)
{
    (void)file;
    (void)line;
    if (sev == ZONE_ERROR && !*(char *)ctx)
        snprintf(ctx, 256, "%s", msg);
}

/* Runs each UPDATE on the latest version of its zone (the batch's own,
 * when an earlier one changed it). */
static void run_updates(srv_writer_t *w, wreq_t **u, ubatch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        bool upd = u[i]->kind == REQ_UPDATE;
        const dns_msg_t *msg = upd ? srv_pending_msg(u[i]->pending) : NULL;
        const char *who = upd ? srv_pending_who(u[i]->pending) : u[i]->who;
        wzone_t *wz = find_zone(w, upd ? msg->qname : u[i]->origin);
        if (!wz) {
            b->rcodes[i] = DNS_R_NOTAUTH;   /* gone since the request came in */
            continue;
        }
        size_t s = 0;
        while (s < b->nstaged && b->zones[s] != wz)
            s++;
        const zone_t *base = s < b->nstaged ? b->latest[s] : wz->zone;
        const char *why = NULL;
        zone_diff_t *d = NULL;
        if (upd) {
            b->rcodes[i] = (uint16_t)zone_update(base, msg, &d, &why);
        } else if (u[i]->make(u[i]->arg, base, &d) != ZL_OK) {
            b->rcodes[i] = DNS_R_SERVFAIL;
            why = "the change could not be made";
        }
        if (b->rcodes[i] != DNS_R_NOERROR) {
            srv_log_zone(zone_origin(base), "%s %s: refused (rcode %u): %s", upd ? "UPDATE" : "change",
                         who, b->rcodes[i], why ? why : "?");
            continue;
        }
        if (!d)
            continue;   /* nothing to change: NOERROR, no new version */
        char rule[256] = "";
        zone_report_t rep = {report_rule, rule};
        zone_t *v = NULL;
        if (zone_apply(base, d, &v, &rep) != ZL_OK) {
            srv_log_zone(zone_origin(base), "%s %s: refused, the zone would break a rule: %s",
                         upd ? "UPDATE" : "change", who, rule[0] ? rule : "the diff does not fit the zone");
            b->rcodes[i] = DNS_R_REFUSED;
            zone_diff_free(d);
            continue;
        }
        v = with_history(w, base, v, d);
        if (s == b->nstaged) {
            b->zones[s] = wz;
            b->nstaged++;
        }
        b->latest[s] = v;
        b->diffs[i] = d;
        b->vers[i] = v;
        b->commits[b->ncommits++] = (srv_commit_t){.origin = zone_origin(v), .diff = d,
                                                   .zone = v, .who = who};
    }
}

/* The batch's changes made durable: served, logged, notified. */
static void updates_publish(srv_writer_t *w, ubatch_t *b)
{
    for (size_t k = 0; k < b->ncommits; k++) {
        size_t na, nr;
        (void)zone_diff_added(b->commits[k].diff, &na);
        (void)zone_diff_removed(b->commits[k].diff, &nr);
        srv_log_zone(b->commits[k].origin, "serial %u -> %u, %zu records added, %zu removed, %s",
                     zone_diff_from(b->commits[k].diff), zone_diff_to(b->commits[k].diff), na, nr,
                     b->commits[k].who);
    }
    for (size_t s = 0; s < b->nstaged; s++) {
        zone_free(b->zones[s]->zone);
        b->zones[s]->zone = zone_ref((zone_t *)b->latest[s]);
    }
    publish(w);
    for (size_t s = 0; s < b->nstaged; s++)
        after_change(w, b->zones[s]);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The commit of n answered changes took ms: gather the next batch? */
static void gather_after(srv_writer_t *w, size_t n, double ms)
{
    w->gather_want = 0;
    if (ms < GATHER_SLOW_MS || n < 2)
        return;   /* one client comes back alone: nothing to gather */
    double wait = ms / 10 < GATHER_MAX_MS ? ms / 10 : GATHER_MAX_MS;
    clock_gettime(CLOCK_REALTIME, &w->gather_until);
    long ns = w->gather_until.tv_nsec + (long)(wait * 1e6);
    w->gather_until.tv_sec += ns / 1000000000;
    w->gather_until.tv_nsec = ns % 1000000000;
    w->gather_want = n;
}

static void updates(srv_writer_t *w, wreq_t **u, size_t n, uint64_t now)
{
    double t0 = mono_ms();
    ubatch_t b = {.n = n};
    b.rcodes = calloc(n, sizeof *b.rcodes);
    b.diffs = calloc(n, sizeof *b.diffs);
    b.vers = calloc(n, sizeof *b.vers);
    b.zones = calloc(n, sizeof *b.zones);
    b.latest = calloc(n, sizeof *b.latest);
    b.commits = calloc(n, sizeof *b.commits);
    if (!b.rcodes || !b.diffs || !b.vers || !b.zones || !b.latest || !b.commits) {
        for (size_t i = 0; i < n; i++)
            request_done(u[i], DNS_R_SERVFAIL, now);
        goto out;
    }
    for (int attempt = 0;; attempt++) {
        run_updates(w, u, &b);
        int rc = b.ncommits ? w->store->commit(w->store, b.commits, b.ncommits) : ZL_OK;
        if (rc == ZL_ECONFLICT && attempt < CONFLICT_RETRIES) {
            /* The store moved on: take its state, then apply again (the
             * prerequisites are checked again on the new versions). */
            ubatch_clear(&b);
            if (reload(w, NULL, "the store moved on"))
                publish_reloaded(w);
            continue;
        }
        if (rc != ZL_OK) {
            for (size_t i = 0; i < n; i++)
                if (b.diffs[i])
                    b.rcodes[i] = DNS_R_SERVFAIL;
        } else if (b.nstaged) {
            updates_publish(w, &b);
        }
        break;
    }
    for (size_t i = 0; i < n; i++)
        request_done(u[i], b.rcodes[i], now);
    gather_after(w, n, mono_ms() - t0);
    ubatch_clear(&b);
out:
    free(b.rcodes);
    free(b.diffs);
    free(b.vers);
    free(b.zones);
    free(b.latest);
    free(b.commits);
}

/* ---- files ------------------------------------------------------------------ */

static void file_run(srv_writer_t *w, wreq_t *r)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;
    if (!r->write) {
        rc = w->store->file_read(w->store, r->file, &data, &len);
    } else {
        for (int attempt = 0;; attempt++) {
            rc = w->store->file_write(w->store, r->file, r->data, r->len, r->who);
            if (rc != ZL_ECONFLICT || attempt == CONFLICT_RETRIES)
                break;
            if (reload(w, NULL, "the store moved on"))
                publish_reloaded(w);
        }
    }
    r->file_done(r->arg, rc, rc == ZL_OK ? data : NULL, rc == ZL_OK ? len : 0);
    if (rc != ZL_OK)
        free(data);
}

/* ---- the thread ---------------------------------------------------------- */

/* One batch: finished jobs and reloads, then the updates. */
static void batch(srv_writer_t *w, wreq_t *list)
{
    uint64_t now = (uint64_t)time(NULL);
    size_t nupd = 0;
    bool changed = false;
    for (wreq_t *r = list; r; r = r->next) {
        if (r->kind == REQ_JOB_DONE)
            r->done(r->arg);
        else if (r->kind == REQ_RELOAD)
            changed |= reload(w, r->all ? NULL : r->origin, r->who);
        else if (r->kind != REQ_FILE)
            nupd++;
    }
    if (changed)
        publish_reloaded(w);
    for (wreq_t *r = list; r; r = r->next)
        if (r->kind == REQ_FILE)
            file_run(w, r);
    if (nupd) {
        wreq_t **u = malloc(nupd * sizeof *u);
        size_t k = 0;
        for (wreq_t *r = list; r; r = r->next)
            if (r->kind == REQ_UPDATE || r->kind == REQ_CHANGE) {
                if (u)
                    u[k++] = r;
                else
                    request_done(r, DNS_R_SERVFAIL, now);
            }
        if (u)
            updates(w, u, k, now);
        free(u);
    }
    while (list) {
        wreq_t *next = list->next;
        free(list->data);
        free(list);
        list = next;
    }
}

static void *writer_main(void *arg)
{
    srv_writer_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->queue && !w->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0 && !w->queue && !w->stop) {
                pthread_mutex_unlock(&w->lock);
                bool due = w->store->tick(w->store);
                pthread_mutex_lock(&w->lock);
                if (due)
                    break;
            }
        }
        /* After a slow commit: let the clients it answered come back. */
        while (w->gather_want && w->queue && w->nqueued < w->gather_want && !w->stop &&
               pthread_cond_timedwait(&w->cond, &w->lock, &w->gather_until) == 0)
            ;
        w->gather_want = 0;
        wreq_t *list = w->queue;
        w->queue = NULL;
        w->queue_tail = &w->queue;
        w->nqueued = 0;
        bool stop = w->stop;
        pthread_mutex_unlock(&w->lock);
        if (list) {
            batch(w, list);
        } else if (stop) {
            return NULL;
        } else if (reload(w, NULL, "")) {
            publish_reloaded(w);   /* the store's timer (a poll, a retry) */
        }
    }
}

srv_writer_t *srv_writer_new(const srv_config_t *cfg, srv_publish_t *pub,
                             srv_notifier_t *notifier, const zone_key_t *extra_keys,
                             size_t nextra)
{
    srv_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cfg = cfg;
    w->pub = pub;
    w->notifier = notifier;
    w->changes = (srv_changes_t){.update = changes_update, .reload = changes_reload, .self = w};
    w->jobs = (srv_jobs_t){.submit = jobs_submit, .self = w};
    w->queue_tail = &w->queue;
    w->jobq_tail = &w->jobq;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_cond_init(&w->job_cond, NULL);
    if (nextra) {
        w->extra = malloc(nextra * sizeof *w->extra);
        if (!w->extra) {
            srv_writer_free(w);
            return NULL;
        }
        memcpy(w->extra, extra_keys, nextra * sizeof *w->extra);
        w->nextra = nextra;
    }
    return w;
}

void srv_writer_set_store(srv_writer_t *w, srv_store_t *store)
{
    w->store = store;
}

const srv_changes_t *srv_writer_changes(srv_writer_t *w) { return &w->changes; }
const srv_jobs_t *srv_writer_jobs(srv_writer_t *w) { return &w->jobs; }

int srv_writer_load(srv_writer_t *w)
{
    srv_loaded_t l;
    memset(&l, 0, sizeof l);
    if (w->store->load(w->store, &l) != 0)
        return -1;
    if (l.revision[0])
        srv_log("store at %s", l.revision);
    apply_loaded(w, &l);
    srv_loaded_free(&l);
    publish(w);
    for (size_t i = 0; i < w->nzones; i++) {
        w->zones[i].changed = false;
        w->store->published(w->store, zone_origin(w->zones[i].zone), w->zones[i].zone);
        maybe_compact(w, &w->zones[i]);
    }
    srv_log("%zu zones served", w->nzones);
    return 0;
}

int srv_writer_start(srv_writer_t *w)
{
    int rc = pthread_create(&w->helper, NULL, helper_main, w);
    if (rc)
        return rc;
    (void)pthread_setname_np(w->helper, "zl-helper");   /* as the UDP workers' */
    rc = pthread_create(&w->thread, NULL, writer_main, w);
    if (rc) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->job_cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->helper, NULL);
        return rc;
    }
    (void)pthread_setname_np(w->thread, "zl-writer");
    w->started = true;
    return 0;
}

void srv_writer_stop(srv_writer_t *w)
{
    if (!w || !w->started)
        return;
    /* The helper finishes its job in flight and leaves; its completion
     * (and everything queued) is taken by the writer's last batches. */
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->job_cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->helper, NULL);
    pthread_mutex_lock(&w->lock);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void srv_writer_free(srv_writer_t *w)
{
    if (!w)
        return;
    srv_writer_stop(w);
    /* Jobs never run: their completion frees what they hold. */
    while (w->jobq) {
        wjob_t *j = w->jobq;
        w->jobq = j->next;
        j->run(j->arg);
        j->done(j->arg);
        free(j);
    }
    while (w->queue) {
        wreq_t *r = w->queue;
        w->queue = r->next;
        if (r->kind == REQ_UPDATE || r->kind == REQ_CHANGE)
            request_done(r, DNS_R_SERVFAIL, (uint64_t)time(NULL));
        if (r->kind == REQ_FILE)
            r->file_done(r->arg, ZL_EIO, NULL, 0);
        free(r->data);
        free(r);
    }
    for (size_t i = 0; i < w->nzones; i++)
        zone_free(w->zones[i].zone);
    free(w->zones);
    zone_keyring_free(w->store_keys);
    if (w->store)
        w->store->free(w->store);
    free(w->extra);
    pthread_cond_destroy(&w->cond);
    pthread_cond_destroy(&w->job_cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
