# SPDX-License-Identifier: MIT
# Several tandemd nodes behaving as one through a real Redis: sessions made on one node work on
# the others, changes on one node are seen on the others at the very next request, logout is
# cluster-wide, a killed node loses nobody's session, Redis outages answer 503 and heal by
# themselves, a trimmed stream makes a node flush, and a Sentinel failover keeps every
# session made with backup_count = 1.
import json
import os
import signal
import threading
import time
import urllib.request

import pytest

from fixtures_redis import redis_sentinel, redis_server  # noqa: F401  (pytest fixtures)
from conftest import scrape_metrics
from cluster_setup import login, start_cluster, wait_for
from provisioning import ApiClient, run_ctl

@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url)
    c.redis = redis_server
    yield c
    c.stop()


def on(api, node):
    """The same client (session id and cookie) talking to another node."""
    api.port = node.port
    return api


def ok(api, method, path, body=None, raw=None, status=200):
    st, answer, _ = api.request(method, path, body, raw=raw)
    assert st == status, (method, path, st, answer)
    return answer


def files_folder(api, title):
    return ok(api, "POST", "/api/v1/folders", {"parent": 4, "title": title,
                                               "module": "infostore"}, status=201)["id"]


def share(api, folder, perms):
    ok(api, "PATCH", f"/api/v1/folders/{folder}", {"permissions": perms})


def metrics(node):
    return scrape_metrics(node.port)


def test_a_session_made_on_one_node_works_on_the_other(cluster):
    alice = login(cluster, "alice", node=0)
    me1 = ok(alice, "GET", "/api/v1/session")
    assert me1["route"] == "OX-1"
    me2 = ok(on(alice, cluster.nodes[1]), "GET", "/api/v1/session")
    assert me2["session"] == me1["session"] and me2["user_id"] == alice.uid
    assert me2["route"] == "OX-2"  # the node answering
    # without the secret cookie the id alone is refused on every node
    thief = ApiClient(cluster.nodes[1].port)
    thief.session = alice.session
    assert thief.request("GET", "/api/v1/session")[0] == 401


def test_without_cookie_salt_the_nodes_agree_on_one_through_redis(
        workdir, redis_server):  # noqa: F811
    key = "tandem:t:v1:cookie-salt"
    c = start_cluster(workdir, redis_server.url, salt=None)
    admin = redis_server.connect()
    try:
        alice = login(c, "alice", node=0)
        assert ok(on(alice, c.nodes[1]), "GET", "/api/v1/session")["route"] == "OX-2"
        bob = login(c, "bob", node=1)
        assert ok(on(bob, c.nodes[0]), "GET", "/api/v1/session")["route"] == "OX-1"
        salt = admin.command("GET", key)
        assert isinstance(salt, str) and len(salt) == 32, salt
        # a node started later reads the stored salt and never replaces it
        c.start_node("OX-3")
        assert ok(on(alice, c.nodes[2]), "GET", "/api/v1/session")["route"] == "OX-3"
        assert admin.command("GET", key) == salt
    finally:
        admin.close()
        c.stop()


def test_without_cookie_salt_a_node_started_while_redis_is_down_agrees_later(
        workdir, redis_server):  # noqa: F811
    redis_server.terminate()
    c = start_cluster(workdir, redis_server.url, nodes=1, salt=None, users=("alice",))
    try:
        st, body, _ = ApiClient(c.nodes[0].port).login("alice", "alice_pw")
        assert st == 503, body
        assert "agreeing on the cookie salt" in body["error"]["message"], body
        redis_server.restart()
        wait_for("a login once Redis is back",
                 lambda: ApiClient(c.nodes[0].port).login("alice", "alice_pw")[0] == 200)
        admin = redis_server.connect()
        try:
            assert len(admin.command("GET", "tandem:t:v1:cookie-salt")) == 32
        finally:
            admin.close()
    finally:
        c.stop()


def test_a_share_made_on_node_1_is_seen_on_node_2_at_the_next_request(cluster):
    alice = login(cluster, "alice", node=0)
    bob = login(cluster, "bob", node=1)
    folder = files_folder(alice, "Team")
    f = ok(alice, "PUT", f"/api/v1/files?folder={folder}&name=plan.txt", raw=b"the plan",
           status=201)
    grant = [{"entity": bob.uid, "group": False, "bits": 257}]
    for _ in range(20):
        # bob's rights on node 2 are cached between the changes (warm it each round)
        assert bob.request("GET", f"/api/v1/files?folder={folder}")[0] == 404
        assert bob.request("GET", f"/api/v1/files?folder={folder}")[0] == 404
        share(alice, folder, grant)
        assert bob.request("GET", f"/api/v1/files?folder={folder}")[0] == 200
        assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[1] == b"the plan"
        share(alice, folder, [])
        # revoked on node 1: node 2 refuses at once
        assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[0] == 404
    m = metrics(cluster.nodes[1])
    assert m["tandem_inval_stream_received_total"] >= 40
    assert m['tandem_cache_hits_total{cache="folder"}'] > 0


