#!/usr/bin/env bash
# selftest.sh — check_layout.sh must fail on each kind of violation: a copy of
# the tree gets one bad include at a time and the check has to refuse it.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
check="$src/tests/layout/check_layout.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh() { rm -rf "$work/t"; mkdir -p "$work/t"; cp -r "$src/abi" "$src/ldap" "$src/scim" "$src/plugin" "$work/t/"; }

fresh
bash "$check" "$work/t" >/dev/null || { echo "selftest: the unchanged tree fails"; exit 1; }

cases=(
  'ldap/csn.cpp|#include "base/clock.hpp"'
  'ldap/ldap_mapping.hpp|#include "plugin/base/states.hpp"'
  'scim/scim_protocol.cpp|#include "store/journal.hpp"'
  'ldap/slapi/slapi_host.cpp|#include "ldap/ldap_entry.hpp"'
  'ldap/csn.cpp|#include "slapi/slapi_compat.h"'
  'abi/include/reclaim/reclaim.h|#include <string.h>'
  'plugin/engine/engine.cpp|#include "ldap/slapi/slapi_compat.h"'
  'scim/scimd/main.cpp|#include "store/journal.hpp"'
  'scim/scimd/main.cpp|#include "ldap/ldap_entry.hpp"'
  'scim/scimd/main.cpp|#include "plugin/base/clock.hpp"'
  'plugin/engine/engine.cpp|#include "scim/scimd/scim_service.hpp"'
)
for c in "${cases[@]}"; do
  file=${c%%|*}; line=${c#*|}
  fresh
  printf '%s\n' "$line" >>"$work/t/$file"
  if bash "$check" "$work/t" 2>/dev/null >/dev/null; then
    echo "selftest: not refused: $line in $file"; exit 1
  fi
  echo "selftest: refused as it should: $line in $file"
done
echo "selftest: ok"
