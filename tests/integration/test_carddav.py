# SPDX-License-Identifier: MIT
# CardDAV end to end on a provisioned SQLite tandemd, with raw requests: discovery (principal →
# addressbook-home-set → own and shared address books with their properties), cards with
# strong ETags and If-Match / If-None-Match, the preconditions (valid-address-data,
# no-uid-conflict, supported-address-data, max-resource-size) with nothing stored,
# addressbook-query with every filter form, addressbook-multiget, sync-collection, extended
# MKCOL, the permission matrix of a shared book, module access, and vdirsyncer syncing an
# address book both ways with khard reading what came down.
import re
import shutil

import pytest

from provisioning import Cluster, sqlite_rows
from test_caldav import raw, run, vdirsyncer_config
from test_contacts import ADA4, MUELLER3, OWNER_BITS, VIEWER_BITS, User

CARD = "urn:ietf:params:xml:ns:carddav"
ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]
ACCESS = ("\n[access carddav-only]\nmodules = carddav\n"
          "[access nocarddav]\nmodules = files, webdav, caldav, calendar, contacts\n")
NS = f"xmlns:D='DAV:' xmlns:C='{CARD}'"


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("carddav"))
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=ACCESS)
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login, access in (("alice", None), ("bob", None), ("carol", None),
                          ("dave", "carddav-only"), ("erin", "nocarddav")):
        c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
             "-p", f"{login}_pw", "-e", f"{login}@example.com",
             *(["--access-combination-name", access] if access else []))

    class W:
        pass
    w = W()
    w.cluster = c
    w.udb = f"{workdir}/u/db1_1.sqlite"
    for login in ("alice", "bob", "carol", "erin"):
        setattr(w, login, User(c, login))
    yield w
    c.stop()


def home(login):
    return f"/dav/addressbooks/{login}/"


def book(login, folder):
    return f"{home(login)}{folder}/"


def card(uid, fn, extra="", version="4.0"):
    return (f"BEGIN:VCARD\r\nVERSION:{version}\r\nUID:{uid}\r\nFN:{fn}\r\n"
            + ("N:;;;;\r\n" if version == "3.0" else "") + extra + "END:VCARD\r\n")


def put(w, login, path, text, headers=None):
    return raw(w, login, "PUT", path, text, {"Content-Type": "text/vcard; charset=utf-8",
                                             **(headers or {})})


def count_cards(w):
    return sqlite_rows(w.udb, "SELECT COUNT(*) FROM contact_object")[0][0]


def hrefs(body):
    return re.findall(r"<D:href>([^<]*)</D:href>", body)


def test_discovery_and_collection_properties(w):
    a = w.alice
    st, _, body = raw(w, "alice", "PROPFIND", "/dav/principals/users/alice/",
                      f"<D:propfind {NS}><D:prop><C:addressbook-home-set/>"
                      "</D:prop></D:propfind>", {"Depth": "0"})
    assert st == 207 and "<D:href>/dav/addressbooks/alice/</D:href>" in body, body
    st, _, body = raw(w, "alice", "PROPFIND", home("alice"),
                      f"<D:propfind {NS}><D:prop><D:resourcetype/><D:displayname/>"
                      "</D:prop></D:propfind>", {"Depth": "1"})
    assert st == 207 and book("alice", a.book) in hrefs(body), body
    assert "<C:addressbook " in body and "Contacts" in body, body
    st, _, body = raw(w, "alice", "PROPFIND", book("alice", a.book),
                      f"<D:propfind {NS} xmlns:CS='http://calendarserver.org/ns/'><D:prop>"
                      "<D:resourcetype/><CS:getctag/><D:sync-token/><C:supported-address-data/>"
                      "<C:max-resource-size/><D:current-user-privilege-set/><D:displayname/>"
                      "<D:supported-report-set/><D:nonsense/></D:prop></D:propfind>",
                      {"Depth": "0"})
    assert st == 207, body
    for part in ("<C:addressbook ", "getctag", "urn:tandem:sync:", 'version="3.0"',
                 'version="4.0"', ">1048576<", "<D:write-content/>", "<D:bind/>",
                 ">Contacts<", "addressbook-query", "addressbook-multiget", "sync-collection",
                 "HTTP/1.1 404"):
        assert part in body, (part, body)
    st, resp, _ = raw(w, "alice", "OPTIONS", book("alice", a.book))
    assert st == 200 and "addressbook" in resp.getheader("DAV")
    assert "extended-mkcol" in resp.getheader("DAV")
    assert raw(w, "alice", "GET", "/.well-known/carddav")[0] == 301


