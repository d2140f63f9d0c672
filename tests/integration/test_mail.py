# SPDX-License-Identifier: MIT
# The mail API (docs/mail.md) against a real Dovecot on loopback (scripts/mail-system.sh):
# folders with counts, server-sorted pages, 503 with the reason on mail paths only while the
# mail system is down (and back after it returns), module access, bad parameters, and
# [mail] configuration errors.
import base64
import email.utils
import os
import time

import pytest

from cluster_setup import ADMIN
from conftest import TANDEMD, scrape_metrics
from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import ApiClient, Cluster
from test_check_config import refused, write

ACCESS = "\n[access nomail]\nmodules = files, calendar, contacts, tasks, webui\n"


def mail_section(ms, extra=""):
    return (f"[mail]\nimap_url = {ms.imap_url}\nmaster_user = {ms.master_user}\n"
            f"master_password_file = {ms.master_password_file}\ntimeout = 5s\n{extra}")


def provision(c, workdir, users=(("alice", None),)):
    """Starts c's node and makes context 1 with users ((login, access combination), …),
    password <login>_pw."""
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login, access in users:
        c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
             "-p", f"{login}_pw", "-e", f"{login}@example.com",
             *(["--access-combination-name", access] if access else []))


@pytest.fixture
def world(workdir, mail_system):  # noqa: F811
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=ACCESS + mail_section(mail_system))
    provision(c, workdir, (("alice", None), ("bob", None), ("carol", "nomail")))
    c.mail = mail_system
    yield c
    c.stop()


def client(c, login):
    api = ApiClient(c.nodes[0].port)
    status, body, _ = api.login(login, f"{login}_pw")
    assert status == 200, body
    return api


def get(api, path, expect=200):
    status, body, resp = api.request("GET", path)
    assert status == expect, (path, status, body)
    return body, resp


def message(subject, sender="Sender <s@example.com>", date=None, body="hello"):
    date = date or email.utils.formatdate(time.time())
    return (f"From: {sender}\r\nTo: someone@example.com\r\nSubject: {subject}\r\n"
            f"Date: {date}\r\nMessage-ID: <{subject.replace(' ', '.')}@t>\r\n\r\n{body}\r\n"
            ).encode()


def test_folders_with_counts(world):
    ms = world.mail
    for i in range(3):
        ms.deliver("alice", message(f"inbox {i}"))
    ms.append("alice", "INBOX", [message("read one")], seen=True)
    ms.append("alice", "Work", [message("w1"), message("w2")], seen=True)
    ms.append("alice", "Work/2026", [message("w3")])
    alice = client(world, "alice")
    for _ in range(5):  # one pooled connection serves them all
        body, _ = get(alice, "/api/v1/mail/folders")
    assert scrape_metrics(world.nodes[0].port)["tandem_mail_imap_connections"] == 1
    folders = {f["name"]: f for f in body["folders"]}
    assert body["folders"][0]["name"] == "INBOX", body
    assert folders["INBOX"]["total"] == 4 and folders["INBOX"]["unread"] == 3, folders
    assert folders["Work"]["total"] == 2 and folders["Work"]["unread"] == 0, folders
    assert folders["Work/2026"]["total"] == 1 and folders["Work/2026"]["unread"] == 1
    assert folders["Work"]["delimiter"] == "/" and folders["Work"]["selectable"] is True
    assert {"Sent", "Trash", "Drafts"} <= set(folders), folders
    # bob's mailbox is his own
    body, _ = get(client(world, "bob"), "/api/v1/mail/folders")
    inbox = [f for f in body["folders"] if f["name"] == "INBOX"][0]
    assert inbox["total"] == 0 and inbox["unread"] == 0, body
    assert scrape_metrics(world.nodes[0].port)["tandem_mail_imap_connections"] == 2


