# SPDX-License-Identifier: MIT
# tandem-lb's TLS termination: HTTPS reaches the members with X-Forwarded-Proto: https, old
# protocols and weak ciphers are refused, the HTTP→HTTPS redirect, bad certificates stop the
# start with a message naming the file, large bodies both ways, and garbage on the TLS port.
import errno
import hashlib
import http.client
import http.server
import json
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import threading
import time
import warnings

import pytest

from conftest import free_port, wait_listening
from lb_setup import TANDEM_LB, Recorder, lb_config, start_lb, stop_lb


def make_cert(workdir, name="cert", cn="localhost"):
    """A self-signed P-256 certificate and its key; returns (cert path, key path)."""
    cert = os.path.join(workdir, f"{name}.pem")
    key = os.path.join(workdir, f"{name}-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={cn}", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def tls_section(port, cert, key, redirect=False):
    return (f"[tls]\nlisten = 127.0.0.1:{port}\ncertificate = {cert}\nkey = {key}\n"
            f"redirect = {'true' if redirect else 'false'}\n")


def client_context(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    return ctx


def https(port, cert, path="/x", method="GET", body=None, headers=None, timeout=60):
    c = http.client.HTTPSConnection("localhost", port, context=client_context(cert),
                                    timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def plain(port, path="/x", method="GET", body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


class TlsLb:
    """tandem-lb with a plain and a TLS listener in front of members."""

    def __init__(self, workdir, members, cert, key, redirect=False, http=""):
        self.tls_port = free_port()
        self.proc = start_lb(workdir, members, http=http,
                             extra=tls_section(self.tls_port, cert, key, redirect))
        self.port = self.proc.port
        wait_listening(self.tls_port, self.proc.proc)

    def stop(self):
        stop_lb(self.proc)


@pytest.fixture
def cert(workdir):
    return make_cert(workdir)


@pytest.fixture
def recorder():
    rec = Recorder("OX-1")
    yield rec
    rec.stop()


def test_https_reaches_the_member_as_https(workdir, cert, recorder):
    lb = TlsLb(workdir, [("OX-1", recorder.port, 50, "ready")], *cert)
    try:
        ctx = client_context(cert[0])
        c = http.client.HTTPSConnection("localhost", lb.tls_port, context=ctx, timeout=30)
        for i in range(3):  # keep-alive: one handshake, three requests
            c.request("GET", f"/api/v1/x?i={i}", headers={"X-Forwarded-Proto": "http"})
            r = c.getresponse()
            body = r.read()
            assert r.status == 200 and json.loads(body)["route"] == "OX-1", body
            assert r.getheader("X-Backend") == "OX-1"
        assert c.sock.version() == "TLSv1.3"  # preferred when the client offers it
        c.close()
        assert [p for _, p, _, _ in recorder.requests] == [f"/api/v1/x?i={i}" for i in range(3)]
        for i in range(3):
            h = recorder.headers_of(i)
            assert h["x-forwarded-proto"] == "https"  # the client's claim is replaced
            assert h["x-forwarded-for"] == "127.0.0.1"

        # The plain listener still proxies, as http.
        status, _, _ = plain(lb.port, "/plain")
        assert status == 200
        assert recorder.headers_of(-1)["x-forwarded-proto"] == "http"
    finally:
        lb.stop()


def handshake(port, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.version(), t.cipher()[0]


def client_hello(version):
    """A minimal ClientHello for an old protocol version (no extensions), as raw bytes."""
    body = (struct.pack(">H", version) + os.urandom(32) + b"\x00" +
            struct.pack(">H", 4) + b"\xc0\x13\x00\x2f" + b"\x01\x00")
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def test_old_protocols_and_weak_ciphers_are_refused(workdir, cert, recorder):
    lb = TlsLb(workdir, [("OX-1", recorder.port, 50, "ready")], *cert)
    try:
        # TLS 1.0 and 1.1 on the wire, whatever this host's client library still allows:
        # the answer is a protocol_version alert (or a plain close), never a ServerHello.
        for version in (0x0301, 0x0302):
            with socket.create_connection(("127.0.0.1", lb.tls_port), timeout=10) as s:
                s.sendall(client_hello(version))
                data = b""
                try:
                    while len(data) < 7:
                        b = s.recv(4096)
                        if not b:
                            break
                        data += b
                except ConnectionResetError:
                    pass
            assert data == b"" or (data[0] == 0x15 and data[5:7] == b"\x02\x46"), data[:16]

        # The same through Python's ssl, if the local OpenSSL still lets a client offer 1.1.
        old = client_context(cert[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        try:
            handshake(lb.tls_port, old)
            pytest.fail("a TLS 1.1 handshake succeeded")
        except ssl.SSLError as e:
            if "NO_PROTOCOLS_AVAILABLE" in str(e) or "no protocols available" in str(e):
                print("skipped: this client cannot offer TLS 1.1 at all")
            else:
                assert "PROTOCOL_VERSION" in str(e) or "UNSUPPORTED_PROTOCOL" in str(e), e
        except (ConnectionResetError, BrokenPipeError):
            pass

        # TLS 1.2: ECDHE with AEAD only; a CBC suite finds no common cipher.
        cbc = client_context(cert[0])
        cbc.maximum_version = ssl.TLSVersion.TLSv1_2
        cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384")
        with pytest.raises(ssl.SSLError):
            handshake(lb.tls_port, cbc)
        gcm = client_context(cert[0])
        gcm.maximum_version = ssl.TLSVersion.TLSv1_2
        version, cipher = handshake(lb.tls_port, gcm)
        assert version == "TLSv1.2" and cipher.startswith("ECDHE-ECDSA-"), cipher
        assert "GCM" in cipher or "CHACHA20" in cipher, cipher
        assert handshake(lb.tls_port, client_context(cert[0]))[0] == "TLSv1.3"

        # After all that the listener still serves.
        assert https(lb.tls_port, cert[0])[0] == 200
    finally:
        lb.stop()


def test_redirect_sends_plain_http_to_https(workdir, cert, recorder):
    lb = TlsLb(workdir, [("OX-1", recorder.port, 50, "ready")], *cert, redirect=True)
    try:
        cases = [
            ({"Host": "groupware.example:8080"}, "/a/b?c=d",
             f"https://groupware.example:{lb.tls_port}/a/b?c=d"),
            ({"Host": "groupware.example"}, "/", f"https://groupware.example:{lb.tls_port}/"),
            ({"Host": "[::1]:80"}, "/v6", f"https://[::1]:{lb.tls_port}/v6"),
            ({"Host": "x.example"}, "http://x.example/abs?q=1",
             f"https://x.example:{lb.tls_port}/abs?q=1"),
        ]
        for headers, target, location in cases:
            status, h, body = plain(lb.port, target, headers=headers)
            assert (status, h.get("location")) == (301, location), (target, h)
            assert body == b""
        # Every method, with or without a body; the body is never read or forwarded.
        status, h, _ = plain(lb.port, "/upload", method="POST", body=b"x" * 100000,
                             headers={"Host": "g.example"})
        assert (status, h["location"]) == (301, f"https://g.example:{lb.tls_port}/upload")
        # HTTP/1.0 without Host: the address the client connected to.
        with socket.create_connection(("127.0.0.1", lb.port), timeout=10) as s:
            s.sendall(b"GET /old HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        assert data.startswith(b"HTTP/1.0 301 Moved Permanently\r\n"), data
        assert f"\r\nLocation: https://127.0.0.1:{lb.tls_port}/old\r\n".encode() in data
        time.sleep(0.1)
        assert recorder.requests == [], "a redirected request reached the member"

        # Where it points, it is served.
        assert https(lb.tls_port, cert[0], "/after")[0] == 200
        assert [p for _, p, _, _ in recorder.requests] == ["/after"]
    finally:
        lb.stop()


def run_lb(conf, *args):
    return subprocess.run([TANDEM_LB, *args, "--config", conf], capture_output=True, text=True,
                          timeout=60)


def write_conf(workdir, recorder_port, tls):
    text, _ = lb_config([("OX-1", recorder_port, 50, "ready")], extra=tls)
    conf = os.path.join(workdir, "bad.ini")
    with open(conf, "w") as f:
        f.write(text)
    return conf


@pytest.mark.parametrize("case", ["garbage-cert", "garbage-key", "mismatched-key", "missing",
                                  "key-as-cert"])
def test_bad_certificates_stop_the_start(workdir, cert, case):
    cert_file, key_file = cert
    garbage = os.path.join(workdir, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n")
    key = "certificate"
    if case == "garbage-cert":
        use, named, reason = (garbage, key_file), garbage, "not a valid PEM certificate"
    elif case == "garbage-key":
        use, named, reason, key = (cert_file, garbage), garbage, "no private key or not PEM", "key"
    elif case == "mismatched-key":
        _, other_key = make_cert(workdir, "other", "other")
        use, named, reason, key = (cert_file, other_key), other_key, "key does not match", "key"
    elif case == "missing":
        missing = os.path.join(workdir, "nope.pem")
        use, named, reason = (missing, key_file), missing, "No such file or directory"
    else:
        use, named, reason = (key_file, key_file), key_file, "no certificate or not PEM"
    conf = write_conf(workdir, free_port(), tls_section(free_port(), *use))
    with open(conf) as f:
        line = next(i for i, text in enumerate(f, 1) if text.startswith(f"{key} ="))

    # the line of the file at fault, as for every other configuration problem
    r = run_lb(conf, "--check-config")
    assert r.returncode == 1
    assert f"{conf}:{line}: [tls] {key}: {named}: " in r.stderr and reason in r.stderr, r.stderr

    r = run_lb(conf)
    assert r.returncode == 1
    assert f"{conf}:{line}: [tls] {key}: {named}: " in r.stderr and reason in r.stderr, r.stderr


def test_good_certificate_passes_check_config(workdir, cert):
    conf = write_conf(workdir, free_port(), tls_section(free_port(), *cert))
    r = run_lb(conf, "--check-config")
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout


@pytest.mark.parametrize("tls,line,message", [
    ("[tls]\nlisten = 127.0.0.1:1\ncertificate = c.pem\n", 3, "[tls] certificate needs key"),
    ("[tls]\nlisten = 127.0.0.1:1\nkey = k.pem\n", 3, "[tls] key needs certificate"),
    ("[tls]\nlisten = 127.0.0.1:1\n", 2, "[tls] listen needs certificate and key"),
    ("[tls]\ncertificate = c.pem\nkey = k.pem\n", 2,
     "[tls] certificate is set but there is no [tls] listen address"),
    ("[tls]\nredirect = true\n", 2, "[tls] redirect needs a [tls] listen address"),
    ("[tls]\nredirect = maybe\n", 2, "redirect"),
])
def test_tls_config_errors_name_the_line(workdir, tls, line, message):
    conf = write_conf(workdir, free_port(), "")
    with open(conf) as f:
        base = f.read()
    with open(conf, "w") as f:
        f.write(base + tls)
    lineno = base.count("\n") + line
    r = run_lb(conf, "--check-config")
    assert r.returncode == 1
    assert f"{conf}:{lineno}: " in r.stderr and message in r.stderr, r.stderr


class BigBackend:
    """A member for large bodies: POST answers with the body it got, GET /big?n=N with N
    deterministic bytes."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.startswith("/big?n="):
                    out = pattern(int(self.path.split("=", 1)[1]))
                else:
                    out = b'{"status":"ready"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def pattern(n):
    block = hashlib.sha256(b"tandem").digest() * 2048  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


def test_large_bodies_cross_tls_whole(workdir, cert):
    be = BigBackend()
    lb = TlsLb(workdir, [("OX-1", be.port, 50, "ready")], *cert)
    try:
        payload = os.urandom(8 * 1024 * 1024)
        status, _, body = https(lb.tls_port, cert[0], "/echo", method="POST", body=payload)
        assert status == 200 and len(body) == len(payload)
        assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()

        n = 8 * 1024 * 1024 + 12345
        status, h, body = https(lb.tls_port, cert[0], f"/big?n={n}")
        assert status == 200 and int(h["content-length"]) == n and body == pattern(n)

        # A reader that pauses: the server's writes block on the full socket (WANT_WRITE)
        # and resume on the next writable edge.
        ctx = client_context(cert[0])
        with socket.create_connection(("127.0.0.1", lb.tls_port), timeout=30) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.sendall(f"GET /big?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                data = b""
                for _ in range(3):
                    time.sleep(0.3)
                    data += t.recv(65536)
                while True:
                    b = t.recv(65536)
                    if not b:
                        break
                    data += b
                    if b"\r\n\r\n" in data and len(data) - data.index(b"\r\n\r\n") - 4 >= n:
                        break
                head, _, rest = data.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 ") and rest == pattern(n)
    finally:
        lb.stop()
        be.stop()


def test_pipelined_requests_over_tls(workdir, cert, recorder):
    """Many requests in one TLS record: the server must keep reading what OpenSSL buffered
    without waiting for another edge from the socket."""
    lb = TlsLb(workdir, [("OX-1", recorder.port, 50, "ready")], *cert)
    try:
        ctx = client_context(cert[0])
        with socket.create_connection(("127.0.0.1", lb.tls_port), timeout=30) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                n = 60
                reqs = b"".join(f"GET /p{i} HTTP/1.1\r\nHost: x\r\nX-Pad: {'y' * 200}\r\n\r\n"
                                .encode() for i in range(n))
                t.sendall(reqs)
                data = b""
                deadline = time.monotonic() + 20
                while data.count(b"HTTP/1.1 200 OK") < n and time.monotonic() < deadline:
                    b = t.recv(65536)
                    if not b:
                        break
                    data += b
                assert data.count(b"HTTP/1.1 200 OK") == n
        assert [p for _, p, _, _ in recorder.requests] == [f"/p{i}" for i in range(n)]
    finally:
        lb.stop()


def send_then_eof(s, data):
    """Sends data and then EOF, accepting that the server may close the connection first: it may
    reset it as soon as it has seen enough garbage, before this side has written all or shut down
    its half (a send then fails with EPIPE or ECONNRESET, a shutdown with ENOTCONN)."""
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except (ConnectionResetError, BrokenPipeError):
        pass
    except OSError as e:
        if e.errno != errno.ENOTCONN:
            raise


def assert_closed_by_server(s, what):
    """The server closes the connection (FIN or RST) within the socket's timeout."""
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"the server kept the connection open after {what!r}") from None


def test_garbage_on_the_tls_port_is_closed(workdir, cert, recorder):
    lb = TlsLb(workdir, [("OX-1", recorder.port, 50, "ready")], *cert,
               http="header_timeout = 1s\n")
    try:
        inputs = [
            os.urandom(4096),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # plain HTTP on the TLS port
            b"\x16\x03\x01\xff\xff" + os.urandom(200),  # a record header promising too much
            client_hello(0x0303)[:30],  # a ClientHello cut short, then EOF
            b"\x16\x03\x03\x00\x05\x01\x00\x00\x01\x00",  # a ClientHello that lies about its size
        ]
        for data in inputs:
            with socket.create_connection(("127.0.0.1", lb.tls_port), timeout=10) as s:
                send_then_eof(s, data)
                assert_closed_by_server(s, data[:16])
        # A client that connects and says nothing is cut after header_timeout.
        with socket.create_connection(("127.0.0.1", lb.tls_port), timeout=10) as s:
            start = time.monotonic()
            try:
                assert s.recv(4096) == b""
            except ConnectionResetError:
                pass
            assert time.monotonic() - start < 5
        # Many half-open handshakes at once, cut by the client.
        socks = [socket.create_connection(("127.0.0.1", lb.tls_port), timeout=10)
                 for _ in range(20)]
        for s in socks:
            s.sendall(client_hello(0x0303)[:20])
        for s in socks:
            s.close()

        status, _, _ = https(lb.tls_port, cert[0])
        assert status == 200
        assert recorder.requests and all(p == "/x" for _, p, _, _ in recorder.requests)
    finally:
        lb.stop()
