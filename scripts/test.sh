#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test suite.
#   scripts/test.sh              normal build, all tests
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/, all tests
#   scripts/test.sh --valgrind   all Check suites under valgrind (memcheck)
# Tests that need Redis start their own redis-server on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mode="${1:-}"
case "$mode" in
  --sanitize)
    export YG_BUILD_DIR=build-asan
    scripts/build.sh -DYG_SANITIZE=ON -DYG_BUILD_BENCH=OFF
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --valgrind)
    export YG_BUILD_DIR=build-vg
    scripts/build.sh -DYG_BUILD_BENCH=OFF
    export YG_VALGRIND=1
    ;;
  "")
    export YG_BUILD_DIR=build
    scripts/build.sh
    ;;
  *) echo "usage: scripts/test.sh [--sanitize|--valgrind]" >&2; exit 2 ;;
esac
cd "$YG_BUILD_DIR"
if [ "${YG_VALGRIND:-}" = 1 ]; then
  # Check forks each test; valgrind follows the children.
  export CK_FORK=no
  ctest --output-on-failure -j2 -R '^test_' \
    --overwrite MemoryCheckCommand=/usr/bin/valgrind \
    --overwrite "MemoryCheckCommandOptions=--leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite --track-fds=no" \
    -T memcheck
  # ctest -T memcheck does not fail on defects by itself: check the logs.
  if grep -l "ERROR SUMMARY: [1-9]" Testing/Temporary/MemoryChecker.*.log 2>/dev/null; then
    echo "valgrind reported errors (see files above)" >&2; exit 1
  fi
  if grep -l "definitely lost: [1-9]" Testing/Temporary/MemoryChecker.*.log 2>/dev/null; then
    echo "valgrind reported leaks (see files above)" >&2; exit 1
  fi
else
  ctest --output-on-failure -j2
fi
