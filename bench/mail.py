# SPDX-License-Identifier: MIT
# Driver for bench/mail.sh: Tandem's mail API beside Roundcube and SOGo's webmail, all three on one
# private Dovecot (scripts/mail-system.sh) whose INBOX holds MESSAGES messages, each peer through
# its own counting proxy (bench/mail_proxy.py). Rows: the first page of the list (50, date
# descending), opening a message, a search (subject or sender text); columns per peer: server
# CPU µs/request, Dovecot's CPU µs/request, p99 ms, IMAP commands/request. Then Tandem alone:
# node RSS before/after listing every page of the INBOX, and IMAP connections under 16 clients.
# Usage: mail.py ROUNDS SECONDS MESSAGES CLIENTS; MAIL_BENCH_PEERS=tandem,sogo (default all three)
# measures only those (e.g. tandem alone under perf record -p).
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

import peers  # noqa: E402
from davpeers import keepalive  # noqa: E402
import webui_sogo  # noqa: E402
from cluster import metric, pct  # noqa: E402
from cluster import provision as provision_context  # noqa: E402
from mail_inbox import message as inbox_message  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
CACHE = os.environ.get("MAIL_BENCH_DIR", "/var/tmp/tandem-bench-mail")
PAGE = 50
USER, PASSWORD = "alice", "alice_pw"
PEERS = ("tandem", "roundcube", "sogo")
WANT = os.environ.get("MAIL_BENCH_PEERS", ",".join(PEERS)).split(",")
RSS_BUDGET = 60  # seconds the RSS walk over the INBOX may take (each page is a SORT of it all)
OPS = ("list", "open", "search")


class Unavailable(Exception):
    pass


def subject_of(i):
    m = re.search(rb"\nSubject: ([^\n]*)", inbox_message(i, random.Random(0)))
    return m.group(1).decode()


# ------------------------------------------------------------------ Dovecot and its INBOX

def mail_system(messages):
    """The private Dovecot on the cached INBOX (made once per size): (its env, directory)."""
    d = os.path.join(CACHE, f"inbox-{messages}")
    maildir = os.path.join(d, "mail", USER, "Maildir")
    done = os.path.join(d, "complete")
    os.makedirs(CACHE, exist_ok=True)
    os.chmod(CACHE, 0o755)
    if not os.path.exists(done):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.dirname(maildir))
        os.chmod(d, 0o755)
        shutil.chown(os.path.join(d, "mail"), "mail", "mail")
        shutil.chown(os.path.dirname(maildir), "mail", "mail")
        t = time.monotonic()
        subprocess.run(["runuser", "-u", "mail", "--", "/usr/bin/python3",
                        os.path.join(ROOT, "bench", "mail_inbox.py"), maildir, str(messages)],
                       check=True, timeout=3600)
        print(f"# INBOX of {messages} messages written in {time.monotonic() - t:.0f} s",
              flush=True)
    r = subprocess.run([os.path.join(ROOT, "scripts", "mail-system.sh"), "start", d,
                        f"{USER}:{PASSWORD}"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"mail-system.sh start: {r.stderr}")
    env = dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)
    if not os.path.exists(done):
        t = time.monotonic()
        subprocess.run(["doveadm", "-c", os.path.join(d, "dovecot.conf"), "index", "-u", USER,
                        "INBOX"], check=True, timeout=3600)
        print(f"# Dovecot indexed it in {time.monotonic() - t:.0f} s", flush=True)
        open(done, "w").close()
    return env, d


