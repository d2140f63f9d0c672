# SPDX-License-Identifier: MIT
# A WebDAV request with HTTP Basic for the WebDAV tests: users' passwords are <login>_pw as
# cluster_setup.provision() makes them (user@context: the part before '@').
import base64
import http.client
import socket


def dav(port, method, path, user="alice", body=None, headers=None):
    """One request on a fresh connection; returns (status, {lower-case header: value}, body)."""
    h = dict(headers or {})
    token = base64.b64encode(f"{user}:{user.split('@')[0]}_pw".encode()).decode()
    h["Authorization"] = f"Basic {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def put_expecting_continue(port, path, body, user="alice", password=None):
    """A PUT with Expect: 100-continue that sends its body only after a 100 Continue; returns
    (whether 100 came, final status, final body)."""
    password = password if password is not None else f"{user.split('@')[0]}_pw"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    head = (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {token}\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head)
        f = s.makefile("rb")

        def response():
            status = int(f.readline().split()[1])
            headers = {}
            while (line := f.readline()) not in (b"\r\n", b""):
                k, _, v = line.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            return status, f.read(int(headers.get("content-length", "0")))

        status, content = response()
        if status != 100:
            return False, status, content
        s.sendall(body)
        status, content = response()
        return True, status, content
