# make bench: dnsperf against zonelet, Knot DNS and NSD (tests/bench/run.sh).
#   BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_RATE=20000 BENCH_BIG=1000000
bench:
	@sh scripts/deps.sh bench
	$(MAKE) $(BIN)
	sh tests/bench/run.sh
	$(MAKE) bench-vm

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
