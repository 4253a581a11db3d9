/* ELF64 loader for hvt images: static x86-64 executables only. The file
 * is untrusted: every offset and size is checked before use, overflow-safe.
 * Self-contained (libc only), so the fuzz harness can include it. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

#define HVT_IMAGE_FILE_MAX (256u << 20)

/* Record why the image is refused; returns -1 for "return refuse(...)". */
static int __attribute__((format(printf, 2, 3))) refuse(struct hvt_image *img, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->error, sizeof(img->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* True if [off, off + len) lies inside a buffer of size total. */
static bool in_range(uint64_t off, uint64_t len, uint64_t total)
{
    return off <= total && len <= total - off;
}

/* Map the file rather than read it: an image with debug information is
 * mostly bytes the loader never needs (8 MB read ~25 ms vs ~1 ms here). */
static int map_file(struct hvt_image *img, const char *path, uint8_t **file, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return refuse(img, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HVT_IMAGE_FILE_MAX) {
        close(fd);
        return refuse(img, "not a regular file of at most %u MiB", HVT_IMAGE_FILE_MAX >> 20);
    }
    if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return refuse(img, "truncated: %lld bytes is smaller than an ELF64 header",
                    (long long)st.st_size);
    }
    *size = (size_t)st.st_size;
    *file = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (*file == MAP_FAILED)
        return refuse(img, "cannot map: %s", strerror(errno));
    return 0;
}

static int check_header(struct hvt_image *img, const Elf64_Ehdr *eh)
{
    if (img->file_size < sizeof(Elf64_Ehdr))
        return refuse(img, "truncated: %zu bytes is smaller than an ELF64 header", img->file_size);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return refuse(img, "not an ELF file (bad magic)");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return refuse(img, "not ELF64 (class %u)", eh->e_ident[EI_CLASS]);
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_ident[EI_VERSION] != EV_CURRENT)
        return refuse(img, "not a little-endian ELF version 1 file");
    if (eh->e_machine != EM_X86_64)
        return refuse(img, "wrong machine %u (want x86-64, %u)", eh->e_machine, EM_X86_64);
    if (eh->e_type != ET_EXEC)
        return refuse(img, "not a static executable (e_type %u; PIE and shared objects "
                         "are refused)", eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64)
        return refuse(img, "bad program header table (entsize %u, count %u)", eh->e_phentsize,
                    eh->e_phnum);
    if (eh->e_phoff % 8 ||
        !in_range(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), img->file_size))
        return refuse(img, "truncated: program headers outside the file");
    return 0;
}

static int add_segment(struct hvt_image *img, const Elf64_Phdr *ph, uint64_t limit)
{
    if (img->nsegs == HVT_MAX_SEGS)
        return refuse(img, "more than %d loadable segments", HVT_MAX_SEGS);
    if (ph->p_filesz > ph->p_memsz)
        return refuse(img, "segment at %#lx: file size %#lx exceeds memory size %#lx",
                    ph->p_vaddr, ph->p_filesz, ph->p_memsz);
    if (!in_range(ph->p_offset, ph->p_filesz, img->file_size))
        return refuse(img, "truncated: segment at %#lx needs file bytes [%#lx, +%#lx) of %#zx",
                    ph->p_vaddr, ph->p_offset, ph->p_filesz, img->file_size);
    if (ph->p_vaddr < HVT_IMAGE_MIN || !in_range(ph->p_vaddr, ph->p_memsz, limit))
        return refuse(img, "segment [%#lx, +%#lx) outside guest memory [%#llx, %#lx)",
                    ph->p_vaddr, ph->p_memsz, HVT_IMAGE_MIN, limit);
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct hvt_seg *s = &img->segs[i];
        if (ph->p_vaddr < s->vaddr + s->memsz && s->vaddr < ph->p_vaddr + ph->p_memsz)
            return refuse(img, "segments [%#lx, +%#lx) and [%#lx, +%#lx) overlap", s->vaddr,
                        s->memsz, ph->p_vaddr, ph->p_memsz);
    }
    img->segs[img->nsegs++] = (struct hvt_seg){ ph->p_vaddr, ph->p_memsz, ph->p_filesz,
                                                ph->p_offset, ph->p_flags };
    if (ph->p_vaddr < img->start)
        img->start = ph->p_vaddr;
    if (ph->p_vaddr + ph->p_memsz > img->end)
        img->end = ph->p_vaddr + ph->p_memsz;
    return 0;
}

