/* The directory store (store_dir.h). */
#include "unikernel/store_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dns/err.h"
#include "dns/serial.h"
#include "dns/wire.h"
#include "unikernel/clock.h"
#include "unikernel/log.h"
#include "zone/apply.h"
#include "zone/journal.h"
#include "zone/parse.h"
#include "zone/print.h"

#define JOURNAL_DIR ".zonelet"
#define COMPACT_AFTER_MS 1000         /* quiet time before the zone file is rewritten */
#define COMPACT_BYTES ((size_t)1 << 20) /* or this much journal */

/* One file of the directory as last read (or written by us). */
typedef struct dfile {
    char name[NAME_MAX + 1];
    uint8_t origin[DNS_NAME_MAX];
    bool keys;               /* _keys or <zone>._keys */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool seen;               /* still there in the current scan */
    /* zone files only */
    int jfd;                 /* its journal, open for appending, or -1 */
    size_t jbytes;
    uint64_t jlast_ms;       /* when it last grew */
    zone_t *latest;          /* the version last committed or published (a reference) */
    bool compacting;
} dfile_t;

typedef struct store_dir {
    srv_store_t base;
    const char *dir;
    const srv_jobs_t *jobs;
    dfile_t *files;
    size_t nfiles, cap;
    time_t scanned;          /* wall clock of the last scan (racy-clean rule) */
} store_dir_t;

static void path_of(const store_dir_t *sd, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", sd->dir, name);
}

static void journal_path(const store_dir_t *sd, const char *name, const char *ext, char *buf,
                         size_t cap)
{
    snprintf(buf, cap, "%s/" JOURNAL_DIR "/%s.%s", sd->dir, name, ext);
}

static dfile_t *file_find(store_dir_t *sd, const char *name)
{
    for (size_t i = 0; i < sd->nfiles; i++)
        if (strcmp(sd->files[i].name, name) == 0)
            return &sd->files[i];
    return NULL;
}

static dfile_t *file_by_origin(store_dir_t *sd, const uint8_t *origin)
{
    for (size_t i = 0; i < sd->nfiles; i++)
        if (!sd->files[i].keys && dns_name_equal(sd->files[i].origin, origin))
            return &sd->files[i];
    return NULL;
}

static void file_close(dfile_t *f)
{
    if (f->jfd >= 0)
        close(f->jfd);
    f->jfd = -1;
    zone_free(f->latest);
    f->latest = NULL;
}

/* ---- the journal ------------------------------------------------------------ */

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Opens f's journal for appending (creating the folder and the file). */
static int journal_open(store_dir_t *sd, dfile_t *f)
{
    char path[PATH_MAX], jdir[PATH_MAX];
    if (f->jfd >= 0)
        return 0;
    snprintf(jdir, sizeof jdir, "%s/" JOURNAL_DIR, sd->dir);
    if (mkdir(jdir, 0755) == 0)
        (void)fsync_dir(sd->dir);
    journal_path(sd, f->name, "journal", path, sizeof path);
    f->jfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (f->jfd < 0) {
        srv_log("%s: cannot open the journal: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    f->jbytes = fstat(f->jfd, &st) == 0 ? (size_t)st.st_size : 0;
    if (f->jbytes == 0)
        (void)fsync_dir(jdir);   /* the new file's name is durable too */
    return 0;
}

/* Reads a whole file into *buf (malloc'd). -1 when it cannot be read
 * (ENOENT leaves errno for the caller). */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    *buf = NULL;
    *len = 0;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !(*buf = malloc((size_t)st.st_size + 1))) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return 0;
}

/* Replays f's journal (concatenated zone_diff_encode records, each with
 * its own magic and check value) onto *z (replaced by the result). Stops
 * at a torn or corrupt record (the file is cut there: a crash in the
 * middle of an append) or at one that does not follow (logged: the
 * journal does not belong to this zone file). */
