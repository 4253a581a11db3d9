/* hvt console: one hypercall per write (plat.h). */
#include "platform/hvt/hvt_guest.h"
#include "platform/include/plat.h"

void plat_console_write(const char *buf, size_t len)
{
    if (len == 0)
        return;
    struct hvt_hc_console a = { (uint64_t)(uintptr_t)buf, len, 0 };
    hvt_hypercall(HVT_HC_CONSOLE_WRITE, &a);
}
