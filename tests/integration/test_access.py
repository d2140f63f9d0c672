# SPDX-License-Identifier: MIT
# Module access (docs/provisioning.md "Module access"): OX's --access-combination-name on
# createcontext, createuser and changeuser, with the named sets in tandemd's [access NAME]
# sections; a user without a module gets 403 naming it on the JSON API and DAV, on every node
# at once after a change. Two nodes with Redis.
import base64
import http.client
import json
import subprocess

import pytest

from cluster_setup import start_cluster, wait_for
from conftest import TANDEMD, free_port, write_config
from dav_client import put_expecting_continue
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from provisioning import ApiClient

ACCESS = ("\n[access files-only]\nmodules = files\n"
          "[access web]\nmodules = webui, calendar\n"
          "[access dav]\nmodules = files webdav\n")


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, extra=ACCESS, users=())
    # the seed's spelling: --access-combination-name=NAME
    c.ok("createcontext", "-c", "2", "-q", "0", "-L", "ctx2", "-u", "admin2", "-d", "A2",
         "-g", "A", "-s", "B", "-p", "admin2_pw", "-e", "a2@example.com",
         "--access-combination-name=files-only")
    for login, access in (("alice", None), ("bob", "web"), ("carol", "dav")):
        args = ["createuser", "-c", "2", "-u", login, "-d", login, "-g", "G", "-s", "S",
                "-p", f"{login}_pw", "-e", f"{login}@example.com"]
        c.ok(*args, *(["--access-combination-name", access] if access else []))
    yield c
    c.stop()


def login(c, name, node=0):
    api = ApiClient(c.nodes[node].port)
    status, body, _ = api.login(f"{name}@ctx2", f"{name}_pw")
    assert status == 200, body
    return api


