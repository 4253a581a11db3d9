/* file:// remotes through `git upload-pack` / `git receive-pack` child
 * processes, as the git CLI does. libgit2's own local transport writes
 * the remote's refs directly: it runs no hooks and replaces the branch
 * without checking that it still holds the value it advertised, so a
 * concurrent `git push` could be overwritten. receive-pack runs the
 * hooks and updates the ref under its lock only if it still has the old
 * value. The child talks over a socket pair (send() with MSG_NOSIGNAL: a
 * dead child cannot raise SIGPIPE in the server) and its stderr is kept
 * for the error message. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gitstore/gs_int.h"

extern char **environ;

struct gs_chan {
    gs_t *g;
    pid_t pid;
    int fd;     /* our end of the child's stdin and stdout */
    int errfd;  /* the child's stderr */
    char what[32];
};

/* Variables that would point the child at another repository (the list
 * git itself clears before running a local transport's service). */
static int env_is_local_repo(const char *e)
{
    static const char *const vars[] = {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
        "GIT_SHALLOW_FILE", "GIT_COMMON_DIR", "GIT_NAMESPACE",
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        size_t n = strlen(vars[i]);
        if (strncmp(e, vars[i], n) == 0 && e[n] == '=')
            return 1;
    }
    return 0;
}

static char **child_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_is_local_repo(environ[i]))
            env[k++] = environ[i];
    return env;
}

/* Keeps the child for a later reap: receive-pack may still run a
 * post-receive hook after it reported, and the push need not wait. With
 * more children than slots running, the oldest is left unreaped (it
 * stays a zombie once it ends): the store thread never blocks on hooks. */
static void keep_child(gs_t *g, pid_t pid)
{
    if (waitpid(pid, NULL, WNOHANG) != 0)
        return;
    size_t cap = sizeof(g->kids) / sizeof(g->kids[0]);
    if (g->nkids == cap) {
        memmove(g->kids, g->kids + 1, (cap - 1) * sizeof(g->kids[0]));
        g->nkids--;
    }
    g->kids[g->nkids++] = pid;
}

void gs_local_reap(gs_t *g, unsigned wait_ms)
{
    int64_t end = gs_now_ms() + wait_ms;
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < g->nkids; i++)
            if (waitpid(g->kids[i], NULL, WNOHANG) == 0)
                g->kids[k++] = g->kids[i];
        g->nkids = k;
        if (!k || gs_now_ms() >= end)
            return;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
}

static int spawn(gs_chan_t *c, const char *sub, const char *path)
{
    int sv[2] = { -1, -1 }, ep[2] = { -1, -1 };
    char **env = NULL;
    posix_spawn_file_actions_t fa;
    int fa_ok = 0, rc = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        pipe2(ep, O_CLOEXEC) < 0 || !(env = child_env())) {
        git_error_set(GIT_ERROR_OS, "cannot start git %s: %s", sub, strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_ok = 1;
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    /* The server's sockets may lack close-on-exec; a long hook must not
     * keep its ports open (the rest are closed by O_CLOEXEC). */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    char *argv[] = { "git", (char *)sub, (char *)path, NULL };
    int e = posix_spawnp(&c->pid, "git", &fa, NULL, argv, env);
    if (e != 0) {
        git_error_set(GIT_ERROR_OS, "cannot run git %s: %s", sub, strerror(e));
        goto out;
    }
    c->fd = sv[0], sv[0] = -1;
    c->errfd = ep[0], ep[0] = -1;
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    fcntl(c->errfd, F_SETFL, fcntl(c->errfd, F_GETFL) | O_NONBLOCK);
    rc = 0;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    free(env);
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (ep[i] >= 0)
            close(ep[i]);
    }
    return rc;
}

static int local_open(gs_chan_t **out, gs_t *g, const char *url, const char *service)
{
    if (strncmp(url, "file://", 7) != 0 || url[7] != '/') {
        git_error_set(GIT_ERROR_NET, "not a file:/// URL: %s", url);
        return -1;
    }
    gs_chan_t *c = calloc(1, sizeof(*c));
    if (!c) {
        git_error_set_oom();
        return -1;
    }
    c->g = g;
    c->fd = c->errfd = -1;
    const char *sub = service + 4; /* "git-upload-pack" -> "upload-pack" */
    snprintf(c->what, sizeof(c->what), "git %s", sub);
    gs_local_reap(g, 0);
    if (spawn(c, sub, url + 7) < 0) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* What the child printed on stderr, once it closed its output: the
 * reason it stopped ("does not appear to be a git repository"). */
static void child_error(gs_chan_t *c)
{
    char buf[512];
    size_t n = 0;
    gs_deadline_t dl = { .end_ms = gs_now_ms() + 1000 };
    while (n + 1 < sizeof(buf)) {
        ssize_t r = read(c->errfd, buf + n, sizeof(buf) - 1 - n);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR) && gs_wait(&dl, c->errfd, POLLIN) == 0)
            continue;
        break;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    if (n)
        git_error_set(GIT_ERROR_NET, "%s: %s", c->what, buf);
    else
        git_error_set(GIT_ERROR_NET, "%s ended early", c->what);
}

static int local_read(gs_chan_t *c, char *buf, size_t cap, size_t *n)
{
    for (;;) {
        ssize_t r = recv(c->fd, buf, cap, 0);
        if (r > 0) {
            c->g->dl.bytes += (size_t)r;
            *n = (size_t)r;
            return 0;
        }
        if (r == 0) {
            child_error(c);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            git_error_set(GIT_ERROR_NET, "%s: %s", c->what, strerror(errno));
            return -1;
        }
        if (gs_wait(&c->g->dl, c->fd, POLLIN) < 0)
            return -1;
    }
}

static int local_write(gs_chan_t *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (r > 0) {
            c->g->dl.bytes += (size_t)r;
            buf += r, len -= (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (gs_wait(&c->g->dl, c->fd, POLLOUT) < 0)
                return -1;
            continue;
        }
        git_error_set(GIT_ERROR_NET, "%s: %s", c->what, strerror(errno));
        return -1;
    }
    return 0;
}

static void local_close(gs_chan_t *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->errfd >= 0)
        close(c->errfd);
    if (c->pid > 0) {
        /* A child that outlived the deadline is ours to stop: SIGTERM,
         * so git removes its lock files on the remote, as it does when a
         * network client goes away. */
        if (c->g->dl.timed_out)
            kill(c->pid, SIGTERM);
        keep_child(c->g, c->pid);
    }
    free(c);
}

const gs_chan_ops_t gs_chan_local = {
    .open = local_open,
    .read = local_read,
    .write = local_write,
    .close = local_close,
};
