#!/usr/bin/env python3
"""The parts of the remote benchmark that wrk cannot do (bench/remote/run.sh
runs each as a step; stdlib only).

    bench.py STEP --nginx URL --remote URL --results FILE [options]

STEP is one of:

  ingest      POST --data (NDJSON) to /api/creators/ingest, then wait until
              the fake holds --expect vectors (the module's own background
              sync after an ingest); records the ingest and the sync.
  latency     sequential requests on one kept-alive connection: GET /ok,
              then --requests uncached searches and as many uncached
              matches (a unique word in each), each followed by a direct
              replay of the calls it made (from the fake's /_control/log,
              the same bodies, headers and keys) on one kept-alive
              connection to the fake, so that each request has its own
              "fake's time" to subtract; then --dense-requests of each
              with the fake's dense vectors on (--dense-file), and
              --nagle-requests searches with Nagle on the fake's replies
              (--nagle-file); the workers' CPU (--nginx-pid, the master).
  keepalive   reset the fake's counters, --requests uncached searches on
              --clients client connections (1 = sequential), read the
              fake's "connections".
  calls       reset, --briefs distinct briefs each --repeat times,
              shuffled, sequential: the fake's /v1/embeddings count and
              embedding_inputs, /query count, X-Cache.
  cached-check  the brief of the cached wrk row: a MISS, then a HIT;
              writes its body to --data for bench/remote/cached-match.lua.
  remote-stats  print the fake's requests_total (run.sh brackets the
              cached wrk row with it: a cached match calls nothing).
  wrk-record  one wrk row from its output (--data, report.lua's BENCH
              line), --calls-before: the remote calls during it.
  refresh     reset, POST /api/creators/embeddings/refresh
              {"forceRefresh":true}, poll the job until it is no longer
              running (dense vectors with --dense-file); wall time, the
              fake's counts and time (--fake-log, its stderr), the
              workers' CPU.
  report      the markdown tables from the results file.

Every step fails (exit 1, a message on stderr) on a reply it does not
expect: a status other than 200 (202 for the refresh), a match served from
the cache where none should be, a remote call count other than the one the
step is built on.  Times are time.perf_counter() around one request: send
to the last byte of the reply.
"""

import argparse
import json
import math
import os
import random
import re
import socket
import statistics
import struct
import sys
import threading
import time
from urllib.parse import urlsplit


def die(msg):
    sys.stderr.write("bench-remote: " + msg + "\n")
    sys.exit(1)


def say(msg):
    sys.stderr.write("bench-remote: " + msg + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------ HTTP client

class Conn:
    """One kept-alive HTTP/1.1 connection, raw sockets: as little client
    time as Python allows, so the same client measures nginx and the fake
    alike.

    TCP_QUICKACK is set again after every recv, so that this client never
    delays an ACK: t/remote/fake_remote.py writes a reply's headers and
    body in two send()s with Nagle on, where a delayed ACK costs 40 ms
    (see fake_timed.py, which turns Nagle off on the fake's replies)."""

    def __init__(self, url):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.authority = "%s:%d" % (self.host, self.port)
        self.sock = None
        self.opened = 0

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), 10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(120)
        self.quickack()
        self.buf = b""
        self.opened += 1

    def quickack(self):
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def recv(self, n):
        chunk = self.sock.recv(n)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.quickack()
        return chunk

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def _read_until(self, sep):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            self.buf += self.recv(262144)

    def _read_n(self, n):
        while len(self.buf) < n:
            self.buf += self.recv(max(262144, n - len(self.buf)))
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def raw(self, method, path, headers, body):
        """headers: list of (name, value) sent as they are (with Host),
        body: bytes or None.  Returns (status, headers dict, body, secs)."""
        lines = ["%s %s HTTP/1.1" % (method, path)]
        for k, v in headers:
            lines.append("%s: %s" % (k, v))
        if body is not None and not any(k.lower() == "content-length"
                                        for k, _ in headers):
            lines.append("Content-Length: %d" % len(body))
        req = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        if self.sock is None:
            self.connect()
        t0 = time.perf_counter()
        self.sock.sendall(req)
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status_line, *hl = head.split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for h in hl:
            k, _, v = h.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            data = self._read_n(int(hdrs["content-length"]))
        elif "chunked" in hdrs.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                parts.append(self._read_n(size))
                self._read_until(b"\r\n")
            data = b"".join(parts)
        else:
            data = b""
        secs = time.perf_counter() - t0
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, hdrs, data, secs

    def request(self, method, path, obj=None, ctype="application/json",
                body=None):
        headers = [("Host", self.authority)]
        if obj is not None:
            body = json.dumps(obj, separators=(",", ":")).encode()
        if body is not None:
            headers.append(("Content-Type", ctype))
        return self.raw(method, path, headers, body)

    def json(self, method, path, obj=None, want=200):
        st, h, data, secs = self.request(method, path, obj)
        if want is not None and st != want:
            die("%s %s: HTTP %d (want %d): %s" % (
                method, path, st, want, data[:400].decode("utf-8", "replace")))
        return json.loads(data) if data else None


