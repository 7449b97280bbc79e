#!/usr/bin/env bash
# slapd_plugin_overhead.sh — what the reclaim SLAPI plugin costs OpenLDAP
# slapd on modifies. For each commit mode (durable, dbnosync) it runs slapd
# without and with the plugin, alternating within each round (ABBA order, so
# slow drift of a shared machine hits both variants alike), every run on an
# identical fresh copy of one prebuilt 10,000-entry database and, for the
# plugin, an empty state_dir. Each run: warm-up, then a measured window of
# ldap_modify_load (8 connections, employeeType active <-> terminated).
# Prints medians per variant and the ratios with/without against the target
# (throughput >= 0.95x, p99 <= 1.10x). Not a test: exits 0 unless it breaks.
# --mix realistic makes the load a directory's everyday one instead (1 %
# status changes, the rest telephoneNumber/description/userPassword, a user
# bind and a search every 20 modifies per connection; targets 0.97x/1.05x).
# --enforce runs the plugin config in mode "enforce" with the guard off, so
# plans, dispatch (local connector, in-process scheduler) and audit all run.
# --lag samples the state store every second (events journalled, planned,
# immediately due actions still open, audit outbox), waits up to
# --drain S (60) after the load for the engine to catch up, and prints the
# engine's throughput (events planned/s, actions done/s) and its lag: the
# capacity figure for the worst-case load (--mix status). --rate R paces the
# load at R modifies/s (all connections together), to check that the lag
# stays bounded at a given rate of status changes.
# --split adds the variant "split" (issue 16): the plugin's config gets
# [engine] role = "intake" (slapd only journals) and a second process,
# tests/topology/engine_host (a reclaim.h-only host, as reclaim-scimd is)
# opened with RECLAIM_OPEN_ROLE_ENGINE on the same config and state_dir,
# plans, dispatches and appends the audit log beside slapd. Its CPU is not
# counted as other load; --lag samples and drains its lag as for "with".
# The verdict uses the same targets for it (>= 0.95x, p99 <= 1.10x).
#
#   bench/slapd_plugin_overhead.sh [--rounds 3] [--seconds 10] [--warmup 3]
#       [--threads 8] [--entries 10000] [--modes "durable dbnosync"]
#       [--null-plugin] [--ppolicy] [--plugin SO] [--build-dir build]
#       [--workdir DIR] [--keep] [--no-build] [--perf]
#       [--max-wait 900] [--noisy-limit 20] [--repeats 2] [--nice -10]
#       [--config TOML] [--also LABEL=TOML ...] [--state-root DIR]
#       [--mix status|realistic] [--enforce] [--lag] [--drain 60] [--rate R]
#       [--split]
# The plugin's config is a copy of --config (default $RECLAIM_BENCH_CONFIG or
# packaging/config/reclaim.toml) with state_dir pointed into the run; each
# --also LABEL=TOML adds a plugin variant with another config (e.g. a
# journal-only config, to tell the hook's cost from the policy engine's).
# --state-root DIR puts each run's state_dir under DIR instead (e.g. /dev/shm
# or another file system, to see what sharing slapd's disk costs).
# Before each run it waits (up to --max-wait s) until the machine is idle
# (< 15 % busy for 6 s); a run during which other processes took more than
# --noisy-limit % of the machine is discarded and repeated (--repeats times),
# then kept with its "other load" figure shown. --nice N renices this script
# and so everything it starts (slapd, the load): both variants alike, but
# other people's compilers then disturb the runs far less (root only for N<0).
# --perf adds, after the rounds, one profiled run (perf record -e cpu-clock)
# per mode and variant, not counted in the figures; the flat profiles go to
# <workdir>/perf-<mode>-<variant>.txt and are printed at the end.
set -u -o pipefail
# One compound command: bash parses all of it before running any, so an edit
# of this file during a (long) run cannot break that run.
{

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 seconds=10 warmup=3 threads=8 entries=10000 modes="durable dbnosync"
null_plugin="" ppolicy="" plugin="" build_dir="$root/build" workdir="" keep="" no_build="" perf_runs=""
max_wait=900 noisy_limit=20 repeats=2 nice_level="" state_root=""
mix=status enforce="" lag="" drain=60 rate="" split=""
config="${RECLAIM_BENCH_CONFIG:-$root/packaging/config/reclaim.toml}"
declare -A also_config=()
also_labels=()

usage() { sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --entries) entries="$2"; shift ;;
    --modes) modes="$2"; shift ;;
    --null-plugin) null_plugin=yes ;;
    --ppolicy) ppolicy=yes ;;
    --plugin) plugin="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --workdir) workdir="$2"; shift ;;
    --keep) keep=yes ;;
    --no-build) no_build=yes ;;
    --perf) perf_runs=yes ;;
    --max-wait) max_wait="$2"; shift ;;
    --noisy-limit) noisy_limit="$2"; shift ;;
    --repeats) repeats="$2"; shift ;;
    --nice) nice_level="$2"; shift ;;
    --config) config="$2"; shift ;;
    --state-root) state_root="$(readlink -f -- "$2")"; shift ;;
    --mix) mix="$2"; shift
      [[ "$mix" == status || "$mix" == realistic ]] || { echo "--mix needs status or realistic" >&2; exit 2; } ;;
    --enforce) enforce=yes ;;
    --lag) lag=yes ;;
    --drain) drain="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --split) split=yes ;;
    --also)
      [[ "$2" =~ ^([a-z0-9_-]+)=(.+)$ && "${BASH_REMATCH[1]}" != with* && "${BASH_REMATCH[1]}" != without && "${BASH_REMATCH[1]}" != null ]] ||
        { echo "--also needs LABEL=FILE (label: a-z 0-9 _ -, not with/without/null)" >&2; exit 2; }
      also_labels+=("${BASH_REMATCH[1]}"); also_config[${BASH_REMATCH[1]}]="$(readlink -f -- "${BASH_REMATCH[2]}")"
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for v in rounds seconds warmup threads entries max_wait noisy_limit repeats drain; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "--$v needs a whole number" >&2; exit 2; }
done

