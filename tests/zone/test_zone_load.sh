#!/bin/sh
# The zone generator and the zone load path end to end: a generated
# 100k-record zone (tests/bench/gen-zone.py: A, AAAA, CNAME, MX, TXT, SRV,
# delegations with glue, ENTs) loads through zone_load_file with no
# report, keeps every record, and every owner is found again by
# zone_lookup (build/bench/zone_load checks the lookups).
cd "$(dirname "$0")/../.." || exit 1
L=build/bench/zone_load
T=$(mktemp -d /tmp/zonelet-zl.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
if [ ! -x "$L" ]; then echo "not ok 1 - $L not built"; exit 1; fi

# The fixture first (not a test of zonelet: no ok line, but no run either
# without it).
/usr/bin/python3 tests/bench/gen-zone.py 100000 gen.test. >"$T/zone" &&
    c=$(grep -vc '^\$' "$T/zone") && [ "$c" = 100000 ] ||
    { echo "not ok 1 - the generator did not write 100000 records"; exit 1; }
"$L" "$T/zone" gen.test. >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 0 ] && ok "zone loads and lookups hit" || nok "zone_load exit $rc"
[ -s "$T/err" ] && nok "reports while loading: $(head -3 "$T/err")" || ok "no reports"
grep -q 'records=100000 ' "$T/out" && ok "every record kept" || nok "records: $(cat "$T/out")"
sed 's/^/# /' "$T/out"
# A zone with a broken rule is refused, with the line.
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nc CNAME ns\nc TXT "no"\n' >"$T/bad"
"$L" "$T/bad" gen.test. >"$T/out" 2>"$T/err" && nok "bad zone loaded" || ok "bad zone refused"
grep -q ':5: error: CNAME at c.gen.test. beside other data' "$T/err" &&
    ok "problem reported with its line" || nok "report: $(cat "$T/err")"
# Occluded data loads, with a warning and its line (RFC 1034 §4.2.1).
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nsub NS ns.sub\nx.sub TXT "no"\n' >"$T/occl"
"$L" "$T/occl" gen.test. >"$T/out" 2>"$T/err" && ok "occluded data loads" || nok "occluded data refused"
grep -q ':6: warning: TXT record at x.sub.gen.test. below the delegation' "$T/err" &&
    ok "warning reported with its line" || nok "report: $(cat "$T/err")"
echo "1..$n"
