# The answer function's micro-benchmark: ns per zone_answer call on the
# fixture zones (tests/bench/answer_bench.c). `make bench-answer` runs it.
.PHONY: bench-answer
$(B)/bench/answer_bench: tests/bench/answer_bench.c $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libzl.a $(LDLIBS)

bench-answer: $(B)/bench/answer_bench
	$(B)/bench/answer_bench

TEST_DEPS += $(B)/bench/answer_bench
