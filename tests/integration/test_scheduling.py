# SPDX-License-Identifier: MIT
# Scheduling within a context (RFC 6638 subset) end to end: alice invites bob and a room
# through the JSON API and through CalDAV PUT; bob finds his copy NEEDS-ACTION, answers through
# POST /api/v1/events/{id}/reply and through a CalDAV PUT of his copy, and alice's copy shows
# it; removing an attendee and deleting the event cancel the copies; a room booked twice at
# once declines the second; free/busy through the JSON API and the CalDAV outbox; the
# principal's scheduling properties; and all of it across two nodes.
import re

import pytest

from cluster_setup import start_cluster, wait_for
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from provisioning import ApiClient
from test_caldav import client, raw
from test_events import User, cal, calendar_node

C = "urn:ietf:params:xml:ns:caldav"


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = calendar_node(str(tmp_path_factory.mktemp("sched")), ("alice", "bob", "carol"),
                      extra="[access no-calendar]\nmodules = files\n")
    w.room = w.cluster.json("createresource", "-c", "1", "-n", "room-1", "-d", "Room 1",
                            "-e", "room-1@example.com")["id"]
    w.cluster.ok("createuser", "-c", "1", "-u", "dave", "-d", "dave", "-g", "G", "-s", "S",
                 "-p", "dave_pw", "-e", "dave@example.com", "--access-combination-name",
                 "no-calendar")
    yield w
    w.cluster.stop()


def invite(user, summary, start, end, attendees):
    ev, _ = user.call("POST", f"/api/v1/events?folder={user.calendar}",
                      {"summary": summary, "start": start, "end": end,
                       "attendees": [{"email": a} for a in attendees]}, expect=201)
    return ev


def copy_of(user, uid, start="2026-01-01", end="2027-01-01"):
    """user's copy of the event with UID uid (JSON form), or None."""
    data, _ = user.call("GET", f"/api/v1/events?folder={user.calendar}&start={start}&end={end}")
    ids = {i["id"] for i in data["instances"] if i["uid"] == uid}
    if not ids:
        return None
    assert len(ids) == 1, data
    return user.call("GET", f"/api/v1/events/{ids.pop()}")[0]


def status_of(ev, email):
    return {a["email"]: a.get("status") for a in ev["attendees"]}[email]


