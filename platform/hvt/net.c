/* hvt network device (plat.h): the two frame rings of hvt_abi.h in this
 * file's bss, registered with the monitor on first use. Reading and writing
 * frames touches only the rings; the monitor moves frames during
 * HVT_HC_WAIT (plat_wait) and HVT_HC_NET_NOTIFY (plat_net_flush). */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

#define NSLOTS 256u
#define RING_BYTES (sizeof(struct hvt_net_ring) + NSLOTS * HVT_NET_SLOT_SIZE)

static uint8_t ring_mem[2][(RING_BYTES + 4095) & ~4095ul] __attribute__((aligned(4096)));
static struct hvt_net_ring *const rx = (struct hvt_net_ring *)ring_mem[0];
static struct hvt_net_ring *const tx = (struct hvt_net_ring *)ring_mem[1];
static uint32_t rx_tail, tx_head; /* our own indices; the ring copies are for the monitor */
static int state;                  /* 0 not set up, 1 ready, -1 no device */
static int tx_was_full;            /* a write got PLAT_EAGAIN: report PLAT_EV_NET_TX */

static struct hvt_net_slot *slot(struct hvt_net_ring *r, uint32_t i)
{
    return (struct hvt_net_slot *)((uint8_t *)(r + 1) + (i & (NSLOTS - 1)) * HVT_NET_SLOT_SIZE);
}

static int ready(void)
{
    if (state == 0) {
        state = -1;
        if (hvt_bi->devices & HVT_DEV_NET) {
            rx->nslots = tx->nslots = NSLOTS;
            struct hvt_hc_net_setup a = { (uint64_t)(uintptr_t)rx, (uint64_t)(uintptr_t)tx,
                                          NSLOTS, 0 };
            hvt_hypercall(HVT_HC_NET_SETUP, &a);
            if (a.ret == HVT_OK)
                state = 1;
        }
    }
    return state == 1;
}

plat_result_t plat_net_info(struct plat_net_info *info)
{
    if (!ready())
        return PLAT_EINVAL;
    for (int i = 0; i < 6; i++)
        info->mac[i] = hvt_bi->net_mac[i];
    info->mtu = hvt_bi->net_mtu;
    return PLAT_OK;
}

void plat_net_flush(void)
{
    struct hvt_hc_net_notify a = { 0 };
    if (ready())
        hvt_hypercall(HVT_HC_NET_NOTIFY, &a);
}

plat_result_t plat_net_write(const void *buf, size_t len)
{
    if (!ready() || len < 14 || len > (size_t)hvt_bi->net_mtu + 18 || len > HVT_NET_FRAME_MAX)
        return PLAT_EINVAL;
    if (tx_head - tx->tail == NSLOTS) {
        plat_net_flush();
        if (tx_head - tx->tail == NSLOTS) {
            tx_was_full = 1;
            return PLAT_EAGAIN;
        }
    }
    struct hvt_net_slot *s = slot(tx, tx_head);
    __builtin_memcpy(s->frame, buf, len); /* the runtime (musl) provides memcpy */
    s->len = (uint32_t)len;
    s->flags = 0;
    __asm__ __volatile__("" ::: "memory"); /* the slot before the index */
    tx->head = ++tx_head;
    return PLAT_OK;
}

plat_result_t plat_net_read(void *buf, size_t size, size_t *len)
{
    if (!ready())
        return PLAT_EINVAL;
    if (rx->head == rx_tail)
        return PLAT_EAGAIN;
    __asm__ __volatile__("" ::: "memory"); /* the index before the slot */
    const struct hvt_net_slot *s = slot(rx, rx_tail);
    uint32_t n = s->len;
    plat_result_t r = PLAT_EINVAL;
    if (n <= size && n <= HVT_NET_FRAME_MAX) {
        __builtin_memcpy(buf, s->frame, n);
        *len = n;
        r = PLAT_OK;
    }
    rx->tail = ++rx_tail;
    return r;
}

/* This monitor drains the tx ring at every wait, so once a write was
 * refused there is room again when plat_wait() returns. */
uint32_t hvt_net_tx_event(void)
{
    if (!tx_was_full || tx_head - tx->tail == NSLOTS)
        return 0;
    tx_was_full = 0;
    return PLAT_EV_NET_TX;
}
