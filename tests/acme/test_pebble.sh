#!/bin/sh
# The ACME client (acme/) against Pebble, Let's Encrypt's test CA, with
# pebble-challtestsrv as the DNS that Pebble validates DNS-01 against
# (build/test/acme_tool publishes the TXT records through its management
# API). Everything runs on 127.0.0.1 on free high ports; the test makes
# the CA and the certificate of Pebble's HTTPS port with openssl.
#   - two names, a certificate that `openssl verify` accepts against
#     Pebble's root (from its management port), both names in it, the key
#     written beside it, the TXT records gone afterwards; the issuance
#     wall time is printed (PEBBLE_VA_NOSLEEP=1, no badNonce injection);
#   - a wildcard and its base name (two TXT values at one name);
#   - the account key from the first run finds the same account;
#   - PEBBLE_WFE_NONCEREJECT=50 (half the good nonces refused) is survived;
#   - a CA file that did not sign Pebble's certificate, and a URL whose
#     host the certificate does not name, fail cleanly;
#   - a name whose TXT record is never published fails with Pebble's
#     problem type and detail.
. "$(dirname "$0")/../system/lib.sh"

TOOL=${ACME_TOOL:-build/test/acme_tool}
for t in pebble pebble-challtestsrv openssl dig; do
    if ! command -v $t >/dev/null 2>&1; then
        echo "ok 1 - test_pebble # SKIP $t not installed (scripts/deps.sh test)"; echo "1..1"; exit 0
    fi
done
if [ ! -x "$TOOL" ]; then echo "not ok 1 - $TOOL not built (make test-build)"; echo "1..1"; exit 1; fi

T=$ZL_TMP
PIDS=
stop_all() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    PIDS=
    zl_cleanup
}
trap stop_all EXIT

# Pebble's HTTPS certificate, from a CA of our own; a second CA that
# signed nothing Pebble has.
mkca() { # name
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
        -out "$T/$1.pem" -days 2 -subj "/CN=zonelet test $1" >/dev/null 2>&1
}
mkca ca && mkca wrongca &&
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
    -subj /CN=localhost -out "$T/srv.csr" >/dev/null 2>&1 &&
printf 'subjectAltName=DNS:localhost\n' >"$T/srv.ext" &&
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/srv.ext" -out "$T/srv.pem" >/dev/null 2>&1 ||
    { echo "not ok 1 - openssl could not make the certificates"; echo "1..1"; exit 1; }

# wait_https URL CAFILE: true once URL answers (at most 20 s).
wait_url() {
    "$ZL_PY" - "$1" "$2" <<'PY'
import ssl, sys, time, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[1].startswith("https") else None
for _ in range(200):
    try:
        urllib.request.urlopen(sys.argv[1], context=ctx, timeout=2).read()
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}

DNS_PORT=$(zl_free_port)
CTS_PORT=$(zl_free_port)
pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -management "127.0.0.1:$CTS_PORT" \
    -http01 "" -https01 "" -tlsalpn01 "" >"$T/challtestsrv.log" 2>&1 &
PIDS="$PIDS $!"

# start_pebble NAME NONCEREJECT: sets ${NAME}_DIR and ${NAME}_MGMT.
start_pebble() {
    port=$(zl_free_port); mgmt=$(zl_free_port)
    cat >"$T/$1.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$port", "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$T/srv.pem", "privateKey": "$T/srv.key",
  "httpPort": $(zl_free_port), "tlsPort": $(zl_free_port),
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
    PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=$2 \
        pebble -config "$T/$1.json" -dnsserver "127.0.0.1:$DNS_PORT" >"$T/$1.log" 2>&1 &
    PIDS="$PIDS $!"
    eval "${1}_DIR=https://localhost:$port/dir ${1}_MGMT=https://localhost:$mgmt"
}
start_pebble p0 0
start_pebble p50 50

if wait_url "http://127.0.0.1:$CTS_PORT/" "" && wait_url "$p0_DIR" "$T/ca.pem" &&
   wait_url "$p50_DIR" "$T/ca.pem"; then
    ok "pebble (twice) and pebble-challtestsrv are up"
else
    not_ok "pebble and pebble-challtestsrv are up" "$(tail -5 "$T"/*.log)"
    tap_done
fi

# acme DIR OUT ARGS...: runs the driver; its stdout+stderr in $T/OUT.log.
acme() {
    dir=$1 out=$2; shift 2
    mkdir -p "$T/$out"
    "$TOOL" --directory "$dir" --ca "$T/ca.pem" --challtestsrv "http://127.0.0.1:$CTS_PORT" \
        --out "$T/$out" "$@" >"$T/$out.log" 2>&1
}

# fetch URL: a body from Pebble's management port.
fetch() {
    "$ZL_PY" -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).read().decode())' "$1" "$T/ca.pem"
}

verify() { # out-dir root: openssl verify's verdict
    openssl verify -CAfile "$2" -untrusted "$T/$1/chain.pem" "$T/$1/cert.pem" 2>&1
}
sans() {
    openssl x509 -in "$T/$1/cert.pem" -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' '
}

# ---- two names ----
if acme "$p0_DIR" two --name zonelet.test --name www.zonelet.test --account-key "$T/acct.pem"; then
    ok "a certificate for two names"
else
    not_ok "a certificate for two names" "$(cat "$T/two.log")"
