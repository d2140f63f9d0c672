# SPDX-License-Identifier: MIT
# scripts/drill-vip.sh for real in its quick mode: two tandem-lb hosts with keepalived in
# network namespaces, a load client logging sessions in through the virtual IP, a graceful stop,
# a restart without failback, a crash and a host crash. The drill's JSON must show the goals met
# (graceful <= 1 s, crash <= 4 s, no session lost, no failback), and with --preempt (nopreempt
# left out) the failback it exists to catch, with exit status 1. Every namespace is gone after,
# and leftovers of an earlier run are removed first.
import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT

DRILL = os.path.join(ROOT, "scripts", "drill-vip.sh")


def _namespaces_ok():
    if os.geteuid() != 0:
        return "the VIP drill needs root (network namespaces)"
    if not shutil.which("ip"):
        return "iproute2 (ip) is missing"
    r = subprocess.run(["ip", "netns", "add", "tvip-check"], capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0:
        return f"this machine cannot create network namespaces: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", "tvip-check"], timeout=10)
    return None


def _tvip_namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    return [line.split()[0] for line in out.stdout.splitlines() if line.startswith("tvip-")]


def run_drill(*args):
    reason = _namespaces_ok()
    if reason:
        pytest.skip(reason)
    assert shutil.which("keepalived"), "keepalived is missing: scripts/deps.sh test installs it"
    r = subprocess.run([DRILL, "--quick", "--json", "--bin", os.path.join(BUILD, "src"), *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert r.stdout.strip(), f"no JSON from the drill (exit {r.returncode}):\n{r.stderr[-4000:]}"
    assert _tvip_namespaces() == [], "the drill left namespaces behind"
    return r, json.loads(r.stdout)


def test_vip_failover_meets_the_goals():
    r, out = run_drill()
    assert r.returncode == 0, f"{out['goals_missed']}\n{r.stderr[-3000:]}"
    assert out["goals_met"] and out["goals_missed"] == []
    assert out["users"] == 10 and out["sessions_lost"] == 0
    assert out["failback"] is False
    phases = out["phases"]
    assert set(phases) == {"graceful", "restart", "crash", "host-crash"}
    for name, goal in (("graceful", 1000), ("crash", 4000), ("host-crash", 4000)):
        p = phases[name]
        assert p["from"] != p["to"], p
        assert p["failover_ms"] is not None and 0 < p["failover_ms"] <= goal, (name, p)
        assert p["vip_moved_ms"] is not None and p["vip_moved_ms"] <= goal, (name, p)
        assert p["requests"] > 0 and sum(ok for ok, _ in p["per_100ms_from_minus_300ms"]) > 0
    # a host crash is only noticed by missing adverts: slower than the track file's fault
    assert phases["host-crash"]["vip_moved_ms"] > phases["crash"]["vip_moved_ms"]
    # restarting the stopped balancer disturbs nobody: the VIP stays (above). One failed
    # request was seen once in CI, unexplained so far (an ASan tandem-lb starting on a
    # 2-core machine); more than one is a disturbance
    assert phases["restart"]["requests"] > 0 and phases["restart"]["failed"] <= 1, phases["restart"]
    # only requests in flight at a switch fail (a handful each time)
    assert out["requests"] > 100 and out["requests_failed"] <= out["requests"] // 20, out


def test_vip_drill_reports_failback_without_nopreempt():
    reason = _namespaces_ok()
    if reason:
        pytest.skip(reason)
    # a leftover of an interrupted run: the drill removes namespaces with its prefix first
    subprocess.run(["ip", "netns", "add", "tvip-leftover"], check=True, timeout=10)
    r, out = run_drill("--preempt")
    assert "removing 1 namespace(s) left by an earlier run" in r.stderr
    assert r.returncode == 1, r.stderr[-3000:]
    assert out["failback"] is True and not out["goals_met"]
    assert any("failed back" in m for m in out["goals_missed"]), out["goals_missed"]
    assert out["sessions_lost"] == 0
