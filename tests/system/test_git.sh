#!/bin/sh
# Zones in a git remote (issue 8), with real remotes started here on
# loopback, the repository carrying zonelet's hooks (zones-example/hooks:
# pre-receive refuses what zonelet check refuses, post-receive sends the
# signed NOTIFY): git daemon (receive-pack) for the whole story, then sshd
# (known_hosts checked) and git http-backend behind lighttpd with a test
# CA for the round trip. nsupdate -> a commit (author, message, content,
# fsck) pushed before the answer; git push + signed NOTIFY -> served and
# IXFR; a concurrent push -> the update applied again on top; a serial
# nobody raised -> raised and pushed; a broken zone -> old version kept,
# error with commit, file and line; files added and deleted; the remote
# down -> SERVFAIL and nothing changed, then back; start with the remote
# down -> the cache served; kill -9 -> every acknowledged update pushed.
. "$(dirname "$0")/lib.sh"
. tests/gitstore/remotes.sh
need_tools git dig kdig nsupdate
trap 'gs_remotes_stop; zl_cleanup' EXIT

KU=ZHVtbXktZXhhbXBsZS1zZWNyZXQtZm9yLWRkbnMtdXBkYXRlcw==
KN=Z2l0LWhvb2stbm90aWZ5LWtleS1leGFtcGxlLXRlc3QtMzI=
KX=dHJhbnNmZXIta2V5LXNlY3JldC1mb3ItdGhlLXRlc3Rz
R=$ZL_TMP/remotes
WORK=$ZL_TMP/work
export GIT_AUTHOR_NAME=Operator GIT_AUTHOR_EMAIL=op@example.test
export GIT_COMMITTER_NAME=Operator GIT_COMMITTER_EMAIL=op@example.test
mkdir -p "$R"
git init -q --bare -b main "$R/zones.git"
git -C "$R/zones.git" config http.receivepack true
cp zones-example/hooks/pre-receive zones-example/hooks/post-receive "$R/zones.git/hooks/"
git -C "$R/zones.git" config zonelet.bin "$PWD/build/zonelet"
git init -q -b main "$WORK"
zl_write_zone "$WORK/example.test" 2026120401
cat >"$WORK/_keys" <<K
ddns._update.example.test. DNSKEY 0 3 163 $KU
hook._notify. DNSKEY 0 3 163 $KN
xfr._transfer.example.test. DNSKEY 0 3 163 $KX
K
mkdir "$WORK/sub" && echo "ignored" >"$WORK/sub/x" && echo "ignored" >"$WORK/.hidden"
git -C "$WORK" add -A && git -C "$WORK" commit -qm "initial zones" && git -C "$WORK" push -q "$R/zones.git" main

start_daemon "$R" || { not_ok "git daemon starts"; tap_done; }
URL=git://127.0.0.1:$GPORT/zones.git
CACHE=$ZL_TMP/cache
# The hook notifies whichever zonelet this test runs now.
hook_to() { git -C "$R/zones.git" config zonelet.server "127.0.0.1:$ZL_PORT"
            git -C "$R/zones.git" config zonelet.key "hook._notify.:hmac-sha256:$KN"; }
start() { zl_start --workers 1 --remote "$URL" --cache "$CACHE" --push-timeout 5 \
              --author "Test Author <author@example.test>" "$@" && hook_to; }
start || { not_ok "zonelet starts on the remote"; tap_done; }
log=$(cat "$ZL_LOG")
head0=$(git -C "$R/zones.git" rev-parse main)
check_match "start-up names the remote, branch and commit" "fetched $URL branch main, head $head0" "$log"
check_match "start-up names each zone's serial" 'serving example.test serial 2026120401' "$log"
check_match "a sub-folder is ignored with a log line" 'sub: sub-folder, ignored' "$log"
check_match "a dotfile is ignored with a log line" '\.hidden: dotfile, ignored' "$log"
check "served from the remote" "192.0.2.10" "$(qs www.example.test A)"

