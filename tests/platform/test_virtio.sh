#!/bin/sh
# The virtio target (platform/virtio) under QEMU with the bare guests
# (tests/platform/bare): the plat.h smoke guest with both virtio register
# layouts, the block device (read, write, flush, read-only), randomness
# without RDRAND (virtio-rng), exit statuses through isa-debug-exit, fault
# reports, the network device (UDP echo through QEMU's user network with
# hostfwd; ARP, ping and UDP through a TAP in a network namespace this
# test creates, when root), and figures: boot time, idle CPU, image sizes.
# The musl guests and unit tests on virtio are test_virtio_guests.sh.
# Skipped without qemu-system-x86_64.
cd "$(dirname "$0")/../.." || exit 2
RUN=build/zonelet-virtio
B=build/virtio/bare
make -s virtio >/dev/null 2>&1 || { echo "not ok - build (make virtio)"; exit 1; }
if ! command -v qemu-system-x86_64 >/dev/null; then
    echo "ok - virtio target # SKIP no qemu-system-x86_64"
    exit 0
fi
tmp=$(mktemp -d)
pids=""
ns=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
LIMIT=120 # seconds for any one guest (TCG on a busy machine)

# t NAME WANT_STATUS PATTERN... -- LAUNCHER-ARGS...
# Passes if the guest exits WANT_STATUS and its output (console and the
# launcher's messages) contains every PATTERN (fixed strings); !PATTERN
# must not appear.
t() {
    name=$1 want=$2
    shift 2
    : >"$tmp/pats"
    while [ "$1" != "--" ]; do printf '%s\n' "$1" >>"$tmp/pats"; shift; done
    shift
    timeout "$LIMIT" "$RUN" "$@" >"$tmp/out" 2>&1
    rc=$?
    why=""
    [ "$rc" = "$want" ] || why="exit status $rc, want $want"
    while IFS= read -r p; do
        case "$p" in
        !*) ! grep -qF -- "${p#!}" "$tmp/out" || why="$why; output has '${p#!}'" ;;
        *) grep -qF -- "$p" "$tmp/out" || why="$why; output lacks '$p'" ;;
        esac
    done <"$tmp/pats"
    if [ -z "$why" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name: $why"
        sed 's/^/#   /' "$tmp/out" | head -30
    fi
}

# --- the plat.h smoke guest ---
t "hello: console, argv, clocks, wait, random, TLS, SSE; exit status 7 passed on" 7 \
    "hello from the guest" "cmdline: [a=1 b=2]" "ok random bytes differ" \
    "ok wait(20 ms) slept at least 20 ms" "ok fs:0 reads through the new TLS base" \
    "ok SSE double arithmetic" "ok TLS base survives a wait" "ok free memory is RW and zero" \
    "ok wait with a past deadline returns" "ok no block device: flush EINVAL" \
    "SUCCESS" "!FAIL" -- "$B/hello" a=1 b=2
t "hello: no boot arguments" 7 "cmdline: []" "SUCCESS" -- "$B/hello"
t "hello: 8 MiB of RAM" 7 "SUCCESS" "!FAIL" -- --mem=8 "$B/hello"
t "hello: 1 GiB of RAM (its last byte written and read)" 7 "SUCCESS" "- 0x000000003ff" "!FAIL" -- \
    --mem=1024 "$B/hello"
t "randomness without RDRAND comes from virtio-rng" 7 "ok random bytes differ" "SUCCESS" "!FAIL" -- \
    --cpu=qemu64 "$B/hello"
t "randomness without RDRAND nor virtio-rng fails cleanly" 1 "FAIL random returns OK" -- \
    --cpu=qemu64 --no-rng "$B/hello"

