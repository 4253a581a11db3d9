# Real peers for the system tests: NSD, Knot and BIND as secondaries of a
# primary at ADDR:PORT, Knot as a reference primary, dumps and comparison
# of what each serves, how each last transferred, and nsupdate/knsupdate/
# crafted UPDATE clients. Sourced after lib.sh:
#     . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/peers.sh"
#
# Every peer gets a name (s-nsd, primary, ...) and a directory
# $ZL_TMP/peers/NAME holding its config, data, log (NAME/log) and pid;
# it listens on 127.0.0.1 (and ::1 when the host has it) on a free high
# port and is stopped by its PID. When the test has failures at exit, the
# peers' directories are copied to build/test-logs/peers-SUITE/.
#
# Keys are NAME:ALG:BASE64 everywhere (ALG: hmac-md5, hmac-sha1,
# hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512), the form of
# zonelet's --tsig-key; rights come from the key's name as in zonelet's
# contract: <x>._update.<zone> (update, transfer, notify), <x>._transfer.
# <zone> (transfer, notify), <x>._notify.<zone> (notify).

# The functions (each documented where it is defined):
#   keys         key_new NAME [ALG], key_name/key_alg/key_secret KEY,
#                key_wrong_secret KEY
#   primary      primary_start [--zone Z FILE]... [--tsig-key K]...
#                [--notify-to A:P]... [--axfr-allow CIDR]... (PRIMARY=zonelet
#                or zonelet; sets PRIMARY_KIND, PRIMARY_ADDR, PRIMARY_PORT),
#                knot_primary_start NAME OPTIONS...
#   secondaries  secondary_start nsd|knot|bind NAME ZONE ADDR PORT [KEY],
#                peer_stop NAME, peer_port/peer_server/peer_log/peer_kind NAME
#   serials      server_serial A:P ZONE [KEY], peer_serial NAME,
#                peer_wait_serial NAME SERIAL, peer_sync NAME SERIAL FILE
#   dumps        zone_dump A:P ZONE [KEY], peer_dump NAME, dump_serial FILE,
#                zone_same F1 F2, check_zone TEST F1 F2 (TAP)
#   transfers    peer_xfrs NAME, peer_last_xfr NAME, peer_xfrs_log NAME,
#                peer_tap_log NAME, peer_notifies NAME
#   clients      ns_update nsupdate|knsupdate A:P ZONE KEY udp|tcp < SCRIPT,
#                raw_update A:P ZONE [zonetool options] < SCRIPT
# tests/system/zonetool.py does the DNS work (see its usage) and
# tests/system/xfrtap.py watches transfers.
#
# Functions keep their variables `local` (dash, bash and busybox sh have
# it) so that a caller's variables survive.

ZL_ZONETOOL="$ZL_PY tests/system/zonetool.py"
PEERS_DIR=$ZL_TMP/peers
mkdir -p "$PEERS_DIR"
PEER_WAIT=${PEER_WAIT:-10}   # seconds any single wait may take

