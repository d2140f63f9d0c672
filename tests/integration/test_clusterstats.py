# SPDX-License-Identifier: MIT
# `tandemctl clusterstats` and GET /admin/v1/cluster against real nodes and a real Redis: the
# members with their addresses and state, sessions in total and per route as logins and
# logouts happen, the stream growing with changes and every reader catching up, a node that
# stops leaving at once and a killed one within member_ttl, the memory store as a cluster of
# one, the databases the node has opened, credentials, a redacted store password, and Redis
# down (CLU-0503, counted on /metrics).
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

from fixtures_redis import redis_server, start_redis  # noqa: F401  (pytest fixtures)
from cluster_setup import cluster_config, create_user, login, provision, wait_for
from conftest import scrape_metrics
from provisioning import Cluster, run_ctl

STREAM_KEY = "tandem:t:v1:inval"


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=cluster_config(redis_server.url))
    c.start_node("OX-1")
    c.start_node("OX-2")
    provision(c, workdir, ("alice", "bob", "carol"))
    c.redis = redis_server
    yield c
    c.stop()


def url_of(node):
    return f"http://127.0.0.1:{node.port}"


def stats(c, node=0):
    """clusterstats --json as node `node` answers it."""
    r = run_ctl(url_of(c.nodes[node]), "--json", "clusterstats")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def stream_id(text):
    ms, seq = text.split("-")
    return int(ms), int(seq)


def routes(s):
    return [m["route"] for m in s["members"]]


def test_members_sessions_stream_and_lag(cluster, start_redis):  # noqa: F811
    s = stats(cluster)
    assert s["cluster"] == "t"
    assert s["store"] == cluster.redis.url
    assert s["node"]["route"] == "OX-1" and s["node"]["id"].startswith("OX-1-")
    assert routes(s) == ["OX-1", "OX-2"]
    for m, node in zip(s["members"], cluster.nodes):
        assert m["state"] == "ready"
        assert m["address"] == f"127.0.0.1:{node.port}"
        assert m["version"] and m["started"].endswith("Z") and m["uptime_s"] >= 0
        assert 0 <= m["heartbeat_age_ms"] < 2000
    assert s["members"][0]["id"] == s["node"]["id"]
    assert s["redis"]["address"] == f"127.0.0.1:{cluster.redis.port}"
    assert s["redis"]["backup_count"] == 0 and s["redis"]["async_backup_count"] == 0
    assert s["stream"]["key"] == STREAM_KEY
    # node 2 sees the same cluster
    assert routes(stats(cluster, node=1)) == ["OX-1", "OX-2"]

    # two users on node 1, one on node 2
    alice = login(cluster, "alice", 0)
    bob = login(cluster, "bob", 0)
    login(cluster, "carol", 1)
    s = stats(cluster)
    assert s["sessions"] == {"total": 3, "by_route": {"OX-1": 2, "OX-2": 1}}
    # each member's own count arrives with its next heartbeat
    wait_for("the members' session counts",
             lambda: [m["sessions"] for m in stats(cluster)["members"]] == [2, 1])

    # a logout on node 2 of a session made on node 1 counts against node 1's route
    bob.port = cluster.nodes[1].port
    st, body, _ = bob.request("POST", "/api/v1/logout")
    assert st in (200, 204), body
    s = stats(cluster, node=1)
    assert s["sessions"] == {"total": 2, "by_route": {"OX-1": 1, "OX-2": 1}}
    st, _, _ = alice.request("POST", "/api/v1/logout")
    assert stats(cluster)["sessions"] == {"total": 1, "by_route": {"OX-1": 0, "OX-2": 1}}

    # a change goes through the stream; every reader catches up
    before = stats(cluster)["stream"]
    create_user(cluster, "dave")
    after = stats(cluster)["stream"]
    assert after["length"] > before["length"]
    assert after["last_id"] != before["last_id"] and after["first_id"] is not None
    s = wait_for("both readers at the stream head",
                 lambda: (lambda s: s if all(m["lag_ms"] == 0 for m in s["members"])
                          else None)(stats(cluster)))
    head = stream_id(s["stream"]["last_id"])
    for m in s["members"]:
        assert stream_id(m["stream_id"]) >= head

    # a replica of the Redis master shows up (ROLE, read at each heartbeat)
    replica = start_redis(replicaof=cluster.redis.addr)
    replica.wait_synced(cluster.redis.port)
    wait_for("a connected replica", lambda: stats(cluster)["redis"]["replicas"] == 1)

    # the human table
    r = cluster.ctl("clusterstats")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.startswith("OX-1 ") and f"127.0.0.1:{cluster.nodes[0].port}" in line
               and "ready" in line for line in lines), r.stdout
    assert any(line.startswith("OX-2 ") and f"127.0.0.1:{cluster.nodes[1].port}" in line
               for line in lines), r.stdout
    assert "1 in total" in r.stdout and STREAM_KEY in r.stdout
    assert f"master 127.0.0.1:{cluster.redis.port}" in r.stdout


