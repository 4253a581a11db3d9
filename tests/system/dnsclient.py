#!/usr/bin/python3
"""Tiny DNS client for the system tests (stdlib only): raw UDP packets,
pipelined and byte-by-byte TCP, idle timeouts and connection caps.

usage: dnsclient.py PORT COMMAND [ARGS...]   (prints one result line)
  pipeline N NAME      N framed queries in one write, read N answers
  bytewise NAME        one framed query sent one byte at a time
  split NAME           two queries whose frames straddle writes
  idle                 connect, wait for the server to close; print ms
  caps N NAME          open N connections at once; print how many the
                       server kept and whether each kept one answers
  fairness NAME        5 connections from 127.0.0.1, 2 from 127.0.0.2, 1 from
                       127.0.0.3 held open together; print how many were
                       kept as each group came, and how many answer at the end
  chaos SECONDS NAME    many connections sending valid and garbage frames
                       in random pieces, closing or resetting at random;
                       meanwhile a well-behaved client must get answers
  bulk N NAME TYPE     N queries in one write whose answers far exceed the
                       socket buffers, read slowly: all N answers arrive
                       whole and in order (server-side partial writes)
  udp HEX              send raw bytes over UDP; print rcode or 'none'
  slowreader NAME      one client floods queries and never reads while a
                       second client queries; print the second's result
  flood N A SECS NAME  N idle connections from A source addresses
                       (127.0.0.10 ...), topped up for SECS seconds as the
                       server closes them, while a client from 127.0.0.200
                       queries over a new connection every 0.2 s; print
                       how many of its queries were answered within a
                       second, the slowest, and how many flood connections
                       the server closed
"""
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def query(name, qtype=1, qid=0x1234, flags=0x0000):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)


def frame(msg):
    return struct.pack(">H", len(msg)) + msg


def header(msg):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    return qid, flags & 0xF, an


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_frame(s):
    (n,) = struct.unpack(">H", recv_exact(s, 2))
    return recv_exact(s, n)


