/* The git store: the cache (a bare repository), fetch, tree and blob
 * reading, commit and push. The cache keeps the branch's last good commit
 * in refs/remotes/origin/<branch>, written only after a complete fetch
 * or an accepted push, so a failure at any point leaves the previous one
 * readable. The commit being pushed sits in refs/zonelet/push (libgit2
 * pushes from a ref); nothing else reads that ref. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libssh2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "gitstore/gs_int.h"

#define GS_TIMEOUT_DEFAULT 10000
#define GS_PUSH_REF "refs/zonelet/push"
#define GS_BRANCH_KEY "zonelet.branch"

/* ---- messages ---------------------------------------------------------- */

static void seterr(char *buf, size_t cap, const char *fmt, va_list ap)
{
    if (cap)
        vsnprintf(buf, cap, fmt, ap);
}

static int open_fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    seterr(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* g->err = what (then libgit2's last message if lib) and what the
 * remote said. */
static int vfail(gs_t *g, int rc, int lib, const char *fmt, va_list ap)
{
    seterr(g->err, sizeof(g->err), fmt, ap);
    size_t n = strlen(g->err);
    const git_error *e = lib ? git_error_last() : NULL;
    if (e && e->message && *e->message && n < sizeof(g->err))
        n += (size_t)snprintf(g->err + n, sizeof(g->err) - n, ": %s", e->message);
    if (g->remote_out[0] && n < sizeof(g->err))
        snprintf(g->err + n, sizeof(g->err) - n, " (remote: %.600s)", g->remote_out);
    /* Strip libgit2's line ends: the caller logs one line. */
    for (char *p = g->err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return rc;
}

/* Fails with rc: fail() says what, gfail() adds libgit2's reason. */
static int fail(gs_t *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(g, rc, 0, fmt, ap);
    va_end(ap);
    return rc;
}

static int gfail(gs_t *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(g, rc, 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* A network step failed: a timeout if the deadline fired, else rc. */
static int net_fail(gs_t *g, int rc, const char *what)
{
    /* On a timeout libgit2's message is about what failed next (TLS
     * layers report their read error), not the cause. */
    if (g->dl.timed_out && g->dl.idle_ms)
        return fail(g, ZL_ETIMEOUT, "%s %s: the remote sent nothing for %u ms", what, g->url,
                    g->dl.idle_ms);
    if (g->dl.timed_out)
        return fail(g, ZL_ETIMEOUT, "%s %s: not finished within %u ms", what, g->url,
                    g->timeout_ms);
    return gfail(g, rc, "%s %s", what, g->url);
}

void gs_remote_note(gs_t *g, const char *msg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = msg[i];
        if (c == '\r') { /* a progress meter redrawing its line */
            g->linelen = 0;
        } else if (c == '\n') {
            size_t n = strlen(g->remote_out);
            if (g->linelen && n + g->linelen + 3 < sizeof(g->remote_out))
                snprintf(g->remote_out + n, sizeof(g->remote_out) - n, "%s%.*s", n ? "; " : "",
                         (int)g->linelen, g->line);
            g->linelen = 0;
        } else if (g->linelen + 1 < sizeof(g->line)) {
            g->line[g->linelen++] = c;
        }
    }
}

static int on_sideband(const char *str, int len, void *payload)
{
    gs_remote_note(payload, str, len > 0 ? (size_t)len : 0);
    return 0;
}

static void op_begin(gs_t *g, int total)
{
    memset(&g->dl, 0, sizeof(g->dl));
    if (total)
        g->dl.end_ms = gs_now_ms() + g->timeout_ms;
    else
        g->dl.idle_ms = g->timeout_ms;
    g->err[0] = g->remote_out[0] = '\0';
    g->linelen = 0;
    memset(&g->stats, 0, sizeof(g->stats));
    git_error_clear();
    gs_net_bind(&g->dl);
    gs_local_reap(g, 0);
}

static int op_end(gs_t *g, int rc)
{
    gs_net_bind(NULL);
    g->stats.bytes = g->dl.bytes;
    if (rc == ZL_OK)
        g->err[0] = '\0';
    return rc;
}

/* ---- URLs and options -------------------------------------------------- */

int gs_url_split(const char *url, char **user, char **host, char **port, char **path)
{
    *user = *host = *port = *path = NULL;
    const char *p = strstr(url, "://");
    if (!p)
        return -1;
    p += 3;
    const char *slash = strchr(p, '/');
    if (!slash)
        return -1;
    const char *at = memchr(p, '@', (size_t)(slash - p));
    const char *h = at ? at + 1 : p, *hend, *pt;
    if (*h == '[') {
        hend = memchr(h, ']', (size_t)(slash - h));
        if (!hend)
            return -1;
        pt = hend + 1;
        h++;
    } else {
        hend = memchr(h, ':', (size_t)(slash - h));
        if (!hend)
            hend = slash;
        pt = hend;
    }
    if (pt < slash && *pt != ':')
        return -1;
    *user = strndup(p, at ? (size_t)(at - p) : 0);
    *host = strndup(h, (size_t)(hend - h));
    *port = strndup(pt < slash ? pt + 1 : slash, pt < slash ? (size_t)(slash - pt - 1) : 0);
    *path = strdup(slash);
    if (!*user || !*host || !*port || !*path || !**host || !slash[1]) {
        free(*user), free(*host), free(*port), free(*path);
        *user = *host = *port = *path = NULL;
        return -1;
    }
    for (const char *q = *port; *q; q++)
        if (!isdigit((unsigned char)*q)) {
            free(*user), free(*host), free(*port), free(*path);
            *user = *host = *port = *path = NULL;
            return -1;
        }
    return 0;
}

/* "Name <mail>" -> name and mail, both non-empty, no '<' '>' or newline
 * inside (git's signature rules). */
static int parse_author(const char *s, char **name, char **mail)
{
    const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (!lt || !gt || gt[1] != '\0' || strchr(s, '\n'))
        return -1;
    const char *ne = lt;
    while (ne > s && ne[-1] == ' ')
        ne--;
    if (ne == s || gt == lt + 1 || memchr(lt + 1, '<', (size_t)(gt - lt - 1)))
        return -1;
    *name = strndup(s, (size_t)(ne - s));
    *mail = strndup(lt + 1, (size_t)(gt - lt - 1));
    return *name && *mail ? 0 : -1;
}

static int mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

/* A process killed while writing a ref or the config leaves the lock
 * file behind, and every later write of that file fails. The cache has
 * one user (this store), so when it opens any lock file is stale. */
static void clear_locks(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue;
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0 && (depth < 16 || strcmp(e->d_name, "refs") == 0))
            clear_locks(path, depth - 1);
        else if (S_ISREG(st.st_mode) && n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0)
            unlink(path);
    }
    closedir(d);
}

static int open_cache(gs_t *g, const char *dir, char *err, size_t errcap)
{
    if (mkdirs(dir) < 0)
        return open_fail(err, errcap, ZL_EIO, "cache %s: %s", dir, strerror(errno));
    int rc = git_repository_open_bare(&g->repo, dir);
    if (rc == GIT_ENOTFOUND && dir_is_empty(dir))
        rc = git_repository_init(&g->repo, dir, 1);
    else if (rc == GIT_ENOTFOUND)
        return open_fail(err, errcap, ZL_EIO, "cache %s: not empty and not a git repository",
                         dir);
    if (rc < 0)
        return open_fail(err, errcap, ZL_EIO, "cache %s: %s", dir, git_error_last()->message);
    clear_locks(dir, 16);
    return ZL_OK;
}

/* A branch name git accepts, short enough for the ref buffers here. */
static int branch_ok(const char *name)
{
    char ref[300];
    int valid = 0;
    if (!*name || strlen(name) > 200)
        return 0;
    snprintf(ref, sizeof(ref), "refs/heads/%s", name);
    return git_reference_name_is_valid(&valid, ref) == 0 && valid;
}

/* The branch from the URL, else the one recorded in the cache. */
static int pick_branch(gs_t *g, const char *hash)
{
    if (hash)
        return (g->branch = strdup(hash + 1)) ? 0 : -1;
    git_config *cfg = NULL;
    git_buf b = { 0 };
    if (git_repository_config_snapshot(&cfg, g->repo) == 0 &&
        git_config_get_string_buf(&b, cfg, GS_BRANCH_KEY) == 0)
        g->branch = strdup(b.ptr);
    else
        g->branch = strdup("");
    git_buf_dispose(&b);
    git_config_free(cfg);
    return g->branch ? 0 : -1;
}

static int set_branch(gs_t *g, const char *name)
{
    char *b = strdup(name);
    if (!b)
        return ZL_ENOMEM;
    free(g->branch);
    g->branch = b;
    git_config *cfg = NULL;
    int rc = git_repository_config(&cfg, g->repo);
    if (rc == 0)
        rc = git_config_set_string(cfg, GS_BRANCH_KEY, name);
    git_config_free(cfg);
    return rc < 0 ? gfail(g, ZL_EIO, "cache: cannot record the branch") : ZL_OK;
}

static int readable(const char *path)
{
    return path && access(path, R_OK) == 0;
}

static int open_scheme(gs_t *g, const gs_opts_t *o, char *err, size_t errcap)
{
    const char *u = g->url;
    if (strncmp(u, "file:///", 8) == 0) {
        g->scheme = GS_FILE;
        return ZL_OK;
    }
    if (strncmp(u, "git://", 6) == 0)
        g->scheme = GS_GIT;
    else if (strncmp(u, "ssh://", 6) == 0)
        g->scheme = GS_SSH;
    else if (strncmp(u, "https://", 8) == 0)
        g->scheme = GS_HTTPS;
    else
        return open_fail(err, errcap, ZL_EINVAL,
                         "remote %s: not a file:///, git://, ssh:// or https:// URL", u);
    char *user, *host, *port, *path;
    if (gs_url_split(u, &user, &host, &port, &path) < 0)
        return open_fail(err, errcap, ZL_EINVAL, "remote %s: bad URL", u);
    free(user), free(host), free(port), free(path);
    if (g->scheme == GS_SSH) {
        if (!o->key_file || !o->known_hosts)
            return open_fail(err, errcap, ZL_EINVAL,
                             "remote %s: ssh needs a key file and a known_hosts file", u);
        if (!readable(o->key_file) || !readable(o->known_hosts))
            return open_fail(err, errcap, ZL_EIO, "remote %s: cannot read %s", u,
                             readable(o->key_file) ? o->known_hosts : o->key_file);
        size_t n = strlen(o->key_file);
        if (!(g->key_file = strdup(o->key_file)) || !(g->known_hosts = strdup(o->known_hosts)) ||
            !(g->pub_file = malloc(n + 5)))
            return ZL_ENOMEM;
        memcpy(g->pub_file, o->key_file, n);
        memcpy(g->pub_file + n, ".pub", 5);
        if (!readable(g->pub_file)) {
            free(g->pub_file);
            g->pub_file = NULL;
        }
        if (libssh2_init(0) != 0)
            return open_fail(err, errcap, ZL_EIO, "libssh2 initialisation failed");
        g->ssh_init = 1;
    }
    if (g->scheme == GS_HTTPS && o->ca_file) {
        if (!readable(o->ca_file))
            return open_fail(err, errcap, ZL_EIO, "CA file %s: %s", o->ca_file, strerror(errno));
        if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, o->ca_file, NULL) < 0)
            return open_fail(err, errcap, ZL_EIO, "CA file %s: %s", o->ca_file,
                             git_error_last()->message);
    }
    return ZL_OK;
}

