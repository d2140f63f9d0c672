# SPDX-License-Identifier: MIT
# The calls the web UI added to /api/v1 (docs/api.md "Users" and "Password"): finding users of
# my context for the share dialog and invitations (read-only, with the e-mail but no flags, never another context's users), and
# changing my own password (current password checked and throttled like a login; every
# session of mine ends, on every node), and the list of my sessions (without their ids).
import json

import pytest

from cluster_setup import login, start_cluster, wait_for
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from provisioning import ApiClient


@pytest.fixture
def world(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, nodes=2, users=("alice", "bob", "bobby"))
    c.ok("createcontext", "-c", "2", "-q", "0", "-L", "ctx2", "-u", "oxadmin", "-d", "Admin",
         "-g", "A", "-s", "D", "-p", "admin_pw", "-e", "a2@example.com")
    c.ok("createuser", "-c", "2", "-u", "bobother", "-d", "Bob Other", "-g", "G", "-s", "S",
         "-p", "x_pw", "-e", "bo@example.com")
    yield c
    c.stop()


def test_users_search_and_get(world):
    alice = login(world, "alice")
    status, body, _ = alice.request("GET", "/api/v1/users?q=BOB")
    assert status == 200, body
    logins = sorted(u["login"] for u in body["users"])
    assert logins == ["bob", "bobby"], body  # not ctx2's bobother
    for u in body["users"]:
        assert set(u) == {"id", "login", "display_name", "email"}, u
    assert next(u for u in body["users"] if u["login"] == "bob")["email"] == "bob@example.com", body
    bob = next(u for u in body["users"] if u["login"] == "bob")
    status, one, _ = alice.request("GET", f"/api/v1/users/{bob['id']}")
    assert status == 200 and one == bob, one
    assert alice.request("GET", "/api/v1/users?q=nobody-like-this")[1] == {"users": []}
    status, body, _ = alice.request("GET", "/api/v1/users")
    assert status == 400 and body["error"]["code"] == "USR-0400", body
    status, body, _ = alice.request("GET", "/api/v1/users/999999")
    assert status == 404 and body["error"]["code"] == "USR-0404", body
    # a disabled user is not offered
    world.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "left")
    logins = [u["login"] for u in alice.request("GET", "/api/v1/users?q=bob")[1]["users"]]
    assert logins == ["bobby"], logins
    # without a session: nothing
    anon = ApiClient(world.nodes[0].port)
    status, body, _ = anon.request("GET", "/api/v1/users?q=bob")
    assert status == 401, body
    status, body, _ = anon.request("POST", "/api/v1/password",
                                   {"current": "alice_pw", "password": "x"})
    assert status == 401, body


def test_password_change_ends_sessions_everywhere(world):
    here = login(world, "alice", node=0)
    elsewhere = login(world, "alice", node=1)
    bob = login(world, "bob", node=1)
    status, body, _ = here.request("POST", "/api/v1/password",
                                   {"current": "wrong", "password": "new-secret-1"})
    assert status == 401 and body["error"]["code"] == "SES-0401", body
    status, body, _ = here.request("POST", "/api/v1/password", {"current": "alice_pw"})
    assert status == 400 and body["error"]["code"] == "PWD-0400", body
    status, body, _ = here.request("POST", "/api/v1/password",
                                   {"current": "alice_pw", "password": ""})
    assert status == 400 and "password" in body["error"]["message"], body
    assert elsewhere.request("GET", "/api/v1/session")[0] == 200  # nothing changed yet

    status, body, _ = here.request("POST", "/api/v1/password",
                                   {"current": "alice_pw", "password": "new-secret-1"})
    assert status == 200 and body == {"changed": True}, body
    wait_for("the other node's session to end",
             lambda: elsewhere.request("GET", "/api/v1/session")[0] == 401)
    assert here.request("GET", "/api/v1/session")[0] == 401
    assert bob.request("GET", "/api/v1/session")[0] == 200
    fresh = ApiClient(world.nodes[1].port)
    assert fresh.login("alice", "alice_pw")[0] == 401
    assert fresh.login("alice", "new-secret-1")[0] == 200


def test_password_check_is_throttled(world):
    alice = login(world, "alice")
    codes = []
    for _ in range(6):
        status, body, _ = alice.request("POST", "/api/v1/password",
                                        {"current": "wrong", "password": "n3w-pass"})
        codes.append(body["error"]["code"])
    assert codes[:5] == ["SES-0401"] * 5 and codes[5] == "SES-0429", codes


def test_sessions_list(world):
    here = login(world, "alice", node=0)
    phone = ApiClient(world.nodes[1].port, user_agent="phone/1")
    assert phone.login("alice", "alice_pw", client="davx5", stay=True)[0] == 200
    login(world, "bob", node=1)
    status, body, _ = here.request("GET", "/api/v1/sessions")
    assert status == 200, body
    sessions = body["sessions"]
    assert len(sessions) == 2, sessions
    mine = [s for s in sessions if s["current"]]
    assert len(mine) == 1 and mine[0]["client"] == "test" and mine[0]["route"] == "OX-1", sessions
    other = next(s for s in sessions if not s["current"])
    assert other["client"] == "davx5" and other["staySignedIn"] and other["route"] == "OX-2"
    assert other["ip"] == "127.0.0.1" and other["created"] <= other["last_used"], other
    # no session's id is given away
    text = json.dumps(body)
    assert here.session not in text and phone.session not in text
    # "sign out everywhere" ends them all
    assert here.request("POST", "/api/v1/logout?all=1")[1] == {"ended": 2}
    assert phone.request("GET", "/api/v1/sessions")[0] == 401
