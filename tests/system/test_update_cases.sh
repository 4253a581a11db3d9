#!/bin/sh
# The RFC 2136 UPDATE case table (tests/system/update_cases.py): every
# prerequisite and update form, the special rules, malformed messages;
# each case checked by its rcode and by the zone after (AXFR). Against
# zonelet (the primary unless PRIMARY=knot) every answer must be the
# RFC's. With PRIMARY=knot it is the differential against Knot DNS:
# Knot's departures from the RFC are taken as expected and listed with
# their RFC section (tests/system/test_update_knot.sh runs it so).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
peers_need knotd
UK=$(key_new u._update.example.test hmac-sha256)
$ZL_PY tests/system/update_cases.py --zone-file "$ZL_TMP/example.test"
if ! primary_start --zone example.test "$ZL_TMP/example.test" --tsig-key "$UK"; then
    not_ok "${PRIMARY:-zonelet} starts as the primary"
    tap_done
fi
expect=rfc
[ "$PRIMARY_KIND" = knot ] && expect=knot
$ZL_PY tests/system/update_cases.py --server "$PRIMARY_ADDR:$PRIMARY_PORT" --key "$UK" --expect $expect
rc=$?
# update_cases.py printed the plan; keep lib.sh's counters for the exit.
[ $rc -eq 0 ] || _tap_fail=1
exit $rc
