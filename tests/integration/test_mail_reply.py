# SPDX-License-Identifier: MIT
# Reply and forward prefill (docs/api.md "Mail"): GET …/{uid}/reply?all=0|1 and …/forward over
# a real Dovecot (scripts/mail-system.sh) give a body for POST /api/v1/mail/send: recipients
# from Reply-To/From (+To/Cc without the user), one "Re: "/"Fwd: ", the original quoted or under
# a forwarded-message block, the original's attachments by reference; HTML-only originals are
# quoted from their text. Reading them changes nothing in the mailbox.
import pytest

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from test_mail import client, get, world  # noqa: F401  (pytest fixture)

ORIGINAL = (
    b"From: Bob B <bob@example.com>\r\n"
    b"Reply-To: Bob Lists <bob-list@example.com>\r\n"
    b"To: alice@example.com, \"Carol, C\" <carol@example.com>\r\n"
    b"Cc: Alice@Example.com, dave@example.com\r\n"
    b"Subject: RE: Re: plans\r\n"
    b"Date: Tue, 2 Jan 2024 10:00:00 +0100\r\nMessage-ID: <orig@example.com>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
    b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst line\r\n> older\r\n"
    b"--B\r\nContent-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename=agenda.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n")

HTML_ONLY = (
    b"From: h@example.com\r\nTo: alice@example.com\r\nSubject: news\r\n"
    b"Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
    b"<html><head><style>p{color:red}</style></head><body><p>Gr\xfc\xdfe &amp; more</p>"
    b"<script>alert(1)</script><div>second</div></body></html>\r\n")


def test_reply_reply_all_forward(world):
    world.mail.deliver("alice", ORIGINAL)
    alice = client(world, "alice")
    base = "/api/v1/mail/messages/INBOX/1"
    body, _ = get(alice, base + "/reply")
    assert body["to"] == ["Bob Lists <bob-list@example.com>"], body
    assert body["cc"] == [] and body["bcc"] == [] and body["attachments"] == [], body
    assert body["subject"] == "Re: plans", body
    assert body["text"].endswith(
        "On Tue, 02 Jan 2024 10:00 +0100, Bob B <bob@example.com> wrote:\n"
        "> first line\n>> older\n"), body
    assert body["in_reply_to"] == {"folder": "INBOX", "uid": 1}, body
    assert "forward_of" not in body

    body, _ = get(alice, base + "/reply?all=1")
    # the user's own address (any case) is left out; no duplicates
    assert body["to"] == ["Bob Lists <bob-list@example.com>",
                          "\"Carol, C\" <carol@example.com>"], body
    assert body["cc"] == ["dave@example.com"], body
    body0, _ = get(alice, base + "/reply?all=0")
    assert body0["to"] == ["Bob Lists <bob-list@example.com>"], body0

    body, _ = get(alice, base + "/forward")
    assert body["to"] == [] and body["subject"] == "Fwd: RE: Re: plans", body
    assert ("---------- Forwarded message ----------\n"
            "From: Bob B <bob@example.com>\nDate: Tue, 02 Jan 2024 10:00 +0100\n"
            "Subject: RE: Re: plans\n"
            "To: alice@example.com, \"Carol, C\" <carol@example.com>\n") in body["text"], body
    assert "first line\r\n> older" in body["text"], body
    [att] = body["attachments"]
    assert att["message"] == {"folder": "INBOX", "uid": 1, "part": "2"}, body
    assert att["name"] and att["type"] and att["size"] > 0, att
    assert body["forward_of"] == {"folder": "INBOX", "uid": 1}, body
    assert "in_reply_to" not in body
    # none of it marked the message read
    page, _ = get(alice, "/api/v1/mail/messages?folder=INBOX")
    assert page["messages"][0]["flags"] == [], page


def test_html_only_quoted_as_text(world):
    world.mail.deliver("alice", HTML_ONLY)
    alice = client(world, "alice")
    body, _ = get(alice, "/api/v1/mail/messages/INBOX/1/reply")
    assert body["to"] == ["h@example.com"] and body["subject"] == "Re: news", body
    assert body["text"].endswith("wrote:\n> Grüße & more\n> second\n"), body
    assert "alert" not in body["text"] and "color" not in body["text"], body


@pytest.mark.parametrize("path,status", [
    ("/api/v1/mail/messages/INBOX/9/reply", 404),
    ("/api/v1/mail/messages/Nope/1/forward", 404),
    ("/api/v1/mail/messages/INBOX/1/reply?all=2", 400),
])
def test_errors(world, path, status):
    world.mail.deliver("alice", ORIGINAL)
    alice = client(world, "alice")
    body, _ = get(alice, path, expect=status)
    assert body["error"]["code"] == f"MAIL-0{status}", body
    body, _ = get(client(world, "carol"), "/api/v1/mail/messages/INBOX/1/reply", expect=403)
