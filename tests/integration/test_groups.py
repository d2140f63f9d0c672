# SPDX-License-Identifier: MIT
# Groups as OX has them: the tandemctl verbs (members by login) and the admin API, who may
# call them, groups as permission entities on folders, and a member removed on one node
# losing access at once on the other (the group cache dropped through the invalidation bus).
import base64
import http.client

import pytest

from cluster_setup import ADMIN, create_user, login, start_cluster
from conftest import scrape_metrics
from fixtures_mariadb import mariadb  # noqa: F401  (pytest fixture)
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from provisioning import ApiClient, Cluster

CONTEXT_ADMIN = ("oxadmin", "admin_pw")
VIEWER = 257


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, users=("alice", "bob", "carol"))
    yield c
    c.stop()


def ok(api, method, path, body=None, status=200):
    st, answer, _ = api.request(method, path, body)
    assert st == status, (method, path, st, answer)
    return answer


def test_group_verbs_with_json_and_text(cluster):
    c = cluster
    g = c.json("creategroup", "-c", "1", "-n", "team", "-d", "The Team", "-a", "alice,bob")
    assert g["name"] == "team" and g["display_name"] == "The Team"
    assert [m["login"] for m in g["members"]] == ["alice", "bob"]
    assert all(m["display_name"] for m in g["members"])
    # the context admin may manage the groups of their context
    g2 = c.json("creategroup", "-c", "1", "-n", "solo", user=CONTEXT_ADMIN[0],
                password=CONTEXT_ADMIN[1])
    assert g2["display_name"] == "solo" and g2["members"] == []

    changed = c.json("changegroup", "-c", "1", "-n", "team", "-a", "carol", "-r", "alice",
                     "--newname", "crew")
    assert changed["id"] == g["id"] and changed["name"] == "crew"
    assert [m["login"] for m in changed["members"]] == ["bob", "carol"]

    listing = c.json("listgroup", "-c", "1")
    assert [x["name"] for x in listing["groups"]] == ["crew", "solo"]
    text = c.ok("listgroup", "-c", "1").stdout
    assert "crew" in text and "bob,carol" in text

    out = c.ok("deletegroup", "-c", "1", "-i", str(g2["id"])).stdout
    assert f"group {g2['id']} deleted" in out
    assert [x["name"] for x in c.json("listgroup", "-c", "1")["groups"]] == ["crew"]


def test_group_errors_name_what_is_wrong(cluster):
    c = cluster
    c.ok("creategroup", "-c", "1", "-n", "team", "-a", "alice")
    before = c.json("listgroup", "-c", "1")
    assert "member \"nobody\" is not a user of context 1" in c.fail(
        "creategroup", "-c", "1", "-n", "other", "-a", "alice,nobody")
    assert "group \"team\" already exists in context 1" in c.fail(
        "creategroup", "-c", "1", "-n", "team")
    assert "name must be 1-128 characters" in c.fail("creategroup", "-c", "1", "-n", "a b")
    assert "\"bob\" is not a member of group" in c.fail(
        "changegroup", "-c", "1", "-n", "team", "-r", "bob")
    assert "no group named 'ghost'" in c.fail("deletegroup", "-c", "1", "-n", "ghost")
    assert "does not exist" in c.fail("deletegroup", "-c", "1", "-i", "99999")
    assert "empty member" in c.fail("creategroup", "-c", "1", "-n", "x", "-a", "alice,",
                                    code=2)
    assert "nothing to change" in c.fail("changegroup", "-c", "1", "-n", "team", code=2)
    assert "missing required option -c" in c.fail("creategroup", "-n", "x", code=2)
    # nothing was half-made by the failures
    assert c.json("listgroup", "-c", "1") == before


def test_admin_api_authorisation(cluster):
    c = cluster
    c.ok("createcontext", "-c", "2", "-q", "0", "-L", "ctx2", "-u", "admin2", "-d", "A2",
         "-g", "A", "-s", "B", "-p", "admin2_pw", "-e", "a2@example.com")
    # the admin of context 2 may not touch the groups of context 1
    err = c.fail("listgroup", "-c", "1", user="admin2", password="admin2_pw")
    assert "403" in err or "needs the master admin or the admin of context 1" in err
    err = c.fail("creategroup", "-c", "1", "-n", "x", user="admin2", password="admin2_pw")
    assert "context 1" in err
    # a user's password is no admin's
    c.fail("listgroup", "-c", "1", user="alice", password="alice_pw")
    # the API shape: 201 with the group, 204 on delete, 404 afterwards
    api = ApiClient(c.nodes[1].port)
    auth = {"Authorization": "Basic " + base64.b64encode(b"oxadmin:admin_pw").decode()}
    st, body, _ = api.request("POST", "/admin/v1/contexts/1/groups",
                              {"name": "api", "members": ["bob"]}, headers=auth)
    assert st == 201, body
    gid = body["id"]
    st, body, _ = api.request("PATCH", f"/admin/v1/contexts/1/groups/{gid}",
                              {"add_members": "bob"}, headers=auth)
    assert st == 400 and "add_members" in body["error"]["message"], body
    st, _, _ = api.request("DELETE", f"/admin/v1/contexts/1/groups/{gid}", headers=auth)
    assert st == 204
    st, body, _ = api.request("GET", f"/admin/v1/contexts/1/groups/{gid}", headers=auth)
    assert st == 404 and body["error"]["code"] == "ADM-0404", body


