# SPDX-License-Identifier: MIT
# bench/mail.sh's INBOX: COUNT messages written straight into a Maildir (run as the mail user, so
# Dovecot owns what it finds), newest last; varied senders, subjects and sizes, in threads of 7 (a
# root and 6 replies). Dovecot indexes it once afterwards (bench/mail.py).
# Usage: mail_inbox.py MAILDIR COUNT
import os
import random
import sys
import time

SENDERS = [f"{f} {l} <{f.lower()}.{l.lower()}@{d}>" for f, l, d in (
    ("Ada", "Lovelace", "example.org"), ("Alan", "Turing", "example.net"),
    ("Grace", "Hopper", "navy.example"), ("Edsger", "Dijkstra", "tue.example"),
    ("Barbara", "Liskov", "mit.example"), ("Donald", "Knuth", "stanford.example"),
    ("Frances", "Allen", "ibm.example"), ("Ken", "Thompson", "bell.example"),
    ("Margaret", "Hamilton", "nasa.example"), ("Niklaus", "Wirth", "eth.example"))]
WORDS = ("quarterly report budget meeting invoice release schedule review draft contract "
         "travel lunch server outage migration backup holiday training feedback roadmap "
         "design proposal security update customer order shipping delay").split()
BASE = 1_600_000_000  # message i is dated BASE + 60 * i: the newest is the last one


def subject(i, rnd):
    return " ".join(rnd.choice(WORDS) for _ in range(3 + i % 4)).capitalize() + f" #{i}"


def message(i, rnd):
    sender = SENDERS[i % len(SENDERS)]
    thread = i - i % 7  # 7 messages a thread: a root and replies
    subj = subject(thread, random.Random(thread))
    if i != thread:
        subj = "Re: " + subj
    refs = "" if i == thread else f"In-Reply-To: <m{thread}@bench>\nReferences: <m{thread}@bench>\n"
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(BASE + 60 * i))
    lines = 3 + rnd.choice((0, 0, 1, 2, 5, 10, 40, 200))  # 0.5 .. 18 KiB
    body = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(lines))
    return (f"Return-Path: <x@bench>\nFrom: {sender}\nTo: Alice <alice@example.org>\n"
            f"Subject: {subj}\nDate: {date}\nMessage-ID: <m{i}@bench>\n{refs}"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            f"Hello Alice,\n\n{body}\n\n-- \n{sender}\n").encode()


def main():
    maildir, count = sys.argv[1], int(sys.argv[2])
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    rnd = random.Random(42)
    cur = os.path.join(maildir, "cur")
    for i in range(count):
        data = message(i, rnd)
        t = BASE + 60 * i
        # read, except every 10th; S= lets Dovecot skip stat()ing for the size
        name = f"{t}.M{i}P1.bench,S={len(data)}:2,{'' if i % 10 == 0 else 'S'}"
        path = os.path.join(cur, name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t, t))


if __name__ == "__main__":
    main()