def connect(port, timeout=3.0, src=None):
    s = socket.create_connection((HOST, port), timeout=timeout,
                                 source_address=(src, 0) if src else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cmd_pipeline(port, n, name):
    n = int(n)
    s = connect(port)
    s.sendall(b"".join(frame(query(name, qid=i + 1)) for i in range(n)))
    got = []
    for _ in range(n):
        qid, rcode, an = header(read_frame(s))
        got.append((qid, rcode, an > 0))
    want = [(i + 1, 0, True) for i in range(n)]
    return "ok %d" % n if got == want else "bad %r" % got


def cmd_bytewise(port, name):
    s = connect(port)
    for b in frame(query(name)):
        s.send(bytes([b]))
        time.sleep(0.01)
    qid, rcode, an = header(read_frame(s))
    return "id %d rcode %d answers %d" % (qid, rcode, an)


def cmd_split(port, name):
    s = connect(port)
    data = frame(query(name, qid=7)) + frame(query(name, qid=8))
    cut = len(data) // 2 + 1   # the second frame starts in the first write
    s.send(data[:cut])
    time.sleep(0.2)
    s.send(data[cut:])
    ids = [header(read_frame(s))[0] for _ in range(2)]
    return "ids %s" % " ".join(map(str, ids))


def cmd_idle(port):
    s = connect(port, timeout=30)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
    except ConnectionResetError:
        data = b""
    ms = int((time.monotonic() - t0) * 1000)
    return "closed %d" % ms if data == b"" else "data"


def is_open(s):
    """After the caller let the server act: closed sockets read EOF."""
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        s.settimeout(3)


def cmd_caps(port, n, name, settle="0.2"):
    """settle: seconds the server gets to close what is over its caps (a
    VM behind QEMU's user network opens them to the guest later)."""
    socks = []
    for _ in range(int(n)):
        socks.append(connect(port))
    time.sleep(float(settle))
    kept = [s for s in socks if is_open(s)]
    answered = 0
    for s in kept:
        s.settimeout(3)
        s.sendall(frame(query(name)))
        try:
            answered += header(read_frame(s))[2] > 0
        except (EOFError, OSError):
            pass
    return "kept %d answered %d" % (len(kept), answered)


def cmd_fairness(port, name):
    held, out = [], []
    for src, n in (("127.0.0.1", 5), ("127.0.0.2", 2), ("127.0.0.3", 1)):
        socks = [connect(port, src=src) for _ in range(n)]
        time.sleep(0.2)
        kept = [s for s in socks if is_open(s)]
        held += kept
        out.append("%s %d" % (src, len(kept)))
    answered = 0
    for s in held:
        s.settimeout(3)
        try:
            s.sendall(frame(query(name)))
            answered += header(read_frame(s))[2] > 0
        except (OSError, EOFError):
            pass
    return "%s answered %d" % (" ".join(out), answered)


def cmd_chaos(port, secs, name):
    import os
    import random
    rnd = random.Random(11)
    end = time.monotonic() + float(secs)
    good = bad = 0
    while time.monotonic() < end:
        socks = []
        for _ in range(8):
            try:
                socks.append(connect(port, timeout=1))
            except OSError:
                pass
        for s in socks:
            blob = b""
            for _ in range(rnd.randint(1, 6)):
                kind = rnd.random()
                if kind < 0.5:
                    blob += frame(query(name, qid=rnd.getrandbits(16)))
                elif kind < 0.8:
                    blob += frame(os.urandom(rnd.randint(1, 300)))
                else:
                    blob += os.urandom(rnd.randint(1, 40))
            try:
                while blob:
                    cut = rnd.randint(1, len(blob))
                    s.send(blob[:cut])
                    blob = blob[cut:]
                if rnd.random() < 0.3:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        for s in socks:
            s.close()
        try:
            c = connect(port, timeout=2)
            c.sendall(frame(query(name, qid=4242)))
            good += header(read_frame(c))[0] == 4242
            c.close()
        except (OSError, EOFError):
            bad += 1
    return "good %s bad %d" % ("yes" if good > 0 else "none", bad)


def cmd_bulk(port, n, name, qtype):
    n, qtype = int(n), {"TXT": 16, "A": 1}[qtype]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect((HOST, port))
    s.sendall(b"".join(frame(query(name, qtype=qtype, qid=i)) for i in range(n)))
    time.sleep(0.3)   # let the server fill the socket and hit EAGAIN
    sizes, ids = set(), []
    for _ in range(n):
        msg = read_frame(s)
        qid, rcode, an = header(msg)
        ids.append(qid)
        sizes.add((len(msg), rcode, an))
        time.sleep(0.001)
    if ids != list(range(n)) or len(sizes) != 1:
        return "bad ids %s... sizes %r" % (ids[:5], sizes)
    size, rcode, an = sizes.pop()
    return "ok %d answers of %d bytes, %d records" % (n, size, an)


def cmd_udp(port, hexdata):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(bytes.fromhex(hexdata), (HOST, port))
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        return "none"
    if len(data) < 12:
        return "short"
    return "rcode %d" % header(data)[1]


def cmd_slowreader(port, name):
    hog = connect(port)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.setblocking(False)
    blob = b"".join(frame(query(name, qid=i & 0xFFFF)) for i in range(2000))
    sent = 0
    t_end = time.monotonic() + 2.0
    while sent < 40 * len(blob) and time.monotonic() < t_end:
        try:
            sent += hog.send(blob)
        except BlockingIOError:
            time.sleep(0.01)
    t0 = time.monotonic()
    s = connect(port)
    s.sendall(frame(query(name, qid=99)))
    qid, rcode, an = header(read_frame(s))
    ms = int((time.monotonic() - t0) * 1000)
    hog.close()
    return "other client answered id %d in %s" % (qid, "time" if ms < 2000 else "%d ms" % ms)


def cmd_flood(port, n, naddr, secs, name):
    import resource
    import select
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n, naddr, secs = int(n), int(naddr), float(secs)
    srcs = ["127.0.0.%d" % (10 + i) for i in range(naddr)]
    held, closed = {}, 0

    def top_up():
        for i in range(n):
            if i not in held:
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    s.bind((srcs[i % naddr], 0))
                    s.connect_ex((HOST, port))
                    held[i] = s
                except OSError:
                    pass

    def reap():
        nonlocal closed
        socks = list(held.items())
        for k in range(0, len(socks), 500):
            part = socks[k:k + 500]
            r, _, _ = select.select([s for _, s in part], [], [], 0)
            for i, s in part:
                if s in r:
                    try:
                        data = s.recv(1)
                    except OSError:
                        data = b""
                    if not data:
                        s.close()
                        del held[i]
                        closed += 1

    top_up()
    time.sleep(0.5)
    reap()
    top_up()
    ok, total, slowest = 0, 0, 0.0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t0 = time.monotonic()
        total += 1
        try:
            c = connect(port, timeout=1.0, src="127.0.0.200")
            c.sendall(frame(query(name, qid=total)))
            got = header(read_frame(c))
            c.close()
            dt = time.monotonic() - t0
            slowest = max(slowest, dt)
            ok += got[0] == total and got[2] > 0 and dt < 1.0
        except (OSError, EOFError):
            slowest = max(slowest, time.monotonic() - t0)
        reap()
        top_up()
        time.sleep(0.2)
    for s in held.values():
        s.close()
    return "answered %d of %d, slowest %d ms, flood connections closed by the server %d" % (
        ok, total, int(slowest * 1000), closed)


def main():
    port, cmd, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    fn = globals()["cmd_" + cmd]
    try:
        print(fn(port, *args))
    except (OSError, EOFError) as e:
        print("error %s" % e)


if __name__ == "__main__":
    main()
