#!/bin/sh
# Zone versions shared by readers, the writer and a background compaction
# (tests/zone/tsan_versions.c), built with ThreadSanitizer: no data race.
cd "$(dirname "$0")/../.." || exit 1
echo "1..1"
if ! command -v clang >/dev/null; then echo "ok 1 - versions under TSan # SKIP clang missing"; exit 0; fi
mkdir -p build/tsan
if ! clang -fsanitize=thread -g -O1 -I. -Itests -D_GNU_SOURCE -std=c11 -o build/tsan/versions \
    tests/zone/tsan_versions.c dns/*.c zone/*.c -lpthread -lmbedcrypto >build/tsan/build.log 2>&1; then
    echo "not ok 1 - versions under TSan: build failed"
    sed 's/^/# /' build/tsan/build.log | head -20
    exit 1
fi
if TSAN_OPTIONS=halt_on_error=1 build/tsan/versions >build/tsan/run.log 2>&1; then
    echo "ok 1 - readers, writer and background compaction share versions without a data race ($(grep -c found build/tsan/run.log) readers)"
else
    echo "not ok 1 - versions under TSan"
    grep -E 'WARNING|SUMMARY|#[0-9] ' build/tsan/run.log | head -20 | sed 's/^/# /'
fi
