# SPDX-License-Identifier: MIT
# Driver for bench/webui.sh: one release tandemd with alice's "My files" holding FILES files,
# then bench/webui.mjs in chromium.
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

from cluster_setup import login, provision  # noqa: E402
from provisioning import Cluster  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "bench"))
import webui_sogo  # noqa: E402

EVENTS = 200


def main():
    rounds, files = int(sys.argv[1]), int(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="tandem-bench-webui-") as d:
        c = Cluster(d, f"sqlite://{d}/configdb.sqlite", extra="[log]\nlevel = warn\n")
        node = c.start_node()
        try:
            provision(c, d, users=("alice",))
            alice = login(c, "alice")
            home = next(f for f in alice.request("GET", "/api/v1/folders?parent=4")[1]["folders"]
                        if f["default"])

            def put(i):
                status, body, _ = alice.request(
                    "PUT", f"/api/v1/files?folder={home['id']}&name=file-{i:04d}.txt",
                    raw=f"file {i}\n".encode(), headers={"Content-Type": "text/plain"})
                assert status == 201, body
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(put, range(files)))
            status, body, _ = alice.request("GET", "/api/v1/folders?parent=1")
            assert status == 200, body
            cal = next(f["id"] for f in body["folders"] if f.get("default") and
                       f.get("module") == "calendar")

            def post(ev):
                status, body, _ = alice.request(
                    "POST", f"/api/v1/events?folder={cal}",
                    {"summary": ev[2], "start": ev[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "end": ev[1].strftime("%Y-%m-%dT%H:%M:%SZ")})
                assert status == 201, body
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(post, webui_sogo.week_events(EVENTS)))
            r = subprocess.run(["node", os.path.join(ROOT, "bench", "webui.mjs")],
                               env=dict(os.environ, BASE_URL=f"http://127.0.0.1:{node.port}/",
                                        ROUNDS=str(rounds), FILES=str(files),
                                        EVENTS=str(EVENTS), TZ="UTC"),  # events in UTC
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise SystemExit(f"webui.mjs failed:\n{r.stdout}\n{r.stderr}")
            res = json.loads(r.stdout)
        finally:
            c.stop()
    kb = 1024
    print(f"first view (sign-in form), JS+CSS: {res['transfer'] / kb:.1f} KB sent (gzip), "
          f"{res['decoded'] / kb:.1f} KB uncompressed; whole page {res['page_transfer'] / kb:.1f}"
          f" KB sent  (budget 300 KB)")
    print(f"sign-in form visible: median {res['login_ms']:.0f} ms from navigation start over "
          f"{rounds} cold rounds ({res['login_outside_ms']:.0f} ms as the test driver sees it, "
          f"with a new browser context) (budget 500 ms)")
    print(f"files view with {files} files after signing in: median {res['files_ms']:.0f} ms "
          f"(budget 1000 ms)")
    print(f"calendar week view with {EVENTS} events, opened from the files view: median "
          f"{res['week_ms']:.0f} ms")
    sogo, why = webui_sogo.run(ROOT, rounds, EVENTS)
    print()
    if sogo is None:
        print(f"SOGo: skipped ({why})")
        return
    rows = [("first view JS+CSS sent, KB", res["transfer"] / kb, sogo["transfer"] / kb),
            ("first view JS+CSS uncompressed, KB", res["decoded"] / kb, sogo["decoded"] / kb),
            ("first view whole page sent, KB", res["page_transfer"] / kb,
             sogo["page_transfer"] / kb),
            ("sign-in form visible, ms", res["login_ms"], sogo["login_ms"]),
            ("sign-in form, driver's view, ms", res["login_outside_ms"], sogo["login_outside_ms"]),
            (f"sign in -> first view (Tandem: files, {files} files; SOGo: calendar week), ms",
             res["files_ms"], sogo["week_ms"]),
            (f"week view, {EVENTS} events (Tandem: from files view; SOGo: from sign-in), ms",
             res["week_ms"], sogo["week_ms"])]
    print(f"{'measure (median of ' + str(rounds) + ' cold rounds)':<78} {'Tandem':>9} {'SOGo':>9}"
          f" {'SOGo/Tandem':>12}")
    for name, t, s in rows:
        print(f"{name:<78} {t:>9.1f} {s:>9.1f} {s / t:>11.2f}x")


if __name__ == "__main__":
    main()
