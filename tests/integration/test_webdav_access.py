# SPDX-License-Identifier: MIT
# WebDAV keeps the JSON API's rules (docs/webdav.md): the permission matrix of folders (a
# viewer reads, and cannot PUT, DELETE, MOVE or LOCK; what a user cannot see never shows in a
# PROPFIND), names it refuses, the quota (507, nothing left behind), and bad input answered
# with a clear status and nothing changed.
import re

import pytest

from cluster_setup import ADMIN, login, start_cluster
from dav_client import dav, put_expecting_continue
from provisioning import ApiClient

MIB = 1024 * 1024
VIEWER = 257  # see the folder, read all objects
ADMIN_BITS = 403710016  # everything, as the owner has it
LOCKINFO = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>')


def names(port, path, user="alice"):
    status, _, body = dav(port, "PROPFIND", path, user, headers={"Depth": "1"})
    assert status == 207, body
    return [h for h in re.findall(r"<D:href>([^<]*)</D:href>", body.decode())]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("webdav-access"))
    c = start_cluster(workdir, "memory", nodes=1, users=("alice", "bob", "carol", "erin", "frank"))
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
    for title in ("my-cal", "my-book"):  # one folder read alone: the same path as listed
        st, one, _ = c_api.request("GET", f"/api/v1/folders/{pim[title]['id']}")
        assert st == 200 and one["dav"] == pim[title]["dav"], one
    listed = names(port, "/dav/calendars/alice/") + names(port, "/dav/addressbooks/alice/")
    for f in pim.values():
        assert f["dav"] in listed, (f, listed)
        assert dav(port, "PROPFIND", f["dav"], headers={"Depth": "0"})[0] == 207, f
    # and the path answers
    assert dav(port, "PROPFIND", "/dav/files/home/Docs/2026%20plans/",
               headers={"Depth": "0"})[0] == 207


def share(port, owner, title, user, bits):
    """owner's folder title (in their "My files") is shared with user, with bits."""
    o = ApiClient(port)
    assert o.login(owner, f"{owner}_pw")[0] == 200
    _, roots, _ = o.request("GET", "/api/v1/folders?parent=4")
    home = next(f for f in roots["folders"] if f["default"])
    _, kids, _ = o.request("GET", f"/api/v1/folders?parent={home['id']}")
    folder = next(f for f in kids["folders"] if f["title"] == title)
    u = ApiClient(port)
    assert u.login(user, f"{user}_pw")[0] == 200
    _, who, _ = u.request("GET", "/api/v1/session")
    status, body, _ = o.request("PATCH", f"/api/v1/folders/{folder['id']}", {
        "permissions": [{"entity": folder["owner"], "group": False, "bits": ADMIN_BITS},
                        {"entity": who["user_id"], "group": False, "bits": bits}]})
    assert status == 200, body


def test_folders_shared_with_a_user_appear_under_shared_by_owner_login(site):
    port = site
    assert dav(port, "MKCOL", "/dav/files/home/Proj/", "bob")[0] == 201
    assert dav(port, "PUT", "/dav/files/home/Proj/notes.txt", "bob", body=b"bob's")[0] == 201
    share(port, "bob", "Proj", "alice", VIEWER)
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


def test_a_large_first_put_streams_once_the_login_is_checked(site):
    # erin's password has not been checked on this node yet: the body waits, unread, while a
    # worker checks it, then streams (it was a 503 asking to send it again before)
    port = site
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB
    assert dav(port, "PUT", "/dav/files/home/first.bin", "erin", body=data)[0] == 201
    assert dav(port, "GET", "/dav/files/home/first.bin", "erin")[2] == data


def test_100_continue_comes_only_for_a_sender_who_may_put(site):
    port = site
    data = b"x" * (3 * MIB)
    # a wrong password, unknown to the cache: refused before a byte of the body
    got, status, body = put_expecting_continue(port, "/dav/files/home/f.bin", data, "frank",
                                               "wrong")
    assert (got, status) == (False, 401) and b"SES-0401" in body
    # frank's first request of all (no other test uses frank): checked while the body waits, then 100 and the body
    got, status, body = put_expecting_continue(port, "/dav/files/home/f.bin", data, "frank")
    assert (got, status) == (True, 201), body
    # and now from the cache
    got, status, _ = put_expecting_continue(port, "/dav/files/home/f.bin", data[:10], "frank")
    assert (got, status) == (True, 204)
    assert dav(port, "GET", "/dav/files/home/f.bin", "frank")[2] == data[:10]


