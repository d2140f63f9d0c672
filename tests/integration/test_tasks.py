# SPDX-License-Identifier: MIT
# Tasks (/api/v1/tasks) end to end on a provisioned SQLite tandemd: CRUD in the JSON form (due,
# status, priority, completed) and as iCalendar, tasks and events kept apart, a shared tasks
# folder's viewer refused changes, and bad input answered 400 with nothing stored.
import pytest

from provisioning import sqlite_rows
from test_events import OWNER_BITS, VIEWER_BITS, cal, calendar_node


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    w = calendar_node(str(tmp_path_factory.mktemp("tasks")), ("alice", "bob"))
    yield w
    w.cluster.stop()


def count(w):
    return sqlite_rows(w.udb, "SELECT COUNT(*) FROM cal_object WHERE component='VTODO'")[0][0]


def test_task_crud(w):
    a = w.alice
    t, resp = a.call("POST", f"/api/v1/tasks?folder={a.tasks}",
                     {"summary": "Pay rent", "due": "2026-03-31T17:00:00Z",
                      "status": "NEEDS-ACTION", "priority": 1}, expect=201)
    assert t["summary"] == "Pay rent" and t["due"] == "2026-03-31T17:00:00Z"
    assert t["status"] == "NEEDS-ACTION" and t["priority"] == 1
    assert "start" not in t
    done, _ = a.call("PUT", f"/api/v1/tasks/{t['id']}",
                     {"summary": "Pay rent", "due": "2026-03-31T17:00:00Z",
                      "status": "COMPLETED", "completed": "2026-03-30T08:00:00Z",
                      "percentComplete": 100}, headers={"If-Match": f'"{t["etag"]}"'})
    assert done["status"] == "COMPLETED" and done["completed"] == "2026-03-30T08:00:00Z"
    assert done["percentComplete"] == 100 and done["uid"] == t["uid"]
    raw, _ = a.call("GET", f"/api/v1/tasks/{t['id']}?format=ics")
    assert b"BEGIN:VTODO" in raw and b"STATUS:COMPLETED" in raw
    listing, _ = a.call("GET", f"/api/v1/tasks?folder={a.tasks}")
    assert [o["id"] for o in listing["objects"]] == [t["id"]]
    # a task is no event: not under /events, not in a calendar
    a.error("GET", f"/api/v1/events/{t['id']}", 404, "CAL-0404")
    a.error("POST", f"/api/v1/tasks?folder={a.calendar}", 400, "CAL-0400",
            {"summary": "x"}, words=("calendar",))
    a.error("POST", f"/api/v1/events?folder={a.tasks}", 400, "CAL-0400",
            raw=cal("BEGIN:VTODO\r\nUID:via-events@t\r\nEND:VTODO\r\n").encode(),
            headers={"Content-Type": "text/calendar"}, words=("VTODO", "VEVENT"))
    # a due date alone places it in a range
    data, _ = a.call("GET", f"/api/v1/tasks?folder={a.tasks}&start=2026-03-31&end=2026-04-01")
    assert [i["id"] for i in data["instances"]] == [t["id"]]
    a.call("DELETE", f"/api/v1/tasks/{t['id']}", expect=204)
    a.error("GET", f"/api/v1/tasks/{t['id']}", 404, "CAL-0404")


def test_shared_tasks_viewer_and_bad_input(w):
    a, b = w.alice, w.bob
    a.call("PATCH", f"/api/v1/folders/{a.tasks}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False, "bits": VIEWER_BITS}]})
    t, _ = a.call("POST", f"/api/v1/tasks?folder={a.tasks}",
                  {"summary": "Shared", "due": "2026-04-01", "allDay": True}, expect=201)
    assert t["due"] == "2026-04-01" and t["allDay"] is True
    assert b.call("GET", f"/api/v1/tasks/{t['id']}")[0]["summary"] == "Shared"
    before = count(w)
    b.error("POST", f"/api/v1/tasks?folder={a.tasks}", 403, "CAL-0403", {"summary": "Mine"})
    b.error("PUT", f"/api/v1/tasks/{t['id']}", 403, "CAL-0403", {"summary": "Changed"})
    b.error("DELETE", f"/api/v1/tasks/{t['id']}", 403, "CAL-0403")
    a.error("POST", f"/api/v1/tasks?folder={a.tasks}", 400, "CAL-0400",
            {"summary": "x", "priority": 12}, words=("priority",))
    a.error("POST", f"/api/v1/tasks?folder={a.tasks}", 400, "CAL-0400",
            {"summary": "x", "status": "MAYBE"}, words=("status",))
    a.error("POST", f"/api/v1/tasks?folder={a.tasks}", 400, "CAL-0400",
            raw=cal("BEGIN:VTODO\r\nSUMMARY:no uid\r\nEND:VTODO\r\n").encode(),
            headers={"Content-Type": "text/calendar"}, words=("UID",))
    assert count(w) == before
