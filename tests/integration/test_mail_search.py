# SPDX-License-Identifier: MIT
# Mail search, threads and copy (docs/api.md "Mail") against a real Dovecot on loopback:
# IMAP SEARCH with non-ASCII text, SORT with search criteria, THREAD REFERENCES with depths,
# the fallbacks of a server without SORT and THREAD, and UID COPY.
import email.utils
import urllib.parse

import pytest

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from provisioning import Cluster
from test_mail import client, get, mail_section, provision, send

BASE = 1_700_000_000


def msg(subject, sender="Sender <s@example.com>", to="alice@example.com", body="hello",
        when=BASE, msgid=None, refs=None):
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: {email.utils.formatdate(when)}\r\n"
            f"Message-ID: <{msgid or subject.replace(' ', '.')}@t>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n")
    if refs:
        head += (f"In-Reply-To: <{refs[-1]}@t>\r\n"
                 f"References: {' '.join(f'<{r}@t>' for r in refs)}\r\n")
    return (head + f"\r\n{body}\r\n").encode()


def mailbox():
    """Subjects and senders with non-ASCII text (RFC 2047 in the subject header), in order."""
    return [
        msg("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Jürgen <j@example.com>",
            body="Die Brücke ist offen", when=BASE + 10),
        msg("lunch plans", "Bob <bob@example.com>", body="pizza at noon", when=BASE + 20),
        msg("report", "Zoë <zoe@example.com>", to="carol@example.com",
            body="the quarterly numbers", when=BASE + 30),
        msg("lunch again", "Bob <bob@example.com>", body="sushi?", when=BASE + 40),
    ]


def page(api, **params):
    body, _ = get(api, "/api/v1/mail/messages?" + urllib.parse.urlencode(
        dict({"folder": "INBOX"}, **params)))
    return body


@pytest.fixture
def world(workdir, mail_system):  # noqa: F811
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=mail_section(mail_system))
    provision(c, workdir)
    c.mail = mail_system
    yield c
    c.stop()


def check_search(api, server):
    b = page(api, q="Köln", **{"in": "subject"})
    assert [m["uid"] for m in b["messages"]] == [1] and b["total"] == 1, b
    assert b["messages"][0]["subject"] == "Grüße aus Köln" and b["q"] == "Köln", b
    assert b["server_sort"] is server and b["in"] == "subject"
    b = page(api, q="Brücke", **{"in": "body"})
    assert [m["uid"] for m in b["messages"]] == [1], b
    b = page(api, q="bob@example.com", **{"in": "from"})
    assert [m["uid"] for m in b["messages"]] == [4, 2] and b["total"] == 2, b
    # the page's sort applies to the matches
    b = page(api, q="bob@example.com", sort="date", order="asc", **{"in": "from"})
    assert [m["uid"] for m in b["messages"]] == [2, 4], b
    b = page(api, q="lunch", limit=1, offset=1)
    assert [m["uid"] for m in b["messages"]] == [2] and b["total"] == 2, b
    b = page(api, q="carol", **{"in": "to"})
    assert [m["uid"] for m in b["messages"]] == [3], b
    # several fields: a match in any of them (OR), as webmails search "subject or sender"
    b = page(api, q="Köln", **{"in": "from,subject"})
    assert [m["uid"] for m in b["messages"]] == [1] and b["in"] == "from,subject", b
    b = page(api, q="bob@example.com", **{"in": "subject,from"})
    assert [m["uid"] for m in b["messages"]] == [4, 2], b
    b = page(api, q="Brücke", **{"in": "from,subject"})  # only in the body
    assert b["total"] == 0, b
    b = page(api, q="Zoë")  # in=all: headers too
    assert [m["uid"] for m in b["messages"]] == [3] and b["in"] == "all", b
    b = page(api, q="no such words anywhere")
    assert b["messages"] == [] and b["total"] == 0, b
    # q empty: the plain listing
    b = page(api, q="")
    assert b["total"] == 4 and "q" not in b and len(b["messages"]) == 4, b


def test_search(world):
    world.mail.append("alice", "INBOX", mailbox())
    check_search(client(world, "alice"), True)


