# SPDX-License-Identifier: MIT
# WebDAV keeps the JSON API's rules (docs/webdav.md): the permission matrix of folders (a
# viewer reads, and cannot PUT, DELETE, MOVE or LOCK; what a user cannot see never shows in a
# PROPFIND), names it refuses, the quota (507, nothing left behind), and bad input answered
# with a clear status and nothing changed.
import re

import pytest

from cluster_setup import ADMIN, login, start_cluster
from dav_client import dav
from provisioning import ApiClient

MIB = 1024 * 1024
VIEWER = 257  # see the folder, read all objects
LOCKINFO = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>')


def names(port, path, user="alice"):
    status, _, body = dav(port, "PROPFIND", path, user, headers={"Depth": "1"})
    assert status == 207, body
    return [h for h in re.findall(r"<D:href>([^<]*)</D:href>", body.decode())]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("webdav-access"))
    c = start_cluster(workdir, "memory", nodes=1, users=("alice", "bob", "carol", "erin"))
    try:
        c.ok("createcontext", "-c", "2", "-q", "1", "-L", "small", *ADMIN)
        c.ok("createuser", "-c", "2", "-u", "dora", "-d", "dora", "-g", "G", "-s", "S",
             "-p", "dora_pw", "-e", "dora@example.com")
        port = c.nodes[0].port
        # alice makes a public folder with a file, and lets bob (only) see and read it
        assert dav(port, "MKCOL", "/dav/files/public/team/")[0] == 201
        assert dav(port, "PUT", "/dav/files/public/team/plan.txt", body=b"the plan")[0] == 201
        a = login(c, "alice")
        b = login(c, "bob")
        _, listing, _ = a.request("GET", "/api/v1/folders?parent=2")
        team = next(f for f in listing["folders"] if f["title"] == "team")
        status, body, _ = a.request("PATCH", f"/api/v1/folders/{team['id']}", {
            "permissions": [{"entity": a.uid, "group": False, "bits": 403710016},
                            {"entity": b.uid, "group": False, "bits": VIEWER}]})
        assert status == 200, body
        yield port
    finally:
        c.stop()


def test_a_viewer_reads_but_cannot_change(site):
    port = site
    assert "/dav/files/public/team/" in names(port, "/dav/files/public/", "bob")
    assert dav(port, "GET", "/dav/files/public/team/plan.txt", "bob")[2] == b"the plan"
    for method, path, body, headers in [
            ("PUT", "/dav/files/public/team/plan.txt", b"mine", {}),
            ("PUT", "/dav/files/public/team/new.txt", b"mine", {}),
            ("DELETE", "/dav/files/public/team/plan.txt", None, {}),
            ("MOVE", "/dav/files/public/team/plan.txt", None,
             {"Destination": "/dav/files/home/plan.txt"}),
            ("LOCK", "/dav/files/public/team/plan.txt", LOCKINFO, {}),
            ("MKCOL", "/dav/files/public/team/sub/", None, {}),
            ("PROPPATCH", "/dav/files/public/team/plan.txt",
             b'<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x>'
             b'</D:prop></D:set></D:propertyupdate>', {})]:
        status, _, answer = dav(port, method, path, "bob", body=body, headers=headers)
        assert status == 403, (method, path, status, answer)
    # nothing changed
    assert dav(port, "GET", "/dav/files/public/team/plan.txt", "alice")[2] == b"the plan"
    assert dav(port, "GET", "/dav/files/public/team/new.txt", "alice")[0] == 404
    assert dav(port, "GET", "/dav/files/home/plan.txt", "bob")[0] == 404


