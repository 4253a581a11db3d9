#!/bin/sh
# Layers point one way (STYLE.md §1): dns/ includes only libc and dns/;
# zone/ only dns/ and zone/; gitstore/ and acme/ nothing above zone/;
# nothing below unikernel/ reaches platform/.
cd "$(dirname "$0")/../.." || exit 1
n=0
check() { # layer, allowed-regex
    n=$((n + 1))
    bad=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$1"/*.[ch] 2>/dev/null |
        grep -vE "#[[:space:]]*include[[:space:]]*\"($2)/" || true)
    if [ -n "$bad" ]; then
        echo "not ok $n - $1/ includes only $2"
        echo "$bad" | sed 's/^/# /'
    else
        echo "ok $n - $1/ includes only $2"
    fi
}
check dns 'dns'
check zone 'dns|zone'
check gitstore 'dns|zone|gitstore'
check acme 'dns|zone|acme'
# dns/ must not use system headers of the layers above (sockets, threads, files).
n=$((n + 1))
bad=$(grep -HnE '#[[:space:]]*include[[:space:]]*<(sys/socket|netinet/|arpa/|pthread|unistd|fcntl|sys/stat)\.h>' dns/*.[ch] 2>/dev/null || true)
if [ -n "$bad" ]; then echo "not ok $n - dns/ uses no sockets, threads or files"; echo "$bad" | sed 's/^/# /'
else echo "ok $n - dns/ uses no sockets, threads or files"; fi
# mbedTLS is dns/'s one library, for the TSIG HMACs: dns/tsig.c only
# (dns/tsig.h does not expose it); zone/ reaches HMACs through dns/tsig.h.
n=$((n + 1))
bad=$(grep -HnE '#[[:space:]]*include[[:space:]]*<(mbedtls|psa)/' dns/*.[ch] zone/*.[ch] 2>/dev/null |
    grep -v '^dns/tsig\.c:' || true)
if [ -n "$bad" ]; then echo "not ok $n - mbedTLS only in dns/tsig.c"; echo "$bad" | sed 's/^/# /'
else echo "ok $n - mbedTLS only in dns/tsig.c"; fi
