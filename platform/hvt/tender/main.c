/* zonelet-hvt: the hvt monitor. Loads a static ELF image into a one-vCPU
 * KVM guest that runs at CPL3 and serves its hypercalls (hvt_abi.h). */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/hvt/tender/tender.h"

static const char usage[] =
    "usage: zonelet-hvt [--mem=MiB] [--block=PATH] [--net=TAP] [--stats] IMAGE [ARGS...]\n"
    "       zonelet-hvt --probe\n"
    "  --mem=MiB     guest memory, a multiple of 2 (default 64, at most 3072)\n"
    "  --block=PATH  file served as the guest's block device (512-byte blocks)\n"
    "  --net=TAP     attach the guest's network device to TAP interface TAP\n"
    "  --stats       print set-up time, run time and hypercall count at exit\n"
    "  --probe       only check that /dev/kvm can create a VM (exit 0, else 125)\n"
    "ARGS are the boot arguments, passed to the guest joined by spaces.\n"
    "Exit status: the guest's, or 125 set-up error, 134 guest abort, 139 guest fault.\n";

struct opts {
    uint64_t mem_mib;
    const char *block, *net, *image;
    bool stats;
    char *cmdline; /* owned */
};

static uint64_t parse_mem(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v * 0x100000ull < HVT_MEM_MIN ||
        v * 0x100000ull > HVT_MEM_MAX || v % 2)
        hvt_die("--mem=%s: want an even number of MiB between %llu and %llu", s,
                HVT_MEM_MIN >> 20, HVT_MEM_MAX >> 20);
    return v;
}

/* Boot arguments joined by single spaces; the guest splits on spaces, so
 * an argument must not contain whitespace. */
static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '\0' || strpbrk(argv[i], " \t\n\r\v\f"))
            hvt_die("boot argument '%s' is empty or contains whitespace", argv[i]);
        len += strlen(argv[i]) + 1;
    }
    char *s = calloc(1, len);
    if (!s)
        hvt_die("out of memory");
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    int i = 1;
    o->mem_mib = HVT_MEM_DEFAULT >> 20;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--mem=", 6) == 0)
            o->mem_mib = parse_mem(a + 6);
        else if (strncmp(a, "--block=", 8) == 0 && a[8])
            o->block = a + 8;
        else if (strncmp(a, "--net=", 6) == 0 && a[6])
            o->net = a + 6;
        else if (strcmp(a, "--probe") == 0) {
            hvt_probe();
            exit(0);
        } else if (strcmp(a, "--stats") == 0)
            o->stats = true;
        else if (strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else {
            fputs(usage, stderr);
            hvt_die("unknown option %s", a);
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        hvt_die("no image given");
    }
    o->image = argv[i];
    o->cmdline = join_args(argc - i - 1, argv + i + 1);
}

static void open_block(struct hvt *h, const char *path)
{
    struct stat st;
    h->block_fd = open(path, O_RDWR | O_CLOEXEC);
    if (h->block_fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        h->block_fd = open(path, O_RDONLY | O_CLOEXEC);
        h->block_ro = true;
    }
    if (h->block_fd < 0)
        hvt_die("--block=%s: %s", path, strerror(errno));
    if (fstat(h->block_fd, &st) < 0 || !S_ISREG(st.st_mode))
        hvt_die("--block=%s: not a regular file", path);
    h->bi->devices |= HVT_DEV_BLOCK;
    h->bi->block_size = 512;
    h->bi->block_capacity = (uint64_t)st.st_size & ~511ull;
}

int main(int argc, char **argv)
{
    uint64_t t0 = hvt_now_mono();
    struct opts o = { 0 };
    struct hvt h = { .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .block_fd = -1, .net_fd = -1 };
    /* A console reader that went away must not kill the guest: writes
     * then fail with EPIPE and the guest goes on. */
    signal(SIGPIPE, SIG_IGN);
    parse_args(&o, argc, argv);
    h.mem_size = o.mem_mib << 20;
    h.image_path = o.image;
    if (hvt_elf_load(&h.img, o.image, h.mem_size) < 0)
        hvt_die("%s: %s", o.image, h.img.error);
    hvt_vm_setup(&h, o.cmdline);
    hvt_image_drop_file(&h.img);
    if (o.block)
        open_block(&h, o.block);
    if (o.net)
        hvt_net_open(&h, o.net);
    hvt_vm_start_clock(&h);
    hvt_seccomp_install(&h);
    uint64_t t1 = hvt_now_mono();
    int status = hvt_run(&h);
    if (o.stats)
        hvt_log("stats: set-up %lu us, run %lu us, %lu hypercalls, %lu frames in, "
                "%lu frames out, exit status %d", (t1 - t0) / 1000,
                (hvt_now_mono() - t1) / 1000, h.hypercalls, h.net_frames_rx,
                h.net_frames_tx, status);
    /* No clean-up: the process ends here, and munmap/close are not in the
     * seccomp allow-list. */
    _exit(status);
}