def test_cards_with_etags_and_conditions(w):
    a = w.alice
    path = book("alice", a.book) + "ada.vcf"
    st, resp, _ = put(w, "alice", path, ADA4, {"If-None-Match": "*"})
    assert st == 201, st
    etag = resp.getheader("ETag")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
    st, resp, body = raw(w, "alice", "GET", path)
    assert st == 200 and body == ADA4 and resp.getheader("ETag") == etag
    assert resp.getheader("Content-Type").startswith("text/vcard")
    # If-None-Match: * never overwrites
    st, _, body = put(w, "alice", path, card("urn:uuid:ada", "Someone else"),
                      {"If-None-Match": "*"})
    assert st == 412, body
    assert raw(w, "alice", "GET", path)[2] == ADA4
    assert put(w, "alice", path, ADA4.replace("Ada L", "Ada K"), {"If-Match": '"0"'})[0] == 412
    st, resp, _ = put(w, "alice", path, ADA4.replace("Ada L", "Ada K"), {"If-Match": etag})
    assert st == 204 and resp.getheader("ETag") != etag
    assert raw(w, "alice", "GET", path, headers={"If-None-Match": resp.getheader("ETag")})[0] \
        == 304
    # as stored, or in the version the client asks for (same ETag: If-Match keeps working)
    st, resp, body = raw(w, "alice", "GET", path, headers={"Accept": "text/vcard;version=3.0"})
    assert st == 200 and "VERSION:3.0\r\n" in body and "FN:Ada Kovelace" in body, body
    assert "version=3.0" in resp.getheader("Content-Type") and "N:Lovelace;Ada;;;" in body
    assert resp.getheader("Vary") == "Accept"
    st, resp, body = raw(w, "alice", "GET", path,
                         headers={"Accept": "text/vcard;version=4.0, text/plain;q=0.5"})
    assert st == 200 and body == ADA4.replace("Ada L", "Ada K")
    st, _, body = raw(w, "alice", "GET", path, headers={"Accept": "application/json"})
    assert st == 406 and "application/json" in body, body
    assert raw(w, "alice", "DELETE", path, headers={"If-Match": '"0"'})[0] == 412
    assert raw(w, "alice", "DELETE", path)[0] == 204
    assert raw(w, "alice", "GET", path)[0] == 404
    assert raw(w, "alice", "DELETE", path)[0] == 404


def test_preconditions_store_nothing(w):
    a = w.alice
    base = book("alice", a.book)
    assert put(w, "alice", base + "keep.vcf", card("keep-1", "Keep"))[0] == 201
    before = count_cards(w)
    photo = "PHOTO:data:image/jpeg;base64," + "A" * (300 * 1024) + "\r\n"
    cases = [
        ("bad.vcf", "BEGIN:VCARD\r\nFN:No version\r\nEND:VCARD\r\n", {}, 400,
         "valid-address-data", "VERSION"),
        ("bad2.vcf", "this is not a card", {}, 400, "valid-address-data", ""),
        ("dup.vcf", card("keep-1", "Same UID"), {}, 409, "no-uid-conflict", "keep-1"),
        ("photo.vcf", card("photo-1", "Big photo", photo), {}, 413, "max-resource-size",
         "PHOTO"),
        ("huge.vcf", card("huge-1", "Huge", "NOTE:" + "x" * (1100 * 1024) + "\r\n"), {}, 413,
         "max-resource-size", ""),
        ("text.vcf", card("text-1", "Plain"), {"Content-Type": "text/plain"}, 415,
         "supported-address-data", "text/vcard"),
    ]
    for name, text, headers, status, cond, word in cases:
        st, _, body = put(w, "alice", base + name, text, headers)
        assert st == status and f"<C:{cond}" in body and word in body, (name, st, body[:400])
        assert raw(w, "alice", "GET", base + name)[0] == 404, name
    assert count_cards(w) == before
    st, _, body = put(w, "alice", base + "dup.vcf", card("keep-1", "Same UID"))
    assert f"<C:no-uid-conflict><D:href>{base}keep.vcf</D:href></C:no-uid-conflict>" in body, \
        body.split("<D:error")[1]


