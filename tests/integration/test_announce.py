# SPDX-License-Identifier: MIT
# Multicast announce: tandemd nodes in a private network namespace announce route, address and
# state, authenticated with the cluster's announce key; tandemctl listannouncements and a plain
# UDP socket hear them; other clusters, forgeries and nodes without a key are refused.
import functools
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import TANDEMD, Process, write_config
from provisioning import TANDEMCTL

GROUP = "239.255.67.80"
PORT = 6780

# The cluster's announce key for this run, and one nobody in the cluster has.
ANNOUNCE_KEY = secrets.token_hex(32)
OTHER_KEY = secrets.token_hex(32)


@functools.lru_cache(maxsize=None)
def knows_announce_key(binary):
    """Whether this build has [cluster] announce_key. One from before announcements were
    authenticated does not: it then runs without a key, the set-up the forgery tests attack
    (which is how they were shown to fail there)."""
    with tempfile.TemporaryDirectory(prefix="tandem-probe-") as d:
        conf = os.path.join(d, "probe.ini")
        with open(conf, "w") as f:
            f.write(f"[member P]\nurl = http://127.0.0.1:1\n"
                    f"[cluster]\nannounce_key = {ANNOUNCE_KEY}\n")
        return "unknown key" not in check_config(binary, conf).stderr


def check_config(binary, conf):
    return subprocess.run([binary, "--check-config", "--config", conf], capture_output=True,
                          text=True, timeout=30)


def key_config(binary, key=ANNOUNCE_KEY):
    """The [cluster] line with the key, for builds that know it."""
    return f"announce_key = {key}\n" if knows_announce_key(binary) else ""


def write_key_file(directory, key=ANNOUNCE_KEY, mode=0o600, name="announce.key"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(key + "\n")
    os.chmod(path, mode)
    return path


def mac_line(body, key=ANNOUNCE_KEY):
    return b"mac=" + hmac.new(bytes.fromhex(key), body, hashlib.sha256).hexdigest().encode() + \
        b"\n"


def announcement(route, address, cluster="alpha", state="ready", started=None, seq=1,
                 time_ms=None, key=ANNOUNCE_KEY, version=2):
    """A datagram as docs/internals/cluster.md specifies it, built here on its own terms:
    version 2 signed with key (None: without a mac line), or version 1 (today's format before
    authentication, never signed)."""
    now = int(time.time() * 1000)
    fields = [("cluster", cluster), ("route", route), ("address", address), ("state", state),
              ("load", 0), ("version", "9.9.9"), ("started", now if started is None else started),
              ("seq", seq)]
    if version == 1:
        return ("TANDEM-ANNOUNCE/1\n" + "".join(f"{k}={v}\n" for k, v in fields)).encode()
    fields.append(("time", now if time_ms is None else time_ms))
    body = ("TANDEM-ANNOUNCE/2\n" + "".join(f"{k}={v}\n" for k, v in fields)).encode()
    return body if key is None else body + mac_line(body, key)

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


def parse_announce(text, key=ANNOUNCE_KEY):
    """The datagram format of docs/internals/cluster.md, parsed and its MAC checked on its own
    terms."""
    data = text.encode("latin-1")
    assert len(data) <= 1024
    assert text.endswith("\n"), text
    lines = text[:-1].split("\n")
    assert lines[0] == "TANDEM-ANNOUNCE/2", text
    assert lines[-1].startswith("mac="), text
    body = data[:len(data) - len(lines[-1]) - 1]
    assert mac_line(body, key) == (lines[-1] + "\n").encode(), "MAC does not match the key"
    fields = {}
    for line in lines[1:-1]:
        key, sep, value = line.partition("=")
        assert sep == "=" and key and value, line
        assert key not in fields, f"duplicate {key}"
        assert all(0x21 <= ord(c) <= 0x7e for c in value), line
        fields[key] = value
    for name in ("cluster", "route", "address", "state", "load", "version", "started", "seq",
                 "time"):
        assert name in fields, f"missing {name} in {text!r}"
    for name in ("load", "started", "seq", "time"):
        assert fields[name].isdigit() and (fields[name] == "0" or fields[name][0] != "0"), text
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
{key_config(TANDEMD)}""")
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


# Sends the datagrams given in hex on the command line to the group, in order, from lo.
SENDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
for datagram in sys.argv[3:]:
    s.sendto(bytes.fromhex(datagram), (sys.argv[1], int(sys.argv[2])))
"""


def send_in(ns, *datagrams):
    """Sends raw datagrams (bytes) to the announce group inside the namespace."""
    subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SENDER, GROUP, str(PORT),
                    *[d.hex() for d in datagrams]], check=True, timeout=30)


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


def test_listannouncements_lists_own_cluster_only(nodes, netns, workdir):
    a1 = nodes("OX-1", "alpha")
    a2 = nodes("OX-2", "alpha")
    b3 = nodes("OX-3", "beta")
    version = tandemd_version()
    key_file = write_key_file(workdir)

    r = ctl_in(netns, "--json", "listannouncements", "--cluster", "alpha", "--seconds", "2",
               "--key-file", key_file)
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
               "--group", f"{GROUP}:{PORT}", "--interface", "127.0.0.1", "--key-file", key_file)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["route", "address", "state", "load", "version", "last", "seen"]
    assert len(lines) == 2, r.stdout
    assert lines[1].split()[:3] == ["OX-3", b3.address, "ready"]
    assert "OX-1" not in r.stdout and "OX-2" not in r.stdout
    assert "ignored" in r.stderr and "other clusters" in r.stderr

    # nobody of this cluster: still exit 0
    r = ctl_in(netns, "listannouncements", "--cluster", "gamma", "--seconds", "1",
               "--key-file", key_file)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "no announcements heard"


