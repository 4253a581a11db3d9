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
        {"extra", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {bad[i][0], bad[i][1], NULL};
        assert_int_equal(parse(&cfg, args), -1);
    }
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
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_addr_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
