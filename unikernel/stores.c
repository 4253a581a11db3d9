/* Both stores (unikernel/stores.h): the hosted build and the full
 * appliance image link this file. */
#include "unikernel/log.h"
#include "unikernel/store_dir.h"
#include "unikernel/store_git.h"
#include "unikernel/stores.h"

srv_store_t *srv_store_open(const srv_config_t *cfg, const srv_jobs_t *jobs)
{
    if (cfg->remote)
        return srv_store_git_new(cfg); /* it says why when it cannot */
    srv_store_t *s = srv_store_dir_new(cfg->zones_dir, jobs);
    if (!s)
        srv_log("out of memory");
    return s;
}
