# SPDX-License-Identifier: MIT
# Front ends before a two-node cluster sharing one Redis: Apache mod_proxy_balancer with the
# seed's configuration (route=OX-n, stickysession=JSESSIONID) and HAProxy as docs/balancer.md
# configures it. New sessions spread over both nodes; every later request goes to the node its
# JSESSIONID route names (also a route the client chose, a ;jsessionid= path parameter, the
# query parameter); a node in the front end's drain mode keeps its sessions but gets no new
# ones; an unknown route or a stopped node falls over to the other node.
import re
import urllib.parse

import pytest

from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from cluster_setup import start_cluster, wait_for
from conftest import scrape_metrics
from provisioning import ApiClient
import peers

LOGINS = 40
USERS = ("alice", "bob")


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url)
    yield c
    c.stop()


def members(cluster):
    return [(f"OX-{i + 1}", "127.0.0.1", n.port) for i, n in enumerate(cluster.nodes)]


def cookie_route(api):
    return api.cookies["JSESSIONID"].split(".", 1)[1]


def whoami(api, path="/api/v1/session"):
    status, body, resp = api.request("GET", path)
    assert status == 200, (path, status, body)
    return body, resp


def login_through(port, n):
    """n logins through the front end (users alternating); the clients, keeping their cookies."""
    clients = []
    for i in range(n):
        user = USERS[i % len(USERS)]
        api = ApiClient(port)
        status, body, _ = api.login(user, f"{user}_pw")
        assert status == 200, body
        # the node that answered set the routing cookie with its own route
        assert cookie_route(api) == body["route"], (api.cookies, body)
        clients.append(api)
    return clients


def requests_per_node(cluster):
    return [scrape_metrics(n.port)["tandem_http_requests_total"] for n in cluster.nodes]


def check_sticky_by_route(cluster, port, route_header=None):
    """What both front ends must do; route_header names the front end's own report of the
    member it chose (Apache: X-Balancer-Route), checked too when given."""
    clients = login_through(port, LOGINS)
    routes = [cookie_route(api) for api in clients]
    assert set(routes) == {"OX-1", "OX-2"}, routes
    assert min(routes.count("OX-1"), routes.count("OX-2")) >= LOGINS // 4, routes

    # every later request of a session goes to the node of its route
    for api in clients[:8]:
        for _ in range(8):
            me, resp = whoami(api)
            assert me["route"] == cookie_route(api) and me["session"] == api.session
            if route_header:
                assert resp.getheader(route_header) == me["route"]

    # the route alone decides: the same session with the other node's route goes there
    # (sessions are shared)
    api = next(a for a in clients if cookie_route(a) == "OX-1")
    sid = api.cookies["JSESSIONID"].split(".", 1)[0]
    for route in ("OX-2", "OX-1", "OX-2"):
        api.cookies["JSESSIONID"] = f"{sid}.{route}"
        assert whoami(api)[0]["route"] == route

    # without the cookie, a ;jsessionid= path parameter steers (tandemd serves the path before
    # it); the node that got the requests is also read from its request counter. Both nodes
    # also count one scrape and at most one health check here.
    del api.cookies["JSESSIONID"]
    before = requests_per_node(cluster)
    for _ in range(5):
        status, body, resp = api.request("GET", f"/api/v1/session;jsessionid={sid}.OX-2")
        assert status == 200 and body["route"] == "OX-2", (status, body)
        if route_header:
            assert resp.getheader(route_header) == "OX-2"
    got = [a - b for a, b in zip(requests_per_node(cluster), before)]
    assert got[0] <= 2 and got[1] - got[0] >= 4, got
    # ... and so does the query parameter
    for route in ("OX-2", "OX-1"):
        assert whoami(api, f"/api/v1/session?jsessionid={sid}.{route}")[0]["route"] == route

    # a route no node has is a new session's pick, not an error
    api.cookies["JSESSIONID"] = f"{sid}.OX-9"
    assert {whoami(api)[0]["route"] for _ in range(4)} <= {"OX-1", "OX-2"}
    return clients


