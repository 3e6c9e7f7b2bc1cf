#!/usr/bin/python3
"""The matching-quality benchmark's measuring half (bench/quality/README.md).

Run by bench/quality/run.sh against an nginx it has started:

    quality.py --base http://127.0.0.1:PORT --results bench/quality/RESULTS.md \
               --commit abc1234 --command "bench/quality/run.sh"

For every brief of briefs.json it asks POST /api/matches to rank all 17
creators "as written" (every field) and "bare" (topic, keyTakeaway,
additionalContext only; the everyday briefs are bare already and are asked
once), scores the rankings against grades.json, does the same for two
baselines that do not use the module's ranking (followers first;
POST /api/creators/search on the brief's text), prints the tables and
writes them to RESULTS.md.

Python 3 standard library only.
"""

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BARE_FIELDS = ("topic", "keyTakeaway", "additionalContext")
# what a brief may carry as the assignment ("as written"); id, kind and
# split are the benchmark's own and are not sent
ASSIGNMENT_FIELDS = BARE_FIELDS + ("targetAudience", "creatorNiches",
                                   "creatorValues", "toneStyle")
K = 3   # nDCG@3, bad@3
# matchScore values whose meaning on the benchmark RESULTS.md reports
# (README.md's "Matching" quotes them)
CUTS = (0.3, 0.5, 0.7)


# --- HTTP ---------------------------------------------------------------------

def post(base, path, body):
    """POST a JSON body, return the parsed reply; die on anything but 200."""
    req = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit("quality: POST %s: HTTP %d: %s"
                 % (path, e.code, e.read()[:500].decode(errors="replace")))


def rank_matches(base, assignment, n):
    """The module's ranking: [(creatorId, matchScore)], best first."""
    reply = post(base, "/api/matches", {"assignment": assignment, "topK": n})
    data = reply["data"]
    if data.get("isFallback"):
        # structured signals only: the index was not ready, the numbers
        # would not be today's ranking
        sys.exit("quality: POST /api/matches answered isFallback: true")
    ranked = [(m["creatorId"], m["matchScore"]) for m in data["matches"]]
    if len(ranked) != n:
        sys.exit("quality: POST /api/matches ranked %d creators, want %d"
                 % (len(ranked), n))
    return ranked


def rank_search(base, brief, n):
    """Baseline (b): vector search on the brief's text alone."""
    query = " ".join(brief[f] for f in BARE_FIELDS)
    reply = post(base, "/api/creators/search", {"query": query, "topK": n})
    ranked = [(r["id"], r["score"]) for r in reply["results"]]
    if len(ranked) != n:
        sys.exit("quality: POST /api/creators/search returned %d creators, "
                 "want %d" % (len(ranked), n))
    return ranked


# --- metrics -----------------------------------------------------------------

def dcg(gains):
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def score_ranking(ranked, grades):
    """Per-brief metrics of one ranking against that brief's grades."""
    got = [grades[c] for c, _ in ranked]
    ideal = sorted(grades.values(), reverse=True)
    relevant = sum(1 for g in grades.values() if g >= 1)
    has_fit = ideal[0] > 0
    return {
        # a brief graded all 0 has no ideal ranking: no nDCG, no P@1
        "ndcg": dcg(got[:K]) / dcg(ideal[:K]) if has_fit else None,
        "p1": (got[0] >= 2) if has_fit else None,
        "bad": sum(1 for g in got[:K] if g == 0),
        # grade-0 creators that even a perfect ranking must put in the top 3
        "bad_min": max(0, K - relevant),
        "top": ranked[:K],
        "top_grades": got[:K],
        "top_score": ranked[0][1],
        # every ranked creator: (matchScore, grade)
        "pairs": [(s, grades[c]) for c, s in ranked],
    }


def totals(rows):
    """Totals over a list of (brief, metrics) pairs."""
    fit = [m for b, m in rows if m["ndcg"] is not None]
    out = {
        "briefs": len(rows),
        "fit": len(fit),
        "ndcg": statistics.mean(m["ndcg"] for m in fit) if fit else None,
        "p1": sum(1 for m in fit if m["p1"]),
        "bad": sum(m["bad"] for b, m in rows),
        "bad_min": sum(m["bad_min"] for b, m in rows),
    }
    # calibration: a no-fit brief should score below the typical best
    # score of a brief that has a fit (the median of their top scores)
    fit_tops = [m["top_score"] for b, m in rows if b["kind"] != "nofit"]
    nofit = [(b, m) for b, m in rows if b["kind"] == "nofit"]
    out["median_fit_top"] = statistics.median(fit_tops) if fit_tops else None
    out["nofit"] = len(nofit)
    out["calib_pass"] = sum(1 for b, m in nofit
                            if fit_tops and m["top_score"] < out["median_fit_top"])
    out["nofit_tops"] = [(b["id"], m["top_score"]) for b, m in nofit]
    return out


