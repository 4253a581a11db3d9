#include "unikernel/zones.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dns/err.h"
#include "dns/name.h"
#include "unikernel/log.h"
#include "zone/parse.h"

/* One zone file as last loaded; zone is the version in service (NULL if
 * it never loaded). */
typedef struct zone_file {
    char name[NAME_MAX + 1];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    zone_t *zone;
} zone_file_t;

/* One cache line per slot: readers write their own slot on every batch. */
typedef struct hazard_slot {
    _Atomic(const zone_set_t *) set;
    char pad[64 - sizeof(void *)];
} hazard_slot_t;

struct srv_zones {
    _Atomic(zone_set_t *) current;
    const char *dir;
    zone_file_t *files;      /* writer only */
    size_t nfiles;
    time_t scanned;          /* when files were last stat'ed (wall clock) */
    unsigned nreaders;
    hazard_slot_t *slots;
};

srv_zones_t *srv_zones_new(const char *dir, unsigned nreaders)
{
    srv_zones_t *zs = calloc(1, sizeof *zs);
    if (!zs)
        return NULL;
    zs->slots = aligned_alloc(64, sizeof(hazard_slot_t) * (nreaders ? nreaders : 1));
    if (!zs->slots) {
        free(zs);
        return NULL;
    }
    for (unsigned i = 0; i < nreaders; i++)
        atomic_init(&zs->slots[i].set, NULL);
    atomic_init(&zs->current, NULL);
    zs->dir = dir;
    zs->nreaders = nreaders;
    return zs;
}

static void files_free(zone_file_t *files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zone_free(files[i].zone);
    free(files);
}

void srv_zones_free(srv_zones_t *zs)
{
    if (!zs)
        return;
    zone_set_free(atomic_load(&zs->current));
    files_free(zs->files, zs->nfiles);
    free(zs->slots);
    free(zs);
}

const zone_set_t *srv_zones_enter(srv_zones_t *zs, unsigned reader)
{
    _Atomic(const zone_set_t *) *slot = &zs->slots[reader].set;
    const zone_set_t *s = atomic_load_explicit(&zs->current, memory_order_acquire);
    for (;;) {
        /* Publish, then check the set is still current: if it is, the
         * writer's swap comes later and its scan will see our slot. */
        atomic_store_explicit(slot, s, memory_order_seq_cst);
        const zone_set_t *again = atomic_load_explicit(&zs->current, memory_order_seq_cst);
        if (again == s)
            return s;
        s = again;
    }
}

void srv_zones_leave(srv_zones_t *zs, unsigned reader)
{
    atomic_store_explicit(&zs->slots[reader].set, NULL, memory_order_release);
}

static void publish(srv_zones_t *zs, zone_set_t *next)
{
    zone_set_t *old = atomic_exchange_explicit(&zs->current, next, memory_order_seq_cst);
    if (!old)
        return;
    for (unsigned i = 0; i < zs->nreaders; i++) {
        while (atomic_load_explicit(&zs->slots[i].set, memory_order_seq_cst) == old) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    zone_set_free(old);
}

/* The problems of one zone file as it loads, logged like `zonelet check`
 * prints them. A zone with many occluded records would flood the log at
 * every reload: the first LOAD_WARN_MAX warnings are logged, the rest
 * counted (errors are bounded by the parser's own limit). */
#define LOAD_WARN_MAX 20

typedef struct load_report {
    const char *path;
    size_t warnings;
} load_report_t;

static void report_line(void *ctx, zone_severity_t sev, const char *file, unsigned line,
                        const char *msg)
{
    load_report_t *lr = ctx;
    const char *path = file ? file : lr->path;
    const char *what = sev == ZONE_WARNING ? "warning" : "error";
    if (sev == ZONE_WARNING && lr->warnings++ >= LOAD_WARN_MAX)
        return;
    if (line)
        srv_log_raw("%s:%u: %s: %s", path, line, what, msg);
    else
        srv_log_raw("%s: %s: %s", path, what, msg);
}

/* The zone's origin as text without the final dot, as users write it. */
static void origin_text(const zone_t *z, char *buf, size_t cap)
{
    int n = dns_name_to_text(zone_origin(z), buf, cap);
    if (n > 1 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
}

static bool skip_entry(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.' || strcmp(name, "_keys") == 0)
        return true;
    return n > 6 && strcmp(name + n - 6, "._keys") == 0;
}

static const zone_file_t *old_file(const srv_zones_t *zs, const char *name)
{
    for (size_t i = 0; i < zs->nfiles; i++)
        if (strcmp(zs->files[i].name, name) == 0)
            return &zs->files[i];
    return NULL;
}

static bool same_file(const zone_file_t *a, const zone_file_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const zone_file_t *)a)->name, ((const zone_file_t *)b)->name);
}

