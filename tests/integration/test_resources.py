# SPDX-License-Identifier: MIT
# Resources (rooms, equipment): the tandemctl verbs and the admin API store them per context,
# /api/v1/resources lists them for the context's users, read-only. Booking is the calendar's.
import pytest

from cluster_setup import login, provision
from provisioning import ApiClient, Cluster


@pytest.fixture
def cluster(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node()
    provision(c, workdir, users=("alice",))
    c.ok("createcontext", "-c", "2", "-q", "0", "-L", "ctx2", "-u", "admin2", "-d", "A2",
         "-g", "A", "-s", "B", "-p", "admin2_pw", "-e", "a2@example.com")
    yield c
    c.stop()


def test_resource_verbs(cluster):
    c = cluster
    room = c.json("createresource", "-c", "1", "-n", "room-1", "-d", "Room 1",
                  "-e", "room1@example.com", "-D", "12 seats, projector")
    assert room == {"id": room["id"], "name": "room-1", "display_name": "Room 1",
                    "email": "room1@example.com", "description": "12 seats, projector",
                    "available": True}
    beamer = c.json("createresource", "-c", "1", "-n", "beamer", "-d", "Beamer",
                    "-e", "beamer@example.com", "--available", "false",
                    user="oxadmin", password="admin_pw")
    assert beamer["available"] is False and beamer["description"] == ""
    changed = c.json("changeresource", "-c", "1", "-n", "beamer", "--available", "true",
                     "--newname", "projector", "-D", "HD")
    assert (changed["id"], changed["name"], changed["available"], changed["description"]) == \
        (beamer["id"], "projector", True, "HD")
    text = c.ok("listresource", "-c", "1").stdout
    assert "room-1" in text and "projector" in text and "room1@example.com" in text
    assert [r["name"] for r in c.json("listresource", "-c", "1")["resources"]] == \
        ["room-1", "projector"]
    assert c.json("listresource", "-c", "2")["resources"] == []
    out = c.ok("deleteresource", "-c", "1", "-n", "room-1").stdout
    assert f"resource {room['id']} deleted from context 1" in out
    assert [r["name"] for r in c.json("listresource", "-c", "1")["resources"]] == ["projector"]


def test_resource_errors(cluster):
    c = cluster
    c.ok("createresource", "-c", "1", "-n", "room", "-d", "Room", "-e", "room@example.com")
    assert "already has name \"room\"" in c.fail(
        "createresource", "-c", "1", "-n", "room", "-d", "R", "-e", "other@example.com")
    assert "already has email \"room@example.com\"" in c.fail(
        "createresource", "-c", "1", "-n", "room2", "-d", "R", "-e", "room@example.com")
    assert "email must be an address with '@'" in c.fail(
        "createresource", "-c", "1", "-n", "x", "-d", "X", "-e", "nowhere")
    assert "missing required option -e" in c.fail(
        "createresource", "-c", "1", "-n", "x", "-d", "X", code=2)
    assert "--available" in c.fail("changeresource", "-c", "1", "-n", "room",
                                   "--available", "maybe", code=2)
    assert "no resource named 'ghost'" in c.fail("deleteresource", "-c", "1", "-n", "ghost")
    assert "does not exist in context 1" in c.fail("changeresource", "-c", "1", "-i", "999",
                                                   "-d", "X")
    # the admin of context 2 may not manage context 1's resources
    assert "context 1" in c.fail("listresource", "-c", "1", user="admin2",
                                 password="admin2_pw")
    assert len(c.json("listresource", "-c", "1")["resources"]) == 1


def test_users_list_resources_read_only(cluster):
    c = cluster
    r = c.json("createresource", "-c", "1", "-n", "room", "-d", "Room", "-e", "room@example.com")
    alice = login(c, "alice")
    st, body, _ = alice.request("GET", "/api/v1/resources")
    assert st == 200 and body == {"resources": [r]}, body
    st, _, _ = alice.request("POST", "/api/v1/resources", {"name": "mine"})
    assert st == 405
    assert ApiClient(c.nodes[0].port).request("GET", "/api/v1/resources")[0] == 401
