#!/bin/sh
# Load time and memory of an N-record zone in zonelet and in Knot DNS.
#
# usage: tests/bench/zone-measure.sh [N [ROUNDS]]   (1000000 records, 3 rounds)
#
# zonelet: build/bench/zone_load (zone_load_file = parse + build, as the
# server loads a zone), which prints wall and CPU time and VmRSS after the
# load. Knot DNS (knotd from Debian) runs with its own config and rundir
# in a temp dir, listening on 127.0.0.1 at a high port; the load is done
# when its log says "loaded"; load time is from start to that line, RSS
# is VmRSS of knotd after the load has settled, CPU is knotd's utime+stime.
# Rounds alternate between the two; medians are printed last.
set -eu
cd "$(dirname "$0")/../.."
N=${1:-1000000}
ROUNDS=${2:-3}
ORIGIN=bench.test.
mkdir -p build/bench
ZONE=build/bench/zone-$N.zone
[ -s "$ZONE" ] || /usr/bin/python3 tests/bench/gen-zone.py "$N" "$ORIGIN" >"$ZONE"
[ -x build/bench/zone_load ] || make build/bench/zone_load >/dev/null
command -v knotd >/dev/null || { echo "zone-measure: knotd missing (scripts/deps.sh bench)"; exit 1; }

T=$(mktemp -d /tmp/zl-knot.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
PORT=$((20000 + $$ % 20000))
cp "$ZONE" "$T/zone"
cat >"$T/knot.conf" <<CONF
server:
    rundir: "$T"
    listen: 127.0.0.1@$PORT
database:
    storage: "$T/db"
template:
  - id: default
    storage: "$T"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $ORIGIN
    file: "$T/zone"
log:
  - target: $T/knot.log
    any: info
CONF
TCK=$(getconf CLK_TCK)

now() { date +%s.%N; }

# One knotd start: prints "load_s=... cpu_s=... rss_mib=...".
knot_round() {
    rm -rf "$T/db" "$T/knot.log" "$T"/*.pid
    t0=$(now)
    knotd -c "$T/knot.conf" >/dev/null 2>&1 &
    PID=$!
    i=0
    while ! grep -q "\] loaded, serial" "$T/knot.log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 6000 ] || ! kill -0 "$PID" 2>/dev/null; then
            echo "zone-measure: knotd did not load the zone" >&2
            cat "$T/knot.log" >&2 || true
            exit 1
        fi
        sleep 0.02
    done
    t1=$(now)
    cpu=$(awk -v t="$TCK" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$PID/stat")
    sleep 1 # let the loader threads free what they free
    rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    echo "load_s=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }') cpu_s=$cpu rss_mib=$rss"
}

field() { sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "zone: $ZONE ($N records), $ROUNDS rounds"
: >"$T/zl" && : >"$T/kn"
r=1
while [ $r -le "$ROUNDS" ]; do
    zl=$(build/bench/zone_load "$ZONE" "$ORIGIN")
    echo "round $r zonelet: $zl"
    echo " $zl" >>"$T/zl"
    kn=$(knot_round)
    echo "round $r knot:    $kn"
    echo " $kn" >>"$T/kn"
    r=$((r + 1))
done
zl_load=$(field load_s <"$T/zl" | median)
zl_cpu=$(field load_cpu_s <"$T/zl" | median)
zl_rss=$(field rss_mib <"$T/zl" | median)
kn_load=$(field load_s <"$T/kn" | median)
kn_cpu=$(field cpu_s <"$T/kn" | median)
kn_rss=$(field rss_mib <"$T/kn" | median)
echo "median zonelet: load ${zl_load} s wall, ${zl_cpu} s CPU, RSS ${zl_rss} MiB"
echo "median knot:    load ${kn_load} s wall, ${kn_cpu} s CPU, RSS ${kn_rss} MiB"
echo "ratio zonelet/knot: load wall $(ratio "$zl_load" "$kn_load"), CPU $(ratio "$zl_cpu" "$kn_cpu")," \
    "RSS $(ratio "$zl_rss" "$kn_rss")"
