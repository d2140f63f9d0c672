# SPDX-License-Identifier: MIT
# CalDAV's REPORT answers beyond the listing (RFC 4791 §9.6, §7.10): calendar-data with expand
# (each instance its own component in UTC, an EXDATE'd one absent, a moved one at its new time),
# limit-recurrence-set and partial comp/prop selection, python3-caldav's search(expand=True),
# free-busy-query per instance without transparent and cancelled events, param-filter, and
# collections clients make (MKCALENDAR, extended MKCOL) and change (PROPPATCH, DELETE), and
# tombstones pruned after [calendar] tombstone_days (calendars and contacts alike).
import re
import sqlite3
from datetime import datetime, timezone

import caldav
import pytest

from provisioning import sqlite_rows
from test_caldav import C, calendars_by_name, event, home, query, raw
from test_events import OWNER_BITS, WEEKLY, cal, calendar_node

AUTHOR_BITS = 2 | 2 << 7 | 2 << 14 | 2 << 21  # create, read, write, delete all; no admin

UTC = timezone.utc
# the same series in Berlin time (UTC+1 in March until the 29th) with its zone
BERLIN = cal("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
             "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
             "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
             "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
             "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
             "BEGIN:VEVENT\r\nUID:berlin@t\r\nSUMMARY:Jour fixe\r\n"
             "DTSTART;TZID=Europe/Berlin:20260303T100000\r\n"
             "DTEND;TZID=Europe/Berlin:20260303T110000\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n"
             "EXDATE;TZID=Europe/Berlin:20260310T100000\r\nEND:VEVENT\r\n")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = calendar_node(str(tmp_path_factory.mktemp("caldavreports")), ("alice", "bob"))
    yield w
    w.cluster.stop()


def report(w, login, path, body):
    st, _, text = raw(w, login, "REPORT", path, "<?xml version='1.0'?>" + body, {"Depth": "1"})
    return st, text


def calendar_query(w, login, path, data, filters):
    return report(w, login, path,
                  f"<C:calendar-query xmlns:D='DAV:' xmlns:C='{C}'><D:prop>{data}</D:prop>"
                  "<C:filter><C:comp-filter name='VCALENDAR'><C:comp-filter name='VEVENT'>"
                  f"{filters}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>")


def components(body):
    """The VEVENTs of every calendar-data in a 207 body, each as {property: value}."""
    out = []
    for data in re.findall(r"<(?:C:)?calendar-data[^>]*>(.*?)</(?:C:)?calendar-data>", body, re.S):
        text = data.replace("&#13;", "").replace("\r", "").replace("\n ", "")
        for comp in re.findall(r"BEGIN:VEVENT\n(.*?)END:VEVENT", text, re.S):
            props = {}
            for line in comp.split("\n"):
                if ":" in line and not line.startswith(("BEGIN:", "END:")):
                    name, value = line.split(":", 1)
                    props.setdefault(name.split(";")[0], value)
            out.append(props)
    return out


@pytest.fixture(scope="module")
def series(w):
    path = f"{home(w, 'alice')}{w.alice.calendar}/"
    for name, text in (("weekly.ics", WEEKLY), ("berlin.ics", BERLIN)):
        st, _, body = raw(w, "alice", "PUT", path + name, text)
        assert st == 201, body
    return path


def test_expand_gives_each_instance_in_utc(w, series):
    st, body = calendar_query(
        w, "alice", series,
        "<C:calendar-data><C:expand start='20260301T000000Z' end='20260324T000000Z'/>"
        "</C:calendar-data>",
        "<C:time-range start='20260301T000000Z' end='20260324T000000Z'/>")
    assert st == 207, body
    got = sorted((c["UID"], c["DTSTART"], c.get("RECURRENCE-ID"), c["SUMMARY"])
                 for c in components(body))
    assert got == [
        ("berlin@t", "20260303T090000Z", "20260303T090000Z", "Jour fixe"),
        ("berlin@t", "20260317T090000Z", "20260317T090000Z", "Jour fixe"),
        # the EXDATE'd 9 March is absent, the 16th is at its new time on the 17th
        ("standup@t", "20260302T090000Z", "20260302T090000Z", "Standup"),
        ("standup@t", "20260317T140000Z", "20260316T090000Z", "Standup (moved)"),
        ("standup@t", "20260323T090000Z", "20260323T090000Z", "Standup")], got
    for c in components(body):
        assert not {"RRULE", "RDATE", "EXDATE"} & set(c), c
        assert c["DTEND"].endswith("Z")
    assert "VTIMEZONE" not in body
    # the moved instance is not in a range that only holds its old time
    st, body = calendar_query(
        w, "alice", series,
        "<C:calendar-data><C:expand start='20260316T000000Z' end='20260316T235959Z'/>"
        "</C:calendar-data>",
        "<C:time-range start='20260316T000000Z' end='20260316T235959Z'/>")
    assert st == 207 and components(body) == [], body


