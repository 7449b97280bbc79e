#!/usr/bin/env bash
# demo.sh — reclaim's main job in one command: builds reclaim, starts a
# throwaway slapd on a loopback port with the plugin and the shipped example
# config, loads five people and their licences, makes the day's changes (a
# termination, a leave, a move to the leavers OU, a deletion, a transfer, a
# hire, then a rehire once the engine has acted) with ldapmodify, and prints the journal, the plans, the
# actions the engine ran inside slapd, and what a month later brings.
# Microsoft 365 and GitHub are reached over their vendors' APIs (Microsoft
# Graph, SCIM) and finance gets HMAC-signed webhooks; without a tenant the
# vendors are reclaim's simulators (tests/sim/), real HTTP on loopback.
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
sims=()
cleanup() {
  slapd_sandbox_stop "$work/ldap" >/dev/null 2>&1 || true
  ((${#sims[@]})) && kill "${sims[@]}" 2>/dev/null || true
  [[ -n ${RECLAIM_DEMO_KEEP:-} ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# The vendors: simulators seeded with the five people's accounts.
mkdir -m 0700 "$work/sim"
start_sim() { # name script seed-json; sets <name>_url
  local port="$work/sim/$1.port"
  printf '%s' "$3" >"$work/sim/$1.json"
  python3 "tests/sim/$2" --port-file "$port" --state "$work/sim/$1.json" >"$work/sim/$1.log" 2>&1 &
  sims+=($!)
  for _ in $(seq 100); do [[ -s $port ]] && break; sleep 0.05; done
  printf -v "$1_url" 'http://127.0.0.1:%s' "$(cat "$port")"
}
sim_state() { python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + '/_control/state').read().decode())" "$1"; }
e5=06ebc4ee-1bb5-47dd-8120-11324bc54e06
graph_users="" scim_users=""
for p in alice bob carol dave erin; do
  graph_users+="${graph_users:+,}{\"id\": \"aad-$p\", \"userPrincipalName\": \"$p@example.com\", \"licenses\": [\"$e5\"]}"
  [[ $p == alice || $p == carol ]] && scim_users+="${scim_users:+,}{\"id\": \"gh-$p\", \"userName\": \"$p@example.com\"}"
done
start_sim graph graph_sim.py "{\"clients\": [{\"client_id\": \"reclaim-demo\", \"secret\": \"demo-secret\"}], \"skus\": [{\"skuId\": \"$e5\"}], \"users\": [$graph_users]}"
start_sim scim scim_sim.py "{\"token\": \"demo-scim-token\", \"users\": [$scim_users]}"
start_sim finance webhook_sim.py '{"secret": "demo-finance-key"}'
(umask 077; printf demo-secret >"$work/sim/graph.secret"; printf demo-scim-token >"$work/sim/scim.token"
 printf demo-finance-key >"$work/sim/finance.key")

# The shipped example config (dry_run) in enforce mode, with its state under
# the demo's temp dir, and Microsoft 365 and GitHub moved from the local
# inventory to their vendors.
sed -e "s#^state_dir = .*#state_dir = \"$work/state\"#" \
    -e 's/^mode = .*/mode = "enforce"/' \
    -e '/^id = "m365"/,/^connector/ s/^connector = .*/connector = "graph"/' \
    -e '/^id = "github"/,/^connector/ s/^connector = .*/connector = "github_scim"/' \
    packaging/config/reclaim.toml > "$work/reclaim.toml"
cat >>"$work/reclaim.toml" <<TOML

[connector.graph]
type = "msgraph"
tenant = "contoso"
client_id = "reclaim-demo"
client_secret_file = "$work/sim/graph.secret"
base_url = "$graph_url/v1.0"
token_url = "$graph_url/contoso/oauth2/v2.0/token"
user_attribute = "mail"
skus = { M365_E5 = "$e5" }

[connector.github_scim]
type = "scim"
base_url = "$scim_url/scim/v2"
token_file = "$work/sim/scim.token"
user_attribute = "mail"

[connector.finance]
type = "webhook"
url = "$finance_url/hooks/finance"
secret_file = "$work/sim/finance.key"
targets = ["finance"]

# Who may act through reclaimctl (docs/admin.md, "Who may do what"): the
# demo's own Unix user; the directory's admin DN is another person.
[access.person.demo-operator]
unix_users = ["$(id -un)"]
[access.person.directory-admin]
ldap_dns = ["cn=admin,dc=example,dc=com"]
[access.roles]
procurement = ["demo-operator"]
iam = ["demo-operator"]
auditor = ["demo-operator"]
TOML
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
  case $person in
    alice|carol) reclaimctl inventory grant --subject "$id" --app figma >/dev/null
                 reclaimctl inventory assign --subject "$id" --app figma --sku FIGMA_PRO >/dev/null ;;
    bob|erin)    reclaimctl inventory grant --subject "$id" --app sap >/dev/null
                 reclaimctl inventory assign --subject "$id" --app sap --sku SAP_PRO >/dev/null ;;
  esac
done
echo "   $(reclaimctl inventory list | grep -c licence) licences, $(reclaimctl inventory list | grep -vc licence) access grants (Figma, SAP)"
echo "   Microsoft Graph simulator $graph_url: 5 users with Microsoft 365 E5"
echo "   SCIM (GitHub) simulator $scim_url: alice, carol; finance webhook receiver $finance_url"

echo "== what a termination of bob would do (reclaimctl plan: a dry preview, nothing recorded)"
bob_id=$(ldapsearch -x -LLL -H "$SLAPD_SANDBOX_URI" -b "uid=bob,ou=People,dc=example,dc=com" -s base entryUUID |
         awk '/^entryUUID:/ {print $2}')
reclaimctl plan --subject "$bob_id" --from active --to terminated --attr departmentNumber=200 | sed 's/^/   /'

echo "== the day's changes (ldapmodify)"
ldapmodify -x -H "$SLAPD_SANDBOX_URI" -D "$SLAPD_SANDBOX_ROOTDN" -w "$SLAPD_SANDBOX_ROOTPW" \
  -f packaging/demo/changes.ldif | sed 's/^/   /'

# The plugin journals on its own thread, within milliseconds; wait for it,
# and for the engine to act on alice's termination (her critical
# applications go at once), so that her rehire below finds something to
# restore whatever the machine's speed.
wait_for() { for _ in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 0; }
wait_for '[[ $(reclaimctl events list --json | grep -c "\"seq\"") -ge 6 ]]'
wait_for '[[ $(reclaimctl actions list --plan 1 --state done --json | grep -c "\"revoke_access\"") -ge 1 ]]'

echo "== a week later alice is rehired (ldapmodify)"
ldapmodify -x -H "$SLAPD_SANDBOX_URI" -D "$SLAPD_SANDBOX_ROOTDN" -w "$SLAPD_SANDBOX_ROOTPW" \
  -f packaging/demo/rehire.ldif | sed 's/^/   /'
wait_for '[[ $(reclaimctl events list --json | grep -c "\"seq\"") -ge 7 ]]'

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
echo "== what a month later brings (a preview: nothing runs early): reclaimctl dispatch --at $(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)"
reclaimctl dispatch --at "$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%SZ)" | sed 's/^/   /'
echo "   licences in the inventory today: $(reclaimctl inventory list | grep -c licence)"
echo
echo "== what the vendors saw (simulator state)"
sim_state "$graph_url" | python3 -c 'import json,sys
for u in json.load(sys.stdin)["users"].values():
    print("   Graph  %-18s enabled=%-5s licences=%s" % (u["userPrincipalName"], u["accountEnabled"], [l["skuId"][:8] for l in u["assignedLicenses"]]))'
sim_state "$scim_url" | python3 -c 'import json,sys
for u in json.load(sys.stdin)["users"].values(): print("   SCIM   %-18s active=%s" % (u["userName"], u["active"]))'
sim_state "$finance_url" | python3 -c 'import json,sys
s = json.load(sys.stdin)
print("   finance: %d signed notifications accepted, %d refused" % (len(s["received"]), s["stats"]["refused"]))
for r in s["received"][:3]: print("     ", r["body"]["type"], r["body"]["application"]["id"], r["body"]["subject"]["name"])'
echo "   (Graph and SCIM have no API to hand a leaver's data to the manager: those"
echo "    transfer_ownership actions fail with an ALERT, for a person to take over)"
echo
echo "== the audit log (signed, tamper-evident; docs/audit.md): records by type"
sleep 1 # the engine's audit thread drains what dispatch recorded
reclaimctl audit show | awk '{print $3}' | sort | uniq -c | sed 's/^/   /'
echo "   one of them (reclaimctl audit show --json; names are pseudonymised and encrypted):"
reclaimctl audit show --json | python3 -c 'import json,sys; print(json.dumps(next(r for r in json.load(sys.stdin) if r["type"]=="plan_made")))' | sed 's/^/   /'
# Checkpoints are signed every 1,000 records or 5 minutes, and when the
# engine stops: stop slapd first, so the demo's few records are signed.
slapd_sandbox_stop "$work/ldap" >/dev/null 2>&1 || true
echo "== slapd stopped (the engine signs a checkpoint as it closes); reclaimctl audit verify --key \"\$(reclaimctl audit public-key)\""
rc=0; reclaimctl audit verify --key "$(reclaimctl audit public-key)" | sed 's/^/   /' || rc=$?
echo "   (exit 0 ok, 4 warnings only — records newer than the last checkpoint —, 1 tampered)"
echo
echo "(the journal is $work/state/journal.sqlite3; the audit log $work/state/audit/; plugin log: $work/ldap/plugin.log)"
