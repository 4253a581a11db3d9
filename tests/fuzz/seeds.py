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


def rdata_seeds(top):
    """Text-mode inputs for fuzz_rdata: one octet (0x80 | index into its
    type list) and the RDATA text of each line of the RDATA corpus."""
    src = open("tests/fuzz/fuzz_rdata.c").read()
    body = src[src.index("types[] = {") + 11:]
    codes = [int(x) for x in body[:body.index("}")].replace("\n", " ").split(",") if x.strip()]
    names = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
             "CAA": 257, "SVCB": 64, "HTTPS": 65, "LOC": 29, "NSEC": 47, "DS": 43, "TLSA": 52,
             "NAPTR": 35, "APL": 42, "WKS": 11, "IPSECKEY": 45, "DNSKEY": 48, "RRSIG": 46,
             "NSEC3": 50, "HIP": 55, "CERT": 37, "SSHFP": 44, "URI": 256}
    out = []
    try:
        lines = open("tests/dns/rdata-corpus.txt").read().splitlines()
    except OSError:
        return out
    for line in lines:
        if not line or line[0] in "#;":
            continue
        typ, _, text = line.partition(" ")
        code = names.get(typ)
        if code in codes:
            out.append(bytes([0x80 | codes.index(code)]) + text.split(";hex=")[0].strip().encode())
    return out


def rr(owner, rtype, rclass, ttl, rdata=b""):
    return name(owner) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def update(prereqs, updates, zone="example.test"):
    """An UPDATE message (RFC 2136 §2) for fuzz_update: its input format
    is [u16 length][message], optionally followed by a second message."""
    msg = struct.pack("!HHHHHH", 1, 5 << 11, 1, len(prereqs), len(updates), 0)
    msg += name(zone) + struct.pack("!HH", 6, 1)
    return msg + b"".join(prereqs) + b"".join(updates)


def update_seeds():
    a = bytes([192, 0, 2, 7])
    txt = b"\x05hello"
    one = [
        update([], [rr("new.example.test", 1, 1, 300, a)]),
        update([rr("www.example.test", 1, 255, 0)], [rr("www.example.test", 16, 1, 60, txt)]),
        update([rr("nx.example.test", 255, 254, 0)], [rr("nx.a.b.example.test", 1, 1, 300, a)]),
        update([], [rr("www.example.test", 255, 255, 0), rr("www.example.test", 5, 1, 300,
                                                           name("mail.example.test"))]),
        update([], [rr("sub.example.test", 2, 255, 0)]),
        update([], [rr("x.example.test", 2, 1, 300, name("ns.x.example.test")),
                    rr("ns.x.example.test", 1, 1, 300, a)]),
        update([], [rr("example.test", 2, 254, 0, name("ns1.example.test"))]),
        update([], [rr("example.test", 6, 1, 300, name("ns1.example.test") + name("h.example.test")
                       + struct.pack("!IIIII", 200, 1, 2, 3, 4))]),
        update([rr("www.example.test", 1, 1, 0, bytes([192, 0, 2, 80]))],
               [rr("dn.example.test", 39, 1, 300, name("example.org")),
                rr("*.wild.example.test", 1, 254, 0, bytes([192, 0, 2, 99]))]),
    ]
    out = [struct.pack("!H", len(m)) + m for m in one]
    for i in range(len(one) - 1):
        out.append(struct.pack("!H", len(one[i])) + one[i] + one[i + 1])
    return out
