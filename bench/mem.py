#!/usr/bin/env python3
"""Memory of the matching index and store, as markdown (bench/run.sh,
SCENARIO=match).

    bench/mem.py STORE_DIR N MASTER_PID

Files in STORE_DIR (vectors.mtv, embedder.idf, data.mdb, lock.mdb): size
(apparent, `du --apparent-size`) and the blocks actually allocated
(`du`, st_blocks * 512): vectors.mtv is sparse, sized for its capacity.
Per creator = allocated / N.

Processes (the master and its children): Rss and Pss from /proc/PID/smaps,
Pss split by what is mapped: vectors.mtv (shared by the workers, so each
worker's Pss holds its share), data.mdb, lock.mdb, shared memory zones
(/dev/zero, SYSV: the cache zone and nginx's own), anonymous memory
(heap, stacks) and the rest (nginx, modules, libraries).  A mapping of a
deleted vectors.mtv (an index generation that this worker has not yet
let go of) is counted apart.  Stdlib only; needs read access to
/proc/PID/smaps (same user or root).
"""

import os
import sys

FILES = ("vectors.mtv", "embedder.idf", "data.mdb", "lock.mdb")
KINDS = ("vectors.mtv", "vectors.mtv (deleted)", "data.mdb", "lock.mdb",
         "shm zones", "anon", "other")


def mib(kb):
    return "%.1f" % (kb / 1024.0)


def kind(name):
    base = os.path.basename(name.replace(" (deleted)", ""))
    if base == "vectors.mtv":
        return "vectors.mtv (deleted)" if name.endswith("(deleted)") \
            else "vectors.mtv"
    if base in ("data.mdb", "lock.mdb"):
        return base
    if name.startswith("/dev/zero") or name.startswith("/SYSV") \
            or name.startswith("/dev/shm"):
        return "shm zones"
    if name == "" or name.startswith("["):
        return "anon"
    return "other"


def smaps(pid):
    """{kind: [rss_kb, pss_kb]}"""
    out = {k: [0, 0] for k in KINDS}
    cur = "anon"
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split(None, 5)
                cur = kind(parts[5].strip() if len(parts) > 5 else "")
            elif first == "Rss:":
                out[cur][0] += int(line.split()[1])
            elif first == "Pss:":
                out[cur][1] += int(line.split()[1])
    return out


def children(ppid):
    """(pid, cmdline) of the processes whose parent is ppid, by pid."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(
                    errors="replace").strip()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            kids.append((int(d), cmd))
    return sorted(kids)


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: mem.py STORE_DIR N MASTER_PID")
    store, n, master = argv[1], int(argv[2]), int(argv[3])

    print("| file | size (apparent) | allocated (du) | allocated / creator |")
    print("| --- | ---: | ---: | ---: |")
    for name in FILES:
        path = os.path.join(store, name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        alloc = st.st_blocks * 512
        print("| store/%s | %s MiB | %s MiB | %d B |" % (
            name, mib(st.st_size / 1024.0), mib(alloc / 1024.0),
            round(alloc / n) if n else 0))
    print()

    procs = [(master, "master")] + [
        (pid, cmd.replace("nginx: ", "")) for pid, cmd in children(master)]
    print("| process | Rss MiB | Pss MiB | Pss: vectors.mtv | "
          "vectors.mtv (deleted) | data.mdb | shm zones | anon | other |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    tot = {k: [0, 0] for k in KINDS}
    for pid, what in procs:
        try:
            m = smaps(pid)
        except OSError as e:
            print("| %d %s | %s | | | | | | | |" % (pid, what, e.strerror))
            continue
        rss = sum(v[0] for v in m.values())
        pss = sum(v[1] for v in m.values())
        for k in KINDS:
            tot[k][0] += m[k][0]
            tot[k][1] += m[k][1]
        print("| %s (%d) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            what, pid, mib(rss), mib(pss), mib(m["vectors.mtv"][1]),
            mib(m["vectors.mtv (deleted)"][1]), mib(m["data.mdb"][1]),
            mib(m["shm zones"][1]), mib(m["anon"][1]),
            mib(m["other"][1] + m["lock.mdb"][1])))
    pss = sum(v[1] for v in tot.values())
    print("| **all** | | **%s** | %s | %s | %s | %s | %s | %s |" % (
        mib(pss), mib(tot["vectors.mtv"][1]),
        mib(tot["vectors.mtv (deleted)"][1]), mib(tot["data.mdb"][1]),
        mib(tot["shm zones"][1]), mib(tot["anon"][1]),
        mib(tot["other"][1] + tot["lock.mdb"][1])))


if __name__ == "__main__":
    main(sys.argv)
