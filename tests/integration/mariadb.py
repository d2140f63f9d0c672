# SPDX-License-Identifier: MIT
# Private MariaDB servers for tests: one instance or a primary + GTID replica, each in its own
# temp dir on a loopback port chosen at run time, stopped by PID. Stdlib only.
#
# Usage (plain Python):
#     with MariaDB() as db:
#         db.create_database("x")
#         url = db.url("x")            # mariadb://tandem:tandem-pw@127.0.0.1:PORT/x
#     primary, replica = start_pair()  # stop both with stop_pair(primary, replica)
# Usage (pytest): see fixtures_mariadb.py.
import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"

APP_USER = "tandem"
APP_PASSWORD = "tandem-pw"
REPL_USER = "repl"
REPL_PASSWORD = "repl-pw"

# Server options shared by install and run: a small redo log keeps the template datadir (and
# every copy of it) at ~25 MB instead of ~110 MB.
LEAN = ["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M"]

_template_lock = threading.Lock()
_template_dir = None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _template():
    """A freshly installed datadir, made once per process and copied for each server: copying
    takes ~20 ms where mariadb-install-db takes ~1 s."""
    global _template_dir
    with _template_lock:
        if _template_dir is None:
            base = tempfile.mkdtemp(prefix="tandem-mariadb-template-")
            atexit.register(shutil.rmtree, base, True)
            datadir = os.path.join(base, "data")
            # A private tmpdir: in the shared /tmp the bootstrap's temporary tables were seen
            # to vanish under it ("Could not remove temporary table …, error: 2").
            tmpdir = os.path.join(base, "tmp")
            os.mkdir(tmpdir)
            r = subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={datadir}",
                                f"--tmpdir={tmpdir}",
                                "--auth-root-authentication-method=normal", *LEAN],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            if r.returncode != 0:
                raise RuntimeError("mariadb-install-db failed:\n" + r.stdout.decode(errors="replace"))
            _template_dir = datadir
        return _template_dir


class SQLError(RuntimeError):
    pass


