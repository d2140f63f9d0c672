# SPDX-License-Identifier: MIT
# Reaching Redis safely (docs/security-redis.md): nodes share sessions over rediss:// as an ACL
# user limited to the cluster's keys and to the commands Tandem uses, with the password in a
# file; a wrong password, an untrusted certificate and a plain URL to a TLS-only port each
# answer 503 SES-0503 naming the cause, which the log repeats.
import os

import pytest

from cluster_setup import login, start_cluster
from conftest import free_port
from fixtures_redis import start_redis  # noqa: F401  (pytest fixture)
from lb_setup import start_lb, stop_lb
from provisioning import ApiClient
from redis_harness import Pki, SentinelSet
from test_lb_manager import admin_section, members, two  # noqa: F401 (fixture)
from test_lb_share import member, patch, wait_for

# What an ACL user for Tandem needs (docs/security-redis.md lists the same): the keys of its
# cluster (here named "t") and these commands, nothing else. EVAL runs the session revocation
# (INCR, SMEMBERS, SREM, ZRANGE, HGET, DEL, ZREM) and, with MariaDB replicas, the position
# scripts (EXISTS, HGET, HSET), and the WebDAV lock store's (TIME, HGET, HSET, HDEL, HLEN,
# HGETALL, ZADD, ZREM, ZRANGEBYLEX, PEXPIRE, DEL); SELECT only for a db other than 0; SET (NX) for the cookie salt
# when [session] cookie_salt is not set.
TANDEM_COMMANDS = ("role client|setname select wait eval exists get set incr hget hset hgetall "
                   "hmget hincrby hexists hdel hlen del pexpire time sadd srem smembers "
                   "srandmember zadd zcard zrange zrangebylex zrevrange "
                   "zrem zremrangebyscore xadd xread xrange xrevrange xlen xinfo|stream "
                   "multi exec watch unwatch").split()
ACL_USER = "tandem on >{pw} resetkeys ~tandem:t:* resetchannels -@all " + \
    " ".join(f"+{c}" for c in TANDEM_COMMANDS)
ADMIN_PW = "admin-pw"


@pytest.fixture
def pki(workdir):
    d = os.path.join(workdir, "pki")
    os.makedirs(d)
    return Pki(d)


@pytest.fixture
def secure_redis(start_redis, pki):  # noqa: F811
    """A TLS-only Redis whose default user has a password and with the ACL user tandem."""
    return start_redis(tls=pki, tls_only=True, password=ADMIN_PW,
                       users=[ACL_USER.format(pw="tandem-pw")])


