# SPDX-License-Identifier: MIT
# The global address book over CardDAV (/dav/addressbooks/<login>/gab/) on two nodes sharing a
# configdb and Redis, with raw requests and a pull-only vdirsyncer: listed in the home as a
# read-only book, its cards as vCard 4.0 (3.0 on request), addressbook-query, multiget,
# sync-collection with the directory revision as token (an older one is 403
# valid-sync-token), every write refused, the contacts module required; a user created,
# renamed and deleted with tandemctl shows in the next sync on both nodes.
import base64
import http.client
import re

import pytest

from cluster_setup import start_cluster
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from test_caldav import run, vdirsyncer_config

CARD = "urn:ietf:params:xml:ns:carddav"
NS = f"xmlns:D='DAV:' xmlns:C='{CARD}'"
ACCESS = "[access nocontacts]\nmodules = files, webdav, carddav\n"


@pytest.fixture
def cluster(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, users=("alice", "bob"), extra=ACCESS)
    c.ok("createuser", "-c", "1", "-u", "erin", "-d", "erin", "-g", "G", "-s", "S", "-p",
         "erin_pw", "-e", "erin@example.com", "--access-combination-name", "nocontacts")
    yield c
    c.stop()


def raw(c, login, method, path, body=None, headers=None, node=0):
    """One request: (status, response, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", c.nodes[node].port, timeout=30)
    auth = base64.b64encode(f"{login}:{login}_pw".encode()).decode()
    conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                 headers={"Authorization": f"Basic {auth}", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read().decode()
    conn.close()
    return resp.status, resp, data


def gab(login):
    return f"/dav/addressbooks/{login}/gab/"


def hrefs(body):
    return re.findall(r"<D:href>([^<]*)</D:href>", body)


def propfind(c, login, path, props, depth="0", node=0):
    st, _, body = raw(c, login, "PROPFIND", path,
                      f"<D:propfind {NS} xmlns:CS='http://calendarserver.org/ns/'><D:prop>"
                      f"{props}</D:prop></D:propfind>", {"Depth": depth}, node)
    assert st == 207, (st, body)
    return body


def sync(c, login, token, data=False, node=0):
    prop = "<D:getetag/>" + ("<C:address-data/>" if data else "")
    return raw(c, login, "REPORT", gab(login),
               f"<D:sync-collection {NS}><D:sync-token>{token}</D:sync-token>"
               f"<D:sync-level>1</D:sync-level><D:prop>{prop}</D:prop></D:sync-collection>",
               node=node)


def token_of(body):
    return re.search(r"<D:sync-token>([^<]+)</D:sync-token>", body).group(1)


def uid_of(c, login):
    return next(u["id"] for u in c.json("listuser", "-c", "1")["users"] if u["login"] == login)


def test_listed_read_only_and_readable(cluster):
    c = cluster
    body = propfind(c, "alice", "/dav/addressbooks/alice/",
                    "<D:resourcetype/><D:displayname/><D:current-user-privilege-set/>", "1")
    assert gab("alice") in hrefs(body), body
    book = re.search(r"<D:response><D:href>" + re.escape(gab("alice")) + r"</D:href>(.*?)"
                     r"</D:response>", body, re.S).group(1)
    assert "<C:addressbook " in book and ">Global address book<" in book, book
    assert "<D:read/>" in book and "write" not in book and "bind" not in book, book
    body = propfind(c, "alice", gab("alice"),
                    "<D:resourcetype/><CS:getctag/><D:sync-token/><C:supported-address-data/>"
                    "<D:current-user-privilege-set/><D:supported-report-set/>")
    for part in ("<C:addressbook ", "getctag", "urn:tandem:sync:0:", "addressbook-query",
                 "sync-collection", "<D:read/>"):
        assert part in body, (part, body)
    assert "write-content" not in body, body
    # depth 1: one card per enabled user, named by user id
    body = propfind(c, "alice", gab("alice"), "<D:getetag/>", "1")
    bob = uid_of(c, "bob")
    cards = sorted(h for h in hrefs(body) if h != gab("alice"))
    assert len(cards) == 4 and gab("alice") + f"{bob}.vcf" in cards, body
    etag = re.search(re.escape(f"{bob}.vcf") + r"</D:href>.*?<D:getetag>([^<]+)<", body,
                     re.S).group(1)
    # GET: vCard 4.0, 3.0 when asked, conditional
    st, resp, text = raw(c, "alice", "GET", gab("alice") + f"{bob}.vcf")
    assert st == 200 and "VERSION:4.0" in text and "EMAIL:bob@example.com" in text, text
    assert resp.getheader("ETag") == etag.replace("&quot;", '"')
    st, resp, text = raw(c, "alice", "GET", gab("alice") + f"{bob}.vcf",
                         headers={"Accept": "text/vcard; version=3.0"})
    assert st == 200 and "VERSION:3.0" in text and "version=3.0" in resp.getheader(
        "Content-Type"), text
    assert raw(c, "alice", "GET", gab("alice") + f"{bob}.vcf",
               headers={"If-None-Match": resp.getheader("ETag")})[0] == 304
    for missing in ("999999.vcf", "x.vcf", "0.vcf"):
        assert raw(c, "alice", "GET", gab("alice") + missing)[0] == 404, missing
    # PROPFIND of a card
    body = propfind(c, "alice", gab("alice") + f"{bob}.vcf", "<D:getetag/><C:address-data/>")
    assert "FN:bob" in body, body


def test_query_and_multiget(cluster):
    c = cluster
    bob = uid_of(c, "bob")
    st, _, body = raw(c, "alice", "REPORT", gab("alice"),
                      f"<C:addressbook-query {NS}><D:prop><D:getetag/><C:address-data/>"
                      "</D:prop><C:filter><C:prop-filter name='EMAIL'><C:text-match "
                      "match-type='starts-with'>BOB@</C:text-match></C:prop-filter></C:filter>"
                      "</C:addressbook-query>")
    assert st == 207 and hrefs(body) == [gab("alice") + f"{bob}.vcf"], body
    assert "EMAIL:bob@example.com" in body
    # bounded: a limit answers 507 for the rest
    st, _, body = raw(c, "alice", "REPORT", gab("alice"),
                      f"<C:addressbook-query {NS}><D:prop><D:getetag/></D:prop><C:filter/>"
                      "<C:limit><C:nresults>2</C:nresults></C:limit></C:addressbook-query>")
    assert st == 207 and len(hrefs(body)) == 3 and "507" in body, body
    st, _, body = raw(c, "alice", "REPORT", gab("alice"),
                      f"<C:addressbook-multiget {NS}><D:prop><C:address-data version='3.0'/>"
                      f"</D:prop><D:href>{gab('alice')}{bob}.vcf</D:href>"
                      f"<D:href>{gab('alice')}424242.vcf</D:href></C:addressbook-multiget>")
    assert st == 207 and "VERSION:3.0" in body and "FN:bob" in body, body
    assert re.search(r"424242\.vcf</D:href>\s*<D:status>HTTP/1.1 404", body), body


def test_writes_refused_and_module_access(cluster):
    c = cluster
    bob = uid_of(c, "bob")
    card = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n"
    for method, path, body in (("PUT", f"{gab('alice')}{bob}.vcf", card),
                               ("PUT", f"{gab('alice')}new.vcf", card),
                               ("DELETE", f"{gab('alice')}{bob}.vcf", None),
                               ("PROPPATCH", gab("alice"),
                                f"<D:propertyupdate {NS}><D:set><D:prop><D:displayname>x"
                                "</D:displayname></D:prop></D:set></D:propertyupdate>"),
                               ("MKCOL", gab("alice"), None),
                               ("MKCOL", gab("alice") + "sub/", None)):
        st, _, answer = raw(c, "alice", method, path, body,
                            {"Content-Type": "text/vcard"} if method == "PUT" else None)
        assert st == 403 and "<D:need-privileges/>" in answer, (method, path, st, answer)
    st, _, text = raw(c, "alice", "GET", f"{gab('alice')}{bob}.vcf")
    assert st == 200 and "FN:bob" in text
    # without the contacts module: not listed, and refused naming it
    body = propfind(c, "erin", "/dav/addressbooks/erin/", "<D:displayname/>", "1")
    assert gab("erin") not in hrefs(body), body
    st, _, answer = raw(c, "erin", "PROPFIND", gab("erin"), None, {"Depth": "0"})
    assert st == 403 and "ACC-0403" in answer and "contacts" in answer, answer


def test_sync_follows_users_on_both_nodes(cluster):
    c = cluster
    st, _, body = sync(c, "alice", "")
    assert st == 207 and len(hrefs(body)) == 4, body
    token = token_of(body)
    assert propfind(c, "bob", gab("bob"), "<D:sync-token/>", node=1).count(token) == 1
    # nothing moved: an empty answer and the same token, on either node
    for node in (0, 1):
        st, _, again = sync(c, "alice", token, node=node)
        assert st == 207 and hrefs(again) == [] and token_of(again) == token, again
    zed = c.json("createuser", "-c", "1", "-u", "zed", "-d", "Zed Zebra", "-g", "Zed", "-s",
                 "Zebra", "-p", "zed_pw", "-e", "zed@example.com")["id"]
    # the old token cannot say what left the book: the client resyncs (RFC 6578 §3.2)
    for node in (0, 1):
        st, _, answer = sync(c, "alice", token, node=node)
        assert st == 403 and "<D:valid-sync-token/>" in answer, answer
        st, _, body = sync(c, "alice", "", data=True, node=node)
        assert st == 207 and "FN:Zed Zebra" in body and f"{zed}.vcf" in body, body
    token = token_of(body)
    c.ok("changeuser", "-c", "1", "-u", "zed", "--displayname", "Zoe Quagga")
    for node in (0, 1):
        assert sync(c, "alice", token, node=node)[0] == 403
        st, _, text = raw(c, "alice", "GET", f"{gab('alice')}{zed}.vcf", node=node)
        assert st == 200 and "FN:Zoe Quagga" in text, text
    c.ok("deleteuser", "-c", "1", "-u", "zed")
    for node in (0, 1):
        st, _, body = sync(c, "alice", "", node=node)
        assert st == 207 and f"{zed}.vcf" not in body and len(hrefs(body)) == 4, body
        assert raw(c, "alice", "GET", f"{gab('alice')}{zed}.vcf", node=node)[0] == 404
    for bad in ("urn:tandem:sync:0:999999", "urn:tandem:sync:5:1", "x"):
        assert sync(c, "alice", bad)[0] == 403, bad


def test_vdirsyncer_pulls_the_directory(cluster, tmp_path):
    """A pull-only vdirsyncer follows a user's creation, rename and deletion."""
    c = cluster
    url = f"http://127.0.0.1:{c.nodes[1].port}/dav/addressbooks/alice/"
    local = tmp_path / "books"
    cfg, env = vdirsyncer_config(tmp_path, "carddav", url, "alice", local, ".vcf")
    cfg.write_text(cfg.read_text().replace('collections = ["from a"]',
                                           'collections = ["gab"]\nconflict_resolution = "a wins"')
                   .replace('password = "alice_pw"', 'password = "alice_pw"\nread_only = true'))
    run(["vdirsyncer", "-c", str(cfg), "discover"], env, stdin="y\n" * 10)

    def pulled():
        run(["vdirsyncer", "-c", str(cfg), "sync"], env)
        return sorted(f.read_text() for f in (local / "gab").glob("*.vcf"))

    first = pulled()
    assert len(first) == 4 and any("FN:bob" in t for t in first), first
    c.ok("createuser", "-c", "1", "-u", "zed", "-d", "Zed Zebra", "-g", "Zed", "-s", "Zebra",
         "-p", "zed_pw", "-e", "zed@example.com")
    assert any("FN:Zed Zebra" in t for t in pulled())
    c.ok("changeuser", "-c", "1", "-u", "zed", "--displayname", "Zoe Quagga")
    now = pulled()
    assert any("FN:Zoe Quagga" in t for t in now) and not any("Zed Zebra" in t for t in now)
    c.ok("deleteuser", "-c", "1", "-u", "zed")
    assert pulled() == first
