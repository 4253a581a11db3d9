/* The git store against local bare repositories over file:// (git
 * upload-pack / receive-pack run by the store), checked with the git CLI:
 * clone into a cache, reopen offline, list and read, commit and push
 * (author, committer, message, content, fsck), conflicts and retry, group
 * commits with additions and deletions, hooks that refuse, bad input,
 * empty remotes and default branches, and remotes that never answer
 * (git://, https://, ssh:// listeners that accept and stay silent). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "gitstore/gitstore.h"

static char tmp[256];   /* this test's directory */
static char remote[300], cache[300], url[320];
static char outbuf[8192];

/* Runs a shell command in tmp; returns its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", tmp);
    vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A command's stdout, trailing newlines removed. */
static const char *out(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", tmp);
    vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    size_t len = p ? fread(outbuf, 1, sizeof(outbuf) - 1, p) : 0;
    if (p)
        pclose(p);
    while (len && outbuf[len - 1] == '\n')
        len--;
    outbuf[len] = '\0';
    return outbuf;
}

/* A remote with one commit: two zone files, a sub-folder, a dotfile, a
 * symlink and an executable file. */
static int setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof(tmp), "%s/zl-gs.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(remote, sizeof(remote), "%s/remote.git", tmp);
    snprintf(cache, sizeof(cache), "%s/cache", tmp);
    snprintf(url, sizeof(url), "file://%s", remote);
    setenv("GIT_AUTHOR_NAME", "Olivia Operator", 1);
    setenv("GIT_AUTHOR_EMAIL", "olivia@example.org", 1);
    setenv("GIT_COMMITTER_NAME", "Olivia Operator", 1);
    setenv("GIT_COMMITTER_EMAIL", "olivia@example.org", 1);
    return sh("git init -q --bare -b main remote.git && git clone -q remote.git work 2>/dev/null"
              " && cd work && printf '$ORIGIN a.test.\\n@ SOA ns hm 1 2 3 4 5\\n' >a.test"
              " && printf 'b\\n' >b.test && mkdir sub && echo x >sub/c.test"
              " && echo h >.hidden && ln -s a.test link && echo e >exec.test"
              " && chmod +x exec.test && git add -A && git commit -qm init"
              " && git push -q origin main") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sh("cd / && rm -rf '%s'", tmp) == 0 ? 0 : -1;
}

static gs_t *open_url(const char *u, const char *dir)
{
    gs_opts_t o = { .url = u, .cache_dir = dir, .author = "Ann Author <ann@example.org>",
                    .timeout_ms = 5000 };
    char err[256];
    gs_t *g = NULL;
    int rc = gs_open(&o, &g, err, sizeof(err));
    if (rc != ZL_OK)
        print_message("gs_open: %s\n", err);
    assert_int_equal(rc, ZL_OK);
    return g;
}

static gs_t *open_fetched(char head[GS_OID_HEX + 1])
{
    gs_t *g = open_url(url, cache);
    int rc = gs_fetch(g, head);
    if (rc != ZL_OK)
        print_message("gs_fetch: %s\n", gs_error(g));
    assert_int_equal(rc, ZL_OK);
    return g;
}

/* Pushes a commit changing name with the git CLI, as an operator would. */
static void operator_push(const char *name, const char *text)
{
    assert_int_equal(sh("cd work && git pull -q --rebase origin main && printf '%s' >%s"
                        " && git add -A && git commit -qm 'operator: %s' && git push -q origin main",
                        text, name, name), 0);
}

static const gs_entry_t *entry(const gs_tree_t *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->entries[i].name, name) == 0)
            return &t->entries[i];
    return NULL;
}

