/* DNS over TCP (RFC 7766), one event-loop thread for all listeners and
 * connections (epoll, non-blocking sockets).
 *
 * - Two-byte length framing (RFC 1035 §4.2.2); replies up to 65535.
 * - Pipelining: every complete query in the input buffer is answered, in
 *   order; partial reads and writes are resumed when the socket is ready.
 * - Back-pressure: a client that does not read its answers stops being
 *   read once its pending output passes a bound, so it cannot make the
 *   server buffer without limit.
 * - Limits: connections per client address (a new connection over it
 *   is closed at once) and in all: when all are in use, the connection
 *   silent for longest is closed to make room (RFC 7766 §10), so idle
 *   connections cannot lock new clients out. An idle timeout (no
 *   complete query and no write progress for tcp_idle_ms), shortened to
 *   a second while three quarters of the connections are in use (RFC
 *   7766 §6.2.3).
 */
#ifndef ZL_UNIKERNEL_TCP_H
#define ZL_UNIKERNEL_TCP_H

#include <sys/socket.h>

#include "unikernel/config.h"
#include "unikernel/zones.h"

typedef struct srv_tcp srv_tcp_t;

/* A TCP server answering from zones through hazard slot `slot`; cfg is
 * borrowed and must outlive it. Returns NULL on failure. */
srv_tcp_t *srv_tcp_new(const srv_config_t *cfg, srv_zones_t *zones, unsigned slot);

/* Listens on sa. Returns 0 or -errno. Call before srv_tcp_start. */
int srv_tcp_listen(srv_tcp_t *t, const struct sockaddr *sa, socklen_t len);

/* Starts the event-loop thread. Returns 0 or an errno value. */
int srv_tcp_start(srv_tcp_t *t);

/* Stops the thread and joins it (open connections are closed). */
void srv_tcp_stop(srv_tcp_t *t);

/* Closes everything and frees t. */
void srv_tcp_free(srv_tcp_t *t);

#endif
