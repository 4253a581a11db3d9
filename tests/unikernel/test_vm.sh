#!/bin/sh
# zonelet vm --target virtio (QEMU: KVM where /dev/kvm works, TCG here):
# the hosted system suites test_serve, test_tcp, test_malformed and the
# Knot differential run against the appliance (ZL_VM=virtio, the same
# answers and allow list; their few skips say why), then faults: too
# little guest memory, a zone that does not fit, a malformed-frame flood
# and TCP connections reset mid-message (raw frames on a QEMU socket
# netdev, tests/unikernel/frames.py), SIGTERM and a killed launcher stop
# QEMU. --target hvt runs the same suites where /dev/kvm works (as root:
# it needs a TAP). Every wait is bounded; processes stopped by PID.
. "$(dirname "$0")/../system/lib.sh"
need_tools dig qemu-system-x86_64
CLIENT="$ZL_PY tests/system/dnsclient.py"
SUITE_TIMEOUT=${ZL_VM_SUITE_TIMEOUT:-240}

# The appliance and the launcher (cached after the first build); a build
# failure is one failed test, not a broken `make test`.
if ! make -s TARGET=virtio build/uk/zonelet.virtio build/zonelet-virtio >"$ZL_TMP/build.log" 2>&1; then
    not_ok "the virtio appliance builds (make TARGET=virtio appliance)" "$(tail -20 "$ZL_TMP/build.log")"
    tap_done
fi
ok "the virtio appliance builds"

# run_suite TARGET NAME: tests/system/test_NAME.sh with ZL_VM=TARGET; its
# results become ours ("vm TARGET NAME: ..."), its skips stay skips.
run_suite() {
    log="$ZL_TMP/suite-$1-$2.log"
    ZL_VM=$1 timeout -k 5 "$SUITE_TIMEOUT" sh "tests/system/test_$2.sh" >"$log" 2>&1
    rc=$?
    awk -v n="$_tap_n" -v p="vm $1 $2: " '
        /^ok [0-9]+ - / { sub(/^ok [0-9]+ - /, ""); print "ok " ++n " - " p $0; next }
        /^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print "not ok " ++n " - " p $0; next }
        /^#   / { print }
    ' "$log"
    got=$(grep -cE '^ok [0-9]+ - ' "$log")
    bad=$(grep -cE '^not ok [0-9]+ - ' "$log")
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | tail -1)
    _tap_n=$((_tap_n + got + bad)); _tap_fail=$((_tap_fail + bad))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        not_ok "vm $1 $2: finished within ${SUITE_TIMEOUT} s" "$(tail -20 "$log")"
    elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        not_ok "vm $1 $2: exit status 0" "status $rc: $(tail -20 "$log")"
    elif [ "${plan:-x}" != "$((got + bad))" ]; then
        not_ok "vm $1 $2: every planned test reported" "plan ${plan:-none}, reported $((got + bad))"
    fi
}

for s in serve tcp malformed differential; do
    run_suite virtio "$s"
done

# ---- the launcher itself ----
ZL_BIN=tests/system/zonelet-vm.sh
export ZL_VM=virtio
zl_write_zone "$ZL_ZONES/example.test"
zl_start --workers 1 || { not_ok "zonelet vm starts"; tap_done; }
check "a TCP client pipelining 1,000 queries gets 1,000 answers" "ok 1000" \
    "$($CLIENT "$ZL_PORT" pipeline 1000 www.example.test)"
# The monitor's processes: zonelet vm -> zonelet-virtio (sh) -> QEMU.
descendants() {
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; descendants "$c"; done
}
kids=$(descendants "$ZL_PID")
check_match "zonelet vm runs QEMU" "qemu-system" "$(for k in $kids; do cat /proc/"$k"/comm; done 2>/dev/null)"
zl_stop
check "SIGTERM: zonelet vm exits 0" "0" "$ZL_STATUS"
left=""; for k in $kids; do zl_alive "$k" && left="$left $k"; done
check "SIGTERM: QEMU and the monitor's shell are gone" "" "$left"

zl_start --workers 1 || { not_ok "zonelet vm restarts"; tap_done; }
kids=$(descendants "$ZL_PID")
check_match "zonelet vm (restarted) runs QEMU" "qemu-system" "$(for k in $kids; do cat /proc/"$k"/comm; done 2>/dev/null)"
kill -KILL "$ZL_PID"; wait "$ZL_PID" 2>/dev/null; ZL_PID=
i=0; left=x
while [ $i -lt 100 ] && [ -n "$left" ]; do
    left=""; for k in $kids; do zl_alive "$k" && left="$left $k"; done
    [ -n "$left" ] && sleep 0.1; i=$((i + 1))
done
check "zonelet vm killed (SIGKILL): QEMU stops by itself within 10 s" "" "$left"
for k in $left; do kill -KILL "$k" 2>/dev/null; done

