#!/bin/sh
# zonelet-virtio: boot a virtio guest image (platform/virtio) in QEMU, with
# the interface of zonelet-hvt:
#
#   zonelet-virtio [--mem=MiB] [--block=PATH] [--block-ro=PATH] [--net=TAP]
#                  [--net=user[,OPTS]] [--net=socket,OPTS] [--virtio=transitional|modern|legacy]
#                  [--accel=auto|kvm|tcg] [--cpu=MODEL] [--no-rng]
#                  [--no-debug-exit] [--print] IMAGE [ARGS...]
#
# ARGS reach the guest joined by spaces (plat_cmdline()); an argument with
# whitespace is refused. The guest's console is this program's standard
# output. Exit status: the guest's plat_exit(status & 0xff), 134 for an
# abort, 139 for a fault (or a guest that stopped without a status), 125
# for a usage or QEMU error. The guest reports its status through QEMU's
# isa-debug-exit device in 7 bits (platform/virtio/start.c); statuses that
# do not fit are read from its console line "zonelet-virtio: exit status N".
#
#   --block=PATH     raw file as the virtio-blk device (read-only if this
#                    process cannot write it); --block-ro=PATH: read-only
#   --net=TAP        virtio-net on an existing TAP interface
#   --net=user,...   virtio-net on QEMU's user network (no privileges);
#                    OPTS are -netdev user options, e.g. hostfwd=udp::5353-:53
#   --net=socket,... virtio-net on a QEMU socket netdev, e.g.
#                    socket,udp=127.0.0.1:P1,localaddr=127.0.0.1:P2: every
#                    frame one UDP datagram (tests inject raw frames so)
#   --virtio=MODE    transitional (QEMU's default: both register layouts,
#                    the guest picks modern), modern (disable-legacy=on) or
#                    legacy (disable-modern=on), for every virtio device
#   --accel=MODE     auto: KVM when /dev/kvm works and is not kvm-pvm
#                    (which cannot run CPL0 guests), else TCG
#   --cpu=MODEL      QEMU's -cpu (default: max under TCG, host under KVM)
#   --no-rng         no virtio-rng device (randomness then needs RDRAND)
#   --no-debug-exit  no isa-debug-exit device: the guest powers off through
#                    ACPI (as on other hypervisors)
#   --print          print the QEMU command line instead of running it
QEMU=${QEMU:-qemu-system-x86_64}
mem=64 block="" block_ro="" net="" mode=transitional accel=auto cpu="" print="" rng=1 dbgexit=1
die() {
    echo "zonelet-virtio: $1" >&2
    exit 125
}
while [ $# -gt 0 ]; do
    case "$1" in
    --mem=*) mem=${1#--mem=} ;;
    --block=*) block=${1#--block=} ;;
    --block-ro=*) block=${1#--block-ro=} block_ro=1 ;;
    --net=*) net=${1#--net=} ;;
    --virtio=*) mode=${1#--virtio=} ;;
    --accel=*) accel=${1#--accel=} ;;
    --cpu=*) cpu=${1#--cpu=} ;;
    --no-rng) rng="" ;;
    --no-debug-exit) dbgexit="" ;;
    --print) print=1 ;;
    --help) sed -n '2,/^QEMU=/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --*) die "unknown option $1" ;;
    *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || die "usage: zonelet-virtio [options] IMAGE [ARGS...] (--help)"
image=$1
shift
case "$mem" in ''|*[!0-9]*) die "--mem=$mem: not a number of MiB" ;; esac
[ "$mem" -ge 8 ] && [ "$mem" -le 3072 ] || die "--mem=$mem: between 8 and 3072 MiB"
[ -r "$image" ] || die "cannot open $image"
case "$image" in *[[:space:],]*) die "image path contains whitespace or a comma: $image" ;; esac
for a; do
    case "$a" in *[[:space:]]*) die "boot argument contains whitespace: '$a'" ;; esac
done
case "$mode" in
transitional) dev="" ;;
modern) dev=",disable-legacy=on" ;;
legacy) dev=",disable-modern=on" ;;
*) die "--virtio=$mode: transitional, modern or legacy" ;;
esac
if [ "$accel" = auto ]; then
    accel=tcg
    if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
        accel=kvm
    fi
fi
case "$accel" in
kvm) cpu=${cpu:-host} ;;
tcg) cpu=${cpu:-max} ;;
*) die "--accel=$accel: auto, kvm or tcg" ;;
esac

tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
set -- -nodefaults -no-user-config -display none -no-reboot \
    -machine pc -accel "$accel" -cpu "$cpu" -m "$mem" \
    -chardev "stdio,id=con,logfile=$tmp/console" -device isa-serial,chardev=con \
    -kernel "$image" -append "$*"
[ -z "$dbgexit" ] || set -- "$@" -device isa-debug-exit,iobase=0xf4,iosize=0x04
[ -z "$rng" ] || set -- "$@" -device "virtio-rng-pci$dev"
if [ -n "$block" ]; then
    [ -r "$block" ] || die "--block=$block: cannot read it"
    ro=""
    if [ -n "$block_ro" ] || [ ! -w "$block" ]; then ro=",readonly=on"; fi
    case "$block" in *,*) die "--block=$block: a path with a comma" ;; esac
    set -- "$@" -drive "file=$block,format=raw,if=none,id=blk0,cache=writeback$ro" \
        -device "virtio-blk-pci,drive=blk0$dev"
fi
case "$net" in
'') ;;
user|user,*|socket,*) set -- "$@" -netdev "$net,id=net0" -device "virtio-net-pci,netdev=net0,romfile=$dev" ;;
*) set -- "$@" -netdev "tap,id=net0,ifname=$net,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=net0,romfile=$dev" ;;
esac
if [ -n "$print" ]; then
    echo "$QEMU $*"
    exit 0
fi

"$QEMU" "$@" &
pid=$!
sig=""
for s in TERM INT HUP; do
    trap "sig=$s; kill -TERM $pid 2>/dev/null" "$s"
done
rc=""
while [ -z "$rc" ] || { [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; }; do
    wait "$pid"
    rc=$?
done
if [ -n "$sig" ]; then
    case "$sig" in TERM) exit 143 ;; INT) exit 130 ;; HUP) exit 129 ;; esac
fi
logged() {
    sed -n 's/^zonelet-virtio: exit status \([0-9]*\)$/\1/p' "$tmp/console" | tail -1
}
case "$rc" in
253) exit 134 ;;
255) exit 139 ;;
251|0)
    s=$(logged)
    if [ -n "$s" ]; then exit "$s"; fi
    echo "zonelet-virtio: the guest stopped without an exit status (triple fault or reset?)" >&2
    exit 139 ;;
esac
if [ $((rc % 2)) = 1 ] && [ "$rc" -ge 3 ]; then
    exit $(((rc - 1) / 2 - 1))
fi
echo "zonelet-virtio: QEMU failed (status $rc)" >&2
exit 125
