# SPDX-License-Identifier: MIT
# pytest fixtures for private Redis servers and Sentinel sets (see redis_harness.py). A test
# module imports the ones it uses, which registers them for that module:
#
#     from fixtures_redis import redis_server, redis_sentinel  # noqa: F401  (pytest fixtures)
#
#     def test_x(redis_server):
#         redis_server.cli("SET", "k", "v")
#         run_something(redis_server.url)         # redis://127.0.0.1:PORT/0
#
#     def test_y(redis_sentinel):
#         old = redis_sentinel.primary()
#         run_something(redis_sentinel.url)       # redis-sentinel://…/tandem
#         old.kill9()
#         new = redis_sentinel.wait_failover(old.port)
#
#     def test_z(redis_server, start_redis):
#         replica = start_redis(replicaof=redis_server.addr)
#         secure = start_redis(tls=Pki(workdir), tls_only=True, password="pw")
#
# All are function scoped: every test gets fresh servers (a Redis starts in ~20 ms, a meshed
# Sentinel set in ~3 s). Nothing is skipped: without redis-server the fixtures fail and name
# scripts/deps.sh.
import pytest

from redis_harness import Redis, SentinelSet, require_redis


def _require():
    try:
        require_redis()
        return
    except RuntimeError as e:
        message = str(e)
    pytest.fail(message, pytrace=False)


@pytest.fixture
def redis_server():
    _require()
    server = Redis().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_redis():
    """Factory: start_redis(replicaof=None, args=(), **options) -> a started Redis, stopped
    after; options are Redis()'s (password, users, tls, tls_only)."""
    _require()
    started = []

    def start(replicaof=None, args=(), **options):
        server = Redis(replicaof=replicaof, args=args, **options)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def redis_sentinel():
    _require()
    sset = SentinelSet()
    try:
        sset.start()
        sset.wait_meshed()
        yield sset
    finally:
        sset.stop()
