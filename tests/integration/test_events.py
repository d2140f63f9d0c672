# SPDX-License-Identifier: MIT
# Events (/api/v1/events) end to end on a provisioned SQLite tandemd: CRUD in the JSON form and
# as iCalendar (byte-equal), range queries with recurrence (EXDATE, a moved instance, COUNT,
# Europe/Berlin across DST), changes since a revision, permissions of a shared calendar, import
# of a multi-event .ics, and bad input answered 4xx with nothing stored.
import pytest

from provisioning import ApiClient, Cluster, sqlite_rows

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]
VIEWER_BITS = 1 | (2 << 7)          # see the folder, read all objects
OWNER_BITS = 403710016


def cal(body):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + body +
            "END:VCALENDAR\r\n")


WEEKLY = cal("BEGIN:VEVENT\r\nUID:standup@t\r\nSUMMARY:Standup\r\n"
             "DTSTART:20260302T090000Z\r\nDTEND:20260302T093000Z\r\n"
             "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE:20260309T090000Z\r\n"
             "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:x\r\nEND:VALARM\r\n"
             "END:VEVENT\r\n"
             "BEGIN:VEVENT\r\nUID:standup@t\r\nSUMMARY:Standup (moved)\r\n"
             "RECURRENCE-ID:20260316T090000Z\r\nDTSTART:20260317T140000Z\r\n"
             "DTEND:20260317T143000Z\r\nEND:VEVENT\r\n")


class User:
    def __init__(self, c, login, node=0):
        self.api = ApiClient(c.nodes[node].port)
        status, body, _ = self.api.login(login, login + "_pw")
        assert status == 200, body
        self.uid = body["user_id"]
        self.calendar = self.default("calendar")
        self.tasks = self.default("tasks")

    def default(self, module):
        status, body, _ = self.api.request("GET", "/api/v1/folders?parent=1")
        assert status == 200, body
        mine = [f["id"] for f in body["folders"] if f.get("default") and
                f.get("module") == module and f.get("owner") == self.uid]
        assert len(mine) == 1, body
        return mine[0]

    def call(self, method, path, body=None, expect=200, headers=None, raw=None):
        status, data, resp = self.api.request(method, path, body, headers=headers, raw=raw)
        assert status == expect, (method, path, status, data)
        return data, resp

    def put_ics(self, folder, text, expect=201):
        return self.call("POST", f"/api/v1/events?folder={folder}", raw=text.encode(),
                         headers={"Content-Type": "text/calendar"}, expect=expect)[0]

    def error(self, method, path, expect, code, body=None, raw=None, headers=None, words=()):
        data, _ = self.call(method, path, body, expect=expect, raw=raw, headers=headers)
        assert data["error"]["code"] == code, data
        for w in words:
            assert w in data["error"]["message"], data
        return data


def calendar_node(workdir, logins, extra=""):
    """A provisioned SQLite node with context 1 and the users logins (password <login>_pw):
    the cluster, and an object with the users (User) by login and the user database's path.
    extra: more tandemd configuration sections."""
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=extra)
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login in logins:
        c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
             "-p", f"{login}_pw", "-e", f"{login}@example.com")

    class W:
        pass
    w = W()
    w.cluster = c
    w.udb = f"{workdir}/u/db1_1.sqlite"
    for login in logins:
        setattr(w, login, User(c, login))
    return w


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = calendar_node(str(tmp_path_factory.mktemp("events")), ("alice", "bob", "carol"))
    yield w
    w.cluster.stop()


def count_objects(w):
    return sqlite_rows(w.udb, "SELECT COUNT(*) FROM cal_object")[0][0]


