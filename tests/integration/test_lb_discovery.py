# SPDX-License-Identifier: MIT
# tandem-lb learning its members from the nodes' multicast announcements, inside a private
# network namespace: nodes of its cluster appear and take traffic, another cluster's nodes are
# ignored, a stopped node ages out.
import json
import os
import subprocess
import time
from collections import Counter

from conftest import Process
from lb_setup import TANDEM_LB
from test_announce import GROUP, PORT, netns, nodes  # noqa: F401  (pytest fixtures)

LB_PORT = 18080  # inside the namespace: nothing else listens there


def start_ns_lb(ns, workdir, cluster="alpha"):
    d = os.path.join(workdir, "lb")
    os.makedirs(d)
    conf = os.path.join(d, "tandem-lb.ini")
    with open(conf, "w") as f:
        f.write(f"[listen]\naddress = 127.0.0.1:{LB_PORT}\nthreads = 1\n"
                f"[balancer]\nhealth_interval = 200ms\nhealth_timeout = 150ms\n"
                f"health_rise = 1\nhealth_fall = 1\n"
                f"[cluster]\nname = {cluster}\nannounce = {GROUP}:{PORT}\n"
                f"announce_interface = 127.0.0.1\nmember_ttl = 1s\n")
    lb = Process(["ip", "netns", "exec", ns, TANDEM_LB, "--config", conf], None, d)
    lb.wait_stderr("listening on", timeout=15)
    return lb


def routes(ns, n):
    """Answers n GET /health through the balancer with a curl inside the namespace."""
    out = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "--fail-with-body",
                          *[f"http://127.0.0.1:{LB_PORT}/health"] * n],
                         capture_output=True, text=True, timeout=60)
    answers = out.stdout.replace("}{", "}\n{").splitlines()
    return Counter(json.loads(a).get("route", a) if a.startswith("{") else a
                   for a in answers)


def wait_routes(ns, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        got = routes(ns, 20)
        if set(got) == want:
            return got
        assert time.monotonic() < deadline, f"routes {dict(got)}, wanted {want}"
        time.sleep(0.2)


def test_members_are_learned_from_announcements_and_age_out(nodes, netns, workdir):  # noqa: F811
    nodes("OX-1", "alpha")
    ox2 = nodes("OX-2", "alpha")
    nodes("OX-3", "beta")
    lb = start_ns_lb(netns, workdir)
    try:
        wait_routes(netns, {"OX-1", "OX-2"})
        got = routes(netns, 60)
        assert set(got) == {"OX-1", "OX-2"} and min(got.values()) >= 15, got
        assert "member OX-1 at 127.0.0.1:" in lb.stderr()
        assert "OX-3" not in lb.stderr()
        # OX-2 stops: it announces draining, then goes silent and ages out
        assert ox2.stop() == 0
        wait_routes(netns, {"OX-1"})
        deadline = time.monotonic() + 10
        while "went silent and were removed" not in lb.stderr():
            assert time.monotonic() < deadline, lb.stderr()[-2000:]
            time.sleep(0.2)
    finally:
        assert lb.stop() == 0, lb.stderr()[-3000:]
