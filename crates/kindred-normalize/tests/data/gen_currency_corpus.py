# Every ISO 4217 currency by its alphabetic and numeric codes, as pycountry
# (the Debian iso-codes data) gives them, for kindred-normalize's
# tests/currencies.rs:
#
#   pip install pycountry==26.2.16
#   python3 gen_currency_corpus.py > currency_corpus.tsv
#
# Columns: alphabetic code, numeric code (three digits), name.
import pycountry
assert pycountry.__version__ == "26.2.16", pycountry.__version__
for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
    print(f"{c.alpha_3}\t{c.numeric}\t{c.name}")
