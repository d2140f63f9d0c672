# SPDX-License-Identifier: MIT
# Driver for bench/provision.sh: starts a release tandemd per backend, registers a filestore
# and a database, then creates contexts (each with its admin, i.e. one argon2id hash) and
# their users with `tandemctl createusers` from CSV (precomputed argon2id hash per user, as a
# control panel migrating users would send; hashing is measured separately).
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from conftest import TANDEMD, Process, free_port, write_config  # noqa: E402
from provisioning import TANDEMCTL, MASTER  # noqa: E402


def ctl(url, *args):
    r = subprocess.run([TANDEMCTL, "--url", url, "-A", MASTER[0], "-P", MASTER[1], *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tandemctl {' '.join(args[:3])}: {r.stderr}")
    return r.stdout


def run(backend, contexts, users, workdir):
    mariadb = None
    if backend == "mariadb":
        from mariadb import MariaDB
        mariadb = MariaDB(server_id=1).start()
        configdb = mariadb.url("configdb")
        dburl = mariadb.url("")
    else:
        configdb = f"sqlite://{workdir}/configdb.sqlite"
        dburl = f"sqlite://{workdir}/userdb/"
    subprocess.run([TANDEMCTL, "initconfigdb", "--configdb-url", configdb, "--master-user",
                    MASTER[0], "--master-pass", MASTER[1]], check=True, capture_output=True)
    port = free_port()
    conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{port}\ndata_dir = {workdir}\n"
                                 f"workers = 4\n[configdb]\nurl = {configdb}\n[log]\nlevel = warn\n")
    node = Process([TANDEMD, "--config", conf], port, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        ctl(url, "registerfilestore", "-t", f"file://{workdir}/filestore", "-x", "1000000")
        ctl(url, "registerdatabase", "-n", "bench", "--url", dburl, "-m", "true",
            "--max-units", "1000000")
        csv_path = os.path.join(workdir, "users.csv")
        start = time.monotonic()
        created = 0
        for cid in range(1, contexts + 1):
            ctl(url, "createcontext", "-c", str(cid), "-q", "0", "-u", "oxadmin", "-d",
                "Admin", "-g", "A", "-s", "D", "-p", "pw", "-e", "a@example.com")
            with open(csv_path, "w") as f:
                f.write("login,display_name,given_name,sur_name,password_hash,email\n")
                for i in range(users):
                    f.write(f"user{i},User {i},Given,Sur,\"{HASH}\",user{i}@example.com\n")
            ctl(url, "createusers", "-c", str(cid), "--csv", csv_path)
            created += users
            if cid % 100 == 0 or cid == contexts:
                el = time.monotonic() - start
                print(f"  {backend}: {cid}/{contexts} contexts, {created} users, "
                      f"{created / el:.0f} users/s", file=sys.stderr)
        return created, time.monotonic() - start
    finally:
        node.stop()
        if mariadb is not None:
            mariadb.stop()


# argon2id of "secret" (t=2, m=19 MiB), as tandem stores it.
HASH = None


def make_hash():
    out = subprocess.run([TANDEMCTL, "hashpassword", "secret"], capture_output=True, text=True)
    return out.stdout.strip()


def main():
    global HASH
    contexts, users, which = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    backends = ["sqlite", "mariadb"] if which == "both" else [which]
    HASH = make_hash()
    assert HASH.startswith("$argon2id$"), "tandemctl hashpassword failed"
    print(f"provisioning {contexts} contexts x {users} users per backend")
    for b in backends:
        with tempfile.TemporaryDirectory(prefix=f"tandem-bench-{b}-") as d:
            n, secs = run(b, contexts, users, d)
            rate = n / secs
            print(f"{b:8s} {n} users + {contexts} contexts in {secs:.1f} s: {rate:.0f} users/s; "
                  f"1,000,000 users would take {1e6 / rate / 60:.1f} min at this rate")


if __name__ == "__main__":
    main()