static void assert_file(gs_t *g, const char *commit, const char *name, const char *text)
{
    gs_tree_t *t;
    assert_int_equal(gs_tree_read(g, commit, &t), ZL_OK);
    const gs_entry_t *e = entry(t, name);
    assert_non_null(e);
    assert_null(e->ignored);
    uint8_t *d;
    size_t n;
    assert_int_equal(gs_blob_read(g, e->blob, &d, &n), ZL_OK);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(d, text, n);
    assert_int_equal(d[n], 0);
    free(d);
    gs_tree_free(t);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256];
    gs_t *g = (gs_t *)1;
    gs_opts_t o = { .url = "http://127.0.0.1/x.git", .cache_dir = cache };
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    assert_null(g);
    assert_non_null(strstr(err, "http://127.0.0.1/x.git"));
    o.url = "ssh://git@127.0.0.1/x.git";
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    assert_non_null(strstr(err, "known_hosts"));
    o.url = "git://127.0.0.1/x.git#";
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    o.url = "git://127.0.0.1:port/x.git";
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    o.url = "git://127.0.0.1/x.git#bad..name";
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    o.url = url;
    o.author = "no mail";
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EINVAL);
    o.author = NULL;
    /* A directory with other things in it is not taken as a cache. */
    o.cache_dir = remote;
    assert_int_equal(sh("mkdir other && echo x >other/f"), 0);
    char other[300];
    snprintf(other, sizeof(other), "%s/other", tmp);
    o.cache_dir = other;
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_EIO);
    assert_non_null(strstr(err, "not a git repository"));
    assert_null(g);
}

static void test_clone_list_read(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], cached[GS_OID_HEX + 1];
    gs_t *g = open_url(url, cache);
    assert_string_equal(gs_branch(g), ""); /* decided by the first fetch */
    assert_int_equal(gs_head(g, cached), ZL_ENOTFOUND);
    assert_int_equal(gs_fetch(g, head), ZL_OK);
    assert_string_equal(gs_branch(g), "main");
    assert_string_equal(head, out("git -C remote.git rev-parse main"));
    assert_int_equal(gs_head(g, cached), ZL_OK);
    assert_string_equal(cached, head);
    gs_tree_t *t;
    assert_int_equal(gs_tree_read(g, head, &t), ZL_OK);
    assert_string_equal(t->commit, head);
    assert_int_equal(t->n, 6);
    struct { const char *name, *why; } want[] = {
        { ".hidden", "dotfile" }, { "a.test", NULL }, { "b.test", NULL },
        { "exec.test", NULL }, { "link", "symlink" }, { "sub", "sub-folder" },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const gs_entry_t *e = entry(t, want[i].name);
        assert_non_null(e);
        if (want[i].why) {
            assert_non_null(e->ignored);
            assert_string_equal(e->ignored, want[i].why);
            assert_string_equal(e->blob, "");
        } else {
            assert_null(e->ignored);
            assert_string_equal(e->blob, out("git -C remote.git rev-parse main:%s", want[i].name));
        }
    }
    gs_tree_free(t);
    assert_file(g, head, "a.test", "$ORIGIN a.test.\n@ SOA ns hm 1 2 3 4 5\n");
    assert_file(g, head, "exec.test", "e\n");
    /* A fetch with nothing new is answered from the cache. */
    assert_int_equal(gs_fetch(g, cached), ZL_OK);
    assert_string_equal(cached, head);
    assert_string_equal(gs_error(g), "");
    gs_close(g);
}

static void test_reopen_offline(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    gs_close(open_fetched(head));
    assert_int_equal(sh("mv remote.git gone.git"), 0);
    gs_t *g = open_url(url, cache);
    assert_int_equal(gs_fetch(g, h2), ZL_EIO);
    assert_string_equal(h2, "");
    print_message("# unreachable: %s\n", gs_error(g));
    assert_non_null(strstr(gs_error(g), url));
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    assert_file(g, head, "b.test", "b\n");
    gs_change_t ch = { "b.test", (const uint8_t *)"x\n", 2 };
    char id[GS_OID_HEX + 1];
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "b: x", id), ZL_EIO);
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    /* Back: the same gs_t fetches and pushes again. */
    assert_int_equal(sh("mv gone.git remote.git"), 0);
    assert_int_equal(gs_fetch(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "b: x", id), ZL_OK);
    assert_string_equal(id, out("git -C remote.git rev-parse main"));
    gs_close(g);
}

