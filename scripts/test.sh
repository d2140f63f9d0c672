#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# All tests: install, static checks, ASan+UBSan build with unit and integration tests, then
# short libFuzzer runs. Ends with one summary line "summary: N passed, N failed".
# Env: FUZZ_SECONDS (per target, default 20), TEST_FILTER (pytest -k expression).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
passed=0
failed=0
failures=()

stage() { echo; echo "=== $*"; }
record() { # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
finish() {
  echo
  [ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
  echo "summary: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

stage "dependencies"
scripts/deps.sh build test || { echo "dependency installation failed"; exit 1; }

stage "static checks"
tools/check-banned.sh; record "banned calls" $?
mapfile -t sources < <(git ls-files 'src/*.c' 'src/*.h' 2>/dev/null || find src -name '*.[ch]')
clang-format --dry-run --Werror "${sources[@]}"; record "clang-format" $?

stage "build (ASan+UBSan, -Werror)"
if ! scripts/build.sh asan; then record "build asan" 1; finish; fi

# junit_count FILE LABEL: adds a JUnit report's passes and failures to the totals.
junit_count() {
  local p f
  read -r p f < <(/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1)
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) + int(s.get("disabled", 0)) for s in suites)
print(t - f - sk, f if t else 1)
PY
)
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -gt 0 ] && failures+=("$2: $f failing")
  rm -f "$1"
}

stage "unit tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
junit=$(mktemp --suffix=.xml)
(cd build/asan && ctest --output-on-failure --timeout 300 --output-junit "$junit")
junit_count "$junit" unit

stage "integration tests"
junit=$(mktemp --suffix=.xml)
TANDEM_BUILD_DIR="$root/build/asan" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  --junitxml="$junit" ${TEST_FILTER:+-k "$TEST_FILTER"} tests/integration
junit_count "$junit" integration

# The same HTTP core without io_uring: the fallback on kernels or sandboxes that refuse a ring.
stage "integration tests, HTTP core on epoll only (TANDEM_IOLOOP=epoll)"
junit=$(mktemp --suffix=.xml)
TANDEM_IOLOOP=epoll TANDEM_BUILD_DIR="$root/build/asan" /usr/bin/python3 -m pytest -q \
  -p no:cacheprovider --junitxml="$junit" ${TEST_FILTER:+-k "$TEST_FILTER"} \
  tests/integration/test_http_core.py tests/integration/test_lb.py
junit_count "$junit" "integration (epoll only)"

stage "fuzzing (${FUZZ_SECONDS:-20}s per target)"
if scripts/build.sh fuzz; then
  for target in build/fuzz/src/*/fuzz-*; do
    name=$(basename "$target")
    corpus="build/fuzz/corpus/$name"
    mkdir -p "$corpus"
    seeds=()
    [ -d "fuzz/seeds/$name" ] && seeds+=("fuzz/seeds/$name")
    [ "$name" = fuzz-http-parser ] && seeds+=(tests/http-corpus/bad)
    echo "--- $name"
    "$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=0 -artifact_prefix="build/fuzz/$name-" "$corpus" "${seeds[@]}" \
      2>"build/fuzz/$name.log"
    status=$?
    tail -n 2 "build/fuzz/$name.log"
    [ $status -ne 0 ] && tail -n 40 "build/fuzz/$name.log"
    record "fuzz $name" $status
  done
else
  record "build fuzz" 1
fi

finish
