#!/usr/bin/env bash
# selftest.sh — checks slapd-sandbox.sh against the installed slapd: CLI and
# library use, slapd.conf and cn=config, restart keeps data, --fresh, the
# lifecycle schema, the ppolicy administrative lock, a plugin line (with
# probe-plugin.c when a C compiler exists), a syncrepl pair via --extra and
# --server-id, failed starts that show slapd's output, and stop by pid only.
#   bash packaging/sandbox/selftest.sh        (exit 0 when all pass)
set -u -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sandbox="$here/slapd-sandbox.sh"
# shellcheck source=slapd-sandbox.sh
source "$sandbox"
export LDAPNOINIT=1
work="$(mktemp -d "${TMPDIR:-/tmp}/slapd-sandbox-selftest.XXXXXX")"
failures=0
started=()

cleanup() {
  local d
  for d in "${started[@]}"; do slapd_sandbox_stop "$d" >/dev/null 2>&1; done
  if [[ $failures -eq 0 ]]; then rm -rf -- "$work"; else echo "kept $work for inspection"; fi
}
trap cleanup EXIT

ok() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

admin=(-x -D "cn=admin,dc=example,dc=com" -w secret)
uri_of() { (source "$1/sandbox.env" && printf '%s' "$SLAPD_SANDBOX_URI"); }

# 1. CLI start with --base, plain slapd.conf.
d1="$work/cli"
if out="$(bash "$sandbox" start "$d1" --base 2>&1)"; then
  started+=("$d1"); ok "CLI start"
else fail "CLI start: $out"; fi
check "CLI prints PORT/PID/URI" grep -q '^URI=ldap://127.0.0.1:[0-9]*/$' <<<"$out"
u1="$(uri_of "$d1")"
check "base entries present" bash -c "ldapsearch ${admin[*]@Q} -H '$u1' -b ou=Leavers,dc=example,dc=com -s base -LLL 1.1 | grep -q Leavers"

# 2. Lifecycle schema: attributes, auxiliary class, Boolean syntax strictness.
ldif_alice='dn: uid=alice,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: reclaimLifecycle
uid: alice
cn: Alice
sn: Example
employeeType: active
employeeStatus: active
nsAccountLock: FALSE
userAccountControl: 512
shadowExpire: 20000
userPassword: pw'
check "entry with reclaimLifecycle attributes" \
  bash -c "ldapadd ${admin[*]@Q} -H '$u1' >/dev/null <<<${ldif_alice@Q}"
check "nsAccountLock refuses lower-case true (Boolean syntax)" \
  bash -c "! ldapmodify ${admin[*]@Q} -H '$u1' >/dev/null 2>&1 <<'EOF'
dn: uid=alice,ou=People,dc=example,dc=com
replace: nsAccountLock
nsAccountLock: true
EOF"

# 3. ppolicy: the rootdn sets the administrative lock; the bind is refused.
check "rootdn sets pwdAccountLockedTime 000001010000Z" \
  bash -c "ldapmodify ${admin[*]@Q} -H '$u1' >/dev/null <<'EOF'
dn: uid=alice,ou=People,dc=example,dc=com
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF"
check "a user cannot set pwdAccountLockedTime on their own entry" \
  bash -c "ldapadd ${admin[*]@Q} -H '$u1' >/dev/null <<'EOF'
dn: uid=bob,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Example
userPassword: pw
EOF
ldapmodify -x -H '$u1' -D uid=bob,ou=People,dc=example,dc=com -w pw >/dev/null 2>&1 <<'EOF'
dn: uid=bob,ou=People,dc=example,dc=com
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF
test \$? -eq 50"
check "locked user cannot bind" \
  bash -c "! ldapwhoami -x -H '$u1' -D uid=alice,ou=People,dc=example,dc=com -w pw >/dev/null 2>&1"

# 4. Second start in the same DIR is refused; stop; restart keeps the data.
check "second start in a running DIR refused" bash -c "! bash '$sandbox' start '$d1' --quiet 2>/dev/null"
pid1="$(cat "$d1/slapd.pid")"
check "CLI stop" bash "$sandbox" stop "$d1"
check "process gone after stop" bash -c "! kill -0 $pid1 2>/dev/null || grep -q '^[^ ]* ([^)]*) Z' /proc/$pid1/stat"
check "stop twice is fine" bash "$sandbox" stop "$d1"
if slapd_sandbox_start "$d1" --quiet --cn-config; then
  ok "library restart with --cn-config"
  check "exported URI answers" bash -c "ldapsearch -x -H '$SLAPD_SANDBOX_URI' -b '' -s base -LLL 1.1 >/dev/null"
  check "data kept across restart" bash -c "ldapsearch ${admin[*]@Q} -H '$SLAPD_SANDBOX_URI' -b dc=example,dc=com -LLL uid=alice 1.1 | grep -q alice"
  check "cn=config writable" bash -c "ldapmodify -x -D cn=admin,cn=config -w secret -H '$SLAPD_SANDBOX_URI' >/dev/null <<'EOF'
dn: cn=config
replace: olcSizeLimit
olcSizeLimit: 1000
EOF"
  slapd_sandbox_stop "$d1"
