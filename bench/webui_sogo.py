# SPDX-License-Identifier: MIT
# SOGo (Debian's sogo 5.8) as bench/webui.sh's peer: a private PostgreSQL, memcached, sogod and
# an nginx front for its static files, all on 127.0.0.1 with ports chosen here, the user alice in
# an SQL auth source, and EVENTS events this week put over CalDAV. Stops what it starts by PID.
# bench/mail.py starts it too, with its webmail on a private Dovecot (imap_url).
import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import base64

PG = "/usr/lib/postgresql/15/bin"
RES = "/usr/lib/GNUstep/SOGo/WebServerResources/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, proc, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not listening on 127.0.0.1:{port} after {deadline} s")


def missing():
    """Why SOGo cannot run here, or None."""
    for path in ("/usr/sbin/sogod", "/usr/bin/memcached", "/usr/sbin/nginx", f"{PG}/postgres"):
        if not os.path.exists(path):
            return f"{path} not installed (apt-get install sogo memcached nginx postgresql-15)"
    if os.geteuid() != 0:
        return "needs root to run PostgreSQL and sogod as their own users"
    return None


def _as(user, argv, **kw):
    return subprocess.Popen(["runuser", "-u", user, "--"] + argv, **kw)


def _sql(pgport, sock, db, sql):
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG}/psql", "-qAt", "-h", sock,
                    "-p", str(pgport), "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True, text=True, timeout=60)


def week_events(events):
    """EVENTS (start, end, summary) of 50 minutes over this week's days, Monday first (UTC,
    as both UIs start the week here), 07:00 to 18:40: the same events for both UIs."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    monday = today - datetime.timedelta(days=today.weekday())
    out = []
    for i in range(events):
        day = monday + datetime.timedelta(days=i % 7)
        start = datetime.datetime(day.year, day.month, day.day, 7 + (i // 7) % 12,
                                  20 * ((i // 84) % 3))
        out.append((start, start + datetime.timedelta(minutes=50), f"Event {i}"))
    return out


def _caldav_events(port, user, pw, events):
    """EVENTS events by CalDAV PUT into the user's personal calendar."""
    auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
    base = f"http://127.0.0.1:{port}/SOGo/dav/{user}/Calendar/personal/"
    f = "%Y%m%dT%H%M%SZ"
    for i, (start, end, summary) in enumerate(week_events(events)):
        ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem bench//EN\r\nBEGIN:VEVENT\r\n"
               f"UID:bench-{i}\r\nDTSTAMP:{start.strftime(f)}\r\nDTSTART:{start.strftime(f)}\r\n"
               f"DTEND:{end.strftime(f)}\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        req = urllib.request.Request(base + f"bench-{i}.ics", data=ics.encode(), method="PUT",
                                     headers={"Authorization": auth,
                                              "Content-Type": "text/calendar; charset=utf-8"})
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status not in (201, 204):
                raise RuntimeError(f"CalDAV PUT event {i}: HTTP {r.status}")