nsup() { # nsupdate with the update key; prints the status word
    { echo "server 127.0.0.1 $ZL_PORT"; echo "zone example.test"; cat; echo send; } |
        nsupdate -t 8 -y "hmac-sha256:ddns._update.example.test:$KU" >"$ZL_TMP/nsup.out" 2>&1 &&
        echo NOERROR || { grep -oE 'SERVFAIL|REFUSED|NOTAUTH|YXDOMAIN|NXRRSET|NXDOMAIN|YXRRSET|timed out' "$ZL_TMP/nsup.out" | head -1; }
}
gitq() { git -C "$R/zones.git" "$@"; }
notify() { build/zonelet notify --server "127.0.0.1:$ZL_PORT" --key "hook._notify.:hmac-sha256:$KN" example.test; }
wait_for() { # wait_for NAME TYPE VALUE: up to 10 s
    i=0; while [ $i -lt 100 ] && [ "$(qs "$1" "$2")" != "$3" ]; do sleep 0.1; i=$((i + 1)); done
}

# UPDATE -> commit -> push -> answer.
check "nsupdate: NOERROR" "NOERROR" "$(echo 'update add new.example.test. 300 A 192.0.2.50' | nsup)"
check "the update is in the remote when it is answered" "new.example.test. 300 IN A 192.0.2.50" \
    "$(gitq show main:example.test | grep '^new\.' | tr -s ' \t' ' ')"
check "commit author from --author" "Test Author <author@example.test>" "$(gitq log -1 --format='%an <%ae>' main)"
check_match "committer is zonelet" '^zonelet <zonelet@' "$(gitq log -1 --format='%cn <%ce>' main)"
check "commit message names zone, counts, key and client" \
    "example.test: 1 records added, 0 removed by key ddns._update.example.test. from 127.0.0.1" \
    "$(gitq log -1 --format=%s main)"
check "git fsck is clean" "" "$(gitq fsck --no-progress 2>&1 | grep -v '^dangling')"
check "the sub-folder and dotfile survive zonelet's commits" ".hidden sub/x" \
    "$(echo $(gitq ls-tree -r --name-only main | grep -E '^sub/|^\.'))"
check "served" "192.0.2.50" "$(qs new.example.test A)"
s1=$(q example.test SOA +short | awk '{print $3}')

# git push + signed NOTIFY -> served, and IXFR to a secondary.
git -C "$WORK" pull -q "$R/zones.git" main
# (zonelet's commits wrote the file in canonical form: absolute names)
sed -i '/^www[ .]/s/192\.0\.2\.10$/192.0.2.11/; s/ 2026120402 / 2026120403 /' "$WORK/example.test"
git -C "$WORK" commit -qam "www moves"
out=$(git -C "$WORK" push "$R/zones.git" main 2>&1)
check_match "the post-receive hook sent the NOTIFY: NOERROR" "remote: example.test: NOERROR" "$out"
wait_for www.example.test A 192.0.2.11
check "git push + NOTIFY: the new data served" "192.0.2.11" "$(qs www.example.test A)"
check "zonelet notify by hand: NOERROR" "example.test: NOERROR" "$(notify 2>&1)"
ixfr=$(kdig @127.0.0.1 -p "$ZL_PORT" +tcp +time=3 -y "hmac-sha256:xfr._transfer.example.test:$KX" example.test IXFR=$s1 2>&1)
check_match "a secondary follows the push by IXFR" 'www\.example\.test\..*192\.0\.2\.11' "$ixfr"
check_nomatch "... with only the change" 'mail\.example\.test\..*192\.0\.2\.25' "$ixfr"

# A concurrent push: the update is applied again on the remote's head.
git -C "$WORK" pull -q "$R/zones.git" main
echo 'other IN A 192.0.2.77' >>"$WORK/example.test"
sed -i 's/ 2026120403 / 2026120404 /' "$WORK/example.test"
# (a push that tells zonelet nothing: the post-receive hook out of the way)
mv "$R/zones.git/hooks/post-receive" "$ZL_TMP/post-receive"
git -C "$WORK" commit -qam "someone else" && git -C "$WORK" push -q "$R/zones.git" main
mv "$ZL_TMP/post-receive" "$R/zones.git/hooks/post-receive"
check "an update while the remote moved on: NOERROR" "NOERROR" \
    "$(echo 'update add both.example.test. 300 A 192.0.2.51' | nsup)"
