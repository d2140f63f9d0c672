# SPDX-License-Identifier: MIT
# Read/write separation end to end (docs/internals/replication.md): two tandemd nodes sharing Redis, the configdb
# and the user database on a real MariaDB primary with a GTID replica. Writes go to the
# primary, reads to the replica once it has applied the context's last write (on whichever node
# it was made), else to the primary; a replica or primary going away costs no reads, and writes
# answer 503 DB-0503 until the primary is back.
import json
import tempfile

import pytest

from cluster_setup import ADMIN, cluster_config, provision_replicated, wait_for
from conftest import scrape_metrics
from mariadb import MariaDB, start_pair, stop_pair
from provisioning import ApiClient, Cluster, run_ctl
from redis_harness import Redis, require_redis

ITERATIONS = 1000


@pytest.fixture(scope="module")
def rc():
    """A replicated cluster: nodes OX-1 and OX-2, context 1 on primary + replica, user alice."""
    require_redis()
    primary, replica = start_pair()
    redis = Redis().start()
    workdir = tempfile.TemporaryDirectory(prefix="tandem-repl-")
    c = None
    try:
        d = workdir.name
        extra = (f"read_url = {replica.url('configdb')}\n"
                 + cluster_config(redis.url) + "[database]\nreplica_wait = 50ms\n"
                 "down_backoff = 200ms\n")
        c = Cluster(d, primary.url("configdb"), extra=extra)
        c.start_node("OX-1")
        c.start_node("OX-2")
        provision_replicated(c, d, primary, replica)
        c.primary, c.replica, c.redis = primary, replica, redis
        yield c
    finally:
        if c is not None:
            c.stop()
        redis.stop()
        stop_pair(primary, replica)
        workdir.cleanup()


def client(c, node=0):
    api = ApiClient(c.nodes[node].port)
    status, body, _ = api.login("alice", "alice_pw")
    assert status == 200, body
    return api


def on(api, c, node):
    api.port = c.nodes[node].port
    return api


def call(api, method, path, body=None, expect=200):
    status, out, _ = api.request(method, path, body)
    assert status == expect, (method, path, status, out)
    return out


def db_counters(c):
    """Summed over both nodes: user database reads by replica/primary and primary reasons."""
    total = {}
    for n in c.nodes:
        m = scrape_metrics(n.port)
        for key, value in m.items():
            if key.startswith(("tandem_db_reads_total", "tandem_db_primary_reads_total",
                               "tandem_db_gtid_waits_total", "tandem_db_write_failures_total")) \
                    and 'db="configdb"' not in key:
                name = key.split("{")[0] + "{" + key.split(",", 1)[1] if "," in key else key
                total[name] = total.get(name, 0) + value
    return total


def replica_share(before, after):
    def delta(k):
        return after.get(k, 0) - before.get(k, 0)
    replica = delta('tandem_db_reads_total{served="replica"}')
    primary = delta('tandem_db_reads_total{served="primary"}')
    return replica, primary


def rename_then_read(c, api, folder, rounds, prefix):
    """Renames on node 1 and reads on node 2 at once, `rounds` times: returns the stale reads."""
    stale = 0
    for i in range(rounds):
        title = f"{prefix}-{i}"
        on(api, c, 0)
        call(api, "PATCH", f"/api/v1/folders/{folder}", {"title": title})
        on(api, c, 1)
        got = call(api, "GET", f"/api/v1/folders/{folder}")["title"]
        stale += got != title
    return stale


def new_folder(c, api, title):
    on(api, c, 0)
    return call(api, "POST", "/api/v1/folders", {"parent": 1, "title": title,
                                                 "module": "calendar"}, expect=201)["id"]


def test_read_your_writes_across_nodes_with_a_live_replica(rc):
    api = client(rc)
    folder = new_folder(rc, api, "live")
    before = db_counters(rc)
    assert rename_then_read(rc, api, folder, ITERATIONS, "live") == 0
    after = db_counters(rc)
    replica, primary = replica_share(before, after)
    # the replica keeps up within the wait, so most of these reads are its
    assert replica > primary, (before, after)


def test_read_your_writes_with_the_replica_behind(rc):
    api = client(rc)
    folder = new_folder(rc, api, "behind")
    rc.replica.sql("STOP SLAVE SQL_THREAD")
    try:
        before = db_counters(rc)
        assert rename_then_read(rc, api, folder, ITERATIONS, "behind") == 0
        after = db_counters(rc)
        lag = 'tandem_db_primary_reads_total{reason="lag"}'
        assert after.get(lag, 0) - before.get(lag, 0) >= ITERATIONS / 2, (before, after)
    finally:
        rc.replica.sql("START SLAVE SQL_THREAD")
    rc.replica.wait_replica_caught_up()


def test_replica_serves_at_least_90_percent_of_reads_in_a_90_10_mix(rc):
    api = client(rc)
    folder = new_folder(rc, api, "mix")
    rc.replica.wait_replica_caught_up()
    before = db_counters(rc)
    for i in range(500):
        node = i % 2
        on(api, rc, node)
        if i % 10 == 0:
            call(api, "PATCH", f"/api/v1/folders/{folder}", {"title": f"mix-{i}"})
        else:
            call(api, "GET", f"/api/v1/folders/{folder}")
    after = db_counters(rc)
    replica, primary = replica_share(before, after)
    assert replica / (replica + primary) >= 0.9, (replica, primary)


