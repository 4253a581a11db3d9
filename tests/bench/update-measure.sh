#!/bin/sh
# One-record updates on the small example zone and on an N-record zone
# (tests/bench/update_bench.c): p50/p99 of dns_msg_parse + zone_update +
# zone_apply over 1,000 updates each, the overlay's growth, zone_compact
# and zone_rebase, and lookups on a version with an overlay; then the
# ratio of the two p50s (issue 7's target: <= 2).
#
# usage: tests/bench/update-measure.sh [N [UPDATES]]   (1000000, 1000)
set -eu
cd "$(dirname "$0")/../.."
N=${1:-1000000}
U=${2:-1000}
ORIGIN=bench.test.
mkdir -p build/bench
ZONE=build/bench/zone-$N.zone
[ -s "$ZONE" ] || /usr/bin/python3 tests/bench/gen-zone.py "$N" "$ORIGIN" >"$ZONE"
[ -x build/bench/update_bench ] || make build/bench/update_bench >/dev/null
small=$(build/bench/update_bench zones-example/example.test example.test. "$U")
echo "$small"
big=$(build/bench/update_bench "$ZONE" "$ORIGIN" "$U")
echo "$big"
p() { echo "$1" | sed -n "s/.*update_p50_us=\([0-9.]*\).*/\1/p"; }
echo "p50 ratio ($N records / small zone): $(awk -v a="$(p "$big")" -v b="$(p "$small")" 'BEGIN { printf "%.2f", a / b }')"
