# SPDX-License-Identifier: MIT
# Private Redis servers and Sentinel sets for tests: each process in its own temp dir on a
# loopback port chosen at run time, stopped by PID; a minimal RESP2 client. Stdlib only.
#
# Usage (plain Python):
#     with Redis() as r:
#         r.cli("SET", "k", "v"); r.cli("GET", "k")     # -> "v"
#         r.url                                         # redis://127.0.0.1:PORT/0
#     pki = Pki(tmpdir)                                 # a throwaway CA (openssl command)
#     with Redis(tls=pki, tls_only=True, password="pw",
#                users=["tandem on >secret ~tandem:* +@all"]) as r:
#         r.url                                         # rediss://127.0.0.1:PORT/0
#         r.cli("ACL", "LOG")                           # the harness speaks TLS and AUTH
#     with SentinelSet() as s:                          # started and meshed
#         s.url                                         # redis-sentinel://127.0.0.1:P1,…/tandem
#         old = s.primary(); old.kill9()
#         new = s.wait_failover(old.port)
# Usage (pytest): see fixtures_redis.py.
import atexit
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
REDIS_SERVER = (os.environ.get("TANDEM_REDIS_SERVER") or shutil.which("redis-server")
                or "/usr/bin/redis-server")

_KEEP = object()


def require_redis():
    """Raises RuntimeError naming scripts/deps.sh when redis-server cannot be run."""
    if not (os.path.isfile(REDIS_SERVER) and os.access(REDIS_SERVER, os.X_OK)):
        raise RuntimeError(f"redis-server not found at {REDIS_SERVER} (PATH, or "
                           "$TANDEM_REDIS_SERVER): install the test dependencies with "
                           "`scripts/deps.sh test` (packages redis-server, redis-sentinel, "
                           "redis-tools)")


def _free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- RESP2 client ---------------------------------------------------------------------------

class RedisError(RuntimeError):
    """An error reply (-ERR …, -READONLY …, …); str() is the server's message."""


def _encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            b = str(a).encode()
        else:
            raise TypeError(f"cannot send {type(a).__name__} {a!r} to Redis")
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class RespClient:
    """One RESP2 connection. command() returns the reply: int for :, str for + and $ (bytes
    when a bulk string is not UTF-8), list for *, None for $-1 / *-1. An error reply raises
    RedisError; errors nested in an array (EXEC) are returned as RedisError objects.
    ssl_context makes it a TLS connection; auth=(user or None, password) sends AUTH first."""

    def __init__(self, port, host=HOST, timeout=5.0, ssl_context=None, auth=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=host)
        self.file = self.sock.makefile("rb")
        if auth is not None:
            user, password = auth
            self.command("AUTH", *([user] if user else []), password)

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, timeout):
        self.sock.settimeout(timeout)

    def send(self, *args):
        """Sends one command without reading its reply (pipelining, SUBSCRIBE, BLOCK …)."""
        self.sock.sendall(_encode(args))

    def read(self):
        """Reads one reply; raises RedisError for a top-level error reply."""
        reply = self._read()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def command(self, *args):
        self.send(*args)
        return self.read()

    __call__ = command

    def _line(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed by Redis")
        return line[:-2]

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode(errors="replace")
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("connection closed by Redis")
            data = data[:-2]
            try:
                return data.decode()
            except UnicodeDecodeError:
                return data
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read() for _ in range(n)]
        raise ConnectionError(f"bad RESP reply line {line[:80]!r}")


def parse_info(text):
    """INFO output as a dict of str -> str (section headers and blank lines dropped)."""
    info = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            info[k] = v
    return info


def _pairs(flat):
    """A flat [k1, v1, k2, v2, …] reply (SENTINEL replicas entries) as a dict."""
    return dict(zip(flat[::2], flat[1::2]))


# --- TLS ---------------------------------------------------------------------------------------

