# SPDX-License-Identifier: MIT
# Peer front ends for side-by-side tests and benchmarks: Apache 2.4 mod_proxy_balancer, HAProxy
# and nginx, each with a private config file in a directory of the caller's, on a loopback port
# chosen at run time, stopped by PID. The Apache and HAProxy front-end blocks are the ones
# docs/balancer.md shows; keep the two in step.
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

APACHE_MODULES = "/usr/lib/apache2/modules"
# mod_unixd (User/Group), mod_log_config and mod_so are compiled into Debian's apache2.
APACHE_MODULE_LIST = ("mpm_event", "authz_core", "authz_host", "proxy", "proxy_http",
                      "proxy_ajp", "proxy_balancer", "lbmethod_byrequests", "slotmem_shm", "headers",
                      "status")

# The seed's mod_proxy_balancer configuration (seeds/001, "Session load balancing") over HTTP
# instead of AJP, with Tandem's paths: /ajax and /servlet become /api/v1, the SOAP provisioning
# API (/servlet/axis2/services, restricted to 127.0.0.1 in seeds/002) becomes /admin/v1.
# {members} is one BalancerMember line per node; {admin_allow} and {manager_allow} are
# `Require ip` networks.
APACHE_FRONT = """\
<Proxy "balancer://oxcluster">
{members}
    ProxySet stickysession=JSESSIONID|jsessionid scolonpathdelim=On
</Proxy>
ProxyRequests Off
{proxypass}
<Location /admin/v1>
    Require ip {admin_allow}
</Location>
# Which member answered, for operators and tests (the route is in the cookie anyway).
Header always set X-Balancer-Route "%{{BALANCER_WORKER_ROUTE}}e" env=BALANCER_WORKER_ROUTE
<Location /balancer-manager>
    SetHandler balancer-manager
    Require ip {manager_allow}
</Location>
"""
APACHE_PATHS = ("/api/v1", "/admin/v1")
# scheme ajp: the seed's own members (mod_proxy_ajp); params adds e.g. secret=… for AJP.
APACHE_MEMBER = ("    BalancerMember {scheme}://{host}:{port} route={route} loadfactor=50 "
                 "retry={retry} smax=0 ttl=60{params}")

# HAProxy: round-robin for new sessions; the route after the first '.' of the JSESSIONID cookie,
# else of a ;jsessionid= path parameter, else of the jsessionid query parameter, names the server
# (server names are the routes). An unknown route, or a server that is down, falls back to
# round-robin; a failed connect is retried on another server (redispatch). No stick table: the
# route is in every request, so there is no state to keep or to share between two HAProxies.
HAPROXY_BACKEND = """\
backend oxcluster
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    option redispatch
    retries 2
    use-server %[req.cook(JSESSIONID),field(2,.)] if {{ req.cook(JSESSIONID),field(2,.),length gt 0 }}
    use-server %[urlp(jsessionid,;),field(2,.),word(1,/?)] if {{ urlp(jsessionid,;),field(2,.),word(1,/?),length gt 0 }}
    use-server %[urlp(jsessionid),field(2,.)] if {{ urlp(jsessionid),field(2,.),length gt 0 }}
{servers}
"""
HAPROXY_SERVER = "    server {route} {host}:{port} check inter {inter} fall 3 rise 2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing(binary):
    """None if binary is installed, else a sentence for pytest.skip()."""
    if shutil.which(binary) or os.path.exists(f"/usr/sbin/{binary}"):
        return None
    return f"{binary} is not installed (scripts/deps.sh test installs it)"


def binary(name):
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait_port(port, proc, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log_path, "rb") as f:
                log = f.read().decode(errors="replace")
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


def descendants(pid):
    """pid and every process below it (Apache's and nginx's workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def cpu_ticks(pid):
    """utime + stime in clock ticks of pid and its descendants (a vanished one counts 0)."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def rss_kib(pid):
    """Resident memory of pid and its descendants, in KiB."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class Peer:
    """A started front end: .port, .pid, .directory, .log(), .stop()."""

    def __init__(self, name, argv, port, directory, env=None, timeout=15.0):
        self.name = name
        self.port = port
        self.directory = directory
        self.log_path = os.path.join(directory, "stderr.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=directory, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        try:
            _wait_port(port, self.proc, self.log_path, timeout)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=15):
        """SIGTERM to the main process (it stops its workers); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def _directory(workdir, name):
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    return d


# ------------------------------------------------------------------------------- Apache

def apache_front(members, retry=5, paths=APACHE_PATHS, admin_allow="127.0.0.1",
                 manager_allow="127.0.0.1", scheme="http", member_params=""):
    """The front-end block for members [(route, host, port)], proxying paths."""
    params = f" {member_params}" if member_params else ""
    lines = "\n".join(APACHE_MEMBER.format(scheme=scheme, host=h, port=p, route=r, retry=retry,
                                            params=params)
                      for r, h, p in members)
    proxypass = "\n".join(f"ProxyPass {p:<10} balancer://oxcluster{p}" for p in paths)
    return APACHE_FRONT.format(members=lines, proxypass=proxypass, admin_allow=admin_allow,
                               manager_allow=manager_allow)


def apache_env(directory):
    """The variables Debian's /etc/apache2/envvars sets, pointing into directory."""
    env = dict(os.environ)
    if os.geteuid() != 0:
        user = group = pwd.getpwuid(os.geteuid()).pw_name
    else:
        try:
            pwd.getpwnam("www-data")
            user = group = "www-data"
        except KeyError:
            user, group = "nobody", "nogroup"
    env.update(APACHE_RUN_USER=user, APACHE_RUN_GROUP=group,
               APACHE_RUN_DIR=os.path.join(directory, "run"),
               APACHE_LOCK_DIR=os.path.join(directory, "lock"),
               APACHE_PID_FILE=os.path.join(directory, "run", "apache2.pid"),
               APACHE_LOG_DIR=os.path.join(directory, "log"), LANG="C")
    return env


