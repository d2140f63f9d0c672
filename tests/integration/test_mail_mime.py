# SPDX-License-Identifier: MIT
# Every MIME shape read back through the mail API over a real Dovecot (docs/mail.md "Reading"):
# nested multipart, alternatives, inline images (multipart/related with cid:), non-UTF-8
# charsets, RFC 2047 encoded words and RFC 2231 names, and broken MIME: each message of
# tests/integration/mail-corpus/ is delivered by LMTP and read as JSON, never a 500.
import base64
import os

import pytest

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from test_mail import client, get, world  # noqa: F401  (world is a fixture)

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mail-corpus")
FILES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))


@pytest.fixture
def corpus(world):  # noqa: F811
    """Delivers every corpus file to alice's INBOX: {file name: the message's JSON}."""
    for name in FILES:
        with open(os.path.join(CORPUS, name), "rb") as f:
            world.mail.deliver("alice", f.read())
    alice = client(world, "alice")
    read = {}
    for uid, name in enumerate(FILES, start=1):
        body, _ = get(alice, f"/api/v1/mail/messages/INBOX/{uid}")
        assert body["uid"] == uid, body
        read[name] = body
    return alice, read


def test_nested_alternative_related(corpus):
    alice, read = corpus
    m = read["nested.eml"]
    assert m["subject"] == "nested shapes" and m["headers"]["message_id"] == "nested@example.com"
    # the text alternative as text, the HTML one (inside multipart/related) as html
    assert m["text"] == "Plain version with a logo.", m
    assert m["has_html"] is True and m["remote_content"] is False
    url = f"/api/v1/mail/messages/INBOX/{m['uid']}/attachments/1.2.2"
    assert m["html"] == f'<p>HTML version <img src="{url}" alt="logo"/></p>', m["html"]
    # the inline image's URL serves the image
    status, data, resp = alice.request("GET", url)
    assert status == 200 and data.startswith(b"\x89PNG\r\n"), (status, data[:8])
    assert resp.headers["Content-Type"] == "image/png", resp.headers
    # the attachment beside it, its RFC 2231 name decoded; the attached message stays closed
    assert [(a["part"], a["filename"], a["content_type"]) for a in m["attachments"]] == [
        ("2", "Gr\u00fc\u00dfe \u20ac.pdf", "application/pdf")], m["attachments"]
    status, data, _ = alice.request("GET", f"/api/v1/mail/messages/INBOX/{m['uid']}/attachments/2")
    assert status == 200 and data == base64.b64decode("JVBERi0xLjQK"), (status, data)


CHARSETS = [  # (file, subject, sender's name, text)
    ("latin1.eml", "Gr\u00fc\u00dfe aus K\u00f6ln", "J\u00fcrgen M\u00fcller",
     "Sch\u00f6ne Gr\u00fc\u00dfe, \u00e0 bient\u00f4t."),
    ("koi8r.eml", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440", None,
     "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!"),
    ("iso2022jp.eml", "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c", "\u5c71\u7530",
     "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c"),
    ("sjis.eml", "Shift_JIS body", None, "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c"),
    ("rawheaders.eml", "caf\u00e9 \u2603 raw utf-8", "Ren\u00e9e", "na\u00efve body"),
    ("nocontenttype.eml", "no content type", None, "Just a body with no MIME headers at all."),
]


def test_charsets_and_encoded_words(corpus):
    for name, subject, sender, text in CHARSETS:
        m = corpus[1][name]
        # the list's summary (IMAP ENVELOPE) and the parsed headers agree
        assert m["subject"] == subject and m["headers"]["subject"] == subject, (name, m)
        assert m["from"]["name"] == sender, (name, m["from"])
        if sender:
            assert m["headers"]["from"].startswith(sender + " <"), (name, m["headers"])
        assert m["text"].strip() == text, (name, m["text"])
        assert m["html"] is None and m["has_html"] is False and m["attachments"] == [], m


def test_html_only_is_converted_and_rendered_as_text(corpus):
    _, read = corpus
    m = read["cp1252.eml"]  # windows-1252, 8bit, no text part
    assert m["html"] == ("<p>\u201cQuoted\u201d \u2013 price 5\u20ac</p>"
                         "<p>second\u00a0para</p>"), m["html"]
    assert m["text"] == "\u201cQuoted\u201d \u2013 price 5\u20ac\nsecond\u00a0para", m["text"]
    # ISO-8859-1 quoted-printable whose <meta charset> lies: the MIME charset wins; head dropped
    m = read["htmlonly-latin1.eml"]
    assert m["html"] == "<h1>Gr\u00fc\u00dfe</h1><p>a<br/>b</p>", m["html"]
    assert m["text"] == "Gr\u00fc\u00dfe\na\nb", m["text"]


def test_encoded_attachment_names(corpus):
    _, read = corpus
    m = read["names.eml"]
    assert m["subject"] == "\u00c4rv\u00e4rd and more" and m["from"]["name"] == "Z\u00f6e", m
    assert [(a["part"], a["filename"]) for a in m["attachments"]] == [
        ("2", "R\u00e9sum\u00e9.pdf"),          # RFC 2047 word in a quoted parameter
        ("3", "\u00dcbersicht.txt"),             # RFC 2231 with a Latin-1 charset
        ("4", "\u65e5\u672c\u8a9e.txt"),        # RFC 2231 continuations
    ], m["attachments"]
    assert m["text"] == "three files", m


def test_broken_mime(corpus):
    alice, read = corpus
    # the closing boundary never comes: the body and the attachment are both there
    m = read["noend.eml"]
    assert m["text"] == "the body survives", m
    assert [(a["part"], a["filename"]) for a in m["attachments"]] == [("2", "cut.bin")], m
    status, data, _ = alice.request("GET", f"/api/v1/mail/messages/INBOX/{m['uid']}/attachments/2")
    assert status == 200 and data == b"\x00\x01\x02\x03", (status, data)
    # an unknown transfer encoding passes the text as it is; bad base64 decodes what it can
    m = read["badcte.eml"]
    assert m["text"] == "plain text under a bogus encoding", m
    assert m["html"].startswith("<p>bad base64 \U0001f600"), m["html"]
    assert [(a["part"], a["filename"]) for a in m["attachments"]] == [("3", "bad.bin")], m
    status, _, _ = alice.request("GET", f"/api/v1/mail/messages/INBOX/{m['uid']}/attachments/3")
    assert status == 200, status
