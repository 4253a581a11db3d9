# Helpers for the zonelet system tests (sourced by tests/system/test_*.sh).
# Each test starts its own build/zonelet on 127.0.0.1 and ::1 with a
# random free high port and a temporary zone directory, talks TAP, and
# stops the server by PID (never by name).
set -u
cd "$(dirname "$0")/../.." || exit 2
# ZL_VM=virtio|hvt: the server is the appliance in a virtual machine,
# `zonelet vm --target $ZL_VM` (tests/system/zonelet-vm.sh); the tests
# skip, with the reason, what cannot hold there (on_vm below).
if [ -n "${ZL_VM:-}" ] && [ -z "${ZL_BIN:-}" ]; then
    ZL_BIN=tests/system/zonelet-vm.sh
fi
# The sanitized build (mk/server.mk) unless build/zonelet is newer.
if [ -z "${ZL_BIN:-}" ]; then
    ZL_BIN=build/zonelet
    [ -x build/zonelet-asan ] && ! [ build/zonelet -nt build/zonelet-asan ] && ZL_BIN=build/zonelet-asan
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ZL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zl-system.XXXXXX")
ZL_ZONES=$ZL_TMP/zones
ZL_LOG=$ZL_TMP/server.log
ZL_PID=
ZL_PY=$(command -v /usr/bin/python3 || command -v python3)
mkdir -p "$ZL_ZONES"
_tap_n=0
_tap_fail=0

zl_cleanup() {
    if [ -n "$ZL_PID" ] && kill -0 "$ZL_PID" 2>/dev/null; then
        kill -KILL "$ZL_PID" 2>/dev/null
        wait "$ZL_PID" 2>/dev/null
    fi
    rm -rf "$ZL_TMP"
}
trap zl_cleanup EXIT
trap 'exit 1' INT TERM

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
# on_vm: true when the server runs in a virtual machine (ZL_VM). There
# the guest sees every client as QEMU's gateway (ZL_CLIENT_RE: the
# address a log line names), takes no signals (zonelet vm answers SIGTERM
# and SIGINT by stopping it, and passes SIGHUP on to nobody), and its
# zones directory is a copy made at start.
on_vm() { [ -n "${ZL_VM:-}" ]; }
# (hvt: the host's end of the TAP zonelet vm made, 10.213.X.Y).
if [ "${ZL_VM:-}" = hvt ]; then ZL_CLIENT_RE='10\.213\.[0-9]+\.[0-9]+'
elif on_vm; then ZL_CLIENT_RE='10\.0\.2\.2'; else ZL_CLIENT_RE='127\.0\.0\.1'; fi
not_ok() {
    _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1))
    echo "not ok $_tap_n - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
    return 0
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }

# check NAME EXPECTED ACTUAL: equality of two strings.
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: [$2]
got:      [$3]"; fi
}
# check_match NAME REGEX TEXT: TEXT matches the extended regex.
check_match() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "no line matching /$2/ in:
$3"; fi
}
check_nomatch() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then not_ok "$1" "unexpected /$2/ in:
$3"; else ok "$1"; fi
}

tap_done() {
    echo "1..$_tap_n"
    [ "$_tap_fail" -eq 0 ]
    exit $?
}

need_tools() {
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "ok 1 - $(basename "$0") # SKIP $t not installed (scripts/deps.sh test)"
            echo "1..1"
            exit 0
        fi
    done
    echo "# server: $ZL_BIN"
    if [ ! -x "$ZL_BIN" ]; then
        echo "not ok 1 - $ZL_BIN not built (make)"
        exit 1
    fi
}

# A port free for TCP and UDP on 127.0.0.1 and ::1 (if ::1 exists).
zl_free_port() {
    "$ZL_PY" - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 59999)
    socks = []
    try:
        for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                try:
                    s = socket.socket(fam, kind)
                except OSError:
                    continue
                socks.append(s)
                try:
                    s.bind((addr, p))
                except OSError as e:
                    if fam == socket.AF_INET6 and e.errno == 99:  # no ::1 here
                        continue
                    raise
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

zl_have_ipv6() {
    "$ZL_PY" -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null
}

