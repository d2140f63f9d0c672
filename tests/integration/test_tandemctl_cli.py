# SPDX-License-Identifier: MIT
# tandemctl without tandemd: help, usage errors, CSV checking, connection errors, and the exact
# HTTP requests it sends, checked against a small fake admin API in this process.
import base64
import json
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import BUILD

TANDEMCTL = os.path.join(BUILD, "src", "tandemctl", "tandemctl")

# Every verb with the long options its --help must mention.
VERB_OPTIONS = {
    "registerserver": ["--name"],
    "registerfilestore": ["--storepath", "--storesize", "--maxcontexts"],
    "registerdatabase": ["--name", "--url", "--hostname", "--port", "--dbuser", "--dbpasswd",
                         "--dbname", "--master", "--masterid", "--max-units"],
    "promotedatabase": ["--name", "--replica", "--force", "--dbuser", "--dbpasswd", "--wait"],
    "listserver": [],
    "listfilestore": [],
    "listdatabase": [],
    "createcontext": ["--contextid", "--quota", "--contextname", "--addmapping", "--username",
                      "--displayname", "--givenname", "--surname", "--password", "--email",
                      "--access-combination-name"],
    "changecontext": ["--contextid", "--contextname", "--quota", "--addmapping",
                      "--access-combination-name"],
    "disablecontext": ["--contextid", "--reason"],
    "enablecontext": ["--contextid"],
    "deletecontext": ["--contextid"],
    "listcontext": ["--searchpattern"],
    "createuser": ["--contextid", "--username", "--displayname", "--givenname", "--surname",
                   "--password", "--email", "--access-combination-name"],
    "createusers": ["--contextid", "--csv", "--batch"],
    "changeuser": ["--contextid", "--userid", "--username", "--displayname", "--givenname",
                   "--surname", "--email", "--password", "--disable", "--enable",
                   "--access-combination-name"],
    "deleteuser": ["--contextid", "--userid", "--username"],
    "listuser": ["--contextid"],
    "creategroup": ["--contextid", "--name", "--displayname", "--addmembers"],
    "changegroup": ["--contextid", "--id", "--name", "--newname", "--displayname", "--addmembers",
                    "--removemembers"],
    "deletegroup": ["--contextid", "--id", "--name"],
    "listgroup": ["--contextid"],
    "createresource": ["--contextid", "--name", "--displayname", "--email", "--description",
                       "--available"],
    "changeresource": ["--contextid", "--id", "--name", "--newname", "--displayname", "--email",
                       "--description", "--available"],
    "deleteresource": ["--contextid", "--id", "--name"],
    "listresource": ["--contextid"],
    "initconfigdb": ["--configdb-url", "--master-user", "--master-pass"],
    "hashpassword": [],
}

CONTEXT = {"id": 1, "name": "ctx1", "enabled": True, "disabled_reason": None, "quota_mb": 1000,
           "mappings": ["1", "defaultcontext"], "filestore_id": 1,
           "filestore_uri": "file:///var/opt/filestore", "db_cluster": 1, "schema": "db1_1",
           "users": 2}


def run(*args, env=None, timeout=60, **kw):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    full_env.update(env or {})
    return subprocess.run([TANDEMCTL, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout, **kw)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class FakeAdmin:
    """An admin API stand-in: records every request and answers from a responder function
    (method, path, body) -> (status, payload[, framing]); framing is "length" (default),
    "chunked" or "close"."""

    def __init__(self):
        self.requests = []
        self.responder = lambda method, path, body: (404, {"error": {
            "code": "ADM-0404", "message": "no route"}})
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n) if n else b""
                body = json.loads(raw) if raw else None
                fake.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers), "body": body, "raw": raw})
                answer = fake.responder(self.command, self.path, body)
                status, payload = answer[0], answer[1]
                framing = answer[2] if len(answer) > 2 else "length"
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Connection", "close")
                if framing == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(data), 7):
                        part = data[i:i + 7]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                elif framing == "close":
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    if status != 204:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def fake():
    f = FakeAdmin()
    yield f
    f.close()


def ctl(fake, *args, user="oxadminmaster", password="secret", **kw):
    return run("--url", fake.url, "-A", user, "-P", password, *args, **kw)


# ---------------------------------------------------------------- help and usage