def check_drain(port, clients, drain, ready):
    """OX-1 put into the front end's drain mode: new sessions go to OX-2 only, OX-1's sessions
    stay on OX-1; back to ready, new sessions spread again."""
    on1 = [a for a in clients if cookie_route(a) == "OX-1"][-1]
    drain("OX-1")
    assert {cookie_route(a) for a in login_through(port, 6)} == {"OX-2"}
    for _ in range(4):
        assert whoami(on1)[0]["route"] == "OX-1"
    ready("OX-1")
    assert {cookie_route(a) for a in login_through(port, 6)} == {"OX-1", "OX-2"}


def check_failover(cluster, clients):
    """Node OX-2 stops: its sessions go on through OX-1."""
    on2 = [a for a in clients if cookie_route(a) == "OX-2"][:4]
    assert cluster.nodes[1].stop() == 0
    for api in on2:
        wait_for("failover to OX-1",
                 lambda: api.request("GET", "/api/v1/session")[0] == 200, timeout=15)
        for _ in range(4):
            assert whoami(api)[0]["route"] == "OX-1"


@pytest.mark.skipif(peers.missing("apache2") is not None,
                    reason=peers.missing("apache2") or "")
def test_apache_front_is_sticky_by_route(workdir, cluster):
    apache = peers.start_apache(workdir, members(cluster), retry=2)
    try:
        clients = check_sticky_by_route(cluster, apache.port, route_header="X-Balancer-Route")

        # the balancer manager lists both routes, and only for 127.0.0.1, like /admin/v1
        local = ApiClient(apache.port)
        status, page, _ = local.request("GET", "/balancer-manager")
        assert status == 200 and b"OX-1" in page and b"OX-2" in page
        other = ApiClient(apache.port, source="127.0.0.2")
        assert other.request("GET", "/balancer-manager")[0] == 403
        assert other.request("GET", "/admin/v1/node")[0] == 403
        assert local.request("GET", "/admin/v1/node")[0] == 401  # reached a node: no credentials

        ports = {route: port for route, _, port in members(cluster)}

        def drain(route, on=True):
            # the seed's rolling upgrade: the member's Drain flag in the balancer manager
            page = local.request("GET", "/balancer-manager")[1]
            nonce = re.search(rb"nonce=([0-9a-f-]+)", page).group(1).decode()
            form = urllib.parse.urlencode({"b": "oxcluster", "nonce": nonce,
                                           "w": f"http://127.0.0.1:{ports[route]}",
                                           "w_status_N": "1" if on else "0"})
            manager = f"http://127.0.0.1:{apache.port}/balancer-manager"
            status = local.request("POST", "/balancer-manager", raw=form.encode(), headers={
                "Content-Type": "application/x-www-form-urlencoded", "Referer": manager})[0]
            assert status == 200

        check_drain(apache.port, clients, drain, lambda route: drain(route, on=False))
        check_failover(cluster, clients)
    finally:
        apache.stop()
    with open(apache.error_log) as f:
        errors = [line for line in f if ":emerg]" in line or ":crit]" in line]
    assert not errors, errors


@pytest.mark.skipif(peers.missing("haproxy") is not None,
                    reason=peers.missing("haproxy") or "")
def test_haproxy_front_is_sticky_by_route(workdir, cluster):
    haproxy = peers.start_haproxy(workdir, members(cluster), inter="500ms")
    try:
        clients = check_sticky_by_route(cluster, haproxy.port)

        def state(value):
            def set_state(route):
                answer = peers.haproxy_command(haproxy,
                                               f"set server oxcluster/{route} state {value}")
                assert answer.strip() == "", answer
            return set_state

        check_drain(haproxy.port, clients, state("drain"), state("ready"))
        check_failover(cluster, clients)
    finally:
        haproxy.stop()