fi
grep '^issued in' "$T/two.log" | sed 's/^/# first run (new account): /'
fetch "$p0_MGMT/roots/0" >"$T/root0.pem" 2>"$T/fetch.err"
check "openssl verify against Pebble's root" "$T/two/cert.pem: OK" "$(verify two "$T/root0.pem")"
check "the certificate names both hosts" "DNS:zonelet.test,DNS:www.zonelet.test" "$(sans two)"
check "the key written is the certificate's" \
    "$(openssl x509 -in "$T/two/cert.pem" -noout -pubkey 2>&1)" "$(openssl pkey -in "$T/two/key.pem" -pubout 2>&1)"
if [ -s "$T/two/cert.pem" ] && [ -s "$T/two/chain.pem" ]; then
    check "fullchain.pem is cert.pem then chain.pem" "$(cat "$T/two/cert.pem" "$T/two/chain.pem")" \
        "$(cat "$T/two/fullchain.pem")"
else
    not_ok "fullchain.pem is cert.pem then chain.pem" "no cert.pem or chain.pem"
fi
check "the chain's CA is Pebble's intermediate" "$(fetch "$p0_MGMT/intermediates/0")" "$(cat "$T/two/chain.pem")"
check_match "the TXT records were removed" "TXT record removed at _acme-challenge.www.zonelet.test" \
    "$(cat "$T/two.log")"
check "and are no longer served" "" \
    "$(dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" TXT _acme-challenge.zonelet.test)$(dig +short +time=2 \
       +tries=1 @127.0.0.1 -p "$DNS_PORT" TXT _acme-challenge.www.zonelet.test)"
check_match "each step is logged with the order URL" \
    "^acme: https://localhost:[0-9]+/my-order/[^ ]+: TXT record set at _acme-challenge.www.zonelet.test" \
    "$(cat "$T/two.log")"
check_nomatch "the account key is never logged" "PRIVATE KEY|$(sed -n 2p "$T/acct.pem" | cut -c1-20)" \
    "$(cat "$T/two.log")"

# ---- the same account, found with its key; wall time ----
acct1=$(sed -n 's/^account //p' "$T/two.log")
for i in 1 2 3; do
    acme "$p0_DIR" again$i --name zonelet.test --name www.zonelet.test --account-key "$T/acct.pem"
    grep '^issued in' "$T/again$i.log" | sed "s/^/# run $((i + 1)) (existing account): /"
done
check_match "the stored account key finds the same account" "^https://localhost:[0-9]+/my-account/[^ ]+ ${acct1:-none}\$" \
    "$(sed -n 's/^account //p' "$T/again1.log") $acct1"
check_match "found, not created" "account https://[^ ]+ found" "$(cat "$T/again1.log")"
check "and obtains a certificate that verifies" "$T/again3/cert.pem: OK" "$(verify again3 "$T/root0.pem")"

# ---- a wildcard and its base: two TXT values at one name ----
if acme "$p0_DIR" wild --name '*.wild.zonelet.test' --name wild.zonelet.test; then
    check "a wildcard and its base name" "DNS:*.wild.zonelet.test,DNS:wild.zonelet.test" "$(sans wild)"
else
    not_ok "a wildcard and its base name" "$(cat "$T/wild.log")"
fi

# ---- badNonce injection ----
if acme "$p50_DIR" nonce --name zonelet.test --name www.zonelet.test; then
    fetch "$p50_MGMT/roots/0" >"$T/root50.pem"
    check "PEBBLE_WFE_NONCEREJECT=50 is survived" "$T/nonce/cert.pem: OK" "$(verify nonce "$T/root50.pem")"
    grep '^issued in' "$T/nonce.log" | sed 's/^/# with PEBBLE_WFE_NONCEREJECT=50: /'
    check_nomatch "with badNonce errors retried" " 0 badNonce retries" "$(grep '^issued in' "$T/nonce.log")"
else
    not_ok "PEBBLE_WFE_NONCEREJECT=50 is survived" "$(cat "$T/nonce.log")"
fi

# ---- failures ----
"$TOOL" --directory "$p0_DIR" --ca "$T/wrongca.pem" --challtestsrv "http://127.0.0.1:$CTS_PORT" \
    --out "$T/two" --name zonelet.test >"$T/wrongca.log" 2>&1
check "a wrong CA file fails (exit 1)" 1 $?
check_match "... with the verification error" \
    "error: TLS handshake with localhost:[0-9]+: server certificate: .*not correctly signed by the trusted CA" \
    "$(cat "$T/wrongca.log")"
wrong_host=$(echo "$p0_DIR" | sed 's/localhost/127.0.0.1/')
acme "$wrong_host" wronghost --name zonelet.test
check "a certificate for another name fails (exit 1)" 1 $?
check_match "... saying so" "server certificate: .*Common Name \(CN\) does not match" "$(cat "$T/wronghost.log")"

acme "$p0_DIR" bad --name good.zonelet.test --name bad.zonelet.test --skip-txt bad.zonelet.test
check "a name the DNS does not validate fails the order (exit 1)" 1 $?
check_match "... with Pebble's problem type and detail" \
    "error: authorization for bad.zonelet.test is invalid: urn:ietf:params:acme:error:unauthorized: .*TXT" \
    "$(cat "$T/bad.log")"
check_match "... logged with the order URL" "^acme: https://localhost:[0-9]+/my-order/[^ ]+: failed: authorization" \
    "$(cat "$T/bad.log")"
check "... and the TXT record that was set is removed" "" \
    "$(dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" TXT _acme-challenge.good.zonelet.test)"
check "... and no certificate is written" "" "$(ls "$T/bad")"
tap_done
