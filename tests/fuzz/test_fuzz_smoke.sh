#!/bin/sh
# Each libFuzzer harness runs briefly on its seeds and on every saved
# regression input (tests/fuzz/regress/<harness>/), so a parser change that
# crashes on a known input fails make test. Long runs: make fuzz.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v clang >/dev/null; then echo "ok - fuzz smoke # SKIP clang missing"; exit 0; fi
make -s fuzz-build fuzz-seeds >build/fuzz-build.log 2>&1 || { echo "not ok - fuzz harnesses build"; tail -20 build/fuzz-build.log | sed 's/^/# /'; exit 1; }
n=0
for bin in build/fuzz/fuzz_*; do
    h=${bin##*/fuzz_}
    n=$((n + 1))
    dirs="build/fuzz/corpus/$h"
    [ -d "tests/fuzz/regress/$h" ] && dirs="$dirs tests/fuzz/regress/$h"
    mkdir -p "build/fuzz/corpus/$h"
    if "$bin" -max_total_time=8 -max_len=4096 $dirs >"build/fuzz/smoke-$h.log" 2>&1; then
        echo "ok $n - fuzz_$h runs clean for 8 s ($(grep -o 'Done [0-9]* runs' build/fuzz/smoke-$h.log | head -1))"
    else
        echo "not ok $n - fuzz_$h"
        grep -E 'ERROR|SUMMARY|#0|#1|#2' "build/fuzz/smoke-$h.log" | head -10 | sed 's/^/# /'
    fi
done
