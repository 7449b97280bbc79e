#!/usr/bin/env bash
# demo.sh — reclaim's main job in one command: builds reclaim, starts a
# throwaway slapd on a loopback port with the plugin and the shipped example
# config, loads five people and their licences, makes the day's changes (a
# termination, a leave, a move to the leavers OU, a deletion, a transfer, a
# hire, a rehire) with ldapmodify, and prints the journal, the plans, the
# actions the engine ran inside slapd, and what a month later brings.
# Cleans up after itself.
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
  [[ -n ${RECLAIM_DEMO_KEEP:-} ]] && echo "kept $work" || rm -rf "$work"
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

echo "== licences and access in the local inventory"
for person in alice bob carol dave erin; do
  id=$(ldapsearch -x -LLL -H "$SLAPD_SANDBOX_URI" -b "uid=$person,ou=People,dc=example,dc=com" -s base entryUUID |
       awk '/^entryUUID:/ {print $2}')
  reclaimctl inventory grant --subject "$id" --app m365 >/dev/null
  reclaimctl inventory assign --subject "$id" --app m365 --sku M365_E5 >/dev/null
  case $person in
    alice|carol) reclaimctl inventory grant --subject "$id" --app figma >/dev/null
                 reclaimctl inventory assign --subject "$id" --app figma --sku FIGMA_PRO >/dev/null
                 reclaimctl inventory grant --subject "$id" --app github >/dev/null
                 reclaimctl inventory assign --subject "$id" --app github --sku GHE >/dev/null ;;
    bob|erin)    reclaimctl inventory grant --subject "$id" --app sap >/dev/null
                 reclaimctl inventory assign --subject "$id" --app sap --sku SAP_PRO >/dev/null ;;
  esac
done
echo "   $(reclaimctl inventory list | grep -c licence) licences, $(reclaimctl inventory list | grep -vc licence) access grants"

echo "== what a termination of bob would do (reclaimctl plan: a dry preview, nothing recorded)"
bob_id=$(ldapsearch -x -LLL -H "$SLAPD_SANDBOX_URI" -b "uid=bob,ou=People,dc=example,dc=com" -s base entryUUID |
         awk '/^entryUUID:/ {print $2}')
reclaimctl plan --subject "$bob_id" --from active --to terminated --attr departmentNumber=200 | sed 's/^/   /'

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
sleep 2 # the engine's planner and workers act within a second
echo
echo "== reclaimctl plans list"
reclaimctl plans list
echo
echo "== reclaimctl actions list (run inside slapd by the engine's workers)"
reclaimctl actions list | awk 'NR == 1 || $5 != "already_done"'
echo
echo "== a month later: reclaimctl dispatch --at $(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)"
reclaimctl dispatch --at "$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)"
echo "   licences left in the inventory: $(reclaimctl inventory list | grep -c licence)"
echo
echo "== the audit log (signed, tamper-evident; docs/audit.md): records by type"
sleep 1 # the engine's audit thread drains what dispatch recorded
reclaimctl audit show | awk '{print $3}' | sort | uniq -c | sed 's/^/   /'
echo "   one of them (reclaimctl audit show --json; names are pseudonymised and encrypted):"
reclaimctl audit show --json | python3 -c 'import json,sys; print(json.dumps(next(r for r in json.load(sys.stdin) if r["type"]=="plan_made")))' | sed 's/^/   /'
echo "== reclaimctl audit verify --key \"\$(reclaimctl audit public-key)\""
rc=0; reclaimctl audit verify --key "$(reclaimctl audit public-key)" | sed 's/^/   /' || rc=$?
echo "   (exit 0 ok, 4 warnings only — records newer than the last checkpoint —, 1 tampered)"
echo
echo "(the journal is $work/state/journal.sqlite3; the audit log $work/state/audit/; plugin log: $work/ldap/plugin.log)"