/* Lists the zone files of the directory, sorted by name. */
static int scan_dir(const char *dir, zone_file_t **out, size_t *nout)
{
    DIR *d = opendir(dir);
    zone_file_t *files = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    struct stat st;
    if (!d) {
        srv_log("%s: cannot open the zone directory", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (skip_entry(e->d_name) || strlen(e->d_name) > NAME_MAX)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            zone_file_t *more = realloc(files, (cap ? 2 * cap : 16) * sizeof *files);
            if (!more) {
                closedir(d);
                free(files);
                return -1;
            }
            files = more;
            cap = cap ? 2 * cap : 16;
        }
        zone_file_t *f = &files[n++];
        memset(f, 0, sizeof *f);
        strcpy(f->name, e->d_name);
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->size = st.st_size;
        f->mtime = st.st_mtim;
    }
    closedir(d);
    if (n > 1)
        qsort(files, n, sizeof *files, name_cmp);
    *out = files;
    *nout = n;
    return 0;
}

/* Loads one file into f->zone; on failure keeps the previous version.
 * Returns 0 when the file loaded or was unchanged, -1 on errors. */
static int load_one(const srv_zones_t *zs, zone_file_t *f)
{
    const zone_file_t *old = old_file(zs, f->name);
    char path[PATH_MAX], text[DNS_NAME_TEXT_MAX];
    uint8_t origin[DNS_NAME_MAX];
    static const uint8_t root[1] = {0};
    /* A file written in the second of the last scan may have changed
     * again since without a new mtime (coarse timestamps): reload it
     * ("racy clean", as git does). */
    if (old && old->zone && same_file(old, f) && f->mtime.tv_sec + 1 < zs->scanned) {
        f->zone = zone_ref(old->zone);
        return 0;
    }
    snprintf(path, sizeof path, "%s/%s", zs->dir, f->name);
    load_report_t lr = {path, 0};
    zone_report_t rep = {report_line, &lr};
    int rc = dns_name_from_text(f->name, strlen(f->name), root, origin);
    if (rc < 0)
        srv_log_raw("%s: the file name is not a zone name (%s)", path, zl_strerror(rc));
    else
        rc = zone_load_file(path, origin, &f->zone, &rep);
    if (lr.warnings > LOAD_WARN_MAX)
        srv_log_raw("%s: %zu more warnings (zonelet check %s lists them all)", path,
                    lr.warnings - LOAD_WARN_MAX, path);
    if (rc == ZL_OK) {
        origin_text(f->zone, text, sizeof text);
        srv_log("serving %s serial %u (%zu records)", text, zone_serial(f->zone),
                zone_record_count(f->zone));
        return 0;
    }
    f->zone = NULL;
    /* Retry (and report again) on the next reload even if unchanged. */
    f->mtime.tv_sec = f->mtime.tv_nsec = -1;
    if (old && old->zone) {
        f->zone = zone_ref(old->zone);
        origin_text(f->zone, text, sizeof text);
        srv_log("%s: not loaded (%s), still serving %s serial %u", path, zl_strerror(rc),
                text, zone_serial(f->zone));
    } else {
        srv_log("%s: not loaded (%s), zone not served", path, zl_strerror(rc));
    }
    return -1;
}

/* Drops a zone whose origin is already served by an earlier file. */
static int check_duplicate(const zone_file_t *files, size_t i, const char *dir)
{
    for (size_t j = 0; j < i; j++) {
        if (files[j].zone && dns_name_equal(zone_origin(files[j].zone), zone_origin(files[i].zone))) {
            srv_log("%s/%s: same zone as %s, not served", dir, files[i].name, files[j].name);
            return -1;
        }
    }
    return 0;
}

int srv_zones_load(srv_zones_t *zs)
{
    zone_file_t *files;
    size_t n, nz = 0;
    int failed = 0;
    time_t now = time(NULL);
    if (scan_dir(zs->dir, &files, &n))
        return -1;
    zone_t **zones = malloc((n ? n : 1) * sizeof *zones);
    if (!zones) {
        free(files);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (load_one(zs, &files[i]))
            failed++;
        if (files[i].zone && check_duplicate(files, i, zs->dir)) {
            zone_free(files[i].zone);
            files[i].zone = NULL;
            failed++;
        }
        if (files[i].zone)
            zones[nz++] = files[i].zone;
    }
    zone_set_t *set = NULL;
    int rc = zone_set_new(zones, nz, &set);
    free(zones);
    if (rc != ZL_OK) {
        srv_log("cannot build the zone set: %s", zl_strerror(rc));
        files_free(files, n);
        return -1;
    }
    publish(zs, set);
    files_free(zs->files, zs->nfiles);
    zs->files = files;
    zs->nfiles = n;
    zs->scanned = now;
    srv_log("%zu zones served, %d with errors", nz, failed);
    return failed;
}
