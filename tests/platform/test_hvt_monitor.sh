#!/bin/sh
# The hvt monitor (build/zonelet-hvt) with bare guests (tests/platform/bare):
# hypercalls end to end, exit status pass-through, fault reports, malformed
# images, command-line errors, the seccomp filter. TAP output. Tests that
# need KVM are skipped only when /dev/kvm cannot create a VM.
cd "$(dirname "$0")/../.." || exit 2
MON=build/zonelet-hvt
HELLO=build/hvt/bare/hello
FAULTS=build/hvt/bare/faults
ABI=build/hvt/bare/hvt_abi
ASAN_MON=build/hvt/zonelet-hvt-asan
if [ ! -x "$MON" ] || [ ! -x "$HELLO" ] || [ ! -x "$FAULTS" ] || [ ! -x "$ASAN_MON" ] ||
    [ ! -x build/hvt/bare/chaos ] || [ ! -x "$ABI" ]; then
    make -s hvt >/dev/null 2>&1 || { echo "not ok - build the monitor and bare guests (make hvt)"; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kvm_reason=""
if ! "$MON" --probe >"$tmp/probe" 2>&1; then
    kvm_reason="/dev/kvm unusable: $(head -1 "$tmp/probe")"
fi

# t NAME NEEDS_KVM(kvm|-) WANT_STATUS PATTERN... -- CMD...
# Runs CMD; passes if it exits WANT_STATUS and its output (stdout and stderr)
# contains every PATTERN (fixed strings). A PATTERN starting with ! must
# not appear.
t() {
    name=$1 needs=$2 want=$3
    shift 3
    pats=$tmp/pats
    : >"$pats"
    while [ "$1" != "--" ]; do printf '%s\n' "$1" >>"$pats"; shift; done
    shift
    if [ "$needs" = kvm ] && [ -n "$kvm_reason" ]; then
        echo "ok - $name # SKIP $kvm_reason"
        return
    fi
    "$@" >"$tmp/out" 2>&1
    rc=$?
    why=""
    [ "$rc" = "$want" ] || why="exit status $rc, want $want"
    while IFS= read -r p; do
        case "$p" in
        !*) ! grep -qF -- "${p#!}" "$tmp/out" || why="$why; output has '${p#!}'" ;;
        *) grep -qF -- "$p" "$tmp/out" || why="$why; output lacks '$p'" ;;
        esac
    done <"$pats"
    if [ -z "$why" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name: $why"
        sed 's/^/#   /' "$tmp/out" | head -30
    fi
}

# --- the plat.h smoke guest (every target runs it), then the hvt ABI's own ---
t "hello: console, clocks, wait, random, TLS, SSE; exit status 7 passed on" kvm 7 \
    "hello from the guest" "cmdline: [a=1 b=2]" "ok random bytes differ" \
    "ok wait(20 ms) slept at least 20 ms" "ok fs:0 reads through the new TLS base" \
    "ok SSE double arithmetic" "ok TLS base survives a wait" \
    "ok wait with a past deadline returns" "SUCCESS" "!FAIL" -- "$MON" "$HELLO" a=1 b=2
t "hvt abi: monitor clock agrees, TLS survives VM exits, FS base by hypercall" kvm 7 \
    "ok TSC clock agrees with the monitor's clock" "ok TLS base survives VM exits and waits" \
    "ok fs base set by hypercall" "SUCCESS" "!FAIL" -- "$MON" "$ABI"
t "hello: smallest memory (--mem=4)" kvm 7 "SUCCESS" "0x0000000000400000" -- \
    "$MON" --mem=4 "$HELLO"
t "hello: --mem=1024" kvm 7 "SUCCESS" "0x0000000040000000" -- "$MON" --mem=1024 "$HELLO"

blk=$tmp/disk.img
printf 'ZLBLOCK0' >"$blk" && truncate -s 65536 "$blk"
t "block: read, write, flush, alignment and range checks on --block file" kvm 7 \
    "ok block read sees what the host wrote" "ok block flush" "ok block read back what was written" \
    "ok unaligned block write is EINVAL" "ok read past the end is EINVAL" "SUCCESS" \
    "!FAIL" -- "$MON" --block="$blk" "$HELLO"
got=$(od -An -tx1 -j4096 -N3 "$blk" | tr -d ' ')
last=$(od -An -tx1 -j8191 -N1 "$blk" | tr -d ' ')
if [ -n "$kvm_reason" ]; then
    echo "ok - block: guest writes reach the host file # SKIP $kvm_reason"
elif [ "$got" = 01080f ] && [ "$last" = fa ]; then
    echo "ok - block: guest writes reach the host file"
else
    echo "not ok - block: guest writes reach the host file (got $got ... $last)"
fi

# --- a closed console does not end the guest ---
if [ -n "$kvm_reason" ]; then
    echo "ok - console reader gone: the guest still runs to its exit # SKIP $kvm_reason"