def test_what_a_user_cannot_see_never_shows(site):
    port = site
    assert "/dav/files/public/team/" not in names(port, "/dav/files/public/", "carol")
    assert dav(port, "PROPFIND", "/dav/files/public/team/", "carol",
               headers={"Depth": "0"})[0] == 404
    assert dav(port, "GET", "/dav/files/public/team/plan.txt", "carol")[0] == 404
    # nobody sees another user's home
    assert dav(port, "PUT", "/dav/files/home/secret.txt", "alice", body=b"s")[0] == 201
    assert "/dav/files/home/secret.txt" not in names(port, "/dav/files/home/", "bob")
    assert "/dav/principals/users/alice/" not in names(port, "/dav/principals/users/", "bob")


def test_names_the_json_api_refuses_are_refused_with_its_reason(site):
    port = site
    status, _, body = dav(port, "PUT", "/dav/files/home/" + "x" * 256, body=b"long")
    assert status == 400 and b"255" in body, body
    status, _, body = dav(port, "PUT", "/dav/files/home/bad%01name", body=b"ctl")
    assert status == 400 and b"control" in body.lower(), body


def test_an_over_quota_put_is_507_and_leaves_nothing(site):
    port = site
    used = quota_used(port)
    status, _, body = dav(port, "PUT", "/dav/files/home/big.bin", "dora@small",
                          body=b"x" * (2 * MIB))
    assert status == 507, body
    assert dav(port, "GET", "/dav/files/home/big.bin", "dora@small")[0] == 404
    assert quota_used(port) == used
    assert dav(port, "PUT", "/dav/files/home/small.bin", "dora@small",
               body=b"y" * 1000)[0] == 201
    assert quota_used(port) == used + 1000


def quota_used(port):
    status, _, body = dav(port, "PROPFIND", "/dav/files/home/", "dora@small",
                          headers={"Depth": "0"},
                          body=b'<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/>'
                               b'<D:quota-available-bytes/></D:prop></D:propfind>')
    assert status == 207, body
    return int(re.search(rb"<D:quota-used-bytes>(\d+)<", body).group(1))


@pytest.mark.parametrize("body,status", [
    (b"<D:propfind xmlns:D='DAV:'><D:prop>", 400),
    (b"<!DOCTYPE x [<!ENTITY e 'x'>]><D:propfind xmlns:D='DAV:'/>", 400),
    (b"<a>" * 200 + b"</a>" * 200, 400),
    (b"<D:propfind xmlns:D='DAV:'><D:prop>" + b"<x xmlns='urn:x'/>" * 80000 +
     b"</D:prop></D:propfind>", 413),
    (b"<D:wrong xmlns:D='DAV:'/>", 422),
])
def test_bad_xml_is_refused_with_a_clear_status(site, body, status):
    got, _, answer = dav(site, "PROPFIND", "/dav/files/home/", body=body,
                         headers={"Depth": "0"})
    assert got == status, answer


def test_bad_requests_change_nothing(site):
    port = site
    assert dav(port, "MKCOL", "/dav/files/home/keep/")[0] == 201
    assert dav(port, "PUT", "/dav/files/home/keep/a.txt", body=b"a")[0] == 201
    before = names(port, "/dav/files/home/keep/")
    status, _, body = dav(port, "PROPFIND", "/dav/files/home/", headers={"Depth": "infinity"})
    assert status == 403 and b"propfind-finite-depth" in body
    status, _, _ = dav(port, "COPY", "/dav/files/home/keep/a.txt",
                       headers={"Destination": "http://elsewhere.example/dav/files/home/b"})
    assert status == 502
    status, _, body = dav(port, "MOVE", "/dav/files/home/keep/",
                          headers={"Destination": "/dav/files/home/keep/inner/"})
    assert status == 403 and b"itself" in body
    status, _, _ = dav(port, "MOVE", "/dav/files/home/keep/a.txt",
                       headers={"Destination": "/dav/files/home/nowhere/a.txt"})
    assert status == 409
    status, _, _ = dav(port, "COPY", "/dav/files/home/keep/a.txt",
                       headers={"Destination": "/dav/files/home/keep/a.txt"})
    assert status == 403
    assert dav(port, "PUT", "/dav/files/home/keep/b.txt", body=b"b")[0] == 201
    status, _, _ = dav(port, "COPY", "/dav/files/home/keep/a.txt",
                       headers={"Destination": "/dav/files/home/keep/b.txt",
                                "Overwrite": "F"})
    assert status == 412
    assert dav(port, "GET", "/dav/files/home/keep/b.txt")[2] == b"b"
    assert names(port, "/dav/files/home/keep/") == before + ["/dav/files/home/keep/b.txt"]