def query(w, login, path, filt, limit="", prop="<D:getetag/><C:address-data/>"):
    return raw(w, login, "REPORT", path,
               f"<C:addressbook-query {NS}><D:prop>{prop}</D:prop>{filt}{limit}"
               "</C:addressbook-query>", {"Depth": "1"})


@pytest.fixture(scope="module")
def qbook(w):
    """bob's book with four cards for the queries."""
    b = w.bob
    base = book("bob", b.book)
    cards = {
        "ada": ADA4,
        "mueller": MUELLER3,
        "grace": card("grace", "Grace Hopper", "EMAIL;TYPE=home:grace@navy.example\r\n"
                      "NICKNAME:Amazing Grace\r\n"),
        "zoe": card("zoe", "ZOË Ωmega", "EMAIL;TYPE=work:zoe@example.org\r\n"
                    "TEL;TYPE=cell:+1 555 0100\r\n"),
    }
    for name, text in cards.items():
        st, _, body = put(w, "bob", f"{base}{name}.vcf", text)
        assert st == 201, (name, body)
    return base


def names(body):
    assert "<D:multistatus" in body, body
    return sorted(h.rsplit("/", 1)[1].removesuffix(".vcf") for h in hrefs(body)
                  if h.endswith(".vcf"))


def pf(name, inner="", test=""):
    return f"<C:prop-filter name='{name}'{test}>{inner}</C:prop-filter>"


def tm(text, match="contains", coll="", neg=""):
    c = f" collation='{coll}'" if coll else ""
    n = f" negate-condition='{neg}'" if neg else ""
    return f"<C:text-match match-type='{match}'{c}{n}>{text}</C:text-match>"


