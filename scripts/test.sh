#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# All tests: install, static checks, ASan+UBSan build with unit and integration tests, then
# short libFuzzer runs. Ends with one summary line "summary: N passed, N failed".
# Env: FUZZ_SECONDS (per target, default 20).
#   TEST_FILTER (pytest -k expression), UNIT_FILTER (ctest -R regex): with either set, the run is
#   filtered: install and build, then only the tests the filters select (no static checks, no
#   fuzzing; integration tests only with TEST_FILTER, unit tests only with UNIT_FILTER). A filter
#   that selects nothing fails, except in the epoll-only pass, which is skipped then.
#   TEST_NO_BUILD=1: no install and no build; tests the binaries in TANDEM_BUILD_DIR (default
#   build/asan).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
passed=0
failed=0
failures=()
filtered=${TEST_FILTER:+yes}${UNIT_FILTER:+yes}
build_dir="$root/build/asan"
[ "${TEST_NO_BUILD:-}" = 1 ] && build_dir=${TANDEM_BUILD_DIR:-$build_dir}

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

skipped() { # skipped STAGE WHY
  stage "$1: skipped ($2)"
}

if [ "${TEST_NO_BUILD:-}" = 1 ]; then
  skipped "dependencies and build" "TEST_NO_BUILD=1, testing $build_dir"
else
  stage "dependencies"
  scripts/deps.sh build test || { echo "dependency installation failed"; exit 1; }
fi

if [ -n "$filtered" ]; then
  skipped "static checks" "filtered run"
else
  stage "static checks"
  tools/check-banned.sh; record "banned calls" $?
  mapfile -t sources < <(git ls-files 'src/*.c' 'src/*.h' 2>/dev/null || find src -name '*.[ch]')
  clang-format --dry-run --Werror "${sources[@]}"; record "clang-format" $?
fi

if [ "${TEST_NO_BUILD:-}" != 1 ]; then
  stage "build (ASan+UBSan, -Werror)"
  if ! scripts/build.sh asan; then record "build asan" 1; finish; fi
fi

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

# pytest_pass LABEL EMPTY_OK PATH...: one pytest run over PATHs, with TEST_FILTER as -k, added to
# the totals. When the filter selects nothing there (pytest exits 5), the pass fails unless
# EMPTY_OK is yes, in which case it is left out of the totals.
pytest_pass() {
  local label=$1 empty_ok=$2 junit status
  shift 2
  junit=$(mktemp --suffix=.xml)
  TANDEM_BUILD_DIR="$build_dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --junitxml="$junit" ${TEST_FILTER:+-k "$TEST_FILTER"} "$@"
  status=$?
  if [ -n "${TEST_FILTER:-}" ] && [ $status -eq 5 ]; then
    rm -f "$junit"
    if [ "$empty_ok" = yes ]; then
      echo "TEST_FILTER selects no test here: pass skipped"
    else
      record "$label: TEST_FILTER '$TEST_FILTER' selects no test" 1
    fi
    return
  fi
  junit_count "$junit" "$label"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ -n "$filtered" ] && [ -z "${UNIT_FILTER:-}" ]; then
  skipped "unit tests" "no UNIT_FILTER in a filtered run"
elif [ -n "${UNIT_FILTER:-}" ] &&
  (cd "$build_dir" && ctest -N -R "$UNIT_FILTER") | grep -qx 'Total Tests: 0'; then
  stage "unit tests"
  record "unit: UNIT_FILTER '$UNIT_FILTER' selects no test" 1
else
  stage "unit tests"
  junit=$(mktemp --suffix=.xml)
  (cd "$build_dir" && ctest --output-on-failure --timeout 300 --output-junit "$junit" \
    ${UNIT_FILTER:+-R "$UNIT_FILTER"})
  junit_count "$junit" unit
fi

if [ -n "$filtered" ] && [ -z "${TEST_FILTER:-}" ]; then
  skipped "integration tests" "no TEST_FILTER in a filtered run"
else
  stage "integration tests"
  pytest_pass integration no tests/integration

  # The same HTTP core without io_uring: the fallback on kernels or sandboxes that refuse a ring.
  stage "integration tests, HTTP core on epoll only (TANDEM_IOLOOP=epoll)"
  TANDEM_IOLOOP=epoll pytest_pass "integration (epoll only)" yes \
    tests/integration/test_http_core.py tests/integration/test_lb.py
fi

if [ -n "$filtered" ]; then
  skipped "fuzzing" "filtered run"
  finish
fi

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