# The DNS-only image (directory store, no git, no ACME client).
if make -s TARGET=virtio build/uk/zonelet-dns.virtio >"$ZL_TMP/build-dns.log" 2>&1; then
    ZL_VM_ARGS="--image build/uk/zonelet-dns.virtio" zl_start --workers 1 ||
        not_ok "zonelet-dns starts"
    check "zonelet-dns.virtio serves the zones" "192.0.2.10" "$(qs www.example.test A)"
    check "zonelet-dns.virtio over TCP" "192.0.2.10" "$(q www.example.test A +tcp +short)"
    zl_stop
    r=$(timeout -k 5 60 "$ZL_BIN" --image build/uk/zonelet-dns.virtio --zones "$ZL_ZONES" \
        --listen "127.0.0.1:$(zl_free_port)" --acme-directory https://acme.test/dir 2>&1)
    check_match "zonelet-dns.virtio refuses --acme-directory, saying why" \
        'acme\.test/dir: this image has no ACME client' "$r"
else
    not_ok "the DNS-only appliance builds" "$(tail -20 "$ZL_TMP/build-dns.log")"
fi

# ---- memory ----
big="$ZL_TMP/big"
mkdir -p "$big"
cp "$ZL_ZONES/example.test" "$big/"
$ZL_PY - "$big/big.test" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("$ORIGIN big.test.\n$TTL 300\n@ SOA ns1 h 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n")
    for i in range(150000):
        f.write("h%d A 10.%d.%d.%d\n" % (i, i >> 16, (i >> 8) & 255, i & 255))
PY
# 8 MiB cannot hold the 3 MB zone file unpacked from the block image.
timeout -k 5 60 "$ZL_BIN" --mem 8 --boot-timeout 40 --zones "$big" \
    --listen "127.0.0.1:$(zl_free_port)" >"$ZL_TMP/mem8.log" 2>&1
rc=$?
case "$rc" in
0|124|137) not_ok "--mem 8 with a 3 MB zone: stops by itself with a failure status" "status $rc: $(tail -5 "$ZL_TMP/mem8.log")" ;;
*) ok "--mem 8 with a 3 MB zone: stops by itself with a failure status ($rc)" ;;
esac
check_match "--mem 8: the report names the file and the lack of room" \
    'cannot write /zones/big\.test: No space left on device' "$(cat "$ZL_TMP/mem8.log")"
# 16 MiB holds the file but not the zone built from it: that zone is not
# served, the others are, as the hosted server does on a zone it cannot load.
ZL_ZONES_SAVED=$ZL_ZONES; ZL_ZONES=$big
ZL_VM_ARGS="--mem 16" zl_start --workers 1 || not_ok "--mem 16 with a zone too big: the guest starts"
ZL_ZONES=$ZL_ZONES_SAVED
check_match "--mem 16: the zone that does not fit is reported" \
    'big\.test: not loaded \(out of memory\)' "$(cat "$ZL_LOG")"
check "--mem 16: the other zone is served" "192.0.2.10" "$(qs www.example.test A)"
check "--mem 16: the one not loaded is refused" "REFUSED" "$(status h1.big.test A)"
zl_stop

# ---- raw frames: a malformed-frame flood, TCP resets mid-message ----
img="$ZL_TMP/zones.img"
"$ZL_BIN" --write-image "$img" --zones "$ZL_ZONES" >/dev/null 2>&1 ||
    not_ok "zonelet vm --write-image"
p_in=$(zl_free_port); p_out=$(zl_free_port)
while [ "$p_out" = "$p_in" ]; do p_out=$(zl_free_port); done
build/zonelet-virtio --mem=64 --block-ro="$img" \
    --net="socket,udp=127.0.0.1:$p_in,localaddr=127.0.0.1:$p_out" build/uk/zonelet.virtio \
    --block-tar=/zones --zones=/zones --listen=0.0.0.0:53 --ipv4=10.0.2.15/24 \
    --ipv4-gateway=10.0.2.2 >"$ZL_TMP/frames-guest.log" 2>&1 &
gpid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'zonelet: ready' "$ZL_TMP/frames-guest.log"; do
    zl_alive "$gpid" || break
    sleep 0.1; i=$((i + 1))
done
r=$(timeout -k 5 120 "$ZL_PY" tests/unikernel/frames.py "$p_in" "$p_out" 5000 200 2>&1)
kill -TERM "$gpid" 2>/dev/null
i=0; while [ $i -lt 100 ] && zl_alive "$gpid"; do sleep 0.1; i=$((i + 1)); done
zl_alive "$gpid" && kill -KILL "$gpid"
wait "$gpid" 2>/dev/null
line() { printf '%s\n' "$r" | sed -n "s/^$1: //p"; }
check "raw frames: ping (ICMP echo) reaches the guest" "ok" "$(line 'ping before')"
check "raw frames: a query over UDP" "192.0.2.10" "$(line 'dns before')"
check "raw frames: a query over TCP" "192.0.2.10" "$(line 'tcp before')"
check "malformed-frame flood: 5000 frames sent" "5000 frames" "$(line flood)"
check "after the flood: UDP answered" "192.0.2.10" "$(line 'dns after')"
check "after the flood: ping answered" "ok" "$(line 'ping after')"
check "after the flood: TCP answered" "192.0.2.10" "$(line 'tcp after')"
check "after a SYN flood (1000 half-open connections): TCP answered at once" "192.0.2.10" "$(line 'tcp after syn flood')"
check "200 connections reset in the middle of a query, each accepted first" "200 accepted" "$(line resets)"
check "after the resets: UDP answered" "192.0.2.10" "$(line 'dns after resets')"
check "after the resets: TCP answered" "192.0.2.10" "$(line 'tcp after resets')"
check_nomatch "the guest reported no fault" 'exception|fault|panic|abort' "$(cat "$ZL_TMP/frames-guest.log")"

# ---- hvt: the same suites where KVM works ----
if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
    skip "vm hvt: the system suites against --target hvt" "no /dev/kvm on this machine"
elif [ "$(id -u)" != 0 ]; then
    skip "vm hvt: the system suites against --target hvt" "not root: hvt needs a TAP (--net tap)"
elif ! make -s TARGET=hvt build/uk/zonelet.hvt build/zonelet-hvt >"$ZL_TMP/build-hvt.log" 2>&1; then
    not_ok "the hvt appliance builds" "$(tail -20 "$ZL_TMP/build-hvt.log")"
else
    for s in serve tcp malformed differential; do
        run_suite hvt "$s"
    done
fi
tap_done
