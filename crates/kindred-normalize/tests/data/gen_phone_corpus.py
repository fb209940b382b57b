# Phone numbers of every region as libphonenumber itself reads them, for
# kindred-normalize's tests/libphonenumber.rs. Uses `phonenumbers` (the
# Python port of libphonenumber) pinned to the metadata version of the Rust
# `phonenumber` crate kindred uses (0.3.10+9.0.33), so that the two read the
# same numbering plans:
#
#   pip install phonenumbers==9.0.33
#   python3 gen_phone_corpus.py
#
# phone_corpus.tsv: for each region and number type, its example number with
# the last digits replaced at random, kept when libphonenumber reads it as
# valid and of that type, written in E.164, international, national and
# RFC 3966 forms, and dialled with 00 from Germany and from Lithuania.
# phone_random.tsv: random digit strings in each region (some after the
# region's leading digits), as E.164 and as national numbers, valid or not.
# Columns: region, form, text, E.164 (`-` when invalid), type.
import random
import phonenumbers as pn
from phonenumbers import PhoneNumberType as T, PhoneNumberFormat as F

TYPES = {T.MOBILE: "mobile", T.FIXED_LINE: "fixed", T.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
         T.TOLL_FREE: "toll_free", T.PREMIUM_RATE: "premium", T.SHARED_COST: "shared_cost",
         T.VOIP: "voip", T.PERSONAL_NUMBER: "personal", T.PAGER: "pager", T.UAN: "uan",
         T.VOICEMAIL: "voicemail"}
assert pn.__version__ == "9.0.33", pn.__version__


def corpus(path, rng):
    out = open(path, "w")
    for region in sorted(pn.SUPPORTED_REGIONS):
        for t, name in TYPES.items():
            ex = pn.example_number_for_type(region, t)
            if ex is None:
                continue
            nsn = pn.national_significant_number(ex)
            found = 0
            for _ in range(200):
                k = min(4, len(nsn) - 2)
                cand = nsn[:-k] + "".join(rng.choice("0123456789") for _ in range(k))
                try:
                    num = pn.parse("+%d%s" % (ex.country_code, cand), None)
                except pn.NumberParseException:
                    continue
                if not pn.is_valid_number(num) or pn.number_type(num) != t:
                    continue
                if pn.region_code_for_number(num) != region:
                    continue
                e164 = pn.format_number(num, F.E164)
                intl = pn.format_number(num, F.INTERNATIONAL)
                for form, text in [("e164", e164), ("intl", intl),
                                   ("national", pn.format_number(num, F.NATIONAL)),
                                   ("rfc3966", pn.format_number(num, F.RFC3966))]:
                    out.write(f"{region}\t{form}\t{text}\t{e164}\t{name}\n")
                # Dialled from abroad with 00, as typed in another region
                # (one that dials abroad with 00 and strips a national
                # prefix of its own: Germany's 0, Lithuania's 8).
                for home in ("DE", "LT"):
                    text = "00 " + intl.lstrip("+")
                    read = pn.parse(text, home)
                    assert pn.format_number(read, F.E164) == e164, (text, home)
                    out.write(f"{home}\tfrom_{home.lower()}\t{text}\t{e164}\t{name}\n")
                found += 1
                if found == 2:
                    break


def random_numbers(path, rng):
    out = open(path, "w")
    for region in sorted(pn.SUPPORTED_REGIONS):
        cc = pn.country_code_for_region(region)
        ex = pn.example_number_for_type(region, T.FIXED_LINE) or pn.example_number(region)
        if ex is None:
            continue
        nsn = pn.national_significant_number(ex)
        for i in range(24):
            n = len(nsn) + rng.choice([-1, 0, 0, 0, 1])
            if i % 2:
                d = nsn[:2] + "".join(rng.choice("0123456789") for _ in range(max(n - 2, 1)))
            else:
                d = "".join(rng.choice("0123456789") for _ in range(max(n, 3)))
            for form, text in [("e164", f"+{cc}{d}"), ("national", d)]:
                try:
                    num = pn.parse(text, region)
                    ok = pn.is_valid_number(num)
                except pn.NumberParseException:
                    ok = False
                if ok:
                    kind = TYPES.get(pn.number_type(num), "other")
                    out.write(f"{region}\t{form}\t{text}\t{pn.format_number(num, F.E164)}\t{kind}\n")
                else:
                    out.write(f"{region}\t{form}\t{text}\t-\tinvalid\n")


corpus("phone_corpus.tsv", random.Random(7))
random_numbers("phone_random.tsv", random.Random(11))
