#!/bin/sh
# make hvt-measure: numbers for the hvt monitor on this machine.
#  - boot: monitor exec -> guest's first instruction -> monitor exit, for the
#    bare hello guest (median of RUNS runs; wall clocks: the guest's is the
#    host's at boot plus its TSC clock)
#  - one hypercall round trip (2000 nop hypercalls timed in the guest)
#  - image sizes
cd "$(dirname "$0")/../.." || exit 2
MON=build/zonelet-hvt
HELLO=build/hvt/bare/hello
RUNS=${RUNS:-11}
"$MON" --probe || { echo "hvt-measure: /dev/kvm unusable" >&2; exit 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt "$RUNS" ]; do
    t0=$(date +%s%N)
    "$MON" --stats "$HELLO" quick >"$tmp/out" 2>&1
    t1=$(date +%s%N)
    first=$(sed -n 's/^measure: first instruction at wall \([0-9]*\) ns$/\1/p' "$tmp/out")
    setup=$(sed -n 's/.*stats: set-up \([0-9]*\) us.*/\1/p' "$tmp/out")
    echo $(((first - t0) / 1000)) >>"$tmp/first"
    echo $(((t1 - t0) / 1000)) >>"$tmp/total"
    echo "$setup" >>"$tmp/setup"
    i=$((i + 1))
done
echo "boot (bare hello, median of $RUNS runs):"
echo "  monitor exec -> guest first instruction: $(median <"$tmp/first") us"
echo "  of which monitor set-up (main -> KVM_RUN): $(median <"$tmp/setup") us"
echo "  monitor exec -> monitor exit:            $(median <"$tmp/total") us"
UKHELLO=build/uk/guests/hello.hvt
if [ -f "$UKHELLO" ]; then
    : >"$tmp/uk"
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(date +%s%N)
        "$MON" "$UKHELLO" >/dev/null 2>&1
        echo $((($(date +%s%N) - t0) / 1000)) >>"$tmp/uk"
        i=$((i + 1))
    done
    echo "  monitor exec -> exit, musl runtime hello:  $(median <"$tmp/uk") us"
fi
{ "$MON" "$HELLO" measure; "$MON" build/hvt/bare/hvt_abi measure; } 2>&1 |
    sed -n 's/^measure: /  /p' | grep -v 'first instruction' |
    sed '1i hypercall and clock (in the guest):'
echo "sizes (bytes):"
for f in "$MON" build/hvt/libhvt.a "$HELLO" build/hvt/bare/faults; do
    s=$(stat -c %s "$f")
    case "$f" in
    build/hvt/bare/*) strip -o "$tmp/s" "$f"; echo "  $f: $s ($(stat -c %s "$tmp/s") stripped)" ;;
    *) echo "  $f: $s" ;;
    esac
done
for f in build/uk/guests/*.hvt; do
    [ -f "$f" ] || continue
    strip -o "$tmp/s" "$f"
    echo "  $f: $(stat -c %s "$f") ($(stat -c %s "$tmp/s") stripped)"
done
