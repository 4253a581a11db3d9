/* ssh:// remotes over libssh2, in place of libgit2's ssh transport:
 * libgit2 1.5 runs libssh2 in blocking mode with no timeout (a silent
 * server holds it forever) and leaves host key checking to a callback.
 * Here libssh2 is non-blocking and every wait polls with the operation's
 * deadline; the host key must be in the known_hosts file. */
#include <libssh2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "gitstore/gs_int.h"

struct gs_chan {
    gs_t *g;
    int fd;
    LIBSSH2_SESSION *s;
    LIBSSH2_CHANNEL *ch;
    char *host;
};

/* Waits for the direction libssh2 is blocked on. */
static int ssh_wait(gs_chan_t *c, gs_deadline_t *dl)
{
    int dirs = libssh2_session_block_directions(c->s);
    short ev = 0;
    if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
        ev |= POLLIN;
    if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        ev |= POLLOUT;
    return gs_wait(dl, c->fd, ev ? ev : POLLIN);
}

static int ssh_fail(gs_chan_t *c, const char *what)
{
    if (c->g->dl.timed_out)
        return -1; /* gs_wait said why */
    char *msg = NULL;
    libssh2_session_last_error(c->s, &msg, NULL, 0);
    git_error_set(GIT_ERROR_SSH, "ssh %s: %s: %s", c->host, what, msg ? msg : "failed");
    return -1;
}

/* Runs CALL until it stops asking to wait; rc gets its result. */
#define SSH_RETRY(c, rc, call)                                              \
    while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN && ssh_wait((c), &(c)->g->dl) == 0) \
        ;

static int hostkey_bit(int type)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

/* The server's key must be listed for [host]:port, or for host (libssh2
 * looks up both; OpenSSH writes the first form for ports other than 22). */
static int check_hostkey(gs_chan_t *c, int port)
{
    size_t len = 0;
    int type = 0;
    const char *key = libssh2_session_hostkey(c->s, &len, &type);
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(c->s);
    if (!key || !kh) {
        git_error_set(GIT_ERROR_SSH, "ssh %s: no host key", c->host);
        return -1;
    }
    int rc = -1;
    if (libssh2_knownhost_readfile(kh, c->g->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
        ssh_fail(c, "cannot read the known_hosts file");
        goto out;
    }
    struct libssh2_knownhost *entry = NULL;
    int m = libssh2_knownhost_checkp(kh, c->host, port, key, len,
                                     LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                         LIBSSH2_KNOWNHOST_KEYENC_RAW | hostkey_bit(type),
                                     &entry);
    switch (m) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
        rc = 0;
        break;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
        git_error_set(GIT_ERROR_SSH, "ssh %s: host key differs from the one in %s: refused",
                      c->host, c->g->known_hosts);
        break;
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
        git_error_set(GIT_ERROR_SSH, "ssh %s port %d: host key not in %s: refused", c->host,
                      port, c->g->known_hosts);
        break;
    default:
        ssh_fail(c, "host key check");
    }
out:
    libssh2_knownhost_free(kh);
    return rc;
}

/* "git-upload-pack '/path'" with the path quoted for the remote shell;
 * "/~user/x" is "~user/x" there, as git and libgit2 write it. */
static char *service_cmd(const char *service, const char *path)
{
    if (path[0] == '/' && path[1] == '~')
        path++;
    size_t n = strlen(service) + 4 + 4 * strlen(path);
    char *cmd = malloc(n);
    if (!cmd)
        return NULL;
    char *p = cmd + sprintf(cmd, "%s '", service);
    for (; *path; path++) {
        if (*path == '\'')
            p += sprintf(p, "'\\''");
        else
            *p++ = *path;
    }
    *p++ = '\'';
    *p = '\0';
    return cmd;
}

static void ssh_close(gs_chan_t *c);