def test_limit_recurrence_set_keeps_master_and_overrides_in_range(w, series):
    def overrides(start, end):
        st, body = calendar_query(
            w, "alice", series,
            f"<C:calendar-data><C:limit-recurrence-set start='{start}' end='{end}'/>"
            "</C:calendar-data>", "<C:prop-filter name='UID'><C:text-match>standup"
            "</C:text-match></C:prop-filter>")
        assert st == 207, body
        comps = components(body)
        assert comps[0]["RRULE"] == "FREQ=WEEKLY;BYDAY=MO", comps
        return [c["RECURRENCE-ID"] for c in comps if "RECURRENCE-ID" in c]

    assert overrides("20260301T000000Z", "20260310T000000Z") == []
    assert overrides("20260317T000000Z", "20260318T000000Z") == ["20260316T090000Z"]
    # a bad range is refused with the reason
    st, body = calendar_query(w, "alice", series, "<C:calendar-data><C:expand start='x'/>"
                              "</C:calendar-data>", "")
    assert st == 400 and "valid-calendar-data" in body and "UTC date-times" in body


def test_partial_calendar_data_selects_components_and_properties(w, series):
    st, body = calendar_query(
        w, "alice", series,
        "<C:calendar-data><C:comp name='VCALENDAR'><C:prop name='VERSION'/>"
        "<C:comp name='VEVENT'><C:prop name='UID'/><C:prop name='SUMMARY'/></C:comp>"
        "</C:comp></C:calendar-data>",
        "<C:prop-filter name='UID'><C:text-match>berlin</C:text-match></C:prop-filter>")
    assert st == 207, body
    assert components(body) == [{"UID": "berlin@t", "SUMMARY": "Jour fixe"}], body
    assert "VERSION:2.0" in body and "PRODID" not in body and "VTIMEZONE" not in body


def test_python_caldav_search_expand(w, series, monkeypatch):
    c = calendars_by_name(w, "alice")["Calendar"]

    def client_side(*_args, **_kwargs):
        raise AssertionError("the client had to expand: the server sent a rule")
    # python3-caldav expands itself when the answer still holds RRULE/EXDATE: it must not
    monkeypatch.setattr(caldav.objects.CalendarObjectResource, "expand_rrule", client_side)
    found = c.search(event=True, expand=True, start=datetime(2026, 3, 1, tzinfo=UTC),
                     end=datetime(2026, 3, 20, tzinfo=UTC))
    got = sorted((str(o.icalendar_component["UID"]),
                  o.icalendar_component["DTSTART"].dt.astimezone(UTC).strftime("%m-%d %H:%M"))
                 for o in found)
    assert got == [("berlin@t", "03-03 09:00"), ("berlin@t", "03-17 09:00"),
                   ("standup@t", "03-02 09:00"), ("standup@t", "03-17 14:00")], got
    for o in found:
        assert "RRULE" not in o.data and "EXDATE" not in o.data


