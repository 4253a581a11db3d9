/* mem.c: the page allocator behind mmap/munmap/mremap/madvise/brk.
 *
 * Free memory is a sorted array of free extents. mmap takes from the
 * highest extent that fits and brk grows up from the bottom of the region,
 * so the two meet only when memory is full. Freed pages are zeroed at once
 * (the region starts zeroed), which keeps anonymous mappings zero-filled
 * without tracking which pages are dirty. No page protection exists: the
 * whole region is read/write, so mprotect succeeds without protecting
 * anything (thread.c puts a canary in the stack guard instead). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "platform/include/plat.h"
#include "platform/runtime/rt.h"

#define RT_PAGE 4096ul
#define RT_MAX_EXTENTS 8192

struct rt_extent {
    uintptr_t start, end;
};

static struct rt_extent rt_free[RT_MAX_EXTENTS];
static int rt_nfree;
static uintptr_t rt_lo, rt_hi;    /* the region */
static uintptr_t rt_brk_cur;      /* current program break (byte) */

static uintptr_t page_up(uintptr_t x) { return (x + RT_PAGE - 1) & ~(RT_PAGE - 1); }

void rt_mem_init(void)
{
    rt_lo = plat_mem_start();
    rt_hi = plat_mem_end();
    rt_brk_cur = rt_lo;
    rt_free[0] = (struct rt_extent){rt_lo, rt_hi};
    rt_nfree = rt_hi > rt_lo;
}

size_t rt_mem_free_bytes(void)
{
    size_t sum = 0;
    for (int i = 0; i < rt_nfree; i++)
        sum += rt_free[i].end - rt_free[i].start;
    return sum;
}

static int in_region(uintptr_t a, size_t len)
{
    return a >= rt_lo && a <= rt_hi && len <= rt_hi - a;
}

/* Remove [s, e) from the free list, splitting extents as needed. Returns
 * -1 only when a split needs a slot and the array is full. */
static int take_range(uintptr_t s, uintptr_t e)
{
    for (int i = 0; i < rt_nfree; i++) {
        struct rt_extent *x = &rt_free[i];
        if (x->end <= s || x->start >= e)
            continue;
        if (x->start < s && x->end > e) { /* split in two */
            if (rt_nfree == RT_MAX_EXTENTS)
                return -1;
            memmove(x + 2, x + 1, (size_t)(rt_nfree - i - 1) * sizeof *x);
            x[1] = (struct rt_extent){e, x->end};
            x->end = s;
            rt_nfree++;
            return 0;
        }
        if (x->start < s) {
            x->end = s;
        } else if (x->end > e) {
            x->start = e;
        } else { /* fully covered: drop it */
            memmove(x, x + 1, (size_t)(rt_nfree - i - 1) * sizeof *x);
            rt_nfree--;
            i--;
        }
    }
    return 0;
}

/* Is [s, e) entirely free? */
static int range_free(uintptr_t s, uintptr_t e)
{
    for (int i = 0; i < rt_nfree; i++)
        if (rt_free[i].start <= s && rt_free[i].end >= e)
            return 1;
    return 0;
}

void rt_pages_free(uintptr_t s, size_t len)
{
    uintptr_t e = page_up(s + len);
    int i;

    s &= ~(RT_PAGE - 1);
    if (!in_region(s, e - s) || e == s)
        return;
    memset((void *)s, 0, e - s);
    if (take_range(s, e) < 0)
        return;
    for (i = 0; i < rt_nfree && rt_free[i].start < s; i++)
        ;
    /* Merge with the neighbours, else insert. */
    if (i > 0 && rt_free[i - 1].end == s) {
        rt_free[i - 1].end = e;
        if (i < rt_nfree && rt_free[i].start == e) {
            rt_free[i - 1].end = rt_free[i].end;
            memmove(&rt_free[i], &rt_free[i + 1], (size_t)(rt_nfree - i - 1) * sizeof rt_free[0]);
            rt_nfree--;
        }
    } else if (i < rt_nfree && rt_free[i].start == e) {
        rt_free[i].start = s;
    } else if (rt_nfree < RT_MAX_EXTENTS) {
        memmove(&rt_free[i + 1], &rt_free[i], (size_t)(rt_nfree - i) * sizeof rt_free[0]);
        rt_free[i] = (struct rt_extent){s, e};
        rt_nfree++;
    } else {
        static int warned;
        if (!warned++)
            rt_log("free extent table full: pages leak", NULL);
    }
}

void *rt_pages_alloc(size_t len)
{
    len = page_up(len);
    if (!len)
        return NULL;
    for (int i = rt_nfree - 1; i >= 0; i--) {
        struct rt_extent *x = &rt_free[i];
        if (x->end - x->start < len)
            continue;
        x->end -= len;
        uintptr_t p = x->end;
        if (x->start == x->end) {
            memmove(x, x + 1, (size_t)(rt_nfree - i - 1) * sizeof *x);
            rt_nfree--;
        }
        return (void *)p;
    }
    return NULL;
}

