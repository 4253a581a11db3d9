/* netif.c: lwIP's interface on the platform's network device, driven from
 * the scheduler's event hook; lwIP's clock, randomness and hooks; address
 * configuration from the boot arguments. See net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/prot/dhcp.h"
#include "lwip/prot/ip4.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "platform/include/plat.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

/* Frames fed to lwIP per hook call: a flood cannot keep the threads from
 * running (the next wait returns at once if more are waiting). */
#define RT_NET_BATCH 512
#define RT_DHCP_WAIT_NS (3000000000ull)
#define RT_ETH_MIN 60 /* bytes in the shortest Ethernet frame, without FCS */
/* Frames the device refused (its queue full even after a flush) wait
 * here, oldest first, and go out when it has room (plat_wait() reports
 * PLAT_EV_NET_TX, and the hook runs); beyond this many the newest are
 * dropped, as a full NIC queue would. */
#define RT_TX_BACKLOG 256
/* A thread that keeps calling without ever blocking would keep the event
 * hook from running, and on hvt frames only move during an exit: past
 * this long without a poll, socket calls flush and poll themselves. */
#define RT_STARVE_NS 1000000

bool rt_net_df_next;

static struct netif rt_netif;
static bool rt_have_dev, rt_lwip_up;
static uint8_t *rt_rx_buf, *rt_tx_buf; /* one frame each */
static struct pbuf *rt_txq[RT_TX_BACKLOG]; /* refused frames (referenced) */
static unsigned rt_txq_head, rt_txq_len;
static uint64_t rt_tx_drops;
static uint64_t rt_last_poll; /* plat_clock_monotonic_ns() of the last poll */
static size_t rt_frame_max;
static uint64_t rt_key[2];             /* SipHash key from plat_random */
static uint64_t rt_rand_ctr;
static int rt_dhcp_key;                /* DHCP waiter's wait key */

/* Boot arguments (rt_net_args), borrowed from argv. */
static const char *rt_arg_v4, *rt_arg_gw4, *rt_arg_v6, *rt_arg_gw6, *rt_arg_dns, *rt_arg_bad;

/* DNS servers from the last DHCP acknowledgement (option 6). */
#define RT_DNS_MAX 3
static ip4_addr_t rt_dhcp_dns[RT_DNS_MAX];
static int rt_dhcp_ndns;
static void write_resolv(const char *how);

/* --ipv6 and --ipv6-gateway once parsed (the ND6 hook reads them). */
static ip6_addr_t rt_v6, rt_gw6;
static int rt_v6_len = -1;
static bool rt_have_gw6;
static s8_t rt_v6_idx = -1;

/* ---- randomness: SipHash-2-4 keyed at start-up ---- */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);             \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);             \
    } while (0)

static uint64_t siphash(const void *data, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ rt_key[0], v1 = 0x646f72616e646f6dull ^ rt_key[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ rt_key[0], v3 = 0x7465646279746573ull ^ rt_key[1];
    const uint8_t *p = data;
    uint64_t m;
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&m, p + i, 8);
        v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
    }
    m = (uint64_t)len << 56;
    for (size_t k = 0; i + k < len; k++)
        m |= (uint64_t)p[i + k] << (8 * k);
    v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t rt_net_rand(void)
{
    rt_rand_ctr++;
    return (uint32_t)siphash(&rt_rand_ctr, sizeof rt_rand_ctr);
}

u32_t rt_net_tcp_isn(const ip_addr_t *lip, u16_t lport, const ip_addr_t *rip, u16_t rport)
{
    struct { ip_addr_t l, r; u16_t lp, rp; } t;
    memset(&t, 0, sizeof t); /* padding hashed as zeroes */
    ip_addr_copy(t.l, *lip);
    ip_addr_copy(t.r, *rip);
    t.lp = lport;
    t.rp = rport;
    /* RFC 6528 §3: ISN = M + F(4-tuple, secret), M a 4 us clock. */
    return (u32_t)(plat_clock_monotonic_ns() / 4000) + (u32_t)siphash(&t, sizeof t);
}

/* ---- lwIP's platform functions ---- */

u32_t sys_now(void)
{
    return (u32_t)(plat_clock_monotonic_ns() / 1000000);
}

void rt_lwip_assert(const char *msg, const char *file, int line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "zonelet-rt: lwIP assertion failed: %s (%s:%d)", msg, file, line);
    plat_abort(buf);
}

