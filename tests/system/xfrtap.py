#!/usr/bin/python3
"""A transparent DNS relay between one secondary and its primary that logs
what the secondary asked and how each transfer was answered; bytes pass
unchanged (TSIG stays valid). NSD does not log whether it received AXFR
or IXFR, so the peer tests read this log for every kind of secondary.

usage: xfrtap.py LISTEN_ADDR:PORT UPSTREAM_ADDR:PORT LOGFILE

Prints "ready" on stdout once listening (UDP and TCP). One log line per
request, written when its answer is complete:
  PROTO CLIENT QTYPE QNAME [serial=N] rcode=R answer=A to=S messages=M rrs=K
PROTO tcp|udp; QTYPE AXFR, IXFR, SOA, ... (or the opcode: NOTIFY, UPDATE);
serial: the IXFR request's serial; A for AXFR/IXFR: axfr (an AXFR),
incremental (RFC 1995 deltas), axfr-style (IXFR answered with the whole
zone), current (IXFR answered by one SOA), tc (UDP, truncated), none (an
error or no answer), incomplete (the connection closed mid-stream);
A for other queries: answer. S is the first SOA's serial (or -).
"""
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from zonetool import Parsed, parse_server, recv_exact, RCODES, T_SOA, T_AXFR, T_IXFR  # noqa: E402

import dns.name  # noqa: E402
import dns.rdatatype  # noqa: E402

LOCK = threading.Lock()
LOG = None
OPCODES = {0: None, 4: "NOTIFY", 5: "UPDATE"}


def log(line):
    with LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def describe(wire):
    """(id, qtype number, words for the log) of a request."""
    qid, flags, qd = struct.unpack("!HHH", wire[:6])
    off = 12
    name, used = dns.name.from_wire(wire, off)
    qtype = struct.unpack("!H", wire[off + used:off + used + 2])[0]
    op = OPCODES.get((flags >> 11) & 0xF, "OPCODE%d" % ((flags >> 11) & 0xF))
    words = [op or dns.rdatatype.to_text(qtype), name.to_text()]
    if qtype == T_IXFR and op is None:
        p = Parsed(wire)
        for rr in p.rrs:
            if rr[0] == 2 and rr[2] == T_SOA:
                words.append("serial=%d" % p.rdata(rr).serial)
    return qid, (qtype if op is None else -1), words


class Stream:
    """How one transfer's answer goes, message by message."""

    def __init__(self, qtype):
        self.qtype, self.messages, self.rrs = qtype, 0, 0
        self.first, self.seen, self.need, self.second_soa = None, 0, None, None
        self.rcode, self.answer = None, None

    def add(self, wire):
        p = Parsed(wire)
        self.messages += 1
        if self.rcode is None:
            self.rcode = p.rcode
        if p.rcode:
            self.answer = "none"
            return True
        if p.flags & 0x0200:
            self.answer = "tc"
            return True
        answers = p.answers()
        for rr in answers:
            self.rrs += 1
            if rr[2] == T_SOA:
                serial = p.rdata(rr).serial
                if self.first is None:
                    self.first = serial
                self.seen += serial == self.first
            if self.rrs == 2:
                self.second_soa = rr[2] == T_SOA
                self.need = 3 if self.qtype == T_IXFR and self.second_soa else 2
        if self.need is not None and self.seen >= self.need:
            if self.qtype == T_AXFR:
                self.answer = "axfr"
            else:
                self.answer = "incremental" if self.second_soa else "axfr-style"
            return True
        if self.qtype == T_IXFR and self.rrs == 1 and len(answers) == 1:
            self.answer = "current"
            return True
        if not answers:
            self.answer = "none"
            return True
        return False

    def words(self):
        return ["rcode=%s" % RCODES.get(self.rcode, self.rcode), "answer=%s" % (self.answer or "incomplete"),
                "to=%s" % ("-" if self.first is None else self.first), "messages=%d" % self.messages,
                "rrs=%d" % self.rrs]


