"""Pairs of records of one person written the way other software writes them.

Each person gets two web sign-ups that differ only in how one value is
written, both formats produced by third-party libraries rather than by
kindred's generator:

- phones: Faker's own phone text for a locale, and the same number in E.164
  as python-phonenumbers (libphonenumber's Python port) formats it; only
  numbers phonenumbers deems valid, with one name on both records;
- names: given and family name in their own fields, and the whole name as
  the locale's Faker name formats write it (titles, suffixes, particles,
  double family names, family name first), with one phone number on both
  (E.164 and phonenumbers' national format);
- birthdays: an ISO date, and the same date as the locale writes dates
  (%m/%d/%Y in the US, %d.%m.%Y in Germany, %Y年%m月%d日 in China...),
  with name, postal code and city on both.

A pair that kindred does not join is a value it failed to read alike (or
refused on purpose: the tally says which kind of number). People are drawn
independently per locale, so namesakes across locales are possible and are
different people in the truth.

  python3 faker_pairs.py gen PROBE OUT_DIR
  python3 faker_pairs.py tally PROBE OUT_DIR ASSIGNMENTS_CSV
"""

import collections
import csv
import datetime
import json
import random
import re
import sys

import faker
import phonenumbers as pn

LOCALES = {
    "en_US": ("US", "%m/%d/%Y"),
    "en_GB": ("GB", "%d/%m/%Y"),
    "en_AU": ("AU", "%d/%m/%Y"),
    "de_DE": ("DE", "%d.%m.%Y"),
    "fr_FR": ("FR", "%d/%m/%Y"),
    "es_ES": ("ES", "%d/%m/%Y"),
    "it_IT": ("IT", "%d/%m/%Y"),
    "nl_NL": ("NL", "%d-%m-%Y"),
    "zh_CN": ("CN", "%Y年%m月%d日"),
    "ja_JP": ("JP", "%Y/%m/%d"),
}
PER_LOCALE = 250
PERSONAL = {
    pn.PhoneNumberType.MOBILE,
    pn.PhoneNumberType.FIXED_LINE,
    pn.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
TYPE_NAMES = {v: k for k, v in vars(pn.PhoneNumberType).items() if isinstance(v, int)}


def event(eid, n, **fields):
    base = {
        "event_id": eid, "event_type": "signup", "user_id": None, "anonymous_id": None,
        "email": None, "phone": None, "name": None, "given_name": None,
        "family_name": None, "birthday": None, "gender": None, "address": None,
        "sku": None, "order": None, "order_amount_minor": None, "currency": None,
        "consents": [], "event_time": 1735689600000 + n * 1000,
    }
    base.update(fields)
    return base


def address(country, postal=None, city=None):
    return {"line1": None, "line2": None, "city": city, "region": None,
            "postal_code": postal, "country": country}


def valid_number(f, region, personal_only):
    """A Faker phone text for `region` that phonenumbers reads as valid."""
    while True:
        text = f.phone_number()
        try:
            number = pn.parse(text, region)
        except pn.NumberParseException:
            continue
        if not pn.is_valid_number(number):
            continue
        if personal_only and ("x" in text or pn.number_type(number) not in PERSONAL):
            continue
        return text, number


def person_name(f, rnd):
    """A whole name in one of the locale's Faker formats, and its given and
    family parts as a form with two fields would hold them."""
    provider = next(p for p in f.providers if "person" in type(p).__module__)
    formats = provider.formats
    formats = list(formats.keys()) if isinstance(formats, dict) else list(formats)
    fmt = rnd.choice(formats)
    firsts, lasts = [], []

    def fill(m):
        key = m.group(1)
        value = getattr(f, key)() if not key.startswith("last_name") else f.last_name()
        if key.startswith("first_name"):
            firsts.append(value)
        elif key.startswith("last_name"):
            lasts.append(value)
        return value

    full = re.sub(r"\{\{(\w+)\}\}", fill, fmt)
    given = ("-" if "}}-{{first_name" in fmt else " ").join(firsts)
    # The family part: from a particle (fr/es `{{prefix}}` before a family
    # name) or the first family name to the last family name.
    seg = re.search(r"((?:\{\{prefix\}\} )?\{\{last_name\}\}(?:(?: |-| \{\{prefix\}\} )\{\{last_name\}\})?)", fmt).group(1)
    if "{{prefix}}" in seg:
        family = re.search(re.escape(given) + r" (.*)$", full).group(1)
    else:
        family = seg
        for value in lasts:
            family = family.replace("{{last_name}}", value, 1)
    return given, family, full


def gen(probe, out):
    rnd = random.Random(5)
    n = 0
    with open(f"{out}/web.jsonl", "w") as web, open(f"{out}/truth.csv", "w") as truth, \
            open(f"{out}/pairs.tsv", "w") as pairs:
        truth.write("event_id,person\n")
        person = 0
        for i, (locale, (region, date_format)) in enumerate(LOCALES.items()):
            f = faker.Faker(locale)
            # A seed per locale: locales that share Faker's word lists (en_US
            # and en_AU) would otherwise draw the same people, e-mails and all.
            f.seed_instance(7 + i)
            for _ in range(PER_LOCALE):
                person += 1
                if probe == "phones":
                    text, number = valid_number(f, region, personal_only=False)
                    e164 = pn.format_number(number, pn.PhoneNumberFormat.E164)
                    name = f.name()
                    a = {"phone": text, "name": name}
                    b = {"phone": e164, "name": name}
                    kind = TYPE_NAMES[pn.number_type(number)] + (" with extension" if "x" in text else "")
                    shown = (text, e164, kind)
                elif probe == "names":
                    _, number = valid_number(f, region, personal_only=True)
                    given, family, full = person_name(f, rnd)
                    a = {"phone": pn.format_number(number, pn.PhoneNumberFormat.E164),
                         "given_name": given, "family_name": family}
                    b = {"phone": pn.format_number(number, pn.PhoneNumberFormat.NATIONAL), "name": full}
                    shown = (f"{given} | {family}", full, "")
                else:
                    # Fixed bounds: date_of_birth() counts from today, so
                    # the same seed would give other people tomorrow.
                    born = f.date_between(datetime.date(1935, 1, 1), datetime.date(2006, 12, 31))
                    at = address(region, f.postcode(), f.city())
                    common = {"given_name": f.first_name(), "family_name": f.last_name(), "address": at}
                    a = dict(common, birthday=born.isoformat(), email=f.free_email())
                    b = dict(common, birthday=born.strftime(date_format))
                    shown = (born.isoformat(), born.strftime(date_format), "")
                for side, fields in (("a", a), ("b", b)):
                    fields.setdefault("address", address(region))
                    n += 1
                    eid = f"{probe}-{person}-{side}"
                    web.write(json.dumps(event(eid, n, **fields), ensure_ascii=False) + "\n")
                    truth.write(f"web:{eid},{person}\n")
                pairs.write("\t".join([str(person), locale, *shown]) + "\n")


def tally(probe, out, assignments):
    profile = {r["event_id"]: r["profile_id"] for r in csv.DictReader(open(assignments))}
    total, apart = collections.Counter(), collections.Counter()
    kinds = collections.Counter()
    examples = collections.defaultdict(list)
    for line in open(f"{out}/pairs.tsv"):
        person, locale, first, second, kind = line.rstrip("\n").split("\t")
        total[locale] += 1
        a = profile.get(f"web:{probe}-{person}-a")
        b = profile.get(f"web:{probe}-{person}-b")
        if a is None or a != b:
            apart[locale] += 1
            kinds[kind] += 1
            if len(examples[locale]) < 3:
                examples[locale].append(f"{first!r} / {second!r}" + (f" ({kind})" if kind else ""))
    print(f"== {probe}: pairs not joined, by locale")
    for locale in LOCALES:
        shown = "; ".join(examples[locale])
        print(f"  {locale}  {apart[locale]:3d} of {total[locale]}" + (f"  e.g. {shown}" if shown else ""))
    print(f"  all    {sum(apart.values()):4d} of {sum(total.values())}")
    if probe == "phones":
        print("  not joined, by libphonenumber's number type:")
        for kind, count in kinds.most_common():
            print(f"    {kind}: {count}")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3])
    else:
        tally(sys.argv[2], sys.argv[3], sys.argv[4])
