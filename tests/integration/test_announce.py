# SPDX-License-Identifier: MIT
# Multicast announce: tandemd nodes in a private network namespace announce route, address and
# state; tandemctl listannouncements and a plain UDP socket hear them; other clusters are ignored.
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import TANDEMD, Process, write_config
from provisioning import TANDEMCTL

GROUP = "239.255.67.80"
PORT = 6780

# A listener independent of the C code: joins the group on lo and prints every datagram as a
# JSON line until killed or `seconds` have passed.
LISTENER = r"""
import json, socket, struct, sys, time
group, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("127.0.0.1")))
print(json.dumps({"ready": True}), flush=True)
end = time.monotonic() + seconds
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data, src = s.recvfrom(65536)
    except socket.timeout:
        break
    print(json.dumps({"t": time.monotonic(), "from": src[0],
                      "data": data.decode("latin-1")}), flush=True)
"""


def parse_announce(text):
    """The datagram format of docs/internals/cluster.md, parsed on its own terms."""
    assert len(text.encode("latin-1")) <= 1024
    assert text.endswith("\n"), text
    lines = text[:-1].split("\n")
    assert lines[0] == "TANDEM-ANNOUNCE/1", text
    fields = {}
    for line in lines[1:]:
        key, sep, value = line.partition("=")
        assert sep == "=" and key and value, line
        assert key not in fields, f"duplicate {key}"
        assert all(0x21 <= ord(c) <= 0x7e for c in value), line
        fields[key] = value
    for key in ("cluster", "route", "address", "state", "load", "version", "started", "seq"):
        assert key in fields, f"missing {key} in {text!r}"
    for key in ("load", "started", "seq"):
        assert fields[key].isdigit() and (fields[key] == "0" or fields[key][0] != "0"), text
    assert fields["state"] in ("ready", "draining"), text
    return fields


