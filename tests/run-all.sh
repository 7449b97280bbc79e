#!/usr/bin/env bash
# run-all.sh — the whole test suite, as CI runs it (.ci/run calls this):
# installs the Debian packages, builds in build/ (RelWithDebInfo) and in
# build-asan/ (AddressSanitizer + UBSan) and runs CTest in both, then the
# ThreadSanitizer stage (tests/run-tsan.sh, build-tsan/) and a bounded
# libFuzzer run of every parser (tests/run-fuzz.sh, build-fuzz/, clang);
# docs/testing.md. Every server a test needs (slapd) is started by the tests themselves on free
# loopback ports in temporary directories and stopped by process id.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash packaging/install-deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DRECLAIM_DEVELOPER=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

echo "== build (AddressSanitizer + UBSan)"
cmake -S . -B build-asan -DRECLAIM_DEVELOPER=ON -DRECLAIM_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests abi_unit_tests audit_cli_tests audit_witness_tests access_cli_tests connectors_tests scim_sp_tests c_test reclaimctl reclaim \
  saml_tests hr_tests
cmake --build build-asan -j"$jobs" --target reclaim-scimd scimd_unit_tests scimd_http_tests
echo "== unit, ABI, connector and reclaim-scimd tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -R '^(unit|abi|connectors$|scim\.)' --timeout 600
bash tests/run-fuzz.sh 12   # seconds per harness (15 harnesses); longer runs by hand: docs/fuzzing.md
bash tests/run-tsan.sh
echo "== all tests passed"
