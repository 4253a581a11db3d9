#!/usr/bin/python3
"""frames.py PORT_IN PORT_OUT COUNT RESETS: raw Ethernet frames to a virtio guest.

The guest's NIC is a QEMU socket netdev (zonelet-virtio
--net=socket,udp=127.0.0.1:PORT_IN,localaddr=127.0.0.1:PORT_OUT): QEMU
sends each frame the guest transmits as one UDP datagram to PORT_IN and
hands each datagram it gets on PORT_OUT to the guest as one frame. This
script plays the guest's gateway 10.0.2.2 (answers its ARP), and prints
one line per step, each a result the caller compares:

  ping before: ok            ICMP echo to the guest answered
  dns before: 192.0.2.10     www.example.test A over UDP answered
  tcp before: 192.0.2.10     the same over TCP (handshake, query, RST)
  flood: N frames            N malformed frames sent (COUNT, seeded)
  dns after: 192.0.2.10      still answered after the flood
  ping after: ok
  tcp after: 192.0.2.10      a TCP handshake and a query after it
  tcp after syn flood: 192.0.2.10   1000 SYNs never completed, then a client
  resets: RESETS accepted    connections that send part of a query, then RST
  dns after resets: 192.0.2.10
  tcp after resets: 192.0.2.10

Every wait is bounded (a missing answer prints "none").
"""
import random
import socket
import struct
import sys
import time

GUEST_MAC = bytes.fromhex("525400123456")
MY_MAC = bytes.fromhex("52550a000202")
GUEST_IP = socket.inet_aton("10.0.2.15")
MY_IP = socket.inet_aton("10.0.2.2")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(payload, etype=0x0800, dst=GUEST_MAC):
    return dst + MY_MAC + struct.pack("!H", etype) + payload