def test_replica_down_every_read_still_succeeds(rc):
    api = client(rc)
    folder = new_folder(rc, api, "rdown")
    rc.replica.halt()
    try:
        for i in range(100):
            on(api, rc, i % 2)
            assert call(api, "GET", f"/api/v1/folders/{folder}")["title"] == "rdown"
        # writes are not affected
        on(api, rc, 0)
        call(api, "PATCH", f"/api/v1/folders/{folder}", {"title": "rdown-2"})
        on(api, rc, 1)
        assert call(api, "GET", f"/api/v1/folders/{folder}")["title"] == "rdown-2"
        stats = cluster_databases(rc, 1)
        user_db = next(d for d in stats if d["name"] != "configdb")
        replica = next(s for s in user_db["servers"] if s["role"] == "replica")
        assert replica["up"] is False and replica["last_error"], replica
    finally:
        rc.replica.resume()
        rc.replica.sql("START SLAVE")
    rc.replica.wait_replica_caught_up()

    # back in use without restarting anything
    def replica_reads():
        before = db_counters(rc)
        for i in range(20):
            on(api, rc, i % 2)
            call(api, "GET", f"/api/v1/folders/{folder}")
        return replica_share(before, db_counters(rc))[0] > 0
    wait_for("reads on the replica again", replica_reads, timeout=15)


def test_clusterstats_shows_each_server(rc):
    client(rc, 1)
    dbs = {d["name"]: d for d in cluster_databases(rc, 1)}
    assert dbs["configdb"]["mode"] == "replication" and dbs["db1_1"]["mode"] == "replication"
    primary, replica = dbs["db1_1"]["servers"]
    assert (primary["role"], primary["writer"], replica["role"], replica["writer"]) == \
        ("primary", True, "replica", False)
    assert f":{rc.replica.port}/db1_1" in replica["url"] and "***" in replica["url"]
    out = run_ctl(f"http://127.0.0.1:{rc.nodes[1].port}", "clusterstats").stdout
    assert "database db1_1 (replication): reads" in out and "GTID waits" in out, out
    assert "tandem-pw" not in out


def cluster_databases(c, node):
    r = run_ctl(f"http://127.0.0.1:{c.nodes[node].port}", "--json", "clusterstats")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["databases"]


def test_primary_down_writes_503_reads_work_then_recover(rc):
    api = client(rc)
    folder = new_folder(rc, api, "pdown")
    rc.replica.wait_replica_caught_up()
    rc.primary.halt()
    try:
        for node in (0, 1):
            on(api, rc, node)
            status, body, _ = api.request("PATCH", f"/api/v1/folders/{folder}",
                                          {"title": "never"})
            assert status == 503, body
            assert body["error"]["code"] == "DB-0503", body
            assert "primary" in body["error"]["message"], body
            # reads keep working from the replica
            for _ in range(20):
                assert call(api, "GET", f"/api/v1/folders/{folder}")["title"] == "pdown"
        # a login reads the configdb and the user database: still fine
        client(rc, 1)
        failures = db_counters(rc)
        assert failures.get('tandem_db_write_failures_total{cause="primary_down"}', 0) >= 2
    finally:
        rc.primary.resume()

    def write_ok():
        on(api, rc, 1)
        status, _, _ = api.request("PATCH", f"/api/v1/folders/{folder}", {"title": "back"})
        return status == 200
    wait_for("writes to succeed again", write_ok, timeout=20)
    on(api, rc, 0)
    assert call(api, "GET", f"/api/v1/folders/{folder}")["title"] == "back"


def test_two_replicas_share_the_reads_on_a_single_node_with_the_memory_store(tmp_path):
    """One node, no Redis: positions are kept in the process. Reads spread over both replicas
    and still see every write."""
    primary = MariaDB(server_id=1).start()
    replicas = []
    c = None
    try:
        for sid in (2, 3):
            r = MariaDB(server_id=sid, read_only=True).start()
            replicas.append(r)
            r.replicate_from(primary)
        d = str(tmp_path)
        c = Cluster(d, primary.url("configdb"), extra="[session]\ncookie_salt = s\n")
        c.start_node("OX-1")
        c.ok("registerfilestore", "-t", f"file://{d}/fs")
        db = c.json("registerdatabase", "-n", "db1", "--url", primary.url(""), "-m", "true")
        for i, r in enumerate(replicas):
            c.ok("registerdatabase", "-n", f"db1r{i}", "--url", r.url(""), "-m", "false",
                 "--masterid", str(db["id"]))
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
        c.ok("createuser", "-c", "1", "-u", "alice", "-d", "alice", "-g", "G", "-s", "S",
             "-p", "alice_pw", "-e", "alice@example.com")
        for r in replicas:
            r.wait_replica_caught_up()
        api = client(c)
        folder = new_folder(c, api, "two")
        for i in range(200):
            if i % 10 == 0:
                call(api, "PATCH", f"/api/v1/folders/{folder}", {"title": f"two-{i}"})
            assert call(api, "GET", f"/api/v1/folders/{folder}")["title"] == \
                f"two-{i - i % 10}"
        (user_db,) = [x for x in cluster_databases(c, 0) if x["name"] != "configdb"]
        reads = {s["url"].split("@")[1].split("/")[0]: s["reads"] for s in user_db["servers"]}
        for r in replicas:
            assert reads[f"127.0.0.1:{r.port}"] >= 40, reads
    finally:
        if c is not None:
            c.stop()
        for r in replicas:
            r.stop()
        primary.stop()
