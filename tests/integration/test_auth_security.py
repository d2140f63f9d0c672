# SPDX-License-Identifier: MIT
# Logins under attack (docs/internals/sessions.md "Throttles", "Password hashing"): throttles
# count the client behind trusted proxies and the canonical user, so one client cannot lock
# others out; an unknown user costs what a wrong password does; tenants cannot choose what a
# login costs the server.
import base64
import ctypes
import ctypes.util
import glob
import sqlite3
import statistics
import threading
import time

import pytest

from cluster_setup import provision
from conftest import scrape_metrics
from lb_setup import start_lb, stop_lb
from provisioning import MASTER, ApiClient, Cluster, run_ctl

ATTACKER, VICTIM = "127.0.0.3", "127.0.0.2"
BEHIND_LB = "trusted_proxies = 127.0.0.1/32\n"
BOUNDS = "argon2id v=19 with m=8192-65536 (KiB: 8-64 MiB), t=1-4 and p=1"
MIB = 1024 * 1024


@pytest.fixture
def site(workdir):
    """make(server="", lb=False): one node with context 1 (alice, bob; oxadmin/admin_pw) and
    `server` lines in its [server]; with lb, tandem-lb in front. Returns (cluster, lb)."""
    made = []

    def make(server="", lb=False):
        c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                    extra=f"[server]\n{server}" if server else "")
        made.append(c)
        c.start_node()
        provision(c, workdir)
        balancer = None
        if lb:
            # the admin API through the balancer: allowed from loopback (closed by default)
            balancer = start_lb(workdir, [("OX-1", c.nodes[0].port, 50, "ready")],
                                balancer="admin_allow = 127.0.0.0/8\n")
            made.append(balancer)
        return c, balancer

    yield make
    for thing in reversed(made):
        if isinstance(thing, Cluster):
            thing.stop()
        else:
            stop_lb(thing)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def admin(port, method, path, body=None, user=MASTER, source="127.0.0.1"):
    status, answer, _ = ApiClient(port, source=source).request(method, path, body,
                                                               headers=basic(*user))
    return status, answer


def user_body(login, **fields):
    return {"login": login, "display_name": login, "given_name": "G", "sur_name": "S",
            "email": f"{login}@example.com", **fields}


def argon2id(password, passes, memory):
    """An argon2id string made by libsodium with these parameters (not tandemd's)."""
    lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
    assert lib.sodium_init() >= 0
    out = ctypes.create_string_buffer(128)
    assert lib.crypto_pwhash_str_alg(out, password.encode(), ctypes.c_ulonglong(len(password)),
                                     ctypes.c_ulonglong(passes), ctypes.c_size_t(memory),
                                     ctypes.c_int(2)) == 0  # crypto_pwhash_ALG_ARGON2ID13
    return out.value.decode()


def with_params(h, params):
    """h with other parameters in its text (not a hash anyone could verify)."""
    head, rest = h.split("$m=", 1)
    return f"{head}${params}${rest.split('$', 1)[1]}"


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def userdb(workdir):
    (path,) = glob.glob(f"{workdir}/u/*.sqlite")
    return path


# ---------------------------------------------------------------- throttles


def attack(send):
    """One client's failed logins, send(login, n) -> status: bob until refused, then other users
    until its address is refused (20 failures in all)."""
    assert [send("bob", n) for n in range(6)] == [401] * 5 + [429]
    assert [send(f"nobody{n}", 10 + n) for n in range(40)] == [401] * 15 + [429] * 25


def test_behind_the_balancer_one_client_does_not_lock_out_another(site):
    c, lb = site(BEHIND_LB, lb=True)
    attacker = ApiClient(lb.port, source=ATTACKER)
    attack(lambda login, n: attacker.login(login, "wrong")[0])
    status, body, resp = attacker.login("alice", "alice_pw")
    assert status == 429 and body["error"]["code"] == "SES-0429"
    assert 0 < int(resp.getheader("Retry-After")) <= 300
    # everyone else comes through the same balancer, bob included
    for login in ("bob", "alice"):
        status, body, _ = ApiClient(lb.port, source=VICTIM).login(login, f"{login}_pw")
        assert status == 200, body
    # the node names the client, not the balancer
    c.nodes[0].wait_stderr(f"login failed for bob from {ATTACKER}")


