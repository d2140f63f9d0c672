# SPDX-License-Identifier: MIT
# Login against IMAP and per-user mail servers (docs/mail.md "Login against IMAP",
# "Per-user mail servers") with two real private Dovecots on loopback
# (scripts/mail-system.sh): [auth] method = imap checks the password by an IMAP login (the
# Tandem one is not consulted), throttled like a local login, 503 with the reason while the
# mail system is down; WebDAV Basic with the mail password; --imaplogin maps a Tandem user to
# another mailbox; --imapserver sends one user to another server; provisioning checks the
# URLs and shows the fields; [auth] method errors.
import base64
import http.client
import os
import shutil
import tempfile
import time

import pytest

from cluster_setup import ADMIN
from conftest import TANDEMD
from fixtures_mail import MailSystem
from provisioning import MASTER, ApiClient, Cluster
from test_check_config import refused, write
from test_mail import mail_section, message

DOVE1 = (("alice", "alice-dove"), ("bob", "bob-dove"))
DOVE2 = (("dave", "dave-dove2"),)


@pytest.fixture
def dovecots():
    """Two private Dovecots sharing the master user's password (as an operator's servers
    would): returns (first, second)."""
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is missing: run scripts/deps.sh test", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="tandem-mail-auth-") as d:
        os.chmod(d, 0o755)
        one = MailSystem(os.path.join(d, "one"), users=DOVE1).start()
        two_dir = os.path.join(d, "two")
        os.makedirs(two_dir)
        shutil.copy(one.master_password_file, os.path.join(two_dir, "master-password"))
        os.chmod(os.path.join(two_dir, "master-password"), 0o600)
        two = None
        try:
            two = MailSystem(two_dir, users=DOVE2).start()
            yield one, two
        finally:
            if two is not None:
                two.stop()
            one.stop()


def create_user(c, login, *extra):
    c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
         "-p", f"{login}_pw", "-e", f"{login}@example.com", *extra)


@pytest.fixture
def world(workdir, dovecots):
    one, two = dovecots
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=mail_section(one) + "[auth]\nmethod = imap\n")
    c.start_node()
    c.ok("registerserver", "-n", "tandem")
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs", "-s", "100000")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    create_user(c, "alice")
    create_user(c, "bob")
    create_user(c, "carl", "--imaplogin", "alice")  # reads alice's mailbox
    create_user(c, "dave", "--imapserver", two.imap_url)
    create_user(c, "erin")  # a Tandem user without a mailbox
    c.one, c.two = one, two
    yield c
    c.stop()


def login(c, user, password):
    api = ApiClient(c.nodes[0].port)
    status, body, resp = api.login(user, password)
    return api, status, body, resp


def logged_in(c, user, password):
    api, status, body, _ = login(c, user, password)
    assert status == 200, body
    return api


