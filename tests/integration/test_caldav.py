# SPDX-License-Identifier: MIT
# CalDAV end to end with Debian's python3-caldav client against a provisioned SQLite tandemd:
# discovery (principal → calendar-home-set → the Calendar and Tasks collections, a shared one
# with its privileges), objects with strong ETags and the preconditions, calendar-multiget,
# calendar-query by time-range per instance (EXDATE, a moved instance), sync-collection, a
# read-only sharee refused, the JSON API and CalDAV seeing each other's events, module access,
# and vdirsyncer + khal syncing a calendar both ways.
import base64
import http.client
import os
import subprocess
from datetime import datetime, timezone
from urllib.parse import unquote

import caldav
import pytest

from test_events import OWNER_BITS, VIEWER_BITS, WEEKLY, cal, calendar_node

C = "urn:ietf:params:xml:ns:caldav"
ACCESS = ("\n[access caldav-only]\nmodules = caldav\n"
          "[access webdav-only]\nmodules = files webdav\n")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = calendar_node(str(tmp_path_factory.mktemp("caldav")), ("alice", "bob", "carol"),
                      extra=ACCESS)
    for login, access in (("dave", "caldav-only"), ("erin", "webdav-only")):
        w.cluster.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
                     "-p", f"{login}_pw", "-e", f"{login}@example.com",
                     "--access-combination-name", access)
    yield w
    w.cluster.stop()


def url(w, path=""):
    return f"http://127.0.0.1:{w.cluster.nodes[0].port}{path}"


def client(w, login):
    return caldav.DAVClient(url=url(w, "/dav/"), username=login, password=login + "_pw")


