#!/usr/bin/env bash
# setup.sh: installs the Debian 12 packages srlm needs (when missing; run as root) and
# configures + builds a meson build folder. Sourced by demo.sh and test.sh.
# Usage: tools/setup.sh [BUILD_DIR [meson options...]]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

srlm_packages=(meson ninja-build pkg-config gcc clang python3 libvulkan-dev mesa-vulkan-drivers
  vulkan-validationlayers vulkan-tools glslang-tools spirv-tools libsqlite3-dev sqlite3
  libstb-dev libcjson-dev libpcre2-dev libutf8proc-dev)
# The PyTorch oracle for parity tests (run with /usr/bin/python3).
srlm_test_packages=(python3-torch python3-numpy)

srlm_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    if [[ $(id -u) -ne 0 ]]; then echo "setup: run as root to install packages" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

srlm_build() {
  local dir=$1; shift
  if [[ ! -f $root/$dir/build.ninja ]]; then
    meson setup "$root/$dir" "$root" "$@" >/dev/null
  else
    meson configure "$root/$dir" "$@" >/dev/null
  fi
  ninja -C "$root/$dir" >&2
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  srlm_install "${srlm_packages[@]}"
  srlm_build "${1:-build}" "${@:2}"
fi
