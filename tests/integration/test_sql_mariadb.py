# SPDX-License-Identifier: MIT
# lib-sql against a real MariaDB: the driver conformance binary (src/lib-sql/test-sql) pointed at
# a private server, and GTID replication of the pair fixture.
import os
import re
import subprocess

from conftest import BUILD
from fixtures_mariadb import mariadb, mariadb_pair  # noqa: F401  (pytest fixtures)
from mariadb import SQLError

TEST_SQL = os.path.join(BUILD, "src", "lib-sql", "test-sql")


def test_sql_conformance_on_mariadb(mariadb):  # noqa: F811
    mariadb.create_database("sqltest")
    env = dict(os.environ, TANDEM_TEST_SQL_URL=mariadb.url("sqltest"))
    r = subprocess.run([TEST_SQL], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out[-6000:]
    m = re.search(r"(\d+) passed, (\d+) failed\s*$", out)
    assert m, out[-6000:]
    assert int(m.group(1)) > 0 and m.group(2) == "0", out[-6000:]
    # It really ran against MariaDB (redacted URL, no password) and left its tables behind.
    assert "# database mariadb://tandem:***@127.0.0.1:" in out
    assert "tandem-pw" not in out
    tables = {row[0] for row in mariadb.sql("SHOW TABLES", db="sqltest")}
    assert {"t", "a", "c"} <= tables
    assert mariadb.value("SELECT COUNT(*) FROM c", db="sqltest") == "800"


def test_replica_receives_rows_and_refuses_app_writes(mariadb_pair):  # noqa: F811
    primary, replica = mariadb_pair
    primary.create_database("repltest")
    primary.app_sql("CREATE TABLE r (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(50) NOT NULL) "
                    "DEFAULT CHARSET=utf8mb4; INSERT INTO r VALUES (1, 'from primary')",
                    db="repltest")
    replica.wait_replica_caught_up()
    assert replica.app_sql("SELECT id, v FROM r", db="repltest") == [["1", "from primary"]]
    # read_only holds for the application user on the replica (root would pass).
    try:
        replica.app_sql("INSERT INTO r VALUES (2, 'on replica')", db="repltest")
        wrote = True
    except SQLError as e:
        wrote = False
        assert "read-only" in str(e)
    assert not wrote
    assert replica.value("SELECT COUNT(*) FROM r", db="repltest") == "1"
    # Replication is still healthy after the refused write.
    primary.app_sql("INSERT INTO r VALUES (3, 'later')", db="repltest")
    replica.wait_replica_caught_up()
    assert replica.value("SELECT v FROM r WHERE id = 3", db="repltest") == "later"
