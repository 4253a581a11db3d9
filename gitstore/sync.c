/* Fetch, commit and push. The cache keeps the branch's last good commit
 * in refs/remotes/origin/<branch>, written only after a complete fetch
 * or an accepted push, so a failure at any point leaves the previous one
 * readable. The commit being pushed sits in refs/zonelet/push (libgit2
 * pushes from a ref); nothing else reads that ref. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "gitstore/gs_int.h"

#define GS_PUSH_REF "refs/zonelet/push"

static int on_sideband(const char *str, int len, void *payload)
{
    gs_remote_note(payload, str, len > 0 ? (size_t)len : 0);
    return 0;
}

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
        return gs_gfail(g, ZL_EINVAL, "remote %s", g->url);
    if (git_remote_connect(*r, dir, cb, NULL, NULL) < 0)
        return gs_net_fail(g, ZL_EIO, "cannot reach");
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
        gs_branch_ok(b.ptr + 11))
        name = b.ptr + 11;
    else if (!remote_head(r, "main", &oid) && remote_head(r, "master", &oid))
        name = "master";
    int rc = gs_set_branch(g, name);
    git_buf_dispose(&b);
    return rc;
}

static int set_tracking(gs_t *g, const git_oid *oid, const char *why)
{
    char ref[300];
    git_reference *out = NULL;
    gs_tracking_ref(g, ref, sizeof(ref));
    int e = git_reference_create(&out, g->repo, ref, oid, 1, why);
    git_reference_free(out);
    return e < 0 ? gs_gfail(g, ZL_EIO, "cache: cannot update %s", ref) : ZL_OK;
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
        rc = gs_fail(g, ZL_ENOTFOUND, "remote %s has no branch %s", g->url, g->branch);
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
            rc = gs_net_fail(g, ZL_EIO, "cannot fetch from");
            goto out;
        }
        if (git_commit_lookup(&c, g->repo, &oid) < 0) {
            rc = gs_fail(g, ZL_EPROTO, "fetch from %s: head %s missing after the transfer",
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
    gs_op_begin(g, 0);
    return gs_op_end(g, fetch(g, head));
}

/* ---- commit and push --------------------------------------------------- */

static int check_changes(gs_t *g, const gs_change_t *ch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = ch[i].name;
        if (!s || !*s || *s == '.' || strchr(s, '/') || strlen(s) > 255)
            return gs_fail(g, ZL_EINVAL, "bad file name \"%.60s\"", s ? s : "(null)");
        for (size_t j = 0; j < i; j++)
            if (strcmp(ch[j].name, s) == 0)
                return gs_fail(g, ZL_EINVAL, "file %s changed twice in one commit", s);
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
            return gs_fail(g, ZL_EINVAL, "%s is not a regular file in the parent", ch->name);
    }
    if (!ch->data) {
        if (!old)
            return gs_fail(g, ZL_ENOTFOUND, "cannot delete %s: not in the parent", ch->name);
        return git_treebuilder_remove(tb, ch->name) < 0 ? gs_gfail(g, ZL_EIO, "delete %s", ch->name)
                                                         : ZL_OK;
    }
    git_oid blob;
    if (git_blob_create_from_buffer(&blob, g->repo, ch->data, ch->len) < 0)
        return gs_gfail(g, ZL_EIO, "cache: cannot write %s", ch->name);
    if (git_treebuilder_insert(NULL, tb, ch->name, &blob, mode) < 0)
        return gs_gfail(g, ZL_EINVAL, "cannot add %s", ch->name);
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
    int rc = parent ? gs_lookup_tree(g, parent, &pc, &pt) : ZL_OK;
    if (rc != ZL_OK)
        goto out;
    if (git_treebuilder_new(&tb, g->repo, pt) < 0) {
        rc = gs_gfail(g, ZL_ENOMEM, "tree");
        goto out;
    }
    for (size_t i = 0; i < n && rc == ZL_OK; i++)
        rc = apply_change(g, tb, &ch[i]);
    if (rc != ZL_OK)
        goto out;
    rc = ZL_EIO;
    if (git_treebuilder_write(&tid, tb) < 0 || git_tree_lookup(&tree, g->repo, &tid) < 0) {
        gs_gfail(g, rc, "cache: cannot write the tree");
        goto out;
    }
    if (git_signature_now(&committer, "zonelet", g->committer_mail) < 0 ||
        git_signature_now(&author, g->author_name ? g->author_name : "zonelet",
                          g->author_mail ? g->author_mail : g->committer_mail) < 0) {
        gs_gfail(g, ZL_EINVAL, "signature");
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
        gs_gfail(g, rc, "cache: cannot write the commit");
        goto out;
    }
    if (git_reference_create(&ref, g->repo, GS_PUSH_REF, out, 1, NULL) < 0) {
        gs_gfail(g, rc, "cache: cannot write " GS_PUSH_REF);
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
        rc = gs_fail(g, ZL_ECONFLICT, "remote %s: branch %s is at %s, not at the parent %s", g->url,
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
        rc = gs_gfail(g, ZL_ECONFLICT, "push to %s", g->url);
    } else if (e < 0) {
        rc = gs_net_fail(g, ZL_EIO, "cannot push to");
    } else if (!ps.seen) {
        rc = gs_fail(g, ZL_EPROTO, "push to %s: no status for %s", g->url, dst);
    } else if (ps.msg[0]) {
        git_error_clear();
        rc = gs_fail(g, status_is_conflict(ps.msg) ? ZL_ECONFLICT : ZL_EPROTO,
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
    gs_op_begin(g, 1);
    int rc = check_changes(g, changes, n);
    if (rc == ZL_OK && parent && gs_parse_oid(&p, parent) != ZL_OK)
        rc = gs_fail(g, ZL_EINVAL, "not a commit id: %.60s", parent);
    if (rc == ZL_OK && !g->branch[0])
        rc = gs_set_branch(g, "main");
    if (rc == ZL_OK && !message)
        rc = gs_fail(g, ZL_EINVAL, "no commit message");
    if (rc != ZL_OK)
        return gs_op_end(g, rc);
    int64_t t0 = gs_now_ms();
    rc = make_commit(g, parent, changes, n, message, &oid);
    g->stats.build_ms = (double)(gs_now_ms() - t0);
    if (rc != ZL_OK)
        return gs_op_end(g, rc);
    git_oid_tostr(new_id, GS_OID_HEX + 1, &oid);
    return gs_op_end(g, push(g, parent, &oid));
}
