#!/bin/sh
# The runtime's network stack in a guest (tests/platform/guests/sockets.c:
# loopback self-checks, then UDP and TCP echo servers shaped like the DNS
# server's loops), driven by tests/platform/sockets_client.py:
#   - on every target that runs here (hvt where /dev/kvm works, virtio
#     where QEMU is installed), through a TAP in a network namespace this
#     test creates (root): static addresses from boot arguments, ping and
#     ping6, UDP v4/v6 echoes from the address asked, a burst, 1,000
#     pipelined TCP requests, 50 connections, resets mid-message, a
#     malformed-frame flood; then libgit2 in a guest (gitnet.c) clones a
#     repository from a git daemon over git:// on the same TAP;
#   - on virtio, through QEMU's user network: DHCP, UDP and TCP through
#     hostfwd.
# The guest's console must show SUCCESS, its addresses, no FAILURE and no
# unimplemented system call. Targets that cannot run are skipped with the
# reason.
cd "$(dirname "$0")/../.." || exit 2
PY=/usr/bin/python3
CLIENT=tests/platform/sockets_client.py
LIMIT=180 # seconds for one guest (TCG on a loaded machine)
tmp=$(mktemp -d)
pids="" ns=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# check NAME FILE: the guest's console in FILE, after it ended with $rc.
check_guest() {
    name=$1 out=$2
    why=""
    [ "$rc" = 0 ] || why="exit status $rc"
    for p in SUCCESS "loopback tcp 127.0.0.1 ok" "loopback tcp ::1 ok" "loopback udp ok" \
        "close while blocked: EBADF" "getaddrinfo numeric ok"; do
        grep -qF -- "$p" "$out" || why="$why; no '$p'"
    done
    for p in FAILURE "system call not implemented" "lwIP assertion"; do
        ! grep -qF -- "$p" "$out" || why="$why; '$p' in the output"
    done
    shift 2
    for p; do grep -qF -- "$p" "$out" || why="$why; no '$p'"; done
    if [ -z "$why" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name: $why"
        sed 's/^/#   /' "$out" | tail -25
    fi
    sed -n 's/^\(getaddrinfo name: .*\)/# guest: \1/p; s/^\(udp .* bytes\)$/# guest: \1/p' "$out"
}

# run_tap TARGET RUNNER IMAGE: the guest on a TAP in a namespace.
run_tap() {
    target=$1 runner=$2 image=$3
    ns=zlsock$$
    if ! ip netns add "$ns" 2>/dev/null; then
        echo "ok - $target sockets over a TAP # SKIP cannot create a network namespace (root needed)"
        ns=""
        return
    fi
    if ! ip netns exec "$ns" ip tuntap add dev zltap0 mode tap 2>/dev/null; then
        echo "ok - $target sockets over a TAP # SKIP cannot create a TAP device"
        ip netns del "$ns"
        ns=""
        return
    fi
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add 10.97.0.1/24 dev zltap0
    ip -n "$ns" addr add fd97::1/64 dev zltap0 nodad
    ip -n "$ns" link set zltap0 up
    timeout "$LIMIT" ip netns exec "$ns" "$runner" --net=zltap0 "$image" \
        --ipv4=10.97.0.2/24 --ipv4-gateway=10.97.0.1 --ipv6=fd97::2/64 port=7 >"$tmp/$target-tap.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    timeout "$LIMIT" ip netns exec "$ns" "$PY" "$CLIENT" 10.97.0.2 fd97::2 7 --tap zltap0 \
        | sed "s/^\(not \)*ok - /&$target TAP: /"
    wait "$pid"
    rc=$?
    check_guest "$target TAP: the guest served and ended cleanly" "$tmp/$target-tap.out" \
        "net: ipv4 10.97.0.2/24 gateway 10.97.0.1 (static)" "net: ipv6 fd97::2 (static)"
    git_clone "$target" "$runner" "${image%/sockets.$target}/gitnet.$target"
    ip netns del "$ns"
    ns=""
}

# git_clone TARGET RUNNER IMAGE: libgit2 in the guest clones over git://
# from a git daemon in the namespace ($ns, the TAP set up by run_tap).
git_clone() {
    target=$1 runner=$2 image=$3
    if ! command -v git >/dev/null; then
        echo "ok - $target: libgit2 clone over git:// # SKIP no git"
        return
    fi
    repo=$tmp/git/repo.git
    rm -rf "$tmp/git" && mkdir -p "$tmp/git/work"
    (cd "$tmp/git/work" && git init -q && printf 'zonelet over lwIP\n' >hello.txt &&
        git add hello.txt && git -c user.name=t -c user.email=t@t commit -qm one &&
        git clone -q --bare . "$repo") || { echo "not ok - $target: make a repository"; return; }
    want=$(git -C "$repo" rev-parse HEAD)
    timeout "$LIMIT" ip netns exec "$ns" git daemon --export-all --base-path="$tmp/git" \
        --listen=10.97.0.1 --port=9418 --reuseaddr >"$tmp/daemon.log" 2>&1 &
    dpid=$!
    pids="$pids $dpid"
    timeout "$LIMIT" ip netns exec "$ns" "$runner" --net=zltap0 "$image" --ipv4=10.97.0.2/24 \
        url=git://10.97.0.1:9418/repo.git file=hello.txt >"$tmp/$target-git.out" 2>&1
    rc=$?
    kill "$dpid" 2>/dev/null
    if [ "$rc" = 0 ] && grep -qF "HEAD $want" "$tmp/$target-git.out" &&
        grep -qF "hello.txt: zonelet over lwIP" "$tmp/$target-git.out" &&
        ! grep -qF "system call not implemented" "$tmp/$target-git.out"; then
        echo "ok - $target: libgit2 in the guest clones over git:// (HEAD and work tree as pushed)"
    else
        echo "not ok - $target: libgit2 in the guest clones over git:// (status $rc, want HEAD $want)"
        sed 's/^/#   /' "$tmp/$target-git.out" | tail -15
    fi
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- hvt ---
HVT=build/zonelet-hvt
if ! make -s TARGET=hvt hvt build/uk/guests/sockets.hvt build/uk/guests/gitnet.hvt >"$tmp/build.log" 2>&1; then
    echo "not ok - hvt: build the sockets guest"
    tail -15 "$tmp/build.log" | sed 's/^/#   /'
elif ! "$HVT" --probe >"$tmp/probe" 2>&1; then
    echo "ok - hvt sockets over a TAP # SKIP /dev/kvm unusable: $(head -1 "$tmp/probe")"
else
    run_tap hvt "$HVT" build/uk/guests/sockets.hvt
fi

# --- virtio (QEMU) ---
VIRTIO=build/zonelet-virtio
if ! grep -q '^virtio:' mk/*.mk 2>/dev/null; then
    echo "ok - virtio sockets # SKIP no virtio target in this tree"
elif ! command -v qemu-system-x86_64 >/dev/null; then
    echo "ok - virtio sockets # SKIP no qemu-system-x86_64"
elif ! make -s TARGET=virtio virtio build/uk/guests/sockets.virtio build/uk/guests/gitnet.virtio \
        >"$tmp/build.log" 2>&1; then
    echo "not ok - virtio: build the sockets guest"
    tail -15 "$tmp/build.log" | sed 's/^/#   /'
else
    run_tap virtio "$VIRTIO" build/uk/guests/sockets.virtio
    # QEMU's user network: the address comes from its DHCP server; UDP
    # and TCP reach the guest through hostfwd.
    port=$(free_port)
    timeout "$LIMIT" "$VIRTIO" --net="user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$port-:7" \
        build/uk/guests/sockets.virtio port=7 >"$tmp/virtio-user.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    timeout "$LIMIT" "$PY" "$CLIENT" 127.0.0.1 - "$port" | sed 's/^\(not \)*ok - /&virtio user network: /'
    wait "$pid"
    rc=$?
    check_guest "virtio user network: DHCP lease logged, the guest served and ended cleanly" \
        "$tmp/virtio-user.out" "net: ipv4 10.0.2.15/24 gateway 10.0.2.2 (dhcp)"
fi
