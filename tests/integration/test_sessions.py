# SPDX-License-Identifier: MIT
# Sessions end to end: login, cookies, validation, logout, expiry, limits, throttling.
import time

import pytest

from provisioning import ApiClient, Cluster

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]


def make_cluster(workdir, session_conf=""):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=f"[session]\n{session_conf}" if session_conf else "")
    c.start_node()
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "100", "-L", "defaultcontext", *ADMIN)
    c.ok("createcontext", "-c", "2", "-q", "100", "-L", "other", *ADMIN)
    for login in ("alice", "bob"):
        c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S", "-p",
             f"{login}_pw", "-e", f"{login}@example.com")
    return c


@pytest.fixture
def cluster(workdir):
    c = make_cluster(workdir)
    yield c
    c.stop()


def port(c):
    return c.nodes[0].port


def test_login_sets_session_and_cookies(cluster):
    api = ApiClient(port(cluster))
    status, body, resp = api.login("alice@defaultcontext", "alice_pw")
    assert status == 200
    assert set(body) == {"session", "context_id", "user_id", "route", "modules"}
    assert "webui" in body["modules"] and "files" in body["modules"]  # no combination: all
    assert len(body["session"]) == 32 and body["context_id"] == 1 and body["route"] == "OX-1"
    secret = [k for k in api.cookies if k.startswith("tandem-secret-")]
    assert len(secret) == 1 and len(api.cookies[secret[0]]) == 32
    assert api.cookies["JSESSIONID"].endswith(".OX-1")
    assert "HttpOnly" in " ".join(v for k, v in resp.getheaders() if k == "Set-Cookie")
    status, me, _ = api.request("GET", "/api/v1/session")
    assert status == 200 and me["login"] == "alice" and me["user_id"] == body["user_id"]
    # the id may also travel as a query parameter
    sid = api.session
    api.session = None
    status, me, _ = api.request("GET", f"/api/v1/session?session={sid}")
    assert status == 200 and me["login"] == "alice"


def test_login_without_mapping_uses_defaultcontext_and_id_mapping_works(cluster):
    assert ApiClient(port(cluster)).login("bob", "bob_pw")[0] == 200
    assert ApiClient(port(cluster)).login("bob@1", "bob_pw")[0] == 200
    assert ApiClient(port(cluster)).login("oxadmin@other", "admin_pw")[1]["context_id"] == 2


@pytest.mark.parametrize("login,password", [
    ("alice@defaultcontext", "wrong"), ("nobody@defaultcontext", "alice_pw"),
    ("alice@nosuchcontext", "alice_pw"), ("alice@other", "alice_pw"), ("a" * 200, "x")])
def test_wrong_credentials_are_401(cluster, login, password):
    status, body, _ = ApiClient(port(cluster)).login(login, password)
    assert status == 401 and body["error"]["code"] == "SES-0401"


@pytest.mark.parametrize("raw,field", [
    (b"not json", "JSON"), (b"[]", "JSON object"), (b'{"login":"alice"}', "password"),
    (b'{"login":1,"password":"x"}', "login"), (b'{"login":"a","password":"b","staySignedIn":3}',
                                                "staySignedIn")])
def test_malformed_login_is_400(cluster, raw, field):
    status, body, _ = ApiClient(port(cluster)).request("POST", "/api/v1/login", raw=raw)
    assert status == 400 and field in body["error"]["message"]


def test_secret_cookie_is_required_and_bound_to_the_client(cluster):
    api = ApiClient(port(cluster))
    api.login("alice", "alice_pw")
    good = dict(api.cookies)
    expired = "session expired or unknown: log in again"
    missing = "the secret cookie is missing"
    # no secret cookie at all (other cookies do not count): said so, for a live session and
    # for an unknown one alike, so the answer tells nothing about the session
    for cookies in ({}, {"JSESSIONID": good["JSESSIONID"]}):
        for sid in (api.session, "f" * 32):
            probe = ApiClient(port(cluster))
            probe.session, probe.cookies = sid, cookies
            status, body, _ = probe.request("GET", "/api/v1/session")
            assert status == 401 and body["error"]["code"] == "SES-0203", body
            assert body["error"]["message"].startswith(missing), body
    # a wrong secret answers like an expired session
    api.cookies = {k: ("0" * 32 if k.startswith("tandem-secret-") else v)
                   for k, v in good.items()}
    status, body, _ = api.request("GET", "/api/v1/session")
    assert status == 401 and body["error"] == {"code": "SES-0203", "message": expired}
    # another browser (User-Agent) with the stolen id and cookie is not let in, and is told
    # the same as for an expired session (the cookie it sent is for another client)
    thief = ApiClient(port(cluster), user_agent="other-browser")
    thief.session, thief.cookies = api.session, good
    status, body, _ = thief.request("GET", "/api/v1/session")
    assert status == 401 and body["error"] == {"code": "SES-0203", "message": expired}
    # an unknown session with some secret cookie: the same again
    thief.session = "f" * 32
    status, body, _ = thief.request("GET", "/api/v1/session")
    assert status == 401 and body["error"] == {"code": "SES-0203", "message": expired}
    api.cookies = good
    assert api.request("GET", "/api/v1/session")[0] == 200