# zl_start [OPTIONS...]: serves $ZL_ZONES on 127.0.0.1:$ZL_PORT (and
# [::1]:$ZL_PORT when IPv6 is there; only 0.0.0.0:$ZL_PORT when
# ZL_LISTEN_ANY is set); waits for "ready" (at most 20 s). ZL_FIXED_PORT
# sets the port (53 inside a test's own network namespace).
zl_start() {
    ZL_PORT=${ZL_FIXED_PORT:-$(zl_free_port)}
    if [ -n "${ZL_LISTEN_ANY:-}" ]; then
        set -- --zones "$ZL_ZONES" --listen "0.0.0.0:$ZL_PORT" "$@"
    else
        set -- --zones "$ZL_ZONES" --listen "127.0.0.1:$ZL_PORT" "$@"
        if zl_have_ipv6; then set -- "$@" --listen "[::1]:$ZL_PORT"; fi
    fi
    : >"$ZL_LOG"
    "$ZL_BIN" "$@" >>"$ZL_LOG" 2>&1 &
    ZL_PID=$!
    i=0
    while [ $i -lt 200 ]; do
        grep -q 'zonelet: ready' "$ZL_LOG" && return 0
        kill -0 "$ZL_PID" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    echo "# server did not start:"; sed 's/^/#   /' "$ZL_LOG"
    return 1
}

# True while pid runs (a zombie child counts as gone).
zl_alive() {
    [ -e "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# zl_stop: SIGTERM, wait at most 10 s; sets ZL_STATUS (exit status).
zl_stop() {
    ZL_STATUS=timeout
    [ -n "$ZL_PID" ] || return 1
    kill -TERM "$ZL_PID" 2>/dev/null
    i=0
    while [ $i -lt 100 ] && zl_alive "$ZL_PID"; do sleep 0.1; i=$((i + 1)); done
    if zl_alive "$ZL_PID"; then
        kill -KILL "$ZL_PID"; wait "$ZL_PID"; ZL_PID=; return 1
    fi
    wait "$ZL_PID"; ZL_STATUS=$?
    ZL_PID=
    if grep -qE 'Sanitizer|runtime error' "$ZL_LOG"; then
        not_ok "no sanitizer reports from the server" "$(grep -E -A5 'Sanitizer|runtime error' "$ZL_LOG" | head -20)"
    fi
}

# q ARGS...: dig at the server over IPv4 (one try, 2 s).
q() { dig @127.0.0.1 -p "$ZL_PORT" +norec +time=2 +tries=1 "$@" 2>&1; }
# qs NAME TYPE: the answer section's data, sorted, one line each.
qs() { q +short "$@" | sort; }
# status NAME TYPE [DIG ARGS]: the header status (NOERROR, NXDOMAIN...).
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# flags NAME TYPE [DIG ARGS]: the header flags ("qr aa").
flags() { q "$@" | sed -n 's/.*flags: \([a-z ]*\);.*/\1/p' | head -1; }

# A realistic zone for the tests: apex, hosts, CNAME, wildcard, MX with
# in-zone target, a delegation with glue, and an RRset too big for UDP.
zl_write_zone() {
    serial=${2:-2026113001}
    {
        echo "\$ORIGIN example.test."
        echo "\$TTL 3600"
        echo "@ IN SOA ns1.example.test. hostmaster.example.test. $serial 7200 3600 1209600 300"
        echo "@ IN NS ns1"
        echo "@ IN NS ns2"
        echo "@ IN MX 10 mail"
        echo "ns1 IN A 192.0.2.1"
        echo "ns2 IN AAAA 2001:db8::2"
        echo "mail IN A 192.0.2.25"
        echo "www IN A 192.0.2.10"
        echo "www IN AAAA 2001:db8::10"
        echo "alias IN CNAME www"
        echo "chain IN CNAME alias"
        echo "*.wild IN A 192.0.2.99"
        echo "*.wild IN TXT \"wildcard\""
        echo "sub IN NS ns.sub"
        echo "sub IN NS ns.elsewhere.example."
        echo "ns.sub IN A 192.0.2.53"
        i=0
        while [ $i -lt 30 ]; do
            echo "big IN TXT \"record $i padding padding padding padding padding padding padding\""
            i=$((i + 1))
        done
    } >"$1"
}