def test_json_invitation_reply_and_organiser_copy(w):
    a, b = w.alice, w.bob
    ev = invite(a, "Planning", "2026-05-04T09:00:00Z", "2026-05-04T10:00:00Z",
                ["bob@example.com", "room-1@example.com", "someone@elsewhere.test"])
    assert ev["organizer"]["email"] == "alice@example.com", ev
    assert status_of(ev, "bob@example.com") == "NEEDS-ACTION"
    assert status_of(ev, "room-1@example.com") == "ACCEPTED"
    sched = {x["email"]: x.get("scheduleStatus") for x in ev["attendees"]}
    assert sched == {"bob@example.com": "1.2", "room-1@example.com": "1.2",
                     "someone@elsewhere.test": "5.1"}, ev
    assert "myStatus" not in ev  # the organiser is no attendee
    mine = copy_of(b, ev["uid"])
    assert mine is not None and mine["summary"] == "Planning"
    assert mine["myStatus"] == "NEEDS-ACTION" and mine["organizer"]["email"] == "alice@example.com"
    assert all("scheduleStatus" not in x for x in mine["attendees"]), mine
    # bob accepts: his copy and alice's say so
    answer, _ = b.call("POST", f"/api/v1/events/{mine['id']}/reply", {"status": "ACCEPTED"})
    assert answer["myStatus"] == "ACCEPTED" and answer["id"] == mine["id"]
    theirs = a.call("GET", f"/api/v1/events/{ev['id']}")[0]
    assert status_of(theirs, "bob@example.com") == "ACCEPTED"
    # alice moves it: bob's copy follows and keeps his answer
    a.call("PUT", f"/api/v1/events/{ev['id']}",
           {"summary": "Planning (moved)", "start": "2026-05-04T11:00:00Z",
            "end": "2026-05-04T12:00:00Z",
            "attendees": [{"email": "bob@example.com"}, {"email": "room-1@example.com"}]})
    mine = copy_of(b, ev["uid"])
    assert mine["summary"] == "Planning (moved)" and mine["start"] == "2026-05-04T11:00:00Z"
    assert mine["myStatus"] == "ACCEPTED"
    theirs = a.call("GET", f"/api/v1/events/{ev['id']}")[0]
    assert status_of(theirs, "bob@example.com") == "ACCEPTED"
    assert status_of(theirs, "room-1@example.com") == "ACCEPTED"
    # bob edits his copy in the JSON form (which carries no ORGANIZER): alice stays organiser
    edited, _ = b.call("PUT", f"/api/v1/events/{mine['id']}",
                       {"summary": "Planning (bob's note)", "start": "2026-05-04T11:00:00Z",
                        "end": "2026-05-04T12:00:00Z",
                        "attendees": [{"email": "bob@example.com"},
                                      {"email": "room-1@example.com"}]})
    assert edited["organizer"]["email"] == "alice@example.com", edited
    assert edited["myStatus"] == "ACCEPTED"
    assert copy_of(w.carol, ev["uid"]) is None
    # bad replies
    b.error("POST", f"/api/v1/events/{mine['id']}/reply", 400, "CAL-0400",
            body={"status": "MAYBE"}, words=("ACCEPTED",))
    a.error("POST", f"/api/v1/events/{ev['id']}/reply", 400, "CAL-0400",
            body={"status": "ACCEPTED"}, words=("organise",))
    w.carol.error("POST", f"/api/v1/events/{ev['id']}/reply", 404, "CAL-0404",
                  body={"status": "ACCEPTED"})
    # alice drops bob: his copy is cancelled; then deletes it: the room is free again
    a.call("PUT", f"/api/v1/events/{ev['id']}",
           {"summary": "Planning (moved)", "start": "2026-05-04T11:00:00Z",
            "end": "2026-05-04T12:00:00Z", "attendees": [{"email": "room-1@example.com"}]})
    assert copy_of(b, ev["uid"])["status"] == "CANCELLED"
    fb = a.call("GET", "/api/v1/freebusy?resources=room-1&start=2026-05-04&end=2026-05-05")[0]
    assert [x["start"] for x in fb["freebusy"][0]["busy"]] == ["2026-05-04T11:00:00Z"], fb
    a.call("DELETE", f"/api/v1/events/{ev['id']}", expect=204)
    fb = a.call("GET", "/api/v1/freebusy?resources=room-1&start=2026-05-04&end=2026-05-05")[0]
    assert fb["freebusy"][0]["busy"] == [], fb


def test_delete_cancels_and_attendee_delete_declines(w):
    a, b, c = w.alice, w.bob, w.carol
    ev = invite(a, "Review", "2026-05-06T09:00:00Z", "2026-05-06T10:00:00Z",
                ["bob@example.com", "carol@example.com"])
    cc = copy_of(c, ev["uid"])
    c.call("DELETE", f"/api/v1/events/{cc['id']}", expect=204)
    theirs = a.call("GET", f"/api/v1/events/{ev['id']}")[0]
    assert status_of(theirs, "carol@example.com") == "DECLINED"
    assert status_of(theirs, "bob@example.com") == "NEEDS-ACTION"
    a.call("DELETE", f"/api/v1/events/{ev['id']}", expect=204)
    assert copy_of(b, ev["uid"])["status"] == "CANCELLED"