def test_a_stopped_node_leaves_at_once_and_a_killed_one_within_member_ttl(cluster):
    assert routes(stats(cluster)) == ["OX-1", "OX-2"]
    node2 = cluster.nodes.pop(1)
    assert node2.stop(signal.SIGTERM) == 0
    assert routes(stats(cluster)) == ["OX-1"]

    cluster.start_node("OX-3")
    wait_for("OX-3 to join", lambda: routes(stats(cluster)) == ["OX-1", "OX-3"])
    node3 = cluster.nodes.pop(1)
    os.kill(node3.pid, signal.SIGKILL)
    node3.proc.wait(timeout=10)
    killed = time.monotonic()
    node3.stop()  # reaped already: closes its log
    # its record outlives it for up to member_ttl (2 s) after its last heartbeat
    assert routes(stats(cluster)) == ["OX-1", "OX-3"]
    wait_for("OX-3's record to expire", lambda: routes(stats(cluster)) == ["OX-1"],
             timeout=6)
    assert time.monotonic() - killed < 2.0 + 1.5


def test_without_master_credentials_the_call_is_refused(cluster):
    r = run_ctl(cluster.url, "clusterstats", user=None)
    assert r.returncode == 1 and "ADM-0401" in r.stderr, r.stderr
    r = run_ctl(cluster.url, "clusterstats", user="oxadminmaster", password="wrong")
    assert r.returncode == 1 and "ADM-0401" in r.stderr, r.stderr
    # a context admin is not the master admin
    r = run_ctl(cluster.url, "clusterstats", user="oxadmin", password="admin_pw")
    assert r.returncode == 1 and ("ADM-0401" in r.stderr or "ADM-0403" in r.stderr), r.stderr
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{cluster.url}/admin/v1/cluster", timeout=30)
    assert e.value.code == 401
    r = run_ctl(cluster.url, "clusterstats", "--help", user=None)
    assert r.returncode == 0 and "Usage: tandemctl clusterstats" in r.stdout


def test_memory_store_is_a_cluster_of_one(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra="[session]\ncookie_salt = x\n")
    c.start_node("OX-1")
    try:
        provision(c, workdir)
        login(c, "alice", 0)
        login(c, "bob", 0)
        s = c.json("clusterstats")
        assert s["store"] == "memory" and s["stream"] is None and s["redis"] is None
        assert routes(s) == ["OX-1"]
        m = s["members"][0]
        assert m["state"] == "ready" and m["address"] == f"127.0.0.1:{c.nodes[0].port}"
        assert m["sessions"] == 2 and m["lag_ms"] is None and m["id"] == s["node"]["id"]
        assert s["sessions"] == {"total": 2, "by_route": {"OX-1": 2}}
        out = c.ok("clusterstats").stdout
        assert "OX-1" in out and "2 in total" in out and "memory" in out
        m = scrape_metrics(c.nodes[0].port)
        assert m["tandem_sessions_local"] == 2
        assert "tandem_cache_flushes_total" in m
        assert "tandem_redis_connects_total" not in m
    finally:
        c.stop()


def assert_single_primary(db, url):
    """db, an entry of "databases", is a one-server database on url, healthy."""
    assert db["mode"] == "single", db
    (server,) = db["servers"]
    assert server["url"] == url, server
    assert (server["role"], server["up"], server["writer"], server["lagging"]) == \
        ("primary", True, True, False), server
    assert server["position"] is None and server["last_error"] is None, server
    assert db["reads"]["replica"] == 0 and db["gtid_waits"] == 0, db
    assert db["write_failures"] == {"down": 0, "lost": 0, "busy": 0, "other": 0}, db


