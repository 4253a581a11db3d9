/* hvt_abi.h: the whole interface between a zonelet hvt guest and its
 * monitor (platform/hvt/tender, binary zonelet-hvt). Self-contained C99:
 * both sides include it, nothing else is shared.
 *
 * Execution model
 *   The guest is a static, non-PIE ELF64 x86-64 executable. It runs in
 *   long mode, on one vCPU, entirely at CPL3 (user code and stack segments,
 *   HVT_SEL_USER_CS / HVT_SEL_USER_DS), on identity-mapped page tables that
 *   the monitor builds and the guest cannot see or change. CR4 has OSFXSR and
 *   OSXMMEXCPT (SSE works), and FSGSBASE when the host CPU has it (see
 *   HVT_CPU_FSGSBASE): then the guest sets its TLS base with wrfsbase, without
 *   a VM exit. No interrupts are ever delivered; exceptions are taken on a
 *   monitor-owned stack (TSS.RSP0), never on the guest stack, so the guest may
 *   use the red zone. Any exception ends the guest with a register dump.
 *
 * Entry
 *   rip = ELF entry point, rdi = HVT_BOOT_INFO_GPA (struct hvt_boot_info),
 *   rsp = top of guest memory (mem_size; 16-byte aligned), rflags = 0x2,
 *   other general-purpose registers 0.
 *
 * Guest-physical layout (guest virtual == guest physical)
 *   [0, 0x1000)                 not mapped: NULL dereferences fault
 *   [HVT_BOOT_INFO_GPA, +4K)    struct hvt_boot_info, user read-only
 *   [HVT_CMDLINE_GPA, +8K)      boot arguments, NUL-terminated, read-only
 *   [0x4000, HVT_IMAGE_MIN)     monitor-private (GDT, IDT, TSS, page tables,
 *                               exception stack): not accessible at CPL3
 *   [HVT_IMAGE_MIN, image_end)  PT_LOAD segments; text is read-only and
 *                               executable, everything else is no-execute;
 *                               pages between segments are not mapped
 *                               (guard pages)
 *   [image_end, mem_size)       free guest memory (read/write, no-execute)
 *   [mem_size, HVT_HC_BASE)     not mapped: accesses fault
 *   [HVT_HC_BASE, +4K)          hypercall page (not backed by memory)
 *
 * Hypercalls
 *   A hypercall is one 64-bit store of the guest-physical address of its
 *   argument struct to HVT_HC_ADDR(nr). The store leaves the guest
 *   (KVM_EXIT_MMIO); the monitor checks the struct lies entirely inside guest
 *   memory, does the call, writes the results into the struct and resumes the
 *   guest after the store. The struct must stay put until the store returns;
 *   the guest must not let the compiler sink its field writes past the store
 *   (use a "memory" clobber). The monitor works on a copy of the struct and
 *   writes it back at the end, so a buffer overlapping its own struct is
 *   harmless. Every guest address inside a struct (buffers) is checked the
 *   same way; a bad address or unknown number ends the guest
 *   with HVT_EXIT_FAULT. Arguments are little-endian, naturally aligned,
 *   fields are 64 bits unless marked otherwise, padding is zero.
 *
 * Time
 *   Monotonic time is nanoseconds since the monitor started the guest:
 *     mono_ns = (rdtsc - tsc_boot) * 1e9 / tsc_hz
 *   Wall time is wall_boot_ns + mono_ns (UNIX epoch, UTC). The guest reads
 *   the TSC itself, so reading the clock costs no VM exit. The monitor
 *   computes mono_ns the same way from the vCPU's TSC (HVT_HC_WAIT
 *   deadlines, HVT_HC_CLOCK), so both sides agree exactly. HVT_HC_CLOCK
 *   also gives the host's current wall clock, to follow host clock
 *   adjustments over long runs.
 *
 * Network (--net=TAP)
 *   Frames move through two single-producer single-consumer rings of fixed
 *   slots in guest memory that the guest registers with HVT_HC_NET_SETUP:
 *   tx (guest produces, monitor consumes) and rx (monitor produces, guest
 *   consumes). A frame costs no VM exit of its own. The producer notifies
 *   the consumer only when the consumer asked for it
 *   (HVT_NET_RING_WANT_KICK); the guest notifies with HVT_HC_NET_NOTIFY,
 *   the monitor by ending a HVT_HC_WAIT with HVT_EV_NET_RX. This monitor
 *   is single-threaded: it drains tx and fills rx during every HVT_HC_WAIT
 *   and HVT_HC_NET_NOTIFY and leaves WANT_KICK clear on tx, so a guest's
 *   frames leave at its next wait at the latest. HVT_HC_WAIT is
 *   level-triggered: it returns at once while rx holds frames.
 */
