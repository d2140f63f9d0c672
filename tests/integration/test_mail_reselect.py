# SPDX-License-Identifier: MIT
# A pooled IMAP connection keeps the folder it examined open between requests and asks NOOP
# instead of EXAMINE again (src/lib-mail/imap-client.c, docs/internals/mail.md "Performance"):
# what other clients change meanwhile still shows (new mail, expunges), a message read after a
# listing is the right one, and a folder renamed or deleted through the API is not read as open.
from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import Cluster
from test_mail import ACCESS, client, get, mail_section, message, provision, send

import pytest


@pytest.fixture
def world(workdir, mail_system):  # noqa: F811
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=ACCESS + mail_section(mail_system))
    provision(c, workdir)
    c.mail = mail_system
    yield c
    c.stop()


def page(api, folder="INBOX"):
    body, _ = get(api, f"/api/v1/mail/messages?folder={folder}&sort=date&order=desc")
    return body["total"], [m["subject"] for m in body["messages"]]


def test_changes_by_others_show_on_the_kept_folder(world):
    ms = world.mail
    for i in range(3):
        ms.deliver("alice", message(f"first {i}", date=f"Mon, 0{i + 1} Jun 2026 10:00:00 +0000"))
    alice = client(world, "alice")
    assert page(alice) == (3, ["first 2", "first 1", "first 0"])
    ms.deliver("alice", message("new one", date="Fri, 05 Jun 2026 10:00:00 +0000"))
    assert page(alice) == (4, ["new one", "first 2", "first 1", "first 0"])
    m = ms.imap("alice")  # another client expunges one
    try:
        m.select("INBOX")
        typ, data = m.uid("SEARCH", "SUBJECT", "\"first 1\"")
        uid = data[0].split()[0].decode()
        assert m.uid("STORE", uid, "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert m.expunge()[0] == "OK"
    finally:
        m.logout()
    assert page(alice) == (3, ["new one", "first 2", "first 0"])
    # expunged and another delivered between two requests: the count alone stays 3
    m = ms.imap("alice")
    try:
        m.select("INBOX")
        typ, data = m.uid("SEARCH", "SUBJECT", "\"first 0\"")
        assert m.uid("STORE", data[0].split()[0].decode(), "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert m.expunge()[0] == "OK"
    finally:
        m.logout()
    ms.deliver("alice", message("newer", date="Sat, 06 Jun 2026 10:00:00 +0000"))
    assert page(alice) == (3, ["newer", "new one", "first 2"])
    newest = get(alice, "/api/v1/mail/messages?folder=INBOX&limit=1")[0]["messages"][0]
    body, _ = get(alice, f"/api/v1/mail/messages/INBOX/{newest['uid']}")
    assert body["subject"] == "newer", body


def test_kept_folder_renamed_or_deleted_through_the_api(world):
    ms = world.mail
    ms.append("alice", "Work", [message("w1")], seen=True)
    ms.append("alice", "Other", [message("o1"), message("o2")], seen=True)
    alice = client(world, "alice")
    assert page(alice, "Work") == (1, ["w1"])
    send(alice, "PATCH", "/api/v1/mail/folders/Work", {"name": "Done"})
    get(alice, "/api/v1/mail/messages?folder=Work", expect=404)
    assert page(alice, "Done") == (1, ["w1"])
    send(alice, "DELETE", "/api/v1/mail/folders/Done", None)
    get(alice, "/api/v1/mail/messages?folder=Done", expect=404)
    assert page(alice, "Other")[0] == 2


def test_kept_order_follows_the_sort_asked(world):
    ms = world.mail
    for i, subj in enumerate(("b", "c", "a")):
        ms.deliver("alice", message(subj, date=f"Mon, 0{i + 1} Jun 2026 10:00:00 +0000"))
    alice = client(world, "alice")
    for _ in range(2):  # the second time from what the connection kept
        assert page(alice)[1] == ["a", "c", "b"]
        body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&sort=subject&order=asc")
        assert [m["subject"] for m in body["messages"]] == ["a", "b", "c"]
        body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&sort=date&order=asc")
        assert [m["subject"] for m in body["messages"]] == ["b", "c", "a"]
    # a flag change through the API selects the folder read-write: the kept order is dropped,
    # and what comes next is still right
    uid = get(alice, "/api/v1/mail/messages?folder=INBOX&limit=1")[0]["messages"][0]["uid"]
    send(alice, "PATCH", f"/api/v1/mail/messages/INBOX/{uid}", {"flagged": True})
    ms.deliver("alice", message("d", date="Fri, 05 Jun 2026 10:00:00 +0000"))
    assert page(alice) == (4, ["d", "a", "c", "b"])
