#!/bin/sh
# The runtime's guests (musl, libraries, zonelet's unit tests) on virtio:
# tests/platform/guests.sh with QEMU (TCG, or KVM where it can run CPL0
# guests). The bare-guest and device tests are test_virtio.sh.
exec sh "$(dirname "$0")/guests.sh" virtio
