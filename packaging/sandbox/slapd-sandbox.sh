#!/usr/bin/env bash
# slapd-sandbox.sh — a throwaway OpenLDAP slapd on loopback for demos, tests
# and benchmarks, optionally with the reclaim SLAPI plugin loaded.
#
# As a library:   source packaging/sandbox/slapd-sandbox.sh
#                 slapd_sandbox_start "$dir" --base [--plugin SO --plugin-config TOML] ...
#                 ... use $SLAPD_SANDBOX_URI ...
#                 slapd_sandbox_stop "$dir"
# As a CLI:       bash packaging/sandbox/slapd-sandbox.sh start DIR [options]
#                 bash packaging/sandbox/slapd-sandbox.sh stop DIR
#
# Everything lives in DIR: slapd.conf (or slapd.d), db/, slapd.pid, slapd.log
# (slapd's stderr), plugin.log (the SLAPI plugin log) and sandbox.env (a
# sourceable file with PORT, PID, URI, ...). slapd runs in the foreground
# (-d) as the calling user, detached from the caller's job table; it is only
# ever stopped through the pid in DIR, never by name.
#
# The library sets no shell options and defines only slapd_sandbox_* and
# _slapd_sandbox_* names plus the exported SLAPD_SANDBOX_* variables.
#
# ppolicy (observed with slapd 2.5.13, see selftest.sh): the rootdn sets
# pwdAccountLockedTime: 000001010000Z with a plain modify (no relax control
# needed; the attribute is built into the ppolicy overlay, no schema file).
# With a password policy in force (--base loads one and ppolicy_default
# points at it) that user's binds then fail with invalidCredentials (49);
# without a policy entry the value is stored but not enforced. A user cannot
# set it on their own entry (insufficientAccess, 50).
# nsAccountLock (reclaim-lifecycle.schema) has Boolean syntax: only "TRUE"
# and "FALSE" are accepted; "true" is refused as invalid syntax (21).

SLAPD_SANDBOX_SUFFIX="dc=example,dc=com"
SLAPD_SANDBOX_ROOTDN="cn=admin,dc=example,dc=com"
SLAPD_SANDBOX_ROOTPW="secret"
SLAPD_SANDBOX_CONFIG_ROOTDN="cn=admin,cn=config"

# Where this file lives, to find packaging/ldap/reclaim-lifecycle.schema.
_slapd_sandbox_self="${BASH_SOURCE[0]}"
_slapd_sandbox_here="$(cd "$(dirname "$_slapd_sandbox_self")" && pwd)"

_slapd_sandbox_usage() {
  cat <<'EOF'
usage: slapd-sandbox.sh start DIR [options]
       slapd-sandbox.sh stop DIR
       slapd-sandbox.sh status DIR
       slapd-sandbox.sh env DIR        (print DIR/sandbox.env)

start options:
  --cn-config            convert slapd.conf to slapd.d (slaptest) and run slapd -F
  --plugin SO            load SO as SLAPI post-operation plugin (reclaim_slapi_init)
  --plugin-config TOML   argument passed to the plugin (its config file)
  --plugin-init NAME     init symbol (default reclaim_slapi_init)
  --dbnosync             back_mdb 'dbnosync' (no fsync per commit)
  --server-id N          global 'serverID N'
  --extra FILE           append FILE to the config, inside the mdb database
                         section (syncrepl stanzas, overlay syncprov, ...);
                         may be repeated
  --ldif FILE            slapadd FILE before start; may be repeated
  --base                 slapadd the suffix entry, ou=People, ou=Leavers, ou=Groups
                         and the default password policy cn=default,ou=Policies
  --fresh                delete DIR/db (and slapd.d) left by an earlier run
  --no-ppolicy           leave out the ppolicy overlay
  --module NAME          extra 'moduleload NAME' (syncprov is always loaded)
  --port N               listen on this port instead of a free one
  --loglevel LEVEL       slapd -d LEVEL into DIR/slapd.log (default: none, i.e.
                         errors only; e.g. stats for one line per operation)
  --syslog LEVEL         slapd.conf 'loglevel' (to syslog; default 0 = off)
  --timeout SECONDS      readiness timeout (default 20)
  --quiet                do not print PORT=/PID=/URI= lines

The database is kept between starts in the same DIR unless --fresh is given,
so stop + start is a restart. The config (and slapd.d) is rewritten on every
start. Fixed: suffix dc=example,dc=com, rootdn cn=admin,dc=example,dc=com,
password secret; cn=config is writable as cn=admin,cn=config / secret.
Environment overrides: SLAPD, SLAPADD, SLAPTEST, LDAPSEARCH (binaries),
SLAPD_SANDBOX_SCHEMA_DIR (/etc/ldap/schema), SLAPD_SANDBOX_MODULE_DIR,
SLAPD_SANDBOX_RECLAIM_SCHEMA (packaging/ldap/reclaim-lifecycle.schema).
EOF
}

