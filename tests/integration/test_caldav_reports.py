# SPDX-License-Identifier: MIT
# CalDAV's REPORT answers beyond the listing (RFC 4791 §9.6, §7.10): calendar-data with expand
# (each instance its own component in UTC, an EXDATE'd one absent, a moved one at its new time),
# limit-recurrence-set and partial comp/prop selection, python3-caldav's search(expand=True),
# free-busy-query per instance without transparent and cancelled events, and param-filter.
import re
from datetime import datetime, timezone

import pytest

from test_caldav import C, calendars_by_name, event, home, query, raw
from test_events import WEEKLY, cal, calendar_node

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


def test_python_caldav_search_expand(w, series):
    c = calendars_by_name(w, "alice")["Calendar"]
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
