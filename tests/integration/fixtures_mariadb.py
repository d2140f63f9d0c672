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
import os
import re
import subprocess

import pytest

from conftest import BUILD
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


def run_unit_test_on_mariadb(mariadb, name, database, min_passed):
    """Runs the lib-storage unit test name against a fresh MariaDB database (through
    TANDEM_TEST_SQL_URL); asserts it ran there and passed at least min_passed cases."""
    mariadb.create_database(database)
    env = dict(os.environ, TANDEM_TEST_SQL_URL=mariadb.url(database))
    r = subprocess.run([os.path.join(BUILD, "src", "lib-storage", name)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out[-6000:]
    assert "# database mariadb://" in out, out[-2000:]
    m = re.search(r"(\d+) passed, (\d+) failed\s*$", out)
    assert m and int(m.group(1)) >= min_passed and m.group(2) == "0", out[-6000:]