else
    rc=$( { "$MON" "$HELLO" sleep; echo $? >"$tmp/rc"; } | head -c 1 >/dev/null; cat "$tmp/rc")
    if [ "$rc" = 7 ]; then
        echo "ok - console reader gone: the guest still runs to its exit"
    else
        echo "not ok - console reader gone: the guest still runs to its exit (status $rc)"
    fi
fi

# --- the guest's wall clock is the host's ---
if [ -n "$kvm_reason" ]; then
    echo "ok - guest wall clock within the monitor's run on the host clock # SKIP $kvm_reason"
else
    t0=$(date +%s%N)
    "$MON" "$HELLO" quick >"$tmp/quick.out" 2>&1
    rc=$?
    t1=$(date +%s%N)
    w=$(sed -n 's/^measure: first instruction at wall \([0-9]*\) ns$/\1/p' "$tmp/quick.out")
    if [ "$rc" = 0 ] && [ -n "$w" ] && [ "$w" -ge "$t0" ] && [ "$w" -le "$t1" ]; then
        echo "ok - guest wall clock within the monitor's run on the host clock"
    else
        echo "not ok - guest wall clock within the monitor's run on the host clock ($t0 <= '$w' <= $t1, status $rc)"
    fi
fi

# A block file the monitor can only open read-only (a read-only bind mount
# in a private mount namespace): reads work, writes fail, nothing crashes.
ro=$tmp/ro
mkdir -p "$ro" && cp "$blk" "$ro/disk.img"
if [ -n "$kvm_reason" ]; then
    echo "ok - block: read-only file, writes refused # SKIP $kvm_reason"
elif ! unshare -m true 2>/dev/null; then
    echo "ok - block: read-only file, writes refused # SKIP no mount namespaces (root needed)"
else
    t "block: read-only file, writes refused" kvm 7 "ok block read sees what the host wrote" \
        "ok read-only block write fails" "ok read-only block flush is OK" "SUCCESS" "!FAIL" -- unshare -m sh -c \
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" --block="$1/disk.img" "$3" blockro' \
        sh "$ro" "$MON" "$HELLO"
fi

# --- the seccomp filter is on while the guest runs (and everything above ran under it) ---
if [ -n "$kvm_reason" ]; then
    echo "ok - seccomp filter active while the guest runs # SKIP $kvm_reason"
