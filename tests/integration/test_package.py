# SPDX-License-Identifier: MIT
# Installing like an operator: scripts/package.sh builds the Debian package; its control data
# (Depends covering every library the binaries link, conffiles, maintainer scripts) is checked;
# it is unpacked into a clean directory tree, and tandemd and tandem-lb run from that tree on
# the packaged example configurations (paths moved into the tree, loopback ports), telling
# systemd's notify socket READY=1, RELOADING=1 at SIGHUP and STOPPING=1 at SIGTERM. The units
# pass `systemd-analyze verify`, and lintian (when installed) reports no error or warning.
# TANDEM_PACKAGE_DEB=path tests that package instead of building one.
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, TANDEMD, Process, free_port
from examples import adapt, make_tree
from provisioning import MASTER

BINARIES = ("usr/sbin/tandemd", "usr/sbin/tandem-lb", "usr/bin/tandemctl")
UNITS = ("tandemd.service", "tandemd@.service", "tandem-lb.service")


def run(argv, timeout=120, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    prebuilt = os.environ.get("TANDEM_PACKAGE_DEB")
    if prebuilt:
        return prebuilt
    out = tmp_path_factory.mktemp("package")
    r = run([os.path.join(ROOT, "scripts", "package.sh"), str(out)], timeout=900)
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path) and path.endswith(".deb"), r.stdout
    return path


@pytest.fixture
def tree(deb, workdir):
    root = os.path.join(workdir, "root")
    r = run(["dpkg-deb", "-x", deb, root])
    assert r.returncode == 0, r.stderr
    return root


def field(deb, name):
    return run(["dpkg-deb", "-f", deb, name]).stdout.strip()


def installed_version(package):
    r = run(["dpkg-query", "-W", "-f=${Version}", package])
    return r.stdout if r.returncode == 0 else None


def owner(path):
    """The installed package that ships the library at path (merged /usr: with or without)."""
    for p in (path, "/usr" + path, path.removeprefix("/usr"), os.path.realpath(path)):
        r = run(["dpkg-query", "-S", p])
        if r.returncode == 0:
            return r.stdout.split(":", 1)[0]
    raise AssertionError(f"no package holds {path}")


def test_package_control_data(deb, tree):
    version = run([os.path.join(tree, "usr/sbin/tandemd"), "--version"]).stdout.split()[1]
    assert field(deb, "Package") == "tandem" and field(deb, "Version") == version
    assert field(deb, "Architecture") == run(["dpkg", "--print-architecture"]).stdout.strip()

    # Depends names the package of every library any binary links, and this host satisfies
    # each with a version at least the one asked for
    depends = {}
    for item in field(deb, "Depends").split(","):
        m = re.fullmatch(r"\s*([a-z0-9.+-]+)(?:\s*\(>=\s*([^)]+)\))?\s*", item)
        assert m, item
        depends[m.group(1)] = m.group(2)
    for name, minimum in depends.items():
        have = installed_version(name)
        assert have, f"{name} is not installed"
        if minimum:
            assert run(["dpkg", "--compare-versions", have, "ge", minimum]).returncode == 0
    for binary in BINARIES:
        path = os.path.join(tree, binary)
        needed = re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", path]).stdout)
        assert "libc.so.6" in needed
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", run(["ldd", path]).stdout, re.M))
        for soname in needed:
            assert owner(resolved[soname]) in depends, (binary, soname, depends)
    assert "adduser" in depends

    control = os.path.join(os.path.dirname(tree), "control")
    assert run(["dpkg-deb", "-e", deb, control]).returncode == 0
    with open(os.path.join(control, "conffiles")) as f:
        assert f.read().split() == ["/etc/tandem/tandemd.ini", "/etc/tandem/tandem-lb.ini"]
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(control, script)
        assert os.access(path, os.X_OK) and run(["sh", "-n", path]).returncode == 0
    with open(os.path.join(control, "postinst")) as f:
        text = f.read()
    assert "adduser" in text and "--system" in text and "/var/lib/tandem" in text

    # a clean tree: the binaries, units, man pages, conffiles, docs and the web UI, nothing
    # else (no libraries, headers or test programs)
    files = {os.path.relpath(os.path.join(d, f), tree)
             for d, _, names in os.walk(tree) for f in names}
    webui = {f for f in files if f.startswith("usr/share/tandem/webui/")}
    assert {"usr/share/tandem/webui/index.html", "usr/share/tandem/webui/index.html.gz"} <= webui
    assert all(re.fullmatch(r"usr/share/tandem/webui/(index\.html|assets/[a-z]+\.[0-9a-f]{16}"
                            r"\.(js|css))(\.gz)?", f) for f in webui), webui
    assert {f for f in files - webui if not f.startswith("usr/share/doc/tandem/")} == {
        *BINARIES, *(f"lib/systemd/system/{u}" for u in UNITS),
        "usr/share/man/man8/tandemd.8.gz", "usr/share/man/man8/tandem-lb.8.gz",
        "usr/share/man/man1/tandemctl.1.gz",
        "etc/tandem/tandemd.ini", "etc/tandem/tandem-lb.ini"}, files
    for path in [*BINARIES, "usr/share/doc/tandem/copyright", "usr/share/man/man8/tandemd.8.gz",
                 "usr/share/doc/tandem/examples/tandemd-cluster.ini",
                 *(f"lib/systemd/system/{u}" for u in UNITS)]:
        assert os.path.isfile(os.path.join(tree, path)), path
    # stripped, and hardened as Debian builds
    for binary in BINARIES:
        headers = run(["objdump", "-h", os.path.join(tree, binary)]).stdout
        assert ".debug_info" not in headers, binary
        dynamic = run(["readelf", "-d", "-l", os.path.join(tree, binary)]).stdout
        assert "BIND_NOW" in dynamic and "GNU_RELRO" in dynamic, binary


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_verify_and_are_hardened(tree, workdir):
    units = os.path.join(workdir, "units")
    os.makedirs(units)
    for unit in UNITS:
        with open(os.path.join(tree, "lib/systemd/system", unit)) as f:
            text = f.read()
        # the unpacked tree's binaries, as the units would find them once installed
        text = text.replace("/usr/sbin/", os.path.join(tree, "usr/sbin/"))
        with open(os.path.join(units, unit), "w") as f:
            f.write(text)
    for unit in UNITS:
        r = run(["systemd-analyze", "verify", "--man=no", os.path.join(units, unit)])
        assert r.returncode == 0 and r.stderr.strip() == "", (unit, r.stderr)
    # one set of hardening options: the template is the node's unit, the balancer differs
    # only in the capability it needs and PrivateUsers (which would take that capability away)
    def hardening(unit, skip=()):
        with open(os.path.join(units, unit)) as f:
            text = f.read()
        return [line for line in text[text.index("\nNoNewPrivileges"):].splitlines()
                if line and not line.startswith("#") and line.split("=")[0] not in skip]
    assert hardening("tandemd.service") == hardening("tandemd@.service")
    skip = ("CapabilityBoundingSet", "AmbientCapabilities", "PrivateUsers")
    assert hardening("tandemd.service", skip) == hardening("tandem-lb.service", skip)
    for unit, ceiling in (("tandemd.service", 1.5), ("tandem-lb.service", 2.0)):
        r = run(["systemd-analyze", "security", "--offline=yes", os.path.join(units, unit)])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        assert m and float(m.group(1)) <= ceiling, (unit, r.stdout[-500:], r.stderr)


