# lwIP (Debian's lwip source, scripts/unikernel-src.sh) for the runtime's
# network stack (platform/runtime/netif.c, sock*.c, poll.c).
#   build/uk/lib/liblwip.a      compiled with the patched musl for guests
#   build/lwip-host/liblwip.a   compiled hosted with ASan+UBSan for
#                               build/test/test_net (the socket layer on a
#                               TAP device inside the test process)
# Configuration: platform/runtime/lwip/ (lwipopts.h, arch/cc.h, hooks).
# This file is read before mk/unikernel.mk: targets name build/uk/ paths
# directly; recipes use unikernel.mk's variables when they run.
LWIP_SRCDIR := $(B)/src/lwip/src
LWIP_PORT   := platform/runtime/lwip
LWIP_INC    := -I$(LWIP_PORT) -I$(LWIP_SRCDIR)/include
# The sources only exist once fetched, so the list is fixed here rather
# than found by wildcard (a first `make` starts without build/src/lwip).
LWIP_FILES  := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c \
	core/memp.c core/netif.c core/pbuf.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c \
	core/ipv6/ethip6.c core/ipv6/icmp6.c core/ipv6/inet6.c core/ipv6/ip6.c \
	core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c core/ipv6/mld6.c core/ipv6/nd6.c \
	netif/ethernet.c
LWIP_HDRS   := $(wildcard $(LWIP_PORT)/*.h $(LWIP_PORT)/arch/*.h)
LWIP_UK_LIB := $(B)/uk/lib/liblwip.a
LWIP_UK_OBJ := $(LWIP_FILES:%.c=$(B)/uk/work/lwip/%.o)
LWIP_HOST_LIB := $(B)/lwip-host/liblwip.a
LWIP_HOST_OBJ := $(LWIP_FILES:%.c=$(B)/lwip-host/%.o)
# Third-party code: its own warnings are not ours to fix.
LWIP_CFLAGS := -std=gnu11 -w -fno-strict-aliasing

# Every lwIP source exists once the package is fetched (unikernel.mk's
# $(B)/src/%/.fetched rule).
$(addprefix $(LWIP_SRCDIR)/,$(LWIP_FILES)): $(B)/src/lwip/.fetched

$(B)/uk/work/lwip/%.o: $(LWIP_SRCDIR)/%.c $(LWIP_HDRS) $(B)/uk/musl/.done
	@mkdir -p $(@D)
	$(UK_GCC) $(UK_CFLAGS) $(LWIP_CFLAGS) $(LWIP_INC) -c -o $@ $<
$(LWIP_UK_LIB): $(LWIP_UK_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/lwip-host/%.o: $(LWIP_SRCDIR)/%.c $(LWIP_HDRS)
	@mkdir -p $(@D)
	$(CC) -O1 -g $(SAN) $(LWIP_CFLAGS) $(LWIP_INC) -c -o $@ $<
$(LWIP_HOST_LIB): $(LWIP_HOST_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- the socket layer hosted: build/test/test_net ----
# tests/platform/rt/test_net.c drives the runtime's handlers directly (as
# test_rt does) with plat.h faked over a TAP device in a network namespace
# of its own, the Linux stack on the other side.
NET_RT_HOSTED := platform/runtime/netif.c platform/runtime/sock.c platform/runtime/sockudp.c \
	platform/runtime/socktcp.c platform/runtime/poll.c platform/runtime/thread.c \
	platform/runtime/time.c platform/runtime/mem.c platform/runtime/fs.c platform/runtime/fsio.c
$(B)/test/test_net: tests/platform/rt/test_net.c $(NET_RT_HOSTED) $(LWIP_HOST_LIB) \
		$(wildcard platform/runtime/*.h) platform/include/plat.h $(LWIP_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SAN) $(LWIP_INC) -o $@ tests/platform/rt/test_net.c \
		$(NET_RT_HOSTED) $(LWIP_HOST_LIB) -lcmocka -lpthread
TEST_DEPS += $(B)/test/test_net

.PHONY: lwip-size
# Text+data of lwIP and of the runtime's network layer as linked into a
# guest (stripped sizes of the objects that end up in the image).
lwip-size: $(LWIP_UK_LIB)
	@size -t $(LWIP_UK_LIB) | tail -1

# ---- per-packet cost without sanitizers ----
# The same test program built -O2 (lwIP included), run for its cost
# figures only: make lwip-bench (root: it needs a namespace and a TAP).
LWIP_BENCH_OBJ := $(LWIP_FILES:%.c=$(B)/lwip-bench/%.o)
$(B)/lwip-bench/%.o: $(LWIP_SRCDIR)/%.c $(LWIP_HDRS)
	@mkdir -p $(@D)
	$(CC) -O2 -g $(LWIP_CFLAGS) $(LWIP_INC) -c -o $@ $<
$(B)/lwip-bench/net_bench: tests/platform/rt/test_net.c $(NET_RT_HOSTED) $(LWIP_BENCH_OBJ) \
		$(wildcard platform/runtime/*.h) platform/include/plat.h $(LWIP_HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LWIP_INC) -o $@ tests/platform/rt/test_net.c \
		$(NET_RT_HOSTED) $(LWIP_BENCH_OBJ) -lcmocka -lpthread
.PHONY: lwip-bench
lwip-bench: $(B)/lwip-bench/net_bench
	TEST_NET_FILTER='test_udp_*' $(B)/lwip-bench/net_bench | grep -E '^# measure|^not ok'