int gs_open(const gs_opts_t *o, gs_t **out, char *err, size_t errcap)
{
    *out = NULL;
    if (errcap)
        err[0] = '\0';
    if (!o || !o->url || !o->cache_dir || !*o->cache_dir)
        return open_fail(err, errcap, ZL_EINVAL, "a remote URL and a cache directory are needed");
    gs_t *g = calloc(1, sizeof(*g));
    if (!g)
        return ZL_ENOMEM;
    if (git_libgit2_init() < 0) {
        free(g);
        return open_fail(err, errcap, ZL_EIO, "libgit2 initialisation failed");
    }
    g->timeout_ms = o->timeout_ms ? o->timeout_ms : GS_TIMEOUT_DEFAULT;
    int rc = ZL_ENOMEM;
    const char *hash = strchr(o->url, '#');
    if (!(g->url = strndup(o->url, hash ? (size_t)(hash - o->url) : strlen(o->url))))
        goto out;
    if (hash && !branch_ok(hash + 1)) {
        rc = open_fail(err, errcap, ZL_EINVAL, "remote %s: bad branch name", o->url);
        goto out;
    }
    if ((rc = open_scheme(g, o, err, errcap)) != ZL_OK)
        goto out;
    if (gs_net_register() < 0) {
        rc = open_fail(err, errcap, ZL_EIO, "cannot register the network stream");
        goto out;
    }
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        strcpy(host, "localhost");
    rc = ZL_ENOMEM;
    if (!(g->committer_mail = malloc(strlen(host) + 9)))
        goto out;
    sprintf(g->committer_mail, "zonelet@%s", host);
    if (o->author && parse_author(o->author, &g->author_name, &g->author_mail) < 0) {
        rc = open_fail(err, errcap, ZL_EINVAL, "author \"%s\": not \"Name <mail>\"", o->author);
        goto out;
    }
    if ((rc = open_cache(g, o->cache_dir, err, errcap)) != ZL_OK)
        goto out;
    rc = pick_branch(g, hash) < 0 ? ZL_ENOMEM : ZL_OK;
out:
    if (rc != ZL_OK) {
        if (rc == ZL_ENOMEM && errcap && !err[0])
            snprintf(err, errcap, "out of memory");
        gs_close(g);
        return rc;
    }
    *out = g;
    return ZL_OK;
}

