#!/bin/sh
# make bench, second part: the change path (issue 7's and issue 8's
# targets), zonelet beside Knot DNS where the target names Knot. Servers
# pinned to CPU 0, every client (tests/bench/update_client.c, kdig,
# dnsperf) to CPU 1; rounds alternate the servers' order; medians and
# ranges over rounds.
#
# Directory store (--zones DIR: fsync'd journal per zone, group commit)
# against Knot (its journal: journal-content changes, zonefile-sync -1,
# journal-db-mode at its default, robust) on the same zone and key:
#   upd    sequential signed UPDATEs over TCP from one client (add, then
#          delete, one A record), acknowledged per second, p50/p99, on the
#          small zone and on the 1,000,000-record zone
#   axfr   AXFR of the 1,000,000-record zone to kdig over TCP with a
#          transfer key: wall time (kdig prints into a pipe)
#   mix    zonelet, small zone: dnsperf at BENCH_RATE alone, then with the
#          update client running: CPU per query of the UDP worker threads
#          (zl-udp, /proc/PID/task/*/stat), the writer's (zl-writer) and
#          the TCP thread's CPU per update acknowledged
#   mem    zonelet, small zone: RSS at start and after BENCH_MEM_UPDATES
#          updates, with the defaults (--ixfr-history 100), with the byte
#          cap binding (--ixfr-history 100000 --ixfr-max-bytes 262144), and
#          with no cap that binds (--ixfr-history 100000 --ixfr-max-bytes
#          1 GiB), and the on-disk journal's size after the run
# Git store (--remote git://, loopback git daemon started here), zonelet:
#   git    UPDATE -> commit -> push -> answer: one client (p50, per second)
#          and 16 concurrent clients (group commit, per second), on the
#          small and the 1,000,000-record zone; start from an empty cache
#          (clone + load) beside Knot's load of the same file; the latency
#          of single UDP queries (paced, 1000/s) while a push hangs on a
#          remote that accepted the connection and never answers
#          (tests/bench/stallproxy.py in front of git daemon), against
#          the same without a push in flight
#
# Environment: BENCH_ROUNDS (3), BENCH_UPD_SECONDS (BENCH_SECONDS or 10:
# each timed run), BENCH_RATE (20000), BENCH_SMALL (1200), BENCH_BIG
# (1000000), BENCH_MEM_UPDATES (10000), BENCH_GIT (1; 0 skips the git
# store), BENCH_ONLY (the sections to run, of "upd mix mem big git"; all
# by default), BENCH_OUT (build/bench). Results: "name value" lines in
# $BENCH_OUT/updates.txt, the tables in $BENCH_OUT/updates.md.
set -eu
cd "$(dirname "$0")/../.."
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_UPD_SECONDS:-${BENCH_SECONDS:-10}}
RATE=${BENCH_RATE:-20000}
SMALL=${BENCH_SMALL:-1200}
BIG=${BENCH_BIG:-1000000}
MEMN=${BENCH_MEM_UPDATES:-10000}
GIT=${BENCH_GIT:-1}
OUT=${BENCH_OUT:-build/bench}
PY=/usr/bin/python3
LIB="$PY tests/bench/benchlib.py"
CLIENT=build/bench/update_client
HZ=$(getconf CLK_TCK)
T=$(mktemp -d "${TMPDIR:-/tmp}/zl-updbench.XXXXXX")
mkdir -p "$OUT"
RES=$OUT/updates.txt
: >"$RES"
PIDS=""

cleanup() {
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in dnsperf knotd kdig taskset; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x build/zonelet ] && [ -x "$CLIENT" ] || { echo "bench: build/zonelet or $CLIENT missing (make bench)" >&2; exit 1; }

free_port() {
    $PY -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",p)); print(p)'
}
want() { case " ${BENCH_ONLY:-upd mix mem big git} " in *" $1 "*) return 0 ;; esac; return 1; }
secret() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
now() { date +%s.%N; }
since() { $PY -c "print('%.3f' % ($(now) - $1))"; }
rec() { echo "$1 $2" >>"$RES"; }
# kv KEY LINE: the value of KEY=... in an update_client line.
kv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ticks() { $LIB tcpu "$1" "$2"; }
per() { $PY -c "print('%.2f' % ($1 / $HZ * 1e6 / max($2, 1)))"; }   # TICKS COUNT -> us each

