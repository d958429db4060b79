#!/usr/bin/env bash
# test.sh: the whole test suite on a fresh Debian 12 machine (run as root): installs what is
# missing, builds a release build and an AddressSanitizer+UBSan build, runs every suite on
# the release build and all but 'heavy' on the sanitizer build (CI time), and ends with one
# line "N passed, N failed". The validation layer is on in every GPU test.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tools/setup.sh"
srlm_install "${srlm_packages[@]}" "${srlm_test_packages[@]}"
set -e
srlm_build build --buildtype=release
srlm_build build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
set +e
jobs=${SRLM_TEST_JOBS:-$(nproc)}
meson test -C "$root/build" --print-errorlogs --num-processes "$jobs"
meson test -C "$root/build-asan" --print-errorlogs --num-processes "$jobs" --no-suite heavy --timeout-multiplier 3
python3 - "$root/build/meson-logs/testlog.json" "$root/build-asan/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        res = r.get('result')
        if res in ('OK', 'EXPECTEDFAIL'): passed += 1
        elif res == 'SKIP': skipped += 1
        else:
            failed += 1
            print('failed: %s (%s) in %s' % (r.get('name'), res, path))
print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
sys.exit(1 if failed or passed == 0 else 0)
PY