def score_bands(rows):
    """What a matchScore at or above each of CUTS means on these briefs.

    For each cut: the pairs (brief, creator) that reach it and how they
    were graded, the share of all the pairs graded 2 or more that reach
    it, and the briefs whose best match reaches it (those with a fit and
    the no-fit ones).  Below the first cut: the pairs under it.
    """
    pairs = [p for b, m in rows for p in m["pairs"]]
    good_all = sum(1 for _, g in pairs if g >= 2)
    fit = [m for b, m in rows if b["kind"] != "nofit"]
    nofit = [m for b, m in rows if b["kind"] == "nofit"]
    out = {}
    for cut in CUTS:
        at = [g for s, g in pairs if s >= cut]
        out["%.1f" % cut] = {
            "pairs": len(at),
            "good": sum(1 for g in at if g >= 2),       # graded 2 or 3
            "tangential": sum(1 for g in at if g == 1),
            "wrong": sum(1 for g in at if g == 0),
            "good_all": good_all,
            "briefs": len(fit),
            "briefs_top": sum(1 for m in fit if m["top_score"] >= cut),
            "nofit": len(nofit),
            "nofit_top": sum(1 for m in nofit if m["top_score"] >= cut),
        }
    below = [g for s, g in pairs if s < CUTS[0]]
    out["below"] = {"pairs": len(below),
                    "good": sum(1 for g in below if g >= 2),
                    "tangential": sum(1 for g in below if g == 1),
                    "wrong": sum(1 for g in below if g == 0),
                    "good_all": good_all}
    return out


# --- formatting ------------------------------------------------------------------

def f3(x):
    return "–" if x is None else "%.3f" % x


def top3(m):
    return " ".join("%s(%d)" % (c, g) for (c, _), g in zip(m["top"], m["top_grades"]))


def brief_table(rows):
    lines = ["| brief | kind | split | nDCG@3 | P@1 | bad@3 | top score | top 3 (grade) |",
             "|---|---|---|---|---|---|---|---|"]
    for b, m in rows:
        p1 = "–" if m["p1"] is None else ("1" if m["p1"] else "0")
        bad = "%d" % m["bad"] + (" (min %d)" % m["bad_min"] if m["bad_min"] else "")
        lines.append("| %s | %s | %s | %s | %s | %s | %.3f | %s |" % (
            b["id"], b["kind"], b["split"], f3(m["ndcg"]), p1, bad,
            m["top_score"], top3(m)))
    return lines