def acme_seeds():
    """ACME objects (RFC 8555 §7.1, problem documents, a flattened JWS)
    for fuzz_json, and HTTP responses for fuzz_http (first octet: mode)."""
    js = [
        b'{"newNonce":"https://ca/nonce","newAccount":"https://ca/acct","newOrder":"https://ca/order",'
        b'"meta":{"termsOfService":"data:text/plain,x","externalAccountRequired":false,"caaIdentities":["ca"]}}',
        b'{"status":"valid","contact":["mailto:a@example.org"],"termsOfServiceAgreed":true,"orders":"https://ca/o"}',
        b'{"status":"pending","expires":"2026-01-20T14:09:07.99Z","identifiers":[{"type":"dns","value":"a.example"},'
        b'{"type":"dns","value":"*.example"}],"authorizations":["https://ca/authz/1","https://ca/authz/2"],'
        b'"finalize":"https://ca/finalize/1","certificate":"https://ca/cert/1"}',
        b'{"status":"pending","identifier":{"type":"dns","value":"example"},"wildcard":true,"challenges":['
        b'{"type":"http-01","url":"https://ca/c/1","token":"DGyRejmCefe7v4NfDGDKfA","status":"pending"},'
        b'{"type":"dns-01","url":"https://ca/c/2","token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",'
        b'"status":"invalid","error":{"type":"urn:ietf:params:acme:error:unauthorized","detail":"No TXT"}}]}',
        b'{"type":"urn:ietf:params:acme:error:malformed","detail":"rejected \\"x\\" \\u00e9 \\ud83d\\ude00",'
        b'"status":400,"subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier",'
        b'"identifier":{"type":"dns","value":"_x.example"},"detail":"no"}]}',
        b'{"payload":"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",'
        b'"protected":"eyJhbGciOiJFUzI1NiJ9","header":{"kid":"e9bc097a"},"signature":'
        b'"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"}',
        b'{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1R"}',
        b'[1,-0.5e+10,true,false,null,"",{},[],{"a":[{"b":{"c":[0]}}]}]',
    ]
    http = [
        b"\0HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nReplay-Nonce: abc_-1\r\n"
        b"Content-Length: 2\r\n\r\n{}",
        b"\1HTTP/1.1 200 OK\r\nReplay-Nonce: n\r\nCache-Control: no-store\r\nContent-Length: 0\r\n\r\n",
        b"\0HTTP/1.1 201 Created\r\nLocation: https://ca/order/1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n3;x=y\r\n ok\r\n0\r\nT: v\r\n\r\n",
        b"\2HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n-----BEGIN CERTIFICATE-----\nMIIB\n",
        b"\0HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: "
        b"application/problem+json\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n\r\n{}xyz",
        b"\4HTTP/1.0 503 Busy\r\nRetry-After: 120\r\nContent-Length: 100\r\n\r\n0123456789",
        b"\0https://[::1]:14000/dir?x=1",
        b"\0Sun, 06 Nov 1994 08:49:37 GMT",
    ]
    return js, http


def tsig_seeds():
    """Queries signed with fuzz_tsig.c's keys (key.example., secret
    i*31+j of 16+20i octets), valid MACs so that mutations reach the time
    and truncation checks; first octet: the harness's mode (1: offset from
    the parser, clock = Time Signed; 0x13: 1200 s late)."""
    import hashlib
    import hmac
    algs = [("hmac-md5.sig-alg.reg.int", hashlib.md5), ("hmac-sha1", hashlib.sha1),
            ("hmac-sha224", hashlib.sha224), ("hmac-sha256", hashlib.sha256),
            ("hmac-sha384", hashlib.sha384), ("hmac-sha512", hashlib.sha512)]
    out = []
    t = 1700000000
    for i, (alg, h) in enumerate(algs):
        secret = bytes((i * 31 + j) & 0xFF for j in range(16 + 20 * i))
        q = query(0x1000 + i, "example.test", 252 if i % 2 else 6)
        q = q[:10] + struct.pack("!H", 1) + q[12:]  # ARCOUNT 1 once signed
        unsigned = q[:10] + struct.pack("!H", 0) + q[12:]
        times = struct.pack("!HIH", t >> 32, t & 0xFFFFFFFF, 300)
        digest = (unsigned + name("key.example") + struct.pack("!HI", 255, 0) + name(alg)
                  + times + struct.pack("!HH", 0, 0))
        mac = hmac.new(secret, digest, h).digest()
        for n in (len(mac), max(10, len(mac) // 2)):
            rd = name(alg) + times + struct.pack("!H", n) + mac[:n] + struct.pack("!HHH", 0x1000 + i, 0, 0)
            rr = name("key.example") + struct.pack("!HHIH", 250, 255, 0, len(rd)) + rd
            out += [b"\x01" + q + rr, b"\x13" + q + rr]
    return out


def main(top):
    seeds = {
        "msg": [response(),
                query(1, "example.test", 6),
                query(2, "www.example.test", 1, edns=1232),
                query(3, "example.test", 15, edns=4096, opts=struct.pack("!HH", 10, 8) + b"abcdefgh"),
                query(4, "example.test", 16, edns=512, opts=struct.pack("!HH", 3, 0))],
        "answer": [],
        "rdata": rdata_seeds(top),
        "update": update_seeds(),
        "tsig": tsig_seeds(),
    }
    seeds["json"], seeds["http"] = acme_seeds()
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