def test_every_folder_object_names_its_collection(site):
    port = site
    assert dav(port, "MKCOL", "/dav/files/home/Docs/")[0] == 201
    assert dav(port, "MKCOL", "/dav/files/home/Docs/2026%20plans/")[0] == 201
    c_api = ApiClient(port)
    assert c_api.login("alice", "alice_pw")[0] == 200
    _, roots, _ = c_api.request("GET", "/api/v1/folders?parent=4")
    home = next(f for f in roots["folders"] if f["default"])
    assert home["dav"] == "/dav/files/home/"
    _, kids, _ = c_api.request("GET", f"/api/v1/folders?parent={home['id']}")
    docs = next(f for f in kids["folders"] if f["title"] == "Docs")
    assert docs["dav"] == "/dav/files/home/Docs/"
    _, inner, _ = c_api.request("GET", f"/api/v1/folders?parent={docs['id']}")
    assert inner["folders"][0]["dav"] == "/dav/files/home/Docs/2026 plans/"
    _, public, _ = c_api.request("GET", "/api/v1/folders?parent=2")
    assert next(f for f in public["folders"] if f["title"] == "team")["dav"] == \
        "/dav/files/public/team/"
    # calendar, tasks and contacts folders: their CalDAV and CardDAV collections, by id, or
    # by the segment a client created them under (as the DAV homes list them)
    assert dav(port, "MKCALENDAR", "/dav/calendars/alice/my-cal/")[0] == 201
    assert dav(port, "MKCOL", "/dav/addressbooks/alice/my-book/")[0] == 201
    _, top, _ = c_api.request("GET", "/api/v1/folders?parent=1")
    pim = {f["title"]: f for f in top["folders"] if f["module"] != "infostore"}
    assert {"calendar", "tasks", "contacts"} <= {f["module"] for f in pim.values()}, pim
    for f in pim.values():
        if f["title"] in ("my-cal", "my-book"):
            continue
        kind = "addressbooks" if f["module"] == "contacts" else "calendars"
        assert f["dav"] == f"/dav/{kind}/alice/{f['id']}/", f
    assert pim["my-cal"]["dav"] == "/dav/calendars/alice/my-cal/"
    assert pim["my-book"]["dav"] == "/dav/addressbooks/alice/my-book/"
    listed = names(port, "/dav/calendars/alice/") + names(port, "/dav/addressbooks/alice/")
    for f in pim.values():
        assert f["dav"] in listed, (f, listed)
        assert dav(port, "PROPFIND", f["dav"], headers={"Depth": "0"})[0] == 207, f
    # and the path answers
    assert dav(port, "PROPFIND", "/dav/files/home/Docs/2026%20plans/",
               headers={"Depth": "0"})[0] == 207