peers_cleanup() {
    local d keep
    for d in "$PEERS_DIR"/*/; do
        [ -d "$d" ] && _peer_kill "$(basename "$d")"
    done
    if [ "${_tap_fail:-0}" -ne 0 ] && [ -d "$PEERS_DIR" ]; then
        keep=build/test-logs/peers-$(basename "$0" .sh)
        rm -rf "$keep"; mkdir -p "$keep"
        cp -r "$PEERS_DIR"/. "$keep"/ 2>/dev/null
        [ -s "$ZL_LOG" ] && cp "$ZL_LOG" "$keep/zonelet.log"
        echo "# peer logs kept in $keep"
    fi
    zl_cleanup
}
trap peers_cleanup EXIT

# peers_need TOOL...: TAP skip of the whole suite when a tool is missing
# (scripts/deps.sh test installs them all), and dnspython for zonetool.py.
peers_need() {
    local t
    for t in "$@"; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "ok 1 - $(basename "$0") # SKIP $t not installed (scripts/deps.sh test)"
            echo "1..1"
            exit 0
        fi
    done
    if ! $ZL_PY -c 'import dns.rdata' 2>/dev/null; then
        echo "ok 1 - $(basename "$0") # SKIP python3-dnspython not installed (scripts/deps.sh test)"
        echo "1..1"
        exit 0
    fi
}

# ---- keys ------------------------------------------------------------------

# key_new NAME [ALG]: prints a key NAME:ALG:BASE64 with a fresh secret
# (as long as the hash's output, as RFC 8945 §6 advises).
key_new() {
    local n
    case "${2:-hmac-sha256}" in
    hmac-md5) n=16 ;; hmac-sha1) n=20 ;; hmac-sha224) n=28 ;; hmac-sha256) n=32 ;;
    hmac-sha384) n=48 ;; hmac-sha512) n=64 ;; *) echo "key_new: unknown algorithm $2" >&2; return 1 ;;
    esac
    echo "$1:${2:-hmac-sha256}:$(head -c "$n" /dev/urandom | base64 | tr -d '\n')"
}
key_name() { echo "${1%%:*}"; }
key_alg() { _key_split "$1"; echo "$_ka"; }
key_secret() { echo "${1##*:}"; }
# The same key with another secret (a wrong one).
key_wrong_secret() { _key_split "$1"; key_new "$_kn" "$_ka"; }
# _key_split KEY: sets _kn (the name with a final dot), _ka, _ks without
# a fork (forks cost tens of ms on a loaded machine).
_key_split() {
    _kn=${1%%:*} _ks=${1##*:} _ka=${1#*:}
    _ka=${_ka%%:*}
    case "$_kn" in *.) ;; *) _kn=$_kn. ;; esac
}
# The name with a final dot, as the servers print it.
_fqdn() { case "$1" in *.) echo "$1" ;; *) echo "$1." ;; esac; }

# ---- peers -----------------------------------------------------------------

# peer_port NAME: the port of peer NAME, chosen (and kept) on first call,
# so a primary can be told its NOTIFY targets before they start.
peer_port() {
    mkdir -p "$PEERS_DIR/$1"
    [ -s "$PEERS_DIR/$1/port" ] || zl_free_port >"$PEERS_DIR/$1/port"
    cat "$PEERS_DIR/$1/port"
}
peer_log() { echo "$PEERS_DIR/$1/log"; }
peer_pid() { cat "$PEERS_DIR/$1/pid" 2>/dev/null; }
peer_kind() { cat "$PEERS_DIR/$1/kind" 2>/dev/null; }
# peer_server NAME: ADDR:PORT of the peer over IPv4.
peer_server() { echo "127.0.0.1:$(peer_port "$1")"; }

# The addresses peers listen on: 127.0.0.1, and ::1 when the host has it.
if zl_have_ipv6; then _PEERS_V6=yes; else _PEERS_V6=no; fi
_listen_addrs() {
    echo 127.0.0.1
    [ "$_PEERS_V6" = yes ] && echo ::1
    return 0
}

# _peer_launch NAME KIND COMMAND...: starts the daemon in the background,
# output to NAME/log, and waits (bounded) until it answers a DNS query on
# its port over UDP and TCP (any rcode).
_peer_launch() {
    local name=$1 kind=$2 d=$PEERS_DIR/$1
    shift 2
    echo "$kind" >"$d/kind"
    "$@" >>"$d/log" 2>&1 &
    echo $! >"$d/pid"
    $ZL_ZONETOOL ready "$(peer_server "$name")" --pid "$(peer_pid "$name")" --timeout "$PEER_WAIT" && return 0
    if zl_alive "$(peer_pid "$name")"; then
        echo "# $kind $name does not answer on port $(peer_port "$name") after ${PEER_WAIT}s:"
    else
        echo "# $kind $name exited at start:"
        rm -f "$d/pid"
    fi
    tail -20 "$d/log" | sed 's/^/#   /'
    return 1
}

# _peer_kill NAME: stops the peer's daemon (NAME/pid) and its tap
# (NAME/tap.pid), each by its PID: SIGTERM, at most PEER_WAIT s, SIGKILL.
_peer_kill() {
    local f pid i
    for f in pid tap.pid; do
        pid=$(cat "$PEERS_DIR/$1/$f" 2>/dev/null)
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null
        i=0
        while [ $i -lt $((PEER_WAIT * 10)) ] && zl_alive "$pid"; do sleep 0.1; i=$((i + 1)); done
        zl_alive "$pid" && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rm -f "$PEERS_DIR/$1/$f"
    done
}

# peer_stop NAME: SIGTERM, at most PEER_WAIT seconds, then SIGKILL.
peer_stop() { _peer_kill "$1"; }

# ---- the primary ---------------------------------------------------------------

# primary_start [--zone ZONE FILE]... [--tsig-key KEY]... [--notify-to
#     ADDR:PORT]... [--axfr-allow CIDR]...
# Starts the primary PRIMARY names: zonelet (the default; zl_start with the zone files in $ZL_ZONES and the other
# options as they are: issue 7's contract). Sets PRIMARY_KIND,
# PRIMARY_ADDR and PRIMARY_PORT.
primary_start() {
    local n=$# z
    PRIMARY_KIND=${PRIMARY:-zonelet}
    case "$PRIMARY_KIND" in
    knot) knot_primary_start primary "$@" ;;
    zonelet)
        if [ ! -x "$ZL_BIN" ]; then echo "# $ZL_BIN not built (make)"; return 1; fi
        while [ "$n" -gt 0 ]; do
            case "$1" in
            --zone) z=${2%.}; cp "$3" "$ZL_ZONES/$z"; shift 3; n=$((n - 3)) ;;
            *) set -- "$@" "$1"; shift; n=$((n - 1)) ;;
            esac
        done
        zl_start "$@" || return 1
        PRIMARY_ADDR=127.0.0.1
        PRIMARY_PORT=$ZL_PORT
        ;;
    *) echo "# PRIMARY=$PRIMARY_KIND: want knot or zonelet"; return 1 ;;
    esac
}

# ---- Knot as primary ---------------------------------------------------------

# knot_primary_start NAME [--zone ZONE FILE]... [--tsig-key KEY]...
#     [--notify-to ADDR:PORT]... [--axfr-allow CIDR]...
# Knot serving each ZONE from a copy of FILE as a primary with the rights
# of zonelet's contract (see the top of this file); its NOTIFYs go to each
# --notify-to, signed with the zone's first _transfer key when it has one;
# unsigned transfers from each --axfr-allow network. Changes stay in
# Knot's journal (IXFR out); the zone file is never rewritten.
# Sets PRIMARY_ADDR and PRIMARY_PORT.
knot_primary_start() {
    local name=$1 d=$PEERS_DIR/$1 port zones="" keys="" notify="" allow="" n z t right ks k addr
    shift
    port=$(peer_port "$name")
    mkdir -p "$d/zones" "$d/db"
    while [ $# -gt 0 ]; do
        case "$1" in
        --zone) z=$2; case "$z" in *.) ;; *) z=$z. ;; esac
            cp "$3" "$d/zones/${z}zone"; zones="$zones $z"; shift 3 ;;
        --tsig-key) keys="$keys $2"; shift 2 ;;
        --notify-to) notify="$notify $2"; shift 2 ;;
        --axfr-allow) allow="$allow${allow:+, }$2"; shift 2 ;;
        *) echo "knot_primary_start: unknown option $1" >&2; return 2 ;;
        esac
    done
    {
        _knot_server_conf "$d" "$port"
        _knot_keys_conf $keys
        echo "remote:"
        n=0
        for t in $notify; do
            n=$((n + 1))
            case "$t" in
            \[*) addr=${t#\[}; addr="${addr%%\]*}@${t##*:}" ;;
            *) addr="${t%:*}@${t##*:}" ;;
            esac
            for z in $zones; do
                echo "  - id: notify-$n-$z"
                echo "    address: $addr"
                _zone_keys "$z" _transfer $keys
                [ -n "$_zk" ] && { _key_split "${_zk%% *}"; echo "    key: $_kn"; }
            done
        done
        echo "acl:"
        echo "  - id: nothing"
        echo "    address: 0.0.0.0/32"
        echo "    action: transfer"
        [ -n "$allow" ] && printf '  - id: axfr-allow\n    address: [%s]\n    action: transfer\n' "$allow"
        for z in $zones; do
            for right in _update _transfer _notify; do
                _zone_keys "$z" "$right" $keys
                [ -n "$_zk" ] || continue
                ks=""
                for k in $_zk; do _key_split "$k"; ks="$ks${ks:+, }$_kn"; done
                echo "  - id: $right-$z"
                echo "    key: [$ks]"
                case $right in
                _update) echo "    action: [update, transfer, notify]" ;;
                _transfer) echo "    action: [transfer, notify]" ;;
                _notify) echo "    action: notify" ;;
                esac
            done
        done
        echo "zone:"
        for z in $zones; do
            echo "  - domain: $z"
            echo "    storage: $d/zones"
            echo "    file: ${z}zone"
            echo "    zonefile-sync: -1"
            echo "    zonefile-load: whole"
            echo "    journal-content: changes"
            echo "    serial-policy: increment"
            printf '    acl: [nothing'
            [ -n "$allow" ] && printf ', axfr-allow'
            for right in _update _transfer _notify; do
                _zone_keys "$z" "$right" $keys
                [ -n "$_zk" ] && printf ', %s-%s' "$right" "$z"
            done
            echo "]"
            if [ -n "$notify" ]; then
                printf '    notify: ['
                n=0
                for t in $notify; do
                    n=$((n + 1))
                    [ $n = 1 ] || printf ', '
                    printf 'notify-%s-%s' "$n" "$z"
                done
                echo "]"
            fi
        done
    } >"$d/knot.conf"
    _peer_launch "$name" knot-primary knotd -c "$d/knot.conf" || return 1
    PRIMARY_ADDR=127.0.0.1
    PRIMARY_PORT=$port
    for z in $zones; do
        $ZL_ZONETOOL wait "127.0.0.1:$port" "$z" any --timeout "$PEER_WAIT" >/dev/null ||
            { echo "# knot primary does not serve $z"; return 1; }
    done
}

# _zone_keys ZONE RIGHT KEY...: sets _zk to the keys named
# <x>.RIGHT.<ZONE or a parent of ZONE> (names compared as given: write
# them in lower case), separated by spaces.
_zone_keys() {
    local z=$1 right=$2 k cover
    shift 2
    _zk=""
    for k in "$@"; do
        _key_split "$k"
        case "$_kn" in
        *."$right".*) cover=${_kn#*."$right".}
            case "$z" in "$cover" | *."$cover") _zk="$_zk${_zk:+ }$k" ;; esac ;;
        esac
    done
}

_knot_server_conf() {
    local a
    echo "server:"
    echo "    rundir: \"$1\""
    for a in $(_listen_addrs); do echo "    listen: $a@$2"; done
    echo "    udp-workers: 1"
    echo "    tcp-workers: 1"
    echo "    background-workers: 1"
    echo "database:"
    echo "    storage: \"$1/db\""
    echo "log:"
    echo "  - target: stderr"
    echo "    any: info"
}

_knot_keys_conf() {
    local k
    [ $# -gt 0 ] || return 0
    echo "key:"
    for k in "$@"; do
        _key_split "$k"
        printf '  - id: %s\n    algorithm: %s\n    secret: %s\n' "$_kn" "$_ka" "$_ks"
    done
}

# ---- secondaries ---------------------------------------------------------------

# _tap_start NAME ADDR PORT: tests/system/xfrtap.py relaying NAME's
# requests to ADDR:PORT and logging them in NAME/xfr.log. It listens on
# 127.0.0.2, not on the primary's address: BIND takes any NOTIFY, signed
# or not, from an address in its primaries list.
_tap_start() {
    local d=$PEERS_DIR/$1 up try i
    case "$2" in *:*) up="[$2]:$3" ;; *) up="$2:$3" ;; esac
    for try in 1 2 3; do  # the port was free on 127.0.0.1; retry if not on .2
        zl_free_port >"$d/tap.port"
        $ZL_PY tests/system/xfrtap.py "127.0.0.2:$(cat "$d/tap.port")" "$up" "$d/xfr.log" >"$d/tap.out" 2>&1 &
        echo $! >"$d/tap.pid"
        i=0
        while [ $i -lt $((PEER_WAIT * 10)) ] && zl_alive "$(cat "$d/tap.pid")"; do
            grep -q ready "$d/tap.out" && return 0
            sleep 0.1; i=$((i + 1))
        done
        _peer_kill "$1"
    done
    echo "# xfrtap for $1 did not start:"; sed 's/^/#   /' "$d/tap.out"
    return 1
}

# secondary_start KIND NAME ZONE PRIMARY_ADDR PRIMARY_PORT [KEY]
# Starts a secondary (KIND: nsd, knot or bind) of ZONE from the primary at
# PRIMARY_ADDR:PORT, transferring with KEY (NAME:ALG:BASE64; none: plain),
# requesting IXFR with AXFR fallback, taking NOTIFY from PRIMARY_ADDR,
# 127.0.0.1 and ::1 only when signed with KEY (also unsigned when
# PEER_NOTIFY_UNSIGNED=1, or when no KEY), sending no NOTIFY itself, and
# giving AXFR without a key to 127.0.0.1 and ::1 (for peer_dump). Returns
# once it answers queries; the first transfer may still be under way
# (peer_wait_serial). Its requests to the primary go through a tap
# (xfrtap.py, see peer_xfrs) unless PEER_TAP=0. Started again under the
# same NAME after peer_stop, it keeps its zone and journal and appends to
# its logs.
secondary_start() {
    local kind=$1 name=$2 zone=$3 paddr=$4 pport=$5 key=${6:-} d=$PEERS_DIR/$2 port
    # NOTIFYs come from the primary itself, not through the tap: from its
    # address, or from either loopback address when it has several.
    local naddr="127.0.0.1 ::1"
    case " $naddr " in *" $4 "*) ;; *) naddr="$4 $naddr" ;; esac
    case "$zone" in *.) ;; *) zone=$zone. ;; esac
    port=$(peer_port "$name")
    mkdir -p "$d"
    echo "$zone" >"$d/zone"
    if [ "${PEER_TAP:-1}" = 1 ]; then
        _tap_start "$name" "$paddr" "$pport" || return 1
        paddr=127.0.0.2 pport=$(cat "$d/tap.port")
    fi
    case "$kind" in
    nsd) _nsd_conf "$d" "$port" "$zone" "$paddr" "$pport" "$key" "$naddr" >"$d/nsd.conf"
        _peer_launch "$name" nsd nsd -d -c "$d/nsd.conf" ;;
    knot) _knot_secondary_conf "$d" "$port" "$zone" "$paddr" "$pport" "$key" "$naddr" >"$d/knot.conf"
        _peer_launch "$name" knot knotd -c "$d/knot.conf" ;;
    bind) _bind_conf "$d" "$port" "$zone" "$paddr" "$pport" "$key" "$naddr" >"$d/named.conf"
        _peer_launch "$name" bind named -g -d 3 -u root -c "$d/named.conf" ;;
    *) echo "secondary_start: unknown kind $kind" >&2; return 2 ;;
    esac
}

_nsd_conf() {
    local d=$1 port=$2 zone=$3 paddr=$4 pport=$5 key=$6 naddr=$7 kn=NOKEY a
    mkdir -p "$d/zones" "$d/xfr"
    [ -n "$key" ] && { _key_split "$key"; kn=$_kn; }
    echo "server:"
    for a in $(_listen_addrs); do echo "    ip-address: $a@$port"; done
    echo "    port: $port"
    echo "    server-count: 1"
    echo "    username: \"\""
    echo "    chroot: \"\""
    echo "    zonesdir: \"$d/zones\""
    echo "    database: \"\""
    echo "    zonelistfile: \"$d/zone.list\""
    echo "    xfrdfile: \"$d/xfrd.state\""
    echo "    xfrdir: \"$d/xfr\""
    echo "    pidfile: \"$d/nsd.pid\""
    echo "    logfile: \"$d/log\""
    echo "    verbosity: 2"
    echo "    rrl-ratelimit: 0"
    echo "    xfrd-reload-timeout: 0"
    echo "    zonefiles-write: 0"
    echo "    tcp-count: 20"
    echo "remote-control:"
    echo "    control-enable: no"
    if [ -n "$key" ]; then
        echo "key:"
        echo "    name: $kn"
        echo "    algorithm: $_ka"
        echo "    secret: \"$_ks\""
    fi
    echo "zone:"
    echo "    name: $zone"
    echo "    zonefile: \"${zone}zone\""
    echo "    request-xfr: $paddr@$pport $kn"
    echo "    allow-axfr-fallback: yes"
    for a in $naddr; do
        echo "    allow-notify: $a $kn"
        { [ -n "$key" ] && [ "${PEER_NOTIFY_UNSIGNED:-0}" = 1 ]; } && echo "    allow-notify: $a NOKEY"
    done
    echo "    provide-xfr: 127.0.0.1 NOKEY"
    echo "    provide-xfr: ::1 NOKEY"
}

_knot_secondary_conf() {
    local d=$1 port=$2 zone=$3 paddr=$4 pport=$5 key=$6 naddr=$7
    mkdir -p "$d/zones" "$d/db"
    _knot_server_conf "$d" "$port"
    [ -n "$key" ] && _knot_keys_conf "$key" && _key_split "$key"
    echo "remote:"
    echo "  - id: primary"
    echo "    address: $paddr@$pport"
    [ -n "$key" ] && echo "    key: $_kn"
    echo "acl:"
    echo "  - id: notify-from-primary"
    echo "    address: [$(echo $naddr | sed 's/ /, /g')]"
    [ -n "$key" ] && echo "    key: $_kn"
    echo "    action: notify"
    if [ -n "$key" ] && [ "${PEER_NOTIFY_UNSIGNED:-0}" = 1 ]; then
        echo "  - id: notify-unsigned"
        echo "    address: [$(echo $naddr | sed 's/ /, /g')]"
        echo "    action: notify"
    fi
    echo "  - id: local-transfer"
    echo "    address: [127.0.0.1, ::1]"
    echo "    action: transfer"
    echo "zone:"
    echo "  - domain: $zone"
    echo "    storage: $d/zones"
    echo "    file: ${zone}zone"
    echo "    master: primary"
    echo "    zonefile-sync: -1"
    echo "    journal-content: changes"
    echo "    refresh-min-interval: 2"
    echo "    retry-min-interval: 1"
    echo "    retry-max-interval: 2"
    printf '    acl: [notify-from-primary, local-transfer'
    { [ -n "$key" ] && [ "${PEER_NOTIFY_UNSIGNED:-0}" = 1 ]; } && printf ', notify-unsigned'
    echo "]"
}

_bind_conf() {
    local d=$1 port=$2 zone=$3 paddr=$4 pport=$5 key=$6 naddr=$7 kref=""
    if [ -n "$key" ]; then
        _key_split "$key"
        kref=" key \"$_kn\""
        printf 'key "%s" {\n    algorithm %s;\n    secret "%s";\n};\n' "$_kn" "$_ka" "$_ks"
    fi
    echo "options {"
    echo "    directory \"$d\";"
    echo "    pid-file \"$d/named.pid\";"
    echo "    session-keyfile \"$d/session.key\";"
    echo "    managed-keys-directory \"$d\";"
    echo "    listen-on port $port { 127.0.0.1; };"
    if [ "$_PEERS_V6" = yes ]; then echo "    listen-on-v6 port $port { ::1; };"; else echo "    listen-on-v6 { none; };"; fi
    echo "    recursion no;"
    echo "    dnssec-validation no;"
    echo "    notify no;"
    echo "    allow-query { any; };"
    echo "    allow-transfer { 127.0.0.1; ::1; };"
    echo "    request-ixfr yes;"
    echo "    min-refresh-time 1;"
    echo "    min-retry-time 1;"
    echo "    max-retry-time 2;"
    echo "    automatic-interface-scan no;"
    echo "    notify-rate 1000;"
    echo "    serial-query-rate 1000;"
    echo "};"
    echo "controls { };"
    echo "zone \"$zone\" {"
    echo "    type secondary;"
    echo "    primaries port $pport { $paddr$kref; };"
    echo "    file \"${zone}db\";"
    echo "    masterfile-format text;"
    if [ -n "$key" ] && [ "${PEER_NOTIFY_UNSIGNED:-0}" != 1 ]; then
        echo "    allow-notify { key $_kn; };"
    else
        echo "    allow-notify { $(echo $naddr | sed 's/ /; /g'); };"
    fi
    echo "};"
}

# ---- what a server serves --------------------------------------------------------

# server_serial ADDR:PORT ZONE [KEY]: the SOA serial served, or nothing.
server_serial() {
    if [ -n "${3:-}" ]; then
        $ZL_ZONETOOL serial "$1" "$2" --key "$3" 2>/dev/null
    else
        $ZL_ZONETOOL serial "$1" "$2" 2>/dev/null
    fi
}
_peer_zone() { cat "$PEERS_DIR/$1/zone"; }
peer_serial() { server_serial "$(peer_server "$1")" "${2:-$(_peer_zone "$1")}"; }

# peer_wait_serial NAME SERIAL [ZONE]: waits until NAME serves SERIAL (at
# most PEER_WAIT s); sets PEER_WAITED to the seconds it took; on time-out
# prints a '#' line with the serial served and returns 1.
peer_wait_serial() {
    local z out
    z=${3:-$(_peer_zone "$1")}
    if out=$($ZL_ZONETOOL wait "$(peer_server "$1")" "$z" "$2" --timeout "$PEER_WAIT"); then
        PEER_WAITED=$out
        return 0
    fi
    PEER_WAITED=$PEER_WAIT
    echo "# $1 ($(peer_kind "$1")) of $z, waiting for serial $2: $out after ${PEER_WAIT}s"
    return 1
}

# zone_dump ADDR:PORT ZONE [KEY]: AXFR, every TSIG checked, the zone in
# canonical text (one RR a line, see zonetool.py norm) on stdout.
zone_dump() {
    if [ -n "${3:-}" ]; then
        $ZL_ZONETOOL axfr "$1" "$2" --key "$3"
    else
        $ZL_ZONETOOL axfr "$1" "$2"
    fi
}
# peer_dump NAME [ZONE]: what secondary NAME serves (unsigned AXFR).
peer_dump() { zone_dump "$(peer_server "$1")" "${2:-$(_peer_zone "$1")}"; }

# dump_serial FILE: the SOA serial in a dump.
dump_serial() { awk '$4 == "SOA" { print $7; exit }' "$1"; }

# peer_sync NAME SERIAL FILE [ZONE]: waits until NAME serves SERIAL (at
# most PEER_WAIT s), then dumps its zone into FILE (peer_wait_serial and
# peer_dump in one process). PEER_WAITED: the seconds waited. On failure
# prints a '#' line and returns 1 (FILE then empty).
peer_sync() {
    local out
    if out=$($ZL_ZONETOOL axfr "$(peer_server "$1")" "${4:-$(_peer_zone "$1")}" --serial "$2" \
        --timeout "$PEER_WAIT" --out "$3" 2>&1); then
        PEER_WAITED=$out
        return 0
    fi
    : >"$3"
    PEER_WAITED=$PEER_WAIT
    echo "# $1 ($(peer_kind "$1")): $out" | head -3
    return 1
}

# zone_same FILE1 FILE2: true when the two dumps are byte for byte the
# same; else prints the difference as '#' lines.
zone_same() {
    cmp -s "$1" "$2" && return 0
    diff "$1" "$2" | head -40 | sed 's/^/#   /'
    return 1
}

# check_zone NAME EXPECTED ACTUAL: a TAP line, with the difference.
check_zone() {
    local out
    if [ ! -s "$3" ]; then
        not_ok "$1" "empty dump: $3"
    elif out=$(zone_same "$2" "$3"); then
        ok "$1"
    else
        not_ok "$1" "$out"
    fi
}

# ---- how a secondary transferred ------------------------------------------------

# peer_xfrs NAME: one line per transfer NAME received through its tap, in
# order: "AXFR SERIAL" (an AXFR, or an IXFR answered with the whole zone)
# or "IXFR SERIAL" (an incremental IXFR answer), SERIAL the new one.
peer_xfrs() {
    awk '$3 == "AXFR" || $3 == "IXFR" {
        a = ""; s = ""
        for (i = 4; i <= NF; i++) {
            if ($i ~ /^answer=/) a = substr($i, 8)
            if ($i ~ /^to=/) s = substr($i, 4)
        }
        if (a == "axfr" || a == "axfr-style") print "AXFR", s
        else if (a == "incremental") print "IXFR", s
    }' "$PEERS_DIR/$1/xfr.log"
}
# peer_last_xfr NAME: the last line of peer_xfrs ("IXFR 7").
peer_last_xfr() { peer_xfrs "$1" | tail -1; }
# peer_tap_log NAME: every request the secondary made (xfrtap.py's log).
peer_tap_log() { cat "$PEERS_DIR/$1/xfr.log"; }

# peer_xfrs_log NAME: the kinds of transfer the secondary itself logged
# ("AXFR" or "IXFR", one a line; Knot: "AXFR|IXFR, incoming ... finished",
# BIND at -d 3: "got nonincremental|incremental response"). NSD never
# logs it: prints nothing and returns 2.
peer_xfrs_log() {
    case "$(peer_kind "$1")" in
    knot) sed -n 's/.*\] \([AI]XFR\), incoming, .*finished.*/\1/p' "$(peer_log "$1")" ;;
    bind) sed -n 's/.*got nonincremental response.*/AXFR/p; s/.*got incremental response$/IXFR/p' "$(peer_log "$1")" ;;
    *) return 2 ;;
    esac
}

