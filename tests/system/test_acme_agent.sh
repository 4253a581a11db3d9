#!/bin/sh
# The built-in ACME client (--acme-directory) and `zonelet certify`
# against Pebble, in a private network namespace on 127.0.0.1 (Pebble
# validates DNS-01 against zonelet itself):
#   - certify for two names: key.pem, cert.pem, chain.pem; the certificate
#     verifies against Pebble's root and carries both names; the TLSA
#     records at _letsencrypt._tcp hold it and its CA; the challenge TXT
#     records are gone; each step is logged with the order URL; the
#     account key is in the store (_acme, 0600) and never in the log;
#   - certify again before renewal time: the certificate taken as it is,
#     no order, the records untouched; a restart looks and leaves them;
#   - a restart with a renewal window longer than Pebble's validity
#     (--acme-renew-days 2000: Pebble's certificates last 5 years) renews:
#     a new certificate, the stored account key reused;
#   - Pebble refusing half of the nonces (PEBBLE_WFE_NONCEREJECT=50) is
#     survived;
#   - a CSR with a name outside the served zones: one log line, no order;
#   - stopped while an order waits between two polls (a scripted ACME
#     server that always says Retry-After: 3600): zonelet stops cleanly,
#     the challenge record removed first;
#   - the git store (--remote file://, a bare repository checking pushes
#     with scripts/pre-receive): the account key, the challenges and the
#     certificate are commits of the branch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme.sh"
acme_netns "$@"
need_tools dig openssl pebble git
if ! /usr/bin/python3 -c 'import jwcrypto, cryptography' 2>/dev/null; then
    echo "ok 1 - test_acme_agent # SKIP python3-jwcrypto or python3-cryptography not installed"; echo 1..1; exit 0
fi
FAKE_PID=
trap 'pebble_stop_all; [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; [ -n "${KEEP:-}" ] && cp -r "$ZL_TMP" "$KEEP"; zl_cleanup' EXIT

K=Y2VydGlmeS1rZXktc2VjcmV0LWZvci10aGUtYWdlbnQtdGVzdA==
KEY="cert._update.example.test:hmac-sha256:$K"
write_zones() { # DIR
    cat >"$1/example.test" <<'Z'
$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 2026120501 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 127.0.0.1
Z
    echo "cert._update.example.test. DNSKEY 0 3 163 $K" >"$1/_keys"
}
write_zones "$ZL_ZONES"
acme_ca || { not_ok "openssl makes the test CA"; tap_done; }
PORT=$(zl_free_port)
pebble_start p0 "127.0.0.1:$PORT" 0 && pebble_start p50 "127.0.0.1:$PORT" 50 ||
    { not_ok "pebble starts"; tap_done; }
pebble_root p0 >"$ACME_T/root0.pem"
pebble_root p50 >"$ACME_T/root50.pem"