void gs_close(gs_t *g)
{
    if (!g)
        return;
    gs_local_reap(g, 2000);
    git_repository_free(g->repo);
    if (g->ssh_init)
        libssh2_exit();
    free(g->url), free(g->branch);
    free(g->author_name), free(g->author_mail), free(g->committer_mail);
    free(g->key_file), free(g->pub_file), free(g->known_hosts);
    free(g);
    git_libgit2_shutdown();
}

const char *gs_branch(const gs_t *g) { return g->branch; }
const char *gs_error(const gs_t *g) { return g->err; }
const char *gs_remote_output(const gs_t *g) { return g->remote_out; }
const gs_stats_t *gs_stats(const gs_t *g) { return &g->stats; }

/* ---- reading the cache ------------------------------------------------- */

static int parse_oid(git_oid *oid, const char *hex)
{
    if (!hex || strlen(hex) != GS_OID_HEX)
        return ZL_EINVAL;
    for (const char *p = hex; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return ZL_EINVAL;
    return git_oid_fromstr(oid, hex) < 0 ? ZL_EINVAL : ZL_OK;
}

static void tracking_ref(const gs_t *g, char *buf, size_t cap)
{
    snprintf(buf, cap, "refs/remotes/origin/%s", g->branch);
}

int gs_head(gs_t *g, char head[GS_OID_HEX + 1])
{
    char ref[300];
    git_oid oid;
    head[0] = '\0';
    g->err[0] = '\0';
    if (!g->branch[0])
        return fail(g, ZL_ENOTFOUND, "cache: no branch fetched yet");
    tracking_ref(g, ref, sizeof(ref));
    if (git_reference_name_to_id(&oid, g->repo, ref) < 0)
        return fail(g, ZL_ENOTFOUND, "cache: no commit of branch %s", g->branch);
    git_oid_tostr(head, GS_OID_HEX + 1, &oid);
    return ZL_OK;
}

static const char *ignored_why(const git_tree_entry *e)
{
    switch (git_tree_entry_filemode(e)) {
    case GIT_FILEMODE_TREE: return "sub-folder";
    case GIT_FILEMODE_COMMIT: return "submodule";
    case GIT_FILEMODE_LINK: return "symlink";
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
        return git_tree_entry_name(e)[0] == '.' ? "dotfile" : NULL;
    default: return "unknown entry type";
    }
}

static int lookup_tree(gs_t *g, const char *commit, git_commit **c, git_tree **t)
{
    git_oid oid;
    int rc = parse_oid(&oid, commit);
    if (rc != ZL_OK)
        return fail(g, rc, "not a commit id: %.60s", commit ? commit : "(null)");
    int e = git_commit_lookup(c, g->repo, &oid);
    if (e == GIT_ENOTFOUND)
        return fail(g, ZL_ENOTFOUND, "commit %s not in the cache", commit);
    if (e < 0 || git_commit_tree(t, *c) < 0) {
        git_commit_free(*c);
        *c = NULL;
        return gfail(g, e == GIT_ENOTFOUND ? ZL_ENOTFOUND : ZL_EIO, "commit %s", commit);
    }
    return ZL_OK;
}

int gs_tree_read(gs_t *g, const char *commit, gs_tree_t **out)
{
    git_commit *c = NULL;
    git_tree *t = NULL;
    *out = NULL;
    g->err[0] = '\0';
    int rc = lookup_tree(g, commit, &c, &t);
    if (rc != ZL_OK)
        return rc;
    size_t n = git_tree_entrycount(t);
    gs_tree_t *tr = calloc(1, sizeof(*tr));
    if (!tr || !(tr->entries = calloc(n ? n : 1, sizeof(*tr->entries)))) {
        free(tr);
        rc = ZL_ENOMEM;
        goto out;
    }
    strcpy(tr->commit, commit);
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(t, i);
        gs_entry_t *en = &tr->entries[tr->n];
        if (!(en->name = strdup(git_tree_entry_name(e)))) {
            gs_tree_free(tr);
            rc = ZL_ENOMEM;
            goto out;
        }
        tr->n++;
        en->ignored = ignored_why(e);
        if (!en->ignored)
            git_oid_tostr(en->blob, sizeof(en->blob), git_tree_entry_id(e));
    }
    *out = tr;
out:
    git_tree_free(t);
    git_commit_free(c);
    return rc;
}