_slapd_sandbox_err() { printf 'slapd-sandbox: %s\n' "$*" >&2; }

# First executable among the override and the usual places (sbin may be
# missing from a non-root PATH).
_slapd_sandbox_bin() {
  local name="$1" override="$2" c
  if [[ -n "$override" ]]; then printf '%s\n' "$override"; return 0; fi
  for c in "$(command -v "$name" 2>/dev/null)" "/usr/sbin/$name" "/usr/bin/$name" \
           "/usr/local/sbin/$name" "/usr/local/libexec/$name" "/usr/libexec/$name"; do
    if [[ -n "$c" && -x "$c" ]]; then printf '%s\n' "$c"; return 0; fi
  done
  _slapd_sandbox_err "cannot find $name (install slapd / ldap-utils, or set ${name^^})"
  return 1
}

_slapd_sandbox_module_dir() {
  local d
  if [[ -n "${SLAPD_SANDBOX_MODULE_DIR:-}" ]]; then printf '%s\n' "$SLAPD_SANDBOX_MODULE_DIR"; return 0; fi
  for d in /usr/lib/ldap /usr/lib/x86_64-linux-gnu/ldap /usr/lib64/openldap \
           /usr/libexec/openldap /usr/local/libexec/openldap; do
    if [[ -e "$d/back_mdb.so" || -e "$d/back_mdb.la" ]]; then printf '%s\n' "$d"; return 0; fi
  done
  _slapd_sandbox_err "cannot find slapd's module directory (set SLAPD_SANDBOX_MODULE_DIR)"
  return 1
}

# Absolute path of an existing file; fails with a message otherwise.
_slapd_sandbox_abs() {
  local what="$1" path="$2"
  if [[ ! -e "$path" ]]; then _slapd_sandbox_err "$what not found: $path"; return 1; fi
  readlink -f -- "$path"
}

# slapd.conf tokens may be double-quoted; refuse what cannot be quoted.
_slapd_sandbox_q() {
  if [[ "$1" == *[\"\\]* || "$1" == *$'\n'* ]]; then
    _slapd_sandbox_err "path cannot be used in slapd.conf: $1"; return 1
  fi
  printf '"%s"' "$1"
}

# True if something on this host uses TCP port $1 (any state, v4 or v6).
_slapd_sandbox_port_used() {
  local hex f
  printf -v hex ':%04X ' "$1"
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r "$f" ]] || continue
    # Column 2 is local_address "IP:PORT" in hex.
    if awk -v p="$hex" 'NR > 1 && index($2 " ", p) { found = 1 } END { exit !found }' "$f"; then
      return 0
    fi
  done
  # No /proc: a successful connect means a listener.
  if [[ ! -r /proc/net/tcp ]] && (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    return 0
  fi
  return 1
}

# A free port below the Linux ephemeral range (32768+), so no outgoing
# connection grabs it between the check and slapd's bind. slapd's own bind is
# the final test; the caller retries on "Address already in use".
_slapd_sandbox_free_port() {
  local i port
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12700))
    if ! _slapd_sandbox_port_used "$port"; then printf '%s\n' "$port"; return 0; fi
  done
  _slapd_sandbox_err "no free TCP port found in 20000-32699"
  return 1
}

