#!/bin/sh
# External ACME clients through zonelet (DNS-01 over RFC 2136): lego's
# rfc2136 provider (hmac-sha1, hmac-sha256; UDP) and certbot-dns-rfc2136
# (hmac-md5; TCP, TSIG-signed SOA queries) each obtain a certificate from
# Pebble, which validates through zonelet. Everything runs in a private
# network namespace on 127.0.0.1: zonelet on port 53 (the zone's NS
# address, so lego's check of every authoritative server is the real one),
# Pebble with its HTTPS certificate from a CA the test makes.
#   - each certificate verifies against Pebble's root and names the host;
#   - the challenge TXT records are gone afterwards (queried);
#   - a wrong secret, or a key of another zone, gets no certificate and
#     leaves the zone as it was (AXFR before and after).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme.sh"
acme_netns "$@"
need_tools dig kdig openssl pebble lego certbot
if ! /usr/bin/python3 -c 'import certbot_dns_rfc2136' 2>/dev/null; then
    echo "ok 1 - test_acme_clients # SKIP python3-certbot-dns-rfc2136 not installed"; echo 1..1; exit 0
fi
trap 'pebble_stop_all; [ -n "${KEEP:-}" ] && cp -r "$ZL_TMP" "$KEEP"; zl_cleanup' EXIT

KSHA1=c2hhMS1rZXktc2VjcmV0LWZvci1sZWdv
KSHA256=bGVnby1zaGEyNTYta2V5LXNlY3JldC1mb3ItdGhlLWFjbWUtdGVzdHM=
KMD5=Y2VydGJvdC1tZDUta2V5LXNlY3JldA==
KXFR=dHJhbnNmZXIta2V5LXNlY3JldC1mb3ItdGhlLXRlc3Rz
KOTHER=b3RoZXItem9uZS1rZXktc2VjcmV0LWZvci10ZXN0cw==
cat >"$ZL_ZONES/example.test" <<'Z'
$ORIGIN example.test.
$TTL 300
@ IN SOA ns1 hostmaster 2026120501 7200 3600 1209600 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 127.0.0.1
Z
cat >"$ZL_ZONES/other.test" <<'Z'
$ORIGIN other.test.
$TTL 300
@ IN SOA ns1.example.test. hostmaster 1 7200 3600 1209600 60
@ IN NS ns1.example.test.
Z
cat >"$ZL_ZONES/_keys" <<K
lego1._update.example.test. DNSKEY 0 3 161 $KSHA1
lego256._update.example.test. DNSKEY 0 3 163 $KSHA256
certbot._update.example.test. DNSKEY 0 3 157 $KMD5
xfr._transfer.example.test. DNSKEY 0 3 163 $KXFR
other._update.other.test. DNSKEY 0 3 163 $KOTHER
K
ZL_FIXED_PORT=53 zl_start --workers 2 || { not_ok "zonelet serves on 127.0.0.1:53"; tap_done; }
acme_ca || { not_ok "openssl makes the test CA"; tap_done; }
pebble_start peb 127.0.0.1:53 || { not_ok "pebble starts"; tap_done; }
pebble_root peb >"$ACME_T/root.pem"
ok "zonelet on 127.0.0.1:53, pebble validating through it"