static int check_entry(struct hvt_image *img)
{
    for (unsigned i = 0; i < img->nsegs; i++) {
        const struct hvt_seg *s = &img->segs[i];
        if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry < s->vaddr + s->filesz)
            return 0;
    }
    return refuse(img, "entry point %#lx is not inside an executable segment", img->entry);
}

/* Function symbols from .symtab, for backtraces. Malformed or missing
 * tables only mean no names: the image may be stripped. */
static int sym_cmp(const void *a, const void *b)
{
    const struct hvt_sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_symbols(struct hvt_image *img, const Elf64_Ehdr *eh)
{
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff % 8 ||
        !in_range(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), img->file_size))
        return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img->file + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *st = &sh[sh[i].sh_link];
        if (!in_range(sh[i].sh_offset, sh[i].sh_size, img->file_size) ||
            !in_range(st->sh_offset, st->sh_size, img->file_size) || st->sh_size == 0 ||
            img->file[st->sh_offset + st->sh_size - 1] != '\0' || sh[i].sh_offset % 8)
            return;
        const Elf64_Sym *sym = (const Elf64_Sym *)(img->file + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        img->syms = calloc(n ? n : 1, sizeof(*img->syms));
        img->strtab = malloc(st->sh_size); /* outlives the file */
        if (!img->syms || !img->strtab)
            return;
        memcpy(img->strtab, img->file + st->sh_offset, st->sh_size);
        for (size_t k = 0; k < n; k++) {
            if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_name >= st->sh_size)
                continue;
            img->syms[img->nsyms++] = (struct hvt_sym){
                sym[k].st_value, sym[k].st_size,
                img->strtab + sym[k].st_name };
        }
        qsort(img->syms, img->nsyms, sizeof(*img->syms), sym_cmp);
        return;
    }
}

int hvt_elf_parse(struct hvt_image *img, uint8_t *file, size_t size, uint64_t mem_size)
{
    memset(img, 0, sizeof(*img));
    img->file = file;
    img->file_size = size;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
    if (check_header(img, eh) < 0)
        return -1;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff);
    uint64_t limit = mem_size < HVT_IMAGE_MAX_END ? mem_size : HVT_IMAGE_MAX_END;
    img->start = UINT64_MAX;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_INTERP || ph[i].p_type == PT_DYNAMIC)
            return refuse(img, "dynamically linked (PT_INTERP/PT_DYNAMIC); build it static");
        if (ph[i].p_type == PT_LOAD && ph[i].p_memsz > 0 && add_segment(img, &ph[i], limit) < 0)
            return -1;
    }
    if (img->nsegs == 0)
        return refuse(img, "no loadable segment");
    img->entry = eh->e_entry;
    if (check_entry(img) < 0)
        return -1;
    img->start &= ~(HVT_PAGE_SIZE - 1);
    img->end = (img->end + HVT_PAGE_SIZE - 1) & ~(HVT_PAGE_SIZE - 1);
    if (img->end > limit)
        return refuse(img, "image ends at %#lx, beyond guest memory %#lx", img->end, limit);
    load_symbols(img, eh);
    return 0;
}

int hvt_elf_load(struct hvt_image *img, const char *path, uint64_t mem_size)
{
    uint8_t *file = NULL;
    size_t size = 0;
    memset(img, 0, sizeof(*img));
    if (map_file(img, path, &file, &size) < 0)
        return -1;
    int rc = hvt_elf_parse(img, file, size, mem_size);
    img->file_mapped = true;
    return rc;
}

void hvt_image_drop_file(struct hvt_image *img)
{
    if (img->file && img->file_mapped)
        munmap(img->file, img->file_size);
    else
        free(img->file);
    img->file = NULL;
    img->file_size = 0;
}

void hvt_elf_copy(const struct hvt_image *img, uint8_t *mem)
{
    for (unsigned i = 0; i < img->nsegs; i++)
        memcpy(mem + img->segs[i].vaddr, img->file + img->segs[i].offset, img->segs[i].filesz);
}

const char *hvt_elf_symbol(const struct hvt_image *img, uint64_t addr, uint64_t *off)
{
    size_t lo = 0, hi = img->nsyms;
    while (lo < hi) { /* last symbol with sym.addr <= addr */
        size_t mid = lo + (hi - lo) / 2;
        if (img->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct hvt_sym *s = &img->syms[lo - 1];
    if (s->size && addr - s->addr >= s->size)
        return NULL;
    *off = addr - s->addr;
    return s->name;
}

void hvt_image_free(struct hvt_image *img)
{
    hvt_image_drop_file(img);
    free(img->syms);
    free(img->strtab);
    memset(img, 0, sizeof(*img));
}
