/* virtio guest entry: a multiboot (version 1) kernel for QEMU's -kernel.
 *
 * QEMU's multiboot loader takes a 32-bit ELF, or any file with the "a.out
 * kludge": header fields that say which bytes of the file go where. The
 * image is a 64-bit ELF (one toolchain and one linker script style for
 * both targets, symbols for gdb), so it uses the kludge: the file from
 * offset 0 (the ELF header, which virtio.ld loads at 1 MiB with the text)
 * to _edata is copied to 1 MiB, and memory up to _end (bss, stacks) is
 * zeroed. virtio.ld keeps file offsets equal to address - 1 MiB, and the
 * build checks it.
 *
 * The loader enters _start in 32-bit protected mode, paging off, with eax
 * = 0x2badb002 and ebx = the multiboot information. This code maps the
 * first 4 GiB with 2 MiB pages, enables SSE, long mode and no-execute
 * pages, and calls virtio_boot(magic, info) in 64-bit mode on the 512 KiB
 * boot stack; cpu.c then builds the real page tables. */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010002 /* memory information; load addresses (the kludge) */
#define BOOT_STACK_SIZE (512 * 1024)

    .section .text.boot, "ax", @progbits
    .code32
    .balign 4
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header      /* header_addr */
    .long __ehdr_start          /* load_addr: file offset 0 */
    .long _edata                /* load_end_addr */
    .long _end                  /* bss_end_addr */
    .long _start                /* entry_addr */

    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl %eax, %esi             /* kept for virtio_boot(magic, info) */
    movl %ebx, %edi
    rdtsc                       /* monotonic time 0: the first instruction */
    movl %eax, virtio_tsc_start
    movl %edx, virtio_tsc_start + 4

    /* 2048 2 MiB pages: 0-4 GiB identity, read/write, executable. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax             /* present, writable, 2 MiB */
    movl %eax, boot_pd(,%ecx,8)
    movl %ecx, %eax
    shrl $11, %eax
    movl %eax, boot_pd + 4(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 1b
    movl $boot_pd + 0x0003, boot_pdpt
    movl $boot_pd + 0x1003, boot_pdpt + 8
    movl $boot_pd + 0x2003, boot_pdpt + 16
    movl $boot_pd + 0x3003, boot_pdpt + 24
    movl $boot_pdpt + 3, boot_pml4
    movl $boot_pml4, %eax
    movl %eax, %cr3

    movl %cr4, %eax
    orl $0x620, %eax            /* PAE, OSFXSR, OSXMMEXCPT */
    movl %eax, %cr4
    movl $0xc0000080, %ecx      /* EFER */
    rdmsr
    orl $0x900, %eax            /* LME, NXE */
    wrmsr
    movl %cr0, %eax
    andl $~0x0000000c, %eax     /* EM, TS off: SSE */
    orl $0x80010023, %eax       /* PG, WP, NE, MP, PE */
    movl %eax, %cr0

    lgdt boot_gdt_desc
    ljmp $0x08, $start64

    .code64
start64:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    fninit
    movabsq $virtio_boot_stack_top, %rsp
    xorl %ebp, %ebp             /* ends frame-pointer backtraces */
    xchgl %esi, %edi            /* virtio_boot(magic, info) */
    call virtio_boot
    ud2
    .size _start, . - _start

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_desc:
    .word boot_gdt_desc - boot_gdt - 1
    .long boot_gdt

/* ---- exception and interrupt entry ----
 * One 16-byte stub per vector. Exceptions push a zero error code where
 * the CPU pushes none, the vector, and the general registers (struct
 * x86_fault_frame), and call virtio_fault(frame), which returns only when
 * it mapped RAM on first touch; then the fault is retried.
 * Interrupts (vectors 32-255) record the vector in virtio_irq_seen (bit
 * vector % 64), acknowledge the local APIC (not for the spurious vector
 * 0xff) and return: they only ever end a hlt in virtio_idle(). */
    .text
    .balign 16
    .globl virtio_exc_stubs
virtio_exc_stubs:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    pushq $\vec
    .else
    pushq $0
    pushq $\vec
    .endif
    jmp exc_common
    .endr

    .balign 16
exc_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld                         /* the C ABI's direction; iretq restores the guest's */
    call virtio_fault              /* returns only for a first touch of RAM */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector, error code */
    iretq

    .balign 16
    .globl virtio_irq_stubs
virtio_irq_stubs:
    .set vec, 32
    .rept 224
    .balign 16
    pushq $vec
    jmp irq_common
    .set vec, vec + 1
    .endr

irq_common:
    pushq %rax
    movq 8(%rsp), %rax          /* the vector */
    cmpq $0xff, %rax
    je 1f
    andl $63, %eax
    lock btsq %rax, virtio_irq_seen(%rip) /* bit vector % 64 */
    movq virtio_lapic(%rip), %rax
    movl $0, 0xb0(%rax)         /* end of interrupt */
1:  popq %rax
    addq $8, %rsp
    iretq

    .section .bss
    .balign 8
    .globl virtio_tsc_start
virtio_tsc_start:
    .skip 8

/* ---- page tables for the way into long mode ---- */
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096

/* ---- stacks, each above an unmapped page (virtio.ld, cpu.c) ---- */
    .section .virtio_stack, "aw", @nobits
    .balign 4096
    .globl virtio_boot_stack, virtio_boot_stack_top
virtio_boot_stack:
    .skip BOOT_STACK_SIZE
virtio_boot_stack_top:
    .skip 4096
    .globl virtio_ist_fault, virtio_ist_fault_top
virtio_ist_fault:
    .skip 16384
virtio_ist_fault_top:
    .skip 4096
    .globl virtio_ist_irq, virtio_ist_irq_top
virtio_ist_irq:
    .skip 4096
virtio_ist_irq_top:
    .skip 4096
    .globl virtio_ist_df, virtio_ist_df_top
virtio_ist_df:
    .skip 8192
virtio_ist_df_top:

    .section .note.GNU-stack, "", @progbits
