# SPDX-License-Identifier: MIT
# The HTTP core through a small test application: bodies both ways, 100-continue, streamed
# uploads in constant memory, sendfile, chunked responses, worker-thread answers, drain.
import json
import os
import signal
import socket
import threading
import time

from conftest import Reader, connect, recv_until_closed, request


def fnv(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_echo_content_length_and_chunked(start_test_server):
    srv = start_test_server()
    body = os.urandom(5000)
    r = request(srv.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body)
    assert r.status == 200 and r.body == body and r.header("x-method") == "POST"
    r = request(srv.port, b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunked(body, 777))
    assert r.status == 200 and r.body == body and r.header("x-method") == "PUT"


def test_body_sent_byte_by_byte(start_test_server):
    srv = start_test_server()
    raw = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
           + chunked(b"hello world", 3))
    with connect(srv.port) as s:
        for i in range(len(raw)):
            s.send(raw[i:i + 1])
        r = Reader(s).read()
    assert r.status == 200 and r.body == b"hello world"


def test_pipelined_requests_with_bodies(start_test_server):
    srv = start_test_server()
    bodies = [os.urandom(n) for n in (0, 1, 100, 70000, 3)]
    raw = b""
    for i, b in enumerate(bodies):
        if i % 2:
            raw += b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b, 1000)
        else:
            raw += b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(b) + b
    with connect(srv.port) as s:
        s.sendall(raw)
        rd = Reader(s)
        assert [rd.read().body for _ in bodies] == bodies


def test_expect_100_continue(start_test_server):
    srv = start_test_server()
    with connect(srv.port) as s:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        s.settimeout(5)
        interim = s.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"data")
        r = Reader(s).read()
    assert r.status == 200 and r.body == b"data"


def test_early_refusal_skips_100_and_closes(start_test_server):
    srv = start_test_server()
    with connect(srv.port) as s:
        s.sendall(b"PUT /reject HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 401 ")
    assert b"100 Continue" not in data
    assert b"Connection: close" in data