# --- block device, each register layout ---
for mode in transitional modern legacy; do
    blk=$tmp/disk-$mode.img
    printf 'ZLBLOCK0' >"$blk" && truncate -s 65536 "$blk"
    t "block ($mode): read, write, flush, alignment and range checks" 7 \
        "ok block read sees what the host wrote" "ok block write 4 KiB at 4096" "ok block flush" \
        "ok block read back what was written" "ok unaligned block write is EINVAL" \
        "ok read past the end is EINVAL" "ok read the last block" "SUCCESS" "!FAIL" -- \
        --virtio="$mode" --block="$blk" "$B/hello"
    got=$(od -An -tx1 -j4096 -N3 "$blk" | tr -d ' ')
    last=$(od -An -tx1 -j8191 -N1 "$blk" | tr -d ' ')
    if [ "$got" = 01080f ] && [ "$last" = fa ]; then
        echo "ok - block ($mode): guest writes reach the host file"
    else
        echo "not ok - block ($mode): guest writes reach the host file (got $got ... $last)"
    fi
done
blk=$tmp/disk-ro.img
printf 'ZLBLOCK0' >"$blk" && truncate -s 65536 "$blk"
t "block: read-only device, writes refused, flush OK" 7 "ok block read sees what the host wrote" \
    "ok read-only block write fails" "ok read-only block flush is OK" "SUCCESS" "!FAIL" -- \
    --block-ro="$blk" "$B/hello" blockro
[ "$(od -An -tx1 -j4096 -N1 "$blk" | tr -d ' ')" = 00 ] &&
    echo "ok - block: read-only file unchanged" || echo "not ok - block: read-only file unchanged"

# --- faults and aborts: a report and a clear status ---
F=$B/faults
t "fault: NULL dereference reported with registers and backtrace" 139 \
    "#PF page fault" "page fault at 0x8" "NULL pointer dereference" "rip 00000000001" \
    "cr2 0000000000000008" "backtrace ($F)" "<null_deref+" "<plat_runtime_start+" -- "$F" null
t "fault: write beyond guest memory" 139 "#PF page fault" "beyond the end of guest memory" \
    "on write" "<beyond_memory+" -- "$F" oob
t "fault: write to read-only text (W^X)" 139 "protection violation on write" "<write_text+" -- \
    "$F" wtext
t "fault: execute from a no-execute data page" 139 "protection violation on instruction fetch" -- \
    "$F" xdata
t "fault: boot stack overflow hits the guard page" 139 "boot stack overflow?" "<recurse" -- \
    "$F" stack
t "fault: invalid opcode" 139 "exception 6 (#UD invalid opcode)" -- "$F" ud
t "fault: divide error" 139 "exception 0 (#DE divide error)" "<divide" -- "$F" div
t "abort: message, registers, backtrace, status 134" 134 \
    "guest abort: guest gave up on purpose" "<plat_abort+" -- "$F" abort
t "no fault: status 0" 0 "no fault happened" "!zonelet-virtio" -- "$F" none

# --- exit statuses: 7 bits through isa-debug-exit, the rest by console ---
H=build/uk/guests/hello.virtio
if make -s "$H" >/dev/null 2>&1; then
    for s in 0 1 123 124 125 200 255; do
        t "exit status $s passed back" "$s" "argv[1]=exit=$s" -- "$H" "exit=$s"
    done
else
    echo "not ok - exit statuses: build $H"
fi

# --- no isa-debug-exit (other hypervisors): ACPI power-off, status on the console ---
t "no debug-exit device: ACPI power-off, status 7 from the console" 7 "SUCCESS" \
    "zonelet-virtio: exit status 7" -- --no-debug-exit "$B/hello"
t "no debug-exit device: a fault still ends with 139" 139 "NULL pointer dereference" \
    "zonelet-virtio: exit status 139" -- --no-debug-exit "$B/faults" null

# --- a closed console does not end the guest ---
rc=$( { "$RUN" "$B/hello" sleep; echo $? >"$tmp/rc"; } | head -c 1 >/dev/null; cat "$tmp/rc")
if [ "$rc" = 7 ]; then
    echo "ok - console reader gone: the guest still runs to its exit"
else
    echo "not ok - console reader gone: the guest still runs to its exit (status $rc)"
fi

