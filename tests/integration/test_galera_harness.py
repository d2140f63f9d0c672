# SPDX-License-Identifier: MIT
# The Galera test harness itself (galera.py): three nodes come up Synced, a write on one node is
# read on the others, a node that stops leaves the cluster and comes back Synced with the data.
# One cluster for the whole module: a Galera start takes 11-18 s.
import socket

import pytest

from galera import APP_PASSWORD, APP_USER, GaleraCluster, galera_available


@pytest.fixture(scope="module")
def galera():
    ok, why = galera_available()
    if not ok:
        pytest.fail(why, pytrace=False)
    with GaleraCluster(3) as g:
        yield g


def status(node, name):
    return node.status(name)


def refuses(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


def test_three_nodes_synced(galera):
    assert len(galera.nodes) == 3
    assert len({n.port for n in galera.nodes}) == 3
    uuids = set()
    for n in galera.nodes:
        assert status(n, "wsrep_local_state_comment") == "Synced"
        assert status(n, "wsrep_cluster_size") == "3"
        assert status(n, "wsrep_cluster_status") == "Primary"
        assert status(n, "wsrep_ready") == "ON"
        uuids.add(status(n, "wsrep_cluster_state_uuid"))
        assert n.url("x") == f"mariadb://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{n.port}/x"
    assert len(uuids) == 1


def test_app_user_exists_on_every_node(galera):
    # Created on node 0 only; Galera replicates it.
    for n in galera.nodes:
        rows = n.query(f"SELECT COUNT(*) FROM mysql.user WHERE User='{APP_USER}'")
        assert rows == [["3"]]


def test_write_on_node0_read_on_the_others(galera):
    galera.nodes[0].query("CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY, v VARCHAR(20));"
                          " INSERT INTO h.t VALUES (1, 'one')")
    for n in galera.nodes[1:]:
        rows = n.query("SET SESSION wsrep_sync_wait=1; SELECT id, v FROM h.t ORDER BY id")
        assert rows == [["1", "one"]]


def test_a_stopped_node_leaves_and_rejoins_synced(galera):
    galera.nodes[0].query("CREATE DATABASE IF NOT EXISTS h; "
                          "CREATE TABLE IF NOT EXISTS h.r (id INT PRIMARY KEY, v VARCHAR(20))")
    port = galera.nodes[2].port
    galera.stop_node(2)
    assert not galera.nodes[2].running()
    assert refuses(port)
    for n in galera.nodes[:2]:
        assert status(n, "wsrep_cluster_size") == "2"
        assert status(n, "wsrep_local_state_comment") == "Synced"
    # Written while node 2 is away: it must catch up (IST) when it is back.
    galera.nodes[1].query("INSERT INTO h.r VALUES (2, 'while-away')")

    galera.start_node(2)
    n2 = galera.nodes[2]
    assert n2.port == port
    assert status(n2, "wsrep_local_state_comment") == "Synced"
    for n in galera.nodes:
        assert status(n, "wsrep_cluster_size") == "3"
    rows = n2.query("SET SESSION wsrep_sync_wait=1; SELECT id, v FROM h.r ORDER BY id")
    assert rows == [["2", "while-away"]]
    # and writes flow from the rejoined node too
    n2.query("INSERT INTO h.r VALUES (3, 'from-2')")
    rows = galera.nodes[0].query("SET SESSION wsrep_sync_wait=1; SELECT id FROM h.r ORDER BY id")
    assert rows == [["2"], ["3"]]
