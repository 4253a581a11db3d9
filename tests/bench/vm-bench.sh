#!/bin/sh
# make bench-vm: the appliance in a virtual machine measured (issue 10):
# stripped image sizes, boot to the first answered query through
# `zonelet vm` (QEMU with TCG; KVM where /dev/kvm works), the smallest
# --mem that serves zones-example/, queries per second through the
# forwarding path (dnsperf) beside the hosted server. Prints the
# "## Unikernel (issue 10)" section of tests/bench/RESULTS.md.
#   VM_BENCH_ROUNDS=5 VM_BENCH_SECONDS=8
cd "$(dirname "$0")/../.." || exit 2
for tool in dnsperf qemu-system-x86_64 nm size; do
    command -v "$tool" >/dev/null 2>&1 || { echo "vm-bench: $tool not installed (scripts/deps.sh bench)" >&2; exit 1; }
done
exec /usr/bin/python3 tests/bench/vm-bench.py --rounds "${VM_BENCH_ROUNDS:-5}" \
    --seconds "${VM_BENCH_SECONDS:-8}"
