# SPDX-License-Identifier: MIT
# Calendar invitations by mail (iMIP, RFC 6047; docs/calendar.md "Invitations by mail") over a
# real Dovecot and Postfix (scripts/mail-system.sh): alice invites someone outside the context
# (and bob, inside): the outside mailbox gets a METHOD:REQUEST by SMTP, the attendee answers by
# SMTP, deleting the event sends a METHOD:CANCEL; the outside attendee's METHOD:REPLY arriving in alice's INBOX sets their PARTSTAT on
# alice's event when she next looks at her events (JSON API or a CalDAV REPORT), and the message is flagged $iMIPProcessed;
# forged replies (another organiser, an unknown UID, an attendee not invited, a sender that is
# not the attendee, an inside attendee) change nothing.
import email
import smtplib
import time

import pytest
import requests

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import Cluster
from test_events import User
from test_mail import ACCESS, mail_section, provision, world  # noqa: F401  (pytest fixture)

OUTSIDE = "outside@outside.test"
KEYWORD = "$iMIPProcessed"


def reply(uid, partstat="ACCEPTED", organizer="alice@example.com", attendee=OUTSIDE,
          sender=OUTSIDE, method="REPLY"):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//outside//EN\r\n"
           f"METHOD:{method}\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
           f"ORGANIZER:mailto:{organizer}\r\n"
           f"ATTENDEE;PARTSTAT={partstat}:mailto:{attendee}\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n")
    return (f"From: Outside <{sender}>\r\nTo: alice@example.com\r\n"
            f"Subject: Accepted: Planning\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=B\r\n\r\n"
            "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI accept.\r\n"
            f"--B\r\nContent-Type: text/calendar; method={method}; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{ics}--B--\r\n").encode()


def status_of(ev, email):
    return {a["email"]: a.get("status", "NEEDS-ACTION") for a in ev["attendees"]}[email]


def keywords(ms, user):
    """UID -> flags of user's INBOX messages."""
    m = ms.imap(user)
    try:
        m.select("INBOX")
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        assert typ == "OK", data
        out = {}
        for line in data:
            if line is None:
                continue
            text = line.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            out[uid] = text
        return out
    finally:
        m.logout()


def event_status(alice, ev_id, email, want, deadline=20):
    """Polls alice's event (each GET may scan her INBOX) until email's status is want."""
    end = time.monotonic() + deadline
    while True:
        ev, _ = alice.call("GET", f"/api/v1/events/{ev_id}")
        got = status_of(ev, email)
        if got == want or time.monotonic() > end:
            return got
        time.sleep(0.3)


def test_reply_from_outside_updates_the_organisers_event(world):
    ms = world.mail
    alice, bob = User(world, "alice"), User(world, "bob")
    ev, _ = alice.call("POST", f"/api/v1/events?folder={alice.calendar}",
                       {"summary": "Planning", "start": "2026-05-04T09:00:00Z",
                        "end": "2026-05-04T10:00:00Z",
                        "attendees": [{"email": OUTSIDE}, {"email": "bob@example.com"},
                                      {"email": "other@outside.test"}]}, expect=201)
    uid = ev["uid"]
    assert status_of(ev, OUTSIDE) == "NEEDS-ACTION", ev
    # forged or foreign replies first: none of them changes the event
    ms.deliver("alice", reply(uid, organizer="mallory@example.com"))
    ms.deliver("alice", reply("no-such-uid@x"))
    ms.deliver("alice", reply(uid, attendee="stranger@outside.test", sender="stranger@outside.test"))
    ms.deliver("alice", reply(uid, sender="other@outside.test"))  # sender is not the attendee
    ms.deliver("alice", reply(uid, attendee="bob@example.com", sender="bob@example.com",
                              partstat="DECLINED"))  # bob answers inside Tandem
    ms.deliver("alice", reply(uid, method="REQUEST"))  # not a reply: left alone, not flagged
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ev2, _ = alice.call("GET", f"/api/v1/events/{ev['id']}")
        flags = keywords(ms, "alice")
        if sum(KEYWORD in f for f in flags.values()) >= 5:
            break
        time.sleep(0.3)
    assert [KEYWORD in flags[u] for u in sorted(flags)] == [True] * 5 + [False], flags
    ev2, _ = alice.call("GET", f"/api/v1/events/{ev['id']}")
    assert status_of(ev2, OUTSIDE) == "NEEDS-ACTION", ev2
    assert status_of(ev2, "bob@example.com") == "NEEDS-ACTION", ev2
    assert "stranger@outside.test" not in {a["email"] for a in ev2["attendees"]}, ev2
    # the real reply
    ms.deliver("alice", reply(uid))
    assert event_status(alice, ev["id"], OUTSIDE, "ACCEPTED") == "ACCEPTED"
    ev3, _ = alice.call("GET", f"/api/v1/events/{ev['id']}")
    assert {a["email"]: a.get("scheduleStatus") for a in ev3["attendees"]}[OUTSIDE] == "2.0"
    assert status_of(ev3, "other@outside.test") == "NEEDS-ACTION", ev3
    assert KEYWORD in keywords(ms, "alice")[7]
    # bob's copy is untouched by any of it
    data, _ = bob.call("GET", f"/api/v1/events?folder={bob.calendar}"
                              "&start=2026-05-01&end=2026-06-01")
    assert [i["uid"] for i in data["instances"]] == [uid], data
    # a later change of mind (TENTATIVE, then DECLINED) lands as well
    ms.deliver("alice", reply(uid, partstat="DECLINED"))
    assert event_status(alice, ev["id"], OUTSIDE, "DECLINED") == "DECLINED"
    # the listing scans too
    ms.deliver("alice", reply(uid, partstat="TENTATIVE"))
    end = time.monotonic() + 20
    while time.monotonic() < end:
        alice.call("GET", f"/api/v1/events?folder={alice.calendar}"
                          "&start=2026-05-01&end=2026-06-01")
        if KEYWORD in keywords(ms, "alice").get(9, ""):
            break
        time.sleep(0.3)
    ev4, _ = alice.call("GET", f"/api/v1/events/{ev['id']}")
    assert status_of(ev4, OUTSIDE) == "TENTATIVE", ev4
    # a CalDAV-only organiser: her client's REPORT reads the INBOX (no JSON call in between)
    ms.deliver("alice", reply(uid, partstat="ACCEPTED"))
    folder, _ = alice.call("GET", f"/api/v1/folders/{alice.calendar}")
    url = f"http://127.0.0.1:{world.nodes[0].port}{folder['dav']}"
    query = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
             'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
             '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
    end = time.monotonic() + 20
    while True:
        r = requests.request("REPORT", url, data=query, auth=("alice", "alice_pw"),
                             headers={"Depth": "1", "Content-Type": "application/xml"},
                             timeout=30)
        assert r.status_code == 207, r.text
        if "PARTSTAT=ACCEPTED" in r.text.replace("\r\n ", "") or time.monotonic() > end:
            break
        time.sleep(0.3)
    assert "PARTSTAT=ACCEPTED" in r.text.replace("\r\n ", ""), r.text


