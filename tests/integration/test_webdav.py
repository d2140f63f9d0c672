# SPDX-License-Identifier: MIT
# WebDAV on the file folders with real clients (docs/webdav.md): litmus (every suite) against
# one node and against two nodes behind tandem-lb sharing Redis (a lock taken through one node
# holds on the other), an rclone round trip of 1,000 files, a scripted cadaver session, a davfs2
# mount (where the sandbox lets us mount) and davfs2's own PROPFIND requests.
import os
import re
import shutil
import subprocess

import pytest

from cluster_setup import start_cluster
from conftest import scrape_metrics
from dav_client import dav
from fixtures_redis import redis_server  # noqa: F401  (pytest fixture)
from lb_setup import start_lb, stop_lb

LITMUS_SUITES = ("basic", "copymove", "props", "locks", "http")


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (scripts/deps.sh test)")
    return tool


def litmus(port, workdir, path="/dav/files/home/"):
    """Runs every litmus suite; returns {suite: (passed, run)} and the output."""
    out = subprocess.run([need("litmus"), "-k", f"http://127.0.0.1:{port}{path}", "alice",
                          "alice_pw"], cwd=workdir, capture_output=True, text=True,
                         timeout=600).stdout
    results = {}
    for m in re.finditer(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed", out):
        results[m.group(1)] = (int(m.group(3)), int(m.group(2)))
    return results, out


def assert_litmus_all_pass(results, out):
    assert set(results) == set(LITMUS_SUITES), out
    for suite, (passed, run) in results.items():
        assert run > 0 and passed == run, f"litmus {suite}: {passed}/{run}\n{out}"
    assert "FAIL" not in out, out


@pytest.fixture
def node(workdir):
    c = start_cluster(workdir, "memory", nodes=1)
    yield c
    c.stop()


def test_litmus_passes_every_suite_on_one_node(node, workdir):
    results, out = litmus(node.nodes[0].port, workdir)
    assert_litmus_all_pass(results, out)


@pytest.fixture
def two_behind_lb(workdir, redis_server):  # noqa: F811
    c = start_cluster(workdir, redis_server.url, nodes=2)
    try:
        lb = start_lb(workdir, [(f"OX-{i + 1}", n.port, 50, "ready")
                                for i, n in enumerate(c.nodes)])
        try:
            yield c, lb
        finally:
            stop_lb(lb)
    finally:
        c.stop()


def test_litmus_passes_every_suite_on_two_nodes_behind_the_balancer(two_behind_lb, workdir):
    c, lb = two_behind_lb
    before = [requests(n.port) for n in c.nodes]
    results, out = litmus(lb.port, workdir)
    assert_litmus_all_pass(results, out)
    # Basic carries no sticky cookie: the balancer spread litmus over both nodes (its health
    # checks count too, a few per second)
    served = [requests(n.port) - b for n, b in zip(c.nodes, before)]
    assert min(served) > 0.3 * sum(served) and sum(served) > 150, served


def test_a_lock_taken_through_one_node_holds_on_the_other(two_behind_lb):
    c, _ = two_behind_lb
    one, two = (n.port for n in c.nodes)
    assert dav(one, "PUT", "/dav/files/home/shared.txt", body=b"v1")[0] == 201
    lockinfo = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
                b'</D:lockscope><D:locktype><D:write/></D:locktype>'
                b'<D:owner>alice</D:owner></D:lockinfo>')
    status, headers, body = dav(one, "LOCK", "/dav/files/home/shared.txt", body=lockinfo,
                                headers={"Timeout": "Second-600", "Depth": "0"})
    assert status == 200, body
    token = headers["lock-token"]
    assert token.startswith("<urn:uuid:")
    # the other node refuses a write without the token, and names the locked resource
    status, _, body = dav(two, "PUT", "/dav/files/home/shared.txt", body=b"v2")
    assert status == 423 and b"lock-token-submitted" in body
    assert b"/dav/files/home/shared.txt" in body
    assert dav(two, "DELETE", "/dav/files/home/shared.txt")[0] == 423
    # and shows the lock in lockdiscovery
    status, _, body = dav(two, "PROPFIND", "/dav/files/home/shared.txt",
                          body=b'<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/>'
                               b'</D:prop></D:propfind>', headers={"Depth": "0"})
    assert status == 207 and token[1:-1].encode() in body
    # a token that is not the lock's is no use
    assert dav(two, "PUT", "/dav/files/home/shared.txt", body=b"v2",
               headers={"If": "(<urn:uuid:00000000-0000-4000-8000-000000000000>)"})[0] == 412
    status, _, _ = dav(two, "PUT", "/dav/files/home/shared.txt", body=b"v2",
                       headers={"If": f"({token})"})
    assert status == 204
    assert dav(two, "UNLOCK", "/dav/files/home/shared.txt",
               headers={"Lock-Token": token})[0] == 204
    assert dav(one, "PUT", "/dav/files/home/shared.txt", body=b"v3")[0] == 204
    assert dav(one, "GET", "/dav/files/home/shared.txt")[2] == b"v3"


