# The ACME client's driver for tests/acme/test_pebble.sh (sanitized, as
# the unit tests): build/test/acme_tool.
$(B)/test/acme_tool: tests/acme/acme_tool.c $(SLIB_OBJ) $(SAPP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -o $@ $< $(SLIB_OBJ) $(SAPP_OBJ) $(LDLIBS)

TEST_DEPS += $(B)/test/acme_tool

# The same driver built the way the unikernel builds code: musl and
# build/uk's mbedTLS (configured for entropy from mbedtls_hardware_poll;
# tests/acme/hwpoll_linux.c stands in for the runtime's), static, run as a
# Linux program. Not part of make test:
#   make acme-musl && ACME_TOOL=build/uk/acme/acme_tool sh tests/acme/test_pebble.sh
ACME_MUSL_SRC := $(sort $(wildcard acme/*.c)) dns/err.c dns/arena.c tests/acme/hwpoll_linux.c tests/acme/acme_tool.c
.PHONY: acme-musl
acme-musl: $(B)/uk/acme/acme_tool
$(B)/uk/acme/acme_tool: $(ACME_MUSL_SRC) $(wildcard acme/*.h) $(B)/uk/lib/libmbedcrypto.a $(B)/uk/musl/.done
	@mkdir -p $(@D)
	$(UK_CC) -std=c11 $(WARN) -D_GNU_SOURCE -I. -I$(UK)/include -O2 -o $@ $(ACME_MUSL_SRC) \
		$(UK)/lib/libmbedtls.a $(UK)/lib/libmbedx509.a $(UK)/lib/libmbedcrypto.a