def test_free_busy_query_per_instance(w):
    path = f"{home(w, 'bob')}{w.bob.calendar}/"
    for name, text in (
            ("weekly.ics", WEEKLY),
            ("free.ics", event("free@t", "20260302T120000Z", "20260302T130000Z").replace(
                "END:VEVENT", "TRANSP:TRANSPARENT\r\nEND:VEVENT")),
            ("off.ics", event("off@t", "20260303T120000Z", "20260303T130000Z").replace(
                "END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT")),
            ("maybe.ics", event("maybe@t", "20260304T120000Z", "20260304T130000Z").replace(
                "END:VEVENT", "STATUS:TENTATIVE\r\nEND:VEVENT")),
            ("a.ics", event("a@t", "20260305T080000Z", "20260305T100000Z")),
            ("b.ics", event("b@t", "20260305T090000Z", "20260305T110000Z"))):
        st, _, body = raw(w, "bob", "PUT", path + name, text)
        assert st == 201, body
    st, resp, body = raw(w, "bob", "REPORT", path,
                         f"<?xml version='1.0'?><C:free-busy-query xmlns:C='{C}'>"
                         "<C:time-range start='20260301T000000Z' end='20260318T000000Z'/>"
                         "</C:free-busy-query>", {"Depth": "1"})
    assert st == 200, body
    assert resp.getheader("Content-Type").startswith("text/calendar")
    assert "BEGIN:VFREEBUSY" in body and "DTSTART:20260301T000000Z" in body
    busy = re.findall(r"FREEBUSY;FBTYPE=([A-Z-]+):(\S+)", body)
    assert busy == [
        ("BUSY", "20260302T090000Z/20260302T093000Z"),
        # the two overlapping events are one period
        ("BUSY", "20260305T080000Z/20260305T110000Z"),
        # 9 March is EXDATE'd, the 16th moved to the 17th
        ("BUSY", "20260317T140000Z/20260317T143000Z"),
        ("BUSY-TENTATIVE", "20260304T120000Z/20260304T130000Z")], body
    # a range is required
    st, _, body = raw(w, "bob", "REPORT", path, f"<?xml version='1.0'?><C:free-busy-query "
                      f"xmlns:C='{C}'/>", {"Depth": "1"})
    assert st == 400 and "time-range" in body


def test_param_filter(w):
    path = f"{home(w, 'bob')}{w.bob.calendar}/"
    att = ("ATTENDEE;PARTSTAT=ACCEPTED;CN=\"Doe, Jane\":mailto:jane@example.com\r\n"
           "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:joe@example.com\r\n")
    for name, text in (("att1.ics", event("att1@t").replace("END:VEVENT", att + "END:VEVENT")),
                       ("att2.ics", event("att2@t").replace(
                           "END:VEVENT", "ATTENDEE;PARTSTAT=DECLINED;ROLE=CHAIR:mailto:"
                           "joe@example.com\r\nEND:VEVENT"))):
        assert raw(w, "bob", "PUT", path + name, text)[0] == 201

    def names(pf):
        st, body = query(w, "bob", path, "<C:comp-filter name='VEVENT'><C:prop-filter "
                         f"name='ATTENDEE'>{pf}</C:prop-filter></C:comp-filter>")
        assert st == 207, body
        return sorted(n for n in ("att1.ics", "att2.ics") if path + n in body)

    assert names("<C:param-filter name='PARTSTAT'><C:text-match>accepted</C:text-match>"
                 "</C:param-filter>") == ["att1.ics"]
    assert names("<C:param-filter name='CN'><C:text-match>doe, jane</C:text-match>"
                 "</C:param-filter>") == ["att1.ics"]
    assert names("<C:param-filter name='ROLE'><C:is-not-defined/></C:param-filter>") == \
        ["att1.ics"]
    assert names("<C:param-filter name='PARTSTAT'><C:text-match negate-condition='yes'>"
                 "DECLINED</C:text-match></C:param-filter>") == ["att1.ics"]
    # the property's text and its parameter hold on the same ATTENDEE line
    assert names("<C:text-match>joe@</C:text-match><C:param-filter name='PARTSTAT'>"
                 "<C:text-match>declined</C:text-match></C:param-filter>") == ["att2.ics"]
    assert names("<C:text-match>jane@</C:text-match><C:param-filter name='PARTSTAT'>"
                 "<C:text-match>needs-action</C:text-match></C:param-filter>") == []
    st, body = query(w, "bob", path, "<C:comp-filter name='VEVENT'><C:prop-filter "
                     "name='ATTENDEE'><C:param-filter/></C:prop-filter></C:comp-filter>")
    assert st == 403 and "supported-filter" in body


APPLE = "http://apple.com/ns/ical/"


def propfind(w, login, path, props):
    st, _, body = raw(w, login, "PROPFIND", path,
                      f"<?xml version='1.0'?><D:propfind xmlns:D='DAV:' xmlns:C='{C}' "
                      f"xmlns:A='{APPLE}'><D:prop>{props}</D:prop></D:propfind>", {"Depth": "0"})
    assert st == 207, body
    return body


