# SPDX-License-Identifier: MIT
# Slow and greedy clients against tandem-lb and tandemd (docs/security-lb.md): trickling heads
# and bodies are cut with 408 and cannot take the members' connections from others; one
# address cannot hold more than its share of connections; Expect: 100-continue reaches the
# node, so a refused upload is refused before its body is sent; the nodes' /admin and /metrics
# are closed through the balancer unless admin_allow opens them.
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.parse

from cluster_setup import wait_for
from conftest import Reader, free_port, parse_metrics, scrape_metrics
from lb_setup import start_lb, stop_lb
from provisioning import ApiClient
from test_files import provision
from test_lb_manager import admin_section


lb_metrics = scrape_metrics  # the balancer's /metrics is on its manager listener


def get(port, path="/health", source="127.0.0.1", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class Trickler(threading.Thread):
    """A client that sends `head`, then one byte of `drip` per second, and records when and
    how the server answered (status line and whether it closed), for at most `limit` s."""

    def __init__(self, port, head, drip, limit=25.0):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=limit)
        self.head, self.drip, self.limit = head, drip, limit
        self.answer = None  # (seconds after the head, first line, closed)

    def run(self):
        start = time.monotonic()
        self.sock.sendall(self.head)
        self.sock.settimeout(1.0)
        got = b""
        for i in range(int(self.limit)):
            try:
                if i < len(self.drip):
                    self.sock.sendall(self.drip[i:i + 1])
                data = self.sock.recv(65536)
                got += data
                if not data or b"\r\n\r\n" in got:
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        closed = False
        if got:
            self.sock.settimeout(5.0)
            try:
                while self.sock.recv(65536):
                    pass
                closed = True
            except OSError:
                closed = True
        self.answer = (time.monotonic() - start, got.split(b"\r\n", 1)[0], closed)
        self.sock.close()


def test_trickling_clients_are_cut_and_do_not_starve_others(workdir, start_tandemd):
    """More tricklers than member connections (pool_max 4: 2 per loop thread): small bodies
    are buffered before a member is picked, so normal requests still get a connection; every
    trickler is cut with 408 at the end of its first 10 s window (body_min_rate 1K/s), a
    large upload that holds a member connection too, and a trickled head at header_timeout."""
    node = start_tandemd()
    admin = free_port()
    lb = start_lb(workdir, [("OX-1", node.port, 50, "ready")], balancer="pool_max = 4\n",
                  extra=admin_section(admin))
    try:
        small = [Trickler(lb.port, b"POST /api/v1/nothing HTTP/1.1\r\nHost: lb\r\n"
                                   b"Content-Length: 1000\r\n\r\n", b"x" * 1000)
                 for _ in range(16)]
        large = Trickler(lb.port, b"PUT /api/v1/upload HTTP/1.1\r\nHost: lb\r\n"
                                  b"Content-Length: 10000000\r\n\r\n", b"y" * 1000)
        head = Trickler(lb.port, b"G", b"ET /health HTTP/1.1\r\nHost: lb\r\n" + b"X: y\r\n" * 50)
        everyone = small + [large, head]
        for t in everyone:
            t.start()
        # The large upload streams: it holds a member connection while it trickles.
        wait_for("the large upload on a member connection",
                 lambda: lb_metrics(admin).get("tandem_lb_upstream_busy", 0) >= 1)
        time.sleep(1.0)
        for _ in range(8):
            status, body = get(lb.port)
            assert status == 200, (status, body)
        for t in everyone:
            t.join(timeout=40)
        for t in small + [large]:
            after, line, closed = t.answer
            assert line == b"HTTP/1.1 408 Request Timeout" and closed, t.answer
            assert 9.0 <= after <= 16.0, t.answer
        after, line, closed = head.answer
        assert line == b"HTTP/1.1 408 Request Timeout" and closed, head.answer
        assert 9.0 <= after <= 16.0, head.answer
        m = lb_metrics(admin)
        assert m["tandem_lb_http_body_timeouts_total"] == 17, m
        assert m["tandem_lb_http_head_timeouts_total"] == 1, m
        wait_for("member connections given back",
                 lambda: lb_metrics(admin)["tandem_lb_upstream_busy"] == 0)
    finally:
        stop_lb(lb)


FLOOD = "127.0.0.5"  # the address of the idle connections; the other tests' use no other


def flood(port, n, accepted):
    """n connections from FLOOD that send nothing, returned once the server has accepted them
    all: the loop threads accept from their own sockets in no particular order, so a further
    connection can only be judged then. accepted() gives the connections the server has
    accepted other than its wait_listening probe and the caller's own requests."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10,
                                      source_address=(FLOOD, 0)) for _ in range(n)]
    wait_for(f"{n} accepted connections", lambda: accepted() == n, timeout=20)
    return socks


def lb_accepted(admin):
    """flood()'s accepted() for a balancer whose metrics are on its admin listener."""
    return lambda: lb_metrics(admin)["tandem_lb_http_connections_accepted_total"] - 1


