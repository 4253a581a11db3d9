#!/bin/sh
# NSD, Knot and BIND as secondaries of a primary that takes UPDATEs:
# nsupdate and knsupdate (hmac-sha256, hmac-md5, hmac-sha1; UDP and TCP)
# make a series of changes covering every update form (RFC 2136 §2.5) and
# prerequisite form (§2.4); after each, the primary serves exactly the
# expected zone, every secondary is NOTIFYed (RFC 1996), transfers by
# IXFR (RFC 1995; the first transfer is an AXFR) with TSIG (RFC 8945) and
# serves byte for byte the primary's zone. Refusals (unsigned, wrong
# secret, unknown key, a key without the update right, another zone's
# key, time skew) answer the right rcode and TSIG error and leave the zone
# byte for byte unchanged.
#
# The primary is zonelet, and every answer must be the RFC's (issue 7).
# With PRIMARY=knot the same suite runs against Knot DNS: that calibrates
# the harness (tests/system/peers.sh); where Knot departs from the RFCs
# the expected answer is Knot's and the RFC's is printed beside it.
# Knot's NOTIFYs are signed with the zone's _transfer key, as zonelet's
# must be.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
peers_need knotd nsd named nsupdate knsupdate
t_start=$(date +%s)

Z=example.test
zl_write_zone "$ZL_TMP/$Z" 2026120401
# Secondaries retry fast; refresh stays longer than the test so that
# every transfer after the first follows a NOTIFY.
sed -i 's/ 7200 3600 1209600 300$/ 600 2 1209600 300/' "$ZL_TMP/$Z"
printf '$ORIGIN other.test.\n$TTL 300\n@ SOA ns1 h 1 600 2 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n' >"$ZL_TMP/other.test"

U256=$(key_new u256._update.$Z hmac-sha256)
U5=$(key_new u5._update.$Z hmac-md5)
U1=$(key_new u1._update.$Z hmac-sha1)
XFR=$(key_new sec._transfer.$Z hmac-sha512)
OTHER=$(key_new u._update.other.test hmac-sha256)
Q224=$(key_new q224._notify.$Z hmac-sha224)
Q384=$(key_new q384._notify.$Z hmac-sha384)
SECONDARIES="s-nsd s-knot s-bind"
# NSD is told over IPv6 when the host has it (zonelet's --notify-to takes both).
NSD_NOTIFY=127.0.0.1:$(peer_port s-nsd)
[ "$_PEERS_V6" = yes ] && NSD_NOTIFY="[::1]:$(peer_port s-nsd)"

t0=$(date +%s.%N)
if ! primary_start --zone $Z "$ZL_TMP/$Z" --zone other.test "$ZL_TMP/other.test" \
    --tsig-key "$U256" --tsig-key "$U5" --tsig-key "$U1" --tsig-key "$XFR" --tsig-key "$OTHER" \
    --tsig-key "$Q224" --tsig-key "$Q384" \
    --notify-to "$NSD_NOTIFY" --notify-to "127.0.0.1:$(peer_port s-knot)" \
    --notify-to "127.0.0.1:$(peer_port s-bind)"; then
    not_ok "${PRIMARY:-zonelet} starts as the primary"
    tap_done
fi
P=$PRIMARY_ADDR:$PRIMARY_PORT
echo "# primary ($PRIMARY_KIND) on $P started in $(echo "$t0 $(date +%s.%N)" | awk '{printf "%.2f", $2 - $1}') s"

# The primary's zone as loaded: its dump is the file in canonical form.
zone_dump "$P" $Z "$XFR" >"$ZL_TMP/prev.dump"
$ZL_ZONETOOL norm "$ZL_TMP/$Z" $Z >"$ZL_TMP/file.dump"
check_zone "primary: AXFR with TSIG gives the zone file" "$ZL_TMP/file.dump" "$ZL_TMP/prev.dump"
check "primary: AXFR without a key is refused" "1" "$(zone_dump "$P" $Z >/dev/null 2>&1; echo $?)"
if [ "$_PEERS_V6" = yes ]; then
    zone_dump "[::1]:$PRIMARY_PORT" $Z "$XFR" >"$ZL_TMP/v6.dump"
    check_zone "primary: the same zone by AXFR over IPv6" "$ZL_TMP/file.dump" "$ZL_TMP/v6.dump"
