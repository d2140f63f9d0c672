# SPDX-License-Identifier: MIT
# tandem-lb's command line: --check-config on good and bad files, --help, --version.
import os
import re
import socket
import subprocess

import pytest

from conftest import BUILD

TANDEM_LB = os.path.join(BUILD, "src", "tandem-lb", "tandem-lb")

GOOD = """\
[listen]
address = 127.0.0.1:18080
address = [::1]:18080
[balancer]
sticky_cookie = JSESSIONID
sticky_separator = .
method = bybusyness
retry = 5s
health_uri = /health
trusted_proxies = 10.0.0.0/8, fd00::/8
[member OX-1]
url = http://127.0.0.1:8009
loadfactor = 75
[member OX-2]
url = http://127.0.0.1:8010
loadfactor = 25
state = drain
[admin]
listen = 127.0.0.1:8081
allow = 127.0.0.1/32
user = admin
password = secret
[cluster]
name = alpha
announce = 239.255.67.80:6780
announce_key = 9f3c0d6be2a14f87c53d1e0b7a6f2c48d9e1b3a5c7f0e2d4b6a8c0e2f4a6b8d0
member_ttl = 3s
"""


def run(*args):
    return subprocess.run([TANDEM_LB, *args], capture_output=True, text=True, timeout=30)


def write(workdir, text):
    path = os.path.join(workdir, "lb.ini")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_check_config_accepts_valid_file(workdir):
    conf = write(workdir, GOOD)
    r = run("--check-config", "--config", conf)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{conf}: configuration OK (2 static members, bybusyness, " \
                       "discovery by announce)\n"
    assert r.stderr == ""


def test_discovery_only_is_valid(workdir):
    conf = write(workdir, "[cluster]\nannounce = 239.255.67.80:6780\n"
                          "announce_key_file = announce.key\n")
    with open(os.path.join(workdir, "announce.key"), "w") as f:
        f.write("9f3c0d6be2a14f87c53d1e0b7a6f2c48d9e1b3a5c7f0e2d4b6a8c0e2f4a6b8d0\n")
    os.chmod(os.path.join(workdir, "announce.key"), 0o600)
    r = run("--check-config", "--config", conf)
    assert r.returncode == 0, r.stderr


def test_a_short_health_interval_alone_is_valid(workdir):
    # health_timeout follows it (the smaller of 1 s and the interval); set longer, refused
    conf = write(workdir, "[member OX-1]\nurl = http://a:1\n[balancer]\nhealth_interval = 250ms\n")
    r = run("--check-config", "--config", conf)
    assert r.returncode == 0, r.stderr
    conf = write(workdir, "[member OX-1]\nurl = http://a:1\n[balancer]\n"
                          "health_interval = 250ms\nhealth_timeout = 300ms\n")
    r = run("--check-config", "--config", conf)
    assert r.returncode != 0 and \
        ":5: [balancer] health_timeout must be between 10ms and health_interval" in r.stderr


