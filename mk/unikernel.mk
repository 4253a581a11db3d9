# The unikernel runtime and its third-party libraries (issue 4).
#   make unikernel-libs     patched musl + zlib, mbedTLS, http-parser, libgit2
#                           built from Debian sources into build/uk/ (cached)
#   make unikernel-runtime  build/uk/libzlrt.a (platform/runtime/*.c)
#   make unikernel-guests   tests/platform/guests/*.c -> build/uk/guests/*.{hvt,virtio}
#   make unikernel-units    dns/ zone/ cmocka tests -> build/uk/unit/*.{hvt,virtio}
#   make test-unikernel     boot every guest (hvt on build/zonelet-hvt,
#                           virtio on build/zonelet-virtio, i.e. QEMU)
#   make clean-unikernel    remove build/uk (the next build starts over)
# TARGET=hvt or TARGET=virtio limits the images and tests to one target
# (default: both). Objects and the runtime are the same for both; only the
# link differs (platform library, linker script, image suffix).
# Sources come from scripts/unikernel-src.sh (apt-get source, build/src/).
UK        := $(B)/uk
UK_ABS    := $(abspath $(UK))
UK_SRC    := $(abspath $(B)/src)
UK_WORK   := $(UK_ABS)/work
UK_MUSL   := $(UK_ABS)/musl
UK_GCC    := $(UK_MUSL)/bin/musl-gcc
# uk-cc: musl-gcc that links static non-PIE programs runnable on Linux
# (cmake's checks need that), via platform/runtime/host_syscall.S.
UK_CC     := $(UK_ABS)/bin/uk-cc
# Guest code: static, non-PIE, frame pointers for readable backtraces.
UK_CFLAGS := -O2 -g -fno-pie -fno-omit-frame-pointer -fno-stack-protector
UK_LIBS   := $(UK)/lib/libgit2.a $(UK)/lib/libhttp_parser.a \
	     $(UK)/lib/libmbedtls.a $(UK)/lib/libmbedx509.a \
	     $(UK)/lib/libmbedcrypto.a $(UK)/lib/libz.a $(LWIP_UK_LIB)
# A sub-make joins our jobserver if there is one, else uses two jobs.
UK_J       = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j2)

# ---- targets: what differs between hvt and virtio images ----
UK_TARGETS := $(or $(TARGET),hvt virtio)
$(foreach t,$(UK_TARGETS),$(if $(filter hvt virtio,$(t)),,$(error TARGET=$(t): hvt or virtio)))
PLAT_LIB_hvt    := $(HVT_LIB)
PLAT_LD_hvt     := $(HVT_LD)
PLAT_RUN_hvt    := $(HVT_MON)
PLAT_LIB_virtio := $(VIRTIO_LIB)
PLAT_LD_virtio  := $(VIRTIO_LD)
PLAT_RUN_virtio := $(VIRTIO_RUN)
# $(UK_LINK_<target>) ARGS: link the guest image $@; virtio images get
# their symbol table in a second pass (platform/virtio/link.sh).
UK_LINK_hvt     = $(UK_GCC) -o $@
UK_LINK_virtio  = $(VIRTIO_LINK) $@ $(UK_GCC)

.PHONY: unikernel-src unikernel-libs unikernel-runtime unikernel-guests test-unikernel clean-unikernel
# Everything the unikernel build made (the fetched sources in build/src stay).
clean-unikernel:
	rm -rf $(UK)

unikernel-src:
	@sh scripts/unikernel-src.sh

unikernel-libs: $(UK)/musl/.done $(UK_LIBS)

# One fetch for all packages: apt-get (deb-src set-up, update) must not
# run twice at once under make -j.
UK_PKGS := musl mbedtls zlib libgit2 http-parser cmocka ldns lwip
$(B)/src/.fetched-all:
	@sh scripts/unikernel-src.sh $(UK_PKGS)
	@touch $@
$(B)/src/%/.fetched: $(B)/src/.fetched-all
	@test -d $(@D) || sh scripts/unikernel-src.sh $*
	@touch $@

