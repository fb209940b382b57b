"""Appends to nicknames-excluded.csv the rows of nicknames.csv whose two names
are both given names in use today: both in the first-name lists of Faker's
en_GB, en_IE and en_NZ person providers (Faker 40.63.0, MIT; the lists
benches/thirdparty/faker.sh downloads). Twins and siblings are given such
pairs (Harry and Henry, Jack and John, Molly and Mary), and twins share a
family name, a birthday and an address: a match rule could not tell them
apart. Rows already excluded are left as they are.

    PYTHONPATH=$HOME/.cache/kindred/faker/lib python3 given_names_today.py
"""
import csv
import importlib
import os

here = os.path.dirname(os.path.abspath(__file__))
today = set()
for locale in ("en_GB", "en_IE", "en_NZ"):
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    for attr in ("first_names", "first_names_male", "first_names_female"):
        today |= {n.lower() for n in getattr(provider, attr, ())}
with open(os.path.join(here, "nicknames.csv"), newline="") as f:
    rows = [(r["name1"], r["name2"]) for r in csv.DictReader(f)]
excluded_path = os.path.join(here, "nicknames-excluded.csv")
with open(excluded_path, newline="") as f:
    excluded = {tuple(sorted((r["name1"], r["name2"]))) for r in csv.DictReader(f)}
added = 0
with open(excluded_path, "a", newline="") as f:
    for a, b in rows:
        if a in today and b in today and tuple(sorted((a, b))) not in excluded:
            f.write(f"{a},{b},given_names_today\n")
            added += 1
print(f"added {added} rows")
