# SPDX-License-Identifier: MIT
# The database failover drill (docs/database.md "Failover"); run it through
# scripts/drill-db-failover.sh. Starts a MariaDB primary + GTID replica (private datadirs on
# loopback), Redis and two tandemd nodes on them, writes folders through the API in a bounded
# loop (each acknowledged write recorded), SIGKILLs the primary, promotes the replica with
# `tandemctl promotedatabase`, measures the write outage, checks every acknowledged write is on
# the new primary, then restarts the old primary and checks it is fenced and gets no writes.
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from cluster_setup import cluster_config, provision_replicated  # noqa: E402
from mariadb import start_pair, stop_pair  # noqa: E402
from provisioning import ApiClient, Cluster  # noqa: E402
from redis_harness import Redis  # noqa: E402

SCHEMA = "db1_1"


def log(args, msg):
    if not args.json:
        print(msg, flush=True)


class Writer(threading.Thread):
    """Creates folders round-robin over the nodes until stopped or its bounds are reached;
    records (time acknowledged, title) per 201 and the time of each failed attempt."""

    def __init__(self, ports, max_writes, max_seconds, prefix="w"):
        super().__init__(daemon=True)
        self.clients = []
        for port in ports:
            api = ApiClient(port)
            status, body, _ = api.login("alice", "alice_pw")
            if status != 200:
                raise RuntimeError(f"login on {port}: {status} {body}")
            self.clients.append(api)
        self.max_writes = max_writes
        self.deadline = time.monotonic() + max_seconds
        self.stop_event = threading.Event()
        self.acked = []     # (t acknowledged, title, t sent)
        self.failed = []    # (t, status)
        self.reads_ok = self.reads_failed = 0
        self.lock = threading.Lock()
        self.n = 0
        self.prefix = prefix

    def run(self):
        while (not self.stop_event.is_set() and self.n < self.max_writes
               and time.monotonic() < self.deadline):
            api = self.clients[self.n % len(self.clients)]
            title = f"{self.prefix}-{self.n}"
            self.n += 1
            sent = time.monotonic()
            try:
                status, _, _ = api.request("POST", "/api/v1/folders",
                                           {"parent": 1, "title": title, "module": "calendar"})
            except OSError:
                status = 0
            now = time.monotonic()
            with self.lock:
                if status == 201:
                    self.acked.append((now, title, sent))
                else:
                    self.failed.append((now, status))
            if status != 201:
                # reads keep working meanwhile (from the replica, then the new primary)
                try:
                    s, _, _ = api.request("GET", "/api/v1/folders/1")
                except OSError:
                    s = 0
                with self.lock:
                    if s == 200:
                        self.reads_ok += 1
                    else:
                        self.reads_failed += 1
                time.sleep(0.01)

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def wait_acked(self, n, timeout):
        deadline = time.monotonic() + timeout
        while self.acked_count() < n:
            if time.monotonic() > deadline or not self.is_alive():
                raise RuntimeError(f"only {self.acked_count()} of {n} writes acknowledged")
            time.sleep(0.01)


