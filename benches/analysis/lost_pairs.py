#!/usr/bin/env python3
"""Where pairwise recall is lost: for every true person split over several
profiles, which identifiers (by the raw values, roughly normalized) each two
of its profiles share. Pairs that share none are beyond any identifier rule;
pairs that share one were kept apart by a guard, a window or a quarantine.

    kindred eval --data-dir D --truth IN/truth.csv --assignments A.csv
    python3 benches/analysis/lost_pairs.py IN A.csv

IN is a `kindred gen` output directory (pos.jsonl, web.jsonl, social.jsonl,
truth.csv); identifiers compare as `gen_records.py` reads them.
"""
import collections, csv, itertools, sys

import gen_records

src, assignments = sys.argv[1], sys.argv[2]
truth = {r["event_id"]: r["person"] for r in csv.DictReader(open(f"{src}/truth.csv"))}
profile = {r["event_id"]: r["profile_id"] for r in csv.DictReader(open(assignments))}
ids = {event: found for event, (found, _, _) in gen_records.read(src).items()}

held = collections.defaultdict(lambda: collections.defaultdict(set))
records = collections.defaultdict(collections.Counter)
for event, person in truth.items():
    # A record the clustering lacks (dead-lettered, erased) is a profile of
    # its own, as `kindred eval` scores it.
    where = profile.get(event, "missing:" + event)
    held[person][where] |= ids.get(event, set())
    records[person][where] += 1
pairs, profile_pairs = collections.Counter(), collections.Counter()
for person, profiles in held.items():
    for a, b in itertools.combinations(profiles, 2):
        shared = tuple(sorted({kind for kind, _ in profiles[a] & profiles[b]})) or ("none",)
        pairs[shared] += records[person][a] * records[person][b]
        profile_pairs[shared] += 1
# A pair that shares nothing directly may still be reachable through the
# person's other profiles (A shares a phone with B, B an e-mail with C):
# the person's profiles joined by any identifier they share, transitively.
chained = 0
for person, profiles in held.items():
    parent = {p: p for p in profiles}

    def find(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for a, b in itertools.combinations(profiles, 2):
        if profiles[a] & profiles[b]:
            parent[find(a)] = find(b)
    for a, b in itertools.combinations(profiles, 2):
        if not profiles[a] & profiles[b] and find(a) == find(b):
            chained += records[person][a] * records[person][b]
total = sum(pairs.values())
print(f"record pairs of one person in two profiles: {total}")
print("  share   record pairs   share of them   profile pairs")
for shared, n in pairs.most_common():
    print(f"  {','.join(shared):28} {n:10} {n / total:8.3f} {profile_pairs[shared]:10}")
none = pairs[("none",)]
print(f"of the {none} sharing none: {chained} ({chained / max(total, 1):.3f} of all) "
      f"reachable through the person's other profiles by shared identifiers; "
      f"{none - chained} ({(none - chained) / max(total, 1):.3f}) by none at all")
