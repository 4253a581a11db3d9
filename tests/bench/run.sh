#!/bin/sh
# make bench: dnsperf against zonelet, Knot DNS and NSD serving the same
# zones on 127.0.0.1 (high ports), interleaved rounds, medians, ratios to
# Knot. Zones: a realistic ~1,000-name zone (tests/bench/gen-zone.py) and
# a 1,000,000-record zone, each queried with a realistic mix (hits,
# CNAMEs, referrals, NXDOMAIN, NODATA; tests/bench/benchlib.py).
#
# Measured per server and zone:
#   max QPS, one worker each (server pinned to CPU 0, dnsperf to CPU 1)
#   server CPU µs per answered query, saturated and at a fixed rate
#     (utime+stime of the server's processes / queries completed)
#   max QPS with each server's default threading (server not pinned)
#   RSS after the runs (largest process of the server), and load time
#     (start to first authoritative SOA answer)
# Environment: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_RATE (20000),
# BENCH_SMALL (1200 records, ~1,000 names), BENCH_BIG (1000000),
# BENCH_OUT (build/bench), BENCH_NOCOALESCE (1: zonelet is also run,
# as "zonelet-nc", with --udp-coalesce-us 0, coalescing off, in the
# one-worker runs; 0 skips that row; zonelet's default is adaptive
# coalescing with 100 us).
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_RATE:-20000}
SMALL=${BENCH_SMALL:-1200}
BIG=${BENCH_BIG:-1000000}
OUT=${BENCH_OUT:-build/bench}
NOCOALESCE=${BENCH_NOCOALESCE:-1}
PY=$(command -v /usr/bin/python3 || command -v python3)
LIB="$PY tests/bench/benchlib.py"
HZ=$(getconf CLK_TCK)
ROOT=$(pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/zl-bench.XXXXXX")
mkdir -p "$OUT"
RES=$OUT/results.txt
: >"$RES"
PIDS=""

cleanup() {
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in dnsperf knotd knotc nsd taskset; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x build/zonelet ] || { echo "bench: build/zonelet missing (make)" >&2; exit 1; }

free_port() {
    $PY -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",p)); print(p)'
}

# Configuration files of Knot and NSD for zone $1 (file $2) on port $3,
# directory $4; $5 = 1 for one worker, else each server's default.
knot_conf() {
    workers=""
    [ "$5" = 1 ] && workers="    udp-workers: 1
    tcp-workers: 1
    background-workers: 1"
    cat <<EOC
server:
    rundir: "$4"
    listen: 127.0.0.1@$3
$workers
database:
    storage: "$4/db"
template:
  - id: default
    storage: "$(dirname "$2")"
    journal-content: none
    zonefile-sync: -1
    semantic-checks: off
zone:
  - domain: $1
    file: "$2"
log:
  - target: stderr
    any: warning
EOC
}

nsd_conf() {
    count=""
    [ "$5" = 1 ] && count="    server-count: 1"
    cat <<EOC
server:
    ip-address: 127.0.0.1@$3
$count
    username: ""
    chroot: ""
    database: ""
    zonelistfile: "$4/zone.list"
    xfrdfile: "$4/xfrd.state"
    pidfile: "$4/nsd.pid"
    logfile: "$4/nsd.log"
    rrl-ratelimit: 0
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: $1
    zonefile: "$2"
EOC
}

# start SERVER ZONE FILE MODE: starts one server, sets SPID and SPORT and
# records its load time. MODE 1 = one worker, pinned to CPU 0.
start() {
    srv=$1 zone=$2 file=$3 mode=$4
    SPORT=$(free_port)
    dir=$T/$srv-$mode
    rm -rf "$dir"; mkdir -p "$dir/db"
    pin=""
    [ "$mode" = 1 ] && pin="taskset -c 0"
    case $srv in
    zonelet|zonelet-nc)
        mkdir -p "$dir/zones"; ln -s "$file" "$dir/zones/$zone"
        w=""; [ "$mode" = 1 ] && w="--workers 1"
        [ "$srv" = zonelet-nc ] && w="$w --udp-coalesce-us 0"
        $pin build/zonelet --zones "$dir/zones" --listen "127.0.0.1:$SPORT" $w >"$dir/log" 2>&1 &
        ;;
    knot)
        knot_conf "$zone" "$file" "$SPORT" "$dir" "$mode" >"$dir/knot.conf"
        $pin knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
        ;;
    nsd)
        nsd_conf "$zone" "$file" "$SPORT" "$dir" "$mode" >"$dir/nsd.conf"
        $pin nsd -d -c "$dir/nsd.conf" >"$dir/log" 2>&1 &
        ;;
    esac
    SPID=$!
    PIDS="$PIDS $SPID"
    load=$($LIB waitsoa "$SPORT" "$zone" 120)
    if [ "$load" = timeout ]; then
        echo "bench: $srv did not serve $zone:" >&2; cat "$dir/log" >&2; exit 1
    fi
    [ "$mode" = 1 ] && [ "$srv" != zonelet-nc ] && echo "$zlabel $srv load_s $load" >>"$RES"
    echo "  $srv ($([ "$mode" = 1 ] && echo '1 worker' || echo default)): serving after $load s, pid $SPID, port $SPORT"
}