def test_bad_search_parameters(world):
    alice = client(world, "alice")
    status, body, _ = alice.request("GET", "/api/v1/mail/messages?folder=INBOX&q=x&in=cc")
    assert status == 400 and "in must be" in body["error"]["message"], body
    status, body, _ = alice.request("GET", "/api/v1/mail/messages?folder=INBOX&q=x&in=from,,to")
    assert status == 400 and "in must be" in body["error"]["message"], body
    status, body, _ = alice.request("GET", "/api/v1/mail/messages?folder=INBOX&thread=yes")
    assert status == 400 and "thread" in body["error"]["message"], body
    status, body, _ = alice.request("GET", "/api/v1/mail/messages?folder=Nope&q=x")
    assert status == 404, body


def thread_box():
    """Two threads: a reply chain a1 <- a2 <- a3 plus a side reply a2b to a1, and b1 <- b2;
    and a lone message. Arrival: a1 b1 a2 lone a3 b2 a2b."""
    return [
        msg("plan", msgid="a1", when=BASE + 1),
        msg("trip", msgid="b1", when=BASE + 2),
        msg("Re: plan", msgid="a2", refs=["a1"], when=BASE + 3),
        msg("lonely", msgid="lone", when=BASE + 4),
        msg("Re: Re: plan", msgid="a3", refs=["a1", "a2"], when=BASE + 5),
        msg("Re: trip", msgid="b2", refs=["b1"], when=BASE + 6),
        msg("Re: plan (side)", msgid="a2b", refs=["a1"], when=BASE + 7),
    ]


def test_threads(world):
    world.mail.append("alice", "INBOX", thread_box())
    alice = client(world, "alice")
    b = page(alice, thread=1)
    assert b["server_thread"] is True and b["total"] == 3 and b["sort"] == "thread", b
    got = [(m["uid"], m["thread"], m["depth"]) for m in b["messages"]]
    # threads newest first (a2b=7 arrived last, then b2=6, then lone=4); parents first
    assert got == [(1, 1, 0), (3, 1, 1), (5, 1, 2), (7, 1, 1),
                   (2, 2, 0), (6, 2, 1),
                   (4, 4, 0)], got
    # a page of threads, not of messages: the second thread alone
    b = page(alice, thread=1, offset=1, limit=1)
    assert [(m["uid"], m["depth"]) for m in b["messages"]] == [(2, 0), (6, 1)], b
    assert b["total"] == 3
    # threads of the matches only
    b = page(alice, thread=1, q="trip", **{"in": "subject"})
    assert [(m["uid"], m["thread"], m["depth"]) for m in b["messages"]] == \
        [(2, 2, 0), (6, 2, 1)], b
    b = page(alice, thread=1, q="nothing like this")
    assert b["messages"] == [] and b["total"] == 0, b


def test_copy(world):
    ms = world.mail
    ms.append("alice", "INBOX", [msg("keep me", body="the body to copy")])
    ms.append("alice", "Archive", [msg("already there")])
    alice = client(world, "alice")
    base = "/api/v1/mail/messages/INBOX/1/copy"
    out = send(alice, "POST", base, {"to": "Archive"}, expect=201)
    assert out == {"folder": "Archive", "uid": 2}, out
    orig, _ = get(alice, "/api/v1/mail/messages/INBOX/1")
    copy, _ = get(alice, "/api/v1/mail/messages/Archive/2")
    assert copy["text"] == orig["text"] and "the body to copy" in copy["text"], copy
    assert copy["subject"] == "keep me"
    assert page(alice)["total"] == 1  # the original stays
    send(alice, "POST", base, {"to": "Nope"}, expect=404)
    send(alice, "POST", "/api/v1/mail/messages/INBOX/99/copy", {"to": "Archive"}, expect=404)
    send(alice, "POST", "/api/v1/mail/messages/Nope/1/copy", {"to": "Archive"}, expect=404)
    send(alice, "POST", base, {"to": "a*b"}, expect=400)
    send(alice, "POST", base, {}, expect=400)


