# SPDX-License-Identifier: MIT
# Contacts (/api/v1/contacts) end to end on a provisioned SQLite tandemd: CRUD in the JSON form
# and as vCard (byte-equal), search, changes since a revision, import and export of a
# multi-card .vcf through the folder paths the calendar shares, permissions of a shared
# address book, bad input answered 4xx with nothing stored, and a user without the contacts
# module refused with 403.
import pytest

from provisioning import ApiClient, Cluster, sqlite_rows

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]
VIEWER_BITS = 1 | (2 << 7)          # see the folder, read all objects
OWNER_BITS = 403710016
ACCESS = "\n[access nocontacts]\nmodules = files, calendar, tasks, webui\n"
VCF = {"Content-Type": "text/vcard"}

ADA4 = ("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:ada\r\nFN:Ada Lovelace\r\n"
        "N:Lovelace;Ada;;;\r\nEMAIL;TYPE=work:ada@engines.example\r\n"
        "TEL;VALUE=uri:tel:+44-20-7946-0000\r\nORG:Analytical Engines\r\n"
        "BDAY:18151210\r\nEND:VCARD\r\n")
# 3.0 with LF line ends, folding and quoted-printable, as older clients write it
MUELLER3 = ("BEGIN:VCARD\nVERSION:3.0\nUID:mueller-3\nFN:Hans\n  M\u00fcller\n"
            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Hans;;;\n"
            "TEL;WORK;VOICE:+49 30 1234\nitem1.EMAIL;type=INTERNET:hans@example.de\n"
            "ORG:Werk GmbH\nEND:VCARD\n")


class User:
    def __init__(self, c, login):
        self.api = ApiClient(c.nodes[0].port)
        status, body, _ = self.api.login(login, login + "_pw")
        assert status == 200, body
        self.uid = body["user_id"]
        status, body, _ = self.api.request("GET", "/api/v1/folders?parent=1")
        assert status == 200, body
        mine = [f["id"] for f in body["folders"] if f.get("default") and
                f.get("module") == "contacts" and f.get("owner") == self.uid]
        assert len(mine) == 1, body
        self.book = mine[0]

    def call(self, method, path, body=None, expect=200, headers=None, raw=None):
        status, data, resp = self.api.request(method, path, body, headers=headers, raw=raw)
        assert status == expect, (method, path, status, data)
        return data, resp

    def error(self, method, path, expect, code, body=None, raw=None, headers=None, words=()):
        data, _ = self.call(method, path, body, expect=expect, raw=raw, headers=headers)
        assert data["error"]["code"] == code, data
        for word in words:
            assert word in data["error"]["message"], data
        return data


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("contacts"))
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=ACCESS)
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login in ("alice", "bob", "carol", "dave"):
        c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
             "-p", f"{login}_pw", "-e", f"{login}@example.com",
             *(["--access-combination-name", "nocontacts"] if login == "dave" else []))

    class W:
        pass
    w = W()
    w.cluster = c
    w.udb = f"{workdir}/u/db1_1.sqlite"
    for login in ("alice", "bob", "carol"):
        setattr(w, login, User(c, login))
    w.dave = ApiClient(c.nodes[0].port)
    assert w.dave.login("dave", "dave_pw")[0] == 200
    yield w
    c.stop()


def count_cards(w):
    return sqlite_rows(w.udb, "SELECT COUNT(*) FROM contact_object")[0][0]