def write(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def store_of(redis, user="tandem"):
    return f"rediss://{user}@127.0.0.1:{redis.port}/0"


def tls_extra(pki, password_file, ca=None):
    return (f"store_password_file = {password_file}\n"
            f"store_tls_ca = {ca or pki.ca}\n")


def refused_login(c, *want):
    """A login on node 0 answers 503 SES-0503 naming every string of want; returns the
    message."""
    status, body, _ = ApiClient(c.nodes[0].port).login("alice", "alice_pw")
    assert status == 503 and body["error"]["code"] == "SES-0503", body
    for w in want:
        assert w in body["error"]["message"], body
    return body["error"]["message"]


def start_refusing(workdir, store, extra):
    """One node whose Redis refuses it: provisioning works (it needs no Redis), logins
    answer 503."""
    return start_cluster(workdir, store, nodes=1, extra=extra, users=("alice",))


def test_two_nodes_share_sessions_over_tls_as_a_limited_acl_user(workdir, pki, secure_redis):
    pw_file = write(workdir, "redis-password", "tandem-pw\n")
    # backup_count: logins WAIT for a replica too (there is none: a shortfall, logged)
    # no cookie_salt: the nodes agree on one in Redis (SET NX), within the ACL too
    c = start_cluster(workdir, store_of(secure_redis), salt=None,
                      extra=tls_extra(pki, pw_file) + "backup_count = 1\nbackup_timeout = 50ms\n")
    try:
        alice = login(c, "alice", node=0)
        me1 = alice.request("GET", "/api/v1/session")
        assert me1[0] == 200, me1
        alice.port = c.nodes[1].port
        me2 = alice.request("GET", "/api/v1/session")
        assert me2[0] == 200 and me2[1]["session"] == me1[1]["session"], me2
        # more of what nodes do in Redis: membership, the stream, logout everywhere, and a
        # password change that ends sessions
        stats = c.json("clusterstats")
        assert len(stats["members"]) == 2, stats
        assert alice.request("POST", "/api/v1/logout?all=1")[0] == 200
        bob = login(c, "bob", node=1)
        c.ok("changeuser", "-c", "1", "-u", "bob", "-p", "bob_pw2")
        assert bob.request("GET", "/api/v1/session")[0] == 401
        # every command a node sent was allowed: the list above (and in the docs) is whole
        assert secure_redis.cli("ACL", "LOG") == []
        clients = secure_redis.cli("CLIENT", "LIST")
        assert "user=tandem" in clients and "name=tandem-OX-2" in clients
    finally:
        c.stop()


def test_a_wrong_password_answers_503_naming_auth(workdir, pki, secure_redis):
    pw_file = write(workdir, "redis-password", "not-the-password\n")
    c = start_refusing(workdir, store_of(secure_redis), tls_extra(pki, pw_file))
    try:
        refused_login(c, "AUTH failed", "WRONGPASS")
        c.nodes[0].wait_stderr("AUTH failed: WRONGPASS")
    finally:
        c.stop()


def test_an_untrusted_certificate_is_refused_with_the_reason(workdir, pki, secure_redis):
    pw_file = write(workdir, "redis-password", "tandem-pw\n")
    c = start_refusing(workdir, store_of(secure_redis),
                       tls_extra(pki, pw_file, ca=pki.other_ca))
    try:
        refused_login(c, f"127.0.0.1:{secure_redis.port}",
                      "TLS: the server's certificate is not trusted")
        c.nodes[0].wait_stderr("certificate is not trusted")
    finally:
        c.stop()


def test_a_plain_url_to_a_tls_only_port_says_so(workdir, secure_redis):
    c = start_refusing(workdir, f"redis://:{ADMIN_PW}@127.0.0.1:{secure_redis.port}/0", "")
    try:
        refused_login(c, "(a TLS port? then use rediss://)")
    finally:
        c.stop()


def test_balancers_share_their_state_over_tls_as_the_acl_user(workdir, pki, secure_redis,
                                                             two):  # noqa: F811
    pw_file = write(workdir, "redis-password", "tandem-pw")  # no final newline: fine too
    section = (f"[cluster]\nname = t\nstore = {store_of(secure_redis)}\n"
               + tls_extra(pki, pw_file))
    a1, a2 = free_port(), free_port()
    lb1 = start_lb(workdir, members(two), extra=admin_section(a1) + section)
    lb2 = start_lb(workdir, members(two), extra=admin_section(a2) + section, name="lb2")
    try:
        patch(a1, "OX-2", {"state": "maint"})
        wait_for(lambda: member(a2, "OX-2")["state"] == "maint", timeout=10)
        assert "sharing the manager state through rediss://tandem@" in lb1.stderr()
        assert secure_redis.cli("ACL", "LOG") == []
    finally:
        stop_lb(lb1)
        stop_lb(lb2)


def test_sentinels_with_a_password_are_asked_with_it(workdir):
    with SentinelSet(replicas=0, sentinel_password="sentinel-pw") as sset:
        d1 = os.path.join(workdir, "without")
        os.makedirs(d1)
        c = start_refusing(d1, sset.url, "")
        try:
            refused_login(c, "NOAUTH", "store_sentinel_password")
        finally:
            c.stop()
        d2 = os.path.join(workdir, "with")
        os.makedirs(d2)
        pw_file = write(d2, "sentinel-password", "sentinel-pw\n")
        c = start_cluster(d2, sset.url, nodes=1, users=("alice",),
                          extra=f"store_sentinel_password_file = {pw_file}\n")
        try:
            login(c, "alice")
        finally:
            c.stop()
