/* The git store: options, the cache (a bare repository) opened or
 * created, the error messages every operation leaves. Reading the cache
 * is in gitstore/read.c, fetch, commit and push in gitstore/sync.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/err.h"
#include "gitstore/gs_int.h"

#define GS_TIMEOUT_DEFAULT 10000
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

/* Fails with rc: gs_fail() says what, gs_gfail() adds libgit2's reason. */
int gs_fail(gs_t *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(g, rc, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int gs_gfail(gs_t *g, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(g, rc, 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* A network step failed: a timeout if the deadline fired, else rc. */
int gs_net_fail(gs_t *g, int rc, const char *what)
{
    /* On a timeout libgit2's message is about what failed next (TLS
     * layers report their read error), not the cause. */
    if (g->dl.timed_out && g->dl.idle_ms)
        return gs_fail(g, ZL_ETIMEOUT, "%s %s: the remote sent nothing for %u ms", what, g->url,
                    g->dl.idle_ms);
    if (g->dl.timed_out)
        return gs_fail(g, ZL_ETIMEOUT, "%s %s: not finished within %u ms", what, g->url,
                    g->timeout_ms);
    return gs_gfail(g, rc, "%s %s", what, g->url);
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

void gs_op_begin(gs_t *g, int total)
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

int gs_op_end(gs_t *g, int rc)
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
int gs_branch_ok(const char *name)
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

int gs_set_branch(gs_t *g, const char *name)
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
    return rc < 0 ? gs_gfail(g, ZL_EIO, "cache: cannot record the branch") : ZL_OK;
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
        const char *why = NULL;
        if (gs_ssh_init(&why) != 0)
            return open_fail(err, errcap, ZL_EIO, "remote %s: %s", u, why);
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
    if (hash && !gs_branch_ok(hash + 1)) {
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
        gs_ssh_exit();
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
