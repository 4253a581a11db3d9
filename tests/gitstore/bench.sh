#!/bin/sh
# Git store figures on loopback (make bench-git; build/bench/gs_tool, not
# sanitized): over file://, git daemon and ssh,
#   - clone + read: a new cache fetches the branch and reads every file;
#   - push latency: GS_BENCH_N (100) commits in a row, each changing a
#     small zone, each pushed before the next (p50, p90, max);
#   - the same repository with a GS_BENCH_BIG (1,000,000) record zone
#     (tests/bench/gen-zone.py): clone + read, and a commit changing a
#     few lines of it, pushed (split into blob hashing and writing, the
#     connection, and the pack built, sent and accepted), three times;
#     beside it `git push` of the same kind of change by the git CLI.
# Prints "name value" lines; no pass or fail.
. "$(dirname "$0")/../system/lib.sh"
. tests/gitstore/remotes.sh
trap 'gs_remotes_stop; zl_cleanup' EXIT

GS=${GS_TOOL:-build/bench/gs_tool}
N=${GS_BENCH_N:-100}
BIG=${GS_BENCH_BIG:-1000000}
T=$ZL_TMP
[ -x "$GS" ] || { echo "$GS not built (make build/bench/gs_tool)"; exit 1; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.org
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.org

mkdir -p "$T/srv"
template() { # NAME FILE: a bare repository holding FILE as NAME
    git init -q --bare -b main "$T/$1.git"
    git clone -q "$T/$1.git" "$T/w-$1" 2>/dev/null
    cp "$2" "$T/w-$1/$1"
    (cd "$T/w-$1" && git add -A && git commit -qm init && git push -q origin main)
}
zl_write_zone "$T/small.zone"
template small.test "$T/small.zone"
echo "# generating a $BIG record zone"
/usr/bin/python3 tests/bench/gen-zone.py "$BIG" big.test. >"$T/big.zone"
template big.test "$T/big.zone"
echo "big_zone_bytes $(wc -c <"$T/big.zone")"

start_daemon "$T/srv" >/dev/null || { echo "git daemon did not start"; exit 1; }
SSHOPT=
if have_sshd && start_sshd >/dev/null; then
    SSHOPT="--remote-key $S/client --remote-known-hosts $S/known_hosts"
    # What one ssh session costs on this machine, for the ssh figures.
    for i in 1 2 3; do
        start=$(date +%s%N)
        ssh -o BatchMode=yes -o UserKnownHostsFile="$S/known_hosts" -i "$S/client" -p "$SSH_PORT" \
            "$SSH_USER@127.0.0.1" true
        echo "openssh_cli_session_ms $(( ($(date +%s%N) - start) / 1000000 ))"
    done
fi

url() { # TRANSPORT REPO
    case $1 in
    file) echo "file://$T/srv/$2.git" ;;
    daemon) echo "git://127.0.0.1:$GPORT/$2.git" ;;
    ssh) echo "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$T/srv/$2.git" ;;
    esac
}
val() { sed -n "s/^time $1 //p"; }

transports="file daemon"
[ -n "$SSHOPT" ] && transports="$transports ssh"
for tr in $transports; do
    opt=
    [ "$tr" = ssh ] && opt=$SSHOPT
    # shellcheck disable=SC2086
    run() { r=$1; shift; nice "$GS" --remote "$(url "$tr" "$r-$tr")" --cache "$T/cache-$r-$tr" $opt "$@"; }
    cp -r "$T/small.test.git" "$T/srv/small-$tr.git"
    out=$(run small clone-read)
    echo "${tr}_small_clone_ms $(echo "$out" | val fetch)"
    echo "${tr}_small_read_ms $(echo "$out" | val read)"
    out=$(run small bench-push "$N" small.test)
    echo "$out" | grep '^error' && continue
    echo "${tr}_push_p50_ms $(echo "$out" | val push_p50)"
    echo "${tr}_push_p90_ms $(echo "$out" | val push_p90)"
    echo "${tr}_push_max_ms $(echo "$out" | val push_max)"
    echo "${tr}_push_client_cpu_ms $(echo "$out" | val push_client_cpu_avg)$([ "$tr" = file ] &&
        echo " (remote CPU $(echo "$out" | val children_cpu | awk -v n="$N" '{printf "%.2f", $1 / n}'))")"

    cp -r "$T/big.test.git" "$T/srv/big-$tr.git"
    out=$(run big clone-read)
    echo "$out" | grep '^error' && continue
    echo "${tr}_big_clone_ms $(echo "$out" | val fetch) (client CPU $(echo "$out" | val fetch_client_cpu)," \
        "fetched $(echo "$out" | sed -n 's/^bytes_fetched //p') bytes)"
    echo "${tr}_big_read_ms $(echo "$out" | val read)"
    # The commit alone (blob hashed and compressed, tree, commit): the
    # same edit towards a port nobody listens on fails after building.
    if [ "$tr" = file ]; then
        out=$(nice "$GS" --remote "git://127.0.0.1:$(zl_free_port)/x.git" --cache "$T/cache-big-$tr" \
            edit-push big.test 3)
        echo "big_build_only_ms $(echo "$out" | val build) (client CPU $(echo "$out" | val client_cpu))"
    fi
    for i in 1 2 3; do
        out=$(run big edit-push big.test 3)
        echo "$out" | grep '^error' && break
        echo "${tr}_big_commit_push_ms $(echo "$out" | val commit_push) (blob+tree+commit $(echo "$out" | val build)," \
            "connect $(echo "$out" | val connect), pack+send+remote $(echo "$out" | val transfer)," \
            "client CPU $(echo "$out" | val client_cpu)$([ "$tr" = file ] && echo ", remote CPU $(echo "$out" | val children_cpu)")," \
            "$(echo "$out" | sed -n 's/^bytes_sent //p') bytes sent)"
    done
done

# The git CLI for comparison: the same 3-line change pushed over git
# daemon (a thin pack: the new blob as a delta against the old one).
w=$T/w-cli
git clone -q "git://127.0.0.1:$GPORT/big-daemon.git" "$w" 2>/dev/null
for i in 1 2 3; do
    sed -i "$((BIG / 2 + i))s/\$/ ; cli $i/" "$w/big.test"
    start=$(date +%s%N)
    (cd "$w" && git commit -qam "cli $i" && git push -q origin main 2>/dev/null)
    echo "git_cli_daemon_big_commit_push_ms $(( ($(date +%s%N) - start) / 1000000 ))"
done