static void net_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void net_log(const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rt_log("net: ", buf);
}

/* ---- the device ---- */

/* IPv4 output: IP_MTU_DISCOVER asks for DF, which lwIP never sets itself;
 * the header is final here, so set the bit and redo its checksum. */
static err_t out4(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
    if (rt_net_df_next && p->len >= IP_HLEN) {
        struct ip_hdr *h = (struct ip_hdr *)p->payload;
        IPH_OFFSET_SET(h, lwip_htons(IP_DF));
        IPH_CHKSUM_SET(h, 0);
        IPH_CHKSUM_SET(h, inet_chksum(h, (u16_t)(IPH_HL(h) * 4)));
    }
    return etharp_output(n, p, dst);
}

static plat_result_t dev_write(struct pbuf *p)
{
    const void *frame = p->payload;

    if (p->len != p->tot_len) {
        if (p->tot_len > rt_frame_max)
            return PLAT_EINVAL;
        pbuf_copy_partial(p, rt_tx_buf, p->tot_len, 0);
        frame = rt_tx_buf;
    }
    return plat_net_write(frame, p->tot_len);
}

/* Hand the waiting refused frames to the device while it takes them. */
static void txq_drain(void)
{
    while (rt_txq_len) {
        struct pbuf *p = rt_txq[rt_txq_head];
        if (dev_write(p) == PLAT_EAGAIN)
            return;
        pbuf_free(p);
        rt_txq_head = (rt_txq_head + 1) % RT_TX_BACKLOG;
        rt_txq_len--;
    }
}

/* Queue one frame on the device; it leaves at the next plat_wait(). */
static err_t link_out(struct netif *n, struct pbuf *p)
{
    (void)n;
    if (rt_txq_len == 0) {
        plat_result_t r = dev_write(p);
        if (r != PLAT_EAGAIN)
            return r == PLAT_OK ? ERR_OK : ERR_IF;
    }
    if (rt_txq_len == RT_TX_BACKLOG) {
        if (rt_tx_drops++ == 0)
            net_log("transmit queue full: dropping frames");
        return ERR_MEM;
    }
    pbuf_ref(p); /* lwIP frees its reference when this returns */
    rt_txq[(rt_txq_head + rt_txq_len++) % RT_TX_BACKLOG] = p;
    return ERR_OK;
}

static err_t netif_setup(struct netif *n)
{
    struct plat_net_info info;

    if (plat_net_info(&info) != PLAT_OK)
        return ERR_IF;
    n->name[0] = 'e';
    n->name[1] = 'n';
    n->mtu = info.mtu;
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, info.mac, ETH_HWADDR_LEN);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    n->output = out4;
    n->output_ip6 = ethip6_output;
    n->linkoutput = link_out;
    return ERR_OK;
}

/* Feed at most RT_NET_BATCH waiting frames to lwIP. */
static void net_input(void)
{
    for (int i = 0; i < RT_NET_BATCH; i++) {
        size_t len;
        plat_result_t r = plat_net_read(rt_rx_buf, rt_frame_max, &len);
        if (r == PLAT_EAGAIN)
            return;
        if (r != PLAT_OK || len > 0xffff - RT_ETH_MIN)
            continue; /* oversized: the platform dropped it */
        /* Short frames are zero-padded to Ethernet's 60-byte minimum, as
         * a NIC delivers them: lwIP 2.1.3 reads the ARP and IPv4 headers
         * before checking that the frame holds them (found by the
         * malformed-frame flood in tests/platform/rt/test_net.c). */
        size_t n = len < RT_ETH_MIN ? RT_ETH_MIN : len;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            continue; /* out of memory: dropped, as a full NIC would */
        memcpy(p->payload, rt_rx_buf, len);
        memset((uint8_t *)p->payload + len, 0, n - len);
        if (rt_netif.input(p, &rt_netif) != ERR_OK)
            pbuf_free(p);
    }
}

void rt_net_poll(void)
{
    if (!rt_lwip_up)
        return;
    rt_last_poll = plat_clock_monotonic_ns();
    if (rt_txq_len)
        txq_drain();
    if (rt_have_dev)
        net_input();
    netif_poll_all();
    sys_check_timeouts();
}

void rt_net_tick(void)
{
    if (rt_lwip_up && plat_clock_monotonic_ns() - rt_last_poll > RT_STARVE_NS) {
        if (rt_have_dev)
            plat_net_flush();
        rt_net_poll();
    }
}

