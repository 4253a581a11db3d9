#!/bin/sh
# zonelet-vm.sh [server options]: the system tests' server as the
# appliance in a virtual machine, `zonelet vm --target $ZL_VM` (virtio
# or hvt), with the hosted program lib.sh would pick (the sanitized
# build unless build/zonelet is newer). tests/system/lib.sh points ZL_BIN
# here when ZL_VM is set. ZL_VM_ARGS: more vm options (e.g. --mem 32).
bin=build/zonelet
[ -x build/zonelet-asan ] && ! [ build/zonelet -nt build/zonelet-asan ] && bin=build/zonelet-asan
# shellcheck disable=SC2086 # ZL_VM_ARGS is a list of options
exec "$bin" vm --target "${ZL_VM:-virtio}" ${ZL_VM_ARGS:-} "$@"
