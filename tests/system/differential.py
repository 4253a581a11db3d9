#!/usr/bin/python3
"""Differential test of answers: Knot DNS and zonelet serve the same zones
(tests/zone/answer/), every query of differential/queries.txt goes to both,
and the replies are compared section by section: header flags, opcode,
rcode, question, answer/authority/additional as sets of records (owner
names with their case, so 0x20 is checked; TTL and RDATA included) and
the section counts (which show a repeated RRset), EDNS (version, DO, NSID, the
cookie's client part and server-cookie shape). When both replies are
truncated only the header is compared. A remaining difference must be
listed in differential/allow.txt with the RFC reason why zonelet is right.

Usage: differential.py [--zonelet build/zonelet] [--verbose]
Prints TAP, one line per query. Exit status 0 when every query passes.
"""
import argparse
import fnmatch
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rcode

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
ZONES = os.path.join(TOP, "tests", "zone", "answer")
ZONE_NAMES = ["example.test", "other.test", "child.example.test", "occluded.test"]


def limits_zone():
    """limits.test, made here (a few thousand records): answers at the
    limits of a message. `wide`: a delegation to 300 in-zone name servers
    with A and AAAA glue (19 KiB over TCP); `huge`: 1500 of them (more than
    64 KiB); `many`: a node with 300 RRsets; `mx`: 800 MX records naming
    400 in-zone targets twice each (tests/zone/test_answer_lookup.c builds
    the same zone)."""
    out = ["$TTL 300", "@ SOA ns hm 1 2 3 4 5", "@ NS ns", "ns A 192.0.2.1"]
    for name, n, net in (("wide", 300, "10.0"), ("huge", 1500, "10.1")):
        for i in range(n):
            out += [f"{name} NS ns{i}.{name}", f"ns{i}.{name} A {net}.{i // 256}.{i % 256}",
                    f"ns{i}.{name} AAAA 2001:db8:{net[-1]}::{i:x}"]
    out += [f"many TYPE{10000 + i} \\# 1 {i % 256:02x}" for i in range(300)]
    for i in range(400):
        out += [f"mx MX {i} m{i}", f"mx MX {1000 + i} m{i}", f"m{i} A 10.2.{i // 256}.{i % 256}"]
    return "\n".join(out) + "\n"
IDENTITY, VERSION, NSID = "zonelet-test", "zonelet-1", "zl-nsid"


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


KNOT_CONF = """server:
    rundir: "{run}"
    listen: 127.0.0.1@{port}
    identity: "{identity}"
    version: "{version}"
    nsid: "{nsid}"
    udp-max-payload: 1232
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{run}/db"
log:
  - target: stderr
    any: warning
mod-cookies:
  - id: default
template:
  - id: default
    storage: "{zones}"
    file: "%s"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
    global-module: mod-cookies/default
zone:
{zonelist}
"""


class Server:
    def __init__(self, name, argv, port, log):
        self.name, self.port = name, port
        self.log = open(log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=10.0):
        q = dns.message.make_query("example.test.", "SOA")
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            r = send(q.to_wire(), self.port, False, timeout=0.2)
            if r:
                m = dns.message.from_wire(r)
                if m.rcode() == dns.rcode.NOERROR and m.answer:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not serve example.test within {timeout}s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def send(wire, port, tcp, timeout=1.0):
    """Sends one query; returns the reply bytes or None (no reply)."""
    try:
        if tcp:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                hdr = recv_exact(s, 2)
                return recv_exact(s, struct.unpack("!H", hdr)[0])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(wire, ("127.0.0.1", port))
            return s.recv(65535)
    except (socket.timeout, ConnectionError, OSError):
        return None