def test_sorted_page_of_500(world):
    ms = world.mail
    base = 1_700_000_000
    msgs, expected = [], []
    for i in range(500):
        # Date: order differs from arrival order; senders and subjects differ too
        when = base + ((i * 7919) % 500) * 60
        sender = f"User {(i * 31) % 500:03d} <u{(i * 31) % 500:03d}@example.com>"
        subject = f"subject {(i * 17) % 500:03d}"
        msgs.append(message(subject, sender, email.utils.formatdate(when)))
        expected.append({"uid": i + 1, "when": when, "subject": subject,
                         "email": f"u{(i * 31) % 500:03d}@example.com"})
    ms.append("alice", "Big", msgs, seen=False)
    m = ms.imap("alice")
    try:
        m.select("Big")
        typ, _ = m.uid("STORE", "1:10", "+FLAGS", "(\\Seen \\Flagged)")
        assert typ == "OK"
    finally:
        m.logout()
    alice = client(world, "alice")

    body, _ = get(alice, "/api/v1/mail/messages?folder=Big&sort=date&order=desc"
                         "&offset=50&limit=50")
    assert body["total"] == 500 and body["server_sort"] is True, body["total"]
    page = body["messages"]
    want = sorted(expected, key=lambda e: (e["when"], e["uid"]), reverse=True)[50:100]
    assert [p["uid"] for p in page] == [w["uid"] for w in want]
    first = page[0]
    assert first["subject"] == want[0]["subject"]
    assert first["from"]["email"] == want[0]["email"]
    assert first["from"]["name"].startswith("User ")
    assert first["date"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(want[0]["when"]))
    assert first["size"] > 100

    body, _ = get(alice, "/api/v1/mail/messages?folder=Big&sort=subject&order=asc&limit=50")
    want = sorted(expected, key=lambda e: (e["subject"], e["uid"]))[:50]
    assert [p["subject"] for p in body["messages"]] == [w["subject"] for w in want]

    body, _ = get(alice, "/api/v1/mail/messages?folder=Big&sort=from&order=asc&limit=3")
    assert [p["from"]["email"] for p in body["messages"]] == [
        "u000@example.com", "u001@example.com", "u002@example.com"]

    # the default: newest first, 50; flags as set above
    body, _ = get(alice, "/api/v1/mail/messages?folder=Big&sort=arrival&order=asc&limit=12")
    assert [p["uid"] for p in body["messages"]] == list(range(1, 13))
    assert body["messages"][0]["flags"] == ["seen", "flagged"]
    assert body["messages"][11]["flags"] == []
    body, _ = get(alice, "/api/v1/mail/messages?folder=Big")
    assert len(body["messages"]) == 50 and body["sort"] == "date" and body["order"] == "desc"
    # past the end: an empty page, not an error
    body, _ = get(alice, "/api/v1/mail/messages?folder=Big&offset=500")
    assert body["messages"] == [] and body["total"] == 500


