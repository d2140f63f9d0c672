# SPDX-License-Identifier: MIT
# Draining a node (SIGTERM or POST /admin/v1/drain): /health 503 "draining" and logins refused
# for [server] drain_grace while sessions keep working, in-flight requests finish, exit 0.
import base64
import http.client
import json
import os
import signal
import socket
import tempfile
import time
import urllib.parse

import pytest

from conftest import Reader
from provisioning import ApiClient, Cluster, run_ctl

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]


@pytest.fixture(scope="module")
def cluster():
    """One provisioned configdb (context 1 with alice and bob); each test starts its own node."""
    with tempfile.TemporaryDirectory(prefix="tandem-drain-") as workdir:
        c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
        c.start_node("SETUP")
        c.ok("registerserver", "-n", "tandem")
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
        c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
        for login in ("alice", "bob"):
            c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
                 "-p", f"{login}_pw", "-e", f"{login}@example.com")
        c.stop()
        c.nodes.clear()
        try:
            yield c
        finally:
            c.stop()


def start(cluster, route, grace=None):
    cluster.extra = f"[server]\ndrain_grace = {grace}\n" if grace is not None else ""
    node = cluster.start_node(route)
    cluster.nodes.remove(node)  # the test stops it; keep Cluster.stop() for the rest
    return node


def url(node):
    return f"http://127.0.0.1:{node.port}"


