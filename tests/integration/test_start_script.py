# SPDX-License-Identifier: MIT
# scripts/start.sh for real, against the ASan build on ports chosen at run time: Redis, two
# nodes and the balancer come up, alice logs in through the balancer and her session works on
# both nodes, SIGTERM to the script stops every process it started, and a second start reuses
# the data (her session too: Redis keeps it) without provisioning again. A node drained with
# tandemctl exits while the rest keep serving, and SIGUSR1 brings it back.
import base64
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from cluster_setup import wait_for
from conftest import BUILD, ROOT, free_port
from provisioning import ApiClient, run_ctl
from redis_harness import require_redis

START = os.path.join(ROOT, "scripts", "start.sh")


class StartScript:
    """scripts/start.sh in the background; its output is collected line by line."""

    def __init__(self, env):
        self.lines = []
        self.proc = subprocess.Popen([START], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.children = {}

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def output(self):
        return "\n".join(self.lines)

    def wait_line(self, text, timeout=180.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            assert self.proc.poll() is None, \
                f"start.sh exited with {self.proc.returncode}:\n{self.output()[-6000:]}"
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not printed within {timeout}s:\n{self.output()[-6000:]}")

    def find_children(self):
        """{pid: argv} of the processes the script started (its direct children)."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                found[int(entry)] = argv
        self.children = found
        return found

    def stop(self, timeout=120):
        """SIGTERM to the script alone (it stops its processes itself); its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        self.reader.join(timeout=10)
        return self.proc.returncode

    def kill(self):
        """After a failure: the script's own stop first, then every process left by its PID."""
        if self.proc.poll() is None:
            self.find_children()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        for pid in list(self.children) + [self.proc.pid]:
            if alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc.wait()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def manager_get(port, path, password):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    req.add_header("Authorization",
                   "Basic " + base64.b64encode(f"lbadmin:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def run_and_stop(env, ports, check):
    """Starts the script, runs check(script) once it printed its URL, stops it and checks
    that nothing it started is left."""
    s = StartScript(env)
    try:
        s.wait_line(f"Tandem is running on http://127.0.0.1:{ports['lb']}/")
        children = s.find_children()
        names = sorted(os.path.basename(argv[0].split()[0]) for argv in children.values())
        assert names == ["redis-server", "tandem-lb", "tandemd", "tandemd"], children
        check(s)
        code = s.stop()
        assert code == 0, f"start.sh exited with {code}:\n{s.output()[-6000:]}"
    except BaseException:
        s.kill()
        raise
    out = s.output()
    assert "stopped" in out.splitlines()[-1], out[-3000:]
    left = [pid for pid in children if alive(pid)]
    assert not left, f"still running after the stop: {left}"
    busy = [name for name, port in ports.items() if listening(port)]
    assert not busy, f"still listening after the stop: {busy}"
    return out


def login_alice(lb_port):
    api = ApiClient(lb_port)
    status, body, _ = api.login("alice", "alice_password")
    assert status == 200, body
    return api, body


def start_env(workdir):
    """(ports, data directory, environment) for a start.sh on ports chosen now."""
    require_redis()
    ports = {name: free_port() for name in ("lb", "admin", "ox1", "ox2", "redis")}
    assert len(set(ports.values())) == len(ports)
    data = os.path.join(workdir, "data")
    env = dict(os.environ, TANDEM_SKIP_BUILD="1", TANDEM_BIN=os.path.join(BUILD, "src"),
               TANDEM_DATA=data, TANDEM_LISTEN=f"127.0.0.1:{ports['lb']}",
               TANDEM_ADMIN_PORT=str(ports["admin"]),
               TANDEM_NODE_PORTS=f"{ports['ox1']} {ports['ox2']}",
               TANDEM_REDIS_PORT=str(ports["redis"]))
    return ports, data, env


def inbox_of(api):
    """INBOX of the demo mail system (scripts/mail-system.sh, started by start.sh as root)."""
    status, body, _ = api.request("GET", "/api/v1/mail/folders")
    assert status == 200, body
    return [f for f in body["folders"] if f["name"] == "INBOX"][0]


def test_start_script_runs_a_cluster_and_restarts_on_its_data(workdir):
    os.chmod(workdir, 0o755)  # Dovecot's mail user reaches the demo mailboxes in it
    ports, data, env = start_env(workdir)
    first = {}

    def check_first(s):
        s.wait_line(f"Open the web app in a browser: http://127.0.0.1:{ports['lb']}/")
        out = s.output()
        assert "provisioning the demo context (first start)" in out
        assert f"OX-1 http://127.0.0.1:{ports['ox1']}/" in out
        assert f"OX-2 http://127.0.0.1:{ports['ox2']}/" in out
        # the banner ends with the address a user opens, which serves the web app
        last = [line for line in out.splitlines() if line.strip()][-1]
        assert last.startswith(f"Open the web app in a browser: http://127.0.0.1:{ports['lb']}/"), last
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['lb']}/", timeout=30) as r:
            assert r.headers["Content-Type"] == "text/html; charset=utf-8"
            assert b"<title>Tandem</title>" in r.read()
        api, body = login_alice(ports["lb"])
        first["user_id"] = body["user_id"]
        first["api"] = api
        status, me, _ = api.request("GET", "/api/v1/session")
        assert status == 200 and me["login"] == "alice", me
        # the demo mail system: alice has the welcome message
        assert "  mail:            imap://127.0.0.1:" in out, out
        inbox = inbox_of(api)
        assert inbox["total"] == 1 and inbox["unread"] == 1, inbox
        # and its Postfix: alice writes to bob, her copy lands in Sent
        status, sent, _ = api.request("POST", "/api/v1/mail/send", body={
            "to": ["bob@example.com"], "subject": "hello bob", "text": "hi"})
        assert status == 200 and sent["sent_copy"]["folder"] == "Sent", sent
        # The session lives in the private Redis: each node takes it directly.
        for route, port in (("OX-1", ports["ox1"]), ("OX-2", ports["ox2"])):
            node = ApiClient(port)
            node.session, node.cookies = api.session, dict(api.cookies)
            status, me, _ = node.request("GET", "/api/v1/session")
            assert status == 200, me
            assert me["user_id"] == body["user_id"] and me["route"] == route, me
        # A session id alone, without the secret cookie, is not enough.
        bare = ApiClient(ports["lb"])
        bare.session = api.session
        assert bare.request("GET", "/api/v1/session")[0] == 401
        with open(os.path.join(data, "lb_admin_password")) as f:
            password = f.read().strip()
        if f"http://127.0.0.1:{ports['admin']}/manager/" in out:
            assert f"(lbadmin / {password})" in out
            status, raw = manager_get(ports["admin"], "/manager/v1/members", password)
            assert status == 200, raw
            routes = {m["route"] for m in json.loads(raw)["members"]}
            assert routes == {"OX-1", "OX-2"}, raw
            assert manager_get(ports["admin"], "/manager/v1/members", "wrong")[0] == 401
        else:
            assert "manager not served by this tandem-lb build" in out

    run_and_stop(env, ports, check_first)
    with open(os.path.join(data, "cookie_salt")) as f:
        salt = f.read()
    for name in ("OX-1.log", "OX-2.log", "tandem-lb.log", "redis.log"):
        assert os.path.getsize(os.path.join(data, "logs", name)) > 0, name

    def check_second(s):
        assert "provisioning the demo context" not in s.output()
        # Redis kept the first run's session: alice is still logged in.
        status, me, _ = first["api"].request("GET", "/api/v1/session")
        assert status == 200 and me["user_id"] == first["user_id"], me
        api, body = login_alice(ports["lb"])
        assert body["user_id"] == first["user_id"]
        assert inbox_of(api)["total"] == 1  # the mailbox kept, welcomed once

    run_and_stop(env, ports, check_second)
    # the demo Dovecot stopped with the rest
    with open(os.path.join(data, "mail", "env")) as f:
        mail_pid = int(re.search(r"MAIL_PID=(\d+)", f.read()).group(1))
    assert not alive(mail_pid), mail_pid
    with open(os.path.join(data, "mail", "env")) as f:
        smtp_pid = int(re.search(r"MAIL_SMTP_PID=(\d+)", f.read()).group(1))
    assert not alive(smtp_pid), smtp_pid
    with open(os.path.join(data, "cookie_salt")) as f:
        assert f.read() == salt


def test_start_script_survives_a_drained_node_and_brings_it_back(workdir):
    ports, _, env = start_env(workdir)
    node_port = {"OX-1": ports["ox1"], "OX-2": ports["ox2"]}

    def check(s):
        out = s.output()
        assert "drain a node:" in out and "drainnode" in out, out[-3000:]
        assert f"kill -USR1 {s.proc.pid}" in out, out[-3000:]
        api, body = login_alice(ports["lb"])
        drained = body["route"]
        other = "OX-2" if drained == "OX-1" else "OX-1"
        pids = {pid for pid, argv in s.find_children().items()
                if any(a.endswith(f"/{drained}.ini") for a in argv)}
        assert len(pids) == 1, s.children

        # Node verbs refuse the balancer's URL, naming the nodes' URLs, and drain nothing.
        for verb in ("nodestatus", "drainnode"):
            r = run_ctl(f"http://127.0.0.1:{ports['lb']}", verb, user="oxadminmaster",
                        password="admin_master_password")
            assert r.returncode == 1 and "this is a balancer" in r.stderr, r.stdout + r.stderr
            for route, port in node_port.items():
                assert f"{route} http://127.0.0.1:{port}" in r.stderr, r.stderr
            assert "(LB-0421)" in r.stderr, r.stderr
        for port in node_port.values():
            status, health, _ = ApiClient(port).request("GET", "/health")
            assert status == 200, health

        r = run_ctl(f"http://127.0.0.1:{node_port[drained]}", "drainnode",
                    user="oxadminmaster", password="admin_master_password")
        assert r.returncode == 0 and "is draining" in r.stdout, r.stdout + r.stderr
        s.wait_line(f"start.sh: {drained} has drained and exited", timeout=90)
        assert not alive(pids.pop()) and not listening(node_port[drained])
        assert s.proc.poll() is None
        # The cluster keeps serving through the balancer: alice's session fails over, and a
        # new login lands on the node that is left.
        status, me, _ = api.request("GET", "/api/v1/session")
        assert status == 200 and me["route"] == other, me
        bob = ApiClient(ports["lb"])
        status, body, _ = bob.login("bob", "bob_password")
        assert status == 200 and body["route"] == other, body

        os.kill(s.proc.pid, signal.SIGUSR1)
        s.wait_line(f"start.sh: {drained} is back on http://127.0.0.1:{node_port[drained]}/",
                    timeout=90)
        names = sorted(os.path.basename(argv[0].split()[0])
                       for argv in s.find_children().values())
        assert names == ["redis-server", "tandem-lb", "tandemd", "tandemd"], s.children
        # It serves again: directly, and through the balancer for the sessions it made.
        node = ApiClient(node_port[drained])
        node.session, node.cookies = api.session, dict(api.cookies)
        status, me, _ = node.request("GET", "/api/v1/session")
        assert status == 200 and me["route"] == drained, me
        wait_for(f"the balancer sends {drained}'s sessions to it again",
                 lambda: api.request("GET", "/api/v1/session")[1].get("route") == drained,
                 timeout=30)

    run_and_stop(env, ports, check)
