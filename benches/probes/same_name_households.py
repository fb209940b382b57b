#!/usr/bin/env python3
"""Hand-made households for the birthday guard (BENCHMARKS.md, 38th session).

100 fathers and sons of one name on one family e-mail, born decades apart
(two people each, four records), and 100 people whose three records on
their own e-mail give the birthday with a typo (a digit, day and month
swapped, year digits swapped) or not at all (one person each). Writes
web.jsonl, pos.jsonl, social.jsonl and truth.csv to OUT_DIR for
`kindred demo --input OUT_DIR` and `kindred eval --truth OUT_DIR/truth.csv`.

    python3 benches/probes/same_name_households.py OUT_DIR
"""
import json, os, random, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(38)
given = ["John","Michael","David","James","Robert","William","Thomas","Richard","Wei","Hiroshi","Carlos","Peter","Paul","Mark","Daniel"]
family = ["Smith","Jones","Brown","Taylor","Wilson","Garcia","Martin","Lee","Walker","Hall","Young","King","Wright","Scott","Green"]
def ev(eid, t, email, g, f, bday, phone=None):
    return {"event_id": eid, "event_type": "signup", "user_id": None, "anonymous_id": None,
            "email": email, "phone": phone, "name": None, "given_name": g, "family_name": f,
            "birthday": bday, "gender": None, "address": None, "sku": None, "order": None,
            "order_amount_minor": None, "currency": None, "consents": [], "event_time": 1735689600000 + t * 86400000}
def date(y, m, d): return f"{y:04d}-{m:02d}-{d:02d}"
open(f"{out}/pos.jsonl", "w").close(); open(f"{out}/social.jsonl", "w").close()
web = open(f"{out}/web.jsonl", "w"); truth = open(f"{out}/truth.csv", "w"); truth.write("event_id,person\n")
t = 0
for i in range(100):
    g, f = rnd.choice(given), rnd.choice(family)
    mail = f"{f.lower()}.family{i}@gmail.com"
    fy, sy = rnd.randint(1945, 1965), rnd.randint(1985, 2000)
    fb, sb = date(fy, rnd.randint(1, 12), rnd.randint(1, 28)), date(sy, rnd.randint(1, 12), rnd.randint(1, 28))
    # father, son, father again: one person each side
    for k, (who, b) in enumerate([("f", fb), ("s", sb), ("f", fb), ("s", sb)]):
        t += 1
        web.write(json.dumps(ev(f"fs{i}-{k}", t, mail, g, f, b)) + "\n"); truth.write(f"web:fs{i}-{k},fs{i}{who}\n")
for i in range(100):
    g, f = rnd.choice(given), rnd.choice(family)
    mail = f"{g.lower()}{i}@gmail.com"
    y, m, d = rnd.randint(1950, 2000), rnd.randint(1, 12), rnd.randint(1, 12)
    b = date(y, m, d)
    kind = i % 4
    if kind == 0: b2 = date(y, m, (d % 28) + 1)          # one digit-ish
    elif kind == 1: b2 = date(y, d, m)                   # day and month swapped
    elif kind == 2: b2 = None                            # not given
    else:                                                # year digits swapped
        s = str(y); b2 = date(int(s[:2] + s[3] + s[2]), m, d)
    for k, bd in enumerate([b, b2, b]):
        t += 1
        web.write(json.dumps(ev(f"one{i}-{k}", t, mail, g, f, bd)) + "\n"); truth.write(f"web:one{i}-{k},one{i}\n")
