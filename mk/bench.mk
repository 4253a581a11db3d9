# make bench: dnsperf against zonelet, Knot DNS and NSD (tests/bench/run.sh),
# then the change path: UPDATEs, AXFR, queries during updates, memory, the
# git store (tests/bench/update-run.sh; BENCH_UPDATES=0 skips it), then the
# appliance under QEMU (make bench-vm).
#   BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_RATE=20000 BENCH_BIG=1000000
#   make bench-updates   the second part alone (BENCH_ONLY="upd mix mem big git")
.PHONY: bench-updates
bench:
	@sh scripts/deps.sh bench
	$(MAKE) $(BIN) $(B)/bench/update_client
	sh tests/bench/run.sh
	[ "$${BENCH_UPDATES:-1}" = 0 ] || sh tests/bench/update-run.sh
	$(MAKE) bench-vm

bench-updates:
	@sh scripts/deps.sh bench
	$(MAKE) $(BIN) $(B)/bench/update_client
	sh tests/bench/update-run.sh

# The change path's load client (tests/bench/update_client.c): signed
# UPDATEs over TCP, one at a time per client, and paced UDP queries.
$(B)/bench/update_client: tests/bench/update_client.c $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libzl.a $(LDLIBS)
TEST_DEPS += $(B)/bench/update_client

# make bench-acme: ACME issuance wall time against Pebble, lego and
# certbot through zonelet and through Knot DNS, and zonelet's own client
# (tests/bench/acme-bench.sh; ACME_ROUNDS=5). Its tools are test deps.
.PHONY: bench-acme
bench-acme:
	@sh scripts/deps.sh test
	$(MAKE) $(BIN)
	sh tests/bench/acme-bench.sh

# make bench-vm: the appliance under QEMU (TCG here; KVM where /dev/kvm
# works): image sizes, boot to first answer, smallest --mem, queries per
# second through zonelet vm (tests/bench/vm-bench.sh; VM_BENCH_ROUNDS=5).
.PHONY: bench-vm
bench-vm:
	@sh scripts/deps.sh bench
	$(MAKE) $(BIN) virtio hvt
	$(MAKE) appliance
	sh tests/bench/vm-bench.sh
