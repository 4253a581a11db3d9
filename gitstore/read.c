/* Reading the cache: the last good commit, a commit's top-level files
 * and ignored entries, blobs. No network. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/err.h"
#include "gitstore/gs_int.h"

int gs_parse_oid(git_oid *oid, const char *hex)
{
    if (!hex || strlen(hex) != GS_OID_HEX)
        return ZL_EINVAL;
    for (const char *p = hex; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return ZL_EINVAL;
    return git_oid_fromstr(oid, hex) < 0 ? ZL_EINVAL : ZL_OK;
}

void gs_tracking_ref(const gs_t *g, char *buf, size_t cap)
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
        return gs_fail(g, ZL_ENOTFOUND, "cache: no branch fetched yet");
    gs_tracking_ref(g, ref, sizeof(ref));
    if (git_reference_name_to_id(&oid, g->repo, ref) < 0)
        return gs_fail(g, ZL_ENOTFOUND, "cache: no commit of branch %s", g->branch);
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

int gs_lookup_tree(gs_t *g, const char *commit, git_commit **c, git_tree **t)
{
    git_oid oid;
    int rc = gs_parse_oid(&oid, commit);
    if (rc != ZL_OK)
        return gs_fail(g, rc, "not a commit id: %.60s", commit ? commit : "(null)");
    int e = git_commit_lookup(c, g->repo, &oid);
    if (e == GIT_ENOTFOUND)
        return gs_fail(g, ZL_ENOTFOUND, "commit %s not in the cache", commit);
    if (e < 0 || git_commit_tree(t, *c) < 0) {
        git_commit_free(*c);
        *c = NULL;
        return gs_gfail(g, e == GIT_ENOTFOUND ? ZL_ENOTFOUND : ZL_EIO, "commit %s", commit);
    }
    return ZL_OK;
}

int gs_tree_read(gs_t *g, const char *commit, gs_tree_t **out)
{
    git_commit *c = NULL;
    git_tree *t = NULL;
    *out = NULL;
    g->err[0] = '\0';
    int rc = gs_lookup_tree(g, commit, &c, &t);
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
    int rc = gs_parse_oid(&oid, blob);
    if (rc != ZL_OK)
        return gs_fail(g, rc, "not a blob id: %.60s", blob ? blob : "(null)");
    if (git_blob_lookup(&b, g->repo, &oid) < 0)
        return gs_fail(g, ZL_ENOTFOUND, "blob %s not in the cache", blob);
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
