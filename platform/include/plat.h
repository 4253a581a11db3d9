/* plat.h: the guest platform API, the only thing the unikernel runtime
 * (platform/runtime) calls below itself. Target-independent: hvt
 * (platform/hvt, zonelet's KVM monitor) and virtio (platform/virtio, QEMU
 * and other virtual machines) implement the same one; what is particular
 * to a target is in its README. Small on purpose, in the spirit of Solo5's
 * solo5.h.
 *
 * Threading: the guest has one vCPU. None of these functions is
 * re-entrant with itself; the runtime's cooperative threads never preempt
 * each other, so no locking is needed.
 *
 * Blocking: plat_wait() is the only call in which the guest waits for
 * something outside it (time, frames). Every other call returns without
 * waiting for an event (block I/O and plat_random() take as long as the
 * device needs). A target may take interrupts (virtio does), but only
 * inside its own calls: code above plat.h never runs in an interrupt or
 * signal context and never sees one.
 *
 * Entry contract: the target's start code switches to a 512 KiB boot
 * stack with an unmapped guard page below it, with bss already zero, and
 * calls plat_runtime_start(), which the runtime provides and which never
 * returns (it ends with plat_exit() or plat_abort()). Every plat_* function
 * below works from then on; the TLS base starts at 0. SSE is usable; AVX
 * is not guaranteed.
 */
#ifndef ZL_PLAT_H
#define ZL_PLAT_H

#include <stddef.h>
#include <stdint.h>

/* Results of fallible calls (Solo5's four values). */
typedef enum {
    PLAT_OK = 0,
    PLAT_EAGAIN = 1, /* nothing available now; try again after plat_wait() */
    PLAT_EINVAL = 2, /* bad argument (range, alignment, no such device) */
    PLAT_EUNSPEC = 3 /* the host/device operation failed */
} plat_result_t;

/* Implemented by the runtime (platform/runtime/start.c): called once by the
 * start code on the boot stack. Must not return. */
void plat_runtime_start(void);

/* ---- Boot arguments and memory ---- */

/* The boot arguments (what followed the image name on the launcher's
 * command line), joined by single spaces, NUL-terminated; "" if none.
 * Returned pointer is owned by the platform, valid and unchanged for the
 * whole run. The launchers refuse arguments containing whitespace, so
 * splitting on ' ' gives them back. */
const char *plat_cmdline(void);

/* The free memory region [plat_mem_start(), plat_mem_end()) for the
 * runtime's page allocator: after the image (bss and boot stack included),
 * page-aligned at both ends, readable and writable, initially zero. The
 * platform never uses it. Both values are constant for the whole run. */
uintptr_t plat_mem_start(void);
uintptr_t plat_mem_end(void);

/* ---- Console ---- */

/* Write len bytes of buf (borrowed) to the console, unbuffered, all of
 * them. Errors are ignored: the console is best effort. */
void plat_console_write(const char *buf, size_t len);

/* ---- Time ---- */

/* Nanoseconds since an arbitrary point at boot; never decreases. Cheap:
 * no exit to the host (the TSC on both targets). */
uint64_t plat_clock_monotonic_ns(void);

/* Nanoseconds since the UNIX epoch (UTC): the monotonic clock plus an
 * offset from the host's wall clock. Cheap as a rule; the target may
 * refresh the offset now and then (at most once a second) to follow host
 * clock adjustments, so the value may step. How close to the host's clock
 * it starts is the target's business (its README). */
uint64_t plat_clock_wall_ns(void);

/* ---- Events ---- */

#define PLAT_EV_NET_RX (1u << 0) /* received frames are waiting (plat_net_read) */
#define PLAT_EV_NET_TX (1u << 1) /* the transmit queue has room again after a
                                    plat_net_write() returned PLAT_EAGAIN */

/* Block until an event is pending or plat_clock_monotonic_ns() >=
 * deadline_ns; a deadline in the past only polls. Returns the pending
 * PLAT_EV_* mask, 0 when the deadline passed. May return early (spurious
 * wake-ups), so callers loop. PLAT_EV_NET_RX is level-triggered (reported
 * while frames wait); PLAT_EV_NET_TX is reported once per refused write.
 * The only call that blocks (see the top of this file). */
