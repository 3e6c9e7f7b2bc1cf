#!/usr/bin/env python3
"""Hostile bodies against one nginx worker: time on its event loop, peak RSS.

    make bench-hostile
    N=20000 TIMEOUT=60 MODULE_SO=/tmp/base/build/ngx_http_matcher_module.so \\
        bench/hostile.py

Issue 8's rule: no single request holds a worker's event loop for more
than 50 ms at 100,000 creators, and no request makes a worker allocate
more than a documented bound.  This measures both from outside, for the
hostile bodies of the issue and a few ordinary requests for comparison.

Setup: one nginx (bench/hostile.conf.in: the embedded default, LMDB
store, local embedder dims=512, vector index, cache zone, 1m body buffer,
ingest limit 64m) with worker_processes 1 and a master, in its own prefix
bench/out/hostile/nginx on a free 127.0.0.1 port, loading a private copy
of MODULE_SO.  N creators from bench/gen-creators.py (cached in bench/out/
as bench/run.sh does) are ingested as NDJSON in chunks under the 64m
limit, then /api/health is polled until the index holds them all.

Each scenario sends one request (a raw socket, `Connection: close`, the
body sent and the reply read with select(), so a refused body is still
read back) and measures, while it runs:

- time on the loop: a probe thread sends `GET /probe` (`return 200`) back
  to back on one keep-alive connection.  The worker is single, so a
  probe waits exactly as long as something else holds the event loop:
  the longest probe overlapping the hostile request is that request's
  stall of the loop (p50 of the probes is the noise floor).  A probe
  still waiting 10 s after the request ended (or timed out) is given up
  and its wait so far is the stall's lower bound (">").
- the event loop thread's own account (/proc/PID/task/PID/schedstat of
  the worker's main thread): its CPU time during the request, and its
  time runnable without a core (2 cores shared by the loop, the pool
  threads, this script and whatever else runs): a long probe with little
  loop CPU is the scheduler, not the module holding the loop.
- memory: `echo 5 > /proc/<worker>/clear_refs` resets the worker's peak
  RSS before the request; VmHWM is read from /proc/<worker>/status after
  it (VmRSS before and after too).  A sampler thread also records the
  largest RssAnon (heap: what the worker allocated, as opposed to pages
  of the mapped index and store that count in VmRSS) every 20 ms, and
  kills the worker with SIGKILL above RSS_LIMIT_MIB so that a runaway
  request cannot take the shared machine down.
- the request's status (and the error code of the JSON envelope), the
  reply's size and its wall time, capped at TIMEOUT.  After a timeout
  nginx is stopped (TERM, then KILL) and started again on the same
  store; a crash shows as "exited on signal" in the error log, which is
  checked after every scenario.

After every scenario the script waits (the probe still running) until the
index holds every creator of the store again (`vectors` in /api/health
against `pagination.total`), so a request that inserted creators is
followed by its background index update; that wait's length and longest
probe are reported under the table.

Prints a markdown table and appends it to RESULTS (bench/RESULTS.md) under
a heading with the date, the command, the module's commit and N.

Environment: N (100000), SEED (1), MODULE_SO (build/ngx_http_matcher_module
.so), TIMEOUT (120 s, per request), INDEX_TIMEOUT (600 s, for the index to
catch up), RSS_LIMIT_MIB (6144), RESULTS (bench/RESULTS.md), LABEL (a
word for the heading, e.g. "before"), ONLY (comma-separated scenario ids,
e.g. "a,b,h1": run only those), PORT (a free one), NGINX
(/usr/sbin/nginx), NDK_SO (/usr/lib/nginx/modules/ndk_http_module.so).
Python 3 standard library only; run as root or as the workers' user
(clear_refs and /proc/<pid>/status).
"""

import datetime
import hashlib
import itertools
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import threading
import time

from mem import children     # bench/mem.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
HOSTILE_OUT = os.path.join(OUT, "hostile")
PREFIX = os.path.join(HOSTILE_OUT, "nginx")

MIB = 1024 * 1024
INGEST_LIMIT = 64 * MIB          # matcher_ingest_max_body_size 64m
BODY_LIMIT = 1 * MIB             # matcher_max_body_size (default 1m)
HEAD_KEEP = 256 * 1024           # bytes of a reply kept for its status/code
SECTION = "## Hostile bodies (issue 8): bench/hostile.py"


def env_int(name, default):
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        sys.exit("hostile: %s must be a non-negative integer" % name)
    return int(value)


N = env_int("N", 100000)
SEED = env_int("SEED", 1)
TIMEOUT = env_int("TIMEOUT", 120)
INDEX_TIMEOUT = env_int("INDEX_TIMEOUT", 600)
RSS_LIMIT_MIB = env_int("RSS_LIMIT_MIB", 6144)
MODULE_SO = os.path.abspath(os.environ.get(
    "MODULE_SO", os.path.join(ROOT, "build", "ngx_http_matcher_module.so")))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
