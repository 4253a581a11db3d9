#!/usr/bin/python3
"""Writes a realistic zone of exactly N records to stdout (deterministic).

usage: gen-zone.py N [ORIGIN]        (ORIGIN defaults to bench.test.)

The mix is what hosting zones look like: mostly A, then A+AAAA pairs,
CNAMEs, TXT (SPF/verification tokens), MX, SRV, and delegations (two NS
with in-bailiwick glue). A fifth of the names sit one level deeper
(hN.dM), so the zone has empty non-terminals too. Used by the zone
benchmarks (tests/bench/zone-measure.sh) and the server benchmarks.
"""
import random
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    origin = sys.argv[2] if len(sys.argv) > 2 else "bench.test."
    if not origin.endswith("."):
        origin += "."
    rnd = random.Random(20261130)
    lines = [
        "$ORIGIN " + origin,
        "$TTL 3600",
        "@ SOA ns1 hostmaster 2026113001 7200 3600 1209600 300",
        "@ NS ns1",
        "@ NS ns2",
        "@ MX 10 mail",
        '@ TXT "v=spf1 mx -all"',
        "ns1 A 192.0.2.1",
        "ns2 AAAA 2001:db8::2",
        "mail A 192.0.2.25",
    ]
    count = 8
    i = 0
    out = sys.stdout
    while count < n:
        i += 1
        left = n - count
        name = "h%d" % i if rnd.random() < 0.8 else "h%d.d%d" % (i, i % 1000)
        ip = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        r = rnd.random()
        if r < 0.40 or left < 4:
            lines.append("%s A %s" % (name, ip))
            count += 1
        elif r < 0.55:
            lines.append("%s A %s" % (name, ip))
            lines.append("%s AAAA 2001:db8:%x::%x" % (name, i >> 16, i & 0xffff))
            count += 2
        elif r < 0.65:
            lines.append("%s CNAME h%d" % (name, rnd.randint(1, max(1, i - 1))))
            count += 1
        elif r < 0.70:
            lines.append("%s MX %d mx%d.mail.example." % (name, rnd.choice((10, 20)), i % 7))
            count += 1
        elif r < 0.80:
            lines.append('%s TXT "site-verification=%016x"' % (name, rnd.getrandbits(64)))
            count += 1
        elif r < 0.85:
            lines.append("_sip._tcp.%s SRV 10 60 5060 h%d" % (name, rnd.randint(1, i)))
            count += 1
        else:
            sub = "sub%d" % i
            lines.append("%s NS ns1.%s" % (sub, sub))
            lines.append("%s NS ns2.%s" % (sub, sub))
            lines.append("ns1.%s A %s" % (sub, ip))
            lines.append("ns2.%s AAAA 2001:db8:ff:%x::%x" % (sub, i >> 16, i & 0xffff))
            count += 4
        if len(lines) >= 65536:
            out.write("\n".join(lines) + "\n")
            lines = []
    out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
