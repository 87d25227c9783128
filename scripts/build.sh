#!/usr/bin/env bash
# Configures and builds into build/ (or $YG_BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${YG_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${YG_BUILD_TYPE:-Debug}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