def test_mkcalendar_raw_makes_a_tasks_folder_with_its_properties(w):
    path = f"{home(w, 'alice')}todo-list/"
    st, _, body = raw(w, "alice", "MKCALENDAR", path,
                      f"<?xml version='1.0'?><C:mkcalendar xmlns:D='DAV:' xmlns:C='{C}' "
                      f"xmlns:A='{APPLE}'><D:set><D:prop><D:displayname>Chores</D:displayname>"
                      "<C:calendar-description>Things to do</C:calendar-description>"
                      "<A:calendar-color>#FF0000FF</A:calendar-color>"
                      "<C:supported-calendar-component-set><C:comp name='VTODO'/>"
                      "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>")
    assert st == 201, body
    body = propfind(w, "alice", path, "<D:displayname/><C:calendar-description/>"
                    "<A:calendar-color/><C:supported-calendar-component-set/><D:resourcetype/>")
    for part in (f"<D:href>{path}</D:href>", "Chores</", "Things to do</",
                 "#FF0000FF</", "name=\"VTODO\"", "calendar xmlns"):
        assert part in body, (part, body)
    # it is a tasks folder for the JSON API too, titled by its displayname
    status, folders, _ = w.alice.api.request("GET", "/api/v1/folders?parent=1")
    made = [f for f in folders["folders"] if f["title"] == "Chores"]
    assert len(made) == 1 and made[0]["module"] == "tasks", folders
    # tasks go in, events are refused, and the home lists it under its name
    todo = cal("BEGIN:VTODO\r\nUID:chore@t\r\nSUMMARY:Dishes\r\nEND:VTODO\r\n")
    assert raw(w, "alice", "PUT", path + "chore.ics", todo)[0] == 201
    st, _, body = raw(w, "alice", "PUT", path + "ev.ics", event("ev-chore@t"))
    assert st == 403 and "supported-calendar-component" in body
    st, _, body = raw(w, "alice", "PROPFIND", home(w, "alice"), None, {"Depth": "1"})
    assert f"<D:href>{path}</D:href>" in body and f"/{made[0]['id']}/</D:href>" not in body
    # the folder id still names it; the name is taken now
    st, _, body = raw(w, "alice", "GET", f"{home(w, 'alice')}{made[0]['id']}/chore.ics")
    assert st == 200 and "Dishes" in body
    assert raw(w, "alice", "MKCALENDAR", path)[0] == 405
    # a REPORT names the objects as the client named the collection
    by_id = f"{home(w, 'alice')}{made[0]['id']}/"
    for base in (path, by_id):
        st, body = report(w, "alice", base, f"<C:calendar-query xmlns:D='DAV:' xmlns:C='{C}'>"
                          "<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter "
                          "name='VCALENDAR'/></C:filter></C:calendar-query>")
        assert st == 207 and f"<D:href>{base}chore.ics</D:href>" in body, body
    st, body = report(w, "alice", path, f"<C:calendar-multiget xmlns:D='DAV:' xmlns:C='{C}'>"
                      f"<D:prop><D:getetag/></D:prop><D:href>{by_id}chore.ics</D:href>"
                      "</C:calendar-multiget>")
    assert st == 207 and f"<D:href>{by_id}chore.ics</D:href><D:propstat>" in body, body
    # someone else's name is not alice's: bob makes his own under the same one
    assert raw(w, "bob", "MKCALENDAR", f"{home(w, 'bob')}todo-list/")[0] == 201
    # bad requests say what is wrong
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}journal/",
                      f"<?xml version='1.0'?><C:mkcalendar xmlns:D='DAV:' xmlns:C='{C}'><D:set>"
                      "<D:prop><C:supported-calendar-component-set><C:comp name='VJOURNAL'/>"
                      "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>")
    assert st == 403 and "supported-calendar-component" in body
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}a%20b/")
    assert st == 403 and "letters, digits" in body
    st, _, body = raw(w, "alice", "MKCALENDAR", f"{home(w, 'alice')}dup/",
                      f"<?xml version='1.0'?><C:mkcalendar xmlns:D='DAV:' xmlns:C='{C}'><D:set>"
                      "<D:prop><D:displayname>Calendar</D:displayname></D:prop></D:set>"
                      "</C:mkcalendar>")
    assert st == 409 and "Calendar" in body
    assert raw(w, "alice", "PROPFIND", f"{home(w, 'alice')}dup/", None, {"Depth": "0"})[0] == 404