def totals_table(sets):
    """sets: [(ranking name, brief set name, rows)]; one line per split."""
    lines = ["| ranking | briefs | split | n (with a fit) | nDCG@3 | P@1 | bad@3 (unavoidable) | calibration | median top score (fit) | no-fit top scores |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, set_name, rows in sets:
        for split in ("all", "A", "B"):
            sub = [(b, m) for b, m in rows if split == "all" or b["split"] == split]
            t = totals(sub)
            calib = ("%d/%d" % (t["calib_pass"], t["nofit"])) if t["nofit"] else "–"
            p1 = "%d/%d" % (t["p1"], t["fit"])
            tops = ", ".join("%.3f" % s for _, s in t["nofit_tops"]) or "–"
            lines.append("| %s | %s | %s | %d (%d) | %s | %s | %d (%d) | %s | %s | %s |" % (
                name if split == "all" else "", set_name if split == "all" else "",
                split, t["briefs"], t["fit"], f3(t["ndcg"]), p1, t["bad"],
                t["bad_min"], calib, f3(t["median_fit_top"]), tops))
    return lines


def pct(n, d):
    return "–" if not d else "%d%%" % round(100.0 * n / d)


def bands_table(sets):
    """sets: [(brief set name, rows)]; one line per cut, and one below."""
    lines = ["| briefs | matchScore | pairs | graded ≥ 2 | graded 1 | graded 0 | "
             "pairs graded ≥ 2 that reach it | briefs whose best reaches it | "
             "no-fit briefs whose best reaches it |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, rows in sets:
        t = score_bands(rows)
        for i, cut in enumerate(CUTS):
            c = t["%.1f" % cut]
            lines.append("| %s | ≥ %.1f | %d | %s | %s | %s | %d/%d (%s) | %d/%d | %s |" % (
                name if i == 0 else "", cut, c["pairs"],
                pct(c["good"], c["pairs"]), pct(c["tangential"], c["pairs"]),
                pct(c["wrong"], c["pairs"]), c["good"], c["good_all"],
                pct(c["good"], c["good_all"]), c["briefs_top"], c["briefs"],
                ("%d/%d" % (c["nofit_top"], c["nofit"])) if c["nofit"] else "–"))
        c = t["below"]
        lines.append("|  | < %.1f | %d | %s | %s | %s | %d/%d (%s) | | |" % (
            CUTS[0], c["pairs"], pct(c["good"], c["pairs"]),
            pct(c["tangential"], c["pairs"]), pct(c["wrong"], c["pairs"]),
            c["good"], c["good_all"], pct(c["good"], c["good_all"])))
    return lines


def kind_table(sets):
    lines = ["| ranking | kind | n (with a fit) | nDCG@3 | P@1 | bad@3 (unavoidable) |",
             "|---|---|---|---|---|---|"]
    for name, rows in sets:
        for kind in ("easy", "mixed", "hard", "nofit", "everyday"):
            sub = [(b, m) for b, m in rows if b["kind"] == kind]
            if not sub:
                continue
            t = totals(sub)
            lines.append("| %s | %s | %d (%d) | %s | %d/%d | %d (%d) |" % (
                name, kind, t["briefs"], t["fit"], f3(t["ndcg"]), t["p1"],
                t["fit"], t["bad"], t["bad_min"]))
    return lines


def wrong_table(sets):
    """How often each creator sits in a top 3 with grade 0, per ranking."""
    names = [n for n, _ in sets]
    counts = {}
    for i, (_, rows) in enumerate(sets):
        for b, m in rows:
            for (c, _), g in zip(m["top"], m["top_grades"]):
                if g == 0:
                    counts.setdefault(c, [0] * len(sets))[i] += 1
    lines = ["| creator | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for c, v in sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0])):
        lines.append("| %s | %s |" % (c, " | ".join(str(x) for x in v)))
    return lines


# --- main -------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--briefs", default=os.path.join(HERE, "briefs.json"))
    ap.add_argument("--grades", default=os.path.join(HERE, "grades.json"))
    ap.add_argument("--creators", required=True, help="the creators file nginx loaded")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--raw", help="also write every ranking as JSON here")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--command", default="bench/quality/run.sh")
    ap.add_argument("--note", default="", help="a line for the header (the module)")
    ap.add_argument("--quiet", action="store_true",
                    help="print nothing (the files are still written)")
    ap.add_argument("--totals", help="also write the module's totals as JSON here "
                    "(t/040-match-flow.t checks them against floors)")
    args = ap.parse_args()

    briefs = json.load(open(args.briefs))["briefs"]
    grades = json.load(open(args.grades))["grades"]
    creators = json.load(open(args.creators))
    if isinstance(creators, dict):          # keyed by uniqueId, as shipped
        creators = list(creators.values())
    ids = sorted(c["uniqueId"] for c in creators)
    n = len(ids)

    # the files agree: a grade for every creator of every brief
    for b in briefs:
        g = grades.get(b["id"])
        if g is None or sorted(g) != ids:
            sys.exit("quality: grades.json: brief %s needs a grade for each of "
                     "the %d creators" % (b["id"], n))

    # baseline (a): followers first, ties by uniqueId (the same for every brief)
    followers = sorted(((c["uniqueId"], c.get("followerCount") or 0) for c in creators),
                       key=lambda x: (-x[1], x[0]))

    runs = {"as written": [], "bare": [], "everyday": [],
            "followers": [], "followers everyday": [],
            "search": [], "search everyday": []}
    raw = []
    for b in briefs:
        g = grades[b["id"]]
        everyday = b["kind"] == "everyday"
        bare = {f: b[f] for f in BARE_FIELDS}
        written = {f: b[f] for f in ASSIGNMENT_FIELDS if f in b}
        rec = {"id": b["id"]}
        if everyday:
            rec["everyday"] = rank_matches(args.base, bare, n)
            runs["everyday"].append((b, score_ranking(rec["everyday"], g)))
        else:
            rec["as written"] = rank_matches(args.base, written, n)
            rec["bare"] = rank_matches(args.base, bare, n)
            runs["as written"].append((b, score_ranking(rec["as written"], g)))
            runs["bare"].append((b, score_ranking(rec["bare"], g)))
        # a followers "score": the count relative to the largest, so that
        # the calibration column has a number in [0, 1] (it cannot pass:
        # the top is the same creator for every brief)
        fmax = followers[0][1] or 1
        fol = [(c, f / fmax) for c, f in followers]
        rec["search"] = rank_search(args.base, b, n)
        suffix = " everyday" if everyday else ""
        runs["followers" + suffix].append((b, score_ranking(fol, g)))
        runs["search" + suffix].append((b, score_ranking(rec["search"], g)))
        raw.append(rec)
        if not args.quiet:
            print("quality: %-40s done" % b["id"], file=sys.stderr)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = []
    out += ["# Matching quality: results", "",
            "Commit `%s`, %s, `%s`." % (args.commit, now, args.command)]
    if args.note:
        out += ["", args.note]
    out += ["",
            "%d briefs (%s), %d creators, grades in `grades.json`; what the columns "
            "mean: `README.md`. nDCG@3 and P@1 leave out briefs graded 0 for every "
            "creator; bad@3 counts grade-0 creators in the top 3 (in brackets: how "
            "many even a perfect ranking must show); calibration: no-fit briefs "
            "whose top score is below the median top score of the briefs with a fit."
            % (len(briefs), ", ".join("%d %s" % (sum(1 for b in briefs if b["kind"] == k), k)
                                      for k in ("easy", "mixed", "hard", "nofit", "everyday")),
               n),
            "", "## Totals", ""]
    out += totals_table([
        ("module", "as written", runs["as written"]),
        ("module", "bare", runs["bare"]),
        ("module", "everyday", runs["everyday"]),
        ("followers first", "as written/bare", runs["followers"]),
        ("followers first", "everyday", runs["followers everyday"]),
        ("text search", "as written/bare", runs["search"]),
        ("text search", "everyday", runs["search everyday"]),
    ])
    out += ["", "The baselines do not read the optional fields, so their \"as written\" "
            "and \"bare\" results are the same. Followers first ranks every brief "
            "`%s`." % " > ".join(c for c, _ in followers[:K]),
            "", "## By kind", ""]
    out += kind_table([("module as written", runs["as written"]),
                       ("module bare", runs["bare"] + runs["everyday"]),
                       ("text search", runs["search"] + runs["search everyday"])])
    out += ["", "## What a matchScore means", "",
            "Every pair (brief, creator) the module ranked, by its matchScore: "
            "how many reach each value and how they were graded, how many of "
            "all the pairs graded 2 or 3 reach it, and how many briefs have "
            "their best match at or above it.", ""]
    out += bands_table([("as written", runs["as written"]),
                        ("bare", runs["bare"]),
                        ("everyday", runs["everyday"])])
    out += ["", "## Creators graded 0 in a top 3", "",
            "How many briefs put the creator in the top 3 although it was graded 0.", ""]
    out += wrong_table([("module as written", runs["as written"]),
                        ("module bare", runs["bare"]),
                        ("module everyday", runs["everyday"]),
                        ("text search", runs["search"] + runs["search everyday"])])
    for title, key in (("Per brief: module, as written", "as written"),
                       ("Per brief: module, bare", "bare"),
                       ("Per brief: module, everyday (bare)", "everyday"),
                       ("Per brief: text search baseline", None)):
        out += ["", "## " + title, ""]
        rows = runs[key] if key else runs["search"] + runs["search everyday"]
        out += brief_table(rows)

    text = "\n".join(out) + "\n"
    with open(args.results + ".tmp", "w") as f:
        f.write(text)
    os.replace(args.results + ".tmp", args.results)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(raw, f, indent=1)
    if args.totals:
        # {"as written": {"all": {...}, "A": {...}, "B": {...}}, ...}
        tot = {}
        for key in ("as written", "bare", "everyday"):
            tot[key] = {}
            for split in ("all", "A", "B"):
                rows = [(b, m) for b, m in runs[key]
                        if split == "all" or b["split"] == split]
                t = totals(rows)
                del t["nofit_tops"]
                t["bands"] = score_bands(rows)
                tot[key][split] = t
        with open(args.totals, "w") as f:
            json.dump(tot, f, indent=1)
    # on the terminal the same text, but the totals last, where they are
    # seen without scrolling back over the per-brief tables
    if args.quiet:
        return
    head, rest = text.split("\n## Totals\n", 1)
    totals_part, rest = rest.split("\n## By kind\n", 1)
    print(head + "\n## By kind\n" + rest + "\n## Totals\n" + totals_part, end="")


if __name__ == "__main__":
    main()
