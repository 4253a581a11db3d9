/* The git store: zones kept in a branch of a git remote, through libgit2.
 *
 * A gs_t is one remote branch and its local cache (a bare repository in
 * a directory, kept across restarts). It reads commits from the cache,
 * fetches the branch, and makes one commit on top of a given parent and
 * pushes it. It knows nothing of DNS: files are names and bytes; the
 * caller (the change path's writer) parses, validates and decides.
 *
 * Threads: one gs_t is used by one thread at a time (the writer's store
 * thread). Every network wait is bounded (see gs_opts_t); no call blocks
 * on the remote longer than its timeout. Several gs_t may exist, but two
 * settings are process-wide: the CA file of https remotes (libgit2's TLS
 * setting), and the TCP stream gs_open registers with libgit2 for
 * git:// and https:// (it bounds waits only inside gs_* calls).
 *
 * Remote URLs:
 *   file:///path/repo.git   runs `git upload-pack` / `git receive-pack`
 *                           (the git CLI must be installed), so the
 *                           remote's hooks run and its ref update is
 *                           checked against the old value, as for the
 *                           network transports (hosted only)
 *   git://host[:port]/path  git daemon (with --enable=receive-pack)
 *   ssh://[user@]host[:port]/path   user defaults to "git"; needs
 *                           key_file and known_hosts (libssh2)
 *   https://host[:port]/path        smart HTTP; ca_file optional; no
 *                           HTTP authentication
 * Any of them may end in "#BRANCH". url.*.insteadOf settings of the
 * user's git configuration are not applied: the URL is used as given.
 *
 * Errors are ZL_* values (dns/err.h). Functions that talk to the remote
 * or the cache leave a one-line explanation in gs_error(g), including
 * what the remote said (hook output, ref status), for the log. */
#ifndef ZL_GITSTORE_GITSTORE_H
#define ZL_GITSTORE_GITSTORE_H

#include <stddef.h>
#include <stdint.h>

#define GS_OID_HEX 40 /* a SHA-1 object id in hex, without the NUL */

typedef struct gs gs_t;

typedef struct gs_opts {
    /* Remote URL, optionally with "#BRANCH" (required, borrowed). */
    const char *url;
    /* Directory of the local cache, a bare repository: created (with its
     * parents) if absent, reopened if present (required, borrowed). */
    const char *cache_dir;
    /* Author of the commits made here, "Name <mail>" (NULL: the
     * committer). The committer is always "zonelet <zonelet@HOST>", HOST
     * being gethostname() ("localhost" if that fails). */
    const char *author;
    /* ssh:// only, both required: the private key file (its ".pub"
     * beside it is used when present) and an OpenSSH known_hosts file.
     * The server's host key must be listed there for [host]:port (or
     * host on port 22): an unknown or changed key is refused. */
    const char *key_file;
    const char *known_hosts;
    /* https:// only: a PEM file of CA certificates trusted instead of
     * the system's (process-wide, see above). NULL: the system's. */
    const char *ca_file;
    /* Milliseconds (0: 10000). A whole gs_commit_push, connection
     * included, ends within this bound. A gs_fetch ends when the remote
     * has sent nothing for this long (a first clone of a large
     * repository may take longer in total while data keeps coming). */
    unsigned timeout_ms;
} gs_opts_t;

/* Opens the cache for opts->url and its branch; no network traffic.
 * Creates the cache directory as an empty bare repository when absent.
 * One process at a time uses a cache: lock files found in it are left
 * by a store that was killed mid-write, and are removed.
 * The branch is the URL's "#BRANCH", else the one a previous gs_fetch
 * chose and recorded in the cache, else decided by the first gs_fetch
 * (the remote's HEAD branch, else main, else master).
 * Returns ZL_OK with *out owned by the caller (gs_close), or
 * ZL_EINVAL (bad URL or scheme, missing ssh key or known_hosts, bad
 * author), ZL_EIO (cache unusable: not a repository, not writable; a key,
 * known_hosts or CA file unreadable), ZL_ENOMEM; then *out is NULL and
 * err (if errcap > 0) holds a NUL-terminated explanation. */
int gs_open(const gs_opts_t *opts, gs_t **out, char *err, size_t errcap);

/* Frees g and what it holds (NULL is fine). Never touches the remote. */
void gs_close(gs_t *g);

/* The branch in use ("" until the first gs_fetch decided it, when the
 * URL named none and the cache had none recorded). Owned by g. */
const char *gs_branch(const gs_t *g);

/* Explanation of the last failed call on g ("" after a success): one
 * line, with the remote's messages when there were any. Owned by g,
 * valid until the next call on g. */
const char *gs_error(const gs_t *g);

/* What the remote printed during the last push (the lines hooks wrote,
 * joined by "; ", progress meters left out), success or not; "" if
 * nothing. Owned by g, valid until the next call on g. */
const char *gs_remote_output(const gs_t *g);

