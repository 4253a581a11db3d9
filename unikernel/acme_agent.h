/* The built-in ACME client: certificates for the CSRs stored in the
 * zones (primary-git's convention, unikernel/acme_tlsa.h), obtained from
 * --acme-directory with DNS-01 solved through the change path.
 *
 * One thread of its own: it never runs on a query worker and never
 * blocks the writer (it hands the writer changes and waits for their
 * outcome; the HTTP and the polls happen on its thread).
 *
 * What it watches: once a second it takes the published snapshot
 * through a reader slot of its own and compares each zone with the
 * version it saw last (a pointer compare while it holds a reference:
 * nothing to do when nothing was published). A zone that changed is
 * read again: through the version's IXFR journal when it reaches back
 * to the version seen (only the owners the change touched), else whole.
 * A timer rather than a call from the writer after each publication:
 * the writer stays unaware of ACME, an idle appliance costs one pointer
 * compare per zone per second, and a second of delay is nothing beside
 * an issuance.
 *
 * For each `_letsencrypt._tcp.<name>` with a CSR it decides
 * (srv_acme_decide): every name of the CSR must lie in a zone served
 * here, outside any delegation (else one log line, no order, until the
 * CSR changes); no certificate, one that does not answer the CSR (other
 * key, other names), or one that is due for renewal (less than a third
 * of its validity left, or --acme-renew-days) means an order. The
 * order's challenge TXT records are added through srv_writer_change
 * (the CA is told to validate only once the writer says the record is
 * durable and served) and removed after; the chain is stored beside the
 * CSR, replacing the previous one, through srv_writer_change (a commit
 * of its own with the git store). Failures back off (srv_acme_backoff).
 * Each step is logged with the order URL.
 *
 * The account key lives in the store (SRV_STORE_ACME, read and written
 * through the writer): made and stored before the first order, read at
 * every start, never logged.
 */
#ifndef ZL_UNIKERNEL_ACME_AGENT_H
#define ZL_UNIKERNEL_ACME_AGENT_H

#include <stdint.h>

#include "unikernel/acme_tlsa.h"
#include "unikernel/config.h"
#include "unikernel/publish.h"
#include "unikernel/writer.h"
#include "zone/zoneset.h"

typedef struct srv_acme srv_acme_t;

/* An agent for cfg's --acme-* options (cfg borrowed), reading the zones
 * through reader slot `slot` of pub and changing them through w (both
 * borrowed, must outlive it). NULL when it cannot be made, the reason
 * logged (out of memory; no ACME client in this image: acme_none.c). */
srv_acme_t *srv_acme_new(const srv_config_t *cfg, srv_publish_t *pub, unsigned slot,
                         srv_writer_t *w);

/* Starts its thread (0 or an errno value). */
int srv_acme_start(srv_acme_t *a);

/* Stops it: an order under way is abandoned at its next wait (its TXT
 * records are removed first), an HTTP request in flight ends within its
 * timeout. Call it before the writer stops. */
void srv_acme_stop(srv_acme_t *a);

/* Stops if needed and frees (NULL is fine). */
void srv_acme_free(srv_acme_t *a);

/* ---- the decisions, exposed for the unit tests ---- */

typedef enum srv_acme_action {
    SRV_ACME_KEEP,    /* the certificate answers the CSR and is not due */
    SRV_ACME_ORDER,   /* order one */
    SRV_ACME_REFUSE   /* the CSR cannot be served here: log, wait for a new one */
} srv_acme_action_t;

/* What to do about the TLSA records s of one owner (s->ncsr >= 1) at
 * time now (seconds since the Epoch), with zones the zones served.
 * renew_days < 0: renew when less than a third of the certificate's
 * validity remains, else when less than renew_days days remain.
 * *renew_at gets the renewal time of the certificate there (KEEP and a
 * renewal ORDER), why[0..cap) one line saying why. */
srv_acme_action_t srv_acme_decide(const zone_set_t *zones, const srv_tlsa_set_t *s, int64_t now,
                                  int renew_days, int64_t *renew_at, char *why, size_t cap);

/* Seconds to wait before the next attempt after `failures` failed ones
 * in a row (>= 1): 60 s doubling, at most a day. */
int64_t srv_acme_backoff(unsigned failures);

#endif
