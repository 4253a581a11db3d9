#!/bin/sh
# The RFC 2136 UPDATE case table (tests/system/update_cases.py) against
# Knot DNS as the primary (PRIMARY=zonelet: zonelet): every prerequisite
# and update form, the special rules, malformed messages; each case
# checked by its rcode and by the zone after (AXFR). Knot's departures
# from the RFC are taken as expected and listed at the end with their RFC
# section; zonelet must give the RFC's answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
peers_need knotd
UK=$(key_new u._update.example.test hmac-sha256)
$ZL_PY tests/system/update_cases.py --zone-file "$ZL_TMP/example.test"
if ! primary_start --zone example.test "$ZL_TMP/example.test" --tsig-key "$UK"; then
    not_ok "${PRIMARY:-knot} starts as the primary"
    tap_done
fi
expect=rfc
[ "$PRIMARY_KIND" = knot ] && expect=knot
$ZL_PY tests/system/update_cases.py --server "$PRIMARY_ADDR:$PRIMARY_PORT" --key "$UK" --expect $expect
rc=$?
# update_cases.py printed the plan; keep lib.sh's counters for the exit.
[ $rc -eq 0 ] || _tap_fail=1
exit $rc
