# SPDX-License-Identifier: MIT
# A provisioned Tandem for tests: a configdb made by `tandemctl initconfigdb`, a running
# tandemd on it, and a tandemctl runner with the master admin's credentials.
import json
import os
import sqlite3
import subprocess

from conftest import BUILD, TANDEMD, Process, free_port, write_config

TANDEMCTL = os.path.join(BUILD, "src", "tandemctl", "tandemctl")
MASTER = ("oxadminmaster", "master-secret")


def run_ctl(url, *args, user=MASTER[0], password=MASTER[1], timeout=120):
    env = dict(os.environ)
    env.pop("TANDEM_URL", None)
    argv = [TANDEMCTL, "--url", url]
    if user is not None:
        argv += ["-A", user, "-P", password]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=timeout,
                          env=env)


class Cluster:
    """One or more tandemd nodes on one configdb."""

    def __init__(self, workdir, configdb_url, extra=""):
        self.workdir = workdir
        self.configdb_url = configdb_url
        self.extra = extra
        self.nodes = []
        r = subprocess.run([TANDEMCTL, "initconfigdb", "--configdb-url", configdb_url,
                            "--master-user", MASTER[0], "--master-pass", MASTER[1]],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def start_node(self, route="OX-1", node_extra=""):
        """node_extra: more sections for this node alone, after the shared ones."""
        port = free_port()
        d = os.path.join(self.workdir, route)
        os.makedirs(d, exist_ok=True)
        conf = write_config(d, f"[server]\nroute = {route}\nlisten = 127.0.0.1:{port}\n"
                               f"data_dir = {d}/data\nworkers = 8\n"
                               f"[configdb]\nurl = {self.configdb_url}\n{self.extra}{node_extra}")
        node = Process([TANDEMD, "--config", conf], port, d)
        self.nodes.append(node)
        return node

    @property
    def url(self):
        return f"http://127.0.0.1:{self.nodes[0].port}"

    def ctl(self, *args, **kw):
        return run_ctl(self.url, *args, **kw)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        assert r.returncode == 0, f"tandemctl {' '.join(args)} failed:\n{r.stderr}"
        return r

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw).stdout)

    def fail(self, *args, code=1, **kw):
        """Runs tandemctl expecting exit code; returns its stderr."""
        r = self.ctl(*args, **kw)
        assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        return r.stderr

    def stop(self):
        for n in self.nodes:
            code = n.stop()
            assert code == 0, f"tandemd exited with {code}:\n{n.stderr()[-3000:]}"


def sqlite_rows(path, sql, params=()):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def sqlite_dump(path):
    """Every row of every table, for 'nothing changed' checks."""
    if not os.path.exists(path):
        return None
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in tables}
    finally:
        con.close()


class ApiClient:
    """A browser-like client of /api/v1: keeps cookies, sends the session id as X-Session."""

    def __init__(self, port, user_agent="tandem-tests/1", source="127.0.0.1"):
        self.port = port
        self.user_agent = user_agent
        self.source = source
        self.cookies = {}
        self.session = None

    def request(self, method, path, body=None, headers=None, raw=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                          source_address=(self.source, 0))
        h = {"User-Agent": self.user_agent}
        if self.session:
            h["X-Session"] = self.session
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if headers:
            h.update(headers)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        ctype = resp.getheader("Content-Type") or ""
        parsed = json.loads(payload) if payload and ctype.startswith("application/json") \
            else payload
        return resp.status, parsed, resp

    def login(self, login, password, client="test", stay=False):
        status, body, resp = self.request("POST", "/api/v1/login",
                                          {"login": login, "password": password,
                                           "client": client, "staySignedIn": stay})
        if status == 200:
            self.session = body["session"]
        return status, body, resp
