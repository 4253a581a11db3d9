# hvt target (platform/hvt): the monitor build/zonelet-hvt (a Linux program)
# and the guest bindings build/hvt/libhvt.a that implement plat.h.
#   make hvt           monitor + libhvt.a + bare test guests
#   make hvt-measure   boot time, hypercall cost, image sizes (needs /dev/kvm)
HVT_MON      := $(B)/zonelet-hvt
HVT_MON_ASAN := $(B)/hvt/zonelet-hvt-asan
HVT_LIB      := $(B)/hvt/libhvt.a
HVT_LD       := platform/hvt/hvt.ld
# platform/x86_64: the TSC clock formula and the fault report format,
# shared with the guests.
HVT_MON_SRC  := $(sort $(wildcard platform/hvt/tender/*.c platform/hvt/tender/*.S platform/x86_64/*.c))
HVT_MON_OBJ  := $(patsubst %,$(B)/hvt/mon/%.o,$(basename $(HVT_MON_SRC)))
HVT_LIB_SRC  := $(sort $(wildcard platform/hvt/*.c platform/hvt/*.S platform/x86_64/*.c))
HVT_LIB_OBJ  := $(patsubst %,$(B)/hvt/guest/%.o,$(basename $(HVT_LIB_SRC)))
# Guest code runs at CPL3: exceptions switch to the monitor's stack, so the
# red zone and SSE are safe. Frame pointers make the fault backtraces work.
HVT_GUEST_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector \
    -fno-pie -fno-omit-frame-pointer -fno-strict-aliasing -fcf-protection=none
HVT_GUEST_LDFLAGS := -static -nostdlib -no-pie -Wl,-z,max-page-size=4096 \
    -Wl,--build-id=none -T $(HVT_LD)
HVT_BARE_SRC := $(sort $(wildcard tests/platform/bare/*.c))
HVT_BARE     := $(patsubst tests/platform/bare/%.c,$(B)/hvt/bare/%,$(HVT_BARE_SRC))

.PHONY: hvt hvt-measure
hvt: $(HVT_MON) $(HVT_LIB) $(HVT_BARE) $(HVT_MON_ASAN)
TEST_DEPS += $(HVT_MON) $(HVT_LIB) $(HVT_BARE) $(HVT_MON_ASAN)

$(B)/hvt/mon/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<
$(B)/hvt/mon/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -MMD -MP -c -o $@ $<
$(HVT_MON): $(HVT_MON_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ -lseccomp

# The same monitor with ASan+UBSan, for the tests that feed it bad input.
$(B)/hvt/mon-asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -MMD -MP -c -o $@ $<
$(B)/hvt/mon-asan/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -MMD -MP -c -o $@ $<
$(HVT_MON_ASAN): $(patsubst $(B)/hvt/mon/%,$(B)/hvt/mon-asan/%,$(HVT_MON_OBJ))
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^ -lseccomp

$(B)/hvt/guest/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(HVT_GUEST_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/hvt/guest/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -MMD -MP -c -o $@ $<
$(HVT_LIB): $(HVT_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/hvt/bare/%: $(B)/hvt/guest/tests/platform/bare/%.o $(HVT_LIB) $(HVT_LD)
	@mkdir -p $(@D)
	$(CC) $(HVT_GUEST_CFLAGS) $(HVT_GUEST_LDFLAGS) -o $@ $< $(HVT_LIB) -lgcc

hvt-measure: hvt
	sh tests/platform/hvt_measure.sh

-include $(shell find $(B)/hvt -name '*.d' 2>/dev/null)

.PHONY: hvt-clean
hvt-clean:
	rm -rf $(B)/hvt $(HVT_MON)
clean: hvt-clean