def test_help_lists_every_verb_and_global_option():
    r = run("--help")
    assert r.returncode == 0
    for verb in VERB_OPTIONS:
        assert f"\n  {verb} " in r.stdout
    for opt in ("--url", "--adminuser", "--adminpass", "--json", "--timeout", "--version"):
        assert opt in r.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("tandemctl ") and r.stdout.strip().count(".") == 2


@pytest.mark.parametrize("verb", sorted(VERB_OPTIONS))
def test_verb_help_mentions_its_options(verb):
    for flag in ("--help", "-h"):
        r = run(verb, flag)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"Usage: tandemctl {verb}")
        for opt in VERB_OPTIONS[verb]:
            assert opt in r.stdout, f"{verb} --help does not mention {opt}"
        assert "--json" in r.stdout and "--adminuser" in r.stdout


def test_no_verb_and_unknown_verb_exit_2():
    r = run()
    assert r.returncode == 2 and "Usage:" in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown verb 'frobnicate'" in r.stderr


CREATECONTEXT = ["createcontext", "-c", "1", "-q", "1000", "-u", "oxadmin", "-d", "Admin",
                 "-g", "Ad", "-s", "Min", "-p", "pw", "-e", "admin@example.com"]


def without(argv, opt):
    i = argv.index(opt)
    return argv[:i] + argv[i + 2:]


@pytest.mark.parametrize("argv,missing", [
    (without(CREATECONTEXT, "-c"), "-c/--contextid"),
    (without(CREATECONTEXT, "-q"), "-q/--quota"),
    (without(CREATECONTEXT, "-u"), "-u/--username"),
    (without(CREATECONTEXT, "-e"), "-e/--email"),
    (["registerserver"], "-n/--name"),
    (["registerfilestore", "-s", "10"], "-t/--storepath"),
    (["registerdatabase", "-n", "db1", "-m", "true"], "--url or -H/--hostname"),
    (["registerdatabase", "-n", "db1", "-H", "db", "-u", "u", "-m", "true"], "-p/--dbpasswd"),
    (["registerdatabase", "-n", "db1", "--url", "mariadb://x/y"], "-m/--master"),
    (["registerdatabase", "-n", "db1", "--url", "mariadb://x/y", "-m", "false"],
     "-M/--masterid"),
    (["createuser", "-c", "1", "-u", "x", "-d", "X", "-g", "X", "-s", "X", "-p", "pw"],
     "-e/--email"),
    (["changeuser", "-c", "1", "-d", "New"], "-i/--userid or -u/--username"),
    (["deleteuser", "-c", "1"], "-i/--userid or -u/--username"),
    (["listuser"], "-c/--contextid"),
    (["disablecontext"], "-c/--contextid"),
    (["createusers", "-c", "1"], "--csv"),
    (["promotedatabase", "-n", "db1"], "-r/--replica"),
])
def test_missing_required_option_exits_2_naming_it(fake, argv, missing):
    r = run("--url", fake.url, *argv)
    assert r.returncode == 2, r.stderr
    assert f"tandemctl: {argv[0]}: missing required option {missing}" in r.stderr
    assert fake.requests == []


@pytest.mark.parametrize("argv,message", [
    (["createcontext", "-q", "abc"], "-q/--quota: expected a whole number, got 'abc'"),
    (["createcontext", "-q", "-5"], "-q/--quota: must not be negative"),
    (["createcontext", "-q", "1e3"], "-q/--quota: expected a whole number"),
    (["listuser", "-c", "0"], "-c/--contextid: must be between 1 and 2147483647"),
    (["listuser", "-c", "2147483648"], "-c/--contextid: must be between 1 and 2147483647"),
    (["listuser", "-c", "99999999999999999999999"], "-c/--contextid: expected a whole number"),
    (["registerfilestore", "-t", "file:///x", "-s", "big"], "-s/--storesize"),
    (["registerdatabase", "-n", "d", "--url", "u", "-m", "yes"], "expected true or false"),
    (["createusers", "-c", "1", "--csv", "x", "--batch", "0"], "--batch: must be between 1"),
    (["createusers", "-c", "1", "--csv", "x", "--batch", "1001"], "--batch"),
    (["listserver", "--timeout", "soon"], "--timeout: expected a whole number"),
    (["listuser", "-c", "1", "--bogus"], "unknown option '--bogus'"),
    (["listuser", "-c", "1", "extra"], "unexpected argument 'extra'"),
    (["listuser", "-c", "1", "-c", "2"], "-c/--contextid given more than once"),
    (["listuser", "-c"], "-c/--contextid needs a value"),
    (["listserver", "--json=yes"], "--json takes no value"),
    (["changecontext", "-c", "1"], "nothing to change"),
    (["changeuser", "-c", "1", "-i", "3", "--enable", "--disable", "x"], "exclude each other"),
    (["changeuser", "-c", "1", "-i", "3", "-u", "bob", "-d", "B"], "exclude each other"),
    (["createcontext", *CREATECONTEXT[1:], "-L", "a,,b"], "empty mapping"),
    (["listserver", "-A", "admin"], "-A/--adminuser needs -P/--adminpass"),
])
def test_bad_values_exit_2_without_calling_the_server(fake, argv, message):
    r = run("--url", fake.url, *argv)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert r.stderr.startswith(f"tandemctl: {argv[0]}: ")
    assert fake.requests == []


