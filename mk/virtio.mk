# virtio target (platform/virtio): guest bindings build/virtio/libvirtio.a
# for QEMU and other virtual machines (multiboot, virtio PCI devices), and
# the launcher build/zonelet-virtio (platform/virtio/zonelet-virtio.sh).
#   make virtio        library, launcher, bare test guests
#   make virtio-measure  boot time, idle CPU, image sizes under QEMU
VIRTIO_RUN      := $(B)/zonelet-virtio
VIRTIO_LIB      := $(B)/virtio/libvirtio.a
VIRTIO_LD       := platform/virtio/virtio.ld
VIRTIO_LINK     := sh platform/virtio/link.sh
VIRTIO_LIB_SRC  := $(sort $(wildcard platform/virtio/*.c platform/virtio/*.S platform/x86_64/*.c))
VIRTIO_LIB_OBJ  := $(patsubst %,$(B)/virtio/guest/%.o,$(basename $(VIRTIO_LIB_SRC)))
# CPL0 code, but interrupts never interrupt it (virtio_guest.h): the red
# zone and SSE are safe as on hvt.
VIRTIO_GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector \
    -fno-pie -fno-omit-frame-pointer -fno-strict-aliasing -fcf-protection=none
VIRTIO_GUEST_LDFLAGS := -static -nostdlib -no-pie -Wl,-z,max-page-size=4096 \
    -Wl,--build-id=none -T $(VIRTIO_LD)
# Bare guests that use nothing but plat.h build for this target too.
VIRTIO_BARE_SRC := $(sort $(shell grep -L 'hvt_guest.h' tests/platform/bare/*.c 2>/dev/null))
VIRTIO_BARE     := $(patsubst tests/platform/bare/%.c,$(B)/virtio/bare/%,$(VIRTIO_BARE_SRC))

.PHONY: virtio virtio-measure virtio-clean
virtio: $(VIRTIO_RUN) $(VIRTIO_LIB) $(VIRTIO_BARE)
TEST_DEPS += $(VIRTIO_RUN) $(VIRTIO_LIB) $(VIRTIO_BARE)

$(VIRTIO_RUN): platform/virtio/zonelet-virtio.sh
	@mkdir -p $(@D)
	cp $< $@
	chmod +x $@

$(B)/virtio/guest/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(VIRTIO_GUEST_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/virtio/guest/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -MMD -MP -c -o $@ $<
# Its page-fault handler returns to the faulting code (cpu.c).
$(B)/virtio/guest/platform/virtio/cpu.o: VIRTIO_GUEST_CFLAGS += -mgeneral-regs-only
$(VIRTIO_LIB): $(VIRTIO_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/virtio/bare/%: $(B)/virtio/guest/tests/platform/bare/%.o $(VIRTIO_LIB) $(VIRTIO_LD) platform/virtio/link.sh
	@mkdir -p $(@D)
	$(VIRTIO_LINK) $@ $(CC) $(VIRTIO_GUEST_CFLAGS) $(VIRTIO_GUEST_LDFLAGS) $< $(VIRTIO_LIB) -lgcc

virtio-measure: virtio unikernel-guests
	sh tests/platform/virtio_measure.sh

-include $(shell find $(B)/virtio -name '*.d' 2>/dev/null)

virtio-clean:
	rm -rf $(B)/virtio $(VIRTIO_RUN)
clean: virtio-clean

# The unit test of platform/x86_64 compiles those files in.
$(B)/test/test_x86_fault: $(wildcard platform/x86_64/*.c platform/x86_64/*.h)
