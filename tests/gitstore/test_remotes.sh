#!/bin/sh
# The git store against real remotes on loopback, driven by gs_tool
# (tests/gitstore/gs_tool.c): a bare repository over file://, git daemon
# with receive-pack, OpenSSH's sshd with a generated host key and client
# key (known_hosts checked, a wrong one refused), and git http-backend
# behind lighttpd with TLS from a test CA (with the right CA, none, and a
# wrong one). On each: clone into a new cache and read, commit and push
# (author, committer, message, content, fsck on the remote), a concurrent
# push by an operator (ZL_ECONFLICT, then fetch and retry: both changes
# there), and the cache reopened. Then remotes that accept connections
# and never answer: ZL_ETIMEOUT within --push-timeout, and the same
# process then works against a healthy remote.
. "$(dirname "$0")/../system/lib.sh"
. tests/gitstore/remotes.sh

GS=${GS_TOOL:-build/test/gs_tool}
T=$ZL_TMP
trap 'gs_remotes_stop; zl_cleanup' EXIT

if ! command -v git >/dev/null 2>&1; then
    echo "ok 1 - test_remotes # SKIP git not installed (scripts/deps.sh test)"; echo "1..1"; exit 0
fi
if [ ! -x "$GS" ]; then
    echo "not ok 1 - $GS not built (make test-build)"; exit 1
fi

export GIT_AUTHOR_NAME="Olivia Operator" GIT_AUTHOR_EMAIL=olivia@example.org
export GIT_COMMITTER_NAME="Olivia Operator" GIT_COMMITTER_EMAIL=olivia@example.org
AUTHOR="Ann Author <ann@example.org>"
# gs_tool's stderr (sanitizer reports) goes to a log checked at the end;
# a gs_tool that hangs (its timeouts broken) is stopped after 60 s.
gst() { timeout 60 "$GS" "$@" 2>>"$T/gs_tool.log"; }

# A template repository: a zone, a sub-folder and a dotfile.
mkdir -p "$T/srv"
git init -q --bare -b main "$T/template.git"
git clone -q "$T/template.git" "$T/tw" 2>/dev/null
zl_write_zone "$T/tw/example.test" 2026120401
mkdir "$T/tw/archive"; echo old >"$T/tw/archive/old.test"; echo x >"$T/tw/.gitattributes"
(cd "$T/tw" && git add -A && git commit -qm init && git push -q origin main)

# roundtrip NAME URL REPO [gs_tool options...]: REPO is the bare
# repository behind URL.
roundtrip() {
    name=$1 url=$2 repo=$3
    shift 3
    xopt="$*" # (paths without blanks)
    cache="$T/cache-$name"
    # shellcheck disable=SC2086
    tool() { gst --remote "$url" --cache "$cache" --author "$AUTHOR" $xopt "$@"; }
    out=$(tool fetch ";" ls ";" cat example.test)
    want=$(git -C "$repo" rev-parse main)
    check_match "$name: clone into a new cache: the remote's head" "^head $want\$" "$out"
    check_match "$name: the zone file listed with its blob id" \
        "^file example.test $(git -C "$repo" rev-parse main:example.test)\$" "$out"
    check_match "$name: the sub-folder reported as ignored" "^ignored archive sub-folder\$" "$out"
    check_match "$name: the dotfile reported as ignored" "^ignored .gitattributes dotfile\$" "$out"
    check_match "$name: the zone file read from the cache" "big IN TXT \"record 29 " "$out"

    zl_write_zone "$T/new.zone" 2026120402
    echo "added IN A 192.0.2.77" >>"$T/new.zone"
    msg="example.test: 1 records added, 0 removed by k._update.example.test from 192.0.2.7"
    out=$(tool commit "$want" "$msg" example.test="$T/new.zone")
    mine=$(printf '%s\n' "$out" | sed -n 's/^commit //p')
    check "$name: commit pushed: the remote's head is the new commit" "$(git -C "$repo" rev-parse main)" "$mine"
    check "$name: author, committer, parent and message in git log" \
        "Ann Author <ann@example.org>|zonelet <zonelet@$(hostname)>|$want|$msg" \
        "$(git -C "$repo" log -1 --format='%an <%ae>|%cn <%ce>|%P|%s' main)"
    check "$name: file content in the commit" "$(cat "$T/new.zone")" "$(git -C "$repo" show main:example.test)"
    check "$name: the sub-folder and dotfile kept" "$(git -C "$repo" ls-tree -r --name-only "$want" | tr '\n' ' ')" \
        "$(git -C "$repo" ls-tree -r --name-only main | tr '\n' ' ')"
    fsck=$(git -C "$repo" fsck --strict 2>&1) && ok "$name: git fsck --strict clean" || not_ok "$name: git fsck --strict clean" "$fsck"

    # An operator pushes meanwhile.
    rm -rf "$T/op"; git clone -q "$repo" "$T/op" 2>/dev/null
    echo "op IN A 192.0.2.99" >"$T/op/operator.test"
    (cd "$T/op" && git add -A && git commit -qm "operator" && git push -q origin main)
    theirs=$(git -C "$repo" rev-parse main)
    echo "second IN A 192.0.2.78" >>"$T/new.zone"
    out=$(tool commit "$mine" "second" example.test="$T/new.zone")
    check_match "$name: push on a stale parent: ZL_ECONFLICT" "^error ZL_ECONFLICT: .*$theirs" "$out"
    check "$name: the remote kept the operator's commit" "$theirs" "$(git -C "$repo" rev-parse main)"
    out=$(tool fetch)
    check_match "$name: fetch after the conflict: the operator's head" "^head $theirs\$" "$out"
    out=$(tool commit "$theirs" "second" example.test="$T/new.zone")
    again=$(printf '%s\n' "$out" | sed -n 's/^commit //p')
    check "$name: retry on the new head pushed" "$(git -C "$repo" rev-parse main)" "$again"
    check "$name: both changes in the remote" "op IN A 192.0.2.99|second IN A 192.0.2.78" \
        "$(git -C "$repo" show main:operator.test)|$(git -C "$repo" show main:example.test | tail -1)"
    check_match "$name: the cache reopened offline has the pushed commit" "^head $again\$" "$(tool head)"
}