def ipv4(proto, payload, ident=1, frag=0, ttl=64, src=MY_IP, dst=GUEST_IP):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, payload):
    # checksum 0: none (allowed over IPv4)
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, ack, flags, payload=b"", window=65535):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0)
    pseudo = MY_IP + GUEST_IP + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    c = csum(pseudo + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def dns_query(qid, name="www.example.test", qtype=1):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def first_a(msg):
    """The last 4 octets of the first A answer, or None."""
    if len(msg) < 12 or msg[3] & 0x0F or struct.unpack("!H", msg[6:8])[0] == 0:
        return None
    return socket.inet_ntoa(msg[-4:])


class Wire:
    def __init__(self, port_in, port_out):
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.bind(("127.0.0.1", port_in))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.out = ("127.0.0.1", port_out)

    def send(self, frame):
        self.tx.sendto(frame, self.out)

    def wait(self, match, secs):
        """Frames from the guest until match(frame) gives a value (ARP
        requests for us answered meanwhile), or None after secs."""
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.rx.settimeout(left)
            try:
                f = self.rx.recv(65536)
            except socket.timeout:
                return None
            if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01" \
                    and f[38:42] == MY_IP:
                arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + MY_MAC + MY_IP + f[22:28] + f[28:32]
                self.send(eth(arp, 0x0806, dst=f[6:12]))
                continue
            v = match(f)
            if v is not None:
                return v


def ipv4_payload(f, proto):
    if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != proto or f[26:30] != GUEST_IP:
        return None
    ihl = (f[14] & 0x0F) * 4
    total = struct.unpack("!H", f[16:18])[0]
    return f[14 + ihl:14 + total]


def ping(w, ident, secs=5.0):
    for attempt in range(3):
        body = struct.pack("!BBHHH", 8, 0, 0, ident, attempt) + b"zonelet" * 8
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
        w.send(eth(ipv4(1, body, ident=ident)))

        def match(f):
            p = ipv4_payload(f, 1)
            if p and len(p) >= 8 and p[0] == 0 and struct.unpack("!HH", p[4:8]) == (ident, attempt):
                return "ok"
            return None
        if w.wait(match, secs / 3):
            return "ok"
    return "none"


def ask_udp(w, qid, sport, secs=6.0):
    for attempt in range(3):
        w.send(eth(ipv4(17, udp(sport, 53, dns_query(qid)), ident=qid)))

        def match(f):
            p = ipv4_payload(f, 17)
            if p and len(p) >= 20 and struct.unpack("!HH", p[:4]) == (53, sport) \
                    and struct.unpack("!H", p[8:10])[0] == qid:
                return first_a(p[8:]) or "no answer"
            return None
        r = w.wait(match, secs / 3)
        if r:
            return r
    return "none"


def ask_tcp(w, sport, secs=8.0):
    """Handshake, one framed query, the answer; then RST."""
    seq = random.getrandbits(32)
    w.send(eth(ipv4(6, tcp(sport, 53, seq, 0, 0x02))))

    def synack(f):
        p = ipv4_payload(f, 6)
        if p and len(p) >= 20 and struct.unpack("!HH", p[:4]) == (53, sport) and p[13] & 0x12 == 0x12:
            return struct.unpack("!I", p[4:8])[0]
        return None
    theirs = w.wait(synack, secs / 2)
    if theirs is None:
        return "none (no SYN-ACK)"
    q = dns_query(0x7777)
    data = struct.pack("!H", len(q)) + q
    w.send(eth(ipv4(6, tcp(sport, 53, seq + 1, theirs + 1, 0x10))))
    w.send(eth(ipv4(6, tcp(sport, 53, seq + 1, theirs + 1, 0x18, data))))
    got = b""

    def segment(f):
        p = ipv4_payload(f, 6)
        if p and len(p) >= 20 and struct.unpack("!HH", p[:4]) == (53, sport):
            off = (p[12] >> 4) * 4
            return p[off:] if len(p) > off else None
        return None
    end = time.monotonic() + secs / 2
    while time.monotonic() < end:
        d = w.wait(segment, end - time.monotonic())
        if d is None:
            break
        got += d
        if len(got) >= 2 and len(got) >= 2 + struct.unpack("!H", got[:2])[0]:
            break
    w.send(eth(ipv4(6, tcp(sport, 53, seq + 1 + len(data), 0, 0x04))))
    if len(got) < 2 or len(got) < 2 + struct.unpack("!H", got[:2])[0]:
        return "none (%d octets)" % len(got)
    return first_a(got[2:2 + struct.unpack("!H", got[:2])[0]]) or "no answer"


def reset_mid(w, sport, rnd):
    """A connection that sends part of a query and resets. True if the
    guest accepted it (SYN-ACK)."""
    seq = rnd.getrandbits(32)
    w.send(eth(ipv4(6, tcp(sport, 53, seq, 0, 0x02))))

    def synack(f):
        p = ipv4_payload(f, 6)
        if p and len(p) >= 20 and struct.unpack("!HH", p[:4]) == (53, sport) and p[13] & 0x12 == 0x12:
            return struct.unpack("!I", p[4:8])[0]
        return None
    theirs = w.wait(synack, 3.0)
    if theirs is None:
        return False
    q = dns_query(rnd.getrandbits(16))
    part = (struct.pack("!H", len(q)) + q)[:rnd.randint(1, len(q))]
    w.send(eth(ipv4(6, tcp(sport, 53, seq + 1, theirs + 1, 0x18, part))))
    w.send(eth(ipv4(6, tcp(sport, 53, seq + 1 + len(part), 0, 0x04))))
    return True


def malformed(rnd):
    """One malformed or hostile frame."""
    k = rnd.randrange(14)
    junk = lambda n: bytes(rnd.getrandbits(8) for _ in range(n))
    if k == 0:  # anything, any length (runts included)
        return junk(rnd.randint(1, 1600))
    if k == 1:  # IPv4 header length under 20
        return eth(bytes([0x40 | rnd.randint(0, 4)]) + junk(40))
    if k == 2:  # IPv4 total length over the frame
        p = bytearray(ipv4(17, udp(rnd.getrandbits(16), 53, junk(30))))
        p[2:4] = struct.pack("!H", rnd.randint(len(p) + 1, 65535))
        return eth(bytes(p))
    if k == 3:  # bad header checksum
        p = bytearray(ipv4(17, udp(1000, 53, dns_query(1))))
        p[10] ^= 0xFF
        return eth(bytes(p))
    if k == 4:  # fragments at random offsets, never completed
        return eth(ipv4(17, junk(rnd.randint(8, 1400)), ident=rnd.getrandbits(16),
                        frag=0x2000 | rnd.randint(0, 8000)))
    if k == 5:  # UDP length field lying
        u = bytearray(udp(rnd.getrandbits(16), 53, dns_query(rnd.getrandbits(16))))
        u[4:6] = struct.pack("!H", rnd.choice([0, 1, 7, 9, 65535]))
        return eth(ipv4(17, bytes(u)))
    if k == 6:  # DNS garbage to port 53
        return eth(ipv4(17, udp(rnd.getrandbits(16), 53, junk(rnd.randint(0, 600)))))
    if k == 7:  # TCP with a bad data offset, random flags
        t = bytearray(tcp(rnd.getrandbits(16), 53, rnd.getrandbits(32), rnd.getrandbits(32),
                          rnd.getrandbits(8), junk(rnd.randint(0, 100))))
        t[12] = rnd.getrandbits(8)
        return eth(ipv4(6, bytes(t)))
    if k == 8:  # SYNs from random ports, never completed
        return eth(ipv4(6, tcp(rnd.getrandbits(16) | 1024, 53, rnd.getrandbits(32), 0, 0x02)))
    if k == 9:  # truncated ICMP and unknown protocols
        return eth(ipv4(rnd.choice([1, 2, 47, 58, 132, 255]), junk(rnd.randint(0, 6))))
    if k == 10:  # IPv6 with a payload length over the frame, odd next headers
        h = struct.pack("!IHBB", 6 << 28, rnd.randint(100, 65535), rnd.choice([0, 6, 17, 43, 44, 58, 60]),
                        64) + junk(32)
        return eth(h + junk(rnd.randint(0, 60)), 0x86DD)
    if k == 11:  # ARP with odd lengths
        return eth(struct.pack("!HHBBH", 1, 0x0800, rnd.randint(0, 255), rnd.randint(0, 255), 1) + junk(20),
                   0x0806, dst=b"\xff" * 6)
    if k == 12:  # oversized frame
        return eth(ipv4(17, udp(1, 53, junk(rnd.randint(1500, 9000)))))
    # VLAN-tagged and unknown ethertypes, broadcast
    return eth(junk(rnd.randint(0, 100)), rnd.choice([0x8100, 0x88CC, 0x9000, 0xFFFF]), dst=b"\xff" * 6)


def main():
    port_in, port_out, count, resets = (int(a) for a in sys.argv[1:5])
    w = Wire(port_in, port_out)
    print("ping before: " + ping(w, 0x101), flush=True)
    print("dns before: " + ask_udp(w, 0x1111, 40001), flush=True)
    print("tcp before: " + ask_tcp(w, 40004), flush=True)
    rnd = random.Random(10)
    for i in range(count):
        w.send(malformed(rnd))
        if i % 64 == 63:
            time.sleep(0.002)  # QEMU's socket buffer: most frames must get there
    print("flood: %d frames" % count, flush=True)
    time.sleep(0.5)
    print("dns after: " + ask_udp(w, 0x2222, 40002), flush=True)
    print("ping after: " + ping(w, 0x202), flush=True)
    print("tcp after: " + ask_tcp(w, 40003), flush=True)
    # A SYN flood: 1000 half-open connections, far over the backlog (128).
    for i in range(1000):
        w.send(eth(ipv4(6, tcp(1024 + i, 53, rnd.getrandbits(32), 0, 0x02), ident=i)))
        if i % 64 == 63:
            time.sleep(0.002)
    time.sleep(0.3)
    print("tcp after syn flood: " + ask_tcp(w, 40007), flush=True)
    accepted = sum(reset_mid(w, 41000 + i, rnd) for i in range(resets))
    print("resets: %d accepted" % accepted, flush=True)
    print("dns after resets: " + ask_udp(w, 0x3333, 40005), flush=True)
    print("tcp after resets: " + ask_tcp(w, 40006), flush=True)


if __name__ == "__main__":
    main()