# --- the guest's wall clock is the host's (CMOS: whole seconds) ---
t0=$(date +%s%N)
"$RUN" "$B/hello" quick >"$tmp/quick.out" 2>&1
rc=$?
t1=$(date +%s%N)
w=$(sed -n 's/^measure: first instruction at wall \([0-9]*\) ns$/\1/p' "$tmp/quick.out")
if [ "$rc" = 0 ] && [ -n "$w" ] && [ "$w" -ge $((t0 - 1000000000)) ] && [ "$w" -le "$t1" ]; then
    echo "ok - guest wall clock within the run on the host clock (1 s resolution)"
else
    echo "not ok - guest wall clock within the run on the host clock ($t0 - 1 s <= '$w' <= $t1, status $rc)"
fi

# --- launcher ---
t "launcher: boot argument with whitespace refused" 125 "contains whitespace" -- "$B/hello" "a b"
t "launcher: unknown option" 125 "unknown option --frobnicate" -- --frobnicate "$B/hello"
t "launcher: missing image" 125 "cannot open" -- "$tmp/nonexistent"
t "launcher: not a multiboot image (QEMU refuses it)" 125 "QEMU failed" -- /bin/true

# --- network: UDP echo through QEMU's user network (hostfwd) ---
cat >"$tmp/udp.py" <<'PY'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
addr = (host, port)
deadline = time.time() + 60 # the guest may still be booting: retry
while True:
    s.sendto(b"first", addr)
    try:
        if s.recvfrom(2048)[0] == b"first":
            break
    except (socket.timeout, ConnectionRefusedError):
        pass
    if time.time() > deadline:
        print("no answer")
        sys.exit(1)
s.settimeout(5)
good = 0
t0 = time.perf_counter()
for i in range(n):
    m = b"rt-%d-" % i + b"x" * (i % 1400)
    s.sendto(m, addr)
    good += s.recvfrom(2048)[0] == m
rt = (time.perf_counter() - t0) / n
print("echoed %d/%d, round trip %.0f us" % (good, n, rt * 1e6))
s.sendto(b"quit", addr)
sys.exit(0 if good == n else 1)
PY
for mode in modern legacy; do
    port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    timeout "$LIMIT" "$RUN" --virtio="$mode" --net="user,hostfwd=udp:127.0.0.1:$port-10.0.2.15:7" \
        "$B/netecho" 10.0.2.15 txfill >"$tmp/net.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    res=$(timeout "$LIMIT" python3 "$tmp/udp.py" 127.0.0.1 "$port" 200)
    prc=$?
    wait "$pid"
    rc=$?
    if [ "$prc" = 0 ] && [ "$rc" = 0 ] && grep -q SUCCESS "$tmp/net.out"; then
        echo "ok - network ($mode, user network): ARP, 200 UDP echoes through hostfwd, quit"
    else
        echo "not ok - network ($mode, user network): client '$res' ($prc), guest status $rc"
        sed 's/^/#   /' "$tmp/net.out" | head -10
    fi
    if grep -q "txfill: PLAT_EV_NET_TX, room again" "$tmp/net.out"; then
        echo "ok - network ($mode): a full transmit queue refuses a frame, PLAT_EV_NET_TX when room comes"
    else
        echo "not ok - network ($mode): a full transmit queue refuses a frame, PLAT_EV_NET_TX when room comes"
    fi
    echo "# measure ($mode, user network, TCG): $res"
    sed -n 's/^netecho: \(frames.*\)/# guest: \1/p' "$tmp/net.out"
done

# ICMP echo requests from a raw socket (root; no ping binary needed).
cat >"$tmp/ping.py" <<'PY'
import os, socket, struct, sys, time
host, n = sys.argv[1], int(sys.argv[2])
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(5)
ident, got, rtts = os.getpid() & 0xffff, 0, []
for seq in range(n):
    body = b"zonelet-ping-%04d" % seq
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body
    t0 = time.perf_counter()
    s.sendto(pkt, (host, 0))
    while True:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        icmp = data[(data[0] & 15) * 4:]
        if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq) and icmp[8:] == body \
                and csum(icmp) == 0:
            got += 1
            rtts.append((time.perf_counter() - t0) * 1e6)
            break
print("%d/%d echo replies, round trip %.0f us" % (got, n, sum(rtts) / max(len(rtts), 1)))
sys.exit(0 if got == n else 1)
PY