def test_room_conflict_is_declined(w):
    a, c = w.alice, w.carol
    first = invite(a, "Board", "2026-05-11T09:00:00Z", "2026-05-11T11:00:00Z",
                   ["room-1@example.com"])
    assert status_of(first, "room-1@example.com") == "ACCEPTED"
    clash = invite(c, "Workshop", "2026-05-11T10:00:00Z", "2026-05-11T12:00:00Z",
                   ["room-1@example.com"])
    assert status_of(clash, "room-1@example.com") == "DECLINED"
    later = invite(c, "Workshop", "2026-05-11T11:00:00Z", "2026-05-11T12:00:00Z",
                   ["room-1@example.com"])
    assert status_of(later, "room-1@example.com") == "ACCEPTED"
    # a weekly series meets the booking in its second week
    weekly, _ = c.call("POST", f"/api/v1/events?folder={c.calendar}",
                       {"summary": "Weekly", "start": "2026-05-04T10:30:00Z",
                        "end": "2026-05-04T10:45:00Z", "rrule": "FREQ=WEEKLY;COUNT=4",
                        "attendees": [{"email": "room-1@example.com"}]}, expect=201)
    assert status_of(weekly, "room-1@example.com") == "DECLINED"
    # a resource taken out of service declines new bookings and keeps the ones it has
    w.cluster.ok("createresource", "-c", "1", "-n", "beamer", "-d", "Beamer",
                 "-e", "beamer@example.com")
    kept = invite(a, "Talk", "2026-05-12T09:00:00Z", "2026-05-12T10:00:00Z",
                  ["beamer@example.com"])
    w.cluster.ok("changeresource", "-c", "1", "-n", "beamer", "--available", "false")
    refused = invite(c, "Demo", "2026-05-13T09:00:00Z", "2026-05-13T10:00:00Z",
                     ["beamer@example.com"])
    assert status_of(refused, "beamer@example.com") == "DECLINED"
    kept, _ = a.call("PUT", f"/api/v1/events/{kept['id']}",
                     {"summary": "Talk (longer)", "start": "2026-05-12T09:00:00Z",
                      "end": "2026-05-12T10:30:00Z",
                      "attendees": [{"email": "beamer@example.com"}]})
    assert status_of(kept, "beamer@example.com") == "ACCEPTED"
    fb = c.call("GET", "/api/v1/freebusy?resources=" + str(w.room) +
                "&start=2026-05-11T00:00:00Z&end=2026-05-12T00:00:00Z")[0]
    assert fb == {"freebusy": [{"resource": w.room, "name": "room-1", "busy": [
        {"start": "2026-05-11T09:00:00Z", "end": "2026-05-11T11:00:00Z", "type": "BUSY"},
        {"start": "2026-05-11T11:00:00Z", "end": "2026-05-11T12:00:00Z", "type": "BUSY"}]}]}


def test_freebusy_of_users(w):
    a, b = w.alice, w.bob
    b.call("POST", f"/api/v1/events?folder={b.calendar}",
           {"summary": "Secret", "start": "2026-06-01T08:00:00Z", "end": "2026-06-01T09:00:00Z",
            "rrule": "FREQ=DAILY;COUNT=3"}, expect=201)
    b.put_ics(b.calendar, cal("BEGIN:VEVENT\r\nUID:free@t\r\nDTSTART:20260601T120000Z\r\n"
                              "DTEND:20260601T130000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"))
    inv = invite(a, "Sync", "2026-06-02T14:00:00Z", "2026-06-02T15:00:00Z", ["bob@example.com"])
    declined = invite(a, "Other", "2026-06-02T16:00:00Z", "2026-06-02T17:00:00Z",
                      ["bob@example.com"])
    b.call("POST", f"/api/v1/events/{copy_of(b, declined['uid'])['id']}/reply",
           {"status": "DECLINED"})
    fb, _ = a.call("GET", "/api/v1/freebusy?users=bob," + str(a.uid) +
                   "&start=2026-06-01T00:00:00Z&end=2026-06-02T23:00:00Z")
    bob, alice = fb["freebusy"]
    assert bob["user"] == b.uid and bob["login"] == "bob"
    assert bob["busy"] == [
        {"start": "2026-06-01T08:00:00Z", "end": "2026-06-01T09:00:00Z", "type": "BUSY"},
        {"start": "2026-06-02T08:00:00Z", "end": "2026-06-02T09:00:00Z", "type": "BUSY"},
        {"start": "2026-06-02T14:00:00Z", "end": "2026-06-02T15:00:00Z",
         "type": "BUSY-TENTATIVE"}], bob
    assert "Secret" not in str(fb)
    assert alice["login"] == "alice" and [x["start"] for x in alice["busy"]] == [
        "2026-06-02T14:00:00Z", "2026-06-02T16:00:00Z"], alice
    assert inv["id"]
    a.error("GET", "/api/v1/freebusy?users=nobody&start=2026-06-01&end=2026-06-02", 404,
            "CAL-0404", words=("nobody",))
    a.error("GET", "/api/v1/freebusy?users=bob&start=2026-06-02&end=2026-06-01", 400,
            "CAL-0400")
    a.error("GET", "/api/v1/freebusy?start=2026-06-01&end=2026-06-02", 400, "CAL-0400")


def caldav_event(uid, attendees, partstat=None, start="20260701T090000Z",
                 end="20260701T100000Z", summary="Call"):
    lines = "".join(
        f"ATTENDEE;CN={e.split('@')[0]}"
        f"{';PARTSTAT=' + partstat[e] if partstat and e in partstat else ''}:mailto:{e}\r\n"
        for e in attendees)
    return cal(f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\n"
               f"DTSTART:{start}\r\nDTEND:{end}\r\nORGANIZER;CN=alice:mailto:alice@example.com"
               f"\r\n{lines}END:VEVENT\r\n")


