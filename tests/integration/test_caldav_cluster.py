# SPDX-License-Identifier: MIT
# CalDAV across two nodes on one Redis: what a client writes through node A (a new event, a
# changed one, a deleted one) is in the next sync-collection and calendar-query a client
# sends through node B, whose caches were warmed first. Functional, not timed
# (bench/caldav.sh cluster measures the delay).
import base64
import http.client
import xml.etree.ElementTree as ET

import pytest

from fixtures_redis import redis_server  # noqa: F401  (pytest fixtures)
from cluster_setup import login, start_cluster
from test_events import cal

DAV = "{DAV:}"
C = "urn:ietf:params:xml:ns:caldav"


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, users=("alice",))
    yield c
    c.stop()


def dav(node, method, path, body=None, headers=None):
    """(status, body text) of one request as alice."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    auth = base64.b64encode(b"alice:alice_pw").decode()
    try:
        conn.request(method, path, body=body.encode() if body is not None else None,
                     headers={"Authorization": f"Basic {auth}", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def event(uid, summary):
    return cal(f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary}\r\nDTSTAMP:20260101T000000Z\r\n"
               "DTSTART:20260302T100000Z\r\nDTEND:20260302T110000Z\r\nEND:VEVENT\r\n")


def sync(node, coll, token):
    """({resource name: status}, new token) of a sync-collection from token."""
    st, body = dav(node, "REPORT", coll,
                   "<?xml version='1.0'?><D:sync-collection xmlns:D='DAV:'><D:sync-token>"
                   f"{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>"
                   "</D:prop></D:sync-collection>",
                   {"Depth": "1", "Content-Type": "application/xml"})
    assert st == 207, body
    root = ET.fromstring(body)
    seen = {}
    for r in root.findall(f"{DAV}response"):
        name = r.findtext(f"{DAV}href").rsplit("/", 1)[-1]
        status = r.findtext(f"{DAV}status") or r.findtext(f"{DAV}propstat/{DAV}status")
        seen[name] = int(status.split()[1])
    return seen, root.findtext(f"{DAV}sync-token")


def query(node, coll):
    """{resource name: calendar-data} of a calendar-query for 2 March 2026."""
    st, body = dav(node, "REPORT", coll,
                   f"<?xml version='1.0'?><C:calendar-query xmlns:D='DAV:' xmlns:C='{C}'>"
                   "<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter "
                   "name='VCALENDAR'><C:comp-filter name='VEVENT'><C:time-range "
                   "start='20260302T000000Z' end='20260303T000000Z'/></C:comp-filter>"
                   "</C:comp-filter></C:filter></C:calendar-query>",
                   {"Depth": "1", "Content-Type": "application/xml"})
    assert st == 207, body
    return {r.findtext(f"{DAV}href").rsplit("/", 1)[-1]:
            r.findtext(f"{DAV}propstat/{DAV}prop/{{{C}}}calendar-data")
            for r in ET.fromstring(body).findall(f"{DAV}response")}


def test_a_change_through_node_a_is_in_the_next_sync_through_node_b(cluster):
    a, b = cluster.nodes
    alice = login(cluster, "alice")
    st, body, _ = alice.request("GET", "/api/v1/folders?parent=1")
    assert st == 200, body
    calendar = [f["id"] for f in body["folders"]
                if f.get("default") and f.get("module") == "calendar"][0]
    coll = f"/dav/calendars/alice/{calendar}/"
    seen, token = sync(b, coll, "")  # node B knows the collection (and caches it)
    assert seen == {}
    assert query(b, coll) == {}
    for i in range(5):
        name = f"ev-{i}.ics"
        for summary, created in ((f"Talk {i}", 201), (f"Talk {i} moved", 204)):
            st, body = dav(a, "PUT", coll + name, event(f"ev-{i}@t", summary),
                           {"Content-Type": "text/calendar"})
            assert st == created, body
            seen, token = sync(b, coll, token)
            assert seen == {name: 200}, (i, seen)
            assert summary in query(b, coll)[name]
        st, body = dav(a, "DELETE", coll + name)
        assert st == 204, body
        seen, token = sync(b, coll, token)
        assert seen == {name: 404}, (i, seen)
        assert name not in query(b, coll)
        st, body = dav(b, "GET", coll + name)
        assert st == 404, body
