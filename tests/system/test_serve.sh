#!/bin/sh
# zonelet serving a zone directory over UDP and TCP, IPv4 and IPv6:
# answers checked with dig/kdig (RFC 1034 §4.3.2, RFC 2308, RFC 4592),
# start-up lines, --help, clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"
need_tools dig kdig

zl_write_zone "$ZL_ZONES/example.test"
echo "; no keys yet" >"$ZL_ZONES/_keys"
echo "ignored" >"$ZL_ZONES/.hidden"
mkdir "$ZL_ZONES/subdir"
zl_start --workers 2 || { not_ok "server starts"; tap_done; }
ok "server starts"

log=$(cat "$ZL_LOG")
check_match "start-up line names the zone and serial" \
    '^zonelet: serving example.test serial 2026113001 \([0-9]+ records\)$' "$log"
check_nomatch "_keys, dotfiles and sub-folders are not loaded as zones" '_keys|hidden|subdir' "$log"

check "exact match A" "192.0.2.10" "$(qs www.example.test A)"
check "exact match AAAA" "2001:db8::10" "$(qs www.example.test AAAA)"
check "authoritative answer sets AA" "qr aa" "$(flags www.example.test A)"
check "RD is copied" "qr aa rd" "$(flags www.example.test A +rec)"
check "query name case is preserved (0x20)" "WwW.ExAmPlE.TeSt." \
    "$(q WwW.ExAmPlE.TeSt A +noall +answer | awk '{print $1}')"
check "apex SOA serial" "2026113001" "$(q example.test SOA +short | awk '{print $3}')"
check "NXDOMAIN status" "NXDOMAIN" "$(status nope.example.test A)"
check_match "NXDOMAIN has the SOA in authority" 'example\.test\..*IN[[:space:]]+SOA' \
    "$(q nope.example.test A +noall +authority)"
check_match "negative TTL is min(SOA TTL, MINIMUM) (RFC 2308)" '^example\.test\.[[:space:]]+300[[:space:]]' \
    "$(q nope.example.test A +noall +authority)"
check "NODATA is NOERROR" "NOERROR" "$(status www.example.test MX)"
check "NODATA has no answer" "" "$(q www.example.test MX +short)"
check_match "NODATA has the SOA in authority" 'SOA' "$(q www.example.test MX +noall +authority)"
check "CNAME chain is followed" "alias.example.test.
www.example.test.
192.0.2.10" "$(q chain.example.test A +short)"
check "wildcard synthesises the query name" "a.b.wild.example.test. 3600 IN A 192.0.2.99" \
    "$(q a.b.wild.example.test A +noall +answer | tr -s ' \t' ' ')"
check "wildcard NODATA" "NOERROR" "$(status x.wild.example.test MX)"
ref=$(q host.sub.example.test A)
check "referral: NOERROR" "NOERROR" "$(echo "$ref" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
check "referral: AA clear" "qr" "$(echo "$ref" | sed -n 's/.*flags: \([a-z ]*\);.*/\1/p' | head -1)"
check "referral: NS in authority" "ns.elsewhere.example.
ns.sub.example.test." "$(q host.sub.example.test A +noall +authority | awk '$4=="NS"{print $5}' | sort)"
check "referral: in-bailiwick glue in additional" "ns.sub.example.test. 3600 IN A 192.0.2.53" \
    "$(q host.sub.example.test A +noall +additional | grep -v OPT | tr -s ' \t' ' ')"
check_match "MX target address in additional" '^mail\.example\.test\..*192\.0\.2\.25' \
    "$(q example.test MX +noall +additional)"
check "name in no served zone: REFUSED" "REFUSED" "$(status www.other.test A)"
check "EDNS version 1: BADVERS (RFC 6891)" "BADVERS" "$(status www.example.test A +edns=1 +noednsneg)"
check "opcode STATUS: NOTIMP" "NOTIMP" "$(status www.example.test A +opcode=2)"
check "CH TXT id.server unconfigured: REFUSED" "REFUSED" "$(status id.server TXT CH)"
check "ANY over TCP: every RRset" "192.0.2.10
2001:db8::10" "$(q www.example.test ANY +tcp +short | sort)"
check "over TCP (dig +tcp)" "192.0.2.10" "$(q www.example.test A +tcp +short)"
check "over TCP (kdig +tcp)" "192.0.2.10" \
    "$(kdig @127.0.0.1 -p "$ZL_PORT" +tcp +short +time=2 +retry=0 www.example.test A 2>&1)"

