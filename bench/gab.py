# SPDX-License-Identifier: MIT
# Driver for bench/gab.sh: one tandemd on SQLite, a context of USERS users inserted in one
# transaction (as provisioning would leave them, without their default folders, which the
# directory does not read), then REQUESTS searches per kind over one keep-alive connection.
import http.client
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from peers import cpu_ticks, rss_kib  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402

GIVEN = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara"]
SUR = ["Meyer", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch",
       "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann"]


def bulk_users(udb, count):
    """count users of context 1 in one transaction, ids after the sequence's next id."""
    con = sqlite3.connect(udb, timeout=60)
    with con:
        (next_id,) = con.execute("SELECT next_id FROM ctx_sequence WHERE cid=1").fetchone()
        (pw,) = con.execute("SELECT password_hash FROM users WHERE cid=1 AND login='alice'"
                            ).fetchone()
        now = int(time.time())
        rows = []
        for i in range(count):
            g, s = GIVEN[i % len(GIVEN)], SUR[(i // len(GIVEN)) % len(SUR)]
            login = f"{g.lower()}.{s.lower()}{i}"
            rows.append((next_id + i, login, f"{g} {s} {i}", g, s, f"{login}@corp.example",
                         pw, now, now))
        con.executemany("INSERT INTO users (cid, id, login, display_name, given_name, "
                        "sur_name, email, password_hash, enabled, disabled_reason, is_admin, "
                        "created, modified) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 1, NULL, 0, ?, ?)",
                        rows)
        con.execute("UPDATE ctx_sequence SET next_id=? WHERE cid=1", (next_id + count,))
        con.execute("UPDATE gab_revision SET revision=revision+1 WHERE cid=1")
    con.close()


def run(node, headers, paths, pid):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    lat = []
    before = cpu_ticks(pid)
    for p in paths:
        t = time.perf_counter()
        conn.request("GET", p, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        lat.append((time.perf_counter() - t) * 1000)
        if resp.status != 200:
            raise RuntimeError(f"{p}: {resp.status} {body[:200]!r}")
    cpu_us = (cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK") * 1e6 / len(paths)
    conn.close()
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], cpu_us, json.loads(body)


def main():
    users, requests = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-gab-") as d:
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite", extra="[log]\nlevel = warn\n")
        node = c.start_node()
        try:
            c.ok("registerfilestore", "-t", f"file://{d}/fs")
            c.ok("registerdatabase", "-n", "db", "--url", f"sqlite://{d}/udb/", "-m", "true")
            c.ok("createcontext", "-c", "1", "-q", "0", "-L", "defaultcontext", "-u", "admin",
                 "-d", "A", "-g", "A", "-s", "A", "-p", "pw", "-e", "a@example.com")
            c.ok("createuser", "-c", "1", "-u", "alice", "-d", "Alice", "-g", "A", "-s", "A",
                 "-p", "alice_pw", "-e", "alice@example.com")
            t = time.perf_counter()
            bulk_users(f"{d}/udb/db_1.sqlite", users)
            print(f"provisioned {users} users in {time.perf_counter() - t:.1f} s")
            api = ApiClient(node.port)
            assert api.login("alice", "alice_pw")[0] == 200
            headers = {"X-Session": api.session, "User-Agent": "tandem-tests/1",
                       "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())}
            base = "/api/v1/contacts/directory?limit=20&q="
            rss0 = rss_kib(node.pid)
            t = time.perf_counter()
            _, _, _, first = run(node, headers, [base + "zimmermann"], node.pid)
            ms = (time.perf_counter() - t) * 1000
            grown = (rss_kib(node.pid) - rss0) // 1024
            print(f"first search (loads the snapshot): {ms:.0f} ms, revision "
                  f"{first['revision']}, tandemd RSS +{grown} MiB")
            t = time.perf_counter()
            run(node, headers, [base + "zim&match=prefix"], node.pid)
            print(f"first prefix search (builds the word index): "
                  f"{(time.perf_counter() - t) * 1000:.0f} ms, tandemd RSS "
                  f"+{(rss_kib(node.pid) - rss0) // 1024} MiB in all")
            kinds = {
                # a name part someone types: many hits, the first 20 answer
                "substring": [base + rnd.choice(SUR)[1:4].lower() for _ in range(requests)],
                # what a type-ahead sends: the word index answers
                "prefix": [base + rnd.choice(GIVEN)[:3] + "&match=prefix"
                           for _ in range(requests)],
                "prefix-1": [base + rnd.choice(GIVEN)[:1] + "&match=prefix"
                             for _ in range(requests)],
                # a user's number and the domain: a few hits (12@ also ends 112@…), every
                # user looked at
                "rare": [base + f"{rnd.randrange(users)}%40corp" for _ in range(requests)],
                # nothing matches: the worst case, a full scan
                "no-match": [base + f"xq{rnd.randrange(10**6)}" for _ in range(requests)],
            }
            print(f"{'kind':<10} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'hits':>5}")
            for name, paths in kinds.items():
                p50, p99, cpu, last = run(node, headers, paths, node.pid)
                print(f"{name:<10} {p50:8.2f} {p99:8.2f} {cpu:11.0f} "
                      f"{len(last['entries']):>5}")
        finally:
            c.stop()


if __name__ == "__main__":
    main()
