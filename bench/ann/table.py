#!/usr/bin/python3
"""The markdown of bench/ann/run.sh: table.py N dir > results-N.md.

Reads dir/{ours,hnsw,faiss}.tsv (TSV lines of the programs, "# " notes),
prints the machine, the notes, the fastest configuration of each index
at a few recall levels, then every configuration by query set, sorted
by method, then recall.
"""

import datetime
import os
import platform
import subprocess
import sys

COLS = ["lib", "method", "params", "N", "queryset", "build_s",
        "bytes_per_creator", "p50_ms", "p99_ms", "recall10"]
FILES = ["ours.tsv", "hnsw.tsv", "faiss.tsv"]
LEVELS = [0.90, 0.95, 0.99]


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cc_version():
    try:
        out = subprocess.run(["gcc", "--version"], capture_output=True,
                             text=True, check=False).stdout
        return out.splitlines()[0] if out else "?"
    except OSError:
        return "?"


def build_key(r):
    """The index a row searches: its params less the search parameter."""
    keep = [p for p in r["params"].split(",")
            if not p.startswith(("ef=", "nprobe="))]
    return ",".join(keep) or "-"


def main():
    n, d = sys.argv[1], sys.argv[2]
    rows, notes = [], []

    for name in FILES:
        path = os.path.join(d, name)
        if not os.path.exists(path):
            notes.append("%s: not run" % name[:-4])
            continue
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                if line.startswith("#"):
                    notes.append(line[1:].strip())
                    continue
                v = line.split("\t")
                if len(v) != len(COLS):
                    notes.append("bad line in %s: %s" % (name, line))
                    continue
                r = dict(zip(COLS, v))
                for c in ["build_s", "bytes_per_creator", "p50_ms", "p99_ms",
                          "recall10"]:
                    r[c] = float(r[c])
                rows.append(r)

    info = {}
    try:
        with open(os.path.join(d, "info.txt")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                info[k] = v
    except OSError:
        pass

    out = []
    out.append("# ANN benchmark, N = %s" % n)
    out.append("")
    out.append("Made by `bench/ann/run.sh %s` on %s: %s, %d cores, %s. "
               "Every build and every search single-threaded, one query at "
               "a time, k 10, no filter; latencies are wall time a query "
               "(p50, p99 of %s queries a set); recall@10 against the exact "
               "float top 10. Load average at the end of the run: %s (a "
               "shared box moves the p99s). See bench/ann/README.md for "
               "the columns and the caveats."
               % (n, datetime.date.today().isoformat(), cpu(),
                  os.cpu_count() or 0, cc_version(),
                  info.get("queries", "?"), loadavg()))
    out.append("")
    out.append("Query sets: **brief** = %s queries embedded like the "
               "module's briefs (e.g. %s); **self** = creators held out of "
               "the base (e.g. %s). Data generation: learn %s s, embed "
               "%s s, ground truth %s s (%s threads)."
               % (info.get("queries", "?"),
                  info.get("example_brief", "?"),
                  info.get("example_self", "?"),
                  info.get("learn_s", "?"), info.get("embed_s", "?"),
                  info.get("ground_truth_s", "?"), info.get("threads", "?")))
    out.append("")
    out.append("Notes from the runs:")
    out.append("")
    for s in notes:
        out.append("- " + s)
    out.append("")

    qsets = sorted({r["queryset"] for r in rows})

    out.append("## Fastest configuration reaching a recall (p50 ms)")
    out.append("")
    out.append("One row an index as built (lib, method, build parameters); "
               "each cell: the lowest p50 among its search parameters with "
               "recall@10 at least that, and which parameter; - when none "
               "reaches it.")
    out.append("")
    for q in qsets:
        out.append("### %s" % q)
        out.append("")
        out.append("| lib | method | build | build_s | bytes/creator | "
                   + " | ".join("recall >= %.2f" % x for x in LEVELS)
                   + " | best recall |")
        out.append("|---|---|---|---:|---:|"
                   + "---|" * len(LEVELS) + "---:|")
        groups = {}
        for r in rows:
            if r["queryset"] == q:
                groups.setdefault((r["method"], r["lib"], build_key(r)),
                                  []).append(r)
        for key in sorted(groups):
            g = groups[key]
            cells = []
            for lv in LEVELS:
                ok = [r for r in g if r["recall10"] >= lv]
                if ok:
                    b = min(ok, key=lambda r: r["p50_ms"])
                    sp = [p for p in b["params"].split(",")
                          if p.startswith(("ef=", "nprobe="))]
                    cells.append("%.3f (%s)" % (b["p50_ms"],
                                                sp[0] if sp else "-"))
                else:
                    cells.append("-")
            out.append("| %s | %s | %s | %.2f | %.0f | %s | %.4f |"
                       % (key[1], key[0], key[2], g[0]["build_s"],
                          g[0]["bytes_per_creator"], " | ".join(cells),
                          max(r["recall10"] for r in g)))
        out.append("")

    out.append("## Every configuration")
    out.append("")
    for q in qsets:
        out.append("### %s" % q)
        out.append("")
        out.append("| lib | method | params | N | build_s | bytes/creator "
                   "| p50_ms | p99_ms | recall@10 |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for r in sorted((r for r in rows if r["queryset"] == q),
                        key=lambda r: (r["method"], r["lib"],
                                       build_key(r), r["recall10"],
                                       r["p50_ms"])):
            out.append("| %s | %s | %s | %s | %.2f | %.0f | %.3f | %.3f | "
                       "%.4f |"
                       % (r["lib"], r["method"], r["params"], r["N"],
                          r["build_s"], r["bytes_per_creator"], r["p50_ms"],
                          r["p99_ms"], r["recall10"]))
        out.append("")

    print("\n".join(out))


if __name__ == "__main__":
    main()
