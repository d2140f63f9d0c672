# SPDX-License-Identifier: MIT
# Sending mail (docs/mail.md "Sending") end to end with a real Postfix and Dovecot on
# loopback (scripts/mail-system.sh): attachments uploaded and from the user's files arrive
# with the same bytes, a Sent copy, replies (In-Reply-To, \Answered), bcc without a Bcc
# header, non-ASCII subjects; a send Postfix refuses (502) or cannot take (503) is kept as a
# draft, intact; drafts replace drafts; an upload over [mail] max_message_size is 413.
import email
import email.header
import email.policy
import os
import time

import pytest

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import Cluster
from conftest import TANDEMD
from test_check_config import refused, write
from test_mail import client, mail_section, provision


@pytest.fixture
def world(workdir, mail_system):  # noqa: F811
    extra = mail_section(mail_system, f"smtp_url = {mail_system.smtp_url}\n"
                                      "max_message_size = 1M\n")
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=extra)
    provision(c, workdir, (("alice", None), ("bob", None)))
    c.mail = mail_system
    c.workdir = workdir
    yield c
    c.stop()


def fetch_all(ms, user, folder):
    """[(uid, flags, email.message.EmailMessage)] of folder, by IMAP as user."""
    m = ms.imap(user)
    try:
        typ, _ = m.select(folder, readonly=True)
        assert typ == "OK", folder
        typ, data = m.uid("SEARCH", None, "ALL")
        out = []
        for uid in data[0].split():
            typ, parts = m.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
            flags = parts[0][0].decode()
            msg = email.message_from_bytes(parts[0][1], policy=email.policy.default)
            out.append((int(uid), flags, msg, parts[0][1]))
        return out
    finally:
        m.logout()


