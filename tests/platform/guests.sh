#!/bin/sh
# guests.sh TARGET: guests linked with the unikernel runtime (musl +
# platform/runtime + the target's platform library), booted with the
# target's launcher: hvt on build/zonelet-hvt (test_hvt.sh), virtio on
# build/zonelet-virtio, i.e. QEMU (test_virtio_guests.sh). One TAP line
# per guest case: the exit status and the output (SUCCESS, no FAILURE, no
# unimplemented system call unless the case is about that) must match.
# Skipped only when the target cannot run here (hvt: /dev/kvm unusable;
# virtio: no qemu-system-x86_64).
cd "$(dirname "$0")/../.." || exit 2
T=${1:?usage: guests.sh hvt|virtio}
case "$T" in
hvt) MON=build/zonelet-hvt limit=120 ;;
virtio) MON=build/zonelet-virtio limit=600 ;; # QEMU's TCG is 5-20 times slower than KVM
*) echo "guests.sh: unknown target $T" >&2; exit 2 ;;
esac
G=build/uk/guests
make -s unikernel-guests "$T" TARGET="$T" >/dev/null 2>"${TMPDIR:-/tmp}/uk-build.$$" || {
    echo "not ok - build the guests (make unikernel-guests $T TARGET=$T)"
    sed 's/^/#   /' "${TMPDIR:-/tmp}/uk-build.$$" | tail -20
    rm -f "${TMPDIR:-/tmp}/uk-build.$$"
    exit 1
}
rm -f "${TMPDIR:-/tmp}/uk-build.$$"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kvm_reason="" # why the target cannot run here
if [ "$T" = hvt ] && ! "$MON" --probe >"$tmp/probe" 2>&1; then
    kvm_reason="/dev/kvm unusable: $(head -1 "$tmp/probe")"
fi
if [ "$T" = virtio ] && ! command -v qemu-system-x86_64 >/dev/null; then
    kvm_reason="no qemu-system-x86_64"
fi

# t NAME WANT_STATUS PATTERN... -- MONITOR-ARGS...
# PATTERN is a fixed string the output must contain; !PATTERN must not
# appear; =N:PATTERN must appear exactly N times.
t() {
    name=$1 want=$2
    shift 2
    : >"$tmp/pats"
    while [ "$1" != "--" ]; do printf '%s\n' "$1" >>"$tmp/pats"; shift; done
    shift
    if [ -n "$kvm_reason" ]; then
        echo "ok - $name # SKIP $kvm_reason"
        return
    fi
    timeout "$limit" "$MON" "$@" >"$tmp/out" 2>&1
    rc=$?
    why=""
    [ "$rc" = "$want" ] || why="exit status $rc, want $want"
    while IFS= read -r p; do
        case "$p" in
        !*) ! grep -qF -- "${p#!}" "$tmp/out" || why="$why; output has '${p#!}'" ;;
        =*) n=${p%%:*}; n=${n#=}; s=${p#*:}
            [ "$(grep -cF -- "$s" "$tmp/out")" = "$n" ] || why="$why; '$s' not seen $n times" ;;
        *) grep -qF -- "$p" "$tmp/out" || why="$why; output lacks '$p'" ;;
        esac
    done <"$tmp/pats"
    if [ -z "$why" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name: $why"
        sed 's/^/#   /' "$tmp/out" | tail -30
    fi
}

