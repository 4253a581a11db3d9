/* tests/acme: mk/acme.mk (acme-musl) links this into the driver. */
#include <stddef.h>
#include <sys/random.h>
/* Stand-in for platform/runtime/entropy.c when the unikernel's mbedTLS
 * build runs as a Linux program. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    ssize_t n = getrandom(out, len, 0);
    *olen = n > 0 ? (size_t)n : 0;
    return n > 0 ? 0 : -1;
}
