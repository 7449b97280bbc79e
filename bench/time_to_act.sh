#!/usr/bin/env bash
# time_to_act.sh — how long after a termination is acknowledged by slapd the
# vendor receives the reclamation call. slapd with the reclaim plugin
# (bench/time-to-act.toml: one critical-tier application, immediate
# revoke_access, enforce, in-process scheduler, audit on) and the SCIM
# simulator on loopback (bench/time_to_act_sim.py stamps each write's arrival
# time); ldap_modify_load terminates each of --people people once, paced over
# --seconds, and writes when each modify's response arrived. Per person:
# time of the simulator's first PATCH/DELETE for them minus that time.
# Prints p50/p90/p99/max (target p99 < 1 s) and the engine's own split
# (journalled -> planned -> action finished, from the state store).
# Not a test: exits 0 unless it breaks.
#
#   bench/time_to_act.sh [--people 1000] [--seconds 60] [--threads 4]
#       [--build-dir build] [--workdir DIR] [--keep] [--no-build] [--dbnosync]
set -u -o pipefail
{

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
people=1000 seconds=60 threads=4 build_dir="$root/build" workdir="" keep="" no_build="" dbnosync=""
usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --people) people="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --workdir) workdir="$2"; shift ;;
    --keep) keep=yes ;;
    --no-build) no_build=yes ;;
    --dbnosync) dbnosync=yes ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for v in people seconds threads; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 ]] || { echo "--$v needs a positive whole number" >&2; exit 2; }
done

# shellcheck source=../packaging/sandbox/slapd-sandbox.sh
source "$root/packaging/sandbox/slapd-sandbox.sh"
export LDAPNOINIT=1
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -z "$workdir" ]]; then workdir="$(mktemp -d /tmp/reclaim-tta.XXXXXX)"; else mkdir -p "$workdir"; fi
workdir="$(cd "$workdir" && pwd -P)"
sim_pid="" slapd_up=""
cleanup() {
  [[ -n "$slapd_up" ]] && slapd_sandbox_stop "$workdir/slapd" >/dev/null 2>&1
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; fi
  if [[ -z "$keep" ]]; then rm -rf -- "$workdir"; else log "kept $workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$no_build" ]]; then
  log "building ldap_modify_load and reclaim"
  cmake --build "$build_dir" -j2 --target ldap_modify_load reclaim >"$workdir/build.log" 2>&1 ||
    { tail -n 15 "$workdir/build.log" >&2; die "build failed"; }
fi
loadgen="$build_dir/bench/ldap_modify_load"
[[ -x "$loadgen" ]] || die "$loadgen not built"
plugin="$(find "$build_dir" -name 'libreclaim.so.1' \( -type f -o -type l \) 2>/dev/null | head -n 1)"
[[ -n "$plugin" ]] || die "libreclaim.so.1 not found under $build_dir"
cp -- "$(readlink -f -- "$plugin")" "$workdir/libreclaim.so.1" || die "cannot copy the plugin"

# --- the people, the simulator's users, the plugin config -----------------
"$loadgen" --generate-ldif "$people" >"$workdir/people.ldif" || die "LDIF generation failed"
python3 - "$people" >"$workdir/scim-seed.json" <<'PY' || die "seed generation failed"
import json, sys
n = int(sys.argv[1])
width = max(5, len(str(n - 1)))
users = [{"id": f"gh-user{i:0{width}d}", "userName": f"user{i:0{width}d}@example.com"} for i in range(n)]
json.dump({"token": "scim-token", "users": users}, sys.stdout)
PY
umask 077
printf 'scim-token' >"$workdir/scim.token"
python3 "$root/bench/time_to_act_sim.py" --port-file "$workdir/sim.port" --state "$workdir/scim-seed.json" \
  >"$workdir/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do [[ -s "$workdir/sim.port" ]] && break; sleep 0.1; done
[[ -s "$workdir/sim.port" ]] || die "the SCIM simulator did not start: $(tail -n 5 "$workdir/sim.log")"
sim_url="http://127.0.0.1:$(cat "$workdir/sim.port")"
mkdir -p "$workdir/state"
sed -e "s|@STATE_DIR@|$workdir/state|" -e "s|@SCIM_URL@|$sim_url|" -e "s|@TOKEN_FILE@|$workdir/scim.token|" \
  "$root/bench/time-to-act.toml" >"$workdir/reclaim.toml"

opts=(--quiet --no-ppolicy --ldif "$workdir/people.ldif" --plugin "$workdir/libreclaim.so.1"
      --plugin-config "$workdir/reclaim.toml")