def test_without_trusted_proxies_a_client_cannot_choose_its_address(site):
    c, _ = site()
    port = c.nodes[0].port
    attacker = ApiClient(port, source=ATTACKER)
    # every attempt claims another address
    attack(lambda login, n: attacker.request(
        "POST", "/api/v1/login", {"login": login, "password": "wrong"},
        headers={"X-Forwarded-For": f"198.51.100.{n}"})[0])
    # naming the attacker's address does not make the victim the attacker either
    status, body, _ = ApiClient(port, source=VICTIM).request(
        "POST", "/api/v1/login", {"login": "bob", "password": "bob_pw"},
        headers={"X-Forwarded-For": ATTACKER})
    assert status == 200, body
    c.nodes[0].wait_stderr(f"login failed for bob from {ATTACKER}")


def test_spellings_of_a_user_count_as_one(site):
    c, _ = site()
    port = c.nodes[0].port
    attacker = ApiClient(port, source=ATTACKER)
    for login in ("bob", "bob@defaultcontext", "BOB@1", "bob@1", "Bob"):
        assert attacker.login(login, "wrong")[0] == 401, login
    for login in ("bob", "bob@1", "bob@defaultcontext"):
        status, body, _ = attacker.login(login, "bob_pw")
        assert status == 429 and body["error"]["code"] == "SES-0429", (login, body)
    assert attacker.login("alice", "alice_pw")[0] == 200
    assert ApiClient(port, source=VICTIM).login("bob@1", "bob_pw")[0] == 200


def test_bad_admin_logins_from_one_client_do_not_lock_out_tandemctl(site):
    c, lb = site(BEHIND_LB, lb=True)
    statuses = [admin(lb.port, "GET", "/admin/v1/servers", source=ATTACKER,
                      user=(MASTER[0] if i % 2 else f"guess{i}", "wrong"))[0]
                for i in range(25)]
    assert statuses == [401] * 10 + [429] * 15
    status, body = admin(lb.port, "GET", "/admin/v1/servers", source=ATTACKER)
    assert status == 429 and body["error"]["code"] == "ADM-0429"
    # tandemctl (from 127.0.0.1) and another client with the master's name still get in
    r = run_ctl(f"http://127.0.0.1:{lb.port}", "listcontext")
    assert r.returncode == 0 and "defaultcontext" in r.stdout, r.stderr
    assert admin(lb.port, "GET", "/admin/v1/servers", source=VICTIM)[0] == 200


# ---------------------------------------------------------------- timing


def test_unknown_users_cost_what_a_wrong_password_costs(site):
    c, _ = site()
    port = c.nodes[0].port
    status, answer = admin(port, "POST", "/admin/v1/contexts/1/users/batch",
                           {"users": [user_body(f"t{i}", password=f"t{i}_pw") for i in range(15)]})
    assert status == 201, answer
    logins = {"wrong password": "t{}", "unknown user": "nobody{}", "unknown context": "t{}@nosuch"}
    times = {kind: [] for kind in logins}
    # interleaved, each round from its own address and with its own user: no throttle counts
    for i in range(15):
        for kind, login in logins.items():
            api = ApiClient(port, source=f"127.0.1.{i + 1}")
            start = time.perf_counter()
            status = api.login(login.format(i), "wrong")[0]
            times[kind].append(time.perf_counter() - start)
            assert status == 401, (kind, status)
    median = {kind: statistics.median(t) for kind, t in times.items()}
    for kind in ("unknown user", "unknown context"):
        assert 0.5 <= median[kind] / median["wrong password"] <= 2, median


# ---------------------------------------------------------------- what tenants may cost