check "both changes are in the remote" "2" \
    "$(gitq show main:example.test | grep -cE '^(other|both)\.')"
check "both changes are served" "192.0.2.77 192.0.2.51" "$(echo $(qs other.example.test A) $(qs both.example.test A))"
check_match "the conflict was logged" 'remote moved on' "$(cat "$ZL_LOG")"

# Content changed, serial not raised: zonelet raises it and pushes that.
git -C "$WORK" pull -q "$R/zones.git" main
ser=$(q example.test SOA +short | awk '{print $3}')
sed -i '/^mail[ .]/s/192\.0\.2\.25$/192.0.2.26/' "$WORK/example.test"
git -C "$WORK" commit -qam "forgot the serial" && git -C "$WORK" push -q "$R/zones.git" main
wait_for mail.example.test A 192.0.2.26
check "serial not raised: served with the serial raised by one" "$((ser + 1))" \
    "$(q example.test SOA +short | awk '{print $3}')"
check "... and that serial is pushed back" "$((ser + 1))" \
    "$(gitq show main:example.test | awk '$4 == "SOA" {print $7}')"

# A broken zone pushed: the old version stays; the error has commit, file, line.
git -C "$WORK" pull -q "$R/zones.git" main
cp "$WORK/example.test" "$ZL_TMP/good"
echo 'broken IN A 300.1.2.3' >>"$WORK/example.test"
git -C "$WORK" commit -qam "broken"
head_before=$(gitq rev-parse main)
out=$(git -C "$WORK" push "$R/zones.git" main 2>&1)
check_match "pre-receive refuses a broken zone, with file and line" "example.test:[0-9]+: error: .*push refused" "$(echo $out)"
check "... and the remote is unchanged" "$head_before" "$(gitq rev-parse main)"
# The same push with the hook out of the way (someone else's repository).
mv "$R/zones.git/hooks/pre-receive" "$ZL_TMP/pre-receive"
git -C "$WORK" push -q "$R/zones.git" main 2>/dev/null
mv "$ZL_TMP/pre-receive" "$R/zones.git/hooks/pre-receive"
bad=$(git -C "$WORK" rev-parse --short=12 HEAD)
i=0; while [ $i -lt 50 ] && ! grep -q "$bad:example.test:" "$ZL_LOG"; do sleep 0.1; i=$((i + 1)); done
check_match "a broken zone: the error names commit, file and line" "$bad:example.test:[0-9]+: " "$(cat "$ZL_LOG")"
check "a broken zone: the old version is served" "192.0.2.26" "$(qs mail.example.test A)"
cp "$ZL_TMP/good" "$WORK/example.test"
sed -i 's/ 2026120405 / 2026120406 /' "$WORK/example.test"
git -C "$WORK" commit -qam "fixed" && git -C "$WORK" push -q "$R/zones.git" main

# Files added and deleted.
printf '$ORIGIN second.test.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.9\n' >"$WORK/second.test"
git -C "$WORK" add second.test && git -C "$WORK" commit -qm "second zone" && git -C "$WORK" push -q "$R/zones.git" main
wait_for ns.second.test A 192.0.2.9
check "a file added: the zone is served" "192.0.2.9" "$(qs ns.second.test A)"
git -C "$WORK" rm -q second.test && git -C "$WORK" commit -qm "gone" && git -C "$WORK" push -q "$R/zones.git" main
i=0; while [ $i -lt 50 ] && [ "$(status ns.second.test A)" != REFUSED ]; do sleep 0.1; i=$((i + 1)); done
check "a file deleted: the zone is no longer served" "REFUSED" "$(status ns.second.test A)"

# The remote down: SERVFAIL, nothing changed; back up: works again.
before=$(gitq rev-parse main)
gs_remotes_stop
check "remote down: the update gets SERVFAIL" "SERVFAIL" "$(echo 'update add down.example.test. 300 A 192.0.2.52' | nsup)"
check "remote down: nothing served" "NXDOMAIN" "$(status down.example.test A)"
check "remote down: nothing in the remote" "$before" "$(gitq rev-parse main)"
git daemon --reuseaddr --listen=127.0.0.1 --port="$GPORT" --base-path="$R" --export-all \
    --enable=receive-pack --informative-errors >"$ZL_TMP/daemon2.log" 2>&1 &
