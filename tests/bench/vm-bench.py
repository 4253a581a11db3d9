#!/usr/bin/python3
"""The appliance in a virtual machine, measured (issue 10; make bench-vm).

  vm-bench.py [--rounds N] [--seconds S]

Prints a Markdown section: stripped image sizes (and what takes the space
in the DNS-only image), boot to the first answered query through
`zonelet vm` (QEMU with TCG, and with KVM where /dev/kvm works; hvt where
it works), the smallest --mem that serves zones-example/, and queries per
second through the forwarding path under dnsperf, with the hosted server
beside it. Run from the top of the tree after `make`, `make appliance`.
Every wait is bounded; processes are stopped by PID.
"""
import argparse
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ZL = "build/zonelet"
UK = "build/uk"
ZONES = "zones-example"
ZONE = "example.test"


def kvm_state():
    if not os.path.exists("/dev/kvm"):
        return None, "no /dev/kvm on this machine"
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
    except OSError as e:
        return None, "/dev/kvm not usable here (%s)" % e.strerror
    if os.path.isdir("/sys/module/kvm_pvm"):
        return "pvm", "KVM is kvm-pvm here (hvt only; QEMU's virtio guests need TCG)"
    return "kvm", "KVM available"


def free_port():
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
            u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            u6.bind(("::1", p))
            u6.close()
            return p
        except OSError:
            continue
        finally:
            u.close()
    raise SystemExit("no free port")


def query(qid, name=ZONE, qtype=6):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def answered(port, family=socket.AF_INET, host="127.0.0.1", wait=1.0):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(wait)
    try:
        s.sendto(query(0x5151), (host, port))
        d = s.recv(512)
        return len(d) >= 12 and d[:2] == b"\x51\x51" and d[3] & 0x0F == 0 and d[7] > 0
    except OSError:
        return False
    finally:
        s.close()


class Vm:
    """`zonelet vm ARGS` running, stopped by PID."""

    def __init__(self, args, log):
        self.log = open(log, "w")
        self.p = subprocess.Popen([ZL, "vm"] + args, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=False)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode


def boot_to_answer(args, port, tmp, limit=60.0):
    """Seconds from starting zonelet vm to the first answer on port, or None."""
    t0 = time.monotonic()
    vm = Vm(args + ["--listen", "127.0.0.1:%d" % port], os.path.join(tmp, "boot.log"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.005)
    got = None
    qid = 1
    while time.monotonic() - t0 < limit and vm.p.poll() is None:
        qid = (qid + 1) & 0xFFFF
        try:
            s.sendto(query(qid), ("127.0.0.1", port))
            while True:
                d = s.recv(512)
                if len(d) >= 12 and d[3] & 0x0F == 0 and d[7] > 0:
                    got = time.monotonic() - t0
                    break
        except OSError:
            pass
        if got is not None:
            break
    s.close()
    vm.stop()
    return got


def sizes():
    out = ["| image | stripped octets | MiB | text | data | bss |", "|---|---|---|---|---|---|"]
    for name in ("zonelet-dns.virtio", "zonelet-dns.hvt", "zonelet.virtio", "zonelet.hvt"):
        path = os.path.join(UK, name + ".stripped")
        if not os.path.exists(path):
            out.append("| %s | not built | | | | |" % name)
            continue
        st = os.stat(path).st_size
        t, d, b = subprocess.run(["size", path], capture_output=True, text=True).stdout.splitlines()[1].split()[:3]
        out.append("| %s | %d | %.2f | %s | %s | %s |" % (name, st, st / 1048576, t, d, b))
    return out


def split(image):
    """Octets of the image's symbols by the library that defines them."""
    def syms(path):
        r = subprocess.run(["nm", "-S", "--defined-only", path], capture_output=True, text=True).stdout
        d = {}
        for line in r.splitlines():
            p = line.split()
            if len(p) == 4 and p[2] in "tTrRdD":
                d[p[3]] = int(p[1], 16)
        return d
    libs = [("musl libc", UK + "/musl/lib/libc.a"), ("runtime", UK + "/libzlrt.a"),
            ("lwIP", UK + "/lib/liblwip.a"), ("unikernel/ (server)", UK + "/libzlapp.a"),
            ("dns/ zone/", UK + "/libzl.a"), ("mbedTLS crypto", UK + "/lib/libmbedcrypto.a"),
            ("mbedTLS ssl", UK + "/lib/libmbedtls.a"), ("mbedTLS x509", UK + "/lib/libmbedx509.a"),
            ("zlib", UK + "/lib/libz.a"), ("libgit2", UK + "/lib/libgit2.a"),
            ("virtio platform", "build/virtio/libvirtio.a")]
    img = syms(image)
    owner = {}
    for label, path in libs:
        if os.path.exists(path):
            for s in syms(path):
                owner.setdefault(s, label)
    tot = {}
    for s, n in img.items():
        k = owner.get(s, "other")
        tot[k] = tot.get(k, 0) + n
    return sorted(tot.items(), key=lambda kv: -kv[1])


def dnsperf(port, qf, secs, family_host="127.0.0.1", tcp=False):
    args = ["dnsperf", "-s", family_host, "-p", str(port), "-d", qf, "-l", str(secs), "-c", "4",
            "-q", "50", "-t", "2"]
    if tcp:
        args += ["-m", "tcp"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=secs + 60)
    m = re.search(r"Queries per second:\s+([0-9.]+)", r.stdout)
    lost = re.search(r"Queries lost:\s+([0-9]+)", r.stdout)
    done = re.search(r"Queries completed:\s+([0-9]+)", r.stdout)
    return (float(m.group(1)) if m else 0.0, int(lost.group(1)) if lost else -1,
            int(done.group(1)) if done else 0)


def cpu_ticks(pid):
    return sum(benchlib_cpu(p) for p in benchlib.proc_tree(pid))


def benchlib_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            f = f.read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=8)
    a = ap.parse_args()
    kvm, kvm_text = kvm_state()
    tmp = tempfile.mkdtemp(prefix="zl-vmbench.")
    hz = os.sysconf("SC_CLK_TCK")
    print("## Unikernel (issue 10)\n")
    print("Measured by `make bench-vm` (tests/bench/vm-bench.sh) on %s, %s; %d CPUs, "
          "QEMU %s. %s." % (time.strftime("%Y-%m-%d"), os.uname().machine, os.cpu_count(),
                            subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                                           text=True).stdout.split()[3], kvm_text))
    print("\n### Image size (stripped; target: 1 MiB without libgit2)\n")
    print("\n".join(sizes()))
    dns = os.path.join(UK, "zonelet-dns.virtio")
    if os.path.exists(dns):
        print("\nzonelet-dns.virtio, symbol octets by library (nm; the rest of the text is "
              "string constants and tables without symbols):\n")
        print("| library | octets |\n|---|---|")
        for k, n in split(dns):
            print("| %s | %d |" % (k, n))
    sys.stdout.flush()

    print("\n### Boot to the first answered query (`zonelet vm`, from its start)\n")
    print("From starting `zonelet vm` (block image written, QEMU started, guest booted, "
          "zones loaded) to the first answer to `%s SOA` over UDP on 127.0.0.1, queried every "
          "5 ms; %d rounds.\n" % (ZONE, a.rounds))
    print("| image | accelerator | min s | median s | max s |\n|---|---|---|---|---|")
    accels = [("tcg", [])]
    if kvm == "kvm":
        accels.append(("kvm", ["--accel", "kvm"]))
    for image in ("zonelet-dns.virtio", "zonelet.virtio"):
        for accel, extra in accels:
            if accel == "tcg":
                extra = ["--accel", "tcg"]
            t = []
            for _ in range(a.rounds):
                r = boot_to_answer(["--image", os.path.join(UK, image), "--zones", ZONES] + extra,
                                   free_port(), tmp)
                if r is not None:
                    t.append(r)
            if t:
                print("| %s | %s | %.3f | %.3f | %.3f |" % (image, accel, min(t), statistics.median(t), max(t)))
            else:
                print("| %s | %s | no answer | | |" % (image, accel))
            sys.stdout.flush()
    if kvm != "kvm":
        print("| zonelet-dns.virtio | kvm | not measured: %s | | |" % kvm_text)
    if kvm is None:
        print("| zonelet-dns.hvt | kvm | not measured: %s | | |" % kvm_text)
    else:
        print("| zonelet-dns.hvt | kvm | not measured by this script (needs root for its TAP) | | |")

    print("\n### Smallest guest memory that serves %s/\n" % ZONES)
    served = {}
    for mem in (8, 10, 12, 16):
        r = boot_to_answer(["--image", dns, "--zones", ZONES, "--mem", str(mem), "--accel", "tcg"],
                           free_port(), tmp, limit=60)
        served[mem] = r is not None
    ok = [m for m in sorted(served) if served[m]]
    print("zonelet-dns.virtio, `--mem` MiB tried: %s. Smallest that serves: %s MiB%s "
          "(target: 16)." % (", ".join("%d %s" % (m, "served" if served[m] else "did not serve")
                                       for m in sorted(served)),
                             ok[0] if ok else "none",
                             " — the smallest the launcher and zonelet-virtio accept" if ok and ok[0] == 8 else ""))
    sys.stdout.flush()

    print("\n### Queries per second (dnsperf, %d s, 4 clients x 50 outstanding, TCG)\n" % a.seconds)
    qf = os.path.join(tmp, "queries")
    with open(qf, "w") as f:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "benchlib.py"),
                        "queries", os.path.join(ZONES, ZONE), "20000"], stdout=f, check=True)
    print("CPU: µs of CPU time (all processes of the server's tree: launcher, QEMU) per "
          "answered query. 127.0.0.1 goes through QEMU's user network (hostfwd); ::1 "
          "through zonelet vm's forwarder (unikernel/vm_fwd.c) into it.\n")
    print("| server | path | QPS | lost | CPU µs/query |\n|---|---|---|---|---|")
    runs = [("zonelet-dns.virtio (TCG)", "127.0.0.1", False), ("zonelet-dns.virtio (TCG)", "::1", False),
            ("zonelet-dns.virtio (TCG)", "127.0.0.1", True)]
    port = free_port()
    vm = Vm(["--image", dns, "--zones", ZONES, "--accel", "tcg", "--listen", "127.0.0.1:%d" % port,
             "--listen", "[::1]:%d" % port], os.path.join(tmp, "qps.log"))
    end = time.monotonic() + 60
    while time.monotonic() < end and not answered(port):
        time.sleep(0.2)
    for name, host, tcp in runs:
        c0 = cpu_ticks(vm.p.pid)
        qps, lost, done = dnsperf(port, qf, a.seconds, host, tcp)
        c1 = cpu_ticks(vm.p.pid)
        us = (c1 - c0) / hz * 1e6 / done if done else 0
        print("| %s | %s %s | %.0f | %d | %.1f |" % (name, "TCP" if tcp else "UDP", host, qps, lost, us))
        sys.stdout.flush()
    vm.stop()
    port = free_port()
    log = open(os.path.join(tmp, "hosted.log"), "w")
    h = subprocess.Popen([ZL, "--zones", ZONES, "--listen", "127.0.0.1:%d" % port, "--workers", "1"],
                         stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 20
    while time.monotonic() < end and not answered(port):
        time.sleep(0.1)
    c0 = cpu_ticks(h.pid)
    qps, lost, done = dnsperf(port, qf, a.seconds)
    c1 = cpu_ticks(h.pid)
    us = (c1 - c0) / hz * 1e6 / done if done else 0
    print("| hosted zonelet, 1 worker (reference) | UDP 127.0.0.1 | %.0f | %d | %.1f |" % (qps, lost, us))
    h.send_signal(signal.SIGTERM)
    try:
        h.wait(10)
    except subprocess.TimeoutExpired:
        h.kill()
        h.wait()
    log.close()
    if kvm != "kvm":
        print("\nKVM figures (virtio with KVM, hvt queries per second against 0.7x hosted): "
              "not measured, %s." % kvm_text)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