if zl_have_ipv6; then
    check "IPv6 over UDP" "192.0.2.10" "$(dig @::1 -p "$ZL_PORT" +short +time=2 +tries=1 www.example.test A 2>&1)"
    check "IPv6 over TCP" "192.0.2.10" "$(dig @::1 -p "$ZL_PORT" +tcp +short +time=2 +tries=1 www.example.test A 2>&1)"
else
    skip "IPv6 over UDP" "no ::1 on this host"
    skip "IPv6 over TCP" "no ::1 on this host"
fi

check_match "DNS cookies on by default: server cookie returned (RFC 7873)" 'COOKIE: [0-9a-f]{48,}' \
    "$(q www.example.test A +cookie)"
check_nomatch "no per-query logging by default" 'query from' "$(cat "$ZL_LOG")"
zl_stop
check "SIGTERM: exit status 0" "0" "$ZL_STATUS"

zl_start --workers 1 --version-server zl-test-9 --udp-max 4096 --udp-coalesce-us 200 --no-cookies --log-queries --nsid zl-test-1 --id-server ns-a.test || { not_ok "server restarts"; tap_done; }
q www.example.test A >/dev/null
check_match "--log-queries logs one line per query" "query from $ZL_CLIENT_RE:[0-9]+ over udp: www\.example\.test\. IN A" \
    "$(cat "$ZL_LOG")"
check_match "--nsid is answered (RFC 5001)" 'NSID: .*zl-test-1' "$(q www.example.test A +nsid)"
check "--udp-max 4096: EDNS 4096 over UDP gets the whole RRset" "30" \
    "$(q big.example.test TXT +bufsize=4096 +ignore +short | wc -l | tr -d ' ')"
check "--udp-max 4096: EDNS 1232 over UDP still truncated" "qr aa tc" \
    "$(flags big.example.test TXT +ignore +bufsize=1232)"
check_nomatch "--no-cookies: no server cookie" 'COOKIE: [0-9a-f]{48,}' "$(q www.example.test A +cookie)"
check "--udp-coalesce-us 200: 20 queries in a row answered" "20" \
    "$(i=0; while [ $i -lt 20 ]; do q www.example.test A +short; i=$((i + 1)); done | grep -c 192.0.2.10)"
check "--id-server answers CH TXT id.server" '"ns-a.test"' "$(q id.server TXT CH +short)"
check "--version-server answers CH TXT version.server" '"zl-test-9"' "$(q version.server TXT CH +short)"
kill -INT "$ZL_PID"
i=0; while [ $i -lt 100 ] && zl_alive "$ZL_PID"; do sleep 0.1; i=$((i + 1)); done
wait "$ZL_PID"; st=$?; ZL_PID=
check "SIGINT: exit status 0" "0" "$st"

# A wildcard address: each reply must come from the address the query
# was sent to (127.0.0.2 here), or the client drops it.
ZL_LISTEN_ANY=1 zl_start --workers 1 || { not_ok "server on 0.0.0.0 starts"; tap_done; }
check "0.0.0.0: reply to a query sent to 127.0.0.2 comes from 127.0.0.2" "192.0.2.10" \
    "$(dig @127.0.0.2 -p "$ZL_PORT" +short +time=2 +tries=1 www.example.test A 2>&1)"
check "0.0.0.0: over TCP too" "192.0.2.10" \
    "$(dig @127.0.0.2 -p "$ZL_PORT" +tcp +short +time=2 +tries=1 www.example.test A 2>&1)"
zl_stop

help=$("$ZL_BIN" --help); st=$?
check "--help exits 0" "0" "$st"
for opt in --listen --zones --workers --udp-max --nsid --id-server --version-server \
           --cookies --log-queries --tcp-max-conns --tcp-max-per-ip --tcp-idle-ms --help; do
    check_match "--help lists $opt" "^  $opt" "$help"
done
check_match "--help shows defaults" '\[1232\]' "$help"
"$ZL_BIN" --no-such-option >/dev/null 2>&1; st=$?
check "unknown option: exit status 2" "2" "$st"
"$ZL_BIN" --listen nonsense >/dev/null 2>&1; st=$?
check "bad --listen: exit status 2" "2" "$st"
tap_done
