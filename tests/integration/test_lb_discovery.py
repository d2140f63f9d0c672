# SPDX-License-Identifier: MIT
# tandem-lb learning its members from the nodes' multicast announcements, inside a private
# network namespace: nodes of its cluster appear and take traffic, another cluster's nodes are
# ignored, a stopped node ages out; forged, old and replayed announcements change nothing; a
# balancer with announce and no key does not start.
import json
import os
import subprocess
import time
from collections import Counter

import pytest

from conftest import Process, parse_metrics
from lb_setup import TANDEM_LB
from test_announce import (ANNOUNCE_KEY, GROUP, OTHER_KEY, PORT, Listener, announcement,
                           assert_refused, knows_announce_key, netns, nodes, parse_announce,
                           send_in, write_key_file)  # noqa: F401  (netns, nodes: fixtures)

LB_PORT = 18080  # inside the namespace: nothing else listens there
ADMIN_PORT = 18081
USER, PASSWORD = "lbadmin", "s3cret-pw"


def start_ns_lb(ns, workdir, cluster="alpha"):
    d = os.path.join(workdir, "lb")
    os.makedirs(d)
    conf = os.path.join(d, "tandem-lb.ini")
    # the key in a file beside the configuration (the nodes have theirs inline)
    key = ""
    if knows_announce_key(TANDEM_LB):
        write_key_file(d)
        key = "announce_key_file = announce.key\n"
    with open(conf, "w") as f:
        f.write(f"[listen]\naddress = 127.0.0.1:{LB_PORT}\nthreads = 1\n"
                f"[balancer]\nhealth_interval = 200ms\nhealth_timeout = 150ms\n"
                f"health_rise = 1\nhealth_fall = 1\n"
                f"[admin]\nlisten = 127.0.0.1:{ADMIN_PORT}\nuser = {USER}\n"
                f"password = {PASSWORD}\n"
                f"[cluster]\nname = {cluster}\nannounce = {GROUP}:{PORT}\n"
                f"announce_interface = 127.0.0.1\nmember_ttl = 1s\n{key}")
    lb = Process(["ip", "netns", "exec", ns, TANDEM_LB, "--config", conf], None, d)
    lb.wait_stderr("listening on", timeout=15)
    return lb


def curl_in(ns, *args):
    r = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "--fail-with-body", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def members(ns):
    """The manager's members, by route."""
    out = curl_in(ns, "-u", f"{USER}:{PASSWORD}",
                  f"http://127.0.0.1:{ADMIN_PORT}/manager/v1/members")
    return {m["route"]: m for m in json.loads(out)["members"]}


def metrics(ns):
    return parse_metrics(curl_in(ns, f"http://127.0.0.1:{ADMIN_PORT}/metrics"))


