/* CPL0 exception stubs of the hvt guest's IDT. The monitor copies the bytes
 * between hvt_stubs_start and hvt_stubs_end into the monitor-private page
 * HVT_STUBS_GPA of the guest; they never run on the host. One 16-byte stub
 * per vector 0..31 pushes a zero error code where the CPU pushes none, then
 * the vector; the common part pushes the general-purpose registers (struct
 * hvt_fault_frame, lowest address first) and reports the frame's address
 * with one MMIO store to HVT_HC_ADDR(HVT_HC_FAULT). General-purpose
 * instructions only: on kvm-pvm CPL0 code is emulated and SSE is not. The
 * code is position-independent (relative jumps, absolute MMIO address). */
#define HVT_HC_FAULT_ADDR 0xC0000068 /* HVT_HC_BASE + 8 * HVT_HC_FAULT */

    .section .rodata.hvt_stubs, "a"
    .code64
    .globl hvt_stubs_start
    .globl hvt_stubs_end
    .balign 16
hvt_stubs_start:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    /* Vectors with a CPU-pushed error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
    .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    pushq $\vec
    .else
    pushq $0
    pushq $\vec
    .endif
    jmp common
    .endr
    .balign 16
common:
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
    movq %rsp, %rax
    movabsq %rax, HVT_HC_FAULT_ADDR
1:  hlt
    jmp 1b
hvt_stubs_end:

    .section .note.GNU-stack, "", @progbits