fi

for s in $SECONDARIES; do
    kind=${s#s-}
    t0=$(date +%s.%N)
    if ! secondary_start "$kind" "$s" $Z "$PRIMARY_ADDR" "$PRIMARY_PORT" "$XFR"; then
        not_ok "$kind starts as a secondary"
        continue
    fi
    t1=$(date +%s.%N)
    peer_sync "$s" 2026120401 "$ZL_TMP/$s.dump"
    echo "# $kind: started in $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s, served the zone ${PEER_WAITED} s later"
    check_zone "$kind: first transfer, serves the primary's zone" "$ZL_TMP/prev.dump" "$ZL_TMP/$s.dump"
    check "$kind: the first transfer is an AXFR (tap)" "AXFR 2026120401" "$(peer_xfrs "$s" | head -1)"
    if [ "$kind" != nsd ]; then
        check "$kind: its log says AXFR too" "AXFR" "$(peer_xfrs_log "$s" | head -1)"
    fi
done

# step DESC TOOL KEY PROTO CHANGES [SERIAL] < SCRIPT
# One update through TOOL; CHANGES ("+ RR" / "- RR" lines, zonetool.py
# patch) is what it must do to the zone; SERIAL the new serial when the
# update sets it (else the old one plus one).
step() {
    desc=$1 tool=$2 key=$3 proto=$4 changes=$5
    step_t0=$(date +%s)
    old=$(dump_serial "$ZL_TMP/prev.dump")
    new=${6:-$((old + 1))}
    check "$desc: $tool $(key_alg "$key") $proto: NOERROR" "NOERROR tsig-error=NOERROR" \
        "$(ns_update "$tool" "$P" $Z "$key" "$proto")"
    zone_dump "$P" $Z "$XFR" >"$ZL_TMP/cur.dump"
    check "$desc: serial $old -> $new" "$new" "$(dump_serial "$ZL_TMP/cur.dump")"
    printf '%s\nserial %s\n' "$changes" "$new" | $ZL_ZONETOOL patch "$ZL_TMP/prev.dump" $Z >"$ZL_TMP/expected.dump"
    check_zone "$desc: the primary serves the expected zone" "$ZL_TMP/expected.dump" "$ZL_TMP/cur.dump"
    waited=""
    for s in $SECONDARIES; do
        kind=${s#s-}
        peer_sync "$s" "$new" "$ZL_TMP/$s.dump"
        waited="$waited $kind ${PEER_WAITED}s"
        check_zone "$desc: $kind serves the primary's zone" "$ZL_TMP/cur.dump" "$ZL_TMP/$s.dump"
        check "$desc: $kind transferred by IXFR" "IXFR $new" "$(peer_last_xfr "$s")"
        [ "$kind" = nsd ] || check "$desc: $kind's log says IXFR" "IXFR" "$(peer_xfrs_log "$s" | tail -1)"
        check_match "$desc: $kind took the NOTIFY for $new" "^$new\$" "$(peer_notifies "$s")"
    done
    cp "$ZL_TMP/cur.dump" "$ZL_TMP/prev.dump"
    echo "# $desc: step took $(( $(date +%s) - step_t0 )) s; secondaries waited:$waited"
}

step "add RRs (new RRset, existing RRset)" nsupdate "$U256" udp "
+ new 300 A 192.0.2.50
+ new 300 A 192.0.2.51
+ www 3600 AAAA 2001:db8::11" <<EOF
update add new.$Z. 300 A 192.0.2.50
update add new.$Z. 300 A 192.0.2.51
update add www.$Z. 3600 AAAA 2001:db8::11
EOF

step "name in use / not in use; delete one RR" knsupdate "$U5" tcp "
- new 300 A 192.0.2.50" <<EOF
prereq yxdomain new.$Z.
prereq nxdomain absent.$Z.
update delete new.$Z. A 192.0.2.50
EOF

step "RRset exists / does not exist; delete an RRset" nsupdate "$U1" tcp "
- www 3600 AAAA 2001:db8::10
- www 3600 AAAA 2001:db8::11
+ www 600 TXT \"web\"" <<EOF
prereq yxrrset www.$Z. AAAA
prereq nxrrset www.$Z. TXT
update delete www.$Z. AAAA
update add www.$Z. 600 TXT "web"
EOF

PEER_KEYFILE=1  # the next two steps give the key in a file (-k)
step "RRset exists (value dependent); delete a name" knsupdate "$U256" udp "
- mail 3600 A 192.0.2.25
+ mail2 3600 A 192.0.2.26
- @ 3600 MX 10 mail
+ @ 3600 MX 20 mail2" <<EOF
prereq yxrrset mail.$Z. A 192.0.2.25
update delete mail.$Z.
update add mail2.$Z. 3600 A 192.0.2.26
update delete $Z. MX 10 mail.$Z.
update add $Z. 3600 MX 20 mail2.$Z.
EOF

step "the SOA, serial raised by the update" nsupdate "$U5" udp "
- @ 0 SOA
+ @ 3600 SOA ns1 hostmaster 1 600 2 1209600 120" 2026120500 <<EOF
update add $Z. 3600 SOA ns1.$Z. hostmaster.$Z. 2026120500 600 2 1209600 120
EOF

PEER_KEYFILE=0
step "apex NS and a CNAME" knsupdate "$U1" tcp "
+ @ 3600 NS ns3
+ ns3 3600 A 192.0.2.3
- @ 3600 NS ns2
+ ftp 3600 CNAME www" <<EOF
update add $Z. 3600 NS ns3.$Z.
update add ns3.$Z. 3600 A 192.0.2.3
update delete $Z. NS ns2.$Z.
update add ftp.$Z. 3600 CNAME www.$Z.
EOF

# Many records in one update: a transfer of several messages? (Knot packs
# up to 64 KiB a message) and an IXFR far bigger than a UDP answer.
{
    i=0
    while [ $i -lt 600 ]; do echo "update add h$i.bulk.$Z. 300 A 198.51.100.$((i % 250))"; i=$((i + 1)); done
} >"$ZL_TMP/bulk.script"
bulk_changes=$(i=0; while [ $i -lt 600 ]; do echo "+ h$i.bulk 300 A 198.51.100.$((i % 250))"; i=$((i + 1)); done)
step "600 records in one update" nsupdate "$U256" tcp "$bulk_changes" <"$ZL_TMP/bulk.script"

sed 's/^update add \([^ ]*\) 300 A .*/update delete \1 A/' "$ZL_TMP/bulk.script" >"$ZL_TMP/unbulk.script"
step "600 RRsets deleted in one update" knsupdate "$U5" tcp "$(echo "$bulk_changes" | sed 's/^+/-/')" <"$ZL_TMP/unbulk.script"

step "an RRset's TTL changed (delete and add)" nsupdate "$U1" udp "
- ns1 3600 A 192.0.2.1
+ ns1 60 A 192.0.2.1" <<EOF
update delete ns1.$Z. A
update add ns1.$Z. 60 A 192.0.2.1
EOF

# ---- TSIG on queries and NOTIFY to the primary ------------------------------------

# Every algorithm signs a query and verifies the signed answer (RFC 8945
# §5.3: the answer to a signed request is signed with the same key).
for k in "$U5" "$U1" "$Q224" "$U256" "$Q384" "$XFR"; do
    check_match "signed SOA query, $(key_alg "$k"): answered and signed" "^NOERROR tsig=valid tsig-error=NOERROR .*answers=1" \
        "$($ZL_ZONETOOL query "$P" $Z SOA --key "$k")"
done
check_match "signed query, algorithm name in upper case (certbot's way)" "^NOERROR tsig=valid tsig-error=NOERROR" \
    "$($ZL_ZONETOOL query "$P" $Z SOA --key "$U256" --alg-name HMAC-SHA256.)"
line=$($ZL_ZONETOOL notify "$P" $Z --key "$Q224" --serial "$(dump_serial "$ZL_TMP/prev.dump")")
check_match "NOTIFY signed with a _notify key: NOERROR, signed" "^NOERROR tsig=valid tsig-error=NOERROR" "$line"
echo "# NOTIFY answer: $line"

# ---- refusals ------------------------------------------------------------------

# answer DESC RFC KNOT COMMAND...: the answer's "RCODE tsig-error=ERR" is
# RFC's (KNOT's when PRIMARY_KIND=knot).
answer() {
    local desc=$1 rfc=$2 knot=$3 want got
    shift 3
    want=$rfc
    [ "$PRIMARY_KIND" = knot ] && want=$knot
    [ "$rfc" != "$knot" ] && echo "# $desc: the RFC (and issue 7) want '$rfc', Knot answers '$knot'"
    got=$("$@" | awk '{ e = "-"; for (i = 2; i <= NF; i++) if ($i ~ /^tsig-error=/) e = $i; print $1, e }')
    check "$desc: $want" "$want" "$got"
}
# refusal DESC RFC KNOT COMMAND...: answer, and the zone is unchanged.
refusal() {
    local desc=$1
    shift
    zone_dump "$P" $Z "$XFR" >"$ZL_TMP/before.dump"
    answer "refused, $desc" "$@"
    zone_dump "$P" $Z "$XFR" >"$ZL_TMP/after.dump"
    check_zone "refused, $desc: the zone is unchanged" "$ZL_TMP/before.dump" "$ZL_TMP/after.dump"
}
R=$(cat <<EOF
update add refused.$Z. 300 A 192.0.2.66
EOF
)
WRONG=$(key_wrong_secret "$U256")
UNKNOWN=$(key_new nobody._update.$Z hmac-sha256)
rns() { echo "$R" | ns_update "$@"; }
rraw() { echo "add refused 300 A 192.0.2.66" | raw_update "$P" $Z "$@"; }

# RFC 2136 §3.3: no permission -> REFUSED; RFC 8945 §5.2: TSIG failures -> NOTAUTH
refusal "nsupdate unsigned (UDP)" "REFUSED tsig-error=-" "NOTAUTH tsig-error=-" rns nsupdate "$P" $Z "" udp
refusal "knsupdate unsigned (TCP)" "REFUSED tsig-error=-" "NOTAUTH tsig-error=-" rns knsupdate "$P" $Z "" tcp
refusal "nsupdate wrong secret" "NOTAUTH tsig-error=BADSIG" "NOTAUTH tsig-error=BADSIG" rns nsupdate "$P" $Z "$WRONG" udp
refusal "knsupdate wrong secret (TCP)" "NOTAUTH tsig-error=BADSIG" "NOTAUTH tsig-error=BADSIG" rns knsupdate "$P" $Z "$WRONG" tcp
refusal "nsupdate unknown key" "NOTAUTH tsig-error=BADKEY" "NOTAUTH tsig-error=BADKEY" rns nsupdate "$P" $Z "$UNKNOWN" tcp
refusal "knsupdate unknown key" "NOTAUTH tsig-error=BADKEY" "NOTAUTH tsig-error=BADKEY" rns knsupdate "$P" $Z "$UNKNOWN" udp
refusal "nsupdate, a transfer key (no update right)" "REFUSED tsig-error=NOERROR" "NOTAUTH tsig-error=BADKEY" \
    rns nsupdate "$P" $Z "$XFR" udp
refusal "knsupdate, another zone's update key" "REFUSED tsig-error=NOERROR" "NOTAUTH tsig-error=BADKEY" \
    rns knsupdate "$P" $Z "$OTHER" tcp
refusal "signed 1000 s ahead" "NOTAUTH tsig-error=BADTIME" "NOTAUTH tsig-error=BADTIME" rraw --key "$U256" --time-offset 1000
refusal "signed 1000 s behind (TCP)" "NOTAUTH tsig-error=BADTIME" "NOTAUTH tsig-error=BADTIME" rraw --key "$U1" --time-offset -1000 --tcp
refusal "a flipped MAC bit" "NOTAUTH tsig-error=BADSIG" "NOTAUTH tsig-error=BADSIG" rraw --key "$U5" --bad-mac
# RFC 8945 §5.2.2.1: a MAC shorter than max(10 octets, half the hash) is a
# FORMERR; Knot checks no truncation at all (BADSIG).
refusal "a MAC truncated to 8 octets" "FORMERR tsig-error=-" "NOTAUTH tsig-error=BADSIG" rraw --key "$U256" --truncate 8
# ... and one at least that long is accepted (Knot: BADSIG).
answer "signed query, hmac-sha256 MAC truncated to 16 octets" "NOERROR tsig-error=NOERROR" "NOTAUTH tsig-error=BADSIG" \
    $ZL_ZONETOOL query "$P" $Z SOA --key "$U256" --truncate 16

# Transfers and NOTIFY: REFUSED as issue 7 requires (RFC 2136 §3.3's rule
# carried over); Knot answers NOTAUTH.
rq() { $ZL_ZONETOOL "$@"; }
refusal "AXFR without a key" "REFUSED tsig-error=-" "NOTAUTH tsig-error=-" rq query "$P" $Z AXFR --tcp
refusal "IXFR without a key" "REFUSED tsig-error=-" "NOTAUTH tsig-error=-" rq query "$P" $Z IXFR --tcp
refusal "AXFR with another zone's key" "REFUSED tsig-error=NOERROR" "NOTAUTH tsig-error=BADKEY" \
    rq query "$P" $Z AXFR --tcp --key "$OTHER"
refusal "AXFR with a _notify key" "REFUSED tsig-error=NOERROR" "NOTAUTH tsig-error=BADKEY" \
    rq query "$P" $Z AXFR --tcp --key "$Q384"
refusal "NOTIFY without a key" "REFUSED tsig-error=-" "NOTAUTH tsig-error=-" rq notify "$P" $Z
line=$($ZL_ZONETOOL query "$P" $Z AXFR --key "$XFR")
check_match "AXFR over UDP: no zone data" "answers=0" "$line"
echo "# AXFR over UDP: $line"

# RFC 8945 §5.3.2: BADSIG/BADKEY answers carry an empty MAC; the BADTIME
# answer is signed and carries the server's time (§5.2.3).
line=$(rraw --key "$WRONG")
check_match "BADSIG answer: TSIG with an empty MAC" "tsig=empty tsig-error=BADSIG" "$line"
line=$(rraw --key "$UNKNOWN")
check_match "BADKEY answer: TSIG with an empty MAC" "tsig=empty tsig-error=BADKEY" "$line"
line=$(rraw --key "$U256" --time-offset 1000)
check_match "BADTIME answer: signed" "tsig=valid tsig-error=BADTIME" "$line"
echo "# BADTIME answer (signed 1000 s ahead, at $(date +%s)): $line"
st=$(echo "$line" | sed -n 's/.*server-time=\([0-9]*\).*/\1/p')
check "BADTIME answer: the server's time in Other Data" "near" \
    "$(echo "${st:-0} $(date +%s)" | awk '{ d = $1 - $2; print (d > -5 && d < 5) ? "near" : "off by " d }')"

# Each secondary still serves the zone of the last accepted update.
for s in $SECONDARIES; do
    peer_dump "$s" >"$ZL_TMP/$s.dump"
    check_zone "after the refusals: ${s#s-} still serves the primary's zone" "$ZL_TMP/prev.dump" "$ZL_TMP/$s.dump"
done

echo "# transfers seen by the taps:"
for s in $SECONDARIES; do echo "#   ${s#s-}: $(peer_xfrs "$s" | tr '\n' ' ')"; done
echo "# total run time: $(( $(date +%s) - t_start )) s"
tap_done