void gs_tree_free(gs_tree_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->entries[i].name);
    free(t->entries);
    free(t);
}

int gs_blob_read(gs_t *g, const char *blob, uint8_t **data, size_t *len)
{
    git_oid oid;
    git_blob *b = NULL;
    *data = NULL;
    *len = 0;
    g->err[0] = '\0';
    int rc = parse_oid(&oid, blob);
    if (rc != ZL_OK)
        return fail(g, rc, "not a blob id: %.60s", blob ? blob : "(null)");
    if (git_blob_lookup(&b, g->repo, &oid) < 0)
        return fail(g, ZL_ENOTFOUND, "blob %s not in the cache", blob);
    size_t n = (size_t)git_blob_rawsize(b);
    uint8_t *p = malloc(n + 1);
    if (!p) {
        git_blob_free(b);
        return ZL_ENOMEM;
    }
    memcpy(p, git_blob_rawcontent(b), n);
    p[n] = '\0';
    git_blob_free(b);
    *data = p;
    *len = n;
    return ZL_OK;
}

/* ---- talking to the remote --------------------------------------------- */

static void callbacks(gs_t *g, git_remote_callbacks *cb)
{
    git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
    cb->payload = g;
    if (g->scheme == GS_SSH || g->scheme == GS_FILE)
        cb->transport = gs_transport_new;
}