# musl: Debian's 1.2.3 with syscalls turned into calls to __zl_syscall.
$(UK)/musl/.done: platform/runtime/musl.patch platform/runtime/host_syscall.S $(B)/src/musl/.fetched
	rm -rf $(UK_WORK)/musl $(UK_MUSL)
	mkdir -p $(UK_WORK)
	cp -a $(UK_SRC)/musl $(UK_WORK)/musl
	cd $(UK_WORK)/musl && patch -s -p1 < $(abspath platform/runtime/musl.patch)
	cd $(UK_WORK)/musl && ./configure -q --prefix=$(UK_MUSL) \
		--disable-shared --enable-wrapper=gcc CFLAGS="$(UK_CFLAGS)" >/dev/null
	$(MAKE) $(UK_J) -s -C $(UK_WORK)/musl
	$(MAKE) -s -C $(UK_WORK)/musl install >/dev/null
	$(UK_GCC) -c -o $(UK_MUSL)/lib/zl_host_syscall.o platform/runtime/host_syscall.S
	mkdir -p $(UK)/bin
	printf '%s\n' '#!/bin/sh' 'for a; do case "$$a" in -c|-E|-S|-M|-MM) exec $(UK_GCC) -fno-pie "$$@";; esac; done' \
		'exec $(UK_GCC) -fno-pie -static -no-pie "$$@" $(UK_MUSL)/lib/zl_host_syscall.o' >$(UK_CC)
	chmod +x $(UK_CC)
	@! objdump -d $(UK_MUSL)/lib/libc.a | grep -qP "\tsyscall\s*$$" || \
		{ echo "unikernel.mk: a syscall instruction is left in libc.a" >&2; exit 1; }
	touch $@

$(UK)/lib/libz.a: $(UK)/musl/.done $(B)/src/zlib/.fetched
	rm -rf $(UK_WORK)/zlib && cp -a $(UK_SRC)/zlib $(UK_WORK)/zlib
	cd $(UK_WORK)/zlib && CC=$(UK_CC) CFLAGS="$(UK_CFLAGS)" ./configure --static >/dev/null
	$(MAKE) $(UK_J) -s -C $(UK_WORK)/zlib libz.a
	mkdir -p $(UK)/lib $(UK)/include
	cp $(UK_WORK)/zlib/zlib.h $(UK_WORK)/zlib/zconf.h $(UK)/include/
	cp $(UK_WORK)/zlib/libz.a $@

# mbedTLS: entropy only from mbedtls_hardware_poll (platform/runtime/entropy.c).
UK_MBED_LIBS := $(UK)/lib/libmbedtls.a $(UK)/lib/libmbedx509.a $(UK)/lib/libmbedcrypto.a
$(UK)/lib/libmbedcrypto.a: $(UK)/musl/.done $(B)/src/mbedtls/.fetched
	rm -rf $(UK_WORK)/mbedtls $(UK_WORK)/mbedtls-build
	cp -a $(UK_SRC)/mbedtls $(UK_WORK)/mbedtls
	cd $(UK_WORK)/mbedtls && python3 scripts/config.py set MBEDTLS_NO_PLATFORM_ENTROPY && \
		python3 scripts/config.py set MBEDTLS_ENTROPY_HARDWARE_ALT
	cmake -S $(UK_WORK)/mbedtls -B $(UK_WORK)/mbedtls-build -DCMAKE_C_COMPILER=$(UK_CC) \
		-DCMAKE_C_FLAGS="$(UK_CFLAGS)" -DCMAKE_BUILD_TYPE=None \
		-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DUSE_STATIC_MBEDTLS_LIBRARY=ON \
		-DUSE_SHARED_MBEDTLS_LIBRARY=OFF -DMBEDTLS_FATAL_WARNINGS=OFF >/dev/null
	$(MAKE) $(UK_J) -s -C $(UK_WORK)/mbedtls-build
	mkdir -p $(UK)/lib $(UK)/include
	cp -r $(UK_WORK)/mbedtls/include/mbedtls $(UK_WORK)/mbedtls/include/psa $(UK)/include/
	cp $(UK_WORK)/mbedtls-build/library/libmbedtls.a $(UK_WORK)/mbedtls-build/library/libmbedx509.a $(UK)/lib/
	cp $(UK_WORK)/mbedtls-build/library/libmbedcrypto.a $@
$(UK)/lib/libmbedtls.a $(UK)/lib/libmbedx509.a: $(UK)/lib/libmbedcrypto.a

$(UK)/lib/libhttp_parser.a: $(UK)/musl/.done $(B)/src/http-parser/.fetched
	mkdir -p $(UK_WORK)/http-parser $(UK)/lib $(UK)/include
	$(UK_CC) $(UK_CFLAGS) -c -o $(UK_WORK)/http-parser/http_parser.o $(UK_SRC)/http-parser/http_parser.c
	cp $(UK_SRC)/http-parser/http_parser.h $(UK)/include/
	rm -f $@ && ar rcs $@ $(UK_WORK)/http-parser/http_parser.o