def folder_with_group(alice, gid):
    f = ok(alice, "POST", "/api/v1/folders", {"parent": 4, "title": "Team", "module": "infostore"},
           status=201)
    ok(alice, "PATCH", f"/api/v1/folders/{f['id']}",
       {"permissions": [{"entity": alice.uid, "group": False, "bits": 403710016},
                        {"entity": gid, "group": True, "bits": VIEWER}]})
    return f["id"]


def test_group_share_is_visible_to_members_only_and_removal_is_at_once_on_every_node(cluster):
    c = cluster
    g = c.json("creategroup", "-c", "1", "-n", "team", "-a", "bob")
    alice = login(c, "alice", node=0)
    bob = login(c, "bob", node=1)
    carol = login(c, "carol", node=1)
    folder = folder_with_group(alice, g["id"])
    path = f"/api/v1/folders/{folder}"
    files = f"/api/v1/files?folder={folder}"  # answered from the folder and group caches
    # bob (a member) sees it on node 2, carol does not
    assert ok(bob, "GET", path)["own_rights"] == VIEWER
    assert carol.request("GET", path)[0] == 404
    for _ in range(5):
        # bob's groups are cached on node 2 between the changes (warm them each round)
        assert bob.request("GET", files)[0] == 200
        assert bob.request("GET", files)[0] == 200
        assert carol.request("GET", files)[0] == 404
        # removed through node 1: node 2 refuses at the next request
        c.ok("changegroup", "-c", "1", "-i", str(g["id"]), "-r", "bob")
        assert bob.request("GET", files)[0] == 404
        assert bob.request("GET", path)[0] == 404
        c.ok("changegroup", "-c", "1", "-i", str(g["id"]), "-a", "bob")
        assert bob.request("GET", files)[0] == 200
    m = scrape_metrics(c.nodes[1].port)
    assert m['tandem_cache_hits_total{cache="group"}'] > 0
    # a group in a folder permission cannot be deleted; removed from it, it can
    err = c.fail("deletegroup", "-c", "1", "-n", "team")
    assert f"in the permissions of folder {folder}" in err
    ok(alice, "PATCH", path,
       {"permissions": [{"entity": alice.uid, "group": False, "bits": 403710016}]})
    c.ok("deletegroup", "-c", "1", "-n", "team")
    assert bob.request("GET", path)[0] == 404


def test_deleting_a_user_removes_them_from_groups(cluster):
    c = cluster
    create_user(c, "dave")
    c.ok("creategroup", "-c", "1", "-n", "team", "-a", "dave,alice")
    c.ok("deleteuser", "-c", "1", "-u", "dave")
    (g,) = c.json("listgroup", "-c", "1")["groups"]
    assert [m["login"] for m in g["members"]] == ["alice"]


def test_json_api_lists_groups_without_logins(cluster):
    c = cluster
    g = c.json("creategroup", "-c", "1", "-n", "team", "-d", "Team", "-a", "alice,bob")
    bob = login(c, "bob", node=1)
    body = ok(bob, "GET", "/api/v1/groups")
    assert body["groups"] == [{"id": g["id"], "name": "team", "display_name": "Team",
                               "members": [{"id": m["id"], "display_name": m["display_name"]}
                                           for m in g["members"]]}]
    assert ApiClient(c.nodes[0].port).request("GET", "/api/v1/groups")[0] == 401


def test_groups_resources_and_access_on_mariadb(workdir, mariadb):  # noqa: F811
    """The same SQL on MariaDB: groups, the permission check on delete, resources, and a
    user's access combination from the context's default."""
    c = Cluster(workdir, mariadb.url("configdb"),
                extra="[access files-only]\nmodules = files\n")
    c.start_node()
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        c.ok("registerdatabase", "-n", "mdb", "--url", mariadb.url(""), "-m", "true")
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN,
             "--access-combination-name", "files-only")
        for name in ("alice", "bob"):
            create_user(c, name)
        g = c.json("creategroup", "-c", "1", "-n", "team", "-a", "alice,bob")
        assert [m["login"] for m in g["members"]] == ["alice", "bob"]
        c.ok("changegroup", "-c", "1", "-n", "team", "-r", "alice")
        assert "already exists" in c.fail("creategroup", "-c", "1", "-n", "team")
        alice = ApiClient(c.nodes[0].port)
        status, body, _ = alice.login("alice", "alice_pw")
        assert status == 200, body
        alice.uid = body["user_id"]
        groups = ok(alice, "GET", "/api/v1/groups")["groups"]
        assert [m["display_name"] for m in groups[0]["members"]] == ["bob"]
        folder = folder_with_group(alice, g["id"])
        assert f"permissions of folder {folder}" in c.fail("deletegroup", "-c", "1", "-n", "team")
        r = c.json("createresource", "-c", "1", "-n", "room", "-d", "Room", "-e", "r@example.com")
        assert ok(alice, "GET", "/api/v1/resources")["resources"] == [r]
        assert alice.request("GET", "/api/v1/files?folder=4")[1]["error"]["code"] != "ACC-0403"
        token = base64.b64encode(b"alice:alice_pw").decode()
        conn = http.client.HTTPConnection("127.0.0.1", c.nodes[0].port, timeout=30)
        # (OPTIONS /dav/ answers without a login: Windows and macOS probe it)
        conn.request("PROPFIND", "/dav/", headers={"Authorization": f"Basic {token}",
                                                   "Depth": "0"})
        assert conn.getresponse().status == 403  # files-only: no webdav
        conn.close()
    finally:
        c.stop()
