#!/usr/bin/env python3
"""Hand-made shapes for the birthday guard (BENCHMARKS.md, 39th session).

Four shapes, 50 households or people each, all web sign-ups on one e-mail
per household (a person's own e-mail in shape D):
  A. a father's year-only record (a 1 January) between his record and his
     son's (two people);
  B. the son's receipt without a birthday between the father's record and
     the father's later record with a typo in its birthday (two people);
  C. father and son at one address, and an order without a birthday at
     that address, the father's in even households and the son's in odd
     ones (two people);
  D. one person whose two systems wrote the birthday a day apart across a
     month's end (28 February / 1 March; one person).
Writes web.jsonl, pos.jsonl, social.jsonl and truth.csv to OUT_DIR for
`kindred demo --input OUT_DIR` and `kindred eval --truth OUT_DIR/truth.csv`.

    python3 benches/probes/birthday_guard_shapes.py OUT_DIR
"""
import json, os, random, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(39)
given = ["John", "Michael", "David", "James", "Robert", "William", "Thomas", "Richard", "Peter", "Paul", "Mark", "Daniel"]
family = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Garcia", "Martin", "Walker", "Hall", "Young", "King", "Wright"]
streets = ["Stow Place", "Kent Street", "Mill Road", "Park Avenue", "Hill Crescent", "Bay Road"]
open(f"{out}/pos.jsonl", "w").close()
open(f"{out}/social.jsonl", "w").close()
web = open(f"{out}/web.jsonl", "w")
truth = open(f"{out}/truth.csv", "w")
truth.write("event_id,person\n")
t = 0


def ev(eid, person, email, g, f, bday, address=None, kind="signup"):
    global t
    t += 1
    web.write(json.dumps({
        "event_id": eid, "event_type": kind, "user_id": None, "anonymous_id": None,
        "email": email, "phone": None, "name": None, "given_name": g, "family_name": f,
        "birthday": bday, "gender": None, "address": address, "sku": None, "order": None,
        "order_amount_minor": None, "currency": None, "consents": [],
        "event_time": 1735689600000 + t * 86400000}) + "\n")
    truth.write(f"web:{eid},{person}\n")


def date(y, m, d):
    return f"{y:04d}-{m:02d}-{d:02d}"


def family_of(i):
    g, f = rnd.choice(given), rnd.choice(family)
    fy, sy = rnd.randint(1950, 1965), rnd.randint(1985, 1998)
    father = date(fy, rnd.randint(2, 12), rnd.randint(10, 28))
    son = date(sy, rnd.randint(2, 12), rnd.randint(10, 28))
    return g, f, father, son


for i in range(50):
    g, f, fb, sb = family_of(i)
    mail = f"{f.lower()}.a{i}@gmail.com"
    ev(f"a{i}-father", f"a{i}f", mail, g, f, fb)
    ev(f"a{i}-father-year", f"a{i}f", mail, g, f, fb[:4] + "-01-01")
    ev(f"a{i}-son", f"a{i}s", mail, g, f, sb)
for i in range(50):
    g, f, fb, sb = family_of(i)
    mail = f"{f.lower()}.b{i}@gmail.com"
    typo = fb[:9] + str((int(fb[9]) + 1) % 10)
    ev(f"b{i}-father", f"b{i}f", mail, g, f, fb)
    ev(f"b{i}-son", f"b{i}s", mail, g, f, sb)
    ev(f"b{i}-son-receipt", f"b{i}s", mail, g, f, None)
    ev(f"b{i}-father-typo", f"b{i}f", mail, g, f, typo)
for i in range(50):
    g, f, fb, sb = family_of(i)
    mail = f"{f.lower()}.c{i}@gmail.com"
    home = {"line1": f"{rnd.randint(1, 99)} {rnd.choice(streets)}", "line2": None,
            "city": "Canberra", "region": None, "postal_code": str(2600 + i), "country": "Australia"}
    ev(f"c{i}-father", f"c{i}f", mail, g, f, fb, home)
    ev(f"c{i}-son", f"c{i}s", mail, g, f, sb, home)
    ev(f"c{i}-order", f"c{i}f" if i % 2 == 0 else f"c{i}s", mail, g, f, None, home)
for i in range(50):
    g, f = rnd.choice(given), rnd.choice(family)
    y = rnd.randint(1950, 1998)
    mail = f"{g.lower()}.{f.lower()}.d{i}@gmail.com"
    ev(f"d{i}-shop", f"d{i}", mail, g, f, date(y, 2, 28))
    ev(f"d{i}-app", f"d{i}", mail, g, f, date(y, 3, 1))