# libgit2: Debian's +ds tarball has no deps/, so regcomp, system
# http-parser and our zlib. The CA path is only compiled in; the guest
# finds the bundle there in its in-memory file system if one is put there.
UK_CA := $(firstword $(wildcard /etc/ssl/certs/ca-certificates.crt))
$(UK)/lib/libgit2.a: $(UK_MBED_LIBS) $(UK)/lib/libz.a $(UK)/lib/libhttp_parser.a $(B)/src/libgit2/.fetched
	rm -rf $(UK_WORK)/libgit2-build
	cmake -S $(UK_SRC)/libgit2 -B $(UK_WORK)/libgit2-build -DCMAKE_C_COMPILER=$(UK_CC) \
		-DCMAKE_C_FLAGS="$(UK_CFLAGS)" -DCMAKE_BUILD_TYPE=None \
		-DBUILD_SHARED_LIBS=OFF -DBUILD_TESTS=OFF -DBUILD_CLI=OFF -DBUILD_EXAMPLES=OFF \
		-DUSE_SSH=OFF -DUSE_GSSAPI=OFF -DUSE_NTLMCLIENT=OFF -DUSE_ICONV=OFF \
		-DUSE_THREADS=ON -DREGEX_BACKEND=regcomp -DUSE_HTTP_PARSER=system \
		-DUSE_HTTPS=mbedTLS -DUSE_SHA1=CollisionDetection -DUSE_SHA256=mbedTLS \
		-DUSE_BUNDLED_ZLIB=OFF $(if $(UK_CA),-DCERT_LOCATION=$(UK_CA)) \
		-DCMAKE_FIND_ROOT_PATH=$(UK_ABS) -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
		-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY -DCMAKE_PREFIX_PATH=/ \
		-DZLIB_INCLUDE_DIR=$(UK_ABS)/include -DZLIB_LIBRARY=$(UK_ABS)/lib/libz.a \
		-DMBEDTLS_INCLUDE_DIR=$(UK_ABS)/include -DMBEDTLS_LIBRARY=$(UK_ABS)/lib/libmbedtls.a \
		-DMBEDX509_LIBRARY=$(UK_ABS)/lib/libmbedx509.a \
		-DMBEDCRYPTO_LIBRARY=$(UK_ABS)/lib/libmbedcrypto.a \
		-DHTTP_PARSER_INCLUDE_DIR=$(UK_ABS)/include \
		-DHTTP_PARSER_LIBRARY=$(UK_ABS)/lib/libhttp_parser.a >/dev/null
	$(MAKE) $(UK_J) -s -C $(UK_WORK)/libgit2-build
	cp -r $(UK_SRC)/libgit2/include/git2 $(UK_SRC)/libgit2/include/git2.h $(UK)/include/
	cp $(UK_WORK)/libgit2-build/libgit2.a $@

