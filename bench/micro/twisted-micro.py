# Real Twisted's side of the microbenchmarks (bench/micro/micro.ts), printed as one JSON line.
#
# Usage: python3 twisted-micro.py deferred CHAINS ROUNDS
#        python3 twisted-micro.py lines LINES ROUNDS
# Same work as micro.ts: a Deferred chain of 10 callbacks fired synchronously; LineReceiver
# parsing short lines cut by the same seeded xorshift32 into chunks of 1 to 2,048 bytes.
import json
import statistics
import sys
import time

from twisted.internet.defer import Deferred
from twisted.protocols.basic import LineReceiver

try:
    from twisted.internet.testing import StringTransport
except ImportError:  # Twisted before 19.7
    from twisted.test.proto_helpers import StringTransport

sink = 0


def inc(x):
    return x + 1


def accumulate(x):
    global sink
    sink += x
    return x


def deferred_chains(n):
    for i in range(n):
        d = Deferred()
        for _ in range(9):
            d.addCallback(inc)
        d.addCallback(accumulate)
        d.callback(i)


def xorshift32(seed):
    x = seed & 0xFFFFFFFF

    def next_value():
        nonlocal x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        return x

    return next_value


def line_chunks(lines):
    data = "".join(f"line {i} hello\r\n" for i in range(lines)).encode("latin1")
    rand = xorshift32(12345)
    chunks = []
    off = 0
    while off < len(data):
        size = 1 + rand() % 2048
        chunks.append(data[off : off + size])
        off += size
    return chunks


class CountingReceiver(LineReceiver):
    count = 0

    def lineReceived(self, line):
        self.count += 1


def parse_lines(chunks, lines):
    p = CountingReceiver()
    p.makeConnection(StringTransport())
    for chunk in chunks:
        p.dataReceived(chunk)
    if p.count != lines:
        raise RuntimeError(f"LineReceiver parsed {p.count} of {lines} lines")


def timed(run, count):
    t0 = time.perf_counter()
    run()
    return count / (time.perf_counter() - t0)


def main(argv):
    which, count, rounds = argv[0], int(argv[1]), int(argv[2])
    if which == "deferred":
        run = lambda: deferred_chains(count)  # noqa: E731
    elif which == "lines":
        chunks = line_chunks(count)
        run = lambda: parse_lines(chunks, count)  # noqa: E731
    else:
        raise SystemExit(f"Unknown microbenchmark: {which}")
    timed(run, count)  # warm-up, as in micro.ts
    rates = [timed(run, count) for _ in range(rounds)]
    result = {"twisted": {"perRound": rates, "median": statistics.median(rates)}}
    out = {"benchmark": which, "count": count, "rounds": rounds, "result": result, "sink": sink}
    print(json.dumps(out))


main(sys.argv[1:])
