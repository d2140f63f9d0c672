# SPDX-License-Identifier: MIT
# The global address book (/api/v1/contacts/directory, and the directory hits of
# /api/v1/contacts?q=) on two nodes sharing a configdb and Redis: it follows a user's creation,
# rename and deletion on both nodes at once, searches by substring and prefix, shows what a
# user publishes, renders vCard 4.0, and refuses every write.
from urllib.parse import quote

import pytest

from cluster_setup import login, start_cluster
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)

DIR = "/api/v1/contacts/directory"


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, users=("alice", "bob"))
    yield c
    c.stop()


def ok(api, method, path, body=None, status=200, **kw):
    st, answer, resp = api.request(method, path, body, **kw)
    assert st == status, (method, path, st, answer)
    return answer


def logins(api, q="", extra=""):
    body = ok(api, "GET", f"{DIR}?q={quote(q)}{extra}")
    assert all(e["directory"] is True and e["read_only"] is True for e in body["entries"])
    return [e["login"] for e in body["entries"]], body


def test_directory_follows_users_on_every_node(cluster):
    c = cluster
    a = login(c, "alice", node=0)
    b = login(c, "bob", node=1)
    # both nodes hold a snapshot now
    names, first = logins(a)
    assert names == ["oxadmin", "alice", "bob"]  # by display name: Admin, alice, bob
    assert set(logins(b)[0]) == {"oxadmin", "alice", "bob"}

    created = c.json("createuser", "-c", "1", "-u", "zed", "-d", "Zed Zebra", "-g", "Zed",
                     "-s", "Zebra", "-p", "zed_pw", "-e", "zed@example.com")
    # at once on both nodes: every answer reads the directory's revision first
    for api in (a, b):
        names, body = logins(api, "zebra")
        assert names == ["zed"], body
        assert body["revision"] > first["revision"]
        e = body["entries"][0]
        assert e["display_name"] == "Zed Zebra" and e["email"] == "zed@example.com"
        assert e["id"] == created["id"]

    c.ok("changeuser", "-c", "1", "-u", "zed", "--displayname", "Zoe Quagga")
    for api in (a, b):
        assert logins(api, "zebra")[0] == ["zed"]  # the sur name still says Zebra
        assert logins(api, "quagga")[0] == ["zed"]
        entry = ok(api, "GET", f"{DIR}/{created['id']}")
        assert entry["display_name"] == "Zoe Quagga"
        assert logins(api, "zed zebra")[0] == []

    c.ok("deleteuser", "-c", "1", "-u", "zed")
    for api in (a, b):
        assert logins(api, "zed")[0] == []
        err = ok(api, "GET", f"{DIR}/{created['id']}", status=404)
        assert err["error"]["code"] == "CON-0404"


def test_search_publish_vcard_and_read_only(cluster):
    c = cluster
    for login_, name in (("carol", "Carol Smith"), ("dan", "Daniel Carolson")):
        c.ok("createuser", "-c", "1", "-u", login_, "-d", name, "-g", "G", "-s", "S", "-p",
             f"{login_}_pw", "-e", f"{login_}@corp.example")
    a = login(c, "alice", node=0)
    b = login(c, "bob", node=1)
    # substring (the default) and prefix (a word or field start)
    assert logins(a, "arol")[0] == ["carol", "dan"]
    assert logins(a, "carol", "&match=prefix")[0] == ["carol", "dan"]
    assert logins(a, "arol", "&match=prefix")[0] == []
    assert logins(a, "CORP.EXAMPLE")[0] == ["carol", "dan"]
    names, body = logins(a, "", "&limit=2")
    assert len(names) == 2 and body["more"] is True
    assert ok(a, "GET", f"{DIR}?match=fuzzy", status=400)["error"]["code"] == "CON-0400"
    assert ok(a, "GET", f"{DIR}?q={'x' * 129}", status=400)["error"]["code"] == "CON-0400"

    # /api/v1/contacts?q= answers the directory too: alone without a folder, beside the folder's
    hits = ok(a, "GET", "/api/v1/contacts?q=carol")
    assert hits["contacts"] == [] and [e["login"] for e in hits["directory"]] == ["carol", "dan"]
    folders = ok(a, "GET", "/api/v1/folders?parent=1")["folders"]
    book = [f["id"] for f in folders if f.get("module") == "contacts" and f.get("default")][0]
    ok(a, "POST", f"/api/v1/contacts?folder={book}", {"fn": "Carol Private"}, status=201)
    both = ok(a, "GET", f"/api/v1/contacts?folder={book}&q=carol")
    assert [x["fn"] for x in both["contacts"]] == ["Carol Private"]
    assert [e["login"] for e in both["directory"]] == ["carol", "dan"]
    assert "directory" not in ok(a, "GET", f"/api/v1/contacts?folder={book}")
    # the user search of the sharing dialog reads the same directory
    assert [u["login"] for u in ok(a, "GET", "/api/v1/users?q=arol")["users"]] == \
        ["carol", "dan"]

    # what a user publishes shows on the other node, in JSON and in the vCard
    me = ok(a, "PUT", f"{DIR}/me", {"phone": "+49 30 1234", "org": "Analytical Engines"})
    assert me["phone"] == "+49 30 1234" and me["login"] == "alice"
    entry = ok(b, "GET", f"{DIR}/{me['id']}")
    assert entry["org"] == "Analytical Engines" and entry["phone"] == "+49 30 1234"
    st, text, resp = b.request("GET", f"{DIR}/{me['id']}?format=vcf")
    assert st == 200 and resp.getheader("Content-Type").startswith("text/vcard")
    text = text.decode() if isinstance(text, bytes) else text
    assert "VERSION:4.0\r\n" in text and "ORG:Analytical Engines\r\n" in text
    assert "TEL:+49 30 1234\r\n" in text and "EMAIL:alice@example.com\r\n" in text
    assert resp.getheader("ETag") == f"\"{entry['etag']}\""
    assert ok(a, "PUT", f"{DIR}/me", {"phone": None})["phone"] == ""
    for bad, word in (({"phone": "call me"}, "phone"), ({"org": "a\u0001"}, "org"),
                      ({"title": "x"}, "unknown member")):
        err = ok(a, "PUT", f"{DIR}/me", bad, status=400)
        assert err["error"]["code"] == "CON-0400" and word in err["error"]["message"], err
    assert ok(b, "GET", f"{DIR}/{me['id']}")["org"] == "Analytical Engines"

    # read-only: no create, change or delete of entries
    for method, path in (("POST", DIR), ("PUT", f"{DIR}/{me['id']}"),
                         ("DELETE", f"{DIR}/{me['id']}")):
        err = ok(a, method, path, {"fn": "x"}, status=405)
        assert err["error"]["code"] == "CON-0405" and "read-only" in err["error"]["message"]
    assert ok(b, "GET", f"{DIR}/{me['id']}")["login"] == "alice"


def test_disabled_users_and_unauthenticated(cluster):
    c = cluster
    a = login(c, "alice", node=0)
    assert "bob" in logins(a)[0]
    c.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "left")
    assert "bob" not in logins(a)[0]
    from provisioning import ApiClient
    anon = ApiClient(c.nodes[1].port)
    assert anon.request("GET", DIR)[0] == 401