def test_json_crud_and_ics_round_trip(w):
    a = w.alice
    ev, resp = a.call("POST", f"/api/v1/events?folder={a.calendar}",
                      {"summary": "Lunch", "start": "2026-03-02T12:00:00Z",
                       "end": "2026-03-02T13:00:00Z", "location": "Canteen",
                       "attendees": [{"email": "bob@example.com", "name": "Bob"}]},
                      expect=201)
    assert ev["summary"] == "Lunch" and ev["location"] == "Canteen"
    assert ev["start"] == "2026-03-02T12:00:00Z" and ev["end"] == "2026-03-02T13:00:00Z"
    # bob is a user of the context: he is invited (test_scheduling.py)
    assert ev["attendees"] == [{"email": "bob@example.com", "name": "Bob",
                                "status": "NEEDS-ACTION", "scheduleStatus": "1.2"}]
    assert resp.getheader("ETag") == f'"{ev["etag"]}"'
    got, _ = a.call("GET", f"/api/v1/events/{ev['id']}")
    assert got["uid"] == ev["uid"] and got["folder"] == a.calendar
    # PUT in the JSON form keeps the UID; a stale If-Match is refused
    upd, _ = a.call("PUT", f"/api/v1/events/{ev['id']}",
                    {"summary": "Long lunch", "start": "2026-03-02T12:00:00Z",
                     "end": "2026-03-02T14:00:00Z"}, headers={"If-Match": f'"{ev["etag"]}"'})
    assert upd["summary"] == "Long lunch" and upd["uid"] == ev["uid"]
    assert upd["revision"] > ev["revision"] and upd["etag"] != ev["etag"]
    a.error("PUT", f"/api/v1/events/{ev['id']}", 412, "CAL-0412",
            {"summary": "x", "start": "2026-03-02T12:00:00Z"},
            headers={"If-Match": f'"{ev["etag"]}"'})
    # iCalendar in, byte-equal out, VALARM and all
    made = a.put_ics(a.calendar, WEEKLY)
    assert made["recurs"] is True and made["alarms"] == 1
    raw, resp = a.call("GET", f"/api/v1/events/{made['id']}?format=ics")
    assert raw == WEEKLY.encode()
    assert resp.getheader("Content-Type").startswith("text/calendar")
    # delete
    a.call("DELETE", f"/api/v1/events/{ev['id']}", expect=204)
    a.error("GET", f"/api/v1/events/{ev['id']}", 404, "CAL-0404")


def test_range_query_expands_recurrence(w):
    a = w.alice
    folder = w.alice.calendar

    def summaries(start, end):
        data, _ = a.call("GET", f"/api/v1/events?folder={folder}&start={start}&end={end}")
        return [(i["summary"], i["start"]) for i in data["instances"]
                if i["uid"] == "standup@t"]

    if not summaries("2026-03-02", "2026-03-03"):
        a.put_ics(folder, WEEKLY)
    # the EXDATE'd week has nothing; the moved instance is at its new time only
    assert summaries("2026-03-09", "2026-03-16") == []
    assert summaries("2026-03-16", "2026-03-17") == []
    assert summaries("2026-03-17", "2026-03-18") == [("Standup (moved)",
                                                      "2026-03-17T14:00:00Z")]
    assert summaries("2026-03-23", "2026-03-24") == [("Standup", "2026-03-23T09:00:00Z")]
    # COUNT ends a series; Europe/Berlin keeps 09:00 local across the DST change
    a.put_ics(folder, cal("BEGIN:VEVENT\r\nUID:berlin@t\r\nSUMMARY:Berlin\r\n"
                          "DTSTART;TZID=Europe/Berlin:20260327T090000\r\nDURATION:PT1H\r\n"
                          "RRULE:FREQ=DAILY;COUNT=4\r\nEND:VEVENT\r\n"))
    data, _ = a.call("GET", f"/api/v1/events?folder={folder}&start=2026-03-26&end=2026-04-30")
    starts = [i["start"] for i in data["instances"] if i["uid"] == "berlin@t"]
    assert starts == ["2026-03-27T08:00:00Z", "2026-03-28T08:00:00Z",
                      "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"]
    a.error("GET", f"/api/v1/events?folder={folder}&start=2026-03-26", 400, "CAL-0400",
            words=("together",))
    a.error("GET", f"/api/v1/events?folder={folder}&start=yesterday&end=2026-03-02", 400,
            "CAL-0400", words=("start",))


def test_changes_since_a_revision(w):
    a = w.alice
    base, _ = a.call("GET", f"/api/v1/events?folder={a.calendar}&since=0")
    rev = base["revision"]
    ev = a.put_ics(a.calendar, cal("BEGIN:VEVENT\r\nUID:sync@t\r\nSUMMARY:S\r\n"
                                   "DTSTART:20260401T090000Z\r\nEND:VEVENT\r\n"))
    a.call("DELETE", f"/api/v1/events/{ev['id']}", expect=204)
    ch, _ = a.call("GET", f"/api/v1/events?folder={a.calendar}&since={rev}")
    assert ch["revision"] == rev + 2
    assert [d["id"] for d in ch["deleted"]] == [ev["id"]]
    assert ch["changed"] == []
    a.error("GET", f"/api/v1/events?folder={a.calendar}&since={rev + 99}", 400, "CAL-0400",
            words=("unknown",))


