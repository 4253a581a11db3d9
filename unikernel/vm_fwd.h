/* zonelet vm's forwarder: DNS over UDP and TCP from host addresses to
 * the guest, for what QEMU's hostfwd cannot do (IPv6 and wildcard host
 * addresses) and for guests on a TAP (hvt), where nothing else forwards.
 *
 * One thread polls every socket. UDP: one upstream socket per client
 * (address, port and the local address it asked), so replies find their
 * client; a reply leaves from the address the query was sent to
 * (IP_PKTINFO / IPV6_PKTINFO), as the server itself does. TCP: each
 * accepted connection gets its own connection to the target, bytes
 * relayed both ways, half-closes passed on, and a reset on either side
 * becomes a reset on the other.
 *
 * Bounded: at most SRV_VM_FWD_UDP client sessions (the one idle longest
 * makes room; idle ones close after 30 s) and SRV_VM_FWD_TCP connections
 * (more are accepted and closed at once), 16 KiB buffered each way per
 * connection.
 */
#ifndef ZL_UNIKERNEL_VM_FWD_H
#define ZL_UNIKERNEL_VM_FWD_H

#include <sys/socket.h>

#define SRV_VM_FWD_UDP 256
#define SRV_VM_FWD_TCP 1024

typedef struct srv_vm_fwd srv_vm_fwd_t;

/* A forwarder with no addresses; NULL on ENOMEM. */
srv_vm_fwd_t *srv_vm_fwd_new(void);

/* Binds UDP and TCP on from (now, so a busy address fails here) and
 * forwards both to `to`. Both borrowed. Returns 0 or a negative errno. */
int srv_vm_fwd_add(srv_vm_fwd_t *f, const struct sockaddr *from, socklen_t fromlen,
                   const struct sockaddr *to, socklen_t tolen);

/* Starts the thread. Returns 0 or a positive errno (pthread_create). */
int srv_vm_fwd_start(srv_vm_fwd_t *f);

/* Stops the thread (if started), closes every socket, frees f. NULL is
 * fine. */
void srv_vm_fwd_free(srv_vm_fwd_t *f);

#endif