# ------------------------------------------------------------ results

def load(path):
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return {}


def save(path, res):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def pct(values, p):
    """The p-th percentile (nearest rank) of values, None if empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def ms_stats(secs):
    ms = [x * 1000 for x in secs]
    return {"n": len(ms), "p50": pct(ms, 50), "p90": pct(ms, 90),
            "p99": pct(ms, 99), "max": max(ms) if ms else None,
            "mean": statistics.fmean(ms) if ms else None}


# ------------------------------------------------------------ the fake

class Fake:
    def __init__(self, url):
        self.c = Conn(url)

    def stats(self):
        return self.c.json("GET", "/_control/stats")

    def reset(self):
        self.c.json("POST", "/_control/reset", {})

    def log(self, limit=100, path=None):
        q = "/_control/log?limit=%d" % limit
        if path:
            q += "&path=" + path
        return self.c.json("GET", q)

    def vectors(self, ns):
        return self.stats()["vectors"].get(ns, 0)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def shortest_f32(x):
    """The module's float format (lib/remote_util.c mt_remote_jw_float):
    0 as "0", else the shortest %.Ng that reads back to the same float."""
    if x == 0.0:
        return "0"
    for prec in range(1, 10):
        s = "%.*g" % (prec, x)
        if f32(float(s)) == x:
            return s
    return "%.9g" % x


def reencode(v):
    """JSON as the module writes it: compact, floats in lists shortest."""
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + reencode(x)
                              for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(reencode(x) for x in v) + "]"
    if isinstance(v, float):
        return shortest_f32(v)
    return json.dumps(v, ensure_ascii=False)


class Replayer:
    """Sends a call the module made (an entry of /_control/log) straight to
    the fake: the same method, target, header names and values (the two
    redacted keys put back), the same body bytes (fake_timed.py's
    /_control/bench-raw; its length checked against body_length)."""

    def __init__(self, url, okey, pkey):
        self.c = Conn(url)
        self.ctl = Conn(url)
        self.okey, self.pkey = okey, pkey
        self.length_mismatch = 0
        self.reencoded = 0

    def replay(self, e):
        # the bytes the module sent (fake_timed.py keeps the last 64), or
        # the parsed body written again as the module used to write it
        st, _, body, _ = self.ctl.request(
            "GET", "/_control/bench-raw?id=%s" % e["id"])
        if st != 200:
            body = None
            if e["body"] is not None:
                body = reencode(e["body"]).encode()
                self.reencoded += 1
            elif e["body_length"]:
                die("cannot replay %s: its body is not JSON" % e["path"])
        if len(body or b"") != e["body_length"]:
            self.length_mismatch += 1
        headers = []
        for name in e["header_names"]:
            low = name.lower()
            if low == "authorization":
                v = "Bearer " + self.okey
            elif low == "api-key":
                v = self.pkey
            elif low == "content-length":
                v = str(len(body or b""))
            elif low == "host":
                v = self.c.authority
            else:
                v = e["headers"][low]
            headers.append((name, v))
        # the fake logs this call too: the next step tells it apart
        headers.append(("X-Bench-Replay", "1"))
        st, _, data, secs = self.c.raw(e["method"], e["target"], headers, body)
        if st != 200:
            die("replay of %s: HTTP %d: %s" % (e["path"], st, data[:300]))
        return secs


def req_num(e):
    return int(e["id"].split("_")[1])


# ------------------------------------------------------------ bodies

TOPICS = [
    "Shrinkflation: paying the same price for smaller products",
    "How to read a nutrition label in 30 seconds",
    "Renters' rights everyone should know",
    "Spotting a phishing text before you tap",
    "Budget travel by train across a region",
    "Repair before you replace: small home fixes",
    "Meal prep for a week on a student budget",
    "Negotiating your first salary offer",
    "What an index fund actually is",
    "Using AI tools without giving away your data",
]
NICHES = ["Personal Finance", "Consumer Rights", "Budget Travel", "Cooking",
          "Career Development", "DIY", "Investing", "Tech Education",
          "Public Health", "Lifestyle"]
VALUES = ["Honesty", "Transparency", "Clarity", "Empowerment", "Care",
          "Practicality", "Curiosity", "Accessibility"]
PHRASES = ["budget meal prep ideas", "how to start investing small amounts",
           "renter rights and deposits", "fixing things at home on a budget",
           "train travel on a budget", "reading nutrition labels",
           "spotting scams and phishing", "salary negotiation tips"]


def token(tag, i):
    # a word no creator has and no other request has: the text, hence the
    # embedding, hence the query vector and the match key, are new
    return "%s%05dq%s" % (tag, i, "".join("zxkvjw"[int(d) % 6] for d in
                                          "%05d" % i))


def search_body(i, tag):
    return {"query": "%s %s" % (PHRASES[i % len(PHRASES)], token(tag, i)),
            "topK": 10}


def match_body(i, tag):
    return {"assignment": {
        "topic": "%s (%s)" % (TOPICS[i % len(TOPICS)], token(tag, i)),
        "keyTakeaway": "Help people see how it shows up in everyday life, "
                       "with one concrete example they can check today.",
        "additionalContext": "Explain it with personal examples. Keep it "
                             "honest and authentic. Video 90 seconds or "
                             "less.",
        "targetAudience": {"demographic": "Everyday U.S. consumers",
                           "locale": "US"},
        "creatorValues": [VALUES[i % len(VALUES)],
                          VALUES[(i + 3) % len(VALUES)]],
        "creatorNiches": [NICHES[i % len(NICHES)],
                          NICHES[(i + 4) % len(NICHES)]],
        "toneStyle": "Conversational, relatable, lightly educational"},
        "topK": 3}


def post(conn, path, obj):
    st, h, data, secs = conn.request("POST", path, obj)
    if st != 200:
        die("POST %s: HTTP %d: %s" % (path, st,
                                     data[:400].decode("utf-8", "replace")))
    return h, data, secs


# ------------------------------------------------------------ steps

def step_ingest(a, res):
    fake = Fake(a.remote)
    fake.reset()
    n0 = fake.vectors(a.namespace)
    with open(a.data, "rb") as fh:
        body = fh.read()
    c = Conn(a.nginx)
    say("ingest: %d bytes of NDJSON" % len(body))
    st, _, data, secs = c.request("POST", "/api/creators/ingest", body=body,
                                  ctype="application/x-ndjson")
    if st != 200:
        die("ingest: HTTP %d: %s" % (st, data[:400]))
    r = json.loads(data)
    if r.get("failedCount") or r.get("count") != a.expect:
        die("ingest: %s" % data[:400])
    t_done = time.perf_counter()
    say("ingest: %d creators in %.2f s (%d inserted, %d unchanged); "
        "waiting for the background sync (%d vectors)" % (
            r["count"], secs, r.get("inserted", -1), r.get("unchanged", -1),
            a.expect))
    deadline = time.time() + a.timeout
    while True:
        n = fake.vectors(a.namespace)
        if n == a.expect:
            break
        if time.time() > deadline:
            die("the sync after the ingest: %d of %d vectors after %d s" % (
                n, a.expect, a.timeout))
        time.sleep(0.1)
    sync = time.perf_counter() - t_done
    st = fake.stats()
    res.setdefault("ingest", {})[a.label] = {
        "count": r["count"], "inserted": r.get("inserted"),
        "unchanged": r.get("unchanged"), "bytes": len(body),
        "secs": secs, "sync_secs": sync, "vectors_before": n0,
        "requests": st["requests"], "embedding_inputs":
        st["embedding_inputs"]}
    say("sync: %d vectors %.1f s after the ingest's reply" % (a.expect, sync))


def worker_pids(master):
    """nginx's workers: the children of the master."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == master:
                        out.append(int(d))
            except OSError:
                pass
    return out


