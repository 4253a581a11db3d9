#!/usr/bin/python3
"""DNS client for the peer tests: UPDATE, NOTIFY, AXFR, IXFR and queries
with TSIG made here (RFC 8945, hmac/hashlib; independent of the servers
under test and of dnspython's TSIG code), and zone dumps in one canonical
text form so that two servers' zones compare byte for byte.

usage: zonetool.py COMMAND ARGS...
  SERVER is ADDR:PORT, [V6ADDR]:PORT or ADDR@PORT.  KEY is NAME:ALG:BASE64
  (ALG as nsupdate spells it: hmac-md5, hmac-sha1, hmac-sha224,
  hmac-sha256, hmac-sha384, hmac-sha512) or NAME:BASE64 (hmac-sha256).

  axfr SERVER ZONE [--key KEY] [--serial N [--timeout S]] [--out FILE]
      AXFR over TCP; every message's TSIG is verified (RFC 8945 §5.3.1);
      prints the zone in canonical form (see `norm`). Exit 1 on any error.
      --serial: first wait (as `wait`) until SERIAL is served; --out: the
      zone goes to FILE and stdout gets the seconds waited.
  norm FILE ZONE
      a master file (or a previous dump) in canonical form: one RR a line,
      "owner ttl class type rdata", owners lower case and absolute, names
      in canonical order (RFC 4034 §6.1), then type number, then rdata in
      canonical wire order; every RR as given (duplicates and per-RR TTLs
      kept), SOA included once.
  patch DUMP ZONE < CHANGES
      DUMP (canonical form) changed by lines "+ RR" (add), "- RR" (remove
      the RR, whatever its TTL; it must be there), "- OWNER TTL TYPE" (remove
      the RRset) and "serial N" (the SOA's
      serial); RR as "owner ttl [class] type rdata", owners relative to
      ZONE unless absolute. Prints the result in canonical form: the
      expected zone after an update.
  ixfr SERVER ZONE SERIAL [--key KEY] [--udp]
      IXFR from SERIAL; prints the answer's RRs in the order received.
  serial SERVER ZONE [--key KEY]
      the SOA serial served (UDP), or nothing and exit 1.
  wait SERVER ZONE SERIAL [--timeout S]
      polls (UDP, every 50 ms, at most S seconds, default 10) until SERVER
      serves SERIAL (or any serial: "any"); prints the seconds waited, or "timeout, serving X"
      and exit 1.
  ready SERVER [--pid PID] [--timeout S]
      polls until SERVER answers a query over UDP and over TCP (any rcode);
      exit 1 after S seconds (default 10) or when process PID is gone.
  update SERVER ZONE [--key KEY] [--tcp] [TSIG OPTIONS]  < SCRIPT
  notify SERVER ZONE [--key KEY] [--tcp] [--serial N] [TSIG OPTIONS]
  query SERVER NAME TYPE [--key KEY] [--tcp] [TSIG OPTIONS]
      send one message; print one result line:
        RCODE tsig=STATE tsig-error=ERR [time-signed=T] [server-time=T]
              [mac-len=N] aa=0|1 answers=N
      RCODE is NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED,
      YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE, ... or TIMEOUT.
      STATE: none (no TSIG RR), valid (MAC verifies with KEY), empty (a
      TSIG RR with no MAC, RFC 8945 §5.3.2's unsigned error), invalid (a
      MAC that does not verify), unchecked (we sent no KEY).
      ERR: NOERROR, BADSIG, BADKEY, BADTIME, BADTRUNC or a number.
      server-time is the 48-bit time in Other Data (BADTIME replies).

  TSIG OPTIONS (to send broken or unusual signatures):
      --time-offset S   sign with now+S (skew)
      --fudge N         fudge (default 300)
      --truncate N      send only the first N bytes of the MAC
      --bad-mac         flip one bit of the MAC
      --alg-name NAME   algorithm name written in the TSIG RR (the MAC is
                        computed over its canonical, lower-case form)
      --key-name NAME   key name written in the TSIG RR (likewise)
      --timeout S       seconds to wait for the answer (default 5)

  UPDATE SCRIPT, one statement a line (lines starting '#' are comments); names without a
  final dot are relative to ZONE, "@" is ZONE; RDATA in master-file form:
    prereq yxdomain NAME              RFC 2136 §2.4.4  ANY  ANY
    prereq nxdomain NAME              §2.4.5           NONE ANY
    prereq yxrrset NAME TYPE          §2.4.1           ANY  TYPE
    prereq yxrrset NAME TYPE RDATA    §2.4.2           ZCLASS TYPE RDATA
    prereq nxrrset NAME TYPE          §2.4.3           NONE TYPE
    add NAME TTL TYPE RDATA           §2.5.1           ZCLASS
    del NAME                          §2.5.3           ANY  ANY
    del NAME TYPE                     §2.5.2           ANY  TYPE
    del NAME TYPE RDATA               §2.5.4           NONE TYPE RDATA
    rr SECTION NAME TTL CLASS TYPE [RDATA]
        any RR in any section (zone, prereq, update, additional), for
        malformed forms: CLASS and TYPE by name or number (CLASS65, TYPE255),
        RDATA as master text of the type in class IN, or "\\# LEN HEX"
    zone NAME [CLASS [TYPE]]
        a zone-section entry; when given, replaces the default (ZONE IN SOA);
        several make ZOCOUNT > 1; "zone -" makes ZOCOUNT 0
"""
import base64
import hashlib
import hmac
import random
import socket
import struct
import sys
import time

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rcode

