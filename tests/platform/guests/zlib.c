/* zlib: compress/uncompress round trips (one-shot at two levels and
 * streaming deflate/inflate) over 1 MiB of compressible data, and a known
 * CRC-32. */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "check.h"

#define N (1u << 20)

static unsigned char src[N], out[N + 1024], back[N];

static void one_shot(int level)
{
    uLongf clen = sizeof out, blen = sizeof back;

    CHECK(compress2(out, &clen, src, N, level) == Z_OK);
    CHECK(clen < N / 2); /* the data is compressible */
    CHECK(uncompress(back, &blen, out, clen) == Z_OK);
    CHECK(blen == N && !memcmp(src, back, N));
    out[clen / 2] ^= 0xff; /* corruption is detected */
    blen = sizeof back;
    CHECK(uncompress(back, &blen, out, clen) != Z_OK);
}

static void streaming(void)
{
    z_stream d = {0}, i = {0};
    CHECK(deflateInit(&d, Z_DEFAULT_COMPRESSION) == Z_OK);
    d.next_out = out;
    d.avail_out = sizeof out;
    for (unsigned off = 0; off < N; off += 4096) { /* small input chunks */
        d.next_in = src + off;
        d.avail_in = 4096;
        CHECK(deflate(&d, off + 4096 == N ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
    }
    CHECK(d.avail_in == 0);
    size_t clen = sizeof out - d.avail_out;
    CHECK(deflateEnd(&d) == Z_OK);

    CHECK(inflateInit(&i) == Z_OK);
    i.next_in = out;
    i.avail_in = (uInt)clen;
    i.next_out = back;
    i.avail_out = sizeof back;
    CHECK(inflate(&i, Z_FINISH) == Z_STREAM_END);
    CHECK(i.total_out == N && !memcmp(src, back, N));
    CHECK(inflateEnd(&i) == Z_OK);
}

int main(void)
{
    uint32_t x = 12345;
    for (unsigned k = 0; k < N; k++) { /* words from a small alphabet */
        x = x * 1103515245u + 12345u;
        src[k] = (k % 7 == 6) ? ' ' : (unsigned char)('a' + (x >> 16) % 6);
    }
    CHECK(crc32(0, (const Bytef *)"123456789", 9) == 0xcbf43926u);
    one_shot(Z_BEST_SPEED);
    one_shot(Z_BEST_COMPRESSION);
    streaming();
    printf("zlib %s: SUCCESS\n", zlibVersion());
    return 0;
}