class Pki:
    """A throwaway CA in dir, made with the openssl command: ca (the CA certificate), server
    and server_key (for 127.0.0.1 and localhost), client and client_key (CN tandem), and
    other_ca, a CA that signed nothing here (for "untrusted" cases)."""

    def __init__(self, dir):
        self.dir = dir
        for name in ("ca", "other_ca", "server", "client"):
            setattr(self, name, os.path.join(dir, f"{name}.pem"))
            setattr(self, f"{name}_key", os.path.join(dir, f"{name}.key"))
        self._ca(self.ca, self.ca_key, "Tandem test CA")
        self._ca(self.other_ca, self.other_ca_key, "Somebody else's CA")
        self._leaf(self.server, self.server_key, "localhost",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost")
        self._leaf(self.client, self.client_key, "tandem", "extendedKeyUsage=clientAuth")

    @staticmethod
    def _openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    def _ca(self, cert, key, cn):
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={cn}",
                      "-days", "2", "-keyout", key, "-out", cert)

    def _leaf(self, cert, key, cn, ext):
        csr = cert + ".csr"
        ext_file = cert + ".ext"
        with open(ext_file, "w") as f:
            f.write(ext + "\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-subj", f"/CN={cn}", "-keyout", key, "-out", csr)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-days", "2", "-extfile", ext_file, "-out", cert)

    def client_context(self):
        """An ssl context trusting the CA and showing the client certificate."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.load_cert_chain(self.client, self.client_key)
        return ctx


# --- one server ------------------------------------------------------------------------------

class Redis:
    """One private redis-server on 127.0.0.1. start() returns once it answers PING; stop() is
    idempotent and removes the temp dir. replicaof=(host, port) starts it as a replica.
    password sets requirepass (the harness AUTHs with it); users are ACL SETUSER rules
    ("name on >pw ~keys:* +cmd …") applied at every start; tls=Pki adds a TLS port
    (tls_port, tls_url; client certificates optional), and with tls_only it is the only
    port (port, url)."""

    kind = "redis"

    def __init__(self, replicaof=None, args=(), start_timeout=10.0, password=None, users=(),
                 tls=None, tls_only=False):
        self.replicaof = replicaof
        self.args = list(args)
        self.start_timeout = start_timeout
        self.password = password
        self.users = list(users)
        self.tls = tls
        self.tls_only = tls_only
        self.tls_port = None
        self.port = None
        self.proc = None
        self.dir = None
        self.log_path = None
        self._atexit = False

    # --- lifecycle -------------------------------------------------------------------------

    def start(self):
        require_redis()
        if self.running:
            raise RuntimeError(f"{self.kind} on port {self.port} is already running")
        self.dir = tempfile.mkdtemp(prefix=f"tandem-{self.kind}-")
        self.log_path = os.path.join(self.dir, f"{self.kind}.log")
        if not self._atexit:
            atexit.register(self.stop)  # in case the caller never gets to stop it
            self._atexit = True
        try:
            # A port picked now can be taken before redis-server binds it: try a few.
            for attempt in range(5):
                self.port = _free_port()
                if self.tls is not None:
                    self.tls_port = self.port if self.tls_only else _free_port()
                self._prepare()
                if self._spawn_and_wait(retry_bind=attempt < 4):
                    break
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare(self):
        """Hook run before each first-start attempt, once the port is known."""

    def _argv(self):
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", self.dir,
                "--logfile", "", "--repl-diskless-sync-delay", "0"]
        if self.replicaof is not None:
            host, port = self.replicaof
            argv += ["--replicaof", str(host), str(port)]
        if self.password is not None:
            argv += ["--requirepass", self.password, "--masterauth", self.password]
        if self.tls is not None:
            argv += ["--tls-port", str(self.tls_port), "--tls-cert-file", self.tls.server,
                     "--tls-key-file", self.tls.server_key, "--tls-ca-cert-file", self.tls.ca,
                     "--tls-auth-clients", "optional"]
            if self.tls_only:
                argv[argv.index("--port") + 1] = "0"
        return argv + self.args

    def _spawn_and_wait(self, retry_bind):
        """Starts the process; True once it answers PING, False when the port was taken and
        retry_bind is set. Raises RuntimeError on any other failure."""
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        try:
            # argv[0] must stay "redis-server": the Debian binary picks its mode from it.
            self.proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir)
        finally:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.log()[offset:]
                if retry_bind and "already in use" in text:
                    return False
                raise RuntimeError(f"{self.kind} on port {self.port} exited with "
                                   f"{self.proc.returncode}:\n{text[-4000:]}")
            try:
                if self.cli("PING", timeout=1.0) == "PONG":
                    for rule in self.users:
                        self.cli("ACL", "SETUSER", *rule.split())
                    return True
            except (OSError, RedisError):
                pass
            time.sleep(0.02)
        self._signal_and_wait(signal.SIGKILL, 5.0)
        raise RuntimeError(f"{self.kind} on port {self.port} did not answer PING within "
                           f"{self.start_timeout}s:\n{self.log()[-4000:]}")

    def _signal_and_wait(self, sig, timeout):
        """Sends sig to our own PID (if still running) and reaps it; SIGKILL after timeout."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout=10.0):
        """SIGTERM, wait, then SIGKILL; keeps the temp dir so restart() can follow."""
        self._signal_and_wait(signal.SIGTERM, timeout)

    def kill9(self):
        """SIGKILL (a crash): no shutdown, clients see the connection drop."""
        self._signal_and_wait(signal.SIGKILL, 10.0)

    def stop(self, timeout=10.0):
        """Stops the process (SIGTERM, wait, SIGKILL) and removes its temp dir. Idempotent."""
        self.terminate(timeout)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def restart(self, replicaof=_KEEP):
        """Stops the process if it runs (SIGTERM) and starts it again on the same port and
        dir, with no data (no persistence). replicaof=(host, port) or None overrides the one
        given at construction; by default the original setting is kept."""
        if self.dir is None:
            raise RuntimeError(f"{self.kind} was never started (or was stopped): call start()")
        self.terminate()
        if replicaof is not _KEEP:
            self.replicaof = replicaof
        # The port is ours unless someone took it while we were down: give them a moment.
        deadline = time.monotonic() + 5.0
        while not self._spawn_and_wait(retry_bind=time.monotonic() < deadline):
            time.sleep(0.2)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self):
        return f"{'rediss' if self.tls_only else 'redis'}://{HOST}:{self.port}/0"

    @property
    def tls_url(self):
        return f"rediss://{HOST}:{self.tls_port}/0"

    @property
    def addr(self):
        return (HOST, self.port)

    def log(self):
        """Text of the server's log (stdout + stderr) so far, "" when there is none."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {HOST}:{self.port} pid={self.pid} {state}>"

    # --- commands ----------------------------------------------------------------------------

    def cli(self, *args, timeout=5.0):
        """Runs one command on a new connection and returns the reply (see RespClient)."""
        with self.connect(timeout) as c:
            return c.command(*args)

    def connect(self, timeout=5.0):
        """A persistent RespClient (for MULTI, WAIT, SUBSCRIBE, …); close it when done. Over
        TLS when that is the only port, with AUTH when there is a password."""
        ctx = self.tls.client_context() if self.tls_only else None
        auth = (None, self.password) if self.password is not None else None
        return RespClient(self.port, timeout=timeout, ssl_context=ctx, auth=auth)

    def info(self, section=None):
        return parse_info(self.cli("INFO", *([section] if section else [])))

    def role(self):
        """"master", "slave" or "sentinel", from ROLE."""
        return self.cli("ROLE")[0]

    def wait_synced(self, master_port=None, timeout=10.0):
        """Waits until this server is a replica (of master_port, when given) whose link to
        its master is up."""
        deadline = time.monotonic() + timeout
        info = {}
        while time.monotonic() < deadline:
            try:
                info = self.info("replication")
            except (OSError, RedisError):
                info = {}
            if (info.get("role") == "slave" and info.get("master_link_status") == "up"
                    and (master_port is None or info.get("master_port") == str(master_port))):
                return
            time.sleep(0.05)
        raise AssertionError(f"{self!r} not synced to master {master_port} within {timeout}s: "
                             f"{info}\n{self.log()[-2000:]}")


class Sentinel(Redis):
    """One redis-server in sentinel mode with its own writable config file (Sentinel rewrites
    it); monitors one master. password sets the sentinel's requirepass (sentinels of one set
    share it to reach each other)."""

    kind = "sentinel"

    def __init__(self, master_name, master_port, quorum=2, down_after_ms=1000,
                 failover_timeout_ms=3000, parallel_syncs=1, start_timeout=10.0, password=None):
        super().__init__(start_timeout=start_timeout, password=password)
        self.master_name = master_name
        self.master_port = master_port
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.parallel_syncs = parallel_syncs
        self.conf_path = None

    def _prepare(self):
        self.conf_path = os.path.join(self.dir, "sentinel.conf")
        n = self.master_name
        with open(self.conf_path, "w") as f:
            f.write(f"port {self.port}\n"
                    f"bind {HOST}\n"
                    "daemonize no\n"
                    f"dir {self.dir}\n"
                    'logfile ""\n'
                    f"sentinel monitor {n} {HOST} {self.master_port} {self.quorum}\n"
                    f"sentinel down-after-milliseconds {n} {self.down_after_ms}\n"
                    f"sentinel failover-timeout {n} {self.failover_timeout_ms}\n"
                    f"sentinel parallel-syncs {n} {self.parallel_syncs}\n"
                    + (f"requirepass {self.password}\n" if self.password else ""))

    def _argv(self):
        # A restart reads the config Sentinel rewrote (known master, replicas, peers, epoch).
        return [REDIS_SERVER, self.conf_path, "--sentinel"]

    def master_addr(self):
        """(host, port) of the master this sentinel currently reports, or None."""
        addr = self.cli("SENTINEL", "get-master-addr-by-name", self.master_name, timeout=2.0)
        return (addr[0], int(addr[1])) if addr else None

    def peers(self):
        """The other sentinels this one knows, as dicts (SENTINEL sentinels)."""
        return [_pairs(e) for e in self.cli("SENTINEL", "sentinels", self.master_name)]

    def replicas(self):
        """The replicas this one knows, as dicts (SENTINEL replicas)."""
        return [_pairs(e) for e in self.cli("SENTINEL", "replicas", self.master_name)]

    def master(self):
        """This sentinel's view of the master, as a dict (SENTINEL master)."""
        return _pairs(self.cli("SENTINEL", "master", self.master_name))