axfr() { kdig @127.0.0.1 -p 53 +tcp +time=3 +retry=0 -y "hmac-sha256:xfr._transfer.example.test:$KXFR" example.test AXFR 2>&1; }
snapshot() { axfr | grep -v '^;' | grep -v '^$' | grep -v TSIG | sort; }
txt_status() { dig @127.0.0.1 -p 53 +norec +time=2 +tries=1 TXT "_acme-challenge.$1" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
txt_data() { dig @127.0.0.1 -p 53 +norec +time=2 +tries=1 +short TXT "_acme-challenge.$1"; }
now_ms() { date +%s%3N; }

# lego_run NAME HOST ALG KEYNAME SECRET: lego's rfc2136 provider, the
# account and certificate under $ACME_T/NAME; output in $ACME_T/NAME.log.
lego_run() {
    mkdir -p "$ACME_T/$1"
    LEGO_CA_CERTIFICATES="$ACME_T/ca.pem" RFC2136_NAMESERVER=127.0.0.1:53 \
    RFC2136_TSIG_ALGORITHM="$3." RFC2136_TSIG_KEY="$4" RFC2136_TSIG_SECRET="$5" \
    RFC2136_PROPAGATION_TIMEOUT=20 RFC2136_POLLING_INTERVAL=1 RFC2136_TTL=60 \
    timeout 60 lego --server "$peb_DIR" --accept-tos --email acme@example.test --path "$ACME_T/$1" \
        --dns rfc2136 --dns.resolvers 127.0.0.1:53 --domains "$2" run >"$ACME_T/$1.log" 2>&1
}
# lego_files NAME HOST: cert.pem and chain.pem in $ACME_T/NAME/out.
lego_files() {
    mkdir -p "$ACME_T/$1/out"
    c="$ACME_T/$1/certificates/$2.crt"
    [ -s "$c" ] || return 1
    awk '/BEGIN CERT/{n++} n==1' "$c" >"$ACME_T/$1/out/cert.pem"
    awk '/BEGIN CERT/{n++} n>=2' "$c" >"$ACME_T/$1/out/chain.pem"
}

# certbot_run NAME HOST ALG KEYNAME SECRET
certbot_run() {
    d=$ACME_T/$1
    mkdir -p "$d"
    cat >"$d/creds.ini" <<INI
dns_rfc2136_server = 127.0.0.1
dns_rfc2136_port = 53
dns_rfc2136_name = $4
dns_rfc2136_secret = $5
dns_rfc2136_algorithm = $3
INI
    chmod 600 "$d/creds.ini"
    REQUESTS_CA_BUNDLE="$ACME_T/ca.pem" timeout 90 certbot certonly --non-interactive --agree-tos \
        -m acme@example.test --server "$peb_DIR" --config-dir "$d/cfg" --work-dir "$d/work" \
        --logs-dir "$d/logs" --dns-rfc2136 --dns-rfc2136-credentials "$d/creds.ini" \
        --dns-rfc2136-propagation-seconds 1 -d "$2" --cert-path "$d/c.pem" >"$d.log" 2>&1
}
certbot_files() {
    live=$ACME_T/$1/cfg/live/$2
    [ -s "$live/cert.pem" ] || return 1
    mkdir -p "$ACME_T/$1/out"
    cp "$live/cert.pem" "$live/chain.pem" "$ACME_T/$1/out/"
}

# issued TOOL NAME HOST ALG KEYNAME SECRET: one client obtains a
# certificate; the checks that follow.
issued() {
    tool=$1 name=$2 host=$3
    t0=$(now_ms)
    if ${tool}_run "$name" "$host" "$4" "$5" "$6" && ${tool}_files "$name" "$host"; then
        ok "$tool with $4 obtains a certificate for $host"
        echo "# $tool $4: issued in $(($(now_ms) - t0)) ms"
    else
        not_ok "$tool with $4 obtains a certificate for $host" "$(tail -30 "$ACME_T/$name.log")"
        return 0
    fi
    check "... it verifies against Pebble's root" "$ACME_T/$name/out/cert.pem: OK" \
        "$(cert_verify "$ACME_T/$name/out" "$ACME_T/root.pem")"
    check "... and names $host" "DNS:$host" "$(cert_names "$ACME_T/$name/out/cert.pem")"
    check "... the challenge TXT record is gone afterwards" "NXDOMAIN " "$(txt_status "$host") $(txt_data "$host")"
}

# probe NAME TYPE udp|tcp RD [ALG KEYNAME SECRET]: the query a client
# sends (dnspython, as certbot-dns-rfc2136 builds it: the algorithm name
# as given, RD as given, EDNS over UDP as lego sends it); prints "RCODE
# flags signed=yes|no answer=TYPE...". A reply to a signed query must be
# signed and verify (dnspython raises otherwise).
probe() {
    /usr/bin/python3 - "$@" <<'PY'
import sys, dns.message, dns.query, dns.rdatatype, dns.flags, dns.rcode, dns.tsigkeyring, dns.name
name, rtype, proto, rd = sys.argv[1:5]
q = dns.message.make_query(name, rtype, use_edns=(proto == "udp"))
if rd == "0":
    q.flags &= ~dns.flags.RD
if len(sys.argv) > 5:
    alg, key, secret = sys.argv[5:8]
    q.use_tsig(dns.tsigkeyring.from_text({key: secret}), keyname=key, algorithm=dns.name.from_text(alg))
try:
    r = (dns.query.tcp if proto == "tcp" else dns.query.udp)(q, "127.0.0.1", timeout=3, port=53)
except Exception as e:
    print("error:", type(e).__name__, e); sys.exit(0)
flags = dns.flags.to_text(r.flags).lower()
ans = " ".join(dns.rdatatype.to_text(rr.rdtype) for rr in r.answer)
print(dns.rcode.to_text(r.rcode()), flags, "signed=" + ("yes" if r.had_tsig else "no"), "answer=" + ans)
PY
}

# What the clients ask before they UPDATE, answered as they need it.
check "lego's SOA walk below the apex: NXDOMAIN, authoritative (UDP, RD=1, EDNS)" \
    "NXDOMAIN qr aa rd signed=no answer=" "$(probe _acme-challenge.www.example.test SOA udp 1)"
check "... at the apex: the SOA, authoritative" "NOERROR qr aa rd signed=no answer=SOA" \
    "$(probe example.test SOA udp 1)"
check "... on an existing name: NODATA, authoritative" "NOERROR qr aa rd signed=no answer=" \
    "$(probe www.example.test SOA udp 1)"
check "lego's CNAME query for the challenge name: NXDOMAIN, authoritative" "NXDOMAIN qr aa rd signed=no answer=" \
    "$(probe _acme-challenge.www.example.test CNAME udp 1)"
check "certbot's signed SOA query (TCP, RD=0, HMAC-MD5.SIG-ALG.REG.INT.) at the apex: signed, authoritative" \
    "NOERROR qr aa signed=yes answer=SOA" \
    "$(probe example.test SOA tcp 0 HMAC-MD5.SIG-ALG.REG.INT. certbot._update.example.test. "$KMD5")"
check "... below the apex: NXDOMAIN, signed, authoritative" "NXDOMAIN qr aa signed=yes answer=" \
    "$(probe _acme-challenge.x.example.test SOA tcp 0 HMAC-MD5.SIG-ALG.REG.INT. certbot._update.example.test. "$KMD5")"
check "... above the zones: REFUSED, signed" "REFUSED qr signed=yes answer=" \
    "$(probe test SOA tcp 0 HMAC-MD5.SIG-ALG.REG.INT. certbot._update.example.test. "$KMD5")"
check "... with hmac-sha1 in upper case too" "NOERROR qr aa signed=yes answer=SOA" \
    "$(probe example.test SOA tcp 0 HMAC-SHA1. lego1._update.example.test. "$KSHA1")"

issued lego lego-sha1 www.example.test hmac-sha1 lego1._update.example.test. "$KSHA1"
issued lego lego-sha256 sha256.example.test hmac-sha256 lego256._update.example.test. "$KSHA256"
issued certbot certbot-md5 certbot.example.test HMAC-MD5 certbot._update.example.test. "$KMD5"
check_match "the zone's changes were logged, each naming its key" \
    "certbot\._update\.example\.test" "$(grep 'records added' "$ZL_LOG")"

# ---- refusals --------------------------------------------------------------
before=$(snapshot)
check_match "the zone is transferable (the snapshot the refusals are checked against)" "IN[[:space:]]+SOA" "$before"
lego_run lego-wrong bad1.example.test hmac-sha256 lego256._update.example.test. "$KXFR"
check "lego with a wrong secret: no certificate" "no" \
    "$([ -s "$ACME_T/lego-wrong/certificates/bad1.example.test.crt" ] && echo yes || echo no)"
check_match "... it was told why" "NOTAUTH|BADSIG|bad authentication|tsig" "$(cat "$ACME_T/lego-wrong.log")"
lego_run lego-other bad2.example.test hmac-sha256 other._update.other.test. "$KOTHER"
check "lego with another zone's key: no certificate" "no" \
    "$([ -s "$ACME_T/lego-other/certificates/bad2.example.test.crt" ] && echo yes || echo no)"
check_match "... it was refused" "REFUSED" "$(cat "$ACME_T/lego-other.log")"
certbot_run certbot-wrong bad3.example.test HMAC-MD5 certbot._update.example.test. "$KSHA1"
check "certbot with a wrong secret: no certificate" "no" \
    "$([ -s "$ACME_T/certbot-wrong/cfg/live/bad3.example.test/cert.pem" ] && echo yes || echo no)"
check "the refused clients changed nothing" "$before" "$(snapshot)"

zl_stop
check "zonelet stops cleanly" 0 "$ZL_STATUS"
tap_done