@pytest.mark.skipif(shutil.which("lintian") is None, reason="lintian is not installed")
def test_lintian_finds_no_error_or_warning(deb):
    r = run(["lintian", "--tag-display-limit", "0", deb], timeout=300)
    tags = [line for line in r.stdout.splitlines() if re.match(r"[EW]: ", line)]
    assert not tags, r.stdout


class Notify:
    """A datagram socket where a daemon started with NOTIFY_SOCKET = .path reports."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # the daemons may run as another user

    def expect(self, first_line, timeout=30):
        """The next message, which must begin with first_line; returns its lines."""
        self.sock.settimeout(timeout)
        message = self.sock.recv(4096).decode().split("\n")
        assert message[0] == first_line, message
        return message

    def close(self):
        self.sock.close()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.status, r.read()


def get_status(port, path):
    try:
        return get(port, path)[0]
    except urllib.error.HTTPError as e:
        return e.code


def as_service_user(argv):
    """argv as the units run it: an unprivileged user, no capabilities, no new privileges
    (when the test runs as root; `nobody` stands in for `tandem`)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return argv
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", *argv]


def give_to_service_user(workdir, tree):
    """What postinst does for tandem: the state and log directories are the service's."""
    if os.geteuid() != 0:
        return
    os.chmod(workdir, 0o755)
    for d in ("var/lib/tandem", "var/lib/tandem-lb", "var/log/tandem"):
        os.chown(os.path.join(tree, d), pwd.getpwnam("nobody").pw_uid,
                 grp.getgrnam("nogroup").gr_gid)


