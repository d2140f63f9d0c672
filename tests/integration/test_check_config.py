# SPDX-License-Identifier: MIT
# --check-config refuses what a start would refuse, each problem as file:line: message, and
# the start refuses it the same way: listeners that are not this host's, clash or are not
# numeric; a data_dir, log or state file that cannot be written (by the user the check runs
# as); an announce interface that is not local; database URLs of an unknown scheme; the Redis
# store's URL, password files and TLS files ([cluster] store_*).
import os
import secrets
import subprocess

import pytest

from conftest import TANDEMD, free_port
from lb_setup import TANDEM_LB
from redis_harness import Pki

NOT_LOCAL = "192.0.2.1"  # TEST-NET-1: never an address of this host
ANNOUNCE_KEY = secrets.token_hex(32)


def run(argv, timeout=60, user=None):
    if user is not None:  # as the service's user would run it
        argv = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def refused(daemon, conf, line, message, user=None):
    """--check-config and the start both exit 1 naming conf:line and message."""
    for args in (["--check-config"], []):
        r = run([daemon, *args, "--config", conf], user=user)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert f"{conf}:{line}: {message}" in r.stderr, (args, r.stderr)


@pytest.fixture
def pki(workdir):
    d = os.path.join(workdir, "pki")
    os.makedirs(d)
    return Pki(d)


# ---------------------------------------------------------------- tandemd

SERVER = "[server]\nlisten = 127.0.0.1:{p}\ndata_dir = {w}/data\n"


def node_conf(workdir, text, port):
    """SERVER (3 lines) and text."""
    return write(os.path.join(workdir, "tandemd.ini"),
                 SERVER.format(p=port, w=workdir) + text)