#ifndef ZL_HVT_ABI_H
#define ZL_HVT_ABI_H

#include <stdint.h>

#define HVT_ABI_VERSION 2u /* 2: HVT_HC_BLOCK_FLUSH */
#define HVT_BOOT_MAGIC 0x31544c5a54564855ull /* "UHVTZLT1" */

/* Layout (guest-physical addresses and sizes, bytes). */
#define HVT_PAGE_SIZE 0x1000ull
#define HVT_BOOT_INFO_GPA 0x1000ull
#define HVT_CMDLINE_GPA 0x2000ull
#define HVT_CMDLINE_MAX 0x2000ull     /* including the final NUL */
#define HVT_PRIVATE_GPA 0x4000ull     /* monitor-private area start */
#define HVT_IMAGE_MIN 0x100000ull     /* lowest address a segment may use */
#define HVT_IMAGE_MAX_END 0x8000000ull /* image (with bss) ends below 128 MiB */
#define HVT_MEM_MIN 0x400000ull       /* 4 MiB */
#define HVT_MEM_DEFAULT 0x4000000ull  /* 64 MiB */
#define HVT_MEM_MAX 0xC0000000ull     /* 3 GiB: guest RAM ends below the hypercall page */
#define HVT_MEM_ALIGN 0x200000ull     /* mem_size is a multiple of 2 MiB */

/* Segment selectors the guest runs with (GDT as Linux x86-64 lays it out,
 * so syscall/sysret-style STAR values would also fit). */
#define HVT_SEL_KERNEL_CS 0x10u
#define HVT_SEL_KERNEL_DS 0x18u
#define HVT_SEL_USER_DS 0x2bu
#define HVT_SEL_USER_CS 0x33u
#define HVT_SEL_TSS 0x40u

/* Hypercall page. */
#define HVT_HC_BASE 0xC0000000ull
#define HVT_HC_ADDR(nr) (HVT_HC_BASE + 8ull * (uint64_t)(nr))
#define HVT_HC_MAX 512u

/* Results written to the `ret` field of a hypercall struct. Same values as
 * the guest platform API (plat.h) so bindings can pass them through. */
#define HVT_OK 0
#define HVT_EAGAIN 1  /* nothing to do now (e.g. no frame ready) */
#define HVT_EINVAL 2  /* bad argument: range, alignment, no such device */
#define HVT_EUNSPEC 3 /* the host operation failed */

/* Monitor exit statuses besides the guest's own exit(status & 0xff). */
#define HVT_EXIT_SETUP 125 /* usage error, bad image, KVM failure */
#define HVT_EXIT_ABORT 134 /* guest called HVT_HC_ABORT */
#define HVT_EXIT_FAULT 139 /* guest exception, triple fault, bad hypercall */

/* CPU features (hvt_boot_info.cpu_features). */
#define HVT_CPU_FSGSBASE (1ull << 0) /* CR4.FSGSBASE set: wrfsbase works at CPL3 */
#define HVT_CPU_RDRAND (1ull << 1)
#define HVT_CPU_RDSEED (1ull << 2)
#define HVT_CPU_INVARIANT_TSC (1ull << 3)
#define HVT_CPU_AVX (1ull << 4) /* reserved: AVX state (XCR0) not enabled yet */

/* Device flags (hvt_boot_info.devices). */
#define HVT_DEV_BLOCK (1ull << 0) /* --block given: block_size/capacity valid */
#define HVT_DEV_NET (1ull << 1)   /* --net given: net_mac/net_mtu valid */

