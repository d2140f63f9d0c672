# SPDX-License-Identifier: MIT
# tandemd end to end: /health, routing errors, keep-alive, pipelining, strictness, limits,
# timeouts, signals and configuration checking.
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import (CORPUS, TANDEMD, Process, Reader, connect, free_port, parse_metrics,
                      recv_until_closed, request, write_config)


def get(port, path, extra=b""):
    return request(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n")


def test_health_reports_ready_route_and_version(start_tandemd):
    node = start_tandemd("route = OX-7\n")
    r = get(node.port, "/health")
    assert r.status == 200
    assert r.header("content-type") == "application/json; charset=utf-8"
    body = json.loads(r.body)
    assert body == {"status": "ready", "route": "OX-7", "version": body["version"]}
    assert body["version"].count(".") == 2
    assert len(r.header("x-request-id")) == 16


def test_an_unknown_ioloop_mode_is_named_in_the_log_and_the_node_serves(start_tandemd,
                                                                        monkeypatch):
    monkeypatch.setenv("TANDEM_IOLOOP", "epol")
    node = start_tandemd()
    assert "TANDEM_IOLOOP=epol: unknown, expected epoll or io_uring" in \
        node.wait_stderr("TANDEM_IOLOOP=epol")
    assert get(node.port, "/health").status == 200


def test_head_health_has_length_but_no_body(start_tandemd):
    node = start_tandemd()
    with connect(node.port) as s:
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: t\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        rd = Reader(s)
        head = rd.read(head_request=True)
        full = rd.read()
    assert head.status == 200 and head.body == b""
    assert int(head.header("content-length")) == len(full.body) > 0


def test_path_parameters_of_the_last_segment_are_dropped(start_tandemd):
    """URL rewriting appends ";jsessionid=…" (balancers steer by it): the resource is the path
    before it. Parameters of other segments stay part of the path."""
    node = start_tandemd()
    for path in ("/health;jsessionid=abc.OX-1", "/health;a=1;b=2", "/health;"):
        assert get(node.port, path).status == 200, path
    assert get(node.port, "/health;jsessionid=x?y=1").status == 200
    assert get(node.port, "/nope;jsessionid=x").status == 404
    assert get(node.port, "/health;x/").status == 404


def test_unknown_path_is_404_json(start_tandemd):
    node = start_tandemd()
    r = get(node.port, "/nope")
    assert r.status == 404
    err = json.loads(r.body)["error"]
    assert err["code"] == "HTTP-0404" and err["message"]


def test_wrong_method_is_405_with_allow(start_tandemd):
    node = start_tandemd()
    r = request(node.port, b"DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status == 405
    assert r.header("allow") == "GET, HEAD"
    assert json.loads(r.body)["error"]["code"] == "HTTP-0405"


def test_any_token_method_reaches_the_application(start_tandemd):
    node = start_tandemd()
    r = request(node.port, b"PROPFIND /health HTTP/1.1\r\nHost: t\r\nDepth: 0\r\n\r\n")
    assert r.status == 405  # routed, not refused by the parser


def test_keep_alive_serves_many_requests_on_one_connection(start_tandemd):
    node = start_tandemd()
    with connect(node.port) as s:
        rd = Reader(s)
        for _ in range(200):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            assert rd.read().status == 200


def test_pipelined_requests_are_answered_in_order(start_tandemd):
    node = start_tandemd()
    paths = ["/health", "/a", "/health", "/b", "/health"] * 10
    raw = b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p.encode() for p in paths)
    with connect(node.port) as s:
        s.sendall(raw)
        rd = Reader(s)
        statuses = [rd.read().status for _ in paths]
    assert statuses == [200 if p == "/health" else 404 for p in paths]


def test_connection_close_is_honoured(start_tandemd):
    node = start_tandemd()
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data, clean = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close\r\n" in data
    assert clean


def test_http10_closes_unless_keep_alive(start_tandemd):
    node = start_tandemd()
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        data, clean = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.0 200 ") and clean
    with connect(node.port) as s:
        rd = Reader(s)
        for _ in range(3):
            s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = rd.read()
            assert r.status == 200 and r.header("connection") == "keep-alive"


@pytest.fixture(scope="module")
def corpus_node():
    # One node takes the whole corpus: it must survive all of it.
    with tempfile.TemporaryDirectory(prefix="tandem-corpus-") as d:
        port = free_port()
        conf = write_config(d, f"[server]\nlisten = 127.0.0.1:{port}\ndata_dir = {d}/data\n")
        node = Process([TANDEMD, "--config", conf], port, d)
        yield node
        assert node.stop() == 0, node.stderr()[-4000:]


@pytest.mark.parametrize("name", sorted(os.listdir(CORPUS)))
def test_malformed_request_gets_400_and_close(corpus_node, name):
    node = corpus_node
    with open(os.path.join(CORPUS, name), "rb") as f:
        raw = f.read()
    with connect(node.port) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data, clean = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data[:200]
    assert data.count(b"HTTP/1.1 ") == 1, "a smuggled second request was answered"
    assert clean, "connection reset instead of closed after the 400"
    # And the node still serves a normal request afterwards.
    assert get(node.port, "/health").status == 200


def test_too_many_headers_is_431(start_tandemd):
    node = start_tandemd("[http]\nmax_headers = 10\n")
    extra = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 431 ")


def test_head_too_large_is_431(start_tandemd):
    node = start_tandemd("[http]\nmax_header_bytes = 4K\nmax_line = 1K\n")
    extra = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 900) for i in range(6))
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 431 ")


