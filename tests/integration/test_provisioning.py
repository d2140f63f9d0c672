# SPDX-License-Identifier: MIT
# Provisioning end to end: tandemctl -> tandemd admin API -> configdb and user schemas on
# SQLite and on a real MariaDB primary + replica; bad input changes nothing; placement caps;
# concurrent createcontext from two nodes.
import base64
import concurrent.futures
import glob
import json
import os
import urllib.request

import pytest

from fixtures_mariadb import mariadb_pair  # noqa: F401
from provisioning import MASTER, Cluster, run_ctl, sqlite_dump, sqlite_rows

ADMIN = ["-u", "oxadmin", "-d", "Context Admin", "-g", "Admin", "-s", "User",
         "-p", "admin_password", "-e", "oxadmin@example.com"]


def user_args(login):
    return ["-u", login, "-d", f"User {login}", "-g", "Given", "-s", "Sur", "-p", "secret",
            "-e", f"{login}@example.com"]


@pytest.fixture
def sqlite_cluster(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node()
    yield c
    c.stop()


def seed_sqlite(c, workdir):
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/filestore", "-s", "1000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/userdb/", "-m", "true")


def test_seed_sequence_on_sqlite(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "1000", "-L", "defaultcontext", *ADMIN)
    c.ok("createuser", "-c", "1", *user_args("testuser"))

    cdb = f"{workdir}/configdb.sqlite"
    assert sqlite_rows(cdb, "SELECT cid, name, enabled, quota_mb, filestore_id FROM context") == \
        [(1, "1", 1, 1000, 1)]
    assert sorted(sqlite_rows(cdb, "SELECT mapping, cid FROM login2context")) == \
        [("1", 1), ("defaultcontext", 1)]
    assert sqlite_rows(cdb, "SELECT cid, db_cluster, schema_name FROM context_location") == \
        [(1, 1, "db1_1")]
    assert sqlite_rows(cdb, "SELECT db_cluster, contexts FROM contexts_per_pool") == [(1, 1)]
    assert sqlite_rows(cdb, "SELECT schema_name, contexts FROM contexts_per_schema") == \
        [("db1_1", 1)]
    assert sqlite_rows(cdb, "SELECT filestore_id, contexts FROM contexts_per_filestore") == \
        [(1, 1)]
    assert sqlite_rows(cdb, "SELECT name FROM server") == [("tandem",)]
    assert sqlite_rows(cdb, "SELECT login FROM master_admin") == [(MASTER[0],)]

    udb = f"{workdir}/userdb/db1_1.sqlite"
    users = sqlite_rows(udb, "SELECT cid, id, login, is_admin, enabled, password_hash FROM "
                             "users ORDER BY id")
    # Ids share the context's sequence: system folders 1-4, the admin's default folders 5-8.
    assert [u[:5] for u in users] == [(1, 1, "oxadmin", 1, 1), (1, 9, "testuser", 0, 1)]
    folders = sqlite_rows(udb, "SELECT id, owner, module, is_system FROM folder ORDER BY id")
    assert [f[0] for f in folders] == [1, 2, 3, 4, 5, 6, 7, 8, 9 + 1, 9 + 2, 9 + 3, 9 + 4]
    assert sum(1 for f in folders if f[3] == 1) == 4
    assert all(u[5].startswith("$argon2id$v=19$") for u in users)
    assert sqlite_rows(udb, "SELECT cid, used_bytes FROM filestore_usage") == [(1, 0)]
    assert os.path.isdir(f"{workdir}/filestore/1_ctx_store")

    ctx = c.json("listcontext")["contexts"]
    assert [(x["id"], x["schema"], x["mappings"], x["users"]) for x in ctx] == \
        [(1, "db1_1", ["1", "defaultcontext"], 2)]
    users = c.json("listuser", "-c", "1")["users"]
    assert [u["login"] for u in users] == ["oxadmin", "testuser"]
    assert "password" not in json.dumps(users)


def test_seed_sequence_on_mariadb_primary_and_replica(workdir, mariadb_pair):  # noqa: F811
    primary, replica = mariadb_pair
    c = Cluster(workdir, primary.url("configdb"))
    c.start_node()
    try:
        c.ok("registerserver", "-n", "tandem")
        c.ok("registerfilestore", "-t", f"file://{workdir}/filestore", "-s", "1000")
        c.ok("registerdatabase", "-n", "mdb", "--hostname", "127.0.0.1", "--port",
             str(primary.port), "--dbuser", "tandem", "--dbpasswd", "tandem-pw", "-m", "true",
             "--max-units", "100")
        c.ok("registerdatabase", "-n", "mdbr", "--url", replica.url(""), "-m", "false",
             "--masterid", "1")
        c.ok("createcontext", "-c", "1", "-q", "1000", "-L", "defaultcontext", *ADMIN)
        c.ok("createuser", "-c", "1", *user_args("testuser"))

        dbs = c.json("listdatabase")["databases"]
        assert [(d["name"], d["primary"], d["master_id"]) for d in dbs] == \
            [("mdb", True, None), ("mdbr", False, 1)]
        assert all("tandem-pw" not in d["url"] for d in dbs)

        assert primary.sql("SELECT cid, schema_name FROM configdb.context_location") == \
            [["1", "mdb_1"]]
        assert sorted(primary.sql("SELECT mapping FROM configdb.login2context")) == \
            [["1"], ["defaultcontext"]]
        rows = primary.sql("SELECT id, login, is_admin FROM mdb_1.users ORDER BY id")
        assert rows == [["1", "oxadmin", "1"], ["9", "testuser", "0"]]
        # The user schema reached the replica through replication.
        replica.wait_replica_caught_up()
        assert replica.sql("SELECT login FROM mdb_1.users ORDER BY id") == \
            [["oxadmin"], ["testuser"]]
        assert replica.sql("SELECT schema_name FROM configdb.context_location") == \
            [["mdb_1"]]
    finally:
        c.stop()


def admin_call(c, method, path, body=None, user=MASTER):
    req = urllib.request.Request(c.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


BAD_CASES = [
    ("duplicate context id",
     ["createcontext", "-c", "1", "-q", "10", *ADMIN], 1, "context 1 already exists"),
    ("duplicate login in a context",
     ["createuser", "-c", "1", *user_args("testuser")], 1, "already exists"),
    ("duplicate mapping across contexts",
     ["createcontext", "-c", "2", "-q", "10", "-L", "defaultcontext", *ADMIN], 1,
     "already belongs to context 1"),
    ("unknown context", ["createuser", "-c", "99", *user_args("x")], 1,
     "context 99 does not exist"),
    ("negative quota", ["createcontext", "-c", "3", "-q", "-5", *ADMIN], 2, "-q"),
    # 2^44+1 MiB is 2^64 + 1 MiB in bytes: it used to wrap to a quota of 1 MiB
    ("quota beyond 64 bits of bytes", ["createcontext", "-c", "3", "-q", str(2**44 + 1), *ADMIN],
     2, "between 0 and 8796093022207"),
    ("changed quota beyond 64 bits of bytes", ["changecontext", "-c", "1", "-q", str(2**44 + 1)],
     2, "between 0 and 8796093022207"),
    ("wrong master password", ["-P", "wrong", "createcontext", "-c", "4", "-q", "1", *ADMIN],
     1, "wrong admin credentials"),
    ("missing required option", ["createcontext", "-c", "5", *ADMIN], 2, "-q"),
    ("unreachable database URL",
     ["registerdatabase", "-n", "gone", "--url", "mariadb://u:p@127.0.0.1:1/", "-m", "true"],
     1, "cannot reach database"),
    ("malformed database URL",
     ["registerdatabase", "-n", "bad", "--url", "foo://bar", "-m", "true"], 1,
     "unknown database URL scheme"),
    ("replica of an unknown primary",
     ["registerdatabase", "-n", "r", "--url", "mariadb://u:p@127.0.0.1:1/", "-m", "false",
      "--masterid", "42"], 1, ""),
    ("bad mapping", ["createcontext", "-c", "6", "-q", "1", "-L", "bad mapping", *ADMIN], 1,
     "mapping"),
    ("bad email", ["createuser", "-c", "1", "-u", "y", "-d", "Y", "-g", "G", "-s", "S", "-p",
                   "pw", "-e", "no-at-sign"], 1, "email"),
]


@pytest.mark.parametrize("name,args,code,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_refused_and_changes_nothing(sqlite_cluster, workdir, name, args, code,
                                                  message):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "1000", "-L", "defaultcontext", *ADMIN)
    c.ok("createuser", "-c", "1", *user_args("testuser"))
    files = sorted(glob.glob(f"{workdir}/**", recursive=True))
    before = (sqlite_dump(f"{workdir}/configdb.sqlite"),
              sqlite_dump(f"{workdir}/userdb/db1_1.sqlite"))
    if args[0] == "-P":
        r = run_ctl(c.url, *args[2:], password=args[1])
    else:
        r = c.ctl(*args)
    assert r.returncode == code, r.stderr
    assert message in r.stderr, r.stderr
    assert r.stderr.startswith("tandemctl: ")
    after = (sqlite_dump(f"{workdir}/configdb.sqlite"),
             sqlite_dump(f"{workdir}/userdb/db1_1.sqlite"))
    assert after == before
    assert sorted(glob.glob(f"{workdir}/**", recursive=True)) == files


def test_api_bounds_quota_mb(sqlite_cluster, workdir):
    """quota_mb is bounded so that its bytes fit an int64_t (2^44+1 MiB wrapped to 1 MiB),
    on create and on change; 0 is unlimited, a missing or null quota_mb leaves it alone."""
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    admin = {"login": "boss", "display_name": "B", "given_name": "B", "sur_name": "S",
             "password": "pw", "email": "b@example.com"}
    top = 2**63 // 2**20 - 1
    for bad in (2**44 + 1, top + 1, -1):
        status, body = admin_call(c, "POST", "/admin/v1/contexts",
                                  {"id": 1, "quota_mb": bad, "admin": admin})
        assert status == 400, (bad, body)
        assert f"between 0 (unlimited) and {top}" in body["error"]["message"], body
    assert sqlite_dump(f"{workdir}/configdb.sqlite")["context"] == []
    status, body = admin_call(c, "POST", "/admin/v1/contexts",
                              {"id": 1, "quota_mb": top, "admin": admin})
    assert status == 201, body
    before = sqlite_dump(f"{workdir}/configdb.sqlite")
    for bad in (2**44 + 1, top + 1, -1):
        status, body = admin_call(c, "PATCH", "/admin/v1/contexts/1", {"quota_mb": bad})
        assert status == 400 and str(top) in body["error"]["message"], (bad, body)
    assert sqlite_dump(f"{workdir}/configdb.sqlite") == before
    status, body = admin_call(c, "PATCH", "/admin/v1/contexts/1", {"quota_mb": None})
    assert status == 200 and body["quota_mb"] == top, body
    status, body = admin_call(c, "PATCH", "/admin/v1/contexts/1", {"quota_mb": 0})
    assert status == 200 and body["quota_mb"] == 0, body


def test_api_rejects_malformed_bodies(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    assert admin_call(c, "POST", "/admin/v1/contexts", {"id": 1})[0] == 400
    status, body = admin_call(c, "POST", "/admin/v1/contexts",
                              {"id": 1, "quota_mb": -1, "admin": {}})
    assert status == 400 and "required" in body["error"]["message"]
    status, body = admin_call(c, "POST", "/admin/v1/contexts", {"id": "one", "quota_mb": 1})
    assert status == 400 and "integer" in body["error"]["message"]
    req = urllib.request.Request(c.url + "/admin/v1/servers", method="POST", data=b"{not json")
    req.add_header("Authorization", "Basic " + base64.b64encode(b"oxadminmaster:master-secret")
                   .decode())
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    assert admin_call(c, "GET", "/admin/v1/nothing")[0] == 404
    assert admin_call(c, "GET", "/admin/v1/contexts/abc")[0] == 404
    assert sqlite_dump(f"{workdir}/configdb.sqlite")["context"] == []


def raw_admin_call(c, method, path, user=MASTER):
    """(status, Allow header, parsed body) of one admin call; user None sends no credentials."""
    req = urllib.request.Request(c.url + path, method=method)
    if user is not None:
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers.get("Allow"), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Allow"), json.loads(e.read() or b"null")


def test_admin_routes_answer_404_and_405_from_the_route_table(sqlite_cluster, workdir):
    """/admin/v1 is a route table: an unknown call is 404, a known path with another method
    is 405 listing the methods it takes (before credentials are looked at), and a path with
    a non-integer id says which id is wrong."""
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "10", *ADMIN)
    c.ok("createuser", "-c", "1", *user_args("alice"))
    alice = c.json("listuser", "-c", "1")["users"][-1]
    assert alice["login"] == "alice"
    for path, allow in [("/admin/v1/contexts/1", "GET, HEAD, PATCH, DELETE"),
                        ("/admin/v1/contexts/1/users/batch", "POST"),
                        ("/admin/v1/contexts/1/enable", "POST"),
                        ("/admin/v1/contexts/1/users", "GET, HEAD, POST"),
                        ("/admin/v1/servers", "GET, HEAD, POST"),
                        ("/admin/v1/node", "GET, HEAD"),
                        ("/admin/v1/consistency", "GET, HEAD, POST")]:
        for user in (MASTER, None):
            status, got, body = raw_admin_call(c, "PUT", path, user)
            assert (status, got) == (405, allow), (path, user, status, got, body)
            assert body["error"]["code"] == "HTTP-0405", body
    # GET on users/batch was a 404 for the user id "batch"; now it is the POST-only path
    status, got, _ = raw_admin_call(c, "GET", "/admin/v1/contexts/1/users/batch")
    assert (status, got) == (405, "POST")
    for path, message in [("/admin/v1/contexts/abc", "context ids are positive integers"),
                          ("/admin/v1/contexts/0/users", "context ids are positive integers"),
                          ("/admin/v1/contexts/x/users/y", "context ids are positive integers"),
                          ("/admin/v1/contexts/1/users/abc", "user ids are positive integers"),
                          ("/admin/v1/contexts/1/users/-2", "user ids are positive integers"),
                          ("/admin/v1/contexts/1/frob", "no such resource"),
                          ("/admin/v1/contexts/1/", "no such resource"),
                          ("/admin/v1/", "no such resource")]:
        status, got, body = raw_admin_call(c, "GET", path)
        assert (status, got) == (404, None), (path, status, got, body)
        assert body["error"] == {"code": "HTTP-0404", "message": message}, (path, body)
    # GET routes answer HEAD; the route's rule (ROUTE_CONTEXT_ADMIN) lets the context's admin
    # at one user, not at the context
    assert raw_admin_call(c, "HEAD", "/admin/v1/contexts")[:2] == (200, None)
    own = ("oxadmin", "admin_password")
    status, _, body = raw_admin_call(c, "GET", f"/admin/v1/contexts/1/users/{alice['id']}", own)
    assert status == 200 and body["login"] == "alice", body
    status, _, body = raw_admin_call(c, "GET", "/admin/v1/contexts/1", own)
    assert status == 403 and body["error"]["code"] == "ADM-0403", body


def test_placement_obeys_database_schema_and_filestore_caps(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra="contexts_per_schema = 2\n")
    c.start_node()
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs1", "-x", "3")
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs2", "-x", "3")
        c.ok("registerdatabase", "-n", "dba", "--url", f"sqlite://{workdir}/dba/", "-m", "true",
             "--max-units", "4")
        c.ok("registerdatabase", "-n", "dbb", "--url", f"sqlite://{workdir}/dbb/", "-m", "true",
             "--max-units", "2")
        for cid in range(1, 7):
            c.ok("createcontext", "-c", str(cid), "-q", "10", *ADMIN)
        r = c.ctl("createcontext", "-c", "7", "-q", "10", *ADMIN)
        assert r.returncode == 1 and "no registered database has room" in r.stderr

        ctx = c.json("listcontext")["contexts"]
        per_cluster, per_schema, per_fs = {}, {}, {}
        for x in ctx:
            per_cluster[x["db_cluster"]] = per_cluster.get(x["db_cluster"], 0) + 1
            per_schema[x["schema"]] = per_schema.get(x["schema"], 0) + 1
            per_fs[x["filestore_id"]] = per_fs.get(x["filestore_id"], 0) + 1
        assert per_cluster == {1: 4, 2: 2}
        assert per_schema == {"dba_1": 2, "dba_2": 2, "dbb_1": 2}
        assert per_fs == {1: 3, 2: 3}
        dbs = {d["name"]: d["contexts"] for d in c.json("listdatabase")["databases"]}
        assert dbs == {"dba": 4, "dbb": 2}
        assert sorted(os.listdir(f"{workdir}/dba")) == sorted(
            f for f in os.listdir(f"{workdir}/dba") if f.startswith("dba_"))
        assert os.path.exists(f"{workdir}/dba/dba_2.sqlite")

        # Filestores full (3 + 3) once databases have room again.
        c.ok("registerdatabase", "-n", "dbc", "--url", f"sqlite://{workdir}/dbc/", "-m",
             "true")
        r = c.ctl("createcontext", "-c", "7", "-q", "10", *ADMIN)
        assert r.returncode == 1 and "no registered filestore has room" in r.stderr
        # A deleted context gives its places back.
        c.ok("deletecontext", "-c", "1")
        c.ok("createcontext", "-c", "7", "-q", "10", *ADMIN)
    finally:
        c.stop()


def test_concurrent_createcontext_from_two_nodes_never_overfills(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node("OX-1")
    c.start_node("OX-2")
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u1/", "-m", "true",
             "--max-units", "5")
        c.ok("registerdatabase", "-n", "db2", "--url", f"sqlite://{workdir}/u2/", "-m", "true",
             "--max-units", "3")
        urls = [f"http://127.0.0.1:{n.port}" for n in c.nodes]

        def create(cid):
            return run_ctl(urls[cid % 2], "createcontext", "-c", str(cid), "-q", "5",
                           *ADMIN).returncode

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(create, range(1, 13)))
        assert codes.count(0) == 8 and codes.count(1) == 4
        ctx = c.json("listcontext")["contexts"]
        assert len(ctx) == 8
        per_cluster = {}
        for x in ctx:
            per_cluster[x["db_cluster"]] = per_cluster.get(x["db_cluster"], 0) + 1
        assert per_cluster == {1: 5, 2: 3}
        dbs = {d["name"]: d["contexts"] for d in c.json("listdatabase")["databases"]}
        assert dbs == {"db1": 5, "db2": 3}
    finally:
        c.stop()