ALGORITHMS = {
    "hmac-md5": ("hmac-md5.sig-alg.reg.int.", hashlib.md5),
    "hmac-sha1": ("hmac-sha1.", hashlib.sha1),
    "hmac-sha224": ("hmac-sha224.", hashlib.sha224),
    "hmac-sha256": ("hmac-sha256.", hashlib.sha256),
    "hmac-sha384": ("hmac-sha384.", hashlib.sha384),
    "hmac-sha512": ("hmac-sha512.", hashlib.sha512),
}
TSIG_ERRORS = {0: "NOERROR", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE",
               20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
          10: "NOTZONE", 16: "BADVERS", 23: "BADCOOKIE"}
T_SOA, T_OPT, T_TSIG, T_IXFR, T_AXFR = 6, 41, 250, 251, 252
C_IN, C_NONE, C_ANY = 1, 254, 255
OP_QUERY, OP_NOTIFY, OP_UPDATE = 0, 4, 5


class Fail(Exception):
    pass


# ---- keys -----------------------------------------------------------------

class Key:
    def __init__(self, text):
        parts = text.split(":")
        if len(parts) == 2:
            parts = [parts[0], "hmac-sha256", parts[1]]
        if len(parts) != 3 or parts[1].lower() not in ALGORITHMS:
            raise Fail("key %r: want NAME:ALG:BASE64 with ALG one of %s" % (text, ", ".join(ALGORITHMS)))
        self.name = dns.name.from_text(parts[0])
        self.alg = parts[1].lower()
        self.alg_name = dns.name.from_text(ALGORITHMS[self.alg][0])
        self.digest = ALGORITHMS[self.alg][1]
        self.secret = base64.b64decode(parts[2])

    def mac(self, data):
        return hmac.new(self.secret, data, self.digest).digest()


def canonical(name):
    return name.canonicalize().to_wire()


def u48(t):
    return struct.pack("!HI", (t >> 32) & 0xFFFF, t & 0xFFFFFFFF)


def tsig_variables(key_name, alg_name, time_signed, fudge, error, other):
    """RFC 8945 §4.3.3: the TSIG variables in the digest, names canonical."""
    return (canonical(key_name) + struct.pack("!HI", C_ANY, 0) + canonical(alg_name)
            + u48(time_signed) + struct.pack("!HHH", fudge, error, len(other)) + other)