/* Boot information at HVT_BOOT_INFO_GPA, also passed in rdi. Read-only. */
struct hvt_boot_info {
    uint64_t magic;          /* HVT_BOOT_MAGIC */
    uint32_t abi_version;    /* HVT_ABI_VERSION */
    uint32_t size;           /* sizeof(struct hvt_boot_info) the monitor wrote */
    uint64_t mem_size;       /* guest RAM is [0, mem_size) */
    uint64_t image_start;    /* lowest PT_LOAD address */
    uint64_t image_end;      /* end of the highest PT_LOAD (bss included), page-aligned */
    uint64_t cmdline;        /* GPA of the boot arguments (HVT_CMDLINE_GPA) */
    uint64_t cmdline_len;    /* strlen of the boot arguments */
    uint64_t tsc_hz;         /* TSC ticks per second (invariant TSC) */
    uint64_t tsc_boot;       /* guest TSC at mono_ns == 0 */
    uint64_t wall_boot_ns;   /* UNIX time in ns at mono_ns == 0 */
    uint64_t cpu_features;   /* HVT_CPU_* */
    uint64_t devices;        /* HVT_DEV_* */
    uint64_t block_size;     /* bytes per block (512) if HVT_DEV_BLOCK */
    uint64_t block_capacity; /* device size in bytes, multiple of block_size */
    uint8_t net_mac[6];      /* if HVT_DEV_NET */
    uint16_t net_mtu;
    uint32_t _reserved0;
    uint64_t _reserved[16];
};

/* Hypercall numbers and their argument structs. "in"/"out" is from the
 * monitor's view: the guest fills "in" fields, the monitor writes "out". */
enum hvt_hc {
    HVT_HC_CONSOLE_WRITE = 1, /* struct hvt_hc_console */
    HVT_HC_CLOCK = 2,         /* struct hvt_hc_clock */
    HVT_HC_WAIT = 3,          /* struct hvt_hc_wait */
    HVT_HC_RANDOM = 4,        /* struct hvt_hc_random */
    HVT_HC_BLOCK_READ = 5,    /* struct hvt_hc_block */
    HVT_HC_BLOCK_WRITE = 6,   /* struct hvt_hc_block */
    HVT_HC_EXIT = 7,          /* struct hvt_hc_exit; does not return */
    HVT_HC_ABORT = 8,         /* struct hvt_hc_abort; does not return */
    HVT_HC_SET_FSBASE = 9,    /* struct hvt_hc_fsbase (if no HVT_CPU_FSGSBASE) */
    HVT_HC_NET_SETUP = 10,    /* struct hvt_hc_net_setup */
    HVT_HC_NET_NOTIFY = 11,   /* struct hvt_hc_net_notify */
    HVT_HC_NOP = 12,          /* struct hvt_hc_nop: round trip, for measuring */
    HVT_HC_FAULT = 13,        /* struct hvt_fault_frame: CPL0 exception stubs only */
    HVT_HC_BLOCK_FLUSH = 14   /* struct hvt_hc_block_flush */
};

/* Write len bytes at data to the monitor's standard output. */
struct hvt_hc_console {
    uint64_t data; /* in: GPA */
    uint64_t len;  /* in */
    int64_t ret;   /* out: HVT_OK or HVT_EUNSPEC */
};

/* Read the clocks (see Time). */
struct hvt_hc_clock {
    uint64_t mono_ns; /* out: guest monotonic time now */
    uint64_t wall_ns; /* out: the host's wall clock now (UNIX ns) */
};

/* Block until an event is pending or mono_ns >= deadline_ns. A deadline in
 * the past polls. Returns early on any event, so callers loop. */
#define HVT_EV_NET_RX (1ull << 0) /* rx ring not empty */
#define HVT_EV_NET_TX (1ull << 1) /* tx ring has room again */
struct hvt_hc_wait {
    uint64_t deadline_ns; /* in: monotonic */
    uint64_t events;      /* out: HVT_EV_* pending, 0 if the deadline passed */
};

/* Fill len bytes at data with random bytes from the host (getrandom). */
#define HVT_RANDOM_MAX 0x10000ull
struct hvt_hc_random {
    uint64_t data; /* in: GPA */
    uint64_t len;  /* in: at most HVT_RANDOM_MAX */
    int64_t ret;   /* out: HVT_OK, HVT_EINVAL, HVT_EUNSPEC */
};