static int connect_remote(gs_t *g, git_remote **r, git_direction dir, git_remote_callbacks *cb)
{
    int64_t t0 = gs_now_ms();
    /* No url.*.insteadOf rewriting: the URL is the configuration (and
     * libgit2 1.5 leaks a PCRE2 match block per config entry there). */
    git_remote_create_options co;
    git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    co.repository = g->repo;
    co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    if (git_remote_create_with_opts(r, g->url, &co) < 0)
        return gfail(g, ZL_EINVAL, "remote %s", g->url);
    if (git_remote_connect(*r, dir, cb, NULL, NULL) < 0)
        return net_fail(g, ZL_EIO, "cannot reach");
    g->stats.connect_ms = (double)(gs_now_ms() - t0);
    return ZL_OK;
}

/* The remote's head of refs/heads/<branch>: 1 found, 0 absent. */
static int remote_head(git_remote *r, const char *branch, git_oid *oid)
{
    const git_remote_head **heads;
    size_t n;
    char ref[300];
    snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
    if (git_remote_ls(&heads, &n, r) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(heads[i]->name, ref) == 0) {
            git_oid_cpy(oid, &heads[i]->oid);
            return 1;
        }
    return 0;
}

/* No branch named: the remote's HEAD branch, else main, else master. */
static int decide_branch(gs_t *g, git_remote *r)
{
    git_buf b = { 0 };
    git_oid oid;
    const char *name = "main";
    if (git_remote_default_branch(&b, r) == 0 && strncmp(b.ptr, "refs/heads/", 11) == 0 &&
        branch_ok(b.ptr + 11))
        name = b.ptr + 11;
    else if (!remote_head(r, "main", &oid) && remote_head(r, "master", &oid))
        name = "master";
    int rc = set_branch(g, name);
    git_buf_dispose(&b);
    return rc;
}

