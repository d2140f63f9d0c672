# SPDX-License-Identifier: MIT
# tandem-lb in front of real tandemd nodes sharing sessions through Redis: logins split by
# loadfactor, a session stays on its node, a killed node costs no failed idempotent request,
# a draining node takes only its own sessions, files stream through whole.
import hashlib
import os
import signal
import threading
from collections import Counter

import pytest

from cluster_setup import start_cluster
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from lb_setup import start_lb, stop_lb
from provisioning import ApiClient


def lb_cluster(workdir, store, factors=(50, 50), balancer=""):
    c = start_cluster(workdir, store, nodes=len(factors), session="max_per_user = 0\n",
                      server="drain_grace = 5s\n")
    members = [(f"OX-{i + 1}", n.port, f, "ready") for i, (n, f) in
               enumerate(zip(c.nodes, factors))]
    lb = start_lb(workdir, members, balancer=balancer)
    return c, lb


def cookie_route(api):
    return api.cookies["JSESSIONID"].split(".", 1)[1]


def logins(port, n, threads=4):
    """n logins of alice through the balancer; returns the clients."""
    out, lock = [], threading.Lock()

    def work(k):
        for _ in range(k):
            api = ApiClient(port)
            st, body, _ = api.login("alice", "alice_pw")
            assert st == 200, body
            api.route = body["route"]
            with lock:
                out.append(api)

    ts = [threading.Thread(target=work, args=(n // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


@pytest.mark.parametrize("factors,share,n", [((50, 50), 0.5, 1000), ((75, 25), 0.75, 400)])
def test_logins_split_by_loadfactor_and_stay_on_their_node(workdir, redis_server, factors,
                                                           share, n):  # noqa: F811
    c, lb = lb_cluster(workdir, redis_server.url, factors)
    try:
        clients = logins(lb.port, n)
        counts = Counter(api.route for api in clients)
        assert abs(counts["OX-1"] / n - share) <= 0.1 * share, counts
        for api in clients[:: n // 20]:
            assert cookie_route(api) == api.route
            for _ in range(5):
                st, me, _ = api.request("GET", "/api/v1/session")
                assert st == 200 and me["route"] == api.route, (st, me)
    finally:
        stop_lb(lb)
        c.stop()


def test_a_killed_node_costs_no_failed_idempotent_request(workdir, redis_server):  # noqa: F811
    c, lb = lb_cluster(workdir, redis_server.url)
    try:
        clients = logins(lb.port, 40)
        assert {api.route for api in clients} == {"OX-1", "OX-2"}
        victim = c.nodes[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.proc.wait()
        failed = []
        for _ in range(3):
            for api in clients:
                st, me, _ = api.request("GET", "/api/v1/session")
                if st != 200 or me["route"] != "OX-2":
                    failed.append((st, me))
        assert failed == [], failed[:5]
    finally:
        stop_lb(lb)
        c.nodes = c.nodes[1:]
        c.stop()


def test_a_draining_node_keeps_its_sessions_and_gets_no_new_ones(workdir,
                                                                 redis_server):  # noqa: F811
    # health checks far apart: only the node's refusal can steer logins away in time
    c, lb = lb_cluster(workdir, redis_server.url, balancer="health_interval = 30s\n"
                                                          "health_timeout = 1s\n")
    try:
        clients = logins(lb.port, 20)
        on_one = [api for api in clients if api.route == "OX-1"]
        assert on_one
        c.ok("drainnode")  # c.url is node 1
        # At once, before any health check ran: a login the draining node refuses (503 with
        # X-Tandem-Refused) goes to the other node, no client sees an error.
        assert {api.route for api in logins(lb.port, 20)} == {"OX-2"}
        assert "member OX-1 is draining" in lb.stderr()
        for api in on_one:
            st, me, _ = api.request("GET", "/api/v1/session")
            assert st == 200 and me["route"] == "OX-1", (st, me)
    finally:
        stop_lb(lb)
        c.stop()


def test_files_stream_through_the_balancer_whole(workdir, redis_server):  # noqa: F811
    c, lb = lb_cluster(workdir, redis_server.url)
    try:
        api = logins(lb.port, 4)[0]
        st, folders, _ = api.request("GET", "/api/v1/folders?parent=4")
        folder = [f["id"] for f in folders["folders"] if f["default"]][0]
        data = os.urandom(24 * 1024 * 1024 + 17)
        st, f, _ = api.request("PUT", f"/api/v1/files?folder={folder}&name=big.bin", raw=data)
        assert st == 201, f
        assert f["size"] == len(data) and f["md5"] == hashlib.md5(data).hexdigest()
        st, body, resp = api.request("GET", f"/api/v1/files/{f['id']}/content")
        assert st == 200 and body == data
        assert resp.getheader("Content-Length") == str(len(data))
    finally:
        stop_lb(lb)
        c.stop()