class MariaDB:
    """One private mariadbd. start() returns once it answers queries; stop() is idempotent.

    server_id must differ between servers that replicate. read_only=True starts a replica:
    note that read_only does not stop root (nor any user with SUPER or READ_ONLY ADMIN), so
    the application user there is created without those privileges."""

    def __init__(self, server_id=1, read_only=False, start_timeout=30.0):
        self.server_id = server_id
        self.read_only = read_only
        self.start_timeout = start_timeout
        self.port = None
        self.proc = None
        self.dir = None
        self.datadir = None
        self.log_path = None
        self.primary = None  # set by replicate_from()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self):
        template = _template()
        self.dir = tempfile.mkdtemp(prefix="tandem-mariadb-")
        atexit.register(self.stop)  # in case the caller never gets to stop it
        self.datadir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "mariadbd.log")
        try:
            shutil.copytree(template, self.datadir)
            # A port picked now can be taken before mariadbd binds it: try a few.
            for attempt in range(5):
                self.port = _free_port()
                self._spawn()
                try:
                    self._wait_ready()
                    break
                except RuntimeError:
                    self._kill()
                    if attempt == 4 or "in use" not in self.log():
                        raise
            self._setup_users()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self):
        argv = [MARIADBD, "--no-defaults", f"--datadir={self.datadir}",
                f"--socket={self.datadir}/sock", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--server-id={self.server_id}",
                "--log-bin=binlog", "--relay-log=relay-bin", "--user=root", *LEAN,
                "--performance-schema=OFF", "--skip-name-resolve",
                "--gtid-strict-mode=ON", "--binlog-format=ROW", "--log-slave-updates",
                f"--pid-file={self.dir}/mariadbd.pid", f"--tmpdir={self.dir}"]
        if self.read_only:
            argv += ["--read-only", "--skip-slave-start"]
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir)
        finally:
            log.close()

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.proc.returncode}:\n"
                                   + self.log()[-4000:])
            r = subprocess.run(self._client_argv() + ["-e", "SELECT 1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=10)
            if r.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"mariadbd not ready after {self.start_timeout}s:\n"
                           + self.log()[-4000:])

    def _setup_users(self):
        # Local administration stays out of the binlog: a replica's own GTIDs would clash with
        # the primary's stream under gtid_strict_mode, and a replicated CREATE USER would fail
        # on a replica that already made the user.
        grants = [f"GRANT ALL ON *.* TO '{APP_USER}'@'{host}' WITH GRANT OPTION"
                  for host in ("127.0.0.1", "localhost", "%")]
        sql = ["SET SESSION sql_log_bin=0",
               # Anonymous users would shadow the application user for some hosts.
               "DELETE FROM mysql.global_priv WHERE User=''",
               "FLUSH PRIVILEGES"]
        for host in ("127.0.0.1", "localhost", "%"):
            sql.append(f"CREATE USER '{APP_USER}'@'{host}' IDENTIFIED BY '{APP_PASSWORD}'")
        sql += grants
        if self.read_only:
            # Without these the application user would write straight through read_only.
            for host in ("127.0.0.1", "localhost", "%"):
                sql.append(f"REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM '{APP_USER}'@'{host}'")
        else:
            sql.append(f"CREATE USER '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'")
            sql.append(f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%'")
        self.sql(";\n".join(sql))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout=30.0):
        """SIGTERM (clean shutdown), then SIGKILL if it takes longer than timeout."""
        self.halt(timeout)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def halt(self, timeout=30.0):
        """Stops the server (SIGTERM, then SIGKILL after timeout) keeping its data, to
        resume() later."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()

    def resume(self):
        """Starts a halted server again on the same port and data."""
        self._spawn()
        self._wait_ready()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid

    # --- SQL ---------------------------------------------------------------------------------

    def _client_argv(self, user="root", password=None, db=None):
        argv = [CLIENT, "--no-defaults", "-h127.0.0.1", f"-P{self.port}", f"-u{user}",
                "--batch", "--skip-column-names", "--connect-timeout=5"]
        if password:
            argv.append(f"-p{password}")
        if db:
            argv.append(f"-D{db}")
        return argv

    def sql(self, statements, db=None, user="root", password=None, timeout=60):
        """Runs statements (';'-separated) through the mariadb client; returns the result rows
        as lists of strings ("NULL" for NULL). Raises SQLError with the client's message."""
        r = subprocess.run(self._client_argv(user, password, db), input=statements.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise SQLError(r.stderr.decode(errors="replace").strip())
        out = r.stdout.decode()
        return [line.split("\t") for line in out.splitlines()]

    def value(self, query, db=None, **kw):
        """First column of the first row, or None when there is no row."""
        rows = self.sql(query, db=db, **kw)
        return rows[0][0] if rows else None

    def app_sql(self, statements, db=None):
        """Like sql() but as the application user (subject to read_only)."""
        return self.sql(statements, db=db, user=APP_USER, password=APP_PASSWORD)

    def create_database(self, name):
        self.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` "
                 "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def url(self, db=""):
        return f"mariadb://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{self.port}/{db}"

    # --- replication -------------------------------------------------------------------------

    def replicate_from(self, primary):
        self.sql(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
                 f"MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{REPL_PASSWORD}', "
                 "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE")
        self.primary = primary

    def wait_replica_caught_up(self, timeout=10.0):
        """Waits until this replica has applied everything the primary has binlogged."""
        assert self.primary is not None, "not a replica: call replicate_from() first"
        pos = self.primary.value("SELECT @@gtid_binlog_pos")
        if not pos:
            return  # MASTER_GTID_WAIT('') returns at once; nothing to wait for anyway
        got = self.value(f"SELECT MASTER_GTID_WAIT('{pos}', {timeout})")
        if got != "0":
            status = self.sql("SHOW SLAVE STATUS\\G")
            raise RuntimeError(f"replica did not reach {pos} in {timeout}s: {status}")


def start_pair():
    """A primary and a read-only replica following it by GTID, replica caught up."""
    primary = MariaDB(server_id=1).start()
    replica = None
    try:
        replica = MariaDB(server_id=2, read_only=True).start()
        replica.replicate_from(primary)
        replica.wait_replica_caught_up()
    except Exception:
        if replica is not None:
            replica.stop()
        primary.stop()
        raise
    return primary, replica


def stop_pair(primary, replica):
    replica.stop()
    primary.stop()


def wait_replica_caught_up(primary, replica, timeout=10.0):
    """Module-level form of MariaDB.wait_replica_caught_up for a (primary, replica) pair."""
    replica.primary = primary
    replica.wait_replica_caught_up(timeout)
