/* The git store (store_git.h). */
#include "unikernel/store_git.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/err.h"
#include "gitstore/gitstore.h"
#include "unikernel/log.h"
#include "zone/parse.h"
#include "zone/print.h"

#define RETRY_MIN_S 2
#define RETRY_MAX_S 300

/* One file of the commit in service. */
typedef struct gfile {
    char *name;
    char blob[GS_OID_HEX + 1];
    bool keys;
    uint8_t origin[DNS_NAME_MAX];
} gfile_t;

typedef struct store_git {
    srv_store_t base;
    const srv_config_t *cfg;
    gs_t *gs;
    char head[GS_OID_HEX + 1];   /* the commit in service ("" before any) */
    gfile_t *files;
    size_t nfiles;
    bool fetched;                /* the remote answered at least once */
    time_t next_retry, next_poll;
    unsigned retry_s;
} store_git_t;

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void files_free(gfile_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

/* ---- reading a commit ---------------------------------------------------- */

/* The parser's source: "COMMIT:NAME" paths read from the cache. */
typedef struct blob_src {
    store_git_t *sg;
    const gs_tree_t *tree;
} blob_src_t;

static int src_open(void *ctx, const char *path, zone_text_t *out, const char **why)
{
    blob_src_t *b = ctx;
    const char *name = strchr(path, ':');
    name = name ? name + 1 : path;
    for (size_t i = 0; i < b->tree->n; i++) {
        const gs_entry_t *e = &b->tree->entries[i];
        if (e->ignored || strcmp(e->name, name) != 0)
            continue;
        uint8_t *data;
        size_t len;
        if (gs_blob_read(b->sg->gs, e->blob, &data, &len) != ZL_OK)
            break;
        out->text = (const char *)data;
        out->len = len;
        out->handle = data;
        return ZL_OK;
    }
    *why = "no such file in the commit";
    return ZL_EIO;
}

static void src_close(void *ctx, zone_text_t *t)
{
    (void)ctx;
    free(t->handle);
}

static bool key_name(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "_keys") == 0 || (n > 6 && strcmp(name + n - 6, "._keys") == 0);
}

/* The file of this name in the commit in service, or NULL. */
static const gfile_t *old_file(const store_git_t *sg, const char *name)
{
    for (size_t i = 0; i < sg->nfiles; i++)
        if (strcmp(sg->files[i].name, name) == 0)
            return &sg->files[i];
    return NULL;
}

static int listing_add(srv_loaded_t *l, size_t *cap, const srv_stored_t *st)
{
    if (l->nzones == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        srv_stored_t *n = realloc(l->zones, c * sizeof *n);
        if (!n)
            return -1;
        l->zones = n;
        *cap = c;
    }
    l->zones[l->nzones++] = *st;
    return 0;
}

/* Reads commit into out: every zone file whose blob differs from the
 * commit in service (all when complete), the keys when a key file
 * changed, the zones whose files are gone. Then that commit is in
 * service. Without parse only the file list is taken (names and blob
 * ids) and out stays empty: the commit we just pushed, whose files hold
 * the versions already served (parsing a 1,000,000-record zone again
 * would cost a second per push). Returns 0 or -1. */