static void test_commit_push(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    const char *zone = "$ORIGIN a.test.\n@ SOA ns hm 2 2 3 4 5\nwww A 192.0.2.1\n";
    gs_change_t ch = { "a.test", (const uint8_t *)zone, strlen(zone) };
    const char *msg = "a.test: 1 records added, 0 removed by k1._update.a.test from 192.0.2.7";
    assert_int_equal(gs_commit_push(g, head, &ch, 1, msg, id), ZL_OK);
    assert_string_equal(gs_error(g), "");
    assert_string_equal(id, out("git -C remote.git rev-parse main"));
    assert_string_equal(out("git -C remote.git log -1 --format='%%an <%%ae>|%%cn|%%P|%%s' main"),
                        out("echo 'Ann Author <ann@example.org>|zonelet|%s|%s'", head, msg));
    assert_string_equal(out("git -C remote.git log -1 --format=%%ce main"),
                        out("echo zonelet@$(hostname)"));
    /* The message ends with a newline, as in commits git makes. */
    assert_string_equal(out("git -C remote.git cat-file commit main | tail -c 1 | od -An -tx1"),
                        " 0a");
    assert_string_equal(out("git -C remote.git show main:a.test"),
                        "$ORIGIN a.test.\n@ SOA ns hm 2 2 3 4 5\nwww A 192.0.2.1");
    /* What the commit did not name is kept, ignored entries included. */
    assert_string_equal(out("git -C remote.git diff --name-only %s main", head), "a.test");
    assert_int_equal(sh("git -C remote.git fsck --strict 2>&1"), 0);
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, id);
    assert_file(g, id, "a.test", zone);
    const gs_stats_t *s = gs_stats(g);
    print_message("# push: build %.1f ms, connect %.1f ms, transfer %.1f ms, %zu bytes\n",
                  s->build_ms, s->connect_ms, s->transfer_ms, s->bytes);
    assert_true(s->bytes > 0);
    gs_close(g);
    /* Reopened, the cache has the pushed commit as its last good one. */
    g = open_url(url, cache);
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, id);
    gs_close(g);
}

/* A store killed while writing refs or config leaves lock files; the
 * next open clears them, so commits and fetches keep working. */
static void test_stale_locks_cleared(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    gs_change_t ch = { "a.test", (const uint8_t *)"one\n", 4 };
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "one", id), ZL_OK);
    gs_close(g);
    assert_int_equal(sh("cd cache && touch refs/remotes/origin/main.lock refs/zonelet/push.lock"
                        " config.lock packed-refs.lock"), 0);
    g = open_url(url, cache);
    ch.data = (const uint8_t *)"two\n";
    assert_int_equal(gs_commit_push(g, id, &ch, 1, "two", h2), ZL_OK);
    assert_int_equal(gs_head(g, head), ZL_OK);
    assert_string_equal(head, h2);
    assert_int_equal(gs_fetch(g, head), ZL_OK);
    assert_string_equal(head, h2);
    assert_int_equal(sh("test -z \"$(find cache -name '*.lock')\""), 0);
    gs_close(g);
}

static void test_conflict_then_retry(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    operator_push("b.test", "operator\\n");
    char theirs[GS_OID_HEX + 1];
    snprintf(theirs, sizeof(theirs), "%s", out("git -C remote.git rev-parse main"));
    gs_change_t ch = { "a.test", (const uint8_t *)"mine\n", 5 };
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "a: mine", id), ZL_ECONFLICT);
    print_message("# conflict: %s\n", gs_error(g));
    assert_non_null(strstr(gs_error(g), theirs));
    assert_int_not_equal(strlen(id), 0); /* the commit exists, unpushed */
    assert_string_equal(out("git -C remote.git rev-parse main"), theirs);
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    /* The caller's retry: fetch, re-apply on the new head, push. */
    assert_int_equal(gs_fetch(g, h2), ZL_OK);
    assert_string_equal(h2, theirs);
    assert_int_equal(gs_commit_push(g, h2, &ch, 1, "a: mine", id), ZL_OK);
    assert_string_equal(out("git -C remote.git show main:a.test main:b.test"), "mine\noperator");
    assert_string_equal(out("git -C remote.git rev-parse main^"), theirs);
    assert_int_equal(sh("git -C remote.git fsck --strict 2>&1"), 0);
    gs_close(g);
}

/* Another push lands between the advertisement and receive-pack's ref
 * update (a pre-receive hook moves the branch): the ref's compare and
 * swap fails on the remote, and that is a conflict too. */
