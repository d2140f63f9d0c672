# SPDX-License-Identifier: MIT
# tandemctl importcontacts and importcalendar: a file into a user's default (or given) folder
# through /admin/v1/contexts/{cid}/users/{uid}/import, in batches with progress on stderr, a
# result per object (--json), refusals per object with exit status 1, and bad input named;
# and .vcf import and export of a contacts folder with many cards through the JSON API.
import json

import pytest

from provisioning import ApiClient, Cluster, sqlite_rows

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]


def card(i, uid=None):
    return (f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid or f'card-{i}'}\r\nFN:Person {i}\r\n"
            f"EMAIL:p{i}@example.com\r\nEND:VCARD\r\n")


def event(uid, summary="Meeting"):
    return ("BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260301T000000Z\r\n"
            "DTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nSUMMARY:" + summary +
            "\r\nEND:VEVENT\r\n")


def ics(*components):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + "".join(components) +
            "END:VCALENDAR\r\n")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("importpim"))
    c = Cluster(d, f"sqlite://{d}/configdb.sqlite")
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{d}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{d}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    c.ok("createuser", "-c", "1", "-u", "alice", "-d", "Alice", "-g", "G", "-s", "S",
         "-p", "alice_pw", "-e", "alice@example.com")
    c.dir = d
    c.udb = f"{d}/u/db1_1.sqlite"
    c.alice = ApiClient(c.nodes[0].port)
    assert c.alice.login("alice", "alice_pw")[0] == 200
    yield c
    c.stop()


def write(w, name, text):
    path = f"{w.dir}/{name}"
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def default_folder(w, module):
    return sqlite_rows(w.udb, "SELECT f.id FROM folder f JOIN users u ON u.cid=f.cid AND "
                              "u.id=f.owner WHERE u.login='alice' AND f.default_for=?",
                       (module,))[0][0]


def test_importcontacts_in_batches_with_progress_and_results(w):
    path = write(w, "many.vcf", "".join(card(i) for i in range(1, 1201)))
    r = w.ctl("--json", "importcontacts", "-c", "1", "-u", "alice", "-f", path,
              "--batch", "500")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    book = default_folder(w, "contacts")
    assert out["created"] == 1200 and out["failed"] == 0 and out["folder"] == book
    assert [x["object"] for x in out["results"]] == list(range(1, 1201))
    assert all(x["status"] == 201 and x["id"] > 0 for x in out["results"])
    assert out["results"][600]["uid"] == "card-601"
    progress = [line for line in r.stderr.splitlines() if "cards sent" in line]
    assert [p.split(": ", 2)[-1].split(" ")[0] for p in progress] == \
        ["500/1200", "1000/1200", "1200/1200"], r.stderr
    assert sqlite_rows(w.udb, "SELECT COUNT(*) FROM contact_object WHERE folder=?",
                       (book,)) == [(1200,)]
    # the owner sees them through the JSON API, and exports them all again
    st, text, _ = w.alice.request("GET", f"/api/v1/folders/{book}/export")
    assert st == 200
    text = text.decode() if isinstance(text, bytes) else text
    assert text.count("BEGIN:VCARD") == 1200 and "UID:card-1200\r\n" in text


def test_refusals_are_reported_per_card(w):
    book = default_folder(w, "contacts")
    before = sqlite_rows(w.udb, "SELECT COUNT(*) FROM contact_object")[0][0]
    path = write(w, "mixed.vcf", card(5000) + card(5001, uid="card-5000") +
                 "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:nofn\r\nEND:VCARD\r\n" + card(5002))
    r = w.ctl("importcontacts", "-c", "1", "-u", "alice", "-f", path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert 'object 2: CON-0409 UID "card-5000" is already used' in r.stdout, r.stdout
    assert "object 3: CON-0400 invalid vCard: FN is missing" in r.stdout, r.stdout
    assert f"2 of 4 cards imported into folder {book}, 2 refused" in r.stdout
    assert sqlite_rows(w.udb, "SELECT COUNT(*) FROM contact_object")[0][0] == before + 2


def test_bad_input_is_named(w):
    assert "cannot open" in w.fail("importcontacts", "-c", "1", "-u", "alice", "-f",
                                   f"{w.dir}/missing.vcf", code=2)
    path = write(w, "not.vcf", "hello\n")
    assert "not.vcf:" in w.fail("importcontacts", "-c", "1", "-u", "alice", "-f", path)
    good = write(w, "one.vcf", card(9000))
    assert "nobody" in w.fail("importcontacts", "-c", "1", "-u", "nobody", "-f", good)
    cal = default_folder(w, "calendar")
    assert f"folder {cal} holds calendar, not contacts" in w.fail(
        "importcontacts", "-c", "1", "-u", "alice", "-f", good, "--folder", str(cal))
    assert "missing required option -f/--file" in w.fail(
        "importcontacts", "-c", "1", "-u", "alice", code=2)
    assert "--tasks is for importcalendar" in w.fail(
        "importcontacts", "-c", "1", "-u", "alice", "-f", good, "--tasks", code=2)
    r = w.ctl("importcontacts", "--help")
    assert r.returncode == 0 and "-f FILE.vcf" in r.stdout and "--batch" in r.stdout
    # the context's admin may import for its users
    r = w.ctl("importcontacts", "-c", "1", "-u", "alice", "-f", good, user="oxadmin",
              password="admin_pw")
    assert r.returncode == 0 and "1 of 1 cards imported" in r.stdout, r.stderr
    # a user's credentials are not an admin's
    r = w.ctl("importcontacts", "-c", "1", "-i", "2", "-f", good, user="alice",
              password="alice_pw")
    assert r.returncode == 1


def test_importcalendar_events_and_tasks(w):
    path = write(w, "cal.ics", ics(event("ev-1"), event("ev-2", "Review")))
    r = w.ctl("--json", "importcalendar", "-c", "1", "-u", "alice", "-f", path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["created"] == 2 and out["folder"] == default_folder(w, "calendar")
    assert sorted(x["uid"] for x in out["results"]) == ["ev-1", "ev-2"]
    assert "2/2 objects sent" in r.stderr
    todo = ics("BEGIN:VTODO\r\nUID:t-1\r\nDTSTAMP:20260301T000000Z\r\nSUMMARY:Do\r\n"
               "END:VTODO\r\n")
    r = w.ctl("importcalendar", "-c", "1", "-u", "alice", "-f", write(w, "t.ics", todo),
              "--tasks")
    assert r.returncode == 0, r.stderr
    assert f"1 of 1 objects imported into folder {default_folder(w, 'tasks')}" in r.stdout


def test_vcf_import_and_export_of_many_cards_through_the_json_api(w):
    st, folder, _ = w.alice.request("POST", "/api/v1/folders",
                                    {"parent": 1, "title": "Big", "module": "contacts"})
    assert st == 201, folder
    text = "".join(card(i, uid=f"big-{i}") for i in range(3000))
    st, body, _ = w.alice.request("POST", f"/api/v1/folders/{folder['id']}/import",
                                  raw=text.encode(), headers={"Content-Type": "text/vcard"})
    assert st == 200 and body["created"] == 3000 and body["failed"] == 0, body
    st, out, resp = w.alice.request("GET", f"/api/v1/folders/{folder['id']}/export")
    out = out.decode() if isinstance(out, bytes) else out
    assert st == 200 and resp.getheader("Content-Type").startswith("text/vcard")
    assert out.count("BEGIN:VCARD") == 3000 and "UID:big-2999\r\n" in out
