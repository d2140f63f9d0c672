# SPDX-License-Identifier: MIT
# Every example configuration of packaging/examples/ is valid: the tandemd and tandem-lb ones
# pass --check-config once their paths and listen addresses are this test's (and the files they
# name exist); the Apache ones pass `apache2 -t` with the modules they need, HAProxy's
# `haproxy -c`, keepalived's `keepalived -t`. The front-end blocks are the ones
# test_apache_front.py runs against real nodes (peers.py renders them): each of those lines is
# in the example too.
import glob
import os
import subprocess

import pytest

from conftest import TANDEMD
from examples import EXAMPLES, adapt, example, make_tree
from lb_setup import TANDEM_LB
import peers

DAEMON_EXAMPLES = {"tandemd.ini": TANDEMD, "tandemd-cluster.ini": TANDEMD,
                   "tandem-lb.ini": TANDEM_LB}
FRONT_END_EXAMPLES = ("apache-http.conf", "apache-ajp.conf", "haproxy.cfg", "keepalived.conf")
# The nodes the front-end examples name.
NODES = [("OX-1", "10.0.0.11", 8009), ("OX-2", "10.0.0.12", 8009)]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def test_every_example_is_checked_here():
    names = {os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES, "*"))}
    assert names == set(DAEMON_EXAMPLES) | set(FRONT_END_EXAMPLES), names


@pytest.mark.parametrize("name", sorted(DAEMON_EXAMPLES))
def test_daemon_example_passes_check_config(workdir, name):
    tree = os.path.join(workdir, "root")
    make_tree(tree)
    text, ports = adapt(example(name), tree)
    assert ports, "the example listens nowhere the test knows"
    conf = os.path.join(workdir, name)
    with open(conf, "w") as f:
        f.write(text)
    r = run([DAEMON_EXAMPLES[name], "--check-config", "--config", conf])
    assert r.returncode == 0 and "configuration OK" in r.stdout, (r.stdout, r.stderr)

    # the check is real: without the directories (and files) it names, the file is refused
    os.rename(tree, tree + ".moved")
    r = run([DAEMON_EXAMPLES[name], "--check-config", "--config", conf])
    assert r.returncode == 1 and f"{conf}:" in r.stderr, (r.stdout, r.stderr)


def lines(text):
    return {line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")}


@pytest.mark.skipif(peers.missing("apache2") is not None,
                    reason=peers.missing("apache2") or "")
@pytest.mark.parametrize("name,module", [("apache-http.conf", "proxy_http"),
                                         ("apache-ajp.conf", "proxy_ajp")])
def test_apache_example_is_valid(workdir, name, module):
    text = example(name)
    tested = peers.apache_front(NODES)
    if module == "proxy_ajp":
        tested = tested.replace("http://10.0.0.1", "ajp://10.0.0.1").replace(":8009", ":8019")
    missing = [line for line in lines(tested) if not any(
        have.startswith(line) for have in lines(text))]
    assert not missing, missing

    d = os.path.join(workdir, "apache")
    env = peers.apache_env(d)
    for key in ("APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"):
        os.makedirs(env[key], exist_ok=True)
    conf = os.path.join(d, "apache2.conf")
    modules = tuple(m for m in peers.APACHE_MODULE_LIST if m != "proxy_http") + (module,)
    with open(conf, "w") as f:
        f.write(peers.apache_config(peers.free_port(), text, modules=modules))
    r = run([peers.binary("apache2"), "-t", "-f", conf], env=env)
    assert r.returncode == 0 and "Syntax OK" in r.stderr, (r.stdout, r.stderr)



@pytest.mark.skipif(peers.missing("haproxy") is not None,
                    reason=peers.missing("haproxy") or "")
def test_haproxy_example_is_valid():
    text = example("haproxy.cfg")
    missing = [line for line in lines(peers.haproxy_backend(NODES)) if line not in lines(text)]
    assert not missing, missing
    r = run([peers.binary("haproxy"), "-c", "-f", os.path.join(EXAMPLES, "haproxy.cfg")])
    assert r.returncode == 0, (r.stdout, r.stderr)


@pytest.mark.skipif(peers.missing("keepalived") is not None,
                    reason=peers.missing("keepalived") or "")
def test_keepalived_example_is_valid_and_never_fails_back(workdir):
    text = example("keepalived.conf")
    # no automatic failback: both hosts start as BACKUP and a recovered one does not preempt
    assert {"state BACKUP", "nopreempt"} <= lines(text)
    r = run([peers.binary("keepalived"), "-t", "-f", os.path.join(EXAMPLES, "keepalived.conf")])
    assert r.returncode == 0, (r.stdout, r.stderr)
    broken = os.path.join(workdir, "keepalived.conf")
    with open(broken, "w") as f:
        f.write(text.replace("virtual_router_id 67", "virtual_router_id 678"))
    assert run([peers.binary("keepalived"), "-t", "-f", broken]).returncode != 0
