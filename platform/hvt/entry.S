/* hvt guest entry. The monitor enters at CPL3 with rdi = boot info and
 * rsp = top of guest memory; the image switches to its own boot stack (so
 * all memory after the image is free for the runtime) and calls
 * hvt_boot(bi), which never returns. The boot stack has its own segment
 * (see hvt.ld) with an unmapped guard page below it. */
#define HVT_BOOT_STACK_SIZE (512 * 1024)

    .section .text.boot, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    leaq hvt_boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp              /* ends frame-pointer backtraces */
    call hvt_boot
    ud2
    .size _start, . - _start

    .section .hvt_stack, "aw", @nobits
    .balign 4096
    .globl hvt_boot_stack
hvt_boot_stack:
    .skip HVT_BOOT_STACK_SIZE
    .globl hvt_boot_stack_top
hvt_boot_stack_top:

    .section .note.GNU-stack, "", @progbits