MIXED = (b"From: =?iso-8859-1?q?J=FCrgen?= <j@example.com>\r\nTo: alice@example.com\r\n"
         b"Subject: =?utf-8?b?w6Rsb2hh?= report\r\nDate: Tue, 2 Jan 2024 10:00:00 +0100\r\n"
         b"Message-ID: <r1@example.com>\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
         b"--OUT\r\nContent-Type: multipart/alternative; boundary=IN\r\n\r\n"
         b"--IN\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n"
         b"--IN\r\nContent-Type: text/html\r\n\r\n<p>Gr&uuml;&szlig;e</p>\r\n--IN--\r\n"
         b"--OUT\r\nContent-Type: application/pdf\r\n"
         b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--OUT--\r\n")


def test_read_a_message(world):
    ms = world.mail
    ms.deliver("alice", MIXED)
    ms.append("alice", "Work/2026", [message("deep", body="in a subfolder")])
    alice = client(world, "alice")
    body, _ = get(alice, "/api/v1/mail/messages/INBOX/1")
    assert body["uid"] == 1 and body["folder"] == "INBOX", body
    assert body["subject"] == "\u00e4loha report", body
    h = body["headers"]
    assert h["subject"] == "\u00e4loha report" and "J\u00fcrgen" in h["from"], h
    assert h["message_id"] == "r1@example.com" and "alice@example.com" in h["to"], h
    assert body["text"].startswith("Gr\u00fc\u00dfe"), body["text"]
    assert body["has_html"] is True and body["text_truncated"] is False
    assert [(a["part"], a["filename"], a["content_type"]) for a in body["attachments"]] == [
        ("2", "report.pdf", "application/pdf")], body["attachments"]
    assert body["date"] == "2024-01-02T09:00:00Z", body
    # reading does not mark it read (BODY.PEEK)
    body, _ = get(alice, "/api/v1/mail/folders")
    assert [f for f in body["folders"] if f["name"] == "INBOX"][0]["unread"] == 1
    # a folder name with the delimiter, percent-encoded in the path
    body, _ = get(alice, "/api/v1/mail/messages/Work%2F2026/1")
    assert body["text"].startswith("in a subfolder") and body["folder"] == "Work/2026", body
    # raw 8-bit header bytes that are not UTF-8: taken as Latin-1, valid JSON either way
    ms.deliver("alice", b"From: x@example.com\r\nSubject: caf\xe9 raw\r\n\r\nbody\r\n")
    body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&limit=1")
    assert body["messages"][0]["subject"] == "caf\u00e9 raw", body
    body, _ = get(alice, f"/api/v1/mail/messages/INBOX/{body['messages'][0]['uid']}")
    assert body["headers"]["subject"].startswith("caf"), body
    body, _ = get(alice, "/api/v1/mail/messages/INBOX/99", expect=404)
    assert body["error"]["code"] == "MAIL-0404" and "UID 99" in body["error"]["message"], body
    body, _ = get(alice, "/api/v1/mail/messages/Nope/1", expect=404)
    assert body["error"]["code"] == "MAIL-0404", body


def attachment_message(big):
    b64 = base64.encodebytes(big).replace(b"\n", b"\r\n")
    return (b"From: s@example.com\r\nTo: alice@example.com\r\nSubject: files\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=A\r\n\r\n"
            b"--A\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            b"--A\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Disposition: attachment; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.txt\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe=\r\n\r\n"
            b"--B\r\nContent-Type: text/html\r\n"
            b"Content-Disposition: attachment; filename=\"../x/evil\\\";.html\"\r\n\r\n"
            b"<script>alert(1)</script>\r\n--B--\r\n"
            b"--A\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=big.bin\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--A--\r\n")


def test_attachment_download(world):
    big = os.urandom(3 * 1024 * 1024 + 7)
    world.mail.deliver("alice", attachment_message(big))
    alice = client(world, "alice")
    body, _ = get(alice, "/api/v1/mail/messages/INBOX/1")
    assert [(a["part"], a["content_type"]) for a in body["attachments"]] == [
        ("2.1", "text/plain"), ("2.2", "text/html"), ("3", "application/octet-stream")], body
    base = "/api/v1/mail/messages/INBOX/1/attachments/"
    # quoted-printable, decoded; a UTF-8 name as RFC 6266 filename* with an ASCII fallback
    status, data, resp = alice.request("GET", base + "2.1")
    assert status == 200 and data == "Grüße".encode(), (status, data)
    assert resp.headers["Content-Type"] == "text/plain", resp.headers
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"Gr____e ___.txt\"; "
        "filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.txt"), resp.headers
    # HTML is a download, never rendered here; no path, quote or backslash reaches the client
    status, data, resp = alice.request("GET", base + "2.2")
    assert status == 200 and data.startswith(b"<script>"), (status, data)
    assert resp.headers["Content-Security-Policy"] == "sandbox", resp.headers
    assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.headers
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment; filename=\".._x_evil_;.html\"; "), cd
    assert "/" not in cd and "\\" not in cd.split("filename*=")[1], cd
    # base64, 3 MiB, byte for byte
    status, data, resp = alice.request("GET", base + "3")
    assert status == 200 and data == big, (status, len(data))
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Length"] == str(len(big)), resp.headers
    # not a leaf part, no such part, not a part number, no such message or folder: 404
    for path in (base + "2", base + "9", base + "2.3", base + "x", base + "0", base + "2.",
                 base + "99999999999",
                 "/api/v1/mail/messages/INBOX/7/attachments/1",
                 "/api/v1/mail/messages/Nope/1/attachments/1"):
        body, _ = get(alice, path, expect=404)
        assert body["error"]["code"] == "MAIL-0404", (path, body)
    # downloading does not mark the message read
    body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX")
    assert body["messages"][0]["flags"] == [], body
    # a message that is one attachment: its part 1 (the body, described by the message header)
    world.mail.deliver("alice", b"From: s@example.com\r\nSubject: one\r\nMIME-Version: 1.0\r\n"
                                b"Content-Type: application/pdf; name=only.pdf\r\n"
                                b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n")
    body, _ = get(alice, "/api/v1/mail/messages/INBOX/2")
    assert [(a["part"], a["filename"]) for a in body["attachments"]] == [("1", "only.pdf")], body
    status, data, resp = alice.request("GET", "/api/v1/mail/messages/INBOX/2/attachments/1")
    assert status == 200 and data == b"%PDF-1.4\n", (status, data)
    assert resp.headers["Content-Type"] == "application/pdf", resp.headers
    assert "filename=\"only.pdf\"" in resp.headers["Content-Disposition"], resp.headers
    # another user cannot reach alice's mailbox: bob's INBOX has no message 1
    get(client(world, "bob"), base + "3", expect=404)


def send(api, method, path, body=None, expect=204):
    status, data, _ = api.request(method, path, body)
    assert status == expect, (method, path, status, data)
    return data


def uids(ms, user, folder):
    """The UIDs in folder, and their flags, seen by IMAP directly."""
    m = ms.imap(user)
    try:
        typ, data = m.select(f'"{folder}"', readonly=True)
        assert typ == "OK", data
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
        out = {}
        for line in data:
            if line:
                text = line.decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                out[uid] = text.split("FLAGS (")[1].split(")")[0].split()
        return out
    finally:
        m.logout()


def flags_move_delete(c):
    """PATCH flags, move, delete to Trash and expunge in Trash, checked over IMAP."""
    ms = c.mail
    ms.append("alice", "INBOX", [message(f"m{i}") for i in range(4)])
    ms.append("alice", "Archive", [message("old")])
    alice = client(c, "alice")
    m = "/api/v1/mail/messages/INBOX/"
    send(alice, "PATCH", m + "1", {"seen": True, "flagged": True})
    assert sorted(uids(ms, "alice", "INBOX")[1]) == ["\\Flagged", "\\Seen"]
    send(alice, "PATCH", m + "1", {"flagged": False})
    assert uids(ms, "alice", "INBOX")[1] == ["\\Seen"]
    body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&sort=arrival&order=asc")
    assert body["messages"][0]["flags"] == ["seen"], body
    for bad in ({}, {"seen": "yes"}, {"flagged": 1}):
        data = send(alice, "PATCH", m + "1", bad, expect=400)
        assert data["error"]["code"] == "MAIL-0400", data
    send(alice, "PATCH", m + "99", {"seen": True}, expect=404)
    # move: gone from INBOX, one more in Archive
    send(alice, "POST", m + "2/move", {"to": "Archive"})
    assert 2 not in uids(ms, "alice", "INBOX") and len(uids(ms, "alice", "Archive")) == 2
    data = send(alice, "POST", m + "3/move", {"to": "Nope"}, expect=404)
    assert "Nope" in data["error"]["message"], data
    assert 3 in uids(ms, "alice", "INBOX")
    send(alice, "POST", m + "3/move", {"to": ""}, expect=400)
    send(alice, "POST", m + "99/move", {"to": "Archive"}, expect=404)
    # delete: to Trash, made on first use; in Trash itself: gone for good
    send(alice, "DELETE", m + "3")
    assert 3 not in uids(ms, "alice", "INBOX")
    trash = uids(ms, "alice", "Trash")
    assert len(trash) == 1, trash
    body, _ = get(alice, "/api/v1/mail/folders")
    assert [f for f in body["folders"] if f["name"] == "Trash"][0]["total"] == 1, body
    send(alice, "DELETE", f"/api/v1/mail/messages/Trash/{list(trash)[0]}")
    assert uids(ms, "alice", "Trash") == {}
    send(alice, "DELETE", m + "99", expect=404)
    # the untouched ones stayed
    assert sorted(uids(ms, "alice", "INBOX")) == [1, 4]


def test_flags_move_delete(world):
    flags_move_delete(world)


def test_folder_management(world):
    ms = world.mail
    alice = client(world, "alice")
    f = "/api/v1/mail/folders"

    def folders():
        return {x["name"]: x for x in get(alice, f)[0]["folders"]}

    status, body, _ = alice.request("POST", f, {"name": "Projects"})
    assert status == 201 and body == {"name": "Projects"}, body
    assert folders()["Projects"]["subscribed"] is True
    data = send(alice, "POST", f, {"name": "Projects"}, expect=409)
    assert data["error"]["code"] == "MAIL-0409", data
    for bad in ({}, {"name": ""}, {"name": "a*b"}, {"name": "a\tb"}, {"name": 3}):
        send(alice, "POST", f, bad, expect=400)
    ms.append("alice", "Projects", [message("p1")])
    # rename keeps the messages and the subscription
    send(alice, "PATCH", f + "/Projects", {"name": "Done"})
    fl = folders()
    assert "Projects" not in fl and fl["Done"]["total"] == 1 and fl["Done"]["subscribed"], fl
    send(alice, "PATCH", f + "/Projects", {"name": "X"}, expect=404)
    send(alice, "POST", f, {"name": "Other"}, expect=201)
    send(alice, "PATCH", f + "/Done", {"name": "Other"}, expect=409)
    # subscribe flag
    send(alice, "PATCH", f + "/Done", {"subscribed": False})
    assert folders()["Done"]["subscribed"] is False
    send(alice, "PATCH", f + "/Done", {"subscribed": True})
    assert folders()["Done"]["subscribed"] is True
    send(alice, "PATCH", f + "/Done", {}, expect=400)
    # an unsubscribed folder stays so when renamed, in one PATCH with the new name
    send(alice, "PATCH", f + "/Done", {"subscribed": False})
    send(alice, "PATCH", f + "/Done", {"name": "Done2"})
    assert folders()["Done2"]["subscribed"] is False
    send(alice, "PATCH", f + "/Done2", {"name": "Done", "subscribed": True})
    assert folders()["Done"]["subscribed"] is True
    send(alice, "PATCH", f + "/Nope", {"subscribed": True}, expect=404)
    # a subfolder by its path, percent-encoded
    send(alice, "POST", f, {"name": "Done/2026"}, expect=201)
    send(alice, "DELETE", f + "/Done%2F2026")
    assert "Done/2026" not in folders()
    # delete; INBOX is refused
    send(alice, "DELETE", f + "/Other")
    assert "Other" not in folders()
    send(alice, "DELETE", f + "/Other", expect=404)
    for path in (f + "/INBOX", f + "/inbox"):
        data = send(alice, "DELETE", path, expect=409)
        assert "INBOX" in data["error"]["message"], data
    send(alice, "PATCH", f + "/INBOX", {"name": "Old"}, expect=409)
    # bob's folders are his own
    assert "Done" not in {x["name"] for x in get(client(world, "bob"), f)[0]["folders"]}


def test_servers_without_sort_get_the_same_pages(workdir, start_mail_system):  # noqa: F811
    ms = start_mail_system(sort=False)
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=mail_section(ms))
    try:
        provision(c, workdir)
        when = [1_700_000_000 + ((i * 37) % 60) * 3600 for i in range(60)]
        ms.append("alice", "INBOX", [message(f"m {(i * 7) % 60:02d}",
                                             date=email.utils.formatdate(when[i]))
                                     for i in range(60)])
        alice = client(c, "alice")
        body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&offset=10&limit=20")
        assert body["server_sort"] is False and body["total"] == 60, body
        want = sorted(range(60), key=lambda i: (when[i], i + 1), reverse=True)[10:30]
        assert [m["uid"] for m in body["messages"]] == [i + 1 for i in want]
        body, _ = get(alice, "/api/v1/mail/messages?folder=INBOX&sort=subject&order=asc"
                             "&limit=5")
        assert [m["subject"] for m in body["messages"]] == [f"m {i:02d}" for i in range(5)]
    finally:
        c.stop()