static void test_conflict_race(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    operator_push("b.test", "one\\n");
    gs_t *g = open_fetched(head);
    assert_int_equal(sh("printf '#!/bin/sh\\nunset GIT_QUARANTINE_PATH\\n"
                        "git update-ref refs/heads/main main~1\\n' >remote.git/hooks/pre-receive"
                        " && chmod +x remote.git/hooks/pre-receive"), 0);
    gs_change_t ch = { "a.test", (const uint8_t *)"race\n", 5 };
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "a: race", id), ZL_ECONFLICT);
    print_message("# race: %s\n", gs_error(g));
    assert_string_equal(out("git -C remote.git rev-parse main"), out("git -C work rev-parse HEAD~1"));
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    assert_int_equal(sh("rm remote.git/hooks/pre-receive"), 0);
    assert_int_equal(gs_fetch(g, h2), ZL_OK);
    assert_int_equal(gs_commit_push(g, h2, &ch, 1, "a: race", id), ZL_OK);
    assert_string_equal(out("git -C remote.git show main:a.test"), "race");
    gs_close(g);
}

static void test_group_add_delete(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    gs_change_t ch[] = {
        { "new.test", (const uint8_t *)"new\n", 4 },
        { "a.test", NULL, 0 },
        { "b.test", (const uint8_t *)"b2\n", 3 },
        { "exec.test", (const uint8_t *)"e2\n", 3 },
        { "empty.test", (const uint8_t *)"", 0 },
    };
    assert_int_equal(gs_commit_push(g, head, ch, 5, "group", id), ZL_OK);
    assert_string_equal(out("git -C remote.git rev-list --count %s..main", head), "1");
    assert_string_equal(out("git -C remote.git ls-tree main | awk '{print $1, $4}' | tr '\\n' ' '"),
                        "100644 .hidden 100644 b.test 100644 empty.test 100755 exec.test "
                        "120000 link 100644 new.test 040000 sub ");
    assert_string_equal(out("git -C remote.git show main:b.test main:new.test main:exec.test"),
                        "b2\nnew\ne2");
    gs_tree_t *t;
    assert_int_equal(gs_tree_read(g, id, &t), ZL_OK);
    assert_null(entry(t, "a.test"));
    assert_non_null(entry(t, "empty.test"));
    gs_tree_free(t);
    assert_file(g, id, "empty.test", "");
    /* Deleting the last zone files leaves a tree with only ignored ones. */
    gs_change_t del[] = { { "b.test", NULL, 0 }, { "new.test", NULL, 0 },
                          { "exec.test", NULL, 0 }, { "empty.test", NULL, 0 } };
    char id2[GS_OID_HEX + 1];
    assert_int_equal(gs_commit_push(g, id, del, 4, "delete all", id2), ZL_OK);
    assert_string_equal(out("git -C remote.git ls-tree --name-only main | tr '\\n' ' '"),
                        ".hidden link sub ");
    assert_int_equal(sh("git -C remote.git fsck --strict 2>&1"), 0);
    gs_close(g);
}