def ask(line, port):
    """Sends the query of one corpus line to the server at port and returns
    the reply. `+cookie=renew` first learns the server's cookie with a
    client cookie alone, then asks again with the cookie it got (RFC 7873
    §5.3), so each server sees its own valid server cookie."""
    wire, tcp = build(line)
    if "+cookie=renew" not in line.split():
        return send(wire, port, tcp)
    first = send(wire, port, tcp)
    if first is None:
        return None
    m = dns.message.from_wire(first)
    cookie = [o for o in m.options if o.otype == 10]
    if not cookie:
        return first
    again = build(line.replace("+cookie=renew", "+cookie=" + cookie[0].to_wire().hex()))[0]
    return send(again, port, tcp)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def build(line):
    """The query wire and transport for one corpus line."""
    words = line.split()
    if words[0] == "RAW":
        return bytes.fromhex(words[1]), False
    name, rdtype = words[0], words[1]
    rdclass, opts = "IN", []
    for w in words[2:]:
        if w.startswith("+"):
            opts.append(w)
        else:
            rdclass = w
    kw = {"use_edns": False}
    edns_opts, tcp, opcode, flags_off, flags_on = [], False, 0, 0, 0
    for o in opts:
        key, _, val = o[1:].partition("=")
        if key == "tcp":
            tcp = True
        elif key == "edns":
            kw["use_edns"] = int(val) if val else 0
        elif key == "bufsize":
            kw["use_edns"] = kw["use_edns"] if kw["use_edns"] is not False else 0
            kw["payload"] = int(val)
        elif key == "do":
            kw["want_dnssec"] = True
        elif key == "nsid":
            edns_opts.append(dns.edns.GenericOption(3, b""))
        elif key == "cookie":
            val = "" if val == "renew" else val
            edns_opts.append(dns.edns.GenericOption(10, bytes.fromhex(val or "2464c4abcf10c957")))
        elif key == "opcode":
            opcode = int(val)
        elif key == "nord":
            flags_off |= dns.flags.RD
        elif key == "cd":
            flags_on |= dns.flags.CD
        elif key == "zflag":
            flags_on |= 0x0040
        elif key == "adflag":
            flags_on |= dns.flags.AD
        elif key == "ednsflags":
            kw["ednsflags"] = int(val, 16)
            kw["use_edns"] = kw["use_edns"] if kw["use_edns"] is not False else 0
        elif key == "ednsopt":
            code, _, data = val.partition(":")
            edns_opts.append(dns.edns.GenericOption(int(code), bytes.fromhex(data)))
        else:
            raise ValueError(f"unknown option {o}")
    if edns_opts:
        kw["options"] = edns_opts
        if kw["use_edns"] is False:
            kw["use_edns"] = 0
    if kw.get("want_dnssec") and kw["use_edns"] is False:
        kw["use_edns"] = 0
    if kw.get("payload") is None and kw["use_edns"] is not False:
        kw["payload"] = 1232
    q = dns.message.make_query(name, rdtype, rdclass, **kw)
    q.flags = (q.flags & ~flags_off) | flags_on
    q.set_opcode(opcode)
    wire = bytearray(q.to_wire())
    return bytes(wire), tcp