def test_flags_move_delete_without_move_and_uidplus(workdir, start_mail_system):  # noqa: F811
    """The same on a server announcing neither MOVE nor UIDPLUS: COPY, \\Deleted, EXPUNGE."""
    ms = start_mail_system(sort=False)
    m = ms.imap("alice")
    try:
        caps = m.capabilities
    finally:
        m.logout()
    assert "MOVE" not in caps and "UIDPLUS" not in caps, caps
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=mail_section(ms))
    try:
        provision(c, workdir)
        c.mail = ms
        flags_move_delete(c)
    finally:
        c.stop()


def test_bad_requests(world):
    alice = client(world, "alice")
    for path, words in (("/api/v1/mail/messages", "folder parameter"),
                        ("/api/v1/mail/messages?folder=INBOX&sort=color", "sort must be"),
                        ("/api/v1/mail/messages?folder=INBOX&order=up", "order must be"),
                        ("/api/v1/mail/messages?folder=INBOX&limit=0", "limit must be"),
                        ("/api/v1/mail/messages?folder=INBOX&limit=501", "limit must be"),
                        ("/api/v1/mail/messages?folder=INBOX&offset=-1", "offset")):
        body, _ = get(alice, path, expect=400)
        assert body["error"]["code"] == "MAIL-0400" and words in body["error"]["message"], body
    body, _ = get(alice, "/api/v1/mail/messages?folder=%FF%FE", expect=400)
    assert "folder parameter is not valid UTF-8" in body["error"]["message"], body
    body, _ = get(alice, "/api/v1/mail/messages?folder=NoSuchFolder", expect=404)
    assert body["error"]["code"] == "MAIL-0404", body
    assert "EXAMINE refused" in body["error"]["message"], body
    status, body, _ = ApiClient(world.nodes[0].port).request("GET", "/api/v1/mail/folders")
    assert status == 401, body


