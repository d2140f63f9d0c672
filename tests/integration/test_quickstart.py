# SPDX-License-Identifier: MIT
# docs/quickstart.md as written: scripts/start.sh on ports chosen at run time, then the
# walk-through's shell block copied from the page (only U pointed at the balancer's port) and
# run in an empty directory: login, folders, share with bob, a file made and uploaded, bob
# finds it through the shared root's virtual node, downloads it byte-identical, may not write,
# and both log out.
import json
import os
import re
import subprocess

from conftest import BUILD, ROOT, free_port
from redis_harness import require_redis
from test_start_script import run_and_stop

PAGE = os.path.join(ROOT, "docs", "quickstart.md")
DOC_U = "U=http://127.0.0.1:8009"
# printed after the block: the ids it kept, one per line
SHOW = "\nfor v in A B BOB MYFILES FOLDER FILE OWNER; do echo \"var $v=${!v}\"; done\n"


def walkthrough():
    """The page's shell block that sets U (the curl walk-through), as written."""
    blocks = re.findall(r"```sh\n(.*?)```", open(PAGE).read(), re.S)
    found = [b for b in blocks if b.startswith(DOC_U + "\n")]
    assert len(found) == 1, blocks
    return found[0]


def test_quickstart_walkthrough(workdir):
    require_redis()
    ports = {name: free_port() for name in ("lb", "admin", "ox1", "ox2", "redis")}
    assert len(set(ports.values())) == len(ports)
    env = dict(os.environ, TANDEM_SKIP_BUILD="1", TANDEM_BIN=os.path.join(BUILD, "src"),
               TANDEM_DATA=os.path.join(workdir, "data"),
               TANDEM_LISTEN=f"127.0.0.1:{ports['lb']}", TANDEM_ADMIN_PORT=str(ports["admin"]),
               TANDEM_NODE_PORTS=f"{ports['ox1']} {ports['ox2']}",
               TANDEM_REDIS_PORT=str(ports["redis"]))
    script = walkthrough().replace(DOC_U, f"U=http://127.0.0.1:{ports['lb']}", 1) + SHOW
    here = os.path.join(workdir, "walk")
    os.makedirs(here)
    result = {}

    def walk(_):
        r = subprocess.run(["bash", "-o", "pipefail", "-c", script], cwd=here,
                           capture_output=True, timeout=120)
        result["out"] = r.stdout.decode(errors="replace")
        assert r.returncode == 0, (r.returncode, result["out"], r.stderr.decode())

    run_and_stop(env, ports, walk)
    out = result["out"]
    ids = dict(re.findall(r"^var (\w+)=(.*)$", out, re.M))
    assert re.fullmatch(r"[0-9a-f]{32}", ids["A"]) and re.fullmatch(r"[0-9a-f]{32}", ids["B"])
    for name in ("BOB", "MYFILES", "FOLDER", "FILE"):
        assert ids[name].isdigit(), (name, out)
    alice = json.load(open(os.path.join(here, "alice.json")))
    assert ids["OWNER"] == f"u:{alice['user_id']}", out
    # step 6: the virtual node's listing shows the shared folder itself
    assert f'"id":{ids["FOLDER"]},' in out and '"title":"Project X"' in out, out
    assert os.path.getsize(os.path.join(here, "report.pdf")) == 300000
    with open(os.path.join(here, "report.pdf"), "rb") as a, \
            open(os.path.join(here, "copy.pdf"), "rb") as b:
        assert a.read() == b.read()
    assert "\nidentical\n" in out, out
    # step 7: bob's upload is refused
    assert re.search(r'"code":"[A-Z]+-0403"', out), out
    # step 8: each logout ended one session
    assert out.count('{"ended":1}') == 2, out