def test_unreachable_server_exits_1_with_cannot_connect():
    r = run("--url", "http://127.0.0.1:1", "listserver")
    assert r.returncode == 1
    assert r.stderr.strip() == ("tandemctl: listserver: cannot connect to http://127.0.0.1:1: "
                                "Connection refused")
    # Global options are accepted after the verb too.
    r = run("listcontext", "--url", "http://127.0.0.1:1", "-A", "a", "-P", "b")
    assert r.returncode == 1 and "cannot connect to http://127.0.0.1:1" in r.stderr


def test_bad_url_exits_1():
    r = run("--url", "https://127.0.0.1:1", "listserver")
    assert r.returncode == 1 and "https is not supported" in r.stderr
    r = run("--url", "http://127.0.0.1:99999", "listserver")
    assert r.returncode == 1 and "invalid port" in r.stderr


def raw_server(behaviour):
    """A socket server for misbehaving peers; behaviour(conn) runs per connection."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                behaviour(conn)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return srv, stop


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        b = conn.recv(65536)
        if not b:
            break
        data += b
    return data


def test_timeout_and_malformed_responses_exit_1():
    def silent(conn):
        read_request(conn)
        conn.recv(1)  # until the client gives up

    srv, stop = raw_server(silent)
    try:
        r = run("--url", f"http://127.0.0.1:{srv.getsockname()[1]}", "--timeout", "1",
                "listserver", timeout=20)
        assert r.returncode == 1
        assert "timed out after 1000 ms" in r.stderr
    finally:
        stop.set()
        srv.close()

    for reply, what in [(b"garbage\r\n\r\n", "malformed response"),
                        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "2 of 10 body bytes"),
                        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                         "malformed response"),
                        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                         "duplicate Content-Length"),
                        (b"", "closed the connection without answering"),
                        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnope!",
                         "invalid JSON in the answer")]:
        def answer(conn, reply=reply):
            read_request(conn)
            conn.sendall(reply)

        srv, stop = raw_server(answer)
        try:
            r = run("--url", f"http://127.0.0.1:{srv.getsockname()[1]}", "listserver")
            assert r.returncode == 1, reply
            assert what in r.stderr, (reply, r.stderr)
        finally:
            stop.set()
            srv.close()


def test_interim_response_and_read_to_close_body():
    def answer(conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n"
                     b"Content-Type: application/json\r\n\r\n"
                     b'{"servers":[{"id":1,"name":"tandem"}]}')

    srv, stop = raw_server(answer)
    try:
        r = run("--url", f"http://127.0.0.1:{srv.getsockname()[1]}", "listserver")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split("\n")[:2] == ["id  name", "1   tandem"]
    finally:
        stop.set()
        srv.close()


# ---------------------------------------------------------------- CSV checking

def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(p)


HEADER = "login,display_name,given_name,sur_name,password,email\n"
HASH_HEADER = "login,display_name,given_name,sur_name,password_hash,email\n"
# What `tandemctl hashpassword` prints (m=19456,t=2,p=1), and the same with other parameters.
HASH = ("$argon2id$v=19$m=19456,t=2,p=1$Hq2at8Np4WK0MuwtUN0Ujg$"
        "AsYAa2CZbBtOJN76/wFPlv9EHjGE4j1eC2DoB7vVe58")


def with_params(params):
    return HASH.replace("m=19456,t=2,p=1", params)


@pytest.mark.parametrize("text,message", [
    (HEADER + "a,A,A,A,pw,a@x\nb,B,B,B,pw\n", "users.csv:3: expected 6 fields, found 5"),
    (HEADER + "a,A,A,A,pw,a@x\n\nb,B,B,B,pw,b@x,extra\n", "users.csv:4: expected 6 fields, found 7"),
    (HEADER + 'a,"A,A,A,pw,a@x\n', "users.csv:2: unterminated quoted field"),
    (HEADER + 'a,"A"x,A,A,pw,a@x\n', "users.csv:2: text after the closing quote"),
    (HEADER + 'a,A"A,A,A,pw,a@x\n', "users.csv:2: quote inside an unquoted field"),
    (HEADER + "a,,A,A,pw,a@x\n", "users.csv:2: empty display_name"),
    ("login,display_name,given_name,sur_name,password,email,shoe_size\n",
     "users.csv:1: unknown column 'shoe_size'"),
    ("login,display_name,given_name,password,email\n", "users.csv:1: missing column 'sur_name'"),
    ("login,display_name,given_name,sur_name,email\n", "exactly one of the columns"),
    ("login,display_name,given_name,sur_name,password,password_hash,email\n",
     "exactly one of the columns"),
    (HEADER, "no users after the header line"),
    ("", "empty file"),
    (HEADER.encode() + b"a,\xff,A,A,pw,a@x\n", "users.csv:2: display_name is not valid UTF-8"),
    (HASH_HEADER + f'a,A,A,A,"{HASH}",a@x\nb,B,B,B,"{with_params("m=1048576,t=2,p=1")}",b@x\n',
     "users.csv:3: password_hash parameters m=1048576,t=2,p=1 are outside the allowed range: "
     "argon2id v=19 with m=8192-65536 (KiB: 8-64 MiB), t=1-4 and p=1"),
    (HASH_HEADER + f'a,A,A,A,"{with_params("m=19456,t=2,p=4")}",a@x\n',
     "users.csv:2: password_hash parameters m=19456,t=2,p=4 are outside"),
    (HASH_HEADER + "a,A,A,A,$argon2id$v=19$m=65536$x,a@x\n",
     "users.csv:2: password_hash must be an argon2id string"),
    (HASH_HEADER + f"a,A,A,A,{'x' * 200},a@x\n",
     "users.csv:2: password_hash is longer than 127 characters"),
])
def test_csv_errors_exit_2_naming_the_line(fake, tmp_path, text, message):
    path = write(tmp_path, "users.csv", text)
    r = ctl(fake, "createusers", "-c", "1", "--csv", path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert fake.requests == []


def test_csv_missing_file_exits_2(tmp_path):
    r = run("createusers", "-c", "1", "--csv", str(tmp_path / "nope.csv"))
    assert r.returncode == 2 and "cannot open" in r.stderr and "nope.csv" in r.stderr


# ---------------------------------------------------------------- requests on the wire

def test_createcontext_request(fake):
    fake.responder = lambda m, p, b: (201, CONTEXT)
    r = ctl(fake, *CREATECONTEXT, "-N", "ctx1", "-L", "defaultcontext, example.com")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "context 1 created (schema db1_1, filestore 1)\n"
    [req] = fake.requests
    assert req["method"] == "POST" and req["path"] == "/admin/v1/contexts"
    assert req["headers"]["Authorization"] == basic("oxadminmaster", "secret")
    assert req["headers"]["Content-Type"].startswith("application/json")
    assert req["headers"]["Connection"] == "close"
    assert req["body"] == {"id": 1, "name": "ctx1", "quota_mb": 1000,
                           "mappings": ["defaultcontext", "example.com"],
                           "admin": {"login": "oxadmin", "display_name": "Admin",
                                     "given_name": "Ad", "sur_name": "Min", "password": "pw",
                                     "email": "admin@example.com"}}


def test_createcontext_json_output_and_long_options(fake):
    fake.responder = lambda m, p, b: (201, CONTEXT)
    r = run("createcontext", "--contextid=7", "--quota", "0", "--username", "oxadmin",
            "--displayname", "Ädmin", "--givenname", "Ad", "--surname", "Min", "--password",
            "pw", "--email=a@b", "--json", "--url", fake.url, "--adminuser", "m",
            "--adminpass", "p")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == CONTEXT
    assert r.stdout.startswith("{\n  ")
    body = fake.requests[0]["body"]
    assert body["id"] == 7 and body["quota_mb"] == 0 and "name" not in body
    assert "mappings" not in body and body["admin"]["display_name"] == "Ädmin"


def test_createuser_request_as_context_admin(fake):
    user = {"id": 3, "login": "testuser", "display_name": "Test User", "given_name": "Test",
            "sur_name": "User", "email": "test@example.com", "enabled": True,
            "disabled_reason": None, "is_admin": False}
    fake.responder = lambda m, p, b: (201, user)
    r = ctl(fake, "createuser", "-c", "5", "-u", "testuser", "-d", "Test User", "-g", "Test",
            "-s", "User", "-p", "s3cr:et", "-e", "test@example.com", user="oxadmin",
            password="ctxpw")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "user 3 created in context 5 (testuser)\n"
    [req] = fake.requests
    assert (req["method"], req["path"]) == ("POST", "/admin/v1/contexts/5/users")
    assert req["headers"]["Authorization"] == basic("oxadmin", "ctxpw")
    assert req["body"] == {"login": "testuser", "display_name": "Test User",
                           "given_name": "Test", "sur_name": "User", "password": "s3cr:et",
                           "email": "test@example.com"}


def test_credentials_and_url_from_environment(fake):
    fake.responder = lambda m, p, b: (200, {"servers": []})
    r = run("listserver", env={"TANDEM_URL": fake.url, "TANDEM_ADMIN_USER": "envadmin",
                               "TANDEM_ADMIN_PASS": "envpw"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "id  name\n"
    assert fake.requests[0]["headers"]["Authorization"] == basic("envadmin", "envpw")
    # Without credentials there is no Authorization header: the server answers 401.
    fake.requests.clear()
    fake.responder = lambda m, p, b: (401, {"error": {"code": "ADM-0401",
                                                      "message": "authentication required"}})
    r = run("--url", fake.url, "listserver")
    assert r.returncode == 1
    assert "Authorization" not in fake.requests[0]["headers"]
    assert r.stderr == "tandemctl: listserver: authentication required (ADM-0401)\n"


def test_registerdatabase_hostname_form(fake):
    db = {"id": 2, "name": "db2", "url": "mariadb://tandem:***@db.example:3307/userdb",
          "primary": False, "master_id": 1, "max_units": 500, "contexts": 0}
    fake.responder = lambda m, p, b: (201, db)
    r = ctl(fake, "registerdatabase", "-n", "db2", "--hostname", "db.example", "--port", "3307",
            "--dbuser", "tan dem", "--dbpasswd", "p@ss:w/rd%", "--dbname", "userdb", "-m",
            "false", "--masterid", "1", "--max-units", "500")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "database 2 registered (db2, replica)\n"
    [req] = fake.requests
    assert (req["method"], req["path"]) == ("POST", "/admin/v1/databases")
    assert req["body"] == {"name": "db2",
                           "url": "mariadb://tan%20dem:p%40ss%3Aw%2Frd%25@db.example:3307/userdb",
                           "primary": False, "master_id": 1, "max_units": 500}

    fake.requests.clear()
    r = ctl(fake, "registerdatabase", "-n", "db1", "-H", "::1", "-u", "u", "-p", "p", "-m",
            "true")
    assert r.returncode == 0, r.stderr
    assert fake.requests[0]["body"] == {"name": "db1", "url": "mariadb://u:p@[::1]:3306/db1",
                                        "primary": True, "master_id": None}


def test_registerdatabase_url_form_and_url_conflicts(fake):
    fake.responder = lambda m, p, b: (201, {"id": 1})
    # After the verb, --url is the database URL; the admin API URL comes before it.
    r = run("--url", fake.url, "-A", "a", "-P", "b", "registerdatabase", "-n", "db1", "--url",
            "mariadb://u:p@h:3306/db1", "-m", "true")
    assert r.returncode == 0, r.stderr
    assert fake.requests[0]["body"]["url"] == "mariadb://u:p@h:3306/db1"
    r = run("--url", fake.url, "registerdatabase", "-n", "db1", "--url", "x", "-H", "h", "-m",
            "true")
    assert r.returncode == 2 and "--url and -H/--hostname exclude each other" in r.stderr


def test_promotedatabase_request_and_report(fake):
    fake.responder = lambda m, p, b: (200, {
        "database": "db1", "cluster": 1,
        "new_primary": {"id": 2, "name": "db1r", "url": "mariadb://t:***@r:3306/"},
        "old_primary": {"id": 1, "name": "db1", "url": "mariadb://t:***@p:3306/",
                        "reachable": False, "read_only": False, "error": "refused"},
        "positions": {"target": "0-1-9", "target_source": "replica relay log",
                      "applied": "0-1-9", "sql_thread": "Yes", "behind": 0},
        "forced": False, "elapsed_ms": 40})
    r = ctl(fake, "promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root", "-p", "pw",
            "--force", "-w", "2000")
    assert r.returncode == 0, r.stderr
    assert fake.requests[0]["path"] == "/admin/v1/databases/promote"
    assert fake.requests[0]["body"] == {"name": "db1", "replica": "db1r", "force": True,
                                        "dbuser": "root", "dbpasswd": "pw", "wait_ms": 2000}
    assert r.stdout == ("database db1: db1r is the primary now (applied 0-1-9, 0 behind "
                        "replica relay log)\nold primary db1: fenced, unreachable: refused\n")
    r = run("--url", fake.url, "promotedatabase", "-n", "db1", "-r", "x", "-p", "pw")
    assert r.returncode == 2 and "-p/--dbpasswd needs -u/--dbuser" in r.stderr


def test_register_server_and_filestore(fake):
    fake.responder = lambda m, p, b: (201, {"id": 4, **(b or {})})
    r = ctl(fake, "registerserver", "-n", "tandem")
    assert r.returncode == 0 and r.stdout == "server 4 registered (tandem)\n"
    r = ctl(fake, "registerfilestore", "-t", "file:///var/opt/filestore", "-s", "2000", "-x",
            "100")
    assert r.returncode == 0 and r.stdout == "filestore 4 registered (file:///var/opt/filestore)\n"
    assert [(q["method"], q["path"], q["body"]) for q in fake.requests] == [
        ("POST", "/admin/v1/servers", {"name": "tandem"}),
        ("POST", "/admin/v1/filestores",
         {"uri": "file:///var/opt/filestore", "size_mb": 2000, "max_contexts": 100}),
    ]


USERS = {"users": [
    {"id": 2, "login": "oxadmin", "display_name": "Admin", "email": "a@x", "enabled": True,
     "disabled_reason": None, "is_admin": True},
    {"id": 3, "login": "testuser", "display_name": "Tëst User", "email": "t@x", "enabled": True,
     "disabled_reason": None, "is_admin": False},
]}


def test_changeuser_by_login_lists_then_patches(fake):
    def responder(method, path, body):
        if method == "GET":
            return 200, USERS
        return 200, {**USERS["users"][1], **body}

    fake.responder = responder
    r = ctl(fake, "changeuser", "-c", "1", "-u", "testuser", "-d", "New Name", "-e", "n@x",
            "--disable", "left the company")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "user 3 changed in context 1\n"
    assert [(q["method"], q["path"]) for q in fake.requests] == [
        ("GET", "/admin/v1/contexts/1/users"), ("PATCH", "/admin/v1/contexts/1/users/3")]
    assert fake.requests[1]["body"] == {"display_name": "New Name", "email": "n@x",
                                        "enabled": False, "disabled_reason": "left the company"}
    assert all(q["headers"]["Authorization"] == basic("oxadminmaster", "secret")
               for q in fake.requests)

    fake.requests.clear()
    r = ctl(fake, "changeuser", "-c", "1", "-i", "3", "--enable", "-p", "newpw")
    assert r.returncode == 0, r.stderr
    [req] = fake.requests
    assert (req["method"], req["path"]) == ("PATCH", "/admin/v1/contexts/1/users/3")
    assert req["body"] == {"password": "newpw", "enabled": True}

    fake.requests.clear()
    r = ctl(fake, "changeuser", "-c", "1", "-u", "nobody", "-d", "X")
    assert r.returncode == 1
    assert "no user with login 'nobody' in context 1" in r.stderr
    assert [q["method"] for q in fake.requests] == ["GET"]


def test_deleteuser_by_login_and_deletecontext(fake):
    def responder(method, path, body):
        return (200, USERS) if method == "GET" else (204, None)

    fake.responder = responder
    r = ctl(fake, "deleteuser", "-c", "1", "-u", "testuser")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "user 3 deleted from context 1\n"
    r = ctl(fake, "deletecontext", "-c", "1")
    assert r.returncode == 0 and r.stdout == "context 1 deleted\n"
    assert [(q["method"], q["path"]) for q in fake.requests] == [
        ("GET", "/admin/v1/contexts/1/users"), ("DELETE", "/admin/v1/contexts/1/users/3"),
        ("DELETE", "/admin/v1/contexts/1")]


def test_context_state_and_change_requests(fake):
    fake.responder = lambda m, p, b: (200, CONTEXT)
    assert ctl(fake, "disablecontext", "-c", "1", "--reason", "unpaid").stdout == \
        "context 1 disabled\n"
    assert ctl(fake, "enablecontext", "-c", "1").stdout == "context 1 enabled\n"
    assert ctl(fake, "changecontext", "-c", "1", "-q", "0", "-L", "a.example").stdout == \
        "context 1 changed\n"
    got = [(q["method"], q["path"], q["body"]) for q in fake.requests]
    assert got == [("POST", "/admin/v1/contexts/1/disable", {"reason": "unpaid"}),
                   ("POST", "/admin/v1/contexts/1/enable", None),
                   ("PATCH", "/admin/v1/contexts/1", {"quota_mb": 0, "mappings": ["a.example"]})]
    assert fake.requests[1]["headers"]["Content-Length"] == "0"


def test_listcontext_table_from_a_chunked_answer(fake):
    other = {**CONTEXT, "id": 12, "name": "second", "enabled": False, "quota_mb": 0,
             "mappings": ["12"], "users": 1, "schema": "db1_12"}
    fake.responder = lambda m, p, b: (200, {"contexts": [CONTEXT, other]}, "chunked")
    r = ctl(fake, "listcontext", "-s", "ctx 1&x")
    assert r.returncode == 0, r.stderr
    assert fake.requests[0]["path"] == "/admin/v1/contexts?search=ctx%201%26x"
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "enabled", "quota", "users", "schema",
                                "filestore", "mappings"]
    assert lines[1].split() == ["1", "ctx1", "true", "1000", "MB", "2", "db1_1", "1",
                                "1,defaultcontext"]
    assert lines[2].split() == ["12", "second", "false", "unlimited", "1", "db1_12", "1", "12"]
    # Columns line up: every row has its "users" cell at the same offset.
    col = lines[0].index("users")
    assert lines[1][col] == "2" and lines[2][col] == "1"

    r = ctl(fake, "listcontext", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == {"contexts": [CONTEXT, other]}


def test_listuser_aligns_utf8(fake):
    fake.responder = lambda m, p, b: (200, USERS, "close")
    r = ctl(fake, "listuser", "-c", "1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["id", "login", "display_name", "email", "enabled", "admin",
                                "access", "imap_login", "imap_server", "smtp_server"]
    assert lines[2].index("t@x") == lines[1].index("a@x") == lines[0].index("email")


def test_409_error_message_is_printed(fake):
    fake.responder = lambda m, p, b: (409, {"error": {"code": "ADM-0409",
                                                      "message": "context 1 already exists"}})
    r = ctl(fake, *CREATECONTEXT)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == "tandemctl: createcontext: context 1 already exists (ADM-0409)\n"


def test_non_json_error_names_status(fake):
    fake.responder = lambda m, p, b: (502, "upstream <b>down</b>")
    r = ctl(fake, "listserver")
    assert r.returncode == 1
    assert "HTTP 502" in r.stderr and "upstream" in r.stderr


def make_csv(n, header=HEADER):
    rows = [header]
    for i in range(n):
        # Quoted fields with commas, doubled quotes and a line break exercise RFC 4180.
        rows.append(f'user{i},"User, No. {i}","Gi ""{i}""",Sur,pw{i},user{i}@example.com\r\n')
    return "".join(rows)