def worker_cpu(pids):
    """CPU seconds (user + system, all threads) of these processes."""
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])    # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def latency_run(a, c, fake, rep, kind, path, mk, n, warmup, tag,
                replay=True):
    """n sequential uncached requests (after warmup more), each followed by
    the replay of its two calls; per request: end to end, the replays,
    the fake's handler_ms for the module's own calls."""
    fake.reset()
    last = 0
    e2e, emb, qry, over, inf, over_inf = [], [], [], [], [], []
    calls_seen = {}
    log = []
    cpu = 0.0
    pids = worker_pids(a.nginx_pid) if a.nginx_pid else []
    for i in range(warmup + n):
        c0 = worker_cpu(pids) if pids and i >= warmup else None
        h, data, secs = post(c, path, mk(i, tag))
        if c0 is not None:
            cpu += worker_cpu(pids) - c0
        if h.get("x-cache") != "MISS":
            die("%s %d: X-Cache %s, want MISS" % (kind, i, h.get("x-cache")))
        if kind == "match" and json.loads(data)["data"].get("isFallback"):
            die("match %d: isFallback true (a remote call failed?)" % i)
        entries = fake.log(limit=20)
        log = [e for e in entries if req_num(e) > last
               and "x-bench-replay" not in e["headers"]]
        if entries:
            last = max(req_num(e) for e in entries)
        paths = [e["path"] for e in log]
        key = " + ".join(paths)
        calls_seen[key] = calls_seen.get(key, 0) + 1
        if paths != ["/v1/embeddings", "/query"]:
            die("%s %d: the module called %s, want /v1/embeddings then "
                "/query" % (kind, i, paths or "nothing"))
        if replay:
            t_e = rep.replay(log[0])
            t_q = rep.replay(log[1])
        if i < warmup:
            continue
        e2e.append(secs)
        if replay:
            emb.append(t_e)
            qry.append(t_q)
            over.append(secs - t_e - t_q)
        if all("handler_ms" in e for e in log):
            t = sum(e["handler_ms"] for e in log) / 1000
            inf.append(t)
            over_inf.append(secs - t)
    o = {"e2e": ms_stats(e2e), "embeddings": ms_stats(emb),
         "query": ms_stats(qry), "overhead": ms_stats(over),
         "in_fake": ms_stats(inf), "overhead_in_fake": ms_stats(over_inf),
         "worker_cpu_ms": cpu * 1000 / n if pids else None,
         "workers": pids,
         "calls": calls_seen, "topK": log[1]["body"].get("topK"),
         "query_body_bytes": log[1]["body_length"],
         "embed_body_bytes": log[0]["body_length"],
         "raw_ms": {"e2e": [round(x * 1000, 3) for x in e2e],
                    "embeddings": [round(x * 1000, 3) for x in emb],
                    "query": [round(x * 1000, 3) for x in qry],
                    "in_fake": [round(x * 1000, 3) for x in inf]}}
    if replay:
        o["overhead_p50_of_parts"] = (o["e2e"]["p50"] -
                                      o["embeddings"]["p50"] -
                                      o["query"]["p50"])
    return o


