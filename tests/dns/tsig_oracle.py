#!/usr/bin/python3
"""dnspython as the second TSIG implementation for tests/dns/test_tsig.c.

    tsig_oracle.py make NOW    prints messages dnspython signs at time NOW:
                               TAG ALG HEX [MACHEX] per line
    tsig_oracle.py check NOW   reads commands (TAG CMD ALG ARGS...) on stdin,
                               prints "TAG ok [...]" or "TAG fail REASON", and
                               "TAG msg HEX" for messages it makes

Keys: one per algorithm, named k-<alg>.example., with the secret that
test_tsig.c computes the same way (secret_for). dnspython's clock is set
to NOW so that both sides sign and check at the same time.
"""
import binascii
import struct
import sys
import time

NOW = int(sys.argv[2])
time.time = lambda: NOW

import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402
import dns.tsig  # noqa: E402

ALGS = {  # nsupdate's spelling: (DNSKEY number, dnspython name, MAC length)
    "hmac-md5": (157, dns.tsig.HMAC_MD5, 16),
    "hmac-sha1": (161, dns.tsig.HMAC_SHA1, 20),
    "hmac-sha224": (162, dns.tsig.HMAC_SHA224, 28),
    "hmac-sha256": (163, dns.tsig.HMAC_SHA256, 32),
    "hmac-sha384": (164, dns.tsig.HMAC_SHA384, 48),
    "hmac-sha512": (165, dns.tsig.HMAC_SHA512, 64),
}
# Secret lengths: MD5's and SHA512's are longer than the hash's block, so
# HMAC hashes them first (RFC 2104 §2).
SECRET_LEN = {157: 100, 161: 20, 162: 28, 163: 32, 164: 48, 165: 130}


def secret_for(num, wrong=False):
    s = bytes((num * 31 + j * 7 + 3) & 0xFF for j in range(SECRET_LEN[num]))
    return s[::-1] if wrong else s


def key_for(alg, upper=False, wrong=False, name=None):
    num, aname, _ = ALGS[alg]
    if upper:
        aname = dns.name.from_text(aname.to_text().upper())
    kname = name or ("k-%s.example." % alg)
    if upper:
        kname = kname.upper()
    return dns.tsig.Key(kname, secret_for(num, wrong), aname)


def hx(b):
    return binascii.hexlify(b).decode()


def query(qname="example.", rdtype="SOA"):
    return dns.message.make_query(qname, rdtype, want_dnssec=False, use_edns=False)


def signed(key, rdtype="SOA", at=None):
    q = query(rdtype=rdtype)
    q.use_tsig(key)
    if at is not None:
        time.time = lambda: at
    try:
        w = q.to_wire()
    finally:
        time.time = lambda: NOW
    return w, q.mac


def truncate(wire, alg_wire, full, n):
    """The message with its TSIG MAC cut to n octets (RFC 8945 §5.2.2.1);
    the RDATA ends with MAC, Original ID, Error, Other Len (no Other)."""
    rdlen = len(alg_wire) + 16 + full
    start = len(wire) - rdlen
    rd = wire[start:]
    a = len(alg_wire)
    mac = rd[a + 10:a + 10 + full]
    new = rd[:a + 8] + struct.pack("!H", n) + mac[:n] + rd[a + 10 + full:]
    head = wire[:start - 2] + struct.pack("!H", len(new))
    return head + new, mac[:n]


