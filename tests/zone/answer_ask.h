/* Helpers for tests that ask zone_answer questions and read the replies
 * back with dns_msg_parse: one query, one reply, in file-static state (a
 * test file includes this once). The reply is what the zone layer writes
 * into a message of a given size (the message layer adds the OPT); the
 * zone set comes from the test (the fixture, or zones built from text). */
#ifndef ZL_TESTS_ANSWER_ASK_H
#define ZL_TESTS_ANSWER_ASK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dns/msg.h"
#include "zone/answer.h"
#include "zone/parse.h"

typedef struct ask_client {
    bool tcp;
} ask_client_t;

static zone_set_t *zs;
static const ask_client_t udp4 = { .tcp = false };
static const ask_client_t tcp4 = { .tcp = true };
static uint8_t reply[65535];
static size_t rlen;
static uint16_t reply_rcode;
static dns_msg_t msg;
static dns_arena_t arena;

static void name_of(const char *text, uint8_t out[DNS_NAME_MAX])
{
    assert_true(dns_name_from_text(text, strlen(text), NULL, out) > 0);
}

/* Asks (name, type) over cl's transport, the reply limited to payload
 * octets over UDP (0: 512, RFC 1035 §4.2.1) and to 65535 over TCP, and
 * parses the reply into msg (its rcode in reply_rcode). */
static void ask_p(const char *name, uint16_t type, uint16_t payload, const ask_client_t *cl)
{
    uint8_t qn[DNS_NAME_MAX];
    name_of(name, qn);
    size_t limit = cl->tcp ? 65535 : payload < 512 ? 512 : payload;
    dns_msgb_t b;
    dns_msgb_init(&b, reply, limit, 0xbeef, DNS_F_QR);
    assert_int_equal(dns_msgb_question(&b, qn, type, DNS_C_IN), ZL_OK);
    uint16_t flags = DNS_F_QR;
    reply_rcode = zone_answer(zs, qn, type, cl->tcp, &b, &flags);
    dns_msgb_set_flags(&b, (uint16_t)(flags | reply_rcode));
    rlen = dns_msgb_finish(&b);
    assert_true(rlen >= DNS_HDR_LEN && rlen <= limit);
    dns_arena_reset(&arena);
    assert_int_equal(dns_msg_parse(&msg, reply, rlen, &arena), ZL_OK);
}

static void ask(const char *name, uint16_t type)
{
    ask_p(name, type, 0, &udp4);
}

static unsigned rcode(void)
{
    return reply_rcode;
}

static bool flag(uint16_t f)
{
    return (msg.flags & f) != 0;
}

/* Records in section sec with this owner (NULL: any) and type (0: any). */
static int count(int sec, const char *owner, uint16_t type)
{
    uint8_t on[DNS_NAME_MAX];
    if (owner)
        name_of(owner, on);
    int n = 0;
    for (unsigned i = 0; i < msg.nrr[sec]; i++) {
        const dns_rr_t *rr = &msg.rr[sec][i];
        if ((!owner || dns_name_equal(rr->owner, on)) && (!type || rr->type == type))
            n++;
    }
    return n;
}

/* Whether section sec holds the record (owner, type, RDATA as text). */
static bool has_rr(int sec, const char *owner, uint16_t type, const char *rdtext)
{
    uint8_t on[DNS_NAME_MAX];
    name_of(owner, on);
    for (unsigned i = 0; i < msg.nrr[sec]; i++) {
        const dns_rr_t *rr = &msg.rr[sec][i];
        char text[1024];
        if (dns_name_equal(rr->owner, on) && rr->type == type &&
            dns_rdata_to_text(type, rr->rdata, rr->rdlen, text, sizeof(text)) >= 0 &&
            strcmp(text, rdtext) == 0)
            return true;
    }
    return false;
}

static void assert_counts(int an, int ns, int ar)
{
    assert_int_equal(msg.nrr[DNS_SEC_AN], an);
    assert_int_equal(msg.nrr[DNS_SEC_NS], ns);
    assert_int_equal(msg.nrr[DNS_SEC_AR], ar);
}

/* No RRset appears twice in a section (RFC 2181 §5: one RRset, one set
 * of records): no two records alike in owner, type and RDATA. */
static __attribute__((unused)) void assert_no_repeats(void)
{
    for (int sec = DNS_SEC_AN; sec <= DNS_SEC_AR; sec++)
        for (unsigned i = 0; i < msg.nrr[sec]; i++)
            for (unsigned j = i + 1; j < msg.nrr[sec]; j++) {
                const dns_rr_t *a = &msg.rr[sec][i], *b = &msg.rr[sec][j];
                if (a->type == b->type && a->rdlen == b->rdlen &&
                    dns_name_equal(a->owner, b->owner) &&
                    memcmp(a->rdata, b->rdata, a->rdlen) == 0)
                    fail_msg("section %d: record %u repeats record %u", sec, j, i);
            }
}

/* A zone set of zones built from text: origin_i, text_i pairs, n of them;
 * replaces zs (the caller frees it). Warnings are fine, errors fail. */
static int ask_add(void *ctx, const dns_rr_t *rec)
{
    return zone_builder_add(ctx, rec, NULL);
}

static zone_set_t *zones_from_text(size_t n, const char *const *origins,
                                   const char *const *texts)
{
    zone_t *z[8];
    zone_set_t *set = NULL;
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t o[DNS_NAME_MAX];
        name_of(origins[i], o);
        zone_builder_t *b = zone_builder_new(o);
        zone_parse_opts_t opts = { .origin = o };
        assert_int_equal(zone_parse_text(texts[i], strlen(texts[i]), "t", &opts, ask_add, b,
                                         NULL), ZL_OK);
        assert_int_equal(zone_builder_finish(b, &z[i], NULL), ZL_OK);
    }
    assert_int_equal(zone_set_new(z, n, &set), ZL_OK);
    for (size_t i = 0; i < n; i++)
        zone_free(z[i]);
    return set;
}

#endif
