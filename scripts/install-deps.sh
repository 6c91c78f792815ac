#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the tools need;
# with package names as arguments, those instead (the CI steps and
# scripts/bench.sh name what they need beyond the base). Only what is missing
# is installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=600 -q"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
pkgs=(build-essential cmake g++ clang libclang-rt-14-dev doctest-dev libbenchmark-dev libeigen3-dev
      python3 python3-numpy python3-torch)
if [ $# -gt 0 ]; then pkgs=("$@"); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO $APT update
  $SUDO $APT install -y --no-install-recommends "${missing[@]}"
fi