GS_PIDS="$GS_PIDS $!"
wait_port "$GPORT"
check "remote back: the next update works" "NOERROR" "$(echo 'update add up.example.test. 300 A 192.0.2.53' | nsup)"
check "remote back: served" "192.0.2.53" "$(qs up.example.test A)"

# kill -9 while updates flow: every acknowledged one is in the remote.
acked=$ZL_TMP/acked
: >"$acked"
( i=0; while [ $i -lt 40 ]; do
    r=$(echo "update add k$i.example.test. 300 A 192.0.2.$((i + 100))" | nsup)
    [ "$r" = NOERROR ] && echo "k$i" >>"$acked"
    i=$((i + 1)); done ) &
loop=$!
sleep 1.5
kill -KILL "$ZL_PID"; wait "$ZL_PID" 2>/dev/null; ZL_PID=
wait "$loop"
n=$(wc -l <"$acked")
missing=0
for k in $(cat "$acked"); do gitq show main:example.test | grep -q "^$k\." || missing=$((missing + 1)); done
check "kill -9 during updates: every acknowledged update ($n) is in the remote" "0" "$missing"

# Start with the remote down: the cache is served meanwhile.
gs_remotes_stop
start || { not_ok "zonelet starts with the remote down"; tap_done; }
check_match "remote down at start: logged, the cache served" "serving the cache's last good commit" "$(cat "$ZL_LOG")"
check "remote down at start: cached zones answer" "192.0.2.53" "$(qs up.example.test A)"
zl_stop
check "SIGTERM: exit 0" "0" "$ZL_STATUS"

# The same round trip over ssh:// and https://.
roundtrip() { # NAME URL [options]: start, update -> commit, push + notify -> served
    name=$1 url=$2; shift 2
    rm -rf "$CACHE"
    zl_start --workers 1 --remote "$url" --cache "$CACHE" --push-timeout 10 "$@" ||
        { not_ok "$name: zonelet starts"; return; }
    hook_to
    check "$name: served from the remote" "192.0.2.53" "$(qs up.example.test A)"
    check "$name: nsupdate NOERROR, pushed" "NOERROR" "$(echo "update add $name.example.test. 300 TXT \"$name\"" | nsup)"
    check "$name: in the remote" "1" "$(gitq show main:example.test | grep -c "^$name\.")"
    git -C "$WORK" pull -q "$R/zones.git" main
    ser=$(q example.test SOA +short | awk '{print $3}')
    sed -i "/^www[ .]/s/192\.0\.2\.[0-9]*\$/192.0.2.$((ser % 200))/; s/ $ser / $((ser + 1)) /" "$WORK/example.test"
    git -C "$WORK" commit -qam "$name push" && git -C "$WORK" push -q "$R/zones.git" main
    wait_for www.example.test A "192.0.2.$((ser % 200))"
    check "$name: git push + NOTIFY served" "192.0.2.$((ser % 200))" "$(qs www.example.test A)"
    zl_stop
}
if start_sshd; then
    roundtrip ssh "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$R/zones.git" \
        --remote-key "$S/client" --remote-known-hosts "$S/known_hosts"
    rm -rf "$CACHE"
    zl_start --workers 1 --remote "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$R/zones.git" --cache "$CACHE" \
        --remote-key "$S/client" --remote-known-hosts "$S/wrong_hosts" --push-timeout 5 >/dev/null 2>&1
    check_match "ssh: a changed host key is refused" "cannot fetch" "$(cat "$ZL_LOG")"
    zl_stop
else
    not_ok "sshd starts"
fi
gs_remotes_stop
if start_https "$R"; then
    roundtrip https "https://localhost:$HTTPS_PORT/git/zones.git" --remote-ca "$W/ca.pem"
else
    not_ok "lighttpd with TLS starts"
fi
tap_done
