# SPDX-License-Identifier: MIT
# Folder names and folders for use in the mail API (docs/mail.md "Folders"): UTF-8 names in
# the API that are modified UTF-7 on the IMAP side, bad names refused, and Trash, Sent and
# Drafts found by their SPECIAL-USE flags on a server whose folders have German names.
import urllib.parse

import pytest

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import Cluster
from test_mail import client, get, mail_section, message, provision
from test_mail_send import fetch_all, send

F = "/api/v1/mail/folders"
ENTW = "Entw\u00fcrfe 2026"
TAIPEI = "\u53f0\u5317"


def q(name):
    return urllib.parse.quote(name, safe="")


def make_world(workdir, ms):
    extra = mail_section(ms, f"smtp_url = {ms.smtp_url}\n")
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=extra)
    provision(c, workdir, (("alice", None), ("bob", None)))
    c.mail = ms
    return c


@pytest.fixture
def world(workdir, mail_system):  # noqa: F811
    c = make_world(workdir, mail_system)
    yield c
    c.stop()


@pytest.fixture
def world_de(workdir, start_mail_system):  # noqa: F811
    c = make_world(workdir, start_mail_system(special_use="de"))
    yield c
    c.stop()


def request(api, method, path, body=None, expect=204):
    status, data, _ = api.request(method, path, body)
    assert status == expect, (method, path, status, data)
    return data


def folders(api):
    return {f["name"]: f for f in get(api, F)[0]["folders"]}


def server_names(ms, user):
    """The folder names as the IMAP server lists them (modified UTF-7)."""
    m = ms.imap(user)
    try:
        typ, data = m.list('""', "*")
        assert typ == "OK", data
        return {line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in data}
    finally:
        m.logout()


def test_utf8_folder_names(world):
    ms = world.mail
    alice = client(world, "alice")
    for name in (ENTW, TAIPEI):
        assert request(alice, "POST", F, {"name": name}, expect=201) == {"name": name}
    fl = folders(alice)
    assert fl[ENTW]["subscribed"] and fl[TAIPEI]["total"] == 0, fl
    raw = server_names(ms, "alice")
    assert "Entw&APw-rfe 2026" in raw and "&U,BTFw-" in raw, raw
    # a message moved into a UTF-8 folder, listed by ?folder= with the UTF-8 name
    ms.deliver("alice", message("to taipei"))
    page, _ = get(alice, "/api/v1/mail/messages?folder=INBOX")
    uid = page["messages"][0]["uid"]
    request(alice, "POST", f"/api/v1/mail/messages/INBOX/{uid}/move", {"to": TAIPEI})
    page, _ = get(alice, f"/api/v1/mail/messages?folder={q(TAIPEI)}")
    assert page["folder"] == TAIPEI and page["total"] == 1, page
    moved = page["messages"][0]
    assert moved["subject"] == "to taipei", page
    read, _ = get(alice, f"/api/v1/mail/messages/{q(TAIPEI)}/{moved['uid']}")
    assert read["folder"] == TAIPEI, read
    assert folders(alice)[TAIPEI]["total"] == 1
    # the IMAP side has it in the modified UTF-7 folder
    assert [m[2]["Subject"] for m in fetch_all(ms, "alice", "&U,BTFw-")] == ["to taipei"]
    # copy, then search in the UTF-8 folder
    data = request(alice, "POST", f"/api/v1/mail/messages/{q(TAIPEI)}/{moved['uid']}/copy",
                   {"to": ENTW}, expect=201)
    assert data["folder"] == ENTW, data
    page, _ = get(alice, f"/api/v1/mail/messages?folder={q(ENTW)}&q=taipei")
    assert page["total"] == 1, page
    # rename both ways, emoji beyond the BMP
    mail = "\U0001f4e7 Post"
    request(alice, "PATCH", F + "/" + q(TAIPEI), {"name": mail})
    fl = folders(alice)
    assert TAIPEI not in fl and fl[mail]["total"] == 1 and fl[mail]["subscribed"], fl
    assert "&2D3c5w- Post" in server_names(ms, "alice")
    request(alice, "PATCH", F + "/" + q(mail), {"subscribed": False})
    assert folders(alice)[mail]["subscribed"] is False
    request(alice, "DELETE", F + "/" + q(mail))
    request(alice, "DELETE", F + "/" + q(ENTW))
    fl = folders(alice)
    assert mail not in fl and ENTW not in fl, fl
    assert not {"&2D3c5w- Post", "Entw&APw-rfe 2026"} & server_names(ms, "alice")
    # a name with "&" is "&-" on the wire
    request(alice, "POST", F, {"name": "Tom & Jerry-x"}, expect=201)
    assert "Tom &- Jerry-x" in server_names(ms, "alice")
    assert "Tom & Jerry-x" in folders(alice)


