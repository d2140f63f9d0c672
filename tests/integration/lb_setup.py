# SPDX-License-Identifier: MIT
# Starting tandem-lb in front of members for the balancer tests, and a recording backend that
# shows what reached a member byte for byte.
import http.server
import os
import re
import socket
import socketserver
import threading
import time

from conftest import BUILD, Process, free_port

TANDEM_LB = os.path.join(BUILD, "src", "tandem-lb", "tandem-lb")


# For tests about weights and counts rather than health: checks a loaded machine's Python
# members pass, so no member is taken out mid-test.
STEADY_HEALTH = "health_interval = 1s\nhealth_timeout = 1s\nhealth_fall = 3\n"

BALANCER_DEFAULTS = {"health_interval": "200ms", "health_rise": "1", "health_fall": "1",
                     "health_timeout": "150ms", "retry": "2s"}


def lb_config(members, balancer="", extra="", port=None, http=""):
    """members: [(route, port, loadfactor, state)]; balancer: "key = value" lines that
    override BALANCER_DEFAULTS; returns (config text, port)."""
    port = port or free_port()
    keys = dict(BALANCER_DEFAULTS)
    for line in balancer.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            keys[k.strip()] = v.strip()
    text = (f"[listen]\naddress = 127.0.0.1:{port}\nthreads = 2\n[balancer]\n" +
            "".join(f"{k} = {v}\n" for k, v in keys.items()))
    if http:
        text += f"[http]\n{http}"
    for route, mport, factor, state in members:
        text += (f"[member {route}]\nurl = http://127.0.0.1:{mport}\n"
                 f"loadfactor = {factor}\nstate = {state}\n")
    return text + extra, port


def start_lb(workdir, members, balancer="", extra="", http="", name="lb"):
    """A tandem-lb process in workdir/name, proxying to members; .port is its listener."""
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    text, port = lb_config(members, balancer, extra, http=http)
    conf = os.path.join(d, "tandem-lb.ini")
    with open(conf, "w") as f:
        f.write(text)
    return Process([TANDEM_LB, "--config", conf], port, d)


def stop_lb(lb):
    code = lb.stop()
    assert code == 0, f"tandem-lb exited with {code}:\n{lb.stderr()[-4000:]}"


class Recorder:
    """A tiny HTTP/1.1 keep-alive backend on loopback that records every request it gets
    (method, path, headers, body) and answers 200 with the route and the request count, or
    /health with {"status":"ready"}; a query "delay_ms=N" holds the answer back N ms."""

    def __init__(self, route="REC-1"):
        self.route = route
        self.requests = []
        self.connections = 0
        self.sockets = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with rec.lock:
                    rec.connections += 1
                    rec.sockets.append(self.connection)

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                if self.path != "/health":
                    with rec.lock:
                        rec.requests.append((self.command, self.path,
                                             list(self.headers.items()), body))
                delay = re.search(r"[?&]delay_ms=(\d+)", self.path)
                if delay:
                    time.sleep(int(delay.group(1)) / 1000)
                out = (b'{"status":"ready"}' if self.path == "/health"
                       else f'{{"route":"{rec.route}","n":{len(rec.requests)},'
                            f'"len":{len(body)}}}'.encode())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.send_header("X-Backend", rec.route)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            def _read_chunked(self):
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def headers_of(self, i):
        return {k.lower(): v for k, v in self.requests[i][2]}

    def stop(self):
        """Stops listening and cuts every open connection, like a dead process."""
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []


def raw_exchange(port, data, timeout=10.0):
    """Sends data on a new connection and reads until the peer closes (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            return b"".join(chunks), False
        return b"".join(chunks), True
