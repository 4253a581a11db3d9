/* libFuzzer harness for the hvt monitor's ELF loader: any bytes as an
 * image file. The loader is one self-contained file, compiled in here. */
#include <stdlib.h>
#include <string.h>

#include "platform/hvt/tender/elf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvt_image img;
    uint8_t *file = malloc(size ? size : 1);
    if (!file)
        return 0;
    memcpy(file, data, size);
    if (hvt_elf_parse(&img, file, size, 64u << 20) == 0) {
        uint64_t off;
        (void)hvt_elf_symbol(&img, img.entry, &off);
        (void)hvt_elf_symbol(&img, img.end - 1, &off);
    }
    hvt_image_free(&img);
    return 0;
}