[[ -n "$dbnosync" ]] && opts+=(--dbnosync)
slapd_sandbox_start "$workdir/slapd" "${opts[@]}" || die "slapd did not start"
slapd_up=yes
# The first change makes the engine record its baseline (a search of every
# person): one unwatched modify, so no termination waits for that.
printf 'dn: uid=%s,ou=People,dc=example,dc=com\nchangetype: modify\nreplace: description\ndescription: warm-up\n' \
    "$(sed -n 's/^uid: //p' "$workdir/people.ldif" | head -n 1)" |
  ldapmodify -x -H "$SLAPD_SANDBOX_URI" -D cn=admin,dc=example,dc=com -w secret >/dev/null || die "warm-up modify failed"
for _ in $(seq 300); do grep -q 'baseline:' "$workdir/slapd/plugin.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'baseline:' "$workdir/slapd/plugin.log" || die "no baseline in 30 s: $(tail -n 5 "$workdir/slapd/plugin.log")"

# --- the terminations ------------------------------------------------------
machine() { awk '/^cpu / { print $2 + $3 + $4 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
m0="$(machine)"
rate="$(awk -v n="$people" -v s="$seconds" 'BEGIN { printf "%.4f", n / s }')"
log "terminating $people people at $rate/s over ${seconds}s (SCIM simulator at $sim_url)"
json="$("$loadgen" --uri "$SLAPD_SANDBOX_URI" --threads "$threads" --entries "$people" --once 1 --rate "$rate" \
          --duration "$((seconds * 3 + 60))" --values active,terminated --times "$workdir/responses.txt" \
          --label time-to-act)" || die "load generator failed: $json"
log "load done: $json"
# Wait (up to 60 s) until every person's write has arrived.
for _ in $(seq 600); do
  got="$(curl -s "$sim_url/_control/state" | python3 -c 'import json,sys; print(len({s["user"] for s in json.load(sys.stdin)["stamps"]}))')"
  [[ "$got" -ge "$people" ]] && break
  sleep 0.1
done
m1="$(machine)"
curl -s "$sim_url/_control/state" >"$workdir/sim-state.json" || die "cannot read the simulator's state"
sqlite3 -separator ' ' "file:$workdir/state/journal.sqlite3?mode=ro" \
  "SELECT p.created_ms - e.recorded_ms, max(a.updated_ms) - p.created_ms FROM events e
     JOIN plans p ON p.event_seq = e.seq JOIN actions a ON a.plan_id = p.id
    WHERE e.state = 'terminated' GROUP BY p.id" >"$workdir/engine-split.txt" 2>/dev/null

echo
echo "time to act — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), slapd ${dbnosync:+dbnosync}${dbnosync:-durable}"
echo "$people terminations at $rate/s over ${seconds}s, $threads connections; machine busy $(awk -v a="$m0" -v b="$m1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", (y[1] - x[1]) * 100 / (y[2] - x[2]) }') % during the run (all processes)"
python3 - "$workdir/responses.txt" "$workdir/sim-state.json" "$workdir/engine-split.txt" "$people" <<'PY'
import json, sys
responses = {}
for line in open(sys.argv[1]):
    uid, us = line.split()
    responses[uid] = int(us) / 1e6
first = {}
for s in json.load(open(sys.argv[2]))["stamps"]:
    uid = s["user"][len("gh-"):]
    first[uid] = min(first.get(uid, s["t"]), s["t"])
lat = sorted((first[u] - t) * 1000 for u, t in responses.items() if u in first)
missing = [u for u in responses if u not in first]

def pct(v, p):
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, int(-(-p * len(v) // 100)) - 1))]

print(f"modify response -> SCIM write received, ms, over {len(lat)} of {sys.argv[4]} terminations "
      f"({len(responses)} modifies acknowledged, {len(missing)} without a write within 60 s after the load):")
if lat:
    print(f"  p50 {pct(lat, 50):.1f}  p90 {pct(lat, 90):.1f}  p99 {pct(lat, 99):.1f}  max {lat[-1]:.1f}  min {lat[0]:.1f}"
          f"   target p99 < 1000: {'met' if pct(lat, 99) < 1000 else 'MISSED'}")
split = [tuple(map(int, l.split())) for l in open(sys.argv[3]) if l.strip()]
if split:
    planned = sorted(a for a, _ in split)
    acted = sorted(b for _, b in split)
    print(f"engine split (state store, ms): journalled -> planned p50 {pct(planned, 50)} p99 {pct(planned, 99)} max {planned[-1]};"
          f" planned -> last action finished p50 {pct(acted, 50)} p99 {pct(acted, 99)} max {acted[-1]}")
PY
exit
}
