#!/bin/sh
# ACME issuance wall time against Pebble (PEBBLE_VA_NOSLEEP=1, no nonce
# rejection), in a private network namespace on 127.0.0.1:
#   lego 4.9 (rfc2136 provider, hmac-sha256, UDP) and certbot 2.1
#   (certbot-dns-rfc2136, hmac-md5, TCP, --dns-rfc2136-propagation-seconds
#   1) through zonelet and through Knot DNS (knotd configured as
#   tests/system/peers.sh's knot_primary_start does: the same zone, the
#   same keys), each on 127.0.0.1:53 (the zone's NS address, so lego's
#   check of the authoritative servers is real); and zonelet's own client
#   (--acme-directory) driven by `zonelet certify` (a CSR submitted by
#   UPDATE, the certificate TLSA waited for: the whole round trip);
#   and, beside them, how fast each server answers what Pebble's
#   validation asks (three TXT queries at once over UDP).
# Each client gets ACME_ROUNDS (8) certificates per server, each for a new
# name (the account is made by a first, untimed run). Prints every time,
# then median, min and max per client and server, zonelet's median over
# Knot's, and how many runs took longer than 4 s: lego polls an
# authorization every 5 s when Pebble has not finished validating at its
# first look (it sends no Retry-After), so its times are bimodal (about
# 1.2 s, or about 6.5 s) whichever server answers; the count (lego
# rows) says how often each server's runs lost that race, and the last
# column is the median of the runs that did not. (Measured with a
# logging proxy: Pebble's three TXT queries come 2 ms after lego's last
# check and are answered within 0.5 ms by either server; who wins is
# decided inside Pebble and lego. lego also polls the order every
# 500 ms, hence runs of about 1.15 s and 1.65 s.) The servers take turns, the
# first one alternating from round to round, so that a busy spell of the
# machine hits both.
#   make bench-acme       (or: sh tests/bench/acme-bench.sh)
# Environment: ACME_ROUNDS (8), ZL_BIN (build/zonelet, the optimised
# build), BENCH_OUT (build/bench: acme.txt gets the summary).
ZL_BIN=${ZL_BIN:-build/zonelet}
export ZL_BIN
. "$(dirname "$0")/../system/lib.sh"
. "$(dirname "$0")/../system/peers.sh"
. "$(dirname "$0")/../system/acme.sh"
acme_netns "$@"
need_tools dig openssl pebble lego certbot knotd
ROUNDS=${ACME_ROUNDS:-8}
OUT=${BENCH_OUT:-build/bench}
mkdir -p "$OUT"
trap 'pebble_stop_all; [ -n "${KEEP:-}" ] && cp -r "$ZL_TMP" "$KEEP"; peers_cleanup' EXIT

KLEGO="lego._update.example.test:hmac-sha256:bGVnby1zaGEyNTYta2V5LXNlY3JldC1mb3ItdGhlLWFjbWUtdGVzdHM="
KCERTBOT="certbot._update.example.test:hmac-md5:Y2VydGJvdC1tZDUta2V5LXNlY3JldA=="
KCERTIFY="certify._update.example.test:hmac-sha256:Y2VydGlmeS1rZXktc2VjcmV0LWZvci10aGUtYWdlbnQtdGVzdA=="
ZONE=$ACME_T/example.test
cat >"$ZONE" <<'Z'
$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 2026120501 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 127.0.0.1
_acme-challenge.static IN TXT "abcdefghijabcdefghijabcdefghijabcdefghijabc"
Z
acme_ca || { echo "openssl cannot make the CA"; exit 1; }
T=$ACME_T
now_ms() { date +%s%3N; }

# ---- the DNS servers, on 127.0.0.1:53 --------------------------------------
dns_start() { # zonelet|knot [zonelet options]
    kind=$1; shift
    case "$kind" in
    zonelet)
        cp "$ZONE" "$ZL_ZONES/example.test"
        for k in $KLEGO $KCERTBOT $KCERTIFY; do
            _key_split "$k"
            case "$_ka" in hmac-md5) a=157 ;; hmac-sha256) a=163 ;; esac
            echo "$_kn DNSKEY 0 3 $a $_ks"
        done >"$ZL_ZONES/_keys"
        ZL_FIXED_PORT=53 zl_start "$@" ;;
    knot)
        mkdir -p "$PEERS_DIR/knot" && echo 53 >"$PEERS_DIR/knot/port"
        knot_primary_start knot --zone example.test "$ZONE" --tsig-key "$KLEGO" --tsig-key "$KCERTBOT" ;;
    esac
}
dns_stop() {
    case "$1" in
    zonelet) zl_stop ;;
    knot) peer_stop knot; rm -rf "$PEERS_DIR/knot" ;;
    esac
}

