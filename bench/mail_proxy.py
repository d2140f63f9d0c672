# SPDX-License-Identifier: MIT
# bench/mail.py's IMAP counter: a TCP proxy per client in front of Dovecot that counts the IMAP
# commands each sends (lines from the client that start with a tag and a command) and its
# connections (open now, most at once, opened in all). Runs as its own process, so its CPU is
# nobody's column. Usage: mail_proxy.py UPSTREAM_PORT NAME...; prints {"NAME": port, ...} once,
# then answers each line on stdin: "stats" -> a JSON line of the counters; "peak" also resets
# the most-at-once counters to the connections open now.
import asyncio
import json
import re
import sys

COMMAND = re.compile(rb"^[A-Za-z0-9.]+ [A-Za-z]+")


class Counter:
    def __init__(self):
        self.commands = self.open = self.peak = self.opened = 0


async def pipe(reader, writer, counter=None):
    try:
        buf = b""
        while data := await reader.read(65536):
            if counter is not None:
                buf += data
                *lines, buf = buf.split(b"\n")
                counter.commands += sum(1 for line in lines if COMMAND.match(line))
                buf = buf[-4096:]
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    upstream = int(sys.argv[1])
    counters, ports = {}, {}
    for name in sys.argv[2:]:
        counter = counters[name] = Counter()

        async def serve(cr, cw, counter=counter):
            counter.open += 1
            counter.opened += 1
            counter.peak = max(counter.peak, counter.open)
            try:
                ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
                await asyncio.gather(pipe(cr, uw, counter), pipe(ur, cw))
            finally:
                counter.open -= 1
                cw.close()
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        ports[name] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := await stdin.readline():
        out = {n: vars(c).copy() for n, c in counters.items()}
        if line.strip() == b"peak":
            for c in counters.values():
                c.peak = c.open
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
