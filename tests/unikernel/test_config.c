/* unikernel/config.c: options, defaults, addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "unikernel/config.h"

static int parse(srv_config_t *cfg, const char **args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "zonelet";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return srv_config_parse(cfg, argc, argv);
}

static void test_defaults(void **state)
{
    srv_config_t cfg;
    char text[64];
    (void)state;
    assert_int_equal(parse(&cfg, (const char *[]){NULL}), 0);
    assert_string_equal(cfg.zones_dir, "zones-example");
    assert_int_equal(cfg.nlisten, 2);
    srv_addr_text((struct sockaddr *)&cfg.listen[0], text, sizeof text);
    assert_string_equal(text, "127.0.0.1:5353");
    srv_addr_text((struct sockaddr *)&cfg.listen[1], text, sizeof text);
    assert_string_equal(text, "[::1]:5353");
    assert_true(cfg.workers >= 1);
    assert_int_equal(cfg.msg.udp_max, 1232);
    assert_true(cfg.msg.cookies);
    assert_null(cfg.msg.nsid);
    assert_false(cfg.log_queries);
    assert_int_equal(cfg.udp_coalesce_us, 200);
}

static void test_options(void **state)
{
    srv_config_t cfg;
    char text[64];
    (void)state;
    assert_int_equal(parse(&cfg, (const char *[]){"--listen", "192.0.2.1:53", "--listen=[2001:db8::1]:5300",
                                                  "--zones", "/z", "--workers", "3", "--udp-max", "4096",
                                                  "--nsid", "ns1", "--id-server", "a", "--version-server", "b",
                                                  "--no-cookies", "--log-queries", "--tcp-max-conns", "9",
                                                  "--tcp-max-per-ip", "2", "--tcp-idle-ms", "500",
                                                  "--udp-coalesce-us", "50", NULL}), 0);
    assert_int_equal(cfg.nlisten, 2);
    srv_addr_text((struct sockaddr *)&cfg.listen[1], text, sizeof text);
    assert_string_equal(text, "[2001:db8::1]:5300");
    assert_string_equal(cfg.zones_dir, "/z");
    assert_int_equal(cfg.workers, 3);
    assert_int_equal(cfg.msg.udp_max, 4096);
    assert_int_equal(cfg.msg.nsid_len, 3);
    assert_memory_equal(cfg.msg.nsid, "ns1", 3);
    assert_string_equal(cfg.msg.id_server, "a");
    assert_string_equal(cfg.msg.version_server, "b");
    assert_false(cfg.msg.cookies);
    assert_true(cfg.log_queries);
    assert_int_equal(cfg.tcp_max_conns, 9);
    assert_int_equal(cfg.tcp_max_per_ip, 2);
    assert_int_equal(cfg.tcp_idle_ms, 500);
    assert_int_equal(cfg.udp_coalesce_us, 50);
}

static void test_bad_values(void **state)
{
    srv_config_t cfg;
    (void)state;
    const char *bad[][3] = {
        {"--workers", "0"}, {"--workers", "x"}, {"--udp-max", "511"}, {"--udp-max", "65536"},
        {"--listen", "127.0.0.1"}, {"--listen", "127.0.0.1:0"}, {"--listen", "[::1]5353"},
        {"--listen", "300.0.0.1:53"}, {"--listen", "[zz::1]:53"}, {"--listen", "1.2.3.4:99999"},
        {"--tcp-idle-ms", "-1"}, {"--udp-coalesce-us", "1001"}, {"--nosuch", NULL},
        {"--notify-to", "192.0.2.1"}, {"--notify-to", "[::1]"}, {"--axfr-allow", "10.0.0.0/33"},
        {"--axfr-allow", "::/129"}, {"--axfr-allow", "host.example"}, {"--axfr-allow", "10.0.0.0/"},
        {"--ixfr-history", "0"}, {"--ixfr-max-bytes", "100"},
        {"extra", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        assert_int_equal(parse(&cfg, args), -1);
    }
}

static void test_change_path_options(void **state)
{
    srv_config_t cfg;
    char text[64];
    (void)state;
    assert_int_equal(parse(&cfg, (const char *[]){NULL}), 0);
    assert_int_equal(cfg.ntsig_keys, 0);
    assert_int_equal(cfg.nnotify_to, 0);
    assert_int_equal(cfg.msg.naxfr_allow, 0);
    assert_int_equal(cfg.ixfr_history, 100);
    assert_int_equal(cfg.ixfr_max_bytes, 16u << 20);
    assert_int_equal(parse(&cfg, (const char *[]){"--tsig-key", "a._update.example.:hmac-sha256:YQ==",
                                                  "--tsig-key=b._transfer.example.:hmac-md5:Yg==",
                                                  "--notify-to", "127.0.0.1:5300",
                                                  "--notify-to", "[::1]:5301",
                                                  "--axfr-allow", "192.0.2.0/24",
                                                  "--axfr-allow", "2001:db8::1",
                                                  "--ixfr-history", "7", "--ixfr-max-bytes", "8192", NULL}), 0);
    assert_int_equal(cfg.ntsig_keys, 2);
    assert_string_equal(cfg.tsig_keys[1], "b._transfer.example.:hmac-md5:Yg==");
    assert_int_equal(cfg.nnotify_to, 2);
    srv_addr_text((struct sockaddr *)&cfg.notify_to[1], text, sizeof text);
    assert_string_equal(text, "[::1]:5301");
    assert_int_equal(cfg.msg.naxfr_allow, 2);
    assert_ptr_equal(cfg.msg.axfr_allow, cfg.axfr_allow);
    assert_int_equal(cfg.ixfr_history, 7);
    assert_int_equal(cfg.ixfr_max_bytes, 8192);
    srv_client_t in = {.family = 4, .addr = {192, 0, 2, 200}};
    srv_client_t out = {.family = 4, .addr = {192, 0, 3, 1}};
    srv_client_t v6 = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    srv_client_t v6b = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
    assert_true(srv_cidr_match(&cfg.msg.axfr_allow[0], &in));
    assert_false(srv_cidr_match(&cfg.msg.axfr_allow[0], &out));
    assert_false(srv_cidr_match(&cfg.msg.axfr_allow[0], &v6));
    assert_true(srv_cidr_match(&cfg.msg.axfr_allow[1], &v6));
    assert_false(srv_cidr_match(&cfg.msg.axfr_allow[1], &v6b));
}

static void test_cidr(void **state)
{
    srv_cidr_t c;
    (void)state;
    srv_client_t a = {.family = 4, .addr = {10, 1, 2, 3}};
    assert_int_equal(srv_cidr_parse("10.1.2.99/20", &c), 0);  /* host bits dropped */
    assert_int_equal(c.bits, 20);
    assert_true(srv_cidr_match(&c, &a));
    a.addr[2] = 16;
    assert_false(srv_cidr_match(&c, &a));
    assert_int_equal(srv_cidr_parse("0.0.0.0/0", &c), 0);
    assert_true(srv_cidr_match(&c, &a));
    assert_int_equal(srv_cidr_parse("::/0", &c), 0);
    assert_false(srv_cidr_match(&c, &a));               /* families never mix */
    assert_false(srv_cidr_match(&c, NULL));
    assert_int_equal(srv_cidr_parse("fe80::/10", &c), 0);
    srv_client_t ll = {.family = 6, .addr = {0xfe, 0xbf}};
    assert_true(srv_cidr_match(&c, &ll));
    ll.addr[1] = 0xc0;
    assert_false(srv_cidr_match(&c, &ll));
    assert_int_equal(srv_cidr_parse("/8", &c), -1);
    assert_int_equal(srv_cidr_parse("1.2.3.4/x", &c), -1);
}

static void test_help(void **state)
{
    srv_config_t cfg;
    (void)state;
    assert_int_equal(parse(&cfg, (const char *[]){"--help", NULL}), 1);
}

static void test_addr_parse(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    (void)state;
    assert_int_equal(srv_addr_parse("[::]:53", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 53);
    assert_int_equal(srv_addr_parse("0.0.0.0:65535", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 65535);
    assert_int_equal(srv_addr_parse("::1:53", &ss, &len), -1);   /* IPv6 needs brackets */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_change_path_options),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_addr_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
