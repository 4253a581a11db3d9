/* The store a configuration names, chosen at link time.
 *
 * Each build links exactly one of the files that define srv_store_open:
 *  - stores.c: the directory store (--zones) and the git store
 *    (--remote, libgit2): the hosted server and build/uk/zonelet.*;
 *  - stores_dironly.c: the directory store only, no libgit2 in the
 *    image: build/uk/zonelet-dns.* (mk/unikernel.mk).
 * Nothing else in the server knows which it got.
 */
#ifndef ZL_UNIKERNEL_STORES_H
#define ZL_UNIKERNEL_STORES_H

#include "unikernel/config.h"
#include "unikernel/store.h"

/* The store for cfg (borrowed, must outlive it): git when cfg->remote is
 * set, else the directory cfg->zones_dir with background work through
 * jobs (borrowed). NULL when it cannot be made: the reason is logged
 * (a bad remote, no git store in this build, out of memory). */
srv_store_t *srv_store_open(const srv_config_t *cfg, const srv_jobs_t *jobs);

#endif
