#!/usr/bin/python3
"""Client for the sockets guest (tests/platform/guests/sockets.c): drives
its UDP and TCP echo servers and prints TAP lines. Every wait is bounded.

  sockets_client.py ADDR4 ADDR6|- PORT [--tap IFNAME] [--udp-port N]

ADDR6 "-" skips IPv6 (QEMU's user network). With --tap, also pings (raw
ICMP and ICMPv6 sockets: root), floods malformed frames on IFNAME at the
guest's MAC (learnt by ARP) and checks the guest still answers. Ends
the guest with a "quit" datagram."""
import os
import random
import socket
import struct
import sys
import time

ok_count = 0
fail_count = 0


def tap(ok, name, detail=""):
    global ok_count, fail_count
    if ok:
        ok_count += 1
        print("ok - %s" % name)
    else:
        fail_count += 1
        print("not ok - %s%s" % (name, (": " + detail) if detail else ""))
    sys.stdout.flush()


def measure(text):
    print("# measure: %s" % text)
    sys.stdout.flush()


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def wait_udp(addr, port, limit=90):
    """The guest may still be booting (TCG, DHCP): retry for a while."""
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.settimeout(0.5)
    end = time.time() + limit
    t0 = time.time()
    while time.time() < end:
        try:
            s.sendto(b"hello", (addr, port))
            if s.recvfrom(2048)[0] == b"hello":
                return time.time() - t0
        except (socket.timeout, OSError):
            time.sleep(0.2)
    return None


def udp_echo(addr, port, n, tries=1):
    """n echoes, each sent up to `tries` times (3 s apart) until its own
    answer comes back; answers to earlier sends are skipped."""
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.settimeout(3)
    good, bad_src = 0, 0
    t0 = time.perf_counter()
    for i in range(n):
        m = b"rt-%d-" % i + b"x" * (i % 1200)
        for _ in range(tries):
            s.sendto(m, (addr, port))
            try:
                data, src = s.recvfrom(2048)
                while data != m and data.startswith(b"rt-"):
                    data, src = s.recvfrom(2048)
            except socket.timeout:
                continue
            good += data == m
            bad_src += socket.inet_pton(family_of(addr), src[0]) != socket.inet_pton(family_of(addr), addr)
            break
    rt = (time.perf_counter() - t0) / n
    return good, bad_src, rt


