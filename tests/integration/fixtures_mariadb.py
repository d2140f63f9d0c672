# SPDX-License-Identifier: MIT
# pytest fixtures for private MariaDB servers (see mariadb.py). A test module imports the ones
# it uses, which registers them for that module:
#
#     from fixtures_mariadb import mariadb, mariadb_pair  # noqa: F401  (pytest fixtures)
#
#     def test_x(mariadb):
#         mariadb.create_database("x")
#         run_something(mariadb.url("x"))
#
#     def test_y(mariadb_pair):
#         primary, replica = mariadb_pair
#         primary.sql("INSERT …", db="x")
#         replica.wait_replica_caught_up()
#
# Both are module scoped: tests in one module share the servers, so each test should use its
# own database (or drop what it made).
import pytest

from mariadb import MariaDB, start_pair, stop_pair


@pytest.fixture(scope="module")
def mariadb():
    server = MariaDB(server_id=1).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mariadb_pair():
    primary, replica = start_pair()
    try:
        yield primary, replica
    finally:
        stop_pair(primary, replica)
