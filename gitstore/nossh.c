/* ssh:// in builds without libssh2 (the unikernel: its libgit2 is built
 * with USE_SSH=OFF and no libssh2 is compiled for it): gs_open refuses
 * such remotes with a clear message; the channel is never opened. The
 * hosted build links ssh.c instead. */
#include "gitstore/gs_int.h"

int gs_ssh_init(const char **why)
{
    *why = "ssh:// is not available in this build (no libssh2); use git:// or https://";
    return -1;
}

void gs_ssh_exit(void)
{
}

static int no_open(gs_chan_t **out, gs_t *g, const char *url, const char *service)
{
    (void)g;
    (void)url;
    (void)service;
    *out = NULL;
    return -1;
}

static int no_read(gs_chan_t *c, char *buf, size_t cap, size_t *n)
{
    (void)c;
    (void)buf;
    (void)cap;
    *n = 0;
    return -1;
}

static int no_write(gs_chan_t *c, const char *buf, size_t len)
{
    (void)c;
    (void)buf;
    (void)len;
    return -1;
}

static void no_close(gs_chan_t *c)
{
    (void)c;
}

const gs_chan_ops_t gs_chan_ssh = {
    .open = no_open,
    .read = no_read,
    .write = no_write,
    .close = no_close,
};