FLAG_NAMES = [("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100),
              ("ra", 0x0080), ("z", 0x0040), ("ad", 0x0020), ("cd", 0x0010)]


def header(wire):
    flags = struct.unpack("!H", wire[2:4])[0]
    qd, an, ns, ar = struct.unpack("!4H", wire[4:12])
    # The section counts as sent: dnspython merges a repeated RRset into
    # one, so only the counts show a repeat (RFC 2181 §5: once each).
    return {f"flag.{n}": bool(flags & bit) for n, bit in FLAG_NAMES} | {
        "opcode": (flags >> 11) & 0xF, "qdcount": qd, "counts": f"{an}/{ns}/{ar}"}


def summarize(wire):
    """The comparable view of a reply: a dict of field -> value."""
    if wire is None:
        return {"reply": "none"}
    if len(wire) < 12:
        return {"reply": "short " + wire.hex()}
    s = {"reply": "yes"} | header(wire)
    try:
        m = dns.message.from_wire(wire, ignore_trailing=True)
    except Exception as e:  # a reply dnspython refuses: compare the header only
        s["rcode"] = struct.unpack("!H", wire[2:4])[0] & 0xF
        s["parse"] = type(e).__name__
        return s
    s["rcode"] = m.rcode()
    s["question"] = sorted(f"{r.name.to_text()} {dns.rdataclass.to_text(r.rdclass)} "
                           f"{dns.rdatatype.to_text(r.rdtype)}" for r in m.question)
    for sec, rrsets in (("answer", m.answer), ("authority", m.authority), ("additional", m.additional)):
        recs = set()
        for rrset in rrsets:
            for rd in rrset:
                recs.add(f"{rrset.name.to_text()} {rrset.ttl} "
                         f"{dns.rdataclass.to_text(rrset.rdclass)} {dns.rdatatype.to_text(rrset.rdtype)} "
                         f"{rd.to_text().lower()}")
        s[sec] = sorted(recs)
    s["edns"] = None if m.edns < 0 else f"v{m.edns} do={bool(m.ednsflags & dns.flags.DO)}"
    s["edns.payload"] = None if m.edns < 0 else m.payload
    s["nsid"] = None
    s["cookie"] = None
    for o in (m.options if m.edns >= 0 else []):
        data = o.to_wire() if hasattr(o, "to_wire") else b""
        if o.otype == 3:
            s["nsid"] = data.hex()
        elif o.otype == 10:
            # The server cookie differs by secret: compare the client part
            # and the RFC 9018 shape (16 octets, version 1).
            s["cookie"] = f"client={data[:8].hex()} server_len={len(data) - 8} " \
                          f"version={data[8] if len(data) > 8 else None}"
    return s


def compare(a, b):
    """The fields that differ between two summaries."""
    if a.get("reply") != b.get("reply"):
        return ["reply"]
    if a.get("flag.tc") and b.get("flag.tc"):
        keys = [k for k in set(a) | set(b)
                if k not in ("answer", "authority", "additional", "counts")]
    else:
        keys = set(a) | set(b)
    return sorted(k for k in keys if a.get(k) != b.get(k))


def load_allow(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or not parts[2]:
                raise ValueError(f"{path}:{n}: want 'QUERY-GLOB | FIELD,... | REASON'")
            rules.append({"glob": parts[0], "fields": set(parts[1].split(",")), "reason": parts[2],
                          "line": n, "used": 0})
    return rules


def allowed(rules, query, diff):
    for r in rules:
        if fnmatch.fnmatchcase(query, r["glob"]) and set(diff) <= r["fields"]:
            r["used"] += 1
            return r
    return None


def start_servers(tmp, zonelet):
    zdir = os.path.join(tmp, "zones")
    os.makedirs(zdir)
    for z in ZONE_NAMES:
        shutil.copy(os.path.join(ZONES, z), os.path.join(zdir, z))
    with open(os.path.join(zdir, "limits.test"), "w") as f:
        f.write(limits_zone())
    kport, zport = free_port(), free_port()
    while zport == kport:
        zport = free_port()
    run = os.path.join(tmp, "knot")
    os.makedirs(run)
    conf = os.path.join(run, "knot.conf")
    with open(conf, "w") as f:
        f.write(KNOT_CONF.format(run=run, port=kport, zones=zdir, identity=IDENTITY,
                                 version=VERSION, nsid=NSID,
                                 zonelist="\n".join(f"  - domain: {z}"
                                                    for z in ZONE_NAMES + ["limits.test"])))
    knot = Server("knotd", ["knotd", "-c", conf], kport, os.path.join(tmp, "knot.log"))
    zl = Server("zonelet", [zonelet, "--zones", zdir, "--listen", f"127.0.0.1:{zport}",
                            "--workers", "1", "--nsid", NSID, "--id-server", IDENTITY,
                            "--version-server", VERSION, "--cookies"],
                zport, os.path.join(tmp, "zonelet.log"))
    return knot, zl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zonelet", default=os.path.join(TOP, "build", "zonelet"))
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--ready-timeout", type=float, default=10.0,
                    help="seconds each server gets to serve example.test (a VM needs more)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    queries = []
    with open(os.path.join(HERE, "differential", "queries.txt")) as f:
        queries = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    rules = load_allow(os.path.join(HERE, "differential", "allow.txt"))
    tmp = tempfile.mkdtemp(prefix="zl-diff-")
    servers = []
    failed = 0
    try:
        knot, zl = start_servers(tmp, args.zonelet)
        servers = [knot, zl]
        knot.wait_ready(args.ready_timeout)
        zl.wait_ready(args.ready_timeout)
        print(f"1..{len(queries) + 1}")
        for i, line in enumerate(queries, 1):
            k = summarize(ask(line, knot.port))
            z = summarize(ask(line, zl.port))
            diff = compare(k, z)
            if not diff:
                print(f"ok {i} - {line}")
                continue
            rule = allowed(rules, line, diff)
            if rule:
                print(f"ok {i} - {line} [allowed: {','.join(diff)}; allow.txt:{rule['line']}]")
                if args.verbose:
                    for d in diff:
                        print(f"#   {d}: knot={k.get(d)!r}\n#   {' ' * len(d)}  zonelet={z.get(d)!r}")
                continue
            failed += 1
            print(f"not ok {i} - {line}")
            for d in diff:
                print(f"#   {d}: knot={k.get(d)!r}\n#   {' ' * len(d)}  zonelet={z.get(d)!r}")
        unused = [r for r in rules if not r["used"]]
        for r in unused:
            print(f"# allow.txt:{r['line']} matched nothing: {r['glob']}")
        # Stale entries hide nothing, but say so: the list must stay true.
        n = len(queries) + 1
        if unused:
            print(f"not ok {n} - allow-list entries all used ({len(unused)} stale)")
            failed += 1
        else:
            print(f"ok {n} - allow-list entries all used")
        for s in servers:
            if s.proc.poll() is not None:
                print(f"# {s.name} died with status {s.proc.returncode}")
                failed += 1
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"# {len(queries)} queries, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
