# Pebble (Let's Encrypt's test CA) for the ACME system tests and the
# ACME benchmark, sourced after lib.sh:
#     . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/acme.sh"
#
#   acme_netns "$@"      first thing in a test: runs the script again in a
#                        private network and mount namespace (unshare -n
#                        -m, lo up, /etc/resolv.conf replaced by one naming
#                        127.0.0.1: lego resolves the zone's NS hosts with
#                        the system's resolver), or prints a TAP skip when
#                        that is impossible
#   acme_need TOOL...    TAP skip when a tool is missing
#   acme_ca              makes $ACME_T/ca.pem (a CA of the test's own) and
#                        the certificate of Pebble's HTTPS port, for
#                        "localhost", signed by it
#   pebble_start NAME DNS [NONCEREJECT]
#                        Pebble validating DNS-01 against DNS (ADDR:PORT),
#                        PEBBLE_VA_NOSLEEP=1, PEBBLE_AUTHZREUSE=0; sets
#                        ${NAME}_DIR (the directory URL), ${NAME}_MGMT
#                        (its management URL) and waits (bounded) until it
#                        answers; returns 1 (log shown) when it does not
#   pebble_root NAME     prints the root that signs Pebble's chains
#   pebble_stop_all      stops every Pebble started (by PID)
#   cert_verify DIR ROOT openssl verify's verdict on DIR/cert.pem with
#                        DIR/chain.pem as untrusted intermediates
#   cert_names FILE      the certificate's subjectAltName, "DNS:a,DNS:b"
#
# Everything listens on 127.0.0.1; the processes are stopped by PID.

ACME_T=$ZL_TMP/acme
mkdir -p "$ACME_T"
_PEBBLE_PIDS=

acme_netns() {
    if [ -n "${ZL_IN_NETNS:-}" ]; then
        echo "nameserver 127.0.0.1" >"$ZL_TMP/resolv.conf"
        if ! ip link set lo up 2>/dev/null || ! mount --bind "$ZL_TMP/resolv.conf" /etc/resolv.conf; then
            echo "ok 1 - $(basename "$0") # SKIP cannot set up the namespace (lo, resolv.conf)"; echo 1..1; exit 0
        fi
        return 0
    fi
    if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 && unshare -n -m true 2>/dev/null; then
        rm -rf "$ZL_TMP"
        trap - EXIT
        exec env ZL_IN_NETNS=1 unshare -n -m sh "$0" "$@"
    fi
    echo "ok 1 - $(basename "$0") # SKIP no private network namespace (unshare -n needs root or user namespaces)"
    echo "1..1"
    rm -rf "$ZL_TMP"
    trap - EXIT
    exit 0
}

acme_need() {
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "ok 1 - $(basename "$0") # SKIP $t not installed (scripts/deps.sh test)"
            echo "1..1"
            exit 0
        fi
    done
}

acme_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ACME_T/ca.key" \
        -out "$ACME_T/ca.pem" -days 2 -subj "/CN=zonelet test CA" >/dev/null 2>&1 &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ACME_T/srv.key" \
        -subj /CN=localhost -out "$ACME_T/srv.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=DNS:localhost\n' >"$ACME_T/srv.ext" &&
    openssl x509 -req -in "$ACME_T/srv.csr" -CA "$ACME_T/ca.pem" -CAkey "$ACME_T/ca.key" \
        -CAcreateserial -days 2 -extfile "$ACME_T/srv.ext" -out "$ACME_T/srv.pem" >/dev/null 2>&1
}

# _acme_wait_url URL: true once URL answers over HTTPS with our CA (at
# most 20 s).
_acme_wait_url() {
    "$ZL_PY" - "$1" "$ACME_T/ca.pem" <<'PY'
import ssl, sys, time, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
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

pebble_start() {
    _pn=$1 _pdns=$2 _prej=${3:-0}
    _pport=$(zl_free_port); _pmgmt=$(zl_free_port)
    cat >"$ACME_T/$_pn.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$_pport", "managementListenAddress": "127.0.0.1:$_pmgmt",
  "certificate": "$ACME_T/srv.pem", "privateKey": "$ACME_T/srv.key",
  "httpPort": $(zl_free_port), "tlsPort": $(zl_free_port),
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
    PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=$_prej \
        pebble -config "$ACME_T/$_pn.json" -dnsserver "$_pdns" >"$ACME_T/$_pn.log" 2>&1 &
    _PEBBLE_PIDS="$_PEBBLE_PIDS $!"
    eval "${_pn}_DIR=https://localhost:$_pport/dir ${_pn}_MGMT=https://localhost:$_pmgmt"
    if ! _acme_wait_url "https://localhost:$_pport/dir"; then
        echo "# pebble $_pn does not answer:"; tail -5 "$ACME_T/$_pn.log" | sed 's/^/#   /'
        return 1
    fi
}

pebble_root() {
    eval "_pm=\$${1}_MGMT"
    "$ZL_PY" -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
sys.stdout.write(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).read().decode())' \
        "$_pm/roots/0" "$ACME_T/ca.pem"
}

pebble_stop_all() {
    for _p in $_PEBBLE_PIDS; do kill "$_p" 2>/dev/null; done
    for _p in $_PEBBLE_PIDS; do wait "$_p" 2>/dev/null; done
    _PEBBLE_PIDS=
}

cert_verify() {
    openssl verify -CAfile "$2" -untrusted "$1/chain.pem" "$1/cert.pem" 2>&1
}

cert_names() {
    openssl x509 -in "$1" -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' '
}