# ---- servers ----------------------------------------------------------------

# zl_start NAME ZONE FILE [OPTIONS...]: zonelet on a copy of FILE (one
# worker, CPU 0) with the zone's update and transfer keys; sets SPID,
# SPORT, LOAD.
zl_start() {
    name=$1 zone=$2 file=$3
    shift 3
    d=$T/$name
    rm -rf "$d"; mkdir -p "$d/zones"
    cp "$file" "$d/zones/$zone"
    SPORT=$(free_port)
    _zl_launch "$d" "$zone" --zones "$d/zones" "$@"
}
_zl_launch() {
    d=$1 zone=$2
    shift 2
    taskset -c 0 build/zonelet --listen "127.0.0.1:$SPORT" --workers 1 \
        --tsig-key "bench._update.$zone:hmac-sha256:$KEY_SECRET" \
        --tsig-key "bench._transfer.$zone:hmac-sha256:$KEY_SECRET" "$@" >"$d/log" 2>&1 &
    SPID=$!
    PIDS="$PIDS $SPID"
    LOAD=$($LIB waitsoa "$SPORT" "$zone" 600)
    if [ "$LOAD" = timeout ]; then
        echo "bench: zonelet did not serve $zone:" >&2; tail -20 "$d/log" >&2; exit 1
    fi
}

# knot_start NAME ZONE FILE: Knot DNS on a copy of FILE, one worker of
# each kind, CPU 0, the same keys; sets SPID, SPORT, LOAD.
knot_start() {
    name=$1 zone=$2 file=$3
    d=$T/$name
    rm -rf "$d"; mkdir -p "$d/zones" "$d/db"
    cp "$file" "$d/zones/$zone.zone"
    SPORT=$(free_port)
    cat >"$d/knot.conf" <<EOC
server:
    rundir: "$d"
    listen: 127.0.0.1@$SPORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$d/db"
key:
  - id: bench._update.$zone.
    algorithm: hmac-sha256
    secret: $KEY_SECRET
  - id: bench._transfer.$zone.
    algorithm: hmac-sha256
    secret: $KEY_SECRET
acl:
  - id: update
    key: bench._update.$zone.
    action: [update, transfer]
  - id: transfer
    key: bench._transfer.$zone.
    action: transfer
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    serial-policy: increment
    semantic-checks: off
zone:
  - domain: $zone.
    file: $zone.zone
    acl: [update, transfer]
log:
  - target: stderr
    any: warning
EOC
    taskset -c 0 knotd -c "$d/knot.conf" >"$d/log" 2>&1 &
    SPID=$!
    PIDS="$PIDS $SPID"
    LOAD=$($LIB waitsoa "$SPORT" "$zone" 600)
    if [ "$LOAD" = timeout ]; then
        echo "bench: knot did not serve $zone:" >&2; tail -20 "$d/log" >&2; exit 1
    fi
}

