/* unikernel/notifier.c against a fake secondary on 127.0.0.1: the
 * message (RFC 1996 §3.7), retransmission until answered, giving up,
 * and a newer serial replacing a pending one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "dns/msg.h"
#include "unikernel/notifier.h"

static const uint8_t origin[] = "\7example\4test";

/* SOA rdata: two root names, then serial, refresh, retry, expire, minimum. */
static uint16_t soa(uint8_t *rd, uint32_t serial)
{
    rd[0] = 0;
    rd[1] = 0;
    dns_put_u32(rd + 2, serial);
    for (int i = 0; i < 4; i++)
        dns_put_u32(rd + 6 + 4 * i, 3600);
    return 22;
}

static int secondary(struct sockaddr_storage *ss)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &a, sizeof a);
    return fd;
}

/* Waits up to ms for a NOTIFY; returns its length (0: none), sets *from. */
static size_t receive(int fd, uint8_t *buf, size_t cap, int ms, struct sockaddr_storage *from)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return 0;
    socklen_t flen = sizeof *from;
    ssize_t r = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &flen);
    return r > 0 ? (size_t)r : 0;
}

static void test_notify_answered(void **state)
{
    (void)state;
    struct sockaddr_storage to, from;
    int fd = secondary(&to);
    srv_notifier_t *n = srv_notifier_new(100);
    assert_non_null(n);
    assert_int_equal(srv_notifier_start(n), 0);
    uint8_t rd[32], buf[1024];
    assert_int_equal(srv_notifier_send(n, origin, rd, soa(rd, 2026120401), 300, &to, 1), 0);
    size_t len = receive(fd, buf, sizeof buf, 2000, &from);
    assert_true(len > DNS_HDR_LEN);
    dns_arena_t a;
    dns_msg_t m;
    dns_arena_init(&a, NULL, 0, 0);
    assert_int_equal(dns_msg_parse(&m, buf, len, &a), ZL_OK);
    assert_int_equal(DNS_F_OPCODE(m.flags), DNS_OP_NOTIFY);
    assert_true(m.flags & DNS_F_AA);
    assert_false(m.flags & DNS_F_QR);
    assert_true(dns_name_equal(m.qname, origin));
    assert_int_equal(m.qtype, DNS_T_SOA);
    assert_int_equal(m.nrr[DNS_SEC_AN], 1);
    assert_int_equal(dns_get_u32(m.rr[DNS_SEC_AN][0].rdata + 2), 2026120401);
    /* Not answered: the same message again after about 100 ms. */
    uint8_t again[1024];
    size_t len2 = receive(fd, again, sizeof again, 2000, &from);
    assert_int_equal(len2, len);
    assert_memory_equal(again, buf, len);
    /* Answered: no more. */
    buf[2] |= 0x80;
    sendto(fd, buf, len, 0, (struct sockaddr *)&from, sizeof(struct sockaddr_in));
    assert_int_equal(receive(fd, again, sizeof again, 700, &from), 0);
    dns_arena_free(&a);
    srv_notifier_free(n);
    close(fd);
}

static void test_notify_gives_up_and_replaces(void **state)
{
    (void)state;
    struct sockaddr_storage to, from;
    int fd = secondary(&to);
    srv_notifier_t *n = srv_notifier_new(20);
    assert_int_equal(srv_notifier_start(n), 0);
    uint8_t rd[32], buf[1024];
    assert_int_equal(srv_notifier_send(n, origin, rd, soa(rd, 7), 300, &to, 1), 0);
    assert_true(receive(fd, buf, sizeof buf, 2000, &from) > 0);
    /* A newer serial replaces the pending one: only serial 8 from now on. */
    assert_int_equal(srv_notifier_send(n, origin, rd, soa(rd, 8), 300, &to, 1), 0);
    unsigned sent = 0;
    size_t len;
    while ((len = receive(fd, buf, sizeof buf, 1500, &from)) > 0) {
        if (dns_get_u32(buf + len - 20) == 8)
            sent++;
    }
    /* 20, 40, 80, 160, 320 ms: five tries of serial 8, then silence. */
    assert_int_equal(sent, SRV_NOTIFY_TRIES);
    srv_notifier_free(n);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_answered),
        cmocka_unit_test(test_notify_gives_up_and_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