static void net_hook(uint32_t events)
{
    /* Whatever woke the wait (frames, room to send, a deadline), the
     * device is read and the waiting frames retried: both are cheap when
     * there is nothing to do. */
    (void)events;
    rt_net_poll();
}

/* When the hook wants to run next: now for pending loopback packets, else
 * lwIP's next timer. */
static uint64_t net_deadline(void)
{
    struct netif *n;

    NETIF_FOREACH(n) {
        if (n->loop_first)
            return 0;
    }
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
        return UINT64_MAX;
    return plat_clock_monotonic_ns() + (uint64_t)ms * 1000000u;
}

uint16_t rt_net_mtu(const ip_addr_t *dst)
{
    if (!rt_have_dev || ip_addr_isloopback(dst))
        return 65535;
    if (IP_IS_V6(dst))
        return nd6_get_destination_mtu(ip_2_ip6(dst), &rt_netif);
    return rt_netif.mtu;
}

unsigned rt_net_ifindex(void)
{
    return rt_have_dev ? netif_get_index(&rt_netif) : 0;
}

/* ---- address configuration ---- */

static const char **arg_slot(const char *name, size_t len)
{
    static const struct { const char *name; const char **slot; } opts[] = {
        {"ipv4", &rt_arg_v4}, {"ipv4-gateway", &rt_arg_gw4},
        {"ipv6", &rt_arg_v6}, {"ipv6-gateway", &rt_arg_gw6}, {"dns", &rt_arg_dns},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return opts[i].slot;
    return NULL;
}

int rt_net_args(int argc, char **argv)
{
    int out = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], **slot = NULL;
        if (i > 0 && strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a + 2, '=');
            slot = arg_slot(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (slot && eq) {
                *slot = eq + 1;
            } else if (slot && i + 1 < argc) {
                *slot = argv[++i];
            } else if (slot) {
                rt_arg_bad = a; /* no value */
            }
        }
        if (!slot)
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

/* "ADDR[/LEN]" -> address and prefix length (default def_len). */
static int parse_prefix(const char *s, int af, void *addr, int *len, int def_len)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    int max = af == AF_INET ? 32 : 128;

    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(af, buf, addr) != 1)
        return -1;
    *len = def_len;
    if (slash) {
        char *end;
        long l = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || l < 0 || l > max)
            return -1;
        *len = (int)l;
    }
    return 0;
}

static _Noreturn void bad_arg(const char *opt, const char *val)
{
    net_log("bad boot argument --%s%s%s", opt, val ? "=" : " (no value)", val ? val : "");
    plat_exit(2);
}

static int mask_len(u32_t mask_net)
{
    return __builtin_popcount(mask_net);
}

static void log_ipv4(const char *how)
{
    char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, netif_ip4_addr(&rt_netif), a, sizeof a);
    inet_ntop(AF_INET, netif_ip4_gw(&rt_netif), g, sizeof g);
    net_log("ipv4 %s/%d gateway %s (%s)", a, mask_len(ip4_addr_get_u32(netif_ip4_netmask(&rt_netif))),
            g, how);
}

static void net_status(struct netif *n, netif_nsc_reason_t why, const netif_ext_callback_args_t *args)
{
    if (n != &rt_netif)
        return;
    if ((why & (LWIP_NSC_IPV4_ADDRESS_CHANGED | LWIP_NSC_IPV4_SETTINGS_CHANGED)) &&
        !ip4_addr_isany_val(*netif_ip4_addr(n)) && !rt_arg_v4) {
        log_ipv4("dhcp");
        if (!rt_arg_dns)
            write_resolv("dhcp");
        rt_sched_wake((uintptr_t)&rt_dhcp_key, 1);
    }
    if (why & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) {
        s8_t i = args->ipv6_addr_state_changed.addr_index;
        if (ip6_addr_isvalid(netif_ip6_addr_state(n, i)) &&
            !ip6_addr_isvalid(args->ipv6_addr_state_changed.old_state)) {
            char a[INET6_ADDRSTRLEN];
            const ip6_addr_t *ip = netif_ip6_addr(n, i);
            inet_ntop(AF_INET6, ip->addr, a, sizeof a);
            net_log("ipv6 %s%s", a, ip6_addr_islinklocal(ip) ? " (link-local)"
                                    : i == rt_v6_idx ? " (static)" : " (slaac)");
        }
    }
}

