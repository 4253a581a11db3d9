/* gs_tool: drives the git store library from scripts (test_remotes.sh,
 * bench.sh), one process doing one or more steps, each on its own gs_t:
 *
 *   gs_tool STEP [';' STEP ...]
 *   STEP = [--remote URL] [--cache DIR] [--author "N <m>"] [--remote-key F]
 *          [--remote-known-hosts F] [--remote-ca F] [--push-timeout MS]
 *          COMMAND [ARGS]     (options carry over to the next steps)
 *
 * COMMAND:
 *   fetch                  "head ID" (or "head none" for no branch)
 *   head                   the cache's last good commit, no network
 *   ls [COMMIT]            "file NAME BLOB" and "ignored NAME WHY" lines
 *   cat NAME [COMMIT]      the file's bytes
 *   commit PARENT MSG NAME=FILE|NAME=- ...   (PARENT "-": none; NAME=-
 *                          deletes) "commit ID" once pushed
 *   bench-push N NAME      N commits in a row, each changing NAME (a small
 *                          zone); prints the latency percentiles
 *   clone-read             fetch, list, read every file; prints times
 *   edit-push NAME K       reads NAME at the head, changes K lines in the
 *                          middle, commits and pushes it; prints times
 *
 * A failed step prints "error ZL_NAME: message" and the next step still
 * runs; the exit status is that of the last step. Timings go to stdout as
 * "time WHAT MS" lines; "time children_cpu" closes each step: the CPU
 * time of the git processes a file:// remote ran (the remote's share). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "dns/err.h"
#include "gitstore/gitstore.h"

static const char *errname(int rc)
{
    switch (rc) {
    case ZL_OK: return "ZL_OK";
    case ZL_ENOMEM: return "ZL_ENOMEM";
    case ZL_EIO: return "ZL_EIO";
    case ZL_ENOTFOUND: return "ZL_ENOTFOUND";
    case ZL_EINVAL: return "ZL_EINVAL";
    case ZL_ECONFLICT: return "ZL_ECONFLICT";
    case ZL_ETIMEOUT: return "ZL_ETIMEOUT";
    case ZL_EPROTO: return "ZL_EPROTO";
    default: return "ZL_E?";
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this process (user + system), ms: the client's share of an
 * operation, whatever else the machine is doing. */