# --- primary + replicas + sentinels ------------------------------------------------------------

class SentinelSet:
    """A primary, `replicas` replicas and `sentinels` sentinels watching them (quorum 2 by
    default, down-after 1000 ms, failover-timeout 3000 ms, parallel-syncs 1); with
    sentinel_password the sentinels want AUTH (requirepass).

    start() returns once the replicas are synced and the sentinels answer; call wait_meshed()
    before provoking a failover (the `with` form and the pytest fixture do both)."""

    def __init__(self, master_name="tandem", replicas=1, sentinels=3, quorum=2,
                 down_after_ms=1000, failover_timeout_ms=3000, parallel_syncs=1,
                 sentinel_password=None):
        self.master_name = master_name
        self.sentinel_password = sentinel_password
        self.n_replicas = replicas
        self.n_sentinels = sentinels
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.parallel_syncs = parallel_syncs
        self.servers = []    # data servers: [initial primary, *initial replicas]
        self.sentinels = []  # Sentinel objects

    def start(self):
        try:
            first = Redis().start()
            self.servers.append(first)
            for _ in range(self.n_replicas):
                self.servers.append(Redis(replicaof=first.addr).start())
            # Sentinels find replicas in the master's INFO, which they refresh only every
            # 10 s: have the replicas connected before the first sentinel asks.
            for r in self.servers[1:]:
                r.wait_synced(first.port)
            for _ in range(self.n_sentinels):
                self.sentinels.append(Sentinel(
                    self.master_name, first.port, self.quorum, self.down_after_ms,
                    self.failover_timeout_ms, self.parallel_syncs,
                    password=self.sentinel_password).start())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops the sentinels first (so they do not react), then the servers; by PID."""
        for p in self.sentinels + self.servers:
            p.stop()

    def __enter__(self):
        self.start()
        try:
            self.wait_meshed()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis-sentinel://{hosts}/{self.master_name}"

    @property
    def sentinel_ports(self):
        return [s.port for s in self.sentinels]

    def server(self, port):
        """The data server (Redis object) listening on port."""
        for s in self.servers:
            if s.port == int(port):
                return s
        raise KeyError(f"no server of this set on port {port}")

    def _reported_masters(self):
        """{sentinel port: reported master port or None} over the running sentinels."""
        seen = {}
        for s in self.sentinels:
            if not s.running:
                continue
            try:
                addr = s.master_addr()
            except (OSError, RedisError):
                continue
            seen[s.port] = addr[1] if addr else None
        return seen

    def primary(self):
        """The Redis object of the master the first answering sentinel reports."""
        for port in self._reported_masters().values():
            if port is not None:
                return self.server(port)
        raise RuntimeError(f"no sentinel of {self.master_name} reports a master")

    def replicas(self):
        """Running data servers other than the current primary."""
        p = self.primary()
        return [s for s in self.servers if s is not p and s.running]

    def sentinel_cli(self, *args):
        """Runs a command on the first running sentinel that answers."""
        last = None
        for s in self.sentinels:
            if s.running:
                try:
                    return s.cli(*args)
                except OSError as e:
                    last = e
        raise RuntimeError(f"no sentinel answers: {last}")

    def wait_meshed(self, timeout=10.0):
        """Waits until every running sentinel knows all the other sentinels and every running
        replica of the current primary (flags just "slave", link to master ok), which is what
        a failover needs. Takes ~2.5 s after start()."""
        deadline = time.monotonic() + timeout
        state = {}
        while time.monotonic() < deadline:
            try:
                want = {r.port for r in self.replicas()}
                running = [s for s in self.sentinels if s.running]
                ok = True
                for s in running:
                    peers = s.peers()
                    reps = {int(r["port"]) for r in s.replicas()
                            if r.get("flags") == "slave" and r.get("master-link-status") == "ok"}
                    state[s.port] = {"peers": len(peers), "replicas": sorted(reps)}
                    if len(peers) < len(running) - 1 or not want <= reps:
                        ok = False
                if ok:
                    return
            except (OSError, RedisError, RuntimeError) as e:
                state["error"] = str(e)
            time.sleep(0.1)
        raise AssertionError(f"sentinels of {self.master_name} not meshed within {timeout}s: "
                             f"{state}\n{self._logs()}")

    def wait_failover(self, old_port, timeout=10.0):
        """Waits until every running sentinel reports a master other than old_port and that
        server's ROLE says master; returns its Redis object."""
        deadline = time.monotonic() + timeout
        seen = {}
        while time.monotonic() < deadline:
            seen = self._reported_masters()
            ports = set(seen.values())
            if len(ports) == 1 and None not in ports and old_port not in ports:
                new = self.server(ports.pop())
                try:
                    if new.running and new.role() == "master":
                        return new
                except (OSError, RedisError):
                    pass
            time.sleep(0.05)
        raise AssertionError(f"no failover away from port {old_port} within {timeout}s: "
                             f"sentinels report {seen}\n{self._logs()}")

    def wait_replica_synced(self, timeout=10.0):
        """Waits until every running data server other than the current primary replicates
        from it with master_link_status:up (e.g. a restarted old primary once demoted)."""
        deadline = time.monotonic() + timeout
        p = self.primary()
        for r in self.replicas():
            r.wait_synced(p.port, max(0.1, deadline - time.monotonic()))

    def _logs(self, tail=1500):
        parts = []
        for p in self.servers + self.sentinels:
            parts.append(f"--- {p!r}\n{p.log()[-tail:]}")
        return "\n".join(parts)