static int set_tracking(gs_t *g, const git_oid *oid, const char *why)
{
    char ref[300];
    git_reference *out = NULL;
    tracking_ref(g, ref, sizeof(ref));
    int e = git_reference_create(&out, g->repo, ref, oid, 1, why);
    git_reference_free(out);
    return e < 0 ? gfail(g, ZL_EIO, "cache: cannot update %s", ref) : ZL_OK;
}

static int fetch(gs_t *g, char head[GS_OID_HEX + 1])
{
    git_remote_callbacks cb;
    git_remote *r = NULL;
    git_oid oid;
    callbacks(g, &cb);
    int rc = connect_remote(g, &r, GIT_DIRECTION_FETCH, &cb);
    if (rc == ZL_OK && !g->branch[0])
        rc = decide_branch(g, r);
    if (rc != ZL_OK)
        goto out;
    if (!remote_head(r, g->branch, &oid)) {
        rc = fail(g, ZL_ENOTFOUND, "remote %s has no branch %s", g->url, g->branch);
        goto out;
    }
    int64_t t0 = gs_now_ms();
    git_commit *c = NULL;
    if (git_commit_lookup(&c, g->repo, &oid) < 0) {
        char spec[600];
        snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/origin/%s", g->branch, g->branch);
        char *specs[] = { spec };
        git_strarray sa = { specs, 1 };
        git_fetch_options fo;
        git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
        fo.callbacks = cb;
        fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
        fo.update_fetchhead = 0;
        if (git_remote_download(r, &sa, &fo) < 0) {
            rc = net_fail(g, ZL_EIO, "cannot fetch from");
            goto out;
        }
        if (git_commit_lookup(&c, g->repo, &oid) < 0) {
            rc = fail(g, ZL_EPROTO, "fetch from %s: head %s missing after the transfer",
                      g->url, git_oid_tostr_s(&oid));
            goto out;
        }
    }
    git_commit_free(c);
    g->stats.transfer_ms = (double)(gs_now_ms() - t0);
    rc = set_tracking(g, &oid, "zonelet: fetch");
    if (rc == ZL_OK)
        git_oid_tostr(head, GS_OID_HEX + 1, &oid);
out:
    if (r)
        git_remote_disconnect(r);
    git_remote_free(r);
    return rc;
}

int gs_fetch(gs_t *g, char head[GS_OID_HEX + 1])
{
    head[0] = '\0';
    op_begin(g, 0);
    return op_end(g, fetch(g, head));
}

/* ---- commit and push --------------------------------------------------- */

static int check_changes(gs_t *g, const gs_change_t *ch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = ch[i].name;
        if (!s || !*s || *s == '.' || strchr(s, '/') || strlen(s) > 255)
            return fail(g, ZL_EINVAL, "bad file name \"%.60s\"", s ? s : "(null)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(ch[j].name, s) == 0)
                return fail(g, ZL_EINVAL, "file %s changed twice in one commit", s);
    }
    return ZL_OK;
}

