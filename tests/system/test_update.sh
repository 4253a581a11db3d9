#!/bin/sh
# Dynamic zones on the hosted server with real clients: nsupdate and
# knsupdate (TSIG hmac-sha256, hmac-md5, hmac-sha1; UDP and TCP), the
# refusals of RFC 2136 §3.3 and RFC 8945 §5.2 leaving the zone unchanged,
# AXFR and IXFR with kdig, NOTIFY in through `zonelet notify`, and every
# acknowledged update surviving `kill -9` and a restart.
. "$(dirname "$0")/lib.sh"
need_tools dig kdig nsupdate knsupdate

S256=ZHVtbXktZXhhbXBsZS1zZWNyZXQtZm9yLWRkbnMtdXBkYXRlcw==
SMD5=bWQ1LWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw==
SSHA1=c2hhMS1rZXktc2VjcmV0LWZvci10aGUtdGVzdHM=
SXFR=dHJhbnNmZXIta2V5LXNlY3JldC1mb3ItdGhlLXRlc3Rz
SOTHER=b3RoZXItem9uZS1rZXktc2VjcmV0LWZvci10ZXN0cw==
zl_write_zone "$ZL_ZONES/example.test" 2026120401
cat >"$ZL_ZONES/other.test" <<'Z'
$ORIGIN other.test.
@ 3600 IN SOA ns hm 1 2 3 4 5
@ 3600 IN NS ns
ns 3600 IN A 192.0.2.7
Z
cat >"$ZL_ZONES/_keys" <<K
ddns._update.example.test. DNSKEY 0 3 163 $S256
md5._update.example.test. DNSKEY 0 3 157 $SMD5
sha1._update.example.test. DNSKEY 0 3 161 $SSHA1
xfr._transfer.example.test. DNSKEY 0 3 163 $SXFR
hook._notify.example.test. DNSKEY 0 3 163 $SXFR
ddns._update.other.test. DNSKEY 0 3 163 $SOTHER
K
zl_start --workers 1 || { not_ok "server starts"; tap_done; }
ok "server starts with keys"

# nsup ALG NAME SECRET [TCP]: nsupdate reading the update from stdin;
# prints "ok" or the failure nsupdate reports.
nsup() {
    alg=$1 name=$2 secret=$3 tcp=${4:-}
    { echo "server 127.0.0.1 $ZL_PORT"; echo "zone example.test"; cat; echo "send"; } |
        nsupdate ${tcp:+-v} -t 3 -y "$alg:$name:$secret" 2>&1 && echo ok
}
ksup() {
    alg=$1 name=$2 secret=$3 tcp=${4:-}
    { echo "server 127.0.0.1 $ZL_PORT"; echo "zone example.test"; cat; echo "send"; } |
        knsupdate ${tcp:+-v} -t 3 -y "$alg:$name:$secret" 2>&1 && echo ok
}
serial() { q example.test SOA +short | awk '{print $3}'; }
axfr() { kdig @127.0.0.1 -p "$ZL_PORT" +tcp +time=3 +retry=0 -y "hmac-sha256:xfr._transfer.example.test:$SXFR" example.test AXFR 2>&1; }
snapshot() { axfr | grep -v '^;' | grep -v '^$' | grep -v TSIG | sort; }

s0=$(serial)
check "nsupdate hmac-sha256 over UDP: add" "ok" \
    "$(echo 'update add new1.example.test. 300 IN A 192.0.2.101' | nsup hmac-sha256 ddns._update.example.test $S256 | tail -1)"
check "the record is served at once" "192.0.2.101" "$(qs new1.example.test A)"
check "the serial was raised by one (RFC 2136 §3.7)" "$((s0 + 1))" "$(serial)"
check "nsupdate hmac-sha256 over TCP: delete an RR" "ok" \
    "$(echo 'update delete www.example.test. IN A 192.0.2.10' | nsup hmac-sha256 ddns._update.example.test $S256 tcp | tail -1)"