def test_context_admin_manages_only_its_own_users(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "10", *ADMIN)
    c.ok("createcontext", "-c", "2", "-q", "10", *ADMIN)
    own = ("oxadmin", "admin_password")
    c.ok("createuser", "-c", "1", *user_args("alice"), user=own[0], password=own[1])
    r = c.ctl("listcontext", user=own[0], password=own[1])
    # no context in the path: a context admin cannot be told from a wrong password, but the
    # answer names who may make the call
    assert r.returncode == 1 and "wrong admin credentials: this call needs the master admin" \
        in r.stderr and "ADM-0401" in r.stderr, r.stderr
    # a master-only call on their own context: 403 naming the rights needed, not "wrong"
    r = c.ctl("disablecontext", "-c", "1", "--reason", "mine", user=own[0], password=own[1])
    assert r.returncode == 1 and "ADM-0403" in r.stderr, r.stderr
    assert "the admin of context 1 may only manage its users" in r.stderr, r.stderr
    assert "this call needs the master admin" in r.stderr, r.stderr
    status, body = admin_call(c, "GET", "/admin/v1/contexts/1", user=own)
    assert status == 403 and body["error"]["code"] == "ADM-0403", body
    # ... while a wrong password there is still a 401 that says who may call
    status, body = admin_call(c, "GET", "/admin/v1/contexts/1", user=(own[0], "wrong"))
    assert status == 401 and body["error"]["code"] == "ADM-0401", body
    assert "this call needs the master admin" in body["error"]["message"], body
    status, body = admin_call(c, "GET", "/admin/v1/node", user=own)
    assert status == 401 and "only the master admin manages nodes" in body["error"]["message"]
    assert c.json("listcontext")["contexts"][0]["enabled"] is True
    # context 2's admin has the same login and password but is another user: fine there ...
    c.ok("createuser", "-c", "2", *user_args("bob"), user=own[0], password=own[1])
    # ... and context 1's users do not become visible through it
    status, body = admin_call(c, "GET", "/admin/v1/contexts/3/users", user=own)
    assert status == 401
    assert "needs the master admin or the admin of context 3" in body["error"]["message"]