# Alive and not a zombie (an orphan may wait for a non-reaping pid 1).
_slapd_sandbox_alive() {
  local pid="$1" state
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" || return 0
  [[ "$state" != "Z" && "$state" != "X" ]]
}

# The pid in DIR/slapd.pid, if that process is alive and is the slapd of DIR
# (its command line names DIR's config), so a recycled pid is never killed.
_slapd_sandbox_pid_of() {
  local dir="$1" pid cmd
  [[ -r "$dir/slapd.pid" ]] || return 1
  pid="$(tr -dc '0-9' <"$dir/slapd.pid")"
  [[ -n "$pid" ]] || return 1
  _slapd_sandbox_alive "$pid" || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmd" == *"$dir/slapd."* ]] || return 1
  fi
  printf '%s\n' "$pid"
}

_slapd_sandbox_base_ldif() {
  cat <<'EOF'
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example Corp

dn: ou=People,dc=example,dc=com
objectClass: organizationalUnit
ou: People

dn: ou=Leavers,dc=example,dc=com
objectClass: organizationalUnit
ou: Leavers

dn: ou=Groups,dc=example,dc=com
objectClass: organizationalUnit
ou: Groups

dn: ou=Policies,dc=example,dc=com
objectClass: organizationalUnit
ou: Policies

# Default ppolicy: pwdAccountLockedTime 000001010000Z (administrative lock)
# then refuses binds; 5 failed binds lock for 5 minutes (temporary lockout).
dn: cn=default,ou=Policies,dc=example,dc=com
objectClass: applicationProcess
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 5
pwdLockoutDuration: 300
EOF
}

# Writes DIR/slapd.conf from the parsed options (globals of _start).
_slapd_sandbox_write_conf() {
  local dir="$1" f m sd="$schema_dir" conf="$1/slapd.conf"
  {
    echo "# Generated by packaging/sandbox/slapd-sandbox.sh; rewritten on every start."
    for f in core cosine inetorgperson nis msuser; do
      echo "include $(_slapd_sandbox_q "$sd/$f.schema")" || return 1
    done
    echo "include $(_slapd_sandbox_q "$reclaim_schema")" || return 1
    echo
    echo "modulepath $(_slapd_sandbox_q "$module_dir")" || return 1
    echo "moduleload back_mdb"
    echo "moduleload syncprov"
    [[ -n "$ppolicy" ]] && echo "moduleload ppolicy"
    for m in "${modules[@]}"; do echo "moduleload $m"; done
    echo "pidfile $(_slapd_sandbox_q "$dir/slapd.pid")" || return 1
    echo "argsfile $(_slapd_sandbox_q "$dir/slapd.args")" || return 1
    [[ -n "$server_id" ]] && echo "serverID $server_id"
    [[ -n "$plugin" ]] && { echo "pluginlog $(_slapd_sandbox_q "$dir/plugin.log")" || return 1; }
    # slapd 2.5 sends 'stats' lines (one per operation) to syslog by default;
    # with no syslog daemon every line costs a failed socket connect, with
    # one it fills the host's journal. -d (--loglevel) goes to slapd.log.
    echo "loglevel $syslog_level"
    echo
    echo "database config"
    echo "rootdn \"$SLAPD_SANDBOX_CONFIG_ROOTDN\""
    echo "rootpw $SLAPD_SANDBOX_ROOTPW"
    echo
    echo "database mdb"
    echo "suffix \"$SLAPD_SANDBOX_SUFFIX\""
    echo "rootdn \"$SLAPD_SANDBOX_ROOTDN\""
    echo "rootpw $SLAPD_SANDBOX_ROOTPW"
    echo "directory $(_slapd_sandbox_q "$dir/db")" || return 1
    echo "maxsize 1073741824"
    echo "index objectClass eq"
    echo "index uid eq"
    echo "index entryCSN,entryUUID eq"
    [[ -n "$dbnosync" ]] && echo "dbnosync"
    if [[ -n "$plugin" ]]; then
      # One line; the plugin registers its own pre-operation callbacks.
      printf 'plugin postoperation %s %s' "$(_slapd_sandbox_q "$plugin")" "$plugin_init" || return 1
      [[ -n "$plugin_config" ]] && { printf ' %s' "$(_slapd_sandbox_q "$plugin_config")" || return 1; }
      printf '\n'
    fi
    if [[ -n "$ppolicy" ]]; then
      echo "overlay ppolicy"
      # The entry comes with --base; without it no policy applies and
      # pwdAccountLockedTime is stored but not enforced at bind.
      echo "ppolicy_default \"cn=default,ou=Policies,$SLAPD_SANDBOX_SUFFIX\""
    fi
    for f in "${extras[@]}"; do
      echo
      echo "# --extra $f"
      cat -- "$f" || return 1
      echo
    done
  } >"$conf.tmp" || { _slapd_sandbox_err "cannot write $conf"; return 1; }
  mv -f -- "$conf.tmp" "$conf"
}

