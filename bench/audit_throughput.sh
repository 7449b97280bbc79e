#!/bin/bash
# audit_throughput.sh — builds and runs bench/audit_throughput (see its header)
# once; pass the record count (default 200000). Run on an idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
cmake --build "$build" -j2 --target audit_throughput >/dev/null
dir=${TMPDIR:-/tmp}/reclaim-audit-bench-$$
"$build/bench/audit_throughput" "${1:-200000}" "$dir"