def test_logout_and_logout_everywhere(cluster):
    a1, a2, b = ApiClient(port(cluster)), ApiClient(port(cluster)), ApiClient(port(cluster))
    for api, who in ((a1, "alice"), (a2, "alice"), (b, "bob")):
        assert api.login(who, f"{who}_pw")[0] == 200
    status, body, _ = a1.request("POST", "/api/v1/logout")
    assert status == 200 and body["ended"] == 1
    assert a1.request("GET", "/api/v1/session")[0] == 401
    assert a2.request("GET", "/api/v1/session")[0] == 200
    a1.login("alice", "alice_pw")
    status, body, _ = a1.request("POST", "/api/v1/logout?all=1")
    assert status == 200 and body["ended"] == 2
    assert a2.request("GET", "/api/v1/session")[0] == 401
    assert b.request("GET", "/api/v1/session")[0] == 200


def test_disabled_context_and_user_cannot_log_in_and_are_told_why(cluster):
    cluster.ok("disablecontext", "-c", "2", "--reason", "unpaid invoice")
    status, body, _ = ApiClient(port(cluster)).login("oxadmin@other", "admin_pw")
    assert status == 403 and "unpaid invoice" in body["error"]["message"]
    cluster.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "on leave")
    status, body, _ = ApiClient(port(cluster)).login("bob", "bob_pw")
    assert status == 403 and "on leave" in body["error"]["message"]
    cluster.ok("changeuser", "-c", "1", "-u", "bob", "--enable")
    assert ApiClient(port(cluster)).login("bob", "bob_pw")[0] == 200


def test_failed_logins_are_throttled_per_login(cluster):
    api = ApiClient(port(cluster))
    for _ in range(5):
        assert api.login("alice", "wrong")[0] == 401
    status, body, resp = api.login("alice", "alice_pw")
    assert status == 429 and body["error"]["code"] == "SES-0429"
    assert int(resp.getheader("Retry-After")) > 0
    assert ApiClient(port(cluster)).login("bob", "bob_pw")[0] == 200


def test_idle_expiry_and_stay_signed_in(workdir):
    c = make_cluster(workdir, "lifetime = 2s\nlong_lifetime = 30s\n")
    try:
        short, long_ = ApiClient(c.nodes[0].port), ApiClient(c.nodes[0].port)
        short.login("alice", "alice_pw")
        _, _, resp = long_.login("alice", "alice_pw", client="app", stay=True)
        assert "Max-Age=30" in " ".join(v for k, v in resp.getheaders() if k == "Set-Cookie")
        assert short.request("GET", "/api/v1/session")[0] == 200
        time.sleep(2.6)
        assert short.request("GET", "/api/v1/session")[0] == 401
        status, me, _ = long_.request("GET", "/api/v1/session")
        assert status == 200 and me["staySignedIn"] is True
    finally:
        c.stop()


def test_max_per_user_ends_the_oldest_session(workdir):
    c = make_cluster(workdir, "max_per_user = 2\n")
    try:
        clients = [ApiClient(c.nodes[0].port) for _ in range(3)]
        for api in clients:
            assert api.login("alice", "alice_pw")[0] == 200
            time.sleep(0.01)
        assert [api.request("GET", "/api/v1/session")[0] for api in clients] == [401, 200, 200]
    finally:
        c.stop()


def test_ip_check_strict_and_subnet(workdir):
    c = make_cluster(workdir, "ip_check = strict\n")
    try:
        api = ApiClient(c.nodes[0].port)
        api.login("alice", "alice_pw")
        api.source = "127.0.0.2"
        assert api.request("GET", "/api/v1/session")[0] == 401
        api.source = "127.0.0.1"
        assert api.request("GET", "/api/v1/session")[0] == 200
    finally:
        c.stop()
    import os
    os.makedirs(f"{workdir}/sub")
    c = make_cluster(f"{workdir}/sub", "ip_check = subnet\n")
    try:
        api = ApiClient(c.nodes[0].port)
        api.login("alice", "alice_pw")
        api.source = "127.0.0.2"  # same /24
        assert api.request("GET", "/api/v1/session")[0] == 200
        api.source = "127.0.1.1"  # another /24
        assert api.request("GET", "/api/v1/session")[0] == 401
    finally:
        c.stop()


def test_api_calls_without_session_are_401(cluster):
    status, body, _ = ApiClient(port(cluster)).request("GET", "/api/v1/session")
    assert status == 401 and body["error"]["code"] == "SES-0203"