def test_extended_mkcol_makes_a_calendar(w):
    path = f"{home(w, 'bob')}work/"
    body = (f"<?xml version='1.0'?><D:mkcol xmlns:D='DAV:' xmlns:C='{C}'><D:set><D:prop>"
            "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
            "<D:displayname>Work</D:displayname></D:prop></D:set></D:mkcol>")
    st, _, text = raw(w, "bob", "MKCOL", path, body)
    assert st == 201, text
    assert "VEVENT" in propfind(w, "bob", path, "<C:supported-calendar-component-set/>")
    assert raw(w, "bob", "PUT", path + "e.ics", event("work@t"))[0] == 201
    # a plain collection is not made here
    st, _, text = raw(w, "bob", "MKCOL", f"{home(w, 'bob')}plain/",
                      "<?xml version='1.0'?><D:mkcol xmlns:D='DAV:'><D:set><D:prop><D:resourcetype>"
                      "<D:collection/></D:resourcetype></D:prop></D:set></D:mkcol>")
    assert st == 403 and "valid-resourcetype" in text


def test_python_caldav_make_calendar_and_delete(w):
    principal = calendars_by_name(w, "alice")["Calendar"].client.principal()
    c = principal.make_calendar(name="Made by client")
    assert "Made by client" in calendars_by_name(w, "alice")
    c.save_event(event("client@t", summary="In new calendar"))
    found = c.search(event=True, expand=True, start=datetime(2026, 3, 1, tzinfo=UTC),
                     end=datetime(2026, 3, 3, tzinfo=UTC))
    assert [str(o.icalendar_component["SUMMARY"]) for o in found] == ["In new calendar"]
    c.delete()
    assert "Made by client" not in calendars_by_name(w, "alice")
    # the default calendar is not deleted
    st, _, body = raw(w, "alice", "DELETE", f"{home(w, 'alice')}{w.alice.calendar}/")
    assert st == 403, body
    assert raw(w, "alice", "PROPFIND", f"{home(w, 'alice')}{w.alice.calendar}/", None,
               {"Depth": "0"})[0] == 207


def test_proppatch_collection_properties_owner_only(w):
    path = f"{home(w, 'alice')}{w.alice.calendar}/"
    tz = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
          "END:VTIMEZONE\r\nEND:VCALENDAR\r\n")
    update = (f"<?xml version='1.0'?><D:propertyupdate xmlns:D='DAV:' xmlns:C='{C}' "
              f"xmlns:A='{APPLE}'><D:set><D:prop><D:displayname>Personal</D:displayname>"
              "<C:calendar-description>Mine</C:calendar-description>"
              "<A:calendar-color>#00FF00FF</A:calendar-color>"
              f"<C:calendar-timezone>{tz}</C:calendar-timezone></D:prop></D:set>"
              "</D:propertyupdate>")
    st, _, body = raw(w, "alice", "PROPPATCH", path, update)
    assert st == 207 and "HTTP/1.1 200" in body and "424" not in body, body
    body = propfind(w, "alice", path, "<D:displayname/><C:calendar-description/>"
                    "<A:calendar-color/><C:calendar-timezone/>")
    for part in ("Personal</", "Mine</", "#00FF00FF</", "TZID:Europe/Berlin"):
        assert part in body, (part, body)
    # removed again
    st, _, body = raw(w, "alice", "PROPPATCH", path,
                      f"<?xml version='1.0'?><D:propertyupdate xmlns:D='DAV:' xmlns:A='{APPLE}'>"
                      "<D:remove><D:prop><A:calendar-color/></D:prop></D:remove>"
                      "</D:propertyupdate>")
    assert st == 207 and "HTTP/1.1 200" in body
    assert "#00FF00FF" not in propfind(w, "alice", path, "<A:calendar-color/>")
    # protected properties and bad values are refused, nothing is applied
    st, _, body = raw(w, "alice", "PROPPATCH", path,
                      f"<?xml version='1.0'?><D:propertyupdate xmlns:D='DAV:' xmlns:C='{C}'>"
                      "<D:set><D:prop><C:calendar-description>Lost</C:calendar-description>"
                      "<C:supported-calendar-component-set/></D:prop></D:set>"
                      "</D:propertyupdate>")
    assert st == 207 and "HTTP/1.1 403" in body and "HTTP/1.1 424" in body, body
    st, _, body = raw(w, "alice", "PROPPATCH", path,
                      f"<?xml version='1.0'?><D:propertyupdate xmlns:D='DAV:' xmlns:C='{C}'>"
                      "<D:set><D:prop><C:calendar-timezone>nonsense</C:calendar-timezone>"
                      "</D:prop></D:set></D:propertyupdate>")
    assert st == 207 and "HTTP/1.1 409" in body, body
    assert "Lost" not in propfind(w, "alice", path, "<C:calendar-description/>")
    # a sharee with read-write rights but not the folder's admin flag may not
    a = w.alice
    team, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Shared team", "module": "calendar"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{team['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": w.bob.uid, "group": False, "bits": AUTHOR_BITS}]})
    st, _, body = raw(w, "bob", "PROPPATCH", f"{home(w, 'bob')}{team['id']}/", update)
    assert st == 403 and "need-privileges" in body, body
    st, _, body = raw(w, "alice", "PROPPATCH", f"{home(w, 'alice')}{team['id']}/", update.replace(
        "Personal", "Team"))
    assert st == 207 and "HTTP/1.1 200" in body, body


