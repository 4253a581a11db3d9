#!/usr/bin/python3
"""RFC 2136 UPDATE cases against a live primary, checked by AXFR.

usage: update_cases.py --server ADDR:PORT --key KEY [--xfr-key KEY]
                       [--expect rfc|knot] [--only SUBSTRING] [--tcp]
       update_cases.py --zone-file FILE    (writes the base zone)

Each case is: the zone before (the base zone below plus the case's own
records), an UPDATE message (zonetool.py's script language: prerequisites
of RFC 2136 §2.4, updates of §2.5, and raw RRs for malformed forms), the
rcode the RFC requires, and the zone after: "unchanged" (byte for byte,
serial included), "noop" (same records; the serial may stay or rise), or
changes ("+ RR", "- RR", "- OWNER TTL TYPE", and "serial N" when the
update sets the serial; otherwise the serial must rise, RFC 2136 §3.6,
RFC 1982). "{S+N}" in a case stands for the serial before the case plus
N (modulo 2^32): the serial grows from case to case. Before each case the zone is brought to its "before" state by
an UPDATE computed from an AXFR (adds, then deletes), and that state is
checked; so a server must get the plain forms right for the rest to run.

The primary serves the zone example.test. (class IN); KEY (NAME:ALG:BASE64)
may update it, XFR-KEY (default KEY) may transfer it. --expect knot takes
the answers Knot DNS gives where it departs from the RFC (each listed
with the RFC section); the default, rfc, takes the RFC's. TAP on stdout,
two lines a case (rcode, zone), then a summary of the departures.
"""
import random
import re
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, __file__.rsplit("/", 1)[0])
import zonetool as zt  # noqa: E402

import dns.name  # noqa: E402
import dns.rdatatype  # noqa: E402

ZONE = dns.name.from_text("example.test.")
BASE = """\
$ORIGIN example.test.
@ 3600 IN SOA ns1 hostmaster 1000 3600 600 86400 300
@ 3600 IN NS ns1
@ 3600 IN NS ns2
@ 3600 IN MX 10 mail
ns1 3600 IN A 192.0.2.1
ns2 3600 IN A 192.0.2.2
mail 3600 IN A 192.0.2.25
www 3600 IN A 192.0.2.10
www 3600 IN A 192.0.2.11
www 3600 IN AAAA 2001:db8::10
www 3600 IN TXT "web"
alias 3600 IN CNAME www
a.b.c 3600 IN A 192.0.2.30
sub 3600 IN NS ns.sub
ns.sub 3600 IN A 192.0.2.53
"""


class Case:
    def __init__(self, name, rfc, update, rcode, after, before=(), knot=None, tcp=False):
        self.name, self.rfc, self.update, self.rcode = name, rfc, update, rcode
        self.after, self.before, self.knot, self.tcp = after, list(before), knot, tcp


