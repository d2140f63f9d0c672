# SPDX-License-Identifier: MIT
# Sessions end when what they stand for ends (docs/security.md): a password change, a user or
# context disabled or deleted end them on every node within a second; a context id created
# again never takes the sessions of the one before; the store holds only a keyed digest of
# the secret, so a record written into Redis by someone else is no session. Run against the
# memory store (one node) and against Redis (two nodes), through real processes.
import time

import pytest

from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from cluster_setup import ADMIN, create_user, login, start_cluster
from provisioning import ApiClient, run_ctl

STORES = ["memory", "redis"]


@pytest.fixture(params=STORES)
def cluster(request, workdir):
    if request.param == "memory":
        c = start_cluster(workdir, "memory", nodes=1)
        c.redis = None
    else:
        redis = request.getfixturevalue("redis_server")
        c = start_cluster(workdir, redis.url, nodes=2)
        c.redis = redis
    yield c
    c.stop()


def status_on(api, node):
    api.port = node.port
    return api.request("GET", "/api/v1/session")[0]


def sessions_everywhere(c, name):
    """A session of `name` made on each node, each checked to work on every node."""
    apis = [login(c, name, node=i) for i in range(len(c.nodes))]
    for api in apis:
        for node in c.nodes:
            assert status_on(api, node) == 200
    return apis


def assert_ended_within_a_second(c, apis):
    """Every api's session answers 401 on every node within one second from now."""
    deadline = time.monotonic() + 1.0
    pending = [(a, n) for a in apis for n in c.nodes]
    while pending:
        pending = [(a, n) for a, n in pending if status_on(a, n) != 401]
        if pending:
            assert time.monotonic() < deadline, f"{len(pending)} session checks still pass"
            time.sleep(0.05)


def test_a_password_change_ends_the_users_sessions_on_every_node(cluster):
    bob = sessions_everywhere(cluster, "bob")
    alice = login(cluster, "alice")
    cluster.ok("changeuser", "-c", "1", "-u", "bob", "-p", "bob_new_pw")
    assert_ended_within_a_second(cluster, bob)
    assert status_on(alice, cluster.nodes[-1]) == 200  # nobody else's
    for node in cluster.nodes:
        assert ApiClient(node.port).login("bob", "bob_pw")[0] == 401
        assert ApiClient(node.port).login("bob", "bob_new_pw")[0] == 200


def test_a_change_of_name_keeps_the_sessions(cluster):
    bob = sessions_everywhere(cluster, "bob")
    cluster.ok("changeuser", "-c", "1", "-u", "bob", "-d", "Robert")
    for api in bob:
        for node in cluster.nodes:
            assert status_on(api, node) == 200


@pytest.mark.parametrize("how", ["disable", "delete"])
def test_a_disabled_or_deleted_user_loses_every_session(cluster, how):
    bob = sessions_everywhere(cluster, "bob")
    alice = login(cluster, "alice")
    if how == "disable":
        cluster.ok("changeuser", "-c", "1", "-u", "bob", "--disable", "left the company")
    else:
        cluster.ok("deleteuser", "-c", "1", "-u", "bob")
    assert_ended_within_a_second(cluster, bob)
    assert status_on(alice, cluster.nodes[0]) == 200


def test_a_disabled_context_loses_every_session_and_enabling_does_not_bring_them_back(cluster):
    users = sessions_everywhere(cluster, "alice") + sessions_everywhere(cluster, "bob")
    cluster.ok("disablecontext", "-c", "1", "--reason", "unpaid invoice")
    assert_ended_within_a_second(cluster, users)
    cluster.ok("enablecontext", "-c", "1")
    for api in users:
        for node in cluster.nodes:
            assert status_on(api, node) == 401
    assert login(cluster, "alice").request("GET", "/api/v1/session")[0] == 200


def test_a_context_created_again_with_the_same_id_does_not_take_old_sessions(cluster):
    alice = sessions_everywhere(cluster, "alice")
    old_uid = alice[0].uid
    cluster.ok("deletecontext", "-c", "1")
    # the new tenant: the same id, the same user ids in the same order
    cluster.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", *ADMIN)
    create_user(cluster, "alice")
    fresh = login(cluster, "alice")
    assert fresh.uid == old_uid  # the ids really are the same
    assert_ended_within_a_second(cluster, alice)
    assert status_on(fresh, cluster.nodes[-1]) == 200


