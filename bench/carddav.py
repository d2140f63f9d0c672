# SPDX-License-Identifier: MIT
# Driver for bench/carddav.sh: tandemd's CardDAV beside Cyrus IMAP's httpd (Debian
# cyrus-caldav, which serves CardDAV too) and Radicale, the same address book of generated
# vCards in each, the same clients (threads on keep-alive connections, each sending until a
# count or a time is reached), interleaved rounds: addressbook-query text-match,
# addressbook-multiget of 50 cards, incremental sync-collection after a few changes. Not wrk:
# a Radicale query takes seconds, and CPU read while requests are still running (wrk's end)
# would count work for requests that are not counted.
import os
import random
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
os.environ.setdefault("TANDEM_BUILD_DIR", os.path.join(ROOT, "build", "release"))

import davpeers  # noqa: E402
from cluster import pct  # noqa: E402
from davpeers import (DAV, HZ, SYNC_CHANGES, Server, Unavailable, hrefs,  # noqa: E402
                      put_all, stop_all, sync_body)

CARD = "urn:ietf:params:xml:ns:carddav"
NS = f'xmlns:D="DAV:" xmlns:C="{CARD}"'
VCARD = "text/vcard; charset=utf-8"
MULTIGET = 50  # cards named in one addressbook-multiget
GIVEN = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karla", "Lukas", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara"]
SUR = ["Meyer", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch",
       "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann"]
ORGS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
# the query: FN contains QUERY_FN (any case) or an EMAIL starts with QUERY_EMAIL
QUERY_FN, QUERY_EMAIL = "greta koch", "ida.wolf"

OPS = ("query", "multiget", "sync")


@dataclass
class Card:
    name: str  # resource name (NAME.vcf)
    uid: str
    fn: str
    email: str
    text: str


def vcard(uid, given, sur, i, email, org, note=""):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {sur}\r\n"
            f"N:{sur};{given};;;\r\nEMAIL;TYPE=work:{email}\r\n"
            f"TEL;TYPE=cell:+49 30 {1000000 + i}\r\nORG:{org}\r\n"
            f"ADR;TYPE=work:;;Street {i % 200};Berlin;;{10000 + i % 9000};Germany\r\n"
            f"NOTE:{note or 'generated for bench/carddav.sh'}\r\nEND:VCARD\r\n")


def generate(n, seed=16):
    rnd = random.Random(seed)
    cards = []
    for i in range(n):
        g, s = rnd.choice(GIVEN), rnd.choice(SUR)
        uid = f"bench-{i:06d}"
        email = f"{g.lower()}.{s.lower()}{i}@corp.example"
        cards.append(Card(f"c{i:06d}.vcf", uid, f"{g} {s}", email,
                          vcard(uid, g, s, i, email, rnd.choice(ORGS))))
    return cards


def expected(cards):
    return {c.name for c in cards
            if QUERY_FN in c.fn.lower() or c.email.startswith(QUERY_EMAIL)}


def query_body():
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<C:addressbook-query {NS}>'
            "<D:prop><D:getetag/><C:address-data/></D:prop>"
            '<C:filter test="anyof">'
            f'<C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" '
            f'match-type="contains">{QUERY_FN}</C:text-match></C:prop-filter>'
            f'<C:prop-filter name="EMAIL"><C:text-match collation="i;unicode-casemap" '
            f'match-type="starts-with">{QUERY_EMAIL}</C:text-match></C:prop-filter>'
            "</C:filter></C:addressbook-query>")


def multiget_body(collection, cards):
    hrefs = "".join(f"<D:href>{collection}{c.name}</D:href>" for c in cards)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<C:addressbook-multiget {NS}>'
            f"<D:prop><D:getetag/><C:address-data/></D:prop>{hrefs}"
            "</C:addressbook-multiget>")


def with_data(body):
    """How many responses of a multistatus hold a vCard."""
    return sum(1 for r in ET.fromstring(body).iter(f"{{{CARD}}}address-data")
               if (r.text or "").startswith("BEGIN:VCARD"))


# ------------------------------------------------------------------------------- targets

def start_tandem(workdir):
    """One tandemd node on SQLite as bench/api.py starts it; alice's default address book."""
    c, node = davpeers.start_tandem_node(workdir)
    try:
        home = Server(node.port, "/dav/addressbooks/alice/", "alice", "alice_pw", [node.pid],
                      c.stop, VCARD)
        status, body = home.request("PROPFIND", home.collection, headers={"Depth": "1"})
        books = [r.findtext(f"{{{DAV}}}href") for r in ET.fromstring(body).iter(
                 f"{{{DAV}}}response") if r.find(f".//{{{CARD}}}addressbook") is not None
                 ] if status == 207 else []
        if not books:
            raise Unavailable(f"PROPFIND of alice's address book home answered {status}")
        home.collection = books[0].rstrip("/") + "/"
    except BaseException:
        c.stop()
        raise
    return home


def start_cyrus(workdir):
    """Cyrus 3.6's httpd serving CardDAV."""
    return davpeers.start_cyrus(workdir, "carddav", "/dav/addressbooks/user/bench/Default/",
                                VCARD, "address book")


def start_radicale(workdir):
    """The address book is made by an extended MKCOL and filled by writing its files."""
    return davpeers.start_radicale(
        workdir, "/bench/contacts/", VCARD, "MKCOL",
        f'<?xml version="1.0"?><D:mkcol {NS}><D:set><D:prop><D:resourcetype>'
        "<D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>",
        "address book", write_files=True)


