#!/bin/sh
# The runtime's guests (musl, libraries, zonelet's unit tests) on hvt:
# tests/platform/guests.sh with the hvt monitor. Skipped without /dev/kvm.
exec sh "$(dirname "$0")/guests.sh" hvt