@pytest.fixture
def smtp_world(workdir, mail_system):  # noqa: F811
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=ACCESS + mail_section(mail_system, f"smtp_url = {mail_system.smtp_url}\n"))
    provision(c, workdir, (("alice", None), ("bob", None)))
    c.mail = mail_system
    yield c
    c.stop()


def calendar_parts(ms, user, deadline=20):
    """Polls user's INBOX until it holds messages with a text/calendar part; returns
    [(method, calendar text, message)] in arrival order."""
    end = time.monotonic() + deadline
    while True:
        m = ms.imap(user)
        try:
            m.select("INBOX")
            typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
            found = []
            for item in data:
                if not isinstance(item, tuple):
                    continue
                msg = email.message_from_bytes(item[1])
                for part in msg.walk():
                    if part.get_content_type() == "text/calendar":
                        found.append((part.get_param("method"),
                                      part.get_payload(decode=True).decode(), msg))
        finally:
            m.logout()
        if found or time.monotonic() > end:
            return found
        time.sleep(0.3)


def test_invitation_reply_and_cancel_by_smtp(smtp_world):
    w, ms = smtp_world, smtp_world.mail
    alice = User(w, "alice")
    ev, _ = alice.call("POST", f"/api/v1/events?folder={alice.calendar}",
                       {"summary": "Planning", "start": "2026-05-04T09:00:00Z",
                        "end": "2026-05-04T10:00:00Z",
                        "attendees": [{"email": OUTSIDE}, {"email": "bob@example.com"},
                                      {"email": "nobody@nowhere.test"}]}, expect=201)
    uid = ev["uid"]
    sched = {a["email"]: a.get("scheduleStatus") for a in ev["attendees"]}
    # delivered to the submission server / refused there (no such mailbox): the event stands
    assert sched == {OUTSIDE: "1.2", "bob@example.com": "1.2",
                     "nobody@nowhere.test": "5.1"}, ev
    got = calendar_parts(ms, "outside")
    assert len(got) == 1, got
    method, ics, msg = got[0]
    assert method == "REQUEST" and "METHOD:REQUEST" in ics and f"UID:{uid}" in ics, ics
    assert "SCHEDULE-STATUS" not in ics, ics
    assert msg["From"] == "alice <alice@example.com>" or "alice@example.com" in msg["From"], msg
    assert msg.get_content_type() == "multipart/mixed", msg
    assert any(p.get_filename() == "invite.ics" for p in msg.walk())
    assert any(p.get_content_type() == "text/plain" and
               "Planning" in p.get_payload(decode=True).decode() for p in msg.walk())
    # bob (inside) gets no mail, but his copy
    assert calendar_parts(ms, "bob", deadline=0) == []
    # outside accepts by SMTP
    with smtplib.SMTP("127.0.0.1", ms.smtp_port) as smtp:
        smtp.login("outside", "outside-pw")
        smtp.sendmail(OUTSIDE, ["alice@example.com"], reply(uid))
    assert event_status(alice, ev["id"], OUTSIDE, "ACCEPTED") == "ACCEPTED"
    # deleting the event cancels it for outside
    alice.call("DELETE", f"/api/v1/events/{ev['id']}", expect=204)
    end = time.monotonic() + 20
    while True:
        got = calendar_parts(ms, "outside")
        if len(got) >= 2 or time.monotonic() > end:
            break
        time.sleep(0.3)
    assert [g[0] for g in got] == ["REQUEST", "CANCEL"], got
    assert "STATUS:CANCELLED" in got[1][1] and f"UID:{uid}" in got[1][1], got[1][1]