static int read_commit(store_git_t *sg, const char *commit, bool complete, bool parse,
                       srv_loaded_t *out)
{
    gs_tree_t *tree = NULL;
    static const uint8_t root[1] = {0};
    size_t cap = 0;
    char shortid[13];
    snprintf(shortid, sizeof shortid, "%.12s", commit);
    if (gs_tree_read(sg->gs, commit, &tree) != ZL_OK) {
        srv_log("git: cannot read commit %s: %s", commit, gs_error(sg->gs));
        return -1;
    }
    gfile_t *files = calloc(tree->n ? tree->n : 1, sizeof *files);
    size_t nfiles = 0;
    bool keys_changed = complete;
    blob_src_t bsrc = {sg, tree};
    zone_source_t src = {.open = src_open, .close = src_close, .ctx = &bsrc};
    out->complete = complete;
    snprintf(out->revision, sizeof out->revision, "commit %s", commit);
    for (size_t i = 0; files && i < tree->n; i++) {
        const gs_entry_t *e = &tree->entries[i];
        const gfile_t *old = old_file(sg, e->name);
        if (e->ignored) {
            if (complete)
                srv_log("git %s: %s: %s, ignored", shortid, e->name, e->ignored);
            continue;
        }
        if (strcmp(e->name, SRV_STORE_ACME) == 0)
            continue;   /* not a zone: read by git_file_read */
        gfile_t *f = &files[nfiles++];
        f->name = strdup(e->name);
        memcpy(f->blob, e->blob, sizeof f->blob);
        f->keys = key_name(e->name);
        bool same = old && strcmp(old->blob, e->blob) == 0;
        if (f->keys) {
            keys_changed |= !same;
            continue;
        }
        int rc = dns_name_from_text(e->name, strlen(e->name), root, f->origin);
        if (rc < 0) {
            if (complete)
                srv_log("git %s: %s: not a zone name (%s), ignored", shortid, e->name, zl_strerror(rc));
            f->origin[0] = 0xff;   /* never matches a zone */
            continue;
        }
        if (!parse || (same && !complete))
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s:%s", shortid, e->name);
        srv_stored_t st;
        memset(&st, 0, sizeof st);
        dns_name_copy(st.origin, f->origin);
        srv_load_report_t lr = {path, 0};
        zone_report_t rep = {srv_load_report, &lr};
        rc = zone_load(&src, path, f->origin, &st.zone, &rep);
        srv_load_report_end(&lr);
        if (rc != ZL_OK) {
            srv_log("git %s: %s: not loaded (%s)", shortid, e->name, zl_strerror(rc));
            st.failed = true;
            st.zone = NULL;
        }
        if (listing_add(out, &cap, &st) != 0)
            zone_free(st.zone);
    }
    /* Zone files gone since the commit in service. */
    for (size_t i = 0; parse && !complete && i < sg->nfiles; i++) {
        bool there = false;
        for (size_t k = 0; k < nfiles && !there; k++)
            there = strcmp(files[k].name, sg->files[i].name) == 0;
        if (there)
            continue;
        if (sg->files[i].keys) {
            keys_changed = true;
        } else if (sg->files[i].origin[0] != 0xff) {
            srv_stored_t gone;
            memset(&gone, 0, sizeof gone);
            dns_name_copy(gone.origin, sg->files[i].origin);
            (void)listing_add(out, &cap, &gone);
        }
    }
    if (parse && keys_changed && files) {
        zone_keyring_t *kr = zone_keyring_new();
        for (size_t i = 0; kr && i < nfiles; i++) {
            if (!files[i].keys)
                continue;
            char path[600];
            uint8_t zone[DNS_NAME_MAX];
            size_t n = strlen(files[i].name);
            const uint8_t *scope = NULL;
            if (n > 6 && dns_name_from_text(files[i].name, n - 6, root, zone) > 0)
                scope = zone;
            snprintf(path, sizeof path, "%s:%s", shortid, files[i].name);
            srv_load_report_t lr = {path, 0};
            zone_report_t rep = {srv_load_report, &lr};
            if (zone_keyring_load(kr, &src, path, scope, &rep) != ZL_OK)
                srv_log("git %s: %s: some keys not loaded", shortid, files[i].name);
        }
        out->keys = kr;
    }
    gs_tree_free(tree);
    if (!files)
        return -1;
    files_free(sg->files, sg->nfiles);
    sg->files = files;
    sg->nfiles = nfiles;
    memcpy(sg->head, commit, sizeof sg->head);
    return 0;
}

/* Fetches; on failure schedules the next try (backoff). Returns ZL_OK
 * with head set, or the error (logged). */
static int fetch(store_git_t *sg, char head[GS_OID_HEX + 1])
{
    int rc = gs_fetch(sg->gs, head);
    if (rc == ZL_OK || rc == ZL_ENOTFOUND) {
        if (!sg->fetched || sg->retry_s)
            srv_log("git: fetched %s branch %s, head %s", sg->cfg->remote, gs_branch(sg->gs),
                    rc == ZL_OK ? head : "(no branch yet)");
        sg->fetched = true;
        sg->retry_s = 0;
        return rc;
    }
    sg->retry_s = sg->retry_s ? sg->retry_s * 2 : RETRY_MIN_S;
    if (sg->retry_s > RETRY_MAX_S)
        sg->retry_s = RETRY_MAX_S;
    sg->next_retry = now_s() + sg->retry_s;
    srv_log("git: cannot fetch %s: %s (next try in %u s)", sg->cfg->remote, gs_error(sg->gs),
            sg->retry_s);
    return rc;
}

/* ---- the store's operations ---------------------------------------------- */

