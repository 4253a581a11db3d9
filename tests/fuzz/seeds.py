#!/usr/bin/python3
"""Writes seed inputs for the fuzzers: DNS queries and responses (with
compression, EDNS options, several types) into DIR/msg and DIR/answer."""
import os
import struct
import sys


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, qname, qtype, edns=None, flags=0x0100, opts=b""):
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns is not None else 0)
    msg += name(qname) + struct.pack("!HH", qtype, 1)
    if edns is not None:
        msg += b"\0" + struct.pack("!HHBBHH", 41, edns, 0, 0, 0x8000, len(opts)) + opts
    return msg


def response():
    hdr = struct.pack("!HHHHHH", 7, 0x8400, 1, 2, 1, 1)
    q = name("www.example.test") + struct.pack("!HH", 1, 1)
    # answer: CNAME www -> web (compressed), A for web
    cname = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 6) + b"\x03web\xc0\x10"
    a = b"\xc0\x2d" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1])
    soa_rd = b"\x03ns1\xc0\x10" + b"\x0ahostmaster\xc0\x10" + struct.pack("!IIIII", 1, 2, 3, 4, 5)
    soa = b"\xc0\x10" + struct.pack("!HHIH", 6, 1, 300, len(soa_rd)) + soa_rd
    opt = b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 0)
    return hdr + q + cname + a + soa + opt


def main(top):
    seeds = {
        "msg": [response(),
                query(1, "example.test", 6),
                query(2, "www.example.test", 1, edns=1232),
                query(3, "example.test", 15, edns=4096, opts=struct.pack("!HH", 10, 8) + b"abcdefgh"),
                query(4, "example.test", 16, edns=512, opts=struct.pack("!HH", 3, 0))],
        "answer": [],
    }
    names = ["fuzz.test", "www.fuzz.test", "nx.fuzz.test", "loop1.fuzz.test", "a.wild.fuzz.test",
             "ent.a.b.fuzz.test", "b.fuzz.test", "q.dn.fuzz.test", "x.sub.fuzz.test", "sub.fuzz.test",
             "big.fuzz.test", "out.fuzz.test", "example.test", "www.example.test", "nothere.invalid",
             "chain1.fuzz.test", "Www.FuZZ.tesT", "_sip._udp.fuzz.test", "x.dnout.fuzz.test"]
    types = [1, 28, 6, 2, 15, 16, 5, 39, 43, 255, 33, 257, 99]
    i = 0
    for n in names:
        for t in types:
            i += 1
            edns = None if i % 3 == 0 else (512 if i % 3 == 1 else 1232)
            opts = struct.pack("!HH", 10, 8) + b"clientck" if i % 5 == 0 else b""
            seeds["answer"].append(query(i & 0xffff, n, t, edns, opts=opts))
    seeds["answer"].append(query(9, "version.server", 16) [:-4] + struct.pack("!HH", 16, 3))
    for kind, items in seeds.items():
        d = os.path.join(top, kind)
        os.makedirs(d, exist_ok=True)
        for k, data in enumerate(items):
            with open(os.path.join(d, "seed%03d" % k), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
