/* lwipopts.h: lwIP 2.1 configured for the unikernel runtime.
 *
 * NO_SYS raw API: no lwIP threads, no sequential or socket API. The
 * runtime (netif.c) feeds received frames in and runs lwIP's timers from
 * the scheduler's event hook; the POSIX socket layer (sock*.c) calls the
 * raw API from system-call handlers. Everything runs on the one vCPU with
 * cooperative threads, so no locking (SYS_LIGHTWEIGHT_PROT 0).
 *
 * Memory comes from the C library's malloc (pbufs, pcbs, segments): no
 * fixed pools to size, and the socket layer bounds what each socket
 * queues. IPv4 (ARP, ICMP echo, DHCP) and IPv6 (NDP, ICMPv6 echo, MLD,
 * SLAAC), UDP and TCP, loopback (127.0.0.1, ::1) through lwIP's loopif. */
#ifndef ZL_LWIPOPTS_H
#define ZL_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

/* ---- memory ---- */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define LWIP_STATS 0

/* ---- link layer ---- */
#define LWIP_ETHERNET 1
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 32
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 16
#define ETH_PAD_SIZE 0
/* tcp_write builds one pbuf per segment, so a frame is one contiguous
 * buffer for plat_net_write() without a bounce copy. */
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 512

/* ---- IPv4 ---- */
#define LWIP_IPV4 1
#define LWIP_ICMP 1
#define LWIP_DHCP 1
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 64
#define IP_DEFAULT_TTL 64

/* ---- IPv6 ---- */
#define LWIP_IPV6 1
#define LWIP_IPV6_SCOPES 1
#define LWIP_IPV6_NUM_ADDRESSES 4 /* link-local, SLAAC, static, one spare */
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 1
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0 /* link-local and SLAAC usable at once */
#define LWIP_IPV6_MLD 1
#define MEMP_NUM_MLD6_GROUP 8
#define LWIP_IPV6_DHCP6 0
#define LWIP_ICMP6 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit the fragment header */
#define LWIP_ND6_QUEUEING 1
#define LWIP_ND6_NUM_NEIGHBORS 32
#define LWIP_ND6_NUM_DESTINATIONS 32
#define LWIP_ND6_ALLOW_RA_UPDATES 1

/* ---- transport ---- */
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DNS 0 /* names go through musl's resolver over the sockets */
#define SO_REUSE 1 /* SO_REUSEADDR / SO_REUSEPORT binds */
#define LWIP_TCP_KEEPALIVE 1
/* glibc's <netinet/tcp.h> has an old TCP_MSS of its own (512): the socket
 * layer includes it first, and the sizes below do not depend on the name. */
#undef TCP_MSS
#define TCP_MSS 1460
#define TCP_WND (32 * 1460)
#define TCP_SND_BUF (32 * 1460)
#define TCP_SND_QUEUELEN (4 * 32)
#define TCP_SNDLOWAT (TCP_SND_BUF / 2)
#define TCP_OVERSIZE TCP_MSS
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order data kept per connection (the window would allow 46 KB:
 * with malloc'ed memory, many connections could exhaust the guest). */
#define TCP_OOSEQ_MAX_BYTES (8 * 1460)
#define TCP_OOSEQ_MAX_PBUFS 16
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1

/* ---- hooks (platform/runtime/netif.c) ---- */
#define LWIP_HOOK_FILENAME "rt_lwip_hooks.h"
/* RFC 6528 initial sequence numbers: keyed hash of the connection plus a
 * clock, instead of lwIP's guessable counter. */
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) rt_net_tcp_isn((lip), (lport), (rip), (rport))
/* A SYN for a listener whose backlog is full of half-open connections
 * resets the oldest of them instead of being dropped (platform/runtime/
 * socktcp.c): lwIP keeps them 20 s (TCP_SYN_RCVD_TIMEOUT, not an option),
 * so a SYN flood would otherwise shut new clients out that long. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    rt_net_tcp_syn_room((pcb), (hdr))
/* The --ipv6-gateway boot argument and on-link prefixes other than /64. */
#define LWIP_HOOK_ND6_GET_GW(netif, dest) rt_net_nd6_gateway((netif), (dest))
/* DHCP's DNS servers (option 6) for /etc/resolv.conf, without lwIP's own
 * resolver: asked for and picked up here. */
#define LWIP_HOOK_DHCP_APPEND_OPTIONS(netif, dhcp, state, msg, type, lenp) \
    rt_net_dhcp_append((msg), (type), (lenp))
#define LWIP_HOOK_DHCP_PARSE_OPTION(netif, dhcp, state, msg, type, opt, len, p, off) \
    rt_net_dhcp_option((type), (opt), (len), (p), (off))

/* ---- checksums: all in software (TAP and virtio frames carry none) ---- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 0

#endif
