# SPDX-License-Identifier: MIT
# Quota holds and context limits against real tandemd nodes sharing one user database:
# uploads hold quota while their bytes arrive (seen by every node), stalled, aborted and
# timed-out uploads give it back, holds of a vanished node lapse, the object limit per
# context, and quota_mb values whose bytes would not fit 64 bits.
import json
import os
import select
import socket
import sqlite3
import tempfile
import time

import pytest

from conftest import Reader
from provisioning import Cluster, sqlite_rows
from test_files import ADMIN, MIB, Files, unique

QUOTA = 4 * MIB
USERDB_LATEST = 12  # the user schema's last migration step (src/lib-provision/schema.c)


def provision(workdir, extra="", nodes=("OX-1",)):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=extra)
    for route in nodes:
        c.start_node(route)
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    return c


def add_context(c, cid, quota_mb, mapping, login):
    c.ok("createcontext", "-c", str(cid), "-q", str(quota_mb), "-L", mapping, *ADMIN)
    c.ok("createuser", "-c", str(cid), "-u", login, "-d", login, "-g", "G", "-s", "S",
         "-p", f"{login}_pw", "-e", f"{login}@example.com")


@pytest.fixture(scope="module")
def tight():
    """Two nodes on one configdb and user database; context 5 has a quota of 4 MiB. A short
    body timeout, so that a stalled upload is cut off within the test."""
    with tempfile.TemporaryDirectory(prefix="tandem-quota-") as workdir:
        c = provision(workdir, "[http]\nbody_timeout = 3s\n", ("OX-1", "OX-2"))
        try:
            add_context(c, 5, QUOTA // MIB, "tight", "dave")
            yield c, workdir
        finally:
            c.stop()


def temps(u):
    """The temp files of uploads in progress in u's context: {name: size}."""
    out = {}
    d = os.path.join(u.store, "tmp")
    for name in os.listdir(d) if os.path.isdir(d) else []:
        try:
            out[name] = os.path.getsize(os.path.join(d, name))
        except FileNotFoundError:
            pass
    return out


def holds(u):
    return sqlite_rows(u.udb, "SELECT id, bytes FROM filestore_reservation WHERE cid=?",
                       (u.cid,))


def wait_until(what, check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


class Stalled:
    """An upload by u (to the node u is logged in on) that sends its head and `sent` bytes of
    its body, then stops with the connection open: announcing `length`, or chunked (one
    chunk, never ended)."""

    def __init__(self, u, sent, length=None):
        self.sent = sent
        self.before = set(temps(u))
        self.sock = socket.create_connection(("127.0.0.1", u.api.port), timeout=30)
        h = u.headers({"Host": "127.0.0.1"})
        body = os.urandom(sent)
        if length is None:
            h["Transfer-Encoding"] = "chunked"
            body = f"{sent:x}\r\n".encode() + body
        else:
            h["Content-Length"] = str(length)
        head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
        self.sock.sendall(f"PUT /api/v1/files?folder={u.folder}&name={unique('stall')} "
                          f"HTTP/1.1\r\n{head}\r\n".encode())
        try:
            self.sock.sendall(body)
        except OSError:
            pass  # refused and closed before the node read all of it

    def settle(self, u, timeout=30):
        """Waits until the node has all sent bytes in a new temp file (returns None: it
        stalls there) or has answered (returns the answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.sock], [], [], 0.05)[0]:
                return Reader(self.sock).read()
            if any(size == self.sent for name, size in temps(u).items()
                   if name not in self.before):
                return None
        raise AssertionError("the upload neither reached its temp file nor was answered")


def test_stalled_uploads_hold_no_more_than_the_quota(tight):
    """The review's finding: three stalled uploads kept far more than the quota on disk."""
    c, workdir = tight
    u = Files(c, workdir, "dave@tight")
    other = Files(c, workdir, "dave@tight", node=1)
    part = 3 * MIB // 2
    # two announce 1.5 MiB (one on each node) and stop a byte short; one is chunked
    stalled, answers = [], []
    for length, by in ((part, u), (part, other), (None, u)):
        s = Stalled(by, part - 1, length)
        stalled.append(s)
        answers.append(s.settle(u))
        assert sum(temps(u).values()) <= QUOTA, (temps(u), answers)
    # 4.5 MiB do not fit into 4: the last was cut off, its temp file removed before the answer
    refused = [a for a in answers if a is not None]
    assert refused, answers
    for a in refused:
        assert a.status == 413 and json.loads(a.body)["error"]["code"] == "FIL-0413", a.body
    assert len(temps(u)) == len(answers) - len(refused)

    # while they stall, an upload that would pass the quota is refused on either node before
    # its body (no 100 Continue); a smaller one that fits is stored
    for f in (u, other):
        resp = f.put_head(unique("more"), part)
        assert resp.status == 413, (resp.status, resp.body)
        assert json.loads(resp.body)["error"]["code"] == "FIL-0413"
    status, small = other.put(unique("small"), os.urandom(512 * 1024))
    assert status == 201, small

    # the stalled uploads are aborted: their holds go and their temp files with them
    for s in stalled:
        s.sock.close()
    wait_until("holds and temp files gone", lambda: holds(u) == [] and temps(u) == {})
    status, big = u.put(unique("big"), os.urandom(3 * MIB))
    assert status == 201, big
    assert u.usage() == 3 * MIB + 512 * 1024
    for f in (small, big):
        assert u.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204


def test_a_stalled_upload_times_out_and_gives_its_quota_back(tight):
    c, workdir = tight
    u = Files(c, workdir, "dave@tight")
    s = Stalled(u, MIB, length=3 * MIB)
    assert s.settle(u) is None
    # it holds its first MiB on every node: 3 MiB + 1 byte more do not fit
    other = Files(c, workdir, "dave@tight", node=1)
    assert other.put_head(unique("more"), 3 * MIB + 1).status == 413
    assert sum(b for _, b in holds(u)) >= MIB
    # the body timeout (3 s) ends it: 408, and the hold and temp file go
    s.sock.settimeout(30)
    assert Reader(s.sock).read().status == 408
    s.sock.close()
    wait_until("hold and temp file gone", lambda: holds(u) == [] and temps(u) == {})
    status, f = other.put(unique("after"), os.urandom(QUOTA - 1))
    assert status == 201, f
    assert u.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204


def test_expect_continue_comes_once_the_quota_is_held(tight):
    """A client that waits for 100 Continue gets it after its hold is set, then its 201."""
    c, workdir = tight
    u = Files(c, workdir, "dave@tight")
    data = os.urandom(2 * MIB + 5)
    h = u.headers({"Host": "127.0.0.1", "Content-Length": str(len(data)),
                   "Expect": "100-continue"})
    head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
    with socket.create_connection(("127.0.0.1", u.api.port), timeout=30) as s:
        s.sendall(f"PUT /api/v1/files?folder={u.folder}&name={unique('expect')} HTTP/1.1\r\n"
                  f"{head}\r\n".encode())
        reader = Reader(s)
        assert reader.read().status == 100
        assert holds(u) != []
        s.sendall(data)
        resp = reader.read()
    assert resp.status == 201, resp.body
    f = json.loads(resp.body)
    assert f["size"] == len(data) and holds(u) == []
    assert u.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204


def test_holds_of_a_vanished_node_lapse(tight):
    """A node that dies with an upload in flight never drops its hold: it counts until it
    expires, then not at all; the next hold and checkconsistency --repair remove it."""
    c, workdir = tight
    u = Files(c, workdir, "dave@tight")
    now = int(time.time())
    con = sqlite3.connect(u.udb, timeout=30)
    try:
        with con:
            con.execute("INSERT INTO filestore_reservation (cid, id, bytes, expires) VALUES "
                        "(?, 'gone-node', ?, ?)", (u.cid, QUOTA, now + 600))
        status, body = u.put(unique("x"), b"x")
        assert status == 413 and body["error"]["code"] == "FIL-0413", body
        with con:
            con.execute("UPDATE filestore_reservation SET expires=? WHERE id='gone-node'",
                        (now - 1,))
        status, f = u.put(unique("y"), os.urandom(MIB))
        assert status == 201, f
        assert holds(u) == []  # the upload's hold dropped it
        with con:
            con.execute("INSERT INTO filestore_reservation (cid, id, bytes, expires) VALUES "
                        "(?, 'crashed', ?, ?)", (u.cid, MIB, now - 5))
    finally:
        con.close()
    r = c.ctl("checkconsistency", "-c", str(u.cid))
    assert r.returncode == 1 and "expired hold" in r.stdout and "crashed" in r.stdout, r.stdout
    r = c.ctl("checkconsistency", "-c", str(u.cid), "--repair")
    assert r.returncode == 0, r.stdout + r.stderr
    assert holds(u) == []
    assert u.request("DELETE", f"/api/v1/files/{f['id']}")[0] == 204
    r = c.ctl("checkconsistency", "-c", str(u.cid))
    assert r.returncode == 0 and f"context {u.cid}: consistent" in r.stdout, r.stdout


def test_a_quota_stored_before_its_bound_is_not_wrapped(tight):
    """quota_mb 2^44+1 used to wrap to 1 MiB in bytes; one stored before the bound was
    enforced now means no limit."""
    c, workdir = tight
    add_context(c, 7, 1, "legacy", "erin")
    con = sqlite3.connect(f"{workdir}/configdb.sqlite", timeout=30)
    with con:
        con.execute("UPDATE context SET quota_mb=? WHERE cid=7", (2**44 + 1,))
    con.close()
    u = Files(c, workdir, "erin@legacy")
    data = os.urandom(2 * MIB)
    deadline = time.monotonic() + 20  # the node caches a context's location for a few seconds
    while True:
        status, f = u.put(unique("big"), data)
        if status == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 201, f


def test_the_object_limit_counts_files_versions_and_folders(workdir):
    c = provision(workdir, "[limits]\nmax_objects_per_context = 12\n")
    try:
        add_context(c, 6, 0, "few", "fred")
        u = Files(c, workdir, "fred@few")

        def folder(title):
            return u.api.request("POST", "/api/v1/folders",
                                 {"parent": u.folder, "title": title, "module": "infostore"})

        assert folder("one")[0] == 201
        files = []
        for i in range(10):  # empty files are objects too
            status, f = u.put(f"z{i}", b"")
            assert status == 201, f
            files.append(f)
        status, v2 = u.put("z0", b"")  # a version is one more
        assert status == 200 and v2["version"] == 2
        # 12 objects: no more files, versions or folders
        for name in ("z10", "z1"):
            status, body = u.put(name, b"")
            assert status == 413 and body["error"]["code"] == "FIL-0413", body
            assert "limit of 12 objects" in body["error"]["message"], body
        status, body, _ = folder("two")
        assert status == 413 and body["error"]["code"] == "FLD-0413", body
        assert "limit of 12 objects" in body["error"]["message"], body
        assert len(u.rows()) == 10 and not [p for p in u.stored_files() if "tmp/" in p]
        # deleting z0 frees its two versions
        assert u.request("DELETE", f"/api/v1/files/{files[0]['id']}")[0] == 204
        assert u.put("z10", b"")[0] == 201
        assert folder("two")[0] == 201
        assert u.put("z11", b"")[0] == 413
        r = c.ctl("checkconsistency", "-c", "6")
        assert r.returncode == 0 and "context 6: consistent" in r.stdout, r.stdout
    finally:
        c.stop()


def test_a_user_schema_of_the_release_before_holds_is_brought_forward(workdir):
    """A schema at version 2 (before holds and object counts) is upgraded the first time a
    node opens it, and its files keep working."""
    c = provision(workdir)
    add_context(c, 9, 10, "old", "frank")
    u = Files(c, workdir, "frank@old")
    status, kept = u.put(unique("kept"), b"from before the upgrade")
    assert status == 201, kept
    c.stop()
    con = sqlite3.connect(u.udb, timeout=30)
    with con:  # what the release before this one made
        con.execute("DROP INDEX users_email")  # version 12 (leftovers)
        for col in ("imap_server", "smtp_server", "imap_login"):  # version 11 (mail-auth)
            con.execute(f"ALTER TABLE users DROP COLUMN {col}")
        con.execute("DROP TABLE gab_published")  # version 9 (global address book), after it
        con.execute("DROP TABLE gab_revision")
        con.execute("DROP TABLE contact_object")  # version 7 (contacts), after it
        con.execute("DROP TABLE resource")  # version 6 (the directory), after it
        con.execute("DROP TABLE context_access")
        con.execute("ALTER TABLE users DROP COLUMN access_combination")
        for table in ("cal_object", "cal_folder_revision", "cal_tombstone"):
            con.execute(f"DROP TABLE {table}")  # version 5, after it
        con.execute("DROP TABLE dav_props")  # version 4, after it
        con.execute("DROP TABLE filestore_reservation")
        con.execute("ALTER TABLE filestore_usage DROP COLUMN objects")
        con.execute("UPDATE schema_version SET version=2 WHERE component='userdb'")
    con.close()
    c.nodes = []
    node = c.start_node("OX-1")
    try:
        u = Files(c, workdir, "frank@old")
        status, f = u.put(unique("new"), b"after")
        assert status == 201, f
        assert u.api.request("GET", f"/api/v1/files/{kept['id']}/content")[1] == \
            b"from before the upgrade"
        assert sqlite_rows(u.udb, "SELECT version FROM schema_version WHERE "
                                  "component='userdb'") == [(USERDB_LATEST,)]
        node.wait_stderr(f"version 2, upgrading to {USERDB_LATEST}")
        # and the calendar tables of version 5
        assert sqlite_rows(u.udb, "SELECT COUNT(*) FROM cal_object") == [(0,)]
        # and the WebDAV properties table of version 4 came with it
        assert sqlite_rows(u.udb, "SELECT COUNT(*) FROM dav_props") == [(0,)]
        assert sqlite_rows(u.udb, "SELECT COUNT(*) FROM resource") == [(0,)]
        assert sqlite_rows(u.udb, "SELECT COUNT(*) FROM contact_object") == [(0,)]
        # and version 12's index serves scheduling's lookup by e-mail (storage-schedule.c)
        plan = sqlite_rows(u.udb, "EXPLAIN QUERY PLAN SELECT id FROM users WHERE cid=9 AND "
                                  "LOWER(email)=LOWER('Frank@Old')")
        assert any("USING INDEX users_email" in row[-1] for row in plan), plan
        assert sqlite_rows(u.udb, "SELECT COUNT(*) FROM gab_published") == [(0,)]
    finally:
        c.stop()
