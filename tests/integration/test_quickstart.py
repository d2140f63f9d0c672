# SPDX-License-Identifier: MIT
# docs/quickstart.md, step by step with curl against a fresh node: login, folders, share with
# bob, upload, bob downloads byte-identical, bob may not write, logout.
import json
import os
import subprocess

from provisioning import Cluster


def curl(*args):
    r = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True,
                       timeout=60)
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


def login(base, jar, user, password):
    code, body = curl("-c", jar, "-H", "Content-Type: application/json", "-d",
                      json.dumps({"login": user, "password": password, "client": "curl"}),
                      f"{base}/api/v1/login")
    assert code == 200, body
    return json.loads(body)["session"]


def test_quickstart_walkthrough(workdir):
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite")
    c.start_node()
    try:
        c.ok("registerfilestore", "-t", f"file://{workdir}/filestore")
        c.ok("registerdatabase", "-n", "userdb", "--url", f"sqlite://{workdir}/userdb/", "-m",
             "true")
        c.ok("createcontext", "-c", "1", "-q", "1000", "-N", "demo", "-L", "defaultcontext",
             "-u", "oxadmin", "-d", "Admin", "-g", "C", "-s", "A", "-p", "admin_password",
             "-e", "oxadmin@example.com")
        for u in ("alice", "bob"):
            c.ok("createuser", "-c", "1", "-u", u, "-d", u.title(), "-g", u, "-s", "X", "-p",
                 f"{u}_password", "-e", f"{u}@example.com")
        bob_id = [u["id"] for u in c.json("listuser", "-c", "1")["users"]
                  if u["login"] == "bob"][0]
        U = c.url
        aj, bj = f"{workdir}/alice.jar", f"{workdir}/bob.jar"
        A = login(U, aj, "alice@defaultcontext", "alice_password")
        ah = ["-b", aj, "-H", f"X-Session: {A}"]

        code, body = curl(*ah, f"{U}/api/v1/folders")
        assert code == 200 and {1, 2, 3, 4} <= {f["id"] for f in json.loads(body)["folders"]}
        code, body = curl(*ah, f"{U}/api/v1/folders?parent=4")
        myfiles = [f["id"] for f in json.loads(body)["folders"] if f["default"]][0]

        code, body = curl(*ah, "-H", "Content-Type: application/json", "-d",
                          json.dumps({"parent": myfiles, "title": "Project X",
                                      "module": "infostore"}), f"{U}/api/v1/folders")
        assert code == 201, body
        folder = json.loads(body)["id"]
        code, body = curl(*ah, "-H", "Content-Type: application/json", "-X", "PATCH", "-d",
                          json.dumps({"permissions": [{"entity": bob_id, "group": False,
                                                       "bits": 257}]}),
                          f"{U}/api/v1/folders/{folder}")
        assert code == 200, body

        report = f"{workdir}/report.pdf"
        with open(report, "wb") as f:
            f.write(os.urandom(300000))
        code, body = curl(*ah, "-T", report, f"{U}/api/v1/files?folder={folder}&name=report.pdf")
        assert code in (200, 201), body
        file_id = json.loads(body)["id"]

        B = login(U, bj, "bob", "bob_password")
        bh = ["-b", bj, "-H", f"X-Session: {B}"]
        code, body = curl(*bh, f"{U}/api/v1/folders?parent=3")
        assert code == 200 and len(json.loads(body)["folders"]) == 1
        code, body = curl(*bh, f"{U}/api/v1/files?folder={folder}")
        assert code == 200 and "report.pdf" in body.decode()
        code, _ = curl(*bh, "-o", f"{workdir}/copy.pdf", f"{U}/api/v1/files/{file_id}/content")
        assert code == 200
        assert open(report, "rb").read() == open(f"{workdir}/copy.pdf", "rb").read()
        code, body = curl(*bh, "-T", report, f"{U}/api/v1/files?folder={folder}&name=mine.pdf")
        assert code == 403, body
        code, _ = curl(*ah, "-X", "POST", f"{U}/api/v1/logout")
        assert code == 200
        assert curl(*ah, f"{U}/api/v1/folders")[0] == 401
    finally:
        c.stop()
