#!/usr/bin/env bash
# demo.sh — reclaim's main job in one command: builds reclaim, starts a
# throwaway slapd on a loopback port with the plugin and the shipped example
# config, loads five people, makes the day's changes (a termination, a
# leave, a move to the leavers OU, a deletion, a transfer, a hire, a rehire)
# with ldapmodify, and prints the journal. Cleans up after itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

bash packaging/install-deps.sh
echo "== building reclaim"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target reclaim reclaimctl >/dev/null

work="$(mktemp -d /tmp/reclaim-demo.XXXXXX)"
source packaging/sandbox/slapd-sandbox.sh
cleanup() {
  slapd_sandbox_stop "$work/ldap" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The shipped example config, with its state under the demo's temp dir.
sed "s#^state_dir = .*#state_dir = \"$work/state\"#" packaging/config/reclaim.toml > "$work/reclaim.toml"
chmod 0600 "$work/reclaim.toml"
reclaimctl() { build/plugin/reclaimctl --config "$work/reclaim.toml" "$@"; }

echo "== starting slapd with libreclaim.so.1 loaded"
echo "   plugin postoperation $root/build/plugin/libreclaim.so.1 reclaim_slapi_init $work/reclaim.toml"
slapd_sandbox_start "$work/ldap" --base --ldif packaging/demo/people.ldif \
  --plugin "$root/build/plugin/libreclaim.so.1" --plugin-config "$work/reclaim.toml" --quiet
echo "   slapd pid $SLAPD_SANDBOX_PID listening on $SLAPD_SANDBOX_URI"

echo "== the day's changes (ldapmodify)"
ldapmodify -x -H "$SLAPD_SANDBOX_URI" -D "$SLAPD_SANDBOX_ROOTDN" -w "$SLAPD_SANDBOX_ROOTPW" \
  -f packaging/demo/changes.ldif | sed 's/^/   /'

# The plugin journals on its own thread, within milliseconds; wait for it.
for _ in $(seq 50); do
  [[ $(reclaimctl events list --json | grep -c '"seq"') -ge 7 ]] && break
  sleep 0.1
done

echo "== reclaimctl events list"
reclaimctl events list
echo
echo "(the journal is $work/state/journal.sqlite3; plugin log: $work/ldap/plugin.log)"
