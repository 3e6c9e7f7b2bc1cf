#!/usr/bin/env python3
"""t/remote/fake_remote.py, unchanged, with four additions for the benchmark
(bench/remote/run.sh starts it instead; same arguments, same "ready <port>"):

1. TCP_NODELAY on its replies.  fake_remote.py (Python's http.server)
   writes a reply's headers and its body in two send()s on a socket with
   Nagle on: the body waits until the headers are acknowledged.  On a
   kept-alive connection Linux acknowledges late (delayed ACK, about
   40 ms), so every call nginx makes on its upstream keepalive
   connections then takes 40 ms more than the fake's own time (seen with
   strace: nginx's recvfrom() gets the 155 bytes of headers, the next
   epoll_wait() waits 40 ms for the body).  That is the test server, not
   the module, and real remotes do not behave so (they set TCP_NODELAY or
   write a reply at once), so it is turned off, except while the file
   named by $BENCH_FAKE_NAGLE_FILE exists (checked at every request: the
   benchmark measures a few requests that way too, to show it).

2. "handler_ms" in each /_control/log entry: the fake's own time for the
   call, from the start of its handler (the request line and headers are
   already parsed) to the start of the reply's send.  It is set before
   the reply goes out, so a client that has the reply finds it in the log.

3. Dense embeddings, while the file named by $BENCH_FAKE_DENSE_FILE
   exists (checked at every embedding).  The fake's bag of words gives a
   vector with a few dozen non-zero components out of 1536; OpenAI's have
   all 1536 non-zero.  The module writes each non-zero component of a
   query or upsert vector as the shortest decimal that reads back (up to
   nine snprintf() and strtof() each) and a zero as "0", so the fake's
   vectors make a /query body of ~3 KB that costs the module ~0.05 ms,
   where OpenAI's make ~19 KB and ~1.2 ms or more.  Dense mode adds the
   same small fixed noise vector (N(0, 0.002) per component, seeded by
   the dimension) to every embedding and normalises again: every component
   is non-zero, the ranking hardly moves.

4. GET /_control/bench-raw?id=req_N: the raw body of one of the last 64
   API requests, as it came (the log has it parsed), so that the
   benchmark can send the module's call again byte for byte.
"""

import collections
import math
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "t", "remote"))
import fake_remote  # noqa: E402

NAGLE_FILE = os.environ.get("BENCH_FAKE_NAGLE_FILE") or None
DENSE_FILE = os.environ.get("BENCH_FAKE_DENSE_FILE") or None

_embed = fake_remote.embed
_noise = {}


def embed(text, dims):
    v = _embed(text, dims)
    if DENSE_FILE is None or not os.path.exists(DENSE_FILE):
        return v
    noise = _noise.get(dims)
    if noise is None:
        rnd = random.Random(dims)
        noise = _noise[dims] = [rnd.gauss(0.0, 0.002) for _ in range(dims)]
    v = [x + e for x, e in zip(v, noise)]
    norm = math.sqrt(sum(x * x for x in v))
    return [fake_remote.f32(x / norm) for x in v]


fake_remote.embed = embed

H = fake_remote.Handler
_dispatch, _record, _send = H.dispatch, H.record, H.send
_control = H.control
_raw = collections.OrderedDict()
_raw_lock = threading.Lock()


def dispatch(self):
    self._bench_t0 = time.monotonic()
    self._bench_entry = None
    nagle = NAGLE_FILE is not None and os.path.exists(NAGLE_FILE)
    try:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                   0 if nagle else 1)
    except OSError:
        pass
    _dispatch(self)


def record(self, path, query, raw, body):
    entry = _record(self, path, query, raw, body)
    self._bench_entry = entry
    with _raw_lock:
        _raw[entry["id"]] = bytes(raw)
        while len(_raw) > 64:
            _raw.popitem(last=False)
    return entry


def control(self, path, query, raw):
    if path == "/_control/bench-raw" and self.command == "GET":
        rid = query.get("id", [""])[-1]
        with _raw_lock:
            data = _raw.get(rid)
        if data is None:
            raise fake_remote.ApiError(404, "no raw body kept for %r" % rid)
        self.send(200, data, "application/octet-stream")
        return
    _control(self, path, query, raw)


def send(self, *args, **kw):
    entry = getattr(self, "_bench_entry", None)
    if entry is not None and "handler_ms" not in entry:
        entry["handler_ms"] = (time.monotonic() - self._bench_t0) * 1000
    return _send(self, *args, **kw)


H.dispatch, H.record, H.send, H.control = dispatch, record, send, control

if __name__ == "__main__":
    fake_remote.main()