# No guest may contain a syscall instruction: musl's are all patched into
# calls to the runtime (platform/runtime/musl.patch).
found=""
for f in "$G"/*."$T" build/uk/musl/lib/libc.a; do
    objdump -d "$f" | grep -qP '\tsyscall\s*$' && found="$found $f"
done
if [ -z "$found" ]; then
    echo "ok - no syscall instruction in libc.a or any guest image"
else
    echo "not ok - syscall instruction in:$found"
fi

t "hello: printf floats, argv from boot arguments, exit(3) passed back" 3 \
    SUCCESS "argv[1]=zone=example.test" "argv[2]=exit=3" "!FAILURE" "!system call not implemented" -- \
    "$G/hello.$T" zone=example.test exit=3
t "memory: malloc/realloc stress, 6 x 40 MiB in 128 MiB, mmap/mremap/munmap churn, out-of-memory paths, brk" 0 \
    SUCCESS "!FAILURE" "!system call not implemented" -- --mem=128 "$G/memory.$T"
t "threads: create/join, mutex, condvar, timed wait, sleep order, no starvation, barrier, sem, rwlock, 100 live threads, slot limit, TLS, detach, cancel" 0 \
    SUCCESS "!FAILURE" "!system call not implemented" -- "$G/threads.$T"
t "files: in-memory fs create/read/write/rename/link/unlink/readdir/symlink/cwd" 0 \
    SUCCESS "!FAILURE" "!system call not implemented" -- "$G/files.$T"
t "mbedtls: self tests (md5 sha1 sha256 sha512 aes gcm drbg entropy mpi ecp rsa x509), HMAC, ECDSA" 0 \
    SUCCESS "mbedtls_rsa_self_test: passed" "!FAILURE" "!system call not implemented" -- "$G/mbedtls.$T"
t "tls: own CA and server cert (x509 write), TLS 1.2 handshake between two threads, echo, CN check" 0 \
    SUCCESS "handshake: TLSv1.2" "!FAILURE" "!system call not implemented" -- "$G/tls.$T"
t "zlib: compress/uncompress and streaming round trips" 0 SUCCESS "!FAILURE" "!system call not implemented" -- "$G/zlib.$T"
t "libgit2: repo in the in-memory fs, two commits, ids match git, packed on 2 threads, read from the pack, file:// clone" 0 \
    SUCCESS "HEAD 4dfd4629ee6538fede79581d322849be7d6b0738" "!FAILURE" "!system call not implemented" -- "$G/libgit2.$T"
t "perf: syscall, clock, thread switch, condvar, mmap costs measured" 0 \
    SUCCESS "thread switch" "!FAILURE" "!system call not implemented" -- "$G/perf.$T"
grep -h "syscall (getppid)" "$tmp/out" 2>/dev/null | sed 's/^/# /'
t "edges: abort() ends the guest with the abort status" 134 "calling abort" "abort()" -- \
    "$G/edges.$T" abort
t "edges: a NULL store is a fault report with a backtrace into main" 139 "fault" "<main+" -- \
    "$G/edges.$T" null
t "edges: all threads blocked without a deadline is reported as a deadlock" 134 \
    "deadlock" -- "$G/edges.$T" deadlock
t "edges: unimplemented call -> ENOSYS, logged once by name" 0 SUCCESS \
    "=1:system call not implemented: acct" -- "$G/edges.$T" enosys
t "edges: an event hook runs when all threads block and can wake them" 0 \
    SUCCESS "woken by the event hook" "!FAILURE" -- "$G/edges.$T" hook
t "edges: a thread overflowing its stack is reported at its next switch" 134 \
    "recursing" "thread stack overflow" -- "$G/edges.$T" overflow
t "edges: last thread leaving via pthread_exit ends the guest with 0" 0 \
    "main leaves first" "worker ran" -- "$G/edges.$T" exit-thread

# zonelet's own cmocka tests (dns/, zone/, app) as guests, with ldns built
# for the unikernel; their fixture files come in a tar on the block device,
# unpacked under / by the runtime (boot argument --block-tar=/).
# Each image is built on its own: one that does not compile with musl is
# one failure, not the end of the suite.
build() { # IMAGE NAME
    make -s "$1" >"$tmp/build.log" 2>&1 && return 0
    echo "not ok - $2: does not build for the unikernel"
    sed 's/^/#   /' "$tmp/build.log" | tail -15
    return 1
}
# ldns (the tests' oracle) names WKS services through /etc/services.
mkdir -p "$tmp/root/etc"
if [ -r /etc/services ]; then
    cp /etc/services "$tmp/root/etc/services"
else
    printf 'smtp\t25/tcp\ndomain\t53/tcp\ndomain\t53/udp\nhttp\t80/tcp\n' >"$tmp/root/etc/services"
fi
tar --format=ustar -cf "$tmp/fixtures.tar" tests/dns tests/zone zones-example
tar --format=ustar -rf "$tmp/fixtures.tar" -C "$tmp/root" etc/services
# The appliance itself: `zonelet check` in the guest says exactly what the
# hosted build says, for a good zone and for one full of errors.
hosted_ok=""
make -s build/zonelet >/dev/null 2>&1 && hosted_ok=1
build "build/uk/zonelet.$T" "appliance in the guest" &&
for z in zones-example/example.test tests/zone/bad/syntax.zone; do
    want=0
    [ "$z" = tests/zone/bad/syntax.zone ] && want=1
    t "appliance in the guest: zonelet check $z (exit $want)" $want "$z" -- \
        --block="$tmp/fixtures.tar" "build/uk/zonelet.$T" --block-tar=/ check "$z"
    if [ -z "$kvm_reason" ] && [ -n "$hosted_ok" ]; then
        build/zonelet check "$z" >"$tmp/hosted" 2>&1
        if cmp -s "$tmp/out" "$tmp/hosted"; then
            echo "ok - appliance in the guest: check $z output equals the hosted build's"
        else
            echo "not ok - appliance in the guest: check $z output differs from the hosted build's"
            diff "$tmp/hosted" "$tmp/out" | head -10 | sed 's/^/#   /'
        fi
    fi
done
# Tests that need a subprocess (popen of a peer tool) skip themselves:
# there are no processes in the guest.
for u in $(make -s --no-print-directory unikernel-units-list TARGET="$T"); do
    n=$(basename "$u" ".$T")
    build "$u" "unit in the guest: $n" || continue
    t "unit in the guest: $n (cmocka)" 0 "[  PASSED  ]" "![  FAILED  ]" -- \
        --mem=256 --block="$tmp/fixtures.tar" "$u" --block-tar=/
done
