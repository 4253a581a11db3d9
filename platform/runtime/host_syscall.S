/* host_syscall.S: __zl_syscall for programs built with the unikernel
 * toolchain but run on Linux: cmake's link checks while building the
 * libraries, and hosted tests of the patched musl. Guests never link it;
 * they get platform/runtime/syscall.c instead. */
	.text
	.globl __zl_syscall
	.type __zl_syscall,@function
__zl_syscall:
	mov %rdi,%rax
	mov %rsi,%rdi
	mov %rdx,%rsi
	mov %rcx,%rdx
	mov %r8,%r10
	mov %r9,%r8
	mov 8(%rsp),%r9
	syscall
	ret
	.size __zl_syscall,.-__zl_syscall

/* __zl_clone(fn, stack, flags, arg, ptid, tls, ctid) as a Linux clone:
 * the child finds fn and arg on its new stack and exits with fn(arg). */
	.globl __zl_clone
	.type __zl_clone,@function
__zl_clone:
	and $-16,%rsi
	sub $16,%rsi
	mov %rdi,(%rsi)
	mov %rcx,8(%rsi)
	mov %edx,%edi
	mov %r8,%rdx
	mov %r9,%r8
	mov 8(%rsp),%r10
	mov $56,%eax
	syscall
	test %eax,%eax
	jnz 1f
	xor %ebp,%ebp
	pop %rax
	pop %rdi
	call *%rax
	mov %eax,%edi
	mov $60,%eax
	syscall
	hlt
1:	ret
	.size __zl_clone,.-__zl_clone
	.section .note.GNU-stack,"",@progbits
