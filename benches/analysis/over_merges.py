#!/usr/bin/env python3
"""What glues the over-merged profiles: for every profile holding records of
more than one true person, which identifiers (by the raw values, roughly
normalized as in lost_pairs.py) the records of different persons share, and
the names they carry. The glue is counted per profile by the set of kinds
shared across persons; `none` means the persons were joined by a match rule
(names, birthday, address) or through a chain of other records.

    kindred eval --data-dir D --truth IN/truth.csv --assignments A.csv
    python3 benches/analysis/over_merges.py IN A.csv [EXAMPLES]

IN is a `kindred gen` output directory (a glue value its gen.json lists as
a planted junk value is counted apart). EXAMPLES (default 0) prints that many
profiles' records, one line each, for reading by eye.
"""
import collections, csv, json, re, sys

import gen_records

src, assignments = sys.argv[1], sys.argv[2]
show = int(sys.argv[3]) if len(sys.argv) > 3 else 0
truth = {r["event_id"]: r["person"] for r in csv.DictReader(open(f"{src}/truth.csv"))}
profile = {r["event_id"]: r["profile_id"] for r in csv.DictReader(open(assignments))}
records = gen_records.read(src)
# Per phone (as compared here), the persons of the named records carrying it.
named_on_phone = collections.defaultdict(set)
for event_id, (found, name, _) in records.items():
    if name != "-" and event_id in truth:
        for kind, value in found:
            if kind == "phone":
                named_on_phone[value].add(truth[event_id])

# The generator lists the junk values it planted (a store's phone, a till's
# default card) in gen.json; a glue value among them is counted apart.
junk = set()
try:
    for j in json.load(open(f"{src}/gen.json"))["stats"].get("junk_values", []):
        d = re.sub(r"\D", "", j["value"].translate(gen_records.WIDE))
        # A phone as gen_records cuts it (its last eight digits), a card
        # (its digits without leading zeros).
        junk.update({d.lstrip("0")[-8:], d[-8:]})
except (OSError, KeyError, ValueError):
    pass

members = collections.defaultdict(list)
for event, where in profile.items():
    if event in truth:
        members[where].append(event)

glue, planted, shown = collections.Counter(), collections.Counter(), 0
glue_phones = set()
for where, events in sorted(members.items()):
    persons = {truth[e] for e in events}
    if len(persons) < 2:
        continue
    held = collections.defaultdict(set)
    for e in events:
        held[truth[e]] |= records.get(e, (set(), "", ""))[0]
    shared, values = set(), set()
    people = sorted(held)
    for i, a in enumerate(people):
        for b in people[i + 1:]:
            shared |= {kind for kind, _ in held[a] & held[b]}
            values |= {value for kind, value in held[a] & held[b] if kind in ("phone", "card")}
    kinds = ",".join(sorted(shared)) or "none"
    glue[kinds] += 1
    # Both sides cut as the junk list is: the last eight digits of the
    # value without leading zeros (a phone's tail may start with 0).
    if any(v.lstrip("0")[-8:] in junk or v in junk for v in values):
        planted[kinds] += 1
    for kind, value in set().union(*(held[a] & held[b] for i, a in enumerate(people) for b in people[i + 1:])):
        if kind == "phone":
            glue_phones.add(value)
    if shown < show:
        shown += 1
        print(f"== {where}: {len(persons)} persons, shared {kinds}")
        for e in sorted(events, key=lambda e: truth[e]):
            found, name, birth = records.get(e, (set(), "?", "?"))
            ids = " ".join(f"{k}={v}" for k, v in sorted(found))
            print(f"   {truth[e]:>10} {e:28} {name:30} {birth:12} {ids}")
total = sum(glue.values())
print(f"over-merged profiles: {total}")
named_twice = sum(1 for v in glue_phones if len(named_on_phone[v]) >= 2)
print(f"glue phones: {len(glue_phones)}, of them on named records of two or more persons: {named_twice}")
print("  shared kinds                     profiles   of them by a value gen.json lists as junk")
for kinds, n in glue.most_common():
    print(f"  {kinds:32} {n:6}   {planted[kinds]:6}")
