#!/bin/sh
# Run every test suite and print the closing line "N passed, M failed".
# A suite is an executable (cmocka unit tests in build/test/) or a script
# tests/*/test_*.sh. Each reports in TAP: "ok ...", "not ok ...",
# "ok ... # SKIP reason". A suite that exits non-zero without reporting a
# failure counts as one failure, so a crash is never a pass.
# Usage: tests/run.sh [SUITE...]   (default: all)
cd "$(dirname "$0")/.." || exit 2
out=build/test-logs
mkdir -p "$out"
pass=0 fail=0 skip=0
if [ $# -eq 0 ]; then
    set -- $(ls build/test/test_* 2>/dev/null) $(ls tests/*/test_*.sh 2>/dev/null)
fi
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for suite in "$@"; do
    name=$(echo "$suite" | tr '/' '_')
    log="$out/$name.log"
    start=$(date +%s)
    case "$suite" in
    *.sh) sh "$suite" >"$log" 2>&1 ;;
    *) "$suite" >"$log" 2>&1 ;;
    esac
    rc=$?
    p=$(grep -cE '^ok ' "$log" | tr -d ' ')
    s=$(grep -cE '^ok .*# (SKIP|skip)' "$log" | tr -d ' ')
    f=$(grep -cE '^not ok ' "$log" | tr -d ' ')
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $suite exited with status $rc" >>"$log"; fi
    if [ $((p + f + s)) -eq 0 ]; then f=1; echo "not ok - $suite reported no tests" >>"$log"; fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-48s %4d passed %3d failed %3d skipped  %3ss\n' "$suite" "$p" "$f" "$s" $(( $(date +%s) - start ))
    if [ "$f" -ne 0 ]; then
        # the failures, with the diagnostics a suite prints under them ("#   ")
        grep -E '^not ok |^#   |ERROR|Sanitizer|runtime error' "$log" | head -60 | sed 's/^/    /'
    fi
    grep -E '^ok .*# (SKIP|skip)' "$log" | sed 's/^/    /'
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
