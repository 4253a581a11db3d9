# zonelet — one make builds everything. See README.md.
#   make            build the hosted server build/zonelet
#   make run        install what is missing, build, serve zones-example/
#   make run-unikernel  the same served by the appliance in QEMU (zonelet vm)
#   make test       install test dependencies, run every test (ASan+UBSan)
#   make bench      dnsperf against zonelet, Knot DNS and NSD
#   make fuzz       run every libFuzzer harness (FUZZ_SECONDS each)
CC       ?= cc
OPT      ?= -O2
WARN     := -Wall -Wextra -Werror
CPPFLAGS += -I. -D_GNU_SOURCE
CFLAGS   += -std=c11 $(OPT) -g $(WARN) -fno-strict-aliasing
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# mbedTLS: TSIG HMACs (dns/tsig.c), ACME (JWS, HTTPS); libgit2: the git store.
LDLIBS   += -lgit2 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
B        := build

LIB_SRC  := $(sort $(wildcard dns/*.c zone/*.c))
# Layers above zone/: gitstore/ and acme/ (DESIGN.md), then the appliance.
# (gitstore/nossh.c stands in for ssh.c in builds without libssh2;
# unikernel/stores_dironly.c for stores.c, acme_none.c for acme_agent.c
# and main_dns.c for main.c in the DNS-only appliance image.)
APP_SRC  := $(sort $(filter-out gitstore/nossh.c unikernel/stores_dironly.c \
                   unikernel/acme_none.c unikernel/main_dns.c, \
                   $(wildcard gitstore/*.c acme/*.c unikernel/*.c platform/hosted/*.c)))
# The socket-free message layer of unikernel/ (what the fuzzers and the
# answer benchmark drive besides dns/ and zone/).
MSG_SRC  := unikernel/process.c unikernel/query.c unikernel/notify.c unikernel/update.c \
            unikernel/xfr.c unikernel/cidr.c unikernel/log.c
APP_MAIN := unikernel/main.c
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
APP_OBJ  := $(APP_SRC:%.c=$(B)/obj/%.o)
SLIB_OBJ := $(LIB_SRC:%.c=$(B)/asan/%.o)
SAPP_OBJ := $(filter-out $(B)/asan/$(APP_MAIN:.c=.o),$(APP_SRC:%.c=$(B)/asan/%.o))
TEST_SRC := $(sort $(wildcard tests/dns/test_*.c tests/zone/test_*.c tests/gitstore/test_*.c \
                            tests/acme/test_*.c tests/unikernel/test_*.c tests/platform/test_*.c))
TEST_BIN := $(foreach t,$(TEST_SRC),$(B)/test/$(notdir $(t:.c=)))
TEST_LIBS := -lcmocka -lldns
# Fragments (mk/*.mk) add targets and append to these:
TEST_DEPS :=
BIN      := $(B)/zonelet

.PHONY: all run run-unikernel test test-build deps-build deps-test clean fuzz bench
all: $(BIN)

# The targets' fragments first: the others use their variables.
TARGET_MK := mk/hvt.mk mk/virtio.mk
-include $(TARGET_MK) $(filter-out $(TARGET_MK),$(sort $(wildcard mk/*.mk)))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -MMD -MP -c -o $@ $<

$(B)/libzl.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(APP_OBJ) $(B)/libzl.a
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(B)/libzl.a $(LDLIBS)

# Each tests/<dir>/test_x.c is one cmocka program linked with the
# sanitized library and application objects (main.c excluded).
define test_rule
$(B)/test/$(notdir $(1:.c=)): $(1) $(SLIB_OBJ) $(SAPP_OBJ)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -O1 $$(SAN) -Itests -o $$@ $(1) $(SLIB_OBJ) $(SAPP_OBJ) $$(TEST_LIBS) $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rule,$(t))))

deps-build:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test

run: deps-build
	$(MAKE) $(BIN)
	$(BIN) --zones zones-example --listen 127.0.0.1:5353 --listen '[::1]:5353'

# The appliance (directory store) in QEMU, KVM when it works, else TCG;
# Ctrl-C stops it.
run-unikernel: deps-build
	$(MAKE) $(BIN) virtio
	$(MAKE) TARGET=virtio $(B)/uk/zonelet.virtio
	$(BIN) vm --target virtio --zones zones-example --listen 127.0.0.1:5353

test-build: $(BIN) $(TEST_BIN) $(TEST_DEPS)

test: deps-test
	$(MAKE) test-build
	sh tests/run.sh

clean:
	rm -rf $(B)/obj $(B)/asan $(B)/test $(B)/libzl.a $(BIN) $(B)/test-logs

-include $(shell find $(B)/obj $(B)/asan -name '*.d' 2>/dev/null)
