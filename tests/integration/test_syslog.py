# SPDX-License-Identifier: MIT
# Remote syslog ([log] syslog) against a real rsyslogd on loopback: the daemons' log lines and
# access lines arrive as RFC 5424 with the configured app-name and facility, over UDP and
# octet-counted TCP; a dead syslog server never slows requests (drops are counted in
# /metrics) and TCP reconnects when it is back.
import http.client
import os
import time
import urllib.request

import pytest

from conftest import TANDEMD, Process, free_port, parse_metrics, scrape_metrics, write_config
from fixtures_rsyslog import Rsyslog
from lb_setup import Recorder, start_lb, stop_lb


@pytest.fixture
def rsyslog():
    r = Rsyslog().start()
    yield r
    r.cleanup()


def start_node(workdir, log_section):
    port = free_port()
    conf = write_config(workdir, f"[server]\nlisten = 127.0.0.1:{port}\nroute = OX-3\n"
                                 f"data_dir = {workdir}/data\nworkers = 2\n"
                                 f"[log]\n{log_section}")
    return Process([TANDEMD, "--config", conf], port, workdir)


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_tandemd_log_and_access_lines_reach_rsyslog(workdir, rsyslog, transport):
    port = rsyslog.udp if transport == "udp" else rsyslog.tcp
    node = start_node(workdir, f"syslog = {transport}://127.0.0.1:{port}\n"
                               "syslog_facility = local3\nsyslog_app = tandemd-t\n"
                               "access = syslog\n")
    try:
        assert get(node.port, "/health") == 200
        assert get(node.port, "/nope?session=secret123") == 404
        # a daemon log line: info, msgid "log", the logfmt fields after ts=
        started, = rsyslog.wait_for(lambda f, m: f["msgid"] == "log" and "listening on" in m)
        f, m = started
        assert f["app"] == "tandemd-t" and f["fac"] == "local3" and f["sev"] == "info"
        assert f["pid"] == str(node.pid) and m.startswith("level=info node=OX-3 comp=node")
        # access lines: info, msgid "access"
        ok, = rsyslog.wait_for(lambda f, m: f["msgid"] == "access" and "status=200" in m)
        f, m = ok
        assert f["app"] == "tandemd-t" and f["fac"] == "local3" and f["sev"] == "info"
        assert "method=GET path=/health" in m and " route=OX-3 " in m and "dur_ms=" in m
        nf, = rsyslog.wait_for(lambda f, m: f["msgid"] == "access" and "status=404" in m)
        assert 'path="/nope?session=***"' in nf[1]
        assert "secret123" not in open(rsyslog.out).read()
        # a warning keeps its severity (a fresh node has no configdb yet)
        warn = rsyslog.wait_for(lambda f, m: "configdb not available yet" in m)[0][0]
        assert warn["sev"] == "warning" and warn["app"] == "tandemd-t"
        m = scrape_metrics(node.port)
        assert m["tandem_syslog_sent_total"] >= 3 and m["tandem_syslog_dropped_total"] == 0
    finally:
        assert node.stop() == 0, node.stderr()[-3000:]
    # the shutdown's lines went out too
    rsyslog.wait_for(lambda f, m: f["msgid"] == "log" and 'msg=stopped' in m.replace('"', ""))


def timed_requests(port, n, path="/health"):
    """n requests on one keep-alive connection; returns the slowest in seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    slowest = 0.0
    for i in range(n):
        t0 = time.monotonic()
        conn.request("GET", f"{path}{'&' if '?' in path else '?'}i={i}")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        slowest = max(slowest, time.monotonic() - t0)
    conn.close()
    return slowest


def test_dead_rsyslog_never_slows_requests_and_tcp_reconnects(workdir, rsyslog):
    node = start_node(workdir, f"syslog = tcp://127.0.0.1:{rsyslog.tcp}\naccess = syslog\n")
    try:
        timed_requests(node.port, 5, "/health?phase=before")
        rsyslog.wait_for(lambda f, m: "phase=before" in m, count=5)

        rsyslog.kill()
        # more access lines than the queue holds (1024) while nobody listens
        t0 = time.monotonic()
        slowest = timed_requests(node.port, 1500, "/health?phase=down")
        took = time.monotonic() - t0
        assert slowest < 0.5, f"a request took {slowest:.3f}s with syslog down"
        m = scrape_metrics(node.port)
        assert m["tandem_syslog_dropped_total"] > 0
        print(f"1500 requests with rsyslog down: {took:.2f}s, slowest {slowest * 1000:.1f} ms, "
              f"dropped {m['tandem_syslog_dropped_total']:.0f}")

        rsyslog.start()
        deadline = time.monotonic() + 30
        while not [l for l in rsyslog.lines() if "phase=after" in l[1]]:
            assert time.monotonic() < deadline, "no reconnect to the restarted rsyslog"
            timed_requests(node.port, 1, "/health?phase=after")
            time.sleep(0.2)
    finally:
        assert node.stop() == 0, node.stderr()[-3000:]


def test_lb_access_and_log_lines_reach_rsyslog(workdir, rsyslog):
    rec = Recorder(route="REC-1")
    admin = free_port()
    lb = start_lb(workdir, [("REC-1", rec.port, 1, "ready")],
                  extra=f"[admin]\nlisten = 127.0.0.1:{admin}\nuser = a\npassword = pw-secret1\n"
                        f"allow = 127.0.0.1/32\n"
                        f"[log]\nsyslog = tcp://127.0.0.1:{rsyslog.tcp}\n"
                        f"syslog_facility = local5\nsyslog_app = lb-t\naccess = syslog\n")
    try:
        assert get(lb.port, "/api/x?a=1") == 200
        f, m = rsyslog.wait_for(lambda f, m: f["msgid"] == "access")[0]
        assert f["app"] == "lb-t" and f["fac"] == "local5" and f["sev"] == "info"
        assert " route=REC-1 " in m and 'path="/api/x?a=1"' in m and "status=200" in m
        f, m = rsyslog.wait_for(lambda f, m: f["msgid"] == "log" and "listening on" in m)[0]
        assert f["app"] == "lb-t" and m.startswith("level=info node=lb comp=main")
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=30) as r:
            metrics = parse_metrics(r.read().decode())
        assert metrics["tandem_lb_syslog_sent_total"] >= 2
        assert metrics["tandem_lb_syslog_dropped_total"] == 0
    finally:
        stop_lb(lb)
        rec.stop()