/* Read/write len bytes at byte offset. offset and len are multiples of
 * block_size, [offset, offset + len) lies inside the capacity, len is at
 * most HVT_BLOCK_MAX. */
#define HVT_BLOCK_MAX 0x100000ull
struct hvt_hc_block {
    uint64_t offset; /* in */
    uint64_t data;   /* in: GPA */
    uint64_t len;    /* in */
    int64_t ret;     /* out: HVT_OK, HVT_EINVAL, HVT_EUNSPEC */
};

/* Make every completed block write durable: fdatasync() of the block
 * file. HVT_EUNSPEC if that failed (the writes may be lost), HVT_EINVAL
 * without a block device. */
struct hvt_hc_block_flush {
    int64_t ret; /* out: HVT_OK, HVT_EINVAL, HVT_EUNSPEC */
};

/* End the guest; the monitor exits with status & 0xff. */
struct hvt_hc_exit {
    int64_t status; /* in */
};

/* End the guest abnormally: the monitor prints the message (at most
 * HVT_ABORT_MSG_MAX bytes are shown) and the registers, exits HVT_EXIT_ABORT. */
#define HVT_ABORT_MSG_MAX 512ull
struct hvt_hc_abort {
    uint64_t msg; /* in: GPA, may be 0 */
    uint64_t len; /* in */
};

/* Set the FS base (TLS pointer) when wrfsbase is not available. */
struct hvt_hc_fsbase {
    uint64_t base; /* in */
};

/* Does nothing; measures the cost of one exit. */
struct hvt_hc_nop {
    uint64_t seq; /* in, echoed to out_seq */
    uint64_t out_seq;
};

/* Exception report written by the CPL0 stubs of the monitor's IDT: the
 * stubs push this frame on the exception stack and store its address to
 * HVT_HC_ADDR(HVT_HC_FAULT). The guest never makes this call itself. */
struct hvt_fault_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code; /* 0 for vectors that push none */
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* ---- Network rings ----
 * One ring is a header followed by nslots slots. Indices are free-running
 * uint32 counters; slot i is slots[i & (nslots - 1)]. The producer fills
 * slot[head], then publishes it by storing head + 1 (release); the consumer
 * reads while tail != head (acquire) and then stores tail + 1. Full when
 * head - tail == nslots. The monitor keeps its own copy of its index and
 * checks the other side's (at most nslots apart) and every frame length;
 * a broken ring ends the guest with HVT_EXIT_FAULT. */
#define HVT_NET_SLOT_SIZE 2048u /* one frame per slot, header included */
#define HVT_NET_FRAME_MAX (HVT_NET_SLOT_SIZE - 8u)
#define HVT_NET_RING_WANT_KICK 1u /* consumer sleeps: producer must notify */

struct hvt_net_slot {
    uint32_t len;   /* frame length in bytes */
    uint32_t flags; /* 0 */
    uint8_t frame[HVT_NET_FRAME_MAX];
};

struct hvt_net_ring {
    volatile uint32_t head; /* written by the producer only */
    uint32_t _pad0[15];     /* head and tail on separate cache lines */
    volatile uint32_t tail; /* written by the consumer only */
    volatile uint32_t consumer_flags; /* HVT_NET_RING_WANT_KICK, by the consumer */
    uint32_t _pad1[14];
    uint32_t nslots;        /* power of two, set by the guest before setup */
    uint32_t _pad2[15];
    /* struct hvt_net_slot slots[nslots] follow, 64-byte aligned */
};

/* Register the rings, once: each page-aligned, inside guest RAM, apart,
 * sizeof(struct hvt_net_ring) + nslots * HVT_NET_SLOT_SIZE bytes, zeroed
 * except nslots (a power of two, 2..4096). */
struct hvt_hc_net_setup {
    uint64_t rx_ring; /* in: GPA */
    uint64_t tx_ring; /* in: GPA */
    uint64_t nslots;  /* in: same for both rings */
    int64_t ret;      /* out: HVT_OK, HVT_EINVAL (no --net, bad ring) */
};

/* Have the monitor move frames now: drain tx, fill rx (no waiting). */
struct hvt_hc_net_notify {
    uint64_t reserved; /* in: 0 */
};

#endif
