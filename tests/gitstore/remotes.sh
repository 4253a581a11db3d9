# Real git remotes on loopback for the git store's tests and benchmarks
# (sourced after tests/system/lib.sh, which provides $ZL_TMP, $ZL_PY and
# zl_free_port). Each start_* serves the bare repositories of a folder,
# records its PID in $GS_PIDS (stopped by gs_remotes_stop, by PID) and
# returns non-zero with the server's log on stdout if it did not start.

GS_PIDS=
gs_remotes_stop() {
    for p in $GS_PIDS; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    GS_PIDS=
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s).
wait_port() {
    "$ZL_PY" - "$1" <<'PY'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# start_daemon DIR: git daemon with receive-pack on 127.0.0.1:$GPORT.
start_daemon() {
    GPORT=$(zl_free_port)
    git daemon --reuseaddr --listen=127.0.0.1 --port="$GPORT" --base-path="$1" --export-all \
        --enable=receive-pack --informative-errors >"$ZL_TMP/daemon.log" 2>&1 &
    GS_PIDS="$GS_PIDS $!"
    wait_port "$GPORT" || { cat "$ZL_TMP/daemon.log"; return 1; }
}

have_sshd() { [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1; }

# start_sshd: OpenSSH's sshd on 127.0.0.1:$SSH_PORT with a new host key;
# in $S: client (key pair in authorized_keys), other (a key pair it does
# not know), known_hosts (the host key), wrong_hosts (another key for the
# same host and port), unknown_hosts (the key listed for another host).
# SSH_USER is who the client logs in as (the user running this).
start_sshd() {
    S=$ZL_TMP/ssh
    mkdir -p "$S"
    for k in host other client; do ssh-keygen -q -t ed25519 -N '' -f "$S/$k" -C $k; done
    cp "$S/client.pub" "$S/authorized_keys"
    SSH_PORT=$(zl_free_port)
    SSH_USER=$(id -un)
    cat >"$S/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $S/host
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel VERBOSE
EOF
    # sshd insists on its privilege separation directory when run as root.
    if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
    /usr/sbin/sshd -D -e -f "$S/sshd_config" >"$S/sshd.log" 2>&1 &
    GS_PIDS="$GS_PIDS $!"
    echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$S/host.pub")" >"$S/known_hosts"
    echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$S/other.pub")" >"$S/wrong_hosts"
    echo "[127.0.0.2]:$SSH_PORT $(cut -d' ' -f1,2 "$S/host.pub")" >"$S/unknown_hosts"
    wait_port "$SSH_PORT" || { cat "$S/sshd.log"; return 1; }
}

have_https() {
    command -v lighttpd >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 &&
        [ -e /usr/lib/lighttpd/mod_openssl.so ]
}

# start_https DIR: git http-backend (CGI) behind lighttpd with TLS, the
# repositories of DIR at https://localhost:$HTTPS_PORT/git/<repo>; in $W:
# ca.pem (the test CA that signed the server's certificate) and
# wrongca.pem (another CA). Pushes need http.receivepack in the repository.
start_https() {
    W=$ZL_TMP/tls
    mkdir -p "$W"
    for ca in ca wrongca; do
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=zonelet test $ca" \
            -keyout "$W/$ca.key" -out "$W/$ca.pem" 2>/dev/null
    done
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$W/server.key" \
        -out "$W/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost\n' >"$W/ext"
    openssl x509 -req -in "$W/server.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
        -days 2 -extfile "$W/ext" -out "$W/server.pem" 2>/dev/null
    HTTPS_PORT=$(zl_free_port)
    cat >"$W/lighttpd.conf" <<EOF
server.modules = ("mod_openssl", "mod_alias", "mod_setenv", "mod_cgi")
server.document-root = "$W"
server.bind = "127.0.0.1"
server.port = $HTTPS_PORT
server.errorlog = "$W/error.log"
ssl.engine = "enable"
ssl.pemfile = "$W/server.pem"
ssl.privkey = "$W/server.key"
alias.url = ("/git" => "$(git --exec-path)/git-http-backend")
\$HTTP["url"] =~ "^/git" {
    cgi.assign = ("" => "")
    setenv.add-environment = ("GIT_PROJECT_ROOT" => "$1", "GIT_HTTP_EXPORT_ALL" => "1")
}
EOF
    lighttpd -D -f "$W/lighttpd.conf" >"$W/lighttpd.log" 2>&1 &
    GS_PIDS="$GS_PIDS $!"
    wait_port "$HTTPS_PORT" || { cat "$W/lighttpd.log" "$W/error.log" 2>/dev/null; return 1; }
}

# start_silent: a listener on 127.0.0.1:$SILENT_PORT that accepts every
# connection and never reads or writes (300 s at most).
start_silent() {
    SILENT_PORT=$(zl_free_port)
    "$ZL_PY" - "$SILENT_PORT" <<'PY' >"$ZL_TMP/silent.log" 2>&1 &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
s.settimeout(1)
held = []
end = time.time() + 300
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
PY
    GS_PIDS="$GS_PIDS $!"
    wait_port "$SILENT_PORT" || { cat "$ZL_TMP/silent.log"; return 1; }
}