# slapd says "file not found" for every dlopen failure (a missing library, an
# unresolved symbol, a file that is not ELF). Show what the loader sees,
# leaving out slapi_* symbols, which slapd itself provides at run time.
_slapd_sandbox_plugin_hint() {
  local plugin="$1" report
  _slapd_sandbox_err "hint: slapd reports any dlopen error as 'file not found'; ldd -r says:"
  report="$(ldd -r -- "$plugin" 2>&1 | grep -v "undefined symbol: slapi_")"
  printf '%s\n' "${report:-(nothing; check the init symbol name)}" | tail -n 20 | sed 's/^/  | /' >&2
}

_slapd_sandbox_tail_log() {
  local log="$1" what="$2"
  _slapd_sandbox_err "$what; last lines of $log:"
  if [[ -s "$log" ]]; then tail -n 40 -- "$log" | sed 's/^/  | /' >&2
  else echo "  | (empty)" >&2; fi
}

# Starts slapd once on $port; 0 ready, 1 failed, 2 failed with address in use.
_slapd_sandbox_launch() {
  local dir="$1" port="$2" uri="ldap://127.0.0.1:$2/" pid deadline log="$1/slapd.log"
  local -a cfg
  if [[ -n "$cn_config" ]]; then cfg=(-F "$dir/slapd.d"); else cfg=(-f "$dir/slapd.conf"); fi
  : >"$log"
  # A child of a command substitution is orphaned at once: no job-table noise
  # in interactive shells and nothing holds the caller's stdout open.
  pid="$("$slapd_bin" -h "$uri" "${cfg[@]}" -d "$loglevel" </dev/null >>"$log" 2>&1 & echo $!)"
  echo "$pid" >"$dir/slapd.pid"   # slapd rewrites the same pid itself
  deadline=$((${EPOCHREALTIME//[!0-9]/} / 1000 + timeout * 1000))
  while :; do
    if ! _slapd_sandbox_alive "$pid"; then
      rm -f -- "$dir/slapd.pid"
      if grep -qiE 'address already in use|bind\(.*\) failed' "$log"; then return 2; fi
      _slapd_sandbox_tail_log "$log" "slapd exited during start"
      return 1
    fi
    # Asking cn=config for the pid file proves that this DIR's slapd answers,
    # not another server that holds the port.
    if LDAPNOINIT=1 "$ldapsearch_bin" -x -H "$uri" -D "$SLAPD_SANDBOX_CONFIG_ROOTDN" \
         -w "$SLAPD_SANDBOX_ROOTPW" -b cn=config -s base -l 2 -o nettimeout=2 -o ldif_wrap=no \
         -LLL olcPidFile 2>/dev/null | grep -qF "olcPidFile: $dir/slapd.pid"; then
      SLAPD_SANDBOX_PID="$pid"
      return 0
    fi
    if ((${EPOCHREALTIME//[!0-9]/} / 1000 >= deadline)); then
      _slapd_sandbox_tail_log "$log" "slapd did not answer on $uri within ${timeout}s"
      _slapd_sandbox_kill "$dir" "$pid"
      return 1
    fi
    sleep 0.1
  done
}

# TERM, up to 10 s, then KILL. $2 is a pid already validated for $1.
_slapd_sandbox_kill() {
  local dir="$1" pid="$2" i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    _slapd_sandbox_alive "$pid" || break
    sleep 0.1
  done
  if _slapd_sandbox_alive "$pid"; then
    _slapd_sandbox_err "slapd $pid ignored TERM for 10 s; sending KILL"
    # Diagnosis: SLAPD_SANDBOX_STACKS=FILE saves every thread's stack first.
    if [[ -n "${SLAPD_SANDBOX_STACKS:-}" ]] && command -v gdb >/dev/null; then
      gdb -p "$pid" -batch -ex "thread apply all bt" >>"$SLAPD_SANDBOX_STACKS" 2>&1 || true
    fi
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do _slapd_sandbox_alive "$pid" || break; sleep 0.1; done
  fi
  rm -f -- "$dir/slapd.pid" "$dir/slapd.args"
  ! _slapd_sandbox_alive "$pid"
}

slapd_sandbox_start() {
  if [[ $# -lt 1 || -z "$1" || "$1" == -* ]]; then
    _slapd_sandbox_err "slapd_sandbox_start: DIR missing"; _slapd_sandbox_usage >&2; return 2
  fi
  local dir="$1"; shift
  local cn_config="" plugin="" plugin_config="" plugin_init="reclaim_slapi_init"
  local dbnosync="" server_id="" base="" fresh="" ppolicy="yes" port="" quiet=""
  local loglevel="none" syslog_level="0" timeout="${SLAPD_SANDBOX_TIMEOUT:-20}" f perm
  local -a extras=() ldifs=() modules=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --cn-config) cn_config=yes ;;
      --plugin) plugin="${2:?--plugin needs a path}"; shift ;;
      --plugin-config) plugin_config="${2:?--plugin-config needs a path}"; shift ;;
      --plugin-init) plugin_init="${2:?--plugin-init needs a name}"; shift ;;
      --dbnosync) dbnosync=yes ;;
      --server-id) server_id="${2:?--server-id needs a number}"; shift ;;
      --extra) extras+=("${2:?--extra needs a file}"); shift ;;
      --ldif) ldifs+=("${2:?--ldif needs a file}"); shift ;;
      --base) base=yes ;;
      --fresh) fresh=yes ;;
      --no-ppolicy) ppolicy="" ;;
      --module) modules+=("${2:?--module needs a name}"); shift ;;
      --port) port="${2:?--port needs a number}"; shift ;;
      --loglevel) loglevel="${2:?--loglevel needs a level}"; shift ;;
      --syslog) syslog_level="${2:?--syslog needs a level}"; shift ;;
      --timeout) timeout="${2:?--timeout needs seconds}"; shift ;;
      --quiet) quiet=yes ;;
      -h|--help) _slapd_sandbox_usage; return 0 ;;
      *) _slapd_sandbox_err "unknown option: $1"; _slapd_sandbox_usage >&2; return 2 ;;
    esac
    shift
  done
  if [[ -n "$server_id" && ! "$server_id" =~ ^[0-9]+$ ]]; then
    _slapd_sandbox_err "--server-id must be a number"; return 2; fi
  if [[ -n "$port" && ! "$port" =~ ^[0-9]+$ ]]; then _slapd_sandbox_err "--port must be a number"; return 2; fi
  if [[ ! "$timeout" =~ ^[0-9]+$ ]]; then _slapd_sandbox_err "--timeout must be whole seconds"; return 2; fi
  if [[ -n "$plugin_config" && -z "$plugin" ]]; then
    _slapd_sandbox_err "--plugin-config needs --plugin"; return 2; fi

  local slapd_bin slapadd_bin slaptest_bin ldapsearch_bin module_dir schema_dir reclaim_schema
  slapd_bin="$(_slapd_sandbox_bin slapd "${SLAPD:-}")" || return 1
  slapadd_bin="$(_slapd_sandbox_bin slapadd "${SLAPADD:-}")" || return 1
  slaptest_bin="$(_slapd_sandbox_bin slaptest "${SLAPTEST:-}")" || return 1
  ldapsearch_bin="$(_slapd_sandbox_bin ldapsearch "${LDAPSEARCH:-}")" || return 1
  module_dir="$(_slapd_sandbox_module_dir)" || return 1
  schema_dir="${SLAPD_SANDBOX_SCHEMA_DIR:-/etc/ldap/schema}"
  for f in core cosine inetorgperson nis msuser; do
    [[ -r "$schema_dir/$f.schema" ]] || { _slapd_sandbox_err "missing schema $schema_dir/$f.schema"; return 1; }
  done
  reclaim_schema="$(_slapd_sandbox_abs schema \
    "${SLAPD_SANDBOX_RECLAIM_SCHEMA:-$_slapd_sandbox_here/../ldap/reclaim-lifecycle.schema}")" || return 1
  if [[ -n "$plugin" ]]; then plugin="$(_slapd_sandbox_abs plugin "$plugin")" || return 1; fi
  if [[ -n "$plugin_config" ]]; then
    plugin_config="$(_slapd_sandbox_abs "plugin config" "$plugin_config")" || return 1
    perm="$(stat -c %a -- "$plugin_config")"
    if (( (8#$perm & 8#022) != 0 )); then
      _slapd_sandbox_err "warning: $plugin_config is mode $perm; reclaim refuses a config writable by group/other"
    fi
  fi
  for f in "${!extras[@]}"; do extras[f]="$(_slapd_sandbox_abs "extra config" "${extras[f]}")" || return 1; done
  for f in "${!ldifs[@]}"; do ldifs[f]="$(_slapd_sandbox_abs ldif "${ldifs[f]}")" || return 1; done

  mkdir -p -- "$dir" || { _slapd_sandbox_err "cannot create $dir"; return 1; }
  dir="$(cd -- "$dir" && pwd -P)" || return 1
  if f="$(_slapd_sandbox_pid_of "$dir")"; then
    _slapd_sandbox_err "a sandbox slapd (pid $f) already runs in $dir; stop it first"; return 1
  fi
  if [[ -n "$fresh" ]]; then rm -rf -- "$dir/db" "$dir/slapd.d"; fi
  rm -f -- "$dir/sandbox.env" "$dir/slapd.pid"
  mkdir -p -- "$dir/db" || return 1
  chmod 0700 -- "$dir/db"

  _slapd_sandbox_write_conf "$dir" || return 1
  local out
  if ! out="$("$slaptest_bin" -u -f "$dir/slapd.conf" 2>&1)"; then
    _slapd_sandbox_err "slaptest rejects $dir/slapd.conf:"; printf '%s\n' "$out" | tail -n 20 >&2
    [[ -n "$plugin" && "$out" == *"failed to load plugin"* ]] && _slapd_sandbox_plugin_hint "$plugin"
    return 1
  fi
  # Load with slapd.conf first: slaptest's conversion below opens the
  # database read-only and fails while data.mdb does not exist yet, so an
  # empty slapadd creates it when nothing else is loaded.
  if [[ -n "$base" ]]; then
    _slapd_sandbox_base_ldif >"$dir/base.ldif"
    ldifs=("$dir/base.ldif" "${ldifs[@]}")
  fi
  if [[ ${#ldifs[@]} -eq 0 && ! -e "$dir/db/data.mdb" ]]; then ldifs=(/dev/null); fi
  for f in "${ldifs[@]}"; do
    if ! out="$("$slapadd_bin" -f "$dir/slapd.conf" -b "$SLAPD_SANDBOX_SUFFIX" -q -l "$f" 2>&1)"; then
      _slapd_sandbox_err "slapadd of $f failed:"; printf '%s\n' "$out" | tail -n 20 >&2
      return 1
    fi
  done
  if [[ -n "$cn_config" ]]; then
    rm -rf -- "$dir/slapd.d" && mkdir -m 0700 -- "$dir/slapd.d" || return 1
    if ! out="$("$slaptest_bin" -f "$dir/slapd.conf" -F "$dir/slapd.d" 2>&1)"; then
      _slapd_sandbox_err "slaptest could not convert $dir/slapd.conf:"; printf '%s\n' "$out" | tail -n 20 >&2
      return 1
    fi
  fi

  local attempt rc=1 fixed_port="$port"
  if [[ -n "$fixed_port" ]] && _slapd_sandbox_port_used "$fixed_port"; then
    _slapd_sandbox_err "port $fixed_port is already in use"; return 1
  fi
  for ((attempt = 0; attempt < 5; attempt++)); do
    if [[ -z "$fixed_port" ]]; then port="$(_slapd_sandbox_free_port)" || return 1; fi
    _slapd_sandbox_launch "$dir" "$port"; rc=$?
    [[ $rc -eq 2 && -z "$fixed_port" ]] || break
  done
  if [[ $rc -eq 2 ]]; then _slapd_sandbox_tail_log "$dir/slapd.log" "port $port is in use"; fi
  [[ $rc -eq 0 ]] || return 1

  SLAPD_SANDBOX_DIR="$dir"
  SLAPD_SANDBOX_PORT="$port"
  SLAPD_SANDBOX_URI="ldap://127.0.0.1:$port/"
  export SLAPD_SANDBOX_DIR SLAPD_SANDBOX_PORT SLAPD_SANDBOX_URI SLAPD_SANDBOX_PID
  export SLAPD_SANDBOX_SUFFIX SLAPD_SANDBOX_ROOTDN SLAPD_SANDBOX_ROOTPW SLAPD_SANDBOX_CONFIG_ROOTDN
  {
    printf 'SLAPD_SANDBOX_%s=%q\n' DIR "$dir" PORT "$port" PID "$SLAPD_SANDBOX_PID" \
      URI "$SLAPD_SANDBOX_URI" SUFFIX "$SLAPD_SANDBOX_SUFFIX" ROOTDN "$SLAPD_SANDBOX_ROOTDN" \
      ROOTPW "$SLAPD_SANDBOX_ROOTPW" CONFIG_ROOTDN "$SLAPD_SANDBOX_CONFIG_ROOTDN"
  } >"$dir/sandbox.env"
  if [[ -z "$quiet" ]]; then
    printf 'DIR=%s\nPORT=%s\nPID=%s\nURI=%s\n' "$dir" "$port" "$SLAPD_SANDBOX_PID" "$SLAPD_SANDBOX_URI"
  fi
  return 0
}

slapd_sandbox_stop() {
  if [[ $# -ne 1 || -z "$1" ]]; then _slapd_sandbox_err "usage: slapd_sandbox_stop DIR"; return 2; fi
  local dir pid
  if [[ ! -d "$1" ]]; then _slapd_sandbox_err "no such directory: $1"; return 1; fi
  dir="$(cd -- "$1" && pwd -P)" || return 1
  if ! pid="$(_slapd_sandbox_pid_of "$dir")"; then
    # Not running (never started, already stopped, or crashed): tidy up.
    rm -f -- "$dir/slapd.pid" "$dir/slapd.args" "$dir/sandbox.env"
    return 0
  fi
  if ! _slapd_sandbox_kill "$dir" "$pid"; then
    _slapd_sandbox_err "slapd $pid in $dir would not die"; return 1
  fi
  rm -f -- "$dir/sandbox.env"
  return 0
}

# 0 and the pid when the sandbox in DIR runs, 1 otherwise.
slapd_sandbox_status() {
  local dir pid
  [[ -d "${1:-}" ]] || { echo "stopped"; return 1; }
  dir="$(cd -- "$1" && pwd -P)" || return 1
  if pid="$(_slapd_sandbox_pid_of "$dir")"; then echo "running pid $pid"; return 0; fi
  echo "stopped"; return 1
}

_slapd_sandbox_main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) slapd_sandbox_start "$@" ;;
    stop) slapd_sandbox_stop "$@" ;;
    status) slapd_sandbox_status "$@" ;;
    env) [[ -r "${1:-}/sandbox.env" ]] && cat -- "$1/sandbox.env" ;;
    -h|--help|help) _slapd_sandbox_usage ;;
    *) _slapd_sandbox_usage >&2; return 2 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -u -o pipefail
  _slapd_sandbox_main "$@"
  exit $?
fi