def step_latency(a, res):
    fake = Fake(a.remote)
    rep = Replayer(a.remote, a.okey, a.pkey)
    c = Conn(a.nginx)
    out = {}

    # nginx's own return 200, the same client: the floor of a round trip
    ok = []
    pids = worker_pids(a.nginx_pid) if a.nginx_pid else []
    for i in range(a.requests + 20):
        if i == 20 and pids:
            c0 = worker_cpu(pids)
        st, _, _, secs = c.request("GET", "/ok")
        if st != 200:
            die("GET /ok: HTTP %d" % st)
        ok.append(secs)
    out["ok"] = ms_stats(ok[20:])
    if pids:
        out["ok"]["worker_cpu_ms"] = (worker_cpu(pids) - c0) * 1000 / \
            a.requests

    def run(key, kind, n, warmup, tag, flag=None, replay=True):
        path, mk = {"search": ("/api/creators/search", search_body),
                    "match": ("/api/matches", match_body)}[kind]
        if flag:
            open(flag, "w").close()
        try:
            o = latency_run(a, c, fake, rep, kind, path, mk, n, warmup, tag,
                            replay)
        finally:
            if flag:
                os.unlink(flag)
        out[key] = o
        say("%s: e2e p50 %.2f ms; the fake: replayed %s + %s ms, own time "
            "%s ms; overhead p50 %s ms (upper bound %s); nginx CPU %s ms "
            "per request" % (
                key, o["e2e"]["p50"], f3(o["embeddings"]["p50"]),
                f3(o["query"]["p50"]), f3(o["in_fake"]["p50"]),
                f3(o["overhead"]["p50"]), f3(o["overhead_in_fake"]["p50"]),
                f3(o["worker_cpu_ms"])))

    run("search", "search", a.requests, a.warmup, a.tag + "s")
    run("match", "match", a.requests, a.warmup, a.tag + "m")
    # OpenAI-like vectors, every component non-zero (fake_timed.py)
    if a.dense_file and a.dense_requests:
        run("search_dense", "search", a.dense_requests, a.warmup,
            a.tag + "ds", a.dense_file)
        run("match_dense", "match", a.dense_requests, a.warmup,
            a.tag + "dm", a.dense_file)
    # the fake as t/remote/ has it: Nagle on its replies (fake_timed.py)
    if a.nagle_file and a.nagle_requests:
        run("search_nagle", "search", a.nagle_requests, 5, a.tag + "n",
            a.nagle_file, replay=False)
    out["replay_length_mismatch"] = rep.length_mismatch
    out["replay_reencoded"] = rep.reencoded
    out["requests"] = a.requests
    out["warmup"] = a.warmup
    res["latency"] = out


