/* blocktar.c: linked into the unit-test guests (zonelet's own dns/ and
 * zone/ cmocka tests built for the unikernel). Before main() it copies a
 * ustar archive from the block device (--block=FILE.tar) into the
 * in-memory file system under /, and makes / the working directory, so
 * the tests find their fixture files at the relative paths they use on
 * Linux (tests/zone/answer/...). Without a block device it does nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/include/plat.h"

static unsigned long octal(const char *p, size_t n)
{
    unsigned long v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (unsigned long)(p[i] - '0');
    return v;
}

/* mkdir -p of every directory above path. */
static void parents(char *path)
{
    for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
}

static int extract(const unsigned char *tar, size_t len)
{
    size_t off = 0;
    char name[260];

    while (off + 512 <= len && tar[off]) {
        const char *h = (const char *)tar + off;
        unsigned long size = octal(h + 124, 12);
        char type = h[156];
        if (off + 512 + size > len)
            return -1;
        snprintf(name, sizeof name, "/%.155s%s%.100s", h + 345, h[345] ? "/" : "", h);
        parents(name);
        if (type == '5') {
            mkdir(name, 0755);
        } else if (type == '0' || type == '\0') {
            int fd = open(name, O_CREAT | O_TRUNC | O_WRONLY, (mode_t)octal(h + 100, 8) & 0777);
            if (fd < 0 || write(fd, tar + off + 512, size) != (ssize_t)size || close(fd))
                return -1;
        }
        off += 512 + (size + 511) / 512 * 512;
    }
    return 0;
}

__attribute__((constructor)) static void blocktar_load(void)
{
    struct plat_block_info bi;
    unsigned char *buf;

    if (plat_block_info(&bi) != PLAT_OK || !bi.capacity)
        return;
    if (!(buf = malloc(bi.capacity)) || plat_block_read(0, buf, bi.capacity) != PLAT_OK ||
        extract(buf, bi.capacity) < 0 || chdir("/") < 0) {
        printf("FAILURE: cannot unpack the block device's tar archive\n");
        exit(1);
    }
    free(buf);
}