@pytest.mark.parametrize("text,line,message", [
    (SERVER + "[log]\nfile = {w}/no/such/dir/t.log\n", 5,
     "[log] file: {w}/no/such/dir/t.log cannot be created: {w}/no/such/dir: No such file"),
    ("[server]\nlisten = 127.0.0.1:{p}\ndata_dir = {w}/tandemd.ini/d\n", 3,
     "[server] data_dir: {w}/tandemd.ini/d is not a writable directory: Not a directory"),
    ("[server]\nlisten = 127.0.0.1:{p}\nlisten = 0.0.0.0:{p}\ndata_dir = {w}/data\n", 3,
     "[server] listen 127.0.0.1:{p} and 0.0.0.0:{p} cannot both be listened on"),
    ("[server]\nlisten = 127.0.0.1:{p}\nlisten = " + NOT_LOCAL + ":{q}\n", 3,
     "[server] listen " + NOT_LOCAL + ":{q} is not an address of this host"),
    ("[server]\nlisten = localhost:{q}\n", 2,
     "[server] listen localhost:{q}: localhost is not a numeric IPv4 or IPv6 address"),
    (SERVER + "[configdb]\nurl = ftp://db.example/configdb\n", 5,
     "[configdb] url: unknown database URL scheme"),
    (SERVER + "[configdb]\nread_url = postgres://db.example/configdb\n", 5,
     "[configdb] read_url: unknown database URL scheme"),
    (SERVER + "[cluster]\nannounce = 239.255.67.80:6780\nannounce_interface = " + NOT_LOCAL
     + "\nannounce_key = " + ANNOUNCE_KEY + "\n", 6, "[cluster] announce_interface: " + NOT_LOCAL + " is not an address of this host"),
    (SERVER + "[cluster]\nstore = rediss://127.0.0.1:6379\nstore_tls_ca = {w}/none.pem\n", 6,
     "[cluster] store_tls_ca: {w}/none.pem: cannot open: No such file"),
    (SERVER + "[cluster]\nstore = redis://127.0.0.1:6379\nstore_tls_ca = {w}/ca.pem\n", 6,
     "[cluster] store_tls_ca: needs a rediss:// or rediss-sentinel:// store (TLS)"),
    (SERVER + "[cluster]\nstore = redis://tandem@127.0.0.1:6379\n", 5,
     "[cluster] store: the URL names the user 'tandem' but no password"),
    (SERVER + "[cluster]\nstore = redis://tandem@127.0.0.1\nstore_password_file = {w}/pw\n", 6,
     "[cluster] store_password_file: {w}/pw: cannot open: No such file"),
    (SERVER + "[cluster]\nstore = redis://h\nstore_sentinel_user = watcher\n", 6,
     "[cluster] store_sentinel_user: needs a redis-sentinel:// or rediss-sentinel:// store"),
    (SERVER + "[cluster]\nstore = memory\nstore_tls_ca = {w}/ca.pem\n", 6,
     "[cluster] store_tls_ca: is set but [cluster] store is not Redis"),
    (SERVER + "[log]\naccess = {w}/no/such/dir/a.log\n", 5,
     "[log] access: {w}/no/such/dir/a.log cannot be created: {w}/no/such/dir: No such file"),
    (SERVER + "[log]\naccess = syslog\n", 5, "[log] access = syslog needs [log] syslog"),
    (SERVER + "[log]\nsyslog = http://127.0.0.1:514\n", 5,
     "[log] syslog: expected udp://host:port or tcp://host:port"),
    (SERVER + "[log]\nsyslog = udp://::1:514\n", 5,
     "[log] syslog: IPv6 addresses need brackets, e.g. [::1]:8080"),
    (SERVER + "[log]\nsyslog = tcp://127.0.0.1:70000\n", 5,
     "[log] syslog: expected a port number 1-65535"),
    (SERVER + "[log]\nsyslog = udp://127.0.0.1:514\nsyslog_facility = local9\n", 6,
     "[log] syslog_facility: expected a syslog facility"),
    (SERVER + "[log]\nsyslog_app = tandem d\n", 5,
     "[log] syslog_app may only contain printable ASCII characters, no spaces"),
    (SERVER + "[configdb]\nprobe_interval = 10ms\n", 5,
     "[configdb] probe_interval must be 0 (off) or at least 100ms"),
    (SERVER + "[configdb]\nprobe_timeout = 2m\n", 5,
     "[configdb] probe_timeout must be between 100ms and 60s"),
    (SERVER + "[calendar]\ntombstone_days = 40000\n", 5,
     "[calendar] tombstone_days must be at most 36500 (0 = keep them all)"),
    (SERVER + "[calendar]\ntombstone_days = 3d\n", 5, "[calendar] tombstone_days"),
])
def test_tandemd_refuses_what_the_start_would(workdir, text, line, message):
    p, q = free_port(), free_port()
    fill = {"w": workdir, "p": p, "q": q}
    conf = write(os.path.join(workdir, "tandemd.ini"), text.format(**fill))
    refused(TANDEMD, conf, line, message.format(**fill))


def test_tandemd_accepts_redis_over_tls_with_an_acl_user(workdir, pki):
    pw = write(os.path.join(workdir, "redis-password"), "s3cret\n")
    conf = node_conf(workdir, f"[cluster]\nstore = rediss://tandem@127.0.0.1:6380/2\n"
                              f"store_password_file = {pw}\nstore_tls_ca = {pki.ca}\n"
                              f"store_tls_cert = {pki.client}\nstore_tls_key = {pki.client_key}\n"
                              "store_tls_server_name = redis.example\n", free_port())
    r = run([TANDEMD, "--check-config", "--config", conf])
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout


def test_tandemd_refuses_a_client_key_that_is_not_the_certificates(workdir, pki):
    conf = node_conf(workdir, f"[cluster]\nstore = rediss://127.0.0.1:6380\n"
                              f"store_tls_cert = {pki.client}\n"
                              f"store_tls_key = {pki.server_key}\n", free_port())
    refused(TANDEMD, conf, 7, f"[cluster] store_tls_key: {pki.server_key}: key does not match "
                              f"the certificate {pki.client}")


def test_files_are_checked_as_the_user_the_check_runs_as(workdir, pki):
    """Run as root the check passes; run as the service's user (here nobody) it names what
    that user cannot read or write."""
    os.chmod(workdir, 0o755)
    pw = write(os.path.join(workdir, "redis-password"), "s3cret\n")
    os.chmod(pw, 0o600)  # root's
    data = os.path.join(workdir, "data")
    os.makedirs(data, mode=0o755)  # root's
    conf = node_conf(workdir, f"[cluster]\nstore = redis://tandem@127.0.0.1\n"
                              f"store_password_file = {pw}\n", free_port())
    os.chmod(conf, 0o644)
    assert run([TANDEMD, "--check-config", "--config", conf]).returncode == 0
    refused(TANDEMD, conf, 6,
            f"[cluster] store_password_file: {pw}: cannot open: Permission denied",
            user="nobody")
    os.chmod(pw, 0o644)
    refused(TANDEMD, conf, 3,
            f"[server] data_dir: {data} is not a writable directory: Permission denied",
            user="nobody")