def test_addressbook_query_every_filter(w, qbook):
    def q(filt, limit=""):
        st, _, body = query(w, "bob", qbook, filt, limit)
        assert st == 207, body
        return names(body)

    F = lambda inner, test="": f"<C:filter{test}>{inner}</C:filter>"  # noqa: E731
    assert q(F("")) == ["ada", "grace", "mueller", "zoe"]
    assert q(F(pf("FN", tm("hopper")))) == ["grace"]
    assert q(F(pf("FN", tm("Grace", "equals")))) == []
    assert q(F(pf("FN", tm("grace hopper", "equals")))) == ["grace"]
    assert q(F(pf("FN", tm("ada", "starts-with")))) == ["ada"]
    assert q(F(pf("FN", tm("lace", "ends-with")))) == ["ada"]
    assert q(F(pf("EMAIL", tm("navy", neg="yes")))) == ["ada", "mueller", "zoe"]
    assert q(F(pf("EMAIL", tm("example", neg="yes")))) == []
    # i;unicode-casemap folds beyond ASCII, i;ascii-casemap does not; i;octet is exact
    assert q(F(pf("FN", tm("zoë ωMEGA", coll="i;unicode-casemap")))) == ["zoe"]
    assert q(F(pf("FN", tm("zoë", coll="i;ascii-casemap")))) == []
    assert q(F(pf("FN", tm("ZOË", coll="i;ascii-casemap")))) == ["zoe"]
    assert q(F(pf("FN", tm("müller", coll="i;unicode-casemap")))) == ["mueller"]
    assert q(F(pf("FN", tm("grace", coll="i;octet")))) == []
    # param-filter: a 4.0 TYPE=, a 3.0 bare TEL;WORK, is-not-defined
    assert q(F(pf("EMAIL", "<C:param-filter name='TYPE'>" + tm("work", "equals")
                  + "</C:param-filter>"))) == ["ada", "zoe"]
    assert q(F(pf("TEL", "<C:param-filter name='TYPE'>" + tm("work", "equals")
                  + "</C:param-filter>"))) == ["mueller"]
    assert q(F(pf("TEL", "<C:param-filter name='TYPE'><C:is-not-defined/>"
                  "</C:param-filter>"))) == ["ada"]
    assert q(F(pf("EMAIL", "<C:param-filter name='TYPE'>" + tm("internet", neg="yes")
                  + "</C:param-filter>"))) == ["ada", "grace", "zoe"]
    assert q(F(pf("NICKNAME", "<C:is-not-defined/>"))) == ["ada", "mueller", "zoe"]
    assert q(F(pf("ORG"))) == ["ada", "mueller"]
    # anyof / allof on the filter and on a prop-filter
    assert q(F(pf("FN", tm("ada")) + pf("FN", tm("grace")))) == ["ada", "grace"]
    assert q(F(pf("FN", tm("ada")) + pf("ORG", tm("engines")), " test='allof'")) == ["ada"]
    assert q(F(pf("FN", tm("ada")) + pf("ORG", tm("werk")), " test='allof'")) == []
    assert q(F(pf("FN", tm("hans") + tm("müller"), " test='allof'"))) == ["mueller"]
    assert q(F(pf("FN", tm("hans") + tm("grace"), " test='allof'"))) == []
    assert q(F(pf("FN", tm("hans") + tm("grace"), " test='anyof'"))) == ["grace", "mueller"]
    # limit: nresults answers that many and a 507 for the collection
    st, _, body = query(w, "bob", qbook, F(""), "<C:limit><C:nresults>2</C:nresults></C:limit>")
    assert st == 207 and len(names(body)) == 2 and "507" in body, body
    assert "number-of-matches-within-limits" in body
    # only the properties address-data names
    st, _, body = query(w, "bob", qbook, F(pf("FN", tm("ada"))),
                        prop="<C:address-data><C:prop name='EMAIL'/></C:address-data>")
    assert st == 207 and "ada@engines.example" in body and "Lovelace" not in body, body
    assert "UID:urn:uuid:ada" in body


def test_query_refusals(w, qbook):
    F = "<C:filter>{}</C:filter>"
    cases = [
        (F.format(pf("FN", tm("x", coll="i;klingon"))), 403, "supported-collation"),
        (F.format(pf("FN", tm("x", match="sounds-like"))), 400, "valid-filter"),
        (F.format(pf("FN", "", " test='some'")), 400, "valid-filter"),
        (F.format(pf("FN", "<C:time-range/>")), 403, "supported-filter"),
        ("", 400, "valid-filter"),
    ]
    for filt, status, cond in cases:
        st, _, body = query(w, "bob", qbook, filt)
        assert st == status and f"<C:{cond}/>" in body, (filt, st, body)
    st, _, body = query(w, "bob", qbook, F.format(""),
                        prop="<C:address-data content-type='text/vcard' version='5.0'/>")
    assert st == 403 and "<C:supported-address-data/>" in body, body
    # every card in the version asked for: 3.0 ones as stored, 4.0 ones converted
    st, _, body = query(w, "bob", qbook, F.format(""),
                        prop="<C:address-data content-type='text/vcard' version='3.0'/>")
    assert st == 207 and "VERSION:4.0" not in body and body.count("VERSION:3.0") == 4, body
    assert "item1.EMAIL;type=INTERNET:hans@example.de" in body  # MUELLER3 as stored
    st, _, body = query(w, "bob", qbook, F.format(pf("FN", tm("müller"))),
                        prop="<C:address-data content-type='text/vcard' version='4.0'/>")
    assert st == 207 and "VERSION:4.0" in body and "N:Müller;Hans;;;" in body, body
    st, _, body = raw(w, "bob", "REPORT", qbook, f"<D:nonsense {NS}/>")
    assert st == 403 and "<D:supported-report/>" in body


