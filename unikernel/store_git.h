/* The git store (--remote URL[#BRANCH]): the zones of a branch of a git
 * remote, in primary-git's layout (DESIGN.md "Storage in git"): flat,
 * one master file per zone named after the zone, `_keys` and
 * `<zone>._keys`; sub-folders, dotfiles and symlinks are ignored, each
 * with one log line.
 *
 * - Load: fetch the branch into the cache (--cache) and read its head.
 *   A remote that cannot be reached leaves the cache's last good commit
 *   in service, and the fetch is retried with backoff (2 s doubling to
 *   5 min) until it works.
 * - Commit: the changed zones written as master files (canonical form)
 *   in one commit on top of the head (author --author, committer
 *   zonelet), pushed; success only when the remote accepted it. The
 *   remote moved on: ZL_ECONFLICT (the writer reloads, re-applies and
 *   retries). Down or refusing: the error, logged with the remote's
 *   message; the cache's head stays where it was.
 * - Reload (a signed NOTIFY from a post-receive hook, SIGHUP, --poll):
 *   fetch; the zone files whose blobs changed are parsed again, those
 *   gone are removed, new ones served; a broken one is logged with the
 *   commit id, file and line and its old version stays.
 * - SRV_STORE_ACME (the ACME account key) is a file of the branch that is
 *   never loaded as a zone: file_read reads it from the commit in
 *   service, file_write commits it alone and pushes.
 * Every network wait is bounded by --push-timeout (gitstore/gitstore.h).
 */
#ifndef ZL_UNIKERNEL_STORE_GIT_H
#define ZL_UNIKERNEL_STORE_GIT_H

#include "unikernel/config.h"
#include "unikernel/store.h"

/* A store on cfg's remote (cfg borrowed, must outlive it). NULL when the
 * options are unusable (logged: a bad URL, a missing ssh key...). */
srv_store_t *srv_store_git_new(const srv_config_t *cfg);

#endif
