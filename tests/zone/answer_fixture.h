/* The answer fixture zones (tests/zone/answer/), loaded into one zone set:
 * shared by the answer unit tests and the answer micro-benchmark, which
 * must measure the same zones the tests check. Run from the repository
 * top. Returns ZL_OK with *out owned by the caller, or an error after
 * naming the file that failed on stderr. */
#ifndef ZL_TESTS_ANSWER_FIXTURE_H
#define ZL_TESTS_ANSWER_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "zone/parse.h"
#include "zone/zoneset.h"

static inline int answer_fixture_load(zone_set_t **out)
{
    static const char *files[] = { "example.test", "other.test", "child.example.test",
                                   "occluded.test" };
    enum { NFILES = sizeof(files) / sizeof(files[0]) };
    zone_t *z[NFILES];
    int n = 0, rc = ZL_OK;
    for (; n < NFILES; n++) {
        char path[128];
        uint8_t origin[DNS_NAME_MAX];
        snprintf(path, sizeof(path), "tests/zone/answer/%s", files[n]);
        rc = dns_name_from_text(files[n], strlen(files[n]), (const uint8_t *)"", origin);
        if (rc >= 0)
            rc = zone_load_file(path, origin, &z[n], NULL);
        if (rc != ZL_OK) {
            fprintf(stderr, "cannot load %s (run from the repository top)\n", path);
            break;
        }
    }
    if (rc == ZL_OK)
        rc = zone_set_new(z, NFILES, out);
    for (int i = 0; i < n; i++)
        zone_free(z[i]);
    return rc;
}

#endif
