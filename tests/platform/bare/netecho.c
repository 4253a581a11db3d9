/* Bare guest on the network device (plat.h only, every target): answers
 * ARP for its address and ICMP echo requests (ping), and echoes UDP
 * datagrams sent to it, until a datagram "quit" arrives; then prints its
 * counters and exits 0. Boot arguments: the guest's IPv4 address, e.g.
 * 10.0.0.2, then optionally "txfill": first queue frames without waiting
 * until plat_net_write() refuses one (PLAT_EAGAIN), then wait for
 * PLAT_EV_NET_TX and check a frame can be queued again. */
#include "tests/platform/bare/bare.h"

static uint8_t my_ip[4], my_mac[6];
static uint64_t frames_in, frames_out, echoed, pinged, waits;

static int parse_ip(const char *c)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*c >= '0' && *c <= '9' && digits < 4)
            v = v * 10 + (unsigned)(*c++ - '0'), digits++;
        if (!digits || v > 255)
            return -1;
        my_ip[i] = (uint8_t)v;
        while (*c == ' ' || *c == '.')
            c++;
    }
    return 0;
}

static int eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

static void send(const uint8_t *f, size_t len)
{
    if (plat_net_write(f, len) == PLAT_OK)
        frames_out++;
}

/* RFC 826: answer a request for our address. */
static void arp(uint8_t *f, size_t len)
{
    if (len < 42 || f[20] != 0 || f[21] != 1 || !eq(f + 38, my_ip, 4))
        return;
    memcpy(f, f + 6, 6);
    memcpy(f + 6, my_mac, 6);
    f[21] = 2;                /* reply */
    memcpy(f + 32, f + 22, 10); /* target = the asker */
    memcpy(f + 22, my_mac, 6);
    memcpy(f + 28, my_ip, 4);
    send(f, 42);
}

/* Swap the Ethernet and IPv4 addresses: the frame goes back where it
 * came from; the IPv4 checksum stays valid (the sum does not change). */
static void turn(uint8_t *f)
{
    uint8_t t[6];
    memcpy(t, f, 6), memcpy(f, f + 6, 6), memcpy(f + 6, t, 6);
    memcpy(t, f + 26, 4), memcpy(f + 26, f + 30, 4), memcpy(f + 30, t, 4);
}

/* RFC 792: an echo request (type 8) becomes the reply (type 0); the
 * checksum changes by the same 0x0800 (RFC 1624 incremental update). */
static void icmp(uint8_t *f, size_t len)
{
    size_t ihl = (size_t)(f[14] & 15) * 4;
    uint8_t *m = f + 14 + ihl;
    if (len < 14 + ihl + 8 || m[0] != 8 || m[1] != 0)
        return;
    turn(f);
    m[0] = 0;
    uint32_t sum = (uint32_t)((m[2] << 8) | m[3]) + 0x0800;
    sum = (sum & 0xffff) + (sum >> 16);
    m[2] = (uint8_t)(sum >> 8), m[3] = (uint8_t)sum;
    send(f, len);
    pinged++;
}

/* IPv4: ICMP echo, or UDP: swap addresses and ports; the checksums stay
 * valid, since swapping leaves the one's-complement sums unchanged.
 * Returns 1 on "quit". */
static int ipv4(uint8_t *f, size_t len)
{
    size_t ihl = (size_t)(f[14] & 15) * 4;
    if (len < 14 + ihl + 8 || (f[14] >> 4) != 4 || !eq(f + 30, my_ip, 4))
        return 0;
    if (f[23] == 1) {
        icmp(f, len);
        return 0;
    }
    if (f[23] != 17)
        return 0;
    uint8_t t[6];
    turn(f);
    uint8_t *u = f + 14 + ihl;
    memcpy(t, u, 2), memcpy(u, u + 2, 2), memcpy(u + 2, t, 2);
    size_t plen = len - 14 - ihl - 8;
    if (plen >= 4 && eq(u + 8, (const uint8_t *)"quit", 4))
        return 1;
    send(f, len);
    echoed++;
    return 0;
}

/* Local experimental EtherType frames to the broadcast address until the
 * queue is full, then PLAT_EV_NET_TX must come. */
static void tx_fill(void)
{
    static uint8_t f[1514];
    memset(f, 0xff, 6);
    memcpy(f + 6, my_mac, 6);
    f[12] = 0x88, f[13] = 0xb5;
    uint64_t n = 0;
    plat_result_t r;
    while ((r = plat_net_write(f, sizeof f)) == PLAT_OK && n < 100000)
        n++;
    if (r != PLAT_EAGAIN) {
        put("netecho: txfill: FAILED, the queue never filled\n");
        plat_exit(3);
    }
    put("netecho: txfill: queue full after ");
    put_u64(n);
    put(" frames\n");
    uint64_t deadline = plat_clock_monotonic_ns() + 10000000000ull;
    uint32_t ev = 0;
    while (!(ev & PLAT_EV_NET_TX) && plat_clock_monotonic_ns() < deadline)
        ev = plat_wait(deadline);
    if (!(ev & PLAT_EV_NET_TX) || plat_net_write(f, sizeof f) != PLAT_OK) {
        put("netecho: txfill: FAILED, no PLAT_EV_NET_TX within 10 s\n");
        plat_exit(3);
    }
    put("netecho: txfill: PLAT_EV_NET_TX, room again\n");
}

void plat_runtime_start(void)
{
    static uint8_t f[2048];
    struct plat_net_info ni;
    if (parse_ip(plat_cmdline()) < 0 || plat_net_info(&ni) != PLAT_OK) {
        put("netecho: need an address argument and --net\n");
        plat_exit(2);
    }
    memcpy(my_mac, ni.mac, 6);
    if (bare_has_arg("txfill"))
        tx_fill();
    put("netecho: ready, mtu ");
    put_u64(ni.mtu);
    put("\n");
    for (;;) {
        size_t len;
        plat_result_t r;
        while ((r = plat_net_read(f, sizeof(f), &len)) != PLAT_EAGAIN) {
            if (r != PLAT_OK)
                continue;
            frames_in++;
            if (len >= 14 && f[12] == 0x08 && f[13] == 0x06)
                arp(f, len);
            else if (len >= 14 && f[12] == 0x08 && f[13] == 0x00 && ipv4(f, len))
                goto quit;
        }
        waits++;
        plat_wait(plat_clock_monotonic_ns() + 10000000000ull);
    }
quit:
    plat_net_flush();
    put("netecho: frames in ");
    put_u64(frames_in);
    put(", out ");
    put_u64(frames_out);
    put(", echoed ");
    put_u64(echoed);
    put(", pinged ");
    put_u64(pinged);
    put(", waits ");
    put_u64(waits);
    put("\nSUCCESS\n");
    plat_exit(0);
}
