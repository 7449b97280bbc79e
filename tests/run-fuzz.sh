#!/usr/bin/env bash
# run-fuzz.sh [seconds] — builds the libFuzzer harnesses of fuzz/ with clang
# in build-fuzz/ (ASan + UBSan + coverage) and runs each for a bounded time
# (default 20 s) from its committed seed corpus (fuzz/corpus/<name>). Fails
# on any crash, sanitizer report, leak, timeout or out-of-memory; the
# reproducer is left in build-fuzz/findings/<name>/ (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=$(nproc)

echo "== build (clang, libFuzzer + ASan + UBSan)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRECLAIM_FUZZ=ON -DRECLAIM_DEVELOPER=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets

targets=(checkpoint audit_log proof_bundle canonical time config packed_modify release_schedule witness consistency_bundle)
targets+=(scim_filter scim_patch scim_resource)
export TMPDIR="$PWD/build-fuzz/tmp"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  echo "== fuzz_$t (${seconds}s)"
  rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
  work="build-fuzz/corpus/$t" findings="build-fuzz/findings/$t"
  mkdir -p "$work" "$findings"
  # New inputs go to the work corpus in build-fuzz/, never to the committed seeds.
  if ! build-fuzz/fuzz/fuzz_"$t" "$work" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=5 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
      >"build-fuzz/fuzz_$t.log" 2>&1; then
    tail -n 40 "build-fuzz/fuzz_$t.log"
    failed+=("$t")
  else
    grep -E '^(Done|stat::number_of_executed_runs)' "build-fuzz/fuzz_$t.log" || true
  fi
done
rm -rf "$TMPDIR"
if ((${#failed[@]})); then
  echo "run-fuzz: crashes in: ${failed[*]} (reproducers in build-fuzz/findings/)" >&2
  exit 1
fi
echo "== fuzzing: no crash in ${#targets[@]} targets"