def test_multiget_answers_404_per_missing_href(w, qbook):
    st, _, body = raw(w, "bob", "REPORT", qbook,
                      f"<C:addressbook-multiget {NS}><D:prop><D:getetag/><C:address-data/>"
                      f"</D:prop><D:href>{qbook}ada.vcf</D:href><D:href>{qbook}nope.vcf</D:href>"
                      f"<D:href>/dav/addressbooks/bob/999999/x.vcf</D:href>"
                      # below the book but no card of it, the book itself; a trailing slash
                      # still names a card
                      f"<D:href>{qbook}sub/ada.vcf</D:href><D:href>{qbook}</D:href>"
                      f"<D:href>{qbook}zoe.vcf/</D:href>"
                      "</C:addressbook-multiget>", {"Depth": "1"})
    assert st == 207 and "FN:Ada Lovelace" in body, body
    responses = re.findall(r"<D:response>(.*?)</D:response>", body, re.S)
    assert len(responses) == 6
    assert sum("404" in r for r in responses) == 4, body
    assert "UID:zoe" in body, body


def sync(w, login, path, token, data=False):
    prop = "<D:getetag/>" + ("<C:address-data/>" if data else "")
    return raw(w, login, "REPORT", path,
               f"<D:sync-collection {NS}><D:sync-token>{token}</D:sync-token>"
               f"<D:sync-level>1</D:sync-level><D:prop>{prop}</D:prop></D:sync-collection>")


def test_sync_collection(w):
    c = w.carol
    base = book("carol", c.book)
    for i in range(3):
        assert put(w, "carol", f"{base}s{i}.vcf", card(f"s{i}", f"Sync {i}"))[0] == 201
    st, _, body = sync(w, "carol", base, "")
    assert st == 207 and names(body) == ["s0", "s1", "s2"], body
    token = re.search(r"<D:sync-token>([^<]+)</D:sync-token>", body).group(1)
    assert put(w, "carol", f"{base}s1.vcf", card("s1", "Sync one"))[0] == 204
    assert raw(w, "carol", "DELETE", f"{base}s2.vcf")[0] == 204
    st, _, body = sync(w, "carol", base, token, data=True)
    assert st == 207 and "FN:Sync one" in body and "s0.vcf" not in body, body
    assert re.search(r"s2\.vcf</D:href>\s*<D:status>HTTP/1.1 404", body), body
    for bad in ("urn:tandem:sync:1:0", token + "9999", "http://example.com/token", "x"):
        st, _, body = sync(w, "carol", base, bad)
        assert st == 403 and "<D:valid-sync-token/>" in body, (bad, st, body)


