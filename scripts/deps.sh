#!/bin/sh
# Install the Debian packages a make target needs, only those missing.
# Usage: scripts/deps.sh build|test|bench|unikernel ...
set -eu
build="make gcc libc6-dev pkg-config libmbedtls-dev libgit2-dev libssh2-1-dev"
test="$build clang libclang-rt-14-dev llvm libcmocka-dev libldns-dev ldnsutils knot knot-dnsutils knot-dnssecutils nsd dnsutils iproute2 python3 python3-dnspython bind9 bind9-utils git openssh-server openssh-client lighttpd lighttpd-mod-openssl pebble lego certbot python3-certbot-dns-rfc2136 python3-josepy python3-jwcrypto python3-cryptography openssl"
bench="$build dnsperf knot knot-dnsutils nsd dnsutils git python3 procps util-linux"
unikernel="$build musl-tools musl-dev libseccomp-dev cmake dpkg-dev qemu-system-x86 xz-utils patch python3 ca-certificates procps"
want=""
for t in "$@"; do
    case "$t" in
    build) want="$want $build" ;;
    test) want="$want $test $unikernel" ;;
    bench) want="$want $bench" ;;
    unikernel) want="$want $unikernel" ;;
    *) echo "deps.sh: unknown set '$t'" >&2; exit 2 ;;
    esac
done
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root or install them)" >&2
    exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Several make runs at once (parallel worktrees, make -j) take turns.
exec 9>/tmp/zonelet-apt.lock
flock -w 1800 9 || true
apt-get -o DPkg::Lock::Timeout=600 update -qq
# Debian's knot and nsd packages start their daemons where an init system
# runs; policy-rc.d keeps them from grabbing port 53 during installation.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
