#!/usr/bin/env python3
"""Generate N synthetic creators as NDJSON, deterministic by seed.

    bench/gen-creators.py N SEED [SAMPLES] > creators.ndjson

The vocabulary (niches, values, causes, stances, audience interests,
tones, content styles, calls to action, partnership notes, regions, bio
lines, nicknames, hashtags) is read at run time from the 17 sample
creators (SAMPLES, default t/data/creators.json next to this directory,
or $CREATORS_JSON).  Every creator is valid per the contract
(../shared/specs/api.md): uniqueId of [A-Za-z0-9._-], required fields
present, primaryNiches and engagementStyle.tone non-empty, and about the
size of a sample (~2 KB).  Same N, SEED and samples -> same bytes.

Variety, so that search and matching have something to tell apart:
each creator starts from one of the samples as its archetype (2-3 of its
4 niches, 1-2 of its values, its bio lines and hashtags, its uniqueId
stem) and mixes in 1-2 niches and 1-2 values drawn from the whole
vocabulary (59 niches, 41 values from the 17 samples), so niche sets
overlap the way real creators' do without being copies.  Regions are
uniform over the samples' (US, UK, CA, EU) plus EXTRA_REGIONS (6 in all);
followerCount is log-uniform from 1,000 to 10,000,000 (a quarter below
10,000).

uniqueIds are "<sample-stem><index>" (e.g. "marketdecoded_000042"), so
line i always holds the creator with index i.  Stdlib only.
"""

import json
import os
import random
import sys

# regions the samples lack, so that a region filter selects about 1/6
EXTRA_REGIONS = ["AU", "IN"]


