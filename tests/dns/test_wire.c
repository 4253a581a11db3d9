/* dns/wire.h: the bounds-checked cursor and its sticky error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/wire.h"

static void test_reads(void **state)
{
    (void)state;
    static const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    dns_wire_t w;
    dns_wire_init_ro(&w, b, sizeof(b));
    assert_int_equal(dns_wire_avail(&w), 9);
    assert_int_equal(dns_wire_u8(&w), 1);
    assert_int_equal(dns_wire_u16(&w), 0x0203);
    assert_int_equal(dns_wire_u32(&w), 0x04050607);
    assert_ptr_equal(dns_wire_cur(&w), b + 7);
    uint8_t two[2];
    dns_wire_read(&w, two, 2);
    assert_int_equal(two[1], 9);
    assert_true(dns_wire_ok(&w));
    assert_int_equal(dns_wire_avail(&w), 0);
    assert_int_equal(dns_get_u16(b), 0x0102);
    assert_int_equal(dns_get_u32(b + 5), 0x06070809);
}

static void test_sticky_read_error(void **state)
{
    (void)state;
    static const uint8_t b[] = {0xff, 0xee, 0xdd};
    dns_wire_t w;
    dns_wire_init_ro(&w, b, sizeof(b));
    assert_int_equal(dns_wire_u16(&w), 0xffee);
    assert_int_equal(dns_wire_u32(&w), 0); /* short: zero, error set */
    assert_int_equal(w.err, ZL_EMALF);
    assert_int_equal(w.pos, 2);
    /* every later call is a no-op yielding zero, even one that would fit */
    assert_int_equal(dns_wire_u8(&w), 0);
    assert_int_equal(w.pos, 2);
    assert_int_equal(dns_wire_avail(&w), 0);
    uint8_t x[2] = {7, 7};
    dns_wire_read(&w, x, 2);
    assert_int_equal(x[0], 0);
    assert_int_equal(x[1], 0);
    dns_wire_skip(&w, 1);
    assert_int_equal(w.pos, 2);
    dns_wire_fail(&w, ZL_ELOOP); /* first error wins */
    assert_int_equal(w.err, ZL_EMALF);
    /* skip and seek past the end */
    dns_wire_init_ro(&w, b, sizeof(b));
    dns_wire_skip(&w, 4);
    assert_int_equal(w.err, ZL_EMALF);
    dns_wire_init_ro(&w, b, sizeof(b));
    dns_wire_seek(&w, 3);
    assert_true(dns_wire_ok(&w));
    dns_wire_seek(&w, 4);
    assert_int_equal(w.err, ZL_EMALF);
    assert_int_equal(w.pos, 3);
    /* huge n does not wrap the bound */
    dns_wire_init_ro(&w, b, sizeof(b));
    dns_wire_u8(&w);
    assert_false(dns_wire_need(&w, SIZE_MAX));
}

static void test_writes(void **state)
{
    (void)state;
    uint8_t b[10];
    memset(b, 0xaa, sizeof(b));
    dns_wire_t w;
    dns_wire_init(&w, b, 9);
    dns_wire_put_u8(&w, 1);
    dns_wire_put_u16(&w, 0x0203);
    dns_wire_put_u32(&w, 0x04050607);
    dns_wire_write(&w, "\x08", 1);
    dns_wire_write(&w, NULL, 0);
    assert_int_equal(w.pos, 8);
    dns_wire_put_u16(&w, 0xffff); /* one byte left: fails, writes nothing */
    assert_int_equal(w.err, ZL_ESPACE);
    assert_int_equal(w.pos, 8);
    dns_wire_put_u8(&w, 9); /* sticky */
    assert_int_equal(w.pos, 8);
    static const uint8_t exp[] = {1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xaa};
    assert_memory_equal(b, exp, sizeof(exp));
    dns_put_u16(b, 0x1234);
    dns_put_u32(b + 2, 0xdeadbeef);
    assert_int_equal(dns_get_u16(b), 0x1234);
    assert_int_equal(dns_get_u32(b + 2), 0xdeadbeef);
    /* write past the end through seek */
    dns_wire_init(&w, b, 4);
    dns_wire_seek(&w, 5);
    assert_int_equal(w.err, ZL_ESPACE);
}

static void test_readonly(void **state)
{
    (void)state;
    uint8_t b[4] = {0};
    dns_wire_t w;
    dns_wire_init_ro(&w, b, sizeof(b));
    dns_wire_put_u8(&w, 1);
    assert_int_equal(w.err, ZL_EINVAL);
    assert_int_equal(b[0], 0);
    dns_wire_init_ro(&w, b, sizeof(b));
    dns_wire_write(&w, "x", 1);
    assert_int_equal(w.err, ZL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_sticky_read_error),
        cmocka_unit_test(test_writes),
        cmocka_unit_test(test_readonly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
