#!/usr/bin/env python3
"""Write malformed variants of a good hvt image, one file per kind, for the
monitor's loader tests. Usage: hvt_badelf.py GOOD_IMAGE OUT_DIR
Prints one line per file: "<status> <kind> <path> <text the output must
contain>": status 125 for images the monitor must refuse, 7 for damage
it must tolerate (the bare hello guest then runs and exits 7)."""
import os
import struct
import sys

EHDR = "<16sHHIQQQIHHHHHH"  # Elf64_Ehdr
PHDR = "<IIQQQQQQ"  # Elf64_Phdr: type flags offset vaddr paddr filesz memsz align
PT_LOAD = 1


def phdrs(data):
    eh = struct.unpack_from(EHDR, data, 0)
    phoff, phentsize, phnum = eh[5], eh[9], eh[10]
    return [(phoff + i * phentsize, list(struct.unpack_from(PHDR, data, phoff + i * phentsize)))
            for i in range(phnum)]


def loads(data):
    return [(off, ph) for off, ph in phdrs(data) if ph[0] == PT_LOAD and ph[6] > 0]


def patch_ph(data, index, field, value):
    off, ph = loads(data)[index]
    ph[field] = value
    struct.pack_into(PHDR, data, off, *ph)


def no_loads(d):
    """Turn every PT_LOAD into PT_NOTE."""
    for off, ph in loads(d):
        ph[0] = 4
        struct.pack_into(PHDR, d, off, *ph)


def variants(good):
    first = loads(good)[0][1]
    text_end = first[3] + first[5]
    out = {}

    def v(kind, expect, fn):
        d = bytearray(good)
        fn(d)
        out[kind] = (bytes(d), expect)

    v("garbage", "bad magic", lambda d: d.__setitem__(slice(0, 64), b"this is not an ELF file" + bytes(41)))
    v("class32", "not ELF64", lambda d: d.__setitem__(4, 1))
    v("bigendian", "little-endian", lambda d: d.__setitem__(5, 2))
    v("machine", "wrong machine", lambda d: struct.pack_into("<H", d, 18, 183))  # EM_AARCH64
    v("pie", "not a static executable", lambda d: struct.pack_into("<H", d, 16, 3))  # ET_DYN
    v("phentsize", "bad program header table", lambda d: struct.pack_into("<H", d, 54, 40))
    v("phoff", "program headers outside the file", lambda d: struct.pack_into("<Q", d, 32, len(d) - 16))
    v("filesz", "exceeds memory size", lambda d: patch_ph(d, 0, 5, first[6] + 1))
    v("segoffset", "truncated", lambda d: patch_ph(d, 1, 2, len(d) - 8))
    v("lowaddr", "outside guest memory", lambda d: patch_ph(d, 0, 3, 0x1000))
    v("highaddr", "outside guest memory", lambda d: patch_ph(d, 1, 3, 0x7ffff000))
    v("wrap", "outside guest memory", lambda d: patch_ph(d, 1, 3, 0xfffffffffffff000))
    v("overlap", "overlap", lambda d: patch_ph(d, 1, 3, first[3] + 0x10))
    v("entry", "entry point", lambda d: struct.pack_into("<Q", d, 24, text_end + 0x100000))
    v("noload", "no loadable segment", no_loads)
    v("dynamic", "dynamically linked", lambda d: patch_ph(d, 0, 0, 3))  # PT_INTERP
    second_data = loads(good)[1][1][2]
    out["truncated-header"] = (good[:40], "truncated")
    out["truncated"] = (good[:second_data + 16], "truncated")  # inside segment 2's bytes
    out["empty"] = (b"", "truncated")
    return out


def tolerated(good):
    """Damage only the section headers (symbols for backtraces): the image
    must still run."""
    out = {}
    for kind, fn in (("badshoff", lambda d: struct.pack_into("<Q", d, 40, len(d) + 64)),
                     ("badshentsize", lambda d: struct.pack_into("<H", d, 58, 12)),
                     ("badshnum", lambda d: struct.pack_into("<H", d, 60, 0xffff))):
        d = bytearray(good)
        fn(d)
        out[kind] = (bytes(d), "SUCCESS")
    return out


def main():
    good = bytearray(open(sys.argv[1], "rb").read())
    os.makedirs(sys.argv[2], exist_ok=True)
    for status, table in ((125, variants(good)), (7, tolerated(good))):
        for kind, (data, expect) in table.items():
            path = os.path.join(sys.argv[2], kind + ".elf")
            with open(path, "wb") as f:
                f.write(data)
            print(status, kind, path, expect)


if __name__ == "__main__":
    main()