class Signer:
    """Signs one request; options break the signature on purpose."""

    def __init__(self, key, opts):
        self.key = key
        self.offset = int(opts.get("time-offset", 0))
        self.fudge = int(opts.get("fudge", 300))
        self.truncate = opts.get("truncate")
        self.bad_mac = "bad-mac" in opts
        self.alg_text = opts.get("alg-name")
        self.name_text = opts.get("key-name")
        self.request_mac = b""

    def sign(self, wire):
        qid = struct.unpack("!H", wire[:2])[0]
        now = int(time.time()) + self.offset
        alg = dns.name.from_text(self.alg_text) if self.alg_text else self.key.alg_name
        name = dns.name.from_text(self.name_text) if self.name_text else self.key.name
        mac = self.key.mac(wire + tsig_variables(name, alg, now, self.fudge, 0, b""))
        if self.truncate is not None:
            mac = mac[:int(self.truncate)]
        if self.bad_mac:
            mac = bytes([mac[0] ^ 1]) + mac[1:]
        self.request_mac = mac
        rdata = (alg.to_wire() + u48(now) + struct.pack("!HH", self.fudge, len(mac)) + mac
                 + struct.pack("!HHH", qid, 0, 0))
        rr = name.to_wire() + struct.pack("!HHIH", T_TSIG, C_ANY, 0, len(rdata)) + rdata
        adcount = struct.unpack("!H", wire[10:12])[0] + 1
        return wire[:10] + struct.pack("!H", adcount) + wire[12:] + rr


# ---- wire -----------------------------------------------------------------

def rr_wire(name, rtype, rclass, ttl, rdata):
    return name.to_wire() + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def message(qid, opcode, flags, sections):
    """sections: four lists of wire-encoded entries (zone/question first)."""
    head = struct.pack("!HHHHHH", qid, (opcode << 11) | flags, *[len(s) for s in sections])
    return head + b"".join(b"".join(s) for s in sections)


class Parsed:
    """One message: header, RRs as (section, name, type, class, ttl,
    rdata offset, rdata length), and the TSIG RR if last in additional."""

    def __init__(self, wire):
        if len(wire) < 12:
            raise Fail("short message (%d bytes)" % len(wire))
        self.wire = wire
        self.id, self.flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
        self.rcode = self.flags & 0xF
        self.counts = (qd, an, ns, ar)
        self.rrs = []
        self.tsig = None
        off = 12
        for _ in range(qd):
            _, off = self.name(off)
            off += 4
        for section, count in ((1, an), (2, ns), (3, ar)):
            for i in range(count):
                start = off
                name, off = self.name(off)
                if off + 10 > len(wire):
                    raise Fail("truncated RR")
                rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", wire[off:off + 10])
                off += 10
                if off + rdlen > len(wire):
                    raise Fail("truncated rdata")
                if rtype == T_OPT:
                    self.rcode |= (ttl >> 24) << 4
                if rtype == T_TSIG and section == 3 and i == count - 1:
                    self.tsig = self.read_tsig(name, start, off, rdlen)
                else:
                    self.rrs.append((section, name, rtype, rclass, ttl, off, rdlen))
                off += rdlen
        if off != len(wire):
            raise Fail("%d bytes after the last RR" % (len(wire) - off))

    def name(self, off):
        try:
            name, used = dns.name.from_wire(self.wire, off)
            return name, off + used
        except Exception as e:
            raise Fail("bad name at %d: %s" % (off, e))

    def read_tsig(self, name, start, off, rdlen):
        end = off + rdlen
        alg, off = self.name(off)
        hi, lo, fudge, maclen = struct.unpack("!HIHH", self.wire[off:off + 10])
        off += 10
        mac = self.wire[off:off + maclen]
        off += maclen
        orig_id, error, olen = struct.unpack("!HHH", self.wire[off:off + 6])
        off += 6
        other = self.wire[off:off + olen]
        if off + olen != end:
            raise Fail("TSIG rdata length mismatch")
        return {"name": name, "alg": alg, "time": (hi << 32) | lo, "fudge": fudge, "mac": mac,
                "orig_id": orig_id, "error": error, "other": other, "start": start}

    def unsigned(self):
        """The message as it was before its TSIG was added (RFC 8945 §4.3.1)."""
        w = self.wire[:self.tsig["start"]]
        return struct.pack("!H", self.tsig["orig_id"]) + w[2:10] + struct.pack("!H", self.counts[3] - 1) + w[12:]

    def rdata(self, rr):
        _, _, rtype, rclass, _, off, rdlen = rr
        cls = C_IN if rclass in (C_ANY, C_NONE) else rclass
        return dns.rdata.from_wire(cls, rtype, self.wire, off, rdlen)

    def answers(self):
        return [rr for rr in self.rrs if rr[0] == 1]