def test_shared_calendar_permissions(w):
    a, b, c = w.alice, w.bob, w.carol
    team, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Team", "module": "calendar"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{team['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False, "bits": VIEWER_BITS}]})
    ev = a.put_ics(team["id"], cal("BEGIN:VEVENT\r\nUID:team@t\r\nSUMMARY:Team\r\n"
                                   "DTSTART:20260302T090000Z\r\nEND:VEVENT\r\n"))
    # the viewer reads, and may not create, change or delete
    got, _ = b.call("GET", f"/api/v1/events/{ev['id']}")
    assert got["summary"] == "Team"
    data, _ = b.call("GET", f"/api/v1/events?folder={team['id']}&start=2026-03-02&end=2026-03-03")
    assert [(i["id"], i["name"]) for i in data["instances"]] == [(ev["id"], "team@t.ics")]
    before = count_objects(w)
    b.error("POST", f"/api/v1/events?folder={team['id']}", 403, "CAL-0403",
            {"summary": "Mine", "start": "2026-03-02T10:00:00Z"})
    b.error("PUT", f"/api/v1/events/{ev['id']}", 403, "CAL-0403",
            {"summary": "Changed", "start": "2026-03-02T10:00:00Z"})
    b.error("DELETE", f"/api/v1/events/{ev['id']}", 403, "CAL-0403")
    assert count_objects(w) == before
    # someone it is not shared with sees nothing of it
    c.error("GET", f"/api/v1/events/{ev['id']}", 404, "CAL-0404")
    c.error("GET", f"/api/v1/events?folder={team['id']}&start=2026-03-02&end=2026-03-03",
            404, "CAL-0404")
    c.error("GET", f"/api/v1/events?folder={team['id']}&since=0", 404, "CAL-0404")
    c.error("GET", f"/api/v1/events?folder={a.calendar}", 404, "CAL-0404")
    c.error("POST", f"/api/v1/folders/{team['id']}/import", 404, "CAL-0404",
            raw=WEEKLY.encode(), headers={"Content-Type": "text/calendar"})


def test_import_many_events(w):
    a = w.alice
    folder, _ = a.call("POST", "/api/v1/folders",
                       {"parent": 1, "title": "Imported", "module": "calendar"}, expect=201)
    body = cal("".join(f"BEGIN:VEVENT\r\nUID:imp{i}@t\r\nSUMMARY:Import {i}\r\n"
                       f"DTSTART:202604{i + 1:02d}T090000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
                       for i in range(5)) +
               "BEGIN:VEVENT\r\nUID:imp0@t\r\nRECURRENCE-ID:20260401T090000Z\r\n"
               "DTSTART:20260401T100000Z\r\nEND:VEVENT\r\n"
               "BEGIN:VEVENT\r\nSUMMARY:no uid\r\nDTSTART:20260401T090000Z\r\nEND:VEVENT\r\n")
    res, _ = a.call("POST", f"/api/v1/folders/{folder['id']}/import", raw=body.encode(),
                    headers={"Content-Type": "text/calendar"})
    assert res["created"] == 5 and res["failed"] == 1, res
    bad = [r for r in res["results"] if "error" in r]
    assert bad[0]["error"]["code"] == "CAL-0400" and "UID" in bad[0]["error"]["message"]
    listing, _ = a.call("GET", f"/api/v1/events?folder={folder['id']}")
    assert sorted(o["uid"] for o in listing["objects"]) == [f"imp{i}@t" for i in range(5)]
    # the same file again: every UID is taken
    res, _ = a.call("POST", f"/api/v1/folders/{folder['id']}/import", raw=body.encode(),
                    headers={"Content-Type": "text/calendar"})
    assert res["created"] == 0
    assert {r["error"]["code"] for r in res["results"]} == {"CAL-0409", "CAL-0400"}
    a.error("POST", f"/api/v1/folders/{folder['id']}/import", 400, "CAL-0400",
            raw=b"not a calendar", headers={"Content-Type": "text/calendar"})