def start_notified(argv, port, directory, notify, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", notify.path)
    proc = Process(argv, None, directory)
    monkeypatch.delenv("NOTIFY_SOCKET")
    lines = notify.expect("READY=1")
    assert "STATUS=serving" in lines
    if argv[0] == "setpriv":  # it runs unprivileged
        with open(f"/proc/{proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        assert status["Uid"].split()[0] == str(pwd.getpwnam("nobody").pw_uid), status["Uid"]
        assert int(status["CapEff"], 16) == 0 and status["NoNewPrivs"].strip() == "1"
    # ready means ready: the port answers at once
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return proc


def test_installed_tree_runs_node_and_balancer(tree, workdir, monkeypatch):
    make_tree(tree)
    give_to_service_user(workdir, tree)
    notify = Notify(workdir)
    etc = os.path.join(tree, "etc", "tandem")
    with open(os.path.join(etc, "tandemd.ini")) as f:
        node_conf, ports = adapt(f.read(), tree)
    node_port = ports["127.0.0.1:8009"]
    with open(os.path.join(etc, "tandemd.ini"), "w") as f:
        f.write(node_conf)
    ctl = os.path.join(tree, "usr/bin/tandemctl")
    r = run(as_service_user([ctl, "initconfigdb", "--configdb-url",
                             f"sqlite://{tree}/var/lib/tandem/configdb.sqlite",
                             "--master-user", MASTER[0], "--master-pass", MASTER[1]]))
    assert r.returncode == 0, r.stderr

    node = start_notified(as_service_user([os.path.join(tree, "usr/sbin/tandemd"), "--config",
                                           os.path.join(etc, "tandemd.ini")]), node_port,
                          os.path.join(tree, "var/lib/tandem"), notify, monkeypatch)
    lb = None
    try:
        status, body = get(node_port, "/health")
        assert status == 200 and json.loads(body)["status"] == "ready"
        url = f"http://127.0.0.1:{node_port}"
        r = run([ctl, "--url", url, "-A", MASTER[0], "-P", MASTER[1], "registerserver", "-n",
                 "tandem"])
        assert r.returncode == 0, r.stderr
        r = run([ctl, "--url", url, "-A", MASTER[0], "-P", MASTER[1], "listserver"])
        assert r.returncode == 0 and "tandem" in r.stdout, (r.stdout, r.stderr)

        # the balancer's example in front of it, without Redis (the store is the nodes')
        with open(os.path.join(etc, "tandem-lb.ini")) as f:
            text = f.read()
        text = re.sub(r"\[cluster\][^\[]*", "", text)
        text = text.replace("[member OX-2]\nurl = http://10.0.0.12:8009\nloadfactor = 50\n", "")
        lb_conf, lb_ports = adapt(text, tree, members={"OX-1": node_port})
        with open(os.path.join(etc, "tandem-lb.ini"), "w") as f:
            f.write(lb_conf)
        lb_port = lb_ports["0.0.0.0:80"]
        lb = start_notified(as_service_user([os.path.join(tree, "usr/sbin/tandem-lb"),
                                             "--config", os.path.join(etc, "tandem-lb.ini")]),
                            lb_port,
                            os.path.join(tree, "var/lib/tandem-lb"), notify, monkeypatch)
        status, body = get(lb_port, "/health")
        assert status == 200 and json.loads(body)["route"] == "OX-1"
        # the web UI installed with the binaries (usr/share/tandem/webui), found by the node
        status, body = get(lb_port, "/")
        assert status == 200 and b"<title>Tandem</title>" in body, body[:300]
        asset = re.search(rb'src="(assets/[^"]+)"', body).group(1).decode()
        assert get(lb_port, "/" + asset)[0] == 200

        # reload: RELOADING=1 with the monotonic time, then READY=1 again
        for proc in (node, lb):
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            os.kill(proc.pid, signal.SIGHUP)
            lines = notify.expect("RELOADING=1")
            usec = int(lines[1].removeprefix("MONOTONIC_USEC="))
            assert before <= usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            notify.expect("READY=1")
        assert get(lb_port, "/health")[0] == 200

        # stop: STOPPING=1 as the drain (node) or the stop (balancer) begins, then exit 0
        assert lb.stop() == 0
        notify.expect("STOPPING=1")
        lb = None
        os.kill(node.pid, signal.SIGTERM)
        notify.expect("STOPPING=1")
    finally:
        if lb is not None:
            lb.stop()
        code = node.stop()
        notify.close()
    assert code == 0, node.stderr()[-2000:]


def test_tandemd_tells_systemd_it_is_ready_and_draining(workdir, monkeypatch):
    """The node under test (TANDEM_BUILD_DIR) speaks the notify protocol too."""
    notify = Notify(workdir)
    port = free_port()
    conf = os.path.join(workdir, "tandemd.ini")
    with open(conf, "w") as f:
        f.write(f"[server]\nlisten = 127.0.0.1:{port}\ndata_dir = {workdir}/data\n"
                "drain_grace = 3s\n")
    node = start_notified([TANDEMD, "--config", conf], port, workdir, notify,
                          monkeypatch)
    try:
        os.kill(node.pid, signal.SIGTERM)
        lines = notify.expect("STOPPING=1")
        assert "STATUS=draining" in lines
        # still serving during the grace: systemd knows it is stopping, balancers see 503;
        # a SIGHUP now only reopens the log, it is no reload for systemd
        assert get_status(port, "/health") == 503
        os.kill(node.pid, signal.SIGHUP)
        node.wait_stderr("log reopened")
        notify.sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            notify.sock.recv(4096)
    finally:
        code = node.stop()
        notify.close()
    assert code == 0