def load_samples(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    creators = list(data.values()) if isinstance(data, dict) else list(data)
    if not creators:
        sys.exit("gen-creators: no creators in %s" % path)
    return creators


def vocabulary(samples):
    """Distinct values per field, in first-seen order (deterministic)."""
    v = {}

    def add(key, items):
        lst = v.setdefault(key, [])
        for it in items:
            if isinstance(it, str) and it and it not in lst:
                lst.append(it)

    v["archetypes"] = []
    for c in samples:
        a = c.get("analysis", {})
        arch = {
            "niches": [n for n in a.get("primaryNiches", [])
                       + a.get("secondaryNiches", [])
                       if isinstance(n, str) and n],
            "values": [x for x in a.get("apparentValues", [])
                       if isinstance(x, str) and x],
            "interests": [x for x in a.get("audienceInterests", [])
                          if isinstance(x, str) and x],
            "bio_lines": [x for x in c.get("bio", "").split("\n") if x],
            "hashtags": [h.lstrip("#") for h in c.get("sourceHashtags", [])
                         if isinstance(h, str) and h.lstrip("#")],
            "stem": c.get("uniqueId", ""),
        }
        if arch["niches"] and arch["stem"]:
            v["archetypes"].append(arch)
        es = a.get("engagementStyle", {})
        pp = a.get("partnershipPotential", {})
        add("niches", a.get("primaryNiches", []) + a.get("secondaryNiches", []))
        add("values", a.get("apparentValues", []))
        add("causes", a.get("identifiedCauses", []))
        add("stances", a.get("socialStances", []))
        add("interests", a.get("audienceInterests", []))
        add("tones", es.get("tone", []))
        add("styles", [es.get("contentStyle", "")])
        add("ctas", es.get("callsToAction", []))
        add("orgs", pp.get("alignedOrganizationTypes", []))
        add("strengths", pp.get("contentStrengths", []))
        add("considerations", pp.get("considerations", []))
        add("evidence", [a.get("evidenceNotes", "")])
        add("regions", [c.get("region", "")])
        add("bio_lines", c.get("bio", "").split("\n"))
        add("hashtags", [h.lstrip("#") for h in
                         a.get("topHashtags", []) + c.get("topHashtags", [])
                         + c.get("sourceHashtags", [])])
        add("stems", [c.get("uniqueId", "")])
        nick = c.get("nickname", "")
        add("first", [nick.split(" ")[0]])
        add("last", [w for w in nick.split(" ")[1:2] if w])
    add("regions", EXTRA_REGIONS)
    for key in ("niches", "values", "tones", "regions", "bio_lines",
                "hashtags", "stems", "first", "archetypes"):
        if not v.get(key):
            sys.exit("gen-creators: the samples give no %s" % key)
    return v


def creator(i, rng, v):
    pick = rng.choice

    def some(key, lo, hi):
        lst = v.get(key) or []
        k = min(len(lst), rng.randint(lo, hi))
        return rng.sample(lst, k)

    def mix(own, key, lo, hi, extra_lo, extra_hi):
        """lo..hi of the archetype's own, then extra_lo..extra_hi others"""
        out = rng.sample(own, min(len(own), rng.randint(lo, hi)))
        others = [x for x in v.get(key) or [] if x not in out]
        k = min(len(others), rng.randint(extra_lo, extra_hi))
        return out + rng.sample(others, k)

    arch = pick(v["archetypes"])
    niches = mix(arch["niches"], "niches", 2, 3, 1, 2)
    np = rng.randint(1, 2)
    primary, secondary = niches[:np], niches[np:]
    values = mix(arch["values"], "values", 1, 2, 1, 2)
    tones = some("tones", 1, 3)
    tags = mix(arch["hashtags"], "hashtags", 3, 6, 1, 2)
    stem = arch["stem"]
    uid = "%s_%06d" % (stem, i)
    nick = "%s %s" % (pick(v["first"]), pick(v.get("last") or ["X."]))
    bio = "\n".join(mix(arch["bio_lines"], "bio_lines", 1, 2, 0, 1))[:1000]
    followers = int(10 ** rng.uniform(3, 7))
    summary = (
        "%s is a short-form creator whose content centers on %s with "
        "supporting themes in %s. Their videos prioritize %s, and the "
        "audience comes for %s." % (
            nick, ", ".join(n.lower() for n in primary),
            ", ".join(n.lower() for n in secondary) or "everyday life",
            ", ".join(x.lower() for x in values),
            ", ".join(x.lower() for x in
                      mix(arch["interests"], "interests", 1, 2, 0, 1))
            or "practical advice"))
    return {
        "uniqueId": uid,
        "nickname": nick,
        "bio": bio,
        "followerCount": followers,
        "followingCount": rng.randint(0, 2000),
        "heartCount": followers * rng.randint(5, 120),
        "videoCount": rng.randint(10, 2000),
        "verified": rng.random() < 0.1,
        "region": pick(v["regions"]),
        "avatarUrl": "https://example.com/avatars/%s.jpg" % uid,
        "secUid": "MS4wLjABAAAA" + "".join(
            pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789-_") for _ in range(64)),
        "analysis": {
            "summary": summary[:2000],
            "primaryNiches": primary,
            "secondaryNiches": secondary,
            "identifiedCauses": some("causes", 1, 3),
            "apparentValues": values,
            "socialStances": some("stances", 0, 2),
            "audienceInterests": mix(arch["interests"], "interests", 1, 3, 1, 1),
            "engagementStyle": {
                "tone": tones,
                "contentStyle": pick(v.get("styles") or ["Short explainers."]),
                "callsToAction": some("ctas", 1, 3),
            },
            "partnershipPotential": {
                "alignedOrganizationTypes": some("orgs", 2, 3),
                "contentStrengths": some("strengths", 2, 3),
                "considerations": some("considerations", 1, 2),
            },
            "topHashtags": ["#" + t for t in tags[:4]],
            "evidenceNotes": pick(v.get("evidence") or ["Synthetic."]),
        },
        "sourceHashtags": tags,
        "topHashtags": ["#" + t for t in tags[:4]],
        "videosAnalyzed": rng.randint(5, 30),
        "profileUrl": "https://www.tiktok.com/@%s" % uid,
        "crawlCount": rng.randint(1, 5),
    }


def main(argv):
    if len(argv) not in (3, 4) or not argv[1].isdigit():
        sys.exit("usage: gen-creators.py N SEED [samples.json] > out.ndjson")
    n, seed = int(argv[1]), argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    path = (argv[3] if len(argv) == 4 else os.environ.get(
        "CREATORS_JSON", os.path.join(here, "..", "t", "data",
                                      "creators.json")))
    v = vocabulary(load_samples(path))
    rng = random.Random("gen-creators:%s" % seed)   # str seeds are stable
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(creator(i, rng, v), ensure_ascii=False,
                             separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main(sys.argv)