# peer_notifies NAME: the serials of the NOTIFYs NAME logged as received
# and accepted, one a line (NSD: "notify for Z from A serial S"; Knot:
# "notify, incoming, remote A, serial S"; BIND: "notify from A: serial S"
# or "...: zone is up to date").
peer_notifies() {
    case "$(peer_kind "$1")" in
    nsd) sed -n 's/.*info: notify for .* serial \([0-9]*\).*/\1/p' "$(peer_log "$1")" ;;
    knot) sed -n 's/.*\] notify, incoming, remote .*, serial \([0-9]*\).*/\1/p' "$(peer_log "$1")" ;;
    bind) sed -n 's/.*: notify from [^ ]*: serial \([0-9]*\).*/\1/p; s/.*: notify from [^ ]*: zone is up to date.*/current/p' "$(peer_log "$1")" ;;
    esac
}

# ---- update clients ---------------------------------------------------------------

# ns_update TOOL SERVER ZONE KEY PROTO < SCRIPT
# Runs nsupdate or knsupdate (TOOL) against SERVER (ADDR:PORT) for ZONE,
# signed with KEY (NAME:ALG:BASE64; "" for unsigned; given as -y ALG:NAME:
# SECRET, which both tools read, or with PEER_KEYFILE=1 in a key file, -k),
# over PROTO (udp: the tools' default; tcp: -v), one try, at most 8 s. SCRIPT holds statements both tools read:
#     update add NAME TTL TYPE RDATA      update delete NAME [TYPE [RDATA]]
#     prereq yxdomain|nxdomain NAME       prereq yxrrset|nxrrset NAME TYPE
#     prereq yxrrset NAME TYPE RDATA
# (fully qualified names; the helper adds server, zone, send). Prints one
# line "RCODE tsig-error=ERR" (ERR: NOERROR, BADSIG, BADKEY, BADTIME,
# BADTRUNC, or - when the answer has no TSIG), or "TIMEOUT tsig-error=-".
# The tool's whole output is in $ZL_TMP/ns_update.out.
ns_update() {
    local tool=$1 server=$2 zone=$3 key=$4 proto=$5 addr port
    addr=$(echo "${server%:*}" | tr -d '[]')
    port=${server##*:}
    set --
    if [ -n "$key" ]; then
        _key_split "$key"
        if [ "${PEER_KEYFILE:-0}" = 1 ]; then
            # nsupdate: a named.conf key statement; knsupdate: the -y form
            case "$tool" in
            nsupdate) printf 'key "%s" {\n\talgorithm %s;\n\tsecret "%s";\n};\n' "$_kn" "$_ka" "$_ks" ;;
            *) echo "$_ka:$_kn:$_ks" ;;
            esac >"$ZL_TMP/ns_update.key"
            set -- -k "$ZL_TMP/ns_update.key"
        else
            set -- -y "$_ka:$_kn:$_ks"
        fi
    fi
    [ "$proto" = tcp ] && set -- "$@" -v
    case "$tool" in
    nsupdate) set -- "$@" -t 8 -u 4 -r 0 ;;
    knsupdate) set -- "$@" -t 8 -r 0 ;;
    *) echo "ns_update: unknown tool $tool" >&2; return 2 ;;
    esac
    { echo "server $addr $port"; echo "zone $zone"; cat; echo send; echo answer; } |
        "$tool" "$@" >"$ZL_TMP/ns_update.out" 2>&1
    awk '
        /status: / { s = $0; sub(/.*status: /, "", s); sub(/[,;].*/, "", s); rcode = s }
        /[[:space:]]TSIG[[:space:]]/ && !/PSEUDOSECTION/ {
            # the MAC may be printed in several space-separated chunks
            # (long ones: SHA-384, SHA-512): find the error by its name
            for (i = 1; i <= NF; i++) if ($i == "TSIG") break
            for (k = i + 5; k < NF; k++)
                if ($k ~ /^[0-9]+$/ && $(k + 1) ~ /^(NOERROR|BAD[A-Z]+)$/) { err = $(k + 1); break }
        }
        END {
            if (rcode == "") { print "TIMEOUT tsig-error=-"; exit }
            # knsupdate shows a TSIG error in place of the rcode
            if (rcode ~ /^BAD/) { if (err == "") err = rcode; rcode = "NOTAUTH" }
            print rcode, "tsig-error=" (err == "" ? "-" : err)
        }' "$ZL_TMP/ns_update.out"
}

# raw_update SERVER ZONE [zonetool options] < SCRIPT: a crafted UPDATE
# (zonetool.py update: every RFC 2136 form, malformed ones, TSIG skew,
# truncation, bad MACs); prints zonetool's result line ("RCODE tsig=...
# tsig-error=...").
raw_update() { $ZL_ZONETOOL update "$@"; }