def test_databases_the_node_has_opened(workdir):
    urls = {"configdb": f"sqlite://{workdir}/configdb.sqlite",
            "db1_1": f"sqlite://{workdir}/u/db1_1.sqlite"}
    c = Cluster(workdir, urls["configdb"], extra="[session]\ncookie_salt = x\n")
    c.start_node("OX-1")
    try:
        provision(c, workdir)
        # provisioning opened the user schema in that process: a fresh one has only the configdb
        c.nodes.pop().stop(signal.SIGTERM)
        c.start_node("OX-1")
        dbs = c.json("clusterstats")["databases"]
        assert [d["name"] for d in dbs] == ["configdb"], dbs
        assert_single_primary(dbs[0], urls["configdb"])

        # a login opens the user schema, where the user's rows are read
        login(c, "alice", 0)
        dbs = {d["name"]: d for d in c.json("clusterstats")["databases"]}
        assert list(dbs) == ["configdb", "db1_1"], dbs
        for name, url in urls.items():
            assert_single_primary(dbs[name], url)
        assert dbs["db1_1"]["reads"]["primary"] >= 1, dbs["db1_1"]
        for d in dbs.values():  # the one server counts what the database counts
            (server,) = d["servers"]
            assert (server["reads"], server["writes"]) == (d["reads"]["primary"], d["writes"]), d
        m = scrape_metrics(c.nodes[0].port)
        for name, url in urls.items():
            assert m[f'tandem_db_server_up{{db="{name}",server="{url}",role="primary"}}'] == 1

        # the human section: per database a header, the table's titles, one row per server
        out = c.ok("clusterstats").stdout
        lines = out[out.index("\ndatabase configdb "):].strip("\n").split("\n")
        assert len(lines) == 7 and lines[3] == "", out
        for (header, titles, row), (name, url) in zip((lines[0:3], lines[4:7]), urls.items()):
            assert re.fullmatch(rf"database {name} \(single\): reads \d+, writes \d+",
                                header), out
            assert titles.split() == ["role", "url", "state", "writer", "conns", "reads",
                                      "writes", "position", "last", "error"], out
            cells = row.split()
            assert cells[:4] == ["primary", url, "up", "yes"] and cells[-2:] == ["-", "-"], out
    finally:
        c.stop()


def test_the_store_password_is_not_shown(workdir, redis_server):  # noqa: F811
    redis_server.cli("CONFIG", "SET", "requirepass", "s3cret")
    store = f"redis://:s3cret@127.0.0.1:{redis_server.port}/0"
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=cluster_config(store))
    c.start_node("OX-1")
    try:
        provision(c, workdir)
        r = c.ok("--json", "clusterstats")
        assert "s3cret" not in r.stdout
        s = json.loads(r.stdout)
        assert s["store"] == f"redis://:***@127.0.0.1:{redis_server.port}/0"
        assert routes(s) == ["OX-1"]
        assert "s3cret" not in c.ok("clusterstats").stdout
        log = c.nodes[0].stderr()
        assert "s3cret" not in log and f"redis://:***@127.0.0.1:{redis_server.port}" in log
    finally:
        c.stop()


def test_redis_down_fails_with_clu_0503_and_counts_connect_failures(cluster):
    assert routes(stats(cluster)) == ["OX-1", "OX-2"]
    cluster.redis.kill9()
    t0 = time.monotonic()
    r = cluster.ctl("clusterstats")
    assert r.returncode == 1, r.stdout
    assert "CLU-0503" in r.stderr and "unavailable" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 5
    r = cluster.ctl("--json", "clusterstats")
    assert r.returncode == 1 and "CLU-0503" in r.stderr and r.stdout == ""
    m = scrape_metrics(cluster.nodes[0].port)
    assert m["tandem_redis_connect_failures_total"] > 0
    assert m["tandem_inval_stream_connected"] == 0
    # back by itself once Redis is
    cluster.redis.restart()
    s = wait_for("clusterstats to work again",
                 lambda: (lambda r: r.returncode == 0 and r)(cluster.ctl("clusterstats")))
    assert "OX-1" in s.stdout
    wait_for("both members back", lambda: routes(stats(cluster)) == ["OX-1", "OX-2"])
