#!/usr/bin/env bash
# demo.sh: the main job on a fresh Debian 12 machine (run as root): installs what is missing,
# builds, lists the Vulkan devices and benchmarks the ops on the chosen one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tools/setup.sh"
srlm_install "${srlm_packages[@]}"
srlm_build build --buildtype=release
"$root/build/tools/srlm" info
"$root/build/tools/srlm" bench ops
