# SPDX-License-Identifier: MIT
# A private MariaDB Galera cluster for tests: N nodes on loopback ports chosen at run time, in
# one temp dir, stopped by PID. mariadbd runs as user mysql (rsync SST fails as root). Stdlib
# only.
#
# Usage:
#     with GaleraCluster(3) as g:
#         g.nodes[0].url("db")       # mariadb://tandem:tandem-pw@127.0.0.1:PORT/db
#         g.nodes[1].query("SELECT 1")  # [["1"]], as root through the mariadb client
#         g.stop_node(2); g.start_node(2)
import atexit
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from mariadb import APP_PASSWORD, APP_USER, CLIENT, LEAN, MARIADBD, SQLError, _template

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
RUN_AS = "mysql"


def galera_available():
    """(True, "") or (False, why) when this machine cannot run a Galera cluster."""
    if not os.path.exists(PROVIDER):
        return False, f"{PROVIDER} missing: run scripts/deps.sh test (galera-4)"
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        return False, f"no user {RUN_AS} (installed with mariadb-server)"
    for tool in ("rsync", "socat"):
        if shutil.which(tool) is None:
            return False, f"{tool} missing: run scripts/deps.sh test"
    return True, ""


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class GaleraNode:
    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.port = cluster.port()
        self.gcomm_port = cluster.port()
        self.ist_port = self.sst_port = None  # chosen afresh at each start()
        self.dir = os.path.join(cluster.dir, f"node{index}")
        self.datadir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "mariadbd.log")
        self.proc = None
        self.stopped = False  # stopped on purpose: its exit is no failure

    def url(self, db=""):
        return f"mariadb://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{self.port}/{db}"

    def _argv(self, bootstrap):
        peers = ",".join(f"127.0.0.1:{n.gcomm_port}" for n in self.cluster.nodes)
        argv = [MARIADBD, "--no-defaults", f"--datadir={self.datadir}",
                f"--socket={self.dir}/sock", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--server-id={self.index + 1}",
                f"--user={RUN_AS}", *LEAN, "--performance-schema=OFF", "--skip-name-resolve",
                f"--pid-file={self.dir}/mariadbd.pid", "--binlog-format=ROW",
                "--innodb-autoinc-lock-mode=2", "--wsrep-on=ON",
                f"--wsrep-provider={PROVIDER}", f"--wsrep-cluster-name={self.cluster.name}",
                f"--wsrep-cluster-address=gcomm://{peers}",
                "--wsrep-node-address=127.0.0.1", f"--wsrep-node-name=node{self.index}",
                "--wsrep-provider-options="
                f"gmcast.listen_addr=tcp://127.0.0.1:{self.gcomm_port};"
                f"ist.recv_addr=127.0.0.1:{self.ist_port};base_port={self.gcomm_port};"
                "gcache.size=16M",
                "--wsrep-sst-method=rsync",
                f"--wsrep-sst-receive-address=127.0.0.1:{self.sst_port}"]
        if bootstrap:
            argv.append("--wsrep-new-cluster")
        return argv

    def start(self, bootstrap=False):
        # The IST and SST listeners open only when a transfer begins, long after the port was
        # chosen; a port of an earlier start may still be held by a TIME_WAIT socket.
        self.ist_port, self.sst_port = self.cluster.port(), self.cluster.port()
        self.stopped = False
        log = open(self.log_path, "ab")
        try:
            # Its own process group, led by mariadbd: the SST scripts and their rsync daemons
            # are in it, so stop() can sweep them up, and wsrep_sst_rsync's own clean-up
            # (kill -- -<mariadbd pid> when mariadbd dies under it) finds its group.
            self.proc = subprocess.Popen(self._argv(bootstrap), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                         start_new_session=True)
        finally:
            log.close()

    def _client(self):
        return [CLIENT, "--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot", "--batch",
                "--skip-column-names", "--connect-timeout=5"]

    def sql(self, statements, db=None, timeout=60):
        """Runs statements as root; returns rows as lists of strings. Raises SQLError."""
        argv = self._client() + ([f"-D{db}"] if db else [])
        r = subprocess.run(argv, input=statements.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise SQLError(r.stderr.decode(errors="replace").strip())
        return [line.split("\t") for line in r.stdout.decode().splitlines()]

    query = sql

    def status(self, name):
        rows = self.sql(f"SHOW STATUS LIKE '{name}'", timeout=10)
        return rows[0][1] if rows else None

    def synced(self):
        try:
            return self.status("wsrep_local_state_comment") == "Synced"
        except (SQLError, subprocess.TimeoutExpired):
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _exited(self, timeout):
        """Waits up to timeout for mariadbd to exit without reaping it: while it is a zombie its
        PID (= its process group's id) cannot be given to another process."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if os.waitid(os.P_PID, self.proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return True
            except ChildProcessError:
                return True  # reaped already
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _halt(self, sig, timeout):
        self.stopped = True
        if not self.running():
            return
        self.proc.send_signal(sig)
        if not self._exited(timeout):
            self.proc.send_signal(signal.SIGKILL)
            self._exited(60)
        if self.proc.returncode is None:  # not reaped yet: the group id is still ours
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # leftover SST scripts, rsync
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self, timeout=30.0):
        """SIGTERM (a clean leave), then SIGKILL after timeout."""
        self._halt(signal.SIGTERM, timeout)

    def kill(self):
        """SIGKILL: a crash."""
        self._halt(signal.SIGKILL, 0)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""


class GaleraCluster:
    """size nodes; start() returns once every node is Synced in one cluster of that size."""

    def __init__(self, size=3, start_timeout=120.0):
        """start_timeout bounds the whole of start(): every node up and Synced."""
        self.size = size
        self.start_timeout = start_timeout
        self.name = f"tandem-test-{os.getpid()}"
        self.dir = None
        self.nodes = []
        self._ports = set()

    def port(self):
        """A free loopback port below the ephemeral range, never given out before by this
        cluster. An ephemeral port (bind to port 0) can be taken meanwhile as the local end of
        any outgoing connection, and a Galera node binds its IST and SST listeners only when a
        transfer starts."""
        low = _ephemeral_low()
        while True:
            p = random.randrange(low // 2, low)
            if p in self._ports:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    continue
            self._ports.add(p)
            return p

    def start(self):
        deadline = time.monotonic() + self.start_timeout
        uid, gid = pwd.getpwnam(RUN_AS).pw_uid, pwd.getpwnam(RUN_AS).pw_gid
        self.dir = tempfile.mkdtemp(prefix="tandem-galera-")
        atexit.register(self.stop)
        os.chmod(self.dir, 0o755)  # mysql must reach its datadir
        try:
            self.nodes = [GaleraNode(self, i) for i in range(self.size)]
            template = _template()
            for n in self.nodes:
                os.makedirs(n.dir)
                shutil.copytree(template, n.datadir)
                for root, dirs, files in os.walk(n.dir):
                    os.chown(root, uid, gid)
                    for f in files:
                        os.chown(os.path.join(root, f), uid, gid)
            self.nodes[0].start(bootstrap=True)
            self._wait(self.nodes[0].synced, "the first node", deadline=deadline)
            self.nodes[0].sql(
                "SET SESSION sql_log_bin=0; DELETE FROM mysql.global_priv WHERE User=''; "
                "FLUSH PRIVILEGES; SET SESSION sql_log_bin=1; " + "; ".join(
                    f"CREATE USER '{APP_USER}'@'{h}' IDENTIFIED BY '{APP_PASSWORD}'; "
                    f"GRANT ALL ON *.* TO '{APP_USER}'@'{h}'"
                    for h in ("127.0.0.1", "localhost", "%")))
            # One joiner at a time: two donating SSTs at once would only slow both down.
            for n in self.nodes[1:]:
                n.start()
                self._wait(n.synced, f"node {n.index} to join", deadline=deadline)
            self._wait(lambda: self.cluster_size(0) == self.size, "the full cluster",
                       deadline=deadline)
        except BaseException:
            # No clean shutdown of a half-made cluster: a joiner in the middle of an SST can
            # ignore SIGTERM for tens of seconds.
            self.stop(timeout=1.0)
            raise
        return self

    def _wait(self, check, what, timeout=None, deadline=None):
        if deadline is None:
            deadline = time.monotonic() + (timeout or self.start_timeout)
        while time.monotonic() < deadline:
            for n in self.nodes:
                if not n.stopped and n.proc is not None and n.proc.poll() is not None:
                    raise RuntimeError(f"galera node {n.index} exited with "
                                       f"{n.proc.returncode}:\n{n.log()[-3000:]}")
            if check():
                return
            time.sleep(0.1)
        logs = "\n".join(f"--- node {n.index}\n{n.log()[-2000:]}" for n in self.nodes)
        raise RuntimeError(f"galera: timed out waiting for {what}\n{logs}")

    def cluster_size(self, index):
        try:
            return int(self.nodes[index].status("wsrep_cluster_size") or 0)
        except (SQLError, subprocess.TimeoutExpired, ValueError):
            return 0

    def stop_node(self, index, kill=False):
        """Stops one node (SIGTERM, or SIGKILL with kill=True: a crash) and returns once the
        remaining nodes see the smaller cluster. A killed node rejoins by full SST."""
        n = self.nodes[index]
        if kill:
            n.kill()
        else:
            n.stop()
        alive = [i for i, m in enumerate(self.nodes) if m.running()]
        if alive:
            want = len(alive)
            self._wait(lambda: all(self.cluster_size(i) == want for i in alive),
                       "the cluster to shrink", 30)

    def start_node(self, index):
        """Starts a stopped node again; returns once it is Synced (IST or SST)."""
        n = self.nodes[index]
        n.start()
        self._wait(n.synced, f"node {index} to rejoin")
        want = sum(m.running() for m in self.nodes)
        self._wait(lambda: self.cluster_size(index) == want, "the cluster to grow", 30)

    def stop(self, timeout=10.0):
        """Stops every node (SIGTERM, SIGKILL after timeout) and removes the temp dir.
        Idempotent."""
        # Joiners first, the bootstrap node last: a clean shutdown of the whole cluster.
        for n in reversed(self.nodes):
            n.stop(timeout)
        self.nodes = []
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