def test_caldav_invitation_and_reply(w):
    a, b = w.alice, w.bob
    path = f"/dav/calendars/alice/{a.calendar}/call.ics"
    st, resp, _ = raw(w, "alice", "PUT", path,
                      caldav_event("call@t", ["alice@example.com", "bob@example.com",
                                              "room-1@example.com"],
                                   {"alice@example.com": "ACCEPTED"}),
                      {"Content-Type": "text/calendar"})
    assert st == 201
    assert resp.getheader("ETag") is None  # the server added SCHEDULE-STATUS
    st, _, text = raw(w, "alice", "GET", path)
    text = text.replace("\r\n ", "")
    assert "SCHEDULE-STATUS=1.2" in text and \
        "PARTSTAT=ACCEPTED;SCHEDULE-STATUS=1.2:mailto:room-1" in text, text
    mine = copy_of(b, "call@t")
    assert mine["myStatus"] == "NEEDS-ACTION"
    # bob accepts in his client: a PUT of his copy with his PARTSTAT changed
    bpath = f"/dav/calendars/bob/{b.calendar}/{mine['name']}"
    st, _, copy = raw(w, "bob", "GET", bpath)
    assert st == 200 and "SCHEDULE-STATUS" not in copy
    accepted = re.sub(r"PARTSTAT=NEEDS-ACTION(;[^:]*)?:mailto:bob@example.com",
                      "PARTSTAT=ACCEPTED:mailto:bob@example.com", copy.replace("\r\n ", ""))
    assert accepted != copy
    st, _, _ = raw(w, "bob", "PUT", bpath, accepted, {"Content-Type": "text/calendar"})
    assert st == 204
    st, _, text = raw(w, "alice", "GET", path)
    assert re.search(r"PARTSTAT=ACCEPTED[^\r\n]*mailto:bob@example.com",
                     text.replace("\r\n ", "")), text
    # alice drops bob through CalDAV: his copy is cancelled
    st, _, _ = raw(w, "alice", "PUT", path,
                   caldav_event("call@t", ["alice@example.com", "room-1@example.com"]),
                   {"Content-Type": "text/calendar"})
    assert st == 204
    assert copy_of(b, "call@t")["status"] == "CANCELLED"
    # and deletes it through CalDAV
    assert raw(w, "alice", "DELETE", path)[0] == 204


def test_an_invitation_never_replaces_someone_elses_object(w):
    c = w.carol
    own = c.put_ics(c.calendar, cal("BEGIN:VEVENT\r\nUID:carols@t\r\nSUMMARY:Mine\r\n"
                                    "DTSTART:20260710T090000Z\r\nDTEND:20260710T100000Z\r\n"
                                    "END:VEVENT\r\n"))
    st, _, _ = raw(w, "alice", "PUT", f"/dav/calendars/alice/{w.alice.calendar}/x.ics",
                   caldav_event("carols@t", ["carol@example.com"], summary="Hijack"),
                   {"Content-Type": "text/calendar"})
    assert st == 201
    after = c.call("GET", f"/api/v1/events/{own['id']}")[0]
    assert after["summary"] == "Mine" and after["etag"] == own["etag"]


