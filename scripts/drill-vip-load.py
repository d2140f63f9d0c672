#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The load client and the report of scripts/drill-vip.sh (Python standard library only).
#
#   load:   logs users drill0001… in through the VIP, touches --ready, then requests
#           GET /api/v1/session with their sessions (round robin, a new connection each time,
#           so every request goes wherever the VIP is now, 3 s timeout like a patient client)
#           until --stop exists, and probes /health every 10 ms (100 ms timeout) to see when
#           the VIP answers again; then checks every session once more and writes every
#           request and probe to --out.
#   report: reads that and the drill's events, prints the figures and checks the goals.
import argparse
import http.client
import itertools
import json
import os
import sys
import threading
import time

# what a request can fail with when the balancer goes away under it
NET_ERRORS = (OSError, http.client.HTTPException)
GOALS = {"graceful": 1000, "crash": 4000, "host-crash": 4000}
PHASES = ("graceful", "restart", "crash", "host-crash")
DELAYED_S = 0.5    # a request that succeeded this late had its connection attempt retried


def request(vip, method, path, body=None, headers=None, timeout=1.0):
    """One request on a new connection: (status, parsed JSON or None, Set-Cookie values)."""
    conn = http.client.HTTPConnection(vip, 80, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"User-Agent": "tandem-drill-vip/1"}
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        cookies = [v.split(";", 1)[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return resp.status, parsed, cookies
    finally:
        conn.close()


class Session:
    def __init__(self, login):
        self.login = login
        self.sid = None
        self.cookies = []

    def log_in(self, vip):
        for attempt in range(5):
            try:
                status, body, cookies = request(vip, "POST", "/api/v1/login",
                                                {"login": self.login,
                                                 "password": f"{self.login}-pw",
                                                 "client": "drill"}, timeout=10.0)
            except NET_ERRORS as e:
                err = str(e)
            else:
                if status == 200 and body and body.get("session"):
                    self.sid, self.cookies = body["session"], cookies
                    return
                err = f"HTTP {status}"
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"cannot log {self.login} in through the VIP: {err}")

    def works(self, vip, timeout=3.0):
        """True if the session is accepted; raises one of NET_ERRORS when nothing answered."""
        status, body, _ = request(vip, "GET", "/api/v1/session",
                                  headers={"X-Session": self.sid,
                                           "Cookie": "; ".join(self.cookies)}, timeout=timeout)
        return status == 200 and bool(body) and body.get("session") == self.sid


def vip_mac(vip):
    """The VIP's hardware address in this namespace's ARP table: which balancer we talk to."""
    try:
        with open("/proc/net/arp") as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split()
                if len(cols) >= 4 and cols[0] == vip and cols[2] != "0x0":
                    return cols[3]
    except OSError:
        pass
    return ""


def cmd_load(a):
    hosts = dict(h.split("=", 1)[::-1] for h in a.host)   # mac -> name
    sessions = [Session(f"drill{i:04d}") for i in range(1, a.users + 1)]
    for s in sessions:
        s.log_in(a.vip)
    open(a.ready, "w").close()

    records = []
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + a.max_seconds

    def worker():
        mine = []
        while not os.path.exists(a.stop) and time.monotonic() < deadline:
            s = sessions[next(counter) % len(sessions)]
            t0 = time.time()
            try:
                ok = s.works(a.vip)
            except NET_ERRORS:
                ok = False
            # the balancer that answered: where the VIP pointed when the answer came
            host = hosts.get(vip_mac(a.vip), "?")
            mine.append((round(t0, 4), round(time.time(), 4), ok, host))
            time.sleep(a.pause)
        with lock:
            records.extend(mine)

    probes = []

    def probe():
        """/health every 10 ms with a 100 ms timeout: when the VIP answers again, and from where."""
        while not os.path.exists(a.stop) and time.monotonic() < deadline:
            t0 = time.time()
            try:
                ok = request(a.vip, "GET", "/health", timeout=0.1)[0] == 200
            except NET_ERRORS:
                ok = False
            host = hosts.get(vip_mac(a.vip), "?")
            probes.append((round(t0, 4), round(time.time(), 4), ok, host))
            time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    threads.append(threading.Thread(target=probe))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Every session once more: lost if it is refused, or if nothing answers in 5 tries.
    lost = []
    for s in sessions:
        for _ in range(5):
            try:
                if s.works(a.vip, timeout=3.0):
                    break
            except NET_ERRORS:
                pass
            time.sleep(0.2)
        else:
            lost.append(s.login)
    records.sort()
    with open(a.out, "w") as f:
        json.dump({"users": len(sessions), "sessions_lost": lost, "requests": records,
                   "probes": probes}, f)


def ms(t):
    return None if t is None else int(round(t * 1000))


def first_answer(records, start, end, host):
    """End of the first successful record from host that started in [start, end)."""
    done = [r[1] for r in records if start <= r[0] < end and r[2] and r[3] == host]
    return min(done) if done else None


def phase_figures(name, start, end, vip_at, new_host, load):
    """The figures of one event from its signal (start) to the next event (end)."""
    reqs = load["requests"]
    inside = [r for r in reqs if start <= r[0] < end]
    fig = {"from": None, "to": new_host, "requests": len(inside),
           "failed": sum(1 for r in inside if not r[2]),
           "delayed": sum(1 for r in inside if r[2] and r[1] - r[0] >= DELAYED_S)}
    if name not in GOALS:
        return fig
    probe = first_answer(load["probes"], start, end, new_host)
    first = first_answer(reqs, start, end, new_host)
    fig["failover_ms"] = ms(probe - start) if probe is not None else None
    fig["first_request_ms"] = ms(first - start) if first is not None else None
    fig["vip_moved_ms"] = ms(vip_at - start) if vip_at is not None else None
    fig["goal_ms"] = GOALS[name]
    # ok/failed requests per 100 ms (by start), from 0.3 s before the signal to 0.5 s after
    # the first request that the other balancer answered
    lo = start - 0.3
    hi = (first if first is not None else min(end, start + 6)) + 0.5
    buckets = [[0, 0] for _ in range(int((hi - lo) / 0.1) + 1)]
    for r in reqs:
        if lo <= r[0] < hi:
            buckets[int((r[0] - lo) / 0.1)][0 if r[2] else 1] += 1
    fig["per_100ms_from_minus_300ms"] = buckets
    return fig


def cmd_report(a):
    with open(a.requests) as f:
        load = json.load(f)
    with open(a.events) as f:
        events = json.load(f)
    reqs = load["requests"]
    marks = [e for e in events if e["event"] in PHASES + ("end",)]
    phases = {}
    for i, e in enumerate(marks[:-1]):
        vip = next((x["t"] for x in events if x["event"] == e["event"] + "-vip"), None)
        fig = phase_figures(e["event"], e["t"], marks[i + 1]["t"], vip, e.get("to"), load)
        fig["from"] = e["host"]
        if e["event"] == "restart":
            fig["to"] = None
        phases[e["event"]] = fig
    check = next((e for e in events if e["event"] == "failback-check"), {})
    result = {
        "users": load["users"],
        "advert_int_s": a.advert,
        "requests": len(reqs),
        "requests_failed": sum(1 for r in reqs if not r[2]),
        "requests_delayed": sum(1 for r in reqs if r[2] and r[1] - r[0] >= DELAYED_S),
        "sessions_lost": len(load["sessions_lost"]),
        "sessions_lost_logins": load["sessions_lost"][:20],
        "failback": bool(check.get("failback", True)),
        "failback_adverts_missed": bool(check.get("adverts_missed", False)),
        "phases": phases,
    }
    missed = []
    for name, goal in GOALS.items():
        got = phases.get(name, {}).get("failover_ms")
        if got is None:
            missed.append(f"{name}: the VIP never answered from the other balancer")
        elif got > goal:
            missed.append(f"{name} failover took {got} ms (goal <= {goal} ms)")
    if result["sessions_lost"]:
        missed.append(f"{result['sessions_lost']} session(s) lost (goal 0)")
    if result["failback"]:
        why = (" after the active keepalived's adverts stopped (overloaded host?)"
               if result["failback_adverts_missed"] else "")
        missed.append(f"the VIP failed back to the restarted balancer{why} (goal: it stays)")
    result["goals_met"] = not missed
    result["goals_missed"] = missed

    if a.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"VIP drill: {result['users']} sessions, advert_int {a.advert} s, "
              f"{result['requests']} requests, {result['requests_failed']} failed, "
              f"{result['requests_delayed']} answered after >= {DELAYED_S} s")
        for name in PHASES:
            p = phases.get(name)
            if not p:
                continue
            if name == "restart":
                print(f"  restart {p['from']:<4}  failback: {'YES' if result['failback'] else 'no'}"
                      f"  ({p['failed']} of {p['requests']} requests failed meanwhile)")
                continue
            curve = " ".join(f"{ok}/{bad}" for ok, bad in p["per_100ms_from_minus_300ms"])
            print(f"  {name:<10} {p['from']}->{p['to']}  failover {p['failover_ms']} ms "
                  f"(goal <= {p['goal_ms']} ms; VIP moved after {p['vip_moved_ms']} ms, first "
                  f"request served after {p['first_request_ms']} ms), "
                  f"{p['failed']} of {p['requests']} requests failed, {p['delayed']} delayed")
            print(f"             ok/failed per 100 ms from -300 ms: {curve}")
        print(f"  sessions lost: {result['sessions_lost']} of {result['users']}")
        print("goals met" if not missed else "GOALS MISSED: " + "; ".join(missed))
    return 0 if not missed or a.report_only else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--vip", required=True)
    lo.add_argument("--users", type=int, required=True)
    lo.add_argument("--host", action="append", default=[], help="NAME=MAC of a balancer")
    lo.add_argument("--ready", required=True)
    lo.add_argument("--stop", required=True)
    lo.add_argument("--out", required=True)
    lo.add_argument("--workers", type=int, default=4)
    lo.add_argument("--pause", type=float, default=0.01)
    lo.add_argument("--max-seconds", type=float, default=300)
    rp = sub.add_parser("report")
    rp.add_argument("--requests", required=True)
    rp.add_argument("--events", required=True)
    rp.add_argument("--advert", type=float, required=True)
    rp.add_argument("--json", action="store_true")
    rp.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    try:
        return cmd_load(a) or 0 if a.cmd == "load" else cmd_report(a)
    except RuntimeError as e:
        print(f"drill-vip-load.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
