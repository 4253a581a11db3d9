/* The directory store only (unikernel/stores.h): the appliance image
 * without libgit2 (build/uk/zonelet-dns.*) links this file instead of
 * stores.c, so nothing in it reaches the git store. */
#include "unikernel/log.h"
#include "unikernel/store_dir.h"
#include "unikernel/stores.h"

srv_store_t *srv_store_open(const srv_config_t *cfg, const srv_jobs_t *jobs)
{
    if (cfg->remote) {
        srv_log("--remote %s: this image has no git store (zonelet-dns: "
                "--zones only; the full image zonelet has both)", cfg->remote);
        return NULL;
    }
    srv_store_t *s = srv_store_dir_new(cfg->zones_dir, jobs);
    if (!s)
        srv_log("out of memory");
    return s;
}