static void test_hook_refuses(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], h2[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    assert_int_equal(sh("printf '#!/bin/sh\\necho \"a.test:2: bad SOA serial\" >&2\\nexit 1\\n'"
                        " >remote.git/hooks/pre-receive && chmod +x remote.git/hooks/pre-receive"),
                     0);
    gs_change_t ch = { "a.test", (const uint8_t *)"broken\n", 7 };
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "a: broken", id), ZL_EPROTO);
    print_message("# refused: %s\n", gs_error(g));
    assert_non_null(strstr(gs_error(g), "pre-receive hook declined"));
    assert_non_null(strstr(gs_error(g), "a.test:2: bad SOA serial"));
    assert_string_equal(gs_remote_output(g), "a.test:2: bad SOA serial");
    assert_string_equal(out("git -C remote.git rev-parse main"), head);
    assert_int_equal(gs_head(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    /* The cache is fine: once the hook agrees, the next push goes in. */
    assert_int_equal(sh("rm remote.git/hooks/pre-receive"), 0);
    assert_int_equal(gs_fetch(g, h2), ZL_OK);
    assert_string_equal(h2, head);
    gs_change_t ok = { "a.test", (const uint8_t *)"fixed\n", 6 };
    assert_int_equal(gs_commit_push(g, head, &ok, 1, "a: fixed", id), ZL_OK);
    assert_string_equal(gs_remote_output(g), "");
    assert_string_equal(out("git -C remote.git show main:a.test"), "fixed");
    gs_close(g);
}

static void test_bad_changes(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1];
    gs_t *g = open_fetched(head);
    const uint8_t *x = (const uint8_t *)"x";
    struct { gs_change_t ch[2]; size_t n; int rc; } cases[] = {
        { { { "sub/c.test", x, 1 } }, 1, ZL_EINVAL },
        { { { ".hidden", x, 1 } }, 1, ZL_EINVAL },
        { { { "", x, 1 } }, 1, ZL_EINVAL },
        { { { "a.test", x, 1 }, { "a.test", NULL, 0 } }, 2, ZL_EINVAL },
        { { { "sub", x, 1 } }, 1, ZL_EINVAL },
        { { { "link", x, 1 } }, 1, ZL_EINVAL },
        { { { "nothere.test", NULL, 0 } }, 1, ZL_ENOTFOUND },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(gs_commit_push(g, head, cases[i].ch, cases[i].n, "bad", id), cases[i].rc);
        assert_int_not_equal(strlen(gs_error(g)), 0);
    }
    gs_change_t ok = { "a.test", x, 1 };
    assert_int_equal(gs_commit_push(g, "0123456789012345678901234567890123456789", &ok, 1, "m", id),
                     ZL_ENOTFOUND);
    assert_int_equal(gs_commit_push(g, "not-an-id", &ok, 1, "m", id), ZL_EINVAL);
    assert_int_equal(gs_commit_push(g, NULL, &ok, 1, "m", id), ZL_ECONFLICT); /* branch exists */
    assert_string_equal(out("git -C remote.git rev-parse main"), head);
    gs_tree_t *t;
    assert_int_equal(gs_tree_read(g, "0123456789012345678901234567890123456789", &t),
                     ZL_ENOTFOUND);
    assert_int_equal(gs_tree_read(g, "xyz", &t), ZL_EINVAL);
    uint8_t *d;
    size_t n;
    assert_int_equal(gs_blob_read(g, head, &d, &n), ZL_ENOTFOUND); /* a commit, not a blob */
    gs_close(g);
}

static void test_empty_remote_and_branches(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1], u[400], c[400];
    assert_int_equal(sh("git init -q --bare -b main empty.git"), 0);
    snprintf(u, sizeof(u), "file://%s/empty.git", tmp);
    snprintf(c, sizeof(c), "%s/cache-empty", tmp);
    gs_t *g = open_url(u, c);
    assert_int_equal(gs_fetch(g, head), ZL_ENOTFOUND);
    assert_string_equal(head, "");
    gs_change_t ch = { "first.test", (const uint8_t *)"1\n", 2 };
    assert_int_equal(gs_commit_push(g, NULL, &ch, 1, "first", id), ZL_OK);
    assert_string_equal(out("git -C empty.git rev-parse main"), id);
    assert_string_equal(out("git -C empty.git rev-list --count main"), "1");
    gs_close(g);
    /* "#BRANCH": a branch of its own, created by the first push. */
    snprintf(u, sizeof(u), "file://%s/empty.git#staging", tmp);
    snprintf(c, sizeof(c), "%s/cache-staging", tmp);
    g = open_url(u, c);
    assert_string_equal(gs_branch(g), "staging");
    assert_int_equal(gs_fetch(g, head), ZL_ENOTFOUND);
    assert_int_equal(gs_commit_push(g, NULL, &ch, 1, "staging", id), ZL_OK);
    assert_string_equal(out("git -C empty.git rev-parse staging"), id);
    gs_close(g);
    /* No branch named: the remote's HEAD branch, remembered offline. */
    assert_int_equal(sh("git -C empty.git symbolic-ref HEAD refs/heads/staging"), 0);
    snprintf(u, sizeof(u), "file://%s/empty.git", tmp);
    snprintf(c, sizeof(c), "%s/cache-head", tmp);
    g = open_url(u, c);
    assert_string_equal(gs_branch(g), "");
    assert_int_equal(gs_fetch(g, head), ZL_OK);
    assert_string_equal(gs_branch(g), "staging");
    assert_string_equal(head, id);
    gs_close(g);
    assert_int_equal(sh("mv empty.git away.git"), 0);
    g = open_url(u, c);
    assert_string_equal(gs_branch(g), "staging");
    assert_int_equal(gs_head(g, head), ZL_OK);
    assert_string_equal(head, id);
    gs_close(g);
}

/* A TCP listener that completes handshakes (the kernel does) and never
 * reads or writes: a remote that accepts and stays silent. */
