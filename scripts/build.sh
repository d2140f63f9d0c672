#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds one flavour into build/<flavour>: release | asan | fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
  release) opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) opts=(-DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON -DTANDEM_WERROR=ON) ;;
  fuzz) opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTANDEM_FUZZ=ON -DTANDEM_WERROR=ON
              -DCMAKE_C_COMPILER=clang) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release|asan|fuzz)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${opts[@]}" >/dev/null
cmake --build "build/$flavour"