def requests(port):
    return scrape_metrics(port).get("tandem_http_requests_total", 0)


def make_tree(root, files=1000):
    """files files in 10 folders (one nested), sizes 0 .. ~9 KiB, reproducible."""
    paths = []
    for i in range(files):
        d = os.path.join(root, f"dir{i % 10}", "sub" if i % 7 == 0 else "")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"file {i:04d}.bin")
        with open(p, "wb") as f:
            f.write(bytes((i * 31 + k) % 251 for k in range((i * 37) % 9000)))
        paths.append(p)
    return paths


def test_rclone_copies_1000_files_up_and_back_byte_identical(node, workdir):
    need("rclone")
    port = node.nodes[0].port
    src = os.path.join(workdir, "tree")
    back = os.path.join(workdir, "back")
    make_tree(src)
    obscured = subprocess.run(["rclone", "obscure", "alice_pw"], capture_output=True,
                              text=True, check=True).stdout.strip()
    env = dict(os.environ, RCLONE_CONFIG_TD_TYPE="webdav", RCLONE_CONFIG_TD_VENDOR="other",
               RCLONE_CONFIG_TD_URL=f"http://127.0.0.1:{port}/dav/files/home/",
               RCLONE_CONFIG_TD_USER="alice", RCLONE_CONFIG_TD_PASS=obscured,
               RCLONE_CONFIG=os.path.join(workdir, "rclone.conf"))

    def rclone(*args):
        r = subprocess.run(["rclone", "--transfers", "4", "--checkers", "4", *args], env=env,
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"rclone {' '.join(args)}:\n{r.stderr[-3000:]}"
        return r

    rclone("copy", src, "td:tree")
    rclone("check", src, "td:tree")
    rclone("copy", "td:tree", back)
    r = subprocess.run(["diff", "-r", src, back], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:]
    count = sum(len(f) for _, _, f in os.walk(back))
    assert count == 1000


def test_a_scripted_cadaver_session(node, workdir):
    need("cadaver")
    port = node.nodes[0].port
    home = os.path.join(workdir, "home")
    os.makedirs(home)
    with open(os.path.join(home, ".netrc"), "w") as f:
        f.write("machine 127.0.0.1 login alice password alice_pw\n")
    os.chmod(os.path.join(home, ".netrc"), 0o600)
    local = os.path.join(workdir, "hello.txt")
    with open(local, "w") as f:
        f.write("hello from cadaver\n")
    script = (f"mkcol docs\ncd docs\nput {local} hello.txt\nls\n"
              f"copy hello.txt copy.txt\nmove copy.txt moved.txt\n"
              f"propset hello.txt color blue\npropget hello.txt color\n"
              f"lock hello.txt\nunlock hello.txt\nget moved.txt {workdir}/fetched.txt\n"
              f"delete hello.txt\nls\nquit\n")
    r = subprocess.run(["cadaver", f"http://127.0.0.1:{port}/dav/files/home/"], input=script,
                       env=dict(os.environ, HOME=home), capture_output=True, text=True,
                       timeout=120)
    out = r.stdout + r.stderr
    assert "hello.txt" in out and "blue" in out, out
    with open(os.path.join(workdir, "fetched.txt")) as f:
        assert f.read() == "hello from cadaver\n"
    assert dav(port, "GET", "/dav/files/home/docs/hello.txt")[0] == 404
    assert dav(port, "GET", "/dav/files/home/docs/moved.txt")[2] == b"hello from cadaver\n"
    assert dav(port, "GET", "/dav/files/home/docs/copy.txt")[0] == 404


# davfs2 1.6's requests, byte for byte as it sends them: the listing, then the quota
DAVFS2_LISTING = (b'<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n'
                  b'<resourcetype xmlns="DAV:"/>\n<getcontentlength xmlns="DAV:"/>\n'
                  b'<getetag xmlns="DAV:"/>\n<getlastmodified xmlns="DAV:"/>\n'
                  b'<executable xmlns="http://apache.org/dav/props/"/>\n</prop></propfind>\n')
DAVFS2_QUOTA = (b'<?xml version="1.0" encoding="utf-8"?>\n<propfind xmlns="DAV:"><prop>\n'
                b'<quota-available-bytes xmlns="DAV:"/>\n<quota-used-bytes xmlns="DAV:"/>\n'
                b'</prop></propfind>\n')


def test_davfs2s_propfind_requests_are_answered_as_it_parses_them(node):
    port = node.nodes[0].port
    assert dav(port, "MKCOL", "/dav/files/home/sub/")[0] == 201
    assert dav(port, "PUT", "/dav/files/home/hello.txt", body=b"hello")[0] == 201
    h = {"Depth": "1", "Content-Type": "application/xml"}
    status, _, body = dav(port, "PROPFIND", "/dav/files/home/", body=DAVFS2_LISTING, headers=h)
    assert status == 207, body
    text = body.decode()
    responses = dict(re.findall(r"<D:response><D:href>([^<]*)</D:href>(.*?)</D:response>",
                                text, re.S))
    assert set(responses) == {"/dav/files/home/", "/dav/files/home/sub/",
                              "/dav/files/home/hello.txt"}, text
    date = r"<D:getlastmodified>\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT</D:getlastmodified>"
    for href, props in responses.items():
        assert re.search(date, props), props  # RFC 1123, as neon's ne_httpdate_parse wants
        ok = props.split("HTTP/1.1 200 OK")[0]
        if href.endswith("/"):
            assert "<D:collection/>" in ok and "<D:getcontentlength>" not in ok, props
        else:
            assert "<D:getcontentlength>5</D:getcontentlength>" in ok, props
            assert re.search(r"<D:getetag>&quot;[^&<]+&quot;</D:getetag>", ok), props
        # Apache's executable is not ours: 404, which davfs2 takes as "not executable"
        assert re.search(r'<executable xmlns="http://apache.org/dav/props/"/>.*404', props,
                         re.S), props
    h["Depth"] = "0"
    status, _, body = dav(port, "PROPFIND", "/dav/files/home/", body=DAVFS2_QUOTA, headers=h)
    assert status == 207 and b"<D:quota-used-bytes>5</D:quota-used-bytes>" in body, body


def test_a_davfs2_mount_lists_writes_and_reads(node, workdir):
    if shutil.which("mount.davfs") is None:
        pytest.skip("davfs2 is not installed")
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("mounting needs root and /dev/fuse (not in this sandbox)")
    port = node.nodes[0].port
    assert dav(port, "PUT", "/dav/files/home/hello.txt", body=b"hello")[0] == 201
    mnt = os.path.join(workdir, "mnt")
    os.makedirs(mnt)
    secrets, conf = os.path.join(workdir, "davfs-secrets"), os.path.join(workdir, "davfs.conf")
    with open(secrets, "w") as f:
        f.write(f"{mnt} alice alice_pw\n")
    os.chmod(secrets, 0o600)
    with open(conf, "w") as f:
        # buf_size 64: on kernels that read directories 32 KiB at a time davfs2's default 16
        # KiB buffer makes every listing EINVAL, whatever the server (docs/webdav.md)
        f.write(f"secrets {secrets}\nbuf_size 64\nuse_locks 1\n")
    r = subprocess.run(["mount", "-t", "davfs", "-o", f"conf={conf}",
                        f"http://127.0.0.1:{port}/dav/files/home/", mnt],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and ("fuse" in r.stderr.lower() or "permission" in r.stderr.lower()):
        pytest.skip(f"the sandbox does not let davfs2 mount: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    try:
        assert "hello.txt" in os.listdir(mnt)
        with open(os.path.join(mnt, "hello.txt"), "rb") as f:
            assert f.read() == b"hello"
        os.mkdir(os.path.join(mnt, "docs"))
        with open(os.path.join(mnt, "docs", "new.txt"), "wb") as f:
            f.write(b"from davfs2\n")
        assert os.listdir(os.path.join(mnt, "docs")) == ["new.txt"]
    finally:
        subprocess.run(["umount", mnt], capture_output=True, timeout=120)
    # the upload happens by the unmount at the latest
    assert dav(port, "GET", "/dav/files/home/docs/new.txt")[2] == b"from davfs2\n"
