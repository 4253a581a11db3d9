/* dns/serial.c: RFC 1982 serial number arithmetic (SERIAL_BITS = 32). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns/serial.h"

static void test_cmp_basic(void **state)
{
    (void)state;
    assert_int_equal(dns_serial_cmp(0, 0), 0);
    assert_int_equal(dns_serial_cmp(1, 2), -1);
    assert_int_equal(dns_serial_cmp(2, 1), 1);
    assert_int_equal(dns_serial_cmp(2026113001u, 2026113002u), -1);
    /* largest forward step: 2^31 - 1 */
    assert_int_equal(dns_serial_cmp(0, 0x7fffffffu), -1);
    assert_int_equal(dns_serial_cmp(0x7fffffffu, 0), 1);
}

static void test_cmp_wrap(void **state)
{
    (void)state;
    /* RFC 1982 §5.2 examples: 255 < 0 < 100 < 200 < 255 for 8 bits; here
     * the same shape in 32 bits. */
    assert_int_equal(dns_serial_cmp(0xffffffffu, 0), -1);
    assert_int_equal(dns_serial_cmp(0, 0xffffffffu), 1);
    assert_int_equal(dns_serial_cmp(0xfffffff0u, 5), -1);
    assert_int_equal(dns_serial_cmp(0x80000001u, 0), -1); /* 0 is "after" */
    assert_int_equal(dns_serial_cmp(0x80000000u, 1), 1);
    assert_int_equal(dns_serial_cmp(0xc0000000u, 0x3fffffffu), -1);
    assert_int_equal(dns_serial_cmp(0xc0000000u, 0x40000001u), 1);
}

static void test_cmp_undefined(void **state)
{
    (void)state;
    /* §3.2: distance exactly 2^31 is undefined, both ways. */
    assert_int_equal(dns_serial_cmp(0, 0x80000000u), 2);
    assert_int_equal(dns_serial_cmp(0x80000000u, 0), 2);
    assert_int_equal(dns_serial_cmp(0x12345678u, 0x92345678u), 2);
    assert_int_equal(dns_serial_cmp(0xffffffffu, 0x7fffffffu), 2);
}

static void test_add(void **state)
{
    (void)state;
    assert_int_equal(dns_serial_add(1, 1), 2);
    assert_int_equal(dns_serial_add(0xffffffffu, 1), 0);
    assert_int_equal(dns_serial_add(0xfffffffeu, 5), 3);
    assert_int_equal(dns_serial_add(0, 0x7fffffffu), 0x7fffffffu);
    /* n beyond 2^31 - 1 is clamped, so the result still compares greater */
    assert_int_equal(dns_serial_add(0, 0x80000000u), 0x7fffffffu);
    assert_int_equal(dns_serial_add(10, 0xffffffffu), 10u + 0x7fffffffu);
    for (uint32_t s = 0xfffffff0u; s != 0x10; s++)
        assert_int_equal(dns_serial_cmp(s, dns_serial_add(s, 0xffffffffu)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp_basic),
        cmocka_unit_test(test_cmp_wrap),
        cmocka_unit_test(test_cmp_undefined),
        cmocka_unit_test(test_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
