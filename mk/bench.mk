# make bench: dnsperf against zonelet, Knot DNS and NSD (tests/bench/run.sh).
#   BENCH_ROUNDS=3 BENCH_SECONDS=10 BENCH_RATE=20000 BENCH_BIG=1000000
bench:
	@sh scripts/deps.sh bench
	$(MAKE) $(BIN)
	sh tests/bench/run.sh