def test_disabling_a_user_through_node_1_is_seen_by_logins_on_node_2(cluster):
    login(cluster, "bob", node=1)
    login(cluster, "bob", node=1)  # bob's row is now in node 2's login cache
    r = cluster.ctl("changeuser", "-c", "1", "-u", "bob", "--disable", "on leave")
    assert r.returncode == 0, r.stderr
    status, body, _ = ApiClient(cluster.nodes[1].port).login("bob", "bob_pw")
    assert status == 403 and "on leave" in body["error"]["message"]


def test_logout_on_node_2_ends_the_session_on_node_1(cluster):
    alice = login(cluster, "alice", node=0)
    ok(alice, "GET", "/api/v1/session")
    secret = dict(alice.cookies)
    ok(on(alice, cluster.nodes[1]), "POST", "/api/v1/logout")
    alice.cookies = secret  # a client that keeps the cookie gets nowhere either
    assert on(alice, cluster.nodes[0]).request("GET", "/api/v1/session")[0] == 401


def test_log_out_everywhere_ends_sessions_on_every_node(cluster):
    sessions = [login(cluster, "alice", node=i % 2) for i in range(4)]
    other = login(cluster, "bob", node=0)
    ok(on(sessions[0], cluster.nodes[1]), "POST", "/api/v1/logout?all=1")
    for api in sessions:
        for node in cluster.nodes:
            assert on(api, node).request("GET", "/api/v1/session")[0] == 401
    ok(other, "GET", "/api/v1/session")


def test_max_per_user_is_enforced_cluster_wide(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, session="max_per_user = 2\n")
    try:
        first = login(c, "alice", node=0)
        second = login(c, "alice", node=1)
        third = login(c, "alice", node=0)
        for node in c.nodes:
            assert on(first, node).request("GET", "/api/v1/session")[0] == 401
            ok(on(second, node), "GET", "/api/v1/session")
            ok(on(third, node), "GET", "/api/v1/session")
    finally:
        c.stop()


def test_kill_9_of_a_node_keeps_every_session_on_the_other(cluster):
    users = [login(cluster, name, node=0) for name in ("alice", "bob", "alice")]
    os.kill(cluster.nodes[0].pid, signal.SIGKILL)
    cluster.nodes[0].proc.wait(timeout=10)
    for api in users:
        me = ok(on(api, cluster.nodes[1]), "GET", "/api/v1/session")
        assert me["user_id"] == api.uid and me["route"] == "OX-2"
    cluster.nodes.pop(0)


def test_redis_down_answers_503_and_heals_without_restarting_nodes(cluster):
    alice = login(cluster, "alice", node=0)
    cluster.redis.kill9()
    t0 = time.monotonic()
    st, body, _ = alice.request("GET", "/api/v1/session")
    assert st == 503 and body["error"]["code"] == "SES-0503", body
    assert "Redis" in body["error"]["message"]
    st, body, _ = ApiClient(cluster.nodes[1].port).login("bob", "bob_pw")
    assert st == 503 and body["error"]["code"] == "SES-0503", body
    assert time.monotonic() - t0 < 5
    # /health still answers: the node itself is fine
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.nodes[0].port}/health") as r:
        assert r.status == 200
    cluster.redis.restart()  # same port, empty: the old sessions are gone
    # each node reconnects on its own (after at most its backoff of 2 s)
    for node in cluster.nodes:
        st, body = eventually_login(node, "bob")
        assert st == 200, body
    assert alice.request("GET", "/api/v1/session")[0] == 401  # Redis lost it: log in again
    bob = login(cluster, "bob", node=0)
    ok(on(bob, cluster.nodes[1]), "GET", "/api/v1/session")


def eventually_login(node, name, seconds=10):
    deadline = time.monotonic() + seconds
    while True:
        st, body, _ = ApiClient(node.port).login(name, f"{name}_pw")
        if st == 200 or time.monotonic() > deadline:
            return st, body
        time.sleep(0.2)


def node_clients(client, route):
    """Redis client ids of one node's connections (they are named tandem-<route>-…)."""
    ids = []
    for line in client.command("CLIENT", "LIST").splitlines():
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if fields.get("name", "").startswith(f"tandem-{route}-"):
            ids.append(fields["id"])
    return ids


