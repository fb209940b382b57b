# Every ISO 3166-1 country by each of its names and codes, as pycountry (the
# Debian iso-codes data) gives them, for kindred-normalize's tests/countries.rs:
#
#   pip install pycountry==26.2.16
#   python3 gen_country_corpus.py > country_corpus.tsv
#
# Columns: the text, the alpha-2 code it names, which of the country's
# names or codes it is (alpha_2, alpha_3, name, official_name, common_name).
import pycountry
assert pycountry.__version__ == "26.2.16", pycountry.__version__
seen = set()
for c in sorted(pycountry.countries, key=lambda c: c.alpha_2):
    for field in ["alpha_2", "alpha_3", "name", "official_name", "common_name"]:
        text = getattr(c, field, None)
        if text and (text, c.alpha_2) not in seen:
            seen.add((text, c.alpha_2))
            print(f"{text}\t{c.alpha_2}\t{field}")