def test_principal_and_outbox_freebusy(w):
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="' + C + '"><D:prop>'
            "<C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-user-address-set/>"
            "</D:prop></D:propfind>")
    st, _, text = raw(w, "bob", "PROPFIND", "/dav/principals/users/bob/", body,
                      {"Depth": "0"})
    assert st == 207
    assert "/dav/calendars/bob/inbox/" in text and "/dav/calendars/bob/outbox/" in text
    assert "mailto:bob@example.com" in text, text
    for path in ("/dav/principals/users/bob/", "/dav/calendars/bob/"):
        st, resp, _ = raw(w, "bob", "OPTIONS", path)
        assert st == 200 and "calendar-auto-schedule" in resp.getheader("DAV"), path
    st, _, text = raw(w, "bob", "PROPFIND", "/dav/calendars/bob/inbox/", None, {"Depth": "1"})
    assert st == 207 and "schedule-inbox" in text, text
    w.bob.call("POST", f"/api/v1/events?folder={w.bob.calendar}",
               {"summary": "Dentist", "start": "2026-08-03T10:00:00Z",
                "end": "2026-08-03T11:00:00Z"}, expect=201)
    req = cal("METHOD:REQUEST\r\n")[:-len("END:VCALENDAR\r\n")] + (
        "BEGIN:VFREEBUSY\r\nUID:fb@t\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260803T000000Z\r\nDTEND:20260804T000000Z\r\n"
        "ORGANIZER:mailto:alice@example.com\r\nATTENDEE:mailto:bob@example.com\r\n"
        "ATTENDEE:mailto:nobody@example.com\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    st, _, text = raw(w, "alice", "POST", "/dav/calendars/alice/outbox/", req,
                      {"Content-Type": "text/calendar"})
    assert st == 200, text
    assert "schedule-response" in text and "2.0;Success" in text and "3.7;" in text, text
    assert "FREEBUSY;FBTYPE=BUSY:20260803T100000Z/20260803T110000Z" in text, text
    assert "Dentist" not in text
    # only for oneself
    st, _, text = raw(w, "bob", "POST", "/dav/calendars/bob/outbox/", req,
                      {"Content-Type": "text/calendar"})
    assert st == 403 and "organizer-allowed" in text
    st, _, text = raw(w, "alice", "POST", "/dav/calendars/alice/outbox/", "nonsense")
    assert st == 400 and "valid-calendar-data" in text
    for path in ("/dav/calendars/alice/inbox/", "/dav/files/home/"):
        assert raw(w, "alice", "POST", path, req)[0] == 405, path


def test_module_access(w):
    d = ApiClient(w.cluster.nodes[0].port)
    assert d.login("dave", "dave_pw")[0] == 200
    for method, path, body in (
            ("GET", "/api/v1/freebusy?users=bob&start=2026-06-01&end=2026-06-02", None),
            ("POST", "/api/v1/events/1/reply", {"status": "ACCEPTED"})):
        st, data, _ = d.request(method, path, body)
        assert st == 403 and data["error"]["code"] == "ACC-0403", (path, data)
    assert raw(w, "dave", "POST", "/dav/calendars/dave/outbox/", "x")[0] \
        == 403


def test_two_nodes(tmp_path, redis_server):  # noqa: F811
    c = start_cluster(str(tmp_path), redis_server.url, users=("alice", "bob"))
    try:
        a = User(c, "alice", node=0)
        b = User(c, "bob", node=1)
        ev = invite(a, "Across", "2026-09-01T09:00:00Z", "2026-09-01T10:00:00Z",
                    ["bob@example.com"])
        mine = wait_for("bob's copy on node 2", lambda: copy_of(b, ev["uid"]))
        assert mine["myStatus"] == "NEEDS-ACTION"
        b.call("POST", f"/api/v1/events/{mine['id']}/reply", {"status": "TENTATIVE"})
        wait_for("alice's copy on node 1", lambda: status_of(
            a.call("GET", f"/api/v1/events/{ev['id']}")[0], "bob@example.com") == "TENTATIVE")
        fb = a.call("GET", "/api/v1/freebusy?users=bob&start=2026-09-01&end=2026-09-02")[0]
        assert fb["freebusy"][0]["busy"][0]["type"] == "BUSY-TENTATIVE"
    finally:
        c.stop()


def test_python_caldav_client(w):
    """Debian's python3-caldav: the principal's scheduling properties and an invitation with
    save_with_invites (its freebusy_request reads the schedule-response as a multistatus,
    which it is not: the outbox is tested with raw requests above)."""
    principal = client(w, "alice").principal()
    assert "mailto:alice@example.com" in principal.calendar_user_address_set()
    assert principal.schedule_inbox().url.path == "/dav/calendars/alice/inbox/"
    cal_a = principal.calendar(cal_id=str(w.alice.calendar))
    ics = cal("BEGIN:VEVENT\r\nUID:lib@t\r\nDTSTAMP:20260101T000000Z\r\n"
              "SUMMARY:From the library\r\nDTSTART:20260901T090000Z\r\n"
              "DTEND:20260901T100000Z\r\nEND:VEVENT\r\n")
    cal_a.save_with_invites(ics, ["bob@example.com"])
    assert copy_of(w.bob, "lib@t", start="2026-09-01", end="2026-09-02")["myStatus"] == \
        "NEEDS-ACTION"