def test_bad_input_stores_nothing(w):
    a = w.alice
    before = count_objects(w)
    ics = {"Content-Type": "text/calendar"}
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400", raw=b"garbage",
            headers=ics)
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400",
            raw=cal("BEGIN:VEVENT\r\nUID:x@t\r\nSUMMARY:x\r\nEND:VEVENT\r\n").encode(),
            headers=ics, words=("DTSTART",))
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400",
            raw=cal("BEGIN:VTODO\r\nUID:x@t\r\nEND:VTODO\r\n").encode(), headers=ics,
            words=("VTODO",))
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400",
            raw=cal("BEGIN:VEVENT\r\nUID:x@t\r\nDTSTART;TZID=Nowhere/Land:20260302T090000\r\n"
                    "END:VEVENT\r\n").encode(), headers=ics, words=("time zone",))
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400",
            {"summary": "x", "start": "tomorrow"}, words=("start",))
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 400, "CAL-0400",
            {"summary": "x", "start": "2026-03-02T09:00:00Z", "rrule": "FREQ=SOMETIMES"},
            words=("rrule",))
    # a duplicate UID in the folder
    a.put_ics(a.calendar, cal("BEGIN:VEVENT\r\nUID:dup@t\r\nDTSTART:20260302T090000Z\r\n"
                              "END:VEVENT\r\n"))
    before += 1
    a.error("POST", f"/api/v1/events?folder={a.calendar}", 409, "CAL-0409",
            raw=cal("BEGIN:VEVENT\r\nUID:dup@t\r\nDTSTART:20260303T090000Z\r\n"
                    "END:VEVENT\r\n").encode(), headers=ics, words=("dup@t",))
    # oversize: refused before anything is parsed
    big = cal("BEGIN:VEVENT\r\nUID:big@t\r\nDTSTART:20260302T090000Z\r\nDESCRIPTION:" +
              "x" * (2 * 1024 * 1024) + "\r\nEND:VEVENT\r\n")
    status, _, _ = a.api.request("POST", f"/api/v1/events?folder={a.calendar}",
                                 raw=big.encode(), headers=ics)
    assert status == 413
    # events do not go into a tasks folder
    a.error("POST", f"/api/v1/events?folder={a.tasks}", 400, "CAL-0400",
            {"summary": "x", "start": "2026-03-02T09:00:00Z"}, words=("tasks",))
    assert count_objects(w) == before


def test_export_gives_the_folder_back(w):
    a = w.alice
    folder, _ = a.call("POST", "/api/v1/folders",
                       {"parent": 1, "title": "Exported", "module": "calendar"}, expect=201)
    a.put_ics(folder["id"], WEEKLY)
    a.put_ics(folder["id"], cal("BEGIN:VEVENT\r\nUID:berlin2@t\r\nSUMMARY:Berlin\r\n"
                                "DTSTART;TZID=Europe/Berlin:20260327T090000\r\n"
                                "DURATION:PT1H\r\nEND:VEVENT\r\n"))
    raw, resp = a.call("GET", f"/api/v1/folders/{folder['id']}/export")
    assert resp.getheader("Content-Type").startswith("text/calendar")
    text = raw.decode()
    assert text.startswith("BEGIN:VCALENDAR") and text.rstrip().endswith("END:VCALENDAR")
    assert text.count("BEGIN:VEVENT") == 3 and "RECURRENCE-ID" in text
    assert "UID:standup@t" in text and "UID:berlin2@t" in text
    # and it imports again into an empty folder as the same two objects
    other, _ = a.call("POST", "/api/v1/folders",
                      {"parent": 1, "title": "Re-imported", "module": "calendar"}, expect=201)
    res, _ = a.call("POST", f"/api/v1/folders/{other['id']}/import", raw=raw,
                    headers={"Content-Type": "text/calendar"})
    assert res["created"] == 2 and res["failed"] == 0, res
    w.carol.error("GET", f"/api/v1/folders/{folder['id']}/export", 404, "CAL-0404")


def test_a_change_through_one_node_is_seen_through_another(w):
    """No calendar cache: a client syncing through a second node sees a change made through
    the first at its next request."""
    c = w.cluster
    if len(c.nodes) < 2:
        c.start_node("OX-2")  # listening when it returns
    other = User(c, "alice", node=1)
    a = w.alice
    rev = other.call("GET", f"/api/v1/events?folder={a.calendar}&since=0")[0]["revision"]
    ev = a.put_ics(a.calendar, cal("BEGIN:VEVENT\r\nUID:twonodes@t\r\nSUMMARY:Two\r\n"
                                   "DTSTART:20260402T090000Z\r\nEND:VEVENT\r\n"))
    ch, _ = other.call("GET", f"/api/v1/events?folder={a.calendar}&since={rev}")
    assert [x["id"] for x in ch["changed"]] == [ev["id"]]
    assert ch["revision"] == ev["revision"]
