/* libgit2: a repository in the in-memory file system, used the normal
 * on-disk way: init, a file in the work tree staged through the index,
 * a commit on HEAD, a second commit built from a blob and a tree builder,
 * then everything read back from the object database by path; then once
 * more after packing (two threads) and deleting every loose object; then
 * a clone over the file:// transport with a checked-out work tree. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "check.h"

#define OK(call)                                                             \
    do {                                                                     \
        int rc_ = (call);                                                    \
        if (rc_ < 0) {                                                       \
            const git_error *e_ = git_error_last();                          \
            printf("FAILURE: %s:%d: %s -> %d (%s)\n", __FILE__, __LINE__,    \
                   #call, rc_, e_ ? e_->message : "?");                      \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static const char zone1[] = "$ORIGIN example.test.\n@ 3600 IN SOA ns hostmaster 1 7200 3600 1209600 3600\n";
static const char zone2[] = "$ORIGIN example.test.\n@ 3600 IN SOA ns hostmaster 2 7200 3600 1209600 3600\n";

static void commit_from_index(git_repository *repo, git_signature *sig, git_oid *out)
{
    git_index *idx;
    git_oid tree_id;
    git_tree *tree;
    FILE *f = fopen("/repo/example.test", "w");

    CHECK(f && fputs(zone1, f) >= 0 && fclose(f) == 0);
    OK(git_repository_index(&idx, repo));
    OK(git_index_add_bypath(idx, "example.test"));
    OK(git_index_write(idx));
    OK(git_index_write_tree(&tree_id, idx));
    OK(git_tree_lookup(&tree, repo, &tree_id));
    OK(git_commit_create_v(out, repo, "HEAD", sig, sig, NULL, "first zone", tree, 0));
    git_tree_free(tree);
    git_index_free(idx);
}

static void commit_from_blob(git_repository *repo, git_signature *sig, const git_oid *parent_id,
                             git_oid *out)
{
    git_oid blob_id, tree_id;
    git_treebuilder *tb;
    git_tree *tree;
    git_commit *parent;

    OK(git_blob_create_from_buffer(&blob_id, repo, zone2, strlen(zone2)));
    OK(git_treebuilder_new(&tb, repo, NULL));
    OK(git_treebuilder_insert(NULL, tb, "example.test", &blob_id, GIT_FILEMODE_BLOB));
    OK(git_treebuilder_write(&tree_id, tb));
    OK(git_tree_lookup(&tree, repo, &tree_id));
    OK(git_commit_lookup(&parent, repo, parent_id));
    const git_commit *parents[] = {parent};
    OK(git_commit_create(out, repo, "HEAD", sig, sig, NULL, "serial 2", tree, 1, parents));
    git_commit_free(parent);
    git_tree_free(tree);
    git_treebuilder_free(tb);
}

static void read_back(git_repository *repo, const git_oid *c2, const git_oid *c1)
{
    git_reference *head;
    git_commit *commit;
    git_tree *tree;
    git_tree_entry *entry;
    git_blob *blob;

    OK(git_repository_head(&head, repo));
    CHECK(git_oid_equal(git_reference_target(head), c2));
    OK(git_commit_lookup(&commit, repo, c2));
    CHECK(!strcmp(git_commit_message(commit), "serial 2"));
    CHECK(git_commit_parentcount(commit) == 1 && git_oid_equal(git_commit_parent_id(commit, 0), c1));
    OK(git_commit_tree(&tree, commit));
    OK(git_tree_entry_bypath(&entry, tree, "example.test"));
    OK(git_blob_lookup(&blob, repo, git_tree_entry_id(entry)));
    CHECK(git_blob_rawsize(blob) == strlen(zone2));
    CHECK(!memcmp(git_blob_rawcontent(blob), zone2, strlen(zone2)));
    git_blob_free(blob);
    git_tree_entry_free(entry);
    git_tree_free(tree);
    git_commit_free(commit);
    git_reference_free(head);
}

/* Pack everything reachable from HEAD (delta search on two threads),
 * then delete the loose objects: the repository must now be read from
 * the pack and its index (file mmap and pread in the in-memory fs). */
static void pack_and_prune(git_repository *repo)
{
    git_packbuilder *pb;
    git_revwalk *walk;
    char dir[64], path[64 + 256];

    OK(git_packbuilder_new(&pb, repo));
    CHECK(git_packbuilder_set_threads(pb, 2) == 2);
    OK(git_revwalk_new(&walk, repo));
    OK(git_revwalk_push_head(walk));
    OK(git_packbuilder_insert_walk(pb, walk));
    OK(git_packbuilder_write(pb, NULL, 0, NULL, NULL));
    CHECK(git_packbuilder_object_count(pb) == 6); /* 2 commits, 2 trees, 2 blobs */
    git_revwalk_free(walk);
    git_packbuilder_free(pb);

    int removed = 0;
    for (int i = 0; i < 256; i++) {
        snprintf(dir, sizeof dir, "/repo/.git/objects/%02x", i);
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!d)
            continue;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            CHECK(unlink(path) == 0);
            removed++;
        }
        closedir(d);
        CHECK(rmdir(dir) == 0);
    }
    CHECK(removed == 6);
}

/* Clone the repository through libgit2's local transport (a fetch, with
 * its pack negotiation and indexer) and check out the work tree. */
static void clone_local(const git_oid *head)
{
    git_repository *c;
    git_reference *ref;
    char buf[256];
    FILE *f;

    OK(git_clone(&c, "file:///repo", "/clone", NULL));
    OK(git_repository_head(&ref, c));
    CHECK(git_oid_equal(git_reference_target(ref), head));
    git_reference_free(ref);
    git_repository_free(c);
    f = fopen("/clone/example.test", "r");
    CHECK(f != NULL);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n == strlen(zone2) && !memcmp(buf, zone2, n));
}

int main(void)
{
    git_repository *repo;
    git_signature *sig;
    git_oid c1, c2;
    struct stat st;
    char sha[GIT_OID_HEXSZ + 1];

    CHECK(git_libgit2_init() > 0);
    OK(git_repository_init(&repo, "/repo", 0));
    CHECK(stat("/repo/.git/HEAD", &st) == 0 && S_ISREG(st.st_mode));
    OK(git_signature_new(&sig, "zonelet", "zonelet@example.test", 1700000000, 0));
    commit_from_index(repo, sig, &c1);
    commit_from_blob(repo, sig, &c1, &c2);
    git_repository_free(repo);

    /* Open it again: everything came from the file system. */
    OK(git_repository_open(&repo, "/repo"));
    read_back(repo, &c2, &c1);
    pack_and_prune(repo);
    git_repository_free(repo);
    OK(git_repository_open(&repo, "/repo"));
    read_back(repo, &c2, &c1);
    clone_local(&c2);
    git_oid_tostr(sha, sizeof sha, &c2);
    printf("HEAD %s\n", sha);
    /* The same two commits made by git itself (commit-tree with these
     * names, dates and messages) have this id: the objects are
     * bit-for-bit what git writes. */
    CHECK(!strcmp(sha, "4dfd4629ee6538fede79581d322849be7d6b0738"));
    git_repository_free(repo);
    git_signature_free(sig);
    git_libgit2_shutdown();
    printf("SUCCESS\n");
    return 0;
}