static int git_load(srv_store_t *s, srv_loaded_t *out)
{
    store_git_t *sg = (store_git_t *)s;
    char head[GS_OID_HEX + 1] = "";
    memset(out, 0, sizeof *out);
    out->complete = true;
    int rc = fetch(sg, head);
    if (rc != ZL_OK && rc != ZL_ENOTFOUND) {
        /* primary-git exits here; zonelet serves the last good copy. */
        if (gs_head(sg->gs, head) != ZL_OK) {
            srv_log("git: no copy in the cache %s either: serving nothing until the remote answers",
                    sg->cfg->cache_dir);
            return 0;
        }
        srv_log("git: serving the cache's last good commit %s meanwhile", head);
    }
    if (!head[0])
        return 0;   /* an empty remote: nothing to serve yet */
    return read_commit(sg, head, true, true, out);
}

static int git_reload(srv_store_t *s, const uint8_t *origin, srv_loaded_t *out)
{
    store_git_t *sg = (store_git_t *)s;
    char head[GS_OID_HEX + 1] = "";
    (void)origin;   /* a push may change several zones: look at all */
    memset(out, 0, sizeof *out);
    if (sg->cfg->poll_s)
        sg->next_poll = now_s() + sg->cfg->poll_s;
    int rc = fetch(sg, head);
    if (rc != ZL_OK)
        return rc == ZL_ENOTFOUND ? 0 : -1;
    if (strcmp(head, sg->head) == 0)
        return 0;
    return read_commit(sg, head, sg->head[0] == '\0', true, out);
}

/* The zone's text in canonical master-file form (malloc'd). */
static char *zone_text(const zone_t *z, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    int rc = zone_print(z, f);
    if (fclose(f) != 0 || rc != ZL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* "<zone>: <n> records added, <m> removed by <who>" per change, the
 * first line summing up a group commit. */
static char *message(const srv_commit_t *c, size_t n)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char zone[DNS_NAME_TEXT_MAX];
        size_t na, nr;
        (void)zone_diff_added(c[i].diff, &na);
        (void)zone_diff_removed(c[i].diff, &nr);
        dns_name_to_text(c[i].origin, zone, sizeof zone);
        size_t zl = strlen(zone);
        if (zl > 1 && zone[zl - 1] == '.')
            zone[zl - 1] = '\0';
        if (i == 0 && n > 1)
            fprintf(f, "%zu changes\n\n", n);
        fprintf(f, "%s: %zu records added, %zu removed by %s\n", zone, na, nr, c[i].who);
    }
    fclose(f);
    return buf;
}

static int git_commit(srv_store_t *s, const srv_commit_t *c, size_t n)
{
    store_git_t *sg = (store_git_t *)s;
    gs_change_t *ch = calloc(n, sizeof *ch);
    char **texts = calloc(n, sizeof *texts);
    size_t nch = 0;
    int rc = ch && texts ? ZL_OK : ZL_ENOMEM;
    /* One file per zone: its last version in the batch. */
    for (size_t i = n; rc == ZL_OK && i-- > 0;) {
        const gfile_t *f = NULL;
        for (size_t k = 0; k < sg->nfiles && !f; k++)
            if (!sg->files[k].keys && dns_name_equal(sg->files[k].origin, c[i].origin))
                f = &sg->files[k];
        bool done = false;
        for (size_t k = 0; k < nch && !done; k++)
            done = f && strcmp(ch[k].name, f->name) == 0;
        if (done)
            continue;
        if (!f) {
            rc = ZL_ENOTFOUND;
            break;
        }
        size_t len;
        texts[nch] = zone_text(c[i].zone, &len);
        if (!texts[nch]) {
            rc = ZL_ENOMEM;
            break;
        }
        ch[nch] = (gs_change_t){.name = f->name, .data = (const uint8_t *)texts[nch], .len = len};
        nch++;
    }
    char *msg = rc == ZL_OK ? message(c, n) : NULL;
    char id[GS_OID_HEX + 1] = "";
    if (rc == ZL_OK && !msg)
        rc = ZL_ENOMEM;
    if (rc == ZL_OK)
        rc = gs_commit_push(sg->gs, sg->head[0] ? sg->head : NULL, ch, nch, msg, id);
    if (rc == ZL_OK) {
        const gs_stats_t *st = gs_stats(sg->gs);
        srv_log("git: pushed %s (%zu change%s; %.0f ms: commit %.1f, connection %.1f, pack "
                "and the remote's answer %.1f)", id, n, n == 1 ? "" : "s",
                st->build_ms + st->connect_ms + st->transfer_ms, st->build_ms, st->connect_ms,
                st->transfer_ms);
        /* The pushed commit is the one in service now: take its blob ids
         * so the next fetch sees no change in these files. */
        srv_loaded_t l;
        memset(&l, 0, sizeof l);
        (void)read_commit(sg, id, false, false, &l);
        srv_loaded_free(&l);
    } else if (rc == ZL_ECONFLICT) {
        srv_log("git: the remote moved on; fetching to apply the change again");
    } else {
        srv_log("git: cannot push (%s): %s", zl_strerror(rc), gs_error(sg->gs));
    }
    for (size_t i = 0; texts && i < nch; i++)
        free(texts[i]);
    free(texts);
    free(ch);
    free(msg);
    return rc;
}

