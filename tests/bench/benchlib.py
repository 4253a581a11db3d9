#!/usr/bin/python3
"""Helpers for tests/bench/run.sh (stdlib only).

  benchlib.py queries ZONEFILE N        dnsperf query lines for the zone: a
                                        realistic mix of hits, CNAMEs,
                                        referrals, NXDOMAIN and NODATA
  benchlib.py cpu PID                   CPU ticks (utime+stime) of PID and
                                        every descendant process
  benchlib.py rss PID                   largest VmRSS (KiB) in PID's tree
  benchlib.py waitsoa PORT ZONE SECS    wait until 127.0.0.1:PORT answers
                                        ZONE SOA authoritatively; prints
                                        the seconds waited or 'timeout'
  benchlib.py table RESULTS             the report table from result lines
                                        "zone server metric value"
"""
import os
import random
import socket
import statistics
import struct
import sys
import time

MIX = (("hit", 0.60), ("cname", 0.10), ("referral", 0.10), ("nxdomain", 0.15), ("nodata", 0.05))


def parse_zone(path):
    """(owner, type) pairs of a simple master file (one record a line)."""
    origin, last, out = ".", None, []
    with open(path) as f:
        for line in f:
            line = line.split(";", 1)[0].rstrip()
            if not line:
                continue
            tok = line.split()
            if tok[0] == "$ORIGIN":
                origin = tok[1]
                continue
            if tok[0].startswith("$"):
                continue
            if line[0] in " \t":
                owner = last
            else:
                owner, tok = tok[0], tok[1:]
                owner = origin if owner == "@" else owner if owner.endswith(".") else owner + "." + origin
            while tok and (tok[0].isdigit() or tok[0] in ("IN", "CH")):
                tok = tok[1:]
            if owner and tok:
                out.append((owner.lower(), tok[0].upper()))
            last = owner
    return origin.lower(), out


def cmd_queries(path, n):
    origin, recs = parse_zone(path)
    rnd = random.Random(7)
    cuts = sorted({o for o, t in recs if t == "NS" and o != origin})
    cuts_set = set(cuts)
    hits, cnames = [], []
    for o, t in recs:
        # Glue of the generated zones sits one label below its cut.
        if o in cuts_set or o.split(".", 1)[-1] in cuts_set:
            continue
        if t == "CNAME":
            cnames.append(o)
        elif t in ("A", "AAAA", "MX", "TXT", "SRV", "SOA", "NS"):
            hits.append((o, t))
    plain = [o for o, t in hits if t == "A"]
    out = []
    for i in range(int(n)):
        r, kind = rnd.random(), None
        for k, w in MIX:
            if r < w:
                kind = k
                break
            r -= w
        kind = kind or "hit"
        if kind == "hit" or (kind == "cname" and not cnames) or (kind == "referral" and not cuts):
            out.append("%s %s" % rnd.choice(hits))
        elif kind == "cname":
            out.append("%s A" % rnd.choice(cnames))
        elif kind == "referral":
            out.append("www%d.%s A" % (rnd.randint(0, 999), rnd.choice(cuts)))
        elif kind == "nxdomain":
            out.append("nx%d.%s A" % (rnd.randint(0, 10**9), origin))
        else:
            out.append("%s CAA" % rnd.choice(plain))
    sys.stdout.write("\n".join(out) + "\n")


def proc_tree(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    tree, todo = [], [int(pid)]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += kids.get(p, [])
    return tree


def cmd_cpu(pid):
    total = 0
    for p in proc_tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
        except OSError:
            pass
    print(total)


def cmd_rss(pid):
    best = 0
    for p in proc_tree(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    print(best)


def soa_query(zone):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in zone.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + wire + struct.pack(">HH", 6, 1)


def cmd_waitsoa(port, zone, secs):
    t0 = time.monotonic()
    q = soa_query(zone)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    while time.monotonic() - t0 < float(secs):
        try:
            s.sendto(q, ("127.0.0.1", int(port)))
            r, _ = s.recvfrom(4096)
            flags = struct.unpack(">H", r[2:4])[0]
            ancount = struct.unpack(">H", r[6:8])[0]
            if flags & 0x0400 and flags & 0xF == 0 and ancount > 0:
                print("%.2f" % (time.monotonic() - t0))
                return
        except OSError:
            time.sleep(0.05)
    print("timeout")


def cmd_table(path):
    res = {}
    for line in open(path):
        z, srv, metric, val = line.split()
        try:
            res.setdefault((z, srv, metric), []).append(float(val))
        except ValueError:
            pass
    med = lambda k: statistics.median(res[k]) if k in res else None
    cols = (("qps_1w", "max QPS, 1 worker", "%.0f"),
            ("us_sat", "CPU µs/query saturated", "%.2f"),
            ("us_fixed", "CPU µs/query @fixed rate", "%.2f"),
            ("qps_default", "max QPS, default threads", "%.0f"),
            ("rss_mib", "RSS MiB", "%.1f"),
            ("load_s", "load s", "%.2f"))
    zones = sorted({k[0] for k in res}, key=lambda z: (len(z), z))
    servers = ("zonelet", "zonelet-nc", "knot", "nsd")
    print("| zone | server | " + " | ".join(c[1] for c in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for z in zones:
        for s in servers:
            cells = []
            if not any(k[0] == z and k[1] == s for k in res):
                continue
            for key, _, fmt in cols:
                v, k = med((z, s, key)), med((z, "knot", key))
                if v is None:
                    cells.append("—")
                elif s != "knot" and k:
                    cells.append((fmt % v) + " (%.2fx)" % (v / k))
                else:
                    cells.append(fmt % v)
            if cells:
                print("| %s | %s | %s |" % (z, s, " | ".join(cells)))
    print("\nzonelet-nc: zonelet with --udp-coalesce-us 0, coalescing off (one-worker runs only).")
    print("Medians of %d round(s); (x) = ratio to Knot DNS." %
          max((len(v) for k, v in res.items() if k[2] == "us_sat"), default=0))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
