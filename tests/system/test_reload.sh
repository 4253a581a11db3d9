#!/bin/sh
# Zones from a directory: start-up lines, error and warning lines, SIGHUP reload
# (new serial served; a broken zone keeps its old version and its error
# is logged with file:line; a new file is picked up; a removed one is
# dropped), clean exit.
. "$(dirname "$0")/lib.sh"
need_tools dig

zl_write_zone "$ZL_ZONES/example.test" 2026113001
zl_write_zone "$ZL_ZONES/second.test" 1
sed -i 's/^\$ORIGIN example.test./$ORIGIN second.test./; s/ns1.example.test. hostmaster.example.test./ns1.second.test. hostmaster.second.test./' \
    "$ZL_ZONES/second.test"
printf '$ORIGIN broken.test.\n@ 3600 IN SOA ns1 h 1 2 3 4 5\n@ 3600 IN NS ns1\nns1 3600 IN A 192.0.2.300\n' \
    >"$ZL_ZONES/broken.test"
# Occluded data loads (RFC 1034 §4.2.1), each record logged as a warning
# with file:line (the first 20, then a count).
{
    printf '$ORIGIN occluded.test.\n@ 3600 IN SOA ns1 h 1 2 3 4 5\n@ 3600 IN NS ns1\n'
    printf 'ns1 3600 IN A 192.0.2.1\nsub 3600 IN NS ns.sub\nns.sub 3600 IN A 192.0.2.53\n'
    i=0
    while [ $i -lt 25 ]; do echo "old$i.sub 3600 IN TXT \"stale $i\""; i=$((i + 1)); done
} >"$ZL_ZONES/occluded.test"
zl_start --workers 2 || { not_ok "server starts"; tap_done; }
ok "server starts with one broken zone"
log=$(cat "$ZL_LOG")
check_match "occluded zone is served" '^zonelet: serving occluded.test serial 1 \(' "$log"
check_match "occluded record: warning with file:line" "occluded\\.test:7: warning: TXT record at old0\\.sub\\.occluded\\.test\\. below the delegation at sub\\.occluded\\.test\\.: occluded, not served" "$log"
check "20 warnings logged" "20" "$(grep -c 'occluded.test:[0-9]*: warning: ' "$ZL_LOG")"
check_match "then a count" "occluded\\.test: 5 more warnings" "$log"
check "occluded name: referral, AA clear" "qr rd" "$(flags old3.sub.occluded.test TXT +rec)"
check "occluded name: glue kept" "192.0.2.53" "$(q old3.sub.occluded.test TXT +noall +additional | awk '{print $5}')"

log=$(cat "$ZL_LOG")
check_match "start-up line: example.test" '^zonelet: serving example.test serial 2026113001 \(' "$log"
check_match "start-up line: second.test" '^zonelet: serving second.test serial 1 \(' "$log"
check_match "broken zone: error line with file:line" "broken\\.test:4: " "$log"
check_nomatch "broken zone is not served" 'serving broken\.test' "$log"
check "broken zone: REFUSED" "REFUSED" "$(status ns1.broken.test A)"
check "serial before reload" "2026113001" "$(q example.test SOA +short | awk '{print $3}')"

# Edit a zone and bump its serial; HUP.
sed -i 's/^www IN A 192.0.2.10$/www IN A 192.0.2.11/' "$ZL_ZONES/example.test"
sed -i 's/ 2026113001 / 2026113002 /' "$ZL_ZONES/example.test"
n=$(grep -c 'zones served' "$ZL_LOG")
kill -HUP "$ZL_PID"
wait_reload() {
    i=0
    while [ $i -lt 100 ] && [ "$(grep -c 'zones served' "$ZL_LOG")" -le "$1" ]; do
        sleep 0.1; i=$((i + 1))
    done
}
wait_reload "$n"
check "SIGHUP: new serial served" "2026113002" "$(q example.test SOA +short | awk '{print $3}')"
check "SIGHUP: edited record served" "192.0.2.11" "$(qs www.example.test A)"
check "SIGHUP: unchanged zone still served" "1" "$(q second.test SOA +short | awk '{print $3}')"
check_match "SIGHUP: reload line for the changed zone" 'serving example.test serial 2026113002' "$(cat "$ZL_LOG")"

# Break the zone; HUP: the old version stays, the error names file:line.
cp "$ZL_ZONES/example.test" "$ZL_TMP/good"
sed -i 's/ 2026113002 / 2026113003 /' "$ZL_ZONES/example.test"
lines=$(wc -l <"$ZL_ZONES/example.test")
echo 'oops IN A not-an-address' >>"$ZL_ZONES/example.test"
n=$(grep -c 'zones served' "$ZL_LOG")
kill -HUP "$ZL_PID"
wait_reload "$n"
check "broken edit: old serial still served" "2026113002" "$(q example.test SOA +short | awk '{print $3}')"
check "broken edit: old data still served" "192.0.2.11" "$(qs www.example.test A)"
check_match "broken edit: error line with file:line" "example\\.test:$((lines + 1)): " "$(cat "$ZL_LOG")"
check_match "broken edit: says the old version stays" 'still serving example.test serial 2026113002' "$(cat "$ZL_LOG")"

# Fix it, add a zone, remove one; HUP.
cp "$ZL_TMP/good" "$ZL_ZONES/example.test"
sed -i 's/ 2026113002 / 2026113004 /' "$ZL_ZONES/example.test"
sed 's/second\.test/third.test/g' "$ZL_ZONES/second.test" >"$ZL_ZONES/third.test"
rm "$ZL_ZONES/second.test"
n=$(grep -c 'zones served' "$ZL_LOG")
kill -HUP "$ZL_PID"
wait_reload "$n"
check "fixed zone: new serial" "2026113004" "$(q example.test SOA +short | awk '{print $3}')"
check "new file: zone served" "1" "$(q third.test SOA +short | awk '{print $3}')"
check "removed file: zone dropped" "REFUSED" "$(status second.test SOA)"

# Reloads while queries run: every answer is one version or the other.
$ZL_PY - "$ZL_PORT" <<'PY' >"$ZL_TMP/load.out" &
import socket, struct, sys, time
port = int(sys.argv[1])
q = struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x03www\x07example\x04test\x00" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
bad = ok = 0
end = time.monotonic() + 3
while time.monotonic() < end:
    s.sendto(q, ("127.0.0.1", port))
    try:
        r, _ = s.recvfrom(4096)
        ok += r[-4:] in (bytes([192, 0, 2, 11]), bytes([192, 0, 2, 12]))
        bad += r[-4:] not in (bytes([192, 0, 2, 11]), bytes([192, 0, 2, 12]))
    except socket.timeout:
        bad += 1
print("ok" if bad == 0 and ok > 100 else "bad %d ok %d" % (bad, ok))
PY
lp=$!
i=0
while [ $i -lt 8 ]; do
    if [ $((i % 2)) -eq 0 ]; then a=192.0.2.12; else a=192.0.2.11; fi
    sed -i "s/^www IN A .*/www IN A $a/; s/ 20261130[0-9][0-9] / 20261131$i$i /" "$ZL_ZONES/example.test"
    kill -HUP "$ZL_PID"; sleep 0.3; i=$((i + 1))
done
wait $lp
check "answers stay whole during 8 reloads under load" "ok" "$(cat "$ZL_TMP/load.out")"

zl_stop
check "SIGTERM: exit status 0" "0" "$ZL_STATUS"
check_match "SIGTERM: stop logged" 'SIGTERM: stopping' "$(cat "$ZL_LOG")"
tap_done