/* ---- name servers: /etc/resolv.conf for musl's resolver ---- */

/* Ask for option 6 in DISCOVER and REQUEST: a second parameter request
 * list, which servers join to lwIP's (RFC 3396 §7). */
void rt_net_dhcp_append(struct dhcp_msg *msg, u8_t type, u16_t *len)
{
    if ((type == DHCP_DISCOVER || type == DHCP_REQUEST) && *len + 3u < DHCP_OPTIONS_LEN) {
        msg->options[(*len)++] = DHCP_OPTION_PARAMETER_REQUEST_LIST;
        msg->options[(*len)++] = 1;
        msg->options[(*len)++] = DHCP_OPTION_DNS_SERVER;
    }
}

void rt_net_dhcp_option(u8_t type, u8_t opt, u8_t len, struct pbuf *p, u16_t off)
{
    if (type != DHCP_ACK || opt != DHCP_OPTION_DNS_SERVER)
        return;
    int n = len / 4 < RT_DNS_MAX ? len / 4 : RT_DNS_MAX;
    uint8_t buf[4 * RT_DNS_MAX];
    if (pbuf_copy_partial(p, buf, (u16_t)(4 * n), off) != 4 * n)
        return;
    for (int i = 0; i < n; i++)
        memcpy(&rt_dhcp_dns[i], buf + 4 * i, 4);
    rt_dhcp_ndns = n;
}

/* Appends "nameserver ADDR\n" for each address of a comma-separated
 * list; 0, or -1 for a malformed address. */
static int dns_lines(const char *list, char *out, size_t cap, size_t *used)
{
    while (*list) {
        char a[INET6_ADDRSTRLEN], bin[16];
        size_t n = strcspn(list, ",");
        if (n == 0 || n >= sizeof a)
            return -1;
        memcpy(a, list, n);
        a[n] = '\0';
        if (inet_pton(strchr(a, ':') ? AF_INET6 : AF_INET, a, bin) != 1)
            return -1;
        int w = snprintf(out + *used, cap - *used, "nameserver %s\n", a);
        if (w > 0 && (size_t)w < cap - *used)
            *used += (size_t)w;
        list += n + (list[n] == ',');
    }
    return 0;
}

/* Writes /etc/resolv.conf from --dns, or else from DHCP's servers (none:
 * no file, and musl asks 127.0.0.1, where nothing answers). */
