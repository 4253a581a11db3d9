#!/usr/bin/python3
"""Writes the regression corpus tests/fuzz/regress/<harness>/<name>: one
input per finding, past or new, named after what it pins (README.md lists
them with the commit that fixed each). The files are committed; this script
documents how each was made and remakes them: run from the repository top,
/usr/bin/python3 tests/fuzz/regress/make.py."""
import os
import struct

TOP = "tests/fuzz/regress"


def rdata_types():
    """The type list of fuzz_rdata.c: the harness picks types[octet % n]."""
    src = open("tests/fuzz/fuzz_rdata.c").read()
    body = src[src.index("types[] = {") + 11:]
    return [int(x) for x in body[:body.index("}")].replace("\n", " ").split(",") if x.strip()]


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, edns=None):
    msg = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 1 if edns else 0)
    msg += name(qname) + struct.pack("!HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack("!HHBBHH", 41, edns, 0, 0, 0, 0)
    return msg


def write(harness, fname, data):
    os.makedirs(os.path.join(TOP, harness), exist_ok=True)
    with open(os.path.join(TOP, harness, fname), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    types = rdata_types()
    # 8ad0a0f: RDATA that dns_rdata_check accepted but that could not be
    # printed and read back (found by fuzz_rdata, wire mode).
    unprintable = {
        "nsec-bitmap-trailing-zero-octet": (47, "00" "000240" "00"),
        "apl-trailing-zero-afdpart": (42, "0001080210" "00"),
        "loc-latitude-545-degrees": (29, "00121613" "f0000000" "80000000" "00989680"),
        "loc-size-zero-mantissa": (29, "00061613" "80000000" "80000000" "00989680"),
        "loc-size-mantissa-10": (29, "00a21613" "80000000" "80000000" "00989680"),
        "svcb-mandatory-port-without-port": (64, "0001" "00" "000000020003"),
        "svcb-repeated-key": (64, "0001" "00" "0000000400030003" "0003000201bb"),
        "svcb-empty-ech": (64, "0001" "00" "00050000"),
        "caa-tag-with-spaces": (257, "00" "05" "696f202020"),
        "nsec3-empty-next-hashed-owner": (50, "01000001" "00" "00"),
        "hip-empty-public-key": (55, "01020000" "aa"),
        "ds-empty-digest": (43, "0001" "08" "02"),
        "rrsig-without-signature": (46, "0001080200000e10000000010000000000010000"),
        "nxt-bit-zero-other-format": (30, "00" "80"),
        "nxt-bitmap-trailing-zero": (30, "00" "4000"),
        "wks-bitmap-trailing-zero": (11, "c0000201" "06" "4000"),
    }
    for fname, (t, hexdata) in unprintable.items():
        write("rdata", fname, bytes([types.index(t)]) + bytes.fromhex(hexdata))
    # 0225dca: the field list of a type without a descriptor had no end:
    # splitting its RDATA read past it (found by test_msg mutations).
    write("rdata", "unknown-type-field-list-overread", bytes([types.index(65280)]) + b"\x01\x02\x03")
    rr = name("x.example.test") + struct.pack("!HHIH", 65280, 1, 60, 3) + b"\x01\x02\x03"
    msg = struct.pack("!HHHHHH", 7, 0x8400, 0, 1, 0, 0) + rr
    write("msg", "unknown-type-field-list-overread", msg)
    # Issue 11 (this change): answers on tests/fuzz/zones/fuzz.test.
    answers = {
        # RFC 6672: the DNAME was written once per step of the chain
        "dname-into-own-subtree-written-once": query("a.selfdn.fuzz.test", 1),
        "dnames-feeding-each-other-written-once": query("a.pdn.fuzz.test", 1, 4096),
        "dname-and-wildcard-cname-loop": query("b.dnw.fuzz.test", 1),
        # a table of 96 entries lost glue and RRsets without TC
        "referral-150-in-zone-servers": query("www.wide.fuzz.test", 1, 4096),
        "any-130-rrsets-at-one-node": query("many.fuzz.test", 255),
        "mx-200-records-100-targets": query("mx.fuzz.test", 15, 65535),
        # RFC 1034 §4.2.1: occluded addresses are not additional data
        "occluded-mx-target": query("mxoccl.fuzz.test", 15),
        "occluded-name-below-cut": query("old.sub.fuzz.test", 5),
    }
    for fname, q in answers.items():
        write("answer", fname, q)
    # Issue 11: meta types now reach the builder (ignored with a warning):
    # the printer and parser must agree on them.
    write("zone", "meta-types-generic-rdata", "x TYPE255 \\# 0\ny 60 IN TYPE41 \\# 0\nz TYPE0 \\# 0\n")
    # Issue 11: zones with occluded or ignored data now load; the tree
    # invariants must hold for them.
    write("zonetree", "occluded-below-and-at-cuts",
          "sub NS ns.sub\nns.sub A 192.0.2.2\nsub TXT x\nold.sub CNAME www\nother.sub A 192.0.2.3\n"
          "inner.sub NS ns.inner.sub\nns.inner.sub A 192.0.2.4\n*.sub TXT w\nsib NS ns.sub\n")
    write("zonetree", "occluded-below-dname",
          "d DNAME t\nx.d A 192.0.2.5\nsub.d NS ns\ncut NS ns\ncut DNAME u\n")
    write("zonetree", "ignored-records-make-no-node",
          "www SOA ns hm 2 2 3 4 5\n@ SOA ns hm 3 2 3 4 5\nm TYPE255 \\# 0\nz.other. A 192.0.2.6\n")


if __name__ == "__main__":
    main()