stop() {
    kill -TERM "$1" 2>/dev/null || true
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# upd PORT ZONE [update_client options...]: prints update_client's line.
upd() {
    port=$1 zone=$2
    shift 2
    taskset -c 1 "$CLIENT" update --server "127.0.0.1:$port" --zone "$zone" \
        --key "bench._update.$zone:hmac-sha256:$KEY_SECRET" "$@"
}

# upd_rec PREFIX LINE: records per_s, p50, p99 (and complains about failures).
upd_rec() {
    rec "$1_per_s" "$(kv per_s "$2")"
    rec "$1_p50_ms" "$(kv p50 "$2")"
    rec "$1_p99_ms" "$(kv p99 "$2")"
    f=$(kv failed "$2")
    [ "${f:-0}" = 0 ] || echo "bench: $1: $f updates failed: $2" >&2
    printf '    %-28s %s\n' "$1" "$2"
}

# ---- zones ---------------------------------------------------------------------

KEY_SECRET=$(secret)
SZ=small.bench.test BZ=big.bench.test
mkdir -p "$T/zones"
$PY tests/bench/gen-zone.py "$SMALL" "$SZ." >"$T/zones/$SZ"
$PY tests/bench/gen-zone.py "$BIG" "$BZ." >"$T/zones/$BZ"
$LIB queries "$T/zones/$SZ" 200000 >"$T/small.queries"
echo "== the change path: $SZ ($SMALL records), $BZ ($BIG records); ${SECS}s runs, $ROUNDS rounds"
rec machine_load "$(cut -d' ' -f1 /proc/loadavg)"

# ---- updates and transfers, directory store vs Knot -----------------------------

if want upd || want mix; then
zl_start zsmall "$SZ" "$T/zones/$SZ"
zs_pid=$SPID zs_port=$SPORT
fi
if want upd; then
echo " sequential UPDATEs over TCP, one client, small zone"
knot_start ksmall "$SZ" "$T/zones/$SZ"
ks_pid=$SPID ks_port=$SPORT
r=1
while [ "$r" -le "$ROUNDS" ]; do
    order="zonelet knot"
    [ $((r % 2)) = 0 ] && order="knot zonelet"
    for s in $order; do
        if [ $s = zonelet ]; then p=$zs_port; else p=$ks_port; fi
        upd_rec "upd_small_$s" "$(upd "$p" "$SZ" --seconds "$SECS")"
    done
    r=$((r + 1))
done
stop "$ks_pid"
fi

if want mix; then
echo " queries at $RATE qps alone, then during a stream of updates (zonelet, small zone)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for phase in idle busy; do
        if [ $phase = busy ]; then
            w0=$(ticks "$zs_pid" zl-writer) t0=$(ticks "$zs_pid" zl-tcp)
            upd "$zs_port" "$SZ" --seconds "$((SECS + 1))" >"$T/mix.upd" &
            cpid=$!
            sleep 0.5
        fi
        u0=$(ticks "$zs_pid" zl-udp)
        taskset -c 1 dnsperf -s 127.0.0.1 -p "$zs_port" -d "$T/small.queries" -l "$SECS" -c 8 -T 1 \
            -q 100 -Q "$RATE" >"$T/dnsperf.out" 2>&1 || true
        u1=$(ticks "$zs_pid" zl-udp)
        q=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$T/dnsperf.out")
        us=$(per "$((u1 - u0))" "${q:-0}")
        rec "mix_udp_us_$phase" "$us"
        line=""
        if [ $phase = busy ]; then
            wait "$cpid" || true
            line=$(cat "$T/mix.upd")
            w1=$(ticks "$zs_pid" zl-writer) t1=$(ticks "$zs_pid" zl-tcp)
            ok=$(kv ok "$line")
            rec mix_writer_us_per_update "$(per "$((w1 - w0))" "${ok:-0}")"
            rec mix_tcp_us_per_update "$(per "$((t1 - t0))" "${ok:-0}")"
            rec mix_updates_per_s "$(kv per_s "$line")"
        fi
        printf '    %-5s %8s queries, UDP workers %6s us/query %s\n' $phase "${q:-0}" "$us" \
            "${line:+ (updates: $line)}"
    done
    r=$((r + 1))
done
fi
want upd || want mix && stop "$zs_pid"

if want mem; then
echo " memory: $MEMN updates on the small zone"
for cap in default capped uncapped; do
    case $cap in
    default) opts="" ;;
    capped) opts="--ixfr-history 100000 --ixfr-max-bytes 262144" ;;
    uncapped) opts="--ixfr-history 100000 --ixfr-max-bytes 1073741824" ;;
    esac
    # shellcheck disable=SC2086
    zl_start "zmem-$cap" "$SZ" "$T/zones/$SZ" $opts
    sleep 1
    rss0=$($LIB rss "$SPID")
    line=$(upd "$SPORT" "$SZ" --count "$MEMN" --seconds 600)
    # The journal file as the last update left it (the zone file is
    # rewritten and the journal trimmed once it passes 1 MiB, and a
    # second after the last change).
    jb=$(stat -c %s "$T/zmem-$cap/zones/.zonelet/$SZ.journal" 2>/dev/null || echo 0)
    sleep 2
    rss1=$($LIB rss "$SPID")
    rec "mem_${cap}_rss0_kib" "$rss0"
    rec "mem_${cap}_rss1_kib" "$rss1"
    rec "mem_${cap}_delta_kib" "$((rss1 - rss0))"
    rec "mem_${cap}_journal_file_bytes" "$jb"
    printf '    %-9s RSS %s -> %s KiB (%+d KiB), journal file %s octets; %s\n' $cap "$rss0" "$rss1" \
        "$((rss1 - rss0))" "$jb" "$line"
    stop "$SPID"