def test_unknown_expectation_is_417(start_tandemd):
    node = start_tandemd()
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 417 ")


def test_body_over_max_body_is_413(start_tandemd):
    node = start_tandemd("[http]\nmax_body = 1K\n")
    with connect(node.port) as s:
        s.sendall(b"POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_header_timeout_answers_408(start_tandemd):
    node = start_tandemd("[http]\nheader_timeout = 1s\n")
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
        t0 = time.monotonic()
        data, _ = recv_until_closed(s)
        elapsed = time.monotonic() - t0
    assert data.startswith(b"HTTP/1.1 408 ")
    assert 0.5 < elapsed < 5


def test_idle_keep_alive_connection_is_closed(start_tandemd):
    node = start_tandemd("[http]\nidle_timeout = 1s\n")
    with connect(node.port) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        rd = Reader(s)
        assert rd.read().status == 200
        t0 = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - t0 < 5


def test_sigterm_drains_and_exits_zero(start_tandemd):
    node = start_tandemd()
    idle = connect(node.port)
    assert get(node.port, "/health").status == 200
    assert node.stop() == 0
    assert idle.recv(10) == b""  # idle keep-alive connection closed, not left hanging
    idle.close()
    assert "draining" in node.stderr() and "stopped" in node.stderr()


def test_sighup_reopens_log_file(start_tandemd, workdir):
    log = os.path.join(workdir, "tandemd.log")
    node = start_tandemd(f"[log]\nfile = {log}\n")
    deadline = time.monotonic() + 10
    while "listening on" not in open(log).read() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "listening on" in open(log).read()
    os.rename(log, log + ".1")
    node.proc.send_signal(signal.SIGHUP)
    # the new file appears before the line that says so is written: wait for the line
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if os.path.exists(log) and "log reopened" in open(log).read():
            break
        time.sleep(0.05)
    assert "log reopened" in open(log).read()


def test_log_lines_are_structured(start_tandemd):
    node = start_tandemd("route = OX-3\n")
    line = node.wait_stderr("listening on")
    for field in ("ts=", "level=info", "node=OX-3", "comp=node", 'msg="listening on http://'):
        assert field in line


def test_port_in_use_fails_clearly(workdir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{port}\n"
                                     f"data_dir = {workdir}/d\n")
        r = subprocess.run([TANDEMD, "--config", conf], capture_output=True, text=True,
                           timeout=30)
    assert r.returncode == 1
    assert f"127.0.0.1:{port}" in r.stderr and "Address already in use" in r.stderr


def test_two_nodes_cannot_share_a_port(start_tandemd, workdir):
    node = start_tandemd()
    conf2 = os.path.join(workdir, "second.ini")
    with open(conf2, "w") as f:
        f.write(f"[server]\nlisten = 127.0.0.1:{node.port}\ndata_dir = {workdir}/d2\n")
    r = subprocess.run([TANDEMD, "--config", conf2], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "Address already in use" in r.stderr


def test_check_config_accepts_valid_file(workdir):
    conf = write_config(workdir, "[server]\nname = tandem\nroute = OX-2\nlisten = 127.0.0.1:8009\n"
                                 "listen = [::1]:8009\nworkers = 8\n"
                                 "trusted_proxies = 127.0.0.1/32, 10.0.0.0/8\n"
                                 "trusted_proxies = ::1 2001:db8::/32\nmax_concurrent_hashing = 4\n"
                                 "hashing_wait = 500ms\n[http]\nidle_timeout = 90s\n"
                                 "max_body = 64M\n[log]\nlevel = debug\n")
    r = subprocess.run([TANDEMD, "--check-config", "--config", conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout


@pytest.mark.parametrize("text,expect", [
    ("[server]\nbogus = 1\n", "tandemd.ini:2:"),
    ("[nosuch]\nx = 1\n", "tandemd.ini:1:"),
    ("[server]\nworkers = many\n", "tandemd.ini:2:"),
    ("[server]\nlisten = localhost\n", "tandemd.ini:2:"),
    ("[http]\nidle_timeout = 5 parsecs\n", "tandemd.ini:2:"),
    ("[http]\nmax_body = 12Q\n", "tandemd.ini:2:"),
    ("[server]\nroute = OX-1\nroute = OX-2\n", "tandemd.ini:3:"),
    ("[server]\nroute = bad.route\n", "tandemd.ini:2:"),
    ("[server]\nworkers = 0\n", "tandemd.ini:2:"),
    ("[log]\nlevel = chatty\n", "tandemd.ini:2:"),
    ("[server]\nworkers = 2\ntrusted_proxies = 10.0.0.1/8\n",
     'tandemd.ini:3: [server] trusted_proxies: "10.0.0.1/8" has host bits set past the prefix'),
    ("[server]\ntrusted_proxies = 127.0.0.1, lb.example\n",
     'tandemd.ini:2: [server] trusted_proxies: "lb.example" is not an address or '
     "address/prefix"),
    ("[server]\nmax_concurrent_hashing = 5000\n",
     "tandemd.ini:2: [server] max_concurrent_hashing must be at most 1024"),
    ("[server]\nhashing_wait = 2m\n", "tandemd.ini:2: [server] hashing_wait must be at most 60s"),
    ("[limits]\nmax_objects_per_context = lots\n", "tandemd.ini:2:"),
    ("[limits]\n\nmax_objects_per_context = 1000000001\n",
     "tandemd.ini:3: [limits] max_objects_per_context must be at most 1000000000"),
])
def test_check_config_reports_file_and_line(workdir, text, expect):
    conf = write_config(workdir, text)
    r = subprocess.run([TANDEMD, "--check-config", "--config", conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert expect in r.stderr, r.stderr


def test_missing_config_file_is_an_error(workdir):
    r = subprocess.run([TANDEMD, "--check-config", "--config", os.path.join(workdir, "none.ini")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "none.ini" in r.stderr


def test_version_and_help():
    r = subprocess.run([TANDEMD, "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("tandemd ")
    r = subprocess.run([TANDEMD, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "--check-config" in r.stdout
    r = subprocess.run([TANDEMD, "--bogus"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2


def test_defaults_without_config(workdir):
    # Embedded defaults listen on 127.0.0.1:8009; only run when that port is free here.
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 8009))
    except OSError:
        pytest.skip("port 8009 busy")
    p = Process([TANDEMD], 8009, workdir)
    try:
        assert get(8009, "/health").status == 200
        assert os.path.isdir(os.path.join(workdir, "tandem-data"))
    finally:
        assert p.stop() == 0


def metrics(port):
    r = get(port, "/metrics")
    assert r.status == 200 and r.header("content-type").startswith("text/plain; version=0.0.4")
    return parse_metrics(r.body.decode())


def test_metrics_counts_requests_and_refusals(start_tandemd):
    node = start_tandemd("route = OX-5\n")
    m0 = metrics(node.port)
    for _ in range(5):
        get(node.port, "/health")
    with connect(node.port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        recv_until_closed(s)
    m1 = metrics(node.port)
    # 5 health checks + the refused request + this /metrics call itself
    assert m1["tandem_http_requests_total"] - m0["tandem_http_requests_total"] == 6
    assert m1["tandem_http_parse_errors_total"] - m0["tandem_http_parse_errors_total"] == 1
    assert m1['tandem_node_state{state="ready"}'] == 1
    assert m1['tandem_node_state{state="draining"}'] == 0
    assert m1['tandem_build_info{version="0.1.0",route="OX-5"}'] == 1
    assert m1["tandem_http_connections_open"] >= 1