NDK_SO = os.environ.get("NDK_SO", "/usr/lib/nginx/modules/ndk_http_module.so")
RESULTS = os.environ.get("RESULTS", os.path.join(ROOT, "bench", "RESULTS.md"))
LABEL = os.environ.get("LABEL", "")
ONLY = [s for s in os.environ.get("ONLY", "").split(",") if s]


def say(msg):
    print("hostile: %s" % msg, file=sys.stderr, flush=True)


def die(msg):
    say(msg)
    sys.exit(1)


# --- /proc ---------------------------------------------------------------


def proc_status(pid):
    """VmRSS, VmHWM, RssAnon of pid in kB ({} when it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon"):
                    out[key] = int(rest.split()[0])
    except OSError:
        return {}
    return out


def loop_sched(pid):
    """(ns on a CPU, ns runnable but waiting for one) of pid's main
    thread, the event loop (/proc/PID/task/PID/schedstat); None if gone."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as f:
            run, wait = f.read().split()[:2]
        return int(run), int(wait)
    except (OSError, ValueError):
        return None


def clear_peak(pid):
    """Reset the peak RSS (VmHWM) of pid to its current RSS."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError as e:
        say("clear_refs of %d: %s" % (pid, e.strerror))
        return False


def mib(kb):
    return kb / 1024.0


# --- HTTP over raw sockets -------------------------------------------------


def parse_head(data):
    """(status, headers dict lowercased, body offset) or None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(data[:end]).decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    status = int(m.group(1)) if m else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, end + 4


def request(port, method, path, body=None, ctype="application/json",
            timeout=TIMEOUT):
    """One request on its own connection (Connection: close).

    The body is sent and the reply read at the same time (select), so a
    reply sent before the body is all in (413, 400) is read too.  Returns
    a dict: status, headers, reply_bytes (body only), head (the first
    HEAD_KEEP bytes of the reply body), wall (s), timed_out, error.
    """
    res = {"status": None, "headers": {}, "reply_bytes": 0, "head": b"",
           "wall": None, "timed_out": False, "error": None}
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        res["error"] = "connect: %s" % e
        res["wall"] = time.monotonic() - t0
        return res
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (
        method, path)
    if body is not None:
        head += "Content-Type: %s\r\nContent-Length: %d\r\n" % (
            ctype, len(body))
    out = memoryview(head.encode() + b"\r\n" + (body or b""))
    sent = 0
    sending = True
    got = bytearray()
    total = 0
    sock.setblocking(False)
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                res["timed_out"] = True
                break
            wlist = [sock] if sending and sent < len(out) else []
            r, w, _ = select.select([sock], wlist, [], min(0.5, deadline - now))
            if w:
                try:
                    sent += sock.send(out[sent:sent + MIB])
                except BlockingIOError:
                    pass
                except OSError as e:
                    sending = False        # refused early: read the reply
                    res["send_error"] = e.strerror or str(e)
            if r:
                try:
                    chunk = sock.recv(MIB)
                except BlockingIOError:
                    continue
                except OSError as e:
                    res["error"] = e.strerror or str(e)
                    break
                if not chunk:
                    break
                total += len(chunk)
                if len(got) < HEAD_KEEP + 8192:
                    got += chunk[:HEAD_KEEP + 8192 - len(got)]
    finally:
        res["wall"] = time.monotonic() - t0
        sock.close()
    parsed = parse_head(got)
    if parsed:
        res["status"], res["headers"], off = parsed
        res["reply_bytes"] = total - off
        res["head"] = bytes(got[off:off + HEAD_KEEP])
    res["sent"] = sent
    return res


def get_json(port, path, timeout=10):
    """GET path, the reply parsed as JSON (None when it is not)."""
    r = request(port, "GET", path, timeout=timeout)
    try:
        return json.loads(r["head"])
    except ValueError:
        return None


PROBE_REQ = b"GET /probe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Probe(threading.Thread):
    """GET /probe back to back on one keep-alive connection.

    samples: (start, end) of every answered probe (monotonic seconds).
    After stop(), the probe in flight may take `grace` seconds more; if
    it is still unanswered then, `unfinished` is its (start, give-up).
    """

    def __init__(self, port, grace=10.0):
        super().__init__(daemon=True)
        self.port = port
        self.grace = grace
        self.samples = []
        self.errors = 0
        self.unfinished = None
        self._stop_evt = threading.Event()
        self._stop_at = None

    def stop(self):
        self._stop_at = time.monotonic()
        self._stop_evt.set()
        self.join(self.grace + 5)

    def _gave_up(self):
        return (self._stop_evt.is_set()
                and time.monotonic() - self._stop_at > self.grace)

    def _answer(self, sock):
        """True once a whole 200 arrived; False on EOF; None: gave up."""
        buf = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                if self._gave_up():
                    return None
                continue
            if not chunk:
                return False
            buf += chunk
            parsed = parse_head(buf)
            if parsed:
                status, headers, off = parsed
                if len(buf) - off >= int(headers.get("content-length", "0")):
                    return status == 200

    def run(self):
        sock = None
        while not self._stop_evt.is_set():
            if sock is None:
                try:
                    sock = socket.create_connection(("127.0.0.1", self.port),
                                                    timeout=0.25)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    self.errors += 1
                    sock = None
                    time.sleep(0.05)
                    continue
            t0 = time.monotonic()
            try:
                sock.sendall(PROBE_REQ)
                ok = self._answer(sock)
            except OSError:
                ok = False
            t1 = time.monotonic()
            if ok:
                self.samples.append((t0, t1))
                continue
            if ok is None:
                self.unfinished = (t0, t1)
            else:
                self.errors += 1
            sock.close()
            sock = None
            if ok is None:
                break
        if sock is not None:
            sock.close()

    def stats(self, t_start, t_end):
        """Probes overlapping [t_start, t_end]: (max ms, lower bound?,
        p50 ms, count)."""
        lat = [(b - a) * 1000.0 for a, b in self.samples
               if b >= t_start and a <= t_end]
        worst = max(lat) if lat else 0.0
        bound = False
        if self.unfinished and self.unfinished[0] <= t_end:
            u = (self.unfinished[1] - self.unfinished[0]) * 1000.0
            if u > worst:
                worst, bound = u, True
        p50 = statistics.median(lat) if lat else None
        return worst, bound, p50, len(lat)