def make():
    for alg, (num, aname, full) in ALGS.items():
        k = key_for(alg)
        w, mac = signed(k)
        print("req", alg, hx(w), hx(mac))
        w, mac = signed(key_for(alg, upper=True))
        print("requp", alg, hx(w), hx(mac))
        short = max(10, full // 2)
        w, _ = signed(k)
        t, tmac = truncate(w, aname.to_wire(), full, short)
        print("reqtrunc", alg, hx(t), hx(tmac))
        t, _ = truncate(w, aname.to_wire(), full, short - 1)
        print("reqshort", alg, hx(t))
        w, mac = signed(k, at=NOW - 1000)
        print("reqold", alg, hx(w), hx(mac))
        w, mac = signed(k, at=NOW + 1000)
        print("reqnew", alg, hx(w), hx(mac))
        w, _ = signed(key_for(alg, name="nokey.example."))
        print("requnknown", alg, hx(w))
        w, _ = signed(key_for(alg, wrong=True))
        print("reqwrong", alg, hx(w))
        w, mac = signed(k, rdtype="AXFR")
        print("reqaxfr", alg, hx(w), hx(mac))


def keyring(alg):
    """The client's keys: its own, and the one the server does not know."""
    k, unknown = key_for(alg), key_for(alg, name="nokey.example.")
    return {k.name: k, unknown.name: unknown}


class Lenient:
    """Replaces dns.tsig.validate: checks the MAC, not the error field nor
    the time, and records the TSIG RDATA."""

    def __init__(self):
        self.rdata = None

    def __call__(self, wire, key, owner, rdata, now, request_mac, tsig_start,
                 ctx=None, multi=False):
        (adcount,) = struct.unpack("!H", wire[10:12])
        new_wire = wire[0:10] + struct.pack("!H", adcount - 1) + wire[12:tsig_start]
        ctx = dns.tsig._digest(new_wire, key, rdata, None, request_mac, ctx, multi)
        ctx.verify(rdata.mac)
        self.rdata = rdata
        return None


def emit_response(tag, q, answer=True):
    r = dns.message.make_response(q)
    if answer:
        r.answer.append(dns.rrset.from_text(
            "example.", 300, "IN", "SOA", "ns.example. h.example. 7 1 2 3 4"))
    print(tag, "msg", hx(r.to_wire()))


def stream(tag, q, n, unsigned):
    """n messages answering AXFR q, messages in `unsigned` without TSIG."""
    ctx = None
    for i in range(n):
        if i in unsigned:
            m = dns.message.make_response(q)
            m.tsig = None
            m.keyring = None
            m.answer.append(dns.rrset.from_text(
                "a%d.example." % i, 300, "IN", "A", "192.0.2.%d" % i))
            w = m.to_wire()
            ctx.update(w)
        else:
            m = dns.message.make_response(q)
            m.answer.append(dns.rrset.from_text(
                "s%d.example." % i, 300, "IN", "TXT", '"message %d"' % i))
            w = m.to_wire(multi=True, tsig_ctx=ctx)
            ctx = m.tsig_ctx
        print(tag, "msg", hx(w))


def check_one(tag, cmd, alg, args):
    kr = keyring(alg)
    unhex = binascii.unhexlify
    if cmd == "resp":  # REQMAC RESP: our reply verifies
        dns.message.from_wire(unhex(args[1]), keyring=kr, request_mac=unhex(args[0]))
        return "ok"
    if cmd == "errresp":  # REQMAC RESP EXCEPTION: dnspython raises it
        try:
            dns.message.from_wire(unhex(args[1]), keyring=kr, request_mac=unhex(args[0]))
        except Exception as e:  # noqa: BLE001
            name = type(e).__name__
            return "ok" if name == args[2] else "fail raised %s" % name
        return "fail no exception"
    if cmd == "lenient":  # REQMAC RESP: MAC verifies; prints error, time, other
        lv = Lenient()
        saved = dns.tsig.validate
        dns.tsig.validate = lv
        try:
            dns.message.from_wire(unhex(args[1]), keyring=kr, request_mac=unhex(args[0]))
        finally:
            dns.tsig.validate = saved
        rd = lv.rdata
        return "ok %d %d %s" % (rd.error, rd.time_signed, hx(rd.other) or "-")
    if cmd == "respstream":  # REQMAC M1 M2 ...: our stream verifies
        ctx = None
        for i, m in enumerate(args[1:]):
            msg = dns.message.from_wire(unhex(m), keyring=kr, request_mac=unhex(args[0]),
                                        multi=True, tsig_ctx=ctx)
            if not msg.had_tsig:
                return "fail message %d unsigned" % i
            ctx = msg.tsig_ctx
        return "ok"
    if cmd == "ourreq":  # REQ: our request verifies; dnspython answers it
        q = dns.message.from_wire(unhex(args[0]), keyring=kr)
        if not q.had_tsig:
            return "fail unsigned"
        emit_response(tag, q)
        return "ok"
    if cmd == "ourreqstream":  # REQ N UNSIGNED,...: a stream answering it
        q = dns.message.from_wire(unhex(args[0]), keyring=kr)
        unsigned = {int(x) for x in args[2].split(",") if x != "-"}
        stream(tag, q, int(args[1]), unsigned)
        return "ok"
    return "fail unknown command %s" % cmd


def check():
    for line in sys.stdin:
        f = line.split()
        if len(f) < 3:
            continue
        try:
            res = check_one(f[0], f[1], f[2], f[3:])
        except Exception as e:  # noqa: BLE001
            res = "fail %s: %s" % (type(e).__name__, e)
        print(f[0], res)
        sys.stdout.flush()


if __name__ == "__main__":
    make() if sys.argv[1] == "make" else check()