def dav(port, name, method="OPTIONS"):
    token = base64.b64encode(f"{name}@ctx2:{name}_pw".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, "/dav/files/home/", headers={"Authorization": f"Basic {token}"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def refused(status_body, module):
    status, body = status_body[0], status_body[1]
    assert status == 403, (status, body)
    if isinstance(body, bytes):
        assert f'module \\"{module}\\"'.encode() in body or f'"{module}"'.encode() in body, body
    else:
        assert body["error"]["code"] == "ACC-0403", body
        assert f'module "{module}"' in body["error"]["message"], body


def allowed(answer):
    """Not refused for the module (folder 4 itself may still be out of reach: 403 FLD-…)."""
    status, body = answer[0], answer[1]
    assert status != 403 or body["error"]["code"] != "ACC-0403", body


def test_users_get_their_combination_or_the_contexts(cluster):
    c = cluster
    users = {u["login"]: u for u in c.json("listuser", "-c", "2")["users"]}
    assert users["alice"]["access_combination"] is None  # the context's: files-only
    assert users["bob"]["access_combination"] == "web"
    alice, bob = login(c, "alice"), login(c, "bob", node=1)
    files = "/api/v1/files?folder=4"
    allowed(alice.request("GET", files))
    refused(bob.request("GET", files), "files")
    refused(bob.request("PUT", "/api/v1/files?folder=4&name=x.txt", raw=b"x"), "files")
    # what no module gates stays open
    assert bob.request("GET", "/api/v1/folders")[0] == 200
    assert bob.request("GET", "/api/v1/groups")[0] == 200
    # DAV: webdav is in carol's combination only
    refused(dav(c.nodes[0].port, "alice"), "webdav")
    refused(dav(c.nodes[1].port, "bob"), "webdav")
    assert dav(c.nodes[1].port, "carol")[0] == 200
    # context 1 has no combination: every module
    c.ok("createuser", "-c", "1", "-u", "dora", "-d", "D", "-g", "G", "-s", "S", "-p", "dora_pw",
         "-e", "d@example.com")
    token = base64.b64encode(b"dora:dora_pw").decode()
    conn = http.client.HTTPConnection("127.0.0.1", c.nodes[0].port, timeout=30)
    # (OPTIONS /dav/ answers without a login: Windows and macOS probe it)
    conn.request("PROPFIND", "/dav/", headers={"Authorization": f"Basic {token}",
                                               "Depth": "0"})
    assert conn.getresponse().status == 207
    conn.close()


def test_a_put_without_webdav_is_refused_before_its_body(cluster):
    # the PUT's head step checks the module: no 100 Continue, nothing read, both while the
    # login is checked on a worker (first) and from the caches (second)
    port = cluster.nodes[0].port
    bodies = []
    for _ in range(2):
        got, status, body = put_expecting_continue(port, "/dav/files/home/x.bin",
                                                   b"x" * (2 * 1024 * 1024), "alice@ctx2")
        assert (got, status) == (False, 403), body
        refused((status, body), "webdav")
        bodies.append(json.loads(body))
    # both steps give the refusal every module check gives
    assert bodies[0] == bodies[1] == {"error": {
        "code": "ACC-0403",
        "message": 'module "webdav" is not in the access combination of user alice'}}, bodies
    got, status, _ = put_expecting_continue(port, "/dav/files/home/x.bin", b"x", "carol@ctx2")
    assert (got, status) == (True, 201)


def test_a_change_applies_at_once_on_every_node(cluster):
    c = cluster
    # carol's DAV credentials and modules are cached on node 2
    for _ in range(3):
        assert dav(c.nodes[1].port, "carol")[0] == 200
    bob = login(c, "bob", node=1)
    # through node 1: carol loses webdav, bob gains files (his sessions end: log in again)
    c.ok("changeuser", "-c", "2", "-u", "carol", "--access-combination-name", "files-only")
    refused(dav(c.nodes[1].port, "carol"), "webdav")
    c.ok("changeuser", "-c", "2", "-u", "bob", "--access-combination-name", "dav")
    wait_for("bob's session to end", lambda: bob.request("GET", "/api/v1/session")[0] == 401)
    bob = login(c, "bob", node=1)
    allowed(bob.request("GET", "/api/v1/files?folder=4"))
    assert dav(c.nodes[1].port, "bob")[0] == 200
    # "" goes back to the context's combination
    c.ok("changeuser", "-c", "2", "-u", "bob", "--access-combination-name", "")
    users = {u["login"]: u for u in c.json("listuser", "-c", "2")["users"]}
    assert users["bob"]["access_combination"] is None
    refused(dav(c.nodes[1].port, "bob"), "webdav")


def test_unknown_combination_is_a_clear_error_and_creates_nothing(cluster):
    c = cluster
    before = c.json("listuser", "-c", "2")
    for args in (["createuser", "-c", "2", "-u", "eve", "-d", "E", "-g", "G", "-s", "S",
                  "-p", "eve_pw", "-e", "e@example.com"],
                 ["changeuser", "-c", "2", "-u", "alice"]):
        r = c.ctl(*args, "--access-combination-name", "nope")
        assert r.returncode == 1, r.stderr
        assert 'access combination "nope" is not defined' in r.stderr, r.stderr
        assert "dav" in r.stderr and "files-only" in r.stderr  # the defined ones
    assert c.json("listuser", "-c", "2") == before
    r = c.ctl("createcontext", "-c", "3", "-q", "0", "-u", "a3", "-d", "A", "-g", "A", "-s",
              "B", "-p", "pw", "-e", "a@example.com", "--access-combination-name", "nope")
    assert r.returncode == 1 and '"nope" is not defined' in r.stderr, r.stderr
    assert [x["id"] for x in c.json("listcontext")["contexts"]] == [1, 2]


@pytest.mark.parametrize("text,line,message", [
    ("[access x]\nmodules = files, fax\n", 5,
     '[access x] modules: unknown module "fax"'),
    ("[access bad name!]\nmodules = files\n", 5, "access combination name is 1-64"),
    ("[access none]\nfoo = 1\n", 5, "unknown key"),
])
def test_check_config_refuses_bad_combinations(workdir, text, line, message):
    conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{free_port()}\n"
                                 f"data_dir = {workdir}/data\n" + text)
    r = subprocess.run([TANDEMD, "--check-config", "--config", conf], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert f"{conf}:" in r.stderr and message in r.stderr, r.stderr


def test_changing_the_contexts_combination_ends_its_sessions(cluster):
    c = cluster
    alice = login(c, "alice", node=1)  # the context's files-only
    refused(dav(c.nodes[1].port, "alice"), "webdav")
    c.ok("changecontext", "-c", "2", "--access-combination-name", "dav")
    wait_for("alice's session to end", lambda: alice.request("GET", "/api/v1/session")[0] == 401)
    assert dav(c.nodes[1].port, "alice")[0] == 200  # node 2's cache was dropped
    assert dav(c.nodes[1].port, "bob")[0] == 403  # his own combination stays
    r = c.ctl("changecontext", "-c", "2", "--access-combination-name", "nope")
    assert r.returncode == 1 and '"nope" is not defined' in r.stderr, r.stderr
    c.ok("changecontext", "-c", "2", "--access-combination-name", "")  # all
    assert dav(c.nodes[0].port, "alice")[0] == 200


def test_folder_listings_and_import_follow_the_modules(cluster, workdir):
    import glob

    from provisioning import sqlite_rows
    c = cluster
    alice, bob = login(c, "alice"), login(c, "bob", node=1)  # files only; webui + calendar

    def modules(api, parent):
        status, body, _ = api.request("GET", f"/api/v1/folders?parent={parent}")
        assert status == 200, body
        return {f["module"] for f in body["folders"]}

    assert modules(alice, 1) & {"calendar", "tasks", "contacts"} == set()
    assert modules(bob, 1) & {"calendar", "tasks", "contacts"} == {"calendar"}
    assert "infostore" not in modules(bob, 4) and "infostore" in modules(alice, 4)
    # a user with every module still sees them all (context 1)
    c.ok("createuser", "-c", "1", "-u", "erin", "-d", "E", "-g", "G", "-s", "S", "-p",
         "erin_pw", "-e", "e@example.com")
    erin = ApiClient(c.nodes[0].port)
    assert erin.login("erin", "erin_pw")[0] == 200
    assert {"calendar", "tasks", "contacts"} <= modules(erin, 1)

    # import and export check the module of the folder (its default folders, found in SQL)
    (udb,) = [p for p in glob.glob(f"{workdir}/u/*.sqlite")
              if sqlite_rows(p, "SELECT COUNT(*) FROM users WHERE cid=2")[0][0] > 0]

    def default(login_, module):
        return sqlite_rows(udb, "SELECT f.id FROM folder f JOIN users u ON u.cid=f.cid AND "
                                "u.id=f.owner WHERE f.cid=2 AND u.login=? AND f.default_for=?",
                           (login_, module))[0][0]

    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a1\r\n"
           "DTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n").encode()
    vcf = b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:C\r\nEND:VCARD\r\n"
    cal, book = default("alice", "calendar"), default("alice", "contacts")
    refused(alice.request("POST", f"/api/v1/folders/{cal}/import", raw=ics,
                          headers={"Content-Type": "text/calendar"}), "calendar")
    refused(alice.request("GET", f"/api/v1/folders/{cal}/export"), "calendar")
    refused(alice.request("POST", f"/api/v1/folders/{book}/import", raw=vcf,
                          headers={"Content-Type": "text/vcard"}), "contacts")
    refused(alice.request("GET", f"/api/v1/folders/{default('alice', 'tasks')}/export"),
            "tasks")
    assert sqlite_rows(udb, "SELECT COUNT(*) FROM cal_object WHERE cid=2")[0][0] == 0
    bcal = default("bob", "calendar")
    status, body, _ = bob.request("POST", f"/api/v1/folders/{bcal}/import", raw=ics,
                                  headers={"Content-Type": "text/calendar"})
    assert status == 200 and body["created"] == 1, body
    status, text, _ = bob.request("GET", f"/api/v1/folders/{bcal}/export")
    assert status == 200 and b"UID:a1" in (text if isinstance(text, bytes) else text.encode())
    refused(bob.request("GET", f"/api/v1/folders/{default('bob', 'contacts')}/export"),
            "contacts")


def test_the_web_ui_needs_the_webui_module(cluster):
    """The web UI logs in as client "tandem-webui": without the webui module that login is
    refused (403 naming the module, no session made); other clients still log in, and every
    session says which modules it may use, so the web UI shows only those views."""
    c = cluster
    api = ApiClient(c.nodes[0].port)
    status, body, _ = api.login("alice@ctx2", "alice_pw", client="tandem-webui")
    refused((status, body), "webui")
    assert api.session is None
    status, body, _ = api.login("alice@ctx2", "alice_pw")
    assert status == 200 and body["modules"] == ["files"], body
    bob = ApiClient(c.nodes[1].port)
    status, body, _ = bob.login("bob@ctx2", "bob_pw", client="tandem-webui")
    assert status == 200 and sorted(body["modules"]) == ["calendar", "webui"], body
    status, info, _ = bob.request("GET", "/api/v1/session")
    assert status == 200 and sorted(info["modules"]) == ["calendar", "webui"], info