done
fi

if want big; then
echo " the $BIG-record zone: load, AXFR to kdig, sequential UPDATEs"
zl_start zbig "$BZ" "$T/zones/$BZ"
zb_pid=$SPID zb_port=$SPORT
rec load_big_zonelet_dir_s "$LOAD"
knot_start kbig "$BZ" "$T/zones/$BZ"
kb_pid=$SPID kb_port=$SPORT
rec load_big_knot_s "$LOAD"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    order="zonelet knot"
    [ $((r % 2)) = 0 ] && order="knot zonelet"
    for s in $order; do
        if [ $s = zonelet ]; then p=$zb_port; else p=$kb_port; fi
        c0=$($LIB cpu "$([ $s = zonelet ] && echo "$zb_pid" || echo "$kb_pid")")
        t0=$(now)
        taskset -c 1 kdig -y "hmac-sha256:bench._transfer.$BZ:$KEY_SECRET" @127.0.0.1 -p "$p" +tcp \
            "$BZ" AXFR | tail -4 >"$T/axfr.out"
        wall=$(since "$t0")
        c1=$($LIB cpu "$([ $s = zonelet ] && echo "$zb_pid" || echo "$kb_pid")")
        rec "axfr_big_${s}_cpu_ms" "$(((c1 - c0) * 1000 / HZ))"
        got=$(sed -n 's/.*(\([0-9]*\) messages, \([0-9]*\) records).*/\2 records in \1 messages/p' "$T/axfr.out")
        rec "axfr_big_${s}_s" "$wall"
        printf '    AXFR %-8s %7s s, server CPU %s ms  %s\n' $s "$wall" "$(((c1 - c0) * 1000 / HZ))" "$got"
        case $got in "") echo "bench: AXFR from $s incomplete:" >&2; cat "$T/axfr.out" >&2 ;; esac
    done
    for s in $order; do
        if [ $s = zonelet ]; then p=$zb_port; else p=$kb_port; fi
        upd_rec "upd_big_$s" "$(upd "$p" "$BZ" --seconds "$SECS")"
    done
    r=$((r + 1))
done
stop "$zb_pid"
stop "$kb_pid"
fi

# ---- the git store ---------------------------------------------------------------