# ---- the clients: each prints its wall time in ms, or "fail" ------------------
lego_issue() { # server host
    _key_split "$KLEGO"
    t0=$(now_ms)
    if LEGO_CA_CERTIFICATES="$T/ca.pem" RFC2136_NAMESERVER=127.0.0.1:53 RFC2136_TSIG_ALGORITHM=hmac-sha256. \
        RFC2136_TSIG_KEY="$_kn" RFC2136_TSIG_SECRET="$_ks" RFC2136_PROPAGATION_TIMEOUT=30 \
        RFC2136_POLLING_INTERVAL=1 RFC2136_TTL=60 \
        timeout 90 lego --server "$peb_DIR" --accept-tos --email bench@example.test --path "$T/lego-$1" \
        --dns rfc2136 --dns.resolvers 127.0.0.1:53 --domains "$2" run >>"$T/lego-$1.log" 2>&1 &&
        [ -s "$T/lego-$1/certificates/$2.crt" ]; then
        echo $(($(now_ms) - t0))
    else
        echo fail
    fi
}
certbot_issue() { # server host
    _key_split "$KCERTBOT"
    d=$T/certbot-$1
    mkdir -p "$d"
    printf 'dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = 53\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-MD5\n' \
        "$_kn" "$_ks" >"$d/creds.ini"
    chmod 600 "$d/creds.ini"
    t0=$(now_ms)
    if REQUESTS_CA_BUNDLE="$T/ca.pem" timeout 90 certbot certonly --non-interactive --agree-tos \
        -m bench@example.test --server "$peb_DIR" --config-dir "$d/cfg" --work-dir "$d/work" \
        --logs-dir "$d/logs" --dns-rfc2136 --dns-rfc2136-credentials "$d/creds.ini" \
        --dns-rfc2136-propagation-seconds 1 -d "$2" >>"$d.log" 2>&1 &&
        [ -s "$d/cfg/live/$2/cert.pem" ]; then
        echo $(($(now_ms) - t0))
    else
        echo fail
    fi
}
builtin_issue() { # server(zonelet) host
    t0=$(now_ms)
    if "$ZL_BIN" certify --server 127.0.0.1:53 --key "$KCERTIFY" --name "$2" --out "$T/certify/$2" \
        --wait 60 >>"$T/certify.log" 2>&1; then
        echo $(($(now_ms) - t0))
    else
        echo fail
    fi
}