new_repo() { # NAME: a copy of the template, served from $T/srv
    cp -r "$T/template.git" "$T/srv/$1.git"
    git -C "$T/srv/$1.git" config http.receivepack true
}

# --- file:// --------------------------------------------------------------
new_repo file
roundtrip file "file://$T/srv/file.git" "$T/srv/file.git"

# --- git daemon -------------------------------------------------------------
new_repo daemon
if start_daemon "$T/srv" >"$T/start.out"; then
    roundtrip daemon "git://127.0.0.1:$GPORT/daemon.git" "$T/srv/daemon.git"
else
    not_ok "git daemon started" "$(cat "$T/start.out")"
fi

# --- ssh --------------------------------------------------------------------
S=
if ! have_sshd; then
    skip "ssh remote" "openssh-server not installed (scripts/deps.sh test)"
elif ! start_sshd >"$T/start.out"; then
    not_ok "sshd started" "$(cat "$T/start.out")"
else
    new_repo ssh
    SURL="ssh://$SSH_USER@127.0.0.1:$SSH_PORT$T/srv/ssh.git"
    roundtrip ssh "$SURL" "$T/srv/ssh.git" --remote-key "$S/client" --remote-known-hosts "$S/known_hosts"
    out=$(gst --remote "$SURL" --cache "$T/cache-ssh-wrong" --remote-key "$S/client" \
        --remote-known-hosts "$S/wrong_hosts" fetch)
    check_match "ssh: a changed host key is refused" "^error ZL_EIO: .*host key differs" "$out"
    out=$(gst --remote "$SURL" --cache "$T/cache-ssh-unknown" --remote-key "$S/client" \
        --remote-known-hosts "$S/unknown_hosts" fetch)
    check_match "ssh: a host key not in known_hosts is refused" "^error ZL_EIO: .*not in" "$out"
    out=$(gst --remote "$SURL" --cache "$T/cache-ssh-badkey" --remote-key "$S/other" \
        --remote-known-hosts "$S/known_hosts" fetch)
    check_match "ssh: a client key the server does not know is refused" "^error ZL_EIO: .*refused for user" "$out"
fi

# --- https: git http-backend behind lighttpd ---------------------------------
W=
if ! have_https; then
    skip "https remote" "lighttpd, lighttpd-mod-openssl or openssl not installed (scripts/deps.sh test)"
elif ! start_https "$T/srv" >"$T/start.out"; then
    not_ok "lighttpd started" "$(cat "$T/start.out")"
else
    new_repo https
    HURL="https://localhost:$HTTPS_PORT/git/https.git"
    roundtrip https "$HURL" "$T/srv/https.git" --remote-ca "$W/ca.pem"
    out=$(gst --remote "$HURL" --cache "$T/cache-https-noca" fetch)
    check_match "https: without the test CA the certificate is refused" "^error ZL_EIO: .*certificate" "$out"
    out=$(gst --remote "$HURL" --cache "$T/cache-https-wrongca" --remote-ca "$W/wrongca.pem" fetch)
    check_match "https: with another CA the certificate is refused" "^error ZL_EIO: .*certificate" "$out"
fi

# --- remotes that accept and never answer -----------------------------------
start_silent >"$T/start.out" || not_ok "silent listener started" "$(cat "$T/start.out")"
stall() { # NAME URL [options]: a fetch and a push that time out, then the daemon
    name=$1 url=$2; shift 2
    start=$(date +%s%N)
    out=$(gst --push-timeout 1500 "$@" --remote "$url" --cache "$T/cache-stall-$name" fetch)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check_match "silent $name remote: fetch ends with ZL_ETIMEOUT" "^error ZL_ETIMEOUT: " "$out"
    echo "# silent $name remote: fetch gave up after $ms ms (--push-timeout 1500)"
    start=$(date +%s%N)
    out=$(gst --push-timeout 1500 "$@" --remote "$url" --cache "$T/cache-stall-$name" \
        commit - "m" example.test="$T/new.zone" ";" \
        --remote "git://127.0.0.1:$GPORT/daemon.git" --cache "$T/cache-after-$name" fetch)
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check_match "silent $name remote: push ends with ZL_ETIMEOUT" "^error ZL_ETIMEOUT: " "$out"
    check_match "silent $name remote: the same process then fetches from git daemon" \
        "^head $(git -C "$T/srv/daemon.git" rev-parse main)\$" "$out"
    echo "# silent $name remote: push gave up, then a fetch from git daemon, in $ms ms"
}
stall git "git://127.0.0.1:$SILENT_PORT/x.git"
[ -n "${S:-}" ] && stall ssh "ssh://git@127.0.0.1:$SILENT_PORT/x.git" --remote-key "$S/client" \
    --remote-known-hosts "$S/known_hosts"
[ -n "${W:-}" ] && stall https "https://localhost:$SILENT_PORT/x.git" --remote-ca "$W/ca.pem"

if grep -qE 'Sanitizer|runtime error' "$T"/*.log 2>/dev/null; then
    not_ok "no sanitizer reports" "$(grep -hE -A5 'Sanitizer|runtime error' "$T"/*.log | head -20)"
fi
tap_done
