# SPDX-License-Identifier: MIT
# The web UI's files as tandemd serves them (docs/webui.md): index.html at / (no-cache),
# content-hashed assets at /assets/ (cached for a year), precompressed gzip when accepted,
# ETag/If-None-Match, the security headers on every answer, nothing outside the directory,
# and [webui] directory (found next to the binary by default, a path, or off).
import gzip
import http.client
import os
import re
import subprocess

from conftest import BUILD, TANDEMD

WEB = os.path.join(BUILD, "web")
SECURITY = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def get(port, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def assert_secure(h):
    for name, value in SECURITY.items():
        assert h.get(name) == value, (name, h)
    csp = h["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    # images: the app's own, and https: for the remote images a user shows in a mail
    assert "img-src 'self' data: blob: https:;" in csp, csp


def assets_of(index):
    return re.findall(r'(?:src|href)="(/?assets/[^"]+)"', index.decode())


def test_index_and_assets(start_tandemd):
    node = start_tandemd()
    status, h, body = get(node.port, "/")
    assert status == 200, body
    assert h["content-type"] == "text/html; charset=utf-8"
    assert h["cache-control"] == "no-cache"
    assert_secure(h)
    assert body == open(os.path.join(WEB, "index.html"), "rb").read()
    assert b"<script>" not in body and b"<style" not in body
    refs = [r.rsplit("/", 1)[1] for r in assets_of(body)]
    assert any(r.endswith(".js") for r in refs) and any(r.endswith(".css") for r in refs), refs
    seen = set()
    while refs:
        name = refs.pop()
        if name in seen:
            continue
        seen.add(name)
        assert re.fullmatch(r"[a-z]+\.[0-9a-f]{16}\.(js|css)", name), name
        status, h, data = get(node.port, "/assets/" + name)
        assert status == 200, (name, data)
        assert h["cache-control"] == "public, max-age=31536000, immutable"
        assert h["content-type"].startswith("text/javascript" if name.endswith(".js")
                                            else "text/css")
        assert "content-encoding" not in h
        assert_secure(h)
        assert data == open(os.path.join(WEB, "assets", name), "rb").read()
        # the modules it imports (statically, or with import() when a view opens) are hashed
        # too, and served (checked in turn)
        refs += [dep.decode() for dep in re.findall(rb"(?:from |import\()'\./([^']+)'", data)]
    assert len(seen) == len(os.listdir(os.path.join(WEB, "assets"))) // 2  # each has a .gz


def test_gzip_etag_and_head(start_tandemd):
    node = start_tandemd()
    status, plain_h, plain = get(node.port, "/")
    status, h, packed = get(node.port, "/", {"Accept-Encoding": "br, gzip;q=0.8"})
    assert status == 200 and h["content-encoding"] == "gzip", h
    assert h["vary"] == "Accept-Encoding"
    assert gzip.decompress(packed) == plain and len(packed) < len(plain)
    assert h["etag"] != plain_h["etag"]
    # q=0 refuses gzip
    status, h, body = get(node.port, "/", {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in h and body == plain
    # revalidation of either form
    for etag, enc in ((plain_h["etag"], "identity"), (h.get("etag"), "identity")):
        status, h304, body = get(node.port, "/", {"If-None-Match": etag,
                                                  "Accept-Encoding": enc})
        assert status == 304 and body == b"", (status, h304)
        assert h304["cache-control"] == "no-cache"
        assert_secure(h304)
    status, h, body = get(node.port, "/", {"If-None-Match": '"other"'})
    assert status == 200 and body == plain
    # an asset's tag is its hashed name, the same on every node
    asset = assets_of(plain)[0]
    name = asset.rsplit("/", 1)[1]
    status, h, _ = get(node.port, "/" + asset.lstrip("/"))
    assert h["etag"] == f'"{name}"', h
    status, h, body = get(node.port, "/" + asset.lstrip("/"), {"If-None-Match": f'W/"{name}"'})
    assert status == 304 and body == b""
    assert h["cache-control"] == "public, max-age=31536000, immutable"
    status, h, body = get(node.port, "/", method="HEAD")
    assert status == 200 and body == b"" and int(h["content-length"]) == len(plain)


def test_nothing_outside_the_directory(start_tandemd, workdir):
    web = os.path.join(workdir, "web")
    os.makedirs(os.path.join(web, "assets", "sub"))
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>t</title>")
    with open(os.path.join(web, "assets", "ok.js"), "w") as f:
        f.write("export {};\n")
    with open(os.path.join(web, "assets", "sub", "deep.js"), "w") as f:
        f.write("deep\n")
    with open(os.path.join(web, "assets", "notes.conf"), "w") as f:
        f.write("x\n")
    with open(os.path.join(web, "assets", ".hidden.js"), "w") as f:
        f.write("x\n")
    with open(os.path.join(workdir, "secret.js"), "w") as f:
        f.write("secret\n")
    os.symlink(os.path.join(workdir, "secret.js"), os.path.join(web, "assets", "link.js"))
    node = start_tandemd(f"[webui]\ndirectory = {web}\n")
    assert get(node.port, "/assets/ok.js")[2] == b"export {};\n"
    for path in ("/assets/link.js", "/assets/..%2Fsecret.js", "/assets/..%2F..%2Fsecret.js",
                 "/assets/../secret.js", "/assets/.hidden.js", "/assets/notes.conf",
                 "/assets/sub/deep.js", "/assets/sub", "/assets/%2e%2e", "/assets/ok.js%00",
                 "/index.html/", "/assets/", "/secret.js", "/../secret.js"):
        status, h, body = get(node.port, path)
        assert status == 404, (path, status, body)
        assert b"secret" not in body and b"deep" not in body, path
    status, h, body = get(node.port, "/assets/notes.conf")
    assert_secure(h)
    assert status == 404 and b"HTTP-0404" in body


def test_directory_setting(start_tandemd, workdir):
    node = start_tandemd("[webui]\ndirectory = off\n")
    status, h, body = get(node.port, "/")
    assert status == 404 and b"web UI is not installed" in body, body
    assert get(node.port, "/assets/app.js")[0] == 404
    assert get(node.port, "/health")[0] == 200
    node.stop()
    # a directory without index.html is refused, with file:line, by the check and the start
    conf = os.path.join(workdir, "bad.ini")
    with open(conf, "w") as f:
        f.write(f"[server]\ndata_dir = {workdir}/data\n[webui]\ndirectory = {workdir}/none\n")
    for args in (["--check-config"], []):
        r = subprocess.run([TANDEMD, *args, "--config", conf], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 1, r.stderr
        assert f"{conf}:4: [webui] directory: {workdir}/none holds no readable index.html" \
            in r.stderr, r.stderr
