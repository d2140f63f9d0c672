# SPDX-License-Identifier: MIT
# Database failover (docs/database.md "Failover"): the drill in quick mode, for a primary with a
# replica and for the seeds' master-master pair (a MariaDB primary
# killed under writes, the replica promoted with `tandemctl promotedatabase`, nothing
# acknowledged lost, nodes not restarted, the old primary fenced), and the refusals of a
# promotion while the replica is behind.
import json
import os
import subprocess

import pytest
from cluster_setup import provision_replicated
from conftest import BUILD, ROOT
from mariadb import start_pair, stop_pair
from provisioning import Cluster
from redis_harness import require_redis

DRILL = os.path.join(ROOT, "scripts", "drill-db-failover.sh")


@pytest.mark.parametrize("mode", ["primary-replica", "master-master"])
def test_drill_quick_loses_nothing_and_fences_the_old_primary(mode):
    require_redis()
    env = dict(os.environ, TANDEM_BUILD_DIR=BUILD)
    extra = ["--master-master"] if mode == "master-master" else []
    r = subprocess.run([DRILL, "--quick", "--json", *extra], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    summary = json.loads(r.stdout)
    (run,) = summary["rounds"]
    assert run["semisync"] is True
    assert run["lost"] == 0 and summary["lost_total"] == 0, run
    assert run["acknowledged"] >= 60, run
    # writes failed while the primary was dead, then came back without a node restart
    assert run["failed_attempts"] > 0, run
    assert run["nodes_restarted"] is False, run
    assert run["promote_to_first_write_s"] < 5, run
    assert run["outage_s"] >= run["detect_s"], run
    # reads kept working from the replica
    assert run["reads_ok_during_outage"] > 0 and run["reads_failed_during_outage"] == 0, run
    p = run["promotion"]
    assert p["positions"]["behind"] == 0 and p["forced"] is False, p
    assert p["old_primary"]["reachable"] is False, p
    # the old primary came back writable, yet got nothing: fenced in the configdb
    assert run["old_primary_role"] == "fenced", run
    assert run["old_primary_own_commits_after_return"] == 0, run
    if mode == "master-master":
        # it follows the new primary by itself: it has every write, replicated
        assert run["old_primary_follows_new"] is True, run
        assert run["old_primary_missing_writes"] == 0, run
    else:
        assert run["old_primary_writes_after_return"] == 0, run
    assert run["writes_after_return"] > 0, run
    assert run["writes_after_return_on_new_primary"] == run["writes_after_return"], run


@pytest.fixture
def pair(tmp_path):
    """One node on a SQLite configdb; db1 on a MariaDB primary with replica db1r; context 1."""
    primary, replica = start_pair()
    c = None
    try:
        d = str(tmp_path)
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite", extra="[session]\ncookie_salt = s\n")
        c.start_node("OX-1")
        provision_replicated(c, d, primary, replica, users=())
        c.primary, c.replica = primary, replica
        yield c
    finally:
        if c is not None:
            c.stop()
        stop_pair(primary, replica)


def roles(c):
    return {d["name"]: d["role"] for d in c.json("listdatabase")["databases"]}


def test_promote_refuses_a_lagging_replica_and_changes_nothing(pair):
    c = pair
    c.replica.sql("STOP SLAVE SQL_THREAD")
    c.primary.sql("CREATE DATABASE lag; CREATE TABLE lag.t (a INT); INSERT INTO lag.t VALUES (1)")
    # the primary answers: its binlog position is the target
    r = c.ctl("promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root", "-w", "300")
    assert r.returncode == 1, r.stdout
    assert "replica db1r is 3 transaction(s) behind" in r.stderr, r.stderr
    assert "the old primary has" in r.stderr and "SQL thread running: No" in r.stderr
    assert "nothing changed" in r.stderr and "--force" in r.stderr
    assert roles(c) == {"db1": "primary", "db1r": "replica"}
    assert c.primary.value("SELECT @@read_only") == "0"  # not left fenced by the refusal
    assert c.replica.value("SELECT @@read_only") == "1"

    # the primary is dead: what the replica received (its relay log) is the target
    c.primary.halt()
    r = c.ctl("promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root", "-w", "300")
    assert r.returncode == 1 and "3 transaction(s) behind" in r.stderr, r.stderr
    assert "its relay log has" in r.stderr, r.stderr
    assert roles(c) == {"db1": "primary", "db1r": "replica"}

    # once the replica has applied it, the promotion goes through
    c.replica.sql("START SLAVE SQL_THREAD")
    out = c.json("promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root")
    assert out["positions"]["behind"] == 0 and out["positions"]["target_source"] == \
        "replica relay log", out
    assert c.replica.value("SELECT COUNT(*) FROM lag.t") == "1"
    assert c.replica.value("SELECT @@read_only") == "0"
    assert c.replica.sql("SHOW SLAVE STATUS") == []  # RESET SLAVE ALL: follows no one
    assert roles(c) == {"db1": "fenced", "db1r": "primary"}


def test_promote_with_the_old_primary_alive_makes_it_read_only(pair):
    c = pair
    out = c.json("promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root")
    assert out["old_primary"]["reachable"] is True and out["old_primary"]["read_only"] is True
    assert out["positions"]["target_source"] == "old primary", out
    assert c.primary.value("SELECT @@read_only") == "1"
    # the node writes to the new primary without a restart: a new user lands there
    c.ok("createuser", "-c", "1", "-u", "bob", "-d", "bob", "-g", "G", "-s", "S", "-p",
         "bob_pw", "-e", "bob@example.com")
    assert c.replica.value("SELECT COUNT(*) FROM db1_1.users WHERE login='bob'") == "1"
    assert c.primary.value("SELECT COUNT(*) FROM db1_1.users WHERE login='bob'") == "0"
    # promoting again names what is wrong
    r = c.ctl("promotedatabase", "-n", "db1", "-r", "db1r")
    assert r.returncode == 1 and 'database "db1" is not a registered primary' in r.stderr


def test_forced_promotion_says_what_it_lost(pair):
    c = pair
    c.replica.sql("STOP SLAVE SQL_THREAD")
    c.primary.sql("CREATE DATABASE lost; CREATE TABLE lost.t (a INT); INSERT INTO lost.t VALUES (1)")
    c.primary.halt()
    out = c.json("promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root", "--force", "-w",
                 "200")
    assert out["forced"] is True and out["positions"]["behind"] == 3, out
    assert out["positions"]["sql_thread"] == "No", out
    assert c.replica.value("SELECT COUNT(*) FROM information_schema.SCHEMATA "
                           "WHERE SCHEMA_NAME='lost'") == "0"
    assert c.replica.value("SELECT @@read_only") == "0"
    assert roles(c) == {"db1": "fenced", "db1r": "primary"}