def wait_status(server, name, value, what):
    """Polls a GLOBAL_STATUS variable until it has value (10 s at most)."""
    deadline = time.monotonic() + 10
    while server.value("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                       f"WHERE VARIABLE_NAME='{name}'") != value:
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(0.05)


def semisync(primary, replica):
    """Semi-synchronous replication, acknowledged after the replica has the event
    (AFTER_SYNC): no commit a client saw can be missing from the replica's relay log."""
    primary.sql("SET GLOBAL rpl_semi_sync_master_enabled=ON; "
                "SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC; "
                "SET GLOBAL rpl_semi_sync_master_timeout=10000")
    replica.sql("SET GLOBAL rpl_semi_sync_slave_enabled=ON; STOP SLAVE IO_THREAD; "
                "START SLAVE IO_THREAD")
    wait_status(primary, "RPL_SEMI_SYNC_MASTER_CLIENTS", "1",
                "the replica did not connect as a semi-sync client")


def master_master(primary, replica):
    """The seeds' pair: each server also replicates from the other. current_pos on the way
    back, so that a primary that crashed resumes from what it has itself binlogged."""
    replica.sql("SET SESSION sql_log_bin=0; "
                "CREATE USER 'repl'@'%' IDENTIFIED BY 'repl-pw'; "
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'")
    primary.sql(f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={replica.port}, "
                "MASTER_USER='repl', MASTER_PASSWORD='repl-pw', MASTER_USE_GTID=current_pos, "
                "MASTER_CONNECT_RETRY=1; START SLAVE")
    wait_status(primary, "SLAVE_RUNNING", "ON",
                "the primary did not start replicating from the replica")


def own_seq(server, server_id):
    """The highest sequence number server_id wrote in domain 0, from @@gtid_binlog_state
    (one entry per domain and server): its own commits, replicated ones aside."""
    state = server.value("SELECT @@gtid_binlog_state") or ""
    seqs = [int(g.split("-")[2]) for g in state.split(",")
            if g and g.split("-")[:2] == ["0", str(server_id)]]
    return max(seqs, default=0)


def titles_on(server):
    rows = server.sql(f"SELECT title FROM `{SCHEMA}`.folder WHERE cid=1 AND title LIKE 'w-%'")
    return {r[0] for r in rows}


def drill(args):
    primary, replica = start_pair()
    redis = Redis().start()
    workdir = tempfile.TemporaryDirectory(prefix="tandem-dbdrill-")
    c = None
    result = {"semisync": not args.async_replication, "master_master": args.master_master}
    try:
        d = workdir.name
        if not args.async_replication:
            semisync(primary, replica)
        if args.master_master:
            master_master(primary, replica)
        # The configdb is not on the pair that fails (docs/database.md "Failover").
        extra = (cluster_config(redis.url)
                 + "[database]\nreplica_wait = 50ms\ndown_backoff = 200ms\n")
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite", extra=extra)
        c.start_node("OX-1")
        c.start_node("OX-2")
        provision_replicated(c, d, primary, replica)
        node_pids = [n.pid for n in c.nodes]

        w = Writer([n.port for n in c.nodes], args.max_writes, args.max_seconds)
        w.start()
        w.wait_acked(args.before, 60)
        log(args, f"{w.acked_count()} writes acknowledged; SIGKILL to the primary "
                  f"(pid {primary.pid})")
        primary.proc.kill()
        t_kill = time.monotonic()
        primary.proc.wait()
        time.sleep(args.detect)  # the operator (or a monitor) notices

        t_promote = time.monotonic()
        r = c.ctl("--json", "promotedatabase", "-n", "db1", "-r", "db1r", "-u", "root")
        t_promoted = time.monotonic()
        if r.returncode != 0:
            raise RuntimeError(f"promotedatabase failed: {r.stderr}")
        promoted = json.loads(r.stdout)
        log(args, f"promoted in {t_promoted - t_promote:.3f} s: applied "
                  f"{promoted['positions']['applied']}, {promoted['positions']['behind']} behind")

        with w.lock:
            before = len([a for a in w.acked if a[2] <= t_kill])
        w.wait_acked(before + args.after, 60)
        w.stop_event.set()
        w.join(30)

        with w.lock:
            acked = list(w.acked)
            failed = list(w.failed)
        # From the last write acknowledged before the kill to the first acknowledged one sent
        # after it (one in flight at the kill may still be acknowledged: it had committed).
        last_before = max(t for t, _, _ in acked if t <= t_kill)
        first_after = min(t for t, _, sent in acked if sent > t_kill)
        acked_titles = {title for _, title, _ in acked}
        on_new = titles_on(replica)
        lost = sorted(acked_titles - on_new)

        # The old primary comes back (as it was: writable) and must get nothing.
        primary.resume()
        old_before = titles_on(primary)
        own_before = own_seq(primary, primary.server_id)
        w2 = Writer([n.port for n in c.nodes], args.after, 60, prefix="w-back")
        w2.start()
        w2.wait_acked(args.after, 60)
        w2.stop_event.set()
        w2.join(30)
        new_after = titles_on(replica)
        followed = None
        if args.master_master:
            # the old master follows the new one again by itself, and only replicates
            pos = replica.value("SELECT @@gtid_binlog_pos")
            followed = primary.value(f"SELECT MASTER_GTID_WAIT('{pos}', 20)") == "0"
        old_after = titles_on(primary)
        listed = {x["name"]: x for x in c.json("listdatabase")["databases"]}
        result.update({
            "acknowledged": len(acked),
            "failed_attempts": len(failed),
            "lost": len(lost),
            "lost_titles": lost[:20],
            "outage_s": round(first_after - last_before, 3),
            "kill_to_first_write_s": round(first_after - t_kill, 3),
            "detect_s": args.detect,
            "promote_s": round(t_promoted - t_promote, 3),
            "promote_to_first_write_s": round(max(0.0, first_after - t_promoted), 3),
            "reads_ok_during_outage": w.reads_ok,
            "reads_failed_during_outage": w.reads_failed,
            "promotion": promoted,
            "nodes_restarted": any(n.proc.poll() is not None for n in c.nodes)
            or [n.pid for n in c.nodes] != node_pids,
            "old_primary_role": listed["db1"]["role"],
            "old_primary_read_only": primary.value("SELECT @@read_only") == "1",
            "old_primary_follows_new": followed,
            "old_primary_missing_writes": len(new_after - old_after) if followed else None,
            "old_primary_writes_after_return": len(old_after - old_before),
            "old_primary_own_commits_after_return": own_seq(primary, primary.server_id)
            - own_before,
            "writes_after_return": w2.acked_count(),
            "writes_after_return_on_new_primary": len(
                {t for _, t, _ in w2.acked} & new_after),
        })
        return result
    finally:
        if c is not None:
            c.stop()
        redis.stop()
        stop_pair(primary, replica)
        workdir.cleanup()


def main():
    ap = argparse.ArgumentParser(description="MariaDB primary failover drill")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--quick", action="store_true", help="fewer writes (for tests)")
    ap.add_argument("--rounds", type=int, default=1, help="run the drill this many times")
    ap.add_argument("--detect", type=float, default=0.5,
                    help="seconds between the kill and the promotion (default 0.5)")
    ap.add_argument("--master-master", action="store_true",
                    help="the seeds' pair: the primary also replicates from the replica")
    ap.add_argument("--async", dest="async_replication", action="store_true",
                    help="plain asynchronous replication (a crash may lose the last commits)")
    args = ap.parse_args()
    args.before, args.after = (30, 30) if args.quick else (300, 300)
    args.max_writes, args.max_seconds = 100000, 300
    runs = []
    for i in range(args.rounds):
        log(args, f"--- round {i + 1} of {args.rounds}")
        runs.append(drill(args))
        r = runs[-1]
        log(args, f"write outage {r['outage_s']:.3f} s (kill → first write "
                  f"{r['kill_to_first_write_s']:.3f} s, of which detection {args.detect} s and "
                  f"promotion {r['promote_s']:.3f} s); {r['acknowledged']} writes acknowledged, "
                  f"{r['lost']} lost; reads during the outage {r['reads_ok_during_outage']} ok, "
                  f"{r['reads_failed_during_outage']} failed; old primary "
                  f"{r['old_primary_role']}, {r['old_primary_own_commits_after_return']} commits "
                  f"of its own after its return"
                  + (f" (follows the new primary: {r['old_primary_follows_new']})"
                     if args.master_master else "")
                  + f"; nodes restarted: {r['nodes_restarted']}")
    outages = [r["outage_s"] for r in runs]
    summary = {"rounds": runs, "outage_min_s": min(outages),
               "outage_median_s": statistics.median(outages), "outage_max_s": max(outages),
               "lost_total": sum(r["lost"] for r in runs)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"outage min/median/max: {summary['outage_min_s']:.3f} / "
              f"{summary['outage_median_s']:.3f} / {summary['outage_max_s']:.3f} s; "
              f"lost: {summary['lost_total']}")
    ok = summary["lost_total"] == 0 and all(
        r["old_primary_own_commits_after_return"] == 0 and not r["nodes_restarted"]
        and (r["old_primary_follows_new"] if r["master_master"]
             else r["old_primary_writes_after_return"] == 0) for r in runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
