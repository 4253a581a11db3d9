#!/bin/sh
# Each libFuzzer harness first runs every input of its regression corpus
# (tests/fuzz/regress/<harness>/, one file per finding, named after what it
# pins; see its README.md) once, then fuzzes briefly from its seeds and that
# corpus, so a change that brings back a known crash or broken invariant
# fails make test. Long runs: make fuzz.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v clang >/dev/null; then
    echo "not ok 1 - fuzz smoke: clang missing (scripts/deps.sh test installs it)"; exit 1
fi
make -s fuzz-build fuzz-seeds >build/fuzz-build.log 2>&1 || { echo "not ok 1 - fuzz harnesses build"; tail -20 build/fuzz-build.log | sed 's/^/# /'; exit 1; }
n=0
for bin in build/fuzz/fuzz_*; do
    h=${bin##*/fuzz_}
    reg=tests/fuzz/regress/$h
    if [ -d "$reg" ]; then
        n=$((n + 1))
        k=$(ls "$reg" | wc -l)
        # Given files, libFuzzer runs each once and stops at the first failure.
        if "$bin" "$reg"/* >"build/fuzz/regress-$h.log" 2>&1; then
            echo "ok $n - fuzz_$h: $k regression inputs pass"
        else
            echo "not ok $n - fuzz_$h: a regression input fails"
            grep -E 'Running:|ERROR|SUMMARY|#[0-3] ' "build/fuzz/regress-$h.log" | tail -8 | sed 's/^/# /'
        fi
    fi
    n=$((n + 1))
    dirs="build/fuzz/corpus/$h"
    [ -d "$reg" ] && dirs="$dirs $reg"
    mkdir -p "build/fuzz/corpus/$h"
    if "$bin" -max_total_time=8 -max_len=4096 $dirs >"build/fuzz/smoke-$h.log" 2>&1; then
        echo "ok $n - fuzz_$h runs clean for 8 s ($(grep -o 'Done [0-9]* runs' build/fuzz/smoke-$h.log | head -1))"
    else
        echo "not ok $n - fuzz_$h"
        grep -E 'ERROR|SUMMARY|#0|#1|#2' "build/fuzz/smoke-$h.log" | head -10 | sed 's/^/# /'
    fi
done
# Every regression folder belongs to a harness (a renamed harness would
# otherwise leave its corpus unrun).
for d in tests/fuzz/regress/*/; do
    h=$(basename "$d")
    n=$((n + 1))
    [ -x "build/fuzz/fuzz_$h" ] && echo "ok $n - regress/$h has its harness" ||
        echo "not ok $n - regress/$h has no harness build/fuzz/fuzz_$h"
done
echo "1..$n"
