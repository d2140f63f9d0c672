# SPDX-License-Identifier: MIT
# The folder-permission, group and login caches of tandemd: warmed by repeated requests (seen
# on /metrics), and dropped through the invalidation bus by every change, so that revoking a
# share, disabling a user, changing a password, deleting folders or a whole context take
# effect at the very next request although the old answer was cached.

import pytest

from conftest import scrape_metrics
from provisioning import ApiClient, Cluster

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]


def create_user(c, cid, login, password):
    c.ok("createuser", "-c", str(cid), "-u", login, "-d", login, "-g", "G", "-s", "S",
         "-p", password, "-e", f"{login}@example.com")


@pytest.fixture
def cluster(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node()
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login in ("alice", "bob"):
        create_user(c, 1, login, f"{login}_pw")
    yield c
    c.stop()


def metrics(c):
    return scrape_metrics(c.nodes[0].port)


def hits(m, cache):
    return m[f'tandem_cache_hits_total{{cache="{cache}"}}']


def misses(m, cache):
    return m[f'tandem_cache_misses_total{{cache="{cache}"}}']


def published(m, region):
    return m[f'tandem_invalidations_published_total{{region="{region}"}}']


def user(c, login, password=None):
    api = ApiClient(c.nodes[0].port)
    status, body, _ = api.login(login, password or f"{login.split('@')[0]}_pw")
    assert status == 200, body
    api.uid = body["user_id"]
    return api


def ok(api, method, path, body=None, raw=None, status=200):
    st, answer, _ = api.request(method, path, body, raw=raw)
    assert st == status, (method, path, st, answer)
    return answer


def files_folder(api, title, parent=4):
    """A new infostore folder of api's user below parent (the files root by default)."""
    return ok(api, "POST", "/api/v1/folders", {"parent": parent, "title": title,
                                               "module": "infostore"}, status=201)["id"]


def share(api, folder, perms):
    ok(api, "PATCH", f"/api/v1/folders/{folder}", {"permissions": perms})


def read_grant(uid):
    return [{"entity": uid, "group": False, "bits": 257}]  # see the folder, read all


def list_files(api, folder):
    return api.request("GET", f"/api/v1/files?folder={folder}")[0]


def test_hits_rise_under_repeated_gets(cluster):
    alice = user(cluster, "alice")
    folder = files_folder(alice, "Docs")
    assert list_files(alice, folder) == 200
    m0 = metrics(cluster)
    for _ in range(10):
        assert list_files(alice, folder) == 200
    m1 = metrics(cluster)
    # each listing asks for the rights and the module: both answered from the folder cache,
    # the rights with alice's groups from the group cache
    assert hits(m1, "folder") - hits(m0, "folder") >= 20
    assert misses(m1, "folder") == misses(m0, "folder")
    assert hits(m1, "group") - hits(m0, "group") >= 10
    assert m1['tandem_cache_entries{cache="folder"}'] >= 1


def test_revoking_a_share_takes_effect_at_the_next_request(cluster):
    alice, bob = user(cluster, "alice"), user(cluster, "bob")
    folder = files_folder(alice, "Team")
    f = ok(alice, "PUT", f"/api/v1/files?folder={folder}&name=plan.txt", raw=b"the plan",
           status=201)
    share(alice, folder, read_grant(bob.uid))
    m0 = metrics(cluster)
    for _ in range(5):
        assert list_files(bob, folder) == 200
        assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[0] == 200
    m1 = metrics(cluster)
    assert hits(m1, "folder") - hits(m0, "folder") >= 10  # bob's rights come from the cache

    share(alice, folder, [])
    # the very next request: the folder and its file are gone for bob
    assert list_files(bob, folder) == 404
    assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[0] == 404
    assert bob.request("GET", f"/api/v1/files/{f['id']}")[0] == 404
    assert published(metrics(cluster), "folder") > published(m1, "folder")
    assert list_files(alice, folder) == 200
    # and granting again is seen at once too
    share(alice, folder, read_grant(bob.uid))
    assert list_files(bob, folder) == 200
    # a lower grant: bob may see the folder but no longer read others' files
    share(alice, folder, [{"entity": bob.uid, "group": False, "bits": 1}])
    assert list_files(bob, folder) == 403


def test_deleting_folders_and_creating_again(cluster):
    alice, bob = user(cluster, "alice"), user(cluster, "bob")
    top = files_folder(alice, "Projects")
    share(alice, top, [{"entity": bob.uid, "group": False, "bits": 257}])
    sub = files_folder(alice, "Q1", parent=top)  # inherits bob's grant
    for _ in range(3):
        assert list_files(bob, sub) == 200 and list_files(bob, top) == 200
        assert list_files(alice, sub) == 200
    m0 = metrics(cluster)
    ok(alice, "DELETE", f"/api/v1/folders/{top}", status=204)
    m1 = metrics(cluster)
    # the folder, its subfolder and the parent that lost a child
    assert published(m1, "folder") - published(m0, "folder") == 3
    for api in (alice, bob):
        assert list_files(api, sub) == 404 and list_files(api, top) == 404
    # the same titles again: new ids from the context's sequence, no grant for bob this time
    top2 = files_folder(alice, "Projects")
    sub2 = files_folder(alice, "Q1", parent=top2)
    assert {top2, sub2}.isdisjoint({top, sub})
    assert list_files(alice, sub2) == 200
    assert list_files(bob, sub2) == 404 and list_files(bob, top2) == 404
    assert list_files(alice, sub) == 404
    ok(alice, "PUT", f"/api/v1/files?folder={sub2}&name=a.txt", raw=b"a", status=201)
    assert [x["name"] for x in ok(alice, "GET", f"/api/v1/files?folder={sub2}")["files"]] \
        == ["a.txt"]


def test_disabling_a_user_or_changing_the_password_is_seen_at_the_next_login(cluster):
    for _ in range(3):
        user(cluster, "bob")
    m0 = metrics(cluster)
    user(cluster, "bob")
    m1 = metrics(cluster)
    assert hits(m1, "login") - hits(m0, "login") == 1  # the row came from the cache

    cluster.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "on leave")
    status, body, _ = ApiClient(cluster.nodes[0].port).login("bob", "bob_pw")
    assert status == 403 and "on leave" in body["error"]["message"]
    assert published(metrics(cluster), "user") > published(m1, "user")
    cluster.ok("changeuser", "-c", "1", "-u", "bob", "--enable")
    user(cluster, "bob")

    cluster.ok("changeuser", "-c", "1", "-u", "bob", "-p", "new_pw")
    assert ApiClient(cluster.nodes[0].port).login("bob", "bob_pw")[0] == 401
    user(cluster, "bob", "new_pw")
    user(cluster, "bob", "new_pw")

    # deleted, then created again under the same login: a new user with its own password
    old_uid = user(cluster, "bob", "new_pw").uid
    cluster.ok("deleteuser", "-c", "1", "-u", "bob")
    assert ApiClient(cluster.nodes[0].port).login("bob", "new_pw")[0] == 401
    create_user(cluster, 1, "bob", "third_pw")
    assert ApiClient(cluster.nodes[0].port).login("bob", "new_pw")[0] == 401
    assert user(cluster, "bob", "third_pw").uid != old_uid
    # the other users' cached rows were left alone
    for _ in range(2):
        user(cluster, "alice")


