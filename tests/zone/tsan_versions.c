/* Versions under ThreadSanitizer (run by tests/zone/test_versions_tsan.sh):
 * two readers look up names in the published version while the writer
 * applies one update after another, publishes each with a pointer swap,
 * and every 500 updates has a background thread compact an older version
 * that it then rebases the newer changes onto, as the writer does. The
 * versions share their flat base, overlay nodes and name filter across
 * these threads; TSan reports any access that is not ordered. The mutex
 * only hands a reference to the readers (the server uses epochs). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/zone/zcmp.h"
static _Atomic(zone_t *) cur;
static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* stands for the epoch/RCU the server uses */
static void *reader(void *arg)
{
    (void)arg;
    uint8_t n[DNS_NAME_MAX];
    unsigned long found = 0;
    for (unsigned i = 0; !atomic_load(&stop); i++) {
        pthread_mutex_lock(&mu);
        zone_t *z = zone_ref(atomic_load(&cur));
        pthread_mutex_unlock(&mu);
        char t[64];
        snprintf(t, sizeof(t), "n%u.example.test.", i % 3000);
        zc_name(t, n);
        zone_lookup_t l;
        zone_lookup(z, n, &l);
        found += l.node != NULL;
        zone_free(z);
    }
    return (void *)found;
}
static zone_t *mark, *compacted;
static void *compactor(void *arg) { (void)arg; zone_compact(mark, &compacted); return NULL; }
int main(void)
{
    atomic_store(&cur, zc_build("example.test.", "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n"));
    pthread_t r[2];
    for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
    for (int i = 0; i < 3000; i++) {
        zone_t *z = atomic_load(&cur), *v = NULL;
        char text[64];
        snprintf(text, sizeof(text), "+n%d 300 A 192.0.2.1\n", i);
        zone_diff_t *d = zc_diff(z, text);
        if (zone_apply(z, d, &v, NULL)) abort();
        zone_diff_free(d);
        static pthread_t ct;
        if (i % 500 == 100) { mark = zone_ref(v); pthread_create(&ct, NULL, compactor, NULL); }
        if (i % 500 == 400) {
            pthread_join(ct, NULL);
            zone_t *r;
            if (zone_rebase(compacted, mark, v, &r)) abort();
            zone_free(compacted); zone_free(mark); zone_free(v); v = r;
        }
        pthread_mutex_lock(&mu);
        atomic_store(&cur, v);
        pthread_mutex_unlock(&mu);
        zone_free(z);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) { void *f; pthread_join(r[i], &f); printf("reader found %lu\n", (unsigned long)f); }
    zone_free(atomic_load(&cur));
    return 0;
}