def test_a_semicolon_is_part_of_a_name(site):
    # node.c drops ";params" of the last segment for the balancer's steering; DAV names keep
    # them
    port = site
    assert dav(port, "PUT", "/dav/files/home/a;b=c.txt", body=b"semi")[0] == 201
    assert "/dav/files/home/a;b=c.txt" in names(port, "/dav/files/home/")
    assert dav(port, "GET", "/dav/files/home/a;b=c.txt")[2] == b"semi"
    assert dav(port, "GET", "/dav/files/home/a")[0] == 404


def test_a_lock_belongs_to_the_file_whichever_url_reaches_it(site):
    # bob's folder Team is shared with alice (she may write): his home/Team/Sub/doc.txt is her
    # shared/bob/Team/Sub/doc.txt, and a lock taken on either URL holds on the other
    port = site
    mine, hers = "/dav/files/home/Team", "/dav/files/shared/bob/Team"
    assert dav(port, "MKCOL", f"{mine}/", "bob")[0] == 201
    share(port, "bob", "Team", "alice", ADMIN_BITS)
    assert dav(port, "MKCOL", f"{mine}/Sub/", "bob")[0] == 201  # shared as Team is
    assert dav(port, "PUT", f"{mine}/Sub/doc.txt", "bob", body=b"v1")[0] == 201

    # alice locks through her URL; bob is refused through his, and sees her lock there
    status, headers, body = dav(port, "LOCK", f"{hers}/Sub/doc.txt", "alice", body=LOCKINFO,
                                headers={"Depth": "0"})
    assert status == 200, body
    token = headers["lock-token"].strip("<>")
    assert f"<D:href>{hers}/Sub/doc.txt</D:href>".encode() in body
    status, _, body = dav(port, "PUT", f"{mine}/Sub/doc.txt", "bob", body=b"bob's")
    assert status == 423 and f"<D:href>{mine}/Sub/doc.txt</D:href>".encode() in body, body
    assert dav(port, "LOCK", f"{mine}/Sub/doc.txt", "bob", body=LOCKINFO,
               headers={"Depth": "0"})[0] == 423
    assert dav(port, "DELETE", f"{mine}/Sub/", "bob")[0] == 423
    status, _, body = dav(port, "PROPFIND", f"{mine}/Sub/doc.txt", "bob",
                          headers={"Depth": "0"})
    assert status == 207 and token.encode() in body
    assert f"<D:lockroot><D:href>{mine}/Sub/doc.txt</D:href>".encode() in body
    status, _, body = dav(port, "PROPFIND", f"{mine}/Sub/", "bob", headers={"Depth": "1"})
    assert status == 207 and token.encode() in body  # the member's lock in a listing
    # her token opens it for her, not for him; she unlocks it
    assert dav(port, "PUT", f"{hers}/Sub/doc.txt", "alice", body=b"v2",
               headers={"If": f"(<{token}>)"})[0] == 204
    assert dav(port, "PUT", f"{mine}/Sub/doc.txt", "bob", body=b"v3",
               headers={"If": f"(<{token}>)"})[0] == 423
    assert dav(port, "UNLOCK", f"{mine}/Sub/doc.txt", "bob",
               headers={"Lock-Token": f"<{token}>"})[0] == 403  # someone else's
    assert dav(port, "UNLOCK", f"{hers}/Sub/doc.txt", "alice",
               headers={"Lock-Token": f"<{token}>"})[0] == 204
    assert dav(port, "PUT", f"{mine}/Sub/doc.txt", "bob", body=b"v4")[0] == 204

    # bob's depth-infinity lock on Team covers her URLs below it, and her unmapped one
    status, headers, _ = dav(port, "LOCK", f"{mine}/", "bob", body=LOCKINFO)
    assert status == 200
    team_token = headers["lock-token"].strip("<>")
    status, _, body = dav(port, "PUT", f"{hers}/Sub/new.txt", "alice", body=b"x")
    assert status == 423 and f"<D:href>{hers}</D:href>".encode() in body, body
    assert dav(port, "UNLOCK", f"{mine}/", "bob",
               headers={"Lock-Token": f"<{team_token}>"})[0] == 204
    # a lock-null resource taken through her URL holds on his
    status, headers, _ = dav(port, "LOCK", f"{hers}/Sub/new.txt", "alice", body=LOCKINFO,
                             headers={"Depth": "0"})
    assert status == 201
    assert dav(port, "PUT", f"{mine}/Sub/new.txt", "bob", body=b"x")[0] == 423
    assert dav(port, "GET", f"{hers}/Sub/doc.txt", "alice")[2] == b"v4"