def test_folders_shared_with_a_user_appear_under_shared_by_owner_login(site):
    port = site
    assert dav(port, "MKCOL", "/dav/files/home/Proj/", "bob")[0] == 201
    assert dav(port, "PUT", "/dav/files/home/Proj/notes.txt", "bob", body=b"bob's")[0] == 201
    b = ApiClient(port)
    assert b.login("bob", "bob_pw")[0] == 200
    _, roots, _ = b.request("GET", "/api/v1/folders?parent=4")
    home = next(f for f in roots["folders"] if f["default"])
    _, kids, _ = b.request("GET", f"/api/v1/folders?parent={home['id']}")
    proj = next(f for f in kids["folders"] if f["title"] == "Proj")
    alice = ApiClient(port)
    assert alice.login("alice", "alice_pw")[0] == 200
    _, who, _ = alice.request("GET", "/api/v1/session")
    status, body, _ = b.request("PATCH", f"/api/v1/folders/{proj['id']}", {
        "permissions": [{"entity": proj["owner"], "group": False, "bits": 403710016},
                        {"entity": who["user_id"], "group": False, "bits": VIEWER}]})
    assert status == 200, body
    assert "/dav/files/shared/bob/" in names(port, "/dav/files/shared/", "alice")
    assert "/dav/files/shared/bob/Proj/" in names(port, "/dav/files/shared/bob/", "alice")
    assert "/dav/files/shared/bob/Proj/notes.txt" in \
        names(port, "/dav/files/shared/bob/Proj/", "alice")
    assert dav(port, "GET", "/dav/files/shared/bob/Proj/notes.txt", "alice")[2] == b"bob's"
    assert dav(port, "PUT", "/dav/files/shared/bob/Proj/notes.txt", "alice",
               body=b"mine")[0] == 403
    # carol was given nothing: bob is not among her sharers, his folder not reachable
    assert "/dav/files/shared/bob/" not in names(port, "/dav/files/shared/", "carol")
    assert dav(port, "PROPFIND", "/dav/files/shared/bob/Proj/", "carol",
               headers={"Depth": "0"})[0] == 404


def test_conditional_requests_on_files(site):
    port = site
    status, headers, _ = dav(port, "PUT", "/dav/files/home/cond.txt", body=b"one")
    assert status == 201
    etag = headers["etag"]
    status, headers, body = dav(port, "HEAD", "/dav/files/home/cond.txt")
    assert status == 200 and headers["etag"] == etag and "last-modified" in headers
    assert dav(port, "GET", "/dav/files/home/cond.txt",
               headers={"If-None-Match": etag})[0] == 304
    assert dav(port, "GET", "/dav/files/home/cond.txt",
               headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    # a write with a stale tag changes nothing
    assert dav(port, "PUT", "/dav/files/home/cond.txt", body=b"two",
               headers={"If-Match": '"stale"'})[0] == 412
    assert dav(port, "DELETE", "/dav/files/home/cond.txt",
               headers={"If": '(["stale"])'})[0] == 412
    assert dav(port, "PUT", "/dav/files/home/cond.txt", body=b"two",
               headers={"If-None-Match": "*"})[0] == 412
    assert dav(port, "GET", "/dav/files/home/cond.txt")[2] == b"one"
    status, headers, _ = dav(port, "PUT", "/dav/files/home/cond.txt", body=b"two",
                             headers={"If-Match": etag})
    assert status == 204 and headers["etag"] != etag
    assert dav(port, "GET", "/dav/files/home/cond.txt")[2] == b"two"


def test_a_large_first_put_is_asked_again_and_then_streamed(site):
    # erin's password has not been checked on this node yet: a body over 1 MiB is not kept in
    # memory while a worker checks it; the client is asked to send it again, which streams
    port = site
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB
    status, headers, body = dav(port, "PUT", "/dav/files/home/first.bin", "erin", body=data)
    assert status == 503 and headers["retry-after"] == "0", body
    assert dav(port, "GET", "/dav/files/home/first.bin", "erin")[0] == 404
    assert dav(port, "PUT", "/dav/files/home/first.bin", "erin", body=data)[0] == 201
    assert dav(port, "GET", "/dav/files/home/first.bin", "erin")[2] == data


def test_a_semicolon_is_part_of_a_name(site):
    # node.c drops ";params" of the last segment for the balancer's steering; DAV names keep
    # them
    port = site
    assert dav(port, "PUT", "/dav/files/home/a;b=c.txt", body=b"semi")[0] == 201
    assert "/dav/files/home/a;b=c.txt" in names(port, "/dav/files/home/")
    assert dav(port, "GET", "/dav/files/home/a;b=c.txt")[2] == b"semi"
    assert dav(port, "GET", "/dav/files/home/a")[0] == 404
