#!/bin/sh
# The hvt network device end to end: in a network namespace this test
# creates, a TAP interface (10.99.0.1/24) is attached to the bare netecho
# guest (10.99.0.2), which answers ARP and echoes UDP. A Python client in
# the namespace checks single round trips and a burst, and reports how many
# frames moved per VM exit. Skipped when /dev/kvm or network namespaces
# and TAP devices are unavailable (not root, no /dev/net/tun).
cd "$(dirname "$0")/../.." || exit 2
MON=build/zonelet-hvt
GUEST=build/hvt/bare/netecho
[ -x "$MON" ] && [ -x "$GUEST" ] || make -s hvt >/dev/null 2>&1 ||
    { echo "not ok - build the monitor and bare guests (make hvt)"; exit 1; }
skip() { echo "ok - network: UDP echo through TAP and the frame rings # SKIP $1"; exit 0; }
"$MON" --probe >/dev/null 2>&1 || skip "/dev/kvm unusable"
ns=zlhvt$$
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace (root needed)"
ip netns exec "$ns" ip tuntap add dev zltap0 mode tap 2>/dev/null || skip "cannot create a TAP device"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 10.99.0.1/24 dev zltap0
ip -n "$ns" link set zltap0 up

ip netns exec "$ns" "$MON" --stats --net=zltap0 "$GUEST" 10.99.0.2 >"$tmp/guest.out" 2>&1 &
pid=$!
cat >"$tmp/client.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
addr = ("10.99.0.2", 7777)
ok = True
# first datagram also resolves ARP (the guest may still be booting: retry)
for attempt in range(20):
    s.sendto(b"ping-0", addr)
    try:
        data, _ = s.recvfrom(2048)
        break
    except socket.timeout:
        continue
else:
    print("not ok - network: first UDP round trip (no answer)")
    sys.exit(1)
print("ok - network: ARP and a first UDP round trip" if data == b"ping-0"
      else "not ok - network: first round trip returned %r" % data)
t0 = time.perf_counter()
for i in range(20):
    s.sendto(b"rt-%d" % i, addr)
    data, _ = s.recvfrom(2048)
    ok &= data == b"rt-%d" % i
rt = (time.perf_counter() - t0) / 20
print(("ok" if ok else "not ok") + " - network: 20 sequential round trips")
print("# measure: UDP round trip %.0f us" % (rt * 1e6))
# Bursts of W datagrams in flight: the guest takes each burst in a few
# exits. W stays well inside the socket's receive buffer, so a loss is
# the guest's or the monitor's, not the host socket's.
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
N, W, got = 400, 40, set()
payload = bytes(range(256)) * 5  # 1280 bytes: frames near the MTU
t0 = time.perf_counter()
for base in range(0, N, W):
    for i in range(base, base + W):
        s.sendto(b"%04d" % i + payload, addr)
    try:
        for i in range(W):
            data, _ = s.recvfrom(2048)
            if data[4:] == payload:
                got.add(int(data[:4]))
    except socket.timeout:
        pass
dt = time.perf_counter() - t0
print(("ok" if len(got) == N else "not ok") +
      " - network: %d datagrams of 1.3 KB in bursts of %d, %d echoed intact" % (N, W, len(got)))
print("# measure: burst %.0f datagrams/s echoed" % (len(got) / dt))
s.sendto(b"quit", addr)
PY
ip netns exec "$ns" python3 "$tmp/client.py"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then
    echo "not ok - network: guest exits on quit"
else
    wait "$pid"
    rc=$?
    pid=""
    if [ "$rc" = 0 ] && grep -q SUCCESS "$tmp/guest.out"; then
        echo "ok - network: guest exits on quit"
    else
        echo "not ok - network: guest exits on quit (status $rc)"
    fi
fi
sed -n 's/^netecho: \(frames.*\)/# guest: \1/p; s/.*stats: /# monitor: /p' "$tmp/guest.out"

# Ring set-up checks and a guest that corrupts its ring (sanitized monitor).
ip netns exec "$ns" build/hvt/zonelet-hvt-asan --net=zltap0 build/hvt/bare/hvt_abi netring \
    >"$tmp/ring.out" 2>&1
rc=$?
if [ "$rc" = 139 ] && [ "$(grep -c '^ok setup' "$tmp/ring.out")" = 6 ] &&
    grep -q "corrupted its network ring" "$tmp/ring.out" && ! grep -q "FAIL\|Sanitizer" "$tmp/ring.out"; then
    echo "ok - network: ring set-up checked, a corrupted ring stops the guest"
else
    echo "not ok - network: ring set-up checked, a corrupted ring stops the guest (status $rc)"
    sed 's/^/#   /' "$tmp/ring.out" | head -20
fi
exit 0