def dav(port, user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("PROPFIND", "/dav/files/home/",
                     headers={"Authorization": f"Basic {token}", "Depth": "0"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def inbox_subjects(api):
    status, body, _ = api.request("GET", "/api/v1/mail/messages?folder=INBOX")
    assert status == 200, body
    return [m["subject"] for m in body["messages"]]


def test_the_mail_password_logs_in_and_the_tandem_one_does_not(world):
    _, status, body, _ = login(world, "alice", "alice_pw")  # her Tandem password
    assert status == 401 and body["error"]["code"] == "SES-0401", body
    logged_in(world, "alice", "alice-dove")
    # a line break would end the IMAP command: refused, never sent
    assert login(world, "alice", "alice-dove\r\nA2 NOOP")[1] == 401
    world.nodes[0].wait_stderr("IMAP login of alice@1 not tried: the password holds a line")
    # not provisioned in Tandem: Dovecot's user alone does not get in
    world.one.deliver("alice", message("x"))
    assert login(world, "nobody", "alice-dove")[1] == 401
    # a Tandem user whose login Dovecot does not know
    assert login(world, "erin", "erin_pw")[1] == 401
    # the password is the mail system's: Tandem does not change it
    alice = logged_in(world, "alice", "alice-dove")
    status, body, _ = alice.request("POST", "/api/v1/password",
                                    {"current": "alice-dove", "password": "new-one-1"})
    assert status == 409 and "mail system" in body["error"]["message"], body


def test_failures_are_throttled_like_local_logins(world):
    statuses = [login(world, "bob", f"wrong{i}")[1] for i in range(6)]
    assert statuses == [401] * 5 + [429], statuses
    _, status, body, resp = login(world, "bob", "bob-dove")
    assert status == 429 and body["error"]["code"] == "SES-0429"
    assert int(resp.getheader("Retry-After")) > 0
    # another user is not held back
    logged_in(world, "alice", "alice-dove")


def test_mail_system_down_is_503_with_the_reason_and_not_a_failure(world):
    world.one.stop()
    try:
        for _ in range(6):  # more than the throttle allows failures
            _, status, body, _ = login(world, "alice", "alice-dove")
            assert status == 503 and body["error"]["code"] == "SES-0503", body
            assert "IMAP server 127.0.0.1" in body["error"]["message"], body
            assert "cannot connect" in body["error"]["message"], body
    finally:
        world.one.start()
    logged_in(world, "alice", "alice-dove")  # not throttled: nothing was refused
    world.nodes[0].wait_stderr("not checked: IMAP server")


def test_webdav_basic_takes_the_mail_password(world):
    port = world.nodes[0].port
    status, body = dav(port, "alice", "alice-dove")
    assert status == 207, body
    assert dav(port, "alice", "alice-dove")[0] == 207  # cached, as for local logins
    assert dav(port, "alice", "alice_pw")[0] == 401


def test_imaplogin_maps_a_user_to_another_mailbox(world):
    world.one.deliver("alice", message("for alice"))
    # carl logs in with the password of the mailbox he is mapped to
    assert login(world, "carl", "carl_pw")[1] == 401
    carl = logged_in(world, "carl", "alice-dove")
    assert inbox_subjects(carl) == ["for alice"]
    # bob's own mailbox is another one
    bob = logged_in(world, "bob", "bob-dove")
    assert inbox_subjects(bob) == []


def test_imapserver_sends_one_user_to_another_server(world):
    world.two.deliver("dave", message("on the second server"))
    world.one.deliver("alice", message("on the first server"))
    assert login(world, "dave", "dave_pw")[1] == 401
    dave = logged_in(world, "dave", "dave-dove2")
    alice = logged_in(world, "alice", "alice-dove")
    assert inbox_subjects(dave) == ["on the second server"]
    assert inbox_subjects(alice) == ["on the first server"]
    # the second server down: dave's mail is 503 naming it, alice's keeps working
    world.two.stop()
    try:
        status, body, _ = dave.request("GET", "/api/v1/mail/folders")
        assert status == 503 and f"127.0.0.1:{world.two.imap_port}" in \
            body["error"]["message"], body
        assert inbox_subjects(alice) == ["on the first server"]
    finally:
        world.two.start()
    deadline = time.monotonic() + 30
    while True:  # after the pool's back-off
        status, body, _ = dave.request("GET", "/api/v1/mail/folders")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200, body


def test_provisioning_checks_and_shows_the_fields(world):
    c = world
    users = {u["login"]: u for u in c.json("listuser", "-c", "1")["users"]}
    assert users["carl"]["imap_login"] == "alice" and users["carl"]["imap_server"] is None
    assert users["dave"]["imap_server"] == c.two.imap_url
    assert users["alice"]["imap_login"] is None and users["alice"]["smtp_server"] is None
    err = c.fail("createuser", "-c", "1", "-u", "frank", "-d", "f", "-g", "G", "-s", "S",
                 "-p", "frank_pw", "-e", "f@example.com", "--imapserver", "http://mail",
                 code=2)
    assert '--imapserver "http://mail": must start with imap:// or imaps://' in err, err
    err = c.fail("changeuser", "-c", "1", "-u", "carl", "--smtpserver", "smtp://h:0", code=2)
    assert '--smtpserver "smtp://h:0": the port must be a number' in err, err
    # the admin API checks too (for callers other than tandemctl)
    master = base64.b64encode(f"{MASTER[0]}:{MASTER[1]}".encode()).decode()
    status, body, _ = ApiClient(c.nodes[0].port).request(
        "PATCH", f"/admin/v1/contexts/1/users/{users['carl']['id']}",
        {"imap_server": "imaps://mail.example.com/INBOX"},
        headers={"Authorization": f"Basic {master}"})
    assert status == 400 and 'imap_server "imaps://mail.example.com/INBOX": only ' in \
        body["error"]["message"], body
    c.ok("changeuser", "-c", "1", "-u", "carl", "--smtpserver", "submission://mail.example.com",
         "--imaplogin", "")
    carl = {u["login"]: u for u in c.json("listuser", "-c", "1")["users"]}["carl"]
    assert carl["smtp_server"] == "submission://mail.example.com"
    assert carl["imap_login"] is None  # back to the Tandem login
    out = c.ok("listuser", "-c", "1").stdout
    assert "imap_server" in out and c.two.imap_url in out
    # in bulk: optional CSV columns, empty = [mail]'s default
    csv_path = os.path.join(c.workdir, "users.csv")
    write(csv_path, "login,display_name,given_name,sur_name,password,email,imap_server,"
                    "imap_login\n"
                    f"gina,Gina,Gina,G,gina_pw,gina@example.com,{c.two.imap_url},g.mail\n"
                    "hank,Hank,Hank,H,hank_pw,hank@example.com,,\n")
    c.ok("createusers", "-c", "1", "--csv", csv_path)
    users = {u["login"]: u for u in c.json("listuser", "-c", "1")["users"]}
    assert (users["gina"]["imap_server"], users["gina"]["imap_login"]) == \
        (c.two.imap_url, "g.mail")
    assert (users["hank"]["imap_server"], users["hank"]["imap_login"]) == (None, None)
    write(csv_path, "login,display_name,given_name,sur_name,password,email,smtp_server\n"
                    "ivan,Ivan,Ivan,I,ivan_pw,ivan@example.com,smtp://\n")
    err = c.fail("createusers", "-c", "1", "--csv", csv_path)
    assert 'user 1 (ivan): smtp_server "smtp://": the host is missing' in err, err


def test_auth_method_errors(workdir):
    pw = write(os.path.join(workdir, "pw"), "secret\n")
    os.chmod(pw, 0o600)
    head = f"[server]\nlisten = 127.0.0.1:1\ndata_dir = {workdir}/d\n"
    mail = "[mail]\nimap_url = imap://h\nmaster_user = m\nmaster_password_file = pw\n"
    cases = (
        (mail + "[auth]\nmethod = ldap\n", 9, "[auth] method must be local or imap"),
        ("[auth]\nmethod = imap\n", 5, "[auth] method = imap needs [mail] imap_url"),
    )
    for i, (text, line, words) in enumerate(cases):
        conf = write(os.path.join(workdir, f"a{i}.ini"), head + text)
        refused(TANDEMD, conf, line, words)