def step_keepalive(a, res):
    fake = Fake(a.remote)
    fake.reset()
    n = a.requests
    k = a.clients
    errors = []
    per = [n // k + (1 if j < n % k else 0) for j in range(k)]
    opened = [0] * k
    lat = []
    lock = threading.Lock()

    def worker(j):
        c = Conn(a.nginx)
        base = sum(per[:j])
        try:
            for i in range(base, base + per[j]):
                st, h, data, secs = c.request(
                    "POST", "/api/creators/search",
                    search_body(i, "%sk%d" % (a.tag, k)))
                if st != 200 or h.get("x-cache") != "MISS":
                    errors.append("search %d: HTTP %d X-Cache %s: %s" % (
                        i, st, h.get("x-cache"), data[:200]))
                    return
                with lock:
                    lat.append(secs)
        except Exception as e:     # noqa: BLE001 - reported below
            errors.append("client %d: %r" % (j, e))
        opened[j] = c.opened
        c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(j,)) for j in range(k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        die("; ".join(errors[:3]))
    st = fake.stats()
    calls = st["requests"].get("/v1/embeddings", 0) + \
        st["requests"].get("/query", 0)
    if st["requests"].get("/v1/embeddings") != n or \
            st["requests"].get("/query") != n:
        die("keepalive: %d searches made %s" % (n, st["requests"]))
    r = {"requests": n, "clients": k, "client_connections": sum(opened),
         "connections": st["connections"], "remote_calls": calls,
         "per_1000": st["connections"] * 1000.0 / n,
         "statuses": st["statuses"], "wall": wall,
         "e2e": ms_stats(lat)}
    res.setdefault("keepalive", {})[str(k)] = r
    say("keepalive: %d searches on %d client connection(s): %d upstream "
        "connections for %d remote calls (%.1f s)" % (
            n, k, st["connections"], calls, wall))


def step_calls(a, res):
    fake = Fake(a.remote)
    fake.reset()
    c = Conn(a.nginx)
    order = [i for i in range(a.briefs) for _ in range(a.repeat)]
    random.Random(a.seed).shuffle(order)
    tally = {}
    for i in order:
        h, data, _ = post(c, "/api/matches", match_body(i, a.tag + "c"))
        xc = h.get("x-cache", "-")
        tally[xc] = tally.get(xc, 0) + 1
        if json.loads(data)["data"].get("isFallback"):
            die("calls: a match fell back to structured scoring")
    st = fake.stats()
    r = {"matches": len(order), "briefs": a.briefs, "repeat": a.repeat,
         "embeddings_calls": st["requests"].get("/v1/embeddings", 0),
         "embedding_inputs": st["embedding_inputs"],
         "query_calls": st["requests"].get("/query", 0),
         "other_calls": {p: v for p, v in st["requests"].items()
                         if p not in ("/v1/embeddings", "/query")},
         "x_cache": tally, "connections": st["connections"]}
    res["calls"] = r
    say("calls: %d matches of %d briefs: %d embeddings calls (%d inputs), "
        "%d queries, X-Cache %s" % (
            len(order), a.briefs, r["embeddings_calls"],
            r["embedding_inputs"], r["query_calls"], tally))


def cached_brief():
    b = match_body(0, "cachedwrk")
    return b


def step_cached_check(a, res):
    c = Conn(a.nginx)
    b = cached_brief()
    h1, _, _ = post(c, "/api/matches", b)
    h2, _, _ = post(c, "/api/matches", b)
    if h2.get("x-cache") != "HIT":
        die("the cached row's brief twice: X-Cache %s then %s, want a HIT "
            "the second time" % (h1.get("x-cache"), h2.get("x-cache")))
    # the body for wrk (bench/remote/cached-match.lua reads it)
    with open(a.data, "w") as fh:
        fh.write(json.dumps(b, separators=(",", ":")))
    say("cached row: X-Cache %s then %s" % (h1.get("x-cache"),
                                            h2.get("x-cache")))


def step_remote_stats(a, res):
    print(Fake(a.remote).stats()["requests_total"])


def step_wrk_record(a, res):
    """One wrk row: the BENCH line of report.lua in --data (wrk's output),
    with the fake's requests_total before and after (--label KEY)."""
    line = None
    with open(a.data) as fh:
        for ln in fh:
            if ln.startswith("BENCH "):
                line = ln
    if line is None:
        die("no BENCH line in %s" % a.data)
    kv = dict(x.split("=", 1) for x in line.split()[1:])
    r = {"rps": float(kv["rps"]), "p50": float(kv["p50_ms"]),
         "p99": float(kv["p99_ms"]), "requests": int(kv["requests"]),
         "errors": int(kv["errors"]) + int(kv["non2xx"])}
    if a.calls_before is not None:
        r["remote_calls"] = Fake(a.remote).stats()["requests_total"] - \
            a.calls_before
    th = res.setdefault("throughput", {})
    th[a.label] = r
    th["args"] = a.wrk_args
    if r["errors"]:
        die("wrk %s: %d errors (socket errors or statuses >= 400)" % (
            a.label, r["errors"]))
    if r.get("remote_calls"):
        die("wrk %s: %d remote calls during a cached row" % (
            a.label, r["remote_calls"]))
    say("wrk %s: %.0f rps, p50 %.2f ms, p99 %.2f ms" % (
        a.label, r["rps"], r["p50"], r["p99"]))


def parse_fake_log(path, start_line):
    """Lines of the fake's stderr from start_line: (method, path, ms)."""
    out = []
    with open(path, errors="replace") as fh:
        for n, line in enumerate(fh):
            if n < start_line:
                continue
            m = re.match(r"^(\S+) (/\S*) (\S+) ([0-9.]+)$", line.strip())
            if m:
                out.append((m.group(1), m.group(2), m.group(3),
                            float(m.group(4))))
    return out


def refresh_job(a, c):
    """POST a forced refresh, poll its job until it is no longer running:
    (seconds from the POST to the poll that saw it end, the job)."""
    t0 = time.perf_counter()
    deadline = time.time() + a.timeout
    while True:
        st, _, data, _ = c.request("POST", "/api/creators/embeddings/refresh",
                                   {"forceRefresh": True})
        if st == 202:
            break
        if st == 409 and time.time() < deadline:
            time.sleep(0.2)         # the sync after the ingest still runs
            continue
        die("refresh: HTTP %d: %s" % (st, data[:400]))
    jid = json.loads(data)["job"]["id"]
    while True:
        j = c.json("GET", "/api/creators/embeddings/refresh/%s" % jid)["job"]
        if j["status"] != "running":
            break
        if time.time() > deadline:
            die("refresh job %s still running after %d s" % (jid, a.timeout))
        time.sleep(0.05)
    return time.perf_counter() - t0, j


def step_refresh(a, res):
    fake = Fake(a.remote)
    c = Conn(a.nginx)
    n = fake.vectors(a.namespace)
    if n != a.expect:
        die("refresh: the fake holds %d vectors, want %d" % (n, a.expect))
    fake.reset()
    with open(a.fake_log) as fh:
        log_start = sum(1 for _ in fh)
    pids = worker_pids(a.nginx_pid) if a.nginx_pid else []
    cpu0 = worker_cpu(pids) if pids else None
    if a.dense_file:
        open(a.dense_file, "w").close()
    try:
        wall, j = refresh_job(a, c)
    finally:
        if a.dense_file:
            os.unlink(a.dense_file)
    summary = j.get("summary") or {}
    processed = summary.get("processed", j.get("processed"))
    if j["status"] != "completed" or processed != a.expect:
        die("refresh job: %s" % json.dumps(j)[:600])
    st = fake.stats()
    calls = [x for x in parse_fake_log(a.fake_log, log_start)
             if not x[1].startswith("/_control/")]
    busy = {}
    for _, p, _, ms in calls:
        busy[p] = busy.get(p, 0.0) + ms
    cpu = worker_cpu(pids) - cpu0 if pids else None
    r = {"creators": a.expect, "wall": wall, "rate": a.expect / wall,
         "status": j["status"], "processed": processed,
         "errors": summary.get("errors", j.get("errors")),
         "job_secs": job_secs(j),
         "embeddings_calls": st["requests"].get("/v1/embeddings", 0),
         "embedding_inputs": st["embedding_inputs"],
         "upsert_calls": st["requests"].get("/vectors/upsert", 0),
         "other_calls": {p: v for p, v in st["requests"].items()
                         if p not in ("/v1/embeddings", "/vectors/upsert")},
         "statuses": st["statuses"], "connections": st["connections"],
         "fake_busy_secs": {p: v / 1000 for p, v in busy.items()},
         "worker_cpu_secs": cpu, "dense": bool(a.dense_file),
         "vectors": fake.vectors(a.namespace)}
    res.setdefault("refresh", {})[a.label] = r
    say("refresh (%s): %d creators in %.2f s = %.0f creators/s; %d "
        "embeddings calls (%d inputs), %d upserts, %d connections; fake busy "
        "%.2f s; nginx CPU %s s" % (
            a.label, a.expect, wall, r["rate"], r["embeddings_calls"],
            r["embedding_inputs"], r["upsert_calls"], r["connections"],
            sum(r["fake_busy_secs"].values()), f2(cpu)))


def job_secs(j):
    import datetime
    try:
        t = lambda x: datetime.datetime.strptime(x, "%Y-%m-%dT%H:%M:%S.%fZ")
        return (t(j["finishedAt"]) - t(j["startedAt"])).total_seconds()
    except (KeyError, ValueError, TypeError):
        return None


# ------------------------------------------------------------ report

def f2(x):
    return "-" if x is None else "%.2f" % x


def f3(x):
    return "-" if x is None else "%.3f" % x


def step_report(a, res):
    L = []
    w = L.append
    lat = res["latency"]
    w("Latency, sequential: one client connection, one request at a time, "
      "each uncached (a word of its own), after %d warm-up requests; ms. "
      "\"The fake, replayed\": its two calls (/v1/embeddings, /query) sent "
      "again straight to it, the same bodies; \"own time\": its handler's "
      "time in the module's calls.  **Overhead** = end to end − replayed, "
      "per request; upper bound = end to end − own time.  CPU: both "
      "workers' user + system time per request (mean)." % lat["warmup"])
    w("")
    w("| request | n | end to end p50 / p99 | the fake, replayed p50 "
      "(embeddings + query) | the fake's own time p50 | **module overhead "
      "p50** / p90 / p99 | upper bound p50 | nginx CPU / request |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    o = lat["ok"]
    w("| GET /ok (nginx `return 200`) | %d | %s / %s | - | - | - | - | %s |"
      % (o["n"], f3(o["p50"]), f3(o["p99"]), f3(o.get("worker_cpu_ms"))))
    rows = (("search", "POST /api/creators/search, topK 10"),
            ("match", "POST /api/matches, topK 3 (50 candidates)"),
            ("search_dense", "search, dense vectors (like OpenAI's)"),
            ("match_dense", "match, dense vectors (like OpenAI's)"),
            ("search_nagle", "search, Nagle on the fake's replies "
             "(t/remote/ as it is)"))
    for key, text in rows:
        k = lat.get(key)
        if not k:
            continue
        e, ov = k["e2e"], k["overhead"]
        if k["embeddings"]["n"]:
            rp = "%s + %s" % (f3(k["embeddings"]["p50"]),
                              f3(k["query"]["p50"]))
            ovs = "**%s** / %s / %s" % (f3(ov["p50"]), f3(ov["p90"]),
                                         f3(ov["p99"]))
        else:
            rp = ovs = "-"
        w("| %s | %d | %s / %s | %s | %s | %s | %s | %s |" % (
            text, e["n"], f3(e["p50"]), f3(e["p99"]), rp,
            f3(k["in_fake"]["p50"]), ovs, f3(k["overhead_in_fake"]["p50"]),
            f3(k.get("worker_cpu_ms"))))
    w("")
    dense = ""
    if "search_dense" in lat:
        dense = "; dense: %d B and %d B" % (
            lat["search_dense"]["query_body_bytes"],
            lat["match_dense"]["query_body_bytes"])
    mism = ""
    if lat.get("replay_length_mismatch"):
        mism = " except **%d with another length** (re-encoded: %d)" % (
            lat["replay_length_mismatch"], lat.get("replay_reencoded", 0))
    w("Bodies the module sent: search /query %d B, match /query %d B%s. "
      "Replayed byte for byte%s." % (
          lat["search"]["query_body_bytes"],
          lat["match"]["query_body_bytes"], dense, mism))
    w("")
    th = res.get("throughput")
    if th:
        w("Throughput, wrk `%s` (one nginx, 2 workers; rps ratio against the "
          "mean of the two `return 200` rows):" % th["args"])
        w("")
        w("| scenario | rps | p50 ms | p99 ms | ratio | errors | remote "
          "calls |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        ref = (th["ok1"]["rps"] + th["ok2"]["rps"]) / 2
        for key, text in (("ok1", "`return 200` (GET /ok)"),
                          ("cached", "POST /api/matches, one brief, cached"),
                          ("ok2", "`return 200` again")):
            r = th[key]
            w("| %s | %.0f | %.2f | %.2f | %.2f | %d | %s |" % (
                text, r["rps"], r["p50"], r["p99"], r["rps"] / ref,
                r["errors"], r.get("remote_calls", "-")))
        w("")
    w("Remote calls and connections:")
    w("")
    w("| measurement | result |")
    w("| --- | --- |")
    for k in sorted(res.get("keepalive", {}), key=int):
        r = res["keepalive"][k]
        w("| upstream connections opened, %d uncached searches on %s client "
          "connection%s (%d remote calls) | **%d** = %.1f per 1,000 requests |"
          % (r["requests"], r["clients"], "" if r["clients"] == 1 else "s",
             r["remote_calls"], r["connections"], r["per_1000"]) +
          (" **(more than keepalive should open: 2 workers x 2 upstreams x "
           "%d clients)**" % r["clients"]
           if r["connections"] > 4 * r["clients"] else ""))
    c = res.get("calls")
    if c:
        w("| %d matches of %d distinct briefs (each %d times, shuffled): "
          "OpenAI calls | **%d** /v1/embeddings calls, %d inputs; %d /query; "
          "X-Cache %s |" % (
              c["matches"], c["briefs"], c["repeat"], c["embeddings_calls"],
              c["embedding_inputs"], c["query_calls"],
              ", ".join("%s %d" % kv for kv in sorted(c["x_cache"].items()))))
    ing = res.get("ingest", {})
    for label in sorted(ing):
        r = ing[label]
        w("| ingest of %d creators (%d new) and the sync after it | ingest "
          "%.2f s; sync to %d vectors %.1f s later (%s) |" % (
              r["count"], r["inserted"], r["secs"], r["count"], r["sync_secs"],
              ", ".join("%s %d" % kv for kv in sorted(r["requests"].items()))))
    for label in sorted(res.get("refresh", {})):
        r = res["refresh"][label]
        busy = r["fake_busy_secs"]
        w("| forced refresh of %d creators%s (POST to `completed`) | **%.1f s "
          "= %.0f creators/s**; %d /v1/embeddings calls (%d inputs), %d "
          "/vectors/upsert calls, %d connections; the fake busy %.1f s of it "
          "(embeddings %.1f s, upsert %.1f s); nginx workers' CPU %s s "
          "(%s ms per creator) |" % (
              r["creators"], ", dense vectors (like OpenAI's)" if r["dense"]
              else "", r["wall"], r["rate"], r["embeddings_calls"],
              r["embedding_inputs"], r["upsert_calls"], r["connections"],
              sum(busy.values()), busy.get("/v1/embeddings", 0),
              busy.get("/vectors/upsert", 0), f2(r["worker_cpu_secs"]),
              f2(r["worker_cpu_secs"] * 1000 / r["creators"])
              if r["worker_cpu_secs"] is not None else "-"))
    w("")
    verdict = []
    for kind, text in (("search", "search"), ("match", "match"),
                       ("search_dense", "search with dense vectors"),
                       ("match_dense", "match with dense vectors")):
        if kind not in lat:
            continue
        v = lat[kind]["overhead"]["p50"]
        verdict.append("%s %s ms (%s)" % (text, f3(v),
                                          "met" if v < 1 else "**MISSED**"))
    w("Goal (issue 10): module overhead under 1 ms at p50: %s." %
      "; ".join(verdict))
    print("\n".join(L))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("step")
    ap.add_argument("--nginx")
    ap.add_argument("--remote")
    ap.add_argument("--results", required=True)
    ap.add_argument("--okey", default=os.environ.get("BENCH_OPENAI_KEY"))
    ap.add_argument("--pkey", default=os.environ.get("BENCH_PINECONE_KEY"))
    ap.add_argument("--namespace", default="creators")
    ap.add_argument("--data")
    ap.add_argument("--label", default="")
    ap.add_argument("--expect", type=int)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--briefs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tag", default="w")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--fake-log")
    ap.add_argument("--calls-before", type=int)
    ap.add_argument("--nagle-file")
    ap.add_argument("--nginx-pid", type=int)
    ap.add_argument("--nagle-requests", type=int, default=0)
    ap.add_argument("--dense-file")
    ap.add_argument("--dense-requests", type=int, default=0)
    ap.add_argument("--wrk-args", default="")
    a = ap.parse_args()
    steps = {"ingest": step_ingest, "latency": step_latency,
             "keepalive": step_keepalive, "calls": step_calls,
             "cached-check": step_cached_check,
             "remote-stats": step_remote_stats, "refresh": step_refresh,
             "wrk-record": step_wrk_record,
             "report": step_report}
    if a.step not in steps:
        die("unknown step %s" % a.step)
    res = load(a.results)
    steps[a.step](a, res)
    if a.step not in ("report", "remote-stats", "cached-check"):
        save(a.results, res)


if __name__ == "__main__":
    main()