static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU time of the children reaped so far (file:// runs git upload-pack
 * and receive-pack as children: the remote's share). */
static double children_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int report(gs_t *g, int rc)
{
    if (rc != ZL_OK)
        printf("error %s: %s\n", errname(rc), g ? gs_error(g) : "");
    return rc;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *b = malloc(cap);
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static int head_or_arg(gs_t *g, const char *arg, char id[GS_OID_HEX + 1])
{
    if (arg) {
        snprintf(id, GS_OID_HEX + 1, "%s", arg);
        return ZL_OK;
    }
    return gs_head(g, id);
}

static int cmd_ls(gs_t *g, const char *commit)
{
    char id[GS_OID_HEX + 1];
    gs_tree_t *t;
    int rc = head_or_arg(g, commit, id);
    if (rc == ZL_OK)
        rc = gs_tree_read(g, id, &t);
    if (rc != ZL_OK)
        return rc;
    for (size_t i = 0; i < t->n; i++) {
        if (t->entries[i].ignored)
            printf("ignored %s %s\n", t->entries[i].name, t->entries[i].ignored);
        else
            printf("file %s %s\n", t->entries[i].name, t->entries[i].blob);
    }
    gs_tree_free(t);
    return ZL_OK;
}

static int find_blob(gs_t *g, const char *commit, const char *name, uint8_t **data, size_t *len)
{
    gs_tree_t *t;
    int rc = gs_tree_read(g, commit, &t);
    if (rc != ZL_OK)
        return rc;
    rc = ZL_ENOTFOUND;
    for (size_t i = 0; i < t->n; i++)
        if (!t->entries[i].ignored && strcmp(t->entries[i].name, name) == 0)
            rc = gs_blob_read(g, t->entries[i].blob, data, len);
    gs_tree_free(t);
    return rc;
}

static int cmd_cat(gs_t *g, const char *name, const char *commit)
{
    char id[GS_OID_HEX + 1];
    uint8_t *d;
    size_t n;
    int rc = head_or_arg(g, commit, id);
    if (rc == ZL_OK)
        rc = find_blob(g, id, name, &d, &n);
    if (rc != ZL_OK)
        return rc;
    fwrite(d, 1, n, stdout);
    free(d);
    return ZL_OK;
}

static int cmd_commit(gs_t *g, char **argv, int argc)
{
    if (argc < 2) {
        fprintf(stderr, "commit PARENT MSG NAME=FILE...\n");
        return ZL_EINVAL;
    }
    size_t n = (size_t)argc - 2;
    gs_change_t *ch = calloc(n ? n : 1, sizeof(*ch));
    uint8_t **bufs = calloc(n ? n : 1, sizeof(*bufs));
    int rc = ZL_OK;
    for (size_t i = 0; i < n && rc == ZL_OK; i++) {
        char *a = argv[2 + i], *eq = strchr(a, '=');
        if (!eq) {
            fprintf(stderr, "bad change %s\n", a);
            rc = ZL_EINVAL;
            break;
        }
        *eq = '\0';
        ch[i].name = a;
        if (strcmp(eq + 1, "-") != 0) {
            bufs[i] = slurp(eq + 1, &ch[i].len);
            if (!bufs[i]) {
                fprintf(stderr, "cannot read %s\n", eq + 1);
                rc = ZL_EIO;
            }
            ch[i].data = bufs[i];
        }
    }
    char id[GS_OID_HEX + 1];
    if (rc == ZL_OK) {
        double t0 = now_ms();
        rc = gs_commit_push(g, strcmp(argv[0], "-") ? argv[0] : NULL, ch, n, argv[1], id);
        printf("time commit_push %.1f\n", now_ms() - t0);
        if (rc == ZL_OK)
            printf("commit %s\n", id);
        else if (id[0])
            printf("unpushed %s\n", id);
    }
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(ch);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void percentiles(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    printf("time %s_p50 %.2f\ntime %s_p90 %.2f\ntime %s_max %.2f\n", what, v[n / 2], what,
           v[n * 9 / 10], what, v[n - 1]);
}

static int cmd_bench_push(gs_t *g, int n, const char *name)
{
    char head[GS_OID_HEX + 1];
    int rc = gs_fetch(g, head);
    if (rc == ZL_ENOTFOUND)
        head[0] = '\0';
    else if (rc != ZL_OK)
        return rc;
    double *lat = calloc((size_t)n, sizeof(*lat)), c0 = cpu_ms();
    for (int i = 0; i < n && rc <= ZL_OK; i++) {
        char zone[512], msg[64], id[GS_OID_HEX + 1];
        int len = snprintf(zone, sizeof(zone),
                           "$ORIGIN %s.\n$TTL 300\n@ SOA ns1 hostmaster %d 7200 3600 1209600 300\n"
                           "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.%d\n",
                           name, 1000 + i, i % 250 + 1);
        snprintf(msg, sizeof(msg), "%s: bench %d", name, i);
        gs_change_t ch = { name, (const uint8_t *)zone, (size_t)len };
        double t0 = now_ms();
        rc = gs_commit_push(g, head[0] ? head : NULL, &ch, 1, msg, id);
        lat[i] = now_ms() - t0;
        if (rc != ZL_OK) {
            free(lat);
            return rc;
        }
        strcpy(head, id);
    }
    percentiles("push", lat, n);
    printf("time push_client_cpu_avg %.2f\n", (cpu_ms() - c0) / n);
    free(lat);
    printf("commit %s\n", head);
    return ZL_OK;
}

static int cmd_clone_read(gs_t *g)
{
    char head[GS_OID_HEX + 1];
    double t0 = now_ms(), c0 = cpu_ms();
    int rc = gs_fetch(g, head);
    if (rc != ZL_OK)
        return rc;
    double t1 = now_ms();
    printf("time fetch_client_cpu %.1f\n", cpu_ms() - c0);
    gs_tree_t *t;
    if ((rc = gs_tree_read(g, head, &t)) != ZL_OK)
        return rc;
    size_t bytes = 0;
    for (size_t i = 0; i < t->n && rc == ZL_OK; i++) {
        uint8_t *d;
        size_t n;
        if (t->entries[i].ignored)
            continue;
        rc = gs_blob_read(g, t->entries[i].blob, &d, &n);
        bytes += n;
        if (rc == ZL_OK)
            free(d);
    }
    gs_tree_free(t);
    double t2 = now_ms();
    printf("head %s\ntime fetch %.1f\ntime read %.1f\nbytes_read %zu\nbytes_fetched %zu\n", head,
           t1 - t0, t2 - t1, bytes, gs_stats(g)->bytes);
    return rc;
}

/* Changes k lines around the middle of the file (appends "; edited"),
 * the way an UPDATE touching k records rewrites one zone file. */
static int cmd_edit_push(gs_t *g, const char *name, int k)
{
    char head[GS_OID_HEX + 1], id[GS_OID_HEX + 1];
    uint8_t *d;
    size_t n;
    int rc = gs_head(g, head);
    if (rc == ZL_OK)
        rc = find_blob(g, head, name, &d, &n);
    if (rc != ZL_OK)
        return rc;
    uint8_t *out = malloc(n + (size_t)k * 16 + 1);
    size_t o = 0, pos = n / 2;
    while (pos < n && d[pos - 1] != '\n')
        pos++;
    memcpy(out, d, pos);
    o = pos;
    for (int i = 0; i < k && pos < n; i++) {
        size_t e = pos;
        while (e < n && d[e] != '\n')
            e++;
        memcpy(out + o, d + pos, e - pos);
        o += e - pos;
        memcpy(out + o, " ; edited", 9);
        o += 9;
        pos = e;
    }
    memcpy(out + o, d + pos, n - pos);
    o += n - pos;
    gs_change_t ch = { name, out, o };
    double t0 = now_ms(), c0 = cpu_ms();
    rc = gs_commit_push(g, head, &ch, 1, "edit-push", id);
    double t1 = now_ms(), c1 = cpu_ms();
    const gs_stats_t *s = gs_stats(g);
    /* Printed on failure too: against a remote that refuses connections,
     * client_cpu is the cost of building the commit alone. */
    if (rc == ZL_OK)
        printf("commit %s\n", id);
    printf("time commit_push %.1f\ntime build %.1f\ntime connect %.1f\n"
           "time transfer %.1f\ntime client_cpu %.1f\nbytes_sent %zu\n",
           t1 - t0, s->build_ms, s->connect_ms, s->transfer_ms, c1 - c0, s->bytes);
    free(d);
    free(out);
    return rc;
}

static int run(gs_opts_t *o, char **argv, int argc)
{
    while (argc >= 2 && strncmp(argv[0], "--", 2) == 0) {
        const char *k = argv[0], *v = argv[1];
        if (!strcmp(k, "--remote")) o->url = v;
        else if (!strcmp(k, "--cache")) o->cache_dir = v;
        else if (!strcmp(k, "--author")) o->author = v;
        else if (!strcmp(k, "--remote-key")) o->key_file = v;
        else if (!strcmp(k, "--remote-known-hosts")) o->known_hosts = v;
        else if (!strcmp(k, "--remote-ca")) o->ca_file = v;
        else if (!strcmp(k, "--push-timeout")) o->timeout_ms = (unsigned)atoi(v);
        else {
            fprintf(stderr, "unknown option %s\n", k);
            return ZL_EINVAL;
        }
        argv += 2, argc -= 2;
    }
    if (argc < 1) {
        fprintf(stderr, "no command\n");
        return ZL_EINVAL;
    }
    char err[512];
    gs_t *g = NULL;
    double t0 = now_ms(), k0 = children_cpu_ms();
    int rc = gs_open(o, &g, err, sizeof(err));
    if (rc != ZL_OK) {
        printf("error %s: %s\n", errname(rc), err);
        return rc;
    }
    const char *cmd = argv[0];
    char head[GS_OID_HEX + 1];
    if (!strcmp(cmd, "fetch")) {
        rc = gs_fetch(g, head);
        printf("time fetch %.1f\n", now_ms() - t0);
        if (rc == ZL_OK || rc == ZL_ENOTFOUND)
            printf("head %s\nbranch %s\n", rc == ZL_OK ? head : "none", gs_branch(g));
        if (rc == ZL_ENOTFOUND)
            rc = ZL_OK;
    } else if (!strcmp(cmd, "head")) {
        rc = gs_head(g, head);
        if (rc == ZL_OK)
            printf("head %s\n", head);
    } else if (!strcmp(cmd, "ls")) {
        rc = cmd_ls(g, argc > 1 ? argv[1] : NULL);
    } else if (!strcmp(cmd, "cat") && argc > 1) {
        rc = cmd_cat(g, argv[1], argc > 2 ? argv[2] : NULL);
    } else if (!strcmp(cmd, "commit")) {
        rc = cmd_commit(g, argv + 1, argc - 1);
    } else if (!strcmp(cmd, "bench-push") && argc > 2) {
        rc = cmd_bench_push(g, atoi(argv[1]), argv[2]);
    } else if (!strcmp(cmd, "clone-read")) {
        rc = cmd_clone_read(g);
    } else if (!strcmp(cmd, "edit-push") && argc > 2) {
        rc = cmd_edit_push(g, argv[1], atoi(argv[2]));
    } else {
        fprintf(stderr, "unknown command %s\n", cmd);
        rc = ZL_EINVAL;
    }
    report(g, rc);
    if (gs_remote_output(g)[0])
        printf("remote %s\n", gs_remote_output(g));
    gs_close(g);
    printf("time children_cpu %.1f\n", children_cpu_ms() - k0);
    return rc;
}

int main(int argc, char **argv)
{
    gs_opts_t o = { 0 };
    int rc = ZL_EINVAL, start = 1;
    for (int i = 1; i <= argc; i++) {
        if (i == argc || strcmp(argv[i], ";") == 0) {
            rc = run(&o, argv + start, i - start);
            fflush(stdout);
            start = i + 1;
        }
    }
    return rc == ZL_OK ? 0 : 1;
}