def test_disable_and_enable_record_the_reason(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "10", *ADMIN)
    c.ok("createuser", "-c", "1", *user_args("alice"))
    c.ok("disablecontext", "-c", "1", "--reason", "unpaid invoice")
    ctx = c.json("listcontext")["contexts"][0]
    assert ctx["enabled"] is False and ctx["disabled_reason"] == "unpaid invoice"
    assert sqlite_rows(f"{workdir}/configdb.sqlite",
                       "SELECT enabled, disabled_reason FROM context") == [(0, "unpaid invoice")]
    c.ok("enablecontext", "-c", "1")
    assert c.json("listcontext")["contexts"][0]["enabled"] is True
    c.ok("changeuser", "-c", "1", "-u", "alice", "--disable", "left the company")
    u = [u for u in c.json("listuser", "-c", "1")["users"] if u["login"] == "alice"][0]
    assert u["enabled"] is False and u["disabled_reason"] == "left the company"


def test_change_and_delete(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "10", "-L", "acme", *ADMIN)
    c.ok("createuser", "-c", "1", *user_args("alice"))
    c.ok("changecontext", "-c", "1", "-N", "ACME Corp", "-q", "500", "-L", "acme,acme.example")
    ctx = c.json("listcontext")["contexts"][0]
    assert ctx["name"] == "ACME Corp" and ctx["quota_mb"] == 500
    assert ctx["mappings"] == ["1", "acme", "acme.example"]
    c.ok("changeuser", "-c", "1", "-u", "alice", "-d", "Alice Liddell")
    u = [u for u in c.json("listuser", "-c", "1")["users"] if u["login"] == "alice"][0]
    assert u["display_name"] == "Alice Liddell"
    c.ok("deleteuser", "-c", "1", "-u", "alice")
    assert [u["login"] for u in c.json("listuser", "-c", "1")["users"]] == ["oxadmin"]
    assert sqlite_rows(f"{workdir}/userdb/db1_1.sqlite",
                       "SELECT module, id FROM tombstone") == [("user", 9)]
    r = c.ctl("deleteuser", "-c", "1", "-u", "oxadmin")
    assert r.returncode == 1 and "context admin" in r.stderr

    open(f"{workdir}/filestore/1_ctx_store/somefile", "w").write("x")
    c.ok("deletecontext", "-c", "1")
    assert c.json("listcontext")["contexts"] == []
    cdb = f"{workdir}/configdb.sqlite"
    for table in ("context", "login2context", "context_location"):
        assert sqlite_rows(cdb, f"SELECT * FROM {table}") == []
    assert sqlite_rows(cdb, "SELECT contexts FROM contexts_per_pool") == [(0,)]
    for table in ("users", "folder", "folder_permission", "infostore", "ctx_sequence",
                  "dav_props"):
        assert sqlite_rows(f"{workdir}/userdb/db1_1.sqlite", f"SELECT * FROM {table}") == []
    assert not os.path.exists(f"{workdir}/filestore/1_ctx_store")


