# SPDX-License-Identifier: MIT
# The web UI in a real browser (docs/webui.md): tests/webui/flows.mjs drives Debian's chromium
# with puppeteer-core (pinned in tests/webui/package-lock.json, installed here with `npm ci`
# when missing) through tandem-lb in front of two nodes sharing Redis: log in (and a wrong
# password and a throttled login in words), upload and download byte-identical, versions, share with bob and see it
# as bob in a second browser context, 360 px; rename a file and move it into a new folder,
# share that with a group and see it as its member bob; a weekly event in the week view and through the
# API as instances, moved by drag (this one) and with Alt+ArrowDown; alice invites bob and a
# room with their free/busy shown, bob accepts from his invitations list, alice sees his answer,
# a booked room declines in words, bob's copy through CalDAV, cancelled and struck through; 200 events in the week
# view within its render budget (printed); tasks added, completed and deleted; contacts added,
# found by search, edited and deleted, the global address book, 360 and 1920 px; change the
# password and be logged out
# elsewhere, sign out. axe-core on every view, no console errors, screenshots of every view in
# the test's workdir (copied to docs/webui/ when TANDEM_WEBUI_SCREENSHOTS is set).
import os
import shutil
import subprocess

import pytest

from cluster_setup import start_cluster
from conftest import ROOT
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from lb_setup import start_lb, stop_lb

WEBUI_TESTS = os.path.join(ROOT, "tests", "webui")
CHROMIUM = "/usr/bin/chromium"


def npm_ci():
    """Installs the pinned test dependencies when node_modules is missing or older than the
    lockfile."""
    lock = os.path.join(WEBUI_TESTS, "package-lock.json")
    stamp = os.path.join(WEBUI_TESTS, "node_modules", ".package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEBUI_TESTS,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"npm ci failed:\n{r.stdout}\n{r.stderr}"


def keep_screenshots(out, shots):
    """Copies the run's screenshots to $TANDEM_WEBUI_SCREENSHOTS when set (docs/webui/)."""
    keep = os.environ.get("TANDEM_WEBUI_SCREENSHOTS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for s in shots:
            shutil.copy(os.path.join(out, "screenshots", s), keep)


@pytest.mark.skipif(not os.path.exists(CHROMIUM) or shutil.which("npm") is None,
                    reason="needs Debian's chromium and npm (scripts/deps.sh test)")
def test_webui_flows(workdir, redis_server):  # noqa: F811
    npm_ci()
    c = start_cluster(workdir, redis_server.url, nodes=2, users=("alice", "bob"))
    c.ok("creategroup", "-c", "1", "-n", "team", "-d", "The Team", "-a", "bob")
    c.ok("createresource", "-c", "1", "-n", "room-1", "-d", "Room 1", "-e", "room1@example.com")
    lb = start_lb(workdir, [("OX-1", c.nodes[0].port, 50, "ready"),
                            ("OX-2", c.nodes[1].port, 50, "ready")])
    upload = os.path.join(workdir, "report-2026.bin")
    with open(upload, "wb") as f:
        f.write(bytes(range(256)) * 3000 + b"\x00\xff end")  # binary, ~750 KB
    out = os.path.join(workdir, "webui")
    try:
        r = subprocess.run(["node", os.path.join(WEBUI_TESTS, "flows.mjs")], cwd=WEBUI_TESTS,
                           env=dict(os.environ, BASE_URL=f"http://127.0.0.1:{lb.port}/",
                                    OUT_DIR=out, UPLOAD_FILE=upload, CHROMIUM=CHROMIUM),
                           capture_output=True, text=True, timeout=360)
        assert r.returncode == 0, f"browser flows failed:\n{r.stdout}\n{r.stderr}"
        print(r.stdout)
        shots = sorted(os.listdir(os.path.join(out, "screenshots")))
        for view in ("login", "login-error", "login-throttled", "files-empty", "files", "files-versions",
                     "files-share", "files-shared-as-bob", "files-360px", "files-rename",
                     "files-move", "files-share-group", "files-group-share-as-bob", "calendar-empty",
                     "calendar-event-dialog", "calendar-week", "calendar-month", "calendar-day",
                     "calendar-week-200", "calendar-week-1920px", "calendar-shared-as-bob", "calendar-360px",
                     "calendar-invite-dialog", "calendar-invitations", "calendar-invitation-dialog",
                     "calendar-invitation-360px",
                     "calendar-invite-answered", "calendar-room-declined", "calendar-cancelled-as-bob",
                     "tasks-empty", "tasks", "tasks-done",
                     "tasks-360px", "contacts-empty", "contacts-new", "contacts", "contacts-edit",
                     "contacts-directory", "contacts-delete", "contacts-1920px", "contacts-360px",
                     "settings",
                     "login-session-ended"):
            assert f"{view}.png" in shots, shots
        keep_screenshots(out, shots)
    finally:
        stop_lb(lb)
        c.stop()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (scripts/deps.sh test)")
def test_vcard_module():
    """web/vcard.js (the contacts view's card editing) on cards of other programs, in Node."""
    r = subprocess.run(["node", os.path.join(WEBUI_TESTS, "vcard.mjs")], cwd=WEBUI_TESTS,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "all passed" in r.stdout, f"{r.stdout}\n{r.stderr}"