# latency: what Pebble's validation asks (three identical TXT queries at
# once over UDP, RD=1, no EDNS), 300 times: the median, p90 and max in
# microseconds until all three are answered (client overhead included:
# the same for both servers).
latency() {
    "$ZL_PY" - <<'PY'
import random, select, socket, struct, time
def query(qid):
    name = b"".join(bytes([len(l)]) + l for l in b"_acme-challenge.static.example.test".split(b"."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + b"\0" + struct.pack(">HH", 16, 1)
res = []
for i in range(300):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    t0 = time.perf_counter()
    for s in socks:
        s.sendto(query(random.randrange(65536)), ("127.0.0.1", 53))
    left = set(socks)
    while left:
        ready, _, _ = select.select(list(left), [], [], 2)
        if not ready:
            break
        for s in ready:
            s.recv(4096)
            left.discard(s)
    if not left:
        res.append((time.perf_counter() - t0) * 1e6)
    for s in socks:
        s.close()
    time.sleep(0.002)
res.sort()
print("%.0f %.0f %.0f %d" % (res[len(res) // 2], res[len(res) * 9 // 10], res[-1], len(res)) if res else "- - - 0")
PY
}

# stats FILE: "median min max n slow fastmedian" of the numbers in FILE
# (fail lines counted apart; slow: how many took more than 4000 ms;
# fastmedian: the median of the others).
stats() {
    grep -E '^[0-9]+$' "$1" | sort -n | awk '{v[NR]=$1; if ($1 > 4000) slow++; else f[++nf]=$1} END {
        if (NR == 0) { print "- - - 0 0 -"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        fm = nf == 0 ? "-" : nf % 2 ? f[(nf + 1) / 2] : (f[nf / 2] + f[nf / 2 + 1]) / 2
        printf "%d %d %d %d %d %s\n", m, v[1], v[NR], NR, slow + 0, fm }'
}

# One Pebble for everything: it validates against 127.0.0.1:53, whichever
# server is there.
pebble_start peb 127.0.0.1:53 0 || exit 1
echo "# rounds: $ROUNDS per client and server; zonelet: $ZL_BIN; $(knotd --version 2>&1 | head -1)"
: >"$T/times"
round=0
while [ $round -le "$ROUNDS" ]; do
    order="zonelet knot"
    [ $((round % 2)) -eq 1 ] && order="knot zonelet"
    for srv in $order; do
        dns_start "$srv" --workers 1 || { echo "$srv does not start"; exit 1; }
        for client in lego certbot; do
            [ $round -eq 0 ] && [ $client = lego ] && latency >"$T/latency.$srv"
            ms=$(${client}_issue "$srv" "$client-$srv-$round.example.test")
            # Round 0 makes the accounts: not counted.
            [ $round -gt 0 ] && echo "$client $srv $ms" >>"$T/times"
            echo "# round $round: $client via $srv: $ms ms"
        done
        dns_stop "$srv"
    done
    round=$((round + 1))
done
# The built-in client: zonelet with --acme-directory, certify per name.
dns_start zonelet --workers 1 --acme-directory "$peb_DIR" --acme-ca "$T/ca.pem" --acme-email bench@example.test ||
    { echo "zonelet with --acme-directory does not start"; exit 1; }
round=0
while [ $round -le "$ROUNDS" ]; do
    ms=$(builtin_issue zonelet "builtin-$round.example.test")
    [ $round -gt 0 ] && echo "builtin zonelet $ms" >>"$T/times"
    echo "# round $round: zonelet's own client (certify): $ms ms"
    round=$((round + 1))
done
grep -E 'obtained in' "$ZL_LOG" | sed 's/.*obtained in \([0-9]*\) ms.*/\1/' | tail -n "$ROUNDS" >"$T/builtin-order"
dns_stop zonelet

{
    echo "ACME issuance wall time, ms ($ROUNDS rounds; Pebble without VA sleep)"
    printf '%-34s %8s %8s %8s %3s %8s %5s %9s\n' "client via server" median min max n "vs knot" ">4s" "med.<4s"
    for client in lego certbot; do
        for srv in zonelet knot; do
            awk -v c=$client -v s=$srv '$1 == c && $2 == s {print $3}' "$T/times" >"$T/t.$client.$srv"
        done
        set -- $(stats "$T/t.$client.knot"); kmed=$1
        for srv in zonelet knot; do
            set -- $(stats "$T/t.$client.$srv")
            ratio=-
            [ "$kmed" != "-" ] && [ "$1" != "-" ] && ratio=$(awk -v a="$1" -v b="$kmed" 'BEGIN {printf "%.2fx", a / b}')
            slow=$5 fast=$6
            [ $client = lego ] || { slow=-; fast=-; }
            printf '%-34s %8s %8s %8s %3s %8s %5s %9s\n' "$client via $srv" "$1" "$2" "$3" "$4" "$ratio" "$slow" "$fast"
        done
        echo "  ($client failures: $(grep -c "^$client .* fail$" "$T/times"))"
    done
    for srv in zonelet knot; do
        set -- $(cat "$T/latency.$srv")
        printf '%-34s %8s %8s %8s %3s   (us: median p90 max n)\n' "Pebble's 3 TXT queries, $srv" "$1" "$2" "$3" "$4"
    done
    awk '$1 == "builtin" {print $3}' "$T/times" >"$T/t.builtin"
    set -- $(stats "$T/t.builtin")
    printf '%-34s %8s %8s %8s %3s\n' "zonelet's own client (certify)" "$1" "$2" "$3" "$4"
    set -- $(stats "$T/builtin-order")
    printf '%-34s %8s %8s %8s %3s\n' "  of which the order (agent log)" "$1" "$2" "$3" "$4"
} | tee "$OUT/acme.txt"
