#!/bin/sh
# Malformed packets over UDP and TCP: the server answers FORMERR or drops
# them, and keeps serving (a normal query after each).
. "$(dirname "$0")/lib.sh"
need_tools dig
CLIENT="$ZL_PY tests/system/dnsclient.py"

zl_write_zone "$ZL_ZONES/example.test"
zl_start --workers 1 || { not_ok "server starts"; tap_done; }
ok "server starts"

# www.example.test A as hex, header with QDCOUNT patched per case.
QNAME=03777777076578616d706c65047465737400
normal="123400000001000000000000${QNAME}00010001"
check "well-formed raw query: NOERROR" "rcode 0" "$($CLIENT "$ZL_PORT" udp "$normal")"

expect_formerr_or_drop() {   # NAME HEX
    r=$($CLIENT "$ZL_PORT" udp "$2")
    case "$r" in
    "rcode 1"|none) ok "$1 ($r)" ;;
    *) not_ok "$1: FORMERR or drop" "$r" ;;
    esac
    check "still serving after: $1" "192.0.2.10" "$(qs www.example.test A)"
}
expect_formerr_or_drop "random garbage" "$(head -c 300 /dev/urandom | od -An -tx1 | tr -d ' \n')"
expect_formerr_or_drop "truncated header (5 bytes)" "1234000000"
expect_formerr_or_drop "empty datagram" ""
expect_formerr_or_drop "QDCOUNT 0" "123400000000000000000000"
expect_formerr_or_drop "QDCOUNT 2, one question" "123400000002000000000000${QNAME}00010001"
expect_formerr_or_drop "question cut in the name" "123400000001000000000000037777770765"
expect_formerr_or_drop "compression pointer loop" "123400000001000000000000c00c00010001"
expect_formerr_or_drop "label longer than the packet" "1234000000010000000000003f7777"
expect_formerr_or_drop "ANCOUNT 5 with no records" "123400000001000500000000${QNAME}00010001"
r=$($CLIENT "$ZL_PORT" udp "123480000001000000000000${QNAME}00010001")
check "a response (QR set) is dropped" "none" "$r"

# Over TCP: garbage frames, then a normal query on a new connection.
$ZL_PY - "$ZL_PORT" <<'PY'
import os, socket, struct, sys
port = int(sys.argv[1])
for blob in (os.urandom(500), struct.pack(">H", 300) + os.urandom(100), b"\x00\x05abc"):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(blob)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
PY
check "still serving over TCP after garbage frames" "192.0.2.10" "$(q www.example.test A +tcp +short)"
zl_stop
check "SIGTERM: exit status 0" "0" "$ZL_STATUS"
tap_done