def sync(w, login, path, token):
    st, _, body = raw(w, login, "REPORT", path,
                      "<?xml version='1.0'?><D:sync-collection xmlns:D='DAV:'><D:sync-token>"
                      f"{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>"
                      "</D:prop></D:sync-collection>")
    got = re.search(r"<D:sync-token>([^<]+)</D:sync-token>", body)
    return st, body, got.group(1) if got else None


def age_tombstones(w, days):
    """Every tombstone of the user database as if left days earlier."""
    con = sqlite3.connect(w.udb, timeout=30)
    with con:
        con.execute("UPDATE cal_tombstone SET deleted = deleted - ?", (days * 86400,))
    con.close()


def test_tombstones_older_than_tombstone_days_are_pruned(w):
    path = f"{home(w, 'bob')}pruning/"
    assert raw(w, "bob", "MKCALENDAR", path)[0] == 201
    for name in ("a", "b", "c"):
        assert raw(w, "bob", "PUT", f"{path}{name}.ics", event(f"prune-{name}@t"))[0] == 201
    st, _, first = sync(w, "bob", path, "")
    assert st == 200 or st == 207
    assert raw(w, "bob", "DELETE", path + "a.ics")[0] == 204
    st, body, after_a = sync(w, "bob", path, first)
    assert st == 207 and "a.ics</D:href><D:status>HTTP/1.1 404" in body, body
    # a's tombstone is older than the default 90 days when b is deleted: it goes, and a token
    # from before a's deletion can no longer be answered
    age_tombstones(w, 91)
    assert raw(w, "bob", "DELETE", path + "b.ics")[0] == 204
    rows = sqlite_rows(w.udb, "SELECT name FROM cal_tombstone WHERE name IN ('a.ics', 'b.ics')")
    assert rows == [("b.ics",)], rows
    st, body, _ = sync(w, "bob", path, first)
    assert st == 403 and "<D:valid-sync-token/>" in body and "without a token" in body, body
    # a token from after it still syncs, and a client starting over gets what is there
    st, body, _ = sync(w, "bob", path, after_a)
    assert st == 207 and "b.ics</D:href><D:status>HTTP/1.1 404" in body, body
    st, body, _ = sync(w, "bob", path, "")
    assert st == 207 and "c.ics</D:href><D:propstat>" in body and "a.ics" not in body, body


def test_contacts_share_the_pruned_revisions(w):
    b = w.bob
    book, _ = b.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Prune book", "module": "contacts"}, expect=201)
    made = [b.call("POST", f"/api/v1/contacts?folder={book['id']}", {"fn": fn}, expect=201)[0]
            for fn in ("Old One", "New One")]
    before = made[1]["revision"]
    b.call("DELETE", f"/api/v1/contacts/{made[0]['id']}", expect=204)
    age_tombstones(w, 91)
    b.call("DELETE", f"/api/v1/contacts/{made[1]['id']}", expect=204)
    status, body, _ = b.api.request("GET", f"/api/v1/contacts?folder={book['id']}"
                                           f"&since={before}")
    assert status >= 400 and "unknown" in str(body), (status, body)
    changes, _ = b.call("GET", f"/api/v1/contacts?folder={book['id']}&since={before + 1}")
    assert [d["id"] for d in changes["deleted"]] == [made[1]["id"]]
