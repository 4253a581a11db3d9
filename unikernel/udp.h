/* UDP query workers: one socket and one thread per (worker, address),
 * sockets sharing the port through SO_REUSEPORT so the kernel spreads
 * clients over the workers. Each thread receives with recvmmsg in
 * batches, answers each query with srv_process into its own buffers and
 * sends the batch with sendmmsg: no heap allocation and no lock per
 * query.
 */
#ifndef ZL_UNIKERNEL_UDP_H
#define ZL_UNIKERNEL_UDP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "unikernel/config.h"
#include "unikernel/zones.h"

#define SRV_UDP_BATCH 64
#define SRV_UDP_RXMAX 4096   /* larger datagrams are cut (MSG_TRUNC): FORMERR */

typedef struct srv_udp srv_udp_t;

/* Opens a UDP socket bound to sa (SO_REUSEPORT, IPV6_V6ONLY for IPv6).
 * With dontfrag, replies go out with DF set on IPv4 and without
 * fragmentation on IPv6 (RFC 9715: fragmented DNS over UDP is a spoofing
 * vector; use it when replies fit the minimum MTU, udp_max <= 1232).
 * Returns the descriptor or -errno. */
int srv_udp_open(const struct sockaddr *sa, socklen_t len, bool dontfrag);

/* A worker on fd (taken: closed by srv_udp_free) answering from zones
 * through hazard slot `slot`; cfg and stop are borrowed and must outlive
 * it. Returns NULL on ENOMEM. */
srv_udp_t *srv_udp_new(int fd, unsigned slot, srv_zones_t *zones, const srv_config_t *cfg,
                       const atomic_bool *stop);

/* Starts the worker thread. Returns 0 or an errno value. */
int srv_udp_start(srv_udp_t *u);

/* Wakes the thread (it exits once *stop is set) and joins it. */
void srv_udp_join(srv_udp_t *u);

void srv_udp_free(srv_udp_t *u);

#endif
