/* Inside the git store: the gs_t, the deadline every network wait
 * obeys, and the transports (gitstore/net.c: TCP streams for git:// and
 * https://; gitstore/transport.c: the smart subtransport over a byte
 * channel, with channels for ssh:// (gitstore/ssh.c) and file://
 * (gitstore/local.c)). */
#ifndef ZL_GITSTORE_GS_INT_H
#define ZL_GITSTORE_GS_INT_H

#include <git2.h>
#include <git2/sys/transport.h>
#include <stdint.h>
#include <sys/types.h>

#include "gitstore/gitstore.h"

/* The bound of one operation. A wait ends at end_ms (0: no total
 * bound) and after idle_ms without progress (0: none), whichever is
 * first; timed_out records that one did. */
typedef struct gs_deadline {
    int64_t end_ms;
    unsigned idle_ms;
    int timed_out;
    size_t bytes; /* moved over the network during the operation */
} gs_deadline_t;

typedef enum { GS_FILE, GS_GIT, GS_SSH, GS_HTTPS } gs_scheme_t;

struct gs {
    git_repository *repo;
    char *url;          /* without "#BRANCH" */
    char *branch;       /* "" until decided */
    gs_scheme_t scheme;
    char *author_name, *author_mail;
    char *committer_mail;
    char *key_file, *pub_file, *known_hosts; /* ssh */
    int ssh_init;       /* libssh2_init() done, libssh2_exit() owed */
    unsigned timeout_ms;
    gs_deadline_t dl;   /* of the operation in progress */
    char err[1024];
    char remote_out[1024]; /* lines the remote printed, "; "-joined */
    char line[256];        /* the line being received */
    size_t linelen;
    gs_stats_t stats;
    struct push_status *push; /* ref status of the push in progress */
    pid_t kids[8];      /* file:// children not reaped yet */
    size_t nkids;
};

/* ---- gitstore.c: messages and the operation in progress ---- */

/* g->err = the formatted text, then what the remote printed; returns rc.
 * gs_gfail adds libgit2's last error message. */
int gs_fail(gs_t *g, int rc, const char *fmt, ...);
int gs_gfail(gs_t *g, int rc, const char *fmt, ...);
/* A network step failed: ZL_ETIMEOUT if the deadline fired, else rc,
 * with "what url: reason". */
int gs_net_fail(gs_t *g, int rc, const char *what);
/* Starts an operation: clears messages and statistics, sets the deadline
 * (total: a bound on the whole operation; else an idle bound) and binds
 * it to this thread for the network streams. gs_op_end unbinds, keeps
 * the statistics and returns rc. */
void gs_op_begin(gs_t *g, int total);
int gs_op_end(gs_t *g, int rc);
/* A branch name git accepts, at most 200 bytes (the ref buffers). */
int gs_branch_ok(const char *name);
/* Sets the branch and records it in the cache's configuration. */
int gs_set_branch(gs_t *g, const char *name);

/* ---- read.c ---- */

/* 40 hex digits -> oid: ZL_OK or ZL_EINVAL. */
int gs_parse_oid(git_oid *oid, const char *hex);
/* "refs/remotes/origin/<branch>": the cache's last good commit. */
void gs_tracking_ref(const gs_t *g, char *buf, size_t cap);
/* The commit and its tree (both owned by the caller) from the cache. */
int gs_lookup_tree(gs_t *g, const char *commit, git_commit **c, git_tree **t);

/* ---- net.c ---- */

/* Monotonic milliseconds. */
int64_t gs_now_ms(void);

/* Waits until fd is ready for events (POLLIN/POLLOUT) within dl (NULL:
 * forever). Returns 0, or -1 with a libgit2 error set (timeout: also
 * dl->timed_out). */
int gs_wait(gs_deadline_t *dl, int fd, short events);

/* TCP connection to host:port within dl, trying each address in turn.
 * Returns a connected non-blocking socket, or -1 with a libgit2 error. */
int gs_tcp_connect(gs_deadline_t *dl, const char *host, const char *port);

/* Registers the TCP stream libgit2 uses for git:// and https:// (its
 * TLS runs on top): every wait obeys the deadline bound to the calling
 * thread by gs_net_bind (none bound: waits without bound). */
int gs_net_register(void);
void gs_net_bind(gs_deadline_t *dl);

/* git_remote_callbacks.transport for ssh:// and file:// (payload: the
 * gs_t): a smart transport over a channel of the URL's scheme. */
int gs_transport_new(git_transport **out, git_remote *owner, void *payload);

/* A bidirectional byte channel to a git service ("git-upload-pack" or
 * "git-receive-pack") for a URL: the ssh and file:// transports. */
typedef struct gs_chan gs_chan_t;
typedef struct gs_chan_ops {
    int (*open)(gs_chan_t **out, gs_t *g, const char *url, const char *service);
    /* Reads at most cap bytes: *n = 0 at the end of the stream. */
    int (*read)(gs_chan_t *c, char *buf, size_t cap, size_t *n);
    int (*write)(gs_chan_t *c, const char *buf, size_t len);
    void (*close)(gs_chan_t *c);
} gs_chan_ops_t;
extern const gs_chan_ops_t gs_chan_ssh, gs_chan_local;

/* libssh2's global set-up for a gs_t with an ssh:// remote, and its
 * undoing (ssh.c; nossh.c in builds without libssh2, where ssh:// is
 * refused). gs_ssh_init returns 0, or -1 with a message in *why. */
int gs_ssh_init(const char **why);
void gs_ssh_exit(void);

/* Reaps the file:// children that have exited, waiting up to wait_ms
 * for the others. */
void gs_local_reap(gs_t *g, unsigned wait_ms);

/* Splits "scheme://[user@]host[:port]/path" (IPv6 hosts in brackets)
 * into owned strings; port "" when absent. Returns 0 or -1. */
int gs_url_split(const char *url, char **user, char **host, char **port,
                 char **path);

/* Appends one line the remote printed to g->remote_out. */
void gs_remote_note(gs_t *g, const char *msg, size_t len);

#endif
