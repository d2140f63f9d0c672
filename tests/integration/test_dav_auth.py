# SPDX-License-Identifier: MIT
# Who a WebDAV request is (docs/webdav.md "Logging in"): HTTP Basic with the JSON API's logins,
# checked once and then cached until something in the context changes, refused at once after
# a password change on every node, throttled like the login, and never asked for over plain
# HTTP from a client that is neither on loopback nor behind HTTPS. Real nodes, memory store
# and Redis.
import base64
import http.client

import pytest

from cluster_setup import start_cluster
from conftest import scrape_metrics
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)


def dav(port, login=None, password=None, method="OPTIONS", path="/dav/files/home/",
        headers=None):
    h = dict(headers or {})
    if login is not None:
        token = base64.b64encode(f"{login}:{password}".encode()).decode()
        h["Authorization"] = f"Basic {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=h)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def hits(port):
    return scrape_metrics(port).get('tandem_cache_hits_total{cache="dav-auth"}', 0)


@pytest.fixture
def node(workdir):
    c = start_cluster(workdir, "memory", nodes=1, server="trusted_proxies = 127.0.0.1\n")
    yield c
    c.stop()


def test_no_credentials_get_a_basic_challenge(node):
    status, headers, body = dav(node.nodes[0].port)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="Tandem", charset="UTF-8"'
    assert b"DAV-0401" in body


def test_the_json_api_logins_work_and_are_checked_once(node):
    port = node.nodes[0].port
    status, headers, _ = dav(port, "alice", "alice_pw")
    assert status == 200 and headers["DAV"] == "1, 2" and "PROPFIND" in headers["Allow"]
    # user@mapping is the same user, with its own cache entry
    assert dav(port, "alice@defaultcontext", "alice_pw")[0] == 200
    before = hits(port)
    for _ in range(3):
        assert dav(port, "alice", "alice_pw", method="PROPFIND",
                   headers={"Depth": "0"})[0] == 207
    assert hits(port) == before + 3
    status, headers, body = dav(port, "alice", "wrong")
    assert status == 401 and "WWW-Authenticate" in headers and b"SES-0401" in body
    assert dav(port, "nobody", "x")[0] == 401


def test_failures_are_throttled_like_the_login(node):
    port = node.nodes[0].port
    statuses = [dav(port, "bob", f"wrong{i}")[0] for i in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    status, headers, _ = dav(port, "bob", "bob_pw")
    assert status == 429 and int(headers["Retry-After"]) > 0


def test_plain_http_from_afar_is_refused_without_a_challenge(node):
    port = node.nodes[0].port
    far = {"X-Forwarded-For": "192.0.2.7"}  # the balancer (a trusted proxy) speaking for it
    status, headers, body = dav(port, "alice", "alice_pw", headers=far)
    assert status == 403 and "WWW-Authenticate" not in headers
    assert b"HTTPS" in body
    https = dict(far, **{"X-Forwarded-Proto": "https"})
    assert dav(port, "alice", "alice_pw", headers=https)[0] == 200


def test_basic_over_http_may_be_allowed(workdir):
    c = start_cluster(workdir, "memory", nodes=1, server="trusted_proxies = 127.0.0.1\n",
                      extra="[dav]\nbasic_over_http = yes\n")
    try:
        far = {"X-Forwarded-For": "192.0.2.7"}
        assert dav(c.nodes[0].port, "alice", "alice_pw", headers=far)[0] == 200
    finally:
        c.stop()


@pytest.fixture
def two_nodes(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, nodes=2)
    yield c
    c.stop()


def test_a_password_change_is_refused_at_once_on_every_node(two_nodes):
    c = two_nodes
    for n in c.nodes:  # checked and cached on both
        assert dav(n.port, "bob", "bob_pw")[0] == 200
        assert dav(n.port, "bob", "bob_pw")[0] == 200
    c.ok("changeuser", "-c", "1", "-u", "bob", "-p", "bob_new_pw")
    for n in c.nodes:
        assert dav(n.port, "bob", "bob_pw")[0] == 401
        assert dav(n.port, "bob", "bob_new_pw")[0] == 200
    c.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "gone")
    for n in c.nodes:
        status, _, body = dav(n.port, "bob", "bob_new_pw")
        assert status == 403 and b"gone" in body


def test_well_known_addresses_point_at_dav(node):
    for what in ("caldav", "carddav"):
        for method in ("GET", "PROPFIND"):
            status, headers, _ = dav(node.nodes[0].port, method=method,
                                     path=f"/.well-known/{what}")
            assert status == 301 and headers["Location"] == "/dav/"


def test_windows_and_macos_probe_the_roots_without_credentials(node):
    port = node.nodes[0].port
    for path in ("/", "/dav/"):
        status, headers, _ = dav(port, path=path)
        assert status == 200, path
        assert headers["DAV"] == "1, 2" and headers["MS-Author-Via"] == "DAV"
        assert "OPTIONS" in headers["Allow"]
    assert "PROPFIND" in dav(port, path="/dav/")[1]["Allow"]
    # the connection stays usable: WebClient goes on on it
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for path in ("/", "/dav/", "/dav/files/home/"):
            conn.request("OPTIONS", path)
            r = conn.getresponse()
            r.read()
            assert r.status == (401 if path == "/dav/files/home/" else 200), path
            if r.status == 401:
                break
    finally:
        conn.close()
    # anything below /dav/ still wants a login, and the web UI still answers GET /
    assert dav(port, path="/dav/files/")[0] == 401
    assert dav(port, method="PROPFIND", path="/dav/")[0] == 401
    assert dav(port, method="GET", path="/")[0] == 200
