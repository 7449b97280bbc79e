#!/usr/bin/env bash
# check_symbols.sh LIB ABI_MD — fails when `nm -D` shows an exported symbol
# of LIB that docs/ABI.md does not list, or ABI.md lists one LIB lacks.
# ABI.md lists each symbol on a line of its own as "| `name` | ...".
set -euo pipefail
lib=$1 doc=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
documented=$(grep -oE '^\| `[a-z_0-9]+` \|' "$doc" | sed -E 's/^\| `([a-z_0-9]+)` \|/\1/' | sort -u)
extra=$(comm -23 <(echo "$exported") <(echo "$documented"))
missing=$(comm -13 <(echo "$exported") <(echo "$documented"))
status=0
if [[ -n $extra ]]; then echo "exported but not in $doc:"; echo "$extra"; status=1; fi
if [[ -n $missing ]]; then echo "in $doc but not exported:"; echo "$missing"; status=1; fi
[[ $status == 0 ]] && echo "symbols ok: $(echo "$exported" | wc -l) exported, all documented"
exit $status