@pytest.mark.parametrize("text,line,message", [
    ("[member OX-1]\nurl = http://a:1\n[balancer]\nbogus = 1\n", 4,
     "[balancer] bogus: unknown key"),
    ("[member OX-1]\nurl = https://a:1\n", 2,
     "[member OX-1] url: https:// members are not supported yet"),
    ("[member OX-1]\nurl = http://a:1\nloadfactor = 0\n", 3,
     "[member OX-1] loadfactor must be between 1 and 100"),
    ("[member OX-1]\nurl = http://a:1\nstate = paused\n", 3,
     "[member OX-1] state must be ready, drain, maint, disabled or standby"),
    ("\n\n[member OX-1]\n", 3, "[member OX-1] url is required"),
    ("[member OX-1]\nurl = http://a:1\n[member OX-1]\n", 3,
     "[member OX-1] already defined on line 1"),
    ("[member bad.route]\nurl = http://a:1\n", 1,
     "the route must be 1 to 48 letters, digits, '-' or '_'"),
    ("[member OX-1]\nurl = http://a:1\n[balancer]\nmethod = random\n", 4,
     "[balancer] method must be byrequests or bybusyness"),
    ("[member OX-1]\nurl = http://a:1\n[admin]\nallow = 10.0.0.1/8\n", 4,
     "host bits set"),
    ("[member OX-1]\nurl = http://a:1\n[cluster]\nannounce = 10.1.1.1:6780\n", 4,
     "not an IPv4 multicast address"),
    ("[member OX-1]\nurl = http://a:1\n[access admin]\nallow = 10.0.0.0/8\n", 4,
     "[access admin]: the path must look like /admin"),
    ("[member OX-1]\nurl = http://a:1\n[access /a/../admin]\nallow = 10.0.0.0/8\n", 4,
     "the path must look like /admin"),
    ("[member OX-1]\nurl = http://a:1\n[access /admin]\nallow = 10.0.0.0/33\n", 4,
     "[access /admin] allow"),
    ("[member OX-1]\nurl = http://a:1\n[log]\naccess = syslog\n", 4,
     "[log] access = syslog needs [log] syslog"),
    ("[member OX-1]\nurl = http://a:1\n[log]\nsyslog = tcp:/h:1\n", 4,
     "[log] syslog: expected udp://host:port or tcp://host:port"),
    ("[member OX-1]\nurl = http://a:1\n[log]\nsyslog_facility = mail2\n", 4,
     "[log] syslog_facility: expected a syslog facility"),
    ("[member OX-1]\nurl = http://a:1\n[log]\nsyslog_app = \x01\n", 4,
     "[log] syslog_app may only contain printable ASCII"),
    ("[member OX-1]\nurl = http://a:1\n[log]\naccess = /no/such/dir/a.log\n", 4,
     "[log] access: /no/such/dir/a.log cannot be created"),
])
def test_check_config_reports_file_and_line(workdir, text, line, message):
    conf = write(workdir, text)
    r = run("--check-config", "--config", conf)
    assert r.returncode == 1
    assert f"{conf}:{line}: " in r.stderr, r.stderr
    assert message in r.stderr, r.stderr
    assert r.stdout == ""


def test_nothing_to_balance_names_the_file(workdir):
    conf = write(workdir, "[balancer]\nretry = 1s\n")
    r = run("--check-config", "--config", conf)
    assert r.returncode == 1
    assert f"{conf}: no [member ROUTE] section and no [cluster] announce" in r.stderr


def test_all_problems_are_reported(workdir):
    conf = write(workdir, "[member OX-1]\nurl = ftp://x\nloadfactor = 500\n")
    r = run("--check-config", "--config", conf)
    assert r.returncode == 1
    assert f"{conf}:2: [member OX-1] url: expected http://host:port" in r.stderr
    assert f"{conf}:3: [member OX-1] loadfactor" in r.stderr


def test_missing_file(workdir):
    conf = os.path.join(workdir, "none.ini")
    r = run("--check-config", "--config", conf)
    assert r.returncode == 1 and "none.ini" in r.stderr


def test_a_taken_port_fails_at_start_with_a_clear_error(workdir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        conf = write(workdir, GOOD.replace("127.0.0.1:18080", f"127.0.0.1:{port}")
                     .replace("address = [::1]:18080\n", "")
                     .replace("announce = 239.255.67.80:6780\n", ""))
        r = run("--config", conf)
    assert r.returncode == 1
    assert "cannot start" in r.stderr and str(port) in r.stderr, r.stderr


def test_version_help_and_usage_errors():
    r = run("--version")
    assert r.returncode == 0 and re.fullmatch(r"tandem-lb \d+\.\d+\.\d+\n", r.stdout)
    r = run("--help")
    assert r.returncode == 0
    assert "--check-config" in r.stdout and "--config FILE" in r.stdout
    assert "SIGTERM" in r.stdout
    assert run("--bogus").returncode == 2
    r = run("--check-config")
    assert r.returncode == 2 and "--config FILE is required" in r.stderr
    assert run("--config", "x.ini", "extra").returncode == 2
