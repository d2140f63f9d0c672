# SPDX-License-Identifier: MIT
# Driver for bench/webmail-list.sh: the web UI's mail view on a COUNT-message INBOX in Debian's
# chromium (tests/webui/mail-bulk.mjs): app loaded at #mail to the first rows, scrolled to the
# middle and to the end (the rows in the page stay bounded), the last message opened. The INBOX
# is bench/mail.sh's (bench/mail.py's mail_system: a Maildir written by bench/mail_inbox.py as
# the mail user, then `doveadm index`, cached in $MAIL_BENCH_DIR), one tandemd in front of it.
# Usage: webmail_list.py COUNT
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import mail  # noqa: E402  (bench/mail.py: its INBOX, its cluster set-up)
from test_webui import CHROMIUM, WEBUI_TESTS, npm_ci  # noqa: E402  (mail.py put it on the path)


def main():
    count = int(sys.argv[1])
    env, mdir = mail.mail_system(count)
    work = tempfile.mkdtemp(prefix="tandem-webmail-list-")
    os.chmod(work, 0o755)
    with contextlib.ExitStack() as stack:
        stack.callback(subprocess.run, [os.path.join(ROOT, "scripts", "mail-system.sh"), "stop",
                                        mdir], timeout=60)
        d = os.path.join(work, "tandem")
        os.makedirs(d)
        c = mail.Cluster(d, f"sqlite://{d}/configdb.sqlite",
                         extra=f"[log]\nlevel = warn\n[mail]\nimap_url = {env['MAIL_IMAP_URL']}\n"
                               f"master_user = tandem\n"
                               f"master_password_file = {env['MAIL_MASTER_PASSWORD_FILE']}\n")
        node = c.start_node()
        stack.callback(c.stop)
        mail.provision_context(c, d)
        npm_ci()
        r = subprocess.run(["node", os.path.join(WEBUI_TESTS, "mail-bulk.mjs")], cwd=WEBUI_TESTS,
                           env=dict(os.environ, BASE_URL=f"http://127.0.0.1:{node.port}/",
                                    OUT_DIR=os.path.join(work, "webui"), CHROMIUM=CHROMIUM,
                                    LOGIN=mail.USER, PASSWORD=mail.PASSWORD, COUNT=str(count)),
                           capture_output=True, text=True, timeout=600)
        print(r.stdout, end="")
    if r.returncode != 0:
        sys.exit(f"webmail-list: the browser run failed (screenshots and logs in {work}):\n"
                 f"{r.stderr}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