def test_listannouncements_hears_only_the_key(nodes, netns, workdir):
    """With another key nothing is listed; with the right one, forgeries sent meanwhile (today's
    unauthenticated format, no MAC, a wrong key) are counted by reason and not listed."""
    node = nodes("OX-1", "alpha")
    wrong = write_key_file(workdir, OTHER_KEY, name="other.key")
    r = ctl_in(netns, "--json", "listannouncements", "--cluster", "alpha", "--seconds", "1",
               "--key-file", wrong)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["nodes"] == [], out
    assert out["dropped"]["bad_mac"] >= 3, out  # 1 s at 200 ms
    assert out["invalid_datagrams"] == out["dropped"]["bad_mac"], out
    assert "bad_mac" in r.stderr and "not sent with this announce key" in r.stderr

    right = write_key_file(workdir)
    proc = subprocess.Popen(["ip", "netns", "exec", netns, TANDEMCTL, "--json",
                             "listannouncements", "--cluster", "alpha", "--seconds", "3",
                             "--key-file", right], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # joined by then; a late join only means fewer counted below
        forged = [announcement("EVIL-1", "127.0.0.1:9", version=1),
                  announcement("EVIL-2", "127.0.0.1:9", key=None),
                  announcement("EVIL-3", "127.0.0.1:9", key=OTHER_KEY)]
        for _ in range(3):
            send_in(netns, *forged)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    heard = json.loads(out)
    assert [n["route"] for n in heard["nodes"]] == [node.route], heard
    assert heard["dropped"]["version"] >= 1 and heard["dropped"]["bad_mac"] >= 2, heard


def test_listannouncements_needs_a_key_file(workdir):
    r = subprocess.run([TANDEMCTL, "listannouncements", "--seconds", "1"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert "--key-file" in r.stderr
    loose = write_key_file(workdir, mode=0o644)
    r = subprocess.run([TANDEMCTL, "listannouncements", "--seconds", "1", "--key-file", loose],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert f"{loose}: other users may read or write it (mode 0644)" in r.stderr
    assert ANNOUNCE_KEY not in r.stderr


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
    for t, f in seen:
        assert f["cluster"] == "alpha"
        assert abs(int(f["time"]) - time.time() * 1000) < 30000
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


def test_node_gone_after_exit(nodes, netns, workdir):
    """Once a node has exited it is no longer listed (the balancer times such nodes out)."""
    keep = nodes("OX-1", "alpha")
    gone = nodes("OX-2", "alpha")
    assert gone.stop() == 0
    r = ctl_in(netns, "--json", "listannouncements", "--cluster", "alpha", "--seconds", "1",
               "--key-file", write_key_file(workdir))
    assert r.returncode == 0, r.stderr
    assert [n["route"] for n in json.loads(r.stdout)["nodes"]] == [keep.route]


@pytest.mark.parametrize("interface,problem", [
    ("192.0.2.1", "is not an address of this host"),
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
{key_config(TANDEMD)}""")
    r = subprocess.run([TANDEMD, "--config", conf], cwd=workdir, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1, r.stderr
    lines = [line for line in r.stderr.splitlines() if interface in line]
    assert lines, r.stderr
    assert "announce" in lines[0] and problem in lines[0], lines[0]


def assert_refused(binary, conf, where, problem):
    """binary does not accept conf: --check-config names where ("file:line: ") and problem, a
    start exits 1 with problem, and the key is never printed."""
    r = check_config(binary, conf)
    assert r.returncode == 1, r.stdout + r.stderr
    assert where in r.stderr and problem in r.stderr, r.stderr
    assert ANNOUNCE_KEY not in r.stderr
    code, err = run_briefly([binary, "--config", conf], os.path.dirname(conf))
    assert code == 1, f"{binary} did not refuse to start:\n{err[-2000:]}"
    assert problem in err and ANNOUNCE_KEY not in err, err


def run_briefly(argv, cwd, timeout=15):
    """Runs a daemon that is expected to refuse to start: (exit code, stderr); a daemon still
    running after timeout is stopped and gives None."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, err


@pytest.mark.parametrize("keys,line,problem", [
    ("", 5, "[cluster] announce needs announce_key or announce_key_file"),
    ("announce_key = 00112233445566778899aabbccddeeff\n", 7,
     "[cluster] announce_key: too short: at least 64 hex digits (32 bytes)"),
    ("announce_key = " + "x" * 64 + "\n", 7, "[cluster] announce_key: not hexadecimal"),
    ("announce_key = " + "ab" * 32 + "\n", 7, "[cluster] announce_key: not a random key"),
    ("announce_key_file = loose.key\n", 7, "other users may read or write it (mode 0644)"),
    ("announce_key_file = missing.key\n", 7, "missing.key: No such file or directory"),
    ("announce_key = KEY\nannounce_key_file = good.key\n", 8,
     "announce_key and announce_key_file are both set"),
])
def test_tandemd_refuses_announce_without_a_good_key(workdir, keys, line, problem):
    """Announcing needs the cluster's key: without one, or with a bad one, tandemd does not
    start and --check-config names the line; the key itself is never printed."""
    write_key_file(workdir, name="loose.key", mode=0o644)
    write_key_file(workdir, name="good.key")
    conf = write_config(workdir, f"""[server]
listen = 127.0.0.1:0
data_dir = {workdir}/data
[cluster]
announce = {GROUP}:{PORT}
announce_interface = 127.0.0.1
{keys.replace("KEY", ANNOUNCE_KEY)}""")
    assert_refused(TANDEMD, conf, f"{conf}:{line}: ", problem)

