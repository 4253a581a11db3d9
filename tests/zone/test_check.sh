#!/bin/sh
# `zonelet check` (unikernel/check.c) and zones-example/hooks/pre-receive: exit
# status, compiler-style messages and summaries on good and bad files.
cd "$(dirname "$0")/../.." || exit 1
Z=${ZONELET:-build/zonelet}
case "$Z" in /*) ;; *) Z=$PWD/$Z ;; esac
T=$(mktemp -d /tmp/zonelet-check.XXXXXX)
[ -n "${KEEP:-}" ] && echo "# $T"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/out" "$T/err"; }
# run EXPECTED-STATUS DESCRIPTION ARGS...: runs zonelet check
run() {
    want=$1 what=$2; shift 2
    "$Z" check "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else nok "$what: exit $got, want $want"; fi
}
has() { # FILE TEXT DESCRIPTION
    if grep -qF -- "$2" "$T/$1"; then ok "$3"; else nok "$3: no '$2' in $1"; fi
}

if [ ! -x "$Z" ]; then echo "not ok 1 - $Z not built"; exit 1; fi

run 0 "example zone and keys check" zones-example/example.test zones-example/_keys
has out "zones-example/example.test: serial 2026113001, " "zone summary line"
has out "zones-example/_keys: 4 keys" "key summary line"
[ ! -s "$T/err" ] && ok "no messages for good files" || nok "no messages for good files"

run 1 "broken lines fail" --origin example.test tests/zone/bad/syntax.zone
has err "tests/zone/bad/syntax.zone:8: error: bad IPv4 address '1.2.3'" "error with file, line and text"
has err "tests/zone/bad/syntax.zone:11: error: unknown type 'FOO'" "second error reported too"
c=$(grep -c ': error: ' "$T/err")
[ "$c" -ge 20 ] && ok "parsing goes on after errors ($c errors)" || nok "only $c errors"

# One bad file does not stop the others: both good ones get summaries.
cp zones-example/example.test "$T/example.test"
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.300\n' >"$T/broken.test"
run 1 "good, bad, good" "$T/example.test" "$T/broken.test" zones-example/example.test
has err "$T/broken.test:4: error: bad IPv4 address '192.0.2.300'" "bad file reported"
c=$(grep -c 'serial 2026113001' "$T/out")
[ "$c" = 2 ] && ok "both good files checked" || nok "good files: $c summaries"

# Validation errors come with lines.
run 1 "CNAME beside other data" tests/zone/invalid/cname.test
has err "tests/zone/invalid/cname.test:5: error: " "validation error has the line"
run 1 "missing SOA" tests/zone/invalid/nosoa.test
has err "no SOA record" "missing SOA named"

# A problem that does not stop the zone loading is a warning (exit 0).
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nns 120 A 192.0.2.2\n' >"$T/ttl.test"
run 0 "RRset with two TTLs loads" "$T/ttl.test"
has err "$T/ttl.test:5: warning: TTL 120 differs" "TTL mismatch is a warning with its line"

# Occluded data (RFC 1034 §4.2.1) loads, as in BIND, Knot and NSD: one
# warning per record with its line, exit 0; --strict makes them errors.
cat >"$T/occluded.test" <<'EOF'
$TTL 60
@ SOA ns hm 1 2 3 4 5
@ NS ns
ns A 192.0.2.1
sub NS ns.sub
ns.sub A 192.0.2.2
old.sub CNAME www
sub TXT "at the cut"
inner.sub NS ns.inner.sub
EOF
run 0 "occluded data loads with warnings" "$T/occluded.test"
has err "$T/occluded.test:7: warning: CNAME record at old.sub.occluded.test. below the delegation at sub.occluded.test.: occluded, not served (RFC 1034 §4.2.1)" "record below a cut: warning with its line"
has err "$T/occluded.test:8: warning: TXT record at the delegation point sub.occluded.test.: occluded" "record at a cut: warning"
has err "$T/occluded.test:9: warning: NS record at inner.sub.occluded.test. below the delegation" "nested delegation: warning"
c=$(grep -c ': warning: ' "$T/err"); [ "$c" = 3 ] && ok "one warning per occluded record" || nok "$c warnings, want 3"
has out "$T/occluded.test: serial 1, 8 records" "summary counts the occluded records"
! grep -q ': error: ' "$T/err" && ok "no errors" || nok "no errors"
run 1 "--strict: warnings fail" --strict "$T/occluded.test"
has err "$T/occluded.test:7: error: CNAME record at old.sub.occluded.test. below the delegation at sub.occluded.test.: occluded, not served (RFC 1034 §4.2.1) [--strict]" "--strict labels the warning an error"
[ ! -s "$T/out" ] && ok "--strict: no summary for a failed file" || nok "--strict: no summary for a failed file"
run 1 "--strict after the file applies too" "$T/occluded.test" --strict
run 0 "--strict passes a clean zone" --strict zones-example/example.test
# Errors stay errors, and a warning beside one is still labelled warning.
printf '$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nsub NS ns\nx.sub TXT "a"\nc CNAME ns\nc TXT "b"\n' >"$T/mixed.test"
run 1 "an error beside a warning fails" "$T/mixed.test"
has err "$T/mixed.test:5: warning: TXT record at x.sub.mixed.test. below the delegation" "the warning keeps its label"
has err "$T/mixed.test:6: error: CNAME at c.mixed.test. beside other data" "the error"
# What BIND, Knot and NSD all refuse, zonelet refuses; what one of them
# loads, zonelet loads with warnings (zone/zcheck.c). The peers are asked
# on the same files: named-checkzone, knotd (semantic-checks off, as it
# serves by default) and nsd-checkzone.
knot_loads() { # prints the zones of the corpus files that knotd loads
    kd=$T/knot && mkdir -p "$kd/z" && cp tests/zone/invalid/*.test tests/zone/warn/*.test "$kd/z/"
    {
        printf 'server:\n    rundir: "%s"\n' "$kd" # no listen: loading is all we ask
        printf 'database:\n    storage: "%s/db"\nlog:\n  - target: stderr\n    any: info\n' "$kd"
        printf 'template:\n  - id: default\n    storage: "%s/z"\n    file: "%%s"\n' "$kd"
        printf '    semantic-checks: off\n    journal-content: none\n    zonefile-sync: -1\nzone:\n'
        for f in "$kd"/z/*; do printf '  - domain: %s\n' "$(basename "$f")"; done
    } >"$kd/knot.conf"
    knotd -c "$kd/knot.conf" >"$kd/log" 2>&1 &
    kp=$!
    i=0 # every zone loaded or failed, or 10 s
    while [ $i -lt 100 ] && [ "$(grep -cE "zone file parsed|zone event 'load' failed" "$kd/log")" -lt "$(ls "$kd/z" | wc -l)" ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill "$kp" 2>/dev/null; wait "$kp" 2>/dev/null
    sed -n 's/.*\[\(.*\)\.\] zone file parsed.*/\1/p' "$kd/log"
}
if command -v named-checkzone >/dev/null && command -v knotd >/dev/null && command -v nsd-checkzone >/dev/null; then
    knot_ok=$(knot_loads)
    # (a knotd that did not run would make every refusal look unanimous)
    echo "$knot_ok" | grep -qx below-cut.test && ok "knotd ran on the corpora" || nok "knotd ran on the corpora"
    for f in tests/zone/invalid/*.test tests/zone/warn/*.test; do
        z=$(basename "$f")
        peers=""
        named-checkzone -i local "$z" "$f" >/dev/null 2>&1 && peers="$peers bind"
        echo "$knot_ok" | grep -qx "$z" && peers="$peers knot"
        nsd-checkzone "$z" "$f" >/dev/null 2>&1 && peers="$peers nsd"
        case "$f" in
        */invalid/*) [ -z "$peers" ] && ok "$z: refused by BIND, Knot and NSD" || nok "$z: loaded by$peers" ;;
        *) [ -n "$peers" ] && ok "$z: loaded by$peers" || nok "$z: refused by all three peers" ;;
        esac
    done
else
    n=$((n + 1)); echo "ok $n - peers refuse or load the corpora # SKIP BIND, Knot or NSD missing"
fi
for f in tests/zone/invalid/*.test; do
    run 1 "$(basename "$f"): refused here too" "$f"
done
for f in tests/zone/warn/*.test; do
    run 0 "$(basename "$f"): loaded here too, with warnings" "$f"
    grep -q ': warning: ' "$T/err" && ok "$(basename "$f"): warnings" || nok "$(basename "$f"): no warning"
done

# The origin comes from the file name; --origin overrides it.
cp zones-example/example.test "$T/other.test"
run 1 "file named after another zone" "$T/other.test"
has err "outside the zone" "records outside the file's zone"
run 0 "--origin overrides the name" --origin example.test "$T/other.test"

# Key files.
printf 'k._update.example.test. DNSKEY 0 3 163 c2VjcmV0\nk.example.test. DNSKEY 0 3 163 c2VjcmV0\nj._notify.example.test. DNSKEY 0 3 8 c2VjcmV0\nm._transfer.example.test. A 192.0.2.1\n' >"$T/_keys"
run 1 "bad key file" "$T/_keys"
has err "$T/_keys:2: error: key name must be" "key name without rights"
has err "$T/_keys:3: error: key algorithm must be an HMAC" "non-HMAC algorithm"
has err "$T/_keys:4: error: a key file holds only DNSKEY records" "other record in key file"
printf 'a._update.example.test. DNSKEY 0 3 165 c2VjcmV0\nb._update.other.test. DNSKEY 0 3 163 c2VjcmV0\n' >"$T/example.test._keys"
run 1 "zone key file with a key for another zone" "$T/example.test._keys"
has err "$T/example.test._keys:2: error: key for a zone other" "other zone's key"
printf 'a._update DNSKEY 0 3 165 c2VjcmV0\nA._UPDATE DNSKEY 0 3 163 b3RoZXI=\n' >"$T/example.test._keys"
run 1 "key name used twice" "$T/example.test._keys"
has err "$T/example.test._keys:2: error: key name already used at line 1" "duplicate key name"
printf 'a._update DNSKEY 0 3 165 c2VjcmV0\n' >"$T/example.test._keys"
run 0 "zone key file, relative names" "$T/example.test._keys"
has out "example.test._keys: 1 key" "key count"
# The rules of zone/keys.c (the server's): protocol 3, a secret, the
# rightmost role label with a label before it, names unique across the
# key files of one run, secrets up to 256 octets.
long=$(head -c 257 /dev/zero | base64 -w0)
printf 'a._update.example.test. DNSKEY 0 2 163 c2VjcmV0\nb._update.example.test. DNSKEY \\# 4 000003a3\n_update.example.test. DNSKEY 0 3 163 c2VjcmV0\nc._transfer.example.test. DNSKEY 0 3 163 %s\n' "$long" >"$T/_keys"
run 1 "key rules" "$T/_keys"
has err "$T/_keys:1: error: key protocol must be 3" "protocol other than 3"
has err "$T/_keys:2: error: key without a secret" "empty secret"
has err "$T/_keys:3: error: key name must be" "role label first"
has err "$T/_keys:4: error: key secret longer than 256 octets" "secret too long"
printf 'a._update.b._notify.example.test. DNSKEY 0 3 157 c2VjcmV0\n192.0.2.1.192.0.2.2._transfer DNSKEY 256 3 161 c2VjcmV0\nk.2001:db8::53._transfer.sub DNSKEY 0 3 165 c2VjcmV0\n' >"$T/example.test._keys"
run 0 "rightmost role, addresses in names, a subzone, flags not checked" "$T/example.test._keys"
has out "example.test._keys: 3 keys" "three keys"
printf 'k._notify.example.test. DNSKEY 0 3 163 c2VjcmV0\n' >"$T/_keys"
printf 'K._NOTIFY DNSKEY 0 3 163 b3RoZXI=\n' >"$T/example.test._keys"
run 1 "one key name in two files" "$T/_keys" "$T/example.test._keys"
has err "$T/example.test._keys:1: error: key name already used at $T/_keys:1" "duplicate across files"
has out "$T/_keys: 1 key" "the first file still counts"

# Usage and unreadable files.
run 2 "no file"
run 2 "unknown option" --bogus zones-example/example.test
run 0 "--help" --help
has out "usage: zonelet check" "usage on stdout"
run 1 "missing file" "$T/nonexistent"
has err "$T/nonexistent: error: cannot read" "unreadable file reported"

# The pre-receive hook checks the zone files a push changes.
if command -v git >/dev/null 2>&1; then
    R="$T/repo.git" W="$T/work"
    git init -q --bare "$R" && git init -q "$W" &&
        cp zones-example/example.test zones-example/_keys "$W/" &&
        ln -s "$PWD/zones-example/hooks/pre-receive" "$R/hooks/pre-receive" &&
        git -C "$W" add . && git -C "$W" -c user.name=t -c user.email=t@t commit -qm init
    if ZONELET="$Z" git -C "$W" push -q "$R" HEAD:refs/heads/main >"$T/out" 2>"$T/err"; then
        ok "pre-receive accepts good zones"
    else nok "pre-receive accepts good zones"; fi
    sed -i 's/^ns1             IN  A    192.0.2.1$/ns1 IN A 192.0.2/' "$W/example.test"
    git -C "$W" -c user.name=t -c user.email=t@t commit -qam broken
    if ZONELET="$Z" git -C "$W" push -q "$R" HEAD:refs/heads/main >"$T/out" 2>"$T/err"; then
        nok "pre-receive rejects a broken zone"
    else ok "pre-receive rejects a broken zone"; fi
    has err "example.test:24: error: bad IPv4 address '192.0.2'" "hook prints the error"
    # Fixed, plus files the server does not load: sub-folders, dotfiles.
    cp zones-example/example.test "$W/example.test"
    mkdir -p "$W/docs" && echo "not a zone" >"$W/docs/notes" && echo x >"$W/.gitattributes"
    git -C "$W" add . && git -C "$W" -c user.name=t -c user.email=t@t commit -qm fixed
    if ZONELET="$Z" git -C "$W" push -q "$R" HEAD:refs/heads/main >"$T/out" 2>"$T/err"; then
        ok "pre-receive accepts the fix and skips sub-folders and dotfiles"
    else nok "pre-receive accepts the fix and skips sub-folders and dotfiles"; fi
    # Warnings do not refuse a push (the server loads the zone)...
    printf 'stale NS ns1\nx.stale TXT "hidden"\n' >>"$W/example.test"
    git -C "$W" -c user.name=t -c user.email=t@t commit -qam occluded
    if ZONELET="$Z" git -C "$W" push -q "$R" HEAD:refs/heads/main >"$T/out" 2>"$T/err"; then
        ok "pre-receive accepts a zone with warnings"
    else nok "pre-receive accepts a zone with warnings"; fi
    grep -q "example.test:[0-9]*: warning: TXT record at x.stale.example.test. below the delegation" "$T/err" &&
        ok "hook shows the warning with file and line" || nok "hook shows the warning with file and line"
    # ...unless the repository asks for --strict.
    git -C "$R" config zonelet.strict true
    printf 'y.stale TXT "hidden too"\n' >>"$W/example.test"
    git -C "$W" -c user.name=t -c user.email=t@t commit -qam more
    if ZONELET="$Z" git -C "$W" push -q "$R" HEAD:refs/heads/main >"$T/out" 2>"$T/err"; then
        nok "pre-receive with zonelet.strict refuses warnings"
    else ok "pre-receive with zonelet.strict refuses warnings"; fi
    grep -q "example.test:[0-9]*: error: TXT record at y.stale.example.test. .*\[--strict\]" "$T/err" &&
        ok "strict hook labels them errors" || nok "strict hook labels them errors"
else
    n=$((n + 1)); echo "ok $n - pre-receive # SKIP git not installed"
fi
echo "1..$n"
[ "$bad" = 0 ]
