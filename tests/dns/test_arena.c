/* dns/arena.c: region allocation, alignment, fixed buffers, reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dns/arena.h"

static void test_fixed(void **state)
{
    (void)state;
    _Alignas(8) uint8_t buf[64];
    dns_arena_t a;
    dns_arena_init(&a, buf + 1, 63, DNS_ARENA_FIXED); /* misaligned start */
    uint8_t *p = dns_arena_alloc(&a, 3);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 8, 0);
    assert_true(p >= buf + 1 && p + 3 <= buf + 64);
    uint8_t *q = dns_arena_alloc(&a, 8);
    assert_int_equal((uintptr_t)q % 8, 0);
    assert_true(q >= p + 3);
    assert_null(dns_arena_alloc(&a, 64)); /* fixed: no heap */
    assert_non_null(dns_arena_alloc(&a, 16));
    dns_arena_reset(&a);
    assert_ptr_equal(dns_arena_alloc(&a, 3), p); /* same buffer again */
    dns_arena_free(&a);
}

static void test_heap_chunks(void **state)
{
    (void)state;
    uint8_t buf[32];
    dns_arena_t a;
    dns_arena_init(&a, buf, sizeof(buf), 0);
    void *ps[200];
    for (int i = 0; i < 200; i++) {
        ps[i] = dns_arena_alloc(&a, 1000);
        assert_non_null(ps[i]);
        assert_int_equal((uintptr_t)ps[i] % 8, 0);
        memset(ps[i], i, 1000);
    }
    for (int i = 0; i < 200; i++)
        assert_int_equal(((uint8_t *)ps[i])[999], (uint8_t)i);
    /* bigger than any chunk */
    uint8_t *big = dns_arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    big[(1 << 20) - 1] = 1;
    dns_arena_reset(&a);
    assert_ptr_equal(dns_arena_alloc(&a, 8), buf + ((8 - (uintptr_t)buf % 8) % 8));
    dns_arena_free(&a);
    /* heap only */
    dns_arena_init(&a, NULL, 0, 0);
    const char s[] = "hello";
    char *d = dns_arena_dup(&a, s, sizeof(s));
    assert_string_equal(d, s);
    assert_non_null(dns_arena_alloc(&a, 0));
    dns_arena_free(&a); /* ASan's leak check verifies chunks are freed */
    /* heap-only fixed arena cannot allocate */
    dns_arena_init(&a, NULL, 0, DNS_ARENA_FIXED);
    assert_null(dns_arena_alloc(&a, 1));
    assert_null(dns_arena_alloc(&a, SIZE_MAX));
    dns_arena_free(&a);
    dns_arena_init(&a, NULL, 0, 0);
    assert_null(dns_arena_alloc(&a, SIZE_MAX - 8));
    dns_arena_free(&a);
}

static void test_shrink(void **state)
{
    (void)state;
    _Alignas(8) uint8_t buf[256];
    dns_arena_t a;
    dns_arena_init(&a, buf, sizeof(buf), DNS_ARENA_FIXED);
    uint8_t *p = dns_arena_alloc(&a, 200);
    assert_null(dns_arena_alloc(&a, 100));
    dns_arena_shrink(&a, p, 10);
    uint8_t *q = dns_arena_alloc(&a, 100);
    assert_ptr_equal(q, buf + 16);
    dns_arena_shrink(&a, p, 1); /* not the last one: no effect */
    assert_ptr_equal(dns_arena_alloc(&a, 8), buf + 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_heap_chunks),
        cmocka_unit_test(test_shrink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
