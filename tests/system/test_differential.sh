#!/bin/sh
# Differential test of answers against Knot DNS (tests/system/differential.py):
# the same zones, several hundred queries over UDP and TCP, compared section
# by section; remaining differences are listed with their RFC reason in
# tests/system/differential/allow.txt. TAP, one line per query.
cd "$(dirname "$0")/../.." || exit 1
for need in knotd /usr/bin/python3 build/zonelet; do
    if ! command -v "$need" >/dev/null 2>&1 && [ ! -x "$need" ]; then
        echo "not ok 1 - differential: $need missing (make test installs and builds it)"
        exit 1
    fi
done
if ! /usr/bin/python3 -c 'import dns.message' 2>/dev/null; then
    echo "not ok 1 - differential: python3-dnspython missing (scripts/deps.sh test installs it)"
    exit 1
fi
# ZL_VM=virtio|hvt: zonelet is the appliance in a virtual machine
# (tests/system/zonelet-vm.sh); the same answers, the same allow list.
if [ -n "${ZL_VM:-}" ]; then
    exec /usr/bin/python3 tests/system/differential.py --zonelet tests/system/zonelet-vm.sh \
        --ready-timeout 60
fi
exec /usr/bin/python3 tests/system/differential.py --zonelet build/zonelet