def test_without_sort_and_thread(workdir, start_mail_system):  # noqa: F811
    """A server announcing neither SORT nor THREAD: the same search results (sorted here)
    and threads as a flat list by date, depth 0."""
    ms = start_mail_system(sort=False)
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=mail_section(ms))
    try:
        provision(c, workdir)
        ms.append("alice", "INBOX", mailbox())
        alice = client(c, "alice")
        check_search(alice, False)
        b = page(alice, thread=1)
        assert b["server_thread"] is False and b["total"] == 4, b
        assert [(m["uid"], m["thread"], m["depth"]) for m in b["messages"]] == \
            [(4, 4, 0), (3, 3, 0), (2, 2, 0), (1, 1, 0)], b
        b = page(alice, thread=1, q="lunch", limit=1)
        assert [m["uid"] for m in b["messages"]] == [4] and b["total"] == 2, b
        # COPY without UIDPLUS: no new UID to tell
        ms.append("alice", "Archive", [msg("x")])
        out = send(alice, "POST", "/api/v1/mail/messages/INBOX/1/copy", {"to": "Archive"},
                   expect=201)
        assert out == {"folder": "Archive", "uid": None}, out
        assert page(alice, folder="Archive")["total"] == 2
    finally:
        c.stop()


# ------------------------------------------------------------------ new-mail events (SSE)

class EventStream:
    """GET /api/v1/mail/events read on a thread: each event as (monotonic time, name,
    data)."""

    def __init__(self, api, port=None):
        import http.client
        import queue
        import threading
        self.events = queue.Queue()
        self.conn = http.client.HTTPConnection("127.0.0.1", port or api.port, timeout=120)
        h = {"X-Session": api.session, "Accept": "text/event-stream",
             "User-Agent": api.user_agent,
             "Cookie": "; ".join(f"{k}={v}" for k, v in api.cookies.items())}
        self.conn.request("GET", "/api/v1/mail/events", headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict((k.lower(), v) for k, v in self.resp.getheaders())
        self.comments = 0
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        import time as t
        name, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and name:
                    self.events.put((t.monotonic(), name, "\n".join(data)))
                    name, data = None, []
        except Exception:  # noqa: BLE001  the test closed the stream
            pass
        self.events.put((t.monotonic(), "closed", ""))

    def next(self, timeout=15):
        import json
        import queue
        try:
            when, name, data = self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        return when, name, (json.loads(data) if data.startswith("{") else data)

    def close(self):
        import socket
        try:
            self.resp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def metric(c, name, port=None):
    from conftest import scrape_metrics
    return scrape_metrics(port or c.nodes[0].port).get(name)


def wait_metric(c, name, want, timeout=15):
    import time as t
    deadline = t.monotonic() + timeout
    while t.monotonic() < deadline:
        if metric(c, name) == want:
            return
        t.sleep(0.1)
    raise AssertionError(f"{name} is {metric(c, name)}, not {want}")


def test_new_mail_events(world):
    import time as t
    ms = world.mail
    ms.deliver("alice", msg("before"))
    alice = client(world, "alice")
    es = EventStream(alice)
    try:
        assert es.status == 200 and es.headers["content-type"] == "text/event-stream"
        _, name, data = es.next()
        assert (name, data) == ("mail", {"folder": "INBOX", "total": 1, "unread": 1}), data
        assert metric(world, "tandem_mail_event_watchers") == 1
        assert metric(world, "tandem_mail_event_streams") == 1
        # a second stream of the same user shares the watcher and gets the counts at once
        es2 = EventStream(alice)
        _, name, data = es2.next()
        assert data == {"folder": "INBOX", "total": 1, "unread": 1}, data
        assert metric(world, "tandem_mail_event_watchers") == 1
        es2.close()
        wait_metric(world, "tandem_mail_event_streams", 1)
        # new mail arrives: an event with the new counts within a second (2 s: noisy box)
        sent = t.monotonic()
        ms.deliver("alice", msg("new one"))
        when, name, data = es.next()
        assert (name, data) == ("mail", {"folder": "INBOX", "total": 2, "unread": 1 + 1}), data
        assert when - sent < 2.0, f"the event took {when - sent:.2f} s"
        # marking read (through the API, another IMAP connection) changes unread
        send(alice, "PATCH", "/api/v1/mail/messages/INBOX/1", {"seen": True})
        _, name, data = es.next()
        assert data == {"folder": "INBOX", "total": 2, "unread": 1}, data
    finally:
        es.close()
    # the last stream gone, the watcher stops (its IDLE connection goes back to the pool)
    wait_metric(world, "tandem_mail_event_watchers", 0)
    wait_metric(world, "tandem_mail_event_streams", 0)


def test_events_survive_the_mail_system_going_down(world):
    ms = world.mail
    alice = client(world, "alice")
    es = EventStream(alice)
    try:
        assert es.next()[2] == {"folder": "INBOX", "total": 0, "unread": 0}
        ms.stop()
        _, name, data = es.next()
        assert name == "error" and "IMAP server" in data["reason"], (name, data)
        ms.start()
        ms.deliver("alice", msg("after the restart"))
        # the watcher retries with back-off (1 s, 2 s, …) and sends the counts again
        deadline_events = []
        for _ in range(10):
            _, name, data = es.next(timeout=40)
            deadline_events.append((name, data))
            # the watcher may be back before the delivery: its first counts are then 0
            if name == "mail" and data["total"] == 1:
                break
        assert deadline_events[-1] == ("mail", {"folder": "INBOX", "total": 1, "unread": 1}), \
            deadline_events
    finally:
        es.close()


def test_events_refused_without_mail_module(workdir, mail_system):  # noqa: F811
    from test_mail import ACCESS
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite",
                extra=ACCESS + mail_section(mail_system))
    try:
        provision(c, workdir, (("carol", "nomail"),))
        status, body, _ = client(c, "carol").request("GET", "/api/v1/mail/events")
        assert status == 403, (status, body)
    finally:
        c.stop()


