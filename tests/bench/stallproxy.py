#!/usr/bin/python3
"""A TCP relay that can turn into a stalled remote (stdlib only).

usage: stallproxy.py UPSTREAM_PORT FLAGFILE

Listens on 127.0.0.1 at a free port (printed on the first line of stdout)
and relays each connection to 127.0.0.1:UPSTREAM_PORT. While FLAGFILE
exists, new connections are accepted and then never answered: nothing is
read or relayed, the socket stays open until the relay exits (a remote
that hangs in the middle of a push). tests/bench/update-run.sh puts it in
front of `git daemon` to measure queries while a push is stuck.
"""
import os
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    up, flag = int(sys.argv[1]), sys.argv[2]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    held = []
    while True:
        c, _ = ls.accept()
        if os.path.exists(flag):
            held.append(c)   # accepted, never answered
            continue
        try:
            u = socket.create_connection(("127.0.0.1", up), timeout=10)
            u.settimeout(None)
        except OSError:
            c.close()
            continue
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
