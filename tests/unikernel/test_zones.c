/* unikernel/zones.c: loading a zone directory, keeping unchanged and
 * broken zones, and publishing sets to concurrent readers (run under
 * ASan: a set freed while a reader holds it is a use-after-free). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/name.h"
#include "unikernel/zones.h"

static char dir[64];

static void write_zone(const char *name, unsigned serial, const char *extra)
{
    char path[128], tmp[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.tmp", dir);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f, "$ORIGIN %s.\n@ 3600 IN SOA ns h %u 2 3 4 5\n@ 3600 IN NS ns\n"
               "ns 3600 IN A 192.0.2.1\n%s", name, serial, extra ? extra : "");
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);   /* a new inode, as editors and git do */
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/zl-test-zones.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[96];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const zone_t *find(const zone_set_t *s, const char *name)
{
    uint8_t origin[DNS_NAME_MAX];
    assert_true(dns_name_from_text(name, strlen(name), NULL, origin) > 0);
    return zone_set_get(s, origin);
}

static void test_load_skips_and_reports(void **state)
{
    char path[128];
    (void)state;
    write_zone("a.test", 1, NULL);
    write_zone("b.test", 7, "bad 3600 IN A 999.1.1.1\n");
    snprintf(path, sizeof path, "%s/_keys", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/c.test._keys", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0700);
    srv_zones_t *zs = srv_zones_new(dir, 1);
    assert_non_null(zs);
    assert_int_equal(srv_zones_load(zs), 1);          /* b.test is broken */
    const zone_set_t *s = srv_zones_enter(zs, 0);
    assert_int_equal(zone_set_count(s), 1);
    assert_non_null(find(s, "a.test."));
    assert_null(find(s, "b.test."));
    srv_zones_leave(zs, 0);
    srv_zones_free(zs);
}

static void test_reload_keeps_old_version(void **state)
{
    (void)state;
    write_zone("a.test", 1, NULL);
    srv_zones_t *zs = srv_zones_new(dir, 1);
    assert_int_equal(srv_zones_load(zs), 0);
    write_zone("a.test", 2, NULL);
    assert_int_equal(srv_zones_load(zs), 0);
    const zone_set_t *s = srv_zones_enter(zs, 0);
    assert_int_equal(zone_serial(find(s, "a.test.")), 2);
    srv_zones_leave(zs, 0);
    write_zone("a.test", 3, "oops 3600 IN A nope\n");
    assert_int_equal(srv_zones_load(zs), 1);
    s = srv_zones_enter(zs, 0);
    assert_int_equal(zone_serial(find(s, "a.test.")), 2);   /* old version stays */
    srv_zones_leave(zs, 0);
    char path[128];
    snprintf(path, sizeof path, "%s/a.test", dir);
    unlink(path);
    assert_int_equal(srv_zones_load(zs), 0);
    s = srv_zones_enter(zs, 0);
    assert_int_equal(zone_set_count(s), 0);                  /* removed file: dropped */
    srv_zones_leave(zs, 0);
    srv_zones_free(zs);
}

static void test_unchanged_file_keeps_zone(void **state)
{
    (void)state;
    write_zone("a.test", 1, NULL);
    /* Backdate the file: a file modified in the second of the scan is
     * reloaded anyway (coarse timestamps). */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "touch -d '2020-01-01' '%s/a.test'", dir);
    assert_int_equal(system(cmd), 0);
    srv_zones_t *zs = srv_zones_new(dir, 1);
    assert_int_equal(srv_zones_load(zs), 0);
    const zone_t *before = find(srv_zones_enter(zs, 0), "a.test.");
    srv_zones_leave(zs, 0);
    sleep(2);   /* the scan time must pass the file's second */
    assert_int_equal(srv_zones_load(zs), 0);
    assert_int_equal(srv_zones_load(zs), 0);
    const zone_t *after = find(srv_zones_enter(zs, 0), "a.test.");
    srv_zones_leave(zs, 0);
    assert_ptr_equal(before, after);
    srv_zones_free(zs);
}

static void test_missing_dir(void **state)
{
    (void)state;
    srv_zones_t *zs = srv_zones_new("/nonexistent/zonelet", 1);
    assert_int_equal(srv_zones_load(zs), -1);
    assert_null(srv_zones_enter(zs, 0));
    srv_zones_leave(zs, 0);
    srv_zones_free(zs);
}

typedef struct reader_arg {
    srv_zones_t *zs;
    unsigned slot;
    atomic_bool *stop;
    unsigned long reads;
} reader_arg_t;

/* Holds each set a little while and reads from it. */
static void *reader(void *p)
{
    reader_arg_t *a = p;
    while (!atomic_load(a->stop)) {
        const zone_set_t *s = srv_zones_enter(a->zs, a->slot);
        for (size_t i = 0; s && i < zone_set_count(s); i++)
            a->reads += zone_serial(zone_set_at(s, i)) > 0;
        usleep(100);
        srv_zones_leave(a->zs, a->slot);
    }
    return NULL;
}

static void test_publish_under_readers(void **state)
{
    (void)state;
    atomic_bool stop;
    atomic_init(&stop, false);
    write_zone("a.test", 1, NULL);
    write_zone("b.test", 1, NULL);
    srv_zones_t *zs = srv_zones_new(dir, 3);
    assert_int_equal(srv_zones_load(zs), 0);
    pthread_t th[3];
    reader_arg_t args[3];
    for (unsigned i = 0; i < 3; i++) {
        args[i] = (reader_arg_t){zs, i, &stop, 0};
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    for (unsigned v = 2; v < 30; v++) {
        write_zone(v % 2 ? "a.test" : "b.test", v, NULL);
        assert_int_equal(srv_zones_load(zs), 0);
    }
    atomic_store(&stop, true);
    for (unsigned i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].reads > 0);
    }
    const zone_set_t *s = srv_zones_enter(zs, 0);
    assert_int_equal(zone_serial(find(s, "a.test.")), 29);
    assert_int_equal(zone_serial(find(s, "b.test.")), 28);
    srv_zones_leave(zs, 0);
    srv_zones_free(zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_skips_and_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_old_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_file_keeps_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_under_readers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