# ---------------------------------------------------------------- tandem-lb

def lb_conf(workdir, text, port):
    """A [listen] address and a member (4 lines), then text."""
    return write(os.path.join(workdir, "lb.ini"),
                 f"[listen]\naddress = 127.0.0.1:{port}\n"
                 "[member OX-1]\nurl = http://127.0.0.1:8009\n" + text)


ADMIN = "[admin]\nlisten = 127.0.0.1:{q}\nuser = admin\npassword = secret\n"


@pytest.mark.parametrize("text,line,message", [
    ("[log]\nfile = {w}/no/such/dir/lb.log\n", 6,
     "[log] file: {w}/no/such/dir/lb.log cannot be created: {w}/no/such/dir: No such file"),
    ("[listen]\naddress = 127.0.0.1:{p}\n", 6,
     "[listen] address 127.0.0.1:{p} and 127.0.0.1:{p} cannot both be listened on"),
    ("[admin]\nlisten = 0.0.0.0:{p}\nuser = admin\npassword = secret\n", 6,
     "[admin] listen 127.0.0.1:{p} and 0.0.0.0:{p} cannot both be listened on"),
    ("[listen]\naddress = " + NOT_LOCAL + ":{q}\n", 6,
     "[listen] address " + NOT_LOCAL + ":{q} is not an address of this host"),
    ("[listen]\naddress = localhost:{q}\n", 6,
     "[listen] address localhost:{q}: localhost is not a numeric IPv4 or IPv6 address"),
    (ADMIN + "state_file = {w}/no/such/dir/lb.state\n", 9,
     "[admin] state_file: {w}/no/such/dir/lb.state cannot be created"),
    ("[cluster]\nannounce = 239.255.67.80:6780\nannounce_interface = " + NOT_LOCAL + "\n", 7,
     "[cluster] announce_interface: " + NOT_LOCAL + " is not an address of this host"),
    ("[cluster]\nstore = rediss://127.0.0.1:6379\nstore_tls_ca = {w}/none.pem\n", 7,
     "[cluster] store_tls_ca: {w}/none.pem: cannot open: No such file"),
    ("[cluster]\nstore = redis://h\nstore_password_file = {w}/none\n", 7,
     "[cluster] store_password_file: {w}/none: cannot open: No such file"),
])
def test_tandem_lb_refuses_what_the_start_would(workdir, text, line, message):
    p, q = free_port(), free_port()
    fill = {"w": workdir, "p": p, "q": q}
    conf = lb_conf(workdir, text.format(**fill), p)
    refused(TANDEM_LB, conf, line, message.format(**fill))


def test_tandem_lb_tls_listener_on_the_wildcard_clashes(workdir, pki):
    p = free_port()
    conf = lb_conf(workdir, f"[tls]\nlisten = 0.0.0.0:{p}\ncertificate = {pki.server}\n"
                            f"key = {pki.server_key}\n", p)
    refused(TANDEM_LB, conf, 6,
            f"[tls] listen 127.0.0.1:{p} and 0.0.0.0:{p} cannot both be listened on")


def test_tandem_lb_accepts_redis_over_tls_with_an_acl_user(workdir, pki):
    pw = write(os.path.join(workdir, "redis-password"), "s3cret\n")
    conf = lb_conf(workdir, f"[cluster]\nstore = rediss-sentinel://tandem@10.0.0.1,10.0.0.2/m\n"
                            f"store_password_file = redis-password\nstore_tls_ca = {pki.ca}\n"
                            "store_sentinel_user = watcher\n"
                            "store_sentinel_password = sentinel-secret\n", free_port())
    r = run([TANDEM_LB, "--check-config", "--config", conf])
    assert r.returncode == 0, r.stderr