static int apply_change(gs_t *g, git_treebuilder *tb, const gs_change_t *ch)
{
    const git_tree_entry *old = git_treebuilder_get(tb, ch->name);
    git_filemode_t mode = GIT_FILEMODE_BLOB;
    if (old) {
        mode = git_tree_entry_filemode(old);
        if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)
            return fail(g, ZL_EINVAL, "%s is not a regular file in the parent", ch->name);
    }
    if (!ch->data) {
        if (!old)
            return fail(g, ZL_ENOTFOUND, "cannot delete %s: not in the parent", ch->name);
        return git_treebuilder_remove(tb, ch->name) < 0 ? gfail(g, ZL_EIO, "delete %s", ch->name)
                                                         : ZL_OK;
    }
    git_oid blob;
    if (git_blob_create_from_buffer(&blob, g->repo, ch->data, ch->len) < 0)
        return gfail(g, ZL_EIO, "cache: cannot write %s", ch->name);
    if (git_treebuilder_insert(NULL, tb, ch->name, &blob, mode) < 0)
        return gfail(g, ZL_EINVAL, "cannot add %s", ch->name);
    return ZL_OK;
}

/* Writes the commit and points GS_PUSH_REF at it. */
static int make_commit(gs_t *g, const char *parent, const gs_change_t *ch, size_t n,
                       const char *message, git_oid *out)
{
    git_commit *pc = NULL;
    git_tree *pt = NULL, *tree = NULL;
    git_treebuilder *tb = NULL;
    git_signature *author = NULL, *committer = NULL;
    git_reference *ref = NULL;
    git_oid tid;
    int rc = parent ? lookup_tree(g, parent, &pc, &pt) : ZL_OK;
    if (rc != ZL_OK)
        goto out;
    if (git_treebuilder_new(&tb, g->repo, pt) < 0) {
        rc = gfail(g, ZL_ENOMEM, "tree");
        goto out;
    }
    for (size_t i = 0; i < n && rc == ZL_OK; i++)
        rc = apply_change(g, tb, &ch[i]);
    if (rc != ZL_OK)
        goto out;
    rc = ZL_EIO;
    if (git_treebuilder_write(&tid, tb) < 0 || git_tree_lookup(&tree, g->repo, &tid) < 0) {
        gfail(g, rc, "cache: cannot write the tree");
        goto out;
    }
    if (git_signature_now(&committer, "zonelet", g->committer_mail) < 0 ||
        git_signature_now(&author, g->author_name ? g->author_name : "zonelet",
                          g->author_mail ? g->author_mail : g->committer_mail) < 0) {
        gfail(g, ZL_EINVAL, "signature");
        rc = ZL_EINVAL;
        goto out;
    }
    /* A message ends with a newline in commits git makes. */
    size_t ml = strlen(message);
    char *msg = ml && message[ml - 1] == '\n' ? strdup(message) : malloc(ml + 2);
    if (!msg) {
        rc = ZL_ENOMEM;
        goto out;
    }
    if (!ml || message[ml - 1] != '\n')
        memcpy(msg, message, ml), msg[ml] = '\n', msg[ml + 1] = '\0';
    const git_commit *parents[1] = { pc };
    int e = git_commit_create(out, g->repo, NULL, author, committer, NULL, msg, tree,
                              pc ? 1 : 0, parents);
    free(msg);
    if (e < 0) {
        gfail(g, rc, "cache: cannot write the commit");
        goto out;
    }
    if (git_reference_create(&ref, g->repo, GS_PUSH_REF, out, 1, NULL) < 0) {
        gfail(g, rc, "cache: cannot write " GS_PUSH_REF);
        goto out;
    }
    rc = ZL_OK;
out:
    git_reference_free(ref);
    git_signature_free(author);
    git_signature_free(committer);
    git_tree_free(tree);
    git_treebuilder_free(tb);
    git_tree_free(pt);
    git_commit_free(pc);
    return rc;
}

typedef struct push_status {
    gs_t *g;
    const char *ref;
    int seen;
    char msg[200];
} push_status_t;

static int on_ref_status(const char *ref, const char *status, void *payload)
{
    push_status_t *ps = ((gs_t *)payload)->push;
    if (ps && strcmp(ref, ps->ref) == 0) {
        ps->seen = 1;
        snprintf(ps->msg, sizeof(ps->msg), "%s", status ? status : "");
    }
    return 0;
}