def test_module_refusal(world):
    carol = client(world, "carol")
    for path in ("/api/v1/mail/folders", "/api/v1/mail/messages?folder=INBOX"):
        body, _ = get(carol, path, expect=403)
        assert body["error"]["code"] == "ACC-0403", body
        assert 'module "mail"' in body["error"]["message"], body
    get(carol, "/api/v1/folders?parent=1")  # the rest of her modules work


def test_other_contexts_do_not_share_the_mailboxes(world):
    """The IMAP login is the Tandem login, unique only within a context: [mail] context
    (default 1) keeps context 2's alice out of context 1's alice's mailbox."""
    world.mail.deliver("alice", message("private"))
    world.ok("createcontext", "-c", "2", "-q", "0", "-L", "ctx2", "-u", "admin2", "-d", "A2",
             "-g", "A", "-s", "B", "-p", "admin2_pw", "-e", "a2@example.com")
    world.ok("createuser", "-c", "2", "-u", "alice", "-d", "other alice", "-g", "G", "-s", "S",
             "-p", "alice_pw", "-e", "alice@ctx2.example.com")
    other = ApiClient(world.nodes[0].port)
    status, body, _ = other.login("alice@ctx2", "alice_pw")
    assert status == 200, body
    for path in ("/api/v1/mail/folders", "/api/v1/mail/messages?folder=INBOX",
                 "/api/v1/mail/messages/INBOX/1"):
        body, _ = get(other, path, expect=503)
        assert "no mail system for alice in context 2" in body["error"]["message"], body
    body, _ = get(client(world, "alice"), "/api/v1/mail/messages?folder=INBOX")
    assert [m["subject"] for m in body["messages"]] == ["private"], body


