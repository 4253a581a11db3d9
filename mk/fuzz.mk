# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang, ASan and UBSan.
#   make fuzz                 run each harness for FUZZ_SECONDS (default 600)
#   make fuzz-build           build them only
#   make fuzz-msg|fuzz-zone|fuzz-answer   run one
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_FLAGS   := -std=c11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer $(WARN) -Wno-unused-command-line-argument
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# dns/, zone/, the socket-free message layer of unikernel/, and acme/
# (above zone/, but its JSON and HTTP readers have harnesses: fuzz_json,
# fuzz_http), linked with mbedTLS.
FUZZ_SRC     := $(LIB_SRC) $(MSG_SRC) $(sort $(wildcard acme/*.c))
FUZZ_LIBOBJ  := $(FUZZ_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-seeds $(FUZZ_NAMES:%=fuzz-%)

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIBOBJ)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBOBJ) -lmbedtls -lmbedx509 -lmbedcrypto -lpthread

fuzz-build: $(FUZZ_BINS)

# The objects are intermediate to make; keep them so that a second build
# (the smoke test after a change) compiles only what changed.
.SECONDARY: $(FUZZ_LIBOBJ)

# Seeds: hand-built messages and queries, every zone file the tests use
# (for the parser and the zone tree), and the guest images (for the ELF loader).
fuzz-seeds:
	@mkdir -p $(B)/fuzz/corpus/zone
	@/usr/bin/python3 tests/fuzz/seeds.py $(B)/fuzz/corpus
	@for f in zones-example/* tests/zone/corpus/*.zone tests/fuzz/zones/*; do \
	    [ -f "$$f" ] && cp "$$f" $(B)/fuzz/corpus/zone/$$(echo $$f | tr / _); done; true
	@[ -f tests/dns/rdata-corpus.txt ] && split -l 20 tests/dns/rdata-corpus.txt $(B)/fuzz/corpus/zone/rdata- ; true
	@mkdir -p $(B)/fuzz/corpus/zonetree $(B)/fuzz/corpus/hvt_elf && cp $(B)/fuzz/corpus/zone/* $(B)/fuzz/corpus/zonetree/
	@for f in $(B)/hvt/guest/*.hvt $(B)/uk/guests/hello.hvt; do [ -f "$$f" ] && cp "$$f" $(B)/fuzz/corpus/hvt_elf/; done; true

# One harness: FUZZ_SECONDS of libFuzzer on its corpus; crashes go to build/fuzz/<name>-crash-*.
# (Explicit rules: make applies no pattern rule to a .PHONY target.)
define fuzz_run
fuzz-$(1): $(B)/fuzz/fuzz_$(1) fuzz-seeds
	@mkdir -p $(B)/fuzz/corpus/$(1)
	$(B)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=65535 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz/$(1)- $(B)/fuzz/corpus/$(1) >$(B)/fuzz/$(1).log 2>&1; rc=$$$$?; \
	    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_runs|stat::new_units_added|SUMMARY)' $(B)/fuzz/$(1).log; \
	    echo "fuzz-$(1): exit $$$$rc, log $(B)/fuzz/$(1).log"; exit $$$$rc
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_run,$(n))))

fuzz: $(FUZZ_NAMES:%=fuzz-%)

-include $(shell find $(B)/fuzz/obj -name '*.d' 2>/dev/null)