def dovecot_ticks(master):
    """Dovecot's CPU: the master, its processes now and those it reaped (cutime, cstime)."""
    ticks = peers.cpu_ticks(master)
    with contextlib.suppress(OSError):
        with open(f"/proc/{master}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        ticks += int(fields[13]) + int(fields[14])
    return ticks


class Proxy:
    """bench/mail_proxy.py in front of Dovecot: a port per peer, its counters on demand."""

    def __init__(self, upstream):
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "bench",
                                                                       "mail_proxy.py"),
                                      str(upstream), *PEERS],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ports = json.loads(self.proc.stdout.readline())
        self.lock = threading.Lock()

    def stats(self, cmd="stats"):
        with self.lock:
            self.proc.stdin.write(cmd + "\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(10)


# ------------------------------------------------------------------ HTTP sessions

class Session:
    """A logged-in web client: cookies, extra headers, one keep-alive connection per thread."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.headers = {}
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        h = dict(self.headers, **(headers or {}))
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, (dict, list)):
            body, h["Content-Type"] = json.dumps(body), "application/json"
        resp, data = keepalive(self.local, self.port, method, path, body, h)
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return resp.status, data


def expect(what, status, data, needle):
    if status != 200 or needle.encode() not in data:
        raise Unavailable(f"{what}: HTTP {status}, {needle!r} not in {data[:300]!r}")


# ------------------------------------------------------------------ the three peers
# Each peer: ops {name: fn(session)} where fn returns (status, body) of one request (or the
# requests the webmail makes for it), checked once against the data before timing.

def tandem_ops(port, newest, query, query_subject):
    s = Session(port)
    api = ApiClient(port)
    st, body, _ = api.login(USER, PASSWORD)
    if st != 200:
        raise Unavailable(f"tandem login: {st} {body}")
    s.cookies = dict(api.cookies)  # the session is bound to the client's User-Agent
    s.headers = {"X-Session": api.session, "User-Agent": api.user_agent}
    q = urllib.parse.quote(query)
    ops = {
        "list": lambda: s.request("GET", f"/api/v1/mail/messages?folder=INBOX&sort=date"
                                         f"&order=desc&limit={PAGE}"),
        "open": lambda: s.request("GET", f"/api/v1/mail/messages/INBOX/{newest}"),
        "search": lambda: s.request("GET", f"/api/v1/mail/messages?folder=INBOX&sort=date"
                                           f"&order=desc&limit={PAGE}&q={q}&in=from,subject"),
    }
    return s, ops


def tandem_search_check(ops, query_subject, total):
    st, data = ops["search"]()
    if st != 200 or query_subject.encode() not in data or json.loads(data)["total"] >= total:
        raise Unavailable(f"tandem search (q=) not supported here: HTTP {st}, {data[:200]!r}")


@contextlib.contextmanager
def roundcube(work, imap_port):
    """Roundcube 1.6 (Debian) on a private Apache 2.4, prefork MPM with mod_php, its own config
    directory (ROUNDCUBE_CONFIG_DIR) and SQLite database; its IMAP is imap_port. Yields (port,
    Apache's PID)."""
    for path in ("/usr/share/roundcube/index.php", "/usr/lib/apache2/modules/libphp8.2.so"):
        if not os.path.exists(path):
            raise Unavailable(f"{path} missing (scripts/deps.sh bench installs roundcube)")
    d = os.path.join(work, "roundcube")
    conf_dir = os.path.join(d, "config")
    os.makedirs(conf_dir)
    for sub in ("temp", "logs"):
        os.makedirs(os.path.join(d, sub))
        shutil.chown(os.path.join(d, sub), "www-data", "www-data")
    for f in ("defaults.inc.php", "mimetypes.php"):
        os.symlink(f"/etc/roundcube/{f}", os.path.join(conf_dir, f))
    db = os.path.join(d, "db", "roundcube.sqlite")
    os.makedirs(os.path.dirname(db))
    with open("/usr/share/roundcube/SQL/sqlite.initial.sql") as f:
        subprocess.run(["sqlite3", db], input=f.read(), text=True, check=True, timeout=60)
    shutil.chown(os.path.dirname(db), "www-data", "www-data")
    shutil.chown(db, "www-data", "www-data")
    with open(os.path.join(conf_dir, "config.inc.php"), "w") as f:
        f.write(f"""<?php
$config = [];
$config['db_dsnw'] = 'sqlite:///{db}?mode=0640';
$config['imap_host'] = '127.0.0.1:{imap_port}';
$config['smtp_host'] = '';
$config['des_key'] = 'tandem-bench-mail-24chars';
$config['plugins'] = [];
$config['skin'] = 'elastic';
$config['temp_dir'] = '{d}/temp/';
$config['log_dir'] = '{d}/logs/';
$config['enable_spellcheck'] = false;
$config['mail_pagesize'] = {PAGE};
$config['message_sort_col'] = 'date';
$config['message_sort_order'] = 'DESC';
$config['enable_installer'] = false;
$config['login_rate_limit'] = 0;
""")
    port = webui_sogo.free_port()
    aconf = os.path.join(d, "apache.conf")
    mods = "/usr/lib/apache2/modules"
    with open(aconf, "w") as f:
        f.write(f"""ServerRoot {d}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {d}/apache.pid
ErrorLog {d}/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule dir_module {mods}/mod_dir.so
LoadModule env_module {mods}/mod_env.so
LoadModule php_module {mods}/libphp8.2.so
StartServers 4
MinSpareServers 4
MaxSpareServers 8
MaxRequestWorkers 32
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
DocumentRoot /var/lib/roundcube/public_html
DirectoryIndex index.php
SetEnv ROUNDCUBE_CONFIG_DIR {conf_dir}
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
<Directory />
  Require all granted
  AllowOverride None
</Directory>
""")
    subprocess.run(["apache2", "-f", aconf, "-k", "start"], check=True, timeout=60,
                   env=dict(os.environ, APACHE_RUN_DIR=d, APACHE_LOCK_DIR=d))
    pid = 0
    try:
        for _ in range(100):
            with contextlib.suppress(OSError, ValueError):
                pid = int(open(f"{d}/apache.pid").read())
                break
            time.sleep(0.1)
        if not pid:
            raise Unavailable(f"Apache did not start: {open(f'{d}/error.log').read()[-500:]}")
        yield port, pid
    finally:
        if pid:
            os.kill(pid, 15)
            for _ in range(100):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)


def roundcube_ops(port, newest, query):
    s = Session(port)
    st, page = s.request("GET", "/?_task=login")
    m = re.search(rb'name="_token" value="([^"]+)"', page)
    if st != 200 or not m:
        raise Unavailable(f"roundcube login page: HTTP {st} {page[:300]!r}")
    form = urllib.parse.urlencode({"_token": m.group(1).decode(), "_task": "login",
                                   "_action": "login", "_timezone": "UTC", "_url": "",
                                   "_user": USER, "_pass": PASSWORD})
    st, page = s.request("POST", "/?_task=login", form,
                         {"Content-Type": "application/x-www-form-urlencoded"})
    if st not in (200, 302):
        raise Unavailable(f"roundcube login: HTTP {st} {page[:300]!r}")
    st, page = s.request("GET", "/?_task=mail&_mbox=INBOX")
    m = re.search(rb'"request_token":"([^"]+)"', page)
    if st != 200 or not m:
        raise Unavailable(f"roundcube login refused: HTTP {st} {page[-300:]!r}")
    s.headers = {"X-Roundcube-Request": m.group(1).decode(), "X-Requested-With":
                 "XMLHttpRequest"}
    q = urllib.parse.quote(query)
    ops = {
        "list": lambda: s.request("GET", "/?_task=mail&_action=list&_mbox=INBOX&_page=1"
                                         "&_remote=1"),
        "open": lambda: s.request("GET", f"/?_task=mail&_action=preview&_uid={newest}"
                                         "&_mbox=INBOX&_framed=1"),
        "search": lambda: s.request("GET", f"/?_task=mail&_action=search&_q={q}"
                                           "&_headers=subject,from&_filter=ALL&_scope=base"
                                           "&_mbox=INBOX&_remote=1"),
    }
    return s, ops


def sogo_ops(url, newest, query):
    base = urllib.parse.urlsplit(url)
    s = Session(base.port)
    st, data = s.request("POST", "/SOGo/connect", {"userName": USER, "password": PASSWORD,
                                                   "rememberLogin": 0})
    if st != 200:
        raise Unavailable(f"sogo login: HTTP {st} {data[:300]!r}")
    if "XSRF-TOKEN" in s.cookies:
        s.headers = {"X-XSRF-TOKEN": s.cookies["XSRF-TOKEN"]}
    folder = f"/SOGo/so/{USER}/Mail/0/folderINBOX"
    sort = {"sort": "date", "asc": 0}

    def listing(body):
        """The web UI's list: view (every UID, the first rows' headers); the headers of the
        first page by a second request when view left them out."""
        st, data = s.request("POST", f"{folder}/view", body)
        if st != 200 or b'"headers"' in data:
            return st, data
        uids = json.loads(data).get("uids", [])[:PAGE]
        st2, data2 = s.request("POST", f"{folder}/headers", {"uids": uids})
        return st2, data + data2

    ops = {
        "list": lambda: listing({"sortingAttributes": sort}),
        "open": lambda: s.request("GET", f"{folder}/{newest}/view"),
        "search": lambda: listing({"sortingAttributes": dict(sort, match="OR"), "filters": [
            {"searchBy": "subject", "searchInput": query},
            {"searchBy": "from", "searchInput": query}]}),
    }
    return s, ops


# ------------------------------------------------------------------ measuring

def load(op, seconds, clients):
    """clients threads call op for seconds: (latencies in s, errors)."""
    lat, errors = [], [0]
    end = time.monotonic() + seconds

    def worker():
        mine = []
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                st, _ = op()
            except (OSError, http.client.HTTPException):
                st = 0
            mine.append(time.monotonic() - t)
            if st != 200:
                errors[0] += 1
        lat.extend(mine)
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors[0]


def measure(target, op, seconds, clients, proxy, dovecot):
    ticks = lambda: peers.cpu_ticks(target["pid"]) + target.get("reaped", lambda: 0)()  # noqa
    c0, d0, p0 = ticks(), dovecot_ticks(dovecot), proxy.stats()[target["name"]]["commands"]
    lat, errors = load(target["ops"][op], seconds, clients)
    c1, d1, p1 = ticks(), dovecot_ticks(dovecot), proxy.stats()[target["name"]]["commands"]
    n = max(1, len(lat))
    return {"cpu": (c1 - c0) * 1e6 / HZ / n, "imap_cpu": (d1 - d0) * 1e6 / HZ / n,
            "p99": pct(lat, 99) * 1000 if lat else 0, "cmds": (p1 - p0) / n,
            "rps": n / seconds, "errors": errors}


def apache_reaped(pid):
    def f():
        with contextlib.suppress(OSError):
            s = open(f"/proc/{pid}/stat").read()
            fields = s[s.rindex(")") + 2:].split()
            return int(fields[13]) + int(fields[14])
        return 0
    return f


def tandem_alone(c, node, proxy, messages, seconds):
    """Node RSS before/after listing every page; IMAP connections under 16 clients."""
    s, ops = tandem_ops(node.port, 1, "x", "x")
    rss = [peers.rss_kib(node.pid)]
    end, pages = time.monotonic() + RSS_BUDGET, 0
    step = max(500, messages // 100)  # 100 pages of 500 spread over the INBOX at most
    for _ in range(2):  # the second walk shows whether the first one's growth was a one-off
        for off in range(0, messages, step):
            st, data = s.request("GET", f"/api/v1/mail/messages?folder=INBOX&sort=date"
                                        f"&order=desc&offset={off}&limit=500")
            assert st == 200 and len(json.loads(data)["messages"]) == min(500, messages - off)
            pages += 1
            if time.monotonic() > end:
                break
        rss.append(peers.rss_kib(node.pid))
    sessions = [tandem_ops(node.port, 1, "x", "x")[1]["list"] for _ in range(16)]
    proxy.stats("peak")
    peak_metric, stop = [0], threading.Event()

    def sample():
        while not stop.wait(0.05):
            peak_metric[0] = max(peak_metric[0],
                                 metric(node.port, "tandem_mail_imap_connections"))
    sampler = threading.Thread(target=sample)
    sampler.start()
    end = time.monotonic() + seconds

    def client(op):
        while time.monotonic() < end:
            op()
    threads = [threading.Thread(target=client, args=(op,)) for op in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sampler.join()
    peak = proxy.stats("peak")["tandem"]["peak"]
    print(f"\ntandem node RSS: {rss[0] / 1024:.1f} MiB before, {rss[1] / 1024:.1f} MiB after "
          f"pages of 500 (date descending) from offset 0 to {off} every {step}, "
          f"{rss[2] / 1024:.1f} MiB after a second walk ({pages} pages)")
    print(f"16 concurrent clients of one user, {seconds:g} s of first pages: at most "
          f"{peak_metric[0]:.0f} IMAP connections on /metrics, {peak} at the proxy")


def main():
    rounds, seconds, messages, clients = (int(sys.argv[1]), float(sys.argv[2]),
                                          int(sys.argv[3]), int(sys.argv[4]))
    newest = messages  # UIDs follow the Maildir's order: 1 .. messages, the newest last
    newest_subject = subject_of(messages - 1)
    query = "#" + str((messages - 1) - (messages - 1) % 7)  # a thread's root number
    query_subject = subject_of(messages - 1)
    env, mdir = mail_system(messages)
    dovecot = int(env["MAIL_PID"])
    proxy = Proxy(int(env["MAIL_IMAP_PORT"]))
    work = tempfile.mkdtemp(prefix="tandem-bench-mail-")
    keep = os.environ.get("KEEP_MAIL_BENCH_DIR")
    os.chmod(work, 0o755)
    stack = contextlib.ExitStack()
    try:
        stack.callback(subprocess.run, [os.path.join(ROOT, "scripts", "mail-system.sh"),
                                        "stop", mdir], timeout=60)
        stack.callback(proxy.stop)
        targets, skipped = [], {}
        d = os.path.join(work, "tandem")
        os.makedirs(d)
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite",
                    extra=f"[log]\nlevel = warn\n[mail]\nimap_url = imap://127.0.0.1:"
                          f"{proxy.ports['tandem']}\nmaster_user = tandem\n"
                          f"master_password_file = {env['MAIL_MASTER_PASSWORD_FILE']}\n")
        node = c.start_node()
        stack.callback(c.stop)
        provision_context(c, d)
        try:
            if "tandem" not in WANT:
                raise Unavailable("not in MAIL_BENCH_PEERS")
            s, ops = tandem_ops(node.port, newest, query, query_subject)
            expect("tandem list", *ops["list"](), newest_subject)
            expect("tandem open", *ops["open"](), newest_subject)
            try:
                tandem_search_check(ops, query_subject, messages)
            except Unavailable as e:
                print(f"# {e}: search not measured for tandem")
                del ops["search"]
            targets.append({"name": "tandem", "pid": node.pid, "ops": ops})
        except Unavailable as e:
            skipped["tandem"] = str(e)
        try:
            if "roundcube" not in WANT:
                raise Unavailable("not in MAIL_BENCH_PEERS")
            port, pid = stack.enter_context(roundcube(work, proxy.ports["roundcube"]))
            s, ops = roundcube_ops(port, newest, query)
            expect("roundcube list", *ops["list"](), newest_subject)
            expect("roundcube open", *ops["open"](), newest_subject)
            expect("roundcube search", *ops["search"](), query_subject)
            targets.append({"name": "roundcube", "pid": pid, "ops": ops,
                            "reaped": apache_reaped(pid)})
        except (Unavailable, subprocess.SubprocessError, OSError) as e:
            skipped["roundcube"] = str(e)
        why = webui_sogo.missing() if "sogo" in WANT else "not in MAIL_BENCH_PEERS"
        try:
            if why:
                raise Unavailable(why)
            url, _, sogod = stack.enter_context(webui_sogo.sogo(
                0, f"imap://127.0.0.1:{proxy.ports['sogo']}"))
            s, ops = sogo_ops(url, newest, query)
            expect("sogo list", *ops["list"](), newest_subject)
            expect("sogo open", *ops["open"](), newest_subject)
            expect("sogo search", *ops["search"](), query_subject)
            targets.append({"name": "sogo", "pid": sogod, "ops": ops})
        except (Unavailable, RuntimeError, subprocess.SubprocessError, OSError) as e:
            skipped["sogo"] = str(e)
        for name, why in skipped.items():
            print(f"# {name} skipped: {why}")
        print(f"# INBOX {messages} messages; {rounds} rounds x {seconds:g} s per op, "
              f"{clients} clients; newest {newest_subject!r}; search {query!r}", flush=True)
        results = {}
        for r in range(rounds):
            for op in OPS:
                for t in targets:
                    if op not in t["ops"]:
                        continue
                    m = measure(t, op, seconds, clients, proxy, dovecot)
                    results.setdefault((t["name"], op), []).append(m)
                    print(f"round {r + 1} {op:6} {t['name']:9} {m['rps']:7.1f} req/s  "
                          f"cpu {m['cpu']:8.0f} µs  imap cpu {m['imap_cpu']:7.0f} µs  "
                          f"p99 {m['p99']:7.1f} ms  imap cmds {m['cmds']:5.1f}"
                          + (f"  ERRORS {m['errors']}" if m["errors"] else ""), flush=True)
        print("\nmedians | op | peer | CPU µs/req | Dovecot CPU µs/req | p99 ms | IMAP cmds/req "
              "| CPU vs roundcube |")
        for op in OPS:
            ref = results.get(("roundcube", op))
            ref_cpu = statistics.median(m["cpu"] for m in ref) if ref else None
            for t in targets:
                ms = results.get((t["name"], op))
                if not ms:
                    continue
                med = {k: statistics.median(m[k] for m in ms) for k in ms[0]}
                ratio = f"{med['cpu'] / ref_cpu:.2f}x" if ref_cpu else "-"
                print(f"| {op} | {t['name']} | {med['cpu']:.0f} | {med['imap_cpu']:.0f} | "
                      f"{med['p99']:.1f} | {med['cmds']:.1f} | {ratio} |")
        if any(t["name"] == "tandem" for t in targets):
            tandem_alone(c, node, proxy, messages, max(2.0, seconds))
    finally:
        stack.close()
        if keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop what was started
    main()