static void journal_replay(store_dir_t *sd, dfile_t *f, zone_t **z)
{
    char path[PATH_MAX];
    uint8_t *buf;
    size_t len, applied = 0;
    journal_path(sd, f->name, "journal", path, sizeof path);
    if (read_file(path, &buf, &len) != 0)
        return;
    dns_wire_t w;
    dns_wire_init_ro(&w, buf, len);
    size_t at = 0;
    bool torn = false;
    while (at < len) {
        zone_diff_t *d = NULL;
        dns_wire_seek(&w, at);
        if (zone_diff_decode(&w, &d) != ZL_OK) {
            torn = true;
            break;
        }
        uint32_t cur = zone_serial(*z);
        size_t next = w.pos;
        if (zone_diff_from(d) != cur && dns_serial_cmp(zone_diff_to(d), cur) <= 0) {
            zone_diff_free(d);   /* already in the zone file (written before the trim) */
            at = next;
            continue;
        }
        zone_t *v = NULL;
        zone_journal_t *j = NULL;
        if (zone_diff_from(d) != cur || zone_apply(*z, d, &v, NULL) != ZL_OK) {
            srv_log("%s: the change at offset %zu does not apply to serial %u: the rest of the "
                    "journal is ignored", path, at, cur);
            zone_diff_free(d);
            break;
        }
        zone_t *vj = NULL;
        if (zone_journal_append(zone_journal(*z), d, 100, (size_t)16 << 20, &j) == ZL_OK &&
            zone_with_journal(v, j, &vj) == ZL_OK) {
            zone_free(v);
            v = vj;
        }
        zone_journal_unref(j);
        zone_diff_free(d);
        zone_free(*z);
        *z = v;
        applied++;
        at = next;
    }
    if (torn) {
        srv_log("%s: torn record at offset %zu (an interrupted write): cut off", path, at);
        if (truncate(path, (off_t)at) != 0)
            srv_log("%s: cannot cut the journal: %s", path, strerror(errno));
    }
    if (applied)
        srv_log("%s: %zu changes replayed, serial %u", path, applied, zone_serial(*z));
    free(buf);
}

/* Appends the record of diff d to f's journal (not synced). */
static int journal_append(store_dir_t *sd, dfile_t *f, const zone_diff_t *d)
{
    if (journal_open(sd, f) != 0)
        return ZL_EIO;
    size_t n = zone_diff_bytes(d);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return ZL_ENOMEM;
    dns_wire_t w;
    dns_wire_init(&w, buf, n);
    int rc = zone_diff_encode(d, &w);
    size_t done = 0;
    while (rc == ZL_OK && done < w.pos) {
        ssize_t wr = write(f->jfd, buf + done, w.pos - done);
        if (wr < 0 && errno == EINTR)
            continue;
        if (wr <= 0)
            rc = ZL_EIO;
        else
            done += (size_t)wr;
    }
    f->jbytes += done;
    free(buf);
    return rc;
}

/* ---- loading files -------------------------------------------------- */

static bool key_file(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "_keys") == 0 || (n > 6 && strcmp(name + n - 6, "._keys") == 0);
}

/* The directory's regular files (dotfiles skipped), each with its stat. */
static int scan(store_dir_t *sd, dfile_t **out, size_t *nout)
{
    DIR *d = opendir(sd->dir);
    dfile_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    struct stat st;
    if (!d) {
        srv_log("%s: cannot open the zone directory: %s", sd->dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) > NAME_MAX || strcmp(e->d_name, SRV_STORE_ACME) == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            dfile_t *more = realloc(v, (cap ? 2 * cap : 16) * sizeof *v);
            if (!more) {
                free(v);
                closedir(d);
                return -1;
            }
            v = more;
            cap = cap ? 2 * cap : 16;
        }
        dfile_t *f = &v[n++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        f->keys = key_file(f->name);
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->size = st.st_size;
        f->mtime = st.st_mtim;
        f->jfd = -1;
    }
    closedir(d);
    *out = v;
    *nout = n;
    return 0;
}