check "the deleted RR is gone" "" "$(qs www.example.test A)"
check "the rest of its node stays" "2001:db8::10" "$(qs www.example.test AAAA)"
check "nsupdate hmac-md5: add to an RRset" "ok" \
    "$(echo 'update add new1.example.test. 300 IN A 192.0.2.102' | nsup hmac-md5 md5._update.example.test $SMD5 | tail -1)"
check "nsupdate hmac-sha1: delete an RRset" "ok" \
    "$(echo 'update delete alias.example.test. CNAME' | nsup hmac-sha1 sha1._update.example.test $SSHA1 | tail -1)"
check "knsupdate hmac-sha256 UDP" "ok" \
    "$(echo 'update add k1.example.test. 300 TXT "knot"' | ksup hmac-sha256 ddns._update.example.test $S256 | tail -1)"
check "knsupdate hmac-md5 TCP" "ok" \
    "$(echo 'update add k2.example.test. 300 TXT "knot tcp"' | ksup hmac-md5 md5._update.example.test $SMD5 tcp | tail -1)"
check "both knsupdate records served" '"knot"
"knot tcp"' "$(qs k1.example.test TXT; qs k2.example.test TXT)"
check "prerequisite 'name not in use' fails: YXDOMAIN" "YXDOMAIN" \
    "$(printf 'prereq nxdomain new1.example.test.\nupdate add x.example.test. 300 A 192.0.2.9\n' |
        nsup hmac-sha256 ddns._update.example.test $S256 | grep -o YXDOMAIN | head -1)"
check "prerequisite 'RRset exists (value dependent)' must match the whole RRset: NXRRSET" "NXRRSET" \
    "$(printf 'prereq yxrrset new1.example.test. IN A 192.0.2.101\nupdate add pr.example.test. 300 A 192.0.2.9\n' |
        nsup hmac-sha256 ddns._update.example.test $S256 | grep -o NXRRSET | head -1)"
check "prerequisite 'RRset exists (value dependent)' with the whole RRset: applied" "ok" \
    "$(printf 'prereq yxrrset new1.example.test. IN A 192.0.2.101\nprereq yxrrset new1.example.test. IN A 192.0.2.102\nupdate add pr.example.test. 300 A 192.0.2.9\n' |
        nsup hmac-sha256 ddns._update.example.test $S256 | tail -1)"
check "... and its update served" "192.0.2.9" "$(qs pr.example.test A)"

before=$(snapshot)
sb=$(serial)
refuse() { # name, expected status word, nsupdate args...
    name=$1 want=$2; shift 2
    out=$({ echo "server 127.0.0.1 $ZL_PORT"; echo "zone example.test"; echo "update add refused.example.test. 300 A 192.0.2.66"; echo send; } |
        nsupdate -t 3 "$@" 2>&1)
    check_match "$name: $want" "$want" "$out"
}
refuse "unsigned UPDATE" "REFUSED"
refuse "wrong secret" "NOTAUTH|BADSIG|tsig verify failure" -y "hmac-sha256:ddns._update.example.test:$SXFR"
refuse "unknown key" "NOTAUTH|BADKEY|tsig verify failure" -y "hmac-sha256:nobody._update.example.test:$S256"
refuse "transfer key (no update right)" "REFUSED" -y "hmac-sha256:xfr._transfer.example.test:$SXFR"
refuse "another zone's key" "REFUSED" -y "hmac-sha256:ddns._update.other.test:$SOTHER"
check "refusals leave the zone byte for byte unchanged" "$before" "$(snapshot)"
check "refusals leave the serial" "$sb" "$(serial)"
check "the refused record is not served" "NXDOMAIN" "$(status refused.example.test A)"

