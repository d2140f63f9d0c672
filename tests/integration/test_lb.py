# SPDX-License-Identifier: MIT
# tandem-lb's proxy in front of recording backends: what a member gets (headers re-serialised,
# X-Forwarded-*, bodies streamed both ways), sticky routes, weights, states, failover,
# that malformed or smuggling requests never reach a member, and that node verbs
# (/admin/v1/node, /admin/v1/drain) are refused with the members' URLs.
import http.client
import json
import os
import signal
import threading
import time
from collections import Counter

import pytest

from conftest import CORPUS, free_port
from lb_setup import STEADY_HEALTH, Recorder, raw_exchange, start_lb, stop_lb


@pytest.fixture
def recorders():
    recs = []

    def make(n=2):
        for i in range(n):
            recs.append(Recorder(f"OX-{len(recs) + 1}"))
        return recs

    yield make
    for r in recs:
        r.stop()


def get(port, path="/x", headers=None, method="GET", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def route_of(port, **kw):
    status, headers, body = get(port, **kw)
    assert status == 200, (status, body)
    return json.loads(body)["route"]


def test_a_request_reaches_a_member_with_forwarded_headers(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")])
    try:
        status, headers, body = get(lb.port, "/api/v1/x?a=1", headers={
            "Host": "groupware.example", "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Proto": "https", "Connection": "X-Secret", "X-Secret": "hop",
            "Keep-Alive": "timeout=5", "X-End-To-End": "kept"})
        assert status == 200 and json.loads(body)["route"] == "OX-1"
        assert headers["x-backend"] == "OX-1"  # member fields come back
        assert "keep-alive" not in headers
        method, path, _, _ = rec.requests[-1]
        assert (method, path) == ("GET", "/api/v1/x?a=1")
        h = rec.headers_of(-1)
        assert h["host"] == "groupware.example"
        assert h["x-forwarded-for"] == "127.0.0.1"  # the client's claim is not trusted
        assert h["x-forwarded-proto"] == "http"
        assert h["x-end-to-end"] == "kept"
        assert "x-secret" not in h and "keep-alive" not in h
    finally:
        stop_lb(lb)


def test_trusted_proxies_keep_their_forwarded_for(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")],
                  balancer="trusted_proxies = 127.0.0.0/8\n")
    try:
        get(lb.port, headers={"X-Forwarded-For": "192.0.2.7", "X-Forwarded-Proto": "https"})
        h = rec.headers_of(-1)
        assert h["x-forwarded-for"] == "192.0.2.7, 127.0.0.1"
        assert h["x-forwarded-proto"] == "https"
    finally:
        stop_lb(lb)


def test_bodies_are_streamed_both_ways(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")])
    try:
        payload = os.urandom(5 * 1024 * 1024)
        status, _, body = get(lb.port, "/upload", method="POST", body=payload)
        assert status == 200 and json.loads(body)["len"] == len(payload)
        assert rec.requests[-1][3] == payload

        # A chunked request body arrives whole (the proxy re-chunks what it decoded).
        c = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=30)
        c.request("PUT", "/chunked", body=iter([b"hello ", b"chunked ", b"world"]),
                  encode_chunked=True)
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["len"] == 19
        c.close()
        assert rec.requests[-1][3] == b"hello chunked world"
    finally:
        stop_lb(lb)


def test_keep_alive_connections_to_members_are_reused(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")], balancer="health_uri = /health\n")
    try:
        c = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=30)
        for _ in range(50):
            c.request("GET", "/k")
            r = c.getresponse()
            assert r.status == 200
            r.read()
        c.close()
        # health checks use their own connections; requests share few pooled ones
        time.sleep(0.3)
        with rec.lock:
            n = rec.connections
        assert n < 20, f"{n} backend connections for 50 requests"
    finally:
        stop_lb(lb)


@pytest.mark.parametrize("name", sorted(os.listdir(CORPUS)))
def test_malformed_requests_get_400_and_never_reach_a_member(workdir, recorders, name):
    rec, = recorders(1)
    # steady health checks: one slow answer of the member on a loaded machine is not the point
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")], balancer=STEADY_HEALTH)
    try:
        with open(os.path.join(CORPUS, name), "rb") as f:
            raw = f.read()
        data, closed = raw_exchange(lb.port, raw)
        assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data[:200]
        assert data.count(b"HTTP/1.1 ") == 1, "a smuggled second request was answered"
        assert closed
        time.sleep(0.05)
        assert rec.requests == [], f"the member got {rec.requests}"
        assert route_of(lb.port) == "OX-1"  # and the balancer still works
    finally:
        stop_lb(lb)


def test_sticky_routes_from_cookie_path_and_query(workdir, recorders):
    recs = recorders(2)
    lb = start_lb(workdir, [("OX-1", recs[0].port, 50, "ready"),
                            ("OX-2", recs[1].port, 50, "ready")])
    try:
        for route in ("OX-1", "OX-2"):
            for _ in range(5):
                assert route_of(lb.port, headers={"Cookie": f"JSESSIONID=abc.{route}"}) == route
            assert route_of(lb.port, path=f"/app;jsessionid=abc.{route}") == route
            assert route_of(lb.port, path=f"/app?x=1&jsessionid=abc.{route}") == route
    finally:
        stop_lb(lb)


def split(port, n, threads=4):
    counts = Counter()
    lock = threading.Lock()

    def work(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(k):
            c.request("GET", "/new")
            r = c.getresponse()
            body = r.read()
            # an answer from the balancer itself (no member) shows up in the counts
            route = json.loads(body)["route"] if r.status == 200 else f"status {r.status}"
            with lock:
                counts[route] += 1
        c.close()

    ts = [threading.Thread(target=work, args=(n // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return counts


@pytest.mark.parametrize("factors,expect", [((50, 50), 0.5), ((75, 25), 0.75)])
def test_new_sessions_split_by_loadfactor(workdir, recorders, factors, expect):
    recs = recorders(2)
    lb = start_lb(workdir, [("OX-1", recs[0].port, factors[0], "ready"),
                            ("OX-2", recs[1].port, factors[1], "ready")])
    try:
        # sticky traffic to OX-2 in between must not skew the weights
        for _ in range(50):
            route_of(lb.port, headers={"Cookie": "JSESSIONID=s.OX-2"})
        counts = split(lb.port, 1000)
        share = counts["OX-1"] / 1000
        assert abs(share - expect) <= 0.1 * expect, counts
    finally:
        stop_lb(lb)


def test_a_dead_member_costs_no_failed_request(workdir, recorders):
    rec, = recorders(1)
    dead = free_port()  # nothing listens there
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready"), ("OX-2", dead, 50, "ready")],
                  balancer="health_interval = 10s\n")  # passive detection alone
    try:
        for _ in range(40):
            assert route_of(lb.port) == "OX-1"
        # sticky to the dead member: served elsewhere, no error
        assert route_of(lb.port, headers={"Cookie": "JSESSIONID=s.OX-2"}) == "OX-1"
    finally:
        stop_lb(lb)


def test_no_usable_member_is_503_with_a_code(workdir):
    lb = start_lb(workdir, [("OX-1", free_port(), 50, "ready")],
                  balancer="health_interval = 10s\n")
    try:
        status, headers, body = get(lb.port)
        assert status == 503
        assert json.loads(body)["error"]["code"] == "LB-0503"
    finally:
        stop_lb(lb)


def test_drain_takes_only_sticky_traffic_and_maint_none(workdir, recorders):
    recs = recorders(3)
    lb = start_lb(workdir, [("OX-1", recs[0].port, 50, "ready"),
                            ("OX-2", recs[1].port, 50, "drain"),
                            ("OX-3", recs[2].port, 50, "maint")])
    try:
        assert set(split(lb.port, 100)) == {"OX-1"}
        assert route_of(lb.port, headers={"Cookie": "JSESSIONID=s.OX-2"}) == "OX-2"
        assert route_of(lb.port, headers={"Cookie": "JSESSIONID=s.OX-3"}) == "OX-1"
    finally:
        stop_lb(lb)


def test_standby_serves_only_when_no_ready_member_is_left(workdir, recorders):
    recs = recorders(2)
    lb = start_lb(workdir, [("OX-1", recs[0].port, 50, "ready"),
                            ("OX-2", recs[1].port, 50, "standby")])
    try:
        assert set(split(lb.port, 40)) == {"OX-1"}
        recs[0].stop()
        deadline = time.monotonic() + 5
        while route_of(lb.port) != "OX-2":
            assert time.monotonic() < deadline
    finally:
        stop_lb(lb)


def test_sigterm_stops_cleanly(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")])
    assert route_of(lb.port) == "OX-1"
    assert lb.stop() == 0
    assert "stopped" in lb.stderr()


def test_access_rules_keep_paths_to_their_networks(workdir, recorders):
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")],
                  extra="[access /admin]\nallow = 192.0.2.0/24\n"
                        "[access /admin/v1/public]\nallow = 127.0.0.0/8\n")
    try:
        for path in ("/admin", "/admin/v1/x", "/%61dmin/v1", "//admin", "/x/../admin",
                     "/admin;jsessionid=a.OX-1/v1", "/admin/./v1"):
            status, _, body = get(lb.port, path)
            assert status == 403, (path, status, body)
            assert json.loads(body)["error"]["code"] == "LB-0403"
        status, _, body = get(lb.port, "/admin%2fv1")
        assert status == 400, body
        assert rec.requests == [], "a refused request reached the member"
        for path in ("/administrator", "/api/v1/x", "/admin/v1/public/y"):
            assert route_of(lb.port, path=path) == "OX-1", path
    finally:
        stop_lb(lb)


def test_node_verbs_are_answered_by_the_balancer_with_the_members_urls(workdir, recorders):
    recs = recorders(2)
    lb = start_lb(workdir, [(r.route, r.port, 50, "ready") for r in recs],
                  extra="[access /admin]\nallow = 127.0.0.1/32\n")
    try:
        for method, path in (("GET", "/admin/v1/node"), ("POST", "/admin/v1/drain"),
                             ("POST", "/admin/v1/%64rain"), ("GET", "/admin/./v1/x/../node")):
            status, _, body = get(lb.port, path, method=method)
            assert status == 421, (path, status, body)
            error = json.loads(body)["error"]
            assert error["code"] == "LB-0421", error
            assert "this is a balancer" in error["message"], error
            for r in recs:
                assert f"{r.route} http://127.0.0.1:{r.port}" in error["message"], error
        assert all(r.requests == [] for r in recs), "a node verb reached a member"
        # Other admin paths pass; the access rules still come first.
        assert route_of(lb.port, path="/admin/v1/cluster") in ("OX-1", "OX-2")
        c = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=30,
                                       source_address=("127.0.0.2", 0))
        c.request("GET", "/admin/v1/node")
        r = c.getresponse()
        assert r.status == 403 and b"127.0.0.1" not in r.read()
        c.close()
    finally:
        stop_lb(lb)


def test_sighup_reloads_members_and_settings_keeping_connections(workdir, recorders):
    recs = recorders(2)
    lb = start_lb(workdir, [("OX-1", recs[0].port, 50, "ready")])
    conf = os.path.join(workdir, "lb", "tandem-lb.ini")
    try:
        client = http.client.HTTPConnection("127.0.0.1", lb.port, timeout=30)
        client.request("GET", "/before")
        assert json.loads(client.getresponse().read())["route"] == "OX-1"
        original = open(conf).read()

        def reload(text, expect):
            with open(conf, "w") as f:
                f.write(text)
            n = lb.stderr().count(expect)
            lb.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while lb.stderr().count(expect) == n:
                assert time.monotonic() < deadline, lb.stderr()[-2000:]
                time.sleep(0.05)

        member2 = f"[member OX-2]\nurl = http://127.0.0.1:{recs[1].port}\nloadfactor = 50\n"
        reload(original + member2, "reloaded")
        assert set(split(lb.port, 40)) == {"OX-1", "OX-2"}
        # the client's keep-alive connection survived the reload
        client.request("GET", "/after")
        assert json.loads(client.getresponse().read())["route"] in ("OX-1", "OX-2")
        client.close()

        reload(original.replace("state = ready", "state = maint") + member2, "reloaded")
        assert set(split(lb.port, 40)) == {"OX-2"}

        reload("[balancer]\nbogus = 1\n", "nothing changed")
        assert set(split(lb.port, 40)) == {"OX-2"}  # still the last good configuration

        reload(original.replace("threads = 2", "threads = 1") + member2, "next restart")
        assert lb.proc.poll() is None
    finally:
        stop_lb(lb)


def test_head_answer_keeps_the_members_content_length(workdir, recorders):
    """A HEAD answer announces what a GET would carry, through the balancer too."""
    rec, = recorders(1)
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")])
    try:
        get_answer, _ = raw_exchange(lb.port, b"GET /x HTTP/1.1\r\nHost: t\r\n"
                                              b"Connection: close\r\n\r\n")
        head_answer, closed = raw_exchange(lb.port, b"HEAD /x HTTP/1.1\r\nHost: t\r\n"
                                                    b"Connection: close\r\n\r\n")
        assert closed
        get_head, _, get_body = get_answer.partition(b"\r\n\r\n")
        head_head, _, head_body = head_answer.partition(b"\r\n\r\n")
        assert head_body == b""
        length = [h for h in head_head.split(b"\r\n") if h.lower().startswith(b"content-length:")]
        assert length == [f"Content-Length: {len(get_body)}".encode()], head_head
        assert head_head.startswith(b"HTTP/1.1 200 ") and get_head.startswith(b"HTTP/1.1 200 ")
    finally:
        stop_lb(lb)


def test_answers_arriving_together_beyond_the_provided_buffers(workdir, recorders, monkeypatch):
    # On io_uring the balancer receives members' answers into the loop's provided buffers
    # (256; 1 here). Answers that arrive together run out of them: those sockets receive into
    # a buffer of their own, and every client still gets its own answer.
    monkeypatch.setenv("TANDEM_IOLOOP_BUFS", "1")
    rec, = recorders(1)
    # Long enough that no health check, connect or read times out while it is stopped.
    lb = start_lb(workdir, [("OX-1", rec.port, 50, "ready")],
                  balancer="health_interval = 10s\nhealth_timeout = 5s\nconnect_timeout = 5s")
    clients = [http.client.HTTPConnection("127.0.0.1", lb.port, timeout=30) for _ in range(40)]
    try:
        # Overlapping requests: each client gets a member connection of its own, kept alive,
        # so that no connect (with its timeout) runs while the balancer is stopped below.
        for c in clients:
            c.request("GET", "/warm?delay_ms=300")
        for c in clients:
            assert c.getresponse().read()
        for i, c in enumerate(clients):
            c.request("GET", f"/n{i}?delay_ms=400")
        time.sleep(0.2)  # forwarded, the member still holds the answers back
        os.kill(lb.pid, signal.SIGSTOP)  # so that they all arrive while it waits
        try:
            time.sleep(0.6)
        finally:
            os.kill(lb.pid, signal.SIGCONT)
        for c in clients:
            r = c.getresponse()
            assert r.status == 200 and json.loads(r.read())["route"] == "OX-1"
        assert sorted(p for _, p, _, _ in rec.requests if p.startswith("/n")) == \
            sorted(f"/n{i}?delay_ms=400" for i in range(40))
    finally:
        for c in clients:
            c.close()
        stop_lb(lb)