def wait_for(ms, user, folder, subject, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for uid, flags, msg, raw in fetch_all(ms, user, folder):
            if msg["Subject"] == subject:
                return uid, flags, msg, raw
        time.sleep(0.2)
    raise AssertionError(f"{subject!r} did not reach {user}'s {folder} in {deadline}s")


def attachments(msg):
    return {p.get_filename(): lf(p.get_content()) for p in msg.iter_attachments()}


def lf(content):
    """Text with LF line ends (the message has CRLF, which Python's parser keeps); bytes as
    they are."""
    return content.replace("\r\n", "\n") if isinstance(content, str) else content


def text_of(msg, kind="plain"):
    return lf(msg.get_body((kind,)).get_content())


def upload(api, name, data, ctype="application/octet-stream"):
    status, body, _ = api.request("POST", f"/api/v1/mail/attachments?name={name}", raw=data,
                                  headers={"Content-Type": ctype})
    assert status == 201, body
    assert body["size"] == len(data) and body["name"] == name and body["type"] == ctype
    return body["id"]


def my_files_folder(api):
    status, body, _ = api.request("GET", "/api/v1/folders?parent=4")
    assert status == 200, body
    return [f["id"] for f in body["folders"] if f.get("default") and
            f.get("module") == "infostore"][0]


def alice_uid(api):
    status, body, _ = api.request("GET", "/api/v1/session")
    assert status == 200, body
    return body["user_id"]


def send(api, body, expect=200):
    status, answer, _ = api.request("POST", "/api/v1/mail/send", body=body)
    assert status == expect, (status, answer)
    return answer


def test_send_with_attachments_and_sent_copy(world):
    ms = world.mail
    alice, bob = client(world, "alice"), client(world, "bob")
    blob = os.urandom(300_000)
    up = upload(alice, "random.bin", blob)
    doc = b"%PDF-1.4 a file from alice's files\n" + os.urandom(1000)
    status, f, _ = alice.request("PUT", f"/api/v1/files?folder={my_files_folder(alice)}"
                                        "&name=report.pdf", raw=doc,
                                 headers={"Content-Type": "application/pdf"})
    assert status in (200, 201), f
    answer = send(alice, {"to": ["Bob <bob@example.com>"], "subject": "numbers",
                          "text": "see attached\n", "html": "<p>see <b>attached</b></p>",
                          "attachments": [{"upload": up}, {"file": f["id"]}]})
    assert answer["sent"] is True and answer["sent_copy"]["folder"] == "Sent", answer
    uid, flags, msg, raw = wait_for(ms, "bob", "INBOX", "numbers")
    assert msg["From"].addresses[0].addr_spec == "alice@example.com"
    assert msg["Message-ID"] and msg["Date"]
    assert attachments(msg) == {"random.bin": blob, "report.pdf": doc}
    assert text_of(msg) == "see attached\n"
    assert "<b>attached</b>" in text_of(msg, "html")
    # alice's Sent copy, seen, the same message
    sent = [m for m in fetch_all(ms, "alice", "Sent") if m[0] == answer["sent_copy"]["uid"]]
    assert len(sent) == 1 and "\\Seen" in sent[0][1], sent
    assert sent[0][2]["Message-ID"] == msg["Message-ID"]
    assert attachments(sent[0][2]) == {"random.bin": blob, "report.pdf": doc}
    # a sent upload is gone
    again = send(alice, {"to": ["bob@example.com"], "subject": "again", "text": "x",
                         "attachments": [{"upload": up}]}, expect=404)
    assert up in again["error"]["message"]
    # bob's file is not alice's to attach
    status, body, _ = bob.request("POST", "/api/v1/mail/send", body={
        "to": ["alice@example.com"], "subject": "s", "text": "t",
        "attachments": [{"file": f["id"]}]})
    assert status in (403, 404), (status, body)


def test_reply_forward_and_message_part(world):
    ms = world.mail
    alice, bob = client(world, "alice"), client(world, "bob")
    send(alice, {"to": ["bob@example.com"], "subject": "question", "text": "well?",
                 "attachments": [{"upload": upload(alice, "q.txt", b"the question\n",
                                                   "text/plain")}]})
    uid, _, original, _ = wait_for(ms, "bob", "INBOX", "question")
    send(bob, {"to": ["alice@example.com"], "subject": "Re: question", "text": "yes",
               "in_reply_to": {"folder": "INBOX", "uid": uid}})
    _, _, reply, _ = wait_for(ms, "alice", "INBOX", "Re: question")
    assert reply["In-Reply-To"] == original["Message-ID"]
    assert original["Message-ID"] in reply["References"]
    flags = [m[1] for m in fetch_all(ms, "bob", "INBOX") if m[0] == uid][0]
    assert "\\Answered" in flags, flags
    # forward with the original's attachment (part 2) to alice
    send(bob, {"to": ["alice@example.com"], "subject": "Fwd: question", "text": "fyi",
               "forward_of": {"folder": "INBOX", "uid": uid},
               "attachments": [{"message": {"folder": "INBOX", "uid": uid, "part": "2"}}]})
    _, _, fwd, _ = wait_for(ms, "alice", "INBOX", "Fwd: question")
    assert attachments(fwd) == {"q.txt": "the question\n"}
    flags = [m[1] for m in fetch_all(ms, "bob", "INBOX") if m[0] == uid][0]
    assert "$Forwarded" in flags, flags


def test_bcc_and_non_ascii(world):
    ms = world.mail
    alice = client(world, "alice")
    subject = "Grüße – 日本語 ✓"
    send(alice, {"to": ["Jürgen Bob <bob@example.com>"], "bcc": ["outside@outside.test"],
                 "subject": subject, "text": "Äpfel und Birnen\n"})
    _, _, to_bob, raw = wait_for(ms, "bob", "INBOX", subject)
    assert to_bob["To"].addresses[0].display_name == "Jürgen Bob"
    assert all(b < 0x80 for b in raw), "headers and body are 7-bit (encoded words, QP)"
    assert text_of(to_bob) == "Äpfel und Birnen\n"
    _, _, to_outside, raw = wait_for(ms, "outside", "INBOX", subject)
    assert to_outside["Bcc"] is None and b"outside@outside.test" not in raw
    assert to_bob["Bcc"] is None


def test_postfix_down_keeps_a_draft(world):
    ms = world.mail
    alice = client(world, "alice")
    blob = os.urandom(50_000)
    up = upload(alice, "keep.bin", blob)
    ms.smtp_stop()
    answer = send(alice, {"to": ["bob@example.com"], "subject": "while down", "text": "kept",
                          "attachments": [{"upload": up}]}, expect=503)
    assert answer["error"]["code"] == "MAIL-0503", answer
    assert "not sent" in answer["error"]["message"], answer
    draft = answer["draft"]
    assert draft["folder"] == "Drafts" and draft["uid"] > 0, answer
    kept = [m for m in fetch_all(ms, "alice", "Drafts") if m[0] == draft["uid"]]
    assert len(kept) == 1 and "\\Draft" in kept[0][1], kept
    assert kept[0][2]["Subject"] == "while down"
    assert text_of(kept[0][2]) == "kept"
    assert attachments(kept[0][2]) == {"keep.bin": blob}
    # back up: sending the draft removes it
    ms.smtp_start()
    answer = send(alice, {"to": ["bob@example.com"], "subject": "while down", "text": "kept",
                          "draft": draft})
    assert [m for m in fetch_all(ms, "alice", "Drafts") if m[0] == draft["uid"]] == []
    wait_for(ms, "bob", "INBOX", "while down")


def test_refused_recipient_keeps_a_draft(world):
    ms = world.mail
    alice = client(world, "alice")
    answer = send(alice, {"to": ["nobody@example.com"], "subject": "to nobody", "text": "x"},
                  expect=502)
    assert answer["error"]["code"] == "MAIL-0502", answer
    assert "nobody@example.com" in answer["error"]["message"] or \
        "550" in answer["error"]["message"], answer
    kept = [m for m in fetch_all(ms, "alice", "Drafts") if m[0] == answer["draft"]["uid"]]
    assert len(kept) == 1 and kept[0][2]["Subject"] == "to nobody", kept


def test_drafts_replace(world):
    ms = world.mail
    alice = client(world, "alice")
    status, d1, _ = alice.request("POST", "/api/v1/mail/drafts",
                                  body={"subject": "draft one", "text": "v1"})
    assert status == 201 and d1["folder"] == "Drafts", d1
    status, d2, _ = alice.request("POST", "/api/v1/mail/drafts",
                                  body={"subject": "draft two", "text": "v2", "draft": d1,
                                        "to": ["bob@example.com"]})
    assert status == 201 and d2["uid"] != d1["uid"], d2
    drafts = fetch_all(ms, "alice", "Drafts")
    assert [m[2]["Subject"] for m in drafts] == ["draft two"], drafts
    assert "\\Draft" in drafts[0][1]


def test_bad_requests(world):
    alice = client(world, "alice")
    uploads = os.path.join(world.workdir, "OX-1", "data", "mail-uploads")
    status, body, _ = alice.request("POST", "/api/v1/mail/attachments?name=big.bin",
                                    raw=b"x" * (1024 * 1024 + 1))
    assert status == 413 and "max_message_size" in body["error"]["message"], body
    assert not os.path.isdir(uploads) or os.listdir(uploads) == []
    # a chunked one (no length announced) is cut off at the cap
    status, body, _ = alice.request("POST", "/api/v1/mail/attachments?name=big.bin",
                                    raw=iter([b"y" * 65536] * 17))
    assert status == 413, body
    assert not os.path.isdir(uploads) or os.listdir(uploads) == []
    kept = upload(alice, "small.bin", b"z" * 1000)
    assert sorted(os.listdir(uploads)) == [f"1.{alice_uid(alice)}.{kept}",
                                           f"1.{alice_uid(alice)}.{kept}.meta"]
    for body, what in (({"to": ["bob@example.com"], "from": "mallory@example.com",
                         "subject": "s", "text": "t"}, "from"),
                       ({"to": ["not an address"], "subject": "s", "text": "t"}, "to[0]"),
                       ({"subject": "s", "text": "t"}, "recipient"),
                       ({"to": ["bob@example.com"], "attachments": [{"upload": "zz"}]},
                        "upload"),
                       ({"to": ["bob@example.com"], "attachments": [{"x": 1}]},
                        "attachments[0]")):
        status, answer, _ = alice.request("POST", "/api/v1/mail/send", body=body)
        assert status == 400 and what in answer["error"]["message"], (body, answer)
    send(alice, {"to": ["bob@example.com"], "from": "Alice <ALICE@example.com>",
                 "subject": "mine", "text": "t"})


def test_max_message_size_config(workdir):
    pw = write(os.path.join(workdir, "pw"), "secret\n")
    os.chmod(pw, 0o600)
    head = (f"[server]\nlisten = 127.0.0.1:1\ndata_dir = {workdir}/d\n[mail]\n"
            "imap_url = imap://h\nsmtp_url = smtp://h\nmaster_user = m\n"
            "master_password_file = pw\n")
    for i, value in enumerate(("2G", "100")):
        conf = write(os.path.join(workdir, f"t{i}.ini"), head + f"max_message_size = {value}\n")
        refused(TANDEMD, conf, 9, "[mail] max_message_size must be between 1K and 1G")