TARGETS = {"tandem": start_tandem, "cyrus": start_cyrus, "radicale": start_radicale}


# ------------------------------------------------------------------------------- filling

def check(server, cards):
    """None when the query and the multiget answer exactly what they should, else why not."""
    status, body = server.report(query_body())
    if status != 207:
        return f"addressbook-query answered {status}: {body[:200]!r}"
    got = {n for n, st in hrefs(body).items() if st == 200}
    want = expected(cards)
    if got != want or with_data(body) != len(want):
        return (f"addressbook-query found {len(got)} cards ({with_data(body)} with data), "
                f"expected {len(want)} (missing {sorted(want - got)[:3]}, "
                f"extra {sorted(got - want)[:3]})")
    some = cards[100:100 + MULTIGET]
    status, body = server.report(multiget_body(server.collection, some))
    got = {n for n, st in hrefs(body).items() if st == 200} if status == 207 else set()
    if got != {c.name for c in some} or with_data(body) != MULTIGET:
        return f"addressbook-multiget answered {status} with {len(got)} cards"
    return None


def prepare(name, server, cards):
    t0 = time.monotonic()
    if server.fill is not None:
        server.fill(cards, t0 + 900)
    else:
        put_all(server, cards, t0 + 900, "address book")
    print(f"{name}: {len(cards)} cards in {time.monotonic() - t0:.1f} s")
    why = check(server, cards)
    if why:
        raise Unavailable(why)
    sync_changes(server, cards)


def sync_changes(server, cards):
    """SYNC_CHANGES changed cards (a set of cards from the 200th on every call)."""
    return davpeers.sync_changes(server, cards, 200, 1000, "NOTE")


# ------------------------------------------------------------------------------- load

def request_body(server, op, cards, token):
    if op == "query":
        return query_body()
    if op == "sync":
        return sync_body(token)
    return multiget_body(server.collection, cards[100:100 + MULTIGET])


def run_clients(server, op, body, seconds, conns, most):
    """conns client threads, each on its own keep-alive connection sending the REPORT until
    it has sent `most` or `seconds` have passed (at least one each); the server's CPU read
    once they have all finished, so no request is half counted."""
    depth = "0" if op == "sync" else "1"
    lat, bad = [[] for _ in range(conns)], [0] * conns

    def client(k):
        deadline = time.monotonic() + seconds
        while len(lat[k]) < most and (not lat[k] or time.monotonic() < deadline):
            t = time.perf_counter()
            status, _ = server.report(body, depth)
            lat[k].append((time.perf_counter() - t) * 1000)
            bad[k] += status != 207

    threads = [threading.Thread(target=client, args=(k,)) for k in range(conns)]
    before, t0 = server.cpu(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, after = time.perf_counter() - t0, server.cpu()
    all_lat = [x for one in lat for x in one]
    return {"reqs": len(all_lat), "rps": len(all_lat) / wall, "p50": pct(all_lat, 50),
            "p99": pct(all_lat, 99), "errors": sum(bad),
            "us": (after - before) / HZ * 1e6 / len(all_lat)}


def measure(server, cards, op, seconds, conns, most):
    token = sync_changes(server, cards) if op == "sync" else None
    return run_clients(server, op, request_body(server, op, cards, token), seconds, conns, most)


def load(workdir, count, rounds, seconds, conns, most):
    cards = generate(count)
    # CARDDAV_TARGETS=tandem,cyrus: fewer targets
    names = davpeers.target_names(TARGETS, "CARDDAV_TARGETS", "carddav.sh")
    running = davpeers.start_all(workdir, TARGETS, names, cards, prepare)
    try:
        if not running:
            sys.exit("no target to measure")
        print(f"{len(running)} targets; {count} cards; addressbook-query FN contains "
              f"'{QUERY_FN}' or EMAIL starts-with '{QUERY_EMAIL}' ({len(expected(cards))} "
              f"cards with data), addressbook-multiget of {MULTIGET} with data, "
              f"sync-collection reporting {SYNC_CHANGES} changes (etags); {conns} clients, each "
              f"for {seconds:g} s or {most} requests, {rounds} interleaved rounds; CPU = the "
              "server's processes")
        results = davpeers.run_rounds(
            running, OPS, rounds, 8,
            lambda name, server, op, r: measure(server, cards, op, 1 if r == 0 else seconds,
                                                conns, most))
    finally:
        stop_all(running)
    report([name for name, _ in running], results)


GOALS = {"query": 0.25, "sync": 0.5}  # tandem/cyrus CPU per request at most


def ratio(a, b, key=None):
    return f"{a / b:6.3g}" if b else "   n/a"


def report(names, results):
    med = davpeers.print_medians(names, OPS, results, 8)
    if "tandem" not in names:
        return
    print("\nratios tandem/peer (CPU per request, p99, req/s); goals against Cyrus: query CPU "
          "<= 0.25x, sync CPU <= 0.5x")
    for op in OPS:
        t = med["tandem", op]
        line = f"{op:8s} " + davpeers.peer_columns(names, med, op, ratio)
        if "cyrus" in names and op in GOALS:
            met = t["us"] <= GOALS[op] * med["cyrus", op]["us"]
            line += f"   goal CPU <= {GOALS[op]}x: {'met' if met else 'MISSED'}"
        print(line)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-carddav-") as d:
        os.chmod(d, 0o755)  # Cyrus runs as user cyrus and must reach its directory
        load(d, int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]),
             int(sys.argv[5]))


if __name__ == "__main__":
    main()