def test_createusers_batches_and_progress(fake, tmp_path):
    def responder(method, path, body):
        users = body["users"]
        return 201, {"created": len(users),
                     "users": [{"id": 100 + int(u["login"][4:]), "login": u["login"]}
                               for u in users]}

    fake.responder = responder
    path = write(tmp_path, "users.csv", make_csv(2500))
    r = ctl(fake, "createusers", "-c", "9", "--csv", path, user="oxadmin", password="ctx")
    assert r.returncode == 0, r.stderr
    assert [len(q["body"]["users"]) for q in fake.requests] == [1000, 1000, 500]
    for q in fake.requests:
        assert (q["method"], q["path"]) == ("POST", "/admin/v1/contexts/9/users/batch")
        assert q["headers"]["Authorization"] == basic("oxadmin", "ctx")
    assert fake.requests[0]["body"]["users"][0] == {
        "login": "user0", "display_name": "User, No. 0", "given_name": 'Gi "0"',
        "sur_name": "Sur", "password": "pw0", "email": "user0@example.com"}
    assert fake.requests[2]["body"]["users"][-1]["login"] == "user2499"
    assert r.stderr.count("createusers: 2500/2500 users (") == 1
    assert all(line.startswith("createusers: ") for line in r.stderr.splitlines())
    assert r.stdout.startswith("2500 users created in context 9 (3 batches, ")


