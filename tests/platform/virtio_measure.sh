#!/bin/sh
# make virtio-measure: numbers for the virtio target under QEMU on this
# machine (TCG, and KVM where the launcher would use it).
#  - boot: launcher exec -> first console byte (the guest reached
#    plat_runtime_start) -> exit, bare hello; the guest's own clock from its
#    first instruction to plat_runtime_start (bare hello) and to main()
#    (musl hello); medians of RUNS runs
#  - QEMU's CPU use while the guest idles in plat_wait()
#  - image sizes
cd "$(dirname "$0")/../.." || exit 2
RUN=build/zonelet-virtio
B=build/virtio/bare
RUNS=${RUNS:-11}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/first.py" <<'PY'
import subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
first = None
out = b""
while True:
    b = p.stdout.read1(4096)
    if not b:
        break
    if first is None:
        first = time.perf_counter()
    out += b
p.wait()
t1 = time.perf_counter()
print(int((first - t0) * 1e6) if first else -1, int((t1 - t0) * 1e6))
sys.stdout.write(out.decode(errors="replace"))
PY
accels=tcg
if [ -c /dev/kvm ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then accels="tcg kvm"; fi
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(qemu-system-x86_64 --version | head -1)"
[ -d /sys/module/kvm_pvm ] && echo "  (/dev/kvm is kvm-pvm: CPL0 guests cannot run on it, so TCG only)"
for accel in $accels; do
    : >"$tmp/first"; : >"$tmp/total"; : >"$tmp/guest"; : >"$tmp/main"; : >"$tmp/uk"
    i=0
    while [ $i -lt "$RUNS" ]; do
        python3 "$tmp/first.py" "$RUN" --accel="$accel" "$B/hello" quick >"$tmp/out"
        read -r f t <"$tmp/out"
        echo "$f" >>"$tmp/first"
        echo "$t" >>"$tmp/total"
        python3 "$tmp/first.py" "$RUN" --accel="$accel" "$B/hello" >"$tmp/out2"
        sed -n 's/^measure: first instruction at guest time \([0-9]*\) us$/\1/p' "$tmp/out2" >>"$tmp/guest"
        if [ -f build/uk/guests/hello.virtio ]; then
            python3 "$tmp/first.py" "$RUN" --accel="$accel" build/uk/guests/hello.virtio >"$tmp/out3"
            read -r f t <"$tmp/out3"
            echo "$t" >>"$tmp/uk"
            sed -n 's/^guest start to main: \([0-9]*\) us$/\1/p' "$tmp/out3" >>"$tmp/main"
        fi
        i=$((i + 1))
    done
    echo "boot under $accel (median of $RUNS runs):"
    echo "  launcher exec -> first console byte (bare hello): $(median <"$tmp/first") us"
    echo "  launcher exec -> exit (bare hello):               $(median <"$tmp/total") us"
    echo "  guest first instruction -> plat_runtime_start:    $(median <"$tmp/guest") us (10 ms of it: TSC calibration, TCG)"
    if [ -s "$tmp/main" ]; then
        echo "  guest first instruction -> main() (musl hello):  $(median <"$tmp/main") us"
        echo "  launcher exec -> exit (musl hello):               $(median <"$tmp/uk") us"
    fi
    "$RUN" --accel="$accel" "$B/hello" sleep >"$tmp/idle.out" 2>&1 &
    lpid=$!
    i=0
    until grep -q "flush EINVAL" "$tmp/idle.out" || [ $i -ge 600 ]; do sleep 0.05; i=$((i + 1)); done
    qpid=$(ps -o pid= --ppid "$lpid" | tr -d ' ' | head -1)
    c0=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
    sleep 0.5
    c1=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null)
    wait "$lpid"
    echo "  QEMU CPU while the guest idles in plat_wait: $(( (c1 - c0) * 200 / $(getconf CLK_TCK) ))% of a core"
done
echo "sizes (bytes, stripped in parentheses):"
for f in build/virtio/libvirtio.a "$B/hello" "$B/faults" "$B/netecho" build/uk/guests/*.virtio \
    build/uk/zonelet.virtio build/uk/zonelet-dns.virtio; do
    [ -f "$f" ] || continue
    case "$f" in
    *.a) echo "  $f: $(stat -c %s "$f")" ;;
    *) strip -o "$tmp/s" "$f"; echo "  $f: $(stat -c %s "$f") ($(stat -c %s "$tmp/s"))" ;;
    esac
done
