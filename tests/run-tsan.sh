#!/usr/bin/env bash
# run-tsan.sh — the unit, ABI and connector suites under ThreadSanitizer
# (tests/run-all.sh calls it; docs/testing.md). Builds build-tsan/ with only
# the targets those suites need and fails on any report, from the test
# programs or from the reclaimctl they start: every instrumented process
# writes its reports to a file of its own, and any such file fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${RECLAIM_JOBS:-$(nproc)}

echo "== build (ThreadSanitizer)"
start=$SECONDS
cmake -S . -B build-tsan -DRECLAIM_DEVELOPER=ON -DRECLAIM_TSAN=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tsan -j"$jobs" --target unit_tests abi_unit_tests audit_cli_tests audit_witness_tests access_cli_tests connectors_tests scim_sp_tests c_test saml_tests hr_tests \
  reclaimctl reclaim
cmake --build build-tsan -j"$jobs" --target reclaim-scimd scimd_unit_tests scimd_http_tests
echo "   built in $((SECONDS - start)) s"

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
options="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"

# GCC's libtsan needs the address-space layout it was built for: where a
# kernel's ASLR puts mappings elsewhere ("unexpected memory mapping"), run
# without address randomisation (setarch -R), for these processes only.
wrap=()
probe() { TSAN_OPTIONS="$options" "$@" build-tsan/tests/abi/c_test >/dev/null 2>&1; }
if ! probe; then
  if [ -n "$(ls -A "$reports")" ]; then
    echo "c_test reported under ThreadSanitizer:" >&2
    cat "$reports"/tsan.* >&2
    exit 1
  fi
  if setarch "$(uname -m)" -R true 2>/dev/null && probe setarch "$(uname -m)" -R; then
    echo "   (ASLR off for the TSan run: vm.mmap_rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo ?))"
    wrap=(setarch "$(uname -m)" -R)
  else
    echo "ThreadSanitizer binaries do not start on this machine:" >&2
    build-tsan/tests/abi/c_test >&2 || true
    exit 1
  fi
fi
rm -f "$reports"/*

echo "== unit, ABI and connector tests under ThreadSanitizer"
start=$SECONDS
status=0
TSAN_OPTIONS="$options" "${wrap[@]}" \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R '^(unit|abi|connectors$|scim\.)' --timeout 600 || status=$?
echo "   tests ran in $((SECONDS - start)) s"
if [ -n "$(ls -A "$reports")" ]; then
  echo "ThreadSanitizer reports:" >&2
  cat "$reports"/tsan.* >&2
  exit 1
fi
exit "$status"
