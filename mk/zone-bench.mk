# Zone load benchmark (tests/bench/zone_load.c, tests/bench/zone-measure.sh):
#   make zone-bench [ZONE_RECORDS=1000000]   zonelet vs Knot DNS: load time, RSS
ZONE_RECORDS ?= 1000000
.PHONY: zone-bench
$(B)/bench/zone_load: tests/bench/zone_load.c $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libzl.a $(LDLIBS)

zone-bench: $(B)/bench/zone_load
	@sh scripts/deps.sh bench
	sh tests/bench/zone-measure.sh $(ZONE_RECORDS)
# tests/zone/test_zone_load.sh runs it on a generated zone.
TEST_DEPS += $(B)/bench/zone_load

# One update on a loaded zone, small and large (tests/bench/update_bench.c,
# tests/bench/update-measure.sh): make bench-update [ZONE_RECORDS=1000000]
.PHONY: bench-update
$(B)/bench/update_bench: tests/bench/update_bench.c $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libzl.a $(LDLIBS)

bench-update: $(B)/bench/update_bench
	sh tests/bench/update-measure.sh $(ZONE_RECORDS)
TEST_DEPS += $(B)/bench/update_bench
