/* Unit tests for the hvt monitor's two guards against its guest:
 * hvt_gpa() (every guest address the monitor touches) and the ELF loader
 * (platform/hvt/tender/elf.c, compiled in here), on hand-built images. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "platform/hvt/tender/elf.c"

#define MEM (64ull << 20)

static void test_gpa_bounds(void **state)
{
    (void)state;
    static uint8_t fake[1]; /* only pointer arithmetic, never dereferenced */
    struct hvt h = { .mem = fake, .mem_size = MEM };
    assert_non_null(hvt_gpa(&h, HVT_IMAGE_MIN, 8, true));
    assert_non_null(hvt_gpa(&h, MEM - 8, 8, true));
    assert_non_null(hvt_gpa(&h, MEM, 0, true));
    assert_null(hvt_gpa(&h, MEM - 8, 9, true));
    assert_null(hvt_gpa(&h, MEM, 1, true));
    assert_null(hvt_gpa(&h, MEM + 1, 0, true));
    /* overflow: gpa + len wraps around */
    assert_null(hvt_gpa(&h, HVT_IMAGE_MIN, UINT64_MAX, true));
    assert_null(hvt_gpa(&h, UINT64_MAX - 3, 8, false));
    assert_null(hvt_gpa(&h, 0, 8, false));
    /* boot info and cmdline: readable, never writable */
    assert_non_null(hvt_gpa(&h, HVT_BOOT_INFO_GPA, 16, false));
    assert_non_null(hvt_gpa(&h, HVT_CMDLINE_GPA, HVT_CMDLINE_MAX, false));
    assert_null(hvt_gpa(&h, HVT_BOOT_INFO_GPA, 16, true));
    assert_null(hvt_gpa(&h, HVT_CMDLINE_GPA, HVT_CMDLINE_MAX + 1, false));
    /* monitor-private pages: neither */
    assert_null(hvt_gpa(&h, HVT_PRIVATE_GPA, 8, false));
    assert_null(hvt_gpa(&h, HVT_IMAGE_MIN - 8, 8, true));
    assert_null(hvt_gpa(&h, HVT_IMAGE_MIN - 8, 16, false));
}

/* A minimal image: ELF header, n program headers, then code bytes. */
struct img {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[3];
    uint8_t code[64];
};

static struct img *image(void)
{
    struct img *m = calloc(1, sizeof(*m));
    memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
    m->eh.e_ident[EI_CLASS] = ELFCLASS64;
    m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    m->eh.e_ident[EI_VERSION] = EV_CURRENT;
    m->eh.e_type = ET_EXEC;
    m->eh.e_machine = EM_X86_64;
    m->eh.e_version = EV_CURRENT;
    m->eh.e_phoff = offsetof(struct img, ph);
    m->eh.e_phentsize = sizeof(Elf64_Phdr);
    m->eh.e_phnum = 2;
    m->eh.e_entry = 0x100000 + offsetof(struct img, code);
    m->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                             .p_vaddr = 0x100000, .p_filesz = sizeof(*m), .p_memsz = sizeof(*m) };
    m->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0,
                             .p_vaddr = 0x200000, .p_filesz = 0, .p_memsz = 0x3000 };
    return m;
}

/* Parse a copy (the parser takes ownership); 0 or -1, message in err. */
static int parse(const struct img *m, size_t size, char *err)
{
    struct hvt_image img;
    uint8_t *file = malloc(size ? size : 1);
    memcpy(file, m, size);
    int rc = hvt_elf_parse(&img, file, size, MEM);
    strcpy(err, img.error);
    if (rc == 0) {
        assert_int_equal(img.nsegs, 2);
        assert_int_equal(img.start, 0x100000);
        assert_int_equal(img.end, 0x203000);
    }
    hvt_image_free(&img);
    return rc;
}

static void test_elf_good(void **state)
{
    (void)state;
    struct img *m = image();
    char err[256];
    assert_int_equal(parse(m, sizeof(*m), err), 0);
    free(m);
}

#define REFUSED(mutation, text)                                                        \
    do {                                                                               \
        struct img *m = image();                                                       \
        char err[256];                                                                 \
        mutation;                                                                      \
        assert_int_equal(parse(m, sizeof(*m), err), -1);                               \
        if (!strstr(err, text))                                                        \
            fail_msg("'%s' lacks '%s'", err, text);                                    \
        free(m);                                                                       \
    } while (0)

static void test_elf_refused(void **state)
{
    (void)state;
    REFUSED(m->eh.e_ident[0] = 0, "bad magic");
    REFUSED(m->eh.e_ident[EI_CLASS] = ELFCLASS32, "not ELF64");
    REFUSED(m->eh.e_machine = EM_AARCH64, "wrong machine");
    REFUSED(m->eh.e_type = ET_DYN, "not a static executable");
    REFUSED(m->eh.e_phnum = 0, "bad program header table");
    REFUSED(m->eh.e_phoff = UINT64_MAX - 8, "program headers outside");
    REFUSED(m->eh.e_phoff = 3, "program headers outside"); /* misaligned */
    REFUSED(m->ph[0].p_filesz = m->ph[0].p_memsz + 1, "exceeds memory size");
    REFUSED(m->ph[0].p_offset = UINT64_MAX, "truncated");
    REFUSED(m->ph[1].p_vaddr = 0xfff, "outside guest memory");
    REFUSED(m->ph[1].p_vaddr = MEM - 0x1000, "outside guest memory");
    REFUSED(m->ph[1].p_memsz = UINT64_MAX - 0x1000, "outside guest memory");
    REFUSED(m->ph[1].p_vaddr = 0x100010, "overlap");
    REFUSED(m->eh.e_entry = 0x200000, "entry point"); /* in a non-executable segment */
    REFUSED(m->eh.e_entry = 0x100000 + sizeof(struct img), "entry point");
    REFUSED(m->ph[1].p_type = PT_INTERP, "dynamically linked");
    REFUSED((m->ph[0].p_type = PT_NOTE, m->ph[1].p_type = PT_NOTE), "no loadable segment");
}

static void test_elf_truncated(void **state)
{
    (void)state;
    struct img *m = image();
    char err[256];
    for (size_t n = 0; n < sizeof(*m); n++) /* every prefix is refused cleanly */
        assert_int_equal(parse(m, n, err), -1);
    free(m);
}

static void test_symbols(void **state)
{
    (void)state;
    static char names[] = "\0alpha\0beta";
    struct hvt_sym syms[] = { { 0x100000, 0x10, names + 1 }, { 0x100020, 0, names + 7 } };
    struct hvt_image img = { .syms = syms, .nsyms = 2 };
    uint64_t off = 0;
    assert_null(hvt_elf_symbol(&img, 0xfffff, &off));
    assert_string_equal(hvt_elf_symbol(&img, 0x100004, &off), "alpha");
    assert_int_equal(off, 4);
    assert_null(hvt_elf_symbol(&img, 0x100010, &off)); /* past alpha's size */
    assert_string_equal(hvt_elf_symbol(&img, 0x100400, &off), "beta"); /* no size */
    assert_int_equal(off, 0x3e0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpa_bounds),   cmocka_unit_test(test_elf_good),
        cmocka_unit_test(test_elf_refused),  cmocka_unit_test(test_elf_truncated),
        cmocka_unit_test(test_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
