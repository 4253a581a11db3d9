/* The network device: a host TAP interface and the two frame rings the
 * guest registers (hvt_abi.h). The monitor is single-threaded: it moves
 * frames whenever the guest exits through HVT_HC_WAIT or
 * HVT_HC_NET_NOTIFY, as many as the rings and the TAP queue hold, so the
 * exit count grows with bursts, not with frames. The rings live in guest
 * memory and every index and length in them is checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

#define NET_MTU 1500
#define NET_SLOTS_MAX 4096u

void hvt_net_open(struct hvt *h, const char *ifname)
{
    struct ifreq ifr;
    if (strlen(ifname) >= sizeof(ifr.ifr_name))
        hvt_die("--net=%s: interface name too long", ifname);
    h->net_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (h->net_fd < 0)
        hvt_die("--net: /dev/net/tun: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(h->net_fd, TUNSETIFF, &ifr) < 0)
        hvt_die("--net=%s: cannot attach to the TAP interface: %s", ifname, strerror(errno));
    uint8_t *mac = h->bi->net_mac;
    if (getrandom(mac, 6, 0) != 6)
        hvt_die("getrandom: %s", strerror(errno));
    mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
    h->bi->net_mtu = NET_MTU;
    h->bi->devices |= HVT_DEV_NET;
}

static uint64_t ring_bytes(uint64_t nslots)
{
    return sizeof(struct hvt_net_ring) + nslots * HVT_NET_SLOT_SIZE;
}

/* The guest's rings: page-aligned, inside writable guest RAM, apart, fresh
 * (all indices 0), with the slot count the call names. */
int64_t hvt_net_setup(struct hvt *h, const struct hvt_hc_net_setup *a)
{
    uint64_t n = a->nslots;
    if (h->net_fd < 0 || h->net_rx || n < 2 || n > NET_SLOTS_MAX || (n & (n - 1)) ||
        a->rx_ring % HVT_PAGE_SIZE || a->tx_ring % HVT_PAGE_SIZE)
        return HVT_EINVAL;
    uint64_t len = ring_bytes(n);
    struct hvt_net_ring *rx = hvt_gpa(h, a->rx_ring, len, true);
    struct hvt_net_ring *tx = hvt_gpa(h, a->tx_ring, len, true);
    /* Both ranges are inside guest RAM now, so the sums cannot overflow. */
    if (!rx || !tx || (a->rx_ring < a->tx_ring + len && a->tx_ring < a->rx_ring + len) ||
        rx->nslots != n || tx->nslots != n || rx->head || rx->tail || tx->head || tx->tail)
        return HVT_EINVAL;
    /* Never asks for kicks: it drains tx at every wait and notify. */
    tx->consumer_flags = 0;
    h->net_rx = rx;
    h->net_tx = tx;
    h->net_nslots = (uint32_t)n;
    h->net_rx_head = h->net_tx_tail = 0;
    return HVT_OK;
}

static struct hvt_net_slot *slot(struct hvt_net_ring *r, uint32_t nslots, uint32_t i)
{
    return (struct hvt_net_slot *)((uint8_t *)(r + 1) + (uint64_t)(i & (nslots - 1)) *
                                                           HVT_NET_SLOT_SIZE);
}

/* Send what the guest queued. -1 if the guest broke the ring. */
static int net_tx(struct hvt *h)
{
    struct hvt_net_ring *tx = h->net_tx;
    uint32_t head = tx->head;
    if (head - h->net_tx_tail > h->net_nslots)
        return -1;
    while (h->net_tx_tail != head) {
        const struct hvt_net_slot *s = slot(tx, h->net_nslots, h->net_tx_tail);
        uint32_t len = s->len;
        if (len > HVT_NET_FRAME_MAX)
            return -1;
        /* A full TAP queue drops the frame, as a wire would. */
        if (write(h->net_fd, s->frame, len) == (ssize_t)len)
            h->net_frames_tx++;
        tx->tail = ++h->net_tx_tail;
    }
    return 0;
}

/* Move frames from the TAP queue into the rx ring while there is room;
 * returns how many wait in the ring for the guest, -1 if it broke it. */
static int64_t net_rx(struct hvt *h)
{
    struct hvt_net_ring *rx = h->net_rx;
    uint32_t tail = rx->tail;
    if (h->net_rx_head - tail > h->net_nslots)
        return -1;
    while (h->net_rx_head - tail < h->net_nslots) {
        struct hvt_net_slot *s = slot(rx, h->net_nslots, h->net_rx_head);
        ssize_t n = read(h->net_fd, s->frame, HVT_NET_FRAME_MAX);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        s->len = (uint32_t)n;
        s->flags = 0;
        rx->head = ++h->net_rx_head;
        h->net_frames_rx++;
    }
    return h->net_rx_head - tail;
}

int64_t hvt_net_pump(struct hvt *h)
{
    if (!h->net_rx)
        return 0;
    if (net_tx(h) < 0)
        return -1;
    return net_rx(h);
}
