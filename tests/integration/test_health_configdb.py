# SPDX-License-Identifier: MIT
# /health reports a configdb that is down (503 with the reason) from a background probe, and
# turns 200 again when it is back; /health itself never waits for the database.
import json
import os
import signal
import time
import urllib.error
import urllib.request

from fixtures_mariadb import mariadb  # noqa: F401  (pytest fixture)
from provisioning import Cluster


def health(port):
    """(status, body, seconds taken)."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    return status, json.loads(body), time.monotonic() - t0


def wait_health(port, want, timeout=20.0):
    """Polls /health until it answers want; every answer must come fast."""
    deadline = time.monotonic() + timeout
    while True:
        status, body, took = health(port)
        assert took < 1.0, f"/health took {took:.2f}s"
        if status == want:
            return body
        assert time.monotonic() < deadline, f"/health still {status} {body}"
        time.sleep(0.05)


def test_health_is_503_while_the_mariadb_configdb_is_down(workdir, mariadb):  # noqa: F811
    mariadb.create_database("healthcfg")
    c = Cluster(workdir, mariadb.url("healthcfg"),
                extra="probe_interval = 200ms\nprobe_timeout = 1s\n")
    node = c.start_node()
    try:
        body = wait_health(node.port, 200)
        assert body["status"] == "ready" and "reason" not in body
        assert set(body) == {"status", "route", "version"}

        # stopped: connections are refused
        mariadb.halt()
        body = wait_health(node.port, 503)
        assert body == {"status": "unavailable", "route": "OX-1", "version": body["version"],
                        "reason": "configdb unreachable"}
        node.wait_stderr("configdb is down")
        mariadb.resume()
        body = wait_health(node.port, 200)
        assert body["status"] == "ready"
        node.wait_stderr("configdb answers again")

        # hung (SIGSTOP): connections open but nothing answers; the probe's timeout decides
        os.kill(mariadb.pid, signal.SIGSTOP)
        try:
            body = wait_health(node.port, 503)
            assert body["status"] == "unavailable"
            assert body["reason"] in ("configdb unreachable", "configdb not answering")
        finally:
            os.kill(mariadb.pid, signal.SIGCONT)
        wait_health(node.port, 200)
    finally:
        c.stop()


def test_draining_wins_over_a_down_configdb(workdir, mariadb):  # noqa: F811
    mariadb.create_database("healthdrain")
    c = Cluster(workdir, mariadb.url("healthdrain"),
                extra="probe_interval = 200ms\nprobe_timeout = 1s\n"
                      "[server]\ndrain_grace = 30s\n")
    node = c.start_node()
    try:
        wait_health(node.port, 200)
        mariadb.halt()
        wait_health(node.port, 503)
        os.kill(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:
            status, body, _ = health(node.port)
            if body["status"] == "draining":
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert status == 503 and body["reason"] == "draining"
        os.kill(node.pid, signal.SIGTERM)  # cut the grace short
    finally:
        mariadb.resume()
        c.stop()