class RssSampler(threading.Thread):
    """Largest VmRSS and RssAnon of pid every `interval` s; SIGKILL above
    limit_kb (then `killed` is True)."""

    def __init__(self, pid, limit_kb, interval=0.02):
        super().__init__(daemon=True)
        self.pid = pid
        self.limit_kb = limit_kb
        self.interval = interval
        self.max_rss = 0
        self.max_anon = 0
        self.killed = False
        self._stop_evt = threading.Event()

    def stop(self):
        self._stop_evt.set()
        self.join(5)

    def run(self):
        while not self._stop_evt.is_set():
            st = proc_status(self.pid)
            if not st:
                return
            self.max_rss = max(self.max_rss, st.get("VmRSS", 0))
            self.max_anon = max(self.max_anon, st.get("RssAnon", 0))
            if self.limit_kb and st.get("VmRSS", 0) > self.limit_kb:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                    self.killed = True
                except OSError:
                    pass
                return
            time.sleep(self.interval)


# --- nginx -----------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    """One nginx (master + 1 worker) in PREFIX, started and stopped here."""

    def __init__(self, module_so, port):
        self.port = port
        self.proc = None
        self.module = os.path.join(PREFIX, "modules",
                                   os.path.basename(module_so))
        self.error_log = os.path.join(PREFIX, "logs", "error.log")
        shutil.rmtree(PREFIX, ignore_errors=True)
        for d in ("conf", "logs", "tmp", "store", "modules"):
            os.makedirs(os.path.join(PREFIX, d))
        # a private copy: `make build` replaces build/*.so while we run
        shutil.copy(module_so, self.module)
        user = "user root;" if os.getuid() == 0 else ""
        with open(os.path.join(ROOT, "bench", "hostile.conf.in")) as f:
            conf = f.read()
        for k, v in (("@USER@", user), ("@NDK@", NDK_SO),
                     ("@MODULE@", self.module), ("@PORT@", str(port))):
            conf = conf.replace(k, v)
        with open(os.path.join(PREFIX, "conf", "nginx.conf"), "w") as f:
            f.write(conf)
        r = subprocess.run([NGINX, "-q", "-t", "-p", PREFIX + "/", "-c",
                            "conf/nginx.conf", "-e", "logs/error.log"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die("nginx -t failed: %s" % r.stderr.strip())

    def start(self):
        self.proc = subprocess.Popen(
            [NGINX, "-p", PREFIX + "/", "-c", "conf/nginx.conf",
             "-e", "logs/error.log"], stdin=subprocess.DEVNULL)
        for _ in range(100):
            if self.proc.poll() is not None:
                die("nginx exited: %s" % self.tail())
            if request(self.port, "GET", "/probe", timeout=1)["status"] == 200:
                return
            time.sleep(0.1)
        die("nginx does not answer on port %d" % self.port)

    def stop(self, hard=False):
        """QUIT (TERM when hard: a busy loop cannot finish gracefully),
        then TERM, then KILL the master and its children."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        kids = [pid for pid, _ in children(self.proc.pid)]
        self.proc.send_signal(signal.SIGTERM if hard else signal.SIGQUIT)
        try:
            self.proc.wait(3 if hard else 10)
        except subprocess.TimeoutExpired:
            say("nginx did not stop: KILL")
            for pid in [self.proc.pid] + kids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait(10)
        for pid in kids:                 # a worker stuck in a pool thread
            for _ in range(30):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.proc = None

    def restart(self):
        self.stop(hard=True)
        self.start()

    def worker(self):
        """The worker's pid (waits up to 5 s for one)."""
        for _ in range(50):
            for pid, cmd in children(self.proc.pid):
                if "worker process" in cmd:
                    return pid
            time.sleep(0.1)
        die("no worker process under master %d" % self.proc.pid)

    def log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def log_since(self, offset):
        with open(self.error_log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def tail(self, n=5):
        try:
            with open(self.error_log, errors="replace") as f:
                return " | ".join(f.read().splitlines()[-n:])
        except OSError:
            return "(no error log)"


def index_state(port):
    """(creators in the store, creators in the index or None)."""
    page = get_json(port, "/api/creators?limit=1")
    health = get_json(port, "/api/health")
    total = None
    live = None
    try:
        total = page["pagination"]["total"]
    except (TypeError, KeyError):
        pass
    try:
        detail = health["checks"]["vectors"]["detail"]
        m = re.match(r"local: (\d+) creators,", detail)
        live = int(m.group(1)) if m else None
    except (TypeError, KeyError):
        pass
    return total, live


def wait_index(nginx, timeout, want=None):
    """Wait until the index holds every creator of the store (or `want`).
    Returns (seconds, total, live, done)."""
    t0 = time.monotonic()
    total = live = None
    while time.monotonic() - t0 < timeout:
        total, live = index_state(nginx.port)
        target = want if want is not None else total
        if target is not None and live == target:
            return time.monotonic() - t0, total, live, True
        if nginx.proc.poll() is not None:
            die("nginx exited: %s" % nginx.tail())
        time.sleep(0.25)
    return time.monotonic() - t0, total, live, False


# --- data ------------------------------------------------------------------


def creators_file(n, seed):
    """bench/out/creators-N-SEED.ndjson, generated when missing or older
    than its generator or samples (the cache bench/run.sh uses)."""
    path = os.path.join(OUT, "creators-%d-%d.ndjson" % (n, seed))
    gen = os.path.join(ROOT, "bench", "gen-creators.py")
    samples = os.path.join(ROOT, "t", "data", "creators.json")
    if (not os.path.exists(path) or os.path.getsize(path) == 0
            or os.path.getmtime(path) < os.path.getmtime(gen)
            or os.path.getmtime(path) < os.path.getmtime(samples)):
        say("generating %d creators (seed %d)" % (n, seed))
        os.makedirs(OUT, exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            subprocess.run([sys.executable, gen, str(n), str(seed)],
                           stdout=f, check=True)
        os.replace(path + ".tmp", path)
    return path


def read_lines(path):
    with open(path, "rb") as f:
        return [line for line in f.read().split(b"\n") if line.strip()]


def ingest_all(nginx, lines):
    """POST the lines as NDJSON in chunks under the 64m limit."""
    chunk, size, t0 = [], 0, time.monotonic()
    batches = []
    for line in lines:
        if size + len(line) + 1 > 48 * MIB:
            batches.append(chunk)
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        batches.append(chunk)
    for batch in batches:
        body = b"\n".join(batch) + b"\n"
        r = request(nginx.port, "POST", "/api/creators/ingest", body,
                    "application/x-ndjson", timeout=600)
        try:
            reply = json.loads(r["head"])
        except ValueError:
            reply = {}
        if r["status"] != 200 or reply.get("count") != len(batch):
            die("ingest: HTTP %s: %s" % (r["status"], r["head"][:300]))
    return time.monotonic() - t0


# --- hostile bodies --------------------------------------------------------

KEY_ALPHABET = string.ascii_letters + string.digits
CONTRACT_KEYS = {"bio"}      # a 3-letter field name the keys must not shadow


def short_keys(n, width):
    keys = ("".join(p) for p in itertools.product(KEY_ALPHABET, repeat=width))
    return itertools.islice((k for k in keys if k not in CONTRACT_KEYS), n)


def keys_blob(n, width):
    """'"aaa":0,"aab":0,...' with n distinct keys (no braces)."""
    return ",".join('"%s":0' % k for k in short_keys(n, width)).encode()


def with_keys(doc, blob):
    """JSON of the object doc with blob's keys appended inside it."""
    text = json.dumps(doc, separators=(",", ":")).encode()
    return text[:-1] + b"," + blob + b"}"


def or_filter_body(n, match=None, query="hostile wide filter"):
    """search body, filter $or of n {"region":"X<i>"} clauses; `match`
    replaces the middle clause."""
    clauses = ['{"region":"X%d"}' % i for i in range(n)]
    if match is not None:
        clauses[n // 2] = json.dumps(match, separators=(",", ":"))
    return ('{"query":%s,"topK":10,"filter":{"$or":[%s]}}' % (
        json.dumps(query), ",".join(clauses))).encode()


def unique_follower(lines):
    """A (region, followerCount) that exactly one creator has."""
    seen = {}
    for line in lines:
        c = json.loads(line)
        key = (c["region"], c["followerCount"])
        seen[key] = seen.get(key, 0) + 1
    for key, count in seen.items():
        if count == 1:
            return key
    die("no creator with a unique followerCount")


def word_list():
    with open(os.path.join(ROOT, "t", "data", "creators.json")) as f:
        text = f.read()
    words = sorted(set(w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)))
    return words


def texts_body(count, size, seed):
    """{"texts": [count made-up texts of about size bytes]}."""
    words = word_list()
    rnd = random.Random(seed)
    texts = []
    for _ in range(count):
        t = []
        n = 0
        while n < size:
            w = rnd.choice(words)
            t.append(w)
            n += len(w) + 1
        texts.append(" ".join(t)[:size])
    return json.dumps({"texts": texts}, separators=(",", ":")).encode()


def new_creators_ndjson(limit_bytes):
    """Valid NDJSON of creators not in the store (seed 2, uniqueIds with a
    "-f" suffix), at most limit_bytes."""
    lines = read_lines(creators_file(34000, 2))
    out, size = [], 0
    for line in lines:
        c = json.loads(line)
        c["uniqueId"] = c["uniqueId"] + "-f"
        b = json.dumps(c, separators=(",", ":")).encode()
        if size + len(b) + 1 > limit_bytes:
            break
        out.append(b)
        size += len(b) + 1
    return b"\n".join(out) + b"\n"


def ingest_keys_body(template, creators, keys, width, prefix):
    """{"creators": [...]}: `creators` valid creators (uniqueId
    prefix<i>) each with `keys` extra keys."""
    blob = keys_blob(keys, width)
    parts = []
    for i in range(creators):
        c = dict(template)
        c["uniqueId"] = "%s%d" % (prefix, i)
        parts.append(with_keys(c, blob))
    return b'{"creators":[' + b",".join(parts) + b"]}"


def scenarios(ctx):
    """Every scenario: (id, title, method, path, body factory, content
    type, what a fixed module should do)."""
    tmpl = ctx["template"]
    tsize = len(json.dumps(tmpl, separators=(",", ":")))
    d2_keys = (INGEST_LIMIT - MIB - 64) // 10000 - tsize - 16
    d2_keys = max(1, d2_keys // 8)
    d3_keys = (INGEST_LIMIT - MIB - tsize) // 9
    example = ctx["assignment"]
    region, follower = ctx["unique"]
    json_t, nd = "application/json", "application/x-ndjson"
    long_region = "R" * 4000
    long_niche = "N" * 3000

    def assignment_keys(n):
        return with_keys(example, keys_blob(n, 3))

    return [
        ("h0", "idle: no request for 3 s (noise floor)", None, None,
         None, None, ""),
        ("h1", "GET /api/creators?region=US&niche=<a real niche>", "GET",
         "/api/creators?region=US&niche=%s" % ctx["niche_q"], None, None,
         "200"),
        ("h2", "GET /api/creators?region=<4000 B>&niche=<3000 B>", "GET",
         "/api/creators?region=%s&niche=%s" % (long_region, long_niche),
         None, None, "400 or 200 (nothing)"),
        ("h3", "GET /api/creators?region=ZZ (matches nothing)", "GET",
         "/api/creators?region=ZZ&niche=Nothing", None, None, "200"),
        ("h4", "GET /api/creators?page=4000&limit=20 (deep page)", "GET",
         "/api/creators?page=4000&limit=20", None, None, "200"),
        ("h5", "POST /api/creators/search, no filter", "POST",
         "/api/creators/search",
         lambda: b'{"query":"budget travel by train","topK":10}', json_t,
         "200"),
        ("h6", "POST /api/creators/search, region+followerCount filter",
         "POST", "/api/creators/search",
         lambda: (b'{"query":"home cooking on a budget","topK":10,'
                  b'"filter":{"region":"US","followerCount":'
                  b'{"$gte":10000}}}'), json_t, "200"),
        ("h7", "POST /api/matches, the example assignment", "POST",
         "/api/matches",
         lambda: json.dumps({"assignment": example, "topK": 3}).encode(),
         json_t, "200"),
        ("a", "search, $or of 45,000 clauses matching nothing", "POST",
         "/api/creators/search", lambda: or_filter_body(45000), json_t,
         "400 fast"),
        ("b", "search, $or of 45,000 clauses, one matches 1 creator",
         "POST", "/api/creators/search",
         lambda: or_filter_body(45000, {"region": region,
                                        "followerCount": follower},
                                "hostile wide filter one"), json_t,
         "400 fast"),
        ("e1", "POST /api/matches, assignment with 100,000 keys", "POST",
         "/api/matches",
         lambda: b'{"topK":3,"assignment":' + assignment_keys(100000)
         + b"}", json_t, "bounded"),
        ("e2", "POST /api/matches/framing, assignment with 100,000 keys",
         "POST", "/api/matches/framing",
         lambda: (b'{"creatorId":' + json.dumps(ctx["first_id"]).encode()
                  + b',"assignment":' + assignment_keys(100000) + b"}"),
         json_t, "bounded"),
        ("g1", "POST /api/creators/embeddings, 2048 texts of 1 KB", "POST",
         "/api/creators/embeddings", lambda: texts_body(2048, 1024, 7),
         json_t, "413 (over 1m)"),
        ("g2", "POST /api/creators/embeddings, 2048 texts of 480 B",
         "POST", "/api/creators/embeddings",
         lambda: texts_body(2048, 480, 8), json_t, "200, off the loop"),
        ("d1", "ingest, 1 creator with 100,000 extra keys", "POST",
         "/api/creators/ingest",
         lambda: ingest_keys_body(tmpl, 1, 100000, 3, "hostile-keys-"),
         json_t, "bounded"),
        ("d2", "ingest, 10,000 creators with %d extra keys each" % d2_keys,
         "POST", "/api/creators/ingest",
         lambda: ingest_keys_body(tmpl, 10000, d2_keys, 3, "hostile-many-"),
         json_t, "bounded"),
        ("d3", "ingest, 1 creator with %d extra keys (64 MB)" % d3_keys,
         "POST", "/api/creators/ingest",
         lambda: ingest_keys_body(tmpl, 1, d3_keys, 4, "hostile-huge-"),
         json_t, "bounded"),
        ("c", "ingest, 64 MB of NDJSON lines `1`", "POST",
         "/api/creators/ingest", lambda: b"1\n" * (INGEST_LIMIT // 2 - 1),
         nd, "failures capped"),
        ("f", "ingest, 60 MB of valid NDJSON (new creators)", "POST",
         "/api/creators/ingest", lambda: new_creators_ndjson(60 * MIB), nd,
         "200, off the loop"),
        ("h9", "idle again: no request for 3 s", None, None, None, None, ""),
    ]


# --- one scenario ----------------------------------------------------------


def reply_note(res):
    """A short description of the reply: error code, or ingest counts."""
    text = res["head"]
    if res["reply_bytes"] > len(text):
        return None, None            # too big to parse here: size only
    try:
        doc = json.loads(text)
    except ValueError:
        return None, ("reply not JSON (%d bytes)" % res["reply_bytes"]
                      if res["reply_bytes"] else None)
    if not isinstance(doc, dict):
        return None, None
    code = doc.get("code")
    if "inserted" in doc or "failed" in doc:
        failed = doc.get("failed") or []
        extra = ", ".join("%s %s" % (k, doc[k]) for k in
                          ("failedTotal", "failedCount", "failures")
                          if k in doc)
        return code, "count %s, inserted %s, %d failures listed%s" % (
            doc.get("count"), doc.get("inserted"), len(failed),
            ", " + extra if extra else "")
    if code:
        return code, doc.get("error")
    return None, None


def human_bytes(n):
    if n is None:
        return ""
    if n >= MIB:
        return "%.1f MB" % (n / MIB)
    if n >= 1024:
        return "%.0f KB" % (n / 1024.0)
    return "%d B" % n


def run_scenario(nginx, sc):
    """Run one scenario; returns its row (a dict) and notes."""
    sid, title, method, path, make_body, ctype, expect = sc
    body = make_body() if make_body else None
    worker = nginx.worker()
    log_at = nginx.log_size()
    before = proc_status(worker)
    clear_peak(worker)
    sampler = RssSampler(worker, RSS_LIMIT_MIB * 1024)
    probe = Probe(nginx.port)
    sampler.start()
    probe.start()
    time.sleep(0.2)                       # a few probes before it starts
    sched0 = loop_sched(worker)
    t_start = time.monotonic()
    if method is None:
        time.sleep(3)
        res = {"status": None, "reply_bytes": 0, "wall": 3.0,
               "timed_out": False, "error": None, "head": b""}
    else:
        say("%s: %s %s (%s)" % (sid, method, path[:60], human_bytes(
            len(body)) if body is not None else "no body"))
        res = request(nginx.port, method, path, body, ctype, TIMEOUT)
    t_end = time.monotonic()
    sched1 = loop_sched(worker)
    time.sleep(0.05)
    sampler.stop()
    after = proc_status(worker)
    probe.stop()
    stall, bound, p50, count = probe.stats(t_start, t_end)
    notes = []
    row = {
        "id": sid, "title": title, "expect": expect, "idle": method is None,
        "body": len(body) if body is not None else None,
        "status": res["status"], "reply": res["reply_bytes"],
        "wall": res["wall"], "timed_out": res["timed_out"],
        "stall": stall, "bound": bound, "p50": p50, "probes": count,
        "hwm": after.get("VmHWM"), "rss0": before.get("VmRSS"),
        "rss1": after.get("VmRSS"), "anon": sampler.max_anon,
        "killed": sampler.killed, "code": None,
        "cpu": (sched1[0] - sched0[0]) / 1e6 if sched0 and sched1 else None,
        "runq": (sched1[1] - sched0[1]) / 1e6 if sched0 and sched1 else None,
    }
    if method is not None:
        row["code"], note = reply_note(res)
        if note and row["code"] is None:
            notes.append(note)
        if res.get("error"):
            notes.append("client: %s" % res["error"])
    if probe.errors:
        notes.append("%d probe connection errors" % probe.errors)
    if sampler.killed:
        notes.append("worker SIGKILLed by the RSS watchdog above %d MiB"
                     % RSS_LIMIT_MIB)
    if not after:
        notes.append("worker %d gone after the request" % worker)
    log = nginx.log_since(log_at)
    for line in log.splitlines():
        if any(pat in line for pat in ("exited on signal", "[alert]",
                                       "[emerg]", "[crit]")):
            notes.append("error log: %s" % line.split("] ", 1)[-1][:200])
    if res["timed_out"]:
        say("%s timed out after %d s: restarting nginx" % (sid, TIMEOUT))
        nginx.restart()
        notes.append("timed out: nginx restarted")
    elif sampler.killed or not after:
        nginx.worker()                   # the master forks a new one
    # the background work the request left (index updates), probed too
    if method is not None and not row["timed_out"]:
        probe = Probe(nginx.port)
        probe.start()
        t0 = time.monotonic()
        secs, total, live, done = wait_index(nginx, min(INDEX_TIMEOUT, 300))
        probe.stop()
        worst, wbound, _, _ = probe.stats(t0, time.monotonic())
        if secs > 1.0 or not done:
            notes.append("index caught up (%s of %s creators) %s %.1f s "
                         "after it; longest probe meanwhile %s%.0f ms" % (
                             live, total, "in" if done else "NOT within",
                             secs, ">" if wbound else "", worst))
    else:
        wait_index(nginx, INDEX_TIMEOUT)
    row["notes"] = notes
    return row


# --- output ----------------------------------------------------------------


def fmt_row(r):
    if r["idle"]:
        status = "-"
    elif r["timed_out"]:
        status = "none (timeout)"
    elif r["killed"]:
        status = "none (worker killed)"
    else:
        status = str(r["status"]) if r["status"] else "none"
        if r["code"]:
            status += " " + r["code"]
    wall = ("> %d s" % TIMEOUT) if r["timed_out"] else "%.0f" % (
        r["wall"] * 1000)
    stall = "%s%.1f" % ("> " if r["bound"] else "", r["stall"])
    p50 = "%.2f" % r["p50"] if r["p50"] is not None else "-"
    cpu = "%.0f" % r["cpu"] if r["cpu"] is not None else "?"
    runq = "%.0f" % r["runq"] if r["runq"] is not None else "?"

    def m(kb):
        return "%.0f" % mib(kb) if kb else "?"
    growth = ("%+.0f" % mib(r["rss1"] - r["rss0"])
              if r["rss0"] and r["rss1"] else "?")
    hwm = m(r["hwm"])
    if r["killed"]:
        hwm = "> %d (killed)" % RSS_LIMIT_MIB
    return ("| %s %s | %s | %s | %s | %s | %s | %s | %d | %s / %s | %s "
            "| %s → %s (%s) | %s |") % (
        r["id"], r["title"], human_bytes(r["body"]) or "-", status,
        human_bytes(r["reply"]) if r["reply"] else "-", wall, stall, p50,
        r["probes"], cpu, runq, hwm, m(r["rss0"]), m(r["rss1"]), growth,
        m(r["anon"]))


TABLE_HEAD = (
    "| scenario | body | status | reply | wall ms | max loop stall ms "
    "(probe) | p50 probe ms | probes | loop thread on CPU / waiting for "
    "a CPU ms | worker peak RSS MiB (VmHWM) | RSS before → after MiB "
    "(growth) | peak RssAnon MiB (sampled) |\n"
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
    "---: | ---: |")

INTRO = """
%s

`bench/hostile.py` (`make bench-hostile`) runs one nginx with ONE worker
(the embedded default: LMDB store, local embedder, vector index, cache
zone; bench/hostile.conf.in) over N creators, sends the hostile bodies of
issue 8 one at a time and a few ordinary requests for comparison, and
measures from outside:

- **max loop stall**: a thread sends `GET /probe` (`return 200`) back to
  back on a keep-alive connection while the request runs; with a single
  worker a probe waits exactly as long as something holds its event loop,
  so the longest probe overlapping the request is its time on the loop
  ("> x": a probe was still unanswered when the script gave up on it,
  10 s after the request ended or timed out, so x can exceed TIMEOUT).
  The rule is 50 ms at 100,000 creators; compare with the idle rows (h0,
  h9: the noise floor).
- **loop thread on CPU / waiting for a CPU**: from the worker's main
  thread's /proc/PID/task/PID/schedstat over the request: the CPU time
  the event loop used (answering the probes included: see the idle rows)
  and the time it was runnable but had no core (2 cores for nginx's loop,
  its pool threads, the client and the probe).  A long probe with little
  loop CPU and a long wait is the scheduler, not the module.
- **worker peak RSS**: VmHWM of the worker after the request, its peak
  reset by `echo 5 > /proc/<pid>/clear_refs` just before; VmRSS before
  and after.  RSS counts the pages of the mapped index and store the
  request touched; the sampled RssAnon peak (every 20 ms) is the heap.
- status (and the envelope's `code`), reply size and wall time, capped at
  TIMEOUT (then nginx is restarted on the same store).
- After each request the script waits until the index holds every creator
  of the store again; when that took over a second, the notes give how
  long and the longest probe meanwhile (a background index update).

The machine has 2 cores shared with other work (and the probe and client
run on it too): the timings are noisy, compare rows of one run.
""" % SECTION


def git_commit(path):
    """short commit of the checkout holding path, "+dirty" when its
    module sources (lib/ module/ config) have changes."""
    d = os.path.dirname(path)
    try:
        top = subprocess.run(["git", "-C", d, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True,
                             check=True).stdout.strip()
        head = subprocess.run(["git", "-C", top, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain",
                                "--untracked-files=no", "--", "lib",
                                "module", "config"], capture_output=True,
                               text=True).stdout.strip()
        return head + ("+dirty" if dirty else ""), top
    except (subprocess.CalledProcessError, OSError):
        return "unknown", None


def report(rows, meta):
    lines = []
    lines.append("### %s, hostile bodies%s, module %s, N=%d" % (
        meta["date"], " (%s)" % LABEL if LABEL else "", meta["commit"], N))
    lines.append("")
    lines.append("- command: `%s`" % meta["command"])
    lines.append("- module: %s" % meta["module"])
    lines.append("- machine: %s; load average before: %s; noisy: 2 cores "
                 "shared with other engineers' builds and tests, and with "
                 "the client and probe" % (meta["machine"], meta["load"]))
    lines.append("- setup: %d creators ingested as NDJSON in %.1f s, index "
                 "of %s creators ready %.1f s later; TIMEOUT %d s per "
                 "request, RSS watchdog %d MiB" % (
                     N, meta["ingest_secs"], meta["live"],
                     meta["index_secs"], TIMEOUT, RSS_LIMIT_MIB))
    lines.append("")
    lines.append(TABLE_HEAD)
    for r in rows:
        lines.append(fmt_row(r))
    lines.append("")
    notes = [(r["id"], n) for r in rows for n in r["notes"]]
    if notes:
        lines.append("Notes:")
        lines.append("")
        for sid, n in notes:
            lines.append("- %s: %s" % (sid, n))
        lines.append("")
    over = [r["id"] for r in rows if r["stall"] > 50]
    lines.append("Rows over the 50 ms loop rule: %s." % (
        ", ".join(over) if over else "none"))
    lines.append("")
    return "\n".join(lines)


def append_results(text):
    with open(RESULTS, "a+") as f:
        f.seek(0)
        have = SECTION in f.read()
        if not have:
            f.write(INTRO)
        f.write("\n" + text)


# --- main ------------------------------------------------------------------


def main():
    if not os.path.exists(MODULE_SO):
        die("no %s" % MODULE_SO)
    os.makedirs(HOSTILE_OUT, exist_ok=True)
    commit, _ = git_commit(MODULE_SO)
    st = os.stat(MODULE_SO)
    with open(MODULE_SO, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()[:12]
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "commit": commit,
        "module": "%s, built %s, sha256 %s" % (
            MODULE_SO, datetime.datetime.fromtimestamp(
                st.st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), sha),
        "machine": "%d CPUs (%s), Linux %s" % (
            os.cpu_count(), platform.machine(), platform.release()),
        "load": " ".join(open("/proc/loadavg").read().split()[:3]),
    }
    env = ["N=%d" % N]
    for k in ("TIMEOUT", "MODULE_SO", "INDEX_TIMEOUT", "RSS_LIMIT_MIB",
              "LABEL", "ONLY"):
        if os.environ.get(k):
            env.append("%s=%s" % (k, os.environ[k]))
    meta["command"] = " ".join(env) + " bench/hostile.py"

    path = creators_file(N, SEED)
    lines = read_lines(path)
    if len(lines) != N:
        die("%s has %d creators, want %d" % (path, len(lines), N))
    first = json.loads(lines[0])
    tmpl = dict(first)
    tmpl.pop("uniqueId")
    with open(os.path.join(ROOT, "t", "data", "example-assignment.json")) as f:
        assignment = json.load(f)
    assignment.pop("userId", None)
    niche = first["analysis"]["primaryNiches"][0]
    ctx = {"template": tmpl, "assignment": assignment,
           "unique": unique_follower(lines), "first_id": first["uniqueId"],
           "niche_q": re.sub(r"[^A-Za-z0-9]", lambda m: "%%%02X" % ord(
               m.group(0)), niche)}

    port = int(os.environ.get("PORT") or free_port())
    nginx = Nginx(MODULE_SO, port)
    nginx.start()
    try:
        say("nginx %d on 127.0.0.1:%d, prefix %s" % (
            nginx.proc.pid, port, PREFIX))
        say("ingesting %d creators" % N)
        meta["ingest_secs"] = ingest_all(nginx, lines)
        del lines
        say("ingest: %.1f s; waiting for the index" % meta["ingest_secs"])
        secs, _, live, done = wait_index(nginx, INDEX_TIMEOUT, want=N)
        if not done:
            die("no index of %d creators after %d s (%s)" % (
                N, INDEX_TIMEOUT, live))
        meta["index_secs"], meta["live"] = secs, live
        say("index ready: %d creators, %.1f s" % (live, secs))
        rows = []
        for sc in scenarios(ctx):
            if ONLY and sc[0] not in ONLY:
                continue
            row = run_scenario(nginx, sc)
            rows.append(row)
            say("  %s" % fmt_row(row))
    finally:
        nginx.stop()
        try:
            shutil.copy(nginx.error_log, os.path.join(
                HOSTILE_OUT, "error-%s.log" % (LABEL or "last")))
        except OSError:
            pass
    text = report(rows, meta)
    print(text)
    append_results(text)
    say("appended to %s" % RESULTS)


if __name__ == "__main__":
    main()
