/* start.c: from the platform's start code to musl's __libc_start_main.
 *
 * musl expects what a Linux kernel leaves on the initial stack: argc,
 * argv[], NULL, envp[], NULL, auxv pairs, AT_NULL. __libc_start_main only
 * needs argv, envp and auxv to be contiguous, so they are built in one
 * static vector rather than on the boot stack. */
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "platform/include/plat.h"
#include "platform/runtime/net.h"
#include "platform/runtime/rt.h"

#define RT_ARGS_MAX 4096 /* the boot arguments are at most 8 KiB */

int main(int argc, char **argv, char **envp);
int __libc_start_main(int (*)(int, char **, char **), int, char **,
                      void (*)(void), void (*)(void), void (*)(void));

/* The ELF header, if the linker script loads it (it names the program
 * headers that musl walks for PT_TLS); weak so an image without it links. */
extern const Elf64_Ehdr __ehdr_start __attribute__((weak));

static char rt_argbuf[8192];
static uintptr_t rt_vec[RT_ARGS_MAX + 8 + 16];
static unsigned char rt_at_random[16];
static char rt_env_tz[] = "TZ=UTC0", rt_env_home[] = "HOME=/";
static char rt_argv0[] = "zonelet";

static size_t split_args(uintptr_t *v)
{
    size_t n = 0, len = strlen(plat_cmdline());
    char *p = rt_argbuf;

    if (len >= sizeof rt_argbuf)
        len = sizeof rt_argbuf - 1;
    memcpy(rt_argbuf, plat_cmdline(), len);
    v[n++] = (uintptr_t)rt_argv0;
    while (*p && n < RT_ARGS_MAX) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p)
            break;
        v[n++] = (uintptr_t)p;
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ')
        *p++ = '\0';
    return n;
}

/* What __libc_start_main runs: the block device's files and the network
 * come up (they need libc: the file system, DHCP and the log allocate)
 * before the program's main(). */
static int rt_main(int argc, char **argv, char **envp)
{
    rt_tar_start();
    rt_net_start();
    return main(argc, argv, envp);
}

static uintptr_t *put_aux(uintptr_t *v, uintptr_t type, uintptr_t val)
{
    v[0] = type;
    v[1] = val;
    return v + 2;
}

void plat_runtime_start(void)
{
    uintptr_t *v = rt_vec;
    const Elf64_Ehdr *eh = &__ehdr_start;
    size_t argc;

    rt_mem_init();
    rt_thread_init();
    if (plat_random(rt_at_random, sizeof rt_at_random) != PLAT_OK)
        plat_abort("zonelet-rt: no random bytes for AT_RANDOM");
    argc = split_args(v);
    argc = (size_t)rt_net_args((int)argc, (char **)v); /* --ipv4=... are the runtime's */
    argc = (size_t)rt_tar_args((int)argc, (char **)v);
    v += argc;
    *v++ = 0;
    *v++ = (uintptr_t)rt_env_tz; /* no /etc/localtime to read */
    *v++ = (uintptr_t)rt_env_home;
    *v++ = 0;
    if (eh) {
        v = put_aux(v, AT_PHDR, (uintptr_t)eh + eh->e_phoff);
        v = put_aux(v, AT_PHENT, eh->e_phentsize);
        v = put_aux(v, AT_PHNUM, eh->e_phnum);
    }
    v = put_aux(v, AT_PAGESZ, 4096);
    v = put_aux(v, AT_RANDOM, (uintptr_t)rt_at_random);
    v = put_aux(v, AT_NULL, 0);
    __libc_start_main(rt_main, (int)argc, (char **)rt_vec, 0, 0, 0);
    plat_abort("zonelet-rt: __libc_start_main returned");
}