def test_json_crud_and_vcard_round_trip(w):
    a = w.alice
    # the JSON form: a 4.0 card is written for it
    made, resp = a.call("POST", f"/api/v1/contacts?folder={a.book}",
                        {"fn": "Grace Hopper", "family": "Hopper", "given": "Grace",
                         "emails": ["grace@navy.example"], "phones": ["+1 555 0100"],
                         "org": "Navy", "birthday": "1906-12-09"}, expect=201)
    assert made["fn"] == "Grace Hopper" and made["version"] == "4.0"
    assert made["emails"] == ["grace@navy.example"] and made["phones"] == ["+1 555 0100"]
    assert made["n"] == "Hopper;Grace" and made["org"] == "Navy"
    assert resp.headers["ETag"] == f'"{made["etag"]}"'
    assert made["uid"].startswith("urn:uuid:")
    vcf, resp = a.call("GET", f"/api/v1/contacts/{made['id']}?format=vcf")
    assert resp.headers["Content-Type"].startswith("text/vcard")
    # a vCard 4.0 and a 3.0 text, stored byte for byte
    ada, _ = a.call("POST", f"/api/v1/contacts?folder={a.book}", raw=ADA4.encode(),
                    headers=VCF, expect=201)
    assert ada["name"] == f"{ada['id']}.vcf" and ada["phones"] == ["+44-20-7946-0000"]
    status, body, _ = a.api.request("GET", f"/api/v1/contacts/{ada['id']}?format=vcf")
    assert status == 200 and body == ADA4.encode(), body
    hans, _ = a.call("POST", f"/api/v1/contacts?folder={a.book}", raw=MUELLER3.encode(),
                     headers=VCF, expect=201)
    assert hans["fn"] == "Hans M\u00fcller" and hans["n"] == "M\u00fcller;Hans"
    assert hans["version"] == "3.0" and hans["emails"] == ["hans@example.de"]
    # replace with If-Match; a stale ETag is 412 and changes nothing
    a.error("PUT", f"/api/v1/contacts/{made['id']}", 412, "CON-0412",
            {"fn": "Amazing Grace"}, headers={"If-Match": '"stale"'})
    upd, _ = a.call("PUT", f"/api/v1/contacts/{made['id']}", {"fn": "Amazing Grace"},
                    headers={"If-Match": f'"{made["etag"]}"'})
    assert upd["fn"] == "Amazing Grace" and upd["uid"] == made["uid"]
    assert upd["revision"] > made["revision"] and upd["etag"] != made["etag"]
    # delete leaves a tombstone that changes since a revision report
    a.call("DELETE", f"/api/v1/contacts/{made['id']}", expect=204)
    a.error("GET", f"/api/v1/contacts/{made['id']}", 404, "CON-0404")
    changes, _ = a.call("GET", f"/api/v1/contacts?folder={a.book}&since={upd['revision']}")
    assert [d["id"] for d in changes["deleted"]] == [made["id"]]
    assert changes["changed"] == []


def test_search(w):
    a = w.alice
    book, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Search", "module": "contacts"}, expect=201)
    for fn, email, org, tel in (("Linus Torvalds", "linus@kernel.example", "Linux", "+1 503"),
                                ("Margaret Hamilton", "mh@apollo.example", "NASA", "+1 617"),
                                ("Dennis Ritchie", "dmr@bell.example", "Bell Labs", "+1 908")):
        a.call("POST", f"/api/v1/contacts?folder={book['id']}",
               {"fn": fn, "emails": [email], "org": org, "phones": [tel]}, expect=201)

    def found(q):
        data, _ = a.call("GET", f"/api/v1/contacts?folder={book['id']}&q={q}")
        return [c["fn"] for c in data["contacts"]]
    assert found("HAMIL") == ["Margaret Hamilton"]          # FN, any case
    assert found("kernel.EXAMPLE") == ["Linus Torvalds"]    # e-mail
    assert found("bell%20labs") == ["Dennis Ritchie"]       # organisation
    assert found("617") == ["Margaret Hamilton"]            # phone
    assert found("%25") == [] and found("_") == []          # LIKE's wildcards are text
    assert found("i") == ["Dennis Ritchie", "Linus Torvalds", "Margaret Hamilton"]
    data, _ = a.call("GET", f"/api/v1/contacts?folder={book['id']}&limit=2")
    assert len(data["contacts"]) == 2 and data["more"] is True
    a.error("GET", f"/api/v1/contacts?folder={book['id']}&q={'x' * 201}", 400, "CON-0400",
            words=("longer than 200",))


