#!/usr/bin/env bash
# check_layout.sh [ROOT] — the dependency rule of docs/architecture.md,
# checked on every #include in the tree (ROOT defaults to the source tree):
#   abi/            includes nothing of the project's (C standard headers only);
#   host folders    (ldap/slapi/, scim/scimd/) include only reclaim/reclaim.h
#                   and files of their own folder; scim/scimd/ also the
#                   protocol pieces of scim/ ("scim/scim_filter.hpp");
#   protocol pieces (the rest of ldap/ and scim/) include only reclaim/reclaim.h
#                   and files of their own folder — nothing of plugin/;
#   plugin/         (the engine) never includes a host.
# Prints one line per violation and exits 1 if there is any.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
hosts=(ldap/slapi scim/scimd)
bad=0
fail() { echo "layout: $1:$2: $3" >&2; bad=1; }

is_host() { local h; for h in "${hosts[@]}"; do [[ $1 == "$h"/* ]] && return 0; done; return 1; }

# Prints "file<TAB>line<TAB>kind<TAB>target" for each include (kind " or <).
includes() {
  grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$1" |
    sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^>"]*)[>"].*/\1\t\2\t\3/'
}

sources() { find "$@" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort; }

# abi/: the public header stands alone.
while read -r f; do
  while IFS=$'\t' read -r line kind target; do
    case "$kind$target" in
      '<stddef.h'|'<stdint.h'|'<stdbool.h') ;;
      *) fail "$f" "$line" "abi/ includes ${kind}${target}: only <stddef.h>, <stdint.h>, <stdbool.h> are allowed" ;;
    esac
  done < <(includes "$f")
done < <(sources abi)

# ldap/ and scim/: protocol pieces and hosts.
while read -r f; do
  dir=$(dirname "$f")
  top=${f%%/*}
  while IFS=$'\t' read -r line kind target; do
    [[ $kind == '"' ]] || continue
    [[ $target == reclaim/reclaim.h ]] && continue
    if is_host "$f"; then
      [[ -f $dir/$target && $target != */* ]] && continue
      # reclaim-scimd is built on the SCIM protocol pieces of scim/ (the
      # slapi host's mapping happens in the engine, so it has no such need).
      if [[ $f == scim/scimd/* && $target == scim/* && $target != */*/* && -f $target ]]; then continue; fi
      fail "$f" "$line" "a host includes \"$target\": hosts include only reclaim/reclaim.h, their own files and for scim/scimd/ the protocol pieces of scim/"
    else
      own=""
      if [[ $target != */* && -f $dir/$target ]]; then own=$dir/$target
      elif [[ $target == "$top"/* && -f $target ]]; then own=$target
      fi
      if [[ -n $own ]] && ! is_host "$own"; then continue; fi
      fail "$f" "$line" "protocol piece includes \"$target\": only its own folder ($top/, not a host) and reclaim/reclaim.h"
    fi
  done < <(includes "$f")
done < <(sources ldap scim)

# plugin/: the engine may use protocol pieces, never a host.
while read -r f; do
  while IFS=$'\t' read -r line kind target; do
    [[ $kind == '"' ]] || continue
    if is_host "$target"; then
      fail "$f" "$line" "the engine includes the host file \"$target\""
    fi
    base=$(basename "$target")
    for h in "${hosts[@]}"; do
      if [[ -f $h/$base && ! -f plugin/$target && ! -f $(dirname "$f")/$target ]]; then
        fail "$f" "$line" "the engine includes \"$target\", a file of the host $h/"
      fi
    done
  done < <(includes "$f")
done < <(sources plugin)

if ((bad)); then
  echo "layout: FAILED (docs/architecture.md, \"Who may include what\")" >&2
  exit 1
fi
echo "layout: ok"
