/* The directory store (--zones DIR): plain master files, one per zone
 * named after the zone, key files `_keys` and `<zone>._keys` (DESIGN.md
 * "Storage in git", the same layout), and an append-only journal per
 * zone in DIR/.zonelet/<zone>.journal.
 *
 * - A commit appends each accepted change (the diff) to its zone's
 *   journal and syncs (fdatasync) before returning: one sync per zone
 *   per batch, however many UPDATEs the batch holds (group commit).
 * - At start each zone file is loaded and its journal replayed onto it;
 *   a torn record at the end (a crash mid-append) is cut off and logged.
 * - In the background the latest version is written into the zone file
 *   (canonical master-file form, via a temporary file and rename) and
 *   the journal trimmed, a second after the last change or when the
 *   journal passes 1 MiB: one update never costs a rewrite of the zone.
 * - Reloads look at file metadata: a zone file changed by someone else
 *   wins over the journal entries not yet written into it (logged).
 * - Dotfiles, sub-folders and other non-regular files are skipped, and
 *   so is SRV_STORE_ACME (the ACME account key, written mode 0600 by
 *   file_write: a temporary file in .zonelet/, synced, renamed in).
 */
#ifndef ZL_UNIKERNEL_STORE_DIR_H
#define ZL_UNIKERNEL_STORE_DIR_H

#include "unikernel/store.h"

/* A store on dir (borrowed, must outlive it), with background work going
 * through jobs (borrowed). NULL on ENOMEM. */
srv_store_t *srv_store_dir_new(const char *dir, const srv_jobs_t *jobs);

#endif