static int silent_listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 16), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return s;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_silent_remotes_time_out(void **state)
{
    (void)state;
    int port;
    int s = silent_listener(&port);
    assert_int_equal(sh("echo key >key && : >known_hosts"), 0);
    char key[300], kh[300];
    snprintf(key, sizeof(key), "%s/key", tmp);
    snprintf(kh, sizeof(kh), "%s/known_hosts", tmp);
    const char *fmts[] = { "git://127.0.0.1:%d/x.git", "https://127.0.0.1:%d/x.git",
                           "ssh://git@127.0.0.1:%d/x.git" };
    for (size_t i = 0; i < 3; i++) {
        char u[100], c[400], err[256], head[GS_OID_HEX + 1], id[GS_OID_HEX + 1];
        snprintf(u, sizeof(u), fmts[i], port);
        snprintf(c, sizeof(c), "%s/cache-silent%zu", tmp, i);
        gs_opts_t o = { .url = u, .cache_dir = c, .key_file = key, .known_hosts = kh,
                        .timeout_ms = 400 };
        gs_t *g = NULL;
        assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_OK);
        double t0 = now_ms();
        assert_int_equal(gs_fetch(g, head), ZL_ETIMEOUT);
        double t1 = now_ms();
        print_message("# %s: fetch %s after %.0f ms\n", u, gs_error(g), t1 - t0);
        gs_change_t ch = { "a.test", (const uint8_t *)"a\n", 2 };
        assert_int_equal(gs_commit_push(g, NULL, &ch, 1, "m", id), ZL_ETIMEOUT);
        print_message("# %s: push %s after %.0f ms\n", u, gs_error(g), now_ms() - t1);
        gs_close(g);
    }
    close(s);
    /* A refused connection is an error at once, not a timeout. */
    char u[100], c[400], err[256], head[GS_OID_HEX + 1];
    snprintf(u, sizeof(u), "git://127.0.0.1:%d/x.git", port);
    snprintf(c, sizeof(c), "%s/cache-refused", tmp);
    gs_opts_t o = { .url = u, .cache_dir = c, .timeout_ms = 400 };
    gs_t *g = NULL;
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_OK);
    assert_int_equal(gs_fetch(g, head), ZL_EIO);
    assert_non_null(strstr(gs_error(g), "refused"));
    gs_close(g);
    /* And the process still talks to a healthy remote. */
    char id[GS_OID_HEX + 1];
    g = open_fetched(head);
    gs_change_t ch = { "a.test", (const uint8_t *)"after\n", 6 };
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "after", id), ZL_OK);
    gs_close(g);
}

/* file://: a pre-receive hook that hangs; the push ends at the deadline,
 * receive-pack (the store's child) is stopped, nothing changes, and the
 * next push works. */
static void test_hanging_hook_times_out(void **state)
{
    (void)state;
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1];
    gs_opts_t o = { .url = url, .cache_dir = cache, .timeout_ms = 500 };
    char err[256];
    gs_t *g = NULL;
    assert_int_equal(gs_open(&o, &g, err, sizeof(err)), ZL_OK);
    assert_int_equal(gs_fetch(g, head), ZL_OK);
    assert_int_equal(sh("printf '#!/bin/sh\\nexec sleep 3\\n' >remote.git/hooks/pre-receive"
                        " && chmod +x remote.git/hooks/pre-receive"), 0);
    gs_change_t ch = { "a.test", (const uint8_t *)"slow\n", 5 };
    double t0 = now_ms();
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "slow", id), ZL_ETIMEOUT);
    print_message("# hanging hook: %s after %.0f ms\n", gs_error(g), now_ms() - t0);
    assert_string_equal(out("git -C remote.git rev-parse main"), head);
    assert_int_equal(sh("rm remote.git/hooks/pre-receive"), 0);
    assert_int_equal(gs_commit_push(g, head, &ch, 1, "fast", id), ZL_OK);
    assert_string_equal(out("git -C remote.git show main:a.test"), "slow");
    gs_close(g);
}

int main(void)
{
    /* Every wait here is bounded by the store's timeouts; should those
     * break, the suite dies instead of hanging (it takes ~15 s). */
    alarm(300);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clone_list_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_locks_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_then_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_add_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_remote_and_branches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_remotes_time_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hanging_hook_times_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
