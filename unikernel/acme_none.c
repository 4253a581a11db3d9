/* No ACME client (unikernel/acme_agent.h): the DNS-only appliance image
 * (build/uk/zonelet-dns.*) links this file instead of acme_agent.c, so
 * neither the client nor TLS and X.509 are in it. --acme-directory is
 * refused at start with the reason; the full image zonelet has it. */
#include <stddef.h>

#include "unikernel/acme_agent.h"
#include "unikernel/log.h"

srv_acme_t *srv_acme_new(const srv_config_t *cfg, srv_publish_t *pub, unsigned slot,
                         srv_writer_t *w)
{
    (void)pub;
    (void)slot;
    (void)w;
    srv_log("--acme-directory %s: this image has no ACME client (zonelet-dns: DNS "
            "only; the full image zonelet has it)", cfg->acme_directory);
    return NULL;
}

int srv_acme_start(srv_acme_t *a)
{
    (void)a;
    return 0;
}

void srv_acme_stop(srv_acme_t *a)
{
    (void)a;
}

void srv_acme_free(srv_acme_t *a)
{
    (void)a;
}
