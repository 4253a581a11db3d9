/* A libgit2 smart subtransport (stateful, like git://) over a byte
 * channel: the store's ssh:// and file:// transports. libgit2 asks for the
 * ref advertisement first (..._LS) and then for the same stream again to
 * negotiate, so one channel serves both steps. */
#include <stdlib.h>
#include <string.h>

#include "gitstore/gs_int.h"

typedef struct chan_sub chan_sub_t;

typedef struct chan_stream {
    git_smart_subtransport_stream parent;
    chan_sub_t *sub;
    gs_chan_t *c;
} chan_stream_t;

struct chan_sub {
    git_smart_subtransport parent;
    gs_t *g;
    const gs_chan_ops_t *ops;
    chan_stream_t *current;
};

static int stream_read(git_smart_subtransport_stream *s, char *buf, size_t cap, size_t *n)
{
    chan_stream_t *cs = (chan_stream_t *)s;
    return cs->sub->ops->read(cs->c, buf, cap, n);
}

static int stream_write(git_smart_subtransport_stream *s, const char *buf, size_t len)
{
    chan_stream_t *cs = (chan_stream_t *)s;
    return cs->sub->ops->write(cs->c, buf, len);
}

static void stream_free(git_smart_subtransport_stream *s)
{
    chan_stream_t *cs = (chan_stream_t *)s;
    if (!cs)
        return;
    cs->sub->ops->close(cs->c);
    if (cs->sub->current == cs)
        cs->sub->current = NULL;
    free(cs);
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *st,
                      const char *url, git_smart_service_t action)
{
    chan_sub_t *sub = (chan_sub_t *)st;
    const char *service;
    *out = NULL;
    switch (action) {
    case GIT_SERVICE_UPLOADPACK_LS:
        service = "git-upload-pack";
        break;
    case GIT_SERVICE_RECEIVEPACK_LS:
        service = "git-receive-pack";
        break;
    case GIT_SERVICE_UPLOADPACK:
    case GIT_SERVICE_RECEIVEPACK:
        if (!sub->current) {
            git_error_set(GIT_ERROR_NET, "no connection to negotiate on");
            return -1;
        }
        *out = &sub->current->parent;
        return 0;
    default:
        git_error_set(GIT_ERROR_NET, "unknown git service");
        return -1;
    }
    chan_stream_t *cs = calloc(1, sizeof(*cs));
    if (!cs) {
        git_error_set_oom();
        return -1;
    }
    if (sub->ops->open(&cs->c, sub->g, url, service) < 0) {
        free(cs);
        return -1;
    }
    cs->sub = sub;
    cs->parent.subtransport = st;
    cs->parent.read = stream_read;
    cs->parent.write = stream_write;
    cs->parent.free = stream_free;
    sub->current = cs;
    *out = &cs->parent;
    return 0;
}

static int sub_close(git_smart_subtransport *st)
{
    (void)st;
    return 0;
}

static void sub_free(git_smart_subtransport *st)
{
    chan_sub_t *sub = (chan_sub_t *)st;
    if (sub->current)
        stream_free(&sub->current->parent);
    free(sub);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
    gs_t *g = param;
    (void)owner;
    chan_sub_t *sub = calloc(1, sizeof(*sub));
    if (!sub) {
        git_error_set_oom();
        return -1;
    }
    sub->g = g;
    sub->ops = g->scheme == GS_SSH ? &gs_chan_ssh : &gs_chan_local;
    sub->parent.action = sub_action;
    sub->parent.close = sub_close;
    sub->parent.free = sub_free;
    *out = &sub->parent;
    return 0;
}

int gs_transport_new(git_transport **out, git_remote *owner, void *payload)
{
    git_smart_subtransport_definition def = {
        .callback = sub_new,
        .rpc = 0,
        .param = payload,
    };
    return git_transport_smart(out, owner, &def);
}
