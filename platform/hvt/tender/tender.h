/* tender.h: internals of the hvt monitor (zonelet-hvt). Not used by guests;
 * the guest-visible contract is ../hvt_abi.h. */
#ifndef ZL_HVT_TENDER_H
#define ZL_HVT_TENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/hvt/hvt_abi.h"

/* Function symbols of the image, for backtraces (may be empty). */
struct hvt_sym {
    uint64_t addr;
    uint64_t size;
    const char *name; /* points into hvt_image.strtab */
};

/* The image file and what the loader found in it. */
#define HVT_MAX_SEGS 16
struct hvt_seg {
    uint64_t vaddr, memsz, filesz, offset;
    uint32_t flags; /* PF_R/PF_W/PF_X */
};
struct hvt_image {
    uint8_t *file; /* whole file, owned, until hvt_image_drop_file() */
    size_t file_size;
    bool file_mapped; /* file is an mmap (hvt_elf_load), else malloc'd */
    uint64_t entry;
    uint64_t start, end; /* lowest vaddr, highest vaddr + memsz (page-aligned) */
    struct hvt_seg segs[HVT_MAX_SEGS];
    unsigned nsegs;
    struct hvt_sym *syms; /* owned, sorted by addr */
    size_t nsyms;
    char *strtab; /* owned copy of the symbol names */
    char error[256]; /* why the image was refused */
};

/* The monitor: one VM, one vCPU. */
struct hvt {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem; /* guest RAM [0, mem_size), owned */
    uint64_t mem_size;
    struct hvt_image img;
    struct hvt_boot_info *bi; /* inside mem */
    uint64_t cpu_features;   /* HVT_CPU_* */
    int block_fd;            /* -1 without --block */
    bool block_ro;
    uint64_t tsc_boot, ns_per_tick_32; /* guest clock: see hvt_guest_mono() */
    uint64_t hypercalls;     /* count, for the exit summary */
    int net_fd;              /* TAP, -1 without --net */
    struct hvt_net_ring *net_rx, *net_tx; /* inside mem, after HVT_HC_NET_SETUP */
    uint32_t net_nslots;
    uint32_t net_rx_head, net_tx_tail; /* the monitor's own ring indices */
    uint64_t net_frames_rx, net_frames_tx;
    const char *image_path;
};

/* Print "zonelet-hvt: <fmt>\n" on stderr (no stdio buffers: usable under
 * seccomp). */
void hvt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* hvt_log, then exit(HVT_EXIT_SETUP). */
_Noreturn void hvt_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* elf.c: validate the image file (taken: owned by img from now on, even
 * on failure) of size bytes and fill img; segments must fit below
 * mem_size. 0, or -1 with the reason in img->error. Free img with
 * hvt_image_free() either way. */
int hvt_elf_parse(struct hvt_image *img, uint8_t *file, size_t size, uint64_t mem_size);
/* Map path and hvt_elf_parse() it. */
int hvt_elf_load(struct hvt_image *img, const char *path, uint64_t mem_size);
/* Release the file once its segments are in guest memory; symbols and
 * segment descriptions stay. Done before the seccomp filter (munmap). */
void hvt_image_drop_file(struct hvt_image *img);
/* Copy the segments into guest memory (zeroed beforehand). */
void hvt_elf_copy(const struct hvt_image *img, uint8_t *mem);
/* Name of the function containing addr and the offset in it, or NULL. */
const char *hvt_elf_symbol(const struct hvt_image *img, uint64_t addr, uint64_t *off);
void hvt_image_free(struct hvt_image *img);

/* vm.c: create the VM and vCPU, memory, page tables, GDT/IDT/TSS, CPUID,
 * registers; write the boot info with cmdline (borrowed). */
void hvt_vm_setup(struct hvt *h, const char *cmdline);
/* Define guest monotonic time 0 as now (boot info tsc_boot, wall_boot_ns);
 * called last before the seccomp filter and the first KVM_RUN. */
void hvt_vm_start_clock(struct hvt *h);
/* Open /dev/kvm and create (then drop) a VM; exits HVT_EXIT_SETUP with a
 * message if that fails. */
void hvt_probe(void);
/* The guest's monotonic clock now (ns), computed from the vCPU's TSC
 * exactly as the guest computes it. */
uint64_t hvt_guest_mono(const struct hvt *h);
/* Host clocks in ns. */
uint64_t hvt_now_mono(void);
uint64_t hvt_now_wall(void);

/* Guest memory access, overflow-safe: a host pointer for [gpa, gpa + len)
 * if the guest may pass that range for reading (write=false: guest RAM at
 * or above HVT_IMAGE_MIN, or the boot info and cmdline pages) or for
 * writing (write=true: guest RAM at or above HVT_IMAGE_MIN only); else
 * NULL. len 0 is allowed (any gpa in range). */
static inline void *hvt_gpa(const struct hvt *h, uint64_t gpa, uint64_t len, bool write)
{
    uint64_t lo = HVT_IMAGE_MIN, hi = h->mem_size;
    if (!write && gpa >= HVT_BOOT_INFO_GPA && gpa < HVT_PRIVATE_GPA) {
        lo = HVT_BOOT_INFO_GPA;
        hi = HVT_PRIVATE_GPA;
    }
    if (gpa < lo || gpa > hi || len > hi - gpa)
        return NULL;
    return h->mem + gpa;
}

/* run.c: run the vCPU until the guest ends; returns the exit status. */
int hvt_run(struct hvt *h);

/* report.c: print the vCPU registers, the named exception (frame may be
 * NULL) and a frame-pointer backtrace on stderr. */
struct hvt_fault_frame;
void hvt_report(struct hvt *h, const char *what, const struct hvt_fault_frame *frame);

/* net.c: attach to TAP interface ifname, fill the boot info's net fields
 * (random local MAC, MTU 1500). Exits on failure. */
void hvt_net_open(struct hvt *h, const char *ifname);
/* Check and adopt the guest's rings; HVT_OK or HVT_EINVAL. */
int64_t hvt_net_setup(struct hvt *h, const struct hvt_hc_net_setup *a);
/* Send the guest's queued frames, fill the rx ring from the TAP queue;
 * returns the number of frames waiting for the guest (0 without rings),
 * -1 if the guest corrupted a ring. */
int64_t hvt_net_pump(struct hvt *h);

/* seccomp.c: allow only what hvt_run needs from now on. */
void hvt_seccomp_install(const struct hvt *h);

#endif