@contextlib.contextmanager
def sogo(events, imap_url="imap://127.0.0.1:1"):
    """Yields (the front's base URL with alice/alice_pw and EVENTS events, its directory, sogod's
    PID); its webmail reads imap_url as alice/alice_pw; stops everything."""
    procs = []
    d = tempfile.mkdtemp(prefix="tandem-bench-sogo-")
    os.chmod(d, 0o755)
    try:
        pgport, mcport, sogoport, webport = (free_port() for _ in range(4))
        pgdata = os.path.join(d, "pg")
        os.mkdir(pgdata)
        shutil.chown(pgdata, "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG}/initdb", "-D", pgdata, "-A",
                        "trust", "-U", "postgres"], check=True, capture_output=True, timeout=120)
        log = open(os.path.join(d, "postgres.log"), "w")
        procs.append(_as("postgres", [f"{PG}/postgres", "-D", pgdata, "-p", str(pgport), "-k",
                                      pgdata, "-c", "listen_addresses=127.0.0.1"],
                         stdout=log, stderr=log))
        wait_port(pgport, "postgres", procs[-1])
        _sql(pgport, pgdata, "postgres", "CREATE ROLE sogo LOGIN PASSWORD 'sogo'")
        _sql(pgport, pgdata, "postgres", "CREATE DATABASE sogo OWNER sogo")
        _sql(pgport, pgdata, "sogo",
             "CREATE TABLE sogo_users (c_uid varchar(64) PRIMARY KEY, c_name varchar(64), "
             "c_password varchar(64), c_cn varchar(128), mail varchar(128)); "
             "INSERT INTO sogo_users VALUES ('alice','alice','alice_pw','Alice','alice@example.org');"
             "ALTER TABLE sogo_users OWNER TO sogo")
        procs.append(subprocess.Popen(["memcached", "-u", "nobody", "-l", "127.0.0.1", "-p",
                                       str(mcport), "-U", "0", "-m", "64"]))
        wait_port(mcport, "memcached", procs[-1])
        db = f"postgresql://sogo:sogo@127.0.0.1:{pgport}/sogo"
        home = os.path.join(d, "sogo-home")
        os.mkdir(home)
        shutil.chown(home, "sogo")
        settings = {
            "WOPort": f"127.0.0.1:{sogoport}", "WONoDetach": "YES", "WOWorkersCount": "2",
            "WOLogFile": os.path.join(home, "sogo.log"), "WOPidFile": os.path.join(home, "sogo.pid"),
            "SOGoProfileURL": f"{db}/sogo_user_profile", "OCSFolderInfoURL": f"{db}/sogo_folder_info",
            "OCSSessionsFolderURL": f"{db}/sogo_sessions_folder",
            "OCSEMailAlarmsFolderURL": f"{db}/sogo_alarms_folder",
            "SOGoMemcachedHost": f"127.0.0.1:{mcport}", "SOGoTimeZone": "UTC",
            "SOGoLanguage": "English", "SOGoMailDomain": "example.org",
            "SOGoLoginModule": "Calendar", "SOGoFirstDayOfWeek": "1", "SOGoIMAPServer": imap_url,
            "SOGoUserSources": "({type = sql; id = users; viewURL = \"" + db + "/sogo_users\"; "
                               "canAuthenticate = YES; isAddressBook = NO; "
                               "userPasswordAlgorithm = plain;})",
        }
        argv = ["env", f"HOME={home}", "/usr/sbin/sogod"]
        for k, v in settings.items():
            argv += [f"-{k}", v]
        log = open(os.path.join(d, "sogod.out"), "w")
        procs.append(_as("sogo", argv, stdout=log, stderr=log, cwd=home))
        wait_port(sogoport, "sogod", procs[-1])
        sogod = procs[-1].pid
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx.err;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types; access_log off; sendfile on;
  client_body_temp_path {d}/nb; proxy_temp_path {d}/np; fastcgi_temp_path {d}/nf;
  uwsgi_temp_path {d}/nu; scgi_temp_path {d}/ns;
  gzip on; gzip_comp_level 6; gzip_proxied any; gzip_types text/css application/javascript application/json text/javascript image/svg+xml;
  server {{
    listen 127.0.0.1:{webport};
    location /SOGo.woa/WebServerResources/ {{ alias {RES}; expires 1y; }}
    location /SOGo/WebServerResources/ {{ alias {RES}; expires 1y; }}
    location /SOGo {{
      proxy_pass http://127.0.0.1:{sogoport}; proxy_set_header Host $http_host;
      proxy_buffer_size 64k; proxy_buffers 8 64k;
      proxy_set_header x-webobjects-server-port {webport};
      proxy_set_header x-webobjects-server-name $host;
      proxy_set_header x-webobjects-server-url http://$http_host;
      proxy_set_header x-webobjects-server-protocol HTTP/1.0;
      add_header Cache-Control "max-age=0, no-cache, no-store";
    }}
  }}
}}
""")
        procs.append(subprocess.Popen(["nginx", "-c", conf, "-p", d]))
        wait_port(webport, "nginx", procs[-1])
        _caldav_events(webport, "alice", "alice_pw", events)
        yield f"http://127.0.0.1:{webport}/SOGo/", d, sogod
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if not os.environ.get("KEEP_SOGO_DIR"):
            shutil.rmtree(d, ignore_errors=True)


def run(root, rounds, events):
    """bench/webui-sogo.mjs against a fresh SOGo: its JSON result, or the reason it was skipped."""
    why = missing()
    if why:
        return None, why
    try:
        with sogo(events) as (url, _, _):
            r = subprocess.run(["node", os.path.join(root, "bench", "webui-sogo.mjs")],
                               env=dict(os.environ, BASE_URL=url, ROUNDS=str(rounds),
                                        EVENTS=str(events)),
                               capture_output=True, text=True, timeout=900)
    except (RuntimeError, OSError, subprocess.SubprocessError, urllib.error.URLError) as e:
        return None, f"SOGo did not start: {e}"
    if r.returncode != 0:
        return None, f"webui-sogo.mjs failed: {(r.stderr or r.stdout).strip()[-300:]}"
    return json.loads(r.stdout), None


if __name__ == "__main__":
    # by hand: EVENTS=200 HOLD=600 python3 bench/webui_sogo.py; stop it with SIGTERM (cleans up)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with sogo(int(os.environ.get("EVENTS", "5"))) as (url, d, _):
        print(url, d, flush=True)
        with urllib.request.urlopen(url, timeout=30) as r:
            print(r.status, len(r.read()))
        time.sleep(float(os.environ.get("HOLD", "0")))
