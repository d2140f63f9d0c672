# SPDX-License-Identifier: MIT
# The session behind a TLS-terminating tandem-lb: the secret cookie is Secure when the client
# used HTTPS (as the trusted balancer says), never because a client claims it; ip_check
# compares the client's address behind trusted proxies, not the balancer's.
import http.client
import json

import pytest

from cluster_setup import provision
from conftest import free_port
from lb_setup import start_lb, stop_lb
from provisioning import ApiClient, Cluster
from test_lb_tls import client_context, make_cert, tls_section


@pytest.fixture
def site(workdir):
    """make(server="", session="") -> (cluster, lb, cert): one node with context 1 behind a
    tandem-lb with a plain and a TLS listener."""
    made = []

    def make(server="", session=""):
        extra = (f"[server]\n{server}" if server else "") + \
                (f"[session]\n{session}" if session else "")
        c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=extra)
        made.append(c)
        c.start_node()
        provision(c, workdir)
        tls_port = free_port()
        cert, key = make_cert(workdir)
        lb = start_lb(workdir, [("OX-1", c.nodes[0].port, 50, "ready")],
                      extra=tls_section(tls_port, cert, key))
        lb.tls_port = tls_port
        made.append(lb)
        return c, lb, cert

    yield make
    for thing in reversed(made):
        if isinstance(thing, Cluster):
            thing.stop()
        else:
            stop_lb(thing)


def secret_cookie(set_cookies):
    return next(v for v in set_cookies if v.startswith("tandem-secret-"))


def login_https(lb, cert, login="alice"):
    """Logs in over HTTPS through the balancer; returns the Set-Cookie values."""
    c = http.client.HTTPSConnection("localhost", lb.tls_port, context=client_context(cert),
                                    timeout=60)
    try:
        body = json.dumps({"login": login, "password": f"{login}_pw", "client": "t"})
        c.request("POST", "/api/v1/login", body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200
        return [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
    finally:
        c.close()


def test_the_secret_cookie_is_secure_over_https_through_a_trusted_balancer(site):
    c, lb, cert = site(server="trusted_proxies = 127.0.0.1/32\n")
    cookies = login_https(lb, cert)
    assert "; Secure" in secret_cookie(cookies)
    # the same login over plain HTTP through the balancer: not Secure
    status, _, resp = ApiClient(lb.port).login("alice", "alice_pw")
    assert status == 200
    plain = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
    assert "Secure" not in secret_cookie(plain)


def test_a_client_cannot_ask_for_secure_and_an_untrusted_balancer_is_not_believed(site):
    c, lb, cert = site()  # no trusted_proxies: the balancer's X-Forwarded-Proto means nothing
    cookies = login_https(lb, cert)
    assert "Secure" not in secret_cookie(cookies)
    status, _, resp = ApiClient(c.nodes[0].port).request(
        "POST", "/api/v1/login", {"login": "alice", "password": "alice_pw"},
        headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert "Secure" not in secret_cookie(
        [v for k, v in resp.getheaders() if k.lower() == "set-cookie"])


def test_ip_check_strict_compares_the_client_behind_the_balancer(site):
    c, lb, _ = site(server="trusted_proxies = 127.0.0.1/32\n", session="ip_check = strict\n")
    alice = ApiClient(lb.port, source="127.0.0.2")
    assert alice.login("alice", "alice_pw")[0] == 200
    assert alice.request("GET", "/api/v1/session")[0] == 200
    # the same id and cookie from another client address, through the same balancer
    alice.source = "127.0.0.3"
    assert alice.request("GET", "/api/v1/session")[0] == 401
    alice.source = "127.0.0.2"
    assert alice.request("GET", "/api/v1/session")[0] == 200