def test_failed_admin_logins_are_throttled(sqlite_cluster):
    c = sqlite_cluster
    for _ in range(10):
        assert admin_call(c, "GET", "/admin/v1/servers", user=("x", "y"))[0] == 401
    status, body = admin_call(c, "GET", "/admin/v1/servers", user=MASTER)
    assert status == 429 and body["error"]["code"] == "ADM-0429"


def test_bulk_createusers_from_csv(sqlite_cluster, workdir):
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    c.ok("createcontext", "-c", "1", "-q", "10", *ADMIN)
    # One hash for all: hashing 2,500 passwords would test argon2id, not the bulk path.
    h = sqlite_rows(f"{workdir}/userdb/db1_1.sqlite",
                    "SELECT password_hash FROM users WHERE login='oxadmin'")[0][0]
    csv_path = f"{workdir}/users.csv"
    with open(csv_path, "w") as f:
        f.write("login,display_name,given_name,sur_name,password_hash,email\n")
        for i in range(2500):
            f.write(f'u{i},"User, {i}",Given,Sur,"{h}",u{i}@example.com\n')
    r = c.ok("createusers", "-c", "1", "--csv", csv_path)
    assert "2500" in r.stderr + r.stdout
    n = sqlite_rows(f"{workdir}/userdb/db1_1.sqlite", "SELECT COUNT(*) FROM users")[0][0]
    assert n == 2501
    assert sqlite_rows(f"{workdir}/userdb/db1_1.sqlite",
                       "SELECT display_name FROM users WHERE login='u7'") == [("User, 7",)]
    # A user created this way can be verified with the copied hash's password.
    status, _ = admin_call(c, "GET", "/admin/v1/contexts/1/users",
                           user=("oxadmin", "admin_password"))
    assert status == 200


