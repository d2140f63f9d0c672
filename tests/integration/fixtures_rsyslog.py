# SPDX-License-Identifier: MIT
# A private rsyslogd receiving RFC 5424 over UDP and TCP (octet-counted) on loopback ports
# chosen at run time and writing what it gets, one line per message with its parsed header
# fields, to a file in its own directory. No system socket, no /etc/rsyslog.conf.
import os
import shutil
import signal
import subprocess
import tempfile
import time

from conftest import free_port

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"

# One line per message: the fields rsyslog parsed out of the RFC 5424 header, then MSG.
CONFIG = """\
global(workDirectory="{dir}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" port="{udp}" address="127.0.0.1")
input(type="imtcp" port="{tcp}" address="127.0.0.1")
template(name="fields" type="string"
         string="fac=%syslogfacility-text% sev=%syslogseverity-text% app=%app-name% pid=%procid% msgid=%msgid% host=%hostname% | %msg%\\n")
*.* action(type="omfile" file="{out}" template="fields")
"""


class Rsyslog:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tandem-rsyslog-")
        self.udp = free_port()
        self.tcp = free_port()
        self.out = os.path.join(self.dir, "received.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(dir=self.dir, udp=self.udp, tcp=self.tcp, out=self.out))
        self.proc = None

    def start(self):
        pidfile = os.path.join(self.dir, "rsyslogd.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", pidfile],
                                     stdout=self.stderr, stderr=self.stderr)
        # ready once the TCP input listens
        import socket
        deadline = time.monotonic() + 15
        while True:
            assert self.proc.poll() is None, f"rsyslogd exited: {self.log()}"
            try:
                with socket.create_connection(("127.0.0.1", self.tcp), timeout=0.5):
                    return self
            except OSError:
                assert time.monotonic() < deadline, "rsyslogd not listening"
                time.sleep(0.05)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "stderr.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def lines(self):
        """[(fields dict, msg)] received so far."""
        try:
            with open(self.out, errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            head, _, msg = line.partition(" | ")
            fields = dict(kv.split("=", 1) for kv in head.split(" ") if "=" in kv)
            out.append((fields, msg))
        return out

    def wait_for(self, pred, count=1, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            found = [l for l in self.lines() if pred(*l)]
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, \
                f"no {count} matching messages; got {self.lines()[-10:]}"
            time.sleep(0.05)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