def refused(port, source=FLOOD):
    """The first line a new connection from source hears without sending anything, or None
    when the server says nothing within 3 s (it took the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=3,
                                  source_address=(source, 0)) as s:
        try:
            data = s.recv(4096)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b"reset"
    return data.split(b"\r\n", 1)[0] if data else b"closed"


def test_one_address_gets_at_most_its_share_of_the_balancer(workdir, start_tandemd):
    """[listen] max_connections_per_source defaults to 256: the 257th open connection from one
    address is answered 429 and closed, counted, and another address is still served."""
    node = start_tandemd()
    admin = free_port()
    lb = start_lb(workdir, [("OX-1", node.port, 50, "ready")], extra=admin_section(admin))
    socks = []
    try:
        socks = flood(lb.port, 256, lb_accepted(admin))
        assert refused(lb.port) == b"HTTP/1.1 429 Too Many Requests"
        assert get(lb.port)[0] == 200
        assert lb_metrics(admin)["tandem_lb_http_source_refusals_total"] == 1
        for s in socks[:8]:
            s.close()
        wait_for("closed connections counted out",
                 lambda: lb_metrics(admin)["tandem_lb_http_connections_open"] <= 248)
        assert get(lb.port, source=FLOOD)[0] == 200
    finally:
        for s in socks:
            s.close()
        stop_lb(lb)


def test_the_cap_is_configurable_and_spares_trusted_proxies(workdir, start_tandemd):
    node = start_tandemd()
    admin = free_port()
    lb = start_lb(workdir, [("OX-1", node.port, 50, "ready")],
                  balancer="trusted_proxies = 127.0.0.3\n",
                  extra="[listen]\nmax_connections_per_source = 3\n" + admin_section(admin))
    socks = []
    try:
        socks = flood(lb.port, 3, lb_accepted(admin))
        assert refused(lb.port) == b"HTTP/1.1 429 Too Many Requests"
        # everyone behind a trusted front proxy shares its address: it is not capped
        socks += [socket.create_connection(("127.0.0.1", lb.port), timeout=10,
                                           source_address=("127.0.0.3", 0)) for _ in range(20)]
        assert refused(lb.port, source="127.0.0.3") is None
        assert get(lb.port, source="127.0.0.3")[0] == 200
    finally:
        for s in socks:
            s.close()
        stop_lb(lb)


def test_one_address_gets_at_most_its_share_of_a_node(start_tandemd):
    """tandemd's [server] max_connections_per_source defaults to 1024."""
    node = start_tandemd()
    scrapes = 0

    def accepted():  # each scrape is a connection of its own
        nonlocal scrapes
        scrapes += 1
        return node_metrics(node.port)["tandem_http_connections_accepted_total"] - scrapes - 1

    socks = []
    try:
        socks = flood(node.port, 1024, accepted)
        assert refused(node.port) == b"HTTP/1.1 429 Too Many Requests"
        assert node_metrics(node.port)["tandem_http_source_refusals_total"] == 1
    finally:
        for s in socks:
            s.close()


def test_a_nodes_trusted_balancer_is_not_capped(start_tandemd):
    """Behind a trusted balancer every client shares its address: the node's cap spares it
    and still holds for anyone else."""
    node = start_tandemd("max_connections_per_source = 3\ntrusted_proxies = 127.0.0.3\n")
    socks = []
    try:
        socks = [socket.create_connection(("127.0.0.1", node.port), timeout=10,
                                          source_address=("127.0.0.3", 0)) for _ in range(20)]
        assert refused(node.port, source="127.0.0.3") is None
        socks += [socket.create_connection(("127.0.0.1", node.port), timeout=10,
                                           source_address=(FLOOD, 0)) for _ in range(3)]
        wait_for("the flood's connections accepted",
                 lambda: node_metrics(node.port)["tandem_http_connections_open"] >= 24)
        assert refused(node.port) == b"HTTP/1.1 429 Too Many Requests"
    finally:
        for s in socks:
            s.close()


def node_metrics(port):
    status, body = get(port, "/metrics", source="127.0.0.2")
    assert status == 200, body
    return parse_metrics(body.decode())


# ------------------------------------------------------------------ Expect: 100-continue