uint32_t plat_wait(uint64_t deadline_ns);

/* ---- Randomness ---- */

/* Fill len bytes at buf (borrowed) with cryptographically strong random
 * bytes (the host's generator or the CPU's). Any length. PLAT_EUNSPEC if
 * there is no source or it failed. */
plat_result_t plat_random(void *buf, size_t len);

/* ---- Block device (one; the launcher's --block=PATH) ---- */

struct plat_block_info {
    uint64_t capacity;   /* bytes; 0 when there is no block device */
    uint64_t block_size; /* bytes per block (512); 0 when there is none */
};

/* Describe the block device into *info (borrowed). PLAT_EINVAL (and zeroes
 * in *info) when there is none. */
plat_result_t plat_block_info(struct plat_block_info *info);

/* Read/write len bytes at byte offset into/from buf (borrowed). offset and
 * len must be multiples of block_size and the range inside the capacity,
 * else PLAT_EINVAL; PLAT_EUNSPEC on an I/O error or a write to a read-only
 * device. Any len (large transfers are split). The call returns when the
 * transfer is complete; a write is then visible to later reads but not
 * necessarily durable: see plat_block_flush(). */
plat_result_t plat_block_read(uint64_t offset, void *buf, size_t len);
plat_result_t plat_block_write(uint64_t offset, const void *buf, size_t len);

/* Make every write that returned before this call durable (on the host's
 * disk, as far as the host can tell). PLAT_OK once they are (also when
 * the device has nothing to flush: read-only or write-through),
 * PLAT_EUNSPEC if the host reported an error (those writes may be lost),
 * PLAT_EINVAL without a block device. */
plat_result_t plat_block_flush(void);

/* ---- Network device (one; the launcher's --net) ----
 * Ethernet frames through shared-memory queues: reading and writing a
 * frame costs no exit; the platform tells the host about new frames and
 * free buffers while the guest is in plat_wait() (or plat_net_flush()),
 * one notification per batch. */

struct plat_net_info {
    uint8_t mac[6]; /* the guest's MAC address */
    uint16_t mtu;   /* IP MTU (1500): frames carry at most mtu + 14 bytes + VLAN tag */
};

/* Describe the network device into *info (borrowed). PLAT_EINVAL when there
 * is none. */
plat_result_t plat_net_info(struct plat_net_info *info);

/* Queue one Ethernet frame (header included, no FCS; copied, buf borrowed)
 * of len bytes, 14 <= len <= mtu + 18. It leaves at the latest during the
 * next plat_wait() or plat_net_flush(). PLAT_EAGAIN when the queue is full
 * even after a flush (plat_wait() then reports PLAT_EV_NET_TX once there
 * is room), PLAT_EINVAL for a bad length or no device. */
plat_result_t plat_net_write(const void *buf, size_t len);

/* Take the next received frame into buf (borrowed, size bytes) and set
 * *len. PLAT_EAGAIN when none is waiting; PLAT_EINVAL when it is larger
 * than size (that frame is dropped) or there is no device. plat_wait()
 * returns PLAT_EV_NET_RX as long as frames are waiting. */
plat_result_t plat_net_read(void *buf, size_t size, size_t *len);

/* Hand queued frames to the host now, and fetch waiting ones (at most one
 * exit). Only needed by a guest that computes a long time without
 * waiting. */
void plat_net_flush(void);

/* ---- Thread-local storage ---- */

/* Set the FS base register (the TLS pointer musl's %fs:0 accesses use).
 * Cooperative context switches call it on every switch: cheap where the
 * CPU has FSGSBASE (wrfsbase), costlier otherwise (the targets' READMEs). */
void plat_set_tls_base(uintptr_t base);
uintptr_t plat_get_tls_base(void);

/* ---- Ending ---- */

/* End the guest; its launcher exits with status & 0xff. */
_Noreturn void plat_exit(int status);

/* End the guest abnormally: msg (borrowed, may be NULL) is reported with
 * the guest's registers and a backtrace, and the launcher exits with
 * status 134. (A CPU exception is reported the same way, status 139.) */
_Noreturn void plat_abort(const char *msg);

#endif
