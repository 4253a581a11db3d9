/* memory: malloc/free/realloc stress, large allocations that only fit if
 * freed memory is reused, anonymous mmap/munmap/mremap, page allocator
 * churn and coalescing, brk. */
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define SLOTS 512

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned char *slot[SLOTS];
static size_t len[SLOTS];

static void fill(int i) { memset(slot[i], (unsigned char)(i * 7 + len[i]), len[i]); }
static int intact(int i)
{
    unsigned char v = (unsigned char)(i * 7 + len[i]);
    return slot[i][0] == v && !memcmp(slot[i], slot[i] + 1, len[i] - 1);
}

static void stress(void)
{
    for (int op = 0; op < 20000; op++) {
        int i = (int)(next() % SLOTS);
        size_t n = (next() % 4 == 0) ? next() % 100000 + 1 : next() % 512 + 1;
        if (!slot[i]) {
            CHECK((slot[i] = malloc(n)) != NULL);
            len[i] = n;
            fill(i);
        } else if (next() % 2) {
            CHECK(intact(i));
            unsigned char *p = realloc(slot[i], n);
            CHECK(p != NULL);
            size_t keep = n < len[i] ? n : len[i];
            CHECK(p[0] == (unsigned char)(i * 7 + len[i]) && !memcmp(p, p + 1, keep - 1));
            slot[i] = p;
            len[i] = n;
            fill(i);
        } else {
            CHECK(intact(i));
            free(slot[i]);
            slot[i] = NULL;
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slot[i])
            CHECK(intact(i));
        free(slot[i]);
        slot[i] = NULL;
    }
}

/* 40 MiB at a time, 6 times, in a 128 MiB guest: only works if the
 * allocator reuses what free() gave back. calloc memory must read zero
 * even where an earlier round wrote. */
static void large(void)
{
    const size_t big = 40u << 20;
    for (int round = 0; round < 6; round++) {
        unsigned char *p = calloc(1, big);
        CHECK(p != NULL);
        for (size_t k = 0; k < big; k += 4096)
            CHECK(p[k] == 0);
        memset(p, 0xa5, big);
        free(p);
    }
}

static void maps(void)
{
    const size_t n = 1u << 20;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(((uintptr_t)p & 4095) == 0);
    for (size_t k = 0; k < n; k++)
        CHECK(p[k] == 0);
    memset(p, 0x5a, n);
    /* Grow: contents kept, the new part zero. */
    unsigned char *q = mremap(p, n, 4 * n, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED);
    CHECK(q[0] == 0x5a && q[n - 1] == 0x5a && q[n] == 0 && q[4 * n - 1] == 0);
    CHECK(munmap(q, 4 * n) == 0);
    /* Memory given back comes back zeroed. */
    unsigned char *r = mmap(NULL, 4 * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED);
    for (size_t k = 0; k < 4 * n; k += 512)
        CHECK(r[k] == 0);
    /* Partial unmap in the middle, then MAP_FIXED over the hole. */
    CHECK(munmap(r + n, n) == 0);
    unsigned char *f = mmap(r + n, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(f == r + n);
    CHECK(madvise(r, n, MADV_DONTNEED) == 0);
    CHECK(munmap(r, 4 * n) == 0);
    /* An impossible request fails cleanly. */
    CHECK(mmap(NULL, (size_t)1 << 40, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
}

/* The runtime's page allocator (linked into this image): random mmap and
 * munmap churn, released in another order, gives every page back, and
 * the space coalesces so one mapping as large as all of it fits again. */
size_t rt_mem_free_bytes(void);

static void churn(void)
{
    enum { N = 300 };
    static unsigned char *p[N];
    static size_t n[N];
    size_t before = rt_mem_free_bytes();

    for (int i = 0; i < N; i++) {
        n[i] = (next() % 64 + 1) * 4096;
        p[i] = mmap(NULL, n[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p[i] != MAP_FAILED);
        p[i][0] = p[i][n[i] - 1] = 1;
        if (i % 3 == 2) { /* free some early, leaving holes */
            int k = (int)(next() % (uint64_t)(i + 1));
            if (p[k]) {
                CHECK(munmap(p[k], n[k]) == 0);
                p[k] = NULL;
            }
        }
    }
    CHECK(rt_mem_free_bytes() < before);
    for (int i = 0; i < N; i++) {
        int k = (int)((uint64_t)i * 7919 % N); /* a permutation of 0..N-1 */
        if (p[k])
            CHECK(munmap(p[k], n[k]) == 0);
    }
    CHECK(rt_mem_free_bytes() == before);
    size_t most = before / 2 & ~(size_t)4095;
    unsigned char *big = mmap(NULL, most, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(big != MAP_FAILED && big[0] == 0 && big[most - 1] == 0);
    CHECK(munmap(big, most) == 0 && rt_mem_free_bytes() == before);
}

/* Running out is an error, not a crash: malloc returns NULL, a file that
 * no longer fits in memory fails with ENOSPC, and unlinking it gives the
 * memory back. */
static void exhaustion(void)
{
    static char chunk[1 << 20];
    int fd = open("/big", O_CREAT | O_WRONLY, 0600);
    size_t written = 0;
    ssize_t r;

    CHECK(malloc((size_t)1 << 33) == NULL);
    CHECK(fd >= 0);
    memset(chunk, 'x', sizeof chunk);
    while ((r = write(fd, chunk, sizeof chunk)) == (ssize_t)sizeof chunk)
        written += sizeof chunk;
    CHECK(r == -1 && errno == ENOSPC);
    CHECK(written >= (96u << 20)); /* most of a 128 MiB guest was usable */
    close(fd);
    CHECK(unlink("/big") == 0);
    void *p = malloc(written / 2);
    CHECK(p != NULL);
    free(p);
    printf("file filled memory at %zu MiB, space came back\n", written >> 20);
}

static void brk_area(void)
{
    uintptr_t b0 = (uintptr_t)syscall(SYS_brk, 0);
    uintptr_t b1 = (uintptr_t)syscall(SYS_brk, b0 + 100000);
    CHECK(b1 == b0 + 100000);
    memset((void *)b0, 1, 100000);
    CHECK((uintptr_t)syscall(SYS_brk, b0) == b0);
}

int main(void)
{
    stress();
    large();
    maps();
    churn();
    exhaustion();
    brk_area();
    printf("SUCCESS\n");
    return 0;
}