def raw(w, login, method, path, body=None, headers=None):
    """One request: (status, headers, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", w.cluster.nodes[0].port, timeout=30)
    auth = base64.b64encode(f"{login}:{login}_pw".encode()).decode()
    h = {"Authorization": f"Basic {auth}", **(headers or {})}
    conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=h)
    resp = conn.getresponse()
    data = resp.read().decode()
    conn.close()
    return resp.status, resp, data


def home(w, login):
    return f"/dav/calendars/{login}/"


def event(uid, start="20260302T100000Z", end="20260302T110000Z", summary="Meeting"):
    return cal(f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary}\r\nDTSTART:{start}\r\n"
               f"DTEND:{end}\r\nDTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\n")


def calendars_by_name(w, login):
    principal = client(w, login).principal()
    return {c.name: c for c in principal.calendars()}


def test_discovery_finds_calendar_and_tasks(w):
    principal = client(w, "alice").principal()
    assert str(principal.url).endswith("/dav/principals/users/alice/")
    homes = principal.calendar_home_set
    assert str(homes.url).endswith(home(w, "alice"))
    cals = calendars_by_name(w, "alice")
    assert {"Calendar", "Tasks"} <= set(cals), cals
    assert str(cals["Calendar"].url).endswith(f"/{w.alice.calendar}/")
    assert cals["Calendar"].get_supported_components() == ["VEVENT"]
    assert cals["Tasks"].get_supported_components() == ["VTODO"]
    # the collection's properties a client syncs by
    st, _, body = raw(w, "alice", "PROPFIND", f"{home(w, 'alice')}{w.alice.calendar}/",
                      "<?xml version='1.0'?><D:propfind xmlns:D='DAV:' xmlns:C='" + C + "' "
                      "xmlns:CS='http://calendarserver.org/ns/'><D:prop><CS:getctag/>"
                      "<D:sync-token/><C:max-resource-size/><C:calendar-description/>"
                      "<D:current-user-privilege-set/><D:resourcetype/></D:prop></D:propfind>",
                      {"Depth": "0"})
    assert st == 207, body
    for part in ("getctag>", "urn:tandem:sync:", "1048576</max-resource-size>",
                 "calendar-description>", "<D:write-content/>", "<C:calendar "):
        assert part in body, (part, body)
    # clients look for calendar-access on the principal and the home
    for path in ("/dav/principals/users/alice/", home(w, "alice")):
        st, resp, _ = raw(w, "alice", "OPTIONS", path)
        assert st == 200 and "calendar-access" in resp.getheader("DAV"), path
    # someone else's home is not there
    st, _, _ = raw(w, "alice", "PROPFIND", home(w, "bob"), None, {"Depth": "0"})
    assert st == 404


def test_objects_put_get_delete_with_etags_and_preconditions(w):
    base = f"{home(w, 'alice')}{w.alice.calendar}/"
    st, resp, body = raw(w, "alice", "PUT", base + "one.ics", event("one@t"),
                         {"Content-Type": "text/calendar", "If-None-Match": "*"})
    assert st == 201, body
    etag = resp.getheader("ETag")
    assert etag.startswith('"') and etag.endswith('"')
    st, resp, got = raw(w, "alice", "GET", base + "one.ics")
    assert st == 200 and got == event("one@t") and resp.getheader("ETag") == etag
    # If-None-Match: * never overwrites
    st, _, _ = raw(w, "alice", "PUT", base + "one.ics", event("one@t", summary="Other"),
                   {"If-None-Match": "*"})
    assert st == 412
    # a stale If-Match is refused, the right one replaces
    st, resp, _ = raw(w, "alice", "PUT", base + "one.ics", event("one@t", summary="New"),
                      {"If-Match": etag})
    assert st == 204
    new_etag = resp.getheader("ETag")
    assert new_etag != etag
    st, _, _ = raw(w, "alice", "PUT", base + "one.ics", event("one@t", summary="Lost"),
                   {"If-Match": etag})
    assert st == 412
    assert "SUMMARY:New" in raw(w, "alice", "GET", base + "one.ics")[2]
    # the preconditions, nothing stored
    for text, status, cond in (
            ("not a calendar", 400, "valid-calendar-data"),
            (event("two@t").replace("END:VCALENDAR", "BEGIN:VEVENT\r\nUID:other@t\r\n"
                                     "DTSTART:20260302T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR"),
             400, "valid-calendar-object-resource"),
            (cal("BEGIN:VTODO\r\nUID:todo@t\r\nSUMMARY:x\r\nEND:VTODO\r\n"), 403,
             "supported-calendar-component"),
            (event("one@t"), 409, "no-uid-conflict")):
        st, _, body = raw(w, "alice", "PUT", base + "bad.ics", text)
        assert st == status and f"<C:{cond}/>" in body, (st, body)
        assert raw(w, "alice", "GET", base + "bad.ics")[0] == 404
    # DELETE with a stale If-Match is refused, then it goes
    st, _, _ = raw(w, "alice", "DELETE", base + "one.ics", None, {"If-Match": etag})
    assert st == 412
    assert raw(w, "alice", "DELETE", base + "one.ics")[0] == 204
    assert raw(w, "alice", "GET", base + "one.ics")[0] == 404
    assert raw(w, "alice", "DELETE", base + "one.ics")[0] == 404


def test_client_creates_and_multigets(w):
    cals = calendars_by_name(w, "alice")
    c = cals["Calendar"]
    ev = c.save_event(event("multi@t", summary="Multi"))
    assert ev.url is not None
    st, _, body = raw(
        w, "alice", "REPORT", str(c.url.path),
        "<?xml version='1.0'?><C:calendar-multiget xmlns:D='DAV:' xmlns:C='" + C + "'>"
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        f"<D:href>{ev.url.path}</D:href><D:href>{c.url.path}missing.ics</D:href>"
        "</C:calendar-multiget>", {"Depth": "1"})
    assert st == 207, body
    assert "SUMMARY:Multi" in body and "getetag" in body
    assert "missing.ics</D:href><D:status>HTTP/1.1 404" in body, body
    objs = c.calendar_multiget([ev.url])
    assert len(objs) == 1 and "Multi" in objs[0].data


def test_time_range_is_right_per_instance(w):
    c = calendars_by_name(w, "alice")["Calendar"]
    c.save_event(WEEKLY)

    def found(start, end):
        res = c.date_search(start=start, end=end, expand=False)
        return sorted({r.icalendar_component["UID"] for r in res})

    utc = timezone.utc
    # the first Monday is there, the EXDATE'd second is not
    assert "standup@t" in found(datetime(2026, 3, 2, 8, tzinfo=utc),
                                datetime(2026, 3, 2, 10, tzinfo=utc))
    assert "standup@t" not in found(datetime(2026, 3, 9, 8, tzinfo=utc),
                                    datetime(2026, 3, 9, 10, tzinfo=utc))
    # the moved third is found at its new time, not its old one
    assert "standup@t" in found(datetime(2026, 3, 17, 13, tzinfo=utc),
                                datetime(2026, 3, 17, 15, tzinfo=utc))
    assert "standup@t" not in found(datetime(2026, 3, 16, 8, tzinfo=utc),
                                    datetime(2026, 3, 16, 10, tzinfo=utc))


def test_sync_collection_reports_changes_and_deletes(w):
    c = calendars_by_name(w, "alice")["Calendar"]
    first = c.objects_by_sync_token(load_objects=False)
    token = first.sync_token
    assert token.startswith("urn:tandem:sync:")
    a = c.save_event(event("sync-a@t", summary="A"))
    b = c.save_event(event("sync-b@t", summary="B"))
    changed = c.objects_by_sync_token(sync_token=token, load_objects=True)
    names = sorted(str(o.url).rsplit("/", 1)[1] for o in changed)
    assert names == sorted([str(a.url).rsplit("/", 1)[1], str(b.url).rsplit("/", 1)[1]])
    token2 = changed.sync_token
    # a change since a token
    b.data = event("sync-b@t", summary="B changed")
    b.save()
    changed = c.objects_by_sync_token(sync_token=token2, load_objects=True)
    assert [o.icalendar_component["SUMMARY"] for o in changed] == ["B changed"]
    token2 = changed.sync_token
    a.delete()
    st, _, body = raw(
        w, "alice", "REPORT", str(c.url.path),
        "<?xml version='1.0'?><D:sync-collection xmlns:D='DAV:'><D:sync-token>"
        f"{token2}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>"
        "</D:sync-collection>")
    assert st == 207, body
    assert f"{unquote(a.url.path)}</D:href><D:status>HTTP/1.1 404" in body, body
    assert "sync-b" not in body
    # a token this collection never gave out
    for bad in ("urn:tandem:sync:1:1", token2 + "999", "garbage"):
        st, _, body = raw(
            w, "alice", "REPORT", str(c.url.path),
            "<?xml version='1.0'?><D:sync-collection xmlns:D='DAV:'><D:sync-token>"
            f"{bad}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>"
            "</D:sync-collection>")
        assert st == 403 and "<D:valid-sync-token/>" in body, (bad, st, body)


def test_read_only_sharee_is_refused_and_sees_privileges(w):
    a, b = w.alice, w.bob
    team, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Team CalDAV", "module": "calendar"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{team['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False, "bits": VIEWER_BITS}]})
    a.put_ics(team["id"], event("team-dav@t", summary="Team"))
    cals = calendars_by_name(w, "bob")
    assert "Team CalDAV" in cals
    path = f"{home(w, 'bob')}{team['id']}/"
    st, _, body = raw(w, "bob", "PROPFIND", path,
                      "<?xml version='1.0'?><D:propfind xmlns:D='DAV:'><D:prop>"
                      "<D:current-user-privilege-set/></D:prop></D:propfind>", {"Depth": "0"})
    assert st == 207 and "<D:read/>" in body and "write" not in body, body
    st, _, body = raw(w, "bob", "GET", path + "team-dav@t.ics")
    assert st == 200 and "SUMMARY:Team" in body
    st, _, body = raw(w, "bob", "PUT", path + "new.ics", event("bob-new@t"))
    assert st == 403, body
    st, _, _ = raw(w, "bob", "PUT", path + "team-dav@t.ics", event("team-dav@t", summary="X"))
    assert st == 403
    assert raw(w, "bob", "DELETE", path + "team-dav@t.ics")[0] == 403
    # carol sees nothing of it
    assert "Team CalDAV" not in calendars_by_name(w, "carol")
    assert raw(w, "carol", "GET", f"{home(w, 'carol')}{team['id']}/team-dav@t.ics")[0] == 404
    # nothing of a calendar alice makes later leaks to bob
    later, _ = a.call("POST", "/api/v1/folders",
                      {"parent": 1, "title": "Private later", "module": "calendar"}, expect=201)
    a.put_ics(later["id"], event("later@t", summary="Secret"))
    assert "Private later" not in calendars_by_name(w, "bob")
    st, _, body = raw(w, "bob", "PROPFIND", f"{home(w, 'bob')}", None, {"Depth": "1"})
    assert st == 207 and "Secret" not in body and f"/{later['id']}/" not in body
    for method in ("GET", "PUT", "DELETE"):
        st, _, body = raw(w, "bob", method, f"{home(w, 'bob')}{later['id']}/later@t.ics",
                          event("later@t") if method == "PUT" else None)
        assert st == 404 and "Secret" not in body, (method, st)
    st, body = query(w, "bob", f"{home(w, 'bob')}{later['id']}/", "")
    assert st == 404 and "Secret" not in body


def test_json_api_and_caldav_see_each_other(w):
    a = w.alice
    base = f"{home(w, 'alice')}{a.calendar}/"
    ev, _ = a.call("POST", f"/api/v1/events?folder={a.calendar}",
                   {"summary": "From JSON", "start": "2026-04-01T12:00:00Z",
                    "end": "2026-04-01T13:00:00Z"}, expect=201)
    st, _, body = raw(w, "alice", "GET", base + ev["name"])
    assert st == 200 and "SUMMARY:From JSON" in body
    st, _, _ = raw(w, "alice", "PUT", base + "from-dav.ics",
                   event("from-dav@t", "20260402T120000Z", "20260402T130000Z", "From DAV"))
    assert st == 201
    data, _ = a.call("GET", f"/api/v1/events?folder={a.calendar}&start=2026-04-02&end=2026-04-03")
    assert [(i["name"], i["summary"]) for i in data["instances"]] == [("from-dav.ics", "From DAV")]


def test_mkcalendar_where_it_cannot_be(w):
    # numeric names are folder ids; an existing collection is not made again
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}12345/")
    assert st == 403 and "folder ids" in body
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}{w.alice.calendar}/")
    assert st == 405 and "resource-must-be-null" in body
    # nor inside a calendar
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}{w.alice.calendar}/sub/")
    assert st == 403 and "calendar-collection-location-ok" in body


def test_an_object_over_the_size_limit_is_refused(w):
    base = f"{home(w, 'alice')}{w.alice.calendar}/"
    big = event("big@t").replace("SUMMARY:Meeting", "SUMMARY:" + "x" * (1024 * 1024 + 10))
    st, _, body = raw(w, "alice", "PUT", base + "big.ics", big)
    assert st == 413 and "<C:max-resource-size/>" in body, (st, body[:300])
    assert raw(w, "alice", "GET", base + "big.ics")[0] == 404


def test_module_access_caldav_and_webdav(w):
    # a caldav-only user discovers and uses the calendars, and is refused the files
    cals = calendars_by_name(w, "dave")
    assert {"Calendar", "Tasks"} <= set(cals)
    cals["Calendar"].save_event(event("dave@t"))
    st, _, body = raw(w, "dave", "PROPFIND", "/dav/files/home/", None, {"Depth": "0"})
    assert st == 403 and "webdav" in body, body
    # a webdav-only user is refused the calendars
    st, _, body = raw(w, "erin", "PROPFIND", home(w, "erin"), None, {"Depth": "0"})
    assert st == 403 and "caldav" in body, body
    assert raw(w, "erin", "PROPFIND", "/dav/files/home/", None, {"Depth": "0"})[0] == 207


def run(args, env, stdin=""):
    r = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def vdirsyncer_config(tmp_path, kind, remote, login, local, ext):
    """A vdirsyncer configuration pairing the DAV home remote (storage type kind: caldav,
    carddav) of login with the folder local (files ending in ext): its path and the
    environment to run vdirsyncer in."""
    cfg = tmp_path / "vdirsyncer.conf"
    cfg.write_text(f"""[general]