def test_a_trimmed_stream_makes_a_cut_off_node_flush(cluster):
    alice = login(cluster, "alice", node=0)
    bob = login(cluster, "bob", node=1)
    folder = files_folder(alice, "Team")
    share(alice, folder, [{"entity": bob.uid, "group": False, "bits": 257}])
    for _ in range(3):
        assert bob.request("GET", f"/api/v1/files?folder={folder}")[0] == 200
    gaps0 = metrics(cluster.nodes[1])["tandem_inval_stream_gaps_total"]
    # Cut node 2 off: new connections need a password (open ones keep working), and node 2's
    # open connections are killed. Node 1 revokes the share meanwhile and the stream is
    # trimmed past node 2's position before it can read the revocation.
    admin = cluster.redis.connect()
    try:
        admin.command("CONFIG", "SET", "requirepass", "locked")
        for cid in node_clients(admin, "OX-2"):
            admin.command("CLIENT", "KILL", "ID", cid)
        share(alice, folder, [])
        admin.command("XTRIM", "tandem:t:v1:inval", "MAXLEN", "0")
        assert admin.command("XLEN", "tandem:t:v1:inval") == 0
    finally:
        admin.command("CONFIG", "SET", "requirepass", "")
        admin.close()
    deadline = time.monotonic() + 10
    while metrics(cluster.nodes[1])["tandem_inval_stream_gaps_total"] == gaps0:
        assert time.monotonic() < deadline, "node 2 did not notice the gap"
        time.sleep(0.1)
    assert bob.request("GET", f"/api/v1/files?folder={folder}")[0] == 404


def test_sentinel_failover_keeps_sessions_made_with_backup_count_1(workdir, redis_sentinel):  # noqa: F811
    c = start_cluster(workdir, redis_sentinel.url,
                      extra="backup_count = 1\nstrict = true\nbackup_timeout = 300ms\n")
    try:
        users = [login(c, ("alice", "bob")[i % 2], node=i % 2) for i in range(20)]
        old = redis_sentinel.primary()
        wrong = []
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                for api in users[:4]:
                    st = api.request("GET", "/api/v1/session")[0]
                    if st not in (200, 503):
                        wrong.append(st)

        t = threading.Thread(target=poll)
        t.start()
        try:
            old.kill9()
            new = redis_sentinel.wait_failover(old.port, timeout=15)
            # Each node recovers on its own (its pool may still be backing off, up to 2 s,
            # from connects to the old primary made before the sentinels agreed).
            deadline = time.monotonic() + 15
            for node in c.nodes:
                while on(users[-1], node).request("GET", "/api/v1/session")[0] != 200:
                    assert time.monotonic() < deadline, f"no recovery on {node.port}"
                    time.sleep(0.1)
        finally:
            stop.set()
            t.join()
        assert wrong == [], f"wrong answers during the failover: {wrong}"
        for i, api in enumerate(users):
            for node in c.nodes:
                me = ok(on(api, node), "GET", "/api/v1/session")
                assert me["user_id"] == api.uid
        # strict: with no replica left a login cannot be made safe and is refused
        st, body, _ = ApiClient(c.nodes[1].port).login("alice", "alice_pw")
        assert st == 503 and "replicas" in body["error"]["message"], body
        # the old primary comes back as a replica of the new one: logins work again
        old.restart(replicaof=new.addr)
        old.wait_synced(new.port)
        st, body = eventually_login(c.nodes[1], "alice")
        assert st == 200, body
    finally:
        c.stop()


def test_a_draining_node_shows_in_membership_and_then_leaves(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, server="drain_grace = 3s\n")
    try:
        alice = login(c, "alice", node=1)

        def states():
            r = c.ctl("--json", "clusterstats")
            assert r.returncode == 0, r.stderr
            return {m["route"]: m["state"] for m in json.loads(r.stdout)["members"]}

        assert states() == {"OX-1": "ready", "OX-2": "ready"}
        r = run_ctl(f"http://127.0.0.1:{c.nodes[1].port}", "drainnode")
        assert r.returncode == 0, r.stderr
        # at once, not at the next heartbeat
        assert states() == {"OX-1": "ready", "OX-2": "draining"}
        ok(on(alice, c.nodes[1]), "GET", "/api/v1/session")  # still served meanwhile
        assert c.nodes[1].proc.wait(timeout=30) == 0
        assert states() == {"OX-1": "ready"}
        ok(on(alice, c.nodes[0]), "GET", "/api/v1/session")
        c.nodes.pop(1)
    finally:
        c.stop()