def put_head(port, api, folder, name, length):
    """A socket that sent only the head of an upload with Expect: 100-continue, and its
    Reader."""
    h = {"Host": "lb", "User-Agent": api.user_agent, "X-Session": api.session,
         "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items()),
         "Content-Length": str(length), "Expect": "100-continue"}
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((f"PUT /api/v1/files?folder={folder}&name={urllib.parse.quote(name)} HTTP/1.1\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode())
    return s, Reader(s)


def test_expect_continue_reaches_the_node_so_a_refused_upload_is_never_sent(workdir):
    """Context "small" has a quota of 1 MiB. An upload declared larger is refused by the node
    from its head; through the balancer the client hears that 413 instead of a 100 Continue,
    without sending any of its body. An upload that fits hears the node's 100 Continue."""
    c = provision(workdir)
    lb = start_lb(workdir, [("OX-1", c.nodes[0].port, 50, "ready")])
    try:
        api = ApiClient(lb.port)
        status, body, _ = api.login("carol@small", "carol_pw")
        assert status == 200, body
        status, body, _ = api.request("GET", "/api/v1/folders?parent=4")
        assert status == 200, body
        folder = [f["id"] for f in body["folders"] if f.get("default") and
                  f.get("module") == "infostore"][0]

        s, reader = put_head(lb.port, api, folder, "too-big.bin", 2 * 1024 * 1024)
        with s:
            resp = reader.read()
            assert resp.status == 413, (resp.status, resp.body)
            assert json.loads(resp.body)["error"]["code"] == "FIL-0413"
            assert resp.header("connection") == "close"

        data = os.urandom(300 * 1024)  # above buffer_body: streamed, so asked first
        s, reader = put_head(lb.port, api, folder, "fits.bin", len(data))
        with s:
            assert reader.read().status == 100
            s.sendall(data)
            resp = reader.read()
            assert resp.status == 201, (resp.status, resp.body)
        status, body, _ = api.request("GET", f"/api/v1/files/{json.loads(resp.body)['id']}"
                                             "/content")
        assert status == 200 and body == data
    finally:
        stop_lb(lb)
        c.stop()


class SilentOnExpect:
    """A backend that never answers Expect: 100-continue: it reads a head, then the
    Content-Length body, and answers 200 with the body's length (one request per
    connection)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.heads = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            self.heads.append(head)
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            length = int(m.group(1)) if m else 0  # the health check has none
            while len(body) < length:
                body += conn.recv(65536)
            out = str(len(body)).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                         % (len(out), out))

    def stop(self):
        self.listener.close()


def test_a_member_silent_on_expect_gets_the_body_after_a_second(workdir):
    backend = SilentOnExpect()
    lb = start_lb(workdir, [("OX-1", backend.port, 50, "ready")],
                  balancer="health_interval = 1h\nhealth_timeout = 1s\n")
    try:
        data = os.urandom(200 * 1024)
        with socket.create_connection(("127.0.0.1", lb.port), timeout=10) as s:
            start = time.monotonic()
            s.sendall(b"PUT /u HTTP/1.1\r\nHost: lb\r\nExpect: 100-continue\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(data))
            reader = Reader(s)
            assert reader.read().status == 100
            assert 0.8 <= time.monotonic() - start <= 5.0
            s.sendall(data)
            resp = reader.read()
            assert resp.status == 200 and resp.body == str(len(data)).encode()
        assert b"Expect: 100-continue" in backend.heads[-1]
    finally:
        stop_lb(lb)
        backend.stop()


# ------------------------------------------------------------------ /admin and /metrics


def test_node_admin_and_metrics_are_closed_through_the_balancer(workdir, start_tandemd):
    node = start_tandemd()
    admin = free_port()
    lb = start_lb(workdir, [("OX-1", node.port, 50, "ready")], extra=admin_section(admin))
    try:
        for path in ("/admin/v1/servers", "/metrics", "/%61dmin/v1/contexts", "/x/../metrics"):
            status, body = get(lb.port, path)
            assert status == 403, (path, status, body)
            assert json.loads(body)["error"]["code"] == "LB-0403"
        assert get(lb.port, "/health")[0] == 200
        assert lb_metrics(admin)["tandem_lb_access_denied_total"] == 4
    finally:
        stop_lb(lb)
    lb = start_lb(workdir, [("OX-1", node.port, 50, "ready")],
                  balancer="admin_allow = 127.0.0.2/32\n", name="lb2")
    try:
        assert get(lb.port, "/admin/v1/servers")[0] == 403
        assert get(lb.port, "/metrics")[0] == 403
        # from the allowed network the node answers (its admin API, here without a configdb)
        # and serves its own metrics
        status, body = get(lb.port, "/admin/v1/servers", source="127.0.0.2")
        assert json.loads(body)["error"]["code"].startswith("ADM-"), (status, body)
        status, body = get(lb.port, "/metrics", source="127.0.0.2")
        assert status == 200 and b"tandem_http_requests_total" in body
    finally:
        stop_lb(lb)
