# SPDX-License-Identifier: MIT
# Fixtures that start real Tandem processes on loopback ports chosen at run time.
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "asan"))
TANDEMD = os.path.join(BUILD, "src", "tandemd", "tandemd")
HTTP_TEST_SERVER = os.path.join(BUILD, "src", "lib-http", "http-test-server")
CORPUS = os.path.join(ROOT, "tests", "http-corpus", "bad")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_metrics(text):
    """Prometheus text → {"name{labels}": value}."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def scrape_metrics(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
        return parse_metrics(r.read().decode())


def wait_listening(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


class Process:
    """A daemon under test: started with its own temp dir, stopped by PID."""

    def __init__(self, argv, port, workdir):
        """port None: the caller finds out itself when the process is ready."""
        self.port = port
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "stderr.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE,
                                     stderr=self.log)
        if port is not None:
            wait_listening(port, self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_stderr(self, text, timeout=10.0):
        """Waits until text appears in the process's stderr and returns that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr().splitlines():
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged within {timeout}s:\n{self.stderr()[-2000:]}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the process and returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        self.log.close()
        return self.proc.returncode


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_until_closed(sock, limit=1 << 24):
    """Reads until the peer closes; returns (data, closed_cleanly)."""
    chunks = []
    total = 0
    try:
        while total < limit:
            b = sock.recv(65536)
            if not b:
                return b"".join(chunks), True
            chunks.append(b)
            total += len(b)
    except ConnectionResetError:
        return b"".join(chunks), False
    return b"".join(chunks), False


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-name, value)
        self.body = body
        self.version = version

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None


class Reader:
    """Incremental HTTP/1.1 response reader over a socket (handles CL, chunked, close)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        b = self.sock.recv(65536)
        if not b:
            raise EOFError("connection closed")
        self.buf += b

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read(self, head_request=False):
        status_line = self._line().decode()
        version, status, reason = status_line.split(" ", 2)
        headers = []
        while True:
            line = self._line()
            if not line:
                break
            k, v = line.decode().split(":", 1)
            headers.append((k.strip().lower(), v.strip()))
        resp = Response(int(status), reason, headers, b"", version)
        if head_request or resp.status in (204, 304) or resp.status < 200:
            return resp
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te == "chunked":
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._exact(size)
                assert self._exact(2) == b"\r\n"
            resp.body = body
        elif cl is not None:
            resp.body = self._exact(int(cl))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            resp.body, self.buf = self.buf, b""
        return resp


def request(port, raw, head_request=False):
    """Sends raw bytes on a new connection and reads one response."""
    with connect(port) as s:
        s.sendall(raw)
        return Reader(s).read(head_request)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="tandem-test-") as d:
        yield d


def write_config(workdir, text):
    path = os.path.join(workdir, "tandemd.ini")
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture
def start_tandemd(workdir):
    started = []

    def start(extra="", port=None):
        port = port or free_port()
        conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{port}\n"
                                     f"data_dir = {workdir}/data\nworkers = 4\n{extra}")
        p = Process([TANDEMD, "--config", conf], port, workdir)
        started.append(p)
        return p

    yield start
    for p in started:
        code = p.stop()
        assert code == 0, f"tandemd exited with {code}:\n{p.stderr()[-4000:]}"


@pytest.fixture
def start_test_server(workdir):
    started = []

    def start(*args):
        port = free_port()
        p = Process([HTTP_TEST_SERVER, "-l", f"127.0.0.1:{port}", "-d", workdir, *args],
                    port, workdir)
        started.append(p)
        return p

    yield start
    for p in started:
        code = p.stop()
        assert code == 0, f"http-test-server exited with {code}:\n{p.stderr()[-4000:]}"