status_path = "{tmp_path}/status/"

[pair tandem]
a = "remote"
b = "local"
collections = ["from a"]

[storage remote]
type = "{kind}"
url = "{remote}"
username = "{login}"
password = "{login}_pw"

[storage local]
type = "filesystem"
path = "{local}/"
fileext = "{ext}"
""")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path)}
    return cfg, env


def test_vdirsyncer_and_khal_round_trip(w, tmp_path):
    """vdirsyncer syncs carol's calendars both ways and khal shows what came down."""
    carol = w.carol
    carol.put_ics(carol.calendar, event("server-side@t", "20260305T100000Z",
                                        "20260305T110000Z", "Server side"))
    local = tmp_path / "cals"
    cfg, env = vdirsyncer_config(tmp_path, "caldav", url(w, home(w, "carol")), "carol", local,
                                 ".ics")
    run(["vdirsyncer", "-c", str(cfg), "discover"], env, stdin="y\n" * 10)
    run(["vdirsyncer", "-c", str(cfg), "sync"], env)
    mine = local / str(carol.calendar)
    assert any("Server side" in f.read_text() for f in mine.glob("*.ics")), list(mine.iterdir())
    # a file made locally goes up
    (mine / "local-side.ics").write_text(event("local-side@t", "20260306T100000Z",
                                               "20260306T110000Z", "Local side"))
    run(["vdirsyncer", "-c", str(cfg), "sync"], env)
    data, _ = carol.call("GET", f"/api/v1/events?folder={carol.calendar}"
                         "&start=2026-03-06&end=2026-03-07")
    assert [i["summary"] for i in data["instances"]] == ["Local side"]
    # khal reads the synced calendar
    khal = tmp_path / "khal.conf"
    khal.write_text(f"""[calendars]
[[carol]]
path = {mine}/
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = UTC
default_timezone = UTC
""")
    out = run(["khal", "-c", str(khal), "list", "2026-03-05", "3d"], env)
    assert "Server side" in out and "Local side" in out, out


