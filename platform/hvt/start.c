/* hvt boot: checks the boot info, then hands over to the runtime; boot
 * arguments, memory region, TLS base and ending the guest (plat.h). */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

const struct hvt_boot_info *hvt_bi;
static uintptr_t tls_base;

void hvt_boot(const struct hvt_boot_info *bi);

void hvt_boot(const struct hvt_boot_info *bi)
{
    hvt_bi = bi;
    if (bi->magic != HVT_BOOT_MAGIC || bi->abi_version != HVT_ABI_VERSION)
        plat_abort("hvt: boot info magic or ABI version mismatch (monitor and image disagree)");
    if (bi->tsc_hz == 0)
        plat_abort("hvt: monitor gave no TSC frequency");
    hvt_time_init(bi);
    plat_runtime_start();
    plat_abort("plat_runtime_start returned");
}

const char *plat_cmdline(void)
{
    return (const char *)(uintptr_t)hvt_bi->cmdline;
}

uintptr_t plat_mem_start(void)
{
    return (uintptr_t)hvt_bi->image_end;
}

uintptr_t plat_mem_end(void)
{
    return (uintptr_t)hvt_bi->mem_size;
}

void plat_set_tls_base(uintptr_t base)
{
    tls_base = base;
    if (hvt_bi->cpu_features & HVT_CPU_FSGSBASE) {
        __asm__ __volatile__("wrfsbase %0" : : "r"((uint64_t)base) : "memory");
    } else {
        struct hvt_hc_fsbase a = { base };
        hvt_hypercall(HVT_HC_SET_FSBASE, &a);
    }
}

uintptr_t plat_get_tls_base(void)
{
    return tls_base;
}

void plat_exit(int status)
{
    struct hvt_hc_exit a = { status };
    hvt_hypercall(HVT_HC_EXIT, &a);
    __builtin_trap(); /* not reached: the monitor does not resume */
}

void plat_abort(const char *msg)
{
    uint64_t len = 0;
    while (msg && msg[len] && len < HVT_ABORT_MSG_MAX)
        len++;
    struct hvt_hc_abort a = { (uint64_t)(uintptr_t)msg, len };
    hvt_hypercall(HVT_HC_ABORT, &a);
    __builtin_trap();
}