def test_shared_book_permission_matrix(w):
    a, b = w.alice, w.bob
    team, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Team Cards", "module": "contacts"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{team['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False, "bits": VIEWER_BITS}]})
    alice_path = book("alice", team["id"])
    assert put(w, "alice", alice_path + "t.vcf", card("team-1", "Team Member"))[0] == 201
    # bob finds it in his home, read-only
    st, _, body = raw(w, "bob", "PROPFIND", home("bob"),
                      f"<D:propfind {NS}><D:prop><D:displayname/><D:current-user-privilege-set/>"
                      "</D:prop></D:propfind>", {"Depth": "1"})
    assert st == 207 and book("bob", team["id"]) in hrefs(body), body
    shared = body.split(book("bob", team["id"]))[1].split("</D:response>")[0]
    assert "<D:read/>" in shared and "write" not in shared and "bind" not in shared, shared
    path = book("bob", team["id"])
    st, _, body = raw(w, "bob", "GET", path + "t.vcf")
    assert st == 200 and "Team Member" in body
    before = count_cards(w)
    st, _, body = put(w, "bob", path + "new.vcf", card("bob-new", "Bob New"))
    assert st == 403 and "need-privileges" in body, body
    assert put(w, "bob", path + "t.vcf", card("team-1", "Changed"))[0] == 403
    assert raw(w, "bob", "DELETE", path + "t.vcf")[0] == 403
    assert count_cards(w) == before
    assert raw(w, "alice", "GET", alice_path + "t.vcf")[2].count("Team Member") == 1
    # carol sees nothing of it anywhere
    st, _, body = raw(w, "carol", "PROPFIND", home("carol"), None, {"Depth": "1"})
    assert st == 207 and f"/{team['id']}/" not in body and "Team Cards" not in body
    for method in ("GET", "PUT", "DELETE", "PROPFIND"):
        st, _, body = raw(w, "carol", method, book("carol", team["id"]) + "t.vcf",
                          card("team-1", "X") if method == "PUT" else None,
                          {"Content-Type": "text/vcard"})
        assert st == 404 and "Team Member" not in body, (method, st, body)
    st, _, body = query(w, "carol", book("carol", team["id"]), "<C:filter/>")
    assert st == 404 and "Team Member" not in body
    st, _, body = sync(w, "carol", book("carol", team["id"]), "")
    assert st == 404 and "Team Member" not in body
    # a book made later is not bob's either
    later, _ = a.call("POST", "/api/v1/folders",
                      {"parent": 1, "title": "Private later", "module": "contacts"}, expect=201)
    put(w, "alice", book("alice", later["id"]) + "s.vcf", card("secret-1", "Secret Person"))
    st, _, body = raw(w, "bob", "PROPFIND", home("bob"), None, {"Depth": "1"})
    assert st == 207 and "Private later" not in body and f"/{later['id']}/" not in body
    st, _, body = raw(w, "bob", "REPORT", book("bob", later["id"]),
                      f"<C:addressbook-multiget {NS}><D:prop><C:address-data/></D:prop>"
                      f"<D:href>{book('bob', later['id'])}s.vcf</D:href>"
                      "</C:addressbook-multiget>")
    assert st == 404 and "Secret" not in body, body
    # another user's home is nobody's
    assert raw(w, "bob", "PROPFIND", home("alice"), None, {"Depth": "0"})[0] == 404


def test_json_api_and_carddav_see_each_other(w):
    c = w.carol
    made, _ = c.call("POST", f"/api/v1/contacts?folder={c.book}",
                     {"fn": "From Json", "emails": ["json@example.com"]}, expect=201)
    st, _, body = query(w, "carol", book("carol", c.book),
                        "<C:filter>" + pf("EMAIL", tm("json@")) + "</C:filter>")
    assert st == 207 and "FN:From Json" in body, body
    assert put(w, "carol", book("carol", c.book) + "dav.vcf", card("dav-1", "From Dav"))[0] \
        == 201
    data, _ = c.call("GET", f"/api/v1/contacts?folder={c.book}&q=from+dav")
    assert [x["fn"] for x in data["contacts"]] == ["From Dav"]
    assert data["contacts"][0]["name"] == "dav.vcf"


def test_extended_mkcol(w):
    a = w.alice
    body = (f"<D:mkcol {NS}><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/>"
            "</D:resourcetype><D:displayname>Made by MKCOL</D:displayname></D:prop></D:set>"
            "</D:mkcol>")
    path = home("alice") + "a1b2-c3/"
    st, _, text = raw(w, "alice", "MKCOL", path, body)
    assert st == 201, text
    st, _, text = raw(w, "alice", "MKCOL", path, body)
    assert st == 405, text
    # it lives where the client asked, and is an address book of the JSON API too
    assert put(w, "alice", path + "m.vcf", card("mk-1", "In Mkcol Book"))[0] == 201
    st, _, text = raw(w, "alice", "PROPFIND", home("alice"), None, {"Depth": "1"})
    assert st == 207 and path in hrefs(text) and "Made by MKCOL" in text, text
    data, _ = a.call("GET", "/api/v1/folders?parent=1")
    made = [f for f in data["folders"] if f["title"] == "Made by MKCOL"]
    assert len(made) == 1 and made[0]["module"] == "contacts"
    data, _ = a.call("GET", f"/api/v1/contacts?folder={made[0]['id']}")
    assert [x["fn"] for x in data["contacts"]] == ["In Mkcol Book"]
    # a calendar resourcetype is not made here; nor a book outside the home
    cal = body.replace("<C:addressbook/>", "<X:calendar xmlns:X='urn:ietf:params:xml:ns:caldav'/>")
    st, _, text = raw(w, "alice", "MKCOL", home("alice") + "cal/", cal)
    assert st == 403 and "valid-resourcetype" in text, text
    assert raw(w, "alice", "MKCOL", home("bob") + "x/", body)[0] == 405