stop() {
    kill -TERM "$1" 2>/dev/null || true
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# perf SERVER PID PORT QUERIES METRIC_QPS METRIC_US [dnsperf args]: one run.
perf() {
    srv=$1 pid=$2 port=$3 qf=$4 mq=$5 mu=$6; shift 6
    c0=$($LIB cpu "$pid")
    taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$qf" -l "$SECS" -c 8 -T 1 -q 100 "$@" \
        >"$T/dnsperf.out" 2>&1 || true
    c1=$($LIB cpu "$pid")
    done_q=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$T/dnsperf.out")
    qps=$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$T/dnsperf.out")
    lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$T/dnsperf.out")
    if [ -z "$done_q" ] || [ "$done_q" -eq 0 ]; then
        echo "bench: dnsperf against $srv failed:" >&2; cat "$T/dnsperf.out" >&2; return 0
    fi
    us=$($PY -c "print('%.3f' % (($c1 - $c0) / $HZ * 1e6 / $done_q))")
    [ -n "$mq" ] && echo "$zlabel $srv $mq $qps" >>"$RES"
    echo "$zlabel $srv $mu $us" >>"$RES"
    printf '    %-8s %-10s %9s qps %7s us/query (%s lost)\n' "$srv" "$mu" "$qps" "$us" "$lost"
}

# bench_mode ZONE FILE QUERIES MODE: starts the servers, runs the
# interleaved rounds, records RSS, stops them.
bench_mode() {
    zone=$1 file=$2 qf=$3 mode=$4
    servers="zonelet knot nsd"
    [ "$mode" = 1 ] && [ "$NOCOALESCE" = 1 ] && servers="$servers zonelet-nc"
    for s in $servers; do
        start "$s" "$zone" "$file" "$mode"
        eval "pid_$(echo $s | tr - _)=$SPID port_$(echo $s | tr - _)=$SPORT"
    done
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        echo "  round $r/$ROUNDS"
        # Rotate the order each round so no server always runs first.
        order=$servers k=1
        while [ $k -lt "$r" ]; do order="${order#* } ${order%% *}"; k=$((k + 1)); done
        for s in $order; do
            v=$(echo $s | tr - _)
            eval "p=\$pid_$v port=\$port_$v"
            if [ "$mode" = 1 ]; then
                perf "$s" "$p" "$port" "$qf" qps_1w us_sat
                perf "$s" "$p" "$port" "$qf" "" us_fixed -Q "$RATE"
            else
                perf "$s" "$p" "$port" "$qf" qps_default us_default
            fi
        done
        r=$((r + 1))
    done
    for s in $servers; do
        eval "p=\$pid_$(echo $s | tr - _)"
        if [ "$mode" = 1 ]; then
            kib=$($LIB rss "$p")
            echo "$zlabel $s rss_mib $($PY -c "print('%.1f' % ($kib / 1024))")" >>"$RES"
        fi
        stop "$p"
    done
}

for which in small big; do
    if [ $which = small ]; then n=$SMALL; zone=small.bench.test; else n=$BIG; zone=big.bench.test; fi
    zlabel="$which($n)"
    file=$T/zones/$zone
    mkdir -p "$T/zones"
    $PY tests/bench/gen-zone.py "$n" "$zone." >"$file"
    $LIB queries "$file" 200000 >"$T/$which.queries"
    echo "== $zone: $n records, $(grep -v '^\$' "$file" | awk '{print $1}' | sort -u | wc -l) names"
    echo " one worker each, server on CPU 0, dnsperf on CPU 1 (${SECS}s runs, fixed rate $RATE qps)"
    bench_mode "$zone" "$file" "$T/$which.queries" 1
    echo " default threading, server not pinned, dnsperf on CPU 1"
    bench_mode "$zone" "$file" "$T/$which.queries" default
done

echo
$LIB table "$RES" | tee "$OUT/table.md"