long rt_sys_mmap(const long *a)
{
    uintptr_t addr = (uintptr_t)a[0];
    size_t len = page_up((size_t)a[1]);
    int flags = (int)a[3], fd = (int)a[4];
    void *p;

    if (!len || (addr & (RT_PAGE - 1)))
        return -EINVAL;
    if (flags & MAP_FIXED) {
        if (!in_region(addr, len))
            return -ENOMEM;
        if (take_range(addr, addr + len) < 0)
            return -ENOMEM;
        memset((void *)addr, 0, len); /* replaces what was mapped there */
        p = (void *)addr;
    } else if (!(p = rt_pages_alloc(len))) {
        return -ENOMEM;
    }
    if (!(flags & MAP_ANONYMOUS)) {
        /* A file mapping is a snapshot copy: writes are never written back,
         * which is what MAP_PRIVATE promises and what read-only MAP_SHARED
         * users (libgit2 packs) need. */
        long r = rt_fs_copy_out(fd, p, (size_t)a[1], (int64_t)a[5]);
        if (r < 0) {
            rt_pages_free((uintptr_t)p, len);
            return r;
        }
    }
    return (long)p;
}

long rt_sys_munmap(const long *a)
{
    uintptr_t addr = (uintptr_t)a[0];
    size_t len = (size_t)a[1];

    if ((addr & (RT_PAGE - 1)) || !len)
        return -EINVAL;
    if (in_region(addr, page_up(len)))
        rt_pages_free(addr, len);
    return 0;
}

long rt_sys_mremap(const long *a)
{
    uintptr_t old = (uintptr_t)a[0];
    size_t olen = page_up((size_t)a[1]), nlen = page_up((size_t)a[2]);
    int flags = (int)a[3];
    void *p;

    if ((old & (RT_PAGE - 1)) || !nlen || (flags & ~MREMAP_MAYMOVE))
        return -EINVAL;
    if (!in_region(old, olen))
        return -EFAULT;
    if (nlen <= olen) {
        if (nlen < olen)
            rt_pages_free(old + nlen, olen - nlen);
        return (long)old;
    }
    if (in_region(old, nlen) && range_free(old + olen, old + nlen)) {
        if (take_range(old + olen, old + nlen) == 0)
            return (long)old;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    /* mmap hands out memory top-down, so the free space is usually just
     * below a mapping: growing into it needs no second copy of the data,
     * which lets one buffer (a file, a pack) grow to most of memory. */
    size_t extra = nlen - olen;
    if (old - rt_lo >= extra && range_free(old - extra, old) &&
        take_range(old - extra, old) == 0) {
        memmove((void *)(old - extra), (void *)old, olen);
        memset((void *)(old - extra + olen), 0, extra);
        return (long)(old - extra);
    }
    if (!(p = rt_pages_alloc(nlen)))
        return -ENOMEM;
    memcpy(p, (void *)old, olen);
    rt_pages_free(old, olen);
    return (long)p;
}

long rt_sys_madvise(const long *a)
{
    uintptr_t addr = (uintptr_t)a[0];
    size_t len = page_up((size_t)a[1]);

    if (addr & (RT_PAGE - 1))
        return -EINVAL;
    /* MADV_DONTNEED promises zero-fill on the next touch; others
     * (MADV_FREE, hints) may leave the contents as they are. */
    if ((int)a[2] == MADV_DONTNEED && in_region(addr, len))
        memset((void *)addr, 0, len);
    return 0;
}

long rt_sys_brk(const long *a)
{
    uintptr_t want = (uintptr_t)a[0];
    uintptr_t cur_end = page_up(rt_brk_cur), new_end = page_up(want);

    if (want < rt_lo || want > rt_hi)
        return (long)rt_brk_cur;
    if (new_end > cur_end) {
        if (!range_free(cur_end, new_end) || take_range(cur_end, new_end) < 0)
            return (long)rt_brk_cur;
    } else if (new_end < cur_end) {
        rt_pages_free(new_end, cur_end - new_end);
    }
    rt_brk_cur = want;
    return (long)rt_brk_cur;
}

/* The last range made read/write again: musl's pthread_create maps a new
 * thread's area PROT_NONE and then opens all of it but the guard, just
 * before clone (see rt_mem_last_opened in rt.h). */
static uintptr_t rt_opened_start, rt_opened_end;

long rt_sys_mprotect(const long *a)
{
    if ((uintptr_t)a[0] & (RT_PAGE - 1))
        return -EINVAL;
    if (((int)a[2] & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE)) {
        rt_opened_start = (uintptr_t)a[0];
        rt_opened_end = (uintptr_t)a[0] + (size_t)a[1];
    }
    return 0;
}

int rt_mem_last_opened(uintptr_t inside, uintptr_t *start)
{
    int hit = inside > rt_opened_start && inside <= rt_opened_end &&
              rt_opened_start - RT_PAGE >= rt_lo;
    if (hit)
        *start = rt_opened_start;
    rt_opened_start = rt_opened_end = 0;
    return hit;
}
