#!/usr/bin/env bash
# scimd_bench.sh — reclaim-scimd throughput with wrk (Debian `wrk`, installed
# by packaging/install-deps.sh --bench): (1) sustained PATCH deactivations /
# reactivations over keep-alive connections, each request's event durable in
# the journal before its response; (2) GET /Users?filter=userName eq "…"
# against --users seeded Users (default 100,000; seeded straight into
# scim.sqlite3 with the sqlite3 CLI while the daemon is stopped). Prints
# wrk's requests/s and latency percentiles (p99) and the events journalled.
# Not a test; do not run it on a machine others are building on.
#
#   bench/scimd_bench.sh [--build-dir build] [--connections 32] [--threads 2]
#       [--seconds 20] [--users 100000] [--patch-users 4096] [--keep]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build connections=32 threads=2 seconds=20 users=100000 patch_users=4096 keep=0
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath "$2"); shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --patch-users) patch_users=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: bash packaging/install-deps.sh --bench" >&2; exit 2; }
scimd=$build/scim/scimd/reclaim-scimd
lib=$build/plugin/libreclaim.so.1
for f in "$scimd" "$lib"; do [[ -e $f ]] || { echo "missing $f (cmake --build $build --target reclaim-scimd reclaim)" >&2; exit 2; }; done

work=$(mktemp -d /tmp/scimd-bench-XXXXXX)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ((keep)) && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
mkdir -m 700 "$work/state"
token=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
hash=$(printf %s "$token" | sha256sum | cut -c1-64)
sed "s|^state_dir = .*|state_dir = \"$work/state\"\nbackground_priority = \"nice\"|" "$src/packaging/config/reclaim.toml" >"$work/reclaim.toml"
cat >>"$work/reclaim.toml" <<TOML

[scim_server]
listen = "127.0.0.1:0"
tokens = [{ token_sha256 = "$hash", role = "provisioner", name = "bench" }]
[scim_server.limits]
max_connections = $((connections + 16))
TOML
chmod 600 "$work/reclaim.toml"

start() {
  rm -f "$work/port"
  "$scimd" --config "$work/reclaim.toml" --library "$lib" --port-file "$work/port" 2>>"$work/scimd.log" &
  pid=$!
  for _ in $(seq 300); do [[ -s $work/port ]] && break; sleep 0.1; done
  [[ -s $work/port ]] || { cat "$work/scimd.log" >&2; exit 1; }
  port=$(cat "$work/port")
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }
# Read-only count (reclaimctl would need an [access] table for this user).
events() { sqlite3 "file:$work/state/journal.sqlite3?mode=ro" "SELECT count(*) FROM events WHERE source = 'scim'"; }

echo "== seeding $users users into scim.sqlite3"
start; stop # creates the store's schema
sqlite3 "$work/state/scim.sqlite3" <<SQL
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $users)
INSERT INTO users(id, user_name, external_id, json, version, created, last_modified)
SELECT printf('00000000-0000-4000-8000-%012d', i), printf('bench%d@example.com', i), printf('ext%d', i),
       json_object('schemas', json_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                   'id', printf('00000000-0000-4000-8000-%012d', i), 'userName', printf('bench%d@example.com', i),
                   'externalId', printf('ext%d', i), 'active', json('true'),
                   'meta', json_object('resourceType', 'User', 'created', '2026-01-01T00:00:00.000Z',
                                       'lastModified', '2026-01-01T00:00:00.000Z', 'version', 'W/"1"')),
       1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
FROM n;
SQL
sqlite3 "$work/state/scim.sqlite3" "SELECT id FROM users ORDER BY rowid LIMIT $patch_users" >"$work/ids"
start
export SCIMD_TOKEN=$token SCIMD_IDS=$work/ids SCIMD_THREADS=$threads SCIMD_USERS=$users

echo "== PATCH active false/true, $connections connections, $threads threads, ${seconds}s, $patch_users users"
before=$(events)
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$src/bench/scimd_patch.lua" "http://127.0.0.1:$port" | tee "$work/patch.txt"
after=$(events)
echo "events journalled during the PATCH run: $((after - before))"

echo "== GET filter=userName eq (indexed), $connections connections, ${seconds}s, $users users"
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$src/bench/scimd_get.lua" "http://127.0.0.1:$port" | tee "$work/get.txt"
stop