def test_initconfigdb_never_touches_an_existing_configdb(workdir):
    from provisioning import TANDEMCTL
    import subprocess
    url = f"sqlite://{workdir}/configdb.sqlite"
    args = [TANDEMCTL, "initconfigdb", "--configdb-url", url, "--master-user", "root",
            "--master-pass", "pw"]
    assert subprocess.run(args, capture_output=True, timeout=60).returncode == 0
    before = sqlite_dump(f"{workdir}/configdb.sqlite")
    r = subprocess.run(args[:-1] + ["other"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "already holds a configdb" in r.stderr
    assert sqlite_dump(f"{workdir}/configdb.sqlite") == before
    r = subprocess.run([TANDEMCTL, "initconfigdb", "--configdb-url", "nosuch://x",
                        "--master-user", "root", "--master-pass", "pw"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "unknown database URL scheme" in r.stderr
    r = subprocess.run([TANDEMCTL, "initconfigdb", "--configdb-url",
                        "mariadb://u:p@127.0.0.1:1/configdb", "--master-user", "root",
                        "--master-pass", "pw"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "configdb" in r.stderr


def test_hashpassword_output_is_accepted_as_password_hash(sqlite_cluster, workdir):
    from provisioning import TANDEMCTL
    import subprocess
    c = sqlite_cluster
    seed_sqlite(c, workdir)
    h = subprocess.run([TANDEMCTL, "hashpassword", "s3cret"], capture_output=True, text=True,
                       timeout=60).stdout.strip()
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    status, _ = admin_call(c, "POST", "/admin/v1/contexts", {
        "id": 9, "quota_mb": 1, "admin": {"login": "boss", "display_name": "B",
                                          "given_name": "B", "sur_name": "B",
                                          "password_hash": h, "email": "b@x.org"}})
    assert status == 201
    # The context admin now authenticates with the password behind the hash.
    assert admin_call(c, "GET", "/admin/v1/contexts/9/users", user=("boss", "s3cret"))[0] == 200
    assert admin_call(c, "GET", "/admin/v1/contexts/9/users", user=("boss", "wrong"))[0] == 401


def test_concurrent_createcontext_on_mariadb_never_overfills(workdir, mariadb_pair):  # noqa: F811
    primary, _ = mariadb_pair
    c = Cluster(workdir, primary.url("configdb_race"))
    c.start_node("OX-1")
    c.start_node("OX-2")
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        c.ok("registerdatabase", "-n", "race1", "--url", primary.url(""), "-m", "true",
             "--max-units", "4")
        c.ok("registerdatabase", "-n", "race2", "--url", primary.url(""), "-m", "true",
             "--max-units", "2")
        urls = [f"http://127.0.0.1:{n.port}" for n in c.nodes]

        def create(cid):
            return run_ctl(urls[cid % 2], "createcontext", "-c", str(cid), "-q", "5",
                           *ADMIN).returncode

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            codes = list(pool.map(create, range(1, 11)))
        assert codes.count(0) == 6 and codes.count(1) == 4
        assert primary.sql("SELECT db_cluster, contexts FROM configdb_race.contexts_per_pool "
                           "ORDER BY db_cluster") == [["1", "4"], ["2", "2"]]
        assert primary.sql("SELECT COUNT(*) FROM configdb_race.context") == [["6"]]
        assert primary.sql("SELECT COUNT(*) FROM race1_1.users") == [["4"]]
    finally:
        c.stop()