def tandemd_version():
    out = subprocess.run([TANDEMD, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


@pytest.fixture
def netns():
    """A network namespace whose loopback carries multicast; deleted afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make a network namespace")
    name = f"tandem-ann-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for cmd in (["link", "set", "lo", "up"], ["link", "set", "lo", "multicast", "on"],
                    ["route", "add", "224.0.0.0/4", "dev", "lo"]):
            subprocess.run(["ip", "-n", name, *cmd], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


class NsNode(Process):
    """tandemd inside the namespace, on an ephemeral port read back from its log."""

    def __init__(self, ns, workdir, route, cluster, extra=""):
        self.route = route
        self.dir = os.path.join(workdir, route)
        os.makedirs(self.dir)
        conf = write_config(self.dir, f"""[server]
listen = 127.0.0.1:0
route = {route}
data_dir = {self.dir}/data
workers = 2
{extra}
[cluster]
name = {cluster}
announce = {GROUP}:{PORT}
announce_interface = 127.0.0.1
announce_interval = 200ms
""")
        super().__init__(["ip", "netns", "exec", ns, TANDEMD, "--config", conf], None, self.dir)
        line = self.wait_stderr("announcing on", timeout=15)
        assert f"{GROUP}:{PORT}" in line
        listening = self.wait_stderr("listening on http://", timeout=15)
        self.address = listening.split("http://", 1)[1].split("/", 1)[0]
        assert self.address.startswith("127.0.0.1:") and not self.address.endswith(":0")


@pytest.fixture
def nodes(netns, workdir):
    started = []

    def start(route, cluster, extra=""):
        node = NsNode(netns, workdir, route, cluster, extra)
        started.append(node)
        return node

    yield start
    for node in started:
        code = node.stop()
        assert code == 0, f"{node.route} exited with {code}:\n{node.stderr()[-3000:]}"


def ctl_in(ns, *args, timeout=30):
    return subprocess.run(["ip", "netns", "exec", ns, TANDEMCTL, *args], capture_output=True,
                          text=True, timeout=timeout)


class Listener:
    """The Python listener above, running in the namespace."""

    def __init__(self, ns, seconds):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", LISTENER, GROUP, str(PORT),
             str(seconds)], stdout=subprocess.PIPE, text=True)
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def next(self):
        """The next datagram as {"t", "from", "data"}, or None once the listener is done."""
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def test_listannouncements_lists_own_cluster_only(nodes, netns):
    a1 = nodes("OX-1", "alpha")
    a2 = nodes("OX-2", "alpha")
    b3 = nodes("OX-3", "beta")
    version = tandemd_version()

    r = ctl_in(netns, "--json", "listannouncements", "--cluster", "alpha", "--seconds", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["cluster"] == "alpha"
    assert out["group"] == f"{GROUP}:{PORT}"
    heard = {n["route"]: n for n in out["nodes"]}
    assert sorted(heard) == ["OX-1", "OX-2"], out
    for node in (a1, a2):
        n = heard[node.route]
        assert n["address"] == node.address
        assert n["state"] == "ready"
        assert n["version"] == version
        assert isinstance(n["load"], int) and n["load"] >= 0
        assert n["datagrams"] >= 5  # 2 s at 200 ms
        assert n["from"] == "127.0.0.1"
    assert b3.address not in {n["address"] for n in out["nodes"]}
    assert out["other_cluster_datagrams"] >= 5  # beta's, counted and skipped
    assert out["invalid_datagrams"] == 0

    # the table, on an explicit interface and group; beta is only heard when asked for
    r = ctl_in(netns, "listannouncements", "--cluster", "beta", "--seconds", "1",
               "--group", f"{GROUP}:{PORT}", "--interface", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["route", "address", "state", "load", "version", "last", "seen"]
    assert len(lines) == 2, r.stdout
    assert lines[1].split()[:3] == ["OX-3", b3.address, "ready"]
    assert "OX-1" not in r.stdout and "OX-2" not in r.stdout
    assert "ignored" in r.stderr and "other clusters" in r.stderr

    # nobody of this cluster: still exit 0
    r = ctl_in(netns, "listannouncements", "--cluster", "gamma", "--seconds", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "no announcements heard"


def test_raw_datagrams_match_the_node(nodes, netns):
    listener = Listener(netns, seconds=10)
    try:
        started_before = time.time() * 1000
        node = nodes("OX-7", "alpha")
        version = tandemd_version()
        seen = []
        while len(seen) < 4:
            d = listener.next()
            assert d is not None, "no datagrams heard"
            fields = parse_announce(d["data"])
            assert d["from"] == "127.0.0.1"
            seen.append((d["t"], fields))
    finally:
        listener.close()
    for _, f in seen:
        assert f["cluster"] == "alpha"
        assert f["route"] == "OX-7"
        assert f["address"] == node.address
        assert f["state"] == "ready"
        assert f["version"] == version
        assert started_before - 5000 <= int(f["started"]) <= time.time() * 1000
    seqs = [int(f["seq"]) for _, f in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    # a steady 200 ms interval (generously bounded for ASan and busy machines)
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:])]
    assert all(0.1 <= g <= 1.0 for g in gaps), gaps


def test_draining_then_silent(netns, workdir):
    node = NsNode(netns, workdir, "OX-5", "alpha", extra="drain_grace = 1s")
    listener = Listener(netns, seconds=20)
    try:
        d = listener.next()
        assert d is not None and parse_announce(d["data"])["state"] == "ready"
        node.proc.send_signal(signal.SIGTERM)
        t_signal = time.monotonic()
        # within the grace the node still announces, now as draining, at the next datagram
        while True:
            d = listener.next()
            assert d is not None, "no draining datagram"
            if parse_announce(d["data"])["state"] == "draining":
                break
            assert d["t"] - t_signal < 0.6, "still ready well after SIGTERM"
        assert d["t"] - t_signal < 0.6
        assert node.proc.wait(timeout=30) == 0
        node.log.close()
        t_exit = time.monotonic()
        # nothing after the process is gone: listen for five more intervals
        time.sleep(1.0)
        listener.proc.send_signal(signal.SIGTERM)  # ends the listener; read what it has
        rest = []
        while (d := listener.next()) is not None:
            rest.append(d)
        assert all(r["t"] <= t_exit + 0.05 for r in rest), rest
    finally:
        listener.close()
        if node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait()


def test_node_gone_after_exit(nodes, netns):
    """Once a node has exited it is no longer listed (the balancer times such nodes out)."""
    keep = nodes("OX-1", "alpha")
    gone = nodes("OX-2", "alpha")
    assert gone.stop() == 0
    r = ctl_in(netns, "--json", "listannouncements", "--cluster", "alpha", "--seconds", "1")
    assert r.returncode == 0, r.stderr
    assert [n["route"] for n in json.loads(r.stdout)["nodes"]] == [keep.route]


@pytest.mark.parametrize("interface,problem", [
    ("192.0.2.1", "no local interface has this address"),
    ("eth0", "not an IPv4 address"),
])
def test_bad_announce_interface_fails_start(workdir, interface, problem):
    """A bad announce_interface stops tandemd at start with a clear message (exit 1): a node
    serving without its announce would be invisible to a balancer that relies on it."""
    conf = write_config(workdir, f"""[server]
listen = 127.0.0.1:0
data_dir = {workdir}/data
[cluster]
announce = {GROUP}:{PORT}
announce_interface = {interface}
""")
    r = subprocess.run([TANDEMD, "--config", conf], cwd=workdir, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1, r.stderr
    lines = [line for line in r.stderr.splitlines() if interface in line]
    assert lines, r.stderr
    assert "announce" in lines[0] and problem in lines[0], lines[0]
