# SPDX-License-Identifier: MIT
# scripts/test.sh in its filtered mode, for real but small: each run selects one or two tiny tests
# and tests the binaries this suite tests (TEST_NO_BUILD=1), so nothing recurses into the whole
# suite. A filtered run skips static checks and fuzzing, counts what it selects in both
# integration passes, skips an epoll-only pass that the filter leaves empty, and fails when a
# selected test fails or a filter selects nothing.
import os
import subprocess

from conftest import BUILD, ROOT

TEST_SH = os.path.join(ROOT, "scripts", "test.sh")
OUTSIDE_EPOLL_PASS = "test_unknown_path_is_404_json"  # in test_tandemd.py
INSIDE_EPOLL_PASS = "test_head_request_gets_no_body"  # in test_http_core.py


def run_test_sh(build_dir=BUILD, **filters):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_FILTER", "UNIT_FILTER", "TANDEM_IOLOOP", "FUZZ_SECONDS")}
    env.update(filters, TEST_NO_BUILD="1", TANDEM_BUILD_DIR=build_dir)
    r = subprocess.run([TEST_SH], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=600)
    lines = r.stdout.splitlines()
    assert lines, r.stderr
    return r.returncode, lines[-1], r.stdout


def test_a_filtered_run_runs_only_what_it_selects():
    rc, summary, out = run_test_sh(TEST_FILTER=OUTSIDE_EPOLL_PASS, UNIT_FILTER="^test-buf$")
    assert (rc, summary) == (0, "summary: 2 passed, 0 failed"), out
    for skipped in ("static checks", "fuzzing", "dependencies and build"):
        assert f"=== {skipped}: skipped" in out, out
    assert "TEST_FILTER selects no test here: pass skipped" in out, out
    assert "=== static checks\n" not in out and "=== fuzzing (" not in out, out


def test_a_filtered_run_counts_both_integration_passes():
    rc, summary, out = run_test_sh(TEST_FILTER=INSIDE_EPOLL_PASS)
    assert (rc, summary) == (0, "summary: 2 passed, 0 failed"), out
    assert "=== unit tests: skipped" in out and "pass skipped" not in out, out


def test_a_failing_selected_test_fails_the_run(tmp_path):
    # no binaries in that build directory: the selected test cannot start its node
    rc, summary, out = run_test_sh(build_dir=str(tmp_path), TEST_FILTER=OUTSIDE_EPOLL_PASS)
    assert (rc, summary) == (1, "summary: 0 passed, 1 failed"), out
    assert "failed: integration: 1 failing" in out, out


def test_a_filter_that_selects_nothing_fails_the_run():
    rc, summary, out = run_test_sh(TEST_FILTER="no_such_test_xyz", UNIT_FILTER="^no-such-test$")
    assert (rc, summary) == (1, "summary: 0 passed, 2 failed"), out
    assert "failed: unit: UNIT_FILTER '^no-such-test$' selects no test" in out, out
    assert "failed: integration: TEST_FILTER 'no_such_test_xyz' selects no test" in out, out