def test_module_access(w):
    # a carddav-only user discovers and uses the books, and is refused files and calendars
    st, _, body = raw(w, "dave", "PROPFIND", "/dav/principals/users/dave/",
                      f"<D:propfind {NS}><D:prop><C:addressbook-home-set/></D:prop></D:propfind>",
                      {"Depth": "0"})
    assert st == 207 and "/dav/addressbooks/dave/" in body, body
    st, _, body = raw(w, "dave", "PROPFIND", home("dave"), None, {"Depth": "1"})
    assert st == 207
    dave_book = [h for h in hrefs(body) if h.startswith(home("dave")) and h != home("dave")][0]
    st, _, body = put(w, "dave", dave_book + "d.vcf", card("dave-1", "Dave Card"))
    assert st == 201, body
    for path in ("/dav/files/home/", "/dav/calendars/dave/"):
        st, _, body = raw(w, "dave", "PROPFIND", path, None, {"Depth": "0"})
        assert st == 403, (path, st)
    # a user without carddav is refused with the module's name
    st, _, body = raw(w, "erin", "PROPFIND", home("erin"), None, {"Depth": "0"})
    assert st == 403 and "ACC-0403" in body and "carddav" in body, body
    st, _, body = put(w, "erin", book("erin", w.erin.book) + "e.vcf", card("erin-1", "E"))
    assert st == 403 and "carddav" in body


def test_vdirsyncer_and_khard_round_trip(w, tmp_path):
    """vdirsyncer syncs alice's address books both ways; khard lists what came down."""
    a = w.alice
    url = f"http://127.0.0.1:{w.cluster.nodes[0].port}{home('alice')}"
    assert put(w, "alice", book("alice", a.book) + "server.vcf",
               card("server-side", "Server Side", "EMAIL:server@example.com\r\n"))[0] == 201
    local = tmp_path / "books"
    cfg, env = vdirsyncer_config(tmp_path, "carddav", url, "alice", local, ".vcf")
    run(["vdirsyncer", "-c", str(cfg), "discover"], env, stdin="y\n" * 10)
    run(["vdirsyncer", "-c", str(cfg), "sync"], env)
    mine = local / str(a.book)
    assert any("Server Side" in f.read_text() for f in mine.glob("*.vcf")), list(mine.iterdir())
    # a card made locally goes up, one deleted locally goes away on the server
    (mine / "local-side.vcf").write_text(card("local-side", "Local Side",
                                              "EMAIL:local@example.com\r\n"))
    run(["vdirsyncer", "-c", str(cfg), "sync"], env)
    data, _ = a.call("GET", f"/api/v1/contacts?folder={a.book}&q=local+side")
    assert [x["fn"] for x in data["contacts"]] == ["Local Side"]
    for f in mine.glob("*.vcf"):
        if "Server Side" in f.read_text():
            f.unlink()
    run(["vdirsyncer", "-c", str(cfg), "sync"], env)
    assert raw(w, "alice", "GET", book("alice", a.book) + "server.vcf")[0] == 404
    if shutil.which("khard") is None:
        pytest.skip("khard is not installed (scripts/deps.sh test installs it)")
    khard = tmp_path / "khard.conf"
    khard.write_text(f"""[addressbooks]
[[alice]]
path = {mine}/

[general]
default_action = list
""")
    out = run(["khard", "-c", str(khard), "list"], env)
    assert "Local Side" in out and "Server Side" not in out, out