else fail "library restart with --cn-config"; fi
if slapd_sandbox_start "$d1" --quiet --fresh; then
  check "--fresh empties the database" bash -c "! ldapsearch -x -H '$SLAPD_SANDBOX_URI' -b dc=example,dc=com -s base 1.1 >/dev/null 2>&1"
  slapd_sandbox_stop "$d1"
else fail "start --fresh"; fi

# 5. Plugin line, plugin log, argument passing (needs a C compiler).
cc_bin="$(command -v cc || command -v gcc || true)"
if [[ -n "$cc_bin" ]] && "$cc_bin" -shared -fPIC -o "$work/probe.so" "$here/probe-plugin.c"; then
  d2="$work/plugin"
  cfg="$work/probe-events.log"
  : >"$cfg"; chmod 0600 "$cfg"
  for mode in "" --cn-config; do
    if slapd_sandbox_start "$d2" --quiet --fresh --base --dbnosync $mode \
         --plugin "$work/probe.so" --plugin-config "$cfg"; then
      started+=("$d2")
      ldapmodify "${admin[@]}" -H "$SLAPD_SANDBOX_URI" >/dev/null <<'EOF'
dn: ou=People,dc=example,dc=com
replace: description
description: probe
EOF
      check "plugin post-modify fired ${mode:-slapd.conf}" grep -q 'modify ou=People,dc=example,dc=com' "$cfg"
      check "plugin line in config ${mode:-slapd.conf}" grep -q '^plugin postoperation ".*probe.so" reclaim_slapi_init ".*probe-events.log"$' "$d2/slapd.conf"
      slapd_sandbox_stop "$d2"
      : >"$cfg"
    else fail "start with plugin ${mode:-slapd.conf}"; fi
  done
else
  echo "skip  plugin checks (no C compiler)"
fi

# 6. A provider and a consumer replicating through --extra and --server-id.
dp="$work/provider"; dc="$work/consumer"
cat >"$work/provider.conf" <<'EOF'
overlay syncprov
syncprov-checkpoint 100 1
EOF
if slapd_sandbox_start "$dp" --quiet --base --server-id 1 --extra "$work/provider.conf"; then
  started+=("$dp")
  puri="$SLAPD_SANDBOX_URI"
  cat >"$work/consumer.conf" <<EOF
syncrepl rid=001 provider=$puri type=refreshAndPersist retry="1 +"
  searchbase="dc=example,dc=com" bindmethod=simple
  binddn="cn=admin,dc=example,dc=com" credentials=secret
EOF
  if slapd_sandbox_start "$dc" --quiet --server-id 2 --extra "$work/consumer.conf"; then
    started+=("$dc")
    curi="$SLAPD_SANDBOX_URI"
    ldapadd "${admin[@]}" -H "$puri" >/dev/null <<<"$ldif_alice"
    replicated=""
    for _ in $(seq 50); do
      if ldapsearch -x -H "$curi" -b dc=example,dc=com -LLL uid=alice 1.1 2>/dev/null | grep -q alice; then
        replicated=yes; break; fi
      sleep 0.2
    done
    check "syncrepl consumer received the entry" test -n "$replicated"
    slapd_sandbox_stop "$dc"
  else fail "start consumer"; fi
  slapd_sandbox_stop "$dp"
else fail "start provider"; fi

# 7. Failed starts: broken config and a missing plugin show slapd's words.
echo "bogusdirective x" >"$work/bad.conf"
out="$(slapd_sandbox_start "$work/bad" --quiet --extra "$work/bad.conf" 2>&1)"
check "broken config fails" test $? -ne 0
check "broken config names the problem" grep -q 'bogusdirective' <<<"$out"
: >"$work/notaplugin.so"
out="$(slapd_sandbox_start "$work/bad" --quiet --plugin "$work/notaplugin.so" 2>&1)"
check "unloadable plugin fails" test $? -ne 0
check "unloadable plugin is reported" grep -qi 'plugin' <<<"$out"
check "no slapd left after failed starts" bash -c "! bash '$sandbox' status '$work/bad' >/dev/null 2>&1"

# 8. A fixed port that is taken fails with slapd's bind error.
if slapd_sandbox_start "$d1" --quiet --fresh; then
  started+=("$d1")
  out="$(slapd_sandbox_start "$work/clash" --quiet --port "$SLAPD_SANDBOX_PORT" 2>&1)"
  check "taken fixed port fails" test $? -ne 0
  check "taken fixed port is reported" grep -qi 'in use\|bind' <<<"$out"
  slapd_sandbox_stop "$d1"
fi

# 9. stop never kills a process that is not this DIR's slapd.
sleep 30 & foreign=$!
mkdir -p "$work/foreign" && echo "$foreign" >"$work/foreign/slapd.pid"
slapd_sandbox_stop "$work/foreign"
check "stop ignores a pid that is not this DIR's slapd" kill -0 "$foreign"
kill "$foreign" 2>/dev/null; wait "$foreign" 2>/dev/null

if [[ $failures -eq 0 ]]; then echo "all passed"; else echo "$failures failed"; fi
exit $((failures > 0))