def verify_reply(parsed, key, request_mac):
    """(state, error name) of a reply's TSIG against KEY and the request MAC."""
    t = parsed.tsig
    if t is None:
        return "none", "-"
    err = TSIG_ERRORS.get(t["error"], str(t["error"]))
    if key is None:
        return "unchecked", err
    if not t["mac"]:
        return "empty", err
    data = (struct.pack("!H", len(request_mac)) + request_mac + parsed.unsigned()
            + tsig_variables(t["name"], t["alg"], t["time"], t["fudge"], t["error"], t["other"]))
    full = key.mac(data)
    ok = t["name"] == key.name and t["alg"] == key.alg_name and hmac.compare_digest(full[:len(t["mac"])], t["mac"])
    return ("valid" if ok else "invalid"), err


# ---- transport ------------------------------------------------------------

def parse_server(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        port = port.lstrip(":@")
    elif "@" in text:
        host, _, port = text.partition("@")
    else:
        host, _, port = text.rpartition(":")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, (host, int(port))


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise Fail("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


class Conn:
    def __init__(self, server, tcp, timeout):
        fam, self.addr = parse_server(server)
        self.tcp = tcp
        self.sock = socket.socket(fam, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        if tcp:
            self.sock.connect(self.addr)

    def send(self, wire):
        if self.tcp:
            self.sock.sendall(struct.pack("!H", len(wire)) + wire)
        else:
            self.sock.sendto(wire, self.addr)

    def recv(self):
        if self.tcp:
            n = struct.unpack("!H", recv_exact(self.sock, 2))[0]
            return recv_exact(self.sock, n)
        return self.sock.recvfrom(65535)[0]

    def close(self):
        self.sock.close()


# ---- commands -------------------------------------------------------------

def absname(text, zone):
    if text == "@":
        return zone
    return dns.name.from_text(text, origin=zone)


def rdata_wire(rtype, text, zone):
    if not text:
        return b""
    if text.startswith("\\#"):
        w = text.split()
        data = bytes.fromhex("".join(w[2:]))
        if len(data) != int(w[1]):
            raise Fail("generic rdata length %s for %d bytes" % (w[1], len(data)))
        return data
    return dns.rdata.from_text(C_IN, rtype, text, origin=zone, relativize=False).to_wire()


def update_sections(zone, script):
    """The four sections of an UPDATE from the script language above."""
    zsec, pre, upd, add = [], [], [], []
    named = {"zone": zsec, "prereq": pre, "update": upd, "additional": add}
    zone_given = False
    for lineno, line in enumerate(script.splitlines(), 1):
        w = [] if line.lstrip().startswith("#") else line.split()
        if not w:
            continue
        try:
            op = w[0].lower()
            if op == "zone":
                zone_given = True
                if w[1] != "-":
                    cls = dns.rdataclass.from_text(w[2]) if len(w) > 2 else C_IN
                    typ = dns.rdatatype.from_text(w[3]) if len(w) > 3 else T_SOA
                    zsec.append(absname(w[1], zone).to_wire() + struct.pack("!HH", typ, cls))
            elif op == "prereq":
                kind, name = w[1].lower(), absname(w[2], zone)
                if kind == "yxdomain":
                    pre.append(rr_wire(name, 255, C_ANY, 0, b""))
                elif kind == "nxdomain":
                    pre.append(rr_wire(name, 255, C_NONE, 0, b""))
                elif kind == "nxrrset":
                    pre.append(rr_wire(name, dns.rdatatype.from_text(w[3]), C_NONE, 0, b""))
                elif kind == "yxrrset" and len(w) == 4:
                    pre.append(rr_wire(name, dns.rdatatype.from_text(w[3]), C_ANY, 0, b""))
                elif kind == "yxrrset":
                    t = dns.rdatatype.from_text(w[3])
                    pre.append(rr_wire(name, t, C_IN, 0, rdata_wire(t, " ".join(w[4:]), zone)))
                else:
                    raise Fail("unknown prerequisite %r" % kind)
            elif op == "add":
                t = dns.rdatatype.from_text(w[3])
                upd.append(rr_wire(absname(w[1], zone), t, C_IN, int(w[2]), rdata_wire(t, " ".join(w[4:]), zone)))
            elif op == "del":
                name = absname(w[1], zone)
                if len(w) == 2:
                    upd.append(rr_wire(name, 255, C_ANY, 0, b""))
                elif len(w) == 3:
                    upd.append(rr_wire(name, dns.rdatatype.from_text(w[2]), C_ANY, 0, b""))
                else:
                    t = dns.rdatatype.from_text(w[2])
                    upd.append(rr_wire(name, t, C_NONE, 0, rdata_wire(t, " ".join(w[3:]), zone)))
            elif op == "rr":
                t = dns.rdatatype.from_text(w[5])
                named[w[1].lower()].append(rr_wire(absname(w[2], zone), t, dns.rdataclass.from_text(w[4]),
                                                   int(w[3]), rdata_wire(t, " ".join(w[6:]), zone)))
            else:
                raise Fail("unknown statement %r" % op)
        except Fail as e:
            raise Fail("script line %d: %s" % (lineno, e))
        except Exception as e:
            raise Fail("script line %d: %r: %s" % (lineno, line, e))
    if not zone_given:
        zsec.append(zone.to_wire() + struct.pack("!HH", T_SOA, C_IN))
    return [zsec, pre, upd, add]


def exchange(server, wire, key, opts, tcp):
    """Send one request (signed when KEY); print the result line."""
    signer = None
    if key is not None:
        signer = Signer(key, opts)
        wire = signer.sign(wire)
    conn = Conn(server, tcp, float(opts.get("timeout", 5)))
    try:
        conn.send(wire)
        qid = struct.unpack("!H", wire[:2])[0]
        while True:
            reply = conn.recv()
            if len(reply) >= 2 and struct.unpack("!H", reply[:2])[0] == qid:
                break
    except (socket.timeout, ConnectionError, Fail) as e:
        print("TIMEOUT tsig=none tsig-error=- (%s)" % e)
        return 1
    finally:
        conn.close()
    p = Parsed(reply)
    state, err = verify_reply(p, key, signer.request_mac if signer else b"")
    out = [RCODES.get(p.rcode, str(p.rcode)), "tsig=" + state, "tsig-error=" + err]
    if p.tsig is not None:
        out.append("time-signed=%d" % p.tsig["time"])
        if len(p.tsig["other"]) == 6:
            hi, lo = struct.unpack("!HI", p.tsig["other"])
            out.append("server-time=%d" % ((hi << 32) | lo))
        out.append("mac-len=%d" % len(p.tsig["mac"]))
    out.append("aa=%d" % ((p.flags >> 10) & 1))
    out.append("answers=%d" % len(p.answers()))
    print(" ".join(out))
    return 0


def canonical_lines(records):
    """records: (name, ttl, class, type, rdata). One line each, sorted."""
    keyed = []
    for name, ttl, rclass, rtype, rd in records:
        owner = name.canonicalize()
        text = "%s %d %s %s %s" % (owner.to_text(), ttl, dns.rdataclass.to_text(rclass),
                                   dns.rdatatype.to_text(rtype), rd.to_text(relativize=False))
        keyed.append(((tuple(reversed(owner.labels)), rtype, rd.to_digestable()), text))
    keyed.sort()
    return [t for _, t in keyed]


def read_stream(conn, key, request_mac, kind):
    """Messages of an AXFR or IXFR stream over TCP until its closing SOA,
    TSIG-checked (RFC 8945 §5.3.1: the first and the last message signed,
    at most 99 unsigned in a row, MACs chained). Returns the answer RRs as
    (parsed, rr) in order."""
    out, first, seen, need = [], None, 0, None
    prior, pending, unsigned_run, n = request_mac, b"", 0, 0
    while True:
        p = Parsed(conn.recv())
        n += 1
        if p.rcode != 0:
            raise Fail("message %d: rcode %s" % (n, RCODES.get(p.rcode, p.rcode)))
        if key is not None:
            if p.tsig is None:
                if n == 1:
                    raise Fail("first message unsigned")
                unsigned_run += 1
                if unsigned_run > 99:
                    raise Fail("more than 99 unsigned messages in a row")
                pending += p.wire
            else:
                t = p.tsig
                if t["error"]:
                    raise Fail("message %d: TSIG error %s" % (n, TSIG_ERRORS.get(t["error"], t["error"])))
                if n == 1:
                    tail = tsig_variables(t["name"], t["alg"], t["time"], t["fudge"], t["error"], t["other"])
                else:  # RFC 8945 §5.3.1: later messages digest only the timers
                    tail = u48(t["time"]) + struct.pack("!H", t["fudge"])
                data = struct.pack("!H", len(prior)) + prior + pending + p.unsigned() + tail
                if t["name"] != key.name or not t["mac"] or \
                        not hmac.compare_digest(key.mac(data)[:len(t["mac"])], t["mac"]):
                    raise Fail("message %d: TSIG does not verify" % n)
                if abs(t["time"] - time.time()) > t["fudge"]:
                    raise Fail("message %d: TSIG time %d outside fudge" % (n, t["time"]))
                prior, pending, unsigned_run = t["mac"], b"", 0
        elif p.tsig is not None:
            raise Fail("message %d signed though the request was not" % n)
        answers = p.answers()
        if not answers:
            raise Fail("message %d has no answers" % n)
        for i, rr in enumerate(answers):
            if need is not None and seen >= need:
                raise Fail("message %d: RRs after the closing SOA" % n)
            out.append((p, rr))
            if rr[2] == T_SOA:
                serial = p.rdata(rr).serial
                if first is None:
                    first = serial
                seen += serial == first
            if len(out) == 1 and rr[2] != T_SOA:
                raise Fail("the first RR is not the SOA")
            if len(out) == 2:
                # RFC 1995 §4: a second SOA starts an incremental answer,
                # where the new serial appears three times; else two.
                need = 3 if kind == T_IXFR and rr[2] == T_SOA else 2
        if need is not None and seen >= need:
            if key is not None and unsigned_run:
                raise Fail("last message unsigned")
            return out
        if kind == T_IXFR and len(out) == 1:
            return out  # one SOA: the client is current


def xfr(server, zone, key, qtype, serial, tcp, opts):
    q = [zone.to_wire() + struct.pack("!HH", qtype, C_IN)]
    auth = []
    if qtype == T_IXFR:
        soa = dns.rdata.from_text(C_IN, T_SOA, ". . %d 0 0 0 0" % serial)
        auth = [rr_wire(zone, T_SOA, C_IN, 0, soa.to_wire())]
    wire = message(random.randint(0, 65535), OP_QUERY, 0, [q, [], auth, []])
    signer = None
    if key is not None:
        signer = Signer(key, opts)
        wire = signer.sign(wire)
    conn = Conn(server, tcp, float(opts.get("timeout", 10)))
    try:
        conn.send(wire)
        if not tcp:
            p = Parsed(conn.recv())
            if p.rcode:
                raise Fail("rcode %s" % RCODES.get(p.rcode, p.rcode))
            if key is not None:
                state, err = verify_reply(p, key, signer.request_mac)
                if state != "valid" or err != "NOERROR":
                    raise Fail("TSIG %s %s" % (state, err))
            return [(p, rr) for rr in p.answers()]
        return read_stream(conn, key, signer.request_mac if signer else b"", qtype)
    finally:
        conn.close()


def rr_record(p, rr):
    return (rr[1], rr[4], rr[3], rr[2], p.rdata(rr))


def wait_serial(server, zone, want, opts):
    """Seconds until SERVER serves serial WANT (None: any); None on time-out."""
    start = time.monotonic()
    end = start + float(opts.get("timeout", 10))
    seen = None
    while time.monotonic() < end:
        seen = soa_serial(server, zone, opts, 0.5)
        if seen is not None and (want is None or seen == want):
            return time.monotonic() - start, seen
        time.sleep(0.05)
    return None, seen


def cmd_axfr(args, opts):
    zone = dns.name.from_text(args[1])
    waited = 0.0
    if "serial" in opts:
        waited, seen = wait_serial(args[0], zone, int(opts["serial"]), opts)
        if waited is None:
            raise Fail("%s serves serial %s of %s, not %s, after %s s" % (args[0], seen, zone, opts["serial"],
                                                                         opts.get("timeout", 10)))
    rrs = xfr(args[0], zone, opts.get("key"), T_AXFR, 0, True, opts)
    body = rrs[:-1]  # the closing SOA
    if sum(1 for _, rr in body if rr[2] == T_SOA) != 1:
        raise Fail("AXFR has %d SOA records besides the last" % sum(1 for _, rr in body if rr[2] == T_SOA))
    text = "".join(line + "\n" for line in canonical_lines([rr_record(p, rr) for p, rr in body]))
    if "out" in opts:
        with open(opts["out"], "w") as f:
            f.write(text)
        print("%.2f" % waited)
    else:
        sys.stdout.write(text)
    return 0


def cmd_ixfr(args, opts):
    zone = dns.name.from_text(args[1])
    for p, rr in xfr(args[0], zone, opts.get("key"), T_IXFR, int(args[2]), "udp" not in opts, opts):
        name, ttl, rclass, rtype, rd = rr_record(p, rr)
        print("%s %d %s %s %s" % (name.to_text(), ttl, dns.rdataclass.to_text(rclass),
                                  dns.rdatatype.to_text(rtype), rd.to_text(relativize=False)))
    return 0


def cmd_norm(args, opts):
    import dns.zone
    zone = dns.name.from_text(args[1])
    records = []
    with open(args[0]) as f:
        text = f.read()
    # dns.zone merges RRsets; read the file RR by RR to keep it as written.
    import dns.tokenizer  # noqa: F401  (dnspython's master-file reader)
    z = dns.zone.from_text(text, origin=zone, relativize=False, check_origin=False)
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            for rd in rds:
                records.append((name, rds.ttl, rds.rdclass, rds.rdtype, rd))
    for line in canonical_lines(records):
        print(line)
    return 0


def parse_rr(text, zone):
    w = text.split()
    name, ttl, rest = absname(w[0], zone), int(w[1]), w[2:]
    rclass = C_IN
    try:
        rclass = dns.rdataclass.from_text(rest[0])
        rest = rest[1:]
    except Exception:
        pass
    rtype = dns.rdatatype.from_text(rest[0])
    return (name, ttl, rclass, rtype, dns.rdata.from_text(rclass, rtype, " ".join(rest[1:]), origin=zone, relativize=False))


def same_rr(a, b):
    return a[0] == b[0] and a[2:4] == b[2:4] and a[4].to_digestable() == b[4].to_digestable()


def cmd_patch(args, opts):
    zone = dns.name.from_text(args[1])
    with open(args[0]) as f:
        records = [parse_rr(line, zone) for line in f if line.strip()]
    for lineno, line in enumerate(sys.stdin.read().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("serial "):
            new = int(line.split()[1])
            records = [(r[0], r[1], r[2], r[3], r[4].replace(serial=new)) if r[3] == T_SOA else r for r in records]
        elif line[0] == "+":
            records.append(parse_rr(line[1:], zone))
        elif line[0] == "-" and len(line[1:].split()) == 3:  # "- owner ttl type": the RRset
            w = line[1:].split()
            name, rtype = absname(w[0], zone), dns.rdatatype.from_text(w[2])
            if not any(r[0] == name and r[3] == rtype for r in records):
                raise Fail("change line %d: no %s RRset at %s" % (lineno, w[2], name))
            records = [r for r in records if not (r[0] == name and r[3] == rtype)]
        elif line[0] == "-":
            rr = parse_rr(line[1:], zone)
            match = [r for r in records if same_rr(r, rr)]
            if not match:
                raise Fail("change line %d: %s is not in the zone" % (lineno, line[1:].strip()))
            records.remove(match[0])
        else:
            raise Fail("change line %d: want '+ RR', '- RR' or 'serial N'" % lineno)
    for line in canonical_lines(records):
        print(line)
    return 0


def soa_serial(server, zone, opts, timeout=1.0):
    """The SOA serial SERVER answers for ZONE over UDP, or None."""
    wire = message(random.randint(0, 65535), OP_QUERY, 0, [[zone.to_wire() + struct.pack("!HH", T_SOA, C_IN)], [], [], []])
    if opts.get("key"):
        wire = Signer(opts["key"], opts).sign(wire)
    conn = Conn(server, False, timeout)
    try:
        conn.send(wire)
        p = Parsed(conn.recv())
        for rr in p.answers():
            if rr[2] == T_SOA and rr[1] == zone:
                return p.rdata(rr).serial
    except (socket.timeout, OSError, Fail):
        pass
    finally:
        conn.close()
    return None


def cmd_serial(args, opts):
    zone = dns.name.from_text(args[1])
    for _ in range(3):
        serial = soa_serial(args[0], zone, opts)
        if serial is not None:
            print(serial)
            return 0
        time.sleep(0.1)
    return 1


def cmd_wait(args, opts):
    zone, want = dns.name.from_text(args[1]), (None if args[2] == "any" else int(args[2]))
    waited, seen = wait_serial(args[0], zone, want, opts)
    if waited is None:
        print("timeout, serving %s" % seen)
        return 1
    print("%.2f" % waited)
    return 0


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_ready(args, opts):
    end = time.monotonic() + float(opts.get("timeout", 10))
    wire = message(random.randint(0, 65535), OP_QUERY, 0, [[b"\0" + struct.pack("!HH", T_SOA, C_IN)], [], [], []])
    pid = int(opts["pid"]) if "pid" in opts else None
    up = {False: False, True: False}
    while time.monotonic() < end:
        if pid is not None and not alive(pid):
            return 1
        for tcp in (False, True):
            if up[tcp]:
                continue
            try:
                conn = Conn(args[0], tcp, 0.3)
                try:
                    conn.send(wire)
                    conn.recv()
                    up[tcp] = True
                finally:
                    conn.close()
            except (socket.timeout, OSError, Fail):
                pass
        if up[False] and up[True]:
            return 0
        time.sleep(0.05)
    return 1


def cmd_update(args, opts):
    zone = dns.name.from_text(args[1])
    sections = update_sections(zone, sys.stdin.read())
    wire = message(random.randint(0, 65535), OP_UPDATE, 0, sections)
    return exchange(args[0], wire, opts.get("key"), opts, "tcp" in opts)


def cmd_notify(args, opts):
    zone = dns.name.from_text(args[1])
    answer = []
    if "serial" in opts:
        soa = dns.rdata.from_text(C_IN, T_SOA, ". . %s 0 0 0 0" % opts["serial"])
        answer = [rr_wire(zone, T_SOA, C_IN, 0, soa.to_wire())]
    wire = message(random.randint(0, 65535), OP_NOTIFY, 0x0400,
                   [[zone.to_wire() + struct.pack("!HH", T_SOA, C_IN)], answer, [], []])
    return exchange(args[0], wire, opts.get("key"), opts, "tcp" in opts)


def cmd_query(args, opts):
    name = dns.name.from_text(args[1])
    wire = message(random.randint(0, 65535), OP_QUERY, 0,
                   [[name.to_wire() + struct.pack("!HH", dns.rdatatype.from_text(args[2]), C_IN)], [], [], []])
    return exchange(args[0], wire, opts.get("key"), opts, "tcp" in opts)


COMMANDS = {"axfr": (cmd_axfr, 2), "patch": (cmd_patch, 2), "ixfr": (cmd_ixfr, 3), "norm": (cmd_norm, 2), "serial": (cmd_serial, 2), "wait": (cmd_wait, 3), "ready": (cmd_ready, 1),
            "update": (cmd_update, 2), "notify": (cmd_notify, 2), "query": (cmd_query, 3)}
FLAGS = {"tcp", "udp", "bad-mac"}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write(__doc__)
        return 2
    fn, nargs = COMMANDS[argv[0]]
    args, opts, rest = [], {}, argv[1:]
    while rest:
        a = rest.pop(0)
        if a.startswith("--"):
            if a[2:] in FLAGS:
                opts[a[2:]] = True
            elif not rest:
                raise Fail("%s needs a value" % a)
            else:
                opts[a[2:]] = rest.pop(0)
        else:
            args.append(a)
    if len(args) != nargs:
        raise Fail("%s takes %d arguments, got %d" % (argv[0], nargs, len(args)))
    if opts.get("key"):
        opts["key"] = Key(opts["key"])
    else:
        opts.pop("key", None)
    return fn(args, opts)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        sys.stderr.write("zonetool: %s\n" % e)
        sys.exit(1)
    except (socket.timeout, ConnectionError, OSError) as e:
        sys.stderr.write("zonetool: %s\n" % e)
        sys.exit(1)