def upload(port, size, use_chunked, piece=1 << 20):
    """Streams size bytes of a repeating pattern and returns the response."""
    block = bytes(range(256)) * (piece // 256)
    with connect(port, timeout=120) as s:
        if use_chunked:
            s.sendall(b"PUT /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        else:
            s.sendall(b"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        sent = 0
        while sent < size:
            part = block[:min(piece, size - sent)]
            if use_chunked:
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            else:
                s.sendall(part)
            sent += len(part)
        if use_chunked:
            s.sendall(b"0\r\n\r\n")
        r = Reader(s).read()
    return r


def rss_kib(pid, field="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def test_large_upload_streams_to_disk_in_constant_memory(start_test_server, workdir):
    srv = start_test_server("-b", str(1 << 31))
    size = 256 << 20
    before = rss_kib(srv.pid, "VmRSS")
    r = upload(srv.port, size, use_chunked=False)
    assert r.status == 200
    assert json.loads(r.body)["size"] == size
    r = upload(srv.port, size, use_chunked=True)
    assert r.status == 200
    assert json.loads(r.body)["size"] == size
    assert os.path.getsize(os.path.join(workdir, "upload.bin")) == size
    growth = rss_kib(srv.pid, "VmHWM") - before
    assert growth < 16 * 1024, f"RSS grew by {growth} KiB while streaming {size >> 20} MiB"


def test_upload_integrity_and_sendfile_download(start_test_server, workdir):
    srv = start_test_server()
    data = os.urandom(3 << 20)
    raw = b"PUT /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(data, 65521)
    r = request(srv.port, raw)
    assert r.status == 200
    assert json.loads(r.body) == {"size": len(data), "fnv": fnv(data)}
    r = request(srv.port, b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status == 200 and int(r.header("content-length")) == len(data)
    assert r.body == data


def test_chunked_response_stream(start_test_server):
    srv = start_test_server()
    r = request(srv.port, b"GET /stream?n=5&size=1000 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status == 200 and r.header("transfer-encoding") == "chunked"
    assert r.body == b"".join(bytes([ord("a") + i]) * 1000 for i in range(5))


def test_stream_to_http10_is_close_delimited(start_test_server):
    srv = start_test_server()
    with connect(srv.port) as s:
        s.sendall(b"GET /stream?n=3&size=10 HTTP/1.0\r\n\r\n")
        data, clean = recv_until_closed(s)
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert body == b"a" * 10 + b"b" * 10 + b"c" * 10 and clean


def test_head_request_gets_no_body(start_test_server):
    srv = start_test_server()
    with connect(srv.port) as s:
        s.sendall(b"HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        rd = Reader(s)
        h = rd.read(head_request=True)
        g = rd.read()
    assert h.header("content-length") == "6" and g.body == b"hello\n"


def test_max_body_content_length_and_chunked(start_test_server):
    srv = start_test_server("-b", "1000")
    with connect(srv.port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n")
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 413 ")
    with connect(srv.port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunked(b"x" * 1500, 500))
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_buffered_body_cap(start_test_server):
    srv = start_test_server("-B", "100")
    with connect(srv.port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n" + b"x" * 200)
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 413 ")


def test_body_timeout(start_test_server):
    srv = start_test_server("-T", "800")
    with connect(srv.port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        t0 = time.monotonic()
        data, _ = recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - t0 < 5


def test_worker_thread_answers_and_concurrency(start_test_server):
    srv = start_test_server()
    results = []

    def client():
        r = request(srv.port, b"GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")
        results.append(r.status)

    threads = [threading.Thread(target=client) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # The loop stays free while workers sleep.
    assert request(srv.port, b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").status == 200
    assert time.monotonic() - t0 < 0.3
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert time.monotonic() - t0 < 1.2  # 4 workers in parallel, not 4 x 300 ms


def test_shutdown_finishes_in_flight_requests(start_test_server):
    srv = start_test_server()
    s = connect(srv.port)
    s.sendall(b"GET /slow?ms=700 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.2)
    stopper = threading.Thread(target=lambda: srv.stop())
    stopper.start()
    data, _ = recv_until_closed(s)
    s.close()
    stopper.join()
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"slow\n")
    assert b"Connection: close" in data
    assert srv.proc.returncode == 0
    # New connections are refused once draining.
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=2):
            refused = False
    except OSError:
        refused = True
    assert refused


def test_many_concurrent_connections(start_test_server):
    srv = start_test_server()
    socks = [connect(srv.port) for _ in range(300)]
    try:
        for s in socks:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        for s in socks:
            assert Reader(s).read().body == b"hello\n"
    finally:
        for s in socks:
            s.close()


def test_empty_response_from_worker_thread(start_test_server):
    srv = start_test_server()
    with connect(srv.port) as s:
        rd = Reader(s)
        for _ in range(3):
            s.sendall(b"DELETE /slow?ms=1&status=204 HTTP/1.1\r\nHost: t\r\n\r\n")
            r = rd.read()
            assert r.status == 204 and r.body == b"" and r.header("content-length") is None
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        assert rd.read().body == b"hello\n"


def test_file_responses_do_not_leak_descriptors(start_test_server):
    srv = start_test_server()
    data = os.urandom(10000)
    r = request(srv.port, b"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                % len(data) + data)
    assert r.status == 200
    fds = lambda: len(os.listdir(f"/proc/{srv.pid}/fd"))  # noqa: E731
    before = fds()
    with connect(srv.port) as s:
        rd = Reader(s)
        for _ in range(300):
            s.sendall(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n")
            assert rd.read().body == data
        s.sendall(b"HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n")
        assert rd.read(head_request=True).status == 200
    time.sleep(0.2)
    assert fds() <= before + 2


def test_small_file_responses_go_with_their_head(start_test_server):
    # A file of up to 8 KiB is read into the head's buffer and sent with it; one byte more
    # goes by sendfile(). Both sides of the boundary, pipelined on one connection.
    srv = start_test_server()
    for size in (1, 4096, 8192, 8193):
        data = os.urandom(size)
        r = request(srv.port, b"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                    % len(data) + data)
        assert r.status == 200
        with connect(srv.port) as s:
            s.sendall(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\nHEAD /file HTTP/1.1\r\nHost: t"
                      b"\r\n\r\nGET /file HTTP/1.1\r\nHost: t\r\n\r\n")
            rd = Reader(s)
            first, head, second = rd.read(), rd.read(head_request=True), rd.read()
        assert first.status == 200 and first.body == data, size
        assert int(first.header("content-length")) == size
        assert head.status == 200 and int(head.header("content-length")) == size
        assert second.body == data, size


def test_more_waiting_connections_than_provided_buffers(start_test_server, monkeypatch):
    # On io_uring every idle keep-alive connection has a receive waiting for one of the loop's
    # provided buffers (256; 4 here). Connections whose next requests arrive together run out
    # of them; the rest must receive into their own buffers, and every request is answered.
    monkeypatch.setenv("TANDEM_IOLOOP_BUFS", "4")
    srv = start_test_server("-t", "1")
    socks = [connect(srv.port) for _ in range(300)]
    try:
        readers = [Reader(s) for s in socks]
        for s, rd in zip(socks, readers):
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            assert rd.read().body == b"hello\n"
        for _ in range(3):
            os.kill(srv.pid, signal.SIGSTOP)  # so that the requests arrive together
            try:
                for s in socks:
                    s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            finally:
                os.kill(srv.pid, signal.SIGCONT)
            for rd in readers:
                assert rd.read().body == b"hello\n"
    finally:
        for s in socks:
            s.close()


def test_sendfile_to_a_slow_reader_and_to_clients_that_leave(start_test_server):
    # The socket fills up, so the file has to wait for room (a ring poll on io_uring); clients
    # that close mid-download cost nothing that stays.
    srv = start_test_server()
    data = os.urandom(24 << 20)
    r = request(srv.port, b"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                % len(data) + data)
    assert r.status == 200
    fds = lambda: len(os.listdir(f"/proc/{srv.pid}/fd"))  # noqa: E731
    before = fds()
    for _ in range(20):
        s = connect(srv.port)
        s.sendall(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n")
        s.recv(1000)
        s.close()
    with connect(srv.port) as s:
        s.sendall(b"GET /file HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.5)  # let the socket's buffers fill up
        r = Reader(s).read()
    assert r.status == 200 and fnv(r.body) == fnv(data)
    deadline = time.monotonic() + 5
    while fds() > before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fds() <= before + 2
    assert request(srv.port, b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n").body == b"hello\n"
