# SPDX-License-Identifier: MIT
# Files (/api/v1/files) end to end on a provisioned SQLite tandemd: streamed uploads into the
# filestore, versions, downloads with Range/ETag, quota, delete, hostile names, other users,
# a 1 GiB upload in constant memory, and a kill -9 drill repaired by checkconsistency.
import concurrent.futures
import hashlib
import http.client
import json
import os
import socket
import sqlite3
import tempfile
import time
import urllib.parse

import pytest

from conftest import Reader
from fixtures_mariadb import mariadb, run_unit_test_on_mariadb  # noqa: F401  (pytest fixture)
from provisioning import ApiClient, Cluster, sqlite_rows

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]
MIB = 1024 * 1024


def provision(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    c.ok("createcontext", "-c", "2", "-q", "1", "-L", "small", *ADMIN)
    for cid, login in ((1, "alice"), (1, "bob"), (2, "carol")):
        c.ok("createuser", "-c", str(cid), "-u", login, "-d", login, "-g", "G", "-s", "S",
             "-p", f"{login}_pw", "-e", f"{login}@example.com")
    return c


class Files:
    """One logged-in user of the files API, with their default files folder."""

    def __init__(self, c, workdir, login, node=0):
        self.c = c
        self.workdir = workdir
        self.api = ApiClient(c.nodes[node].port)
        status, body, _ = self.api.login(login, login.split("@")[0] + "_pw")
        assert status == 200, body
        self.cid = body["context_id"]
        self.uid = body["user_id"]
        self.udb = f"{workdir}/u/db1_1.sqlite"
        self.store = f"{workdir}/fs/{self.cid}_ctx_store"
        self.folder = self.my_files()

    def my_files(self):
        """The user's default files folder ("My files" below the files root 4)."""
        status, body, _ = self.api.request("GET", "/api/v1/folders?parent=4")
        assert status == 200, body
        mine = [f["id"] for f in body["folders"] if f.get("default") and
                f.get("module") == "infostore" and f.get("owner") == self.uid]
        assert len(mine) == 1, body
        return mine[0]

    def headers(self, extra=None):
        h = {"User-Agent": self.api.user_agent, "X-Session": self.api.session,
             "Cookie": "; ".join(f"{k}={v}" for k, v in self.api.cookies.items())}
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None, chunked=False):
        """Raw request: (status, headers dict (lower-case), body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=300)
        try:
            conn.request(method, path, body=body, headers=self.headers(headers),
                         encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def put(self, name, data, folder=None, content_type=None, chunked=False, raw_name=False):
        q = name if raw_name else urllib.parse.quote(name, safe="")
        h = {"Content-Type": content_type} if content_type else {}
        if not chunked and not isinstance(data, (bytes, bytearray)):
            raise ValueError("streamed bodies need chunked=True or a Content-Length")
        status, _, body = self.request(
            "PUT", f"/api/v1/files?folder={folder or self.folder}&name={q}", body=data,
            headers=h, chunked=chunked)
        return status, json.loads(body) if body else None

    def put_head(self, name, length, expect_continue=True):
        """Sends only the head of an upload of length bytes and reads the answer."""
        h = self.headers({"Content-Length": str(length), "Host": "127.0.0.1"})
        if expect_continue:
            h["Expect"] = "100-continue"
        head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
        with socket.create_connection(("127.0.0.1", self.api.port), timeout=30) as s:
            s.sendall(f"PUT /api/v1/files?folder={self.folder}&name={name} HTTP/1.1\r\n"
                      f"{head}\r\n".encode())
            return Reader(s).read()

    def get_json(self, path):
        status, _, body = self.request("GET", path)
        return status, json.loads(body) if body else None

    def usage(self):
        return sqlite_rows(self.udb, "SELECT used_bytes FROM filestore_usage WHERE cid=?",
                           (self.cid,))[0][0]

    def stored_files(self):
        """Every file below the context store, relative to it."""
        out = []
        for d, _, names in os.walk(self.store):
            out += [os.path.relpath(os.path.join(d, n), self.store) for n in names]
        return sorted(out)

    def rows(self):
        return sqlite_rows(self.udb, "SELECT id, name, version, size FROM infostore WHERE cid=? "
                                     "ORDER BY id", (self.cid,))


@pytest.fixture(scope="module")
def env():
    with tempfile.TemporaryDirectory(prefix="tandem-files-") as workdir:
        c = provision(workdir)
        try:
            yield c, workdir
        finally:
            c.stop()


@pytest.fixture
def alice(env):
    c, workdir = env
    return Files(c, workdir, "alice@defaultcontext")


@pytest.fixture
def bob(env):
    c, workdir = env
    return Files(c, workdir, "bob@defaultcontext")


@pytest.fixture
def carol(env):
    c, workdir = env
    return Files(c, workdir, "carol@small")


def unique(prefix):
    return f"{prefix}-{os.urandom(4).hex()}"


# ------------------------------------------------------------------ round trips


def test_upload_download_is_byte_identical(alice):
    data = os.urandom(3 * MIB + 17)
    before = alice.usage()
    name = unique("report") + ".bin"
    status, f = alice.put(name, data, content_type="application/x-test")
    assert status == 201, f
    assert f["version"] == 1 and f["size"] == len(data)
    assert f["md5"] == hashlib.md5(data).hexdigest()
    assert f["name"] == name and f["folder"] == alice.folder
    assert alice.usage() == before + len(data)

    status, h, body = alice.request("GET", f"/api/v1/files/{f['id']}/content")
    assert status == 200 and body == data
    assert h["content-type"] == "application/x-test"
    assert h["content-length"] == str(len(data))
    assert h["etag"] == f'"{f["md5"]}-1"'
    assert h["accept-ranges"] == "bytes"
    assert h["x-content-type-options"] == "nosniff"
    assert h["content-disposition"].startswith(f'attachment; filename="{name}"')

    status, meta = alice.get_json(f"/api/v1/files/{f['id']}")
    assert status == 200 and meta["md5"] == f["md5"] and meta["size"] == len(data)
    assert [v["version"] for v in meta["versions"]] == [1]
    status, listing = alice.get_json(f"/api/v1/files?folder={alice.folder}")
    assert status == 200 and name in [x["name"] for x in listing["files"]]

    # the bytes live under hashed/xx/yy/zz/<uuid>; nothing is left in tmp/
    loc = sqlite_rows(alice.udb, "SELECT filestore_location FROM infostore_version WHERE "
                                 "cid=? AND file=?", (alice.cid, f["id"]))[0][0]
    parts = loc.split("/")
    assert parts[0] == "hashed" and len(parts) == 5 and len(parts[4]) == 32
    assert parts[1] + parts[2] + parts[3] == parts[4][:6]
    with open(os.path.join(alice.store, loc), "rb") as fh:
        assert fh.read() == data
    assert not [p for p in alice.stored_files() if p.startswith("tmp/")]


def test_chunked_and_empty_uploads(alice):
    chunks = [os.urandom(100_000) for _ in range(7)]
    status, f = alice.put(unique("chunked"), iter(chunks), chunked=True)
    assert status == 201 and f["size"] == 700_000
    status, _, body = alice.request("GET", f"/api/v1/files/{f['id']}/content")
    assert status == 200 and body == b"".join(chunks)

    status, f = alice.put(unique("empty"), b"")
    assert status == 201 and f["size"] == 0
    assert f["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    status, h, body = alice.request("GET", f"/api/v1/files/{f['id']}/content")
    assert status == 200 and body == b"" and h["content-length"] == "0"
    assert h["content-type"] == "application/octet-stream"


def test_reupload_makes_versions(alice):
    name = unique("notes") + ".txt"
    v1, v2 = b"first version\n", b"second, longer version\n"
    before = alice.usage()
    status, f1 = alice.put(name, v1, content_type="text/plain")
    assert status == 201 and f1["version"] == 1
    status, f2 = alice.put(name, v2, content_type="text/markdown")
    assert status == 200 and f2["id"] == f1["id"] and f2["version"] == 2
    assert f2["size"] == len(v2) and f2["content_type"] == "text/markdown"
    assert alice.usage() == before + len(v1) + len(v2)  # every version counts

    status, meta = alice.get_json(f"/api/v1/files/{f1['id']}")
    assert [(v["version"], v["size"], v["md5"]) for v in meta["versions"]] == \
        [(2, len(v2), hashlib.md5(v2).hexdigest()), (1, len(v1), hashlib.md5(v1).hexdigest())]
    status, h, body = alice.request("GET", f"/api/v1/files/{f1['id']}/content")
    assert body == v2 and h["content-type"] == "text/markdown"
    status, h, body = alice.request("GET", f"/api/v1/files/{f1['id']}/content?version=1")
    assert status == 200 and body == v1 and h["content-type"] == "text/plain"
    assert h["etag"] == f'"{hashlib.md5(v1).hexdigest()}-1"'
    assert alice.request("GET", f"/api/v1/files/{f1['id']}/content?version=9")[0] == 404
    assert alice.request("GET", f"/api/v1/files/{f1['id']}/content?version=x")[0] == 400
    names = [x["name"] for x in alice.get_json(f"/api/v1/files?folder={alice.folder}")[1]["files"]]
    assert names.count(name) == 1


def test_range_etag_and_conditional_requests(alice):
    data = bytes(range(256)) * 40  # 10240 bytes
    status, f = alice.put(unique("ranges"), data)
    assert status == 201
    url = f"/api/v1/files/{f['id']}/content"
    etag = f'"{f["md5"]}-1"'

    status, h, body = alice.request("GET", url, headers={"Range": "bytes=0-9"})
    assert status == 206 and body == data[:10]
    assert h["content-range"] == f"bytes 0-9/{len(data)}" and h["content-length"] == "10"
    status, h, body = alice.request("GET", url, headers={"Range": "bytes=10000-"})
    assert status == 206 and body == data[10000:]
    assert h["content-range"] == f"bytes 10000-10239/{len(data)}"
    status, h, body = alice.request("GET", url, headers={"Range": "bytes=-5"})
    assert status == 206 and body == data[-5:]
    status, h, body = alice.request("GET", url, headers={"Range": "bytes=100-999999"})
    assert status == 206 and body == data[100:]
    status, h, body = alice.request("GET", url, headers={"Range": "bytes=-999999"})
    assert status == 206 and body == data
    for bad in ("bytes=10240-", "bytes=20000-20010", "bytes=-0"):
        status, h, body = alice.request("GET", url, headers={"Range": bad})
        assert status == 416, bad
        assert h["content-range"] == f"bytes */{len(data)}"
        assert json.loads(body)["error"]["code"] == "FIL-0416"
    # ignored: several ranges, other units, nonsense, an If-Range that does not match
    for hdrs in ({"Range": "bytes=0-1,5-6"}, {"Range": "items=0-1"}, {"Range": "bytes=9-3"},
                 {"Range": "bytes=0-9", "If-Range": '"other-1"'}):
        status, h, body = alice.request("GET", url, headers=hdrs)
        assert status == 200 and body == data, hdrs
    status, h, body = alice.request("GET", url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert status == 206 and body == data[:10]

    for inm in (etag, f"W/{etag}", f'"x-1", {etag}', "*"):
        status, h, body = alice.request("GET", url, headers={"If-None-Match": inm})
        assert status == 304 and body == b"" and h["etag"] == etag, inm
    status, h, body = alice.request("GET", url, headers={"If-None-Match": '"stale-1"'})
    assert status == 200 and body == data

    # a new version changes the ETag
    status, f2 = alice.put(f["name"], data[:100])
    status, h, body = alice.request("GET", url, headers={"If-None-Match": etag})
    assert status == 200 and body == data[:100] and h["etag"] == f'"{f2["md5"]}-2"'

    # HEAD: the headers without the body
    conn = http.client.HTTPConnection("127.0.0.1", alice.api.port, timeout=30)
    conn.request("HEAD", url, headers=alice.headers())
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Length") == "100"
    assert resp.read() == b""
    conn.close()


def test_delete_removes_rows_then_files(alice):
    name = unique("doomed")
    alice.put(name, b"v1 data")
    status, f = alice.put(name, b"v2 data, longer")
    locs = [r[0] for r in sqlite_rows(alice.udb, "SELECT filestore_location FROM "
                                      "infostore_version WHERE cid=? AND file=?",
                                      (alice.cid, f["id"]))]
    assert len(locs) == 2 and all(os.path.exists(os.path.join(alice.store, p)) for p in locs)
    before = alice.usage()

    status, _, body = alice.request("DELETE", f"/api/v1/files/{f['id']}")
    assert status == 204 and body == b""
    assert alice.usage() == before - len(b"v1 data") - len(b"v2 data, longer")
    assert not any(os.path.exists(os.path.join(alice.store, p)) for p in locs)
    assert sqlite_rows(alice.udb, "SELECT COUNT(*) FROM infostore_version WHERE cid=? AND "
                                  "file=?", (alice.cid, f["id"]))[0][0] == 0
    assert sqlite_rows(alice.udb, "SELECT module FROM tombstone WHERE cid=? AND id=?",
                       (alice.cid, f["id"])) == [("file",)]
    assert alice.request("GET", f"/api/v1/files/{f['id']}")[0] == 404
    assert alice.request("GET", f"/api/v1/files/{f['id']}/content")[0] == 404
    assert alice.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 404
    # the name is free again: a new file, not a version
    status, g = alice.put(name, b"again")
    assert status == 201 and g["id"] != f["id"] and g["version"] == 1


# ------------------------------------------------------------------ quota


def test_quota_exceeded_is_413_and_leaves_nothing(carol):
    """Context 2 has a quota of 1 MiB."""
    status, f = carol.put(unique("fits"), os.urandom(600 * 1024))
    assert status == 201
    usage, rows, files = carol.usage(), carol.rows(), carol.stored_files()
    assert usage == 600 * 1024

    def unchanged():
        assert carol.usage() == usage
        assert carol.rows() == rows
        assert carol.stored_files() == files

    # Content-Length under the quota, but more than is left of it: refused before the body
    status, body = carol.put(unique("too-much"), os.urandom(600 * 1024))
    assert status == 413 and body["error"]["code"] == "FIL-0413", body
    unchanged()
    # refused from the head: Content-Length over the quota, the body is never read (the
    # client waits for 100-continue, as clients of large uploads do, and never sends it)
    for expect in (True, False):
        resp = carol.put_head(unique("way-too-much"), 2 * MIB, expect_continue=expect)
        assert resp.status == 413, resp.body
        assert json.loads(resp.body)["error"]["code"] == "FIL-0413"
        unchanged()
    # chunked: cut off while streaming, once it passes what is left of the quota
    status, body = carol.put(unique("chunked"), (os.urandom(64 * 1024) for _ in range(20)),
                             chunked=True)
    assert status == 413 and body["error"]["code"] == "FIL-0413"
    unchanged()
    # a new version that would not fit is refused the same way
    status, body = carol.put(f["name"], os.urandom(500 * 1024))
    assert status == 413
    unchanged()
    # what still fits is fine
    status, g = carol.put(unique("small"), os.urandom(100 * 1024))
    assert status == 201
    assert carol.usage() == usage + 100 * 1024
    assert carol.request("DELETE", f"/api/v1/files/{g['id']}")[0] == 204
    assert carol.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204
    assert carol.usage() == 0


def test_concurrent_uploads_do_not_overshoot_the_quota(carol):
    size = 300 * 1024  # four fit into 1 MiB (1048576 / 307200 = 3.4): three do
    blobs = [os.urandom(size) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda b: carol.put(unique("race"), b), blobs))
    ok = [f for s, f in results if s == 201]
    assert sorted(s for s, _ in results) == [201] * 3 + [413] * 5, results
    assert carol.usage() == 3 * size
    assert sqlite_rows(carol.udb, "SELECT SUM(size) FROM infostore_version WHERE cid=?",
                       (carol.cid,))[0][0] == 3 * size
    assert len([p for p in carol.stored_files() if p.startswith("hashed/")]) == 3
    assert not [p for p in carol.stored_files() if p.startswith("tmp/")]
    for f in ok:
        assert carol.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204
    assert carol.usage() == 0


# ------------------------------------------------------------------ names and access


BAD_NAMES = [
    ("empty", ""), ("slash", "a%2Fb"), ("traversal", "..%2F..%2Fetc%2Fpasswd"), ("dot", "."),
    ("dotdot", ".."), ("dotdot-encoded", "%2E%2E"), ("nul", "a%00b"), ("control", "a%01b"),
    ("newline", "a%0Ab"), ("del", "a%7Fb"), ("not-utf8", "%FF%FE"), ("overlong-utf8", "%C0%AF"),
    ("too-long", "x" * 256), ("too-long-utf8", "%C3%A9" * 128),
]


@pytest.mark.parametrize("label,raw", BAD_NAMES, ids=[b[0] for b in BAD_NAMES])
def test_bad_names_are_refused(alice, label, raw):
    rows, files = alice.rows(), alice.stored_files()
    status, body = alice.put(raw, b"payload", raw_name=True)
    assert status == 400 and body["error"]["code"] == "FIL-0400", (label, body)
    assert alice.rows() == rows and alice.stored_files() == files


ODD_NAMES = ["..a", "a..", "...", "back\\slash", "<img src=x onerror=alert(1)>.html",
             "quote\"d 'name'.txt", "spaces and tabs are not here", "ünïcødé €.txt",
             "日本語のファイル.pdf", "%41 literally", "a+b=c&d", "x" * 255, "é" * 127]


def test_odd_names_are_stored_safely(alice):
    fs_root = os.path.dirname(alice.store)
    outside_before = sorted(os.listdir(fs_root))
    for name in ODD_NAMES:
        status, f = alice.put(name, name.encode())
        assert status == 201, (name, f)
        assert f["name"] == name
        status, h, body = alice.request("GET", f"/api/v1/files/{f['id']}/content")
        assert status == 200 and body == name.encode()
        cd = h["content-disposition"]
        assert cd.startswith('attachment; filename="') and "\r" not in cd and "\n" not in cd
        assert urllib.parse.quote(name.encode(), safe="!#$&+-.^_`|~") in cd
    # names never become paths: only hashed/<uuid> files in the store, nothing beside it
    assert sorted(os.listdir(fs_root)) == outside_before
    for p in alice.stored_files():
        assert p.startswith("hashed/") and len(p.split("/")[-1]) == 32, p


def test_other_users_and_strangers_are_kept_out(alice, bob, env):
    status, f = alice.put(unique("private"), b"alice only")
    assert status == 201
    fid = f["id"]
    rows, files = alice.rows(), alice.stored_files()
    # bob does not see alice's folder: everything is 404, as for files that do not exist
    assert bob.request("GET", f"/api/v1/files?folder={alice.folder}")[0] == 404
    assert bob.request("GET", f"/api/v1/files/{fid}")[0] == 404
    assert bob.request("GET", f"/api/v1/files/{fid}/content")[0] == 404
    assert bob.request("DELETE", f"/api/v1/files/{fid}")[0] == 404
    assert bob.put(f["name"], b"overwrite", folder=alice.folder)[0] == 404
    assert bob.put(unique("new"), b"x", folder=alice.folder)[0] == 404
    assert alice.rows() == rows and alice.stored_files() == files
    # bob's own folder is his; alice cannot list it either
    assert alice.request("GET", f"/api/v1/files?folder={bob.folder}")[0] == 404
    # system folders hold no files
    status, body = alice.put(unique("root"), b"x", folder=4)
    assert status in (403, 404) and body["error"]["code"] in ("FIL-0403", "FIL-0404")
    # no session: 401 before anything is read or written
    c, workdir = env
    stranger = ApiClient(c.nodes[0].port)
    status, body, _ = stranger.request("PUT", f"/api/v1/files?folder={alice.folder}&name=x",
                                       raw=b"data")
    assert status == 401
    assert stranger.request("GET", f"/api/v1/files/{fid}/content")[0] == 401
    assert alice.rows() == rows and alice.stored_files() == files
    # malformed requests
    assert alice.request("PUT", "/api/v1/files?name=x", body=b"x")[0] == 400
    assert alice.request("PUT", f"/api/v1/files?folder={alice.folder}", body=b"x")[0] == 400
    assert alice.request("PUT", f"/api/v1/files?folder=abc&name=x", body=b"x")[0] == 400
    assert alice.request("PUT", f"/api/v1/files?folder=999999&name=x", body=b"x")[0] == 404
    assert alice.request("GET", "/api/v1/files")[0] == 400
    assert alice.request("GET", f"/api/v1/files/{fid}/nothing")[0] == 404
    assert alice.request("GET", "/api/v1/files/abc")[0] == 404
    assert alice.request("GET", "/api/v1/files/0")[0] == 404
    assert alice.request("GET", "/api/v1/files/")[0] == 404
    # the route table answers a method the path does not take: 405 with Allow
    for method, path, allow in [("POST", f"/api/v1/files/{fid}/content", "GET, HEAD"),
                                ("DELETE", f"/api/v1/files/{fid}/content", "GET, HEAD"),
                                ("POST", f"/api/v1/files/{fid}", "GET, HEAD, DELETE, PATCH")]:
        status, h, body = alice.request(method, path)
        assert (status, h.get("allow")) == (405, allow), (method, path, status, h, body)
        assert json.loads(body)["error"]["code"] == "HTTP-0405", body
    status, _, _ = alice.request("PUT", f"/api/v1/files?folder={alice.folder}&name=ct",
                                 body=b"x", headers={"Content-Type": "no-slash"})
    assert status == 400


def bits(folder, read, write, delete):
    """OX permission packing: 7-bit levels at 0, 7, 14, 21."""
    return folder | read << 7 | write << 14 | delete << 21


def test_shared_folder_rights_apply_to_files(alice, bob):
    status, share, _ = alice.api.request("POST", "/api/v1/folders",
                                         {"parent": alice.folder, "title": unique("shared"),
                                          "module": "infostore"})
    assert status == 201, share
    folder = share["id"]
    status, f = alice.put("alices.txt", b"from alice", folder=folder)
    assert status == 201

    def grant(b):
        status, body, _ = alice.api.request(
            "PATCH", f"/api/v1/folders/{folder}",
            {"permissions": [{"entity": bob.uid, "group": False, "bits": b}]})
        assert status in (200, 204), body

    # see the folder and read all: bob reads, but may not write or delete (403, not 404)
    grant(bits(1, 2, 0, 0))
    status, listing = bob.get_json(f"/api/v1/files?folder={folder}")
    assert status == 200 and [x["name"] for x in listing["files"]] == ["alices.txt"]
    assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[2] == b"from alice"
    status, body = bob.put("alices.txt", b"overwritten", folder=folder)
    assert status == 403 and body["error"]["code"] == "FIL-0403"
    assert bob.put("bobs.txt", b"new", folder=folder)[0] == 403
    assert bob.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 403
    assert not [p for p in alice.stored_files() if p.startswith("tmp/")]

    # create objects with read/write/delete own: bob works on his own files only
    grant(bits(2, 1, 1, 1))
    status, mine = bob.put("bobs.txt", b"from bob", folder=folder)
    assert status == 201 and mine["created_by"] == bob.uid
    status, again = bob.put("bobs.txt", b"from bob, v2", folder=folder)
    assert status == 200 and again["version"] == 2
    status, listing = bob.get_json(f"/api/v1/files?folder={folder}")
    assert [x["name"] for x in listing["files"]] == ["bobs.txt"]  # read own
    # alice's file is hidden from him now (404, as in the listing); its name stays taken
    assert bob.request("GET", f"/api/v1/files/{f['id']}/content")[0] == 404
    assert bob.request("GET", f"/api/v1/files/{f['id']}")[0] == 404
    assert bob.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 404
    assert bob.put("alices.txt", b"overwritten", folder=folder)[0] == 403
    assert bob.request("DELETE", f"/api/v1/files/{mine['id']}")[0] == 204
    # alice (the owner) sees everything that is left
    status, listing = alice.get_json(f"/api/v1/files?folder={folder}")
    assert [x["name"] for x in listing["files"]] == ["alices.txt"]
    assert alice.request("GET", f"/api/v1/files/{f['id']}/content")[2] == b"from alice"


def patch(user, fid, body):
    status, _, data = user.request("PATCH", f"/api/v1/files/{fid}",
                                   body=json.dumps(body).encode(),
                                   headers={"Content-Type": "application/json"})
    return status, json.loads(data) if data else None


def test_rename_and_move_keep_id_and_versions(alice, bob):
    status, other, _ = alice.api.request("POST", "/api/v1/folders",
                                         {"parent": alice.folder, "title": unique("target"),
                                          "module": "infostore"})
    assert status == 201, other
    name = unique("draft") + ".txt"
    status, f = alice.put(name, b"one")
    assert status == 201
    assert alice.put(name, b"two, longer")[0] == 200
    # rename in place: same id, both versions, the content of the current one
    new = unique("renamed") + ".txt"
    status, body = patch(alice, f["id"], {"name": new})
    assert status == 200, body
    assert (body["id"], body["name"], body["folder"], body["version"]) == \
        (f["id"], new, alice.folder, 2)
    status, listing = alice.get_json(f"/api/v1/files?folder={alice.folder}")
    names = [x["name"] for x in listing["files"]]
    assert new in names and name not in names
    # move into another folder with a new name in one call
    status, body = patch(alice, f["id"], {"folder": other["id"], "name": "final.txt"})
    assert status == 200 and body["folder"] == other["id"] and body["name"] == "final.txt", body
    status, listing = alice.get_json(f"/api/v1/files?folder={other['id']}")
    assert [x["name"] for x in listing["files"]] == ["final.txt"]
    status, info = alice.get_json(f"/api/v1/files/{f['id']}")
    assert [v["version"] for v in info["versions"]] == [2, 1]
    assert alice.request("GET", f"/api/v1/files/{f['id']}/content?version=1")[2] == b"one"
    assert alice.request("GET", f"/api/v1/files/{f['id']}/content")[2] == b"two, longer"
    # its own name and folder: nothing changes
    status, body = patch(alice, f["id"], {"name": "final.txt"})
    assert status == 200 and body["name"] == "final.txt"
    # a name clash is a 409 and replaces nothing
    status, g = alice.put("taken.txt", b"keep me", folder=other["id"])
    assert status == 201
    status, body = patch(alice, f["id"], {"name": "taken.txt"})
    assert status == 409 and body["error"]["code"] == "FIL-0409", body
    assert alice.request("GET", f"/api/v1/files/{g['id']}/content")[2] == b"keep me"
    # bad requests name what is wrong
    for bad, words in (({}, "nothing to change"), ({"name": "a/b"}, "'/'"),
                       ({"name": "a\u0000b"}, "u0000"), ({"name": "a\u0001b"}, "control character"),
                       ({"name": ""}, "empty"),
                       ({"name": 7}, "must be a string"), ({"folder": "x"}, "folder id"),
                       ({"folder": 0}, "folder id")):
        status, body = patch(alice, f["id"], bad)
        assert status == 400 and words in body["error"]["message"], (bad, body)
    assert alice.request("PATCH", f"/api/v1/files/{f['id']}", body=b"[1]",
                         headers={"Content-Type": "application/json"})[0] == 400
    # system folders hold no files; another user's file is invisible (404); bob has no rights
    # in alice's folder (404, as for every call)
    assert patch(alice, f["id"], {"folder": 4})[0] == 403
    assert patch(bob, f["id"], {"name": "mine.txt"})[0] == 404
    assert patch(alice, 999999999, {"name": "x"})[0] == 404
    # into a folder bob may read but not create in: 403; bob's own file stays where it was
    status, mine = bob.put(unique("bobs"), b"bob")
    assert status == 201
    status, body, _ = alice.api.request(
        "PATCH", f"/api/v1/folders/{other['id']}",
        {"permissions": [{"entity": bob.uid, "group": False, "bits": bits(1, 2, 0, 0)}]})
    assert status in (200, 204), body
    status, body = patch(bob, mine["id"], {"folder": other["id"]})
    assert status == 403 and body["error"]["code"] == "FIL-0403", body
    status, info = bob.get_json(f"/api/v1/files/{mine['id']}")
    assert info["folder"] == bob.folder


# ------------------------------------------------------------------ 1 GiB in constant memory


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(os.environ.get("TANDEM_SKIP_HUGE") == "1", reason="TANDEM_SKIP_HUGE=1")
def test_one_gib_upload_and_download_in_constant_memory(alice, env):
    c, _ = env
    pid = c.nodes[0].pid
    block = os.urandom(MIB)
    total = 1024 * MIB

    def body(md5):
        for i in range(total // MIB):
            chunk = i.to_bytes(8, "little") + block[8:]
            md5.update(chunk)
            yield chunk

    # warm up every buffer and cache on the path with a smaller transfer first
    cold = vm_hwm_kib(pid)
    warm = os.urandom(16 * MIB)
    status, w = alice.put(unique("warm"), warm)
    assert status == 201
    assert alice.request("GET", f"/api/v1/files/{w['id']}/content")[2] == warm
    before = vm_hwm_kib(pid)

    sent = hashlib.md5()
    conn = http.client.HTTPConnection("127.0.0.1", alice.api.port, timeout=600)
    t0 = time.monotonic()
    conn.request("PUT", f"/api/v1/files?folder={alice.folder}&name={unique('huge')}",
                 body=body(sent), headers=alice.headers({"Content-Length": str(total)}))
    resp = conn.getresponse()
    f = json.loads(resp.read())
    conn.close()
    upload_s = time.monotonic() - t0
    assert resp.status == 201, f
    assert f["size"] == total and f["md5"] == sent.hexdigest()
    after_upload = vm_hwm_kib(pid)

    got = hashlib.md5()
    n = 0
    conn = http.client.HTTPConnection("127.0.0.1", alice.api.port, timeout=600)
    t0 = time.monotonic()
    conn.request("GET", f"/api/v1/files/{f['id']}/content", headers=alice.headers())
    resp = conn.getresponse()
    assert resp.status == 200
    while True:
        chunk = resp.read(4 * MIB)
        if not chunk:
            break
        got.update(chunk)
        n += len(chunk)
    conn.close()
    download_s = time.monotonic() - t0
    assert n == total and got.hexdigest() == sent.hexdigest()
    after_download = vm_hwm_kib(pid)

    growth = after_download - before
    print(f"\nVmHWM before warm-up {cold} KiB, before {before} KiB, after upload "
          f"{after_upload} KiB, after download {after_download} KiB: growth {growth} KiB; "
          f"upload {upload_s:.1f} s, download {download_s:.1f} s")
    assert growth < 16 * 1024, f"tandemd's peak RSS grew by {growth} KiB"
    assert alice.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204
    assert alice.request("DELETE", f"/api/v1/files/{w['id']}")[0] == 204


def test_store_is_consistent_after_all_of_the_above(env):
    """Every upload, refusal, race and delete of this module left rows, files and usage in
    agreement (the tests above share this cluster and run first)."""
    c, _ = env
    r = c.ctl("checkconsistency")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "context 1: consistent" in r.stdout and "context 2: consistent" in r.stdout


# ------------------------------------------------------------------ crash drill


def test_kill_during_upload_then_checkconsistency_repairs(workdir):
    c = provision(workdir)
    try:
        alice = Files(c, workdir, "alice@defaultcontext")
        keep = os.urandom(200_000)
        status, kept = alice.put("keep.bin", keep)
        assert status == 201

        # an upload in flight: head and 8 MiB of a promised 64 MiB, then kill -9
        s = socket.create_connection(("127.0.0.1", c.nodes[0].port))
        head = "".join(f"{k}: {v}\r\n" for k, v in alice.headers(
            {"Content-Length": str(64 * MIB), "Host": "x"}).items())
        s.sendall(f"PUT /api/v1/files?folder={alice.folder}&name=partial.bin HTTP/1.1\r\n"
                  f"{head}\r\n".encode())
        s.sendall(os.urandom(8 * MIB))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            temps = [p for p in alice.stored_files() if p.startswith("tmp/")]
            if temps and os.path.getsize(os.path.join(alice.store, temps[0])) >= 8 * MIB:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the upload never reached the temp file")
        node = c.nodes.pop(0)
        node.proc.kill()
        node.proc.wait()
        node.log.close()
        s.close()

        # no row and no visible file for the partial upload; only its temp file is left
        assert [r[1] for r in alice.rows()] == ["keep.bin"]
        files = alice.stored_files()
        assert len([p for p in files if p.startswith("hashed/")]) == 1
        assert len([p for p in files if p.startswith("tmp/") and p.endswith(".part")]) == 1
        assert alice.usage() == len(keep)

        c.start_node("OX-2")
        alice = Files(c, workdir, "alice@defaultcontext")
        status, listing = alice.get_json(f"/api/v1/files?folder={alice.folder}")
        assert [x["name"] for x in listing["files"]] == ["keep.bin"]

        # more damage of the other kinds: an orphan, a row whose file is gone, bad usage
        status, gone = alice.put("gone.bin", b"soon missing")
        loc = sqlite_rows(alice.udb, "SELECT filestore_location FROM infostore_version WHERE "
                                     "cid=? AND file=?", (alice.cid, gone["id"]))[0][0]
        os.unlink(os.path.join(alice.store, loc))
        orphan = os.path.join(alice.store, "hashed/ab/cd/ef/abcdef" + "0" * 26)
        os.makedirs(os.path.dirname(orphan), exist_ok=True)
        with open(orphan, "wb") as fh:
            fh.write(b"nobody's")
        con = sqlite3.connect(alice.udb, timeout=30)
        with con:
            con.execute("UPDATE filestore_usage SET used_bytes=12345 WHERE cid=1")
        con.close()

        r = c.ctl("checkconsistency", "-c", "1")
        assert r.returncode == 1, r.stderr
        out = r.stdout
        assert "context 1: 4 problems" in out, out
        assert "stale temp" in out and "orphan file" in out and "abcdef" in out
        assert f"missing file   file {gone['id']} version 1" in out
        assert "recorded 12345 bytes" in out
        report = json.loads(c.ctl("--json", "checkconsistency", "-c", "1").stdout)
        rep = report["contexts"][0]
        assert rep["cid"] == 1 and rep["problems"] == 4 and rep["repaired"] == 0
        assert rep["orphan_files"] == ["hashed/ab/cd/ef/abcdef" + "0" * 26]
        assert len(rep["stale_temp_files"]) == 1
        assert rep["usage"] == {"recorded": 12345,
                                "actual": len(keep) + len(b"soon missing"), "ok": False}
        assert alice.usage() == 12345  # only listed

        r = c.ctl("checkconsistency", "--repair")  # every context
        assert r.returncode == 0, r.stdout + r.stderr
        assert "context 1: 4 problems, 0 left" in r.stdout
        assert "context 2: consistent" in r.stdout
        r = c.ctl("checkconsistency")
        assert r.returncode == 0 and "context 1: consistent" in r.stdout, r.stdout

        # the store is clean and the usage right
        assert alice.stored_files() == [loc for (loc,) in sqlite_rows(
            alice.udb, "SELECT filestore_location FROM infostore_version WHERE cid=1")]
        assert [r[1] for r in alice.rows()] == ["keep.bin"]
        assert alice.usage() == len(keep)
        assert sqlite_rows(alice.udb, "SELECT module FROM tombstone WHERE cid=1 AND id=?",
                           (gone["id"],)) == [("file",)]
        status, _, body = alice.request("GET", f"/api/v1/files/{kept['id']}/content")
        assert status == 200 and body == keep
        assert not os.path.exists(os.path.join(alice.store, "hashed/ab"))

        # only the master admin may run it
        r = c.ctl("checkconsistency", "-c", "1", user="oxadmin", password="admin_pw")
        assert r.returncode == 1 and "credentials" in r.stderr, r.stderr
        assert c.ctl("checkconsistency", "-c", "99").returncode == 1
    finally:
        c.stop()


# ------------------------------------------------------------------ the SQL on MariaDB


def test_infostore_library_on_mariadb(mariadb):  # noqa: F811
    """The unit test (versions, quota, delete, consistency repairs, concurrent quota charges)
    against a real MariaDB: row locks instead of SQLite's database lock."""
    run_unit_test_on_mariadb(mariadb, "test-infostore", "infostoretest", 4)
