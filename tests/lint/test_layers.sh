#!/bin/sh
# Layers point one way (STYLE.md §1): dns/ includes only libc and dns/;
# zone/ only dns/ and zone/; gitstore/ and acme/ nothing above zone/;
# nothing below unikernel/ reaches platform/. dns/ is pure (DESIGN.md: no
# sockets, threads, files or clocks): its system headers come from an
# allow-list, so a new one is a decision, not an oversight.
# Each rule is first run on planted violations: a rule that cannot fail
# fails here.
cd "$(dirname "$0")/../.." || exit 1
n=0 failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/zl-lint.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
tap() { # ok|not-ok description [details]
    n=$((n + 1))
    if [ "$1" = ok ]; then echo "ok $n - $2"; else
        failed=$((failed + 1)); echo "not ok $n - $2"; [ -n "${3:-}" ] && echo "$3" | sed 's/^/# /'
    fi
    return 0
}

# quoted_bad DIR ALLOWED-REGEX: the "..." includes of DIR/*.[ch] outside
# the allowed folders.
quoted_bad() {
    grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$1"/*.[ch] 2>/dev/null |
        grep -vE "#[[:space:]]*include[[:space:]]*\"($2)/" || true
}

# system_bad DIR: the <...> includes of DIR/*.[ch] not on dns/'s list.
# libc's pure parts only: no sockets (sys/socket.h, netinet/, netdb.h),
# threads, files, clocks (time.h) or processes. <arpa/inet.h> stays for
# inet_pton/inet_ntop, the libc conversions of addresses to and from
# text (no I/O: musl's are plain functions). mbedTLS is for the HMACs of
# TSIG, in dns/tsig.c only (crypto_bad).
DNS_SYSTEM='assert|ctype|errno|limits|stdarg|stdbool|stddef|stdint|stdio|stdlib|string|strings|arpa/inet'
system_bad() {
    grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$1"/*.[ch] 2>/dev/null |
        grep -vE "#[[:space:]]*include[[:space:]]*<($DNS_SYSTEM)\.h>" |
        grep -vE "^$1/tsig\.c:[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*<(mbedtls|psa)/" || true
}

# crypto_bad DIR...: mbedTLS is dns/'s one library, for the TSIG HMACs:
# dns/tsig.c only (dns/tsig.h does not expose it); zone/ reaches HMACs
# through dns/tsig.h.
crypto_bad() {
    for d in "$@"; do
        grep -HnE '#[[:space:]]*include[[:space:]]*<(mbedtls|psa)/' "$d"/*.[ch] 2>/dev/null |
            grep -vE "^$d/tsig\.c:" || true
    done
}

# The rules, on planted files: each must catch its violation and let the
# lawful lines pass.
mkdir -p "$T/dns" "$T/zone"
printf '#include "dns/wire.h"\n#include "zone/zone.h"\n' >"$T/dns/up.c"
printf '#include "dns/name.h"\n#include "zone/zone.h"\n#  include "unikernel/config.h"\n' >"$T/zone/up.c"
printf '#include <string.h>\n#include <arpa/inet.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <pthread.h>\n#include <time.h>\n#include <mbedtls/md.h>\n' >"$T/dns/sys.c"
printf '#include <mbedtls/md.h>\n#include <string.h>\n' >"$T/dns/tsig.c"
got=$(quoted_bad "$T/dns" dns | sed 's/.*include //' | tr '\n' ' ')
[ "$got" = '"zone/zone.h" ' ] && tap ok "lint catches a planted dns/ -> zone/ include" ||
    tap not-ok "lint catches a planted dns/ -> zone/ include" "caught: $got"
got=$(quoted_bad "$T/zone" 'dns|zone' | sed 's/.*include //' | tr '\n' ' ')
[ "$got" = '"unikernel/config.h" ' ] && tap ok "lint catches a planted zone/ -> unikernel/ include" ||
    tap not-ok "lint catches a planted zone/ -> unikernel/ include" "caught: $got"
printf '#include <psa/crypto.h>\n' >"$T/zone/keys.c"
got=$(crypto_bad "$T/dns" "$T/zone" | sed 's/.*include //' | tr '\n' ' ')
[ "$got" = '<mbedtls/md.h> <psa/crypto.h> ' ] && tap ok "lint catches planted mbedTLS outside dns/tsig.c" ||
    tap not-ok "lint catches planted mbedTLS outside dns/tsig.c" "caught: $got"
got=$(system_bad "$T/dns" | sed 's/.*include //' | tr '\n' ' ')
want='<sys/socket.h> <netinet/in.h> <pthread.h> <time.h> <mbedtls/md.h> '
[ "$got" = "$want" ] && tap ok "lint catches planted system headers in dns/ (mbedTLS only in tsig.c)" ||
    tap not-ok "lint catches planted system headers in dns/ (mbedTLS only in tsig.c)" "caught: $got
want:   $want"

# The rules, on the tree.
check() { # layer, allowed-regex
    bad=$(quoted_bad "$1" "$2")
    [ -z "$bad" ] && tap ok "$1/ includes only $2" || tap not-ok "$1/ includes only $2" "$bad"
}
check dns 'dns'
check zone 'dns|zone'
check gitstore 'dns|zone|gitstore'
check acme 'dns|zone|acme'
bad=$(system_bad dns)
[ -z "$bad" ] && tap ok "dns/ uses no sockets, threads, files or clocks (system headers from a list)" ||
    tap not-ok "dns/ uses no sockets, threads, files or clocks (system headers from a list)" "$bad"
bad=$(crypto_bad dns zone)
[ -z "$bad" ] && tap ok "mbedTLS only in dns/tsig.c" || tap not-ok "mbedTLS only in dns/tsig.c" "$bad"
echo "1..$n"
[ "$failed" = 0 ]
