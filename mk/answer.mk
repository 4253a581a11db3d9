# The answer path's micro-benchmark: ns per srv_process call (the
# message layer and the zone lookup, no sockets) on the fixture zones
# (tests/bench/answer_bench.c). `make bench-answer` runs it.
.PHONY: bench-answer
# The socket-free message layer (what the fuzzers and benchmarks drive).
MSG_OBJ := $(B)/obj/unikernel/process.o $(B)/obj/unikernel/query.o
$(B)/bench/answer_bench: tests/bench/answer_bench.c $(MSG_OBJ) $(B)/libzl.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(MSG_OBJ) $(B)/libzl.a $(LDLIBS)

bench-answer: $(B)/bench/answer_bench
	$(B)/bench/answer_bench

TEST_DEPS += $(B)/bench/answer_bench