def test_bad_folder_names(world):
    alice = client(world, "alice")
    for name, words in (("a\tb", "control character"), ("a\x7fb", "control character"),
                        ("a*b", "* %"), ("50%", "* %"), ("/lead", "hierarchy delimiter"),
                        ("trail/", "hierarchy delimiter"), ("a//b", "hierarchy delimiter"),
                        ("x" * 201, "longer than 200")):
        data = request(alice, "POST", F, {"name": name}, expect=400)
        assert words in data["error"]["message"], (name, data)
        assert "name" in data["error"]["message"], data
    request(alice, "POST", F, {"name": "\u00e4" + "x" * 199}, expect=201)  # characters, not bytes
    for path in ("/api/v1/mail/messages?folder=%C3%28", "/api/v1/mail/messages/%FF/1"):
        data, _ = get(alice, path, expect=400)
        assert "not valid UTF-8" in data["error"]["message"], data
    data = request(alice, "DELETE", F + "/%ED%A0%80", expect=400)  # a UTF-16 surrogate
    assert "not valid UTF-8" in data["error"]["message"], data
    # a name the server does not have: 404 as before
    request(alice, "DELETE", F + "/" + q("N\u00f6pe"), expect=404)


def test_special_use_folders_listed(world):
    alice = client(world, "alice")
    fl = folders(alice)
    assert fl["Trash"]["special_use"] == "trash", fl
    assert fl["Sent"]["special_use"] == "sent", fl
    assert fl["Drafts"]["special_use"] == "drafts", fl
    assert fl["INBOX"]["special_use"] is None, fl


def test_special_use_by_flag_not_name(world_de):
    ms = world_de.mail
    trash, sent, drafts = "Gel\u00f6schte Elemente", "Gesendete Elemente", "Entw\u00fcrfe"
    alice = client(world_de, "alice")
    fl = folders(alice)
    assert {fl[trash]["special_use"], fl[sent]["special_use"], fl[drafts]["special_use"]} == \
        {"trash", "sent", "drafts"}, fl
    # DELETE moves to the \Trash folder; DELETE there removes for good
    ms.deliver("alice", message("to delete"))
    page, _ = get(alice, "/api/v1/mail/messages?folder=INBOX")
    request(alice, "DELETE", f"/api/v1/mail/messages/INBOX/{page['messages'][0]['uid']}")
    page, _ = get(alice, f"/api/v1/mail/messages?folder={q(trash)}")
    assert [m["subject"] for m in page["messages"]] == ["to delete"], page
    request(alice, "DELETE", f"/api/v1/mail/messages/{q(trash)}/{page['messages'][0]['uid']}")
    assert get(alice, f"/api/v1/mail/messages?folder={q(trash)}")[0]["total"] == 0
    # a sent message's copy lands in the \Sent folder
    answer = send(alice, {"to": ["bob@example.com"], "subject": "hallo", "text": "x"})
    assert answer["sent_copy"]["folder"] == sent, answer
    copies = fetch_all(ms, "alice", '"Gesendete Elemente"')
    assert [m[2]["Subject"] for m in copies] == ["hallo"], copies
    # a failed send's draft lands in the \Drafts folder
    answer = send(alice, {"to": ["nobody@example.com"], "subject": "entwurf", "text": "x"},
                  expect=502)
    assert answer["draft"]["folder"] == drafts, answer
    assert drafts in answer["error"]["message"], answer
    kept = fetch_all(ms, "alice", "Entw&APw-rfe")
    assert [m[2]["Subject"] for m in kept] == ["entwurf"], kept
    # a saved draft too; and no folder was made under the fallback names
    saved = request(alice, "POST", "/api/v1/mail/drafts",
                    {"to": ["bob@example.com"], "subject": "later", "text": "y"}, expect=201)
    assert saved["folder"] == drafts, saved
    assert not {"Trash", "Sent", "Drafts"} & set(folders(alice)), folders(alice)
