"""Writes name_corpus.tsv: Latin full names as tills, web forms and CRM
exports type them (titles, nicknames, generational and professional
suffixes, `Family, Given` order, upper and lower case), each with how
python-nameparser reads it.

    pip install nameparser==2.6.0
    python3 crates/kindred-normalize/tests/data/gen_name_corpus.py

Columns: the typed name; the name as a person's name reads (nameparser's
first, middle and last names, then a generational suffix, without title,
nickname or degrees); the given and family names when the text says which
is which (a comma after the family name), else empty.
"""
import os
import random

import nameparser
from nameparser import HumanName
from nameparser.config import CONSTANTS

assert nameparser.__version__ == "2.6.0", nameparser.__version__

FIRST = ["John", "Mary", "Mary-Ann", "José", "Zoë", "Seán", "Anna", "William", "Chloé", "Olu", "Priya", "Wei"]
MIDDLE = [None, None, "A.", "B", "Ann", "Lee", "Marie"]
LAST = ["Smith", "O'Brien", "McDonald", "Smith-Jones", "de la Cruz", "van der Berg", "García", "Nguyen", "Okafor", "Li", "von Trapp", "MacLeod"]
TITLES = ["Mr", "Mr.", "Mrs.", "Ms", "Dr.", "Prof.", "Sir", "Dame", "Rev.", "Capt.", "Col.", "Lt.", "Sgt."]
GENERATIONAL = {"jr": "Jr", "jnr": "Jr", "junior": "Jr", "sr": "Sr", "snr": "Sr", "ii": "II", "iii": "III", "iv": "IV"}
GEN_TYPED = ["Jr.", "Jr", "JR", "Sr.", "Snr", "Jnr", "II", "III", "IV"]
DEGREES = ["PhD", "Ph.D.", "MD", "M.D.", "Esq.", "CPA", "DDS", "RN"]
NICKS = ["Jack", "Bobby", "Liz"]

for t in TITLES:
    assert t.rstrip(".").lower() in CONSTANTS.titles, t
for g in GEN_TYPED:
    assert g.rstrip(".").lower() in CONSTANTS.suffix_not_acronyms | CONSTANTS.suffix_acronyms, g
for d in DEGREES:
    assert d.replace(".", "").lower() in CONSTANTS.suffix_acronyms | CONSTANTS.suffix_not_acronyms, d


def expected(typed, comma):
    n = HumanName(typed)
    gen = []
    for piece in n.suffix_list:
        for word in piece.split():
            w = word.rstrip(".").lower()
            if w in GENERATIONAL:
                gen.append(GENERATIONAL[w])
    full = " ".join(p for p in [n.first, n.middle, n.last] + gen[:1] if p)
    given = " ".join(p for p in [n.first, n.middle] if p) if comma else ""
    family = n.last if comma else ""
    return full, given, family


def main():
    rng = random.Random(7)
    rows = set()
    while len(rows) < 1500:
        first, middle, last = rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)
        given = " ".join(p for p in [first, middle] if p)
        title = rng.choice(TITLES) + " " if rng.random() < 0.3 else ""
        gen = rng.choice(GEN_TYPED) if rng.random() < 0.3 else None
        degree = rng.choice(DEGREES) if rng.random() < 0.2 else None
        form = rng.randrange(9)
        comma = False
        if form == 0:
            typed = " ".join(p for p in [title + given, last, gen, degree] if p)
        elif form == 1:
            typed = title + given + " " + last + "".join(", " + s for s in [gen, degree] if s)
        elif form == 2:
            typed = last + ", " + title + given
            comma = True
        elif form == 3:
            typed = last + ", " + given + "".join(", " + s for s in [gen, degree] if s)
            comma = True
        elif form == 4:
            nick = rng.choice(NICKS)
            typed = f'{title}{first} "{nick}" {" ".join(p for p in [middle, last] if p)}'
        elif form == 5:
            nick = rng.choice(NICKS)
            typed = f'{first} ({nick}) {last}'
        elif form == 6:
            # The title before the family name, the given name after the comma.
            typed = (title or rng.choice(TITLES) + " ") + last + ", " + given
            comma = True
        elif form == 7:
            # A title after the name, behind a comma.
            typed = given + " " + last + ", " + rng.choice(TITLES)
        else:
            # A degree after the given name of a turned-round name.
            typed = last + ", " + given + " " + rng.choice(DEGREES)
            comma = True
        case = rng.random()
        if case < 0.15:
            typed = typed.upper()
        elif case < 0.25:
            typed = typed.lower()
        full, g, f = expected(typed, comma)
        rows.add((typed, full, g, f))
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "name_corpus.tsv"), "w", encoding="utf-8") as out:
        out.write("# typed\tname\tgiven\tfamily (python-nameparser 2.6.0; gen_name_corpus.py)\n")
        for row in sorted(rows):
            out.write("\t".join(row) + "\n")


main()
