# SPDX-License-Identifier: MIT
# The balancer manager's state shared between tandem-lb peers through Redis ([cluster] store):
# a change on one balancer reaches the others within a second and steers their traffic, a
# balancer started later (with or without a manager) takes the shared state over its own
# file, and while Redis is down each balancer keeps working on its own and catches up after.
import json
import os
import statistics
import time


from conftest import free_port
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from lb_setup import start_lb, stop_lb
from test_lb import route_of, split
from test_lb_manager import admin_section, call, members, token, two  # noqa: F401 (fixture)

KEY = "tandem:t:v1:lb:state"


def cluster_section(redis):
    return f"[cluster]\nname = t\nstore = {redis.url}\n"


def start(workdir, recs, redis, admin=None, name="lb"):
    extra = (admin_section(admin) if admin else "") + cluster_section(redis)
    return start_lb(workdir, members(recs), extra=extra, name=name)


def member(admin, route):
    st, body = call(admin, "GET", f"/manager/v1/members/{route}")
    assert st == 200, body
    return json.loads(body)


def patch(admin, route, change):
    st, body = call(admin, "PATCH", f"/manager/v1/members/{route}", change, csrf=token(admin))
    assert st == 200, body


def wait_for(check, timeout, step=0.02):
    """Polls check() until it is true; returns the seconds it took (fails after timeout)."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < timeout, f"not within {timeout}s"
        time.sleep(step)
    return time.monotonic() - t0


def shared_version(redis):
    v = redis.cli("HGET", KEY, "version")
    return int(v) if v is not None else None


def test_changes_reach_the_peer_within_a_second(workdir, two, redis_server):
    a1, a2 = free_port(), free_port()
    lb1 = start(workdir, two, redis_server, a1)
    lb2 = start(workdir, two, redis_server, a2, name="lb2")
    try:
        assert shared_version(redis_server) == 1  # lb1 published its (empty) state at start
        delays = []
        for state in ("maint", "ready", "drain", "ready", "maint"):
            t0 = time.monotonic()  # the PATCH itself counts
            patch(a1, "OX-2", {"state": state})
            wait_for(lambda: member(a2, "OX-2")["state"] == state, timeout=10)
            delays.append(time.monotonic() - t0)
        assert statistics.median(delays) < 1.0, delays
        # lb2 routes by it: no new sessions on OX-2, and its sticky requests fail over
        assert set(split(lb2.port, 40)) == {"OX-1"}
        assert route_of(lb2.port, headers={"Cookie": "JSESSIONID=s.OX-2"}) == "OX-1"
        # the other way round, with a loadfactor
        patch(a2, "OX-1", {"loadfactor": 20})
        wait_for(lambda: member(a1, "OX-1")["loadfactor"] == 20, timeout=10)
        # a peer's state is applied, never published again: one version per change
        time.sleep(0.3)
        assert shared_version(redis_server) == 1 + 5 + 1
        assert member(a2, "OX-2")["state"] == "maint"
        # and each balancer keeps it in its own state file
        for d in ("lb", "lb2"):
            with open(os.path.join(workdir, d, "tandem-lb.state")) as f:
                saved = json.load(f)["members"]
            assert saved["OX-2"]["state"] == "maint" and saved["OX-1"]["loadfactor"] == 20
    finally:
        stop_lb(lb2)
        stop_lb(lb1)
    assert "following the shared state version" in lb2.stderr()


def test_a_balancer_started_later_takes_the_shared_state(workdir, two, redis_server):
    a1 = free_port()
    lb1 = start(workdir, two, redis_server, a1)
    lb3 = None
    try:
        patch(a1, "OX-2", {"state": "maint"})
        # lb3 has no manager, and a state file of its own that the shared state overrides
        os.makedirs(os.path.join(workdir, "lb3"))
        with open(os.path.join(workdir, "lb3", "tandem-lb.state"), "w") as f:
            json.dump({"version": 1, "members": {"OX-1": {"state": "disabled"}}}, f)
        lb3 = start(workdir, two, redis_server, name="lb3")
        # at once, from its very first request
        assert set(split(lb3.port, 40)) == {"OX-1"}
        assert "using the shared manager state version 2" in lb3.stderr()
        # a balancer without a manager still follows the later changes
        patch(a1, "OX-2", {"state": "ready"})
        wait_for(lambda: set(split(lb3.port, 20)) == {"OX-1", "OX-2"}, timeout=10)
        with open(os.path.join(workdir, "lb3", "tandem-lb.state")) as f:
            assert json.load(f)["members"] == {"OX-2": {"state": "ready"}}
    finally:
        if lb3 is not None:
            stop_lb(lb3)
        stop_lb(lb1)


def test_redis_down_changes_stay_local_and_the_peer_catches_up(workdir, two, redis_server):
    a1, a2 = free_port(), free_port()
    lb1 = start(workdir, two, redis_server, a1)
    lb2 = start(workdir, two, redis_server, a2, name="lb2")
    try:
        redis_server.terminate()
        patch(a1, "OX-2", {"state": "maint"})  # still answers, written to lb1's file
        assert set(split(lb1.port, 40)) == {"OX-1"}
        time.sleep(0.5)
        assert member(a2, "OX-2")["state"] == "ready"  # lb2 cannot know yet
        redis_server.restart()  # empty: lb1 publishes its change when it reconnects
        wait_for(lambda: member(a2, "OX-2")["state"] == "maint", timeout=10)
        assert set(split(lb2.port, 40)) == {"OX-1"}
        # and sharing works as before
        patch(a2, "OX-2", {"state": "ready"})
        wait_for(lambda: member(a1, "OX-2")["state"] == "ready", timeout=10)
    finally:
        stop_lb(lb2)
        stop_lb(lb1)
    log = lb1.stderr()
    assert log.count("not shared meanwhile") == 1, log[-3000:]  # logged once per outage
    assert "answers again" in log