def test_password_hash_parameters_are_bounded(site):
    c, _ = site()
    port = c.nodes[0].port
    good = argon2id("imported_pw", 3, 32 * MIB)
    huge = with_params(good, "m=1048576,t=2,p=1")
    calls = [
        ("/admin/v1/contexts/1/users", user_body("huge", password_hash=huge), MASTER),
        ("/admin/v1/contexts/1/users", user_body("huge", password_hash=huge),
         ("oxadmin", "admin_pw")),
        ("/admin/v1/contexts/1/users/batch",
         {"users": [user_body("ok", password="pw"), user_body("huge", password_hash=huge)]},
         MASTER),
        ("/admin/v1/contexts", {"id": 2, "quota_mb": 10, "mappings": ["two"],
                                "admin": user_body("oxadmin", password_hash=huge)}, MASTER),
    ]
    for path, body, user in calls:
        status, answer = admin(port, "POST", path, body, user=user)
        assert status == 400, (path, answer)
        message = answer["error"]["message"]
        assert "m=1048576,t=2,p=1" in message and BOUNDS in message, answer
    for params in ("m=19456,t=5,p=1", "m=4096,t=2,p=1", "m=19456,t=2,p=2", "m=65537,t=1,p=1"):
        status, answer = admin(port, "POST", "/admin/v1/contexts/1/users",
                               user_body("odd", password_hash=with_params(good, params)))
        assert status == 400, (params, answer)
        assert BOUNDS in answer["error"]["message"], (params, answer)
    assert ApiClient(port).login("huge", "imported_pw")[0] == 401
    # in range, made elsewhere: accepted, and it logs in
    status, answer = admin(port, "POST", "/admin/v1/contexts/1/users",
                           user_body("imported", password_hash=good))
    assert status == 201, answer
    assert ApiClient(port).login("imported", "imported_pw")[0] == 200


def test_a_stored_hash_out_of_bounds_is_not_run(site, workdir):
    c, _ = site()
    node = c.nodes[0]
    # written before the bounds existed: 256 MiB a login
    stored = with_params(argon2id("x", 2, 19 * MIB), "m=262144,t=2,p=1")
    con = sqlite3.connect(userdb(workdir))
    con.execute("UPDATE users SET password_hash=? WHERE login IN ('bob', 'oxadmin')", (stored,))
    con.commit()
    con.close()
    before = peak_rss(node.pid)
    assert ApiClient(node.port).login("bob", "bob_pw")[0] == 401
    line = node.wait_stderr("login of bob@1 (user ")
    assert "refused: its stored password_hash parameters m=262144,t=2,p=1" in line
    status, _ = admin(node.port, "GET", "/admin/v1/contexts/1/users", user=("oxadmin", "x"))
    assert status == 401
    node.wait_stderr("admin login oxadmin in context 1 refused: its stored password_hash")
    assert peak_rss(node.pid) - before < 128 * MIB
    assert ApiClient(node.port).login("alice", "alice_pw")[0] == 200


def test_concurrent_hashing_is_bounded(site):
    c, _ = site("max_concurrent_hashing = 1\nhashing_wait = 200ms\n")
    node = c.nodes[0]
    heavy = argon2id("heavy_pw", 1, 64 * MIB)  # the most a tenant may ask for
    status, answer = admin(node.port, "POST", "/admin/v1/contexts/1/users/batch",
                           {"users": [user_body(f"heavy{i}", password_hash=heavy)
                                      for i in range(16)]})
    assert status == 201, answer
    assert ApiClient(node.port, source="127.0.2.1").login("heavy0", "heavy_pw")[0] == 200
    before = peak_rss(node.pid)  # one verification's 64 MiB included

    results, start = [None] * 16, threading.Barrier(16)

    def login(i):
        start.wait()
        status, body, resp = ApiClient(node.port, source=f"127.0.2.{i + 2}").login(
            f"heavy{i}", "heavy_pw")
        results[i] = (status, body, resp.getheader("Retry-After"))

    threads = [threading.Thread(target=login, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in results), results
    statuses = [r[0] for r in results]
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses
    for status, body, retry in results:
        if status == 503:
            assert body["error"] == {"code": "SES-0503",
                                     "message": "too many logins in progress; try again"}
            assert retry == "1"
    m = scrape_metrics(node.port)
    assert m["tandem_password_hashing_slots"] == 1
    assert (m['tandem_password_hashing_refused_total{reason="timeout"}'] +
            m['tandem_password_hashing_refused_total{reason="queue_full"}']) == statuses.count(503)
    # one argon2id at a time: no more memory at the peak than for one
    grown = peak_rss(node.pid) - before
    assert grown < 100 * MIB, f"peak RSS grew by {grown // MIB} MiB ({statuses})"
    assert ApiClient(node.port, source="127.0.2.99").login("heavy1", "heavy_pw")[0] == 200
