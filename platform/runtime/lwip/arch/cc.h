/* arch/cc.h: lwIP's compiler and platform port for the unikernel runtime
 * (and for the hosted test build of it, tests/platform/rt/test_net.c).
 * x86_64 little endian, C11; the C library is musl in the guest and glibc
 * in the hosted test. Diagnostics and failed assertions go to the console
 * through the runtime (netif.c); lwIP's debug output is compiled out. */
#ifndef ZL_LWIP_ARCH_CC_H
#define ZL_LWIP_ARCH_CC_H

#include <endian.h> /* BYTE_ORDER, LITTLE_ENDIAN: the C library's */
#include <stdint.h>

/* lwIP's own htons/ntohs would clash with <netinet/in.h> in the socket
 * layer, which includes both. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* Implemented in platform/runtime/netif.c. */
void rt_lwip_assert(const char *msg, const char *file, int line);
uint32_t rt_net_rand(void);

#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) rt_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() rt_net_rand()

#endif