def query(w, login, path, comp_filter):
    st, _, body = raw(
        w, login, "REPORT", path,
        "<?xml version='1.0'?><C:calendar-query xmlns:D='DAV:' xmlns:C='" + C + "'>"
        "<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name='VCALENDAR'>"
        f"{comp_filter}</C:comp-filter></C:filter></C:calendar-query>", {"Depth": "1"})
    return st, body


def test_prop_filter_text_match(w):
    path = f"{home(w, 'bob')}{w.bob.calendar}/"
    folded = event("fold@t", summary="Quarterly\r\n  planning, with\\, commas")
    for name, text in (("fold.ics", folded),
                       ("lunch.ics", event("lunch@t", summary="Lunch")),
                       ("alarm.ics", event("alarm@t", summary="Other").replace(
                           "END:VEVENT", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\n"
                           "DESCRIPTION:planning\r\nEND:VALARM\r\nEND:VEVENT"))):
        assert raw(w, "bob", "PUT", path + name, text)[0] == 201

    def names(filters):
        st, body = query(w, "bob", path, f"<C:comp-filter name='VEVENT'>{filters}</C:comp-filter>")
        assert st == 207, body
        return sorted(n for n in ("fold.ics", "lunch.ics", "alarm.ics") if path + n in body)

    # case ignored by default, folded and escaped text matched as unfolded and unescaped
    assert names("<C:prop-filter name='SUMMARY'><C:text-match>PLANNING, with, "
                 "</C:text-match></C:prop-filter>") == ["fold.ics"]
    assert names("<C:prop-filter name='SUMMARY'><C:text-match collation='i;octet'>"
                 "lunch</C:text-match></C:prop-filter>") == []
    assert names("<C:prop-filter name='SUMMARY'><C:text-match negate-condition='yes'>"
                 "lunch</C:text-match></C:prop-filter>") == ["alarm.ics", "fold.ics"]
    # a VALARM's DESCRIPTION is not the event's
    assert names("<C:prop-filter name='DESCRIPTION'><C:text-match>planning</C:text-match>"
                 "</C:prop-filter>") == []
    assert names("<C:prop-filter name='DESCRIPTION'><C:is-not-defined/></C:prop-filter>") == \
        ["alarm.ics", "fold.ics", "lunch.ics"]
    # with a time range: both must hold
    assert names("<C:time-range start='20260302T000000Z' end='20260303T000000Z'/>"
                 "<C:prop-filter name='SUMMARY'><C:text-match>lunch</C:text-match>"
                 "</C:prop-filter>") == ["lunch.ics"]
    # a bad time range is refused
    st, body = query(w, "bob", path, "<C:comp-filter name='VEVENT'><C:time-range "
                     "start='2026-03-02'/></C:comp-filter>")
    assert st == 400 and "<C:valid-filter/>" in body
    # what is not supported says so
    st, body = query(w, "bob", path, "<C:comp-filter name='VEVENT'><C:prop-filter "
                     "name='SUMMARY'><C:text-match collation='i;unicode-casemap'>x"
                     "</C:text-match></C:prop-filter></C:comp-filter>")
    assert st == 403 and "<C:supported-collation/>" in body
    st, body = query(w, "bob", path, "<C:comp-filter name='VEVENT'><C:prop-filter "
                     "name='SUMMARY'><C:time-range start='20260302T000000Z'/></C:prop-filter>"
                     "</C:comp-filter>")
    assert st == 403 and "<C:supported-filter/>" in body
    # the client library's search by summary
    c = calendars_by_name(w, "bob")["Calendar"]
    found = c.search(event=True, summary="Lunch")
    assert [str(o.url).rsplit("/", 1)[1] for o in found] == ["lunch.ics"]


def test_tasks_collection_takes_todos(w):
    path = f"{home(w, 'alice')}{w.alice.tasks}/"
    todo = cal("BEGIN:VTODO\r\nUID:todo-1@t\r\nSUMMARY:Write report\r\n"
               "DUE:20260310T170000Z\r\nEND:VTODO\r\n")
    assert raw(w, "alice", "PUT", path + "todo-1.ics", todo)[0] == 201
    st, _, body = raw(w, "alice", "PUT", path + "ev.ics", event("ev-in-tasks@t"))
    assert st == 403 and "<C:supported-calendar-component/>" in body
    st, body = query(w, "alice", path, "<C:comp-filter name='VTODO'/>")
    assert st == 207 and path + "todo-1.ics" in body, body
    st, body = query(w, "alice", path, "<C:comp-filter name='VEVENT'/>")
    assert st == 207 and "todo-1.ics" not in body
    todos = calendars_by_name(w, "alice")["Tasks"].todos()
    assert [t.icalendar_component["SUMMARY"] for t in todos] == ["Write report"]
