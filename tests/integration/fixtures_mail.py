# SPDX-License-Identifier: MIT
# pytest fixture for a private mail system (scripts/mail-system.sh: Dovecot IMAP + LMTP and
# Postfix submission on loopback, with the master user "tandem" and test mailboxes). A test
# module imports it:
#
#     from fixtures_mail import mail_system  # noqa: F401  (pytest fixture)
#
#     def test_x(mail_system):
#         mail_system.deliver("alice", b"Subject: hi\r\n\r\nbody\r\n")     # by LMTP
#         mail_system.append("alice", "INBOX", [msg1, msg2], seen=True)   # by IMAP APPEND
#         mail_system.imap_url, mail_system.master_user, mail_system.master_password_file
#         mail_system.stop(); mail_system.start()                          # same ports
#         mail_system.smtp_url, mail_system.smtp_port                      # Postfix
#         mail_system.smtp_stop(); mail_system.smtp_start()                # Postfix alone
#
#     def test_y(start_mail_system):
#         plain = start_mail_system(sort=False)   # a server that announces no SORT
#         de = start_mail_system(special_use="de")  # \Trash is "Gelöschte Elemente", …
#
# Function scoped: Dovecot starts in ~0.1 s. Without Dovecot the fixture fails naming
# scripts/deps.sh.
import imaplib
import os
import shutil
import smtplib
import subprocess
import tempfile

import pytest

from conftest import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "mail-system.sh")
USERS = (("alice", "alice-pw"), ("bob", "bob-pw"), ("outside", "outside-pw"))


class MailSystem:
    def __init__(self, directory, users=USERS, sort=True, special_use=""):
        self.dir = directory
        self.users = dict(users)
        self.sort = sort
        self.special_use = special_use
        self.env = {}

    def start(self):
        """Starts (again, on the same ports when restarted)."""
        env = dict(os.environ, MAIL_NO_SORT="0" if self.sort else "1",
                   MAIL_SPECIAL_USE=self.special_use)
        for k in ("MAIL_IMAP_PORT", "MAIL_LMTP_PORT", "MAIL_SMTP_PORT"):
            if k in self.env:
                env[k] = self.env[k]
        r = subprocess.run([SCRIPT, "start", self.dir] + [f"{u}:{p}" for u, p in
                                                          self.users.items()],
                           capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, f"mail-system.sh start failed:\n{r.stderr}"
        self.env = dict(line.split("=", 1) for line in r.stdout.split() if "=" in line)
        return self

    def stop(self):
        subprocess.run([SCRIPT, "stop", self.dir], timeout=60, check=True)

    def smtp_stop(self):
        subprocess.run([SCRIPT, "smtp-stop", self.dir], timeout=60, check=True)

    def smtp_start(self):
        subprocess.run([SCRIPT, "smtp-start", self.dir], timeout=60, check=True,
                       capture_output=True)

    @property
    def smtp_url(self):
        return self.env["MAIL_SMTP_URL"]

    @property
    def smtp_port(self):
        return int(self.env["MAIL_SMTP_PORT"])

    @property
    def imap_url(self):
        return self.env["MAIL_IMAP_URL"]

    @property
    def imap_port(self):
        return int(self.env["MAIL_IMAP_PORT"])

    master_user = "tandem"

    @property
    def master_password_file(self):
        return self.env["MAIL_MASTER_PASSWORD_FILE"]

    @property
    def master_password(self):
        with open(self.master_password_file) as f:
            return f.read().strip()

    def deliver(self, user, message: bytes):
        with smtplib.LMTP("127.0.0.1", int(self.env["MAIL_LMTP_PORT"])) as lmtp:
            lmtp.sendmail("sender@localhost", [user], message)

    def imap(self, user):
        """An imaplib connection logged in as user through the master user."""
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(f"{user}*{self.master_user}", self.master_password)
        return m

    def append(self, user, folder, messages, seen=False):
        m = self.imap(user)
        try:
            if folder != "INBOX":
                m.create(folder)
            for msg in messages:
                typ, data = m.append(folder, "(\\Seen)" if seen else None, None, msg)
                assert typ == "OK", data
        finally:
            m.logout()


@pytest.fixture
def start_mail_system():
    """Factory: start_mail_system(sort=True, special_use="") -> a started MailSystem, stopped
    after."""
    for prog in ("dovecot", "postfix"):
        if shutil.which(prog) is None:
            pytest.fail(f"{prog} is missing: run scripts/deps.sh test", pytrace=False)
    started = []
    with tempfile.TemporaryDirectory(prefix="tandem-mail-") as d:
        os.chmod(d, 0o755)  # Dovecot's mail user reaches the mailboxes below it

        def start(sort=True, special_use=""):
            ms = MailSystem(os.path.join(d, str(len(started))), sort=sort,
                            special_use=special_use)
            started.append(ms)
            return ms.start()
        try:
            yield start
        finally:
            for ms in started:
                ms.stop()


@pytest.fixture
def mail_system(start_mail_system):
    return start_mail_system()
