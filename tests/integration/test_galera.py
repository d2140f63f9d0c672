# SPDX-License-Identifier: MIT
# Galera mode end to end (docs/internals/replication.md): a real three-node MariaDB Galera cluster registered as
# one database cluster, two tandemd nodes. Writes go to the registered write node, reads to
# the other nodes with wsrep_sync_wait, and stay consistent across tandemd nodes; a Galera
# node that leaves is avoided and used again once it is back; the write node failing moves the
# writes to the next Synced node without a failed request.
import json
import tempfile

import pytest

from cluster_setup import ADMIN, cluster_config, wait_for
from galera import GaleraCluster, galera_available
from provisioning import ApiClient, Cluster, run_ctl
from redis_harness import Redis, require_redis


@pytest.fixture(scope="module")
def gc():
    ok, why = galera_available()
    if not ok:
        pytest.fail(why, pytrace=False)
    require_redis()
    galera = GaleraCluster(3).start()
    redis = Redis().start()
    workdir = tempfile.TemporaryDirectory(prefix="tandem-galera-test-")
    c = None
    try:
        d = workdir.name
        g = galera.nodes
        extra = (f"read_url = {g[1].url('configdb')}\n" + cluster_config(redis.url)
                 + "[database]\ndown_backoff = 200ms\nidle_check = 200ms\n")
        c = Cluster(d, g[0].url("configdb"), extra=extra)
        c.start_node("OX-1")
        c.start_node("OX-2")
        c.ok("registerfilestore", "-t", f"file://{d}/fs")
        db = c.json("registerdatabase", "-n", "g0", "--url", g[0].url(""), "-m", "true")
        for i in (1, 2):
            c.ok("registerdatabase", "-n", f"g{i}", "--url", g[i].url(""), "-m", "false",
                 "--masterid", str(db["id"]))
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
        c.ok("createuser", "-c", "1", "-u", "alice", "-d", "alice", "-g", "G", "-s", "S",
             "-p", "alice_pw", "-e", "alice@example.com")
        c.galera = galera
        yield c
    finally:
        if c is not None:
            c.stop()
        redis.stop()
        galera.stop()
        workdir.cleanup()


def client(c, node=0):
    api = ApiClient(c.nodes[node].port)
    status, body, _ = api.login("alice", "alice_pw")
    assert status == 200, body
    return api


def call(api, c, node, method, path, body=None, expect=200):
    api.port = c.nodes[node].port
    status, out, _ = api.request(method, path, body)
    assert status == expect, (method, path, status, out)
    return out


def user_db(c, node):
    """The user database's entry in clusterstats as tandemd node `node` sees it."""
    r = run_ctl(f"http://127.0.0.1:{c.nodes[node].port}", "--json", "clusterstats")
    assert r.returncode == 0, r.stderr
    return next(d for d in json.loads(r.stdout)["databases"] if d["name"] != "configdb")


def by_port(db, galera):
    """{galera node index: server entry}."""
    out = {}
    for s in db["servers"]:
        for i, n in enumerate(galera.nodes):
            if f":{n.port}/" in s["url"]:
                out[i] = s
    return out


def reads_on(c, index):
    return sum(by_port(user_db(c, n), c.galera)[index]["reads"] for n in (0, 1))


def test_writes_on_the_write_node_reads_elsewhere_consistent(gc):
    api = client(gc)
    folder = call(api, gc, 0, "POST", "/api/v1/folders",
                  {"parent": 1, "title": "g", "module": "calendar"}, expect=201)["id"]
    stale = 0
    for i in range(300):
        call(api, gc, i % 2, "PATCH", f"/api/v1/folders/{folder}", {"title": f"g-{i}"})
        stale += call(api, gc, 1 - i % 2, "GET", f"/api/v1/folders/{folder}")["title"] != f"g-{i}"
    assert stale == 0
    for node in (0, 1):
        db = user_db(gc, node)
        assert db["mode"] == "galera", db
        servers = by_port(db, gc.galera)
        assert servers[0]["writer"] and servers[0]["writes"] > 0, db
        assert servers[1]["writes"] == 0 and servers[2]["writes"] == 0, db
        assert servers[1]["reads"] + servers[2]["reads"] > 0, db
        assert db["reads"]["replica"] > db["reads"]["primary"], db


def test_a_node_that_leaves_is_avoided_and_used_again(gc):
    api = client(gc)
    folder = call(api, gc, 0, "POST", "/api/v1/folders",
                  {"parent": 1, "title": "leave", "module": "calendar"}, expect=201)["id"]
    gc.galera.stop_node(2)
    try:
        for i in range(100):
            assert call(api, gc, i % 2, "GET", f"/api/v1/folders/{folder}")["title"] == "leave"
        call(api, gc, 0, "PATCH", f"/api/v1/folders/{folder}", {"title": "left"})
        assert call(api, gc, 1, "GET", f"/api/v1/folders/{folder}")["title"] == "left"
        for node in (0, 1):
            assert by_port(user_db(gc, node), gc.galera)[2]["up"] is False
    finally:
        gc.galera.start_node(2)

    def node2_reads_again():
        before = reads_on(gc, 2)
        for i in range(20):
            call(api, gc, i % 2, "GET", f"/api/v1/folders/{folder}")
        return reads_on(gc, 2) > before
    wait_for("reads on the rejoined node", node2_reads_again, timeout=20)


def test_write_node_down_writes_move_to_the_next_synced_node(gc):
    api = client(gc)
    folder = call(api, gc, 0, "POST", "/api/v1/folders",
                  {"parent": 1, "title": "w", "module": "calendar"}, expect=201)["id"]
    gc.galera.stop_node(0)
    try:
        for i in range(20):
            call(api, gc, i % 2, "PATCH", f"/api/v1/folders/{folder}", {"title": f"w-{i}"})
            assert call(api, gc, 1 - i % 2, "GET",
                        f"/api/v1/folders/{folder}")["title"] == f"w-{i}"
        servers = by_port(user_db(gc, 0), gc.galera)
        assert servers[1]["writer"] and not servers[0]["up"], servers
    finally:
        gc.galera.start_node(0)
    # the registered write node takes the writes again once it is back and Synced

    def writer_back():
        call(api, gc, 0, "PATCH", f"/api/v1/folders/{folder}", {"title": "again"})
        return by_port(user_db(gc, 0), gc.galera)[0]["writer"]
    wait_for("node 0 to be the writer again", writer_back, timeout=20)