def test_mail_system_down_is_503_on_mail_paths_only(world):
    ms = world.mail
    ms.deliver("alice", message("before"))
    alice = client(world, "alice")
    get(alice, "/api/v1/mail/folders")  # leaves a pooled connection behind
    ms.stop()
    for path in ("/api/v1/mail/folders", "/api/v1/mail/messages?folder=INBOX"):
        started = time.monotonic()
        body, _ = get(alice, path, expect=503)
        assert time.monotonic() - started < 5, "a down mail system must answer at once"
        assert body["error"]["code"] == "MAIL-0503", body
        message_text = body["error"]["message"]
        assert "the mail system is unavailable" in message_text, body
        assert f"127.0.0.1:{ms.imap_port}" in message_text, body
    # the changes and the attachment download too
    m = "/api/v1/mail/messages/INBOX/1"
    for method, path, body in (("PATCH", m, {"seen": True}), ("DELETE", m, None),
                               ("POST", m + "/move", {"to": "Archive"}),
                               ("GET", m + "/attachments/1", None),
                               ("POST", "/api/v1/mail/folders", {"name": "New"}),
                               ("PATCH", "/api/v1/mail/folders/Old", {"subscribed": True}),
                               ("DELETE", "/api/v1/mail/folders/Old", None)):
        data = send(alice, method, path, body, expect=503)
        assert data["error"]["code"] == "MAIL-0503", (method, path, data)
    get(alice, "/api/v1/folders?parent=1")  # the rest works
    get(alice, "/api/v1/session")
    ms.start()  # same ports: back within the back-off
    deadline = time.monotonic() + 15
    while True:
        status, body, _ = alice.request("GET", "/api/v1/mail/folders")
        if status == 200:
            break
        assert status == 503 and time.monotonic() < deadline, (status, body)
        time.sleep(0.2)
    inbox = [f for f in body["folders"] if f["name"] == "INBOX"][0]
    assert inbox["total"] == 1, body