def test_import_and_export_many_cards(w):
    a = w.alice
    book, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Imported", "module": "contacts"}, expect=201)
    cards = "".join(f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:imp-{i}\r\nFN:Person {i}\r\n"
                    f"EMAIL:p{i}@example.com\r\nEND:VCARD\r\n" for i in range(25))
    bad = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:imp-bad\r\nEND:VCARD\r\n"  # no FN
    dup = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:imp-3\r\nFN:Again\r\nEND:VCARD\r\n"
    data, _ = a.call("POST", f"/api/v1/folders/{book['id']}/import",
                     raw=(cards + MUELLER3 + bad + dup).encode(), headers=VCF)
    assert data["created"] == 26 and data["failed"] == 2, data
    errors = {r["card"]: r["error"]["code"] for r in data["results"] if "error" in r}
    assert errors == {27: "CON-0400", 28: "CON-0409"}, data
    listed, _ = a.call("GET", f"/api/v1/contacts?folder={book['id']}")
    assert len(listed["contacts"]) == 26
    # export gives every card back, byte for byte, as one .vcf
    status, body, resp = a.api.request("GET", f"/api/v1/folders/{book['id']}/export")
    assert status == 200 and resp.headers["Content-Type"].startswith("text/vcard")
    text = body.decode()
    assert text.count("BEGIN:VCARD") == 26 and MUELLER3 in text
    # a calendar folder still takes .ics on the same path
    a.error("POST", f"/api/v1/folders/{book['id']}/import", 400, "CON-0400",
            raw=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", headers={"Content-Type": "text/calendar"},
            words=("BEGIN:VCARD",))


def test_shared_address_book_permissions(w):
    a, b, c = w.alice, w.bob, w.carol
    team, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Team", "module": "contacts"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{team['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False, "bits": VIEWER_BITS}]})
    card, _ = a.call("POST", f"/api/v1/contacts?folder={team['id']}",
                     {"fn": "Team Member", "emails": ["tm@example.com"]}, expect=201)
    got, _ = b.call("GET", f"/api/v1/contacts/{card['id']}")
    assert got["fn"] == "Team Member"
    data, _ = b.call("GET", f"/api/v1/contacts?folder={team['id']}&q=member")
    assert [x["id"] for x in data["contacts"]] == [card["id"]]
    before = count_cards(w)
    b.error("POST", f"/api/v1/contacts?folder={team['id']}", 403, "CON-0403", {"fn": "Mine"})
    b.error("PUT", f"/api/v1/contacts/{card['id']}", 403, "CON-0403", {"fn": "Changed"})
    b.error("DELETE", f"/api/v1/contacts/{card['id']}", 403, "CON-0403")
    assert count_cards(w) == before
    c.error("GET", f"/api/v1/contacts/{card['id']}", 404, "CON-0404")
    c.error("GET", f"/api/v1/contacts?folder={team['id']}", 404, "CON-0404")
    c.error("GET", f"/api/v1/folders/{team['id']}/export", 404, "CAL-0404")


def test_bad_input_stores_nothing(w):
    a = w.alice
    before = count_cards(w)
    url = f"/api/v1/contacts?folder={a.book}"
    a.error("POST", url, 400, "CON-0400", raw=b"hello", headers=VCF,
            words=("invalid vCard", "BEGIN:VCARD"))
    a.error("POST", url, 400, "CON-0400", headers=VCF,
            raw=b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nEND:VCARD\r\n", words=("FN",))
    a.error("POST", url, 400, "CON-0400", headers=VCF,
            raw=b"BEGIN:VCARD\r\nVERSION:2.1\r\nUID:x\r\nFN:x\r\nEND:VCARD\r\n",
            words=("2.1",))
    a.error("POST", url, 400, "CON-0400", {"emails": ["x@example.com"]}, words=("fn",))
    a.error("POST", url, 400, "CON-0400", {"fn": "x", "colour": "red"}, words=("colour",))
    # a UID already in the folder
    a.error("POST", url, 409, "CON-0409", raw=ADA4.encode(), headers=VCF,
            words=("urn:uuid:ada", "already used"))
    # an oversize photo: named, nothing stored
    photo = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big\r\nPHOTO;ENCODING=b;TYPE=JPEG:" +
             "A" * (300 * 1024) + "\r\nEND:VCARD\r\n")
    a.error("POST", url, 413, "CON-0413", raw=photo.encode(), headers=VCF,
            words=("PHOTO of", "limit"))
    assert count_cards(w) == before
    a.error("GET", "/api/v1/contacts", 400, "CON-0400", words=("folder",))
    a.error("GET", "/api/v1/contacts?folder=1", 400, "CON-0400", words=("not contacts",))


