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

/usr/bin/python3 tests/bench/gen-zone.py 100000 gen.test. >"$T/zone" && ok "generator ran" ||
    nok "generator failed"
c=$(grep -vc '^\$' "$T/zone")
[ "$c" = 100000 ] && ok "generator wrote 100000 records" || nok "generator wrote $c records"
"$L" "$T/zone" gen.test. >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 0 ] && ok "zone loads and lookups hit" || nok "zone_load exit $rc"
[ -s "$T/err" ] && nok "reports while loading: $(head -3 "$T/err")" || ok "no reports"
grep -q 'records=100000 ' "$T/out" && ok "every record kept" || nok "records: $(cat "$T/out")"
sed 's/^/# /' "$T/out"
# A zone with a broken rule is refused, with the line.
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nsub NS ns.sub\nx.sub TXT "no"\n' >"$T/bad"
"$L" "$T/bad" gen.test. >"$T/out" 2>"$T/err" && nok "bad zone loaded" || ok "bad zone refused"
grep -q ':6: TXT record at x.sub.gen.test. below the delegation' "$T/err" &&
    ok "problem reported with its line" || nok "report: $(cat "$T/err")"
exit 0