# start DIRECTORY [OPTIONS]: zonelet on $PORT with the ACME client.
start() {
    dir=$1; shift
    ZL_FIXED_PORT=$PORT zl_start --workers 1 --acme-directory "$dir" --acme-ca "$ACME_T/ca.pem" \
        --acme-email acme@example.test "$@"
}
# certify OUT NAME... (--wait 30); output in $ACME_T/OUT.log
certify() {
    out=$1; shift
    args=""
    for n in "$@"; do args="$args --name $n"; done
    "$ZL_BIN" certify --server "127.0.0.1:$PORT" --key "$KEY" $args --out "$ACME_T/$out" \
        --wait "${WAIT:-30}" >"$ACME_T/$out.log" 2>&1
}
# tlsa OWNER: the TLSA records, "U S M HEX" sorted.
tlsa() {
    dig @127.0.0.1 -p "$PORT" +tcp +norec +time=3 +tries=1 +short TLSA "$1" |
        awk '{u=$1" "$2" "$3; $1=$2=$3=""; gsub(/ /,""); print u" "toupper($0)}' | sort
}
der_hex() { openssl x509 -in "$1" -outform DER | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
orders() { grep -c 'POST /order-plz' "$ACME_T/$1.log"; }
serial() { dig @127.0.0.1 -p "$PORT" +norec +short SOA example.test | awk '{print $3}'; }
# wait_log REGEX: up to 20 s for a line of the server's log.
wait_log() {
    i=0; while [ $i -lt 200 ] && ! grep -Eq -- "$1" "$ZL_LOG"; do sleep 0.1; i=$((i + 1)); done
    grep -Eq -- "$1" "$ZL_LOG"
}
now_ms() { date +%s%3N; }
OWNER=_letsencrypt._tcp.www.example.test

help=$("$ZL_BIN" --help 2>&1)
for o in acme-directory acme-email acme-ca acme-renew-days; do
    check_match "--help lists --$o" "^  --$o " "$help"
done
check_match "zonelet certify --help says what it does" "usage: zonelet certify --server ADDR:PORT" \
    "$("$ZL_BIN" certify --help 2>&1)"
"$ZL_BIN" certify --server 127.0.0.1:1 --name x.example.test >/dev/null 2>&1
check "zonelet certify without --key or --out: usage error (2)" 2 $?

# ---- certify for two names --------------------------------------------------
start "$p0_DIR" || { not_ok "zonelet starts with --acme-directory"; tap_done; }
t0=$(now_ms)
if certify c1 www.example.test api.example.test; then
    ok "zonelet certify for two names"
    echo "# issued through the built-in client in $(($(now_ms) - t0)) ms (certify, wall time)"
else
    not_ok "zonelet certify for two names" "$(cat "$ACME_T/c1.log"; tail -20 "$ZL_LOG")"
fi
check "the certificate verifies against Pebble's root" "$ACME_T/c1/cert.pem: OK" \
    "$(cert_verify "$ACME_T/c1" "$ACME_T/root0.pem")"
check "it carries both names" "DNS:www.example.test,DNS:api.example.test" "$(cert_names "$ACME_T/c1/cert.pem")"
check "key.pem is the certificate's key" \
    "$(openssl x509 -in "$ACME_T/c1/cert.pem" -noout -pubkey 2>&1)" "$(openssl pkey -in "$ACME_T/c1/key.pem" -pubout 2>&1)"
check "key.pem is private to its owner" "600" "$(stat -c %a "$ACME_T/c1/key.pem" 2>&1)"
check "chain.pem is Pebble's intermediate" "$(der_hex "$ACME_T/c1/chain.pem")" \
    "$("$ZL_PY" -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).read().decode())' \
        "$p0_MGMT/intermediates/0" "$ACME_T/ca.pem" | openssl x509 -outform DER | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
records=$(tlsa $OWNER)
check_match "the TLSA records hold the CSR" "^3 255 0 [0-9A-F]+$" "$records"
check "... the certificate (3 0 0)" "3 0 0 $(der_hex "$ACME_T/c1/cert.pem")" "$(echo "$records" | grep '^3 0 0')"
check "... and its CA (2 0 0)" "2 0 0 $(der_hex "$ACME_T/c1/chain.pem")" "$(echo "$records" | grep '^2 0 0')"
check "the challenge TXT records are gone" "" \
    "$(dig @127.0.0.1 -p "$PORT" +norec +short TXT _acme-challenge.www.example.test)$(dig @127.0.0.1 -p "$PORT" +norec +short TXT _acme-challenge.api.example.test)"
check_match "each step is logged with the order URL" \
    "acme: https://localhost:[0-9]+/my-order/[^ ]+: TXT record set at _acme-challenge.api.example.test" "$(cat "$ZL_LOG")"
check_match "... and the certificate stored" \
    "acme: https://localhost:[0-9]+/my-order/[^ ]+: certificate stored at $OWNER \(2 TLSA records\)" "$(cat "$ZL_LOG")"
check "the account key is in the zones directory, mode 0600" "600 EC PRIVATE KEY" \
    "$(stat -c %a "$ZL_ZONES/_acme" 2>&1) $(sed -n 's/^-----BEGIN \(.*\)-----$/\1/p' "$ZL_ZONES/_acme")"
check_nomatch "the account key is never logged" "PRIVATE KEY|$(sed -n 2p "$ZL_ZONES/_acme" | cut -c1-24)" "$(cat "$ZL_LOG")"
check_nomatch "the _acme file is not taken for a zone" "_acme.*(not loaded|zone name)" "$(cat "$ZL_LOG")"

# ---- again before renewal time ----------------------------------------------
wait_log "$OWNER: certificate valid until" >/dev/null
n0=$(orders p0) s0=$(serial)
cp "$ACME_T/c1/cert.pem" "$ACME_T/cert1.pem"
if certify c1 www.example.test api.example.test; then ok "certify again (same key.pem): done"; else not_ok "certify again" "$(cat "$ACME_T/c1.log")"; fi
check_match "... with the certificate the server holds" "holds a valid certificate" "$(cat "$ACME_T/c1.log")"
check "... the same certificate" "$(der_hex "$ACME_T/cert1.pem")" "$(der_hex "$ACME_T/c1/cert.pem")"
sleep 1.5   # the agent's watch runs every second
check "... no new order" "$n0" "$(orders p0)"
check "... the TLSA records and the zone untouched" "$records $s0" "$(tlsa $OWNER) $(serial)"

zl_stop
start "$p0_DIR" || { not_ok "zonelet restarts"; tap_done; }
if wait_log "acme: $OWNER: certificate valid until .*, renewal from "; then
    ok "after a restart the agent looks at the certificate and keeps it"
else
    not_ok "after a restart the agent looks at the certificate and keeps it" "$(cat "$ZL_LOG")"
fi
check "... no order" "$n0" "$(orders p0)"
check "... the records untouched" "$records" "$(tlsa $OWNER)"

# ---- a renewal forced by the renewal window ------------------------------------
zl_stop
start "$p0_DIR" --acme-renew-days 2000 || { not_ok "zonelet restarts with --acme-renew-days 2000"; tap_done; }
if wait_log "acme: https://[^ ]+: certificate stored at $OWNER"; then
    ok "--acme-renew-days 2000 (longer than the validity): renewed"
else
    not_ok "--acme-renew-days 2000 (longer than the validity): renewed" "$(cat "$ZL_LOG")"
fi
check_match "... logged as due" "acme: $OWNER: ordering a certificate: renewal due since" "$(cat "$ZL_LOG")"
check_match "... with the account key from the store" "acme: account key read from the store \(_acme\)" "$(cat "$ZL_LOG")"
check_match "... which Pebble knows" "acme: -: account https://[^ ]+ found" "$(cat "$ZL_LOG")"
check "... one more order" "$((n0 + 1))" "$(orders p0)"
new=$(tlsa $OWNER | grep '^3 0 0')
check_nomatch "... a new certificate in the TLSA records" "$(der_hex "$ACME_T/cert1.pem")" "$new"
certify c1 www.example.test api.example.test
check "certify then writes the new one" "3 0 0 $(der_hex "$ACME_T/c1/cert.pem")" "$new"
check "... which verifies" "$ACME_T/c1/cert.pem: OK" "$(cert_verify "$ACME_T/c1" "$ACME_T/root0.pem")"
check "the renewal replaced the old records (one certificate, one CA)" "1 1" \
    "$(tlsa $OWNER | grep -c '^3 0 0') $(tlsa $OWNER | grep -c '^2 0 0')"

# ---- badNonce injection -------------------------------------------------------
zl_stop
start "$p50_DIR" || { not_ok "zonelet restarts on the second Pebble"; tap_done; }
if certify c2 nonce.example.test; then
    check "PEBBLE_WFE_NONCEREJECT=50 is survived" "$ACME_T/c2/cert.pem: OK" "$(cert_verify "$ACME_T/c2" "$ACME_T/root50.pem")"
else
    not_ok "PEBBLE_WFE_NONCEREJECT=50 is survived" "$(cat "$ACME_T/c2.log"; tail -20 "$ZL_LOG")"
fi
check_match "... with badNonce errors retried" "obtained in [0-9]+ ms .* [1-9][0-9]* badNonce retries" "$(cat "$ZL_LOG")"

# ---- a name outside the zones served ------------------------------------------
n50=$(orders p50)
WAIT=3 certify c3 out.example.test www.elsewhere.test
check "a CSR with a name outside the served zones: no certificate (certify gives up)" "1 no" \
    "$? $([ -s "$ACME_T/c3/cert.pem" ] && echo yes || echo no)"
check_match "... refused with a log line" \
    "acme: _letsencrypt._tcp.out.example.test: CSR refused, no order: www.elsewhere.test is in no zone served here" \
    "$(cat "$ZL_LOG")"
sleep 1.5
check "... once" "1" "$(grep -c 'CSR refused' "$ZL_LOG")"
check "... and no order" "$n50" "$(orders p50)"
zl_stop
check "zonelet stops cleanly" 0 "$ZL_STATUS"

# ---- stopping in the middle of an order -------------------------------------------
# tests/acme/fake_acme.py's "clamp" scenario answers every poll with
# "Retry-After: 3600": the agent is in its wait between two polls, with
# the challenge record served, when zonelet is told to stop.
"$ZL_PY" tests/acme/fake_acme.py "$ACME_T/srv.pem" "$ACME_T/srv.key" "$ACME_T/srv.pem" clamp \
    >"$ACME_T/fake.out" 2>"$ACME_T/fake.err" &
FAKE_PID=$!
i=0; while [ $i -lt 100 ] && ! [ -s "$ACME_T/fake.out" ]; do sleep 0.1; i=$((i + 1)); done
FAKE_PORT=$(cut -d' ' -f1 "$ACME_T/fake.out")
start "https://localhost:$FAKE_PORT/dir" || { not_ok "zonelet starts on the scripted server"; tap_done; }
WAIT=0 certify c5 stop.example.test
if wait_log "acme: https://[^ ]+: challenge for stop.example.test answered"; then
    ok "an order under way, waiting between two polls"
else
    not_ok "an order under way, waiting between two polls" "$(cat "$ZL_LOG" "$ACME_T/fake.err")"
fi
check_match "... its challenge record served" '^"[A-Za-z0-9_-]{43}"$' \
    "$(dig @127.0.0.1 -p "$PORT" +norec +short TXT _acme-challenge.stop.example.test)"
t0=$(now_ms)
zl_stop
echo "# stopped in $(($(now_ms) - t0)) ms in the middle of an order"
check "zonelet stops in the middle of an order, cleanly" 0 "$ZL_STATUS"
check_match "... the order abandoned at its wait" "acme: https://[^ ]+: failed: stopped while waiting for authorizations" \
    "$(cat "$ZL_LOG")"
check_match "... its challenge record removed first" "acme: https://[^ ]+: TXT record removed at _acme-challenge.stop.example.test" \
    "$(cat "$ZL_LOG")"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
ZL_FIXED_PORT=$PORT zl_start --workers 1 || { not_ok "zonelet restarts"; tap_done; }
check "... and it stays removed" "NXDOMAIN" \
    "$(dig @127.0.0.1 -p "$PORT" +norec TXT _acme-challenge.stop.example.test | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
zl_stop

# ---- the git store ----------------------------------------------------------------
R=$ZL_TMP/repo.git WORK=$ZL_TMP/work
export GIT_AUTHOR_NAME=Operator GIT_AUTHOR_EMAIL=op@example.test
export GIT_COMMITTER_NAME=Operator GIT_COMMITTER_EMAIL=op@example.test
git init -q --bare -b main "$R" && git init -q -b main "$WORK" && write_zones "$WORK" &&
    git -C "$WORK" add -A && git -C "$WORK" commit -qm "zones" && git -C "$WORK" push -q "$R" main ||
    { not_ok "a bare repository with the zones"; tap_done; }
# The repository checks what is pushed (scripts/pre-receive): the key,
# the challenges and the certificate must pass it.
ln -s "$PWD/scripts/pre-receive" "$R/hooks/pre-receive"
export ZONELET="$PWD/$ZL_BIN"
start "$p0_DIR" --remote "file://$R" --cache "$ZL_TMP/cache" ||
    { not_ok "zonelet starts on the repository"; tap_done; }
if certify c4 git.example.test; then
    ok "certify with the git store"
else
    not_ok "certify with the git store" "$(cat "$ACME_T/c4.log"; tail -20 "$ZL_LOG")"
fi
check "... the certificate verifies" "$ACME_T/c4/cert.pem: OK" "$(cert_verify "$ACME_T/c4" "$ACME_T/root0.pem")"
check "... and is committed" "3 0 0 $(der_hex "$ACME_T/c4/cert.pem")" \
    "$(git -C "$R" show main:example.test | awk '$1 == "_letsencrypt._tcp.git.example.test." && $4 == "TLSA" && $5 == 3 && $6 == 0 {u=$5" "$6" "$7; $1=$2=$3=$4=$5=$6=$7=""; gsub(/[ ()]/,""); print u" "toupper($0)}')"
check_match "... by a commit of its own" "example.test: 2 records added, 0 removed by acme \(certificate for _letsencrypt._tcp.git.example.test\)" \
    "$(git -C "$R" log --format=%s main)"
check_match "the challenges are commits too" "example.test: 1 records added, 0 removed by acme \(challenge for _acme-challenge.git.example.test\)" \
    "$(git -C "$R" log --format=%s main)"
check "the account key is committed as _acme" "EC PRIVATE KEY" \
    "$(git -C "$R" show main:_acme | sed -n 's/^-----BEGIN \(.*\)-----$/\1/p')"
check_nomatch "... never logged" "PRIVATE KEY|$(git -C "$R" show main:_acme | sed -n 2p | cut -c1-24)" "$(cat "$ZL_LOG")"
zl_stop
check "zonelet stops cleanly" 0 "$ZL_STATUS"
tap_done
