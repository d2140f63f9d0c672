# SPDX-License-Identifier: MIT
# Nodes sharing one configdb and one Redis, provisioned with context 1 and a few users, for the
# cluster tests.
import time

from provisioning import ApiClient, Cluster

ADMIN = ["-u", "oxadmin", "-d", "Admin", "-g", "A", "-s", "D", "-p", "admin_pw",
         "-e", "a@example.com"]


def cluster_config(store, extra="", session="", server="", salt="shared-salt"):
    """Config text every node gets after its own [server] lines (route, listen, data_dir):
    more [server] lines, [session] and [cluster]; extra goes into [cluster]. salt None leaves
    [session] cookie_salt unset."""
    salt_line = f"cookie_salt = {salt}\n" if salt is not None else ""
    return ((f"[server]\n{server}" if server else "") + f"[session]\n{salt_line}{session}"
            f"[cluster]\nname = t\nstore = {store}\ntimeout = 500ms\n"
            f"heartbeat = 500ms\nmember_ttl = 2s\n{extra}")


def create_user(c, login):
    c.ok("createuser", "-c", "1", "-u", login, "-d", login, "-g", "G", "-s", "S",
         "-p", f"{login}_pw", "-e", f"{login}@example.com")


def provision(c, workdir, users=("alice", "bob")):
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
    c.ok("registerdatabase", "-n", "db1", "--url", f"sqlite://{workdir}/u/", "-m", "true")
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login in users:
        create_user(c, login)


def provision_replicated(c, workdir, primary, replica, users=("alice",)):
    """Context 1 on database db1 (MariaDB primary) with its replica db1r (tests/mariadb.py
    servers); the replica caught up at the end."""
    c.ok("registerfilestore", "-t", f"file://{workdir}/fs")
    db = c.json("registerdatabase", "-n", "db1", "--url", primary.url(""), "-m", "true")
    c.ok("registerdatabase", "-n", "db1r", "--url", replica.url(""), "-m", "false",
         "--masterid", str(db["id"]))
    c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    for login in users:
        create_user(c, login)
    replica.wait_replica_caught_up()


def start_cluster(workdir, store, nodes=2, extra="", session="", server="",
                  users=("alice", "bob"), salt="shared-salt"):
    """Nodes OX-1 … OX-n on one SQLite configdb and store; stop with .stop()."""
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=cluster_config(store, extra, session, server, salt))
    for i in range(nodes):
        c.start_node(f"OX-{i + 1}")
    provision(c, workdir, users)
    return c


def login(c, name, node=0):
    """A client of `name` logged in on node number `node` (password <name>_pw)."""
    api = ApiClient(c.nodes[node].port)
    status, body, _ = api.login(name, f"{name}_pw")
    assert status == 200, body
    api.uid = body["user_id"]
    return api


def wait_for(what, check, timeout=10.0):
    """Polls check() until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        v = check()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