/* Fetches the branch into the cache and records its head there as the
 * cache's last good commit. head (GS_OID_HEX + 1 bytes) gets the remote's
 * head id. Returns ZL_OK; ZL_ENOTFOUND when the remote has no such branch
 * (an empty repository: head is "", the cache keeps what it had and the
 * first gs_commit_push with parent NULL creates the branch);
 * ZL_ETIMEOUT (the remote stayed silent for the timeout); ZL_EIO
 * (unreachable, refused, TLS or host key failure, cache write failure);
 * ZL_EPROTO (the remote broke the protocol or sent an incomplete
 * history). On any error the cache's last
 * good commit (gs_head) is unchanged and still readable. */
int gs_fetch(gs_t *g, char head[GS_OID_HEX + 1]);

/* The cache's last good commit of the branch (last fetched or pushed):
 * no network. ZL_OK, or ZL_ENOTFOUND (nothing fetched yet). */
int gs_head(gs_t *g, char head[GS_OID_HEX + 1]);

/* One top-level entry of a commit's tree. */
typedef struct gs_entry {
    char *name;                    /* file name, NUL-terminated */
    char blob[GS_OID_HEX + 1];     /* blob id ("" for ignored entries) */
    const char *ignored;           /* NULL for a file, else why it is
                                      ignored: "sub-folder", "dotfile",
                                      "symlink", "submodule" (static) */
} gs_entry_t;

typedef struct gs_tree {
    char commit[GS_OID_HEX + 1];
    gs_entry_t *entries;          /* in git's tree order (by name) */
    size_t n;
} gs_tree_t;

/* Lists the top level of commit's tree from the cache (no network):
 * regular files (blobs, executable or not, whose name does not start
 * with '.') with their blob ids, and the entries ignored, each with its
 * reason, for the caller to log. Returns ZL_OK with *out owned by the
 * caller (gs_tree_free), ZL_EINVAL (commit is not 40 hex digits),
 * ZL_ENOTFOUND (no such commit in the cache), ZL_EIO, ZL_ENOMEM. */
int gs_tree_read(gs_t *g, const char *commit, gs_tree_t **out);
void gs_tree_free(gs_tree_t *t);

/* Reads a blob from the cache: *data (malloc'd, owned by the caller,
 * free()) gets its *len bytes plus a NUL after them (not counted).
 * Returns ZL_OK, ZL_EINVAL, ZL_ENOTFOUND, ZL_ENOMEM. */
int gs_blob_read(gs_t *g, const char *blob, uint8_t **data, size_t *len);

/* One file of a commit: new content, or deletion. */
typedef struct gs_change {
    const char *name;     /* top-level file name: not empty, no '/', not
                             starting with '.', no NUL (borrowed) */
    const uint8_t *data;  /* the new content (borrowed), or NULL: delete */
    size_t len;
} gs_change_t;

/* Makes one commit on top of parent (the branch's head as the caller
 * knows it; NULL to create the branch) applying changes[0..n) (several
 * files in one commit: group commit), with message (borrowed), the
 * author of gs_opts_t and committer zonelet, and pushes it to the
 * branch. Sub-folders and files not named in changes stay as they are;
 * a changed file keeps its mode (executable or not), a new one is
 * 100644. A newline is added to a message that lacks one.
 * new_id (GS_OID_HEX + 1) gets the commit id as soon as the commit
 * exists, whatever happens to the push.
 * Returns ZL_OK only when the remote accepted the update of the branch
 * (its status for that ref, not just the transfer); then the cache's
 * last good commit is new_id. Otherwise the cache's last good commit is
 * unchanged (the commit stays in the cache as an unreferenced object,
 * harmless) and:
 *   ZL_ECONFLICT  the remote's branch is not at parent (it moved on, or
 *                 another push won the race): gs_fetch, re-apply, retry;
 *   ZL_EPROTO     the remote refused the update (a hook, a protected
 *                 branch) or reported no status for it: gs_error has
 *                 its message;
 *   ZL_ETIMEOUT   not finished within the timeout;
 *   ZL_EIO        unreachable, connection or authentication failure;
 *   ZL_EINVAL     bad name, duplicate name, parent not a commit id, a
 *                 change names a sub-folder or symlink of the parent;
 *   ZL_ENOTFOUND  parent not in the cache, or deleting a file absent
 *                 from it; nothing was sent;
 *   ZL_ENOMEM.
 * After ZL_ETIMEOUT or ZL_EIO once the pack was sent, the remote may
 * have taken the commit anyway: the next gs_fetch tells (head == new_id). */
int gs_commit_push(gs_t *g, const char *parent, const gs_change_t *changes,
                   size_t n, const char *message, char new_id[GS_OID_HEX + 1]);

/* Where the time of the last gs_commit_push or gs_fetch went (ms), for
 * log lines and benchmarks. */
typedef struct gs_stats {
    double build_ms;   /* blobs hashed and written, tree, commit */
    double connect_ms; /* connection up to the remote's ref list */
    double transfer_ms;/* pack built and sent (push) or received (fetch),
                          up to the remote's answer */
    size_t bytes;      /* bytes sent and received over the connection */
} gs_stats_t;
const gs_stats_t *gs_stats(const gs_t *g);

#endif