else
    # One filter more than this shell has (a container may add its own).
    base=$(awk '/^Seccomp_filters:/ { print $2 }' /proc/$$/status)
    "$MON" "$HELLO" sleep >"$tmp/sleep.out" 2>&1 &
    pid=$!
    n=""
    i=0
    while [ $i -lt 50 ] && [ "$n" != $((${base:-0} + 1)) ]; do
        n=$(awk '/^Seccomp_filters:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        [ "$n" = $((${base:-0} + 1)) ] || sleep 0.02
        i=$((i + 1))
    done
    wait "$pid"
    rc=$?
    if [ -n "$base" ] && [ "$n" = $((base + 1)) ] && [ "$rc" = 7 ] && grep -q SUCCESS "$tmp/sleep.out"; then
        echo "ok - seccomp filter active while the guest runs"
    else
        echo "not ok - seccomp filter active while the guest runs (filters '$n', shell '$base', status $rc)"
    fi
fi

# --- faults end the monitor with a report ---
t "fault: NULL dereference reported with registers and backtrace" kvm 139 \
    "#PF page fault" "page fault at 0x8" "NULL pointer dereference" "rip 00000000001" \
    "rsp " "cr2 0000000000000008" "backtrace" "<null_deref+" "<plat_runtime_start+" -- \
    "$MON" "$FAULTS" null
t "fault: write beyond guest memory" kvm 139 "#PF page fault" "page fault at 0x4010000" \
    "beyond the end of guest memory" "on write" "<beyond_memory+" -- "$MON" "$FAULTS" oob
t "fault: write to read-only text (W^X)" kvm 139 "protection violation on write" \
    "<write_text+" -- "$MON" "$FAULTS" wtext
t "fault: execute from a no-execute data page" kvm 139 \
    "protection violation on instruction fetch" -- "$MON" "$FAULTS" xdata
t "fault: boot stack overflow hits the guard page" kvm 139 "boot stack overflow?" \
    "<recurse" -- "$MON" "$FAULTS" stack
t "fault: invalid opcode" kvm 139 "exception 6 (#UD invalid opcode)" -- "$MON" "$FAULTS" ud
t "fault: divide error" kvm 139 "exception 0 (#DE divide error)" "<divide" -- "$MON" "$FAULTS" div
t "fault: hypercall buffer outside guest memory" kvm 139 \
    "hypercall buffer outside guest memory" "hypercall 1," -- "$MON" "$ABI" hcbad
t "fault: unknown hypercall number" kvm 139 "bad hypercall" "hypercall 200," -- \
    "$MON" "$ABI" hcnum
t "fault: read from the hypercall page" kvm 139 "unmapped or reserved address" \
    "read of 8 bytes at 0xc0000060" -- "$MON" "$ABI" hcread
t "hypercall buffers overlapping their own struct" kvm 0 "ok random over its own struct" \
    "ok block read over its own struct" "no fault happened" "!FAIL" "!Sanitizer" -- \
    "$ASAN_MON" --block="$blk" "$ABI" alias
t "abort: message, registers, status 134" kvm 134 "guest abort: guest gave up on purpose" \
    "<plat_abort+" -- "$MON" "$FAULTS" abort
t "no fault: status 0" kvm 0 "no fault happened" -- "$MON" "$FAULTS" none

# --- the sanitized monitor serves hypercalls and reports faults cleanly ---
t "sanitized monitor: hello with block device" kvm 7 "SUCCESS" "!FAIL" "!Sanitizer" \
    "!runtime error" -- "$ASAN_MON" --block="$blk" "$HELLO"
for m in null oob; do
    t "sanitized monitor: fault $m" kvm 139 "backtrace" "!Sanitizer" "!runtime error" -- \
        "$ASAN_MON" "$FAULTS" "$m"
done
t "sanitized monitor: fault hcbad" kvm 139 "backtrace" "!Sanitizer" "!runtime error" -- \
    "$ASAN_MON" "$ABI" hcbad
t "sanitized monitor: abort" kvm 134 "guest abort" "!Sanitizer" "!runtime error" -- \
    "$ASAN_MON" "$FAULTS" abort

# --- random hypercalls (tests/platform/bare/chaos.c) against the sanitized
# monitor: each run must end with all calls served (0) or a clean report
# (139), never with a crash or a sanitizer error.
CHAOS=build/hvt/bare/chaos
if [ -n "$kvm_reason" ]; then
    echo "ok - random hypercalls never crash the monitor # SKIP $kvm_reason"
else
    cp "$blk" "$tmp/chaos.img" # it writes at random
    served=0 stopped=0 bad=""
    seed=1
    while [ $seed -le 40 ]; do
        "$ASAN_MON" --block="$tmp/chaos.img" "$CHAOS" $seed >"$tmp/chaos" 2>&1
        rc=$?
        if grep -aq "Sanitizer\|runtime error" "$tmp/chaos"; then
            bad="$bad seed $seed: sanitizer;"
        elif [ $rc = 0 ] && grep -aq "all calls served" "$tmp/chaos"; then
            served=$((served + 1))
        elif [ $rc = 139 ] && grep -aq "^zonelet-hvt: rip " "$tmp/chaos"; then
            stopped=$((stopped + 1))
        else
            bad="$bad seed $seed: status $rc;"
        fi
        seed=$((seed + 1))
    done
    if [ -z "$bad" ]; then
        echo "ok - random hypercalls never crash the monitor ($served runs served, $stopped stopped with a report)"
    else
        echo "not ok - random hypercalls never crash the monitor:$bad"
    fi
fi

# --- malformed images are refused before any VM exists ---
python3 tests/platform/hvt_badelf.py "$HELLO" "$tmp/bad" >"$tmp/bad.list" ||
    echo "not ok - generate malformed images"
# The loader runs in the sanitized monitor: bad input must not make it
# read out of bounds on the way to its refusal.
while read -r status kind path expect; do
    if [ "$status" = 125 ]; then
        t "refuse malformed image: $kind" - 125 "$expect" "!SUCCESS" "!Sanitizer" \
            "!runtime error" -- "$ASAN_MON" "$path"
    else
        t "tolerate damaged section headers: $kind" kvm "$status" "$expect" "!Sanitizer" \
            "!runtime error" -- "$ASAN_MON" "$path"
    fi
done <"$tmp/bad.list"
t "refuse a dynamically linked host program" - 125 "not a static executable" -- \
    "$MON" /bin/sh
t "refuse a missing image" - 125 "cannot open" -- "$MON" "$tmp/nonexistent"

# --- command line ---
t "usage: no image" - 125 "usage:" "no image given" -- "$MON"
t "usage: odd --mem refused" - 125 "--mem=3" -- "$MON" --mem=3 "$HELLO"
t "usage: --mem above 3 GiB refused" - 125 "--mem=4096" -- "$MON" --mem=4096 "$HELLO"
t "usage: unknown option" - 125 "unknown option --frobnicate" -- "$MON" --frobnicate "$HELLO"
t "usage: boot argument with whitespace refused" - 125 "contains whitespace" -- \
    "$MON" "$HELLO" "a b"

# --- numbers (informational) ---
if [ -z "$kvm_reason" ]; then
    { "$MON" --stats "$HELLO" measure; "$MON" "$ABI" measure; } 2>&1 |
        grep -E '^measure:|stats:' | sed 's/^/# /'
fi
exit 0
