# SPDX-License-Identifier: MIT
# The access log ([log] access) of tandemd and tandem-lb: one logfmt line per request with
# client, method, path (session ids masked), status, bytes, duration, route, request id, user.
import os
import re
import shlex
import signal
import socket
import time
import urllib.request

import pytest

from conftest import TANDEMD, Process, free_port, write_config
from lb_setup import Recorder, start_lb, stop_lb
from provisioning import ApiClient, Cluster

FIELDS = ["ts", "client", "method", "path", "status", "bytes", "dur_ms", "route", "req", "user"]


def parse_line(line):
    """One logfmt line → {key: value} (values unquoted, escapes left as they are)."""
    out = {}
    for tok in shlex.split(line, posix=True):
        k, _, v = tok.partition("=")
        out[k] = v
    return out


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [parse_line(l) for l in f.read().splitlines() if l]


def wait_lines(path, pred, count=1, timeout=10.0):
    """Polls the file (the writer flushes every 200 ms) until count lines match pred."""
    deadline = time.monotonic() + timeout
    while True:
        found = [l for l in read_lines(path) if pred(l)]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {count} matching lines in {path}: {read_lines(path)}")
        time.sleep(0.05)


def raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                return b"".join(chunks)
            chunks.append(b)


def get(port, path, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.fixture
def node(workdir):
    log = os.path.join(workdir, "access.log")
    port = free_port()
    conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{port}\nroute = OX-7\n"
                                 f"data_dir = {workdir}/data\nworkers = 2\n"
                                 f"trusted_proxies = 127.0.0.2/32\n"
                                 f"[log]\naccess = {log}\n")
    p = Process([TANDEMD, "--config", conf], port, workdir)
    yield p, log
    assert p.stop() == 0, p.stderr()[-3000:]


def test_tandemd_logs_200_404_400_413_with_fields(node):
    p, log = node
    status, body, headers = get(p.port, "/health")
    assert status == 200
    rid = headers["X-Request-Id"]
    status, body404, _ = get(p.port, "/no/such?x=1&session=0123456789abcdef&y=2")
    assert status == 404
    assert raw(p.port, b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(p.port, b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n"
               ).startswith(b"HTTP/1.1 413")

    ok = wait_lines(log, lambda l: l.get("req") == rid)[0]
    assert list(ok)[:len(FIELDS)] == FIELDS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["ts"])
    assert ok["client"] == "127.0.0.1" and ok["method"] == "GET" and ok["path"] == "/health"
    assert ok["status"] == "200" and int(ok["bytes"]) == len(body)
    assert re.fullmatch(r"\d+\.\d{3}", ok["dur_ms"]) and float(ok["dur_ms"]) < 10000
    assert ok["route"] == "OX-7" and ok["user"] == "-"

    nf = wait_lines(log, lambda l: l.get("status") == "404")[0]
    assert nf["path"] == "/no/such?x=1&session=***&y=2"
    assert int(nf["bytes"]) == len(body404)
    with open(log) as f:
        assert "0123456789abcdef" not in f.read()

    bad = wait_lines(log, lambda l: l.get("status") == "400")[0]
    assert bad["method"] == "-" and bad["path"] == "-" and int(bad["bytes"]) > 0
    big = wait_lines(log, lambda l: l.get("status") == "413")[0]
    assert big["client"] == "127.0.0.1" and "aborted" not in big
    # each request once
    assert len(read_lines(log)) == 4


def test_tandemd_client_behind_trusted_proxy_and_head(node):
    p, log = node
    # 127.0.0.2 is a trusted proxy: its X-Forwarded-For names the client
    with socket.create_connection(("127.0.0.1", p.port), timeout=10,
                                  source_address=("127.0.0.2", 0)) as s:
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.9\r\n"
                  b"Connection: close\r\n\r\n")
        while s.recv(4096):
            pass
    # an untrusted peer's X-Forwarded-For is not believed
    get(p.port, "/health", {"X-Forwarded-For": "198.51.100.1"})
    lines = wait_lines(log, lambda l: True, count=2)
    head = [l for l in lines if l["method"] == "HEAD"][0]
    assert head["client"] == "192.0.2.9" and head["bytes"] == "0" and head["status"] == "200"
    other = [l for l in lines if l["method"] == "GET"][0]
    assert other["client"] == "127.0.0.1"


def test_tandemd_sighup_reopens_the_access_log(node):
    p, log = node
    get(p.port, "/health")
    wait_lines(log, lambda l: True)
    os.rename(log, log + ".1")
    os.kill(p.pid, signal.SIGHUP)
    p.wait_stderr("log reopened")
    get(p.port, "/health?after=1")
    assert wait_lines(log, lambda l: True)[0]["path"] == "/health?after=1"
    assert len(read_lines(log + ".1")) == 1


def test_tandemd_logs_the_authenticated_user(workdir):
    log = os.path.join(workdir, "access.log")
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=f"[log]\naccess = {log}\n")
    c.start_node()
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
        c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
        c.ok("createcontext", "-c", "5", "-q", "100", "-L", "ctx5", "-u", "oxadmin", "-d", "A",
             "-g", "A", "-s", "D", "-p", "admin_pw", "-e", "a@example.com")
        api = ApiClient(c.nodes[0].port)
        status, body, _ = api.login("oxadmin@ctx5", "admin_pw")
        assert status == 200
        sid = api.session
        api.session = None
        status, me, _ = api.request("GET", f"/api/v1/session?session={sid}")
        assert status == 200
        line = wait_lines(log, lambda l: l["path"].startswith("/api/v1/session?"))[0]
        assert line["path"] == "/api/v1/session?session=***"
        assert line["user"] == f"5/{body['user_id']}"
        with open(log) as f:
            assert sid not in f.read()
    finally:
        c.stop()


def test_lb_access_log_names_the_member(workdir):
    rec = Recorder(route="REC-1")
    log = os.path.join(workdir, "lb-access.log")
    lb = start_lb(workdir, [("REC-1", rec.port, 1, "ready")],
                  extra=f"[log]\naccess = {log}\n")
    try:
        status, body, headers = get(lb.port, "/api/x?session=s3cret&a=b")
        assert status == 200
        assert raw(lb.port, b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
            b"HTTP/1.1 400")
        line = wait_lines(log, lambda l: l["status"] == "200")[0]
        assert line["route"] == "REC-1" and line["method"] == "GET"
        assert line["path"] == "/api/x?session=***&a=b" and int(line["bytes"]) == len(body)
        assert line["client"] == "127.0.0.1" and re.fullmatch(r"[0-9a-f]{16}", line["req"])
        bad = wait_lines(log, lambda l: l["status"] == "400")[0]
        assert bad["route"] == "-"
    finally:
        stop_lb(lb)
        rec.stop()
