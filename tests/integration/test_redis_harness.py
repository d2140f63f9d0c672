# SPDX-License-Identifier: MIT
# The Redis test harness itself: RESP client, restart on the same port, replication, and a
# Sentinel failover after the primary is SIGKILLed.
import time

import pytest

from fixtures_redis import redis_sentinel, redis_server, start_redis  # noqa: F401  (fixtures)
from redis_harness import RedisError


def test_resp_client_round_trip(redis_server):  # noqa: F811
    r = redis_server
    assert r.url == f"redis://127.0.0.1:{r.port}/0"
    assert r.cli("PING") == "PONG"
    assert r.cli("SET", "k", "v") == "OK"
    assert r.cli("GET", "k") == "v"
    assert r.cli("GET", "missing") is None
    assert r.cli("INCRBY", "n", 41) == 41
    assert r.cli("INCR", "n") == 42
    assert r.cli("RPUSH", "l", "a", "b", "") == 3
    assert r.cli("LRANGE", "l", 0, -1) == ["a", "b", ""]
    assert r.cli("SET", "bin", b"\xff\x00\r\n") == "OK"
    assert r.cli("GET", "bin") == b"\xff\x00\r\n"
    assert r.cli("SET", "u", "grüße") == "OK" and r.cli("GET", "u") == "grüße"
    with pytest.raises(RedisError, match="WRONGTYPE"):
        r.cli("INCR", "l")
    with pytest.raises(RedisError, match="unknown command"):
        r.cli("NO-SUCH-COMMAND")
    # A persistent connection: pipelining and an EXEC with a nested error reply.
    with r.connect() as c:
        c.send("MULTI")
        c.send("INCR", "n")
        c.send("INCR", "l")
        c.send("EXEC")
        assert [c.read() for _ in range(3)] == ["OK", "QUEUED", "QUEUED"]
        result = c.read()
        assert result[0] == 43 and isinstance(result[1], RedisError)
    assert r.role() == "master"
    assert "redis_version" in r.info("server")


def test_restart_keeps_port_loses_data(redis_server):  # noqa: F811
    r = redis_server
    port, pid = r.port, r.pid
    r.cli("SET", "k", "v")
    r.kill9()
    assert not r.running
    r.restart()
    assert r.port == port and r.pid != pid
    assert r.cli("GET", "k") is None  # --save '' --appendonly no: nothing survives
    assert "Ready to accept connections" in r.log()


def test_replica_receives_write(redis_server, start_redis):  # noqa: F811
    replica = start_redis(replicaof=redis_server.addr)
    replica.wait_synced(redis_server.port)
    assert replica.role() == "slave"
    redis_server.cli("SET", "rk", "rv")
    deadline = time.monotonic() + 5
    while replica.cli("GET", "rk") is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert replica.cli("GET", "rk") == "rv"
    with pytest.raises(RedisError, match="READONLY"):
        replica.cli("SET", "x", "y")


def test_sentinel_failover_after_kill9(redis_sentinel):  # noqa: F811
    s = redis_sentinel
    ports = s.sentinel_ports
    assert len(ports) == 3 and len(set(ports)) == 3
    assert s.url == "redis-sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports) + "/tandem"
    assert s.master_name == "tandem"
    old = s.primary()
    assert old is s.servers[0] and old.role() == "master"
    [replica] = s.replicas()
    s.wait_replica_synced()
    old.cli("SET", "before", "1")
    deadline = time.monotonic() + 5
    while replica.cli("GET", "before") is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert replica.cli("GET", "before") == "1"

    old.kill9()
    t0 = time.monotonic()
    new = s.wait_failover(old.port, timeout=10)
    took = time.monotonic() - t0
    assert new is replica and s.primary() is replica, took
    assert new.cli("SET", "after", "2") == "OK"
    assert new.cli("GET", "after") == "2" and new.cli("GET", "before") == "1"

    # Back as a replica of the new primary (restarted bare, it would stay a second master
    # for ~10 s until Sentinel demotes it).
    old.restart(replicaof=new.addr)
    s.wait_replica_synced()
    assert old.role() == "slave" and old.cli("GET", "after") == "2"
