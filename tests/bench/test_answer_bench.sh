#!/bin/sh
# The answer function makes no heap allocation per query (STYLE.md §13) and
# answers every query of the mix: build/bench/answer_bench, a short run.
# The time per answer is printed for the log, never asserted (shared machines).
cd "$(dirname "$0")/../.." || exit 1
bin=build/bench/answer_bench
if [ ! -x "$bin" ]; then
    echo "not ok 1 - $bin missing (make test-build builds it)"
    exit 1
fi
out=$("$bin" 20000 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
if [ "$rc" -eq 0 ]; then
    echo "ok 1 - no heap allocation in the answer path"
else
    echo "not ok 1 - answer path allocates (or the bench failed, status $rc)"
fi
# Time per answer is a benchmark figure (make bench-answer), not a test
# verdict: it is printed above for the log only.
