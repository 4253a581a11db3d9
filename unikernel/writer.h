/* The change path: one thread through which every change to every zone
 * goes, in order (DESIGN.md "Data and concurrency", "The change path").
 *
 * Changes are UPDATEs (from the message layer, srv_changes_t), reloads
 * from the store (SIGHUP, a signed NOTIFY from a hook, later a git poll)
 * and the background's compactions. The writer takes whatever queued
 * while it worked as one batch: reloads first (already durable in the
 * store), then each UPDATE on the latest version of its zone (RFC 2136
 * semantics in zone/update.c, the result checked like a loaded zone by
 * zone/apply.c); then one store commit for all accepted UPDATEs (group
 * commit: one fsync or one push for the batch); then one publication of
 * the new snapshot (one pointer swap), the answers, the NOTIFYs, and one
 * log line per change. A change the store could not make durable is
 * answered SERVFAIL and changes nothing anywhere. Query workers never
 * wait on any of it.
 *
 * A helper thread runs the long jobs (a flat rebuild of a zone whose
 * overlay grew, the directory store's zone file rewrite) so the writer
 * keeps taking changes meanwhile.
 */
#ifndef ZL_UNIKERNEL_WRITER_H
#define ZL_UNIKERNEL_WRITER_H

#include "unikernel/config.h"
#include "unikernel/notifier.h"
#include "unikernel/process.h"
#include "unikernel/publish.h"
#include "unikernel/store.h"

typedef struct srv_writer srv_writer_t;

/* A writer publishing to pub and notifying through notifier (both
 * borrowed; notifier may be NULL), with cfg's limits and NOTIFY targets
 * (borrowed). extra_keys[0..nextra): keys from the command line
 * (copied), served beside the store's. NULL on failure. */
srv_writer_t *srv_writer_new(const srv_config_t *cfg, srv_publish_t *pub,
                             srv_notifier_t *notifier, const zone_key_t *extra_keys,
                             size_t nextra);

/* Gives the writer its store (taken: freed with the writer). The store
 * is made with srv_writer_jobs(w), hence the separate step. */
void srv_writer_set_store(srv_writer_t *w, srv_store_t *store);

/* Loads the store and publishes the first snapshot (on the caller's
 * thread, before any worker starts). Returns 0, or -1 when the store
 * cannot be read. */
int srv_writer_load(srv_writer_t *w);

/* Starts and stops the writer's threads. Stop answers what is still
 * queued (SERVFAIL) and waits for the helper's job in flight. */
int srv_writer_start(srv_writer_t *w);
void srv_writer_stop(srv_writer_t *w);
void srv_writer_free(srv_writer_t *w);

/* The writer as the message layer's change path (valid for w's life). */
const srv_changes_t *srv_writer_changes(srv_writer_t *w);

/* Makes the diff of a change of the appliance's own (ACME challenge and
 * certificate records) from z, the zone's latest version: *out gets a
 * sealed diff (one reference) or NULL for no change. Runs on the
 * writer's thread. Returns ZL_OK or an error (nothing changes). */
typedef int (*srv_change_fn)(void *arg, const zone_t *z, zone_diff_t **out);

/* Queues a change of zone origin made by make(arg, ...), which then goes
 * the way an UPDATE goes: checked like a loaded zone, made durable in
 * the store (a commit with who in its message), published, journaled,
 * NOTIFYed. done(arg, rc) is called once, on the writer's thread: ZL_OK
 * when the change is durable and served (or there was nothing to
 * change), ZL_ENOTFOUND (no such zone), ZL_EZONE (it would break a zone
 * rule), ZL_EIO (the store could not make it durable). Returns ZL_OK, or
 * an error when it cannot be queued (then done is never called).
 * Thread-safe. */
int srv_writer_change(srv_writer_t *w, const uint8_t *origin, srv_change_fn make,
                      void (*done)(void *arg, int rc), void *arg, const char *who);

/* Told the outcome of a file request: rc, and for a read the file's
 * content (data taken by the callee: free(); NULL on error). */
typedef void (*srv_file_fn)(void *arg, int rc, uint8_t *data, size_t len);

/* Queues a read of the store's non-zone file name (copied; see
 * store.h's file_read: SRV_STORE_ACME), done on the writer's thread
 * after what was queued before it. done(arg, rc, data, len) is called
 * once, on the writer's thread: ZL_OK, ZL_ENOTFOUND (no such file),
 * ZL_EIO. Returns ZL_OK, or an error when it cannot be queued (then
 * done is never called). Thread-safe. */
int srv_writer_file_read(srv_writer_t *w, const char *name, srv_file_fn done, void *arg);

/* Queues a write of data[0..len) (copied) as that file, made durable in
 * the store (the git store: a commit with who in its message, pushed;
 * when the remote moved on, reloaded and tried again). done(arg, rc,
 * NULL, 0) as above: ZL_OK when durable, else the store's error. */
int srv_writer_file_write(srv_writer_t *w, const char *name, const uint8_t *data, size_t len,
                          const char *who, srv_file_fn done, void *arg);

/* Queues a reload of everything from the store (SIGHUP). */
void srv_writer_reload_all(srv_writer_t *w, const char *why);

/* The background jobs interface the store uses (valid for w's life). */
const srv_jobs_t *srv_writer_jobs(srv_writer_t *w);

#endif