def test_a_context_admins_new_password_works_at_once_and_the_old_one_stops(cluster):
    # the old password is verified (and cached) on every node first
    for node in cluster.nodes:
        r = run_ctl(f"http://127.0.0.1:{node.port}", "listuser", "-c", "1", user="oxadmin",
                    password="admin_pw")
        assert r.returncode == 0, r.stderr
    cluster.ok("changeuser", "-c", "1", "-u", "oxadmin", "-p", "admin_pw2")
    for node in cluster.nodes:
        url = f"http://127.0.0.1:{node.port}"
        old = run_ctl(url, "listuser", "-c", "1", user="oxadmin", password="admin_pw")
        assert old.returncode != 0 and "401" in old.stderr + old.stdout, old
        new = run_ctl(url, "listuser", "-c", "1", user="oxadmin", password="admin_pw2")
        assert new.returncode == 0, new.stderr


def test_a_disabled_contexts_admin_cannot_create_users(cluster):
    r = cluster.ctl("listuser", "-c", "1", user="oxadmin", password="admin_pw")
    assert r.returncode == 0, r.stderr  # cached as a working admin
    cluster.ok("disablecontext", "-c", "1", "--reason", "unpaid invoice")
    r = cluster.ctl("createuser", "-c", "1", "-u", "mallory", "-d", "M", "-g", "M", "-s", "M",
                    "-p", "mallory_pw", "-e", "m@example.com", user="oxadmin",
                    password="admin_pw")
    assert r.returncode != 0
    assert "disabled" in r.stderr + r.stdout and "unpaid invoice" in r.stderr + r.stdout
    listed = cluster.json("listuser", "-c", "1")["users"]
    assert "mallory" not in [u["login"] for u in listed]


def test_the_store_holds_no_secret_and_a_record_written_into_it_is_no_session(cluster):
    if cluster.redis is None:
        pytest.skip("the memory store is inside the node")
    alice = login(cluster, "alice")
    secret = next(v for k, v in alice.cookies.items() if k.startswith("tandem-secret-"))
    r = cluster.redis.connect()
    try:
        key = f"tandem:t:v1:s:{alice.session}"
        flat = r.command("HGETALL", key)
        record = dict(zip(flat[::2], flat[1::2]))
        assert record, "the session is in Redis"
        assert secret not in [v.decode() if isinstance(v, bytes) else v
                              for v in record.values()]
        # someone who can write to Redis copies alice's record under an id of theirs and
        # puts a secret they know where the secret (or its digest) goes
        forged_id, forged_secret = "f" * 32, "0123456789abcdef" * 2
        field = next(k for k in record if (k.decode() if isinstance(k, bytes) else k)
                     in ("k", "d"))
        record[field] = forged_secret
        args = []
        for k, v in record.items():
            args += [k, v]
        r.command("HSET", f"tandem:t:v1:s:{forged_id}", *args)
        r.command("PEXPIRE", f"tandem:t:v1:s:{forged_id}", "60000")
    finally:
        r.close()
    thief = ApiClient(cluster.nodes[0].port)
    thief.session = forged_id
    cookie = next(k for k in alice.cookies if k.startswith("tandem-secret-"))
    thief.cookies = {cookie: forged_secret}
    for node in cluster.nodes:
        assert status_on(thief, node) == 401
    assert status_on(alice, cluster.nodes[0]) == 200


def test_a_revocation_while_redis_refuses_is_done_before_any_session_is_honoured(cluster):
    if cluster.redis is None:
        pytest.skip("the memory store cannot fail")
    bob = sessions_everywhere(cluster, "bob")
    admin = cluster.redis.connect()
    try:
        # Redis keeps its data but refuses the nodes: new connections fail AUTH, the old
        # ones are cut
        admin.command("CONFIG", "SET", "requirepass", "locked")
        for line in admin.command("CLIENT", "LIST").splitlines():
            fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
            if fields.get("name", "").startswith("tandem-"):
                admin.command("CLIENT", "KILL", "ID", fields["id"])
        cluster.ok("changeuser", "-c", "1", "-u", "bob", "-p", "bob_new_pw")
        assert status_on(bob[0], cluster.nodes[0]) == 503
        admin.command("AUTH", "locked")
        admin.command("CONFIG", "SET", "requirepass", "")
    finally:
        admin.close()
    # the node that took the change ends the sessions before it answers for any session
    # again; the sessions are gone for every node
    deadline = time.monotonic() + 10
    while status_on(bob[0], cluster.nodes[0]) == 503:
        assert time.monotonic() < deadline, "the node did not reconnect to Redis"
        time.sleep(0.2)
    for api in bob:
        for node in cluster.nodes:
            assert status_on(api, node) == 401
    assert ApiClient(cluster.nodes[1].port).login("bob", "bob_new_pw")[0] == 200