def frames(sock):
    while True:
        try:
            head = recv_exact(sock, 2)
        except Exception:
            return
        n = struct.unpack("!H", head)[0]
        try:
            body = recv_exact(sock, n)
        except Exception:
            return
        yield head + body


def tcp_conn(client, peer, upstream):
    fam, addr = upstream
    up = socket.socket(fam, socket.SOCK_STREAM)
    try:
        up.connect(addr)
    except OSError as e:
        log("tcp %s:%d connect-failed %s" % (peer[0], peer[1], e))
        client.close()
        return
    pending = {}   # id -> (qtype, words, Stream or None)
    lock = threading.Lock()
    client_name = "%s:%d" % (peer[0], peer[1])

    def up_to_client():
        for frame in frames(up):
            try:
                client.sendall(frame)
            except OSError:
                break
            wire = frame[2:]
            qid = struct.unpack("!H", wire[:2])[0]
            with lock:
                entry = pending.get(qid)
            if entry is None:
                continue
            qtype, words, stream = entry
            try:
                if stream is not None:
                    if not stream.add(wire):
                        continue
                    out = words + stream.words()
                else:
                    out = words + ["rcode=%s" % RCODES.get(Parsed(wire).rcode, "?"), "answer=answer"]
            except Exception as e:
                out = words + ["unparsable=%s" % str(e).replace(" ", "_")]
            log("tcp %s %s" % (client_name, " ".join(out)))
            with lock:
                pending.pop(qid, None)
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=up_to_client, daemon=True)
    t.start()
    for frame in frames(client):
        try:
            qid, qtype, words = describe(frame[2:])
            with lock:
                pending[qid] = (qtype, words, Stream(qtype) if qtype in (T_AXFR, T_IXFR) else None)
        except Exception as e:
            log("tcp %s unparsable-request %s" % (client_name, str(e).replace(" ", "_")))
        try:
            up.sendall(frame)
        except OSError:
            break
    try:
        up.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join(30)
    with lock:
        for qid, (qtype, words, stream) in pending.items():
            log("tcp %s %s" % (client_name, " ".join(words + (stream.words() if stream else ["answer=none"]))))
    client.close()
    up.close()


def tcp_server(listen, upstream):
    fam, addr = listen
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(16)
    return s


def tcp_loop(s, upstream):
    while True:
        c, peer = s.accept()
        threading.Thread(target=tcp_conn, args=(c, peer, upstream), daemon=True).start()


def udp_one(front, data, peer, upstream):
    fam, addr = upstream
    up = socket.socket(fam, socket.SOCK_DGRAM)
    up.settimeout(5)
    client_name = "%s:%d" % (peer[0], peer[1])
    try:
        _, qtype, words = describe(data)
    except Exception as e:
        qtype, words = None, ["unparsable-request=%s" % str(e).replace(" ", "_")]
    try:
        up.sendto(data, addr)
        reply = up.recvfrom(65535)[0]
    except OSError:
        log("udp %s %s answer=none" % (client_name, " ".join(words)))
        up.close()
        return
    up.close()
    front.sendto(reply, peer)
    try:
        if qtype in (T_AXFR, T_IXFR):
            st = Stream(qtype)
            st.add(reply)
            out = st.words()
        else:
            out = ["rcode=%s" % RCODES.get(Parsed(reply).rcode, "?"), "answer=answer"]
    except Exception as e:
        out = ["unparsable=%s" % str(e).replace(" ", "_")]
    log("udp %s %s" % (client_name, " ".join(words + out)))


def udp_loop(front, upstream):
    while True:
        data, peer = front.recvfrom(65535)
        threading.Thread(target=udp_one, args=(front, data, peer, upstream), daemon=True).start()


def main(argv):
    global LOG
    listen, upstream = parse_server(argv[0]), parse_server(argv[1])
    LOG = open(argv[2], "a")
    ts = tcp_server(listen, upstream)
    us = socket.socket(listen[0], socket.SOCK_DGRAM)
    us.bind(listen[1])
    threading.Thread(target=tcp_loop, args=(ts, upstream), daemon=True).start()
    threading.Thread(target=udp_loop, args=(us, upstream), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