def test_wrong_master_password_is_503_naming_the_refusal(workdir, mail_system):  # noqa: F811
    bad = write(os.path.join(workdir, "bad-pw"), "not-the-password\n")
    os.chmod(bad, 0o600)
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=mail_section(mail_system).replace(mail_system.master_password_file, bad))
    try:
        provision(c, workdir)
        body, _ = get(client(c, "alice"), "/api/v1/mail/folders", expect=503)
        assert "master-user login refused" in body["error"]["message"], body
    finally:
        c.stop()


def test_silent_mail_system_is_503_after_the_timeout(workdir):
    """A server that takes the connection but never greets: 503 after [mail] timeout, and the
    next request answers at once (the back-off), not after another timeout."""
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    pw = write(os.path.join(workdir, "pw"), "secret\n")
    os.chmod(pw, 0o600)
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=f"[mail]\nimap_url = imap://127.0.0.1:{silent.getsockname()[1]}\n"
                      f"master_user = m\nmaster_password_file = {pw}\ntimeout = 1s\n")
    try:
        provision(c, workdir)
        alice = client(c, "alice")
        started = time.monotonic()
        body, _ = get(alice, "/api/v1/mail/folders", expect=503)
        took = time.monotonic() - started
        assert 0.9 < took < 10, took
        assert body["error"]["code"] == "MAIL-0503" and "cannot connect (no greeting in time" \
            in body["error"]["message"], body
        started = time.monotonic()
        get(alice, "/api/v1/mail/folders", expect=503)
        assert time.monotonic() - started < 0.9
        get(alice, "/api/v1/folders?parent=1")
    finally:
        c.stop()
        silent.close()


def test_mail_config_errors(workdir):
    pw = write(os.path.join(workdir, "pw"), "secret\n")
    os.chmod(pw, 0o600)
    open_pw = write(os.path.join(workdir, "open-pw"), "secret\n")
    os.chmod(open_pw, 0o644)
    head = f"[server]\nlisten = 127.0.0.1:1\ndata_dir = {workdir}/d\n[mail]\n"
    cases = (
        ("imap_url = http://x\nmaster_user = m\nmaster_password_file = pw\n", 5,
         "[mail] imap_url must start with imap:// or imaps://"),
        ("imap_url = imap://h:99999\nmaster_user = m\nmaster_password_file = pw\n", 5,
         "[mail] imap_url the port must be a number from 1 to 65535"),
        ("imap_url = imap://h\n", 5, "[mail] imap_url needs master_user"),
        ("imap_url = imap://h\nsmtp_url = imap://h\nmaster_user = m\n"
         "master_password_file = pw\n", 6, "[mail] smtp_url must start with smtp://"),
        ("imap_url = imap://h\nmaster_user = a*b\nmaster_password_file = pw\n", 6,
         "[mail] master_user must be"),
        ("imap_url = imap://h\nmaster_user = m\nmaster_password_file = open-pw\n", 7,
         f"[mail] master_password_file: {open_pw}: other users may read or write it"),
        ("imap_url = imap://h\nmaster_user = m\nmaster_password_file = nothere\n", 7,
         f"[mail] master_password_file: {workdir}/nothere: No such file or directory"),
        ("imap_url = imap://h\nmaster_user = m\nmaster_password_file = pw\n"
         "max_connections = 0\n", 8, "[mail] max_connections must be between 1 and 100000"),
    )
    for i, (text, line, words) in enumerate(cases):
        conf = write(os.path.join(workdir, f"t{i}.ini"), head + text)
        refused(TANDEMD, conf, line, words)
    ok = write(os.path.join(workdir, "ok.ini"),
               head + "imap_url = imaps://[::1]:1993\nsmtp_url = submission://h\n"
                      "master_user = m\nmaster_password_file = pw\n")
    import subprocess
    r = subprocess.run([TANDEMD, "--check-config", "--config", ok], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