# ---- the runtime: platform/runtime/*.c compiled against the patched musl ----
UK_RT_SRC  := $(sort $(wildcard platform/runtime/*.c))
UK_RT_OBJ  := $(UK_RT_SRC:platform/runtime/%.c=$(UK)/rt/%.o)
UK_RT_LIB  := $(UK)/libzlrt.a
UK_WFLAGS  := -std=c11 $(WARN) -D_GNU_SOURCE -I.

unikernel-runtime: $(UK_RT_LIB)

# Names of system calls for the "not implemented" log, from musl's table.
$(UK)/rt/sysnames.h: $(UK)/musl/.done
	@mkdir -p $(@D)
	sed -n 's/^#define __NR_\([a-z0-9_]*\)[[:space:]]*\([0-9][0-9]*\)$$/[\2] = "\1",/p' \
		$(UK_MUSL)/include/bits/syscall.h >$@

# The network layer includes lwIP's headers (mk/lwip.mk).
$(UK)/rt/%.o: platform/runtime/%.c $(UK)/musl/.done $(UK)/rt/sysnames.h $(B)/src/lwip/.fetched
	@mkdir -p $(@D)
	$(UK_GCC) $(UK_WFLAGS) $(UK_CFLAGS) -I$(UK)/rt $(LWIP_INC) -MMD -MP -c -o $@ $<

$(UK_RT_LIB): $(UK_RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- guests: tests/platform/guests/NAME.c -> build/uk/guests/NAME.{hvt,virtio} ----
# Linked as musl + runtime + the target's platform library with its linker
# script. The runtime is linked whole: musl's libc.a calls back into it.
UK_GUEST_SRC := $(sort $(wildcard tests/platform/guests/*.c))
UK_GUESTS    := $(foreach t,$(UK_TARGETS),$(UK_GUEST_SRC:tests/platform/guests/%.c=$(UK)/guests/%.$(t)))
UK_GUEST_LD   = -static -nostdlib -no-pie -Wl,-z,max-page-size=4096 -Wl,--build-id=none \
	-Wl,-u,_start -T $(PLAT_LD_$(1))

unikernel-guests: $(UK_GUESTS)
# Keep the objects (make would delete them as intermediates).
.SECONDARY: $(UK_GUEST_SRC:tests/platform/guests/%.c=$(UK)/guests/%.o)

$(UK)/guests/%.o: tests/platform/guests/%.c $(UK)/musl/.done $(UK_LIBS)
	@mkdir -p $(@D)
	$(UK_GCC) $(UK_WFLAGS) $(UK_CFLAGS) -I$(UK)/include -MMD -MP -c -o $@ $<

define uk_guest_rule
$(UK)/guests/%.$(1): $(UK)/guests/%.o $(UK_RT_LIB) $(UK_LIBS) $(PLAT_LIB_$(1)) $(PLAT_LD_$(1))
	$$(UK_LINK_$(1)) $$(call UK_GUEST_LD,$(1)) $$< -Wl,--whole-archive $(UK_RT_LIB) \
		-Wl,--no-whole-archive -Wl,--start-group $(UK_LIBS) $(PLAT_LIB_$(1)) \
		$(UK_MUSL)/lib/libc.a -lgcc -Wl,--end-group
	strip -o $$@.stripped $$@
endef
$(foreach t,hvt virtio,$(eval $(call uk_guest_rule,$(t))))

UK_SUITES_hvt    := tests/platform/test_hvt.sh tests/platform/test_hvt_monitor.sh
UK_SUITES_virtio := tests/platform/test_virtio.sh tests/platform/test_virtio_guests.sh
test-unikernel: $(UK_GUESTS) $(UK_UNITS) $(foreach t,$(UK_TARGETS),$(PLAT_RUN_$(t)))
	sh tests/run.sh $(foreach t,$(UK_TARGETS),$(UK_SUITES_$(t)))

-include $(wildcard $(UK)/rt/*.d $(UK)/guests/*.d $(UK)/unit/*.d $(shell find $(UK)/zl -name "*.d" 2>/dev/null))

# make test builds the guests for both targets (cached: nothing to do the
# second time; the first build fetches and compiles musl and the
# libraries, about a minute on two cores).
TEST_DEPS += $(UK_GUESTS)

# ---- zonelet's own unit tests as guests ----
# Every tests/{dns,zone}/test_*.c (and tests/unikernel ones, see UK_UT_APP)
# becomes build/uk/unit/test_*.{hvt,virtio}: the test + dns/ zone/ unikernel/
# compiled with musl + cmocka and ldns (the tests'
# oracle) from Debian's sources; their fixture files come from a tar on
# the block device (guests.sh boots them with --block-tar=/). ldns is built
# without OpenSSL: no DNSSEC crypto, which the oracle uses do not need.
UK_ZL_SRC  := $(sort $(wildcard dns/*.c zone/*.c))
UK_ZL_OBJ  := $(UK_ZL_SRC:%.c=$(UK)/zl/%.o)
UK_ZL_LIB  := $(UK)/libzl.a
# tests/unikernel: the appliance's own unit tests, except those that start
# processes (system, popen: none in a unikernel) or test the hosted monitor.
UK_LP      := (
UK_UT_APP  := $(shell grep -L -e 'system$(UK_LP)' -e 'popen$(UK_LP)' -e 'fork$(UK_LP)' \
	-e 'hvt/tender' $(wildcard tests/unikernel/test_*.c) /dev/null 2>/dev/null)
UK_UT_SRC  := $(sort $(wildcard tests/dns/test_*.c tests/zone/test_*.c) $(filter-out /dev/null,$(UK_UT_APP)))
# The layers above zone/ as the hosted build has them, but ssh:// (no
# libssh2 for the unikernel: gitstore/nossh.c refuses it).
# The stores are picked per image (unikernel/stores.h): linked as objects,
# never from the archive.
UK_APP_SRC := $(filter-out unikernel/main.c unikernel/main_dns.c unikernel/stores.c \
	unikernel/stores_dironly.c unikernel/acme_none.c gitstore/ssh.c, \
	$(sort $(wildcard gitstore/*.c acme/*.c unikernel/*.c)))
UK_APP_LIB := $(UK)/libzlapp.a
UK_LDNS    := $(UK)/lib/libldns.a
UK_UNITS   := $(foreach x,$(UK_TARGETS),$(foreach t,$(UK_UT_SRC),$(UK)/unit/$(notdir $(t:.c=)).$(x)))
UK_CMOCKA  := $(UK)/zl/cmocka.o
UK_CMOCKA_DEFS := -DHAVE_SIGNAL_H -DHAVE_INTTYPES_H -DHAVE_STRINGS_H -DHAVE_STRSIGNAL \
	-DHAVE_GCC_THREAD_LOCAL_STORAGE -DHAVE_CLOCK_REALTIME -DHAVE_STRUCT_TIMESPEC -DHAVE_SIGLONGJMP

.PHONY: unikernel-units unikernel-units-list
unikernel-units: $(UK_UNITS)
# The current list (tests/platform/guests.sh runs exactly these, not
# whatever older images build/uk/unit still holds); with TARGET=, one
# target's.
unikernel-units-list:
	@echo $(UK_UNITS)

# The libraries' headers (mbedTLS, libgit2) are installed with them.
$(UK)/zl/%.o: %.c $(UK)/musl/.done | $(UK_LIBS)
	@mkdir -p $(@D)
	$(UK_GCC) $(UK_WFLAGS) $(UK_CFLAGS) -fno-strict-aliasing -I$(UK)/include -MMD -MP -c -o $@ $<

$(UK_ZL_LIB): $(UK_ZL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(UK_APP_LIB): $(UK_APP_SRC:%.c=$(UK)/zl/%.o)
	@rm -f $@
	ar rcs $@ $^

$(UK_LDNS): $(UK)/musl/.done $(B)/src/ldns/.fetched
	rm -rf $(UK_WORK)/ldns && cp -a $(UK_SRC)/ldns $(UK_WORK)/ldns
	cd $(UK_WORK)/ldns && CC=$(UK_CC) CFLAGS="$(UK_CFLAGS)" ./configure -q --disable-shared \
		--without-ssl --disable-sha2 --disable-dane --disable-gost --disable-ecdsa \
		--disable-dsa --disable-ed25519 --disable-ed448 --without-drill \
		--without-examples --without-pyldns >/dev/null
	$(MAKE) $(UK_J) -s -C $(UK_WORK)/ldns lib >/dev/null
	mkdir -p $(UK)/lib $(UK)/include
	cp -r $(UK_WORK)/ldns/ldns $(UK)/include/
	cp $(UK_WORK)/ldns/.libs/libldns.a $@

$(UK_CMOCKA): $(UK)/musl/.done $(B)/src/cmocka/.fetched
	@mkdir -p $(@D)
	$(UK_GCC) $(UK_CFLAGS) $(UK_CMOCKA_DEFS) -I$(UK_SRC)/cmocka/include -c -o $@ $(UK_SRC)/cmocka/src/cmocka.c
	mkdir -p $(UK)/include && cp $(UK_SRC)/cmocka/include/cmocka.h $(UK)/include/

# $(call uk_unit_rule,TEST.c): the test's object, shared by the targets.
define uk_unit_rule
$(UK)/unit/$(notdir $(1:.c=)).o: $(1) $(UK_CMOCKA) $(UK_LDNS) $(UK)/musl/.done
	@mkdir -p $$(@D)
	$$(UK_GCC) $$(UK_WFLAGS) $$(UK_CFLAGS) -fno-strict-aliasing -Itests -I$$(UK)/include \
		-MMD -MP -c -o $$@ $(1)
endef
$(foreach t,$(UK_UT_SRC),$(eval $(call uk_unit_rule,$(t))))
.SECONDARY: $(foreach t,$(UK_UT_SRC),$(UK)/unit/$(notdir $(t:.c=)).o)
# $(call uk_unit_link,TARGET): every unit image for one target.
define uk_unit_link
$(UK)/unit/%.$(1): $(UK)/unit/%.o $(UK_CMOCKA) $(UK_LDNS) $(UK_APP_LIB) $(UK_ZL_LIB) $(UK_RT_LIB) $(UK_LIBS) $(PLAT_LIB_$(1)) $(PLAT_LD_$(1))
	$$(UK_LINK_$(1)) $$(call UK_GUEST_LD,$(1)) $$< \
		$(UK_CMOCKA) -Wl,--whole-archive $(UK_RT_LIB) -Wl,--no-whole-archive \
		-Wl,--start-group $(UK_APP_LIB) $(UK_ZL_LIB) $(UK_LDNS) $(UK_LIBS) $(PLAT_LIB_$(1)) \
		$(UK_MUSL)/lib/libc.a -lgcc -Wl,--end-group
endef
$(foreach t,hvt virtio,$(eval $(call uk_unit_link,$(t))))
# Not in TEST_DEPS: they compile other modules' code with musl, so
# tests/platform/guests.sh builds each itself and reports a failure as
# one test, instead of failing the whole `make test` build.

# ---- the runtime's file system and page allocator as hosted code ----
# build/test/test_rt: tests/platform/rt/test_rt.c calls the handlers
# directly under ASan/UBSan over a fake plat.h (tests/run.sh runs it);
# tarfs.c reads a block device faked in memory.
UK_RT_HOSTED := platform/runtime/fs.c platform/runtime/fsio.c platform/runtime/mem.c platform/runtime/tarfs.c
$(B)/test/test_rt: tests/platform/rt/test_rt.c $(UK_RT_HOSTED) platform/runtime/rt.h platform/runtime/obj.h \
		platform/runtime/fs.h platform/include/plat.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) -o $@ tests/platform/rt/test_rt.c $(UK_RT_HOSTED) -lcmocka
TEST_DEPS += $(B)/test/test_rt

# ---- the appliance itself (unikernel/main.c) as a guest ----
# build/uk/zonelet.<target>: the server with both stores (unikernel/
# stores.c: the directory and git, libgit2); build/uk/zonelet-dns.<target>:
# the directory store only (unikernel/stores_dironly.c), no libgit2 in the
# image. The zones come from a ustar image on the block device, unpacked
# by the runtime before main() (boot argument --block-tar=DIR,
# platform/runtime/tarfs.c). `zonelet vm` (unikernel/vm.c) boots them.
# Each image also gets a stripped copy (IMAGE.stripped) for its size.
UK_APPLIANCE := $(foreach t,$(UK_TARGETS),$(UK)/zonelet.$(t) $(UK)/zonelet-dns.$(t))
# zonelet-dns also leaves out the ACME client (unikernel/acme_none.c: no
# TLS, no X.509) and the host commands (unikernel/main_dns.c).
UK_STORES_zonelet     := $(UK)/zl/unikernel/main.o $(UK)/zl/unikernel/stores.o
UK_STORES_zonelet-dns := $(UK)/zl/unikernel/main_dns.o $(UK)/zl/unikernel/stores_dironly.o \
	$(UK)/zl/unikernel/acme_none.o
$(UK)/zl/unikernel/main.o $(UK)/zl/unikernel/main_dns.o: $(UK)/musl/.done
# $(call uk_appliance_rule,TARGET,NAME)
define uk_appliance_rule
$(UK)/$(2).$(1): $(UK_STORES_$(2)) $(UK_APP_LIB) \
		$(UK_ZL_LIB) $(UK_RT_LIB) $(UK_LIBS) $(PLAT_LIB_$(1)) $(PLAT_LD_$(1))
	$$(UK_LINK_$(1)) $$(call UK_GUEST_LD,$(1)) $(UK_STORES_$(2)) \
		-Wl,--whole-archive $(UK_RT_LIB) -Wl,--no-whole-archive \
		-Wl,--start-group $(UK_APP_LIB) $(UK_ZL_LIB) $(UK_LIBS) $(PLAT_LIB_$(1)) \
		$(UK_MUSL)/lib/libc.a -lgcc -Wl,--end-group
	strip -o $$@.stripped $$@
endef
$(foreach t,hvt virtio,$(foreach n,zonelet zonelet-dns,$(eval $(call uk_appliance_rule,$(t),$(n)))))
.PHONY: appliance
appliance: $(UK_APPLIANCE)
unikernel-units: $(UK_APPLIANCE)
