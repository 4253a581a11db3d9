#!/bin/sh
# link.sh OUT CC ARGS...: link a virtio guest image. Two passes: the
# first image's function symbols become a table (zl_syms, in .rodata,
# which the link places after .text) that the second pass links in, so
# fault reports name functions without a host-side tool. Then checks what
# the multiboot loader relies on (boot.S, virtio.ld): text identical in
# both passes, every loaded byte at file offset = address - 1 MiB, the
# multiboot header in the first 8 KiB.
set -e
out=$1
shift
cc=$1
"$@" -o "$out.pass1"
nm -n -S --defined-only "$out.pass1" | awk '
    BEGIN { k = 0 }
    NF == 4 { a = $1; s = $2; t = $3; n = $4 }
    NF == 3 { a = $1; s = "0"; t = $2; n = $3 }
    t !~ /^[tT]$/ || n ~ /^\./ { next }
    { addr[k] = a; size[k] = s; name[k] = n; k++ }
    END {
        print "\t.section .rodata.zl_syms, \"a\""
        print "\t.balign 8"
        print "\t.globl zl_syms, zl_syms_count, zl_sym_names"
        print "zl_syms_count:\n\t.quad " k
        print "zl_syms:"
        off = 0
        for (i = 0; i < k; i++) {
            print "\t.quad 0x" addr[i] "\n\t.long 0x" size[i] ", " off
            off += length(name[i]) + 1
        }
        print "zl_sym_names:"
        for (i = 0; i < k; i++)
            print "\t.asciz \"" name[i] "\""
        print "\t.section .note.GNU-stack, \"\", @progbits"
    }' >"$out.syms.S"
"$cc" -c -o "$out.syms.o" "$out.syms.S"
"$@" "$out.syms.o" -o "$out"
fail() {
    echo "link.sh: $out: $1" >&2
    rm -f "$out"
    exit 1
}
nm -n "$out.pass1" | awk '$2 ~ /^[tT]$/' >"$out.text1"
nm -n "$out" | awk '$2 ~ /^[tT]$/' >"$out.text2"
cmp -s "$out.text1" "$out.text2" || fail "text moved between the two passes"
bad=$(readelf -lW "$out" | awk '$1 == "LOAD" { print $2, $3, $5 }' | while read -r off va size; do
    [ $((size)) -eq 0 ] || [ $((off)) -eq $((va - 0x100000)) ] || echo "$va"
done)
[ -z "$bad" ] || fail "loaded segment at $bad: file offset is not address - 1 MiB"
mb=$(nm "$out" | awk '$3 == "multiboot_header" { print $1 }')
[ -n "$mb" ] && [ $((0x$mb - 0x100000)) -le $((8192 - 48)) ] ||
    fail "multiboot header missing or not in the first 8 KiB"
rm -f "$out.pass1" "$out.syms.S" "$out.syms.o" "$out.text1" "$out.text2"
