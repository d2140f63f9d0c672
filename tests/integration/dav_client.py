# SPDX-License-Identifier: MIT
# A WebDAV request with HTTP Basic for the WebDAV tests: users' passwords are <login>_pw as
# cluster_setup.provision() makes them (user@context: the part before '@').
import base64
import http.client


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
