# SPDX-License-Identifier: MIT
# AJP13 (docs/internals/ajp.md): tandemd's [ajp] listener spoken to directly (CPING, keep-alive,
# is_ssl and remote_addr, the secret, a broken packet), and the seed's own Apache configuration
# in front of two nodes (mod_proxy_ajp members with route=OX-n, stickysession=JSESSIONID,
# secret=): logins spread and stick to their node, a few MB go up and come back identical,
# Apache keeps its AJP connections, the client's address arrives, a wrong secret is refused.
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import urllib.parse

import pytest

from cluster_setup import cluster_config, provision, wait_for
from conftest import TANDEMD, free_port, scrape_metrics
from provisioning import ApiClient, Cluster
import peers

SECRET = "ajp-shared-s3cret"
MIB = 1024 * 1024


# ------------------------------------------------------------------ a small AJP13 web server side

def ajp_str(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b + b"\0"


def packet(payload):
    return b"\x12\x34" + struct.pack(">H", len(payload)) + payload


def forward(method_code, uri, headers=(), remote="127.0.0.1", ssl=False, secret=SECRET,
            query=None):
    """A FORWARD_REQUEST packet as mod_proxy_ajp sends it (header names as strings)."""
    p = bytes([2, method_code]) + ajp_str("HTTP/1.1") + ajp_str(uri) + ajp_str(remote)
    p += ajp_str("") + ajp_str("localhost") + struct.pack(">H", 80) + bytes([1 if ssl else 0])
    p += struct.pack(">H", len(headers))
    for name, value in headers:
        p += ajp_str(name) + ajp_str(value)
    if query is not None:
        p += b"\x05" + ajp_str(query)
    if secret is not None:
        p += b"\x0c" + ajp_str(secret)
    return packet(p + b"\xff")


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        got = sock.recv(n - len(data))
        if not got:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += got
    return data


def read_packet(sock):
    head = recv_exact(sock, 4)
    assert head[:2] == b"AB", head
    return recv_exact(sock, struct.unpack(">H", head[2:])[0])


def get_str(p, off):
    n = struct.unpack(">H", p[off:off + 2])[0]
    assert p[off + 2 + n] == 0
    return p[off + 2:off + 2 + n].decode(), off + 3 + n


def exchange(sock, fwd, body=b"", chunked=False):
    """Sends a request (the body as Apache does: with a Content-Length the first packet
    unasked, the rest on each GET_BODY_CHUNK; chunked, every packet asked for and an empty
    one at the end) and reads the answer: (status, [(name, value)], body, reuse)."""
    sock.sendall(fwd)
    pos = 0

    def send_body(limit):
        nonlocal pos
        piece = body[pos:pos + min(limit, 8186)]
        pos += len(piece)
        sock.sendall(packet(struct.pack(">H", len(piece)) + piece))

    if body and not chunked:
        send_body(8186)
    status, headers, data = None, [], b""
    while True:
        p = read_packet(sock)
        if p[0] == 4:  # SEND_HEADERS
            status = struct.unpack(">H", p[1:3])[0]
            _, off = get_str(p, 3)
            count = struct.unpack(">H", p[off:off + 2])[0]
            off += 2
            for _ in range(count):
                name, off = get_str(p, off)
                value, off = get_str(p, off)
                headers.append((name, value))
        elif p[0] == 3:  # SEND_BODY_CHUNK
            n = struct.unpack(">H", p[1:3])[0]
            assert 0 < n <= 8184 and len(p) == n + 4 and p[-1] == 0
            data += p[3:3 + n]
        elif p[0] == 6:  # GET_BODY_CHUNK
            assert pos < len(body) or chunked, "asked for more than the Content-Length"
            send_body(struct.unpack(">H", p[1:3])[0])
        elif p[0] == 5:  # END_RESPONSE
            return status, headers, data, p[1] == 1
        else:
            raise AssertionError(f"unexpected packet {p!r}")


def closed(sock):
    """True when the server closed the connection (and sent nothing more)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def header(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


# ------------------------------------------------------------------ clusters

def start_nodes(workdir, count, ajp_lines):
    """count nodes OX-1 … with an [ajp] listener each on a port of its own (memory session
    store: a session exists on the node that made it only, so a request the front end sends
    to the other node fails). Returns (cluster, ajp ports)."""
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=cluster_config("memory"))
    ports = []
    for i in range(count):
        ports.append(free_port())
        c.start_node(f"OX-{i + 1}", node_extra=f"[ajp]\nlisten = 127.0.0.1:{ports[-1]}\n"
                                               f"{ajp_lines}")
    provision(c, workdir)
    return c, ports


@pytest.fixture
def one_node(workdir):
    c, ports = start_nodes(workdir, 1, f"secret = {SECRET}\n")
    yield c, ports[0]
    c.stop()


def accepted(node):
    return scrape_metrics(node.port)["tandem_http_connections_accepted_total"]


def test_ajp_direct(one_node):
    c, ajp_port = one_node
    node = c.nodes[0]
    before = accepted(node)
    with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
        s.sendall(packet(b"\x0a"))  # CPING
        assert read_packet(s) == b"\x09"  # CPONG

        # several requests on one connection, each ending with END_RESPONSE(reuse)
        for _ in range(5):
            status, headers, body, reuse = exchange(s, forward(2, "/health"))
            assert status == 200 and reuse, (status, body)
        status, _, body, reuse = exchange(s, forward(2, "/api/v1/nonexistent"))
        assert status == 404 and reuse

        # a login: the client is remote_addr, HTTPS is is_ssl (the cookie is Secure)
        login = (b'{"login":"alice","password":"alice_pw","client":"ajp"}')
        status, headers, body, reuse = exchange(
            s, forward(4, "/api/v1/login", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(login)))],
                       remote="192.0.2.9", ssl=True), login)
        assert status == 200 and reuse, body
        secret_cookie = [v for v in header(headers, "Set-Cookie") if v.startswith("tandem-secret")]
        assert len(secret_cookie) == 1 and "; Secure" in secret_cookie[0], headers
        assert header(headers, "Content-Length") == [str(len(body))]
        # a body without a length (Transfer-Encoding: chunked at the front end): asked for
        # packet by packet until the empty one; the login reads it like any other
        status, _, body, reuse = exchange(
            s, forward(4, "/api/v1/login", [("Content-Type", "application/json"),
                                             ("Transfer-Encoding", "chunked")]),
            login, chunked=True)
        assert status == 200 and reuse, body
    assert accepted(node) - before == 2  # the AJP connection and the first scrape
    node.wait_stderr("from 192.0.2.9")

    # the same without is_ssl: no Secure
    with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
        status, headers, _, _ = exchange(
            s, forward(4, "/api/v1/login", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(login)))]), login)
        assert status == 200 and not any("Secure" in v for v in header(headers, "Set-Cookie"))

    # a wrong secret, and none: 403, and the connection is closed
    for secret in ("wrong", None, SECRET + "x", SECRET[:-1]):
        with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
            status, _, body, reuse = exchange(s, forward(2, "/health", secret=secret))
            assert status == 403 and not reuse, (secret, status, body)
            assert closed(s)
    node.wait_stderr("request without the shared secret refused")

    # not AJP at all (an HTTP request sent to the AJP port): closed without an answer
    with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed(s)
    # a malformed FORWARD_REQUEST (a header value with LF): 400
    with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
        status, _, _, reuse = exchange(s, forward(2, "/health", [("X-A", "a\nb")]))
        assert status == 400 and not reuse and closed(s)
    assert node.proc.poll() is None


def test_ajp_core_paths(workdir, start_test_server):
    """The HTTP core's response kinds and body sinks over AJP (http-test-server -a): a streamed
    (producer) answer, a streamed upload into a sink, the file sent back (pread, not
    sendfile), a worker thread's answer, a refusal before the body, other methods."""
    ajp_port = free_port()
    start_test_server("-a", f"127.0.0.1:{ajp_port}")
    with socket.create_connection(("127.0.0.1", ajp_port), timeout=30) as s:
        # producer: 4 pieces of 16 KiB, each more than one SEND_BODY_CHUNK
        status, headers, body, reuse = exchange(s, forward(2, "/stream", query="n=4&size=20000",
                                                           secret=None))
        assert status == 200 and reuse
        assert body == b"".join(bytes([c]) * 16384 for c in b"abcd")
        assert header(headers, "Content-Length") == [] and header(headers, "Transfer-Encoding") == []

        data = os.urandom(MIB + 333)
        status, _, body, reuse = exchange(
            s, forward(5, "/upload", [("Content-Length", str(len(data)))], secret=None), data)
        fnv = 2166136261
        for b in data:
            fnv = ((fnv ^ b) * 16777619) & 0xFFFFFFFF
        assert status == 200 and reuse and body == f'{{"size":{len(data)},"fnv":{fnv}}}\n'.encode()
        status, headers, body, reuse = exchange(s, forward(2, "/file", secret=None))
        assert status == 200 and reuse and body == data
        assert header(headers, "Content-Length") == [str(len(data))]
        status, headers, body, reuse = exchange(s, forward(3, "/file", secret=None))  # HEAD
        assert status == 200 and reuse and body == b""
        assert header(headers, "Content-Length") == [str(len(data))]

        status, _, body, reuse = exchange(s, forward(2, "/slow", query="ms=50", secret=None))
        assert (status, body, reuse) == (200, b"slow\n", True)
        status, _, _, reuse = exchange(s, forward(2, "/slow", query="ms=1&status=204",
                                                  secret=None))
        assert status == 204 and reuse
        for code, method in ((8, "PROPFIND"), (27, "MKACTIVITY")):
            status, headers, body, _ = exchange(
                s, forward(code, "/echo", [("Content-Length", "3")], secret=None), b"xyz")
            assert status == 200 and body == b"xyz" and header(headers, "X-Method") == [method]
        # any other method: 0xFF and the stored_method attribute (0x0D)
        fwd = forward(0xFF, "/echo", secret=None)
        fwd = fwd[:-1] + b"\x0d" + ajp_str("PATCH") + b"\xff"
        fwd = packet(fwd[4:])
        status, headers, _, reuse = exchange(s, fwd)
        assert status == 200 and header(headers, "X-Method") == ["PATCH"] and reuse

        # refused from the head: the body is never asked for, the connection closes after
        status, _, _, reuse = exchange(
            s, forward(4, "/reject", [("Content-Length", str(len(data)))], secret=None),
            data[:8186])
        assert status == 401 and not reuse
        assert closed(s)


# ------------------------------------------------------------------ the seed's Apache in front

def members(ports):
    return [(f"OX-{i + 1}", "127.0.0.1", p) for i, p in enumerate(ports)]


def cookie_route(api):
    return api.cookies["JSESSIONID"].split(".", 1)[1]


def my_files(api, uid):
    status, body, _ = api.request("GET", "/api/v1/folders?parent=4")
    assert status == 200, body
    mine = [f["id"] for f in body["folders"] if f.get("default") and
            f.get("module") == "infostore" and f.get("owner") == uid]
    assert len(mine) == 1, body
    return mine[0]


@pytest.mark.skipif(peers.missing("apache2") is not None,
                    reason=peers.missing("apache2") or "")
def test_apache_ajp_front_as_in_the_seed(workdir):
    c, ports = start_nodes(workdir, 2, f"secret = {SECRET}\n")
    apache = peers.start_apache(workdir, members(ports), retry=2, scheme="ajp",
                                member_params=f"secret={SECRET}")
    try:
        # new sessions spread over both nodes and carry the node's route in JSESSIONID
        clients = []
        for i in range(16):
            user = ("alice", "bob")[i % 2]
            api = ApiClient(apache.port, source="127.0.0.2")
            status, body, resp = api.login(user, f"{user}_pw")
            assert status == 200, body
            assert cookie_route(api) == body["route"], (api.cookies, body)
            assert resp.getheader("X-Balancer-Route") == body["route"]
            api.uid = body["user_id"]
            clients.append(api)
        routes = [cookie_route(a) for a in clients]
        assert set(routes) == {"OX-1", "OX-2"}, routes
        # the client's address, not Apache's, reached the node (remote_addr)
        c.nodes[0].wait_stderr("from 127.0.0.2")

        # every later request of a session goes to its node: with a memory store the other
        # node does not know the session at all
        for api in clients[:6]:
            for _ in range(5):
                status, me, _ = api.request("GET", "/api/v1/session")
                assert status == 200 and me["route"] == cookie_route(api), (status, me)

        # Apache keeps its AJP connections: many requests, few new connections
        api = clients[0]
        node = c.nodes[int(cookie_route(api)[-1]) - 1]
        before = scrape_metrics(node.port)
        for _ in range(30):
            assert api.request("GET", "/api/v1/session")[0] == 200
        after = scrape_metrics(node.port)
        opened = (after["tandem_http_connections_accepted_total"] -
                  before["tandem_http_connections_accepted_total"])
        served = after["tandem_http_requests_total"] - before["tandem_http_requests_total"]
        assert served >= 31 and opened <= 6, (served, opened)  # scrape + a few pooled ones

        # a few MB up through Apache and the AJP body packets, and back byte-identical
        folder = my_files(api, api.uid)
        data = os.urandom(3 * MIB + 4321)
        name = urllib.parse.quote("ajp-upload.bin")
        status, f, _ = api.request("PUT", f"/api/v1/files?folder={folder}&name={name}",
                                   raw=data, headers={"Content-Type": "application/x-test"})
        assert status == 201, f
        assert f["size"] == len(data) and f["md5"] == hashlib.md5(data).hexdigest()
        status, body, resp = api.request("GET", f"/api/v1/files/{f['id']}/content")
        assert status == 200 and body == data
        # (Apache may pass a long body on chunked instead of with the length)
        assert resp.getheader("Content-Length") in (None, str(len(data)))
        assert resp.getheader("Content-Type") == "application/x-test"
        # a chunked upload from the client: Apache passes it on without a length
        def pieces():
            for i in range(0, len(data), 100000):
                yield data[i:i + 100000]
        conn = http.client.HTTPConnection("127.0.0.1", apache.port, timeout=60)
        conn.request("PUT", f"/api/v1/files?folder={folder}&name=chunked.bin", body=pieces(),
                     encode_chunked=True, headers={
                         "X-Session": api.session, "User-Agent": api.user_agent,
                         "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())})
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        conn.close()
        assert resp.status == 201 and answer["size"] == len(data), answer
        assert answer["md5"] == f["md5"]
        # HEAD: the length, no body
        status, body, resp = api.request("HEAD", f"/api/v1/files/{f['id']}/content")
        assert status == 200 and body == b"", (status, body)
    finally:
        apache.stop()
    with open(apache.error_log) as fh:
        errors = [line for line in fh if ":emerg]" in line or ":crit]" in line]
    assert not errors, errors

    # Apache checking each pooled connection with CPING first (ping=): works alike; with the
    # wrong secret, and with none, the nodes refuse every request
    for params, name, expect in ((f"secret={SECRET} ping=2", "apache-ping", 200),
                                 (f"secret={SECRET}-old", "apache-wrong", 403),
                                 ("", "apache-none", 403)):
        other = peers.start_apache(workdir, members(ports), name=name, retry=2, scheme="ajp",
                                   member_params=params)
        try:
            api = ApiClient(other.port)
            status, body, _ = api.login("alice", "alice_pw")
            assert status == expect, (params, status, body)
            for _ in range(3):
                assert api.request("GET", "/api/v1/session")[0] == (200 if expect == 200
                                                                    else 403)
        finally:
            other.stop()
    c.stop()


def test_check_config_ajp(workdir):
    """--check-config refuses what the start would: see also test_check_config.py."""
    tandemd = TANDEMD

    def check(ajp, expect_ok, message=None):
        path = os.path.join(workdir, "t.conf")
        with open(path, "w") as fh:
            fh.write(f"[server]\nlisten = 127.0.0.1:{free_port()}\n"
                     f"data_dir = {workdir}/data\n[ajp]\n{ajp}")
        r = subprocess.run([tandemd, "--config", path, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        assert (r.returncode == 0) == expect_ok, (ajp, r.stdout, r.stderr)
        if message:
            assert message in r.stderr + r.stdout, (ajp, r.stderr)
            assert "t.conf:" in r.stderr + r.stdout

    port = free_port()
    check(f"listen = 127.0.0.1:{port}\nsecret = {SECRET}\n", True)
    check(f"listen = 127.0.0.1:{port}\n", False, "needs secret or secret_file")
    check(f"listen = 127.0.0.1:{port}\nallow_no_secret = true\n", True)
    check(f"listen = 0.0.0.0:{port}\nallow_no_secret = true\n", False,
          "is not a loopback address")
    check(f"listen = 127.0.0.1:{port}\nsecret = a b\n", False, "[ajp] secret")
    secret_file = os.path.join(workdir, "ajp.secret")
    with open(secret_file, "w") as fh:
        fh.write(SECRET + "\n")
    os.chmod(secret_file, 0o644)
    check(f"listen = 127.0.0.1:{port}\nsecret_file = {secret_file}\n", False,
          "other users may read")
    os.chmod(secret_file, 0o600)
    check(f"listen = 127.0.0.1:{port}\nsecret_file = ajp.secret\n", True)
    check(f"listen = 127.0.0.1:{port}\nsecret_file = ajp.secret\nsecret = x\n", False,
          "not both")
    check("listen = 127.0.0.1:notaport\nsecret = x\n", False)
    # the AJP port may not be an HTTP one
    with open(os.path.join(workdir, "t.conf"), "w") as fh:
        fh.write(f"[server]\nlisten = 127.0.0.1:{port}\ndata_dir = {workdir}/data\n"
                 f"[ajp]\nlisten = 127.0.0.1:{port}\nsecret = x\n")
    r = subprocess.run([tandemd, "--config", os.path.join(workdir, "t.conf"), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "[ajp] listen" in r.stderr + r.stdout, r.stderr