if [[ -n "$nice_level" ]]; then
  [[ "$nice_level" =~ ^-?[0-9]+$ ]] || { echo "--nice needs a number" >&2; exit 2; }
  renice -n "$nice_level" -p $$ >/dev/null || { echo "renice $nice_level failed" >&2; exit 1; }
fi

# shellcheck source=../packaging/sandbox/slapd-sandbox.sh
source "$root/packaging/sandbox/slapd-sandbox.sh"
export LDAPNOINIT=1
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -z "$workdir" ]]; then workdir="$(mktemp -d /tmp/reclaim-bench.XXXXXX)"; else mkdir -p "$workdir"; fi
workdir="$(cd "$workdir" && pwd -P)"
current=""
cleanup() {
  [[ -n "$current" ]] && slapd_sandbox_stop "$current" >/dev/null 2>&1
  if [[ -z "$keep" ]]; then rm -rf -- "$workdir"; else log "kept $workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -----------------------------------------------------------------
find_plugin() {
  [[ -n "$plugin" ]] && { readlink -f -- "$plugin"; return; }
  find "$build_dir" -name 'libreclaim.so.1' \( -type f -o -type l \) 2>/dev/null | head -n 1
}
loadgen="$build_dir/bench/ldap_modify_load"
if [[ -z "$no_build" ]]; then
  if [[ ! -f "$build_dir/CMakeCache.txt" ]] || ! grep -q '^RECLAIM_DEVELOPER:BOOL=ON' "$build_dir/CMakeCache.txt"; then
    log "configuring $build_dir"
    cmake -S "$root" -B "$build_dir" -DRECLAIM_DEVELOPER=ON >"$workdir/configure.log" 2>&1 ||
      { log "cmake configure failed:"; tail -n 15 "$workdir/configure.log" >&2; }
  fi
  # Only what the bench needs; everything is rebuilt if out of date.
  log "building ldap_modify_load and reclaim"
  cmake --build "$build_dir" -j2 --target ldap_modify_load >"$workdir/build.log" 2>&1 ||
    { log "building ldap_modify_load with cmake failed:"; tail -n 15 "$workdir/build.log" >&2; }
  if [[ -n "$split" ]] && ! cmake --build "$build_dir" -j2 --target engine_host >"$workdir/build.log" 2>&1; then
    log "building engine_host failed:"; tail -n 15 "$workdir/build.log" >&2
  fi
  if [[ -z "$plugin" ]] && ! cmake --build "$build_dir" -j2 --target reclaim >"$workdir/build.log" 2>&1; then
    log "building the plugin failed:"; tail -n 15 "$workdir/build.log" >&2
  fi
fi
if [[ ! -x "$loadgen" ]]; then
  # The load generator needs nothing of the project; build it by hand.
  loadgen="$workdir/ldap_modify_load"
  log "building $loadgen with g++ directly"
  g++ -std=c++20 -O2 -o "$loadgen" "$root/bench/ldap_modify_load.cpp" -lldap -llber -pthread ||
    die "cannot build ldap_modify_load"
fi
plugin="$(find_plugin)"
engine_host=""
if [[ -n "$split" ]]; then
  engine_host="$(find "$build_dir" -name engine_host -type f -perm -u+x 2>/dev/null | head -n 1)"
  [[ -n "$engine_host" ]] || die "--split needs tests/topology/engine_host (cmake --build $build_dir --target engine_host)"
  cp -- "$engine_host" "$workdir/engine_host" && engine_host="$workdir/engine_host" || die "cannot copy engine_host"
fi
[[ -n "$plugin" && -f "$plugin" ]] || die "libreclaim.so.1 not found under $build_dir (build it: cmake -S . -B build -DRECLAIM_DEVELOPER=ON && cmake --build build -j2)"

# --- work area and the database every run starts from ---------------------

# A private copy: a rebuild in build/ during the benchmark must not change
# the binary between rounds.
cp -- "$plugin" "$workdir/libreclaim.so.1" || die "cannot copy $plugin"
plugin_src="$plugin"; plugin="$workdir/libreclaim.so.1"
keep_run=""

common=(--quiet)
[[ -z "$ppolicy" ]] && common+=(--no-ppolicy)

log "generating $entries people"
"$loadgen" --generate-ldif "$entries" >"$workdir/people.ldif" || die "LDIF generation failed"
log "loading them into the golden database"
slapd_sandbox_start "$workdir/golden" "${common[@]}" --ldif "$workdir/people.ldif" || die "golden load failed"
slapd_sandbox_stop "$workdir/golden"

null_so=""
if [[ -n "$null_plugin" ]]; then
  null_so="$workdir/null-plugin.so"
  cc -O2 -shared -fPIC -o "$null_so" "$root/packaging/sandbox/probe-plugin.c" || die "cannot build the null plugin"
fi

[[ -r "$config" ]] || die "plugin config not found: $config"
target_tput=0.95 target_p99=1.10
[[ "$mix" == realistic ]] && target_tput=0.97 target_p99=1.05
[[ -n "$lag" ]] && ! command -v sqlite3 >/dev/null && die "--lag needs the sqlite3 shell (apt-get install sqlite3)"
variants=(without)
[[ -n "$null_so" ]] && variants+=(null)
variants+=(with)
[[ -n "$split" ]] && variants+=(split)
variants+=("${also_labels[@]}")

clk_tck="$(getconf CLK_TCK 2>/dev/null || echo 100)"
# "busy total" jiffies of the whole machine (all CPUs) from /proc/stat.
machine_jiffies() {
  # busy = user nice system steal; irq/softirq left out (loopback TCP of the
  # benchmark itself lands there, not in any process).
  awk '/^cpu / { busy = $2 + $3 + $4 + $9; print busy, busy + $5 + $6 + $7 + $8; exit }' /proc/stat
}
# utime + stime jiffies of one process (fields after the ")" of comm).
process_jiffies() {
  sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
# Bytes the process caused to be written to storage (write-back included).
process_written() { awk '/^write_bytes:/ { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
# A run's directory, and its state_dir when --state-root put it elsewhere.
remove_run() {
  rm -rf -- "$1"
  if [[ -n "$state_root" ]]; then rm -rf -- "${state_root:?}/$(basename -- "$1")"; fi
}
json_field() { sed -nE "s/.*\"$1\": ([0-9.]+).*/\\1/p" <<<"$2"; }

# --lag: one line a second until killed: unix ms, events journalled (max
# seq), events planned (planner_progress), actions due now and still pending
# or running, actions finished (done/already_done/failed/dead), audit records waiting in
# the outbox. Read-only queries; a busy
# store is waited for up to 2 s. A reader holds a snapshot while it reads,
# which can hold back a checkpoint: one sample a second, no more.
lag_query() {
  sqlite3 -cmd '.timeout 2000' -separator ' ' "file:$1?mode=ro" "SELECT
    CAST(strftime('%s','now') AS INTEGER) * 1000,
    (SELECT coalesce(max(seq), 0) FROM events), (SELECT coalesce(max(last_seq), 0) FROM planner_progress),
    (SELECT count(*) FROM actions WHERE status IN ('pending','running')
       AND due_ms <= CAST(strftime('%s','now') AS INTEGER) * 1000),
    (SELECT count(*) FROM actions WHERE status IN ('done','already_done','failed','dead')),
    (SELECT count(*) FROM audit_outbox)" 2>/dev/null
}
sample_lag() {
  while :; do
    local line; line="$(lag_query "$1")"
    [[ -n "$line" ]] && printf '%s\n' "$line"
    sleep 1
  done
}
# After the load: stops the sampler, waits (up to --drain s) until nothing is
# left to plan, dispatch (due now) or append to the audit log, and prints one
# summary line, and the same figures tab-separated into $2.row (appended to
# the workdir's lag.tsv only when the run is kept).
drain_lag() {
  local db="$1" samples="$2" sampler="$3" end_line t0 line
  end_line="$(lag_query "$db")"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  t0=${EPOCHREALTIME//[!0-9]/}
  line="$end_line"
  local deadline=$(( ${EPOCHREALTIME//[!0-9]/} + drain * 1000000 ))
  while [[ -n "$line" ]] && ! awk '{ exit !($2 == $3 && $4 == 0 && $6 == 0) }' <<<"$line" &&
        ((${EPOCHREALTIME//[!0-9]/} < deadline)); do
    sleep 1; line="$(lag_query "$db")"
  done
  local drain_s=$(( (${EPOCHREALTIME//[!0-9]/} - t0) / 100000 ))
  awk -v endl="$end_line" -v fin="$line" -v d="$((drain_s / 10)).$((drain_s % 10))" -v w="$warmup" -v m="$4" -v va="$5" -v r="$6" \
      -v out="$samples.row" '
    { n++; t[n] = $1; ev[n] = $2; pl[n] = $3; due[n] = $4; fin_a[n] = $5; ob[n] = $6
      if ($2 - $3 > maxplan) maxplan = $2 - $3; if ($4 > maxdue) maxdue = $4; if ($6 > maxob) maxob = $6 }
    END {
      split(endl, e, " "); split(fin, f, " ")
      # rates over the samples after the warm-up, to the end of the load
      first = 1; while (first < n && t[first] - t[1] < w * 1000) first++
      secs = (e[1] - t[first]) / 1000
      ev_s = secs > 0 ? (e[2] - ev[first]) / secs : 0; pl_s = secs > 0 ? (e[3] - pl[first]) / secs : 0
      ac_s = secs > 0 ? (e[5] - fin_a[first]) / secs : 0
      left = (f[2] == f[3] && f[4] == 0 && f[6] == 0) ? "caught up" : "NOT caught up"
      printf "journalled %.0f events/s, planned %.0f/s, actions finished %.0f/s; lag max: %d unplanned events, %d due actions open, %d audit records; at load end %d/%d/%d; %s %ss after the load\n",
        ev_s, pl_s, ac_s, maxplan, maxdue, maxob, e[2] - e[3], e[4], e[6], left, d
      printf "%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", m, va, r, ev_s, pl_s, ac_s,
        maxplan, maxdue, maxob, e[2] - e[3], e[4], e[6], d, left > out
    }' "$samples"
}

# Waits until the machine is nearly idle: shared 2-CPU machines run other
# people's builds, which would otherwise land in one variant's figures.
wait_quiet() {
  local waited=0 busy m0 m1 calm=0
  while :; do
    m0="$(machine_jiffies)"; sleep 3; m1="$(machine_jiffies)"
    busy="$(awk -v a="$m0" -v b="$m1" 'BEGIN { split(a, x, " "); split(b, y, " ");
      t = y[2] - x[2]; printf "%d", (t > 0 ? (y[1] - x[1]) * 100 / t : 0) }')"
    if ((busy < 15)); then calm=$((calm + 1)); else calm=0; fi
    ((calm >= 2)) && return 0  # idle for 6 s in a row
    if ((waited >= max_wait)); then log "machine ${busy}% busy after waiting ${waited}s; running anyway"; return 0; fi
    ((waited == 0 && calm == 0)) && log "machine ${busy}% busy (other work); waiting up to ${max_wait}s for it to settle"
    waited=$((waited + 3))
  done
}

# One run: fresh copy of the golden DB, fresh plugin state, start, load, stop.
# Appends one line to results.tsv:
#   mode variant round ops_per_s p50 p99 errors all_ops slapd_us_per_op
#   other_cpu_pct journalled stop_seconds status_changes
run_one() {
  local mode="$1" variant="$2" round="$3" profile="${4:-}" last_try="${5-yes}" run="$workdir/run-$1-$2-$3"
  local -a opts=("${common[@]}")
  rm -rf -- "$run"; mkdir -p "$run"
  cp -a --sparse=always "$workdir/golden/db" "$run/db" || die "copy of the golden db failed"
  [[ "$mode" == dbnosync ]] && opts+=(--dbnosync)
  case "$variant" in
    without) ;;
    null) opts+=(--plugin "$null_so") ;;
    *)
      mkdir -m 0700 "$run/state"
      local source_config="$config"
      [[ "$variant" != with && "$variant" != split ]] && source_config="${also_config[$variant]}"
      local state_dir="$run/state"
      if [[ -n "$state_root" ]]; then
        state_dir="$state_root/$(basename -- "$run")/state"
        rm -rf -- "$state_dir" "$run/state" && mkdir -p -m 0700 -- "$state_dir" && ln -s -- "$state_dir" "$run/state"
      fi
      local -a edits=(-e "s|^([[:space:]]*state_dir[[:space:]]*=).*|\1 \"$state_dir\"|")
      # enforce, and no mass-revocation guard: a held plan is never
      # dispatched, and dispatch is part of what is measured.
      [[ -n "$enforce" ]] && edits+=(-e 's|^([[:space:]]*mode[[:space:]]*=).*|\1 "enforce"|'
        -e 's|^([[:space:]]*max_events[[:space:]]*=).*|\1 0|' -e 's|^([[:space:]]*max_percent[[:space:]]*=).*|\1 0.0|')
      [[ "$variant" == split ]] && edits+=(-e 's|^\[engine\][[:space:]]*$|[engine]\nrole = "intake"|')
      sed -E "${edits[@]}" "$source_config" >"$run/reclaim.toml"
      chmod 0600 "$run/reclaim.toml"
      opts+=(--plugin "$plugin" --plugin-config "$run/reclaim.toml") ;;
  esac
  current="$run"
  slapd_sandbox_start "$run" "${opts[@]}" || die "slapd did not start ($mode, $variant)"
  local pid="$SLAPD_SANDBOX_PID" m0 m1 p0 p1 w0 w1 json host_pid="" h0=0 h1=0
  if [[ "$variant" == split ]]; then
    # The engine's process beside slapd (LD_LIBRARY_PATH: the same private
    # copy of the library slapd loaded).
    LD_LIBRARY_PATH="$workdir" "$engine_host" --config "$run/reclaim.toml" --role engine --ready "$run/host.ready" \
      2>"$run/engine_host.log" &
    host_pid=$!
    for _ in $(seq 300); do [[ -f "$run/host.ready" ]] && break; sleep 0.05; done
    [[ -f "$run/host.ready" ]] || die "engine_host did not start: $(tail -n 5 "$run/engine_host.log")"
  fi
  local perf_pid=""
  if [[ -n "$profile" ]]; then
    perf record -q -e cpu-clock -F 1000 -g -p "$pid" -o "$run.perf.data" -- sleep "$((warmup + seconds))" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  # The engine records its baseline (a search of every person) on the first
  # change after start: one unwatched modify first, in every variant, so no
  # measured window (nor the status changes of the warm-up) holds it.
  printf 'dn: uid=%s,ou=People,dc=example,dc=com\nchangetype: modify\nreplace: description\ndescription: warm-up\n' \
      "$(sed -n 's/^uid: //p' "$workdir/people.ldif" | head -n 1)" |
    ldapmodify -x -H "$SLAPD_SANDBOX_URI" -D cn=admin,dc=example,dc=com -w secret >/dev/null ||
    log "the warm-up modify failed"
  if [[ -f "$run/reclaim.toml" ]]; then
    for _ in $(seq 600); do grep -q 'baseline:' "$run/plugin.log" 2>/dev/null && break; sleep 0.1; done
  fi
  local sampler=""
  if [[ -n "$lag" && -z "$profile" && -f "$run/state/journal.sqlite3" ]]; then
    sample_lag "$run/state/journal.sqlite3" >"$run/lag.tsv" &
    sampler=$!
  fi
  m0="$(machine_jiffies)"; p0="$(process_jiffies "$pid")"; w0="$(process_written "$pid")"
  [[ -n "$host_pid" ]] && h0="$(process_jiffies "$host_pid")"
  json="$("$loadgen" --uri "$SLAPD_SANDBOX_URI" --threads "$threads" --entries "$entries" --mix "$mix" ${rate:+--rate "$rate"} \
            --warmup "$warmup" --duration "$seconds" --label "$mode/$variant/$round")" ||
    log "load generator reported a failure: $json"
  m1="$(machine_jiffies)"; p1="$(process_jiffies "$pid")"; w1="$(process_written "$pid")"
  [[ -n "$host_pid" ]] && h1="$(process_jiffies "$host_pid")"
  local lag_line=""
  if [[ -n "$sampler" ]]; then
    lag_line="$(drain_lag "$run/state/journal.sqlite3" "$run/lag.tsv" "$sampler" "$mode" "$variant" "$round")"
  fi
  if [[ -n "$host_pid" ]]; then
    kill -TERM "$host_pid" 2>/dev/null; wait "$host_pid" 2>/dev/null
    grep -qiE 'ALERT|failed' "$run/engine_host.log" && log "engine_host log has complaints: $(grep -ciE 'ALERT|failed' "$run/engine_host.log") lines"
  fi
  # Share of slapd's CPU taken by its busiest thread: far above 1/threads
  # means one (plugin background) thread, not the operation threads.
  local busiest
  busiest="$(for t in /proc/"$pid"/task/*/stat; do sed -E 's/^.*\) //' "$t" 2>/dev/null | awk '{ print $12 + $13 }'; done |
    awk '{ s += $1; if ($1 > m) m = $1 } END { printf "%.0f", (s > 0 ? m * 100 / s : 0) }')"
  if [[ -n "$perf_pid" ]]; then
    wait "$perf_pid"
    {
      echo "## slapd CPU profile, $mode, $variant (perf record -e cpu-clock; by DSO)"
      perf report -i "$run.perf.data" --stdio --no-children --sort dso -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$'
      echo "## by thread (one slapd thread far above the others is a plugin background thread)"
      perf report -i "$run.perf.data" --stdio --no-children --sort pid,dso -g none --percent-limit 1.5 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 12
      echo "## by symbol (top 40)"
      perf report -i "$run.perf.data" --stdio --no-children --sort dso,sym -g none --percent-limit 0.4 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 40
    } >"$workdir/perf-$mode-$variant.txt"
    [[ -n "$keep" ]] || rm -f -- "$run.perf.data"
    log "$mode/$variant profiled run: $(json_field ops_per_s "$json")/s (not counted)"
    slapd_sandbox_stop "$run"; current=""; [[ -n "$keep" ]] || remove_run "$run"
    return 0
  fi
  printf '%s\n' "$json" >>"$workdir/runs.jsonl"
  if ! _slapd_sandbox_alive "$pid"; then
    log "slapd died during $mode/$variant/$round; last lines of its log:"; tail -n 10 "$run/slapd.log" >&2
    p1="$p0"
  fi
  local stop_s t_stop=${EPOCHREALTIME//[!0-9]/}
  slapd_sandbox_stop "$run"; current=""
  stop_s="$(( (${EPOCHREALTIME//[!0-9]/} - t_stop) / 100000 ))"; stop_s="$((stop_s / 10)).$((stop_s % 10))"

  local ops p50 p99 errors all_ops gen_cpu us_per_op other journalled="-" status_changes
  ops="$(json_field ops_per_s "$json")"; p50="$(json_field p50 "$json")"
  p99="$(json_field p99 "$json")"; errors="$(json_field errors "$json")"
  all_ops="$(json_field all_ops "$json")"; gen_cpu="$(json_field cpu_s "$json")"
  status_changes="$(json_field status_changes "$json")"
  # slapd CPU per modify (whole run incl. warm-up, plugin threads included),
  # and the share of the machine that neither slapd nor the load took: other
  # tenants, builds, the hypervisor (steal). High values mean a noisy run.
  read -r us_per_op other < <(awk -v m0="$m0" -v m1="$m1" -v p0="$p0" -v p1="$p1" \
      -v hz="$clk_tck" -v n="${all_ops:-0}" -v g="${gen_cpu:-0}" -v hj="$((h1 - h0))" 'BEGIN {
    split(m0, a, " "); split(m1, b, " ")
    busy = b[1] - a[1] - hj; total = b[2] - a[2]; slapd = p1 - p0
    us = n > 0 ? slapd / hz * 1e6 / n : 0
    other = total > 0 ? (busy - slapd - g * hz) / total * 100 : 0
    if (other < 0) other = 0
    printf "%.1f %.1f\n", us, other }')
  if [[ -z "$last_try" ]] && awk -v o="$other" -v l="$noisy_limit" 'BEGIN { exit !(o > l) }'; then
    log "$mode/$variant #$round: $(json_field ops_per_s "$json")/s but other load ${other}% > ${noisy_limit}%; discarded, repeating"
    remove_run "$run"
    return 3
  fi
  [[ -f "$run/lag.tsv.row" ]] && cat "$run/lag.tsv.row" >>"$workdir/lag.tsv"
  if [[ -f "$run/state/journal.sqlite3" ]] && command -v sqlite3 >/dev/null; then
    journalled="$(sqlite3 "$run/state/journal.sqlite3" 'SELECT count(*) FROM events' 2>/dev/null || echo "?")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$variant" "$round" "$ops" "$p50" \
    "$p99" "$errors" "$all_ops" "$us_per_op" "$other" "$journalled" "$stop_s" "${status_changes:-$all_ops}" \
    >>"$workdir/results.tsv"
  local extra=""
  if [[ -d "$run/state" ]]; then
    extra=", journalled $journalled of $all_ops modifies"
    local complaints
    complaints="$(grep -vE 'loaded with|engine started|baseline:|Registered plugin' "$run/plugin.log" 2>/dev/null |
      grep -ciE 'error|fail|full|drop|not journalled|cannot|refus')"
    [[ "${complaints:-0}" -gt 0 ]] && extra+=", plugin.log has $complaints complaint lines (kept in $run)"
    [[ "${complaints:-0}" -gt 0 ]] && keep_run=yes && keep=yes
  fi
  [[ -n "$lag_line" ]] && log "$mode/$variant #$round engine: $lag_line"
  log "$mode/$variant #$round: $ops/s p50 $p50 ms p99 $p99 ms, slapd ${us_per_op} µs CPU/modify, $(awk -v a="$w0" -v b="$w1" -v n="${all_ops:-0}" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / 1024 / n : 0) }') KiB written/modify (busiest thread ${busiest}%), other load ${other}%, errors $errors, stop ${stop_s}s$extra"
  if [[ -z "$keep" && -z "${keep_run:-}" ]]; then remove_run "$run"; else rm -rf -- "$run/db"; fi
  keep_run=""
}

: >"$workdir/results.tsv"
log "plugin: $plugin_src ($(sha256sum "$plugin" | cut -c1-12), built $(date -r "$plugin_src" +%H:%M))"
log "$rounds rounds x ${#variants[@]} variants x (${warmup}s warm-up + ${seconds}s) per mode: $modes"
for mode in $modes; do
  for ((r = 1; r <= rounds; r++)); do
    order=("${variants[@]}")
    if ((r % 2 == 0)); then  # ABBA: reverse every other round
      order=(); for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
    fi
    for variant in "${order[@]}"; do
      for ((try = 0; try <= repeats; try++)); do
        wait_quiet
        run_one "$mode" "$variant" "$r" "" "$( ((try == repeats)) && echo yes)" && break
      done
    done
  done
done

if [[ -n "$perf_runs" ]]; then
  if perf record -q -e cpu-clock -o "$workdir/perf.check" -- true >/dev/null 2>&1; then
    for mode in $modes; do for variant in "${variants[@]}"; do
      [[ "$variant" == null ]] || { wait_quiet; run_one "$mode" "$variant" p yes; }
    done; done
  else
    log "perf record does not work here; no profiles"; perf_runs=""
  fi
fi

# --- summary: medians over rounds, ratios against "without" ---------------
summary() {
  awk -F'\t' -v variants="${variants[*]}" -v modes="$modes" -v nrounds="$rounds" -v noisy="$noisy_limit" \
      -v tt="$target_tput" -v tp="$target_p99" '
    function sorted(key, a,   n, i, j, t) {
      n = split(vals[key], a, " ")
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n
    }
    function median(key,   n, a) {
      n = sorted(key, a)
      if (n == 0) return 0
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function range(key, fmt,   n, a) {
      n = sorted(key, a)
      return n ? sprintf(fmt "–" fmt, a[1], a[n]) : "-"
    }
    function total(key,   n, a, i, t) { n = split(vals[key], a, " "); t = 0; for (i = 1; i <= n; i++) t += a[i]; return t }
    { for (f = 4; f <= 13; f++) vals[$1 SUBSEP $2 SUBSEP f] = vals[$1 SUBSEP $2 SUBSEP f] " " $f
      for (f = 4; f <= 9; f++) cell[$1 SUBSEP $3 SUBSEP $2 SUBSEP f] = $f }
    END {
      nv = split(variants, V, " "); nm = split(modes, M, " ")
      print "| mode | plugin | modifies/s, median (range) | p50 ms | p99 ms (range) | slapd CPU µs/modify | other load % | errors |"
      print "|---|---|---|---|---|---|---|---|"
      for (m = 1; m <= nm; m++) for (v = 1; v <= nv; v++) {
        k = M[m] SUBSEP V[v]
        printf "| %s | %s | %.0f (%s) | %.2f | %.2f (%s) | %.0f | %.0f (%s) | %d |\n", M[m], V[v],
          median(k SUBSEP 4), range(k SUBSEP 4, "%.0f"), median(k SUBSEP 5), median(k SUBSEP 6),
          range(k SUBSEP 6, "%.1f"), median(k SUBSEP 9), median(k SUBSEP 10), range(k SUBSEP 10, "%.0f"),
          total(k SUBSEP 7)
      }
      print ""
      for (m = 1; m <= nm; m++) for (v = 1; v <= nv; v++) {
        if (V[v] == "without") continue
        b = M[m] SUBSEP "without"; k = M[m] SUBSEP V[v]
        rt = median(b SUBSEP 4) > 0 ? median(k SUBSEP 4) / median(b SUBSEP 4) : 0
        rp = median(b SUBSEP 6) > 0 ? median(k SUBSEP 6) / median(b SUBSEP 6) : 0
        rc = median(b SUBSEP 9) > 0 ? median(k SUBSEP 9) / median(b SUBSEP 9) : 0
        # Paired ratios: each round compares runs adjacent in time.
        pr = ""; pp = ""
        for (r = 1; r <= nrounds; r++) {
          a = cell[M[m] SUBSEP r SUBSEP V[v] SUBSEP 4]; c = cell[M[m] SUBSEP r SUBSEP "without" SUBSEP 4]
          d = cell[M[m] SUBSEP r SUBSEP V[v] SUBSEP 6]; e = cell[M[m] SUBSEP r SUBSEP "without" SUBSEP 6]
          pr = pr sprintf(" %.3f", c > 0 ? a / c : 0); pp = pp sprintf(" %.3f", e > 0 ? d / e : 0)
        }
        if (V[v] == "with" || V[v] == "split") {
          vt = (rt >= tt) ? "met" : "MISSED"; vp = (rp <= tp) ? "met" : "MISSED"
          # A verdict needs both variants measured on a quiet machine.
          if (median(b SUBSEP 10) > noisy + 0 || median(k SUBSEP 10) > noisy + 0) {
            vt = vt ", but NOT RELIABLE: other load above " noisy "%"; vp = vp ", but NOT RELIABLE" }
          printf "%s, %s/without: throughput %.3fx (target >= %s: %s), p99 %.3fx (target <= %s: %s), slapd CPU per modify %.2fx\n",
            M[m], V[v], rt, tt, vt, rp, tp, vp, rc
        } else {
          printf "%s, %s/without: throughput %.3fx, p99 %.3fx, slapd CPU per modify %.2fx\n", M[m], V[v], rt, rp, rc
        }
        if (V[v] != "null") {
          j = total(k SUBSEP 11); o = total(k SUBSEP 13)
          if (vals[k SUBSEP 11] !~ /[-?]/)
            printf "  journalled %d events for %d successful status changes when slapd had stopped (the rest is left to catch-up)\n", j, o
          printf "  slapd stop (TERM; KILL after 10 s) took %s s without, %s s with the plugin\n", range(b SUBSEP 12, "%.1f"), range(k SUBSEP 12, "%.1f")
        }
        printf "  per round, throughput:%s; p99:%s\n", pr, pp
      }
    }' "$workdir/results.tsv"
}

echo
echo "slapd modify overhead of the reclaim plugin — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r)"
echo "plugin config: $config${also_labels[*]:+; also: }$(for l in "${also_labels[@]}"; do printf '%s=%s ' "$l" "${also_config[$l]}"; done)"
echo "slapd $("$(_slapd_sandbox_bin slapd "${SLAPD:-}")" -VV 2>&1 | sed -n 's/.*slapd \([^ ]*\) .*/\1/p' | head -n 1), plugin $plugin_src (sha256 $(sha256sum "$plugin" | cut -c1-12)), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "$rounds rounds, ${warmup}s warm-up + ${seconds}s measured per run, $threads connections, $entries entries, ppolicy ${ppolicy:-off}, nice ${nice_level:-0}"
echo "load: ${rate:+paced at $rate modifies/s, }--mix $mix$([[ "$mix" == realistic ]] && echo " (1 % status changes; telephoneNumber/description/userPassword; a bind + a search every 20 modifies per connection)")${enforce:+; plugin config in enforce mode, guard off}"
echo
summary
if [[ "$mix" == realistic && -s "$workdir/runs.jsonl" ]]; then
  echo
  echo "binds and searches (median over runs of each run's p99, ms):"
  python3 - "$workdir/runs.jsonl" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    runs.setdefault(r["label"].rsplit("/", 1)[0], []).append(r)
for key, rs in runs.items():
    med = lambda f: statistics.median(f(r) for r in rs)
    print(f"  {key}: bind p99 {med(lambda r: r['binds']['p99']):.2f}, search p99 {med(lambda r: r['searches']['p99']):.2f},"
          f" binds+searches/s {med(lambda r: (r['binds']['ops'] + r['searches']['ops']) / r['seconds']):.0f},"
          f" errors {sum(r['binds']['errors'] + r['searches']['errors'] for r in rs)},"
          f" status changes per run {med(lambda r: r['status_changes']):.0f} of {med(lambda r: r['all_ops']):.0f} modifies")
PY
fi
if [[ -s "$workdir/lag.tsv" ]]; then
  echo
  echo "engine throughput and lag (--lag; rates over the measured window; lag = events journalled - planned,"
  echo "actions due now and not finished, audit records not yet appended):"
  echo "| mode | plugin | round | journalled/s | planned/s | actions finished/s | max unplanned | max due open | max audit outbox | at load end (unplanned/due/outbox) | drained after | |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s | %s | %.0f | %.0f | %.0f | %d | %d | %d | %d/%d/%d | %s s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 }' "$workdir/lag.tsv"
fi
echo
echo "raw runs: $workdir/runs.jsonl${keep:+ (kept)}"
[[ -n "$keep" ]] || { echo; echo "--- runs.jsonl"; cat "$workdir/runs.jsonl"; }
if [[ -n "$perf_runs" ]]; then
  for f in "$workdir"/perf-*.txt; do echo; cat "$f"; done
fi
exit
}
