/* Stores: where the zones live durably, behind the change path.
 *
 * The change path (writer.c) is a store's only user and calls it from
 * its own thread, so a store needs no locks of its own. Two kinds: the
 * zones directory (store_dir.c: master files, an append-only journal per
 * zone) and git (store_git.c). Both follow one contract:
 *  - load/reload give the zones as the store has them (already durable);
 *  - commit makes accepted changes durable, all of them or none, before
 *    the writer publishes them or answers anyone;
 *  - a zone or key file that does not load is reported (file and line)
 *    and left out; the writer keeps serving its previous version.
 */
#ifndef ZL_UNIKERNEL_STORE_H
#define ZL_UNIKERNEL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "zone/diff.h"
#include "zone/keys.h"
#include "zone/zone.h"

/* One zone as the store has it now. */
typedef struct srv_stored {
    uint8_t origin[DNS_NAME_MAX];
    zone_t *zone;            /* its content (a reference, taken by the receiver);
                              * NULL: the zone is gone from the store, or failed */
    bool failed;             /* it is there but did not load: keep the old version */
} srv_stored_t;

/* What a load or a reload found. */
typedef struct srv_loaded {
    srv_stored_t *zones;     /* owned (free with srv_loaded_free) */
    size_t nzones;
    bool complete;           /* every zone of the store is listed (zones not
                              * listed are gone); else only those that changed */
    zone_keyring_t *keys;    /* the store's keys when they changed (a reference,
                              * taken by the receiver), else NULL */
    char revision[64];       /* what was read ("" for a directory; a commit id) */
} srv_loaded_t;

void srv_loaded_free(srv_loaded_t *l);

/* One accepted change, to make durable. */
typedef struct srv_commit {
    const uint8_t *origin;
    const zone_diff_t *diff;     /* from the served version to zone */
    const zone_t *zone;          /* the new version */
    const char *who;             /* "key NAME from ADDR", for logs and commit messages */
} srv_commit_t;

/* Background work a store can hand to the change path's helper thread:
 * run(arg) there, then done(arg) back on the change path's thread. */
typedef struct srv_jobs {
    int (*submit)(void *self, void (*run)(void *arg), void (*done)(void *arg), void *arg);
    void *self;
} srv_jobs_t;

typedef struct srv_store {
    /* Everything the store holds (complete). Returns 0, or -1 when the
     * store cannot be read at all (logged). */
    int (*load)(struct srv_store *s, srv_loaded_t *out);
    /* What changed since the last load or reload: zone origin only (a
     * NOTIFY from a hook), or everything (origin NULL: SIGHUP, a poll).
     * Returns 0 or -1 (logged; nothing changes). */
    int (*reload)(struct srv_store *s, const uint8_t *origin, srv_loaded_t *out);
    /* Makes c[0..n) durable, in order, or none of them. Returns ZL_OK,
     * ZL_ECONFLICT (the store moved on: reload, re-apply, retry), or
     * another error (logged). */
    int (*commit)(struct srv_store *s, const srv_commit_t *c, size_t n);
    /* The writer published these versions (after a commit or a reload):
     * the store may start housekeeping for them (the directory store
     * writes the zone file from a version and trims its journal, in the
     * background through jobs). zone NULL: the zone was removed. */
    void (*published)(struct srv_store *s, const uint8_t *origin, const zone_t *zone);
    /* Called about once a second while the writer is idle: time-driven
     * housekeeping (the directory store's journal compaction). Returns
     * true when a reload of everything is due (git: the --poll timer, or
     * a retry after the remote was unreachable). */
    bool (*tick)(struct srv_store *s);
    /* Reads one file of the store that holds no zone (SRV_STORE_ACME:
     * the ACME account key) as the store has it now: *data (the
     * caller's, free()) gets its *len octets. ZL_OK, ZL_ENOTFOUND (no
     * such file), ZL_EIO, ZL_ENOMEM. Its content is never logged. */
    int (*file_read)(struct srv_store *s, const char *name, uint8_t **data, size_t *len);
    /* Makes data[0..len) (borrowed) that file's content, durably: the
     * directory store writes a new file (mode 0600), syncs it and renames
     * it in; the git store commits it (who in the message) and pushes.
     * ZL_OK, ZL_ECONFLICT (the store moved on: reload, retry), or another
     * error (logged). */
    int (*file_write)(struct srv_store *s, const char *name, const uint8_t *data, size_t len,
                      const char *who);
    void (*free)(struct srv_store *s);
} srv_store_t;

/* The one non-zone file the stores keep (besides the key files): the
 * ACME account key, PEM. Never loaded as a zone. */
#define SRV_STORE_ACME "_acme"

#endif