# Transfers.
records=$(axfr | grep -v '^;' | grep -v '^$' | grep -v TSIG)
check_match "AXFR with a transfer key: SOA first" 'IN[[:space:]]+SOA' "$(echo "$records" | head -1)"
check_match "AXFR with a transfer key: SOA last" 'IN[[:space:]]+SOA' "$(echo "$records" | tail -1)"
check "AXFR: every record once, the SOA twice" "$(($(echo "$records" | wc -l) - 1))" "$(echo "$records" | sort -u | wc -l)"
check "AXFR unsigned from an address not allowed: refused" "REFUSED" \
    "$(kdig @127.0.0.1 -p "$ZL_PORT" +tcp +time=3 +retry=0 example.test AXFR 2>&1 | grep -o REFUSED | head -1)"
check "AXFR over UDP: NOTIMP, no zone data" "NOTIMP" \
    "$(kdig @127.0.0.1 -p "$ZL_PORT" +notcp +time=2 +retry=0 -y "hmac-sha256:xfr._transfer.example.test:$SXFR" example.test AXFR 2>&1 | grep -o 'NOTIMP' | head -1)"
cur=$(serial)
check "IXFR from the current serial: the SOA alone" "1" \
    "$(kdig @127.0.0.1 -p "$ZL_PORT" +tcp +time=3 -y "hmac-sha256:xfr._transfer.example.test:$SXFR" example.test IXFR=$cur 2>&1 | grep -cE 'IN[[:space:]]+SOA')"
ixfr=$(kdig @127.0.0.1 -p "$ZL_PORT" +tcp +time=3 -y "hmac-sha256:xfr._transfer.example.test:$SXFR" example.test IXFR=$s0 2>&1)
check_match "IXFR from an older serial: the change, not the whole zone" 'new1\.example\.test\..*192\.0\.2\.101' "$ixfr"
check_nomatch "IXFR from an older serial: unchanged records not sent" 'ns1\.example\.test\..*192\.0\.2\.1$' "$ixfr"

# NOTIFY in: the zone file edited behind zonelet's back, then a signed
# NOTIFY makes it reload (the hook's path).
sleep 1.2   # the journal is written into the file a second after the last change
sed -i 's/192\.0\.2\.25/192.0.2.26/' "$ZL_ZONES/example.test"
out=$(build/zonelet notify --server "127.0.0.1:$ZL_PORT" --key "hook._notify.example.test:hmac-sha256:$SXFR" example.test 2>&1)
check "zonelet notify: NOERROR" "example.test: NOERROR" "$out"
i=0; while [ $i -lt 50 ] && [ "$(qs mail.example.test A)" != "192.0.2.26" ]; do sleep 0.1; i=$((i + 1)); done
check "after the signed NOTIFY the edited zone is served" "192.0.2.26" "$(qs mail.example.test A)"
check_match "unsigned NOTIFY: refused" "REFUSED" "$(build/zonelet notify --server "127.0.0.1:$ZL_PORT" example.test 2>&1)"

# Durability: kill -9 in the middle of a stream of updates (two clients,
# UDP and TCP), then a restart: every acknowledged update is served.
acked=$ZL_TMP/acked
: >"$acked"
stream() { # PREFIX [tcp]
    i=0
    while [ $i -lt 60 ]; do
        r=$(echo "update add $1$i.example.test. 300 A 192.0.2.$((i + 100))" |
            nsup hmac-sha256 ddns._update.example.test $S256 $2 | tail -1)
        [ "$r" = ok ] && echo "$1$i 192.0.2.$((i + 100))" >>"$acked"
        i=$((i + 1))
    done
}
stream dur &
s1=$!
stream tdur tcp &
s2=$!
sleep 1.5
kill -KILL "$ZL_PID"; wait "$ZL_PID" 2>/dev/null; ZL_PID=
wait $s1 $s2
n=$(wc -l <"$acked")
zl_start --workers 1 || { not_ok "server restarts after kill -9"; tap_done; }
missing=0
while read -r name addr; do
    [ "$(qs $name.example.test A)" = "$addr" ] || missing=$((missing + 1))
done <"$acked"
check "kill -9 in a stream of updates: all $n acknowledged ones served after a restart" "0" "$missing"
check_match "some were acknowledged before the kill" '^[1-9]' "$n"
zl_stop
check "SIGTERM: exit status 0" "0" "$ZL_STATUS"
tap_done
