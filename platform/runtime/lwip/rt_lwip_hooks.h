/* rt_lwip_hooks.h: the lwIP hooks lwipopts.h names, implemented in
 * platform/runtime/netif.c (rt_net_tcp_syn_room: socktcp.c). Included by lwIP's sources (LWIP_HOOK_FILENAME)
 * after its own headers. */
#ifndef ZL_RT_LWIP_HOOKS_H
#define ZL_RT_LWIP_HOOKS_H

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/dhcp.h"

struct tcp_pcb;
struct tcp_hdr;
err_t rt_net_tcp_syn_room(struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
u32_t rt_net_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
                     const ip_addr_t *remote_ip, u16_t remote_port);
const ip6_addr_t *rt_net_nd6_gateway(struct netif *netif, const ip6_addr_t *dest);
void rt_net_dhcp_append(struct dhcp_msg *msg, u8_t type, u16_t *len);
void rt_net_dhcp_option(u8_t type, u8_t opt, u8_t len, struct pbuf *p, u16_t off);

#endif