def test_events_stream_cap_per_user(world):
    alice = client(world, "alice")
    streams = [EventStream(alice) for _ in range(8)]
    try:
        assert all(s.status == 200 for s in streams)
        extra = EventStream(alice)
        assert extra.status == 429, extra.status
        extra.conn.close()
    finally:
        for s in streams:
            s.close()
    wait_metric(world, "tandem_mail_event_watchers", 0)


def test_events_through_the_balancer(world):
    """tandem-lb passes the stream on as it comes; a client leaving the balancer ends the
    node's watcher too."""
    import time as t
    from lb_setup import start_lb, stop_lb
    from provisioning import ApiClient
    lb = start_lb(world.workdir, [("OX-1", world.nodes[0].port, 50, "ready")])
    try:
        alice = ApiClient(lb.port)
        status, body, _ = alice.login("alice", "alice_pw")
        assert status == 200, body
        es = EventStream(alice)
        try:
            assert es.status == 200, es.status
            assert es.next()[2] == {"folder": "INBOX", "total": 0, "unread": 0}
            sent = t.monotonic()
            world.mail.deliver("alice", msg("through the balancer"))
            when, name, data = es.next()
            assert (name, data) == ("mail", {"folder": "INBOX", "total": 1, "unread": 1})
            assert when - sent < 2.0, f"the event took {when - sent:.2f} s"
        finally:
            es.close()
        wait_metric(world, "tandem_mail_event_watchers", 0)
    finally:
        stop_lb(lb)


def test_events_hangup_noticed_on_epoll(workdir, mail_system, monkeypatch):  # noqa: F811
    """The same hang-up detection where the loop has no io_uring (recv MSG_PEEK on epoll)."""
    monkeypatch.setenv("TANDEM_IOLOOP", "epoll")
    c = Cluster(workdir, f"sqlite://{workdir}/configdb.sqlite", extra=mail_section(mail_system))
    try:
        provision(c, workdir)
        es = EventStream(client(c, "alice"))
        try:
            assert es.next()[2] == {"folder": "INBOX", "total": 0, "unread": 0}
            assert metric(c, "tandem_mail_event_watchers") == 1
        finally:
            es.close()
        wait_metric(c, "tandem_mail_event_watchers", 0, timeout=10)
    finally:
        c.stop()