# --- network: a TAP in a network namespace (root only) ---
tap_test() {
    ns=zlvirtio$$
    ip netns add "$ns" 2>/dev/null || { echo "ok - network (TAP) # SKIP cannot create a network namespace (root needed)"; ns=""; return; }
    ip netns exec "$ns" ip tuntap add dev zltap0 mode tap 2>/dev/null ||
        { echo "ok - network (TAP) # SKIP cannot create a TAP device"; return; }
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add 10.98.0.1/24 dev zltap0
    ip -n "$ns" link set zltap0 up
    for mode in modern legacy; do
        timeout "$LIMIT" ip netns exec "$ns" "$RUN" --virtio="$mode" --net=zltap0 "$B/netecho" 10.98.0.2 \
            >"$tmp/tap.out" 2>&1 &
        pid=$!
        pids="$pids $pid"
        # ping first (it retries while the guest boots): the UDP client ends it with "quit"
        pingrc=1 i=0
        while [ "$pingrc" != 0 ] && [ $i -lt 10 ]; do
            ping=$(timeout "$LIMIT" ip netns exec "$ns" python3 "$tmp/ping.py" 10.98.0.2 3 2>&1)
            pingrc=$?
            i=$((i + 1))
        done
        res=$(timeout "$LIMIT" ip netns exec "$ns" python3 "$tmp/udp.py" 10.98.0.2 7777 200)
        prc=$?
        wait "$pid"
        rc=$?
        if [ "$prc" = 0 ] && [ "$rc" = 0 ] && grep -q SUCCESS "$tmp/tap.out"; then
            echo "ok - network ($mode, TAP): ARP, 200 UDP echoes, quit"
        else
            echo "not ok - network ($mode, TAP): client '$res' ($prc), guest status $rc"
            sed 's/^/#   /' "$tmp/tap.out" | head -10
        fi
        if [ "$pingrc" = 0 ] && grep -q "pinged [1-9]" "$tmp/tap.out"; then
            echo "ok - network ($mode, TAP): ping (ICMP echo, checksum verified) answered"
        else
            echo "not ok - network ($mode, TAP): ping (ICMP echo) answered (ping status $pingrc)"
            echo "$ping" | sed 's/^/#   /' | tail -3
        fi
        echo "# measure ($mode, TAP, TCG): UDP $res; ICMP $ping"
    done
}
tap_test

# --- figures (informational, never asserted) ---
# Boot: launcher start to exit for the bare hello (quick), median of 5.
for i in 1 2 3 4 5; do
    s=$(date +%s%N)
    "$RUN" "$B/hello" quick >/dev/null 2>&1
    echo $(( ($(date +%s%N) - s) / 1000000 ))
done | sort -n | sed -n 3p | sed 's/^/# measure: launcher start to exit, bare hello (median of 5): /; s/$/ ms/'
# Idle: QEMU's CPU time while the guest waits 1 s in plat_wait() (hello
# "sleep": sampled once its checks are printed, before the wait ends).
"$RUN" "$B/hello" sleep >"$tmp/idle.out" 2>&1 &
lpid=$!
i=0
until grep -q "flush EINVAL" "$tmp/idle.out" || [ $i -ge 600 ]; do sleep 0.05; i=$((i + 1)); done
qpid=$(ps -o pid= --ppid "$lpid" | tr -d ' ' | head -1)
c0=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
sleep 0.5
c1=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
wait "$lpid"
[ -n "$c0" ] && [ -n "$c1" ] &&
    echo "# measure: QEMU CPU while the guest idles in plat_wait: $(( (c1 - c0) * 200 / $(getconf CLK_TCK) ))% of a core (0.5 s sample)"
for f in "$B/hello" "$B/faults" "$B/netecho" build/virtio/libvirtio.a; do
    case "$f" in *.a) echo "# size: $f $(stat -c %s "$f") bytes" ;;
    *) strip -o "$tmp/s" "$f"; echo "# size: $f $(stat -c %s "$f") bytes ($(stat -c %s "$tmp/s") stripped)" ;;
    esac
done
exit 0