def test_createusers_password_hash_column_order_and_json(fake, tmp_path):
    fake.responder = lambda m, p, b: (201, {"created": len(b["users"]), "users": [
        {"id": 1, "login": u["login"]} for u in b["users"]]})
    text = ("email,login,password_hash,sur_name,given_name,display_name\n"
            f'a@x,alice,"{HASH}",A,"multi\nline",Alice\n\n'
            f'b@x,bob,"{with_params("m=65536,t=4,p=1")}",B,Bob,Bob\n')
    path = write(tmp_path, "u.csv", text)
    r = ctl(fake, "createusers", "-c", "1", "--csv", path, "--batch", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert [q["body"]["users"][0]["login"] for q in fake.requests] == ["alice", "bob"]
    assert fake.requests[0]["body"]["users"][0] == {
        "login": "alice", "display_name": "Alice", "given_name": "multi\nline", "sur_name": "A",
        "password_hash": HASH, "email": "a@x"}
    assert json.loads(r.stdout) == {"created": 2, "users": [{"id": 1, "login": "alice"},
                                                            {"id": 1, "login": "bob"}]}


def test_createusers_failed_batch_names_lines(fake, tmp_path):
    def responder(method, path, body):
        if body["users"][0]["login"] == "user1000":
            return 409, {"error": {"code": "ADM-0409", "message": "login user1234 exists"}}
        return 201, {"created": len(body["users"]), "users": []}

    fake.responder = responder
    path = write(tmp_path, "users.csv", make_csv(2500))
    r = ctl(fake, "createusers", "-c", "1", "--csv", path)
    assert r.returncode == 1
    assert len(fake.requests) == 2
    assert ("tandemctl: createusers: batch 2 (CSV lines 1002-2001) failed: login user1234 "
            "exists (ADM-0409); the 1000 users of the earlier batches (CSV lines 2-1001) were "
            "created") in r.stderr
    assert r.stdout == ""

    fake.requests.clear()
    fake.responder = lambda m, p, b: (422, {"error": {"code": "ADM-0422", "message": "full"}})
    r = ctl(fake, "createusers", "-c", "1", "--csv", path)
    assert r.returncode == 1 and len(fake.requests) == 1
    assert "batch 1 (CSV lines 2-1001) failed: full (ADM-0422); no users were created" in r.stderr


def test_createusers_batch_without_answer_is_reported_as_unknown(fake, tmp_path):
    import time

    def responder(method, path, body):
        if body["users"][0]["login"] == "user2":
            time.sleep(2.5)  # past the client's --timeout
        return 201, {"created": len(body["users"]), "users": []}

    fake.responder = responder
    path = write(tmp_path, "users.csv", make_csv(5))
    r = ctl(fake, "createusers", "-c", "1", "--csv", path, "--batch", "2", "--timeout", "1")
    assert r.returncode == 1
    assert len(fake.requests) == 2
    assert ("batch 2 (CSV lines 4-5) failed: timed out after 1000 ms waiting for the response "
            f"from {fake.url} (its outcome is unknown: check with listuser); the 2 users of "
            "the earlier batches (CSV lines 2-3) were created") in r.stderr