def test_a_user_without_the_contacts_module_is_refused(w):
    d = w.dave
    for method, path in (("GET", "/api/v1/contacts?folder=1"),
                         ("POST", "/api/v1/contacts?folder=1"),
                         ("GET", "/api/v1/contacts/5")):
        status, body, _ = d.request(method, path, {"fn": "x"} if method == "POST" else None)
        assert status == 403 and body["error"]["code"] == "ACC-0403", (path, body)
        assert 'module "contacts"' in body["error"]["message"], body
    # the folder listing leaves their address book out; the folder paths refuse it too
    status, body, _ = d.request("GET", "/api/v1/folders?parent=1")
    assert status == 200 and [f for f in body["folders"] if f.get("module") == "contacts"] == []
    book = sqlite_rows(w.udb, "SELECT f.id FROM folder f JOIN users u ON u.cid=f.cid AND "
                              "u.id=f.owner WHERE u.login='dave' AND f.default_for='contacts'")
    status, body, _ = d.request("GET", f"/api/v1/folders/{book[0][0]}/export")
    assert status == 403 and body["error"]["code"] == "ACC-0403", body


def test_deleting_an_address_book_deletes_its_cards(w):
    a, b = w.alice, w.bob
    book, _ = a.call("POST", "/api/v1/folders",
                     {"parent": 1, "title": "Old", "module": "contacts"}, expect=201)
    a.call("PATCH", f"/api/v1/folders/{book['id']}",
           {"permissions": [{"entity": a.uid, "group": False, "bits": OWNER_BITS},
                            {"entity": b.uid, "group": False,
                             "bits": 1 | (2 << 7) | (1 << 14) | (1 << 21) | (1 << 28)}]})
    card, _ = a.call("POST", f"/api/v1/contacts?folder={book['id']}", {"fn": "Old friend"},
                     expect=201)
    # bob is folder admin but may delete only his own cards: the folder stays, all of it
    status, body, _ = b.api.request("DELETE", f"/api/v1/folders/{book['id']}")
    assert status == 403, body
    a.call("GET", f"/api/v1/contacts/{card['id']}")
    before = count_cards(w)
    status, body, _ = a.api.request("DELETE", f"/api/v1/folders/{book['id']}")
    assert status in (200, 204), body
    assert count_cards(w) == before - 1
    assert sqlite_rows(w.udb, "SELECT COUNT(*) FROM cal_folder_revision WHERE folder=?",
                       (book["id"],))[0][0] == 0
    a.error("GET", f"/api/v1/contacts/{card['id']}", 404, "CON-0404")
    # the context's object count gave the card back (files, folders, events and cards)
    counted = sqlite_rows(w.udb, "SELECT objects FROM filestore_usage WHERE cid=1")[0][0]
    actual = sum(sqlite_rows(w.udb, q)[0][0] for q in (
        "SELECT COUNT(*) FROM infostore_version WHERE cid=1",
        "SELECT COUNT(*) FROM folder WHERE cid=1 AND is_system=0 AND default_for IS NULL",
        "SELECT COUNT(*) FROM cal_object WHERE cid=1",
        "SELECT COUNT(*) FROM contact_object WHERE cid=1"))
    assert counted == actual