U, N = "unchanged", "noop"
CASES = [
    # ---- zone section, RFC 2136 §3.1 ------------------------------------
    Case("zone section empty (ZOCOUNT 0)", "§3.1.1", "zone -\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("two zone entries (ZOCOUNT 2)", "§3.1.1", "zone @\nzone @\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("zone type A, not SOA", "§3.1.1", "zone @ IN A\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("a zone not served", "§3.1.1", "zone nothere.test.\nadd new 300 A 192.0.2.99", "NOTAUTH", U),
    Case("the zone in class CH", "§3.1.1", "zone @ CH\nadd new 300 A 192.0.2.99", "NOTAUTH", U),
    Case("a delegated child as the zone", "§3.1.1", "zone sub\nadd new.sub 300 A 192.0.2.99", "NOTAUTH", U),
    # ---- prerequisites, §2.4 and §3.2 ----------------------------------------
    Case("name in use: yes", "§2.4.4 §3.2.1", "prereq yxdomain www\nadd new 300 A 192.0.2.99", "NOERROR",
         ["+ new 300 A 192.0.2.99"]),
    Case("name in use: no", "§2.4.4 §3.2.1", "prereq yxdomain absent\nadd new 300 A 192.0.2.99", "NXDOMAIN", U),
    Case("name in use: an empty non-terminal is not", "§2.4.4", "prereq yxdomain b.c\nadd new 300 A 192.0.2.99",
         "NXDOMAIN", U),
    Case("name not in use: yes", "§2.4.5 §3.2.2", "prereq nxdomain absent\nadd new 300 A 192.0.2.99", "NOERROR",
         ["+ new 300 A 192.0.2.99"]),
    Case("name not in use: no", "§2.4.5 §3.2.2", "prereq nxdomain www\nadd new 300 A 192.0.2.99", "YXDOMAIN", U),
    Case("name not in use: an empty non-terminal is not in use", "§2.4.5",
         "prereq nxdomain b.c\nadd new 300 A 192.0.2.99", "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("RRset exists: yes", "§2.4.1 §3.2.1", "prereq yxrrset www AAAA\nadd new 300 A 192.0.2.99", "NOERROR",
         ["+ new 300 A 192.0.2.99"]),
    Case("RRset exists: no such type", "§2.4.1 §3.2.1", "prereq yxrrset www MX\nadd new 300 A 192.0.2.99",
         "NXRRSET", U),
    Case("RRset exists: no such name", "§2.4.1 §3.2.1", "prereq yxrrset absent A\nadd new 300 A 192.0.2.99",
         "NXRRSET", U),
    Case("RRset does not exist: yes", "§2.4.3 §3.2.2", "prereq nxrrset www MX\nadd new 300 A 192.0.2.99",
         "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("RRset does not exist: no", "§2.4.3 §3.2.2", "prereq nxrrset www A\nadd new 300 A 192.0.2.99",
         "YXRRSET", U),
    Case("RRset exists (value dependent): the whole RRset", "§2.4.2 §3.2.3",
         "prereq yxrrset www A 192.0.2.11\nprereq yxrrset www A 192.0.2.10\nadd new 300 A 192.0.2.99", "NOERROR",
         ["+ new 300 A 192.0.2.99"]),
    Case("RRset exists (value dependent): a subset is not", "§2.4.2 §3.2.3",
         "prereq yxrrset www A 192.0.2.10\nadd new 300 A 192.0.2.99", "NXRRSET", U),
    Case("RRset exists (value dependent): a superset is not", "§2.4.2 §3.2.3",
         "prereq yxrrset www A 192.0.2.10\nprereq yxrrset www A 192.0.2.11\nprereq yxrrset www A 192.0.2.12\n"
         "add new 300 A 192.0.2.99", "NXRRSET", U),
    Case("RRset exists (value dependent): two RRsets", "§2.4.2 §3.2.3",
         "prereq yxrrset www AAAA 2001:db8::10\nprereq yxrrset mail A 192.0.2.25\nadd new 300 A 192.0.2.99",
         "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("RRset exists (value dependent): names compare without case", "§2.4.2 §3.2.3",
         "prereq yxrrset WWW AAAA 2001:db8::10\nadd new 300 A 192.0.2.99", "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("prerequisite TTL not zero (value dependent)", "§3.2.3",
         "rr prereq www 3600 IN AAAA 2001:db8::10\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite class ANY with a TTL", "§3.2.1 §3.2.5",
         "rr prereq www 300 ANY A\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite class ANY with RDATA", "§3.2.1",
         "rr prereq www 0 ANY A 192.0.2.10\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite class NONE with a TTL", "§3.2.2 §3.2.5",
         "rr prereq absent 300 NONE A\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite class NONE with RDATA", "§3.2.2",
         "rr prereq absent 0 NONE A 192.0.2.10\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite in class CH", "§3.2.3 §3.2.5",
         "rr prereq www 0 CH A \\# 0\nadd new 300 A 192.0.2.99", "FORMERR", U),
    Case("prerequisite name outside the zone", "§3.2 §3.2.5",
         "prereq yxdomain www.example.com.\nadd new 300 A 192.0.2.99", "NOTZONE", U),
    Case("prerequisites in order: the first failure answers", "§3.2.5",
         "prereq nxdomain www\nprereq yxdomain absent\nadd new 300 A 192.0.2.99", "YXDOMAIN", U),
    Case("value-dependent prerequisites are compared last", "§3.2.5",
         "prereq yxrrset www A 192.0.2.10\nprereq nxdomain mail\nadd new 300 A 192.0.2.99", "YXDOMAIN", U),
    Case("prerequisites before the update prescan", "§3.2 before §3.4.1",
         "prereq yxdomain absent\nrr update new 300 CH A \\# 4 c0000263", "NXDOMAIN", U),
    # ---- update prescan, §3.4.1 ---------------------------------------------------
    Case("update name outside the zone", "§3.4.1 §3.4.1.3",
         "add new 300 A 192.0.2.99\nadd www.example.com. 300 A 192.0.2.98", "NOTZONE", U),
    Case("update in class CH", "§3.4.1 §3.4.1.3", "add new 300 A 192.0.2.99\nrr update new2 300 CH A \\# 4 c0000262",
         "FORMERR", U),
    Case("add of type ANY", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update new2 300 IN ANY \\# 0", "FORMERR", U),
    Case("add of type AXFR", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update new2 300 IN AXFR \\# 0", "FORMERR", U),
    Case("add of type IXFR", "§3.4.1.2 (a QUERY metatype)",
         "add new 300 A 192.0.2.99\nrr update new2 300 IN IXFR \\# 0", "FORMERR", U),
    Case("add of type MAILA", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update new2 300 IN MAILA \\# 0", "FORMERR", U),
    Case("add of type MAILB", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update new2 300 IN MAILB \\# 0", "FORMERR", U),
    Case("delete RRset with a TTL", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 300 ANY A", "FORMERR", U),
    Case("delete RRset with RDATA", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 0 ANY A 192.0.2.10",
         "FORMERR", U),
    Case("delete RRset of type AXFR", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 0 ANY AXFR", "FORMERR", U),
    Case("delete RRset of type MAILA", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 0 ANY MAILA", "FORMERR",
         U),
    Case("delete RR with a TTL", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 300 NONE A 192.0.2.10",
         "FORMERR", U),
    Case("delete RR of type ANY", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 0 NONE ANY", "FORMERR", U),
    Case("delete RR of type AXFR", "§3.4.1.2", "add new 300 A 192.0.2.99\nrr update www 0 NONE AXFR", "FORMERR", U),
    # ---- updates, §2.5 and §3.4.2 ----------------------------------------------------
    Case("add a new RRset", "§2.5.1 §3.4.2.2", "add new 300 A 192.0.2.99", "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("add to an RRset", "§2.5.1 §3.4.2.2", "add www 3600 A 192.0.2.12", "NOERROR", ["+ www 3600 A 192.0.2.12"]),
    Case("add a duplicate RR: ignored", "§2.5.1 §3.4.2.2", "add www 3600 A 192.0.2.10", "NOERROR", N),
    Case("add a duplicate RR with another TTL: replaces it", "§3.4.2.2",
         "add mail 600 A 192.0.2.25", "NOERROR", ["- mail 3600 A 192.0.2.25", "+ mail 600 A 192.0.2.25"]),
    Case("add to an RRset with another TTL: one TTL for the RRset", "§3.4.2.2, RFC 2181 §5.2",
         "add www 600 A 192.0.2.12", "NOERROR",
         ["- www 3600 A", "+ www 600 A 192.0.2.10", "+ www 600 A 192.0.2.11", "+ www 600 A 192.0.2.12"]),
    Case("add names without regard to case", "§3.4.2.2", "add WWW 3600 A 192.0.2.12", "NOERROR",
         ["+ www 3600 A 192.0.2.12"]),
    Case("add a CNAME where other data is: ignored", "§3.4.2.2", "add www 3600 CNAME mail", "NOERROR", N),
    Case("add other data where a CNAME is: ignored", "§3.4.2.2", "add alias 3600 A 192.0.2.99", "NOERROR", N),
    Case("add a CNAME where a CNAME is: replaces it", "§3.4.2.2", "add alias 3600 CNAME mail", "NOERROR",
         ["- alias 3600 CNAME www", "+ alias 3600 CNAME mail"]),
    Case("add a CNAME at the apex: ignored", "§3.4.2.2", "add @ 3600 CNAME www", "NOERROR", N),
    Case("add a CNAME at a new name", "§3.4.2.2", "add ftp 3600 CNAME www", "NOERROR",
         ["+ ftp 3600 CNAME www"]),
    Case("add the SOA with a higher serial: replaces it", "§3.4.2.2 §3.6",
         "add @ 3600 SOA ns1 hostmaster {S+1000} 3600 600 86400 60", "NOERROR",
         ["- @ 0 SOA", "+ @ 3600 SOA ns1 hostmaster {S+1000} 3600 600 86400 60", "serial {S+1000}"]),
    Case("add the SOA with a lower serial: ignored", "§3.4.2.2 §3.6",
         "add @ 3600 SOA ns1 hostmaster {S-10} 3600 600 86400 60", "NOERROR", N),
    Case("add the SOA with a lower serial and other changes: only the SOA ignored", "§3.4.2.2 §3.6",
         "add @ 3600 SOA ns1 hostmaster {S-10} 3600 600 86400 60\nadd new 300 A 192.0.2.99", "NOERROR",
         ["+ new 300 A 192.0.2.99"]),
    Case("add the SOA with a serial 2^31 ahead (RFC 1982 lower): ignored", "§3.4.2.2 §3.6, RFC 1982",
         "add @ 3600 SOA ns1 hostmaster {S+2147483649} 3600 600 86400 60", "NOERROR", N),
    Case("add an SOA below the apex: ignored", "§3.4.2.2 (no zone SOA there)",
         "add www 3600 SOA ns1 hostmaster {S+1000} 3600 600 86400 60", "NOERROR", N),
    Case("delete an RRset", "§2.5.2 §3.4.2.3", "del www A", "NOERROR", ["- www 3600 A"]),
    Case("delete an absent RRset: ignored", "§2.5.2", "del www MX", "NOERROR", N),
    Case("delete the apex SOA RRset: ignored", "§3.4.2.3", "del @ SOA", "NOERROR", N),
    Case("delete the apex NS RRset: ignored", "§3.4.2.3", "del @ NS", "NOERROR", N),
    Case("delete all RRsets of a name", "§2.5.3 §3.4.2.3", "del www", "NOERROR",
         ["- www 3600 A", "- www 3600 AAAA", "- www 3600 TXT"]),
    Case("delete all RRsets of the apex: SOA and NS stay", "§3.4.2.3", "del @", "NOERROR", ["- @ 3600 MX"]),
    Case("delete all RRsets of an absent name: ignored", "§2.5.3", "del absent", "NOERROR", N),
    Case("delete an RR", "§2.5.4 §3.4.2.4", "del www A 192.0.2.10", "NOERROR", ["- www 3600 A 192.0.2.10"]),
    Case("delete an absent RR: ignored", "§2.5.4", "del www A 192.0.2.99", "NOERROR", N),
    Case("delete the SOA RR: ignored", "§3.4.2.4",
         "del @ SOA ns1 hostmaster {S+0} 3600 600 86400 300", "NOERROR", N),
    Case("delete apex NS RRs: the last one stays", "§3.4.2.4", "del @ NS ns1\ndel @ NS ns2", "NOERROR",
         ["- @ 3600 NS ns1"]),
    Case("delete glue below a delegation", "§3.4.2.4", "del ns.sub A 192.0.2.53", "NOERROR",
         ["- ns.sub 3600 A 192.0.2.53"]),
    Case("add, then delete the same RR: gone", "§3.4.2 (in order)", "add new 300 A 192.0.2.99\ndel new A 192.0.2.99",
         "NOERROR", N),
    Case("delete, then add the same RRset: there", "§3.4.2 (in order)",
         "del www A\nadd www 300 A 192.0.2.99", "NOERROR", ["- www 3600 A", "+ www 300 A 192.0.2.99"]),
    Case("delete a CNAME, add other data in one update", "§3.4.2 (in order)",
         "del alias CNAME\nadd alias 300 A 192.0.2.99", "NOERROR",
         ["- alias 3600 CNAME www", "+ alias 300 A 192.0.2.99"]),
    Case("the SOA set with other changes: the serial is the one given", "§3.6",
         "add new 300 A 192.0.2.99\nadd @ 3600 SOA ns1 hostmaster {S+2000} 3600 600 86400 300", "NOERROR",
         ["+ new 300 A 192.0.2.99", "serial {S+2000}"]),
    Case("an additional section is ignored", "§2.6", "add new 300 A 192.0.2.99\nrr additional x.example.com. 300 IN A 192.0.2.7",
         "NOERROR", ["+ new 300 A 192.0.2.99"]),
    Case("several changes at once", "§3.4.2",
         "add new 300 A 192.0.2.99\nadd new 300 TXT \"two\"\ndel www AAAA\ndel mail\nadd @ 3600 MX 20 new",
         "NOERROR", ["+ new 300 A 192.0.2.99", "+ new 300 TXT \"two\"", "- www 3600 AAAA", "- mail 3600 A",
                     "+ @ 3600 MX 20 new"]),
    Case("a message with one bad RR changes nothing", "§3.4.1 before §3.4.2 (atomic)",
         "add new 300 A 192.0.2.99\ndel www\nrr update www 0 ANY AXFR", "FORMERR", U),
    Case("a big update over TCP", "§3.4.2",
         "\n".join("add h%d.bulk 300 A 198.51.100.%d" % (i, i % 250) for i in range(300)), "NOERROR",
         ["+ h%d.bulk 300 A 198.51.100.%d" % (i, i % 250) for i in range(300)], tcp=True),
]

# Where Knot DNS 3.2.6 answers otherwise (found by running this table
# against it): the rcode and zone after Knot gives, and how it differs.
KNOT = {
    "two zone entries (ZOCOUNT 2)": dict(rcode="TIMEOUT", after=U, why="drops the message, no answer"),
    "the zone in class CH": dict(rcode="NOTIMP", after=U, why="NOTIMP"),
    "add of type MAILA": dict(rcode="NOERROR", after=["+ new 300 A 192.0.2.99", "+ new2 300 MAILA \\# 0"],
                              why="NOERROR, stores a MAILA record"),
    "add of type MAILB": dict(rcode="NOERROR", after=["+ new 300 A 192.0.2.99", "+ new2 300 MAILB \\# 0"],
                              why="NOERROR, stores a MAILB record"),
    "delete RRset with a TTL": dict(rcode="NOERROR", after=["+ new 300 A 192.0.2.99", "- www 3600 A"],
                                    why="NOERROR, deletes the RRset"),
    "delete RRset of type MAILA": dict(rcode="NOERROR", after=["+ new 300 A 192.0.2.99"],
                                       why="NOERROR, applies the rest of the update"),
    "add a duplicate RR with another TTL: replaces it": dict(rcode="NOERROR", after=N,
                                                            why="ignores it: the old TTL stays"),
}


def records_of(text):
    return [zt.parse_rr(line, ZONE) for line in text.splitlines() if line.strip() and not line.startswith("$")]


def soa_of(records):
    return [r for r in records if r[3] == zt.T_SOA][0]


def dump(server, key):
    rrs = zt.xfr(server, ZONE, key, zt.T_AXFR, 0, True, {})
    return [zt.rr_record(p, rr) for p, rr in rrs[:-1]]


def lines(records):
    return zt.canonical_lines(records)


def without_serial(records):
    return [r if r[3] != zt.T_SOA else (r[0], r[1], r[2], r[3], r[4].replace(serial=0)) for r in records]


def patch(records, changes):
    out = list(records)
    serial = None
    for c in changes:
        if c.startswith("serial "):
            serial = int(c.split()[1])
        elif c.startswith("+"):
            out.append(zt.parse_rr(c[1:], ZONE))
        elif len(c[1:].split()) == 3:
            w = c[1:].split()
            name, rtype = zt.absname(w[0], ZONE), dns.rdatatype.from_text(w[2])
            if not any(r[0] == name and r[3] == rtype for r in out):
                raise zt.Fail("expected change %r: no such RRset" % c)
            out = [r for r in out if not (r[0] == name and r[3] == rtype)]
        else:
            rr = zt.parse_rr(c[1:], ZONE)
            match = [r for r in out if zt.same_rr(r, rr)]
            if not match:
                raise zt.Fail("expected change %r: no such RR" % c)
            out.remove(match[0])
    return out, serial


def send(server, script, key, tcp):
    wire = zt.message(random.randint(0, 65535), zt.OP_UPDATE, 0, zt.update_sections(ZONE, script))
    signer = zt.Signer(key, {})
    wire = signer.sign(wire)
    conn = zt.Conn(server, tcp or len(wire) > 512, 3)
    try:
        conn.send(wire)
        p = zt.Parsed(conn.recv())
    finally:
        conn.close()
    state, err = zt.verify_reply(p, key, signer.request_mac)
    return zt.RCODES.get(p.rcode, str(p.rcode)), state, err


def rr_text(r, ttl=True):
    return "%s %s%s %s" % (r[0].to_text(), ("%d " % r[1]) if ttl else "", dns.rdatatype.to_text(r[3]),
                           r[4].to_text(relativize=False))


def reset(server, key, xkey, want):
    """Brings the zone to WANT (records; the SOA serial aside) by UPDATE."""
    have = dump(server, xkey)
    hs, ws = soa_of(have), soa_of(want)
    script = []
    apex_ns = []
    for r in have:
        if r[3] == zt.T_SOA or any(zt.same_rr(r, w) and r[1] == w[1] for w in want):
            continue
        if r[0] == ZONE and r[3] == 2:
            apex_ns.append("del " + rr_text(r, ttl=False))
        else:
            script.append("del " + rr_text(r, ttl=False))
    for w in want:
        if w[3] != zt.T_SOA and not any(zt.same_rr(r, w) and r[1] == w[1] for r in have):
            script.append("add " + rr_text(w))
    if ws[4].replace(serial=0) != hs[4].replace(serial=0) or ws[1] != hs[1]:
        script.append("add " + rr_text((ws[0], ws[1], ws[2], ws[3], ws[4].replace(serial=(hs[4].serial + 1) % 2**32))))
    script += apex_ns
    if not script:
        return have
    rcode, _, _ = send(server, "\n".join(script), key, True)
    if rcode != "NOERROR":
        raise zt.Fail("reset update answered %s" % rcode)
    return dump(server, xkey)


def serial_newer(a, b):
    """RFC 1982: a > b."""
    return a != b and ((a - b) % 2**32) < 2**31


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def ok(self, good, text, diag=""):
        self.n += 1
        if not good:
            self.failed += 1
        print("%sok %d - %s" % ("" if good else "not ", self.n, text))
        if diag and not good:
            for line in diag.splitlines():
                print("#   " + line)
        sys.stdout.flush()


def diff(a, b):
    import difflib
    return "\n".join(list(difflib.unified_diff(a, b, "expected", "served", lineterm="", n=1))[:40])


def run(args):
    key = zt.Key(args["key"])
    xkey = zt.Key(args["xfr-key"]) if args.get("xfr-key") else key
    server, expect = args["server"], args.get("expect", "rfc")
    base = records_of(BASE)
    tap = Tap()
    departures = []
    t0 = time.monotonic()
    for case in CASES:
        if args.get("only") and args["only"] not in case.name:
            continue
        rcode_want, after = case.rcode, case.after
        note = ""
        if expect == "knot" and case.name in KNOT:
            k = KNOT[case.name]
            rcode_want, after = k.get("rcode", rcode_want), k.get("after", after)
            note = "; Knot departs: %s" % k["why"]
            departures.append((case, k))
        want_before = base + [zt.parse_rr(b, ZONE) for b in case.before]
        update = case.update
        try:
            before = reset(server, key, xkey, want_before)
        except (zt.Fail, OSError, socket.timeout) as e:
            tap.ok(False, "%s: set-up of the zone before" % case.name, str(e))
            continue
        if lines(without_serial(before)) != lines(without_serial(want_before)):
            tap.ok(False, "%s: set-up of the zone before" % case.name,
                   diff(lines(without_serial(want_before)), lines(without_serial(before))))
            continue
        serial_before = soa_of(before)[4].serial

        def fill(text):
            return re.sub(r"\{S([+-]\d+)\}", lambda m: str((serial_before + int(m.group(1))) % 2**32), text)
        update = fill(update)
        if after not in (U, N):
            after = [fill(c) for c in after]
        try:
            rcode, state, err = send(server, update, key, case.tcp or args.get("tcp"))
        except (zt.Fail, OSError, socket.timeout) as e:
            rcode, state, err = "TIMEOUT", "-", "- (%s)" % e
        tap.ok(rcode == rcode_want, "%s: %s (RFC 2136 %s)%s" % (case.name, rcode_want, case.rfc, note),
               "answered %s (TSIG %s %s)" % (rcode, state, err))
        try:
            now = dump(server, xkey)
        except (zt.Fail, OSError, socket.timeout) as e:
            tap.ok(False, "%s: zone after" % case.name, "AXFR failed: %s" % e)
            continue
        b_serial, n_serial = soa_of(before)[4].serial, soa_of(now)[4].serial
        if after == U:
            tap.ok(lines(now) == lines(before), "%s: zone unchanged, serial %d" % (case.name, b_serial),
                   diff(lines(before), lines(now)))
        elif after == N:
            good = lines(without_serial(now)) == lines(without_serial(before)) and \
                (n_serial == b_serial or serial_newer(n_serial, b_serial))
            tap.ok(good, "%s: same records (serial %d -> %d)" % (case.name, b_serial, n_serial),
                   diff(lines(without_serial(before)), lines(without_serial(now))))
        else:
            try:
                expected, serial = patch(before, after)
            except zt.Fail as e:
                tap.ok(False, "%s: zone after" % case.name, "bad case: %s" % e)
                continue
            if serial is None:
                good_serial = serial_newer(n_serial, b_serial)
                serial = n_serial
            else:
                good_serial = n_serial == serial
            exp = [r if r[3] != zt.T_SOA else (r[0], r[1], r[2], r[3], r[4].replace(serial=serial)) for r in expected]
            tap.ok(good_serial and lines(now) == lines(exp),
                   "%s: zone changed as the update says, serial %d -> %d" % (case.name, b_serial, n_serial),
                   ("" if good_serial else "serial %d does not follow %d\n" % (n_serial, b_serial))
                   + diff(lines(exp), lines(now)))
    print("# %d cases in %.1f s" % (len(CASES) if not args.get("only") else tap.n // 2, time.monotonic() - t0))
    if departures:
        print("# where Knot departs from RFC 2136 (%d cases):" % len(departures))
        for case, k in departures:
            print("#   %s (%s): RFC %s%s; Knot %s" % (case.name, case.rfc, case.rcode,
                                                     "" if case.after in (U, N) else " and applies it",
                                                     k["why"]))
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


def main(argv):
    opts, rest = {}, list(argv)
    while rest:
        a = rest.pop(0)
        if a == "--tcp":
            opts["tcp"] = True
        elif a.startswith("--") and rest:
            opts[a[2:]] = rest.pop(0)
        else:
            sys.stderr.write(__doc__)
            return 2
    if "zone-file" in opts:
        with open(opts["zone-file"], "w") as f:
            f.write(BASE)
        return 0
    if "server" not in opts or "key" not in opts:
        sys.stderr.write(__doc__)
        return 2
    return run(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
