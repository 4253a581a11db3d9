#!/bin/sh
# The answer function makes no heap allocation per query (STYLE.md §13) and
# costs well under a microsecond: build/bench/answer_bench over the query
# mix, a short run. The time is reported, not asserted (shared machines).
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
mean=$(echo "$out" | awk '/^mix/ {print $3}')
if [ -n "$mean" ] && awk -v m="$mean" 'BEGIN { exit !(m < 1000) }'; then
    echo "ok 2 - mean CPU per answer $mean ns (< 1000)"
else
    echo "not ok 2 - mean CPU per answer ${mean:-?} ns (want < 1000)"
fi