static void git_published(srv_store_t *s, const uint8_t *origin, const zone_t *zone)
{
    (void)s;
    (void)origin;
    (void)zone;   /* the remote is the durable copy: nothing to keep */
}

static bool git_tick(srv_store_t *s)
{
    store_git_t *sg = (store_git_t *)s;
    time_t t = now_s();
    if (sg->retry_s && t >= sg->next_retry)
        return true;
    return sg->cfg->poll_s && t >= sg->next_poll;
}

static int git_file_read(srv_store_t *s, const char *name, uint8_t **data, size_t *len)
{
    store_git_t *sg = (store_git_t *)s;
    gs_tree_t *tree = NULL;
    if (!sg->head[0])
        return ZL_ENOTFOUND;
    if (gs_tree_read(sg->gs, sg->head, &tree) != ZL_OK) {
        srv_log("git: cannot read commit %s: %s", sg->head, gs_error(sg->gs));
        return ZL_EIO;
    }
    int rc = ZL_ENOTFOUND;
    for (size_t i = 0; i < tree->n; i++)
        if (!tree->entries[i].ignored && strcmp(tree->entries[i].name, name) == 0)
            rc = gs_blob_read(sg->gs, tree->entries[i].blob, data, len);
    gs_tree_free(tree);
    return rc;
}

/* One commit of the file alone, on top of the head in service. */
static int git_file_write(srv_store_t *s, const char *name, const uint8_t *data, size_t len,
                          const char *who)
{
    store_git_t *sg = (store_git_t *)s;
    gs_change_t ch = {.name = name, .data = data, .len = len};
    char msg[SRV_WHO_MAX + 64], id[GS_OID_HEX + 1] = "";
    snprintf(msg, sizeof msg, "%s: written by %s\n", name, who);
    int rc = gs_commit_push(sg->gs, sg->head[0] ? sg->head : NULL, &ch, 1, msg, id);
    if (rc == ZL_OK) {
        srv_log("git: pushed %s (%s)", id, name);
        srv_loaded_t l;
        memset(&l, 0, sizeof l);
        (void)read_commit(sg, id, false, false, &l);
        srv_loaded_free(&l);
    } else if (rc == ZL_ECONFLICT) {
        srv_log("git: the remote moved on; fetching to write %s again", name);
    } else {
        srv_log("git: cannot push %s (%s): %s", name, zl_strerror(rc), gs_error(sg->gs));
    }
    return rc;
}

static void git_free(srv_store_t *s)
{
    store_git_t *sg = (store_git_t *)s;
    gs_close(sg->gs);
    files_free(sg->files, sg->nfiles);
    free(sg);
}

srv_store_t *srv_store_git_new(const srv_config_t *cfg)
{
    store_git_t *sg = calloc(1, sizeof *sg);
    if (!sg)
        return NULL;
    sg->cfg = cfg;
    gs_opts_t o = {.url = cfg->remote, .cache_dir = cfg->cache_dir, .author = cfg->author,
                   .key_file = cfg->remote_key, .known_hosts = cfg->remote_known_hosts,
                   .ca_file = cfg->remote_ca, .timeout_ms = cfg->push_timeout_s * 1000u};
    char err[256] = "";
    if (gs_open(&o, &sg->gs, err, sizeof err) != ZL_OK) {
        srv_log("--remote %s: %s", cfg->remote, err);
        free(sg);
        return NULL;
    }
    if (cfg->poll_s)
        sg->next_poll = now_s() + cfg->poll_s;
    sg->base = (srv_store_t){.load = git_load, .reload = git_reload, .commit = git_commit,
                             .published = git_published, .tick = git_tick,
                             .file_read = git_file_read, .file_write = git_file_write,
                             .free = git_free};
    return &sg->base;
}