if want git && [ "$GIT" = 1 ] && command -v git >/dev/null; then
    echo " git store: loopback git daemon"
    export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org
    export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.org
    G=$T/git
    mkdir -p "$G/srv"
    for z in $SZ $BZ; do
        git init -q --bare -b main "$G/srv/$z.git"
        git clone -q "$G/srv/$z.git" "$G/w-$z" 2>/dev/null
        cp "$T/zones/$z" "$G/w-$z/$z"
        (cd "$G/w-$z" && git add -A && git commit -qm init && git push -q origin main)
    done
    # git-daemon itself, not `git daemon`: the git wrapper runs it as a
    # child, which would outlive the wrapper's PID when the bench stops it.
    GITD="$(git --exec-path)/git-daemon"
    GPORT=$(free_port)
    "$GITD" --reuseaddr --listen=127.0.0.1 --port="$GPORT" --base-path="$G/srv" --export-all \
        --enable=receive-pack --informative-errors >"$G/daemon.log" 2>&1 &
    PIDS="$PIDS $!"
    $PY tests/bench/stallproxy.py "$GPORT" "$G/stall" >"$G/proxy.port" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$G/proxy.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    PPORT=$(head -1 "$G/proxy.port")
    STALL=$((SECS < 8 ? SECS : 8))

    # zl_git NAME ZONE [OPTIONS]: zonelet on the remote's zone, empty cache.
    zl_git() {
        name=$1 zone=$2
        shift 2
        rm -rf "$G/$name"; mkdir -p "$G/$name"
        SPORT=$(free_port)
        _zl_launch "$G/$name" "$zone" --remote "git://127.0.0.1:$PPORT/$zone.git" \
            --cache "$G/$name/cache" "$@"
    }

    zl_git gsmall "$SZ" --push-timeout "$((STALL + 5))"
    gs_pid=$SPID gs_port=$SPORT
    rec load_small_zonelet_git_s "$LOAD"
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        upd_rec git_small_1 "$(upd "$gs_port" "$SZ" --seconds "$SECS")"
        upd_rec git_small_16 "$(upd "$gs_port" "$SZ" --seconds "$SECS" --clients 16)"
        for phase in idle stalled; do
            if [ $phase = stalled ]; then
                touch "$G/stall"
                upd "$gs_port" "$SZ" --count 1 --seconds 60 >"$T/stall.upd" &
                cpid=$!
                sleep 0.5
            fi
            line=$(taskset -c 1 "$CLIENT" probe --server "127.0.0.1:$gs_port" --qname "$SZ" \
                --qtype SOA --rate 1000 --seconds "$STALL")
            rec "git_query_${phase}_p50_ms" "$(kv p50 "$line")"
            rec "git_query_${phase}_p99_ms" "$(kv p99 "$line")"
            printf '    queries, push %-8s %s\n' "$([ $phase = idle ] && echo none || echo stalled)" "$line"
            if [ $phase = stalled ]; then
                wait "$cpid" || true
                rm -f "$G/stall"
                printf '    the update whose push stalled: %s\n' "$(cat "$T/stall.upd")"
            fi
        done
        r=$((r + 1))
    done
    stop "$gs_pid"
    $LIB pushlog "$G/gsmall/log" git_small >>"$RES"

    # The remote's own floor: the git CLI pushing a one-line change of
    # the same small zone to the same daemon, ten times.
    git clone -q "git://127.0.0.1:$GPORT/$SZ.git" "$G/w-cli" 2>/dev/null
    for i in 1 2 3 4 5 6 7 8 9 10; do
        echo "cli$i 300 IN A 192.0.2.$i" >>"$G/w-cli/$SZ"
        (cd "$G/w-cli" && git commit -qam "cli $i")
        t0=$(now)
        (cd "$G/w-cli" && git push -q origin main 2>/dev/null)
        echo "$(since "$t0")"
    done >"$G/cli.times"
    cli=$($PY -c "import statistics,sys; print('%.1f' % (1e3 * statistics.median(float(l) for l in open(sys.argv[1]))))" "$G/cli.times")
    rec git_cli_push_p50_ms "$cli"
    printf '    git push (the git CLI, same daemon, one-line change): p50 %s ms\n' "$cli"

    # The remote's parts of a push: a second git daemon on the same
    # repositories with GIT_TRACE2_EVENT (which costs a little), twenty
    # single updates from a zonelet of its own.
    TPORT=$(free_port)
    GIT_TRACE2_EVENT=$G/trace2 "$GITD" --reuseaddr --listen=127.0.0.1 --port="$TPORT" \
        --base-path="$G/srv" --export-all --enable=receive-pack >"$G/daemon-t.log" 2>&1 &
    tpid=$!
    PIDS="$PIDS $tpid"
    sleep 0.3
    rm -rf "$G/gtrace"; mkdir -p "$G/gtrace"
    SPORT=$(free_port)
    _zl_launch "$G/gtrace" "$SZ" --remote "git://127.0.0.1:$TPORT/$SZ.git" --cache "$G/gtrace/cache"
    line=$(upd "$SPORT" "$SZ" --count 20 --seconds 60)
    stop "$SPID"
    stop "$tpid"
    $LIB trace2 "$G/trace2" git_remote >>"$RES"
    printf '    traced remote: %s; %s\n' "$line" "$($LIB trace2 "$G/trace2" git_remote | tr '\n' ' ')"

    zl_git gbig "$BZ"
    gb_pid=$SPID gb_port=$SPORT
    rec load_big_zonelet_git_s "$LOAD"
    printf "    %s records from the remote, empty cache: serving after %s s\n" "$BIG" "$LOAD"
    upd_rec git_big_1 "$(upd "$gb_port" "$BZ" --count 5 --seconds $((6 * SECS)))"
    upd_rec git_big_16 "$(upd "$gb_port" "$BZ" --seconds $((2 * SECS)) --clients 16)"
    stop "$gb_pid"
    $LIB pushlog "$G/gbig/log" git_big >>"$RES"
    grep -h "git: pushed" "$G/gsmall/log" "$G/gbig/log" | tail -3 | sed 's/^/    log: /'
fi

echo
$LIB updtable "$RES" | tee "$OUT/updates.md"