static int ssh_session(gs_chan_t *c, const char *user, const char *port, const char *path,
                       const char *service)
{
    int rc;
    c->s = libssh2_session_init();
    if (!c->s) {
        git_error_set_oom();
        return -1;
    }
    libssh2_session_set_blocking(c->s, 0);
    SSH_RETRY(c, rc, libssh2_session_handshake(c->s, c->fd));
    if (rc)
        return ssh_fail(c, "handshake");
    if (check_hostkey(c, atoi(port)) < 0)
        return -1;
    SSH_RETRY(c, rc, libssh2_userauth_publickey_fromfile_ex(c->s, user, (unsigned)strlen(user),
                                                            c->g->pub_file, c->g->key_file, NULL));
    if (rc) {
        char what[300];
        snprintf(what, sizeof(what), "key %s refused for user %s", c->g->key_file, user);
        return ssh_fail(c, what);
    }
    do {
        c->ch = libssh2_channel_open_session(c->s);
    } while (!c->ch && libssh2_session_last_errno(c->s) == LIBSSH2_ERROR_EAGAIN &&
             ssh_wait(c, &c->g->dl) == 0);
    if (!c->ch)
        return ssh_fail(c, "channel");
    char *cmd = service_cmd(service, path);
    if (!cmd) {
        git_error_set_oom();
        return -1;
    }
    SSH_RETRY(c, rc, libssh2_channel_exec(c->ch, cmd));
    free(cmd);
    if (rc)
        return ssh_fail(c, service);
    return 0;
}

static int ssh_open(gs_chan_t **out, gs_t *g, const char *url, const char *service)
{
    char *user = NULL, *host = NULL, *port = NULL, *path = NULL;
    if (gs_url_split(url, &user, &host, &port, &path) < 0) {
        git_error_set(GIT_ERROR_NET, "bad ssh URL: %s", url);
        return -1;
    }
    gs_chan_t *c = calloc(1, sizeof(*c));
    int rc = -1;
    if (!c) {
        git_error_set_oom();
        goto out;
    }
    c->g = g;
    c->fd = -1;
    c->host = host, host = NULL;
    const char *p = *port ? port : "22";
    c->fd = gs_tcp_connect(&g->dl, c->host, p);
    if (c->fd < 0)
        goto out;
    rc = ssh_session(c, *user ? user : "git", p, path, service);
out:
    if (rc < 0)
        ssh_close(c);
    else
        *out = c;
    free(user), free(host), free(port), free(path);
    return rc;
}

/* The end of the output: what the server printed on stderr says why. */
static int ssh_eof(gs_chan_t *c)
{
    char buf[512];
    ssize_t n;
    size_t k = 0;
    while (k + 1 < sizeof(buf) &&
           (n = libssh2_channel_read_stderr(c->ch, buf + k, sizeof(buf) - 1 - k)) > 0)
        k += (size_t)n;
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
        k--;
    buf[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    git_error_set(GIT_ERROR_SSH, "ssh %s: %s", c->host, k ? buf : "the server closed the channel");
    return -1;
}

static int ssh_read(gs_chan_t *c, char *buf, size_t cap, size_t *n)
{
    for (;;) {
        ssize_t r = libssh2_channel_read(c->ch, buf, cap);
        if (r > 0) {
            c->g->dl.bytes += (size_t)r;
            *n = (size_t)r;
            return 0;
        }
        if (r == LIBSSH2_ERROR_EAGAIN) {
            if (ssh_wait(c, &c->g->dl) < 0)
                return -1;
            continue;
        }
        if (r == 0) /* the server closed its output */
            return ssh_eof(c);
        return ssh_fail(c, "read");
    }
}

static int ssh_write(gs_chan_t *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t r = libssh2_channel_write(c->ch, buf, len);
        if (r > 0) {
            c->g->dl.bytes += (size_t)r;
            buf += r, len -= (size_t)r;
        } else if (r == LIBSSH2_ERROR_EAGAIN || r == 0) {
            if (ssh_wait(c, &c->g->dl) < 0)
                return -1;
        } else {
            return ssh_fail(c, "write");
        }
    }
    return 0;
}

/* No orderly channel close: the server closes its side only when the
 * service (and receive-pack's post-receive hook) has finished, and the
 * push need not wait for that. The connection is shut down first, so
 * libssh2 frees the session without waiting for anything. */
static void ssh_close(gs_chan_t *c)
{
    if (!c)
        return;
    if (c->s) {
        if (c->fd >= 0)
            shutdown(c->fd, SHUT_RDWR);
        for (int i = 0; i < 100 && libssh2_session_free(c->s) == LIBSSH2_ERROR_EAGAIN; i++)
            ;
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c->host);
    free(c);
}

const gs_chan_ops_t gs_chan_ssh = {
    .open = ssh_open,
    .read = ssh_read,
    .write = ssh_write,
    .close = ssh_close,
};

int gs_ssh_init(const char **why)
{
    if (libssh2_init(0) != 0) {
        *why = "libssh2 initialisation failed";
        return -1;
    }
    return 0;
}

void gs_ssh_exit(void)
{
    libssh2_exit();
}
