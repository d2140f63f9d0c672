# SPDX-License-Identifier: MIT
# The balancer manager on tandem-lb's admin listener: state changes steer traffic at once,
# survive a restart, and are refused without credentials, from a disallowed network or
# without the CSRF token; failed logins are throttled per user across addresses; /metrics
# shows the counters; the page confirms a removal, says what changed, shows bytes in human
# units, and / leads to it.
import base64
import http.client
import json
import os
import re
import urllib.parse
import urllib.request

import pytest

from conftest import free_port, parse_metrics
from lb_setup import STEADY_HEALTH, Recorder, start_lb, stop_lb
from test_lb import route_of, split

USER, PASSWORD = "lbadmin", "s3cret-pw"


def admin_section(port, allow="127.0.0.1/32"):
    return (f"[admin]\nlisten = 127.0.0.1:{port}\nuser = {USER}\npassword = {PASSWORD}\n"
            f"allow = {allow}\n")


def call(port, method, path, body=None, auth=(USER, PASSWORD), csrf=None, ctype=None):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if auth:
        req.add_header("Authorization", "Basic " +
                       base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    if csrf:
        req.add_header("X-CSRF-Token", csrf)
    if ctype or isinstance(body, dict):
        req.add_header("Content-Type", ctype or "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def token(port):
    st, body = call(port, "GET", "/manager/v1/csrf")
    assert st == 200, body
    return json.loads(body)["token"]


@pytest.fixture
def two():
    recs = [Recorder("OX-1"), Recorder("OX-2")]
    yield recs
    for r in recs:
        r.stop()


def members(recs):
    return [("OX-1", recs[0].port, 50, "ready"), ("OX-2", recs[1].port, 50, "ready")]


def test_state_changes_steer_traffic_and_survive_a_restart(workdir, two):
    admin = free_port()
    lb = start_lb(workdir, members(two), extra=admin_section(admin))
    try:
        st, body = call(admin, "PATCH", "/manager/v1/members/OX-2", {"state": "maint"},
                        csrf=token(admin))
        assert st == 200, body
        assert set(split(lb.port, 40)) == {"OX-1"}
        assert route_of(lb.port, headers={"Cookie": "JSESSIONID=s.OX-2"}) == "OX-1"
        st, body = call(admin, "GET", "/manager/v1/members")
        by_route = {m["route"]: m for m in json.loads(body)["members"]}
        assert by_route["OX-2"]["state"] == "maint" and by_route["OX-1"]["requests"] >= 41
    finally:
        stop_lb(lb)
    assert os.path.exists(os.path.join(workdir, "lb", "tandem-lb.state"))
    lb = start_lb(workdir, members(two), extra=admin_section(admin))
    try:
        assert set(split(lb.port, 40)) == {"OX-1"}  # still in maintenance after the restart
        st, body = call(admin, "PATCH", "/manager/v1/members/OX-2", {"state": "ready"},
                        csrf=token(admin))
        assert st == 200, body
        assert set(split(lb.port, 40)) == {"OX-1", "OX-2"}
    finally:
        stop_lb(lb)


def test_changes_are_refused_without_credentials_network_or_token(workdir, two):
    admin = free_port()
    lb = start_lb(workdir, members(two), extra=admin_section(admin))
    try:
        change = {"state": "disabled"}
        assert call(admin, "PATCH", "/manager/v1/members/OX-1", change, auth=None)[0] == 401
        assert call(admin, "PATCH", "/manager/v1/members/OX-1", change,
                    auth=(USER, "wrong"))[0] == 401
        st, body = call(admin, "PATCH", "/manager/v1/members/OX-1", change)
        assert st == 403 and json.loads(body)["error"]["code"] == "LB-0419"
        st, body = call(admin, "PATCH", "/manager/v1/members/OX-1", change, csrf="1.abc")
        assert st == 403
        assert set(split(lb.port, 40)) == {"OX-1", "OX-2"}  # nothing changed
    finally:
        stop_lb(lb)
    # a manager that only allows another network refuses loopback outright
    lb = start_lb(workdir, members(two), extra=admin_section(admin, allow="192.0.2.0/24"))
    try:
        st, body = call(admin, "GET", "/manager/v1/members")
        assert st == 403 and json.loads(body)["error"]["code"] == "LB-0403"
    finally:
        stop_lb(lb)


def test_members_can_be_added_and_removed(workdir, two):
    admin = free_port()
    lb = start_lb(workdir, members(two)[:1], extra=admin_section(admin))
    try:
        assert set(split(lb.port, 20)) == {"OX-1"}
        st, body = call(admin, "POST", "/manager/v1/members",
                        {"route": "OX-2", "url": f"http://127.0.0.1:{two[1].port}",
                         "loadfactor": 50, "state": "ready"}, csrf=token(admin))
        assert st == 201, body
        assert set(split(lb.port, 40)) == {"OX-1", "OX-2"}
        st, body = call(admin, "DELETE", "/manager/v1/members/OX-1", csrf=token(admin))
        assert st == 204, body
        assert set(split(lb.port, 20)) == {"OX-2"}
    finally:
        stop_lb(lb)


def test_the_page_and_metrics(workdir, two):
    admin = free_port()
    lb = start_lb(workdir, members(two), extra=admin_section(admin), balancer=STEADY_HEALTH)
    try:
        split(lb.port, 20)
        st, page = call(admin, "GET", "/manager/")
        assert st == 200 and b"OX-1" in page and b'name="csrf"' in page
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=30) as r:
            m = parse_metrics(r.read().decode())
        assert m["tandem_lb_http_requests_total"] >= 20
        assert m['tandem_lb_member_requests_total{route="OX-1"}'] + \
            m['tandem_lb_member_requests_total{route="OX-2"}'] >= 20
        assert m['tandem_lb_member_state{route="OX-1",state="ready"}'] == 1
        assert m["tandem_lb_upstream_connects_total"] >= 1
    finally:
        stop_lb(lb)


def raw(port, method, path, body=None, ctype=None):
    """One request without following redirects: (status, Location, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Basic " +
               base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    if ctype:
        headers["Content-Type"] = ctype
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Location"), r.read().decode()
    finally:
        conn.close()


def test_the_page_confirms_a_removal_and_says_what_changed(workdir, two):
    admin = free_port()
    lb = start_lb(workdir, members(two), extra=admin_section(admin))
    form = "application/x-www-form-urlencoded"
    try:
        split(lb.port, 20)
        # the admin listener's root leads to the page
        assert raw(admin, "GET", "/")[:2] == (302, "/manager/")
        st, _, page = raw(admin, "GET", "/manager/")
        assert st == 200
        # bytes in human units, the exact count as a tooltip
        assert re.search(r'<td class="n" title="\d+ bytes">\d+(\.\d)? (B|KiB)</td>', page), page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        remove = f"csrf={urllib.parse.quote(csrf)}&action=remove&route=OX-2"
        # Remove asks first and changes nothing
        st, _, ask = raw(admin, "POST", "/manager/form", remove, form)
        assert st == 200 and "<h1>Remove member OX-2?</h1>" in ask, ask
        assert 'name="confirm" value="yes"' in ask and "<script" not in ask
        assert set(split(lb.port, 40)) == {"OX-1", "OX-2"}
        # confirmed: removed, and the page the redirect leads to says so
        st, location, _ = raw(admin, "POST", "/manager/form", remove + "&confirm=yes", form)
        assert (st, location) == (303, "/manager/?done=remove&route=OX-2")
        assert set(split(lb.port, 20)) == {"OX-1"}
        st, _, page = raw(admin, "GET", location)
        assert st == 200 and "Done: OX-2 removed." in page, page
        change = f"csrf={urllib.parse.quote(csrf)}&action=state&route=OX-1&value=drain"
        st, location, _ = raw(admin, "POST", "/manager/form", change, form)
        assert (st, location) == (303, "/manager/?done=state&route=OX-1")
        assert "Done: OX-1&rsquo;s state is now <b>drain</b>." in raw(admin, "GET", location)[2]
    finally:
        stop_lb(lb)


def login_from(source, port, password):
    """GET /manager/v1/members as USER from source (a loopback address of 127/8):
    (status, Retry-After, error code or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    try:
        conn.request("GET", "/manager/v1/members", headers={"Authorization": "Basic " + auth})
        r = conn.getresponse()
        body = r.read()
        code = json.loads(body)["error"]["code"] if r.status >= 400 else None
        return r.status, r.getheader("Retry-After"), code
    finally:
        conn.close()


def test_failed_logins_are_throttled_per_user_across_addresses(workdir, two):
    # Ten addresses guess the manager user's password five times each, each far below the
    # ten failures one address may have: together they reach the user's 50
    # (docs/internals/lb-manager.md). The old per-address count let each go on.
    admin = free_port()
    lb = start_lb(workdir, members(two), extra=admin_section(admin, allow="127.0.0.0/8"))
    try:
        guessers = [f"127.0.0.{i}" for i in range(11, 21)]
        for source in guessers:
            for _ in range(5):
                assert login_from(source, admin, "guess") == (401, None, "LB-0401")
        # a guessing address now waits even with the right password ...
        st, retry, code = login_from(guessers[0], admin, PASSWORD)
        assert (st, code) == (429, "LB-0429") and 0 < int(retry) <= 300
        # ... while the operator at an address without a failure gets in
        assert login_from("127.0.0.30", admin, PASSWORD) == (200, None, None)
        # and another address gets one try for the user, not ten
        assert login_from("127.0.0.31", admin, "guess")[0] == 401
        assert login_from("127.0.0.31", admin, PASSWORD)[0] == 429
    finally:
        stop_lb(lb)
