#!/usr/bin/env bash
# install-deps.sh [--bench] — installs the Debian 12 packages reclaim needs
# to build, test and run its demo (idempotent; runs apt only when something
# is missing). As root, or with sudo available.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libldap-dev slapd ldap-utils
  libxml2-dev libboost-test-dev libfmt-dev libsqlite3-dev sqlite3
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libssl-dev openssl
  libhowardhinnant-date-dev tzdata
  python3 python3-cryptography
  libcurl4-openssl-dev
  clang libclang-rt-14-dev
  libxmlsec1-dev libxmlsec1-openssl xmlsec1
)
[[ ${1:-} == --bench ]] && packages+=(389-ds-base wrk)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
# slapd's own postinst would create and start a system directory; reclaim
# only needs the binaries, so tell debconf not to configure it.
echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