def udp_burst(addr, port, n):
    s = socket.socket(family_of(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(3)
    t0 = time.perf_counter()
    for i in range(n):
        s.sendto(b"burst-%d" % i, (addr, port))
    got = set()
    try:
        while len(got) < n:
            got.add(s.recv(2048))
    except socket.timeout:
        pass
    return len(got), time.perf_counter() - t0


def tcp_connect(addr, port, timeout=10):
    s = socket.socket(family_of(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def tcp_pipeline(addr, port, n):
    """n requests framed as DNS over TCP (2-byte length), sent in one go;
    counts the framed answers (the echo returns them as they are)."""
    s = tcp_connect(addr, port, 20)
    reqs = [b"query-%04d-" % i + b"q" * (i % 200) for i in range(n)]
    wire = b"".join(struct.pack("!H", len(r)) + r for r in reqs)
    t0 = time.perf_counter()
    s.sendall(wire)
    answers = 0
    for r in reqs:
        (ln,) = struct.unpack("!H", recv_exact(s, 2))
        answers += recv_exact(s, ln) == r
    dt = time.perf_counter() - t0
    s.close()
    return answers, dt


def tcp_many(addr, port, n, size):
    socks = [tcp_connect(addr, port) for _ in range(n)]
    for i, s in enumerate(socks):
        s.sendall(bytes([(i + k) & 255 for k in range(size)]))
    good = 0
    for i, s in enumerate(socks):
        good += recv_exact(s, size) == bytes([(i + k) & 255 for k in range(size)])
        s.close()
    return good


def tcp_resets(addr, port, n):
    for i in range(n):
        s = tcp_connect(addr, port)
        s.sendall(b"half a mess")
        if i % 2:
            recv_exact(s, 11)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff


def ping(addr, n, v6):
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(3)
    ident, got = os.getpid() & 0xffff, 0
    for seq in range(n):
        body = b"zonelet-ping-%04d" % seq
        if v6:  # the kernel fills in the ICMPv6 checksum
            pkt = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + body
        else:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body
        s.sendto(pkt, (addr, 0))
        end = time.time() + 3
        while time.time() < end:
            try:
                data = s.recv(2048)
            except socket.timeout:
                break
            icmp = data if v6 else data[(data[0] & 15) * 4:]
            want = 129 if v6 else 0
            if icmp[0] == want and struct.unpack("!HH", icmp[4:8]) == (ident, seq) and icmp[8:] == body:
                got += 1
                break
    return got


def guest_mac(addr):
    with open("/proc/net/arp") as f:
        for line in f:
            p = line.split()
            if p and p[0] == addr:
                return bytes(int(x, 16) for x in p[3].split(":"))
    return None


def flood(ifname, mac, n):
    """Malformed frames at the guest: noise, truncated and corrupted ARP,
    IPv4, IPv6, UDP, TCP, ICMP headers and fragments (not ARP spoofing)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = s.getsockname()[4]
    rnd = random.Random(4242)
    ip4 = bytes.fromhex("450000280001000040110000") + bytes([10, 97, 0, 1, 10, 97, 0, 2])
    templates = [
        b"\x08\x00" + ip4 + bytes.fromhex("3039000700140000"),  # UDP to port 7
        b"\x08\x00" + bytes.fromhex("450000340001200040060000") + bytes([10, 97, 0, 1, 10, 97, 0, 2])
        + bytes.fromhex("303900070000000100000000801200ff00000000020405b4010303070402fe00"),
        b"\x86\xdd" + bytes.fromhex("6000000000182c40") + socket.inet_pton(socket.AF_INET6, "fd97::1")
        + socket.inet_pton(socket.AF_INET6, "fd97::2") + bytes.fromhex("3a00053900000009870000005c9d261b"),
        b"\x86\xdd" + bytes.fromhex("6000000000103a40") + socket.inet_pton(socket.AF_INET6, "fd97::1")
        + socket.inet_pton(socket.AF_INET6, "fd97::2") + bytes.fromhex("800000001234000101020304"),
        b"\x08\x06" + bytes.fromhex("0001080006040001020000000009") + bytes([10, 97, 0, 9]) + bytes(6)
        + bytes([10, 97, 0, 2]),
    ]
    sent = 0
    for i in range(n):
        kind = rnd.randrange(len(templates) + 1)
        if kind == len(templates):
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        else:
            body = bytearray(templates[kind] + bytes(rnd.randrange(256) for _ in range(rnd.randrange(40))))
            span = 10 if kind == 4 else len(body) - 2  # ARP: type/length fields only
            for _ in range(rnd.randrange(1, 5)):
                body[2 + rnd.randrange(span)] ^= rnd.randrange(1, 256)
            if rnd.randrange(3) == 0:
                body = body[:rnd.randrange(1, len(body))]
            body = bytes(body)
        try:
            s.send(mac + src + body)
            sent += 1
        except OSError:
            pass
        if i % 200 == 0:
            time.sleep(0.005)
    return sent


def main():
    a4, a6, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ifname = sys.argv[sys.argv.index("--tap") + 1] if "--tap" in sys.argv else None
    up = wait_udp(a4, port)
    tap(up is not None, "UDP echo answers over IPv4 (%s)" % a4)
    if up is None:
        return
    measure("first UDP answer %.2f s after the client started" % up)
    addrs = [a4] + ([a6] if a6 != "-" else [])
    if a6 != "-":
        tap(wait_udp(a6, port, 20) is not None, "UDP echo answers over IPv6 (%s)" % a6)
    if ifname:
        for a in addrs:
            got = ping(a, 3, ":" in a)
            tap(got == 3, "%s reaches the guest at %s (%d/3 replies)" % ("ping6" if ":" in a else "ping", a, got))
    for a in addrs:
        good, bad_src, rt = udp_echo(a, port, 100)
        tap(good == 100 and bad_src == 0, "UDP %s: 100 echoes from the address asked" % a,
            "%d good, %d from another address" % (good, bad_src))
        measure("UDP %s sequential round trip %.0f us" % (a, rt * 1e6))
        got, dt = udp_burst(a, port, 200)
        tap(got >= 190, "UDP %s: a burst of 200 datagrams answered (%d)" % (a, got))
        measure("UDP %s burst of 200: %d answered in %.1f ms" % (a, got, dt * 1e3))
    for a in addrs:
        try:
            answers, dt = tcp_pipeline(a, port, 1000)
        except (OSError, EOFError) as e:
            answers, dt = 0, 0
            print("# %s" % e)
        tap(answers == 1000, "TCP %s: 1,000 pipelined requests get 1,000 answers (%d)" % (a, answers))
        measure("TCP %s 1,000 pipelined in %.1f ms" % (a, dt * 1e3))
    try:
        good = tcp_many(a4, port, 50, 3000)
    except (OSError, EOFError) as e:
        good = 0
        print("# %s" % e)
    tap(good == 50, "TCP: 50 connections open at once, 3,000 bytes each echoed (%d)" % good)
    try:
        tcp_resets(a4, port, 30)
        answers, _ = tcp_pipeline(a4, port, 10)
    except (OSError, EOFError) as e:
        answers = 0
        print("# %s" % e)
    tap(answers == 10, "TCP: 30 clients reset mid-message, the next one is served")
    if ifname:
        mac = guest_mac(a4)
        if mac is None:
            tap(False, "malformed-frame flood: the guest's MAC is in the ARP table")
        else:
            sent = flood(ifname, mac, 5000)
            # frames queued behind the flood may still be dropped: a client retries
            good, _, _ = udp_echo(a4, port, 20, tries=3)
            try:
                answers, _ = tcp_pipeline(a4, port, 20)
            except (OSError, EOFError):
                answers = 0
            tap(good == 20 and answers == 20,
                "after %d malformed frames the guest still answers UDP (%d/20) and TCP (%d/20)"
                % (sent, good, answers))
    s = socket.socket(family_of(a4), socket.SOCK_DGRAM)
    for _ in range(3):
        s.sendto(b"quit", (a4, port))
        time.sleep(0.1)


if __name__ == "__main__":
    main()
    sys.exit(1 if fail_count else 0)