static bool same_stat(const dfile_t *a, const dfile_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Loads zone file f (its journal replayed) into st->zone, or marks it
 * failed. Returns 0 when it loaded. */
static int load_zone(store_dir_t *sd, dfile_t *f, srv_stored_t *st, bool replay)
{
    char path[PATH_MAX];
    static const uint8_t root[1] = {0};
    path_of(sd, f->name, path, sizeof path);
    srv_load_report_t lr = {path, 0};
    zone_report_t rep = {srv_load_report, &lr};
    memset(st, 0, sizeof *st);
    int rc = dns_name_from_text(f->name, strlen(f->name), root, f->origin);
    if (rc < 0) {
        srv_log_raw("%s: the file name is not a zone name (%s)", path, zl_strerror(rc));
        return -1;
    }
    dns_name_copy(st->origin, f->origin);
    zone_t *z = NULL;
    rc = zone_load_file(path, f->origin, &z, &rep);
    srv_load_report_end(&lr);
    if (rc != ZL_OK) {
        srv_log("%s: not loaded (%s)", path, zl_strerror(rc));
        st->failed = true;
        return -1;
    }
    if (replay)
        journal_replay(sd, f, &z);
    st->zone = z;
    return 0;
}

/* Every key file parsed into a new keyring (problems logged). */
static zone_keyring_t *load_keys(store_dir_t *sd)
{
    zone_keyring_t *kr = zone_keyring_new();
    for (size_t i = 0; kr && i < sd->nfiles; i++) {
        const dfile_t *f = &sd->files[i];
        if (!f->keys)
            continue;
        char path[PATH_MAX];
        path_of(sd, f->name, path, sizeof path);
        srv_load_report_t lr = {path, 0};
        zone_report_t rep = {srv_load_report, &lr};
        uint8_t zone[DNS_NAME_MAX];
        static const uint8_t root[1] = {0};
        size_t n = strlen(f->name);
        const uint8_t *scope = NULL;
        if (n > 6 && dns_name_from_text(f->name, n - 6, root, zone) > 0)
            scope = zone;
        if (zone_keyring_load(kr, NULL, path, scope, &rep) != ZL_OK)
            srv_log("%s: some keys not loaded", path);
    }
    return kr;
}

static int listing_add(srv_loaded_t *l, size_t *cap, const srv_stored_t *st)
{
    if (l->nzones == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        srv_stored_t *n = realloc(l->zones, c * sizeof *n);
        if (!n)
            return -1;
        l->zones = n;
        *cap = c;
    }
    l->zones[l->nzones++] = *st;
    return 0;
}

void srv_loaded_free(srv_loaded_t *l)
{
    for (size_t i = 0; i < l->nzones; i++)
        zone_free(l->zones[i].zone);
    free(l->zones);
    zone_keyring_free(l->keys);
    memset(l, 0, sizeof *l);
}

/* ---- the store's operations ----------------------------------------------- */

static dfile_t *file_add(store_dir_t *sd, const dfile_t *f)
{
    if (sd->nfiles == sd->cap) {
        size_t c = sd->cap ? 2 * sd->cap : 16;
        dfile_t *n = realloc(sd->files, c * sizeof *n);
        if (!n)
            return NULL;
        sd->files = n;
        sd->cap = c;
    }
    sd->files[sd->nfiles] = *f;
    return &sd->files[sd->nfiles++];
}

static void file_remove(store_dir_t *sd, dfile_t *f)
{
    file_close(f);
    *f = sd->files[--sd->nfiles];
}

/* A zone file changed under us: its content wins over the journal
 * entries not yet written into it (an operator's edit, a restore). */
static void journal_reset(store_dir_t *sd, dfile_t *f)
{
    char path[PATH_MAX];
    if (!f->jbytes)
        return;
    journal_path(sd, f->name, "journal", path, sizeof path);
    srv_log("%s/%s: changed on disk while %zu octets of updates were not yet written into it: "
            "the file's content wins", sd->dir, f->name, f->jbytes);
    if (f->jfd >= 0 && ftruncate(f->jfd, 0) != 0)
        srv_log("%s: cannot empty the journal: %s", path, strerror(errno));
    f->jbytes = 0;
}

/* Rescans: loads the zone files that are new or changed (only the one
 * of origin `only` when given), the keys when a key file changed, and
 * lists the zone files that are gone. */
static int dir_scan(store_dir_t *sd, const uint8_t *only, bool first, srv_loaded_t *out)
{
    dfile_t *now;
    size_t n, cap = 0;
    time_t t = time(NULL);
    bool keys_changed = first;
    static const uint8_t root[1] = {0};
    if (scan(sd, &now, &n) != 0)
        return -1;
    for (size_t i = 0; i < sd->nfiles; i++)
        sd->files[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        dfile_t *f = &now[i], *old = file_find(sd, f->name);
        /* A file written in the second of the last scan may have changed
         * again since without a new mtime (coarse timestamps): look again
         * ("racy clean", as git does). */
        bool unchanged = old && same_stat(old, f) && f->mtime.tv_sec + 1 < sd->scanned;
        if (!f->keys && only) {
            uint8_t origin[DNS_NAME_MAX];
            bool ours = dns_name_from_text(f->name, strlen(f->name), root, origin) > 0 &&
                        dns_name_equal(origin, only);
            if (!ours) {
                if (old)
                    old->seen = true;
                continue;
            }
        }
        if (!old && !(old = file_add(sd, f)))
            break;
        old->seen = true;
        if (unchanged)
            continue;
        old->dev = f->dev;
        old->ino = f->ino;
        old->size = f->size;
        old->mtime = f->mtime;
        if (old->keys) {
            keys_changed = true;
            continue;
        }
        bool known = old->latest != NULL;
        if (known)
            journal_reset(sd, old);
        srv_stored_t st;
        load_zone(sd, old, &st, !known);
        if ((st.zone || st.failed) && listing_add(out, &cap, &st) != 0)
            zone_free(st.zone);
    }
    free(now);
    for (size_t i = sd->nfiles; i-- > 0;) {
        dfile_t *f = &sd->files[i];
        if (f->seen)
            continue;
        if (f->keys) {
            keys_changed = true;
        } else {
            srv_stored_t gone;
            memset(&gone, 0, sizeof gone);
            dns_name_copy(gone.origin, f->origin);
            (void)listing_add(out, &cap, &gone);
            char path[PATH_MAX];
            journal_path(sd, f->name, "journal", path, sizeof path);
            (void)unlink(path);
        }
        file_remove(sd, f);
    }
    if (keys_changed)
        out->keys = load_keys(sd);
    sd->scanned = t;
    return 0;
}

static int dir_load(srv_store_t *s, srv_loaded_t *out)
{
    store_dir_t *sd = (store_dir_t *)s;
    memset(out, 0, sizeof *out);
    out->complete = true;
    return dir_scan(sd, NULL, true, out);
}

static int dir_reload(srv_store_t *s, const uint8_t *origin, srv_loaded_t *out)
{
    store_dir_t *sd = (store_dir_t *)s;
    memset(out, 0, sizeof *out);
    return dir_scan(sd, origin, false, out);
}

static int dir_commit(srv_store_t *s, const srv_commit_t *c, size_t n)
{
    store_dir_t *sd = (store_dir_t *)s;
    dfile_t *touched[64];
    size_t before[64], nt = 0;
    int rc = ZL_OK;
    for (size_t i = 0; i < n && rc == ZL_OK; i++) {
        dfile_t *f = file_by_origin(sd, c[i].origin);
        if (!f) {
            rc = ZL_ENOTFOUND;
            break;
        }
        size_t k = 0;
        while (k < nt && touched[k] != f)
            k++;
        if (k == nt) {
            if (nt == 64) {
                rc = ZL_ENOMEM;
                break;
            }
            if (journal_open(sd, f) != 0) {
                rc = ZL_EIO;
                break;
            }
            touched[nt] = f;
            before[nt++] = f->jbytes;
        }
        rc = journal_append(sd, f, c[i].diff);
    }
    /* One sync per journal for the whole batch (group commit). */
    for (size_t k = 0; k < nt && rc == ZL_OK; k++)
        if (fdatasync(touched[k]->jfd) != 0)
            rc = ZL_EIO;
    if (rc != ZL_OK) {
        srv_log("%s: cannot make the changes durable (%s): none of them applied", sd->dir,
                rc == ZL_EIO ? strerror(errno) : zl_strerror(rc));
        for (size_t k = 0; k < nt; k++) {
            if (ftruncate(touched[k]->jfd, (off_t)before[k]) == 0)
                touched[k]->jbytes = before[k];
        }
        return rc;
    }
    uint64_t t = srv_mono_ms();
    for (size_t k = 0; k < nt; k++)
        touched[k]->jlast_ms = t;
    for (size_t i = 0; i < n; i++) {
        dfile_t *f = file_by_origin(sd, c[i].origin);
        zone_free(f->latest);
        f->latest = zone_ref((zone_t *)c[i].zone);
    }
    return ZL_OK;
}

/* ---- compaction: the zone file rewritten from a version ------------------ */

typedef struct compact {
    store_dir_t *sd;
    char name[NAME_MAX + 1];
    zone_t *zone;            /* the version written (a reference) */
    int rc;
    struct stat st;          /* of the file written */
} compact_t;

/* On the helper thread: the version into a temporary file, synced, then
 * renamed over the zone file, and the folder synced. */
static void compact_run(void *arg)
{
    compact_t *c = arg;
    char tmp[PATH_MAX], path[PATH_MAX];
    journal_path(c->sd, c->name, "zone-tmp", tmp, sizeof tmp);
    path_of(c->sd, c->name, path, sizeof path);
    c->rc = ZL_EIO;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    int rc = zone_print(c->zone, f);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = ZL_EIO;
    if (fclose(f) != 0)
        rc = ZL_EIO;
    if (rc == ZL_OK && rename(tmp, path) == 0 && fsync_dir(c->sd->dir) == 0 &&
        stat(path, &c->st) == 0)
        c->rc = ZL_OK;
    else
        (void)unlink(tmp);
}

/* Back on the writer's thread: the file is ours (not an outside edit),
 * and the journal keeps only what came after the version written. */
static void compact_done(void *arg)
{
    compact_t *c = arg;
    store_dir_t *sd = c->sd;
    dfile_t *f = file_find(sd, c->name);
    if (f)
        f->compacting = false;
    if (f && c->rc == ZL_OK) {
        f->dev = c->st.st_dev;
        f->ino = c->st.st_ino;
        f->size = c->st.st_size;
        f->mtime = c->st.st_mtim;
        char path[PATH_MAX], tmp[PATH_MAX];
        journal_path(sd, f->name, "journal", path, sizeof path);
        journal_path(sd, f->name, "journal-tmp", tmp, sizeof tmp);
        uint8_t *buf;
        size_t len, keep_from = 0;
        uint32_t serial = zone_serial(c->zone);
        if (read_file(path, &buf, &len) == 0) {
            /* Keep from the first change that starts at or after the
             * serial written: those came while the file was written. */
            dns_wire_t w;
            dns_wire_init_ro(&w, buf, len);
            keep_from = len;
            for (size_t at = 0; at < len;) {
                zone_diff_t *d = NULL;
                dns_wire_seek(&w, at);
                if (zone_diff_decode(&w, &d) != ZL_OK)
                    break;
                bool newer = dns_serial_cmp(zone_diff_from(d), serial) >= 0;
                zone_diff_free(d);
                if (newer) {
                    keep_from = at;
                    break;
                }
                at = w.pos;
            }
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            bool ok = fd >= 0 && (len - keep_from == 0 ||
                                  write(fd, buf + keep_from, len - keep_from) == (ssize_t)(len - keep_from)) &&
                      fsync(fd) == 0;
            if (fd >= 0)
                close(fd);
            if (ok && rename(tmp, path) == 0) {
                if (f->jfd >= 0)
                    close(f->jfd);
                f->jfd = -1;
                (void)journal_open(sd, f);
            } else {
                (void)unlink(tmp);
            }
            free(buf);
        }
    } else if (c->rc != ZL_OK) {
        srv_log("%s/%s: cannot write the zone file: %s (the journal keeps the changes)", sd->dir,
                c->name, strerror(errno));
    }
    zone_free(c->zone);
    free(c);
}

static void compact_start(store_dir_t *sd, dfile_t *f)
{
    compact_t *c = calloc(1, sizeof *c);
    if (!c || !f->latest)
        goto fail;
    c->sd = sd;
    snprintf(c->name, sizeof c->name, "%s", f->name);
    c->zone = zone_ref(f->latest);
    if (sd->jobs->submit(sd->jobs->self, compact_run, compact_done, c) != 0) {
        zone_free(c->zone);
        goto fail;
    }
    f->compacting = true;
    return;
fail:
    free(c);
}

static void dir_published(srv_store_t *s, const uint8_t *origin, const zone_t *zone)
{
    store_dir_t *sd = (store_dir_t *)s;
    dfile_t *f = file_by_origin(sd, origin);
    if (!f || !zone)
        return;
    zone_free(f->latest);
    f->latest = zone_ref((zone_t *)zone);
    if (f->jbytes >= COMPACT_BYTES && !f->compacting)
        compact_start(sd, f);
}

static bool dir_tick(srv_store_t *s)
{
    store_dir_t *sd = (store_dir_t *)s;
    uint64_t t = srv_mono_ms();
    for (size_t i = 0; i < sd->nfiles; i++) {
        dfile_t *f = &sd->files[i];
        if (!f->keys && f->jbytes && !f->compacting && t - f->jlast_ms >= COMPACT_AFTER_MS)
            compact_start(sd, f);
    }
    return false;
}

static int dir_file_read(srv_store_t *s, const char *name, uint8_t **data, size_t *len)
{
    store_dir_t *sd = (store_dir_t *)s;
    char path[PATH_MAX];
    path_of(sd, name, path, sizeof path);
    if (read_file(path, data, len) == 0)
        return ZL_OK;
    if (errno == ENOENT)
        return ZL_ENOTFOUND;
    srv_log("%s: cannot read: %s", path, strerror(errno));
    return ZL_EIO;
}

/* A new file beside the journals, synced, renamed over the old one, and
 * the folder synced: the old content or the new one, never a mix. */
static int dir_file_write(srv_store_t *s, const char *name, const uint8_t *data, size_t len,
                          const char *who)
{
    store_dir_t *sd = (store_dir_t *)s;
    char tmp[PATH_MAX], path[PATH_MAX], jdir[PATH_MAX];
    (void)who;
    snprintf(jdir, sizeof jdir, "%s/" JOURNAL_DIR, sd->dir);
    if (mkdir(jdir, 0755) == 0)
        (void)fsync_dir(sd->dir);
    journal_path(sd, name, "tmp", tmp, sizeof tmp);
    path_of(sd, name, path, sizeof path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = fd >= 0 && done == len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) == 0 && fsync_dir(sd->dir) == 0)
        return ZL_OK;
    srv_log("%s: cannot write: %s", path, strerror(errno));
    (void)unlink(tmp);
    return ZL_EIO;
}

static void dir_free(srv_store_t *s)
{
    store_dir_t *sd = (store_dir_t *)s;
    for (size_t i = 0; i < sd->nfiles; i++)
        file_close(&sd->files[i]);
    free(sd->files);
    free(sd);
}

srv_store_t *srv_store_dir_new(const char *dir, const srv_jobs_t *jobs)
{
    store_dir_t *sd = calloc(1, sizeof *sd);
    if (!sd)
        return NULL;
    sd->dir = dir;
    sd->jobs = jobs;
    sd->base = (srv_store_t){.load = dir_load, .reload = dir_reload, .commit = dir_commit,
                             .published = dir_published, .tick = dir_tick,
                             .file_read = dir_file_read, .file_write = dir_file_write,
                             .free = dir_free};
    return &sd->base;
}