def test_a_context_created_again_with_the_same_id_forgets_what_was_cached(cluster):
    """Same cid, same logins, same user and folder ids: nothing cached survives."""
    cluster.ok("createcontext", "-c", "2", "-q", "0", "-L", "other", *ADMIN)
    create_user(cluster, 2, "carol", "carol_pw")
    admin, carol = user(cluster, "oxadmin@other", "admin_pw"), user(cluster, "carol@other")
    folder = files_folder(carol, "Shared")
    share(carol, folder, read_grant(admin.uid))
    for _ in range(3):
        assert list_files(admin, folder) == 200
        user(cluster, "carol@other")
    cluster.ok("deletecontext", "-c", "2")
    cluster.ok("createcontext", "-c", "2", "-q", "0", "-L", "other", *ADMIN)
    create_user(cluster, 2, "carol", "new_carol_pw")
    assert ApiClient(cluster.nodes[0].port).login("carol@other", "carol_pw")[0] == 401
    carol2 = user(cluster, "carol@other", "new_carol_pw")
    admin2 = user(cluster, "oxadmin@other", "admin_pw")
    assert (carol2.uid, admin2.uid) == (carol.uid, admin.uid)
    again = files_folder(carol2, "Shared")
    assert again == folder  # the same id, but this time not shared with the admin
    assert list_files(admin2, again) == 404
    assert list_files(carol2, again) == 200