/* git receive-pack's answers when the branch is no longer at the old
 * value libgit2 sent (another push won the race since the advertisement;
 * "non-fast-forward" with receive.denyNonFastForwards). */
static int status_is_conflict(const char *msg)
{
    return strstr(msg, "non-fast-forward") || strstr(msg, "failed to update ref") ||
           strstr(msg, "failed to lock") || strstr(msg, "cannot lock ref") ||
           strstr(msg, "fetch first") || strstr(msg, "stale info");
}

static int push(gs_t *g, const char *parent, const git_oid *oid)
{
    git_remote_callbacks cb;
    git_remote *r = NULL;
    git_oid rhead, poid;
    char dst[300];
    push_status_t ps = { .g = g, .ref = dst };
    snprintf(dst, sizeof(dst), "refs/heads/%s", g->branch);
    callbacks(g, &cb);
    cb.sideband_progress = on_sideband;
    cb.push_update_reference = on_ref_status;
    int rc = connect_remote(g, &r, GIT_DIRECTION_PUSH, &cb);
    if (rc != ZL_OK)
        goto out;
    int has = remote_head(r, g->branch, &rhead);
    if (parent)
        git_oid_fromstr(&poid, parent);
    if (has != (parent != NULL) || (has && !git_oid_equal(&rhead, &poid))) {
        rc = fail(g, ZL_ECONFLICT, "remote %s: branch %s is at %s, not at the parent %s", g->url,
                  g->branch, has ? git_oid_tostr_s(&rhead) : "(none)", parent ? parent : "(none)");
        goto out;
    }
    int64_t t0 = gs_now_ms();
    char spec[400];
    snprintf(spec, sizeof(spec), GS_PUSH_REF ":%s", dst);
    char *specs[] = { spec };
    git_strarray sa = { specs, 1 };
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    po.callbacks = cb;
    po.pb_parallelism = 1;
    g->push = &ps;
    int e = git_remote_upload(r, &sa, &po);
    g->push = NULL;
    g->stats.transfer_ms = (double)(gs_now_ms() - t0);
    if (e == GIT_ENONFASTFORWARD) {
        rc = gfail(g, ZL_ECONFLICT, "push to %s", g->url);
    } else if (e < 0) {
        rc = net_fail(g, ZL_EIO, "cannot push to");
    } else if (!ps.seen) {
        rc = fail(g, ZL_EPROTO, "push to %s: no status for %s", g->url, dst);
    } else if (ps.msg[0]) {
        git_error_clear();
        rc = fail(g, status_is_conflict(ps.msg) ? ZL_ECONFLICT : ZL_EPROTO,
                  "push to %s: %s refused: %s", g->url, dst, ps.msg);
    } else {
        rc = set_tracking(g, oid, "zonelet: push");
        if (rc != ZL_OK) /* the remote has it: the next fetch repairs the cache */
            rc = ZL_OK;
    }
out:
    if (r)
        git_remote_disconnect(r);
    git_remote_free(r);
    return rc;
}

int gs_commit_push(gs_t *g, const char *parent, const gs_change_t *changes, size_t n,
                   const char *message, char new_id[GS_OID_HEX + 1])
{
    git_oid oid, p;
    new_id[0] = '\0';
    op_begin(g, 1);
    int rc = check_changes(g, changes, n);
    if (rc == ZL_OK && parent && parse_oid(&p, parent) != ZL_OK)
        rc = fail(g, ZL_EINVAL, "not a commit id: %.60s", parent);
    if (rc == ZL_OK && !g->branch[0])
        rc = set_branch(g, "main");
    if (rc == ZL_OK && !message)
        rc = fail(g, ZL_EINVAL, "no commit message");
    if (rc != ZL_OK)
        return op_end(g, rc);
    int64_t t0 = gs_now_ms();
    rc = make_commit(g, parent, changes, n, message, &oid);
    g->stats.build_ms = (double)(gs_now_ms() - t0);
    if (rc != ZL_OK)
        return op_end(g, rc);
    git_oid_tostr(new_id, GS_OID_HEX + 1, &oid);
    return op_end(g, push(g, parent, &oid));
}