def wait_members(ns, want, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        got = members(ns)
        if set(got) == want:
            return got
        assert time.monotonic() < deadline, f"members {sorted(got)}, wanted {sorted(want)}"
        time.sleep(0.2)


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


def capture(listener, routes_wanted):
    """The first datagram in state ready of each route, as sent (bytes)."""
    got = {}
    while set(got) != set(routes_wanted):
        d = listener.next()
        assert d is not None, f"heard only {sorted(got)}"
        if knows_announce_key(TANDEM_LB):
            fields = parse_announce(d["data"])
        else:  # a build from before authentication: version 1, no MAC
            fields = dict(line.split("=", 1) for line in d["data"].splitlines()[1:])
        if fields["route"] in routes_wanted and fields["state"] == "ready":
            got.setdefault(fields["route"], (d["data"].encode("latin-1"), fields))
    return got


def test_forged_announcements_change_nothing(nodes, netns, workdir):  # noqa: F811
    """Datagrams without the key (today's unauthenticated format, no MAC, a wrong key), with
    the key but outside the time window, and replays of genuine ones neither add a member nor
    change one's state; a datagram signed with the key does, so the forgeries were heard."""
    ox1 = nodes("OX-1", "alpha")
    lb = start_ns_lb(netns, workdir)
    listener = Listener(netns, seconds=60)
    try:
        wait_members(netns, {"OX-1"})
        ox9 = nodes("OX-9", "alpha")
        heard = capture(listener, {"OX-1", "OX-9"})
        wait_members(netns, {"OX-1", "OX-9"})
        # OX-9 stops: it drains, goes silent and the balancer forgets it
        assert ox9.stop() == 0
        wait_members(netns, {"OX-1"})
        before = metrics(netns)

        ox1_fields = heard["OX-1"][1]
        started, seq = int(ox1_fields["started"]), int(ox1_fields["seq"])
        now = int(time.time() * 1000)
        evil = "127.0.0.1:18099"
        forged = {
            "version": [
                announcement("EVIL-1", evil, version=1),
                # newer than anything OX-1 sent: today's code believes it
                announcement("OX-1", ox1.address, state="draining", started=now + 1, seq=1,
                             version=1),
            ],
            "bad_mac": [
                announcement("EVIL-2", evil, key=None),
                announcement("EVIL-3", evil, key=OTHER_KEY),
                announcement("OX-1", ox1.address, state="draining", started=started,
                             seq=seq + 10**6, key=OTHER_KEY),
            ],
            "stale": [
                announcement("EVIL-4", evil, time_ms=now - 60000),
                announcement("EVIL-5", evil, time_ms=now + 60000),
                announcement("OX-1", ox1.address, state="draining", started=started,
                             seq=seq + 10**6, time_ms=now - 60000),
            ],
            "replay": [heard["OX-9"][0], heard["OX-1"][0]],
        }
        genuine = announcement("PY-1", "127.0.0.1:18098", started=now, seq=1)
        mark = len(lb.stderr())
        send_in(netns, *[d for reason in forged.values() for d in reason], genuine)

        # The balancer's thread takes datagrams in order: once PY-1 joined, every forgery
        # before it has been dealt with.
        deadline = time.monotonic() + 15
        while "member PY-1 at" not in lb.stderr()[mark:]:
            log = lb.stderr()[mark:]
            for route in ("EVIL-1", "EVIL-2", "EVIL-3", "EVIL-4", "EVIL-5", "OX-9"):
                assert f"member {route} at" not in log, \
                    f"a forged or replayed announcement added a member:\n{log[-3000:]}"
            assert time.monotonic() < deadline, f"PY-1 never joined:\n{log[-3000:]}"
            time.sleep(0.1)
        got = members(netns)
        assert "OX-9" not in got and not any(r.startswith("EVIL") for r in got), got
        assert got["OX-1"]["draining"] is False and got["OX-1"]["effective"] == "ready", got
        assert got["OX-1"]["address"] == ox1.address, got

        # every forgery was counted under its reason, and nothing else was dropped
        deadline = time.monotonic() + 10
        while True:
            after = metrics(netns)
            dropped = {reason: after[f'tandem_lb_announce_dropped_total{{reason="{reason}"}}'] -
                       before[f'tandem_lb_announce_dropped_total{{reason="{reason}"}}']
                       for reason in ("malformed", "version", "bad_mac", "stale", "replay",
                                      "senders", "other_cluster")}
            want = {reason: len(forged.get(reason, [])) for reason in dropped}
            if dropped == want or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert dropped == want
        assert after["tandem_lb_announce_accepted_total"] > \
            before["tandem_lb_announce_accepted_total"]
        # logged, but not once per datagram
        lines = [line for line in lb.stderr().splitlines() if "dropped an announcement" in line]
        assert 1 <= len(lines) <= 2, lines
        assert "from 127.0.0.1" in lines[0] and "version" in lines[0], lines[0]
        assert ANNOUNCE_KEY not in lb.stderr()
        # the genuine node still serves through the balancer
        wait_routes(netns, {"OX-1"})
    finally:
        listener.close()
        assert lb.stop() == 0, lb.stderr()[-3000:]


@pytest.mark.parametrize("keys,problem", [
    ("", "[cluster] announce needs announce_key or announce_key_file"),
    ("announce_key_file = loose.key\n", "other users may read or write it (mode 0644)"),
    ("announce_key = 0123456789abcdef\n", "[cluster] announce_key: too short"),
])
def test_lb_refuses_announce_without_a_good_key(workdir, keys, problem):
    write_key_file(workdir, name="loose.key", mode=0o644)
    conf = os.path.join(workdir, "tandem-lb.ini")
    with open(conf, "w") as f:
        f.write(f"[listen]\naddress = 127.0.0.1:0\n[cluster]\nannounce = {GROUP}:{PORT}\n"
                f"announce_interface = 127.0.0.1\n{keys}")
    assert_refused(TANDEM_LB, conf, f"{conf}:", problem)