def apache_config(port, front, threads=25, servers=2, server_limit=8, log_level="warn",
                  modules=APACHE_MODULE_LIST):
    """A whole httpd.conf: globals from the environment of apache_env(), modules loaded, then
    front. Event MPM: servers processes at start, at most server_limit, threads each."""
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
    return f"""\
{loads}
ServerRoot ${{APACHE_RUN_DIR}}
DefaultRuntimeDir ${{APACHE_RUN_DIR}}
PidFile ${{APACHE_PID_FILE}}
Mutex file:${{APACHE_LOCK_DIR}} default
User ${{APACHE_RUN_USER}}
Group ${{APACHE_RUN_GROUP}}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
ErrorLog ${{APACHE_LOG_DIR}}/error.log
LogLevel {log_level}
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
StartServers {servers}
ServerLimit {server_limit}
ThreadsPerChild {threads}
MaxRequestWorkers {server_limit * threads}
MinSpareThreads {threads}
MaxSpareThreads {server_limit * threads}
<Directory />
    Require all denied
</Directory>
{front}"""


def start_apache(workdir, members, name="apache", retry=5, paths=APACHE_PATHS, scheme="http",
                 member_params="", **config):
    """Apache 2.4 with the seed's balancer in front of members [(route, host, port)]."""
    d = _directory(workdir, name)
    env = apache_env(d)
    for key in ("APACHE_RUN_DIR", "APACHE_LOCK_DIR", "APACHE_LOG_DIR"):
        os.makedirs(env[key], exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "apache2.conf")
    with open(conf, "w") as f:
        f.write(apache_config(port, apache_front(members, retry=retry, paths=paths,
                                                 scheme=scheme, member_params=member_params),
                              **config))
    peer = Peer("apache", [binary("apache2"), "-f", conf, "-DFOREGROUND"], port, d, env=env)
    peer.error_log = os.path.join(env["APACHE_LOG_DIR"], "error.log")
    return peer


# ------------------------------------------------------------------------------- HAProxy

def haproxy_backend(members, inter="1s"):
    servers = "\n".join(HAPROXY_SERVER.format(route=r, host=h, port=p, inter=inter)
                        for r, h, p in members)
    return HAPROXY_BACKEND.format(servers=servers)


def haproxy_config(port, backend, threads=None, stats_socket=None, bind="127.0.0.1"):
    """A whole haproxy.cfg; threads None = HAProxy's default (one per CPU)."""
    nbthread = f"    nbthread {threads}\n" if threads else ""
    stats = f"    stats socket {stats_socket} mode 600 level admin\n" if stats_socket else ""
    return f"""\
global
    maxconn 8000
{nbthread}{stats}defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    option http-keep-alive
    option forwardfor
frontend www
    bind {bind}:{port}
    default_backend oxcluster
{backend}"""


def haproxy_command(peer, command):
    """One command on a started HAProxy's stats socket (level admin); returns the answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(os.path.join(peer.directory, "admin.sock"))
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk


def start_haproxy(workdir, members, name="haproxy", inter="1s", threads=1):
    """HAProxy (foreground, -db) sticky by the JSESSIONID route in front of members."""
    d = _directory(workdir, name)
    port = free_port()
    conf = os.path.join(d, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(haproxy_config(port, haproxy_backend(members, inter), threads,
                               os.path.join(d, "admin.sock")))
    return Peer("haproxy", [binary("haproxy"), "-f", conf, "-db"], port, d)


# ------------------------------------------------------------------------------- nginx

def nginx_config(port, members, directory, workers=1):
    """Round-robin for new sessions; the route after the first '.' of JSESSIONID (the cookie,
    else a ;jsessionid= path parameter, else the query parameter) names an upstream of its own,
    with the other members as backups for failover; an unknown route falls back to the
    round-robin group."""
    upstreams = ""
    for r, h, p in members:
        backups = "".join(f" server {bh}:{bp} backup;" for br, bh, bp in members if br != r)
        upstreams += f"    upstream {r} {{ server {h}:{p};{backups} keepalive 256; }}\n"
    routes = "".join(f"        {r} {r};\n" for r, _, _ in members)
    servers = "".join(f"        server {h}:{p};\n" for _, h, p in members)
    return f"""\
worker_processes {workers};
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {directory}/tmp;
    proxy_temp_path {directory}/tmp;
    map $cookie_JSESSIONID $route_cookie {{
        "~^[^.]*\\.(?<r>[A-Za-z0-9_-]+)$" $r;
    }}
    map $request_uri $route_path {{
        "~;jsessionid=[^.;/?]*\\.(?<r>[A-Za-z0-9_-]+)" $r;
    }}
    map $arg_jsessionid $route_query {{
        "~^[^.]*\\.(?<r>[A-Za-z0-9_-]+)$" $r;
    }}
    map $route_path $route_url {{
        "" $route_query;
        default $route_path;
    }}
    map $route_cookie $route {{
        "" $route_url;
        default $route_cookie;
    }}
    map $route $sticky {{
        default oxcluster;
{routes}    }}
    upstream oxcluster {{
{servers}        keepalive 256;
    }}
{upstreams}    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        keepalive_timeout 60s;
        location / {{
            proxy_pass http://$sticky;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def start_nginx(workdir, members, name="nginx", workers=1):
    """nginx (daemon off) sticky by the JSESSIONID route in front of members."""
    d = _directory(workdir, name)
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_config(port, members, d, workers))
    return Peer("nginx", [binary("nginx"), "-c", conf, "-p", d, "-g", "daemon off;"], port, d)
