# SPDX-License-Identifier: MIT
# The example configurations of packaging/examples/ adapted to a test's directory and loopback
# ports: /etc/tandem, /var/lib/tandem(-lb) and /var/log/tandem move under the test's directory,
# the listen addresses become free loopback ports, the files the examples name (Redis and
# sentinel passwords, the Redis CA, the announce key) are made. Shared by test_examples.py and
# test_package.py.
import os
import re
import secrets

from conftest import ROOT, free_port
from redis_harness import Pki

EXAMPLES = os.path.join(ROOT, "packaging", "examples")

# The addresses the examples listen on, each replaced with a free loopback port.
LISTEN = ("10.0.0.11:8009", "127.0.0.1:8009", "0.0.0.0:80", "127.0.0.1:8081")


def example(name, directory=EXAMPLES):
    with open(os.path.join(directory, name)) as f:
        return f.read()


def adapt(text, tree, members=None):
    """text with its paths under tree and its listen addresses on free ports; members
    {route: port} points the [member ROUTE] urls at loopback. Returns (text, {old: port})."""
    ports = {}
    for address in LISTEN:
        if address in text:
            ports[address] = free_port()
            text = re.sub(rf"^(\s*(listen|address)\s*=\s*){re.escape(address)}\b",
                          rf"\g<1>127.0.0.1:{ports[address]}", text, flags=re.M)
    text = re.sub(r"/var/lib/tandem-lb|/var/lib/tandem|/var/log/tandem|/etc/tandem",
                  lambda m: tree + m.group(0), text)
    for route, port in (members or {}).items():
        text = re.sub(rf"(\[member {route}\]\s*\nurl = )\S+", rf"\g<1>http://127.0.0.1:{port}",
                      text)
    return text, ports


def make_tree(tree):
    """The directories a package install has, and the secret files the examples name."""
    for d in ("etc/tandem", "var/lib/tandem", "var/lib/tandem-lb", "var/log/tandem"):
        os.makedirs(os.path.join(tree, d), exist_ok=True)
    etc = os.path.join(tree, "etc", "tandem")
    for name, text in (("redis-password", secrets.token_hex(16)),
                       ("sentinel-password", secrets.token_hex(16)),
                       ("announce.key", secrets.token_hex(32))):
        path = os.path.join(etc, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o640)
    os.makedirs(os.path.join(tree, "pki"), exist_ok=True)
    pki = Pki(os.path.join(tree, "pki"))
    os.replace(pki.ca, os.path.join(etc, "redis-ca.pem"))
