# SPDX-License-Identifier: MIT
# Folders end to end on a provisioned SQLite tandemd: roots and default folders, CRUD, the
# permission matrix, the shared root, revocation, group grants and bad input.
import concurrent.futures
import os
import sqlite3
import tempfile

import pytest

from fixtures_mariadb import mariadb, run_unit_test_on_mariadb  # noqa: F401  (pytest fixture)
from provisioning import ApiClient, Cluster


OWNER_BITS = 64 | 64 << 7 | 64 << 14 | 64 << 21 | 1 << 28  # 403710016
VIEWER = 257  # see the folder, read all objects
AUTHOR = 4 | 2 << 7 | 1 << 14 | 1 << 21  # create subfolders, read all, write/delete own


def bits(folder, read=0, write=0, delete=0, admin=False):
    return folder | read << 7 | write << 14 | delete << 21 | (1 << 28 if admin else 0)


def admin_args(login):
    return ["-u", login, "-d", f"Admin {login}", "-g", "A", "-s", "D", "-p", "admin_pw",
            "-e", f"{login}@example.com"]


def user_args(login, display):
    return ["-u", login, "-d", display, "-g", "G", "-s", "S", "-p", f"{login}_pw",
            "-e", f"{login}@example.com"]


class World:
    """One provisioned tandemd shared by the tests of this file, and a client per user."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.cluster = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
        self.cluster.start_node()
        c = self.cluster
        c.ok("registerserver", "-n", "tandem")
        c.ok("registerfilestore", "-t", f"file://{workdir}/filestore", "-s", "1000")
        c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/userdb/", "-m",
             "true")
        c.ok("createcontext", "-c", "1", "-q", "1000", "-L", "defaultcontext",
             *admin_args("oxadmin"))
        c.ok("createcontext", "-c", "2", "-q", "1000", "-L", "ctx2", *admin_args("oxadmin"))
        for login, display in (("alice", "Alice Adams"), ("bob", "Bob Brown"),
                               ("carol", "Carol Clark")):
            c.ok("createuser", "-c", "1", *user_args(login, display))
        c.ok("createuser", "-c", "2", *user_args("dave", "Dave Davis"))
        self.users = {}
        for login, mapping in (("alice", "defaultcontext"), ("bob", "defaultcontext"),
                               ("carol", "defaultcontext"), ("dave", "ctx2")):
            api = ApiClient(self.cluster.nodes[0].port)
            status, body, _ = api.login(f"{login}@{mapping}", f"{login}_pw")
            assert status == 200, body
            api.uid = body["user_id"]
            api.cid = body["context_id"]
            self.users[login] = api
        self.userdb = self.schema_of(1)
        # a group "team" with carol
        self.group_id = c.json("creategroup", "-c", "1", "-n", "team", "-d", "Team",
                               "-a", "carol")["id"]

    def schema_of(self, cid):
        con = sqlite3.connect(f"{self.workdir}/configdb.sqlite")
        try:
            (schema,) = con.execute("SELECT schema_name FROM context_location WHERE cid=?",
                                    (cid,)).fetchone()
        finally:
            con.close()
        return f"{self.workdir}/userdb/{schema}.sqlite"

    def sql(self, query, params=()):
        con = sqlite3.connect(self.userdb, timeout=30)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def __getattr__(self, name):
        if name in ("alice", "bob", "carol", "dave"):
            return self.users[name]
        raise AttributeError(name)


@pytest.fixture(scope="module")
def w():
    with tempfile.TemporaryDirectory(prefix="tandem-folders-") as d:
        world = World(d)
        yield world
        world.cluster.stop()


def call(api, method, path, body=None, raw=None):
    status, payload, _ = api.request(method, path, body=body, raw=raw)
    return status, payload


def ok(api, method, path, body=None, expect=200):
    status, payload = call(api, method, path, body)
    assert status == expect, (method, path, status, payload)
    return payload


def error(api, method, path, body=None, raw=None, status=None, code=None, mentions=None):
    got, payload = call(api, method, path, body, raw)
    assert got == status, (method, path, got, payload)
    assert isinstance(payload, dict) and payload["error"]["code"] == code, payload
    if mentions is not None:
        assert mentions in payload["error"]["message"], payload
    return payload


def children(api, parent):
    return ok(api, "GET", f"/api/v1/folders?parent={parent}")["folders"]


def create(api, parent, title, module=None, expect=201, **extra):
    body = {"parent": parent, "title": title, **extra}
    if module is not None:
        body["module"] = module
    return ok(api, "POST", "/api/v1/folders", body, expect=expect)


def share(api, folder_id, *entries, expect=200):
    perms = [{"entity": e, "group": g, "bits": b} for e, g, b in entries]
    return ok(api, "PATCH", f"/api/v1/folders/{folder_id}", {"permissions": perms},
              expect=expect)


def test_unauthenticated_requests_are_refused(w):
    anon = ApiClient(w.cluster.nodes[0].port)
    status, _ = call(anon, "GET", "/api/v1/folders")
    assert status == 401
    status, _ = call(anon, "POST", "/api/v1/folders", {"parent": 1, "title": "x"})
    assert status == 401


def test_roots_and_default_folders(w):
    roots = ok(w.alice, "GET", "/api/v1/folders")["folders"]
    assert [(r["id"], r["type"], r["parent"], r["owner"]) for r in roots] == \
        [(1, "system", None, None), (2, "system", None, None), (3, "system", None, None),
         (4, "system", None, None)]
    assert [r["module"] for r in roots] == ["system", "system", "system", "infostore"]
    assert roots[1]["own_rights"] == 4  # public root: every user may create subfolders
    assert roots[1]["permissions"] == [{"entity": 0, "group": True, "bits": 4}]
    assert roots[2]["own_rights"] == 1  # shared root: see only

    for who in ("alice", "bob", "carol"):
        api = w.users[who]
        mine = [f for f in children(api, 1) if f["default"]]
        assert [(f["title"], f["module"]) for f in mine] == \
            [("Calendar", "calendar"), ("Contacts", "contacts"), ("Tasks", "tasks")]
        files = [f for f in children(api, 4) if f["default"]]
        assert [(f["title"], f["module"]) for f in files] == [("My files", "infostore")]
        for f in mine + files:
            assert f["owner"] == api.uid and f["type"] == "private"
            assert f["own_rights"] == OWNER_BITS
            assert f["permissions"] == [{"entity": api.uid, "group": False, "bits": OWNER_BITS}]
            assert f["id"] > 4 and f["virtual"] is False
    # each sees only their own defaults
    alice_ids = {f["id"] for f in children(w.alice, 1)}
    bob_ids = {f["id"] for f in children(w.bob, 1)}
    assert not alice_ids & bob_ids
    # dave's context has its own roots and defaults
    assert [f["title"] for f in children(w.dave, 1) if f["default"]] == \
        ["Calendar", "Contacts", "Tasks"]
    # one row per folder in the schema: roots once per context
    assert w.sql("SELECT COUNT(*) FROM folder WHERE cid=1 AND is_system=1") == [(4,)]
    assert w.sql("SELECT COUNT(*) FROM folder WHERE cid=1 AND owner=? AND default_for IS NOT "
                 "NULL", (w.alice.uid,)) == [(4,)]


def test_create_rename_move_delete(w):
    a = w.alice
    status, body, resp = a.request("POST", "/api/v1/folders",
                                   {"parent": 1, "title": "Projects", "module": "calendar"})
    assert status == 201, body
    proj = body
    assert resp.getheader("Location") == f"/api/v1/folders/{proj['id']}"
    assert (proj["parent"], proj["title"], proj["module"], proj["type"], proj["owner"],
            proj["subfolders"], proj["default"]) == \
        (1, "Projects", "calendar", "private", a.uid, False, False)
    assert ok(a, "GET", f"/api/v1/folders/{proj['id']}") == proj

    q1 = create(a, proj["id"], "Q1")  # module inherited
    assert q1["module"] == "calendar" and q1["parent"] == proj["id"]
    assert ok(a, "GET", f"/api/v1/folders/{proj['id']}")["subfolders"] is True
    assert [f["id"] for f in children(a, proj["id"])] == [q1["id"]]

    # rename; duplicate titles among siblings are refused, case-insensitively
    renamed = ok(a, "PATCH", f"/api/v1/folders/{q1['id']}", {"title": "Quarter 1"})
    assert renamed["title"] == "Quarter 1"
    create(a, proj["id"], "Quarter 2")
    error(a, "PATCH", f"/api/v1/folders/{q1['id']}", {"title": "QUARTER 2"}, status=409,
          code="FLD-0409")
    error(a, "POST", "/api/v1/folders", {"parent": proj["id"], "title": "quarter 1"},
          status=409, code="FLD-0409")
    # echoing a whole object back changes nothing
    same = ok(a, "PATCH", f"/api/v1/folders/{q1['id']}", renamed)
    assert same["title"] == "Quarter 1" and same["parent"] == proj["id"]

    # move: no cycles, only to places that take the module
    error(a, "PATCH", f"/api/v1/folders/{proj['id']}", {"parent": q1["id"]}, status=400,
          code="FLD-0400", mentions="parent")
    error(a, "PATCH", f"/api/v1/folders/{proj['id']}", {"parent": proj["id"]}, status=400,
          code="FLD-0400")
    error(a, "PATCH", f"/api/v1/folders/{q1['id']}", {"parent": 4}, status=400,
          code="FLD-0400", mentions="module")
    moved = ok(a, "PATCH", f"/api/v1/folders/{q1['id']}", {"parent": 1})
    assert moved["parent"] == 1
    assert q1["id"] in [f["id"] for f in children(a, 1)]
    moved = ok(a, "PATCH", f"/api/v1/folders/{q1['id']}", {"parent": proj["id"],
                                                         "title": "Q1 again"})
    assert (moved["parent"], moved["title"]) == (proj["id"], "Q1 again")

    # system and default folders stay where they are
    cal = next(f for f in children(a, 1) if f["default"] and f["module"] == "calendar")
    error(a, "PATCH", f"/api/v1/folders/{cal['id']}", {"parent": proj["id"]}, status=403,
          code="FLD-0403")
    error(a, "DELETE", f"/api/v1/folders/{cal['id']}", status=403, code="FLD-0403")
    error(a, "DELETE", "/api/v1/folders/2", status=403, code="FLD-0403")
    error(a, "PATCH", "/api/v1/folders/1", {"title": "Mine"}, status=403, code="FLD-0403")
    error(a, "PATCH", f"/api/v1/folders/{cal['id']}", {"module": "tasks"}, status=400,
          code="FLD-0400", mentions="module")

    # delete with contents
    status, _ = call(a, "DELETE", f"/api/v1/folders/{proj['id']}")
    assert status == 204
    for fid in (proj["id"], q1["id"]):
        error(a, "GET", f"/api/v1/folders/{fid}", status=404, code="FLD-0404")
    assert w.sql("SELECT COUNT(*) FROM folder WHERE cid=1 AND id=?", (q1["id"],)) == [(0,)]
    assert w.sql("SELECT COUNT(*) FROM tombstone WHERE cid=1 AND module='folder' AND id IN "
                 "(?, ?)", (proj["id"], q1["id"])) == [(2,)]
    error(a, "DELETE", f"/api/v1/folders/{proj['id']}", status=404, code="FLD-0404")


def test_delete_removes_files_from_the_filestore_after_commit(w):
    a = w.alice
    docs = create(a, 4, "Docs")
    inner = create(a, docs["id"], "Inner")
    assert docs["module"] == "infostore"
    # Files as the files module stores them: rows, versions and the file in the store.
    store = f"{w.workdir}/filestore/1_ctx_store"
    paths = []
    for n, folder in enumerate((docs["id"], inner["id"])):
        uuid = f"{0xabc000 + n:032x}"
        loc = f"hashed/{uuid[0:2]}/{uuid[2:4]}/{uuid[4:6]}/{uuid}"
        path = f"{store}/{loc}"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"hello")
        paths.append(path)
        file_id = 900000 + n
        w.sql("INSERT INTO infostore (cid, id, folder, name, version, size, md5, content_type, "
              "created, modified, created_by, modified_by) VALUES (1, ?, ?, 'a.txt', 1, 5, "
              "'5d41402abc4b2a76b9719d911017c592', 'text/plain', 0, 0, ?, ?)",
              (file_id, folder, a.uid, a.uid))
        w.sql("INSERT INTO infostore_version (cid, file, version, size, md5, content_type, "
              "filestore_location, created, created_by) VALUES (1, ?, 1, 5, "
              "'5d41402abc4b2a76b9719d911017c592', 'text/plain', ?, 0, ?)",
              (file_id, loc, a.uid))
    w.sql("UPDATE filestore_usage SET used_bytes=used_bytes+10 WHERE cid=1")
    (used_before,) = w.sql("SELECT used_bytes FROM filestore_usage WHERE cid=1")[0]

    status, _ = call(a, "DELETE", f"/api/v1/folders/{docs['id']}")
    assert status == 204
    assert not any(os.path.exists(p) for p in paths)
    assert w.sql("SELECT COUNT(*) FROM infostore WHERE cid=1 AND id>=900000") == [(0,)]
    assert w.sql("SELECT COUNT(*) FROM infostore_version WHERE cid=1 AND file>=900000") == \
        [(0,)]
    assert w.sql("SELECT used_bytes FROM filestore_usage WHERE cid=1") == [(used_before - 10,)]


def test_permission_matrix(w):
    a, b, c, d = w.alice, w.bob, w.carol, w.dave
    f = create(a, 1, "Matrix", "tasks")
    fid = f["id"]
    url = f"/api/v1/folders/{fid}"

    # nobody else sees it yet
    for other in (b, c, d):
        error(other, "GET", url, status=404, code="FLD-0404")

    # bob as viewer: sees and reads, creates and changes nothing
    shared = share(a, fid, (b.uid, False, VIEWER))
    assert {(p["entity"], p["group"], p["bits"]) for p in shared["permissions"]} == \
        {(a.uid, False, OWNER_BITS), (b.uid, False, VIEWER)}
    seen = ok(b, "GET", url)
    assert (seen["own_rights"], seen["type"], seen["owner"], seen["parent"]) == \
        (VIEWER, "shared", a.uid, f"u:{a.uid}")
    error(b, "POST", "/api/v1/folders", {"parent": fid, "title": "Sub"}, status=403,
          code="FLD-0403")
    error(b, "PATCH", url, {"title": "Bob's now"}, status=403, code="FLD-0403")
    error(b, "PATCH", url, {"permissions": []}, status=403, code="FLD-0403")
    error(b, "DELETE", url, status=403, code="FLD-0403")
    assert children(b, fid) == []

    # carol (no grant) and dave (other context) cannot tell it exists
    for other in (c, d):
        error(other, "GET", url, status=404, code="FLD-0404")
        error(other, "PATCH", url, {"title": "x"}, status=404, code="FLD-0404")
        error(other, "DELETE", url, status=404, code="FLD-0404")
        error(other, "GET", f"/api/v1/folders?parent={fid}", status=404, code="FLD-0404")
        error(other, "POST", "/api/v1/folders", {"parent": fid, "title": "x"}, status=404,
              code="FLD-0404")
    assert ok(a, "GET", url)["title"] == "Matrix"

    # author-like bits: bob may create subfolders; they stay shared like their parent
    share(a, fid, (b.uid, False, AUTHOR))
    assert ok(b, "GET", url)["own_rights"] == AUTHOR
    sub = create(b, fid, "Bob's part")
    assert (sub["owner"], sub["type"], sub["module"], sub["parent"]) == \
        (b.uid, "private", "tasks", fid)
    seen = ok(a, "GET", f"/api/v1/folders/{sub['id']}")
    assert seen["type"] == "shared" and seen["own_rights"] == OWNER_BITS
    error(c, "GET", f"/api/v1/folders/{sub['id']}", status=404, code="FLD-0404")

    # the admin flag lets bob share further, but the owner keeps full rights
    share(a, fid, (b.uid, False, bits(1, 2, admin=True)))
    error(b, "PATCH", url, {"permissions": [{"entity": a.uid, "group": False, "bits": 257}]},
          status=400, code="FLD-0400", mentions="owner")
    res = share(b, fid, (b.uid, False, VIEWER), (c.uid, False, VIEWER))
    assert (a.uid, False, OWNER_BITS) in {(p["entity"], p["group"], p["bits"])
                                          for p in res["permissions"]}
    assert ok(c, "GET", url)["own_rights"] == VIEWER
    error(b, "PATCH", url, {"permissions": []}, status=403, code="FLD-0403")


def test_group_grant_applies_to_members_only(w):
    a, b, c = w.alice, w.bob, w.carol
    f = create(a, 1, "Team calendar", "calendar")
    url = f"/api/v1/folders/{f['id']}"
    share(a, f["id"], (w.group_id, True, VIEWER))
    assert ok(c, "GET", url)["own_rights"] == VIEWER  # carol is in the group
    error(b, "GET", url, status=404, code="FLD-0404")
    # all users: the virtual group 0
    share(a, f["id"], (0, True, VIEWER))
    assert ok(b, "GET", url)["own_rights"] == VIEWER
    error(w.dave, "GET", url, status=404, code="FLD-0404")
    error(a, "PATCH", url, {"permissions": [{"entity": 12345, "group": True, "bits": 257}]},
          status=400, code="FLD-0400", mentions="12345")


def test_shared_root_groups_by_owner(w):
    a, b, c = w.alice, w.bob, w.carol
    top = create(a, 4, "Hidden parent")
    inner = create(a, top["id"], "Shared inside")
    cal = create(a, 1, "Holidays", "calendar")
    share(a, inner["id"], (b.uid, False, VIEWER))
    share(a, cal["id"], (b.uid, False, VIEWER))
    carols = create(c, 1, "Carol's list", "tasks")
    share(c, carols["id"], (b.uid, False, VIEWER))

    nodes = children(b, 3)
    by_id = {n["id"]: n for n in nodes}
    assert f"u:{a.uid}" in by_id and f"u:{c.uid}" in by_id
    node = by_id[f"u:{a.uid}"]
    assert (node["title"], node["parent"], node["type"], node["owner"], node["virtual"],
            node["subfolders"]) == ("Alice Adams", 3, "shared", a.uid, True, True)
    assert ok(b, "GET", f"/api/v1/folders/u:{a.uid}") == node

    below = children(b, f"u:{a.uid}")
    ids = [f["id"] for f in below]
    assert inner["id"] in ids and cal["id"] in ids
    for f in below:
        assert f["parent"] == f"u:{a.uid}" and f["type"] == "shared" and f["owner"] == a.uid
    assert ok(b, "GET", "/api/v1/folders")["folders"][2]["subfolders"] is True
    # the unshared parent stays invisible, and so does its id
    error(b, "GET", f"/api/v1/folders/{top['id']}", status=404, code="FLD-0404")
    assert ok(b, "GET", f"/api/v1/folders/{inner['id']}")["parent"] == f"u:{a.uid}"
    # nodes are read-only; someone with no shares from alice has no such node
    error(b, "PATCH", f"/api/v1/folders/u:{a.uid}", {"title": "x"}, status=403,
          code="FLD-0403")
    error(w.dave, "GET", f"/api/v1/folders/u:{a.uid}", status=404, code="FLD-0404")
    error(w.dave, "GET", f"/api/v1/folders?parent=u:{a.uid}", status=404, code="FLD-0404")
    assert children(w.dave, 3) == []
    error(a, "GET", f"/api/v1/folders/u:{a.uid}", status=404, code="FLD-0404")


def test_revoking_a_share_takes_effect_on_the_next_request(w):
    a, b = w.alice, w.bob
    f = create(a, 1, "Short-lived share", "contacts")
    url = f"/api/v1/folders/{f['id']}"
    share(a, f["id"], (b.uid, False, VIEWER))
    assert ok(b, "GET", url)["id"] == f["id"]
    assert f["id"] in [x["id"] for x in children(b, f"u:{a.uid}")]
    share(a, f["id"])
    error(b, "GET", url, status=404, code="FLD-0404")
    status, payload = call(b, "GET", f"/api/v1/folders?parent=u:{a.uid}")
    assert status == 404 or f["id"] not in [x["id"] for x in payload["folders"]]
    assert ok(a, "GET", url)["permissions"] == \
        [{"entity": a.uid, "group": False, "bits": OWNER_BITS}]


def test_public_folders(w):
    a, b = w.alice, w.bob
    pub = create(b, 2, "Company events", "calendar")
    assert (pub["type"], pub["parent"]) == ("public", 2)
    assert pub["id"] not in [f["id"] for f in children(a, 2)]
    share(b, pub["id"], (0, True, VIEWER))
    seen = [f for f in children(a, 2) if f["id"] == pub["id"]]
    assert len(seen) == 1 and seen[0]["type"] == "public" and seen[0]["own_rights"] == VIEWER
    error(a, "POST", "/api/v1/folders", {"parent": 2, "title": "company EVENTS",
                                         "module": "tasks"}, status=409, code="FLD-0409")
    # nothing may be created in the shared root
    error(a, "POST", "/api/v1/folders", {"parent": 3, "title": "x", "module": "tasks"},
          status=403, code="FLD-0403")


def test_create_with_permissions(w):
    a, b = w.alice, w.bob
    f = create(a, 1, "Born shared", "calendar",
               permissions=[{"entity": b.uid, "group": False, "bits": VIEWER}])
    assert ok(b, "GET", f"/api/v1/folders/{f['id']}")["own_rights"] == VIEWER
    # a bad list creates nothing
    error(a, "POST", "/api/v1/folders",
          {"parent": 1, "title": "Never", "module": "calendar",
           "permissions": [{"entity": b.uid, "bits": 3}]}, status=400, code="FLD-0400")
    assert "Never" not in [x["title"] for x in children(a, 1)]


def test_concurrent_creates_of_one_title_make_one_folder(w):
    a = w.alice
    parent = create(a, 1, "Race track", "tasks")

    def attempt(_):
        return call(a, "POST", "/api/v1/folders", {"parent": parent["id"], "title": "Finish"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    statuses = sorted(s for s, _ in results)
    assert statuses == [201] + [409] * 7, results
    assert [f["title"] for f in children(a, parent["id"])] == ["Finish"]


@pytest.mark.parametrize("method,path,raw,mentions", [
    ("POST", "/api/v1/folders", b"{not json", "JSON"),
    ("POST", "/api/v1/folders", b"[1,2]", "JSON object"),
    ("POST", "/api/v1/folders", b"", "body"),
    ("POST", "/api/v1/folders", b'{"title":"x","module":"tasks"}', "parent"),
    ("POST", "/api/v1/folders", b'{"parent":1,"module":"tasks"}', "title"),
    ("POST", "/api/v1/folders", b'{"parent":"1","title":"x","module":"tasks"}', "parent"),
    ("POST", "/api/v1/folders", b'{"parent":-1,"title":"x","module":"tasks"}', "parent"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":5,"module":"tasks"}', "title"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"x","module":"mail"}', "module"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"x","module":7}', "module"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"x"}', "module"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"","module":"tasks"}', "title"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"a/b","module":"tasks"}', "title"),
    ("POST", "/api/v1/folders", b'{"parent":4,"title":"x","module":"tasks"}', "module"),
    ("POST", "/api/v1/folders", b'{"parent":1,"title":"x","title":"y","module":"tasks"}',
     "JSON"),
    ("GET", "/api/v1/folders?parent=abc", None, "parent"),
    ("GET", "/api/v1/folders?parent=0", None, "parent"),
    ("GET", "/api/v1/folders?parent=u:x", None, "parent"),
])
def test_bad_input_is_400(w, method, path, raw, mentions):
    error(w.alice, method, path, raw=raw, status=400, code="FLD-0400", mentions=mentions)


@pytest.mark.parametrize("body,mentions", [
    ({"permissions": "all"}, "permissions"),
    ({"permissions": [5]}, "permissions[0]"),
    ({"permissions": [{"group": False, "bits": 257}]}, "permissions[0].entity"),
    ({"permissions": [{"entity": "2", "bits": 257}]}, "permissions[0].entity"),
    ({"permissions": [{"entity": 1, "group": "no", "bits": 257}]}, "permissions[0].group"),
    ({"permissions": [{"entity": 1, "bits": "257"}]}, "permissions[0].bits"),
    ({"permissions": [{"entity": 1, "bits": 257.0}]}, "permissions[0].bits"),
    ({"permissions": [{"entity": 1, "bits": 3}]}, "folder level"),
    ({"permissions": [{"entity": 1, "bits": 1 << 29}]}, "bits"),
    ({"permissions": [{"entity": 987654, "bits": 257}]}, "987654"),
    ({"permissions": [{"entity": 1, "bits": 257}, {"entity": 1, "bits": 1}]}, "twice"),
    ({"title": ["x"]}, "title"),
    ({"title": ".."}, "title"),
    ({"parent": True}, "parent"),
    ({"parent": "u:1"}, "parent"),
])
def test_bad_patch_is_400_and_changes_nothing(w, body, mentions):
    a = w.alice
    f = create(a, 1, f"Patch target {abs(hash(repr(body))) % 10**8}", "tasks")
    error(a, "PATCH", f"/api/v1/folders/{f['id']}", body, status=400, code="FLD-0400",
          mentions=mentions)
    assert ok(a, "GET", f"/api/v1/folders/{f['id']}") == f


def test_unknown_ids_are_404(w):
    a = w.alice
    for path in ("/api/v1/folders/999999", "/api/v1/folders/abc", "/api/v1/folders/0",
                 "/api/v1/folders/12/extra", "/api/v1/folders/u:999999"):
        error(a, "GET", path, status=404, code="FLD-0404")
    error(a, "GET", "/api/v1/folders?parent=999999", status=404, code="FLD-0404")
    error(a, "PATCH", "/api/v1/folders/999999", {"title": "x"}, status=404, code="FLD-0404")
    error(a, "DELETE", "/api/v1/folders/999999", status=404, code="FLD-0404")
    error(a, "POST", "/api/v1/folders", {"parent": 999999, "title": "x"}, status=404,
          code="FLD-0404")
    f = create(a, 1, "Going nowhere", "tasks")
    error(a, "PATCH", f"/api/v1/folders/{f['id']}", {"parent": 999999}, status=404,
          code="FLD-0404")


def test_folder_library_on_mariadb(mariadb):  # noqa: F811
    """The unit test's permission matrix against a real MariaDB (locking reads, CASE in
    UPDATE, bit operators)."""
    run_unit_test_on_mariadb(mariadb, "test-folder", "foldertest", 10)


def test_storage_dav_library_on_mariadb(mariadb):  # noqa: F811
    """The WebDAV storage calls' unit test against a real MariaDB: the user schema's version 4
    (dav_props: MEDIUMTEXT values, byte-exact names), paged listings with LIMIT, copies."""
    run_unit_test_on_mariadb(mariadb, "test-storage-dav", "davstoretest", 6)


def test_storage_calendar_library_on_mariadb(mariadb):  # noqa: F811
    """The calendar storage calls' unit test against a real MariaDB: the user schema's
    version 5 (MEDIUMTEXT objects, byte-exact UIDs and names), revisions and tombstones."""
    run_unit_test_on_mariadb(mariadb, "test-storage-calendar", "calstoretest", 4)


def test_storage_contacts_library_on_mariadb(mariadb):  # noqa: F811
    """The contacts storage calls' unit test against a real MariaDB: the user schema's
    version 7 (MEDIUMTEXT cards, byte-exact UIDs and names, LIKE search with '!' escapes)."""
    run_unit_test_on_mariadb(mariadb, "test-storage-contacts", "constoretest", 4)


def test_storage_gab_library_on_mariadb(mariadb):  # noqa: F811
    """The global address book's unit test against a real MariaDB: the user schema's version
    8, the revision's update-or-insert, publishing's insert-select."""
    run_unit_test_on_mariadb(mariadb, "test-storage-gab", "gabstoretest", 3)