static void write_resolv(const char *how)
{
    char text[512];
    size_t used = 0;

    if (rt_arg_dns) {
        if (dns_lines(rt_arg_dns, text, sizeof text, &used))
            bad_arg("dns", rt_arg_dns);
    } else {
        for (int i = 0; i < rt_dhcp_ndns; i++) {
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &rt_dhcp_dns[i], a, sizeof a);
            used += (size_t)snprintf(text + used, sizeof text - used, "nameserver %s\n", a);
        }
    }
    if (!used)
        return;
    long fd = rt_sys_open((const long[6]){(long)"/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC, 0644});
    if (fd < 0 || rt_sys_write((const long[6]){fd, (long)text, (long)used}) != (long)used)
        net_log("cannot write /etc/resolv.conf");
    if (fd >= 0)
        rt_sys_close((const long[6]){fd});
    for (char *l = text, *e; (e = strchr(l, '\n')); l = e + 1) {
        *e = '\0';
        net_log("dns %s (%s)", l + sizeof "nameserver", how);
    }
}

const ip6_addr_t *rt_net_nd6_gateway(struct netif *n, const ip6_addr_t *dest)
{
    (void)n;
    if (rt_v6_len >= 0) {
        /* On-link when inside --ipv6's prefix (lwIP itself assumes /64). */
        int full = rt_v6_len / 32, rest = rt_v6_len % 32, same = 1;
        for (int w = 0; w < full; w++)
            same &= dest->addr[w] == rt_v6.addr[w];
        if (same && rest) {
            u32_t m = lwip_htonl(0xffffffffu << (32 - rest));
            same = ((dest->addr[full] ^ rt_v6.addr[full]) & m) == 0;
        }
        if (same)
            return dest;
    }
    return rt_have_gw6 ? &rt_gw6 : NULL;
}

/* Static IPv4 from --ipv4 / --ipv4-gateway. */
static void config_v4(ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
    int len;
    ip4_addr_set_zero(ip);
    ip4_addr_set_zero(mask);
    ip4_addr_set_zero(gw);
    if (rt_arg_v4) {
        if (parse_prefix(rt_arg_v4, AF_INET, ip, &len, 24))
            bad_arg("ipv4", rt_arg_v4);
        ip4_addr_set_u32(mask, len ? lwip_htonl(0xffffffffu << (32 - len)) : 0);
    }
    if (rt_arg_gw4 && inet_pton(AF_INET, rt_arg_gw4, gw) != 1)
        bad_arg("ipv4-gateway", rt_arg_gw4);
}

static void config_v6(void)
{
    netif_create_ip6_linklocal_address(&rt_netif, 1);
    rt_netif.ip6_autoconfig_enabled = 1; /* the lwIP macro trips -Waddress */
    if (rt_arg_v6) {
        ip6_addr_t a;
        if (parse_prefix(rt_arg_v6, AF_INET6, &a, &rt_v6_len, 64))
            bad_arg("ipv6", rt_arg_v6);
        ip6_addr_clear_zone(&a);
        rt_v6 = a;
        if (netif_add_ip6_address(&rt_netif, &a, &rt_v6_idx) != ERR_OK)
            bad_arg("ipv6", rt_arg_v6);
        /* A configured address is used at once, without duplicate
         * address detection (as Linux's "nodad"). */
        netif_ip6_addr_set_state(&rt_netif, rt_v6_idx, IP6_ADDR_PREFERRED);
    }
    if (rt_arg_gw6) {
        if (inet_pton(AF_INET6, rt_arg_gw6, &rt_gw6) != 1)
            bad_arg("ipv6-gateway", rt_arg_gw6);
        ip6_addr_clear_zone(&rt_gw6);
        ip6_addr_assign_zone(&rt_gw6, IP6_UNICAST, &rt_netif);
        rt_have_gw6 = true;
    }
}

void rt_net_ready(void)
{
    if (rt_lwip_up)
        return;
    rt_lwip_up = true;
    if (plat_random(rt_key, sizeof rt_key) != PLAT_OK)
        plat_abort("zonelet-rt: no random bytes for the network stack");
    lwip_init();
    rt_tcp_start();
    rt_sched_set_event_hook(net_hook, net_deadline);
}

void rt_net_start(void)
{
    static netif_ext_callback_t cb;
    struct plat_net_info info;
    ip4_addr_t ip, mask, gw;

    if (rt_arg_bad)
        bad_arg(rt_arg_bad + 2, NULL);
    if (rt_arg_dns)
        write_resolv("static");
    if (plat_net_info(&info) != PLAT_OK) {
        if (rt_arg_v4 || rt_arg_v6)
            net_log("no network device: addresses ignored");
        return;
    }
    config_v4(&ip, &mask, &gw);
    rt_frame_max = (size_t)info.mtu + 18;
    rt_rx_buf = malloc(rt_frame_max);
    rt_tx_buf = malloc(rt_frame_max);
    if (!rt_rx_buf || !rt_tx_buf)
        plat_abort("zonelet-rt: no memory for the network device");
    rt_net_ready();
    netif_add_ext_callback(&cb, net_status);
    if (!netif_add(&rt_netif, &ip, &mask, &gw, NULL, netif_setup, ethernet_input))
        plat_abort("zonelet-rt: cannot add the network interface");
    rt_have_dev = true;
    net_log("mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u", info.mac[0], info.mac[1], info.mac[2],
            info.mac[3], info.mac[4], info.mac[5], info.mtu);
    netif_set_default(&rt_netif);
    config_v6();
    netif_set_up(&rt_netif);
    netif_set_link_up(&rt_netif);
    if (rt_arg_v4) {
        log_ipv4("static");
        return;
    }
    if (dhcp_start(&rt_netif) != ERR_OK) {
        net_log("dhcp: cannot start");
        return;
    }
    /* A program may connect out first thing: give DHCP a moment. */
    uint64_t until = plat_clock_monotonic_ns() + RT_DHCP_WAIT_NS;
    while (!dhcp_supplied_address(&rt_netif) && plat_clock_monotonic_ns() < until)
        rt_sched_block((uintptr_t)&rt_dhcp_key, until);
    if (!dhcp_supplied_address(&rt_netif))
        net_log("dhcp: no lease yet, still asking");
}
