/* NOTIFY out (RFC 1996): after a change of a zone, one NOTIFY to each of
 * its targets, retransmitted with backoff until answered or given up.
 *
 * One thread, its own UDP sockets (one per address family, ephemeral
 * ports), never in the way of queries or of the writer: scheduling only
 * queues. Messages carry the zone's SOA in the answer section (§3.7)
 * and AA (§3.7); a newer schedule for a zone replaces what is still
 * pending for the same target (only the latest serial matters, §4.2).
 * Each outcome is one log line: answered (with the rcode), or given up.
 */
#ifndef ZL_UNIKERNEL_NOTIFIER_H
#define ZL_UNIKERNEL_NOTIFIER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct srv_notifier srv_notifier_t;

/* Retransmission: after retry_ms, then twice as long each time, without
 * an answer (five tries: 1, 2, 4, 8, 16 s by default), the target is
 * given up. */
#define SRV_NOTIFY_TRIES 5
#define SRV_NOTIFY_RETRY_MS 1000

/* A notifier with its sockets, first retransmission after retry_ms
 * (SRV_NOTIFY_RETRY_MS; tests use less); not started. NULL on failure. */
srv_notifier_t *srv_notifier_new(unsigned retry_ms);
int srv_notifier_start(srv_notifier_t *n);
/* Stops the thread (pending NOTIFYs are dropped) and joins it. */
void srv_notifier_stop(srv_notifier_t *n);
void srv_notifier_free(srv_notifier_t *n);

/* Queues one NOTIFY of zone origin with its SOA record (soa_rdata,
 * soa_ttl: the version just published) to each of targets[0..ntargets)
 * (all borrowed, copied). Returns 0, or -1 when out of memory (logged). */
int srv_notifier_send(srv_notifier_t *n, const uint8_t *origin, const uint8_t *soa_rdata,
                      uint16_t soa_len, uint32_t soa_ttl, const struct sockaddr_storage *targets,
                      size_t ntargets);

#endif