def health(node):
    """(status, JSON body) of GET /health, or None when nothing listens any more."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        return resp.status, body
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
        return None


def wait_exit(node, timeout=30):
    code = node.proc.wait(timeout=timeout)
    node.log.close()
    return code


def login(node, who="alice"):
    api = ApiClient(node.port)
    status, body, _ = api.login(f"{who}@defaultcontext", f"{who}_pw")
    return api, status, body


def check_draining(node, api):
    """What a draining node in its grace shows: 503 draining, old session fine, no logins."""
    status, body = health(node)
    assert status == 503 and body["status"] == "draining" and body["reason"] == "draining", body
    status, me, _ = api.request("GET", "/api/v1/session")
    assert status == 200 and me["login"] == "alice", me
    _, status, body = login(node, "bob")
    assert status == 503, body
    assert body["error"]["code"] == "SRV-0503" and "draining" in body["error"]["message"], body


def my_files(api):
    status, body, _ = api.request("GET", "/api/v1/folders?parent=4")
    assert status == 200, body
    return [f["id"] for f in body["folders"] if f.get("default") and
            f.get("module") == "infostore"][0]


class SlowUpload:
    """A PUT to the files API whose body is sent in two parts, the second one later."""

    def __init__(self, node, api, size=256 * 1024):
        self.data = os.urandom(size)
        folder = my_files(api)
        headers = {"Host": "127.0.0.1", "User-Agent": api.user_agent, "X-Session": api.session,
                   "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items()),
                   "Content-Length": str(size)}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        name = urllib.parse.quote(f"slow-{os.urandom(4).hex()}.bin")
        self.sock = socket.create_connection(("127.0.0.1", node.port), timeout=30)
        self.sock.sendall(f"PUT /api/v1/files?folder={folder}&name={name} HTTP/1.1\r\n"
                          f"{head}\r\n".encode() + self.data[:size // 2])

    def finish(self):
        self.sock.sendall(self.data[len(self.data) // 2:])
        resp = Reader(self.sock).read()
        self.sock.close()
        return resp


def test_sigterm_with_grace_serves_sessions_refuses_logins_then_exits(cluster):
    node = start(cluster, "D-A", "2s")
    api, status, _ = login(node)
    assert status == 200
    assert health(node)[0] == 200

    t0 = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    node.wait_stderr("still serving for 2000 ms")
    check_draining(node, api)
    # still draining and serving late in the grace: balancers have the whole grace to notice
    time.sleep(max(0, t0 + 1.5 - time.monotonic()))
    check_draining(node, api)
    metrics = api.request("GET", "/metrics")[1].decode()
    assert 'tandem_node_state{state="draining"} 1' in metrics

    assert wait_exit(node) == 0
    elapsed = time.monotonic() - t0
    assert 1.9 <= elapsed < 8, elapsed
    assert health(node) is None
    log = node.stderr()
    assert "received SIGTERM" in log and "finishing in-flight" in log and "stopped" in log


def test_drainnode_needs_the_master_admin_then_drains(cluster):
    node = start(cluster, "D-B", "1s")
    api, status, _ = login(node)
    assert status == 200

    # no credentials, a context admin's, a wrong password: refused, nothing changes
    r = run_ctl(url(node), "drainnode", user=None)
    assert r.returncode == 1 and "ADM-0401" in r.stderr, r.stderr
    r = run_ctl(url(node), "drainnode", user="oxadmin", password="admin_pw")
    assert r.returncode == 1 and "ADM-0401" in r.stderr, r.stderr
    r = run_ctl(url(node), "drainnode", password="wrong")
    assert r.returncode == 1 and "ADM-0401" in r.stderr, r.stderr
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
    conn.request("POST", "/admin/v1/drain", body=b"")
    assert conn.getresponse().status == 401
    conn.close()
    assert health(node)[0] == 200
    assert node.proc.poll() is None

    r = run_ctl(url(node), "--json", "nodestatus")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["route"] == "D-B" and st["state"] == "ready" and st["version"]
    assert st["drain_grace_ms"] == 1000 and st["drain_timeout_ms"] == 30000
    assert st["uptime_ms"] >= 0 and st["connections_open"] >= 1 and st["started"].endswith("Z")
    assert "draining_since" not in st
    r = run_ctl(url(node), "nodestatus")
    assert r.returncode == 0 and "ready" in r.stdout and "D-B" in r.stdout, r.stdout

    t0 = time.monotonic()
    r = run_ctl(url(node), "drainnode")
    assert r.returncode == 0, r.stderr
    assert "D-B is draining" in r.stdout and "1000 ms" in r.stdout, r.stdout
    check_draining(node, api)
    # asking again is harmless: 202 again, and it does not cut the grace short
    r = run_ctl(url(node), "--json", "drainnode")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["state"] == "draining" and answer["grace_ms"] == 1000, answer
    st = json.loads(run_ctl(url(node), "--json", "nodestatus").stdout)
    assert st["state"] == "draining" and st["draining_since"].endswith("Z"), st

    assert wait_exit(node) == 0
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 6, elapsed
    log = node.stderr()
    assert "drain asked for through the admin API" in log and "stopped" in log
    assert "grace cut short" not in log


def test_drain_call_answers_202_json(cluster):
    node = start(cluster, "D-C", "1s")
    auth = base64.b64encode(b"oxadminmaster:master-secret").decode()
    for _ in range(2):  # idempotent
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
        conn.request("POST", "/admin/v1/drain", headers={"Authorization": f"Basic {auth}"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        assert resp.status == 202 and body["state"] == "draining" and body["grace_ms"] == 1000
        assert resp.getheader("Content-Type").startswith("application/json")
    assert wait_exit(node) == 0


def test_in_flight_upload_finishes_after_the_drain_began(cluster):
    node = start(cluster, "D-D")  # default grace 0: listeners close at once
    api, status, _ = login(node)
    assert status == 200
    upload = SlowUpload(node, api)
    time.sleep(0.3)  # the head and half the body are in

    node.proc.send_signal(signal.SIGTERM)
    node.wait_stderr("finishing in-flight")
    deadline = time.monotonic() + 5
    while health(node) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert health(node) is None  # no new connections any more
    assert node.proc.poll() is None  # but still there for the upload

    resp = upload.finish()
    assert resp.status == 201, resp.body
    assert json.loads(resp.body)["size"] == len(upload.data)
    assert resp.header("connection") == "close"
    assert wait_exit(node) == 0


def test_without_grace_sigterm_stops_at_once(cluster):
    node = start(cluster, "D-E")
    assert health(node)[0] == 200
    t0 = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    assert wait_exit(node) == 0
    elapsed = time.monotonic() - t0
    assert elapsed < 1.5, elapsed
    log = node.stderr()
    assert "received SIGTERM" in log and "finishing in-flight" in log
    assert "serving" not in log and "logins refused" not in log


def test_second_sigterm_cuts_the_grace_short_but_not_in_flight(cluster):
    node = start(cluster, "D-F", "20s")
    api, status, _ = login(node)
    assert status == 200
    t0 = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    node.wait_stderr("still serving for 20000 ms")
    check_draining(node, api)
    upload = SlowUpload(node, api)
    time.sleep(0.3)

    node.proc.send_signal(signal.SIGTERM)  # operator impatience
    node.wait_stderr("drain grace cut short")
    resp = upload.finish()
    assert resp.status == 201, resp.body
    assert wait_exit(node) == 0
    assert time.monotonic() - t0 < 8
