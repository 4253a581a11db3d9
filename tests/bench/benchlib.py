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
  benchlib.py tcpu PID NAME             CPU ticks (utime+stime) of PID's
                                        threads named NAME (comm)
  benchlib.py pushlog LOG PREFIX        "name value" lines from zonelet's
                                        "git: pushed" log lines: medians of
                                        the push's parts (ms) for pushes of
                                        one change, changes per push of the
                                        others
  benchlib.py trace2 FILE PREFIX        "name value" lines from a
                                        GIT_TRACE2_EVENT file of git daemon:
                                        medians (ms) of each push's
                                        processes (the daemon's serve,
                                        receive-pack and its children)
  benchlib.py updtable RESULTS          the change path's tables from
                                        tests/bench/update-run.sh's "name
                                        value" lines
"""
import os
import random
import re
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


def cmd_tcpu(pid, name):
    total = 0
    for t in os.listdir("/proc/%s/task" % pid):
        try:
            with open("/proc/%s/task/%s/comm" % (pid, t)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%s/task/%s/stat" % (pid, t)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
        except OSError:
            pass
    print(total)


def cmd_pushlog(path, prefix):
    pat = re.compile(r"git: pushed \S+ \((\d+) changes?; (\d+) ms: commit ([\d.]+), "
                     r"connection ([\d.]+), pack and the remote's answer ([\d.]+)\)")
    one, many = [], []
    for line in open(path, errors="replace"):
        m = pat.search(line)
        if m:
            v = [float(x) for x in m.groups()]
            (one if v[0] == 1 else many).append(v)
    if one:
        for i, name in ((1, "total"), (2, "commit"), (3, "connection"), (4, "pack")):
            print("%s_push1_%s_ms %.1f" % (prefix, name, statistics.median(x[i] for x in one)))
    if many:
        print("%s_pushN_changes %.1f" % (prefix, statistics.mean(x[0] for x in many)))
        print("%s_pushN_total_ms %.1f" % (prefix, statistics.median(x[1] for x in many)))


def cmd_trace2(path, prefix):
    import json
    starts, times = {}, {}
    for line in open(path, errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        key = (e.get("sid"), e.get("child_id"))
        if e.get("event") == "child_start":
            a = e.get("argv") or [""]
            if a[0].endswith("git-daemon") and "--serve" in a:
                starts[key] = "serve"
            elif a[0] == "git" and len(a) > 1:
                starts[key] = a[1]
        elif e.get("event") == "child_exit" and key in starts:
            times.setdefault(starts[key], []).append(1e3 * e["t_rel"])
    pushes = len(times.get("receive-pack", []))
    print("%s_pushes %d" % (prefix, pushes))
    for name in ("serve", "receive-pack", "unpack-objects", "index-pack", "rev-list", "gc"):
        if times.get(name):
            print("%s_%s_ms %.1f" % (prefix, name.replace("-", "_"), statistics.median(times[name])))


def cmd_updtable(path):
    res = {}
    for line in open(path):
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            res.setdefault(parts[0], []).append(float(parts[1]))
        except ValueError:
            pass
    med = lambda k: statistics.median(res[k]) if res.get(k) else None

    def cell(k, fmt):
        v = res.get(k)
        if not v:
            return "—"
        m = fmt % statistics.median(v)
        if len(v) > 1 and min(v) != max(v):
            m += " (" + (fmt % min(v)) + "-" + (fmt % max(v)) + ")"
        return m

    def ratio(a, b, fmt="%.2fx"):
        x, y = med(a), med(b)
        return fmt % (x / y) if x is not None and y else "—"

    rows = []
    print("Directory store (--zones) vs Knot DNS 3.2 (journal), one client, TCP, TSIG:\n")
    print("| measure | zonelet | Knot | zonelet / Knot | target |")
    print("|---|---|---|---|---|")
    rows = (
        ("UPDATEs/s, small zone", "upd_small_%s_per_s", "%.0f", "≥ 1x"),
        ("UPDATE p50 ms, small zone", "upd_small_%s_p50_ms", "%.2f", ""),
        ("UPDATE p99 ms, small zone", "upd_small_%s_p99_ms", "%.2f", ""),
        ("UPDATEs/s, 1M zone", "upd_big_%s_per_s", "%.0f", ""),
        ("UPDATE p50 ms, 1M zone", "upd_big_%s_p50_ms", "%.2f", ""),
        ("UPDATE p99 ms, 1M zone", "upd_big_%s_p99_ms", "%.2f", ""),
        ("AXFR of the 1M zone to kdig, s", "axfr_big_%s_s", "%.2f", "≤ 1x"),
        ("AXFR of the 1M zone: server CPU, ms", "axfr_big_%s_cpu_ms", "%.0f", ""),
        ("load of the 1M zone, s", "load_big_%s_s", "%.2f", ""),
    )
    for label, key, fmt, target in rows:
        zk = key % ("zonelet_dir" if key.startswith("load") else "zonelet")
        kk = key % "knot"
        print("| %s | %s | %s | %s | %s |" % (label, cell(zk, fmt), cell(kk, fmt), ratio(zk, kk), target))
    print("\nzonelet alone:\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print("| UPDATE p50, 1M zone / small zone | %s | ≤ 2x |" % ratio("upd_big_zonelet_p50_ms", "upd_small_zonelet_p50_ms"))
    print("| UDP workers' CPU µs/query, queries alone | %s | |" % cell("mix_udp_us_idle", "%.2f"))
    print("| UDP workers' CPU µs/query, during updates | %s | |" % cell("mix_udp_us_busy", "%.2f"))
    print("| during / alone | %s | ≤ 1.10x |" % ratio("mix_udp_us_busy", "mix_udp_us_idle"))
    print("| updates/s meanwhile | %s | |" % cell("mix_updates_per_s", "%.0f"))
    print("| writer thread CPU µs/update | %s | |" % cell("mix_writer_us_per_update", "%.1f"))
    print("| TCP thread CPU µs/update | %s | |" % cell("mix_tcp_us_per_update", "%.1f"))
    for cap, what in (("default", "defaults (--ixfr-history 100)"),
                      ("capped", "--ixfr-history 100000 --ixfr-max-bytes 262144"),
                      ("uncapped", "--ixfr-history 100000 --ixfr-max-bytes 1 GiB")):
        r0, r1 = med("mem_%s_rss0_kib" % cap), med("mem_%s_rss1_kib" % cap)
        if r0 is None:
            continue
        print("| RSS start -> after the updates, %s | %.1f -> %.1f MiB (%+.2f MiB) | %s |" %
              (what, r0 / 1024, r1 / 1024, (r1 - r0) / 1024, "≤ +2 MiB" if cap != "uncapped" else ""))
        print("| journal file after the updates, %s | %s octets | |" %
              (what, cell("mem_%s_journal_file_bytes" % cap, "%.0f")))
    if not any(k.startswith("git_") for k in res):
        return
    print("\nGit store (--remote git://, loopback git daemon):\n")
    print("| measure | small zone | 1M zone | target |")
    print("|---|---|---|---|")
    print("| UPDATE -> push -> answer p50 ms, one client | %s | %s | ≤ 50 ms (small) |" %
          (cell("git_small_1_p50_ms", "%.1f"), cell("git_big_1_p50_ms", "%.0f")))
    for part, what in (("total", "zonelet's push of one change, ms (its log)"), ("commit", " - commit in the cache"),
                       ("connection", " - connection (git daemon starts receive-pack, refs advertised)"),
                       ("pack", " - pack sent, the remote's answer (receive-pack: unpack, connectivity check, ref, gc --auto)")):
        print("| %s | %s | %s | |" % (what, cell("git_small_push1_%s_ms" % part, "%.1f"),
                                      cell("git_big_push1_%s_ms" % part, "%.1f")))
    for part, what in (("receive_pack", "the remote's git receive-pack (trace2), ms"),
                       ("unpack_objects", " - its git unpack-objects"), ("index_pack", " - its git index-pack"),
                       ("rev_list", " - its connectivity check (git rev-list)"), ("gc", " - its git gc --auto")):
        if res.get("git_remote_%s_ms" % part):
            print("| %s | %s | | |" % (what, cell("git_remote_%s_ms" % part, "%.1f")))
    print("| changes per push, 16 clients | %s | %s | |" %
          (cell("git_small_pushN_changes", "%.1f"), cell("git_big_pushN_changes", "%.1f")))
    print("| push of a group, 16 clients, ms | %s | %s | |" %
          (cell("git_small_pushN_total_ms", "%.0f"), cell("git_big_pushN_total_ms", "%.0f")))
    print("| the git CLI's push of a one-line change, same daemon, p50 ms | %s | | |" %
          cell("git_cli_push_p50_ms", "%.1f"))
    print("| UPDATEs/s, one client | %s | %s | |" %
          (cell("git_small_1_per_s", "%.1f"), cell("git_big_1_per_s", "%.2f")))
    print("| UPDATEs/s, 16 clients (group commit) | %s | %s | ≥ 200/s (small) |" %
          (cell("git_small_16_per_s", "%.0f"), cell("git_big_16_per_s", "%.1f")))
    print("| UPDATE p50 ms, 16 clients | %s | %s | |" %
          (cell("git_small_16_p50_ms", "%.0f"), cell("git_big_16_p50_ms", "%.0f")))
    print("| start from the remote, empty cache (clone + load), s | %s | %s | |" %
          (cell("load_small_zonelet_git_s", "%.2f"), cell("load_big_zonelet_git_s", "%.2f")))
    print("| Knot DNS: load of the same file, s | | %s | |" % cell("load_big_knot_s", "%.2f"))
    print("| query p50 ms, no push / push stalled | %s / %s | | |" %
          (cell("git_query_idle_p50_ms", "%.3f"), cell("git_query_stalled_p50_ms", "%.3f")))
    print("| query p99 ms, no push / push stalled | %s / %s | | |" %
          (cell("git_query_idle_p99_ms", "%.3f"), cell("git_query_stalled_p99_ms", "%.3f")))
    print("| p99 stalled / no push | %s | | ≤ 2x |" % ratio("git_query_stalled_p99_ms", "git_query_idle_p99_ms"))
    print("\nMedians (ranges) of the rounds; machine load average at the start: %s." %
          cell("machine_load", "%.2f"))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
